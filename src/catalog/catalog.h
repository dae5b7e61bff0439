// Catalog: databases and tables of the lake, and the snapshots of each table.
//
// A table is external (files Tarn did not write, read where they lie) or managed
// (Parquet files Tarn writes under the lake's warehouse/). Every change to a
// managed table's data is a commit that records a new snapshot: the complete list
// of live files, row count, byte size, schema and per-column statistics. A commit
// is one metadata transaction that moves the table's current snapshot from the
// snapshot the writer started from (its base) to the new one; if another commit
// moved it first the transaction fails with kConflict, and appends retry on the
// new base. Readers resolve a table to one snapshot for a whole statement.
//
// Names of databases, tables and columns are identifiers: a letter or '_' then
// letters, digits or '_', at most 64 characters, compared case-insensitively and
// stored in lower case.
//
// Thread-safety: a Catalog uses one MetaStore and one engine connection; use it
// from one thread at a time (open one per session).
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "lake/data_writer.h"
#include "lake/keyring.h"
#include "lake/lake.h"
#include "store/store.h"

namespace tarn::catalog {

using lake::Column;
using lake::DataFile;

enum class TableKind { kManaged, kExternal };
inline const char* TableKindName(TableKind k) {
  return k == TableKind::kManaged ? "managed" : "external";
}

struct TableInfo {
  int64_t id = 0;
  int64_t database_id = 0;
  std::string database;
  std::string name;
  TableKind kind = TableKind::kManaged;
  lake::Format format = lake::Format::kParquet;
  std::string location;  // relative to the lake root
  // External: hive partition keys. Managed: the columns new data files are split by
  // (ALTER TABLE ... SET PARTITIONED BY); files written before keep their layout.
  std::vector<std::string> partition_columns;
  std::vector<Column> schema;
  // Managed: the schema's version (each ALTER of a column adds one) and the highest
  // column id ever given (ids of dropped columns are never reused).
  int64_t schema_version = 0;
  int64_t last_column_id = 0;
  std::optional<int64_t> snapshot_id;  // current snapshot
  std::string created_at;
  std::map<std::string, std::string> properties;  // see TableProperties()

  std::string QualifiedName() const { return database + "." + name; }
};

struct SnapshotInfo {
  int64_t id = 0;
  std::optional<int64_t> parent_id;
  std::string operation;     // create, append, overwrite, register, rollback, clone, delete, update
  std::string principal;     // who committed it ("" before snapshots recorded it)
  int64_t rows_added = 0;    // rows the commit added
  int64_t rows_removed = 0;  // rows it removed (an UPDATE removes and adds each row it changes)
  std::string detail;        // e.g. "to snapshot 3" for a rollback
  int64_t row_count = 0;
  int64_t byte_size = 0;
  int64_t file_count = 0;
  std::vector<Column> schema;
  nlohmann::json stats;
  std::string created_at;
};

// Table properties (ALTER TABLE ... SET TBLPROPERTIES): an allow-list of keys, each
// with the values it takes and its default.
struct TableProperty {
  const char* key;
  const char* default_value;
  const char* description;
  std::vector<std::string> values;                     // allowed values; empty: checked by `check`
  std::function<void(const std::string&)> check = {};  // throws kInvalidArgument
};
const std::vector<TableProperty>& TableProperties();
// The value of property `key` for `table` (its default if unset).
std::string Property(const TableInfo& table, const std::string& key);
// Throws kInvalidArgument unless every key is one of TableProperties() with a value it allows.
void CheckProperties(const std::map<std::string, std::string>& properties);

// How DELETE, UPDATE and MERGE change a table's rows (property write_mode).
inline constexpr const char* kWriteMode = "write_mode";
inline constexpr const char* kCopyOnWrite = "copy-on-write";
inline constexpr const char* kMergeOnRead = "merge-on-read";
inline std::string WriteMode(const TableInfo& table) {
  return Property(table, kWriteMode);
}
// The size OPTIMIZE writes files of, in bytes (property target_file_size).
int64_t TargetFileSize(const TableInfo& table);
// How old a snapshot may get before a commit forgets it, as OLDER THAN takes it
// (property expire_snapshots_after), or "never".
inline constexpr const char* kExpireAfter = "expire_snapshots_after";
// Whether new data files of the table are encrypted at rest ("true"/"false"; property
// encrypted, from the keyring's encrypt_new_tables when the table is created).
inline constexpr const char* kEncrypted = "encrypted";

// What a write did.
struct WriteResult {
  SnapshotInfo snapshot;  // the snapshot it committed
  int64_t rows_written = 0;
};

// Which snapshot of a table a statement reads: AT (SNAPSHOT => n) or
// AT (TIMESTAMP => t), t as "YYYY-MM-DDTHH:MM:SSZ" (UTC).
struct TimeTravel {
  std::optional<int64_t> snapshot;
  std::string timestamp;
  std::string Describe() const;
  // From AT (<unit> => <value>): unit SNAPSHOT (or VERSION) with a number >= 1, or
  // TIMESTAMP with a time (UTC unless it has an offset). Throws kInvalidArgument.
  static TimeTravel Parse(const std::string& unit, const duckdb::Value& value);
};

// The time (UTC, as snapshots record it) that OLDER THAN 'text' names: an interval
// before now ('7 days', '12 hours') or a time. Throws kInvalidArgument.
std::string TimeBefore(const std::string& text);

// A delete file of a snapshot (absolute path) and the index of its data file in the
// snapshot's list of data files.
struct DeleteFile {
  size_t data_index = 0;
  std::string path;
};

// A name under which a data commit is made at most once (see Catalog::SetCommitKey).
struct CommitKey {
  std::string scope;  // who writes, e.g. a job run: its keys are forgotten together
  std::string key;    // which write within the scope, e.g. "step 2/statement 0"
};

// Checks and lower-cases an identifier; throws kInvalidArgument naming `what`.
std::string CheckName(const std::string& name, const char* what);

// A change to a managed table's columns (ALTER TABLE). Columns keep their id for
// life: a rename changes only the name (files keep the stored one), a drop hides the
// column from then on (its data stays in old files, unread), an added column reads
// as NULL in files written before, and a widened one is cast on read.
struct SchemaChange {
  enum Kind { kAddColumn, kRenameColumn, kDropColumn, kWidenColumn, kPartitionBy } kind;
  std::string column;                     // the column (the new one for add)
  std::string new_name;                   // rename: its new name
  std::string type;                       // add, widen: the (new) type, a DuckDB type name
  bool if_exists = false;                 // ADD ... IF NOT EXISTS, DROP ... IF EXISTS
  std::vector<std::string> partition_by;  // partition by: the columns ({}: none)
  std::string Describe() const;           // e.g. "renamed column a to b"
};
// Whether a column of type `from` may become `to` (every value kept exactly, e.g.
// INTEGER to BIGINT, FLOAT to DOUBLE, DECIMAL(9,2) to DECIMAL(18,2)).
bool Widens(const std::string& from, const std::string& to);

class Catalog {
 public:
  Catalog(store::MetaStore& store, const lake::Lake& lake, engine::EngineConnection& internal);

  const lake::Lake& lake() const { return lake_; }
  engine::EngineConnection& internal_connection() { return internal_; }

  // Databases.
  void CreateDatabase(const std::string& name, bool if_not_exists);
  // What a drop removes, handed to a DropHook inside the drop's transaction so that
  // whatever refers to it (grants, filters, masks, tags) goes in the same commit.
  struct Dropped {
    std::optional<int64_t> database_id;
    std::vector<int64_t> table_ids;
  };
  using DropHook = std::function<void(const Dropped&)>;

  // Drops a database; with cascade its tables too, else it must be empty.
  void DropDatabase(const std::string& name, bool if_exists, bool cascade, const DropHook& hook = {});
  std::vector<std::string> ListDatabases();
  // The database's id, or nullopt if there is none of that name.
  std::optional<int64_t> FindDatabase(const std::string& name);

  // Tables. Lookups throw kNotFound with a message that says what exists.
  std::vector<TableInfo> ListTables(const std::string& database);
  TableInfo GetTable(const std::string& database, const std::string& table);
  std::optional<TableInfo> FindTable(const std::string& database, const std::string& table);
  std::optional<TableInfo> FindTableById(int64_t id);

  // Registers an external table over `location` (checked and listed through the
  // lake); infers its schema and statistics from the files. Nothing is copied.
  TableInfo CreateExternalTable(const std::string& database, const std::string& table,
                                const std::string& location, std::optional<lake::Format> format,
                                std::vector<std::string> partition_columns, bool if_not_exists);
  // Creates an empty managed table (snapshot 0 rows). Returns nullopt if it existed
  // and if_not_exists was given. HUGEINT and UHUGEINT columns become DECIMAL(38,0)
  // (Parquet has no 128-bit integer; DuckDB would keep a DOUBLE).
  // `properties` as SetProperties checks them (CREATE TABLE ... WITH (...)).
  std::optional<TableInfo> CreateManagedTable(const std::string& database, const std::string& table,
                                              const std::vector<Column>& schema, bool if_not_exists,
                                              const std::map<std::string, std::string>& properties = {});
  // Changes the columns (or partitioning) of a managed table, as one metadata
  // transaction that `hook` joins (governance renames or forgets what names the
  // column there). No data file is touched; commits that started before read and
  // write correctly (each file records its schema version). Returns the table after
  // it, or nullopt if IF [NOT] EXISTS made it nothing. kInvalidArgument for a change
  // that is not allowed (unknown column, a type that does not widen, the last
  // column, a partition column), kConflict if another ALTER raced it.
  using SchemaHook = std::function<void(const TableInfo& before, const SchemaChange&)>;
  std::optional<TableInfo> AlterSchema(const TableInfo& table, const SchemaChange& change,
                                       const SchemaHook& hook = {});
  // Sets (value) or unsets (nullopt) properties of a managed table; each key must be
  // one of TableProperties() and each value one it allows (kInvalidArgument).
  TableInfo SetProperties(const TableInfo& table,
                          const std::map<std::string, std::optional<std::string>>& changes);
  // Drops a table from the catalog; a managed table's files become orphans.
  void DropTable(const std::string& database, const std::string& table, bool if_exists,
                 const DropHook& hook = {});

  // Writes the rows of `query` to a managed table: appends, or replaces all rows
  // (overwrite). Returns the new snapshot. Appends retry on conflict; an overwrite
  // whose base moved fails with kConflict. With `elsewhere`, that writes the files
  // (lake::WriteParquetWith) unless the table is encrypted or partitioned (the keys
  // stay in this server; partitions: not yet), and this catalog commits them.
  WriteResult Write(const TableInfo& table, duckdb::unique_ptr<duckdb::SelectStatement> query, bool overwrite,
                    const lake::ParquetWrite& elsewhere = {});

  // A row-level change (DELETE, UPDATE, MERGE) by copy-on-write. `changes` is a
  // Parquet file a governed query wrote from the snapshot table.snapshot_id, whose
  // files are `files` (absolute paths): one row per changed row, __tarn_file (index
  // into `files`) and __tarn_row (row number in that file), then the new values of
  // `set_columns` (by name, typed as the table's). Without set columns every picked
  // row is deleted; with `flagged` (MERGE) a row is deleted if __tarn_delete, a new
  // row (__tarn_row NULL) is inserted if __tarn_insert, from columns __tarn_ins_<name>
  // in table order, and the other picked rows are updated. ChangeRows rewrites every
  // file holding a changed row (without it, or with its new values), adds the new
  // rows, and commits the base's files with those replaced. If another commit moved
  // the table meanwhile the change is replayed on top of it when every rewritten
  // file is still live there; otherwise kConflict and nothing changes. An update
  // that names one row twice fails (kInvalidArgument); one whose new row does not
  // meet `row_check` (SQL over the table's columns; "" for none) fails with
  // kPermissionDenied. Nothing is left behind by a failure.
  struct RowChange {
    std::string operation;  // delete, update, merge
    std::filesystem::path changes;
    std::vector<std::string> set_columns;
    bool flagged = false;
    std::string row_check;
  };
  struct ChangeResult {
    SnapshotInfo snapshot;
    int64_t rows_removed = 0;
    int64_t rows_updated = 0;
    int64_t rows_inserted = 0;
  };
  ChangeResult ChangeRows(const TableInfo& table, const std::vector<std::string>& files,
                          const RowChange& change);

  // Compaction (OPTIMIZE): rewrites the live rows of the table's small files (under
  // half of target_bytes) and of its files with deletes, or with `order_by` of all
  // its files, into new files of about target_bytes, sorted by `order_by` if given.
  // `where` (SQL over the table's columns, "" for none) limits it to the files
  // holding a row that meets it. The rows do not change; the commit is replayed on a
  // newer snapshot if the files it rewrote are still live there, else kConflict.
  // Nothing to rewrite: no commit.
  struct OptimizeOptions {
    std::string where;
    std::vector<std::string> order_by;  // column names
    int64_t target_bytes = int64_t{128} << 20;
  };
  struct OptimizeResult {
    std::optional<SnapshotInfo> snapshot;  // nullopt: nothing was rewritten
    int64_t files_rewritten = 0;           // data and delete files replaced
    int64_t files_written = 0;
    int64_t rows = 0;
  };
  OptimizeResult Optimize(const TableInfo& table, const OptimizeOptions& options);

  // Forgets the table's snapshots created before `older_than` (UTC,
  // "YYYY-MM-DDTHH:MM:SSZ") except the current one and the newest `retain_last`, and
  // then removes the files no snapshot of any table names any more. Time travel to
  // a forgotten snapshot then fails with kNotFound.
  struct ExpireResult {
    int64_t snapshots = 0;  // snapshots forgotten
    int64_t files = 0;      // files removed
  };
  ExpireResult ExpireSnapshots(const TableInfo& table, const std::string& older_than, int64_t retain_last);

  // From now on, the next Write records `key` in its commit's transaction (a second
  // commit under one key fails: the key's primary key), so a caller that reruns work
  // after a crash can tell, with CommittedUnder, whether the write already happened.
  // nullopt: writes record nothing.
  void SetCommitKey(std::optional<CommitKey> key) { commit_key_ = std::move(key); }
  // The rows the write recorded under `key` committed, or nullopt if none was.
  std::optional<int64_t> CommittedUnder(const CommitKey& key);
  // Forgets every key of `scope` (its writer will not rerun anything).
  static void ForgetCommitKeys(store::MetaStore& store, const std::string& scope);

  // Properties the next CreateManagedTable gives its table besides its own
  // (CREATE TABLE ... WITH (...)); {} for none.
  void SetNewTableProperties(std::map<std::string, std::string> properties) {
    new_table_properties_ = std::move(properties);
  }

  // The keys of encrypted tables (not owned; null: no table may be encrypted).
  void SetKeyring(lake::Keyring* keyring) { keyring_ = keyring; }
  lake::Keyring* keyring() const { return keyring_; }

  // Who the commits made from now on are recorded as (SHOW HISTORY's "who").
  void SetCommitter(std::string user) { committer_ = std::move(user); }

  // Snapshots.
  std::vector<SnapshotInfo> ListSnapshots(const TableInfo& table);
  // The snapshot of a managed table that `at` names: that snapshot if it is one of
  // the table's, or the one that was current at the timestamp. kNotFound otherwise,
  // kInvalidArgument for an external table.
  int64_t SnapshotAt(const TableInfo& table, const TimeTravel& at);
  // A new commit whose files, schema and statistics are those of snapshot `to`
  // (which SnapshotAt checked): undoes everything after it and can itself be rolled
  // back. kConflict if another commit moved the table meanwhile.
  SnapshotInfo Rollback(const TableInfo& table, int64_t to);
  // A new managed table db.name whose first snapshot names the files of `source`'s
  // snapshot `at` (no data is copied; later writes to either table are their own).
  // nullopt if it existed and if_not_exists was given.
  std::optional<TableInfo> Clone(const TableInfo& source, int64_t at, const std::string& database,
                                 const std::string& name, bool if_not_exists);
  SnapshotInfo GetSnapshot(int64_t snapshot_id);
  std::vector<DataFile> SnapshotFiles(int64_t snapshot_id);

  // The data files a statement reading `table` scans now, as absolute paths: the
  // current snapshot's files for a managed table, the files at the location for an
  // external one.
  std::vector<std::string> FilesToScan(const TableInfo& table);

  // What a statement reading `table` scans now: FilesToScan, their total size in
  // bytes, and the scan over them (ScanRef; copy it, it is shared). A managed table's
  // is kept per snapshot, which never changes, so only the first statement on a new
  // snapshot reads its file list; an external table's location is listed each time.
  struct TableScan {
    std::vector<std::string> files;   // data files
    std::vector<DeleteFile> deletes;  // merge-on-read: rows of `files` left out
    std::vector<std::string> keys;    // keys[i]: the key files[i] is encrypted with ("": none)
    std::vector<int64_t> versions;    // versions[i]: the schema version files[i] was written under
    int64_t bytes = 0;
    duckdb::unique_ptr<duckdb::TableRef> ref;
    // Every file the scan opens: data and delete files.
    std::vector<std::string> Paths() const;
  };
  std::shared_ptr<const TableScan> Scan(const TableInfo& table);

  // Relative paths of every file some snapshot of an existing table names.
  std::set<std::string> LiveFiles();

 private:
  int64_t DatabaseId(const std::string& name);
  // Inside a transaction: a table's row, snapshots and file lists.
  void DeleteTableRows(int64_t id);
  TableInfo ReadTable(const store::Row& row);
  // Inside a transaction: inserts a snapshot (and its file list) whose parent is `base`.
  // What a commit changed, for its snapshot's history row.
  struct Change {
    std::string operation;
    int64_t rows_added = 0;
    int64_t rows_removed = 0;
    std::string detail = {};
  };
  SnapshotInfo RecordSnapshotLocked(const TableInfo& table, std::optional<int64_t> base, const Change& change,
                                    const std::vector<DataFile>& files, const std::vector<Column>& schema,
                                    const nlohmann::json& stats);
  // Appends `file` to whatever the table's current snapshot is, holding the table's
  // row lock, so concurrent appends serialize instead of conflicting.
  SnapshotInfo CommitAppend(const TableInfo& table, const std::vector<DataFile>& files,
                            const nlohmann::json& file_stats);
  // Inside a write's commit transaction: records the commit key, if one is set.
  void RecordCommitKeyLocked(const TableInfo& table, const SnapshotInfo& snapshot, int64_t rows);
  // Records a snapshot and makes it current if the table's current snapshot is
  // still `base`; returns nullopt (and changes nothing) otherwise.
  std::optional<SnapshotInfo> TryCommit(const TableInfo& table, std::optional<int64_t> base,
                                        const Change& change, const std::vector<DataFile>& files,
                                        const std::vector<Column>& schema, const nlohmann::json& stats);
  // What a row change or compaction commits, relative to the snapshot it read.
  struct Replacement {
    std::set<std::string> removed;  // files it leaves out (relative paths)
    std::set<std::string> kept;     // data files it gives a new delete file; they stay
    std::vector<DataFile> added;
  };
  // Commits `plan` on top of `base`, or of whatever is current if the plan still
  // applies there (every removed and kept file live, no new delete file on them);
  // nullopt if not.
  std::optional<SnapshotInfo> CommitReplace(const TableInfo& table, int64_t base, const Replacement& plan,
                                            const Change& change);
  // After a failed commit: removes the data files it wrote that no snapshot names.
  void RemoveUncommitted(const std::vector<DataFile>& files);
  // Inserts the row of a new managed table (no snapshot yet); nullopt if the name is
  // taken and if_not_exists.
  // (Encrypted if the keyring says so and `properties` does not.)
  // `schema` keeps its column ids (a clone's); columns without one are numbered after
  // `last_column_id`.
  std::optional<TableInfo> InsertManagedTable(const std::string& db, const std::string& name,
                                              std::vector<Column> schema, bool if_not_exists,
                                              const std::map<std::string, std::string>& properties = {},
                                              int64_t schema_version = 0, int64_t last_column_id = 0);
  // New data files of `table` holding the rows of `query` (split by its partition
  // columns), each recording the table's schema version; encrypted under `key`.
  std::vector<DataFile> WriteData(const TableInfo& table, duckdb::unique_ptr<duckdb::SelectStatement> query,
                                  const std::string& key, const lake::ParquetWrite& elsewhere = {});

  store::MetaStore& store_;
  const lake::Lake& lake_;
  engine::EngineConnection& internal_;
  // Scan() of managed tables, by table id, snapshot id and name; at most kMaxScans.
  struct CachedScan {
    std::vector<Column> schema;  // the table's schema when it was made
    std::shared_ptr<const TableScan> scan;
  };
  static constexpr size_t kMaxScans = 256;
  std::map<std::string, CachedScan> scans_;
  // After a commit: expires the table's old snapshots if its expire_snapshots_after says so.
  void AutoExpire(const TableInfo& table);
  // Gives the engine the keys `files` are encrypted with (kNotFound for a missing one).
  void RegisterKeys(const std::vector<DataFile>& files);
  // The key new data files of `table` are encrypted with ("" if it is not encrypted).
  std::string WriteKey(const TableInfo& table);
  // CollectStats over the data files among `files`; none if one is encrypted (its
  // footer cannot be read without the key, and partial bounds would be wrong).
  nlohmann::json StatsOf(const std::vector<DataFile>& files, const std::vector<Column>& schema);

  std::optional<CommitKey> commit_key_;
  std::string committer_;
  lake::Keyring* keyring_ = nullptr;
  std::map<std::string, std::string> new_table_properties_;
};

// What a statement reading `table` scans: the files read directly (Parquet) without
// the rows `deletes` remove, or cast to the catalog schema (CSV, JSON), or an empty
// relation of the table's schema when there are no files. With `positions` it also
// has each row's place, __tarn_file (index into `files`) and __tarn_row (its
// file_row_number). Its alias is the table's name. keys[i] is the key files[i] is
// encrypted with, versions[i] the schema version it was written under (missing: none,
// the table's current one): files of older versions are read through the current
// schema (stored names renamed, added columns NULL, widened ones cast).
duckdb::unique_ptr<duckdb::TableRef> ScanRef(const TableInfo& table, const std::vector<std::string>& files,
                                             const std::vector<DeleteFile>& deletes = {},
                                             bool positions = false,
                                             const std::vector<std::string>& keys = {},
                                             const std::vector<int64_t>& versions = {});

}  // namespace tarn::catalog
