// Row-level changes (catalog.h, Catalog::ChangeRows): by copy-on-write, which
// rewrites each data file holding a changed row, or by merge-on-read, which writes
// the changed rows' positions to the data file's delete file and updated rows to a
// new data file.
#include <algorithm>
#include <filesystem>

#include "catalog/catalog.h"
#include "catalog/scan.h"
#include "common/error.h"
#include "common/util.h"
#include "engine/sql_text.h"

namespace fs = std::filesystem;

namespace tarn::catalog {

namespace {

// `sql` with updated or inserted rows (those with __tarn_changed) that fail
// `row_check` stopping the statement.
std::string Checked(const std::string& sql, const TableInfo& table, const Catalog::RowChange& change) {
  std::string check = "true";
  if (!change.row_check.empty()) {
    check = fmt::format("NOT __tarn_changed OR CASE WHEN {} THEN true ELSE error({}) END", change.row_check,
                        engine::QuoteString(fmt::format(
                            "access denied: the {} would write a row of {} outside your row filter; "
                            "nothing was changed",
                            duckdb::StringUtil::Upper(change.operation), table.QualifiedName())));
  }
  return fmt::format("SELECT * EXCLUDE (__tarn_changed) FROM ({}) WHERE {}", sql, check);
}

// The changes file's rows for the index'th data file (`extra`: more conditions).
std::string Picked(const std::string& changes, size_t index, const char* extra = "") {
  return fmt::format("(SELECT * FROM read_parquet({}) WHERE __tarn_file = {}{})",
                     engine::QuoteString(changes), index, extra);
}

bool Sets(const Catalog::RowChange& change, const std::string& column) {
  return std::find(change.set_columns.begin(), change.set_columns.end(), column) != change.set_columns.end();
}

// The table's columns of r, SET ones from u (`when`: only where it holds).
std::string NewValues(const TableInfo& table, const Catalog::RowChange& change, const char* when) {
  std::string cols;
  for (auto& c : table.schema) {
    std::string name = engine::QuoteIdent(c.name);
    std::string value = "r." + name;
    if (Sets(change, c.name)) {
      value = *when ? fmt::format("CASE WHEN {1} THEN u.{0} ELSE r.{0} END AS {0}", name, when) : "u." + name;
    }
    cols += (cols.empty() ? "" : ", ") + value;
  }
  return cols;
}

// The rows of a data file (`reader`, ReadParquetSql) its delete file (`deletes`, ""
// if none) keeps, with their positions as __tarn_pos.
std::string LiveRows(const std::string& reader, const std::string& deletes) {
  std::string sql = fmt::format("SELECT s.*, s.file_row_number AS __tarn_pos FROM {} s", reader);
  if (!deletes.empty()) {
    sql += fmt::format(" ANTI JOIN read_parquet({}) d ON d.__tarn_pos = s.file_row_number",
                       engine::QuoteString(deletes));
  }
  return "(" + sql + ")";
}

// Copy-on-write: the rows of data file `file` (the index'th of the snapshot) after
// the change: without the deleted rows, with the SET columns of the updated ones.
std::string RewriteSql(const TableInfo& table, const std::string& reader, const std::string& deletes,
                       size_t index, const std::string& changes, const Catalog::RowChange& change) {
  if (change.set_columns.empty()) {
    return fmt::format("SELECT {} FROM {} r ANTI JOIN {} u ON u.__tarn_row = r.__tarn_pos",
                       NewValues(table, change, ""), LiveRows(reader, deletes), Picked(changes, index));
  }
  std::string sql = fmt::format(
      "SELECT {}, u.__tarn_row IS NOT NULL AS __tarn_changed FROM {} r LEFT JOIN {} u ON u.__tarn_row = "
      "r.__tarn_pos{}",
      NewValues(table, change, "u.__tarn_row IS NOT NULL"), LiveRows(reader, deletes), Picked(changes, index),
      change.flagged ? " WHERE u.__tarn_delete IS NOT TRUE" : "");
  return Checked(sql, table, change);
}

// Merge-on-read: the positions of data file `index` its new delete file lists, those
// of its old one (`deletes`, "" if none) and the picked ones.
std::string DeletesSql(const std::string& deletes, size_t index, const std::string& changes) {
  std::string sql = fmt::format("SELECT __tarn_row FROM {}", Picked(changes, index));
  if (!deletes.empty())
    sql += " UNION ALL SELECT __tarn_pos FROM read_parquet(" + engine::QuoteString(deletes) + ")";
  return "SELECT * FROM (" + sql + ") ORDER BY 1";
}

// Merge-on-read: the updated rows of the touched data files, with their new values.
std::string UpdatedSql(const TableInfo& table, const std::vector<std::string>& readers,
                       const std::vector<size_t>& touched, const std::string& changes,
                       const Catalog::RowChange& change) {
  std::string sql;
  for (size_t k : touched) {
    sql += fmt::format(
        "{}SELECT {}, true AS __tarn_changed FROM {} r JOIN {} u ON u.__tarn_row = "
        "r.file_row_number",
        sql.empty() ? "" : " UNION ALL ", NewValues(table, change, ""), readers[k],
        Picked(changes, k, change.flagged ? " AND __tarn_delete IS NOT TRUE" : ""));
  }
  return Checked(sql, table, change);
}

// MERGE's new rows, in table order.
std::string InsertSql(const TableInfo& table, const std::string& changes, const Catalog::RowChange& change) {
  std::string cols;
  for (auto& c : table.schema) {
    cols += fmt::format("{}{} AS {}", cols.empty() ? "" : ", ", engine::QuoteIdent("__tarn_ins_" + c.name),
                        engine::QuoteIdent(c.name));
  }
  return Checked(fmt::format("SELECT {}, true AS __tarn_changed FROM read_parquet({}) WHERE __tarn_insert",
                             cols, engine::QuoteString(changes)),
                 table, change);
}

}  // namespace

Catalog::ChangeResult Catalog::ChangeRows(const TableInfo& table, const std::vector<std::string>& files,
                                          const RowChange& change) {
  if (!table.snapshot_id) throw Error::Internal("row change of a table without a snapshot");
  auto trusted = internal_.Trusted();  // Tarn's SQL over the snapshot's files and its own change file
  std::string changes = change.changes.string();
  std::string q = engine::QuoteString(changes);
  // Picked target rows (inserted rows have none), distinct ones, deleted and inserted rows.
  auto counts = internal_.Run(fmt::format(
      "SELECT count(__tarn_row), count(DISTINCT (__tarn_file, __tarn_row)) FILTER (WHERE __tarn_row IS NOT "
      "NULL), {} FROM read_parquet({})",
      change.flagged ? "count(*) FILTER (WHERE __tarn_delete), count(*) FILTER (WHERE __tarn_insert)"
                     : "0, 0",
      q));
  int64_t picked = counts->GetValue(0, 0).GetValue<int64_t>();
  int64_t distinct = counts->GetValue(1, 0).GetValue<int64_t>();
  bool update = !change.set_columns.empty();
  if ((update || change.flagged) && picked != distinct) {
    throw Error::InvalidArgument(
        "the {} would change {} rows of {} more than once (its join matches them several times): make each "
        "target row match at most one source row; nothing was changed",
        duckdb::StringUtil::Upper(change.operation), picked - distinct, table.QualifiedName());
  }
  ChangeResult result;
  if (change.flagged) {
    result.rows_removed = counts->GetValue(2, 0).GetValue<int64_t>();
    result.rows_updated = distinct - result.rows_removed;
  } else {
    (update ? result.rows_updated : result.rows_removed) = distinct;
  }
  std::vector<size_t> touched;
  auto which = internal_.Run(fmt::format(
      "SELECT DISTINCT __tarn_file FROM read_parquet({}) WHERE __tarn_file IS NOT NULL ORDER BY 1", q));
  for (duckdb::idx_t i = 0; i < which->RowCount(); i++) {
    auto k = which->GetValue(0, i).GetValue<int64_t>();
    if (k < 0 || static_cast<size_t>(k) >= files.size()) throw Error::Internal("row change names no file");
    touched.push_back(static_cast<size_t>(k));
  }
  // The snapshot's delete files, by the data file they apply to, and its data files' row counts.
  std::map<std::string, DataFile> deletes_of;
  std::map<std::string, int64_t> rows_of;
  std::map<std::string, std::string> key_of;
  std::map<std::string, int64_t> version_of;
  auto listed = SnapshotFiles(*table.snapshot_id);
  RegisterKeys(listed);
  for (auto& f : listed) {
    if (f.deletes_of.empty()) {
      rows_of[f.path] = f.row_count;
      key_of[f.path] = f.key_id;
      version_of[f.path] = f.schema_version;
    } else {
      deletes_of[f.deletes_of] = f;
    }
  }
  std::vector<std::string> readers;  // read_parquet(...) of each data file, with its key
  for (auto& f : files) {
    std::string rel = lake_.Relative(f);
    readers.push_back(ReadParquetSql(table, f, key_of[rel], version_of[rel]));
  }
  std::string key = WriteKey(table);
  auto old_deletes = [&](const std::string& rel) {
    auto it = deletes_of.find(rel);
    return it == deletes_of.end() ? std::string() : lake_.Absolute(it->second.path).string();
  };
  bool merge_on_read = WriteMode(table) == kMergeOnRead;
  Replacement plan;
  auto& added = plan.added;
  // New data files of the table (encrypted if the table is); the rows they hold.
  auto write = [&](const std::string& sql) {
    int64_t rows = 0;
    for (auto& f : WriteData(table, ParseSelect(sql), key)) {
      rows += f.row_count;
      added.push_back(f);
    }
    return rows;
  };
  // A delete file (positions only: not encrypted); null if it lists no row.
  auto write_deletes = [&](const std::string& sql) {
    auto file = lake::WriteParquet(lake_, internal_, ParseSelect(sql),
                                   std::vector<Column>{{"__tarn_pos", "BIGINT"}}, table.location);
    if (file.row_count > 0) {
      added.push_back(file);
      return &added.back();
    }
    std::error_code ec;
    fs::remove(lake_.Absolute(file.path), ec);
    return static_cast<DataFile*>(nullptr);
  };
  try {
    for (size_t k : touched) {
      std::string rel = lake_.Relative(files[k]);
      std::string old = old_deletes(rel);
      if (!old.empty()) plan.removed.insert(deletes_of[rel].path);
      if (!merge_on_read) {
        plan.removed.insert(rel);
        write(RewriteSql(table, readers[k], old, k, changes, change));
        continue;
      }
      DataFile* d = write_deletes(DeletesSql(old, k, changes));
      if (d && d->row_count >= rows_of[rel]) {  // no row of it is left: drop the file instead
        plan.removed.insert(rel);
        std::error_code ec;
        fs::remove(lake_.Absolute(d->path), ec);
        added.pop_back();
      } else if (d) {
        d->deletes_of = rel;
        plan.kept.insert(rel);
      }
    }
    if (merge_on_read && (update || change.flagged) && !touched.empty()) {
      write(UpdatedSql(table, readers, touched, changes, change));
    }
    if (change.flagged && counts->GetValue(3, 0).GetValue<int64_t>() > 0) {
      result.rows_inserted = write(InsertSql(table, changes, change));
    }
    if (plan.removed.empty() && added.empty()) {
      result.snapshot = GetSnapshot(*table.snapshot_id);
      return result;
    }
    Change what{change.operation, result.rows_updated + result.rows_inserted,
                result.rows_updated + result.rows_removed};
    auto s = CommitReplace(table, *table.snapshot_id, plan, what);
    if (!s) {
      auto now = GetTable(table.database, table.name);
      throw Error::Conflict(
          "{} was changed by another commit (now snapshot {}) that rewrote or removed rows this {} changes; "
          "nothing was changed: run it again",
          table.QualifiedName(), now.snapshot_id.value_or(0), duckdb::StringUtil::Upper(change.operation));
    }
    result.snapshot = *s;
    AutoExpire(table);
    return result;
  } catch (...) {
    RemoveUncommitted(added);
    throw;
  }
}

std::optional<SnapshotInfo> Catalog::CommitReplace(const TableInfo& table, int64_t base,
                                                   const Replacement& plan, const Change& change) {
  // The snapshot's files with plan.removed replaced by plan.added; false if the plan
  // does not apply to it: a removed or kept file is gone, or a data file it touches
  // has a delete file the plan did not start from.
  auto after = [&](int64_t snapshot, std::vector<DataFile>& out) {
    size_t found = 0, kept = 0;
    bool fresh_deletes = false;
    for (auto& f : SnapshotFiles(snapshot)) {
      kept += plan.kept.count(f.path);
      if (plan.removed.count(f.path)) {
        found++;
        continue;
      }
      fresh_deletes = fresh_deletes || plan.kept.count(f.deletes_of) || plan.removed.count(f.deletes_of);
      out.push_back(f);
    }
    out.insert(out.end(), plan.added.begin(), plan.added.end());
    return found == plan.removed.size() && kept == plan.kept.size() && !fresh_deletes;
  };
  auto stats_of = [&](const std::vector<DataFile>& files) { return StatsOf(files, table.schema); };
  std::vector<DataFile> planned;
  after(base, planned);
  nlohmann::json planned_stats = stats_of(planned);  // footers read outside the transaction
  std::optional<SnapshotInfo> out;
  store_.Transaction([&] {
    std::string lock = store_.backend() == "postgresql" ? " FOR UPDATE" : "";
    auto rows = store_.Query("SELECT current_snapshot_id FROM tables WHERE id = ?" + lock, {table.id});
    if (rows.empty())
      throw Error::NotFound("table {} was dropped while the change ran", table.QualifiedName());
    int64_t current = rows[0].Int(0);
    std::vector<DataFile> files;
    nlohmann::json stats;
    if (current == base) {
      files = planned;
      stats = planned_stats;
    } else {
      if (!after(current, files)) return;  // a file it rewrote is gone: a real conflict
      stats = stats_of(files);
    }
    auto s = RecordSnapshotLocked(table, current, change, files, table.schema, stats);
    RecordCommitKeyLocked(table, s, change.rows_added + change.rows_removed);
    CrashPoint("before_metadata_commit");
    store_.Execute("UPDATE tables SET current_snapshot_id = ? WHERE id = ?", {s.id, table.id});
    out = s;
  });
  if (out) CrashPoint("after_metadata_commit");
  return out;
}

}  // namespace tarn::catalog
