// Statement families: how a session runs one statement.
//
// A session asks its families in turn: governance's policy statements (GRANT, CREATE
// DATA FILTER, SHOW GRANTS, ...), Tarn's catalog statements (session/script.h), then
// the engine's SQL; the first family that recognises the statement runs it. Each
// family reads its statements into a typed form and runs them through a table of
// handlers, one per kind. A new statement is a new table entry; a new family (jobs,
// lakehouse tables) is a new StatementFamily handed to Session::AddStatements.
//
// Thread-safety: as the session (one statement at a time).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "session/script.h"
#include "session/session.h"

namespace tarn::session {

// What a handler works with while one statement runs.
struct StatementContext {
  Session& session;  // RunQuery, EmitRows
  catalog::Catalog& catalog;
  governance::Governor& governor;
  engine::EngineConnection& conn;
  ResultHandler& handler;
  const std::filesystem::path* parquet_output;  // the rows of this (last) statement go to this file
  StatementOutcome& outcome;

  // kInvalidArgument if the rows were asked for as a Parquet file: only queries have rows.
  void NoParquet() const;
};

std::unique_ptr<StatementFamily> PolicyStatements();
std::unique_ptr<StatementFamily> CatalogStatements();
std::unique_ptr<StatementFamily> EngineStatements();

// CREATE DATABASE / DROP DATABASE (also spelt CREATE / DROP SCHEMA).
void CreateDatabase(StatementContext& ctx, const std::string& name, bool if_not_exists);
void DropDatabase(StatementContext& ctx, const std::string& name, bool if_exists, bool cascade);

// COPY (query) TO 'name' [(FORMAT csv|parquet|json|xlsx, SHEET 'name')]: the rows
// become a file of the run (Session::WriteOutput).
void CopyTo(duckdb::unique_ptr<duckdb::SQLStatement>& statement, StatementContext& ctx);

// DELETE FROM db.t [USING ...] [WHERE ...] and UPDATE db.t SET ... [FROM ...] [WHERE
// ...] on managed tables (dml_statements.cpp).
void DeleteRows(duckdb::unique_ptr<duckdb::SQLStatement>& statement, StatementContext& ctx);
void UpdateRows(duckdb::unique_ptr<duckdb::SQLStatement>& statement, StatementContext& ctx);
// MERGE INTO db.t USING src ON cond WHEN [NOT] MATCHED [AND c] THEN UPDATE / DELETE /
// INSERT / DO NOTHING / ERROR.
void MergeRows(duckdb::unique_ptr<duckdb::SQLStatement>& statement, StatementContext& ctx);

// OPTIMIZE db.t [WHERE ...] [ORDER BY ...] and EXPIRE SNAPSHOTS db.t OLDER THAN '...'
// [RETAIN LAST n] (maintenance_statements.cpp).
void Optimize(const TarnStatement& st, StatementContext& ctx);
void ExpireSnapshots(const TarnStatement& st, StatementContext& ctx);

// "1 row", "2 rows".
std::string Plural(int64_t n, const char* one, const char* many);

}  // namespace tarn::session
