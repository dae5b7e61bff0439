#include "session/session.h"

#include <duckdb/parser/parsed_data/create_table_info.hpp>
#include <duckdb/parser/parsed_data/drop_info.hpp>
#include <duckdb/parser/statement/create_statement.hpp>
#include <duckdb/parser/statement/drop_statement.hpp>
#include <duckdb/parser/statement/explain_statement.hpp>
#include <duckdb/parser/statement/insert_statement.hpp>
#include <duckdb/parser/statement/select_statement.hpp>

#include <chrono>
#include <fstream>

#include "common/error.h"
#include "common/util.h"
#include "engine/sql_text.h"
#include "lake/data_writer.h"
#include "session/script.h"

namespace fs = std::filesystem;

namespace tarn::session {

namespace {

std::string Plural(int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string StatementName(duckdb::StatementType t) {
  std::string name = duckdb::StatementTypeToString(t);
  return name;
}

}  // namespace

duckdb::unique_ptr<duckdb::SelectStatement> ParseQuery(const std::string& sql, const char* where) {
  auto statements = engine::Parse(sql);
  if (statements.size() != 1 || statements[0]->type != duckdb::StatementType::SELECT_STATEMENT) {
    throw Error::InvalidArgument("{} needs exactly one query (SELECT ...)", where);
  }
  return duckdb::unique_ptr_cast<duckdb::SQLStatement, duckdb::SelectStatement>(std::move(statements[0]));
}

Session::Session(engine::Engine& engine, const lake::Lake& lake, const std::string& metastore,
                 fs::path temp_dir, audit::AuditLog* audit, fs::path audit_dir)
    : store_(store::MetaStore::Open(metastore)),
      conn_(engine.Connect()),
      temp_dir_(std::move(temp_dir)),
      audit_(audit) {
  catalog_ = std::make_unique<catalog::Catalog>(*store_, lake, *conn_);
  governor_ = std::make_shared<governance::Governor>(*catalog_, *store_, std::move(audit_dir));
  conn_->SetTableResolver(governor_);
}

void Session::SetCaller(Caller caller) {
  caller_ = std::move(caller);
  governor_->SetPrincipal(caller_.principal);
}

void Session::BeginRun(std::chrono::milliseconds statement_timeout) {
  stop_ = static_cast<int>(StopReason::kNone);
  timeout_ = statement_timeout;
  deadline_ns_ = 0;
}

void Session::Stop(StopReason reason) {
  int none = static_cast<int>(StopReason::kNone);
  stop_.compare_exchange_strong(none, static_cast<int>(reason));  // the first reason wins
  conn_->Cancel();
}

void Session::Enforce(std::chrono::steady_clock::time_point now) {
  int64_t deadline = deadline_ns_.load();
  if (deadline && now.time_since_epoch().count() > deadline) Stop(StopReason::kTimeout);
  if (stop_reason() != StopReason::kNone) conn_->Cancel();
}

Error Session::StopError(StopReason reason) const {
  switch (reason) {
    case StopReason::kTimeout:
      return Error::ResourceExhausted("the statement ran longer than {} and was stopped",
                                      FormatDuration(timeout_));
    case StopReason::kClientGone: return Error::Cancelled("the client went away: statement cancelled");
    case StopReason::kShutdown: return Error::Cancelled("the server is shutting down: statement cancelled");
    default: return Error::Cancelled("statement cancelled");
  }
}

void Session::CheckStop() {
  int64_t deadline = deadline_ns_.load();
  if (deadline && std::chrono::steady_clock::now().time_since_epoch().count() > deadline)
    Stop(StopReason::kTimeout);
  if (auto reason = stop_reason(); reason != StopReason::kNone) throw StopError(reason);
}

void Session::Execute(const std::string& script, ResultHandler& handler,
                      const std::optional<fs::path>& parquet_output) {
  auto statements = SplitStatements(script);
  if (statements.empty()) throw Error::InvalidArgument("no SQL statement given");
  for (size_t i = 0; i < statements.size(); i++) {
    bool last = i + 1 == statements.size();
    ExecuteOne({i, statements.size(), statements[i]}, handler,
               last && parquet_output ? &*parquet_output : nullptr);
  }
}

void Session::ExecuteOne(const StatementStart& st, ResultHandler& handler, const fs::path* parquet_output) {
  auto start = std::chrono::steady_clock::now();
  deadline_ns_ = timeout_.count() ? (start + timeout_).time_since_epoch().count() : 0;
  Outcome outcome;
  auto millis = [&] {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  };
  auto end = [&](const Error* error) {
    handler.OnStatementEnd({st.index, outcome.type, outcome.rows, outcome.truncated, error, millis()});
  };
  caller_.origin.statement = static_cast<int64_t>(st.index);
  try {
    CheckStop();
    handler.OnStatementBegin(st);
    governor_->BeginStatement();
    Dispatch(st.text, handler, parquet_output, outcome);
    CheckStop();  // a stop that came while Tarn finished the statement's work
  } catch (const Error& e) {
    // An engine interrupt we caused reports the reason we had.
    auto reason = stop_reason();
    Error explained = reason != StopReason::kNone && e.code() == ErrorCode::kCancelled ? StopError(reason)
                                                                                       : governor_->Explain(e);
    Audit(st.text, outcome, &explained, millis());
    end(&explained);
    throw explained;
  } catch (const std::exception& e) {
    Error internal = Error::Internal("{}", e.what());
    Audit(st.text, outcome, &internal, millis());
    end(&internal);
    throw;
  }
  Audit(st.text, outcome, nullptr, millis());
  end(nullptr);
}

void Session::Refuse(const std::string& script, const Error& error) {
  governor_->BeginStatement();
  Outcome outcome;
  outcome.type = "REFUSED";
  Audit(script, outcome, &error, 0);
}

void Session::Audit(const std::string& text, const Outcome& outcome, const Error* error, double millis) {
  if (!audit_) return;
  const auto& p = caller_.principal;
  audit::StatementEvent e;
  e.actor = {p.user, p.groups, governor_->subject().Roles(), p.issuer};
  e.origin = caller_.origin;
  e.statement_type = outcome.type;
  e.statement = text;
  e.outcome = audit::OutcomeOf(error);
  if (error && error->code() == ErrorCode::kResourceExhausted && stop_reason() == StopReason::kTimeout)
    e.outcome = audit::Outcome::kTimeout;
  e.reason = error ? std::string(error->what()) : std::string();
  e.rows = outcome.rows;
  e.truncated = outcome.truncated;
  for (auto& r : governor_->resources()) {
    e.resources.push_back({{"table", r.table},
                           {"access", r.access},
                           {"columns", r.columns},
                           {"filters", r.filters},
                           {"masks", r.masks}});
    e.bytes_scanned += r.bytes;
  }
  auto event = audit::ToJson(e);
  audit_->Append(event);
  if (outcome.policy_change && !error) {
    event["event"] = "policy_change";
    event["details"] = {{"statement", event["statement"]}};
    audit_->Append(event);
  }
}

void Session::Deliver(duckdb::QueryResult& result, ResultHandler& handler, Outcome& outcome) {
  engine::ThrowIfError(result);
  std::vector<std::string> names(result.names.begin(), result.names.end());
  std::vector<duckdb::LogicalType> types(result.types.begin(), result.types.end());
  handler.OnColumns(names, types);
  outcome.rows = 0;
  while (true) {
    CheckStop();
    auto chunk = result.Fetch();
    engine::ThrowIfError(result);
    if (!chunk || chunk->size() == 0) break;
    bool more = handler.OnChunk(*chunk);
    outcome.rows += static_cast<int64_t>(chunk->size());
    if (!more) {
      outcome.truncated = true;
      break;
    }
  }
  handler.OnRowsEnd();
}

void Session::Dispatch(const std::string& text, ResultHandler& handler, const fs::path* parquet_output,
                       Outcome& outcome) {
  auto& cat = *catalog_;
  auto& gov = *governor_;
  {
    auto tokens = engine::Tokenize(text);
    if (!tokens.empty()) outcome.type = duckdb::StringUtil::Upper(tokens[0].text);
  }
  if (auto out = gov.Execute(text)) {
    if (parquet_output)
      throw Error::InvalidArgument("--format parquet needs the last statement to be a query");
    outcome.policy_change = out->policy_change;
    if (!out->names.empty()) {
      EmitRows(out->names, out->rows, handler, outcome);
      return;
    }
    return handler.OnStatus(out->status);
  }
  if (auto st = ParseTarnStatement(text)) {
    if (parquet_output)
      throw Error::InvalidArgument("--format parquet needs the last statement to be a query");
    switch (st->kind) {
      case TarnStatement::kCreateDatabase: return CreateDatabase(st->database, st->if_not_exists, handler);
      case TarnStatement::kDropDatabase:
        return DropDatabase(st->database, st->if_not_exists, st->cascade, handler);
      case TarnStatement::kCreateExternalTable: {
        // An external table exposes files of the lake as they lie: administrators only.
        if (!gov.subject().admin) {
          throw governance::Denied("CREATE EXTERNAL TABLE is for data-lake administrators");
        }
        bool existed = cat.FindTable(st->database, st->table).has_value();
        auto t = cat.CreateExternalTable(st->database, st->table, st->location, st->format,
                                         st->partition_columns, st->if_not_exists);
        if (!existed) gov.GrantOwnership(governance::ObjectKind::kTable, t.id, t.QualifiedName());
        std::string parts;
        for (auto& p : t.partition_columns) parts += (parts.empty() ? "" : ", ") + p;
        return handler.OnStatus(fmt::format(
            "created external table {} over '{}' ({}, {} columns{})", t.QualifiedName(), t.location,
            lake::FormatName(t.format), t.schema.size(), parts.empty() ? "" : ", partitioned by " + parts));
      }
      case TarnStatement::kInsertOverwrite: {
        auto table = gov.RequireTable(st->database, st->table, "INSERT", "INSERT OVERWRITE");
        auto query = ParseQuery(st->query, "INSERT OVERWRITE");
        gov.CheckQuery(*query);
        auto w = cat.Write(table, gov.GuardWrite(table, std::move(query), true), true);
        return handler.OnStatus(fmt::format("replaced the rows of {} with {} (snapshot {})",
                                            table.QualifiedName(), Plural(w.rows_written, "row", "rows"),
                                            w.snapshot.id));
      }
      case TarnStatement::kShowDatabases: {
        std::vector<std::vector<duckdb::Value>> rows;
        for (auto& d : gov.VisibleDatabases()) rows.push_back({duckdb::Value(d)});
        EmitRows({"database"}, rows, handler, outcome);
        return;
      }
      case TarnStatement::kShowTables: {
        std::vector<std::string> dbs =
            st->database.empty() ? gov.VisibleDatabases() : std::vector<std::string>{st->database};
        std::vector<std::vector<duckdb::Value>> rows;
        for (auto& d : dbs) {
          for (auto& t : gov.VisibleTables(d)) {
            rows.push_back({duckdb::Value(t.database), duckdb::Value(t.name),
                            duckdb::Value(catalog::TableKindName(t.kind)),
                            duckdb::Value(std::string(lake::FormatName(t.format))),
                            duckdb::Value(t.location)});
          }
        }
        EmitRows({"database", "table", "kind", "format", "location"}, rows, handler, outcome);
        return;
      }
      case TarnStatement::kDescribe: {
        auto t = gov.VisibleTable(st->database, st->table);
        auto stats_columns = gov.StatsColumns(t);
        nlohmann::json stats = nlohmann::json::object();
        if (t.snapshot_id)
          stats = cat.GetSnapshot(*t.snapshot_id).stats.value("columns", nlohmann::json::object());
        std::vector<std::vector<duckdb::Value>> rows;
        for (auto& c : t.schema) {
          bool part = std::find(t.partition_columns.begin(), t.partition_columns.end(), c.name) !=
                      t.partition_columns.end();
          auto s = stats_columns.count(c.name) ? stats.value(c.name, nlohmann::json::object())
                                               : nlohmann::json::object();
          auto text = [&](const char* key) {
            return s.contains(key) ? duckdb::Value(s[key].get<std::string>())
                                   : duckdb::Value(duckdb::LogicalType::VARCHAR);
          };
          rows.push_back({duckdb::Value(c.name), duckdb::Value(c.type), duckdb::Value::BOOLEAN(part),
                          text("min"), text("max"),
                          s.contains("null_count") ? duckdb::Value::BIGINT(s["null_count"].get<int64_t>())
                                                   : duckdb::Value(duckdb::LogicalType::BIGINT)});
        }
        EmitRows({"column", "type", "partition", "min", "max", "null_count"}, rows, handler, outcome);
        return;
      }
      case TarnStatement::kShowSnapshots: {
        auto t = gov.VisibleTable(st->database, st->table);
        if (gov.StatsColumns(t).empty()) {
          throw governance::Denied("SHOW SNAPSHOTS shows row counts: it needs read access to every row of " +
                                   t.QualifiedName());
        }
        std::vector<std::vector<duckdb::Value>> rows;
        for (auto& s : cat.ListSnapshots(t)) {
          rows.push_back(
              {duckdb::Value::BIGINT(s.id),
               s.parent_id ? duckdb::Value::BIGINT(*s.parent_id) : duckdb::Value(duckdb::LogicalType::BIGINT),
               duckdb::Value(s.operation), duckdb::Value::BIGINT(s.row_count),
               duckdb::Value::BIGINT(s.file_count), duckdb::Value::BIGINT(s.byte_size),
               duckdb::Value(s.created_at), duckdb::Value::BOOLEAN(t.snapshot_id == s.id)});
        }
        EmitRows({"snapshot", "parent", "operation", "rows", "files", "bytes", "created_at", "current"},
                     rows, handler, outcome);
        return;
      }
    }
  }

  auto statements = engine::Parse(text);
  if (statements.size() != 1) throw Error::InvalidArgument("expected one statement");
  auto& stmt = *statements[0];
  outcome.type = StatementName(stmt.type);
  switch (stmt.type) {
    case duckdb::StatementType::SELECT_STATEMENT:
      gov.CheckQuery(stmt.Cast<duckdb::SelectStatement>());
      return RunQuery(std::move(statements[0]), handler, parquet_output, outcome);
    case duckdb::StatementType::EXPLAIN_STATEMENT: {
      auto& explain = stmt.Cast<duckdb::ExplainStatement>();
      if (explain.stmt->type != duckdb::StatementType::SELECT_STATEMENT) {
        throw Error::Unsupported("EXPLAIN works on queries only");
      }
      gov.CheckQuery(explain.stmt->Cast<duckdb::SelectStatement>());
      return RunQuery(std::move(statements[0]), handler, parquet_output, outcome);
    }
    default: break;
  }
  if (parquet_output) throw Error::InvalidArgument("--format parquet needs the last statement to be a query");
  switch (stmt.type) {
    case duckdb::StatementType::CREATE_STATEMENT: {
      auto& create = stmt.Cast<duckdb::CreateStatement>();
      if (create.info->type == duckdb::CatalogType::SCHEMA_ENTRY) {
        return CreateDatabase(create.info->schema,
                              create.info->on_conflict == duckdb::OnCreateConflict::IGNORE_ON_CONFLICT,
                              handler);
      }
      if (create.info->type != duckdb::CatalogType::TABLE_ENTRY) {
        throw governance::Denied(
            fmt::format("CREATE {} is not allowed: Tarn creates databases and tables only",
                        duckdb::CatalogTypeToString(create.info->type)));
      }
      auto& info = create.info->Cast<duckdb::CreateTableInfo>();
      if (info.temporary) throw Error::Unsupported("temporary tables are not supported");
      if (info.on_conflict == duckdb::OnCreateConflict::REPLACE_ON_CONFLICT) {
        throw Error::Unsupported(
            "CREATE OR REPLACE TABLE is not supported: use INSERT OVERWRITE, or DROP TABLE first");
      }
      if (info.schema.empty() || info.schema == DEFAULT_SCHEMA) {
        throw Error::InvalidArgument("table name '{}' needs its database: write database.{}", info.table,
                                     info.table);
      }
      if (!info.catalog.empty()) throw Error::InvalidArgument("name tables as database.table");
      bool if_not_exists = info.on_conflict == duckdb::OnCreateConflict::IGNORE_ON_CONFLICT;
      gov.RequireDatabase(info.schema, "CREATE_TABLE", "CREATE TABLE");
      if (info.query) {
        auto query = std::move(info.query);
        gov.CheckQuery(*query);
        std::vector<std::string> names;
        std::vector<duckdb::LogicalType> types;
        conn_->Describe(query->Copy(), names, types);
        std::vector<catalog::Column> schema;
        for (size_t i = 0; i < names.size(); i++) {
          try {
            schema.push_back({catalog::CheckName(names[i], "column"), types[i].ToString()});
          } catch (const Error&) {
            throw Error::InvalidArgument(
                "column {} of the query is named '{}', which is not a valid column name: name "
                "it with AS",
                i + 1, names[i]);
          }
        }
        auto table = cat.CreateManagedTable(info.schema, info.table, schema, if_not_exists);
        if (!table) {
          return handler.OnStatus(fmt::format("table {}.{} already exists", info.schema, info.table));
        }
        try {
          gov.GrantOwnership(governance::ObjectKind::kTable, table->id, table->QualifiedName());
          auto w = cat.Write(*table, std::move(query), false);
          return handler.OnStatus(fmt::format("created table {} with {} (snapshot {})",
                                              table->QualifiedName(), Plural(w.rows_written, "row", "rows"),
                                              w.snapshot.id));
        } catch (...) {
          // A CREATE TABLE AS that failed leaves no table behind.
          try {
            cat.DropTable(table->database, table->name, true, [&](const catalog::Catalog::Dropped& dropped) {
              gov.ForgetDropped(dropped, "CREATE TABLE AS that failed: " + table->QualifiedName());
            });
          } catch (...) {
          }
          throw;
        }
      }
      if (!info.constraints.empty()) {
        throw Error::Unsupported(
            "constraints (NOT NULL, PRIMARY KEY, UNIQUE, CHECK) are not supported on lake tables");
      }
      std::vector<catalog::Column> schema;
      for (auto& col : info.columns.Logical()) {
        if (col.HasDefaultValue() || col.Generated()) {
          throw Error::Unsupported("column defaults and generated columns are not supported");
        }
        schema.push_back({col.Name(), col.Type().ToString()});
      }
      auto table = cat.CreateManagedTable(info.schema, info.table, schema, if_not_exists);
      if (table) gov.GrantOwnership(governance::ObjectKind::kTable, table->id, table->QualifiedName());
      return handler.OnStatus(table ? "created table " + table->QualifiedName()
                                    : fmt::format("table {}.{} already exists", info.schema, info.table));
    }
    case duckdb::StatementType::INSERT_STATEMENT: {
      auto& insert = stmt.Cast<duckdb::InsertStatement>();
      if (!insert.columns.empty() || insert.default_values || !insert.returning_list.empty() ||
          insert.on_conflict_info || insert.column_order != duckdb::InsertColumnOrder::INSERT_BY_POSITION ||
          !insert.cte_map.map.empty() || !insert.select_statement) {
        throw Error::Unsupported(
            "INSERT supports only INSERT INTO db.table SELECT ... (or VALUES ...), with columns in table "
            "order");
      }
      if (insert.schema.empty() || insert.schema == DEFAULT_SCHEMA) {
        throw Error::InvalidArgument("table name '{}' needs its database: write database.{}", insert.table,
                                     insert.table);
      }
      auto table = gov.RequireTable(insert.schema, insert.table, "INSERT", "INSERT");
      gov.CheckQuery(*insert.select_statement);
      auto w = cat.Write(table, gov.GuardWrite(table, std::move(insert.select_statement), false), false);
      return handler.OnStatus(fmt::format("inserted {} into {} (snapshot {})",
                                          Plural(w.rows_written, "row", "rows"), table.QualifiedName(),
                                          w.snapshot.id));
    }
    case duckdb::StatementType::DROP_STATEMENT: {
      auto& drop = stmt.Cast<duckdb::DropStatement>();
      bool if_exists = drop.info->if_not_found == duckdb::OnEntryNotFound::RETURN_NULL;
      if (drop.info->type == duckdb::CatalogType::SCHEMA_ENTRY) {
        return DropDatabase(drop.info->name, if_exists, drop.info->cascade, handler);
      }
      if (drop.info->type != duckdb::CatalogType::TABLE_ENTRY) {
        throw governance::Denied(
            fmt::format("DROP {} is not allowed", duckdb::CatalogTypeToString(drop.info->type)));
      }
      if (drop.info->schema.empty() || drop.info->schema == DEFAULT_SCHEMA) {
        throw Error::InvalidArgument("table name '{}' needs its database: write database.{}", drop.info->name,
                                     drop.info->name);
      }
      try {
        gov.RequireTable(drop.info->schema, drop.info->name, "DROP", "DROP TABLE");
      } catch (const Error& e) {
        if (e.code() != ErrorCode::kNotFound || !if_exists) throw;
        return handler.OnStatus(
            fmt::format("table {}.{} does not exist", drop.info->schema, drop.info->name));
      }
      cat.DropTable(drop.info->schema, drop.info->name, if_exists, [&](const catalog::Catalog::Dropped& dropped) {
        gov.ForgetDropped(dropped, fmt::format("DROP TABLE {}.{}", drop.info->schema, drop.info->name));
      });
      return handler.OnStatus(fmt::format("dropped table {}.{}",
                                          catalog::CheckName(drop.info->schema, "database"),
                                          catalog::CheckName(drop.info->name, "table")));
    }
    default:
      throw governance::Denied(fmt::format(
          "{} statements are not allowed: Tarn runs queries and its catalog and governance statements (see "
          "docs/sql.md)",
          StatementName(stmt.type)));
  }
}

void Session::CreateDatabase(const std::string& raw_name, bool if_not_exists, ResultHandler& handler) {
  std::string name = catalog::CheckName(raw_name, "database");
  governor_->RequireSystem("CREATE_DATABASE", "CREATE DATABASE");
  bool existed = catalog_->FindDatabase(name).has_value();
  catalog_->CreateDatabase(name, if_not_exists);
  if (existed) return handler.OnStatus("database " + name + " already exists");
  governor_->GrantOwnership(governance::ObjectKind::kDatabase, *catalog_->FindDatabase(name), name);
  handler.OnStatus("created database " + name);
}

void Session::DropDatabase(const std::string& raw_name, bool if_exists, bool cascade,
                           ResultHandler& handler) {
  std::string name = catalog::CheckName(raw_name, "database");
  try {
    governor_->RequireDatabase(name, "DROP", "DROP DATABASE");
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kNotFound || !if_exists) throw;
    return handler.OnStatus("database " + name + " does not exist");
  }
  catalog_->DropDatabase(name, if_exists, cascade, [&](const catalog::Catalog::Dropped& dropped) {
    governor_->ForgetDropped(dropped, "DROP DATABASE " + name);
  });
  handler.OnStatus("dropped database " + name);
}

void Session::RunQuery(duckdb::unique_ptr<duckdb::SQLStatement> statement, ResultHandler& handler,
                       const fs::path* parquet_output, Outcome& outcome) {
  if (!parquet_output) {
    CheckStop();
    auto result = conn_->Stream(std::move(statement));
    return Deliver(*result, handler, outcome);
  }
  if (statement->type != duckdb::StatementType::SELECT_STATEMENT) {
    throw Error::InvalidArgument("--format parquet needs a query");
  }
  // The engine may only write inside its own directories: write there, then move.
  std::error_code ec;
  fs::create_directories(temp_dir_, ec);
  fs::path tmp = temp_dir_ / ("export-" + RandomHex() + ".parquet");
  try {
    int64_t rows =
        engine::WriteParquetFile(*conn_, std::move(statement->Cast<duckdb::SelectStatement>().node), tmp);
    outcome.rows = rows;
    fs::rename(tmp, *parquet_output, ec);
    if (ec) {  // another file system: copy, then remove
      fs::copy_file(tmp, *parquet_output, fs::copy_options::overwrite_existing, ec);
      if (ec) throw Error::Io("cannot write {}: {}", parquet_output->string(), ec.message());
      fs::remove(tmp, ec);
    }
    handler.OnStatus(fmt::format("wrote {} to {}", Plural(rows, "row", "rows"), parquet_output->string()));
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
  }
}

void Session::EmitRows(const std::vector<std::string>& names,
                       const std::vector<std::vector<duckdb::Value>>& rows, ResultHandler& handler,
                       Outcome& outcome) {
  // The values are literals rendered by DuckDB itself (ToSQLString), never raw text.
  std::string cols;
  for (auto& n : names) cols += (cols.empty() ? "" : ", ") + engine::QuoteIdent(n);
  std::string sql;
  if (rows.empty()) {
    std::string nulls;
    for (size_t i = 0; i < names.size(); i++) nulls += (i ? ", " : "") + std::string("NULL::VARCHAR");
    sql = "SELECT * FROM (VALUES (" + nulls + ")) AS t(" + cols + ") WHERE false";
  } else {
    std::string values;
    for (auto& row : rows) {
      std::string r;
      for (auto& v : row) {
        auto type = v.type().id() == duckdb::LogicalTypeId::SQLNULL ? duckdb::LogicalType::VARCHAR : v.type();
        r += (r.empty() ? "CAST(" : ", CAST(") + (v.IsNull() ? std::string("NULL") : v.ToSQLString()) +
             " AS " + type.ToString() + ")";
      }
      values += (values.empty() ? "(" : ", (") + r + ")";
    }
    sql = "SELECT * FROM (VALUES " + values + ") AS t(" + cols + ")";
  }
  auto result = conn_->Run(sql);
  Deliver(*result, handler, outcome);
}

}  // namespace tarn::session
