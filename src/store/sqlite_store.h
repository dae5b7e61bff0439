// SqliteStore: MetaStore over one SQLite file, in WAL mode with synchronous=FULL
// (a commit that returned survives a crash) and a busy timeout so that several
// processes can share the file. Internal to src/store.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>
#include <unordered_map>

#include "store/store.h"

namespace tarn::store {

class SqliteStore final : public MetaStore {
 public:
  explicit SqliteStore(const std::string& path);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  std::string_view backend() const override { return "sqlite"; }
  std::vector<Row> Query(std::string_view sql, const std::vector<Param>& params) override;
  int64_t Execute(std::string_view sql, const std::vector<Param>& params) override;

 protected:
  void Begin() override;
  void Commit() override;
  void Rollback() override;
  std::string_view AutoIdType() const override { return "INTEGER PRIMARY KEY AUTOINCREMENT"; }

 private:
  [[noreturn]] void Fail(int rc, std::string_view what);
  // A prepared statement for `sql`, from the cache when it was prepared before.
  sqlite3_stmt* Prepare(std::string_view sql);
  struct Finalize {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  sqlite3* db_ = nullptr;  // owned
  // Tarn's metadata SQL is a fixed set of texts: each is prepared once.
  std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, Finalize>> prepared_;
};

}  // namespace tarn::store
