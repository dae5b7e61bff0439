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
                        const std::vector<std::string>& keys = {});
// read_parquet(file) of one file encrypted under `key_id` ("" for none).
std::string ReadParquetSql(const std::string& file, const std::string& key_id);
// SELECT count(*) FROM (the raw scan).
duckdb::unique_ptr<duckdb::SelectStatement> CountStatement(const TableInfo& table,
                                                           const std::vector<std::string>& files);

}  // namespace tarn::catalog
