// CREATE DATA FILTER, DROP DATA FILTER and SHOW DATA FILTERS.
#include <algorithm>

#include "common/error.h"
#include "common/util.h"
#include "governance/policy_statements.h"

namespace tarn::governance {

namespace {

using engine::TokenReader;

// Whether the caller may see data filter `name` on `table` (nullopt: dropped): see
// FindFilter().
bool FilterVisible(StatementContext& ctx, const std::string& name, const DataFilter& filter,
                   const std::optional<catalog::TableInfo>& table) {
  if (ctx.subject().admin) return true;
  if (!table) return false;
  const Policy& policy = ctx.policy();
  bool granted = std::any_of(policy.grants.begin(), policy.grants.end(), [&](const Grant& g) {
    return g.object_kind == ObjectKind::kDataFilter && g.object_name == name && ctx.subject().Is(g.grantee);
  });
  return granted || filter.created_by == ctx.principal().user || ctx.Access(*table).owner;
}

}  // namespace

std::pair<const DataFilter*, std::optional<catalog::TableInfo>> FindFilter(StatementContext& ctx,
                                                                           const std::string& name) {
  const Policy& policy = ctx.policy();
  auto it = policy.filters.find(name);
  std::optional<catalog::TableInfo> table;
  if (it != policy.filters.end()) table = ctx.catalog().FindTableById(it->second.table_id);
  if (it == policy.filters.end() || !FilterVisible(ctx, name, it->second, table)) {
    throw Error::NotFound("data filter {} does not exist", name);
  }
  return {&it->second, table};
}

bool ExecuteCreateDataFilter(StatementContext& ctx) {
  TokenReader& r = ctx.reader;
  std::string name = Name(r, "data filter", kFilterUsage);
  r.ExpectWord("ON", kFilterUsage);
  std::string db, tname;
  r.QualifiedName(db, tname, kFilterUsage);
  auto table = ctx.governor.RequireTable(db, tname, "DESCRIBE", "CREATE DATA FILTER");
  ctx.RequireOwner(table, "CREATE DATA FILTER");
  std::optional<std::vector<std::string>> columns;
  bool excluding = false;
  if (r.AcceptWord("COLUMNS")) {
    columns = NameList(r, kFilterUsage);
  } else if (r.AcceptWord("EXCLUDING")) {
    excluding = true;
    columns = NameList(r, kFilterUsage);
  }
  std::string row_filter;
  if (r.AcceptWords({"ROW", "FILTER"})) {
    row_filter = r.Rest();
    if (row_filter.empty()) r.Fail(kFilterUsage);
  } else {
    r.ExpectEnd(kFilterUsage);
  }
  if (columns) ctx.RequireColumns(table, *columns);
  if (!row_filter.empty()) ctx.TryExpression(table, row_filter, "the row filter", true);
  if (ctx.policy().filters.count(name)) throw Error::AlreadyExists("data filter {} already exists", name);
  ctx.Change([&] {
    ctx.store().Execute(
        "INSERT INTO data_filters (name, table_id, columns_json, columns_except, row_filter, created_by, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        {name, table.id, columns ? store::Param(Json(*columns)) : store::Param(nullptr),
         int64_t{excluding ? 1 : 0}, row_filter.empty() ? store::Param(nullptr) : store::Param(row_filter),
         ctx.me, NowUtc()});
  });
  ctx.out.status = fmt::format("created data filter {} on {}", name, table.QualifiedName());
  return true;
}

bool ExecuteDropDataFilter(StatementContext& ctx) {
  TokenReader& r = ctx.reader;
  bool if_exists = r.AcceptWords({"IF", "EXISTS"});
  std::string name = Name(r, "data filter", "DROP DATA FILTER [IF EXISTS] name");
  r.ExpectEnd("DROP DATA FILTER [IF EXISTS] name");
  const DataFilter* filter = nullptr;
  std::optional<catalog::TableInfo> table;
  try {
    std::tie(filter, table) = FindFilter(ctx, name);
  } catch (const Error& e) {
    if (!if_exists || e.code() != ErrorCode::kNotFound) throw;
    ctx.out.status = "data filter " + name + " does not exist";
    return true;
  }
  if (!ctx.subject().admin && filter->created_by != ctx.me && !(table && ctx.Access(*table).owner)) {
    throw Denied("DROP DATA FILTER is for its creator, the table's owner or an administrator");
  }
  ctx.Change([&] {
    ctx.store().Execute("DELETE FROM grants WHERE object_kind = 'data_filter' AND object_name = ?", {name});
    ctx.store().Execute("DELETE FROM data_filters WHERE name = ?", {name});
  });
  ctx.out.status = "dropped data filter " + name;
  return true;
}

bool ExecuteShowDataFilters(StatementContext& ctx) {
  TokenReader& r = ctx.reader;
  std::optional<catalog::TableInfo> on;
  if (r.AcceptWord("ON")) {
    std::string db, t;
    r.AcceptWord("TABLE");
    r.QualifiedName(db, t, "SHOW DATA FILTERS [ON db.table]");
    on = ctx.governor.RequireTable(db, t, "DESCRIBE", "SHOW DATA FILTERS");
  }
  r.ExpectEnd("SHOW DATA FILTERS [ON db.table]");
  StatementOutput& out = ctx.out;
  out.names = {"name", "table", "columns", "row_filter", "created_by"};
  for (auto& [name, f] : ctx.policy().filters) {
    if (on && f.table_id != on->id) continue;
    auto table = ctx.catalog().FindTableById(f.table_id);
    if (!table) continue;
    if (!FilterVisible(ctx, name, f, table)) continue;
    std::string cols = f.columns ? (f.columns_except ? "EXCLUDING (" : "(") + Joined(*f.columns) + ")" : "*";
    out.rows.push_back(
        {Text(name), Text(table->QualifiedName()), Text(cols),
         f.row_filter.empty() ? duckdb::Value(duckdb::LogicalType::VARCHAR) : Text(f.row_filter),
         Text(f.created_by)});
  }
  return true;
}

}  // namespace tarn::governance
