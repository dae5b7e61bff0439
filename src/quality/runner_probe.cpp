#include "quality/runner_probe.h"

namespace tarn::quality {

namespace {

// Keeps the columns and the first column's values of a query's rows.
class Keep : public session::ResultHandler {
 public:
  void OnColumns(const std::vector<std::string>& names,
                 const std::vector<duckdb::LogicalType>& types) override {
    columns.clear();
    for (size_t i = 0; i < names.size(); i++) columns.push_back({names[i], types[i].ToString()});
  }
  bool OnChunk(duckdb::DataChunk& chunk) override {
    for (duckdb::idx_t r = 0; r < chunk.size(); r++) {
      auto v = chunk.GetValue(0, r);
      values.push_back(v.IsNull() ? "" : v.ToString());
    }
    return true;
  }
  void OnStatus(const std::string&) override {}
  std::vector<Column> columns;
  std::vector<std::string> values;
};

}  // namespace

// A run of `sql` as the probe's principal, with a run id of its own.
session::RunResult RunnerProbe::Run(const std::string& sql, std::optional<int64_t> max_rows,
                                    session::ResultHandler& handler) {
  session::RunRequest r;
  r.principal = principal_;
  r.origin = origin_;
  r.origin.run_id.clear();
  r.role = role_;
  r.sql = sql;
  r.caps.max_rows = max_rows;
  r.inputs = inputs_;
  return runner_.Run(r, handler);
}

std::vector<Column> RunnerProbe::Describe(const std::string& query) {
  Keep keep;
  Run("SELECT * FROM (" + query + ") LIMIT 0", std::nullopt, keep).ThrowIfFailed();
  return keep.columns;
}

std::vector<std::string> RunnerProbe::Values(const std::string& query, size_t limit) {
  Keep keep;
  Run(query, static_cast<int64_t>(limit), keep).ThrowIfFailed();
  return keep.values;
}

}  // namespace tarn::quality
