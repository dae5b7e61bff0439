// The files a run writes: COPY (query) TO 'name' [(FORMAT f, SHEET s)], kept aside
// in the session's folder until the run succeeds (Session::PublishOutputs).
#include <duckdb/parser/expression/columnref_expression.hpp>
#include <duckdb/parser/expression/constant_expression.hpp>
#include <duckdb/parser/statement/copy_statement.hpp>
#include <duckdb/parser/statement/select_statement.hpp>

#include <regex>

#include "common/error.h"
#include "common/util.h"
#include "governance/governance.h"
#include "session/statements.h"

namespace tarn::session {
namespace fs = std::filesystem;

namespace {

// Hands each chunk of a query's rows to a sheet of a workbook.
class SheetWriter : public ResultHandler {
 public:
  SheetWriter(files::XlsxWorkbook& book, std::string sheet) : book_(book), sheet_(std::move(sheet)) {}
  void OnColumns(const std::vector<std::string>& names,
                 const std::vector<duckdb::LogicalType>& types) override {
    book_.AddSheet(sheet_, names, types);
  }
  bool OnChunk(duckdb::DataChunk& chunk) override {
    book_.Append(chunk);
    return true;
  }
  void OnStatus(const std::string&) override {}

 private:
  files::XlsxWorkbook& book_;
  std::string sheet_;
};

void CheckFileName(const std::string& name, files::FileFormat format) {
  static const std::regex kName("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
  if (!std::regex_match(name, kName) || name.find("..") != std::string::npos)
    throw Error::InvalidArgument(
        "'{}' cannot name a file a run writes: a bare name of letters, digits, '_', '-' and '.' (no folders)",
        name.substr(0, 64));
  auto by_name = files::FormatOfPath(name);
  if (by_name != format)
    throw Error::InvalidArgument("file {} is named as {} but written as {}", name, files::FormatName(by_name),
                                 files::FormatName(format));
}

}  // namespace

int64_t Session::WriteOutput(duckdb::unique_ptr<duckdb::SelectStatement> query, const std::string& name,
                             files::FileFormat format, const std::string& sheet, StatementOutcome& outcome) {
  if (!output_dir_)
    throw Error::Unsupported(
        "this run writes no files: COPY ... TO 'file' works in reconciliation runs and job runs");
  CheckFileName(name, format);
  governor_->CheckQuery(*query);
  auto dir = RunFolder() / "out";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error::Io("cannot create the folder of the run's files: {}", ec.message());
  auto waiting = dir / name;
  bool known = std::any_of(outputs_.begin(), outputs_.end(), [&](auto& o) { return o.first == name; });
  if (format == files::FileFormat::kXlsx) {
    auto& book = workbooks_[name];
    if (!book) book = std::make_unique<files::XlsxWorkbook>(waiting);
    SheetWriter writer(*book, sheet.empty() ? fs::path(name).stem().string().substr(0, 31) : sheet);
    RunQuery(std::move(query), writer, nullptr, outcome);
  } else {
    if (known) throw Error::AlreadyExists("this run wrote {} already", name);
    auto parquet = dir / (name + ".rows.parquet");
    Drain drain;
    RunQuery(std::move(query), drain, &parquet, outcome);
    if (format != files::FileFormat::kParquet) {
      auto guard = conn_->Trusted();  // Tarn's own copy of rows the query just wrote
      std::string options = format == files::FileFormat::kCsv ? "FORMAT csv, HEADER" : "FORMAT json";
      conn_->Run("COPY (SELECT * FROM read_parquet(" + engine::QuoteString(parquet.string()) + ")) TO " +
                 engine::QuoteString(waiting.string()) + " (" + options + ")");
      fs::remove(parquet, ec);
    } else {
      fs::rename(parquet, waiting, ec);
      if (ec) throw Error::Io("cannot keep {}: {}", name, ec.message());
    }
  }
  if (!known) outputs_.emplace_back(name, waiting);
  int64_t rows = outcome.rows;
  outcome.rows = -1;
  return rows;
}

std::vector<std::string> Session::PublishOutputs() {
  for (auto& [name, book] : workbooks_) book->Close();
  workbooks_.clear();
  std::vector<std::string> names;
  std::error_code ec;
  for (auto& [name, waiting] : outputs_) {
    fs::path target = *output_dir_ / name;
    fs::path partial = *output_dir_ / ("." + name + ".partial-" + RandomHex(4));
    fs::copy_file(waiting, partial, fs::copy_options::overwrite_existing, ec);
    if (!ec) fs::rename(partial, target, ec);
    if (ec) {
      fs::remove(partial, ec);
      throw Error::Io("cannot write {}: {}", target.string(), ec.message());
    }
    names.push_back(name);
  }
  outputs_.clear();
  return names;
}

void CopyTo(duckdb::unique_ptr<duckdb::SQLStatement>& statement, StatementContext& ctx) {
  auto& info = *statement->Cast<duckdb::CopyStatement>().info;
  if (info.is_from) throw governance::Denied("COPY FROM is not allowed: load files with `tarn upload`");
  if (!ctx.session.may_write_files())
    throw governance::Denied(
        "COPY statements are not allowed here: a run writes files only where it keeps them (reconciliation "
        "runs, job runs; docs/sql.md)");
  if (!info.select_statement || info.file_path.empty())
    throw Error::InvalidArgument("write a run's file as COPY (SELECT ...) TO 'name.csv'");
  std::string format_name = info.is_format_auto_detected ? "" : info.format;
  std::string sheet;
  for (auto& [key, value] : info.parsed_options) {
    std::string k = duckdb::StringUtil::Lower(key);
    auto* constant = value && value->GetExpressionClass() == duckdb::ExpressionClass::CONSTANT
                         ? &value->Cast<duckdb::ConstantExpression>()
                         : nullptr;
    std::string text = constant ? constant->value.ToString()
                       : value && value->GetExpressionClass() == duckdb::ExpressionClass::COLUMN_REF
                           ? value->Cast<duckdb::ColumnRefExpression>().GetColumnName()
                           : "";
    if (k == "format") {
      format_name = text;
    } else if (k == "sheet") {
      sheet = text;
    } else {
      throw Error::InvalidArgument("COPY TO takes the options FORMAT and SHEET (for .xlsx), not {}",
                                   key.substr(0, 32));
    }
  }
  auto format = format_name.empty() ? files::FormatOfPath(info.file_path) : files::ParseFormat(format_name);
  if (!sheet.empty() && format != files::FileFormat::kXlsx)
    throw Error::InvalidArgument("SHEET is for .xlsx files");
  auto select = duckdb::make_uniq<duckdb::SelectStatement>();
  select->node = std::move(info.select_statement);
  int64_t rows = ctx.session.WriteOutput(std::move(select), info.file_path, format, sheet, ctx.outcome);
  ctx.handler.OnStatus(fmt::format("wrote {} to {}{}", Plural(rows, "row", "rows"), info.file_path,
                                   sheet.empty() ? "" : " (sheet " + sheet + ")"));
}

}  // namespace tarn::session
