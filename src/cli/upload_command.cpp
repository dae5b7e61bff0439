#include "cli/upload_command.h"

#include <iostream>

#include "cli/progress.h"
#include "common/error.h"
#include "common/util.h"
#include "session/upload.h"

namespace tarn::cli {
namespace {

// The upload's progress: reading the file, then writing the table.
class UploadProgress : public session::UploadOutcome {
 public:
  explicit UploadProgress(Progress& p) : progress_(p) {}
  void OnStatementBegin(const session::StatementStart&) override { progress_.Update(1, "writing the table"); }

 private:
  Progress& progress_;
};

}  // namespace

UploadCommand::UploadCommand(CLI::App& app, const std::function<void(CLI::App*)>& add_instance_flags,
                             std::function<session::InstanceOptions()> instance_options)
    : instance_options_(std::move(instance_options)) {
  cmd_ = app.add_subcommand("upload", "Make a managed table from a CSV, Parquet, JSON or .xlsx file, or add to one");
  cmd_->footer(
      "Types are inferred from every row; --type overrides one column's. Needs CREATE on the database\n"
      "(a new table) or INSERT on the table (--append, --replace). Examples:\n"
      "  tarn upload statement.xlsx finance.statement --sheet 'March' --type amount=DECIMAL(18,2)\n"
      "  tarn upload more.csv finance.statement --append --server http://127.0.0.1:8998");
  cmd_->add_option("file", file_, "The file to upload")->required();
  cmd_->add_option("table", table_, "The table, as database.table")->required();
  auto* append = cmd_->add_flag("--append", append_, "Add the rows to an existing table");
  cmd_->add_flag("--replace", replace_, "Replace an existing table's rows (one new snapshot)")->excludes(append);
  cmd_->add_option("--format", format_, "csv, parquet, json or xlsx (default: from the file's extension)");
  cmd_->add_option("--sheet", sheet_, ".xlsx: the sheet (default: the first)");
  cmd_->add_option("--range", range_, ".xlsx: the cells, e.g. A1:F200 (default: all used; the first row is the header)");
  cmd_->add_option("--type", types_, "A column's type: COLUMN=TYPE, e.g. amount=DECIMAL(18,2) (repeatable)");
  cmd_->add_flag("--json", json_, "Print the outcome as JSON");
  remote_.AddTo(cmd_, false);
  add_instance_flags(cmd_);
  cmd_->add_option("--as", caller_.as_user, "Locally: upload as this user of the data directory");
}

std::optional<int> UploadCommand::Run() {
  if (!*cmd_) return std::nullopt;
  auto [database, table] = session::SplitTableName(table_);
  auto mode = append_ ? session::UploadMode::kAppend : replace_ ? session::UploadMode::kReplace : session::UploadMode::kCreate;
  const char* mode_name = append_ ? "append" : replace_ ? "replace" : "create";
  std::filesystem::path path(file_);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw Error::NotFound("no file {}", file_);
  session::FileInput input;
  input.name = "upload";
  input.path = std::filesystem::absolute(path);
  input.format = format_.empty() ? files::FormatOfPath(path) : files::ParseFormat(format_);
  input.options.sheet = sheet_;
  input.options.range = range_;
  for (auto& t : types_) {
    auto eq = t.find('=');
    if (eq == std::string::npos || eq == 0) throw Error::InvalidArgument("--type {} is not COLUMN=TYPE", t.substr(0, 64));
    input.options.types[t.substr(0, eq)] = files::CheckTypeName(t.substr(eq + 1), t.substr(0, eq));
  }
  auto hint = [&](const Error& e) {
    if (e.code() == ErrorCode::kAlreadyExists && mode == session::UploadMode::kCreate)
      return Error(e.code(), std::string(e.what()) + ": add --append or --replace");
    return e;
  };
  int64_t rows = 0;
  std::string message;
  Progress progress("upload " + path.filename().string(), 2);
  progress.Update(0, "reading the file");
  if (remote_.remote()) {
    std::string query = "?mode=" + std::string(mode_name) + "&format=" + files::FormatName(input.format) +
                        "&filename=" + UrlEncode(path.filename().string());
    if (!sheet_.empty()) query += "&sheet=" + UrlEncode(sheet_);
    if (!range_.empty()) query += "&range=" + UrlEncode(range_);
    std::string types;
    for (auto& [c, t] : input.options.types) types += (types.empty() ? "" : ",") + c + ":" + t;
    if (!types.empty()) query += "&types=" + UrlEncode(types);
    auto remote = remote_.Options();
    remote.client.timeout = std::chrono::seconds(600);
    nlohmann::json r;
    try {
      r = CallApiWithBody(remote, "POST", "/v1/databases/" + database + "/tables/" + table + "/upload" + query,
                          ReadTextFile(path), "application/octet-stream");
    } catch (const Error& e) {
      throw hint(e);
    }
    rows = r.value("rows_written", int64_t{0});
    message = r.value("message", std::string());
  } else {
    session::Instance instance(instance_options_());
    session::Runner runner(instance, LocalRunnerOptions());
    auto request = LocalRequest(instance, caller_);
    request.sql = session::UploadScript(database, table, mode);
    request.inputs.push_back(input);
    UploadProgress handler(progress);
    auto result = runner.Run(request, handler);
    if (result.error) throw hint(*result.error);
    rows = handler.rows_written;
    message = handler.message;
  }
  progress.Update(2, "done");
  progress.Finish();
  if (json_) {
    std::cout << nlohmann::json{{"table", database + "." + table}, {"mode", mode_name}, {"rows_written", rows},
                                {"message", message}}
                     .dump()
              << "\n";
  } else {
    std::cout << message << "\n";
  }
  return 0;
}

}  // namespace tarn::cli
