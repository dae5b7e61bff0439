#include "store/store.h"

#include <charconv>

#include "common/error.h"
#include "common/util.h"
#include "store/migrations.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace tarn::store {

namespace {
const std::string kEmpty;
}  // namespace

const std::string& Row::Str(size_t i) const {
  const auto& c = cells_.at(i);
  return c ? *c : kEmpty;
}

std::optional<int64_t> Row::OptInt(size_t i) const {
  const auto& c = cells_.at(i);
  if (!c) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(c->data(), c->data() + c->size(), v);
  if (ec != std::errc() || p != c->data() + c->size()) {
    throw Error::Internal("metadata store returned '{}' where a number was expected", *c);
  }
  return v;
}

int64_t Row::Int(size_t i) const {
  return OptInt(i).value_or(0);
}

std::unique_ptr<MetaStore> MetaStore::Open(const std::string& location) {
  std::unique_ptr<MetaStore> store;
  if (location.starts_with("postgresql://") || location.starts_with("postgres://")) {
    store = std::make_unique<PostgresStore>(location);
  } else {
    store = std::make_unique<SqliteStore>(location);
  }
  store->Migrate();
  return store;
}

void MetaStore::Transaction(const std::function<void()>& body) {
  if (depth_ > 0) return Savepoint(body);
  Begin();
  depth_ = 1;
  try {
    body();
  } catch (...) {
    depth_ = 0;
    try {
      Rollback();
    } catch (...) {
      // The original error is the one worth reporting.
    }
    throw;
  }
  depth_ = 0;
  Commit();
}

void MetaStore::Savepoint(const std::function<void()>& body) {
  std::string name = "tarn_sp" + std::to_string(depth_);
  Execute("SAVEPOINT " + name);
  depth_++;
  try {
    body();
  } catch (...) {
    depth_--;
    try {
      Execute("ROLLBACK TO SAVEPOINT " + name);
      Execute("RELEASE SAVEPOINT " + name);
    } catch (...) {
      // The original error is the one worth reporting.
    }
    throw;
  }
  depth_--;
  Execute("RELEASE SAVEPOINT " + name);
}

int64_t MetaStore::SchemaVersion() {
  auto rows = Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  return rows.empty() ? 0 : rows[0].Int(0);
}

void MetaStore::Migrate() {
  // Fast path: a store at the newest version needs no write lock.
  try {
    if (SchemaVersion() >= Migrations().back().version) return;
  } catch (const Error&) {
    // No schema_migrations table yet: a new store.
  }
  // One transaction for the whole upgrade, so that processes opening a new store
  // at the same moment apply each migration exactly once.
  Transaction([&] {
    LockForMigration();
    Execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, description TEXT NOT "
        "NULL, "
        "applied_at TEXT NOT NULL)");
    for (const auto& m : Migrations()) {
      if (!Query("SELECT 1 FROM schema_migrations WHERE version = ?", {int64_t{m.version}}).empty()) continue;
      for (auto stmt : m.statements) {
        std::string sql(stmt);
        for (size_t pos; (pos = sql.find("{{ID}}")) != std::string::npos;) sql.replace(pos, 6, AutoIdType());
        Execute(sql);
      }
      Execute("INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)",
              {int64_t{m.version}, std::string(m.description), NowUtc()});
    }
  });
}

}  // namespace tarn::store
