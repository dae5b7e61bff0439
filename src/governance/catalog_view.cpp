// The caller's view of the catalog: what SHOW, DESCRIBE, information_schema, the REST
// catalog routes and the shell's completion show. One place decides it, so that no
// front end shows more than another.
#include <algorithm>

#include "common/error.h"
#include "governance/governance.h"
#include "governance/internal.h"

namespace tarn::governance {

std::vector<std::string> Governor::VisibleDatabases() {
  if (!policy_) BeginStatement();
  std::vector<std::string> out;
  for (auto& db : catalog_.ListDatabases()) {
    auto id = catalog_.FindDatabase(db);
    bool visible = id && EvaluateDatabase(*policy_, subject_, *id).visible;
    if (!visible) {
      auto tables = catalog_.ListTables(db);
      visible = std::any_of(tables.begin(), tables.end(), [&](const auto& t) { return Access(t).visible; });
    }
    if (visible) out.push_back(db);
  }
  return out;
}

std::vector<catalog::TableInfo> Governor::VisibleTables(const std::string& database) {
  RequireDatabase(database, "", "");
  std::vector<catalog::TableInfo> out;
  for (auto& t : catalog_.ListTables(database)) {
    if (Access(t).visible) out.push_back(t);
  }
  return out;
}

catalog::TableInfo Governor::VisibleTable(const std::string& database, const std::string& table) {
  auto info = RequireTable(database, table, "DESCRIBE", "DESCRIBE");
  auto access = Access(info);
  if (!access.describe_all) {
    auto readable = access.ReadableColumns();
    std::erase_if(info.schema, [&](const catalog::Column& c) { return !readable.count(c.name); });
  }
  return info;
}

std::set<std::string> Governor::StatsColumns(const catalog::TableInfo& table) {
  auto access = Access(table);
  std::set<std::string> out;
  if (!access.ReadsAllRows()) return out;
  for (auto& c : access.ReadableColumns()) {
    if (!access.masks.count(c)) out.insert(c);
  }
  return out;
}

TableView Governor::DescribeTable(const std::string& database, const std::string& table) {
  TableView view;
  view.table = VisibleTable(database, table);
  auto stats_columns = StatsColumns(view.table);
  // Statistics and the snapshot's counts tell about every row and every value of a
  // column: only for a caller who reads them all.
  if (!view.table.snapshot_id || stats_columns.empty()) return view;
  view.snapshot = catalog_.GetSnapshot(*view.table.snapshot_id);
  auto stats = view.snapshot->stats.value("columns", nlohmann::json::object());
  for (auto& c : view.table.schema) {
    // Kept under the name files store the column by (a rename keeps them).
    if (stats_columns.count(c.name) && stats.contains(c.StoredName()))
      view.stats[c.name] = stats[c.StoredName()];
  }
  view.snapshot->stats = nlohmann::json::object();  // shown per column, as filtered above
  return view;
}

}  // namespace tarn::governance
