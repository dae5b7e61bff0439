// Running SQL through a Session in tests and reading results back as text.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "engine/result_writer.h"
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

// Runs `sql`; returns the rows of its last query.
inline Rows Query(session::Session& s, const std::string& sql) {
  Collect c;
  s.Execute(sql, c);
  return c.rows;
}

// The single value of a one-row, one-column result.
inline std::string Scalar(session::Session& s, const std::string& sql) {
  auto rows = Query(s, sql);
  if (rows.size() != 1 || rows[0].size() != 1) throw std::runtime_error("not a scalar result: " + sql);
  return rows[0][0];
}

// Runs `sql` expecting a tarn::Error; returns it (fails the test if none is thrown).
inline Error ExpectError(session::Session& s, const std::string& sql) {
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
