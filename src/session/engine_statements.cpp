// The engine's SQL, as far as Tarn lets it through: queries and EXPLAIN (checked by
// governance, then run by DuckDB), CREATE TABLE [AS], INSERT INTO, DROP TABLE and the
// SCHEMA spellings of CREATE/DROP DATABASE. Every other statement type is refused.
#include <duckdb/parser/parsed_data/create_table_info.hpp>
#include <duckdb/parser/parsed_data/drop_info.hpp>
#include <duckdb/parser/statement/create_statement.hpp>
#include <duckdb/parser/statement/drop_statement.hpp>
#include <duckdb/parser/statement/explain_statement.hpp>
#include <duckdb/parser/statement/insert_statement.hpp>
#include <duckdb/parser/statement/select_statement.hpp>

#include "common/error.h"
#include "engine/sql_text.h"
#include "session/statements.h"

namespace tarn::session {

namespace {

using Statement = duckdb::unique_ptr<duckdb::SQLStatement>;

void Select(Statement& statement, StatementContext& ctx) {
  ctx.governor.CheckQuery(statement->Cast<duckdb::SelectStatement>());
  if (ctx.session.offloads())
    return ctx.session.RunOffloaded(std::move(statement), ctx.handler, ctx.parquet_output, ctx.outcome);
  ctx.session.RunQuery(std::move(statement), ctx.handler, ctx.parquet_output, ctx.outcome);
}

void Explain(Statement& statement, StatementContext& ctx) {
  auto& explain = statement->Cast<duckdb::ExplainStatement>();
  if (explain.stmt->type != duckdb::StatementType::SELECT_STATEMENT) {
    throw Error::Unsupported("EXPLAIN works on queries only");
  }
  ctx.governor.CheckQuery(explain.stmt->Cast<duckdb::SelectStatement>());
  ctx.session.RunQuery(std::move(statement), ctx.handler, ctx.parquet_output, ctx.outcome);
}

// CREATE TEMP TABLE name AS query: the query's rows, governed as any query's, kept as
// a Parquet file of the run that its later statements read as `name` (docs/sql.md).
void CreateTemp(duckdb::CreateTableInfo& info, StatementContext& ctx) {
  if (!info.query)
    throw Error::Unsupported("a temporary table is made from a query: CREATE TEMP TABLE {} AS SELECT ...",
                             info.table.substr(0, 64));
  bool default_schema = info.schema.empty() || info.schema == DEFAULT_SCHEMA || info.schema == TEMP_CATALOG;
  bool default_catalog = info.catalog.empty() || info.catalog == TEMP_CATALOG;
  if (!default_schema || !default_catalog)
    throw Error::InvalidArgument("a temporary table has a bare name: CREATE TEMP TABLE name AS SELECT ...");
  if (info.on_conflict == duckdb::OnCreateConflict::REPLACE_ON_CONFLICT)
    throw Error::Unsupported("CREATE OR REPLACE TEMP TABLE is not supported");
  std::string name = catalog::CheckName(info.table, "temporary table");
  if (ctx.governor.HasTempTable(name)) {
    if (info.on_conflict == duckdb::OnCreateConflict::IGNORE_ON_CONFLICT)
      return ctx.handler.OnStatus(fmt::format("temporary table {} already exists", name));
    throw Error::AlreadyExists("temporary table {} already exists in this run", name);
  }
  ctx.governor.CheckQuery(*info.query);
  auto file = ctx.session.TempTablePath(duckdb::StringUtil::Lower(name));
  duckdb::unique_ptr<duckdb::SQLStatement> query = std::move(info.query);
  session::Drain quiet;
  std::vector<std::filesystem::path> parts{file};
  bool shared = ctx.session.offloads();
  if (shared) {  // computed on the nodes, maybe as several files, and left in the lake for them
    parts.clear();
    ctx.session.RunOffloaded(std::move(query), quiet, &file, ctx.outcome, &parts);
    if (parts.empty()) parts = {file}, shared = false;  // it had to run here after all
  } else {
    ctx.session.RunQuery(std::move(query), quiet, &file, ctx.outcome);
  }
  ctx.governor.AddTempTable(name, parts, shared);
  int64_t rows = ctx.outcome.rows;
  ctx.outcome.rows = -1;
  ctx.handler.OnStatus(fmt::format("created temporary table {} with {}", name, Plural(rows, "row", "rows")));
}

void Create(duckdb::unique_ptr<duckdb::SQLStatement>& statement, StatementContext& ctx) {
  auto& stmt = *statement;
  auto& gov = ctx.governor;
  auto& cat = ctx.catalog;
  auto& handler = ctx.handler;
  auto& create = stmt.Cast<duckdb::CreateStatement>();
  if (create.info->type == duckdb::CatalogType::SCHEMA_ENTRY) {
    return CreateDatabase(ctx, create.info->schema,
                          create.info->on_conflict == duckdb::OnCreateConflict::IGNORE_ON_CONFLICT);
  }
  if (create.info->type != duckdb::CatalogType::TABLE_ENTRY) {
    throw governance::Denied(fmt::format("CREATE {} is not allowed: Tarn creates databases and tables only",
                                         duckdb::CatalogTypeToString(create.info->type)));
  }
  auto& info = create.info->Cast<duckdb::CreateTableInfo>();
  if (info.temporary) return CreateTemp(info, ctx);
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
    ctx.conn.Describe(query->Copy(), names, types);
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
      auto w = cat.Write(*table, std::move(query), false, ctx.session.WriteOnNodes());
      ctx.outcome.rows_written = w.rows_written;
      return handler.OnStatus(fmt::format("created table {} with {} (snapshot {})", table->QualifiedName(),
                                          Plural(w.rows_written, "row", "rows"), w.snapshot.id));
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

void Insert(duckdb::unique_ptr<duckdb::SQLStatement>& statement, StatementContext& ctx) {
  auto& stmt = *statement;
  auto& gov = ctx.governor;
  auto& cat = ctx.catalog;
  auto& handler = ctx.handler;
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
  auto* given = insert.select_statement.get();
  auto query = gov.GuardWrite(table, std::move(insert.select_statement), false);
  // A write checked row by row (the caller's row filter, through error(), which the
  // nodes' engines do not allow) is computed here.
  auto elsewhere = query.get() == given ? ctx.session.WriteOnNodes() : lake::ParquetWrite{};
  auto w = cat.Write(table, std::move(query), false, elsewhere);
  ctx.outcome.rows_written = w.rows_written;
  return handler.OnStatus(fmt::format("inserted {} into {} (snapshot {})",
                                      Plural(w.rows_written, "row", "rows"), table.QualifiedName(),
                                      w.snapshot.id));
}

void Drop(duckdb::unique_ptr<duckdb::SQLStatement>& statement, StatementContext& ctx) {
  auto& stmt = *statement;
  auto& gov = ctx.governor;
  auto& cat = ctx.catalog;
  auto& handler = ctx.handler;
  auto& drop = stmt.Cast<duckdb::DropStatement>();
  bool if_exists = drop.info->if_not_found == duckdb::OnEntryNotFound::RETURN_NULL;
  if (drop.info->type == duckdb::CatalogType::SCHEMA_ENTRY) {
    return DropDatabase(ctx, drop.info->name, if_exists, drop.info->cascade);
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
    return handler.OnStatus(fmt::format("table {}.{} does not exist", drop.info->schema, drop.info->name));
  }
  cat.DropTable(drop.info->schema, drop.info->name, if_exists, [&](const catalog::Catalog::Dropped& dropped) {
    gov.ForgetDropped(dropped, fmt::format("DROP TABLE {}.{}", drop.info->schema, drop.info->name));
  });
  return handler.OnStatus(fmt::format("dropped table {}.{}",
                                      catalog::CheckName(drop.info->schema, "database"),
                                      catalog::CheckName(drop.info->name, "table")));
}

struct EngineHandler {
  void (*run)(Statement&, StatementContext&);
  bool query;  // its rows may go to a Parquet file
};

// One handler per statement type Tarn lets through.
const std::map<duckdb::StatementType, EngineHandler>& EngineHandlers() {
  static const std::map<duckdb::StatementType, EngineHandler> handlers = {
      {duckdb::StatementType::SELECT_STATEMENT, {Select, true}},
      {duckdb::StatementType::EXPLAIN_STATEMENT, {Explain, true}},
      {duckdb::StatementType::CREATE_STATEMENT, {Create, false}},
      {duckdb::StatementType::INSERT_STATEMENT, {Insert, false}},
      {duckdb::StatementType::DROP_STATEMENT, {Drop, false}},
      {duckdb::StatementType::COPY_STATEMENT, {CopyTo, false}},
      {duckdb::StatementType::DELETE_STATEMENT, {DeleteRows, false}},
      {duckdb::StatementType::UPDATE_STATEMENT, {UpdateRows, false}},
      {duckdb::StatementType::MERGE_INTO_STATEMENT, {MergeRows, false}},
  };
  return handlers;
}

class EngineFamily : public StatementFamily {
 public:
  bool Run(const std::string& text, StatementContext& ctx) override {
    // CREATE TABLE ... WITH (properties): the catalog gives them to the table the statement creates.
    auto with = TakeCreateWith(text);
    struct Forget {
      catalog::Catalog& catalog;
      ~Forget() { catalog.SetNewTableProperties({}); }
    } forget{ctx.catalog};
    if (with) {
      catalog::CheckProperties(with->properties);
      ctx.catalog.SetNewTableProperties(with->properties);
    }
    auto statements = engine::Parse(with ? with->statement : text);
    if (statements.size() != 1) throw Error::InvalidArgument("expected one statement");
    auto type = statements[0]->type;
    ctx.outcome.type = duckdb::StatementTypeToString(type);
    auto it = EngineHandlers().find(type);
    if (it == EngineHandlers().end()) {
      throw governance::Denied(fmt::format(
          "{} statements are not allowed: Tarn runs queries and its catalog and governance statements (see "
          "docs/sql.md)",
          duckdb::StatementTypeToString(type)));
    }
    if (!it->second.query) ctx.NoParquet();
    it->second.run(statements[0], ctx);
    return true;
  }
};

}  // namespace

std::unique_ptr<StatementFamily> EngineStatements() {
  return std::make_unique<EngineFamily>();
}

}  // namespace tarn::session
