// Row-level changes by copy-on-write (catalog.h, Catalog::ChangeRows).
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

// The rows of data file `file` (the index'th of the snapshot) after the change:
// without the deleted rows, with the SET columns of the updated ones from the
// changes file.
std::string RewriteSql(const TableInfo& table, const std::string& file, size_t index,
                       const std::string& changes, const Catalog::RowChange& change) {
  std::string picked = fmt::format("(SELECT * FROM read_parquet({}) WHERE __tarn_file = {})",
                                   engine::QuoteString(changes), index);
  std::string source = "read_parquet(" + engine::QuoteString(file) + ")";
  if (change.set_columns.empty()) {
    return fmt::format("SELECT r.* FROM {} r ANTI JOIN {} c ON c.__tarn_row = r.file_row_number", source,
                       picked);
  }
  std::string cols;
  for (auto& c : table.schema) {
    std::string name = engine::QuoteIdent(c.name);
    bool set =
        std::find(change.set_columns.begin(), change.set_columns.end(), c.name) != change.set_columns.end();
    cols += (cols.empty() ? "" : ", ") +
            (set ? fmt::format("CASE WHEN u.__tarn_row IS NULL THEN r.{0} ELSE u.{0} END AS {0}", name)
                 : "r." + name);
  }
  std::string sql = fmt::format(
      "SELECT {}, u.__tarn_row IS NOT NULL AS __tarn_changed FROM {} r LEFT JOIN {} u ON u.__tarn_row = "
      "r.file_row_number{}",
      cols, source, picked, change.flagged ? " WHERE u.__tarn_delete IS NOT TRUE" : "");
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
  std::set<std::string> removed;
  std::vector<DataFile> added;
  try {
    for (size_t k : touched) {
      removed.insert(lake_.Relative(files[k]));
      auto file =
          lake::WriteParquet(lake_, internal_, ParseSelect(RewriteSql(table, files[k], k, changes, change)),
                             table.schema, table.location);
      if (file.row_count > 0) {
        added.push_back(file);
      } else {
        std::error_code ec;
        fs::remove(lake_.Absolute(file.path), ec);
      }
    }
    if (change.flagged && counts->GetValue(3, 0).GetValue<int64_t>() > 0) {
      auto file = lake::WriteParquet(lake_, internal_, ParseSelect(InsertSql(table, changes, change)),
                                     table.schema, table.location);
      result.rows_inserted = file.row_count;
      added.push_back(file);
    }
    if (removed.empty() && added.empty()) {
      result.snapshot = GetSnapshot(*table.snapshot_id);
      return result;
    }
    Change what{change.operation, result.rows_updated + result.rows_inserted,
                result.rows_updated + result.rows_removed};
    auto s = CommitReplace(table, *table.snapshot_id, removed, added, what);
    if (!s) {
      auto now = GetTable(table.database, table.name);
      throw Error::Conflict(
          "{} was changed by another commit (now snapshot {}) that rewrote or removed rows this {} changes; "
          "nothing was changed: run it again",
          table.QualifiedName(), now.snapshot_id.value_or(0), duckdb::StringUtil::Upper(change.operation));
    }
    result.snapshot = *s;
    return result;
  } catch (...) {
    RemoveUncommitted(added);
    throw;
  }
}

std::optional<SnapshotInfo> Catalog::CommitReplace(const TableInfo& table, int64_t base,
                                                   const std::set<std::string>& removed,
                                                   const std::vector<DataFile>& added, const Change& change) {
  // Snapshot's files with `removed` replaced by `added`; false if some removed file is not among them.
  auto after = [&](int64_t snapshot, std::vector<DataFile>& out) {
    size_t found = 0;
    for (auto& f : SnapshotFiles(snapshot)) {
      if (removed.count(f.path)) {
        found++;
      } else {
        out.push_back(f);
      }
    }
    out.insert(out.end(), added.begin(), added.end());
    return found == removed.size();
  };
  auto stats_of = [&](const std::vector<DataFile>& fs_) {
    std::vector<std::string> abs;
    for (auto& f : fs_) abs.push_back(lake_.Absolute(f.path).string());
    return lake::CollectStats(internal_, abs, table.schema);
  };
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
