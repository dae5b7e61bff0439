// Table maintenance (catalog.h): compaction (Catalog::Optimize) and snapshot expiry
// (Catalog::ExpireSnapshots).
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

// A data file of the snapshot with its delete file, if any.
struct Stored {
  DataFile data;
  std::optional<DataFile> deletes;
  int64_t LiveRows() const { return data.row_count - (deletes ? deletes->row_count : 0); }
  // The bytes its live rows take, estimated from the file's size.
  int64_t LiveBytes() const { return data.row_count > 0 ? data.byte_size * LiveRows() / data.row_count : 0; }
};

// The files a compaction rewrites, in groups that each become files of about `target` bytes.
std::vector<std::vector<Stored>> Groups(const std::vector<Stored>& files,
                                        const Catalog::OptimizeOptions& options) {
  std::vector<Stored> chosen;
  for (auto& f : files) {
    if (!options.order_by.empty() || f.deletes || f.data.byte_size < options.target_bytes / 2) {
      chosen.push_back(f);
    }
  }
  if (!options.order_by.empty()) return {chosen};  // one sort over all
  std::vector<std::vector<Stored>> groups;
  int64_t bytes = 0;
  for (auto& f : chosen) {
    if (groups.empty() || bytes + f.LiveBytes() > options.target_bytes) {
      groups.emplace_back();
      bytes = 0;
    }
    groups.back().push_back(f);
    bytes += f.LiveBytes();
  }
  // A lone small file without deletes is already as compact as it gets.
  std::erase_if(groups, [](const std::vector<Stored>& g) { return g.size() == 1 && !g[0].deletes; });
  return groups;
}

}  // namespace

Catalog::OptimizeResult Catalog::Optimize(const TableInfo& given, const OptimizeOptions& options) {
  if (given.kind != TableKind::kManaged) {
    throw Error::InvalidArgument("{} is an external table: OPTIMIZE compacts managed tables",
                                 given.QualifiedName());
  }
  if (options.target_bytes < (int64_t{1} << 20))
    throw Error::InvalidArgument("the target file size is below 1 MB");
  TableInfo table = GetTable(given.database, given.name);
  std::string order;
  for (auto& c : options.order_by) {
    bool known =
        std::any_of(table.schema.begin(), table.schema.end(), [&](const Column& k) { return k.name == c; });
    if (!known) throw Error::NotFound("column {} does not exist in {}", c, table.QualifiedName());
    order += engine::QuoteIdent(c) + ", ";
  }
  OptimizeResult result;
  if (!table.snapshot_id) return result;
  int64_t base = *table.snapshot_id;
  std::map<std::string, Stored> by_path;
  auto listed = SnapshotFiles(base);
  for (auto& f : listed) {
    if (f.deletes_of.empty()) by_path[f.path].data = f;
  }
  for (auto& f : listed) {
    if (!f.deletes_of.empty() && by_path.count(f.deletes_of)) by_path[f.deletes_of].deletes = f;
  }
  std::vector<Stored> files;
  for (auto& [path, f] : by_path) files.push_back(f);
  RegisterKeys(listed);
  // The live rows of `some` with their places (__tarn_file: index into `some`).
  auto live_rows = [&](const std::vector<Stored>& some) {
    std::vector<std::string> abs, keys;
    std::vector<int64_t> versions;
    std::vector<DeleteFile> deletes;
    for (size_t i = 0; i < some.size(); i++) {
      abs.push_back(lake_.Absolute(some[i].data.path).string());
      keys.push_back(some[i].data.key_id);
      versions.push_back(some[i].data.schema_version);
      if (some[i].deletes) deletes.push_back({i, lake_.Absolute(some[i].deletes->path).string()});
    }
    return LiveRowsSql(table, abs, deletes, true, keys, versions);
  };
  auto trusted = internal_.Trusted();  // Tarn's SQL over the table's own files
  if (!options.where.empty()) {
    // Only the files holding a row that meets the condition.
    auto hit = internal_.Run(
        fmt::format("SELECT DISTINCT __tarn_file FROM ({}) WHERE {}", live_rows(files), options.where));
    std::set<int64_t> keep;
    for (duckdb::idx_t i = 0; i < hit->RowCount(); i++) keep.insert(hit->GetValue(0, i).GetValue<int64_t>());
    std::vector<Stored> matching;
    for (size_t i = 0; i < files.size(); i++) {
      if (keep.count(static_cast<int64_t>(i))) matching.push_back(files[i]);
    }
    files = std::move(matching);
  }
  Replacement plan;
  try {
    std::string key = WriteKey(table);  // new files take the current key: OPTIMIZE re-encrypts
    for (auto& group : Groups(files, options)) {
      int64_t rows = 0, bytes = 0;
      for (auto& f : group) {
        plan.removed.insert(f.data.path);
        if (f.deletes) plan.removed.insert(f.deletes->path);
        rows += f.LiveRows();
        bytes += f.LiveBytes();
      }
      std::string cols;
      for (auto& c : table.schema) cols += (cols.empty() ? "" : ", ") + engine::QuoteIdent(c.name);
      // In order (ties broken by the rows' places); several files: rows numbered in that
      // order, each file a range of numbers (deterministic, so no row is lost or doubled).
      std::string live = live_rows(group);
      std::string in_order = fmt::format("ORDER BY {}__tarn_file, __tarn_row", order);
      std::string numbered =
          fmt::format("SELECT *, row_number() OVER ({}) AS __tarn_n FROM ({})", in_order, live);
      int64_t n = std::max<int64_t>(1, (bytes + options.target_bytes - 1) / options.target_bytes);
      for (int64_t i = 0; i < n; i++) {
        std::string sql =
            n == 1
                ? fmt::format("SELECT {} FROM ({}) {}", cols, live, order.empty() ? "" : in_order)
                : fmt::format("SELECT {} FROM ({}) WHERE __tarn_n > {} AND __tarn_n <= {} ORDER BY __tarn_n",
                              cols, numbered, rows * i / n, rows * (i + 1) / n);
        for (auto& file : WriteData(table, ParseSelect(sql), key)) {
          plan.added.push_back(file);
          result.rows += file.row_count;
        }
      }
    }
    result.files_rewritten = static_cast<int64_t>(plan.removed.size());
    result.files_written = static_cast<int64_t>(plan.added.size());
    if (plan.removed.empty()) return result;
    Change change{"optimize", 0, 0,
                  fmt::format("{} files into {}", result.files_rewritten, result.files_written)};
    result.snapshot = CommitReplace(table, base, plan, change);
    if (!result.snapshot) {
      auto now = GetTable(table.database, table.name);
      throw Error::Conflict(
          "{} was changed by another commit (now snapshot {}) that rewrote or deleted rows of files OPTIMIZE "
          "compacts; nothing was changed: run it again",
          table.QualifiedName(), now.snapshot_id.value_or(0));
    }
    AutoExpire(table);
    return result;
  } catch (...) {
    RemoveUncommitted(plan.added);
    throw;
  }
}

Catalog::ExpireResult Catalog::ExpireSnapshots(const TableInfo& table, const std::string& older_than,
                                               int64_t retain_last) {
  if (table.kind != TableKind::kManaged) {
    throw Error::InvalidArgument("{} is an external table: it has no snapshots to expire",
                                 table.QualifiedName());
  }
  if (retain_last < 1) throw Error::InvalidArgument("RETAIN LAST takes a number of snapshots, at least 1");
  ExpireResult result;
  std::set<std::string> candidates;
  store_.Transaction([&] {
    std::string lock = store_.backend() == "postgresql" ? " FOR UPDATE" : "";
    auto rows = store_.Query("SELECT current_snapshot_id FROM tables WHERE id = ?" + lock, {table.id});
    if (rows.empty()) throw Error::NotFound("table {} does not exist", table.QualifiedName());
    std::optional<int64_t> current = rows[0].OptInt(0);
    auto snapshots =
        store_.Query("SELECT id, created_at FROM snapshots WHERE table_id = ? ORDER BY id DESC", {table.id});
    std::vector<int64_t> expired;
    for (size_t i = 0; i < snapshots.size(); i++) {
      int64_t id = snapshots[i].Int(0);
      bool kept = i < static_cast<size_t>(retain_last) || id == current || snapshots[i].Str(1) >= older_than;
      if (!kept) expired.push_back(id);
    }
    for (int64_t id : expired) {
      for (auto& f : store_.Query("SELECT path FROM snapshot_files WHERE snapshot_id = ?", {id})) {
        candidates.insert(f.Str(0));
      }
      store_.Execute("DELETE FROM snapshot_files WHERE snapshot_id = ?", {id});
      store_.Execute("DELETE FROM snapshots WHERE id = ?", {id});
    }
    result.snapshots = static_cast<int64_t>(expired.size());
    CrashPoint("before_metadata_commit");
  });
  CrashPoint("after_metadata_commit");
  // Files only the forgotten snapshots named are orphans now (a crash here leaves them to `tarn gc`).
  auto live = LiveFiles();
  for (auto& path : candidates) {
    if (live.count(path)) continue;
    std::error_code ec;
    if (fs::remove(lake_.Absolute(path), ec)) result.files++;
  }
  return result;
}

}  // namespace tarn::catalog
