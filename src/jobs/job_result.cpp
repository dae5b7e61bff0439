#include "jobs/job_result.h"

#include <duckdb.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <vector>

#include "common/error.h"
#include "engine/result_writer.h"

namespace tarn::jobs {

namespace {

std::string FileText(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in.good() && !in.eof()) throw Error::Io("cannot read the result {}", file.string());
  return ss.str();
}

// `limit` rows from `offset` of the file, written by `format`'s writer; `total` gets
// the file's row count.
std::string Rows(const std::filesystem::path& file, engine::OutputFormat format, int64_t offset,
                 int64_t limit, int64_t& total, std::vector<std::string>* names = nullptr) {
  duckdb::DBConfig config;
  config.options.autoload_known_extensions = false;
  config.options.autoinstall_known_extensions = false;
  duckdb::DuckDB db(nullptr, &config);
  duckdb::Connection conn(db);
  std::string path = duckdb::KeywordHelper::WriteQuoted(file.string(), '\'');
  auto count = conn.Query("SELECT count(*) FROM read_parquet(" + path + ")");
  if (count->HasError()) throw Error::Io("cannot read the result: {}", count->GetError());
  total = count->GetValue(0, 0).GetValue<int64_t>();
  auto result =
      conn.Query(fmt::format("SELECT * FROM read_parquet({}) LIMIT {} OFFSET {}", path, limit, offset));
  if (result->HasError()) throw Error::Io("cannot read the result: {}", result->GetError());
  if (names) names->assign(result->names.begin(), result->names.end());
  std::ostringstream out;
  auto writer = engine::MakeResultWriter(format, out);
  engine::WriteResult(*result, *writer);
  return out.str();
}

}  // namespace

RenderedResult ReadResult(const std::filesystem::path& file, const std::string& format, int64_t offset,
                          int64_t limit) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    throw Error::NotFound(
        "the job run kept no result (its last statement was not a query, or it did not end)");
  }
  if (format == "parquet") return {FileText(file), "application/vnd.apache.parquet"};
  int64_t total = 0;
  if (format == "csv")
    return {Rows(file, engine::OutputFormat::kCsv, offset, limit, total), "text/csv; charset=utf-8"};
  if (format != "json") throw Error::InvalidArgument("query parameter 'format' must be json, csv or parquet");
  std::vector<std::string> names;
  std::string lines = Rows(file, engine::OutputFormat::kJson, offset, limit, total, &names);
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  std::istringstream in(lines);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) rows.push_back(nlohmann::ordered_json::parse(line));
  }
  bool truncated = offset + static_cast<int64_t>(rows.size()) < total;
  nlohmann::ordered_json body = {
      {"columns", names}, {"rows", rows}, {"row_count", total}, {"offset", offset}, {"truncated", truncated}};
  return {body.dump(), "application/json"};
}

}  // namespace tarn::jobs
