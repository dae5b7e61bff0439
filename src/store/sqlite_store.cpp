#include "store/sqlite_store.h"

#include <memory>

#include "common/error.h"

namespace tarn::store {

SqliteStore::SqliteStore(const std::string& path) {
  int rc = sqlite3_open_v2(path.c_str(), &db_,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error::Io("cannot open metadata store {}: {}", path, msg);
  }
  sqlite3_busy_timeout(db_, 30000);
  sqlite3_extended_result_codes(db_, 1);
  Execute("PRAGMA journal_mode=WAL", {});
  Execute("PRAGMA synchronous=FULL", {});
  Execute("PRAGMA foreign_keys=ON", {});
}

SqliteStore::~SqliteStore() {
  prepared_.clear();  // finalized before the connection closes
  sqlite3_close_v2(db_);
}

sqlite3_stmt* SqliteStore::Prepare(std::string_view sql) {
  auto it = prepared_.find(std::string(sql));
  if (it != prepared_.end()) return it->second.get();
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &raw,
                              nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(raw);
    Fail(rc, "prepare");
  }
  if (prepared_.size() >= 256) prepared_.clear();  // a bound on memory, never reached by Tarn's own SQL
  return prepared_.emplace(std::string(sql), std::unique_ptr<sqlite3_stmt, Finalize>(raw)).first->second.get();
}

void SqliteStore::Fail(int rc, std::string_view what) {
  std::string msg = sqlite3_errmsg(db_);
  int primary = rc & 0xff;
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    throw Error::AlreadyExists("metadata store: {}", msg);
  }
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    throw Error::Conflict("metadata store is busy ({}); try again", msg);
  }
  throw Error::Io("metadata store: {} failed: {}", what, msg);
}

std::vector<Row> SqliteStore::Query(std::string_view sql, const std::vector<Param>& params) {
  sqlite3_stmt* raw = Prepare(sql);
  // Whatever happens, the statement is reset for its next use (and releases its locks).
  struct Reset {
    sqlite3_stmt* s;
    ~Reset() {
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
    }
  } reset{raw};
  int rc = SQLITE_OK;
  for (size_t i = 0; i < params.size(); i++) {
    int idx = static_cast<int>(i + 1);
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::nullptr_t>) {
            rc = sqlite3_bind_null(raw, idx);
          } else if constexpr (std::is_same_v<T, int64_t>) {
            rc = sqlite3_bind_int64(raw, idx, v);
          } else if constexpr (std::is_same_v<T, double>) {
            rc = sqlite3_bind_double(raw, idx, v);
          } else {
            rc = sqlite3_bind_text(raw, idx, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
          }
        },
        params[i]);
    if (rc != SQLITE_OK) Fail(rc, "bind");
  }
  std::vector<Row> rows;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    int n = sqlite3_column_count(raw);
    std::vector<std::optional<std::string>> cells;
    cells.reserve(n);
    for (int c = 0; c < n; c++) {
      if (sqlite3_column_type(raw, c) == SQLITE_NULL) {
        cells.emplace_back(std::nullopt);
      } else {
        auto text = reinterpret_cast<const char*>(sqlite3_column_text(raw, c));
        cells.emplace_back(std::string(text, sqlite3_column_bytes(raw, c)));
      }
    }
    rows.emplace_back(std::move(cells));
  }
  if (rc != SQLITE_DONE) Fail(rc, "step");
  return rows;
}

int64_t SqliteStore::Execute(std::string_view sql, const std::vector<Param>& params) {
  Query(sql, params);
  return sqlite3_changes64(db_);
}

void SqliteStore::Begin() {
  Execute("BEGIN IMMEDIATE", {});
}
void SqliteStore::Commit() {
  Execute("COMMIT", {});
}
void SqliteStore::Rollback() {
  Execute("ROLLBACK", {});
}

}  // namespace tarn::store
