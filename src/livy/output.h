// A Livy statement's output, built from what its SQL returned: Livy's shapes
// (status ok with data by MIME type, or status error with ename/evalue/traceback).
#pragma once

#include <nlohmann/json.hpp>

#include <random>

#include "common/error.h"
#include "livy/code.h"
#include "session/session.h"

namespace tarn::livy {

// Collects the rows of a statement's last result. For Code::Action::kSql it keeps the
// first `max_rows` rows as Livy's application/json table and counts the rest (so a
// cut result says how many there were); for kJsonLines it writes Spark toJSON lines
// (column names as keys, null fields omitted), sampled and limited as the code asked.
class OutputCollector : public session::ResultHandler {
 public:
  OutputCollector(const Code& code, int64_t max_rows);

  void OnStatementBegin(const session::StatementStart&) override;
  void OnColumns(const std::vector<std::string>& names,
                 const std::vector<duckdb::LogicalType>& types) override;
  bool OnChunk(duckdb::DataChunk& chunk) override;
  void OnStatus(const std::string& message) override { status_ = message; }

  // {"status": "ok", "execution_count", "data": {...}}; `cut_reason`: a limit of the
  // caller's that cut the result (the total is then unknown), empty if none did.
  nlohmann::json Ok(int64_t execution_count, const std::string& cut_reason) const;

 private:
  void AddJsonLine(duckdb::DataChunk& chunk, duckdb::idx_t row);

  Code code_;
  int64_t max_rows_;
  std::vector<std::string> names_;
  std::vector<duckdb::LogicalType> types_;
  nlohmann::json rows_ = nlohmann::json::array();
  int64_t total_ = 0, lines_ = 0;
  std::string text_, status_;
  std::mt19937_64 random_{std::random_device{}()};
};

// {"status": "error", "execution_count", "ename", "evalue", "traceback": []} for `e`;
// ename is the error's code in CamelCase (PermissionDenied, InvalidArgument, ...).
nlohmann::json ErrorOutput(int64_t execution_count, const Error& e);
// The same for a name and message of our own.
nlohmann::json ErrorOutput(int64_t execution_count, const std::string& ename, const std::string& evalue);

// The Spark SQL name of a DuckDB type (integer, long, string, decimal(10,2), ...):
// what a Livy SQL result's schema says.
std::string SparkTypeName(const duckdb::LogicalType& type);

}  // namespace tarn::livy
