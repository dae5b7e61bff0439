// PostgresStore: MetaStore over one libpq connection. Internal to src/store.
#pragma once

#include <libpq-fe.h>

#include "store/store.h"

namespace tarn::store {

class PostgresStore final : public MetaStore {
 public:
  explicit PostgresStore(const std::string& url);
  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  std::string_view backend() const override { return "postgresql"; }
  std::vector<Row> Query(std::string_view sql, const std::vector<Param>& params) override;
  int64_t Execute(std::string_view sql, const std::vector<Param>& params) override;

 protected:
  void Begin() override;
  void Commit() override;
  void Rollback() override;
  std::string_view AutoIdType() const override { return "BIGSERIAL PRIMARY KEY"; }
  void LockForMigration() override { Execute("SELECT pg_advisory_xact_lock(7357001)", {}); }

 private:
  // Runs the statement; returns the result, which the caller must PQclear.
  PGresult* Run(std::string_view sql, const std::vector<Param>& params);
  PGconn* conn_ = nullptr;  // owned
};

}  // namespace tarn::store
