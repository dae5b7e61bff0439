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

std::vector<Column> RunnerProbe::Describe(const std::string& query) {
  session::RunRequest r;
  r.principal = principal_;
  r.origin = origin_;
  r.origin.run_id.clear();
  r.role = role_;
  r.sql = "SELECT * FROM (" + query + ") LIMIT 0";
  Keep keep;
  runner_.Run(r, keep).ThrowIfFailed();
  return keep.columns;
}

std::vector<std::string> RunnerProbe::Values(const std::string& query, size_t limit) {
  session::RunRequest r;
  r.principal = principal_;
  r.origin = origin_;
  r.origin.run_id.clear();
  r.role = role_;
  r.sql = query;
  r.caps.max_rows = static_cast<int64_t>(limit);
  Keep keep;
  runner_.Run(r, keep).ThrowIfFailed();
  return keep.values;
}

}  // namespace tarn::quality
