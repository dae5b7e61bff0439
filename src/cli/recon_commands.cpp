#include "cli/recon_commands.h"

#include <filesystem>
#include <iostream>

#include "cli/job_commands.h"
#include "cli/job_helpers.h"
#include "common/error.h"
#include "common/util.h"
#include "quality/expr.h"
#include "quality/recon_job.h"
#include "session/runner.h"

namespace tarn::cli {

ReconCommands::ReconCommands(CLI::App& app, const std::function<void(CLI::App*)>& add_instance_flags,
                             std::function<session::InstanceOptions()> instance_options)
    : instance_options_(std::move(instance_options)) {
  recon_ = app.add_subcommand("recon", "Reconciliation pipelines: validate, explain and run them");
  recon_->require_subcommand(1);
  recon_->footer(
      "A pipeline is YAML: named inputs (lake tables) and ordered steps (lookup, join, filter, derive,\n"
      "aggregate, pivot, compare, output, ...). See docs/reconciliation.md and examples/recon/.\n"
      "Example: tarn recon explain examples/recon/bank.yaml");
  auto pipeline = [this](CLI::App* c) {
    c->add_option("pipeline", file_, "The pipeline's YAML file (- for standard input)")->required();
    c->add_option("--param,-p", params_, "Set ${NAME} in the pipeline: NAME=VALUE (repeatable)");
  };
  validate_ =
      recon_->add_subcommand("validate", "Check that a pipeline compiles against the lake, as a user");
  explain_ = recon_->add_subcommand("explain", "Print each step's SQL and the statements a run executes");
  for (auto* c : {validate_, explain_}) {
    pipeline(c);
    add_instance_flags(c);
    c->add_option("--as", caller_.as_user,
                  "Compile as this user of the data directory (default: the administrator admin)");
    c->add_option("--role", caller_.role, "Compile with only this role's grants (a role you hold)");
  }
  explain_->add_flag("--sql", sql_only_, "Print only the SQL script");
  run_ = recon_->add_subcommand(
      "run",
      "Run a pipeline: on a server as a job run (type reconciliation), or locally on a data directory");
  pipeline(run_);
  run_->add_option("--app", application_, "The application (id or name)")->capture_default_str();
  run_->add_option("--name", name_, "A name for the run");
  run_->add_flag("--wait", wait_, "Follow the run until it ends, then print its summary");
  run_->add_flag("--json", json_, "Print the server's JSON (locally: the summary as JSON lines)");
  remote_.AddTo(run_, false);
  add_instance_flags(run_);
  run_->add_option("--as", caller_.as_user, "Locally: run as this user of the data directory");
  run_->add_option("--out", out_dir_,
                   "The folder the pipeline's file outputs go to (with --server --wait: downloaded there)")
      ->capture_default_str();
  functions_ = recon_->add_subcommand("functions", "List the functions formulas may use");
}

std::map<std::string, std::string> ReconCommands::Params() const {
  std::map<std::string, std::string> out;
  for (auto& p : params_) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error::InvalidArgument("--param {} is not NAME=VALUE", p.substr(0, 64));
    out[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return out;
}

std::optional<int> ReconCommands::Run() {
  if (!*recon_) return std::nullopt;
  if (*functions_) {
    for (auto& f : quality::ExprFunctionList()) std::cout << f << "\n";
    return 0;
  }
  if (*run_) return Submit();
  return Compile(explain_->parsed());
}

namespace {

// A folder of the command's own for the pipeline's file inputs, removed at the end:
// in the data directory's tmp/, where the engine reads them in place.
struct Scratch {
  std::filesystem::path dir;
  explicit Scratch(const session::InstanceOptions& options)
      : dir(options.data_dir / "tmp" / ("recon-inputs-" + RandomHex(8))) {
    std::filesystem::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

std::filesystem::path BaseDir(const std::string& file) {
  if (file == "-") return std::filesystem::current_path();
  return std::filesystem::absolute(std::filesystem::path(file)).parent_path();
}

}  // namespace

int ReconCommands::Compile(bool explain) {
  std::string text = quality::ApplyParams(ReadScript(file_), Params());
  session::Instance instance(instance_options_());
  session::Runner runner(instance, LocalRunnerOptions());
  auto request = LocalRequest(instance, caller_);
  Scratch scratch(instance_options_());
  request.inputs = quality::LoadFileInputs(text, file_, BaseDir(file_), scratch.dir, request, runner);
  auto compiled = quality::CompileAs(text, file_, request, runner);
  if (explain) {
    std::cout << (sql_only_ ? compiled.Script() : compiled.Explain());
    return 0;
  }
  size_t outputs = 0;
  for (auto& s : compiled.statements) outputs += s.kind == quality::CompiledStatement::kOutput;
  std::cout << "pipeline " << compiled.name << ": " << compiled.steps.size() << " steps, " << outputs
            << " outputs, " << compiled.statements.size() << " statements: ok\n";
  return 0;
}

int ReconCommands::Submit() {
  std::string text = ReadScript(file_);
  if (!remote_.remote()) {
    // Locally: compiled and run on the data directory, as the operator or --as a user;
    // its files go to --out.
    std::string script;
    Scratch scratch(instance_options_());
    std::vector<session::FileInput> inputs;
    {
      session::Instance instance(instance_options_());
      session::Runner runner(instance, LocalRunnerOptions());
      auto request = LocalRequest(instance, caller_);
      text = quality::ApplyParams(text, Params());
      inputs = quality::LoadFileInputs(text, file_, BaseDir(file_), scratch.dir, request, runner);
      request.inputs = inputs;
      script = quality::CompileAs(text, file_, request, runner).Script();
    }
    std::error_code ec;
    std::filesystem::create_directories(out_dir_, ec);
    if (!std::filesystem::is_directory(out_dir_, ec)) throw Error::Io("cannot create the folder {}", out_dir_);
    SqlOutput out;
    if (json_) out.format = "json";
    return RunLocalSql(instance_options_(), script, out, caller_, [&](session::RunRequest& r) {
      r.inputs = inputs;
      r.output_dir = std::filesystem::absolute(out_dir_);
    });
  }
  nlohmann::json params = nlohmann::json::object();
  for (auto& [k, v] : Params()) params[k] = v;
  nlohmann::json body = {{"job", {{"type", "reconciliation"}, {"pipeline", text}, {"params", params}}}};
  if (!name_.empty()) body["name"] = name_;
  auto remote = remote_.Options();
  // The pipeline's file inputs go up first, as uploads the run reads.
  auto file_inputs = quality::FileInputs(*quality::ParsePipeline(quality::ApplyParams(text, Params()), file_));
  for (auto& f : file_inputs) {
    auto path = quality::FileInputPath(f, BaseDir(file_), file_);
    auto up = CallApiWithBody(remote, "POST", "/v1/uploads?filename=" + UrlEncode(path.filename().string()),
                              ReadTextFile(path), "application/octet-stream");
    body["job"]["files"][f.input] = up["upload_id"];
    std::cerr << "uploaded " << path.filename().string() << " for input " << f.input << "\n";
  }
  auto r =
      CallApi(remote, "POST", "/v1/applications/" + Checked(application_, "application") + "/jobruns", body);
  std::string id = r["job_run_id"];
  if (json_)
    std::cout << r.dump() << "\n";
  else
    std::cout << id << "\n";
  if (!wait_) return 0;
  int rc = WaitForJobRun(remote, application_, id, false);
  if (rc == 0 && run_->get_option("--out")->count() > 0) DownloadJobRunFiles(remote, application_, id, out_dir_);
  if (rc == 0) {
    nlohmann::json result;
    try {
      result = CallApi(remote, "GET", "/v1/applications/" + application_ + "/jobruns/" + id + "/result");
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kNotFound) throw;
      return rc;  // a pipeline with no summary keeps no result
    }
    if (json_) {
      std::cout << result.dump() << "\n";
    } else {
      std::vector<std::string> columns;
      for (auto& c : result["columns"]) columns.push_back(c);
      PrintTable(result["rows"], columns, false);
    }
  }
  return rc;
}

}  // namespace tarn::cli
