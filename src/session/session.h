// Session: runs SQL scripts for one caller against the catalog.
//
// A script is split into statements and run in order; the first failure stops it
// (earlier statements stay done: every statement commits on its own). Statements
// are either Tarn's own (CREATE DATABASE, CREATE EXTERNAL TABLE, CREATE TABLE [AS],
// INSERT INTO / INSERT OVERWRITE, DROP, SHOW, DESCRIBE, SHOW SNAPSHOTS) or a DuckDB
// query (SELECT, WITH, VALUES, FROM-first, EXPLAIN, SUMMARIZE) over catalog tables
// named database.table. Any other DuckDB statement is refused with kUnsupported.
//
// Thread-safety: one thread runs a session; Cancel() may be called from any thread.
#pragma once

#include <duckdb.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "catalog/catalog.h"
#include "catalog/resolver.h"
#include "engine/engine.h"
#include "store/store.h"

namespace tarn::session {

// Receives what each statement of a script produces.
class ResultHandler {
 public:
  virtual ~ResultHandler() = default;
  // A statement returned rows; the handler consumes them before returning.
  virtual void OnRows(duckdb::QueryResult& result) = 0;
  // A statement that returns no rows finished; `message` says what it did.
  virtual void OnStatus(const std::string& message) = 0;
};

class Session {
 public:
  // Opens its own metadata-store connection (`metastore`) and engine connection.
  Session(engine::Engine& engine, const lake::Lake& lake, const std::string& metastore,
          std::filesystem::path temp_dir);

  // Runs every statement of `script`. If `parquet_output` is set, the last statement
  // must be a query and its rows are written to that file instead of the handler.
  void Execute(const std::string& script, ResultHandler& handler,
               const std::optional<std::filesystem::path>& parquet_output = std::nullopt);

  // Stops the running statement; it fails with kCancelled.
  void Cancel() { conn_->Cancel(); }

  catalog::Catalog& catalog() { return *catalog_; }

 private:
  void ExecuteOne(const std::string& statement, ResultHandler& handler,
                  const std::filesystem::path* parquet_output);
  void RunQuery(duckdb::unique_ptr<duckdb::SQLStatement> statement, ResultHandler& handler,
                const std::filesystem::path* parquet_output);
  // Hands a small, Tarn-made table of rows (SHOW, DESCRIBE) to the handler.
  void EmitRows(const std::vector<std::string>& names, const std::vector<std::vector<duckdb::Value>>& rows,
                ResultHandler& handler);

  std::unique_ptr<store::MetaStore> store_;
  std::unique_ptr<engine::EngineConnection> conn_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::filesystem::path temp_dir_;
};

// Parses `sql` as exactly one query (SELECT, WITH, VALUES, FROM-first); throws
// kInvalidArgument otherwise.
duckdb::unique_ptr<duckdb::SelectStatement> ParseQuery(const std::string& sql, const char* where);

}  // namespace tarn::session
