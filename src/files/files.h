// Files: the spreadsheets and data files people bring to Tarn and take away from it.
//
// Reading: a local file (CSV, Parquet, JSON, or an .xlsx workbook's sheet) becomes a
// query the engine runs (ReadQuery); types are inferred from every row, or as the
// caller names them. An .xlsx sheet is first turned into CSV (XlsxToCsv): it is a zip
// of XML, read with libzip and expat; dates are cells whose number format is a date.
// Writing: query results become .xlsx sheets (XlsxWorkbook, libxlsxwriter); CSV and
// Parquet are written by the engine itself.
//
// Every name that reaches SQL text is quoted; type names are checked against an
// allow-list (CheckTypeName). Errors are kInvalidArgument for what is wrong with the
// file or the options (naming them), kIo for the file system.
//
// Thread-safety: free functions are thread-safe; an XlsxWorkbook is used by one thread.
#pragma once

#include <duckdb.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tarn::files {

enum class FileFormat { kCsv, kParquet, kJson, kXlsx };

// "csv", "parquet", "json", "xlsx".
const char* FormatName(FileFormat format);
// The format `name` spells (one of FormatName's words), else kInvalidArgument.
FileFormat ParseFormat(const std::string& name);
// The format of a file from its extension (.csv/.tsv/.txt, .parquet, .json/.jsonl/
// .ndjson, .xlsx); kInvalidArgument naming the file and the formats otherwise.
FileFormat FormatOfPath(const std::filesystem::path& path);

// How to read a file.
struct ReadOptions {
  std::string sheet;  // .xlsx: the sheet's name (default: the first sheet)
  std::string range;  // .xlsx: cells such as "A1:F200" or "B3:D" (default: all used)
  // Column types that override the inferred ones: column name -> SQL type.
  std::map<std::string, std::string> types;
};

// Returns `type` (such as "DECIMAL(18,2)", "date") normalized to upper case if it is
// one of the allow-listed scalar SQL types, else kInvalidArgument naming `column`.
std::string CheckTypeName(const std::string& type, const std::string& column);

// The SELECT (text) that reads `file` as a table, in `format`, with `options`. An .xlsx
// file is converted to `scratch_dir`/<name>.csv first. `file` and `scratch_dir` must
// be where the engine may read.
std::string ReadQuery(const std::filesystem::path& file, FileFormat format, const ReadOptions& options,
                      const std::filesystem::path& scratch_dir);

// --- .xlsx --------------------------------------------------------------------------

// The names of the workbook's sheets, in order. kInvalidArgument if it is no .xlsx.
std::vector<std::string> XlsxSheetNames(const std::filesystem::path& xlsx);

// Writes the cells of one sheet (options.sheet/range) as CSV (RFC 4180, every field
// quoted, the range's first row as header) to `csv`. Rows with no value are left out;
// date-formatted numbers become ISO dates (times when they have a fraction); booleans
// true/false; error cells (#N/A) and blanks empty. Returns the data rows written.
int64_t XlsxToCsv(const std::filesystem::path& xlsx, const ReadOptions& options,
                  const std::filesystem::path& csv);

// An .xlsx workbook written sheet by sheet, row by row (rows are not kept in memory):
// each sheet has a bold header row that stays in view (frozen), dates and timestamps
// formatted as such, numbers as numbers. Nothing is at `path` until Close succeeds.
class XlsxWorkbook {
 public:
  static constexpr int64_t kMaxRows = 1048575;  // data rows of a sheet, below its header
  explicit XlsxWorkbook(const std::filesystem::path& path);
  ~XlsxWorkbook();  // without Close: writes nothing
  XlsxWorkbook(const XlsxWorkbook&) = delete;
  XlsxWorkbook& operator=(const XlsxWorkbook&) = delete;

  // Starts sheet `name` (at most 31 characters, none of []:*?/\ and unique in the
  // workbook) with these columns; kInvalidArgument otherwise.
  void AddSheet(const std::string& name, const std::vector<std::string>& columns,
                const std::vector<duckdb::LogicalType>& types);
  // Appends the chunk's rows to the sheet started last. kResourceExhausted past
  // kMaxRows; kInvalidArgument for a text longer than a cell holds (32,767).
  void Append(duckdb::DataChunk& chunk);
  // Writes the workbook file. kIo if it cannot.
  void Close();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Writes the rows of a Parquet file as sheet `sheet` of a new .xlsx workbook (the
// HTTP API's format=xlsx). kResourceExhausted past XlsxWorkbook::kMaxRows rows.
void ParquetToXlsx(const std::filesystem::path& parquet, const std::filesystem::path& xlsx,
                   const std::string& sheet);

}  // namespace tarn::files
