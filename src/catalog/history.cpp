// A table's history: time travel, rollback and zero-copy clones (catalog.h).
#include "catalog/catalog.h"
#include "common/error.h"
#include "common/util.h"

namespace tarn::catalog {

std::string TimeTravel::Describe() const {
  return snapshot ? fmt::format("SNAPSHOT => {}", *snapshot) : fmt::format("TIMESTAMP => '{}'", timestamp);
}

TimeTravel TimeTravel::Parse(const std::string& raw_unit, const duckdb::Value& v) {
  std::string unit = duckdb::StringUtil::Lower(raw_unit);
  TimeTravel at;
  if (unit == "snapshot" || unit == "version") {
    int64_t n = 0;
    try {
      n = v.IsNull() ? 0 : v.DefaultCastAs(duckdb::LogicalType::BIGINT).GetValue<int64_t>();
    } catch (const std::exception&) {
    }
    if (n < 1)
      throw Error::InvalidArgument("AT (SNAPSHOT => n) takes a snapshot number (SHOW HISTORY lists them)");
    at.snapshot = n;
    return at;
  }
  if (unit != "timestamp") {
    throw Error::InvalidArgument(
        "unknown AT ({} => ...): use AT (SNAPSHOT => 3) or AT (TIMESTAMP => '2026-12-01 09:00:00')",
        unit.substr(0, 40));
  }
  std::string text = v.IsNull() ? "" : v.ToString();
  try {
    auto ts = duckdb::Timestamp::FromString(text, true);
    if (duckdb::Timestamp::IsFinite(ts)) {
      at.timestamp = FormatUtc(duckdb::Timestamp::GetEpochSeconds(ts));
      return at;
    }
  } catch (const std::exception&) {
  }
  throw Error::InvalidArgument(
      "AT (TIMESTAMP => '{}') is not a time: write it as '2026-12-01 09:00:00' (UTC) or with an offset, "
      "'2026-12-01 10:00:00+01'",
      text.substr(0, 40));
}

std::string TimeBefore(const std::string& text) {
  try {
    auto interval =
        duckdb::Value(text).DefaultCastAs(duckdb::LogicalType::INTERVAL).GetValue<duckdb::interval_t>();
    int64_t seconds = duckdb::Interval::GetMicro(interval) / duckdb::Interval::MICROS_PER_SEC;
    if (seconds >= 0) return FormatUtc(static_cast<int64_t>(std::time(nullptr)) - seconds);
  } catch (const std::exception&) {
  }
  try {
    return TimeTravel::Parse("timestamp", duckdb::Value(text)).timestamp;
  } catch (const Error&) {
  }
  throw Error::InvalidArgument(
      "OLDER THAN '{}' is neither an interval ('7 days') nor a time ('2026-12-01 09:00:00')",
      text.substr(0, 40));
}

int64_t Catalog::SnapshotAt(const TableInfo& table, const TimeTravel& at) {
  if (table.kind != TableKind::kManaged) {
    throw Error::InvalidArgument(
        "{} is an external table: its files are read as they lie, so it has no history to travel to",
        table.QualifiedName());
  }
  if (at.snapshot) {
    auto rows =
        store_.Query("SELECT id FROM snapshots WHERE id = ? AND table_id = ?", {*at.snapshot, table.id});
    if (rows.empty()) {
      throw Error::NotFound("{} has no snapshot {} (SHOW HISTORY {} lists them)", table.QualifiedName(),
                            *at.snapshot, table.QualifiedName());
    }
    return *at.snapshot;
  }
  // Snapshots are committed in id order, so the one current at a time is the
  // newest made at or before it.
  auto rows = store_.Query(
      "SELECT MAX(id) FROM snapshots WHERE table_id = ? AND created_at <= ? AND id <= COALESCE((SELECT "
      "current_snapshot_id FROM tables WHERE id = ?), 0)",
      {table.id, at.timestamp, table.id});
  if (rows.empty() || !rows[0].OptInt(0)) {
    auto first = store_.Query("SELECT MIN(created_at) FROM snapshots WHERE table_id = ?", {table.id});
    std::string since = first.empty() || first[0].IsNull(0) ? "" : ", its first is from " + first[0].Str(0);
    throw Error::NotFound("{} has no snapshot at or before {}{}", table.QualifiedName(), at.timestamp, since);
  }
  return *rows[0].OptInt(0);
}

SnapshotInfo Catalog::Rollback(const TableInfo& given, int64_t to) {
  TableInfo table = GetTable(given.database, given.name);
  SnapshotInfo target = GetSnapshot(to);
  std::optional<int64_t> base = table.snapshot_id;
  int64_t current_rows = base ? GetSnapshot(*base).row_count : 0;
  auto files = SnapshotFiles(to);
  Change change{"rollback", target.row_count, current_rows, fmt::format("to snapshot {}", to)};
  // The schema stays the table's: a rollback undoes data, not ALTER TABLE.
  if (auto s = TryCommit(table, base, change, files, table.schema, target.stats)) {
    AutoExpire(table);
    return *s;
  }
  table = GetTable(given.database, given.name);
  throw Error::Conflict(
      "{} was changed by another commit (now snapshot {}) while the rollback ran; nothing was changed: look "
      "at SHOW HISTORY {} and run it again",
      table.QualifiedName(), table.snapshot_id.value_or(0), table.QualifiedName());
}

std::optional<TableInfo> Catalog::Clone(const TableInfo& source, int64_t at, const std::string& raw_db,
                                        const std::string& raw_name, bool if_not_exists) {
  std::string db = CheckName(raw_db, "database");
  std::string name = CheckName(raw_name, "table");
  SnapshotInfo snap = GetSnapshot(at);
  auto files = SnapshotFiles(at);
  // The clone reads its files as the source does now: with the source's current schema
  // (as time travel does), its column ids and schema version.
  TableInfo now = GetTable(source.database, source.name);
  auto t = InsertManagedTable(db, name, now.schema, if_not_exists, source.properties, now.schema_version,
                              now.last_column_id);
  if (!t) return std::nullopt;
  Change change{"clone", snap.row_count, 0, fmt::format("of {} snapshot {}", source.QualifiedName(), at)};
  TryCommit(*t, std::nullopt, change, files, now.schema, snap.stats);
  return GetTable(db, name);
}

}  // namespace tarn::catalog
