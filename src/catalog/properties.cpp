// Table properties (catalog.h, TableProperties and Catalog::SetProperties).
#include "catalog/catalog.h"
#include "common/error.h"

namespace tarn::catalog {

namespace {

// "134217728", "128MB", "1 GB": bytes (kInvalidArgument below 1 MB or not a size).
int64_t ParseSize(const std::string& text) {
  size_t used = 0;
  int64_t n = 0;
  try {
    n = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string unit = duckdb::StringUtil::Upper(duckdb::StringUtil::Replace(text.substr(used), " ", ""));
  const std::map<std::string, int64_t> kUnits = {
      {"", 1}, {"B", 1}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}};
  auto it = kUnits.find(unit);
  if (used == 0 || it == kUnits.end() || n < 1 || n > (int64_t{1} << 50) / it->second ||
      n * it->second < (1 << 20)) {
    throw Error::InvalidArgument("'{}' is not a file size of at least 1MB: write e.g. '128MB' or '1GB'",
                                 text.substr(0, 40));
  }
  return n * it->second;
}

}  // namespace

const std::vector<TableProperty>& TableProperties() {
  static const std::vector<TableProperty> kProperties = {
      {kWriteMode,
       kCopyOnWrite,
       "how DELETE, UPDATE and MERGE change rows: copy-on-write rewrites each file holding a changed row; "
       "merge-on-read writes the changed rows' positions to a delete file that reads apply",
       {kCopyOnWrite, kMergeOnRead}},
      {"target_file_size",
       "128MB",
       "the size OPTIMIZE writes files of: bytes, or with KB, MB or GB (at least 1MB)",
       {},
       [](const std::string& v) { ParseSize(v); }},
      {kEncrypted,
       "false",
       "whether new data files are encrypted at rest (Parquet modular encryption under the keyring's current "
       "key)",
       {"false", "true"}},
      {kExpireAfter,
       "never",
       "after each commit, forget snapshots older than this ('7 days') except the current one, as EXPIRE "
       "SNAPSHOTS does",
       {},
       [](const std::string& v) {
         if (v != "never") TimeBefore(v);
       }},
  };
  return kProperties;
}

namespace {

const TableProperty& Find(const std::string& key) {
  for (auto& p : TableProperties()) {
    if (key == p.key) return p;
  }
  std::string known;
  for (auto& p : TableProperties()) known += (known.empty() ? "" : ", ") + std::string(p.key);
  throw Error::InvalidArgument("unknown table property '{}': the properties are {}", key.substr(0, 64),
                               known);
}

}  // namespace

std::string Property(const TableInfo& table, const std::string& key) {
  auto it = table.properties.find(key);
  return it != table.properties.end() ? it->second : Find(key).default_value;
}

int64_t TargetFileSize(const TableInfo& table) {
  return ParseSize(Property(table, "target_file_size"));
}

void Catalog::AutoExpire(const TableInfo& table) {
  std::string after = Property(table, kExpireAfter);
  if (after == "never") return;
  try {
    ExpireSnapshots(table, TimeBefore(after), 1);
  } catch (const std::exception&) {
    // The commit stands; an expiry that failed is done by the next commit (or EXPIRE SNAPSHOTS).
  }
}

void CheckProperties(const std::map<std::string, std::string>& properties) {
  for (auto& [key, value] : properties) {
    auto& property = Find(key);
    if (!property.values.empty() &&
        std::find(property.values.begin(), property.values.end(), value) == property.values.end()) {
      std::string allowed;
      for (auto& v : property.values) allowed += (allowed.empty() ? "'" : ", '") + v + "'";
      throw Error::InvalidArgument("table property {} takes {}, not '{}'", key, allowed, value.substr(0, 64));
    }
    if (property.check) property.check(value);
  }
}

TableInfo Catalog::SetProperties(const TableInfo& table,
                                 const std::map<std::string, std::optional<std::string>>& changes) {
  if (table.kind != TableKind::kManaged) {
    throw Error::InvalidArgument("{} is an external table: properties belong to managed tables",
                                 table.QualifiedName());
  }
  std::map<std::string, std::string> set;
  for (auto& [key, value] : changes) {
    if (value) {
      set[key] = *value;
    } else {
      Find(key);
    }
  }
  CheckProperties(set);
  store_.Transaction([&] {
    auto rows = store_.Query("SELECT properties_json FROM tables WHERE id = ?", {table.id});
    if (rows.empty()) throw Error::NotFound("table {} does not exist", table.QualifiedName());
    auto properties = nlohmann::json::parse(rows[0].Str(0));
    for (auto& [key, value] : changes) {
      if (value) {
        properties[key] = *value;
      } else {
        properties.erase(key);
      }
    }
    store_.Execute("UPDATE tables SET properties_json = ? WHERE id = ?", {properties.dump(), table.id});
  });
  return GetTable(table.database, table.name);
}

}  // namespace tarn::catalog
