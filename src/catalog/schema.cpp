// Schema evolution (catalog.h: SchemaChange, Catalog::AlterSchema) and how a schema
// is stored; the statistics of files written under several schema versions; writing
// a table's data files under its schema and partitioning.
#include <algorithm>
#include <filesystem>
#include <map>

#include "catalog/catalog.h"
#include "catalog/scan.h"
#include "common/error.h"

namespace tarn::catalog {

namespace {

using duckdb::LogicalTypeId;

// Integer types by signedness and width in bytes.
struct IntegerType {
  bool is_signed;
  int bytes;
  int digits;  // the decimal digits its values may need
};
std::optional<IntegerType> Integer(LogicalTypeId id) {
  switch (id) {
    case LogicalTypeId::TINYINT: return IntegerType{true, 1, 3};
    case LogicalTypeId::SMALLINT: return IntegerType{true, 2, 5};
    case LogicalTypeId::INTEGER: return IntegerType{true, 4, 10};
    case LogicalTypeId::BIGINT: return IntegerType{true, 8, 19};
    case LogicalTypeId::UTINYINT: return IntegerType{false, 1, 3};
    case LogicalTypeId::USMALLINT: return IntegerType{false, 2, 5};
    case LogicalTypeId::UINTEGER: return IntegerType{false, 4, 10};
    case LogicalTypeId::UBIGINT: return IntegerType{false, 8, 20};
    default: return std::nullopt;
  }
}

duckdb::LogicalType ParseType(const std::string& text) {
  try {
    auto type = duckdb::TransformStringToLogicalType(text);
    if (type.id() != LogicalTypeId::USER && type.id() != LogicalTypeId::INVALID) return type;
  } catch (const std::exception&) {
  }
  throw Error::InvalidArgument(
      "'{}' is not a column type (e.g. BIGINT, DOUBLE, DECIMAL(18,2), VARCHAR, DATE)", text.substr(0, 60));
}

// The type a table stores for `text` (128-bit integers as DECIMAL(38,0), as CREATE TABLE does).
std::string StoredType(const std::string& text) {
  auto type = ParseType(text);
  if (type.id() == LogicalTypeId::HUGEINT || type.id() == LogicalTypeId::UHUGEINT) return "DECIMAL(38,0)";
  return type.ToString();
}

// Column types new data may be partitioned by: values that make a directory name.
bool Partitionable(const std::string& text) {
  auto id = ParseType(text).id();
  return Integer(id) || id == LogicalTypeId::BOOLEAN || id == LogicalTypeId::DATE ||
         id == LogicalTypeId::VARCHAR || id == LogicalTypeId::DECIMAL;
}

std::vector<Column>::iterator FindColumn(std::vector<Column>& schema, const std::string& name,
                                         const TableInfo& table) {
  auto it = std::find_if(schema.begin(), schema.end(), [&](const Column& c) { return c.name == name; });
  if (it == schema.end()) {
    throw Error::InvalidArgument("{} has no column {} (DESCRIBE {} lists them)", table.QualifiedName(), name,
                                 table.QualifiedName());
  }
  return it;
}

}  // namespace

nlohmann::json SchemaJson(const std::vector<Column>& schema) {
  nlohmann::json j = nlohmann::json::array();
  for (auto& c : schema) {
    nlohmann::json col = {{"name", c.name}, {"type", c.type}, {"id", c.id}};
    if (!c.stored.empty()) col["stored"] = c.stored;
    if (c.added) col["added"] = c.added;
    if (c.retyped) col["retyped"] = c.retyped;
    j.push_back(col);
  }
  return j;
}

std::vector<Column> ParseSchema(const std::string& text) {
  std::vector<Column> out;
  for (auto& c : nlohmann::json::parse(text)) {
    Column col;
    col.name = c.at("name");
    col.type = c.at("type");
    col.id = c.value("id", static_cast<int64_t>(out.size() + 1));
    col.stored = c.value("stored", "");
    col.added = c.value("added", int64_t{0});
    col.retyped = c.value("retyped", int64_t{0});
    out.push_back(col);
  }
  return out;
}

std::vector<Column> StoredSchema(std::vector<Column> schema) {
  for (auto& c : schema) c.name = c.StoredName();
  return schema;
}

bool Widens(const std::string& from_text, const std::string& to_text) {
  auto from = ParseType(from_text), to = ParseType(to_text);
  auto a = Integer(from.id()), b = Integer(to.id());
  if (a && b) return b->bytes > a->bytes && (b->is_signed || !a->is_signed);
  if (from.id() == LogicalTypeId::FLOAT) return to.id() == LogicalTypeId::DOUBLE;
  if (to.id() != LogicalTypeId::DECIMAL) return false;
  int to_width = duckdb::DecimalType::GetWidth(to), to_scale = duckdb::DecimalType::GetScale(to);
  if (a) return to_width - to_scale >= a->digits;
  if (from.id() != LogicalTypeId::DECIMAL) return false;
  int width = duckdb::DecimalType::GetWidth(from), scale = duckdb::DecimalType::GetScale(from);
  return to_scale >= scale && to_width - to_scale >= width - scale && (to_width > width || to_scale > scale);
}

std::string SchemaChange::Describe() const {
  switch (kind) {
    case kAddColumn: return fmt::format("added column {} {}", column, type);
    case kRenameColumn: return fmt::format("renamed column {} to {}", column, new_name);
    case kDropColumn: return fmt::format("dropped column {}", column);
    case kWidenColumn: return fmt::format("changed column {} to {}", column, type);
    case kPartitionBy: {
      std::string cols;
      for (auto& c : partition_by) cols += (cols.empty() ? "" : ", ") + c;
      return cols.empty() ? "new data is not partitioned" : "new data is partitioned by " + cols;
    }
  }
  return "";
}

std::optional<TableInfo> Catalog::AlterSchema(const TableInfo& given, const SchemaChange& raw,
                                              const SchemaHook& hook) {
  if (given.kind != TableKind::kManaged) {
    throw Error::InvalidArgument("{} is an external table: its columns are those of its files",
                                 given.QualifiedName());
  }
  SchemaChange change = raw;
  if (change.kind != SchemaChange::kPartitionBy) change.column = CheckName(change.column, "column");
  if (change.kind == SchemaChange::kRenameColumn) change.new_name = CheckName(change.new_name, "column");
  for (auto& p : change.partition_by) p = CheckName(p, "partition column");
  if (!change.type.empty()) change.type = StoredType(change.type);
  bool changed = true;
  store_.Transaction([&] {
    std::string lock = store_.backend() == "postgresql" ? " FOR UPDATE" : "";
    if (store_.Query("SELECT id FROM tables WHERE id = ?" + lock, {given.id}).empty())
      throw Error::NotFound("table {} does not exist", given.QualifiedName());
    TableInfo t = *FindTableById(given.id);
    auto schema = t.schema;
    auto parts = t.partition_columns;
    int64_t last = t.last_column_id, version = t.schema_version + 1;
    auto exists = [&](const std::string& name) {
      return std::any_of(schema.begin(), schema.end(), [&](const Column& c) { return c.name == name; });
    };
    switch (change.kind) {
      case SchemaChange::kAddColumn: {
        if (exists(change.column)) {
          if (change.if_exists) return void(changed = false);
          throw Error::InvalidArgument("{} already has a column {}", t.QualifiedName(), change.column);
        }
        Column c;
        c.name = change.column;
        c.type = change.type;
        c.id = ++last;
        c.added = version;
        // Files hold it under its name unless a column (or the statistics) already use it.
        auto stats = t.snapshot_id
                         ? GetSnapshot(*t.snapshot_id).stats.value("columns", nlohmann::json::object())
                         : nlohmann::json::object();
        bool taken =
            stats.contains(c.name) || std::any_of(schema.begin(), schema.end(),
                                                  [&](const Column& o) { return o.StoredName() == c.name; });
        if (taken) c.stored = fmt::format("{}__{}", c.name, c.id);
        schema.push_back(c);
        break;
      }
      case SchemaChange::kRenameColumn: {
        auto it = FindColumn(schema, change.column, t);
        if (exists(change.new_name))
          throw Error::InvalidArgument("{} already has a column {}", t.QualifiedName(), change.new_name);
        it->stored = it->StoredName();
        it->name = change.new_name;
        std::replace(parts.begin(), parts.end(), change.column, change.new_name);
        break;
      }
      case SchemaChange::kDropColumn: {
        if (!exists(change.column) && change.if_exists) return void(changed = false);
        auto it = FindColumn(schema, change.column, t);
        if (schema.size() == 1)
          throw Error::InvalidArgument("{} is the only column of {}: drop the table instead", change.column,
                                       t.QualifiedName());
        if (std::count(parts.begin(), parts.end(), change.column)) {
          throw Error::InvalidArgument(
              "new data of {} is partitioned by {}: ALTER TABLE {} SET PARTITIONED BY (...) without it first",
              t.QualifiedName(), change.column, t.QualifiedName());
        }
        schema.erase(it);
        break;
      }
      case SchemaChange::kWidenColumn: {
        auto it = FindColumn(schema, change.column, t);
        if (it->type == change.type) return void(changed = false);
        if (!Widens(it->type, change.type)) {
          throw Error::InvalidArgument(
              "column {} of {} cannot change from {} to {}: a type may only widen so that every stored value "
              "stays exact (a wider integer, FLOAT to DOUBLE, a DECIMAL with more digits)",
              change.column, t.QualifiedName(), it->type, change.type);
        }
        it->type = change.type;
        it->retyped = version;
        break;
      }
      case SchemaChange::kPartitionBy: {
        version = t.schema_version;  // the columns stay as they are
        for (auto& p : change.partition_by) {
          auto it = FindColumn(schema, p, t);
          if (std::count(change.partition_by.begin(), change.partition_by.end(), p) > 1)
            throw Error::InvalidArgument("partition column {} appears twice", p);
          if (!Partitionable(it->type)) {
            throw Error::InvalidArgument(
                "{} is {}: new data may be partitioned by integer, DECIMAL, BOOLEAN, DATE or VARCHAR columns",
                p, it->type);
          }
        }
        parts = change.partition_by;
        break;
      }
    }
    int64_t n = store_.Execute(
        "UPDATE tables SET schema_json = ?, schema_version = ?, last_column_id = ?, partition_columns = ? "
        "WHERE "
        "id = ? AND schema_version = ?",
        {SchemaJson(schema).dump(), version, last, nlohmann::json(parts).dump(), t.id, t.schema_version});
    if (n != 1) {
      throw Error::Conflict("another ALTER TABLE changed {} meanwhile; nothing was changed: run it again",
                            t.QualifiedName());
    }
    if (hook) hook(t, change);
  });
  if (!changed) return std::nullopt;
  scans_.clear();
  return GetTable(given.database, given.name);
}

nlohmann::json Catalog::StatsOf(const std::vector<DataFile>& files, const std::vector<Column>& schema) {
  // Keyed by stored name (a rename keeps them); per schema version, the columns its files hold.
  std::map<int64_t, std::vector<std::string>> by_version;
  for (auto& f : files) {
    if (!f.key_id.empty()) return {{"columns", nlohmann::json::object()}};
    if (f.deletes_of.empty()) by_version[f.schema_version].push_back(lake_.Absolute(f.path).string());
  }
  auto stored = StoredSchema(schema);
  std::optional<nlohmann::json> out;
  for (auto& [version, abs] : by_version) {
    std::vector<Column> held;
    for (auto& c : stored) {
      if (c.added <= version) held.push_back(c);
    }
    auto stats = lake::CollectStats(internal_, abs, held);
    out = out ? lake::MergeStats(*out, stats, stored) : stats;
  }
  return out ? *out : nlohmann::json{{"columns", nlohmann::json::object()}};
}

std::vector<DataFile> Catalog::WriteData(const TableInfo& table,
                                         duckdb::unique_ptr<duckdb::SelectStatement> query,
                                         const std::string& key, const lake::ParquetWrite& elsewhere) {
  auto files = elsewhere && key.empty() && table.partition_columns.empty()
                   ? lake::WriteParquetWith(lake_, internal_, std::move(query), table.schema, table.location,
                                            elsewhere)
                   : lake::WriteParquetFiles(lake_, internal_, std::move(query), table.schema, table.location,
                                             table.partition_columns, key);
  std::vector<DataFile> out;
  for (auto& f : files) {
    if (f.row_count == 0) {
      std::error_code ec;
      std::filesystem::remove(lake_.Absolute(f.path), ec);
      continue;
    }
    f.schema_version = table.schema_version;
    out.push_back(f);
  }
  return out;
}

}  // namespace tarn::catalog
