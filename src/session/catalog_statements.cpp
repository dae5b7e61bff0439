// Tarn's own catalog statements (session/script.h parses them): databases, external
// tables, INSERT OVERWRITE, SHOW and DESCRIBE. And governance's policy statements,
// which the Governor parses and runs itself.
#include <algorithm>

#include "common/error.h"
#include "session/script.h"
#include "session/statements.h"

namespace tarn::session {

namespace {

class PolicyFamily : public StatementFamily {
 public:
  bool Run(const std::string& text, StatementContext& ctx) override {
    auto out = ctx.governor.Execute(text);
    if (!out) return false;
    ctx.NoParquet();
    ctx.outcome.policy_change = out->policy_change;
    if (!out->names.empty()) {
      ctx.session.EmitRows(out->names, out->rows, ctx.handler, ctx.outcome);
    } else {
      ctx.handler.OnStatus(out->status);
    }
    return true;
  }
};

void CreateExternalTable(const TarnStatement& st, StatementContext& ctx) {
  auto& gov = ctx.governor;
  auto& cat = ctx.catalog;
  auto& handler = ctx.handler;
  // An external table exposes files of the lake as they lie: administrators only.
  if (!gov.subject().admin) {
    throw governance::Denied("CREATE EXTERNAL TABLE is for data-lake administrators");
  }
  bool existed = cat.FindTable(st.database, st.table).has_value();
  auto t = cat.CreateExternalTable(st.database, st.table, st.location, st.format, st.partition_columns,
                                   st.if_not_exists);
  if (!existed) gov.GrantOwnership(governance::ObjectKind::kTable, t.id, t.QualifiedName());
  std::string parts;
  for (auto& p : t.partition_columns) parts += (parts.empty() ? "" : ", ") + p;
  return handler.OnStatus(fmt::format("created external table {} over '{}' ({}, {} columns{})",
                                      t.QualifiedName(), t.location, lake::FormatName(t.format),
                                      t.schema.size(), parts.empty() ? "" : ", partitioned by " + parts));
}

void InsertOverwrite(const TarnStatement& st, StatementContext& ctx) {
  auto& gov = ctx.governor;
  auto& cat = ctx.catalog;
  auto& handler = ctx.handler;
  auto table = gov.RequireTable(st.database, st.table, "INSERT", "INSERT OVERWRITE");
  auto query = ParseQuery(st.query, "INSERT OVERWRITE");
  gov.CheckQuery(*query);
  auto w = cat.Write(table, gov.GuardWrite(table, std::move(query), true), true, ctx.session.WriteOnNodes());
  ctx.outcome.rows_written = w.rows_written;
  return handler.OnStatus(fmt::format("replaced the rows of {} with {} (snapshot {})", table.QualifiedName(),
                                      Plural(w.rows_written, "row", "rows"), w.snapshot.id));
}

void ShowDatabases(const TarnStatement& st, StatementContext& ctx) {
  auto& gov = ctx.governor;
  auto& handler = ctx.handler;
  std::vector<std::vector<duckdb::Value>> rows;
  for (auto& d : gov.VisibleDatabases()) rows.push_back({duckdb::Value(d)});
  ctx.session.EmitRows({"database"}, rows, handler, ctx.outcome);
}

void ShowTables(const TarnStatement& st, StatementContext& ctx) {
  auto& gov = ctx.governor;
  auto& handler = ctx.handler;
  std::vector<std::string> dbs =
      st.database.empty() ? gov.VisibleDatabases() : std::vector<std::string>{st.database};
  std::vector<std::vector<duckdb::Value>> rows;
  for (auto& d : dbs) {
    for (auto& t : gov.VisibleTables(d)) {
      rows.push_back({duckdb::Value(t.database), duckdb::Value(t.name),
                      duckdb::Value(catalog::TableKindName(t.kind)),
                      duckdb::Value(std::string(lake::FormatName(t.format))), duckdb::Value(t.location)});
    }
  }
  ctx.session.EmitRows({"database", "table", "kind", "format", "location"}, rows, handler, ctx.outcome);
}

void Describe(const TarnStatement& st, StatementContext& ctx) {
  auto view = ctx.governor.DescribeTable(st.database, st.table);
  const auto& t = view.table;
  std::vector<std::vector<duckdb::Value>> rows;
  for (auto& c : t.schema) {
    bool part = std::find(t.partition_columns.begin(), t.partition_columns.end(), c.name) !=
                t.partition_columns.end();
    auto it = view.stats.find(c.name);
    auto s = it == view.stats.end() ? nlohmann::json::object() : it->second;
    auto text = [&](const char* key) {
      return s.contains(key) ? duckdb::Value(s[key].get<std::string>())
                             : duckdb::Value(duckdb::LogicalType::VARCHAR);
    };
    rows.push_back({duckdb::Value(c.name), duckdb::Value(c.type), duckdb::Value::BOOLEAN(part), text("min"),
                    text("max"),
                    s.contains("null_count") ? duckdb::Value::BIGINT(s["null_count"].get<int64_t>())
                                             : duckdb::Value(duckdb::LogicalType::BIGINT)});
  }
  ctx.session.EmitRows({"column", "type", "partition", "min", "max", "null_count"}, rows, ctx.handler,
                       ctx.outcome);
}

// A table whose history the caller may see: row counts tell about every row.
catalog::TableInfo HistoryTable(const TarnStatement& st, StatementContext& ctx, const char* what) {
  auto t = ctx.governor.VisibleTable(st.database, st.table);
  if (ctx.governor.StatsColumns(t).empty()) {
    throw governance::Denied(
        fmt::format("{} shows row counts: it needs read access to every row of {}", what, t.QualifiedName()));
  }
  return t;
}

duckdb::Value OptBigint(std::optional<int64_t> v) {
  return v ? duckdb::Value::BIGINT(*v) : duckdb::Value(duckdb::LogicalType::BIGINT);
}

void ShowHistory(const TarnStatement& st, StatementContext& ctx) {
  auto t = HistoryTable(st, ctx, "SHOW HISTORY");
  std::vector<std::vector<duckdb::Value>> rows;
  auto snapshots = ctx.catalog.ListSnapshots(t);
  for (auto it = snapshots.rbegin(); it != snapshots.rend(); ++it) {
    auto& s = *it;
    rows.push_back({duckdb::Value::BIGINT(s.id), OptBigint(s.parent_id), duckdb::Value(s.created_at),
                    duckdb::Value(s.principal), duckdb::Value(s.operation),
                    duckdb::Value::BIGINT(s.rows_added), duckdb::Value::BIGINT(s.rows_removed),
                    duckdb::Value::BIGINT(s.row_count), duckdb::Value(s.detail),
                    duckdb::Value::BOOLEAN(t.snapshot_id == s.id)});
  }
  ctx.session.EmitRows({"snapshot", "parent", "created_at", "principal", "operation", "rows_added",
                        "rows_removed", "rows", "detail", "current"},
                       rows, ctx.handler, ctx.outcome);
}

void Rollback(const TarnStatement& st, StatementContext& ctx) {
  auto t = ctx.governor.RequireReplace(st.database, st.table, "ROLLBACK TABLE");
  int64_t to = ctx.catalog.SnapshotAt(t, *st.at);
  auto s = ctx.catalog.Rollback(t, to);
  ctx.outcome.rows_written = s.row_count;
  ctx.handler.OnStatus(fmt::format("rolled {} back to snapshot {}: {} now (snapshot {})", t.QualifiedName(),
                                   to, Plural(s.row_count, "row", "rows"), s.id));
}

void Clone(const TarnStatement& st, StatementContext& ctx) {
  auto& gov = ctx.governor;
  auto source = gov.RequireFullRead(st.source_database, st.source_table, "CLONE");
  gov.RequireDatabase(st.database, "CREATE_TABLE", "CREATE TABLE ... CLONE");
  int64_t at = st.at ? ctx.catalog.SnapshotAt(source, *st.at)
                     : (source.kind == catalog::TableKind::kManaged ? source.snapshot_id.value_or(0) : 0);
  if (source.kind != catalog::TableKind::kManaged) {
    throw Error::InvalidArgument(
        "{} is an external table: CLONE copies managed tables (CREATE TABLE ... AS "
        "SELECT copies any table's rows)",
        source.QualifiedName());
  }
  auto t = ctx.catalog.Clone(source, at, st.database, st.table, st.if_not_exists);
  if (!t) return ctx.handler.OnStatus(fmt::format("table {}.{} already exists", st.database, st.table));
  gov.GrantOwnership(governance::ObjectKind::kTable, t->id, t->QualifiedName());
  ctx.handler.OnStatus(fmt::format("created table {} as a clone of {} at snapshot {} (no data copied)",
                                   t->QualifiedName(), source.QualifiedName(), at));
}

void ShowSnapshots(const TarnStatement& st, StatementContext& ctx) {
  auto& cat = ctx.catalog;
  auto& handler = ctx.handler;
  auto t = HistoryTable(st, ctx, "SHOW SNAPSHOTS");
  std::vector<std::vector<duckdb::Value>> rows;
  for (auto& s : cat.ListSnapshots(t)) {
    rows.push_back({duckdb::Value::BIGINT(s.id), OptBigint(s.parent_id), duckdb::Value(s.operation),
                    duckdb::Value::BIGINT(s.row_count), duckdb::Value::BIGINT(s.file_count),
                    duckdb::Value::BIGINT(s.byte_size), duckdb::Value(s.created_at),
                    duckdb::Value::BOOLEAN(t.snapshot_id == s.id)});
  }
  ctx.session.EmitRows({"snapshot", "parent", "operation", "rows", "files", "bytes", "created_at", "current"},
                       rows, handler, ctx.outcome);
}

void SetProperties(const TarnStatement& st, StatementContext& ctx) {
  auto t = ctx.governor.RequireTable(st.database, st.table, "ALTER", "ALTER TABLE ... TBLPROPERTIES");
  ctx.catalog.SetProperties(t, st.properties);
  std::string keys;
  for (auto& [key, value] : st.properties) keys += (keys.empty() ? "" : ", ") + key;
  ctx.handler.OnStatus(fmt::format("{} properties of {}: {}", st.properties.begin()->second ? "set" : "unset",
                                   t.QualifiedName(), keys));
}

void AlterSchema(const TarnStatement& st, StatementContext& ctx) {
  auto t = ctx.governor.RequireTable(st.database, st.table, "ALTER", "ALTER TABLE");
  bool policy = false;
  auto after = ctx.catalog.AlterSchema(
      t, st.schema_change, [&](const catalog::TableInfo& before, const catalog::SchemaChange& change) {
        using K = catalog::SchemaChange;
        policy = change.kind == K::kRenameColumn || change.kind == K::kDropColumn;
        if (policy) {
          ctx.governor.ColumnChanged(
              before, change, fmt::format("ALTER TABLE {}: {}", before.QualifiedName(), change.Describe()));
        }
      });
  ctx.outcome.policy_change = policy && after;
  if (!after) {
    return ctx.handler.OnStatus(fmt::format("{} unchanged: {}", t.QualifiedName(),
                                            st.schema_change.kind == catalog::SchemaChange::kAddColumn
                                                ? "the column exists"
                                                : "nothing to change"));
  }
  ctx.handler.OnStatus(fmt::format("altered {}: {} (schema version {})", after->QualifiedName(),
                                   st.schema_change.Describe(), after->schema_version));
}

void ShowProperties(const TarnStatement& st, StatementContext& ctx) {
  auto t = ctx.governor.VisibleTable(st.database, st.table);
  std::vector<std::vector<duckdb::Value>> rows;
  for (auto& p : catalog::TableProperties()) {
    bool set = t.properties.count(p.key) > 0;
    rows.push_back({duckdb::Value(p.key), duckdb::Value(catalog::Property(t, p.key)),
                    duckdb::Value(set ? "set" : "default"), duckdb::Value(p.description)});
  }
  ctx.session.EmitRows({"property", "value", "source", "description"}, rows, ctx.handler, ctx.outcome);
}

using CatalogHandler = void (*)(const TarnStatement&, StatementContext&);

// One handler per kind of Tarn statement.
const std::map<TarnStatement::Kind, CatalogHandler>& CatalogHandlers() {
  static const std::map<TarnStatement::Kind, CatalogHandler> handlers = {
      {TarnStatement::kCreateDatabase,
       [](const TarnStatement& st, StatementContext& ctx) {
         CreateDatabase(ctx, st.database, st.if_not_exists);
       }},
      {TarnStatement::kDropDatabase,
       [](const TarnStatement& st, StatementContext& ctx) {
         DropDatabase(ctx, st.database, st.if_not_exists, st.cascade);
       }},
      {TarnStatement::kCreateExternalTable, CreateExternalTable},
      {TarnStatement::kInsertOverwrite, InsertOverwrite},
      {TarnStatement::kShowDatabases, ShowDatabases},
      {TarnStatement::kShowTables, ShowTables},
      {TarnStatement::kDescribe, Describe},
      {TarnStatement::kShowSnapshots, ShowSnapshots},
      {TarnStatement::kShowHistory, ShowHistory},
      {TarnStatement::kRollback, Rollback},
      {TarnStatement::kClone, Clone},
      {TarnStatement::kSetProperties, SetProperties},
      {TarnStatement::kShowProperties, ShowProperties},
      {TarnStatement::kAlterSchema, AlterSchema},
      {TarnStatement::kOptimize, Optimize},
      {TarnStatement::kExpireSnapshots, ExpireSnapshots},
  };
  return handlers;
}

class CatalogFamily : public StatementFamily {
 public:
  bool Run(const std::string& text, StatementContext& ctx) override {
    auto st = ParseTarnStatement(text);
    if (!st) return false;
    ctx.NoParquet();
    CatalogHandlers().at(st->kind)(*st, ctx);
    return true;
  }
};

}  // namespace

std::string Plural(int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

void StatementContext::NoParquet() const {
  if (parquet_output && !session.parquet_optional())
    throw Error::InvalidArgument("--format parquet needs the last statement to be a query");
}

void CreateDatabase(StatementContext& ctx, const std::string& raw_name, bool if_not_exists) {
  std::string name = catalog::CheckName(raw_name, "database");
  ctx.governor.RequireSystem("CREATE_DATABASE", "CREATE DATABASE");
  bool existed = ctx.catalog.FindDatabase(name).has_value();
  ctx.catalog.CreateDatabase(name, if_not_exists);
  if (existed) return ctx.handler.OnStatus("database " + name + " already exists");
  ctx.governor.GrantOwnership(governance::ObjectKind::kDatabase, *ctx.catalog.FindDatabase(name), name);
  ctx.handler.OnStatus("created database " + name);
}

void DropDatabase(StatementContext& ctx, const std::string& raw_name, bool if_exists, bool cascade) {
  std::string name = catalog::CheckName(raw_name, "database");
  try {
    ctx.governor.RequireDatabase(name, "DROP", "DROP DATABASE");
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kNotFound || !if_exists) throw;
    return ctx.handler.OnStatus("database " + name + " does not exist");
  }
  ctx.catalog.DropDatabase(name, if_exists, cascade, [&](const catalog::Catalog::Dropped& dropped) {
    ctx.governor.ForgetDropped(dropped, "DROP DATABASE " + name);
  });
  ctx.handler.OnStatus("dropped database " + name);
}

std::unique_ptr<StatementFamily> PolicyStatements() {
  return std::make_unique<PolicyFamily>();
}

std::unique_ptr<StatementFamily> CatalogStatements() {
  return std::make_unique<CatalogFamily>();
}

}  // namespace tarn::session
