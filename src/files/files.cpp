#include "files/files.h"

#include <regex>

#include "common/error.h"
#include "engine/engine.h"

namespace tarn::files {

const char* FormatName(FileFormat format) {
  switch (format) {
    case FileFormat::kCsv: return "csv";
    case FileFormat::kParquet: return "parquet";
    case FileFormat::kJson: return "json";
    case FileFormat::kXlsx: return "xlsx";
  }
  return "?";
}

FileFormat ParseFormat(const std::string& name) {
  for (auto f : {FileFormat::kCsv, FileFormat::kParquet, FileFormat::kJson, FileFormat::kXlsx}) {
    if (duckdb::StringUtil::Lower(name) == FormatName(f)) return f;
  }
  throw Error::InvalidArgument("unknown file format '{}': use csv, parquet, json or xlsx", name.substr(0, 32));
}

FileFormat FormatOfPath(const std::filesystem::path& path) {
  std::string ext = duckdb::StringUtil::Lower(path.extension().string());
  if (ext == ".csv" || ext == ".tsv" || ext == ".txt") return FileFormat::kCsv;
  if (ext == ".parquet") return FileFormat::kParquet;
  if (ext == ".json" || ext == ".jsonl" || ext == ".ndjson") return FileFormat::kJson;
  if (ext == ".xlsx") return FileFormat::kXlsx;
  throw Error::InvalidArgument(
      "cannot tell the format of {} from its name: name a .csv, .parquet, .json or .xlsx file, or say the format",
      path.filename().string());
}

std::string CheckTypeName(const std::string& type, const std::string& column) {
  static const std::regex kAllowed(
      "(BOOLEAN|BOOL|TINYINT|SMALLINT|INTEGER|INT|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|"
      "REAL|DOUBLE|VARCHAR|TEXT|STRING|DATE|TIME|TIMESTAMP|TIMESTAMPTZ|UUID|"
      "(DECIMAL|NUMERIC)(\\((\\d{1,2})(, ?\\d{1,2})?\\))?)");
  std::string upper = duckdb::StringUtil::Upper(type);
  if (type.size() > 32 || !std::regex_match(upper, kAllowed)) {
    throw Error::InvalidArgument(
        "column {}: '{}' is not a type Tarn reads files as: use BOOLEAN, INTEGER, BIGINT, DOUBLE, DECIMAL(p,s), "
        "VARCHAR, DATE, TIME or TIMESTAMP",
        column.substr(0, 64), type.substr(0, 32));
  }
  return upper;
}

std::string ReadQuery(const std::filesystem::path& file, FileFormat format, const ReadOptions& options,
                      const std::filesystem::path& scratch_dir) {
  using engine::QuoteIdent;
  using engine::QuoteString;
  std::map<std::string, std::string> types;
  for (const auto& [column, type] : options.types) types[column] = CheckTypeName(type, column);
  if ((!options.sheet.empty() || !options.range.empty()) && format != FileFormat::kXlsx)
    throw Error::InvalidArgument("a sheet or range is for .xlsx files, not {}", FormatName(format));

  std::filesystem::path source = file;
  if (format == FileFormat::kXlsx) {
    source = scratch_dir / (file.stem().string() + "-sheet.csv");
    XlsxToCsv(file, options, source);
  }
  if (format == FileFormat::kCsv || format == FileFormat::kXlsx) {
    std::string sql = "SELECT * FROM read_csv(" + QuoteString(source.string()) + ", header = true, sample_size = -1";
    if (!types.empty()) {
      sql += ", types = {";
      bool first = true;
      for (const auto& [column, type] : types) {
        sql += (first ? "" : ", ") + QuoteString(column) + ": " + QuoteString(type);
        first = false;
      }
      sql += "}";
    }
    return sql + ")";
  }
  std::string scan = format == FileFormat::kParquet ? "read_parquet(" + QuoteString(source.string()) + ")"
                                                    : "read_json(" + QuoteString(source.string()) + ", sample_size = -1)";
  if (types.empty()) return "SELECT * FROM " + scan;
  std::string replace;
  for (const auto& [column, type] : types)
    replace += (replace.empty() ? "" : ", ") + ("CAST(" + QuoteIdent(column) + " AS " + type + ") AS ") + QuoteIdent(column);
  return "SELECT * REPLACE (" + replace + ") FROM " + scan;
}

}  // namespace tarn::files
