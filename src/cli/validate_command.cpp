#include "cli/validate_command.h"

#include <fmt/format.h>

#include <atomic>
#include <filesystem>
#include <iostream>

#include "cli/job_commands.h"
#include "cli/job_helpers.h"
#include "cli/signals.h"
#include "common/error.h"
#include "common/util.h"
#include "quality/validation.h"
#include "server/config.h"
#include "session/runner.h"

namespace tarn::cli {

ValidateCommand::ValidateCommand(CLI::App& app, const std::function<void(CLI::App*)>& add_instance_flags,
                                 std::function<session::InstanceOptions()> instance_options)
    : instance_options_(std::move(instance_options)) {
  cmd_ = app.add_subcommand(
      "validate",
      "Validate a migration: prove a target table holds a source table's records (docs/validation.md)");
  cmd_->add_option("spec", file_, "The validation spec, YAML or JSON (- for standard input)")->required();
  cmd_->add_option("--app", application_, "With --server: the application (id or name)")
      ->capture_default_str();
  cmd_->add_option("--name", name_, "With --server: a name for the run");
  cmd_->add_flag("--wait", wait_, "With --server: follow the run until it ends, then print its summary");
  cmd_->add_flag("--json", json_,
                 "Print the metrics JSON (with --server and no --wait: the server's answer)");
  cmd_->add_option("--out", out_dir_, "Where metrics.json goes (with --server --wait: the run's files)")
      ->capture_default_str();
  cmd_->add_flag("--explain", explain_,
                 "Locally: print the SQL script a run executes (planned as you), run nothing");
  cmd_->add_option("--as", caller_.as_user, "Locally: run as this user of the data directory");
  cmd_->add_option("--role", caller_.role, "Locally: with only this role's grants (a role you hold)");
  cmd_->add_option(
      "--config", config_file_,
      "Locally: a server's TOML file, for its [connections] (a side in PostgreSQL; docs/validation.md)");
  remote_.AddTo(cmd_, false);
  add_instance_flags(cmd_);
  cmd_->footer(
      "Exit codes: 0 every threshold held, 1 a threshold failed, 2 a bad spec, 3 a table that does not "
      "exist,\n"
      "5 a table you may not read. Example: tarn validate examples/validation/orders.yaml");
}

std::optional<int> ValidateCommand::Run() {
  if (!*cmd_) return std::nullopt;
  if (explain_ && remote_.remote())
    throw Error::InvalidArgument("--explain plans on a data directory: drop --server");
  return remote_.remote() ? Remote() : Local();
}

namespace {

std::string Figure(const nlohmann::json& v) {
  if (v.is_number_float()) return fmt::format("{:.6g}", v.get<double>());
  return v.is_string() ? v.get<std::string>() : v.dump();
}

}  // namespace

std::string ValidationSummary(const nlohmann::json& m) {
  std::string out =
      fmt::format("validation {}: {}\n", Figure(m["validation"]), m["passed"] == true ? "PASSED" : "FAILED");
  out += fmt::format("  source {}: {} rows; target {}: {} rows\n", Figure(m["source"]["table"]),
                     Figure(m["source"]["rows"]), Figure(m["target"]["table"]), Figure(m["target"]["rows"]));
  out += fmt::format("  matched {}, missing {}, extra {}, changed {} (matched fraction {:.6f})\n",
                     Figure(m["matched"]), Figure(m["missing"]), Figure(m["extra"]), Figure(m["changed"]),
                     m["matched_fraction"].get<double>());
  if (m.contains("duplicate_keys"))
    out += fmt::format("  duplicate keys: {} in the source, {} in the target\n",
                       Figure(m["duplicate_keys"]["source"]), Figure(m["duplicate_keys"]["target"]));
  for (auto& [name, c] : m["columns"].items()) {
    if (!c.contains("unequal") || c["unequal"] == 0) continue;
    out += fmt::format("  column {}: {} unequal, {} NULL on one side{}\n", name, Figure(c["unequal"]),
                       Figure(c["null_diff"]),
                       c.contains("max_abs_diff") ? ", largest difference " + Figure(c["max_abs_diff"]) : "");
  }
  for (auto& t : m["thresholds"])
    out += fmt::format("  {} {}: {}\n", t["passed"] == true ? "ok    " : "FAILED", Figure(t["check"]),
                       t["value"].is_null() ? "-" : Figure(t["value"]));
  out += fmt::format("  griffin: total {}, miss {}, matchedFraction {}\n", Figure(m["griffin"]["total"]),
                     Figure(m["griffin"]["miss"]), Figure(m["griffin"]["matchedFraction"]));
  out += fmt::format("  mismatch rows: {}\n", Figure(m["mismatch_table"]));
  return out;
}

int ValidateCommand::Local() {
  std::string text = ReadScript(file_);
  if (explain_) {
    session::Instance instance(instance_options_());
    session::Runner runner(instance, LocalRunnerOptions());
    auto request = LocalRequest(instance, caller_);
    std::cout << quality::ExplainValidation(text, file_, request, runner, Context(instance));
    return 0;
  }
  std::error_code ec;
  std::filesystem::create_directories(out_dir_, ec);
  if (!std::filesystem::is_directory(out_dir_, ec)) throw Error::Io("cannot create the folder {}", out_dir_);
  std::atomic<session::Runner*> running{nullptr};
  InterruptGuard guard([&] {
    if (auto* r = running.load()) r->CancelAll(session::StopReason::kCancelled);
  });
  session::Instance instance(instance_options_());
  session::Runner runner(instance, LocalRunnerOptions());
  running = &runner;
  auto request = LocalRequest(instance, caller_);
  request.output_dir = std::filesystem::absolute(out_dir_);
  session::Drain log;
  auto outcome = quality::RunValidation(text, file_, request, runner, log, Context(instance));
  running = nullptr;
  if (outcome.metrics.is_null()) outcome.run.ThrowIfFailed();
  if (json_)
    std::cout << outcome.metrics.dump(2) << "\n";
  else
    std::cout << ValidationSummary(outcome.metrics)
              << "  metrics: " << (std::filesystem::path(out_dir_) / "metrics.json").string() << "\n";
  if (!outcome.failed_checks.empty()) return 1;
  outcome.run.ThrowIfFailed();
  return 0;
}

quality::ValidationContext ValidateCommand::Context(session::Instance& instance) const {
  quality::ValidationContext context;
  if (!config_file_.empty()) context.connections = server::LoadConfig(config_file_).connections;
  context.audit = &instance.audit();
  return context;
}

int ValidateCommand::Remote() {
  std::string text = ReadScript(file_);
  quality::ParseValidation(text, file_);  // a bad spec fails here, naming the line
  nlohmann::json body = {{"job", {{"type", "validation"}, {"spec", text}}}};
  if (!name_.empty()) body["name"] = name_;
  auto remote = remote_.Options();
  auto r =
      CallApi(remote, "POST", "/v1/applications/" + Checked(application_, "application") + "/jobruns", body);
  std::string id = r["job_run_id"];
  if (!wait_) {
    std::cout << (json_ ? r.dump() : id) << "\n";
    return 0;
  }
  std::cerr << id << "\n";
  int rc = WaitForJobRun(remote, application_, id, false);
  nlohmann::json metrics;
  for (auto& name : DownloadJobRunFiles(remote, application_, id, out_dir_)) {
    if (name == "metrics.json")
      metrics = nlohmann::json::parse(ReadTextFile(std::filesystem::path(out_dir_) / name), nullptr, false);
  }
  if (metrics.is_object()) std::cout << (json_ ? metrics.dump(2) + "\n" : ValidationSummary(metrics));
  return rc;
}

}  // namespace tarn::cli
