// Writing table data: the first half of a commit.
//
// WriteParquet runs a query and writes its rows, cast to a table's schema, as one
// new Parquet file in a managed table's folder, then syncs the file and the folder
// to disk. Nothing refers to the file until the catalog commits a snapshot naming
// it; until then it is an orphan that a crash leaves behind harmlessly.
//
// CollectStats reads Parquet footers (never data pages) and returns per-column
// min / max / null counts across a set of files.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "lake/lake.h"

namespace tarn::lake {

struct Column {
  std::string name;
  std::string type;  // a DuckDB type name, e.g. BIGINT, DECIMAL(18,2), VARCHAR
  // Managed tables (catalog: schema evolution). The column's stable id (0: none),
  // written as its Parquet field id; the name data files store it under ("": `name`),
  // which a rename does not change; the table's schema version that added it (files
  // written before lack it) and that last widened its type (files before hold the
  // narrower type).
  int64_t id = {};
  std::string stored = {};
  int64_t added = {};
  int64_t retyped = {};
  const std::string& StoredName() const { return stored.empty() ? name : stored; }
  bool operator==(const Column&) const = default;
};

struct DataFile {
  std::string path;  // relative to the lake root
  int64_t row_count = 0;
  int64_t byte_size = 0;
  // Empty for a data file. For a delete file (one BIGINT column "__tarn_pos"), the data
  // file whose rows at those positions (file_row_number) the snapshot leaves out.
  std::string deletes_of = {};
  // The id of the key (Keyring) the file is encrypted with; empty: not encrypted.
  std::string key_id = {};
  // The table's schema version the file was written under (its columns are those of
  // that version, under their stored names).
  int64_t schema_version = {};
};

// SELECT CAST(#1 AS schema[0].type) AS schema[0].name, ... FROM (query): the rows of
// `query` as a table of `schema` stores them (by position; a column-count mismatch
// fails when bound).
duckdb::unique_ptr<duckdb::SelectStatement> CastToSchema(duckdb::unique_ptr<duckdb::SelectStatement> query,
                                                         const std::vector<Column>& schema);

// Writes the rows of `query` (a parsed SELECT) into a new file under `dir` (relative
// to the lake root), casting column i to schema[i] by position and naming it
// schema[i].StoredName() (with Parquet field id schema[i].id when it has one). Throws
// kInvalidArgument if the query's column count differs from the schema's.
// With `key_id` the file is encrypted under that key (which the engine of `conn`
// must have been given: Keyring::Register).
DataFile WriteParquet(const Lake& lake, engine::EngineConnection& conn,
                      duckdb::unique_ptr<duckdb::SelectStatement> query, const std::vector<Column>& schema,
                      const std::string& dir, const std::string& key_id = "");

// As WriteParquet, but with `partition_by` (column names; may be empty) one file per
// distinct value of those columns, under <dir>/<stored name>=<value>/ (the columns stay
// in the files; a reader needs no hive partitioning). No rows: no file.
std::vector<DataFile> WriteParquetFiles(const Lake& lake, engine::EngineConnection& conn,
                                        duckdb::unique_ptr<duckdb::SelectStatement> query,
                                        const std::vector<Column>& schema, const std::string& dir,
                                        const std::vector<std::string>& partition_by,
                                        const std::string& key_id = "");

// Writes a table's rows somewhere else than this server's engine (the nodes of a split
// run: session::Session::WriteOnNodes): given the query as the table's files store
// them and the options those files need (field ids), writes its rows as Parquet files
// on the lake's file system and returns their absolute paths. Throws what failed.
using ParquetWrite = std::function<std::vector<std::filesystem::path>(
    duckdb::unique_ptr<duckdb::SelectStatement> query, const engine::ParquetOptions& options)>;

// As WriteParquet, but `write` writes the files (neither encrypted nor partitioned): they
// are moved into `dir` under fresh names and synced, their rows counted from their
// footers; files of no rows are removed. On failure the files are removed.
std::vector<DataFile> WriteParquetWith(const Lake& lake, engine::EngineConnection& conn,
                                       duckdb::unique_ptr<duckdb::SelectStatement> query,
                                       const std::vector<Column>& schema, const std::string& dir,
                                       const ParquetWrite& write);

// {"columns": {name: {"min": text, "max": text, "null_count": n}}} over `files`
// (absolute paths of Parquet files); columns without footer statistics are left out.
nlohmann::json CollectStats(engine::EngineConnection& conn, const std::vector<std::string>& files,
                            const std::vector<Column>& schema);

// Statistics of the union of two file sets (each a CollectStats result): typed
// min of mins, max of maxes, sum of null counts. Needs no engine connection.
nlohmann::json MergeStats(const nlohmann::json& a, const nlohmann::json& b,
                          const std::vector<Column>& schema);

}  // namespace tarn::lake
