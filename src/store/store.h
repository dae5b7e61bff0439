// MetaStore: the metadata database behind the catalog (and, later, identity,
// governance and jobs).
//
// Two backends speak the same small SQL dialect: SQLite (the embedded default, one
// file in the data directory) and PostgreSQL (selected by a "postgresql://" or
// "postgres://" connection string). Statements use '?' placeholders and the column
// types BIGINT, TEXT and DOUBLE PRECISION; the PostgreSQL backend rewrites
// placeholders to $n. Open() applies every pending schema migration before it
// returns, so a store is always at the newest schema version.
//
// Errors are tarn::Error: kAlreadyExists for unique-key violations, kConflict when
// the database is busy or a serialization failure occurs, kIo otherwise.
//
// Thread-safety: a MetaStore is one database connection; use it from one thread
// at a time. Open one per thread (or per session) for concurrency.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tarn::store {

// A statement parameter.
using Param = std::variant<std::nullptr_t, int64_t, double, std::string>;

// One result row; every cell arrives as text (or NULL).
class Row {
 public:
  explicit Row(std::vector<std::optional<std::string>> cells) : cells_(std::move(cells)) {}
  size_t size() const { return cells_.size(); }
  bool IsNull(size_t i) const { return !cells_.at(i).has_value(); }
  // The cell as text; "" for NULL.
  const std::string& Str(size_t i) const;
  // The cell as an integer; 0 for NULL. Throws kInternal if it is not a number.
  int64_t Int(size_t i) const;
  std::optional<int64_t> OptInt(size_t i) const;

 private:
  std::vector<std::optional<std::string>> cells_;
};

class MetaStore {
 public:
  virtual ~MetaStore() = default;

  // Opens `location`: a PostgreSQL URL, or else the path of a SQLite file (created
  // if missing). Applies pending migrations.
  static std::unique_ptr<MetaStore> Open(const std::string& location);

  // "sqlite" or "postgresql".
  virtual std::string_view backend() const = 0;

  // Runs one statement and returns its rows (none for statements without rows).
  virtual std::vector<Row> Query(std::string_view sql, const std::vector<Param>& params = {}) = 0;
  // Runs one statement and returns the number of rows it changed.
  virtual int64_t Execute(std::string_view sql, const std::vector<Param>& params = {}) = 0;

  // Runs `body` in one write transaction: committed if body returns, rolled back
  // if it throws (the exception propagates). Inside another transaction it is a
  // savepoint: a throwing body undoes only its own writes, and what it wrote commits
  // (or not) with the outer transaction.
  void Transaction(const std::function<void()>& body);

  // Schema version after migrations.
  int64_t SchemaVersion();

 protected:
  virtual void Begin() = 0;
  virtual void Commit() = 0;
  virtual void Rollback() = 0;
  // Serializes migrations across processes; called inside the migration transaction.
  virtual void LockForMigration() {}
  // Text substituted for {{ID}} in migrations: an auto-increment primary key.
  virtual std::string_view AutoIdType() const = 0;

  // Brings the schema up to date; called by Open().
  void Migrate();

 private:
  void Savepoint(const std::function<void()>& body);
  int depth_ = 0;  // open transaction and savepoints
};

}  // namespace tarn::store
