// PgSource: one read-only libpq connection to an external PostgreSQL database, for
// validations (quality/external.h). Internal to src/quality.
//
// Everything it runs is in one REPEATABLE READ, READ ONLY transaction, so that every
// query of a validation sees the same snapshot; session settings fix what text
// values look like (UTC, ISO dates, shortest exact floats).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "quality/external.h"

namespace tarn::quality {

struct PgColumn {
  std::string name;
  std::string pg_type;    // format_type(): "numeric(12,2)", "text", ...
  std::string duck_type;  // what it is read as: DECIMAL(12,2), VARCHAR, ...
};

// Rows as text (nullopt: NULL), with their columns read as DuckDB types.
struct PgRows {
  std::vector<PgColumn> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
};

class PgSource {
 public:
  // Connects (10 s timeout) and opens the transaction. kIo naming the connection (not
  // its URL or password) when the database cannot be reached or refuses the login.
  PgSource(const ExternalConnection& connection, int statement_timeout_s);
  ~PgSource();
  PgSource(const PgSource&) = delete;
  PgSource& operator=(const PgSource&) = delete;

  // The columns of `table` ("schema"."table", quoted). kNotFound, worded as for a
  // table that does not exist, when it does not or the connection may not read it.
  std::vector<PgColumn> Describe(const std::string& table, const std::string& name);

  // Runs a query and keeps all its rows.
  PgRows Query(const std::string& sql);
  // Runs a query and hands its rows to `row` one at a time (nothing kept).
  void Stream(const std::string& sql,
              const std::function<void(const std::vector<std::optional<std::string>>&)>& row,
              std::vector<PgColumn>& columns);

  // Bytes of values received so far (result text, not protocol overhead).
  int64_t bytes_received() const { return bytes_; }
  int64_t queries() const { return queries_; }

 private:
  struct Conn;
  std::unique_ptr<Conn> conn_;
  std::string name_;
  int64_t bytes_ = 0, queries_ = 0;
};

// The DuckDB type a PostgreSQL type (format_type's text) is read as.
std::string DuckTypeOfPg(const std::string& pg_type);

}  // namespace tarn::quality
