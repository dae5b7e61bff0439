// ResultWriter: turns a query result into text for a person or a program.
//
// Writers consume a DuckDB result chunk by chunk, so large results stream with
// bounded memory (the table printer keeps at most `max_rows` rows). Formats:
//   table  aligned columns with a header and a row count, for people
//   csv    RFC 4180 with a header line
//   json   JSON lines: one object per row, numbers as numbers, NULL as null
// Parquet output is not a text format: the session writes it with COPY.
//
// Thread-safety: a writer is used by one thread.
#pragma once

#include <duckdb.hpp>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace tarn::engine {

enum class OutputFormat { kTable, kCsv, kJson };

// Parses "table", "csv" or "json"; throws kInvalidArgument otherwise.
OutputFormat ParseOutputFormat(const std::string& name);

class ResultWriter {
 public:
  virtual ~ResultWriter() = default;
  virtual void Begin(const std::vector<std::string>& names,
                     const std::vector<duckdb::LogicalType>& types) = 0;
  virtual void Write(duckdb::DataChunk& chunk) = 0;
  virtual void End() = 0;
};

// How the table printer lays rows out.
struct TableLayout {
  size_t max_rows = 1000;  // rows shown; the rest is counted, not printed
  bool expanded = false;   // one "column | value" line per column, values whole
  // Terminal width: a table wider than this is printed expanded instead (0: any width).
  size_t width = 0;
};

// The table printer clips values past 60 characters (and says so, naming \x and
// --format csv); expanded rows and EXPLAIN plans are printed whole.
std::unique_ptr<ResultWriter> MakeResultWriter(OutputFormat format, std::ostream& out,
                                               TableLayout layout = {});

// Feeds every chunk of `result` to `writer` (Begin, Write..., End). Returns the row count.
uint64_t WriteResult(duckdb::QueryResult& result, ResultWriter& writer);

// One value as display text ("NULL" for null).
std::string ValueText(const duckdb::Value& v);

// One value as JSON text: numbers (including DECIMAL and HUGEINT) as numbers,
// booleans, null; lists and arrays as arrays, structs as objects, maps as objects
// keyed by the key's text, unions as their value, JSON values as themselves;
// everything else (dates, times, intervals, UUIDs, blobs as DuckDB's \xNN text,
// non-finite floats) as a string.
std::string JsonValue(const duckdb::Value& v, const duckdb::LogicalType& type);

}  // namespace tarn::engine
