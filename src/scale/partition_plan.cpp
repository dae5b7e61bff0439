#include "scale/partition_plan.h"

#include <fmt/format.h>
#include <duckdb/parser/expression/columnref_expression.hpp>
#include <duckdb/parser/query_node/select_node.hpp>
#include <duckdb/parser/result_modifier.hpp>
#include <duckdb/parser/statement/select_statement.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "common/error.h"
#include "engine/engine.h"
#include "scale/node_scratch.h"

namespace tarn::scale {

namespace fs = std::filesystem;

namespace {

constexpr const char* kBucketColumn = "__tarn_bucket";
constexpr const char* kSplitInput = "tarn_split.input";  // the map task's one table
constexpr const char* kParts = "tarn_split.parts";       // the merge task's one table

duckdb::SelectStatement& OneQuery(std::vector<duckdb::unique_ptr<duckdb::SQLStatement>>& statements) {
  if (statements.size() != 1 || statements[0]->type != duckdb::StatementType::SELECT_STATEMENT)
    throw Error::InvalidArgument("only a query can be split by key");
  return statements[0]->Cast<duckdb::SelectStatement>();
}

// The alias a planned scan (a table reference) carries.
std::string AliasOf(const std::string& scan) {
  auto statements = engine::Parse("SELECT * FROM " + scan);
  auto& node = OneQuery(statements).node;
  if (node->type != duckdb::QueryNodeType::SELECT_NODE)
    throw Error::Internal("a planned scan is not a SELECT");
  return node->template Cast<duckdb::SelectNode>().from_table->alias;
}

std::string ListOf(const std::vector<std::string>& files) {
  std::string out;
  for (auto& f : files) out += (out.empty() ? "" : ", ") + engine::QuoteString(f);
  return "[" + out + "]";
}

nlohmann::json Files(const std::map<std::string, std::string>& files) {
  auto out = nlohmann::json::array();
  for (auto& [path, table] : files) out.push_back({{"path", path}, {"table", table}});
  return out;
}

}  // namespace

// The merge reads only the result's columns: an ORDER BY term that is one of the
// query's select-list expressions (o.customer, sum(x)) or its alias orders by that
// result column instead.
void PartitionPlan::OrderByResult(const duckdb::QueryNode& node, duckdb::OrderModifier& order) const {
  if (node.type != duckdb::QueryNodeType::SELECT_NODE) return;
  auto& list = node.Cast<duckdb::SelectNode>().select_list;
  if (list.size() != query_.columns.size()) return;
  for (auto& term : order.orders) {
    auto& e = *term.expression;
    for (size_t i = 0; i < list.size(); i++) {
      bool alias = e.type == duckdb::ExpressionType::COLUMN_REF &&
                   !e.Cast<duckdb::ColumnRefExpression>().IsQualified() &&
                   e.Cast<duckdb::ColumnRefExpression>().GetColumnName() == list[i]->alias;
      if (alias || e.Equals(*list[i])) {
        term.expression = duckdb::make_uniq<duckdb::ColumnRefExpression>(query_.columns[i]);
        break;
      }
    }
  }
}

int64_t ChooseBuckets(int64_t input_bytes, int64_t task_memory, int64_t at_least) {
  int64_t memory = std::max<int64_t>(task_memory, 1 << 20);
  int64_t n = (6 * std::max<int64_t>(input_bytes, 0) + memory - 1) / memory;
  return std::clamp<int64_t>(std::max(n, at_least), 1, 4096);
}

PartitionPlan::PartitionPlan(const session::PlannedQuery& query, int64_t buckets, fs::path dir,
                             std::string prefix, size_t map_parts)
    : query_(query),
      buckets_(std::clamp<int64_t>(buckets, 1, 4096)),
      dir_(std::move(dir)),
      prefix_(std::move(prefix)) {
  if (!query_.parts_key.empty()) {  // no map stage: each bucket task reads a part of the table's files
    if (!query_.partition_keys.empty())
      throw Error::InvalidArgument("a statement is split by keys or by the parts of a table, not both");
    if (query_.parts_of) parts_ = query_.parts_of(query_.parts_key, static_cast<size_t>(buckets_));
    if (parts_.empty()) parts_.push_back(query_.reads);
    buckets_ = static_cast<int64_t>(parts_.size());
  }
  for (auto& [key, columns] : query_.partition_keys) {
    if (columns.empty()) throw Error::InvalidArgument("table {} is split by no key column", key);
    for (auto& c : columns) {
      if (c.empty() || c.size() > 255)
        throw Error::InvalidArgument("a key column of {} is empty or longer than 255 characters", key);
    }
    split_.push_back(key);
    std::vector<governance::PlannedReads> parts;
    if (query_.parts_of && map_parts > 1) parts = query_.parts_of(key, map_parts);
    if (parts.empty()) {  // the table whole, and only its files (all, for a table read as of a time)
      std::map<std::string, std::string> files;
      for (auto& [file, table] : query_.reads.files) {
        if (table == key) files[file] = table;
      }
      parts.push_back({{{key, query_.reads.scans.at(key)}}, files.empty() ? query_.reads.files : files});
    }
    for (auto& p : parts) maps_.push_back({split_.size() - 1, std::move(p), {}, nullptr});
  }
  // The top-level ORDER BY and LIMIT move to the merge.
  auto statements = engine::Parse(query_.sql);
  auto& node = *OneQuery(statements).node;
  duckdb::vector<duckdb::unique_ptr<duckdb::ResultModifier>> kept, moved;
  for (auto& m : node.modifiers) {
    bool last = m->type == duckdb::ResultModifierType::ORDER_MODIFIER ||
                m->type == duckdb::ResultModifierType::LIMIT_MODIFIER ||
                m->type == duckdb::ResultModifierType::LIMIT_PERCENT_MODIFIER;
    (last ? moved : kept).push_back(std::move(m));
  }
  node.modifiers = std::move(kept);
  needs_merge_ = !moved.empty();
  for (auto& m : moved) {
    if (m->type == duckdb::ResultModifierType::ORDER_MODIFIER)
      OrderByResult(node, m->Cast<duckdb::OrderModifier>());
  }
  bucket_sql_ = statements[0]->ToString();
  auto merge = engine::Parse(std::string("SELECT * FROM ") + kParts);
  OneQuery(merge).node->modifiers = std::move(moved);
  merge_sql_ = merge[0]->ToString();
}

fs::path PartitionPlan::MapDir(size_t i) const {
  return dir_ / fmt::format("{}.m{}", prefix_, i) / "out";
}

fs::path PartitionPlan::BucketResult(int64_t b) const {
  return dir_ / fmt::format("{}.b{}", prefix_, b) / "result.parquet";
}

std::string PartitionPlan::MapIdentity(size_t m) const {
  const std::string& key = split_[maps_.at(m).table];
  nlohmann::json id = {{"scan", maps_[m].reads.scans.at(key)},
                       {"files", maps_[m].reads.files},
                       {"keys", query_.partition_keys.at(key)},
                       {"buckets", buckets_}};
  return id.dump();
}

void PartitionPlan::ReuseMap(size_t m, fs::path dir, nlohmann::json node_files) {
  maps_.at(m).reused = std::move(dir);
  maps_[m].node_files = std::move(node_files);
}

// The worker's report is checked as any input: plain names, an https URL, a
// certificate hash and a capability of 64 hex digits.
void PartitionPlan::SetNodeFiles(size_t m, nlohmann::json node_files) {
  auto hex64 = [](const std::string& s) {
    return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
  };
  try {
    bool ok = node_files.at("url").get<std::string>().starts_with("https://") &&
              hex64(node_files.at("sha256").get<std::string>()) &&
              hex64(node_files.at("capability").get<std::string>()) &&
              IsScratchName(node_files.at("dir").get<std::string>());
    if (auto node = node_files.value("node", ""); !node.empty()) ok = ok && IsScratchName(node);
    for (auto& f : node_files.at("files"))
      ok = ok && IsScratchFile(f.at("name").get<std::string>()) && f.at("bytes").get<int64_t>() >= 0;
    if (!ok) throw Error::Internal("map task {} reported malformed node files", m);
  } catch (const nlohmann::json::exception& e) {
    throw Error::Internal("map task {} reported malformed node files: {}", m, e.what());
  }
  maps_.at(m).node_files = std::move(node_files);
}

void PartitionPlan::Forget(size_t m) {
  maps_.at(m).reused.clear();
  maps_[m].node_files = nullptr;
}

std::optional<size_t> PartitionPlan::MapNamed(const std::string& name) const {
  for (size_t m = 0; m < maps_.size(); m++)
    if (name == fmt::format("{}.m{}", prefix_, m)) return m;
  return std::nullopt;
}

fs::path PartitionPlan::MapOutput(size_t m) const {
  return maps_.at(m).reused.empty() ? MapDir(m) : maps_[m].reused;
}

std::vector<PlannedTask> PartitionPlan::MapTasks() const {
  std::vector<PlannedTask> out;
  for (size_t m = 0; m < maps_.size(); m++) {
    if (!maps_[m].reused.empty()) continue;
    const std::string& key = split_[maps_[m].table];
    std::string keys;
    for (auto& c : query_.partition_keys.at(key))
      keys += (keys.empty() ? "" : ", ") +
              fmt::format("coalesce(CAST({} AS VARCHAR), '')", engine::QuoteIdent(c));
    auto sql = fmt::format("SELECT *, CAST(hash({}) % {} AS BIGINT) AS {} FROM {}", keys, buckets_,
                           kBucketColumn, kSplitInput);
    out.push_back({fmt::format("{}.m{}", prefix_, m),
                   {{"sql", sql},
                    {"scans", {{kSplitInput, maps_[m].reads.scans.at(key)}}},
                    {"files", Files(maps_[m].reads.files)},
                    {"output", MapDir(m).string()},
                    {"partition_by", kBucketColumn}}});
  }
  return out;
}

// Split by parts: bucket b reads part b of the table's files, everything else whole.
std::vector<PlannedTask> PartitionPlan::PartTasks() const {
  std::set<std::string> divided;  // the table's files, whichever part has them
  for (auto& part : parts_)
    for (auto& [file, table] : part.files) divided.insert(file);
  std::vector<PlannedTask> out;
  for (int64_t b = 0; b < buckets_; b++) {
    auto scans = query_.reads.scans;
    scans[query_.parts_key] = parts_[b].scans.at(query_.parts_key);
    std::map<std::string, std::string> files;
    for (auto& [file, table] : query_.reads.files)
      if (!divided.count(file)) files[file] = table;
    for (auto& [file, table] : parts_[b].files) files[file] = table;
    out.push_back(BucketTask(b, scans, files));
  }
  return out;
}

PlannedTask PartitionPlan::BucketTask(int64_t b, const std::map<std::string, std::string>& scans,
                                      const std::map<std::string, std::string>& files,
                                      nlohmann::json fetch) const {
  PlannedTask task{fmt::format("{}.b{}", prefix_, b),
                   {{"sql", bucket_sql_},
                    {"scans", scans},
                    {"files", Files(files)},
                    {"output", BucketResult(b).string()}}};
  if (!fetch.empty()) task.body["fetch"] = std::move(fetch);
  return task;
}

namespace {

// The bucket a shuffle file is of, from its folder's name (__tarn_bucket=3); -1 if none.
int64_t BucketOf(const fs::path& file, int64_t buckets) {
  std::string part = file.parent_path().filename().string();
  std::string tag = std::string(kBucketColumn) + "=";
  if (!part.starts_with(tag)) return -1;
  int64_t b = std::stoll(part.substr(tag.size()));
  if (b < 0 || b >= buckets) throw Error::Internal("a map task wrote bucket {} of {}", b, buckets);
  return b;
}

}  // namespace

std::vector<PlannedTask> PartitionPlan::BucketTasks() const {
  if (!parts_.empty()) return PartTasks();
  // split table i -> bucket -> its files, from all of its map tasks
  std::vector<std::map<int64_t, std::vector<std::string>>> written(split_.size());
  std::map<int64_t, nlohmann::json> fetch;  // bucket -> the files it fetches from nodes
  for (size_t m = 0; m < maps_.size(); m++) {
    size_t i = maps_[m].table;
    if (const auto& node = maps_[m].node_files; !node.is_null()) {
      for (auto& f : node.at("files")) {
        auto name = f.at("name").get<std::string>();
        fs::path path = MapOutput(m) / name;  // its name in the plan; the worker fetches it
        int64_t b = BucketOf(path, buckets_);
        if (b < 0) continue;
        written[i][b].push_back(path.string());
        fetch[b].push_back({{"path", path.string()},
                            {"url", node.at("url")},
                            {"sha256", node.at("sha256")},
                            {"dir", node.at("dir")},
                            {"capability", node.at("capability")},
                            {"file", name}});
      }
      continue;
    }
    std::error_code ec;
    for (auto& entry : fs::recursive_directory_iterator(MapOutput(m), ec)) {
      if (!entry.is_regular_file()) continue;
      if (int64_t b = BucketOf(entry.path(), buckets_); b >= 0)
        written[i][b].push_back(entry.path().string());
    }
    if (ec) throw Error::Io("cannot list the shuffle files in {}: {}", MapOutput(m).string(), ec.message());
  }
  std::vector<PlannedTask> out;
  for (int64_t b = 0; b < buckets_; b++) {
    auto scans = query_.reads.scans;
    auto files = query_.reads.files;
    for (size_t i = 0; i < split_.size(); i++) {
      const auto& key = split_[i];
      auto alias = engine::QuoteIdent(AliasOf(scans.at(key)));
      auto& mine = written[i][b];
      std::sort(mine.begin(), mine.end());
      if (mine.empty()) {  // no row of this table hashes here: none, with the table's columns
        scans[key] = fmt::format("(SELECT * FROM {} LIMIT 0) AS {}", scans.at(key), alias);
        continue;
      }
      scans[key] =
          fmt::format("(SELECT * EXCLUDE ({}) FROM read_parquet({}, hive_partitioning = false)) AS {}",
                      kBucketColumn, ListOf(mine), alias);
      for (auto& f : mine) files[f] = key + " (bucket " + std::to_string(b) + ")";
    }
    out.push_back(BucketTask(b, scans, files, fetch.count(b) ? fetch[b] : nlohmann::json::array()));
  }
  return out;
}

std::vector<fs::path> PartitionPlan::BucketResults() const {
  std::vector<fs::path> out;
  for (int64_t b = 0; b < buckets_; b++) out.push_back(BucketResult(b));
  return out;
}

PlannedTask PartitionPlan::MergeTask() const {
  std::vector<std::string> results;
  std::map<std::string, std::string> files;
  for (int64_t b = 0; b < buckets_; b++) {
    results.push_back(BucketResult(b).string());
    files[results.back()] = "the buckets' results";  // one scan reads them all
  }
  return {prefix_ + ".merge",
          {{"sql", merge_sql_},
           {"scans", {{kParts, fmt::format("read_parquet({}) AS parts", ListOf(results))}}},
           {"files", Files(files)},
           {"output", (dir_ / (prefix_ + ".merge") / "result.parquet").string()}}};
}

int64_t PartitionPlan::ShuffleBytes() const {
  int64_t total = 0;
  for (size_t m = 0; m < maps_.size(); m++) {
    if (!maps_[m].reused.empty()) continue;
    if (!maps_[m].node_files.is_null()) {
      for (auto& f : maps_[m].node_files.at("files")) total += f.at("bytes").get<int64_t>();
      continue;
    }
    std::error_code ec;
    for (auto& entry : fs::recursive_directory_iterator(MapDir(m), ec)) {
      if (entry.is_regular_file(ec)) total += static_cast<int64_t>(entry.file_size(ec));
    }
  }
  return total;
}

}  // namespace tarn::scale
