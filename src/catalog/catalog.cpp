#include "catalog/catalog.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "catalog/scan.h"
#include "common/error.h"
#include "common/util.h"

namespace fs = std::filesystem;

namespace tarn::catalog {

namespace {

// Names DuckDB or Tarn use for themselves; a database may not take them.
const std::set<std::string> kReservedDatabases = {"main",       "temp",   "system", "information_schema",
                                                  "pg_catalog", "memory", "tarn"};

// Thrown inside a commit transaction to roll it back when the base moved.
struct BaseMoved {};

}  // namespace

std::string CheckName(const std::string& name, const char* what) {
  bool ok = !name.empty() && name.size() <= 64 &&
            (std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_');
  for (unsigned char c : name) ok = ok && (std::isalnum(c) || c == '_');
  if (!ok) {
    throw Error::InvalidArgument(
        "invalid {} name '{}': use a letter or '_' then letters, digits or '_' (at most 64)", what,
        name.size() > 80 ? name.substr(0, 80) + "..." : name);
  }
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower;
}

Catalog::Catalog(store::MetaStore& store, const lake::Lake& lake, engine::EngineConnection& internal)
    : store_(store), lake_(lake), internal_(internal) {}

// --- databases ----------------------------------------------------------------

void Catalog::CreateDatabase(const std::string& raw_name, bool if_not_exists) {
  std::string name = CheckName(raw_name, "database");
  if (kReservedDatabases.count(name)) throw Error::InvalidArgument("database name '{}' is reserved", name);
  try {
    store_.Execute("INSERT INTO databases (name, created_at) VALUES (?, ?)", {name, NowUtc()});
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kAlreadyExists) throw;
    if (!if_not_exists) throw Error::AlreadyExists("database {} already exists", name);
  }
}

void Catalog::DropDatabase(const std::string& raw_name, bool if_exists, bool cascade, const DropHook& hook) {
  std::string name = CheckName(raw_name, "database");
  store_.Transaction([&] {
    auto rows = store_.Query("SELECT id FROM databases WHERE name = ?", {name});
    if (rows.empty()) {
      if (if_exists) return;
      throw Error::NotFound("database {} does not exist", name);
    }
    int64_t id = rows[0].Int(0);
    auto tables = store_.Query("SELECT id FROM tables WHERE database_id = ?", {id});
    if (!tables.empty() && !cascade) {
      throw Error::InvalidArgument("database {} has {} tables: drop them first or add CASCADE", name,
                                   tables.size());
    }
    Dropped dropped{id, {}};
    for (auto& t : tables) {
      int64_t tid = t.Int(0);
      DeleteTableRows(tid);
      dropped.table_ids.push_back(tid);
    }
    store_.Execute("DELETE FROM databases WHERE id = ?", {id});
    if (hook) hook(dropped);
  });
}

std::vector<std::string> Catalog::ListDatabases() {
  std::vector<std::string> out;
  for (auto& r : store_.Query("SELECT name FROM databases ORDER BY name")) out.push_back(r.Str(0));
  return out;
}

std::optional<int64_t> Catalog::FindDatabase(const std::string& raw_name) {
  auto rows = store_.Query("SELECT id FROM databases WHERE name = ?", {CheckName(raw_name, "database")});
  if (rows.empty()) return std::nullopt;
  return rows[0].Int(0);
}

int64_t Catalog::DatabaseId(const std::string& name) {
  auto rows = store_.Query("SELECT id FROM databases WHERE name = ?", {name});
  if (rows.empty()) throw Error::NotFound("database {} does not exist (SHOW DATABASES lists them)", name);
  return rows[0].Int(0);
}

// --- tables -------------------------------------------------------------------

static constexpr const char* kTableColumns =
    "t.id, d.name, t.name, t.kind, t.format, t.location, t.partition_columns, t.schema_json, "
    "t.current_snapshot_id, t.created_at, t.database_id, t.properties_json, t.schema_version, "
    "t.last_column_id";

TableInfo Catalog::ReadTable(const store::Row& r) {
  TableInfo t;
  t.id = r.Int(0);
  t.database = r.Str(1);
  t.name = r.Str(2);
  t.kind = r.Str(3) == "external" ? TableKind::kExternal : TableKind::kManaged;
  t.format = lake::ParseFormat(r.Str(4));
  t.location = r.Str(5);
  for (auto& p : nlohmann::json::parse(r.Str(6))) t.partition_columns.push_back(p);
  t.schema = ParseSchema(r.Str(7));
  t.snapshot_id = r.OptInt(8);
  t.created_at = r.Str(9);
  t.database_id = r.Int(10);
  t.properties = nlohmann::json::parse(r.Str(11)).get<std::map<std::string, std::string>>();
  t.schema_version = r.Int(12);
  t.last_column_id = r.Int(13);  // 0 before column ids: then the ids the schema got
  for (auto& c : t.schema) t.last_column_id = std::max(t.last_column_id, c.id);
  return t;
}

std::optional<TableInfo> Catalog::FindTableById(int64_t id) {
  auto rows = store_.Query(std::string("SELECT ") + kTableColumns +
                               " FROM tables t JOIN databases d ON d.id = t.database_id WHERE t.id = ?",
                           {id});
  if (rows.empty()) return std::nullopt;
  return ReadTable(rows[0]);
}

std::vector<TableInfo> Catalog::ListTables(const std::string& raw_db) {
  std::string db = CheckName(raw_db, "database");
  int64_t id = DatabaseId(db);
  std::vector<TableInfo> out;
  for (auto& r : store_.Query(std::string("SELECT ") + kTableColumns +
                                  " FROM tables t JOIN databases d ON d.id = t.database_id "
                                  "WHERE t.database_id = ? ORDER BY t.name",
                              {id})) {
    out.push_back(ReadTable(r));
  }
  return out;
}

std::optional<TableInfo> Catalog::FindTable(const std::string& raw_db, const std::string& raw_table) {
  std::string db = CheckName(raw_db, "database");
  std::string table = CheckName(raw_table, "table");
  auto rows = store_.Query(std::string("SELECT ") + kTableColumns +
                               " FROM tables t JOIN databases d ON d.id = t.database_id "
                               "WHERE d.name = ? AND t.name = ?",
                           {db, table});
  if (rows.empty()) return std::nullopt;
  return ReadTable(rows[0]);
}

TableInfo Catalog::GetTable(const std::string& db, const std::string& table) {
  auto t = FindTable(db, table);
  if (t) return *t;
  std::string d = CheckName(db, "database");
  DatabaseId(d);  // throws if the database is what is missing
  throw Error::NotFound("table {}.{} does not exist (SHOW TABLES IN {} lists them)", d,
                        CheckName(table, "table"), d);
}

TableInfo Catalog::CreateExternalTable(const std::string& raw_db, const std::string& raw_table,
                                       const std::string& location, std::optional<lake::Format> format,
                                       std::vector<std::string> partition_columns, bool if_not_exists) {
  std::string db = CheckName(raw_db, "database");
  std::string name = CheckName(raw_table, "table");
  int64_t db_id = DatabaseId(db);
  if (auto existing = FindTable(db, name)) {
    if (if_not_exists) return *existing;
    throw Error::AlreadyExists("table {}.{} already exists", db, name);
  }
  for (auto& p : partition_columns) p = CheckName(p, "partition column");

  TableInfo t;
  t.database = db;
  t.name = name;
  t.kind = TableKind::kExternal;
  t.location = lake_.CheckLocation(location);
  t.format = format ? *format : lake_.GuessFormat(t.location);
  auto files = lake_.ListFiles(t.location, t.format);

  // Hive-style key=value folders: the keys every file shares, in order.
  std::optional<std::vector<std::string>> keys;
  for (auto& f : files) {
    std::vector<std::string> mine;
    for (auto& seg : fs::path(lake_.Relative(f)).parent_path()) {
      auto s = seg.string();
      auto eq = s.find('=');
      if (eq != std::string::npos && eq > 0) mine.push_back(s.substr(0, eq));
    }
    if (!keys) {
      keys = mine;
    } else if (*keys != mine) {
      keys = std::vector<std::string>{};
      break;
    }
  }
  std::vector<std::string> detected;
  for (auto& k : keys.value_or(std::vector<std::string>{})) {
    try {
      detected.push_back(CheckName(k, "partition column"));
    } catch (const Error&) {
      detected.clear();
      break;
    }
  }
  for (auto& p : partition_columns) {
    if (std::find(detected.begin(), detected.end(), p) == detected.end()) {
      throw Error::InvalidArgument("PARTITIONED BY ({}) but the files at '{}' are not in {}=value folders", p,
                                   t.location, p);
    }
  }
  t.partition_columns = detected;

  std::vector<std::string> abs;
  for (auto& f : files) abs.push_back(f.string());
  std::vector<std::string> names;
  std::vector<duckdb::LogicalType> types;
  // Tarn's own SQL over files it just checked: not subject to plan verification.
  auto trusted = internal_.Trusted();
  internal_.Describe(RawScanStatement(t, abs), names, types);
  for (size_t i = 0; i < names.size(); i++) {
    t.schema.push_back({CheckName(names[i], "column"), types[i].ToString()});
  }
  auto count = internal_.Run(CountStatement(t, abs));
  int64_t rows = count->GetValue(0, 0).GetValue<int64_t>();
  nlohmann::json stats = t.format == lake::Format::kParquet
                             ? lake::CollectStats(internal_, abs, t.schema)
                             : nlohmann::json{{"columns", nlohmann::json::object()}};

  std::vector<DataFile> data_files;
  for (auto& f : files) {
    std::error_code ec;
    data_files.push_back({lake_.Relative(f), -1, static_cast<int64_t>(fs::file_size(f, ec))});
  }
  try {
    store_.Transaction([&] {
      auto r = store_.Query(
          "INSERT INTO tables (database_id, name, kind, format, location, partition_columns, schema_json, "
          "created_at) VALUES (?, ?, 'external', ?, ?, ?, ?, ?) RETURNING id",
          {db_id, name, std::string(lake::FormatName(t.format)), t.location,
           nlohmann::json(t.partition_columns).dump(), SchemaJson(t.schema).dump(), NowUtc()});
      t.id = r.at(0).Int(0);
      t.database_id = db_id;
    });
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kAlreadyExists)
      throw Error::AlreadyExists("table {}.{} already exists", db, name);
    throw;
  }
  auto snap = TryCommit(t, std::nullopt, {"register", rows}, data_files, t.schema, stats);
  // Row count of a registration snapshot is what the files held then.
  store_.Execute("UPDATE snapshots SET row_count = ? WHERE id = ?", {rows, snap->id});
  return GetTable(db, name);
}

std::optional<TableInfo> Catalog::CreateManagedTable(const std::string& raw_db, const std::string& raw_table,
                                                     const std::vector<Column>& raw_schema,
                                                     bool if_not_exists,
                                                     const std::map<std::string, std::string>& properties) {
  std::string db = CheckName(raw_db, "database");
  std::string name = CheckName(raw_table, "table");
  DatabaseId(db);  // a missing database is the first thing to say
  if (raw_schema.empty()) throw Error::InvalidArgument("table {}.{} needs at least one column", db, name);
  std::vector<Column> schema;
  std::set<std::string> seen;
  for (auto& c : raw_schema) {
    // Parquet has no 128-bit integer (DuckDB would write a DOUBLE and lose digits
    // above 2^53): such columns are kept as DECIMAL(38,0), exact.
    bool wide = c.type == "HUGEINT" || c.type == "UHUGEINT";
    Column col;
    col.name = CheckName(c.name, "column");
    col.type = wide ? "DECIMAL(38,0)" : c.type;
    if (!seen.insert(col.name).second) {
      throw Error::InvalidArgument("column {} appears twice: give every column its own name", col.name);
    }
    schema.push_back(col);
  }
  auto all = properties;
  all.insert(new_table_properties_.begin(), new_table_properties_.end());
  new_table_properties_.clear();
  CheckProperties(all);
  auto t = InsertManagedTable(db, name, schema, if_not_exists, all);
  if (!t) return std::nullopt;
  TryCommit(*t, std::nullopt, {"create"}, {}, t->schema, {{"columns", nlohmann::json::object()}});
  return GetTable(db, name);
}

std::optional<TableInfo> Catalog::InsertManagedTable(const std::string& db, const std::string& name,
                                                     std::vector<Column> schema, bool if_not_exists,
                                                     const std::map<std::string, std::string>& given,
                                                     int64_t schema_version, int64_t last_column_id) {
  for (auto& c : schema) last_column_id = std::max(last_column_id, c.id);
  for (auto& c : schema) {
    if (c.id == 0) c.id = ++last_column_id;
  }
  int64_t db_id = DatabaseId(db);
  nlohmann::json properties = given;
  if (keyring_ && keyring_->encrypt_new_tables() && !given.count(kEncrypted)) properties[kEncrypted] = "true";
  TableInfo t;
  t.database = db;
  t.name = name;
  t.kind = TableKind::kManaged;
  t.schema = schema;
  t.schema_version = schema_version;
  t.last_column_id = last_column_id;
  try {
    store_.Transaction([&] {
      auto r = store_.Query(
          "INSERT INTO tables (database_id, name, kind, format, location, partition_columns, schema_json, "
          "created_at, properties_json, schema_version, last_column_id) VALUES (?, ?, 'managed', 'parquet', "
          "'', "
          "'[]', ?, ?, ?, ?, ?) RETURNING id",
          {db_id, name, SchemaJson(schema).dump(), NowUtc(), properties.dump(), schema_version,
           last_column_id});
      t.id = r.at(0).Int(0);
      t.database_id = db_id;
      t.location = lake_.ManagedTableDir(db, name, t.id);
      store_.Execute("UPDATE tables SET location = ? WHERE id = ?", {t.location, t.id});
    });
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kAlreadyExists) throw;
    if (if_not_exists) return std::nullopt;
    throw Error::AlreadyExists("table {}.{} already exists", db, name);
  }
  return t;
}

void Catalog::DeleteTableRows(int64_t id) {
  store_.Execute(
      "DELETE FROM snapshot_files WHERE snapshot_id IN (SELECT id FROM snapshots WHERE table_id = ?)", {id});
  store_.Execute("DELETE FROM snapshots WHERE table_id = ?", {id});
  store_.Execute("DELETE FROM tables WHERE id = ?", {id});
}

void Catalog::DropTable(const std::string& raw_db, const std::string& raw_table, bool if_exists,
                        const DropHook& hook) {
  std::string db = CheckName(raw_db, "database");
  std::string name = CheckName(raw_table, "table");
  store_.Transaction([&] {
    auto rows = store_.Query(
        "SELECT t.id FROM tables t JOIN databases d ON d.id = t.database_id WHERE d.name = ? AND t.name = ?",
        {db, name});
    if (rows.empty()) {
      if (if_exists) return;
      DatabaseId(db);
      throw Error::NotFound("table {}.{} does not exist", db, name);
    }
    int64_t id = rows[0].Int(0);
    DeleteTableRows(id);
    if (hook) hook({std::nullopt, {id}});
  });
}

// --- commits ------------------------------------------------------------------

SnapshotInfo Catalog::RecordSnapshotLocked(const TableInfo& table, std::optional<int64_t> base,
                                           const Change& change, const std::vector<DataFile>& files,
                                           const std::vector<Column>& schema, const nlohmann::json& stats) {
  SnapshotInfo s;
  s.parent_id = base;
  s.operation = change.operation;
  s.principal = committer_;
  s.rows_added = change.rows_added;
  s.rows_removed = change.rows_removed;
  s.detail = change.detail;
  s.schema = schema;
  s.stats = stats;
  s.file_count = static_cast<int64_t>(files.size());
  for (auto& f : files) {
    // A delete file's rows are rows of its data file that the snapshot leaves out.
    s.row_count += (f.deletes_of.empty() ? 1 : -1) * std::max<int64_t>(f.row_count, 0);
    s.byte_size += f.byte_size;
  }
  s.created_at = NowUtc();
  auto r = store_.Query(
      "INSERT INTO snapshots (table_id, parent_id, operation, row_count, byte_size, file_count, schema_json, "
      "stats_json, created_at, principal, rows_added, rows_removed, detail) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {table.id, base ? store::Param(*base) : store::Param(nullptr), s.operation, s.row_count, s.byte_size,
       s.file_count, SchemaJson(schema).dump(), stats.dump(), s.created_at, s.principal, s.rows_added,
       s.rows_removed, s.detail});
  s.id = r.at(0).Int(0);
  for (auto& f : files) {
    store_.Execute(
        "INSERT INTO snapshot_files (snapshot_id, path, row_count, byte_size, deletes_of, key_id, "
        "schema_version) VALUES (?, ?, ?, ?, ?, ?, ?)",
        {s.id, f.path, f.row_count, f.byte_size, f.deletes_of, f.key_id, f.schema_version});
  }
  return s;
}

std::optional<SnapshotInfo> Catalog::TryCommit(const TableInfo& table, std::optional<int64_t> base,
                                               const Change& change, const std::vector<DataFile>& files,
                                               const std::vector<Column>& schema,
                                               const nlohmann::json& stats) {
  SnapshotInfo s;
  try {
    store_.Transaction([&] {
      s = RecordSnapshotLocked(table, base, change, files, schema, stats);
      if (change.operation == "overwrite") RecordCommitKeyLocked(table, s, change.rows_added);
      CrashPoint("before_metadata_commit");
      // The table's schema is not the commit's to change: ALTER TABLE does (AlterSchema).
      int64_t changed = store_.Execute(
          "UPDATE tables SET current_snapshot_id = ? WHERE id = ? AND COALESCE(current_snapshot_id, 0) = ?",
          {s.id, table.id, base.value_or(0)});
      if (changed != 1) throw BaseMoved{};
    });
  } catch (const BaseMoved&) {
    return std::nullopt;
  }
  CrashPoint("after_metadata_commit");
  return s;
}

void Catalog::RecordCommitKeyLocked(const TableInfo& table, const SnapshotInfo& snapshot, int64_t rows) {
  if (!commit_key_) return;
  store_.Execute(
      "INSERT INTO commit_keys (scope, key, table_id, snapshot_id, rows_written) VALUES (?, ?, ?, ?, ?)",
      {commit_key_->scope, commit_key_->key, table.id, snapshot.id, rows});
}

std::optional<int64_t> Catalog::CommittedUnder(const CommitKey& key) {
  auto rows =
      store_.Query("SELECT rows_written FROM commit_keys WHERE scope = ? AND key = ?", {key.scope, key.key});
  if (rows.empty()) return std::nullopt;
  return rows[0].Int(0);
}

void Catalog::ForgetCommitKeys(store::MetaStore& store, const std::string& scope) {
  store.Execute("DELETE FROM commit_keys WHERE scope = ?", {scope});
}

SnapshotInfo Catalog::CommitAppend(const TableInfo& table, const std::vector<DataFile>& added,
                                   const nlohmann::json& file_stats) {
  int64_t added_rows = 0;
  for (auto& f : added) added_rows += f.row_count;
  SnapshotInfo s;
  store_.Transaction([&] {
    // SQLite's write transaction already excludes other writers; PostgreSQL needs the row lock.
    std::string lock = store_.backend() == "postgresql" ? " FOR UPDATE" : "";
    auto rows = store_.Query("SELECT current_snapshot_id FROM tables WHERE id = ?" + lock, {table.id});
    if (rows.empty())
      throw Error::NotFound("table {} was dropped while the INSERT ran", table.QualifiedName());
    std::optional<int64_t> base = rows[0].OptInt(0);
    std::vector<DataFile> files;
    nlohmann::json stats = file_stats;
    if (base) files = SnapshotFiles(*base);
    // An empty snapshot adds nothing to the statistics (and knows no min/max).
    if (!files.empty())
      stats = lake::MergeStats(GetSnapshot(*base).stats, file_stats, StoredSchema(table.schema));
    files.insert(files.end(), added.begin(), added.end());
    s = RecordSnapshotLocked(table, base, {"append", added_rows}, files, table.schema, stats);
    RecordCommitKeyLocked(table, s, added_rows);
    CrashPoint("before_metadata_commit");
    store_.Execute("UPDATE tables SET current_snapshot_id = ? WHERE id = ?", {s.id, table.id});
  });
  CrashPoint("after_metadata_commit");
  return s;
}

WriteResult Catalog::Write(const TableInfo& given, duckdb::unique_ptr<duckdb::SelectStatement> query,
                           bool overwrite, const lake::ParquetWrite& elsewhere) {
  if (given.kind != TableKind::kManaged) {
    throw Error::InvalidArgument("{} is an external table: Tarn writes only managed tables",
                                 given.QualifiedName());
  }
  TableInfo table = GetTable(given.database, given.name);
  if (table.schema != given.schema) {
    throw Error::Conflict(
        "the columns of {} changed (ALTER TABLE) while this write began; nothing was written: run it again",
        table.QualifiedName());
  }
  std::optional<int64_t> base = table.snapshot_id;
  auto files = WriteData(table, std::move(query), WriteKey(table), elsewhere);
  int64_t rows = 0;
  for (auto& f : files) rows += f.row_count;
  try {
    auto file_stats = StatsOf(files, table.schema);
    if (!overwrite) {
      WriteResult done{CommitAppend(table, files, file_stats), rows};
      AutoExpire(table);
      return done;
    }
    // An overwrite computed from one snapshot must not replace a newer one.
    int64_t removed = base ? GetSnapshot(*base).row_count : 0;
    if (auto s = TryCommit(table, base, {"overwrite", rows, removed}, files, table.schema, file_stats)) {
      AutoExpire(table);
      return {*s, rows};
    }
    table = GetTable(given.database, given.name);
    throw Error::Conflict(
        "{} was changed by another commit (now snapshot {}) while this INSERT OVERWRITE ran; nothing was "
        "written: "
        "run it again",
        table.QualifiedName(), table.snapshot_id.value_or(0));
  } catch (...) {
    RemoveUncommitted(files);
    throw;
  }
}

void Catalog::RemoveUncommitted(const std::vector<DataFile>& files) {
  std::error_code ec;
  for (auto& f : files) {
    // After a lost commit reply the store may have recorded the file: then it is live and stays.
    bool referenced = false;
    try {
      referenced = !store_.Query("SELECT 1 FROM snapshot_files WHERE path = ?", {f.path}).empty();
    } catch (...) {
      referenced = true;  // cannot tell: keep the file; gc decides later
    }
    if (!referenced) fs::remove(lake_.Absolute(f.path), ec);
  }
}

// --- snapshots ----------------------------------------------------------------

static SnapshotInfo ReadSnapshot(const store::Row& r) {
  SnapshotInfo s;
  s.id = r.Int(0);
  s.parent_id = r.OptInt(1);
  s.operation = r.Str(2);
  s.row_count = r.Int(3);
  s.byte_size = r.Int(4);
  s.file_count = r.Int(5);
  s.schema = ParseSchema(r.Str(6));
  s.stats = nlohmann::json::parse(r.Str(7));
  s.created_at = r.Str(8);
  s.principal = r.Str(9);
  s.rows_added = r.Int(10);
  s.rows_removed = r.Int(11);
  s.detail = r.Str(12);
  return s;
}

static constexpr const char* kSnapshotColumns =
    "id, parent_id, operation, row_count, byte_size, file_count, schema_json, stats_json, created_at, "
    "principal, rows_added, rows_removed, detail";

std::vector<SnapshotInfo> Catalog::ListSnapshots(const TableInfo& table) {
  std::vector<SnapshotInfo> out;
  for (auto& r : store_.Query(
           std::string("SELECT ") + kSnapshotColumns + " FROM snapshots WHERE table_id = ? ORDER BY id",
           {table.id})) {
    out.push_back(ReadSnapshot(r));
  }
  return out;
}

SnapshotInfo Catalog::GetSnapshot(int64_t id) {
  auto rows = store_.Query(std::string("SELECT ") + kSnapshotColumns + " FROM snapshots WHERE id = ?", {id});
  if (rows.empty()) throw Error::NotFound("snapshot {} does not exist", id);
  return ReadSnapshot(rows[0]);
}

std::vector<DataFile> Catalog::SnapshotFiles(int64_t id) {
  std::vector<DataFile> out;
  for (auto& r : store_.Query(
           "SELECT path, row_count, byte_size, deletes_of, key_id, schema_version FROM snapshot_files "
           "WHERE snapshot_id = ? ORDER BY path",
           {id})) {
    out.push_back({r.Str(0), r.Int(1), r.Int(2), r.Str(3), r.Str(4), r.Int(5)});
  }
  return out;
}

std::set<std::string> Catalog::LiveFiles() {
  std::set<std::string> out;
  for (auto& r :
       store_.Query("SELECT DISTINCT f.path FROM snapshot_files f JOIN snapshots s ON s.id = f.snapshot_id "
                    "JOIN tables t ON t.id = s.table_id WHERE t.kind = 'managed'")) {
    out.insert(r.Str(0));
  }
  return out;
}

}  // namespace tarn::catalog
