// How a catalog table becomes something DuckDB scans. Internal to src/catalog.
#pragma once

#include <duckdb.hpp>
#include <duckdb/parser/statement/select_statement.hpp>

#include <string>
#include <vector>

#include "catalog/catalog.h"

namespace tarn::catalog {

// One SELECT Tarn wrote itself, parsed (kInternal if it is not one).
duckdb::unique_ptr<duckdb::SelectStatement> ParseSelect(const std::string& sql);

// SELECT * FROM read_<format>(files, ...) with the table's reader options.
duckdb::unique_ptr<duckdb::SelectStatement> RawScanStatement(const TableInfo& table,
                                                             const std::vector<std::string>& files);
// The rows of Parquet `files` without those `deletes` remove (SELECT r.* ...), with
// __tarn_file and __tarn_row (ScanRef) if `positions`; keys[i] is the id of the key
// files[i] is encrypted with ("" or missing: none).
std::string LiveRowsSql(const TableInfo& table, const std::vector<std::string>& files,
                        const std::vector<DeleteFile>& deletes, bool positions,
                        const std::vector<std::string>& keys = {}, const std::vector<int64_t>& versions = {});
// The rows of one data file of `table` (encrypted under `key_id`, "" for none; written
// under schema version `version`) with the table's current columns and its
// file_row_number: read_parquet(file) itself when the file has those columns.
std::string ReadParquetSql(const TableInfo& table, const std::string& file, const std::string& key_id,
                           int64_t version);

// A schema as tables.schema_json / snapshots.schema_json store it, and back (columns
// recorded before column ids get ids 1..n in order).
nlohmann::json SchemaJson(const std::vector<Column>& schema);
std::vector<Column> ParseSchema(const std::string& text);
// The schema with each column named as data files store it (statistics are kept
// under those names, which a rename does not change).
std::vector<Column> StoredSchema(std::vector<Column> schema);
// SELECT count(*) FROM (the raw scan).
duckdb::unique_ptr<duckdb::SelectStatement> CountStatement(const TableInfo& table,
                                                           const std::vector<std::string>& files);

}  // namespace tarn::catalog
