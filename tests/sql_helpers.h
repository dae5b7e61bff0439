// Running SQL in tests, as every front end does (through a session::Runner), and
// reading results back as text.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "engine/result_writer.h"
#include "session/runner.h"
#include "session/session.h"

namespace tarn::testing {

using Rows = std::vector<std::vector<std::string>>;

// Collects every row (as display text) and status line a script produces.
class Collect : public session::ResultHandler {
 public:
  void OnColumns(const std::vector<std::string>& n, const std::vector<duckdb::LogicalType>&) override {
    names = n;
    rows.clear();
  }
  bool OnChunk(duckdb::DataChunk& chunk) override {
    for (duckdb::idx_t r = 0; r < chunk.size(); r++) {
      std::vector<std::string> row;
      for (duckdb::idx_t c = 0; c < chunk.ColumnCount(); c++) row.push_back(engine::ValueText(chunk.GetValue(c, r)));
      rows.push_back(std::move(row));
    }
    return true;
  }
  void OnStatus(const std::string& message) override { statuses.push_back(message); }

  std::vector<std::string> names;
  Rows rows;
  std::vector<std::string> statuses;
};

// Statements run as one principal through a Runner: with its limits, deadlines, run
// registry and result caps, audited with origin "test". Execute() throws the run's
// error, as Session::Execute does.
class RunAs {
 public:
  RunAs(session::Runner& runner, identity::Principal principal, std::string role = {})
      : runner_(runner), principal_(std::move(principal)), role_(std::move(role)) {}

  void Execute(const std::string& sql, session::ResultHandler& handler) const {
    Run(sql, handler).ThrowIfFailed();
  }
  session::RunResult Run(const std::string& sql, session::ResultHandler& handler) const {
    session::RunRequest request;
    request.principal = principal_;
    request.origin.kind = "test";
    request.sql = sql;
    request.role = role_;
    return runner_.Run(request, handler);
  }
  // The caller's governor, as a front end reading the catalog without a statement
  // sees it.
  session::Runner::Lease Borrow() const { return runner_.Borrow({principal_, {"test"}}); }
  const identity::Principal& principal() const { return principal_; }

 private:
  session::Runner& runner_;
  identity::Principal principal_;
  std::string role_;
};

// Runs `sql` (on a Session or a RunAs); returns the rows of its last query.
template <class Caller>
Rows Query(Caller& s, const std::string& sql) {
  Collect c;
  s.Execute(sql, c);
  return c.rows;
}

// The single value of a one-row, one-column result.
template <class Caller>
std::string Scalar(Caller& s, const std::string& sql) {
  auto rows = Query(s, sql);
  if (rows.size() != 1 || rows[0].size() != 1) throw std::runtime_error("not a scalar result: " + sql);
  return rows[0][0];
}

// Runs `sql` expecting a tarn::Error; returns it (fails the test if none is thrown).
template <class Caller>
Error ExpectError(Caller& s, const std::string& sql) {
  Collect c;
  try {
    s.Execute(sql, c);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected an error from: " << sql;
  return Error::Internal("no error");
}

}  // namespace tarn::testing
