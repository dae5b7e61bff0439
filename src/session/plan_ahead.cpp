// Planning later statements of a run ahead of their turn, for an offload that computes
// them in the tasks of the statement running now (PlannedQuery::with), and the split
// a statement's Partitioning declares.
#include <duckdb/parser/parsed_data/create_table_info.hpp>
#include <duckdb/parser/statement/create_statement.hpp>
#include <duckdb/parser/statement/select_statement.hpp>

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "engine/engine.h"
#include "governance/planned_resolver.h"
#include "session/session.h"

namespace tarn::session {

namespace {

// The tables a Partitioning splits, without their keys.
std::set<std::string> Tables(const Partitioning& p) {
  std::set<std::string> out;
  for (auto& [table, keys] : p.keys) out.insert(table);
  return out;
}

}  // namespace

std::string Fingerprint(const PlannedQuery& q) {
  nlohmann::json j = {{"sql", q.sql},
                      {"scans", q.reads.scans},
                      {"files", q.reads.files},
                      {"columns", q.columns},
                      {"keys", q.partition_keys},
                      {"buckets", q.buckets},
                      {"parts_key", q.parts_key},
                      {"field_ids", q.field_ids},
                      {"parts_ok", q.parts_ok}};
  return j.dump();
}

void Session::DeclareSplit(PlannedQuery& planned, const Partitioning& p) const {
  if (const std::string& name = p.parts_of; !name.empty()) {
    auto dot = name.find('.');
    planned.parts_key = dot == std::string::npos
                            ? governance::TempTableKey(name)
                            : governance::ResolverKey(name.substr(0, dot), name.substr(dot + 1));
    if (!planned.reads.scans.count(planned.parts_key))
      throw Error::InvalidArgument("statement {} is split by the parts of {}, which it does not read",
                                   planned.index + 1, name.substr(0, 128));
  }
  for (auto& [name, keys] : p.keys) {
    auto dot = name.find('.');
    std::string key =
        dot == std::string::npos ? "" : governance::ResolverKey(name.substr(0, dot), name.substr(dot + 1));
    if (!planned.reads.scans.count(key))
      throw Error::InvalidArgument("statement {} is split by the key of {}, which it does not read",
                                   planned.index + 1, name.substr(0, 128));
    planned.partition_keys[key] = keys;
  }
  planned.buckets = p.buckets;
}

// Only statements that make a temporary table from a query split by the keys of the
// same tables as `now` are candidates; one that cannot be planned yet (it reads a
// temporary table not made yet, or what only this server can) is left to its turn.
// The governor's record of the statement running now is set aside meanwhile, so that
// its audit and its plan stay its own.
std::vector<PlannedQuery> Session::PlanAhead(const PlannedQuery& now) {
  std::vector<PlannedQuery> out;
  auto mine = partitioning_.find(now.index);
  if (mine == partitioning_.end() || mine->second.keys.empty() || !now.parts_ok) return out;
  for (size_t j = now.index + 1; j < script_.size(); j++) {
    auto it = partitioning_.find(j);
    if (it == partitioning_.end() || it->second.here || !it->second.parts_of.empty() ||
        Tables(it->second) != Tables(mine->second))
      continue;
    auto state = governor_->SetAside();
    try {
      if (auto q = PlanTempQuery(j, it->second)) out.push_back(std::move(*q));
    } catch (const std::exception&) {  // planned at its turn
    }
    governor_->Restore(std::move(state));
  }
  return out;
}

// As CreateTemp and RunOffloaded plan the statement at its turn: the pre-bind check,
// the query resolved and verified as the caller, its split; each split table's files
// divided into the offload's map parts now, while its governed reads are at hand.
std::optional<PlannedQuery> Session::PlanTempQuery(size_t index, const Partitioning& partitioning) {
  auto statements = engine::Parse(script_[index]);
  if (statements.size() != 1 || statements[0]->type != duckdb::StatementType::CREATE_STATEMENT)
    return std::nullopt;
  auto& info = *statements[0]->Cast<duckdb::CreateStatement>().info;
  if (info.type != duckdb::CatalogType::TABLE_ENTRY || !info.temporary) return std::nullopt;
  auto& table = info.Cast<duckdb::CreateTableInfo>();
  if (!table.query) return std::nullopt;
  governor_->CheckQuery(*table.query);
  PlannedQuery q;
  q.index = index;
  q.sql = table.query->ToString();
  std::vector<duckdb::LogicalType> types;
  conn_->Describe(table.query->Copy(), q.columns, types);
  q.reads = governor_->Planned();
  DeclareSplit(q, partitioning);
  q.parts_ok = true;
  size_t n = offload_->MapParts();
  std::map<std::string, std::vector<governance::PlannedReads>> parts;
  for (auto& [key, columns] : q.partition_keys) parts[key] = governor_->PlannedParts(key, n);
  q.parts_of = [parts = std::move(parts), n](const std::string& key, size_t k) {
    auto it = parts.find(key);
    return it != parts.end() && k == n ? it->second : std::vector<governance::PlannedReads>{};
  };
  return q;
}

}  // namespace tarn::session
