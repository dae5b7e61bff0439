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

#include "audit/audit_log.h"
#include "catalog/catalog.h"
#include "engine/engine.h"
#include "governance/governance.h"
#include "identity/principal.h"
#include "store/store.h"

namespace tarn::session {

// Receives what each statement of a script produces.
class ResultHandler {
 public:
  virtual ~ResultHandler() = default;
  // A statement returned rows; the handler consumes them before returning and
  // says how many it delivered (-1 if it does not know).
  virtual int64_t OnRows(duckdb::QueryResult& result) = 0;
  // A statement that returns no rows finished; `message` says what it did.
  virtual void OnStatus(const std::string& message) = 0;
};

// Who runs the statements, and through what.
struct Caller {
  identity::Principal principal;
  std::string client = "cli";  // cli, http, ...
  std::string request_id;
};

class Session {
 public:
  // Opens its own metadata-store connection (`metastore`) and engine connection.
  // Statements are audited to `audit` (not owned; may be null in tests of lower
  // layers), whose segments live in `audit_dir`.
  Session(engine::Engine& engine, const lake::Lake& lake, const std::string& metastore,
          std::filesystem::path temp_dir, audit::AuditLog* audit, std::filesystem::path audit_dir);

  // Every statement from now on runs as, and is audited for, `caller`.
  void SetCaller(Caller caller);
  const Caller& caller() const { return caller_; }

  // Records in the audit trail that `script` was refused before it ran (a limit,
  // a cancellation), for the reason `error`.
  void Refuse(const std::string& script, const Error& error);

  // Runs every statement of `script`. If `parquet_output` is set, the last statement
  // must be a query and its rows are written to that file instead of the handler.
  void Execute(const std::string& script, ResultHandler& handler,
               const std::optional<std::filesystem::path>& parquet_output = std::nullopt);

  // Stops the running statement; it fails with kCancelled.
  void Cancel() { conn_->Cancel(); }

  catalog::Catalog& catalog() { return *catalog_; }
  governance::Governor& governor() { return *governor_; }

 private:
  // What one statement did, for its audit event.
  struct Outcome {
    std::string type;  // statement type, e.g. SELECT, GRANT
    int64_t rows = -1;
    bool policy_change = false;
  };
  void ExecuteOne(const std::string& statement, ResultHandler& handler,
                  const std::filesystem::path* parquet_output);
  void Dispatch(const std::string& statement, ResultHandler& handler,
                const std::filesystem::path* parquet_output, Outcome& outcome);
  void RunQuery(duckdb::unique_ptr<duckdb::SQLStatement> statement, ResultHandler& handler,
                const std::filesystem::path* parquet_output, Outcome& outcome);
  void CreateDatabase(const std::string& name, bool if_not_exists, ResultHandler& handler);
  void DropDatabase(const std::string& name, bool if_exists, bool cascade, ResultHandler& handler);
  void Audit(const std::string& statement, const Outcome& outcome, const Error* error, double millis);
  // Hands a small, Tarn-made table of rows (SHOW, DESCRIBE) to the handler.
  int64_t EmitRows(const std::vector<std::string>& names, const std::vector<std::vector<duckdb::Value>>& rows,
                   ResultHandler& handler);

  std::unique_ptr<store::MetaStore> store_;
  std::unique_ptr<engine::EngineConnection> conn_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::shared_ptr<governance::Governor> governor_;
  std::filesystem::path temp_dir_;
  audit::AuditLog* audit_;
  Caller caller_;
};

// Parses `sql` as exactly one query (SELECT, WITH, VALUES, FROM-first); throws
// kInvalidArgument otherwise.
duckdb::unique_ptr<duckdb::SelectStatement> ParseQuery(const std::string& sql, const char* where);

}  // namespace tarn::session
