#include "catalog/scan.h"

#include <duckdb/parser/expression/cast_expression.hpp>
#include <duckdb/parser/expression/columnref_expression.hpp>
#include <duckdb/parser/expression/constant_expression.hpp>
#include <duckdb/parser/expression/star_expression.hpp>
#include <duckdb/parser/query_node/select_node.hpp>
#include <duckdb/parser/tableref/emptytableref.hpp>
#include <duckdb/parser/tableref/subqueryref.hpp>

#include <algorithm>
#include <filesystem>
#include <map>

#include "common/error.h"

namespace tarn::catalog {

namespace {

// The reader option for files encrypted under key `key_id` ("" for none).
std::string Encryption(const std::string& key_id) {
  if (key_id.empty()) return "";
  return ", encryption_config = {footer_key: " + engine::QuoteString(lake::Keyring::EngineKeyName(key_id)) +
         "}";
}

// The reader of `files` (encrypted under key `key_id` if it is not empty).
std::string ReaderCall(const TableInfo& table, const std::vector<std::string>& files,
                       const std::string& key_id = "") {
  std::string list;
  for (auto& f : files) list += (list.empty() ? "" : ", ") + engine::QuoteString(f);
  // A managed table's partition columns are in its files; only external ones take them from paths.
  bool hive_paths = table.kind == TableKind::kExternal && !table.partition_columns.empty();
  std::string hive = hive_paths ? "true" : "false";
  switch (table.format) {
    case lake::Format::kParquet:
      return "read_parquet([" + list + "], hive_partitioning = " + hive + Encryption(key_id) + ")";
    case lake::Format::kCsv: return "read_csv([" + list + "], hive_partitioning = " + hive + ")";
    case lake::Format::kJson: return "read_json([" + list + "], hive_partitioning = " + hive + ")";
  }
  throw Error::Internal("unknown format");
}

// SELECT CAST(<expr_i> AS type_i) AS name_i, ... FROM <from>, built as a tree.
duckdb::unique_ptr<duckdb::SelectStatement> Project(const std::vector<Column>& schema,
                                                    duckdb::unique_ptr<duckdb::TableRef> from) {
  auto node = duckdb::make_uniq<duckdb::SelectNode>();
  for (auto& c : schema) {
    auto type = duckdb::TransformStringToLogicalType(c.type);
    duckdb::unique_ptr<duckdb::ParsedExpression> child;
    if (from) {
      child = duckdb::make_uniq<duckdb::ColumnRefExpression>(c.name);
    } else {
      child = duckdb::make_uniq<duckdb::ConstantExpression>(duckdb::Value());
    }
    auto cast = duckdb::make_uniq<duckdb::CastExpression>(type, std::move(child));
    cast->alias = c.name;
    node->select_list.push_back(std::move(cast));
  }
  if (from) {
    node->from_table = std::move(from);
  } else {
    node->from_table = duckdb::make_uniq<duckdb::EmptyTableRef>();
    node->where_clause = duckdb::make_uniq<duckdb::ConstantExpression>(duckdb::Value::BOOLEAN(false));
  }
  auto stmt = duckdb::make_uniq<duckdb::SelectStatement>();
  stmt->node = std::move(node);
  return stmt;
}

// Whether a file written under schema `version` has exactly the table's columns under
// their names (then the reader's columns are the table's as they are).
bool Plain(const TableInfo& table, int64_t version) {
  if (table.kind != TableKind::kManaged) return true;  // an external table's columns are its files'
  if (version != table.schema_version) return false;
  return std::all_of(table.schema.begin(), table.schema.end(),
                     [](const Column& c) { return c.StoredName() == c.name; });
}

// Whether a managed table's files (written under `versions`; missing: the current
// one) need reading through Projection.
bool Evolved(const TableInfo& table, size_t files, const std::vector<int64_t>& versions) {
  if (table.kind != TableKind::kManaged) return false;
  for (size_t i = 0; i < files; i++) {
    if (!Plain(table, i < versions.size() ? versions[i] : table.schema_version)) return true;
  }
  return false;
}

// The table's columns as a file written under schema `version` holds them: a column
// added later is NULL, one widened later is cast, a renamed one read by its stored name.
std::string Projection(const TableInfo& table, int64_t version) {
  std::string out;
  for (auto& c : table.schema) {
    std::string e = engine::QuoteIdent(c.StoredName());
    if (c.added > version) {
      e = "CAST(NULL AS " + c.type + ")";
    } else if (c.retyped > version) {
      e = "CAST(" + e + " AS " + c.type + ")";
    }
    out += (out.empty() ? "" : ", ") + e + " AS " + engine::QuoteIdent(c.name);
  }
  return out;
}

}  // namespace

duckdb::unique_ptr<duckdb::SelectStatement> ParseSelect(const std::string& sql) {
  auto statements = engine::Parse(sql);
  if (statements.size() != 1 || statements[0]->type != duckdb::StatementType::SELECT_STATEMENT) {
    throw Error::Internal("Tarn's SQL did not parse as one SELECT");
  }
  return duckdb::unique_ptr_cast<duckdb::SQLStatement, duckdb::SelectStatement>(std::move(statements[0]));
}

duckdb::unique_ptr<duckdb::SelectStatement> RawScanStatement(const TableInfo& table,
                                                             const std::vector<std::string>& files) {
  return ParseSelect("SELECT * FROM " + ReaderCall(table, files));
}

duckdb::unique_ptr<duckdb::SelectStatement> CountStatement(const TableInfo& table,
                                                           const std::vector<std::string>& files) {
  return ParseSelect("SELECT count(*) FROM " + ReaderCall(table, files));
}

std::string ReadParquetSql(const TableInfo& table, const std::string& file, const std::string& key_id,
                           int64_t version) {
  std::string reader = "read_parquet(" + engine::QuoteString(file) + Encryption(key_id) + ")";
  if (Plain(table, version)) return reader;
  return "(SELECT " + Projection(table, version) + ", file_row_number FROM " + reader + ")";
}

std::string LiveRowsSql(const TableInfo& table, const std::vector<std::string>& files,
                        const std::vector<DeleteFile>& deletes, bool positions,
                        const std::vector<std::string>& keys, const std::vector<int64_t>& versions) {
  // Files under different keys or schema versions are read by one reader per group; a
  // row's place is then its file's index in `files` (__tarn_fi) and its row number (__tarn_rn).
  std::map<std::pair<std::string, int64_t>, std::vector<size_t>> groups;
  for (size_t i = 0; i < files.size(); i++) {
    groups[{i < keys.size() ? keys[i] : "", i < versions.size() ? versions[i] : table.schema_version}]
        .push_back(i);
  }
  std::string star = "r.*", file = "r.file_index", row = "r.file_row_number", source;
  if (groups.size() <= 1 && (groups.empty() || Plain(table, groups.begin()->first.second))) {
    source = ReaderCall(table, files, groups.empty() ? "" : groups.begin()->first.first);
  } else {
    star = "r.* EXCLUDE (__tarn_fi, __tarn_rn)", file = "r.__tarn_fi", row = "r.__tarn_rn";
    for (auto& [group_key, indexes] : groups) {
      auto& [key, version] = group_key;
      std::vector<std::string> group;
      std::string list;
      for (size_t i : indexes) {
        group.push_back(files[i]);
        list += fmt::format("{}{}", list.empty() ? "" : ", ", i);
      }
      source += fmt::format(
          "{}SELECT {}, ([{}])[s.file_index::BIGINT + 1] AS __tarn_fi, s.file_row_number AS __tarn_rn FROM "
          "{} s",
          source.empty() ? "" : " UNION ALL ", Projection(table, version), list,
          ReaderCall(table, group, key));
    }
    source = "(" + source + ")";
  }
  // The rows at the positions the delete files list are left out (merge-on-read).
  std::string sql = "SELECT " + star;
  if (positions) sql += fmt::format(", {} AS __tarn_file, {} AS __tarn_row", file, row);
  sql += " FROM " + source + " r";
  if (!deletes.empty()) {
    std::string targets, paths;
    for (auto& d : deletes) {
      targets += fmt::format("{}{}", targets.empty() ? "" : ", ", d.data_index);
      paths += (paths.empty() ? "" : ", ") + engine::QuoteString(d.path);
    }
    sql += fmt::format(
        " ANTI JOIN (SELECT ([{}])[file_index::BIGINT + 1] AS f, __tarn_pos FROM read_parquet([{}])) d ON "
        "d.f = {} "
        "AND d.__tarn_pos = {}",
        targets, paths, file, row);
  }
  return sql;
}

duckdb::unique_ptr<duckdb::TableRef> ScanRef(const TableInfo& table, const std::vector<std::string>& files,
                                             const std::vector<DeleteFile>& deletes, bool positions,
                                             const std::vector<std::string>& keys,
                                             const std::vector<int64_t>& versions) {
  bool encrypted = std::any_of(keys.begin(), keys.end(), [](const std::string& k) { return !k.empty(); });
  bool evolved = Evolved(table, files.size(), versions);
  duckdb::unique_ptr<duckdb::TableRef> ref;
  if (files.empty()) {
    ref = duckdb::make_uniq<duckdb::SubqueryRef>(Project(table.schema, nullptr));
  } else if (table.format == lake::Format::kParquet &&
             (positions || encrypted || evolved || !deletes.empty())) {
    ref = duckdb::make_uniq<duckdb::SubqueryRef>(
        ParseSelect(LiveRowsSql(table, files, deletes, positions, keys, versions)));
  } else if (table.format == lake::Format::kParquet) {
    auto select = RawScanStatement(table, files);
    ref = std::move(select->node->Cast<duckdb::SelectNode>().from_table);
  } else {
    auto raw = RawScanStatement(table, files);
    auto from = std::move(raw->node->Cast<duckdb::SelectNode>().from_table);
    ref = duckdb::make_uniq<duckdb::SubqueryRef>(Project(table.schema, std::move(from)));
  }
  ref->alias = table.name;
  return ref;
}

// --- Catalog: what a statement scans ----------------------------------------------

void Catalog::RegisterKeys(const std::vector<DataFile>& files) {
  for (auto& f : files) {
    if (f.key_id.empty()) continue;
    if (!keyring_) throw Error::Internal("an encrypted file and no keyring");
    keyring_->Register(internal_, f.key_id);
  }
}

std::string Catalog::WriteKey(const TableInfo& table) {
  if (Property(table, kEncrypted) != "true") return "";
  if (!keyring_) throw Error::Internal("an encrypted table and no keyring");
  std::string id = keyring_->CurrentId();
  keyring_->Register(internal_, id);
  return id;
}

std::vector<std::string> Catalog::FilesToScan(const TableInfo& table) {
  std::vector<std::string> out;
  if (table.kind == TableKind::kExternal) {
    for (auto& f : lake_.ListFiles(table.location, table.format)) out.push_back(f.string());
  } else if (table.snapshot_id) {
    for (auto& f : SnapshotFiles(*table.snapshot_id)) {
      if (f.deletes_of.empty()) out.push_back(lake_.Absolute(f.path).string());
    }
  }
  return out;
}

std::vector<std::string> Catalog::TableScan::Paths() const {
  std::vector<std::string> out = files;
  for (auto& d : deletes) out.push_back(d.path);
  return out;
}

std::shared_ptr<const Catalog::TableScan> Catalog::Scan(const TableInfo& table) {
  auto make = [&](std::vector<std::string> files, int64_t bytes, std::vector<DeleteFile> deletes = {},
                  std::vector<std::string> keys = {}, std::vector<int64_t> versions = {}) {
    auto scan = std::make_shared<TableScan>();
    scan->ref = ScanRef(table, files, deletes, false, keys, versions);
    scan->files = std::move(files);
    scan->deletes = std::move(deletes);
    scan->keys = std::move(keys);
    scan->versions = std::move(versions);
    scan->bytes = bytes;
    return scan;
  };
  if (table.kind == TableKind::kExternal || !table.snapshot_id) {
    auto files = FilesToScan(table);
    int64_t bytes = 0;
    for (auto& f : files) {
      std::error_code ec;
      auto size = std::filesystem::file_size(f, ec);
      if (!ec) bytes += static_cast<int64_t>(size);
    }
    return make(std::move(files), bytes);
  }
  std::string key = fmt::format("{}:{}:{}", table.id, *table.snapshot_id, table.name);
  auto it = scans_.find(key);
  if (it != scans_.end() && it->second.schema == table.schema) return it->second.scan;
  std::vector<std::string> files, keys;
  std::vector<int64_t> versions;
  std::vector<DeleteFile> deletes;
  std::map<std::string, size_t> index;  // data file -> its place in `files`
  int64_t bytes = 0;
  auto listed = SnapshotFiles(*table.snapshot_id);
  RegisterKeys(listed);
  for (auto& f : listed) {
    bytes += f.byte_size;
    if (!f.deletes_of.empty()) continue;
    index[f.path] = files.size();
    files.push_back(lake_.Absolute(f.path).string());
    keys.push_back(f.key_id);
    versions.push_back(f.schema_version);
  }
  for (auto& f : listed) {
    auto it = f.deletes_of.empty() ? index.end() : index.find(f.deletes_of);
    if (it != index.end()) deletes.push_back({it->second, lake_.Absolute(f.path).string()});
  }
  if (scans_.size() >= kMaxScans) scans_.clear();
  auto scan = make(std::move(files), bytes, std::move(deletes), std::move(keys), std::move(versions));
  scans_[key] = {table.schema, scan};
  return scan;
}

}  // namespace tarn::catalog
