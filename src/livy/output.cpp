#include "livy/output.h"

#include <fmt/format.h>

#include "engine/result_writer.h"

namespace tarn::livy {

OutputCollector::OutputCollector(const Code& code, int64_t max_rows) : code_(code), max_rows_(max_rows) {}

void OutputCollector::OnStatementBegin(const session::StatementStart&) {
  // A script's last statement gives the output: an earlier one's is forgotten.
  names_.clear();
  types_.clear();
  rows_ = nlohmann::json::array();
  total_ = lines_ = 0;
  text_.clear();
  status_.clear();
}

void OutputCollector::OnColumns(const std::vector<std::string>& names,
                                const std::vector<duckdb::LogicalType>& types) {
  names_ = names;
  types_ = types;
}

bool OutputCollector::OnChunk(duckdb::DataChunk& chunk) {
  for (duckdb::idx_t r = 0; r < chunk.size(); r++) {
    total_++;
    if (code_.action == Code::Action::kJsonLines) {
      if (code_.take && lines_ >= *code_.take) return false;
      if (code_.sample && std::uniform_real_distribution<double>(0, 1)(random_) >= *code_.sample) continue;
      AddJsonLine(chunk, r);
      continue;
    }
    if (static_cast<int64_t>(rows_.size()) >= max_rows_) continue;  // counted, not kept
    nlohmann::json row = nlohmann::json::array();
    for (duckdb::idx_t c = 0; c < chunk.ColumnCount(); c++)
      row.push_back(nlohmann::json::parse(engine::JsonValue(chunk.GetValue(c, r), types_[c])));
    rows_.push_back(std::move(row));
  }
  return true;
}

void OutputCollector::AddJsonLine(duckdb::DataChunk& chunk, duckdb::idx_t row) {
  // Spark's toJSON: one object per row, keys in column order, null fields left out.
  std::string line = "{";
  for (duckdb::idx_t c = 0; c < chunk.ColumnCount(); c++) {
    auto value = chunk.GetValue(c, row);
    if (value.IsNull()) continue;
    if (line.size() > 1) line += ",";
    line += nlohmann::json(names_[c]).dump() + ":" + engine::JsonValue(value, types_[c]);
  }
  text_ += (lines_ ? "\n" : "") + line + "}";
  lines_++;
}

nlohmann::json OutputCollector::Ok(int64_t execution_count, const std::string& cut_reason) const {
  nlohmann::json data;
  if (code_.action == Code::Action::kJsonLines) {
    data["text/plain"] = text_;
  } else {
    nlohmann::json fields = nlohmann::json::array();
    for (size_t i = 0; i < names_.size(); i++) {
      fields.push_back({{"name", names_[i]},
                        {"type", SparkTypeName(types_[i])},
                        {"nullable", true},
                        {"metadata", nlohmann::json::object()}});
    }
    int64_t kept = static_cast<int64_t>(rows_.size());
    nlohmann::json table = {{"schema", {{"type", "struct"}, {"fields", fields}}}, {"data", rows_}};
    // Unlike Livy, a cut result says so, and how many rows there were.
    table["truncated"] = !cut_reason.empty() || total_ > kept;
    table["total"] = cut_reason.empty() ? nlohmann::json(total_) : nlohmann::json(nullptr);
    if (!cut_reason.empty()) table["truncated_reason"] = cut_reason;
    if (total_ > kept && cut_reason.empty())
      table["truncated_reason"] =
          fmt::format("the first {} of {} rows are shown (livy.max_result_rows)", kept, total_);
    if (!status_.empty() && names_.empty()) table["message"] = status_;
    data["application/json"] = std::move(table);
  }
  return {{"status", "ok"}, {"execution_count", execution_count}, {"data", std::move(data)}};
}

nlohmann::json ErrorOutput(int64_t execution_count, const std::string& ename, const std::string& evalue) {
  return {{"status", "error"},
          {"execution_count", execution_count},
          {"ename", ename},
          {"evalue", evalue},
          {"traceback", nlohmann::json::array()}};
}

nlohmann::json ErrorOutput(int64_t execution_count, const Error& e) {
  std::string name;
  bool upper = true;
  for (char c : std::string(ErrorCodeName(e.code()))) {
    if (c == '_') {
      upper = true;
      continue;
    }
    name += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return ErrorOutput(execution_count, name, e.what());
}

std::string SparkTypeName(const duckdb::LogicalType& type) {
  using Id = duckdb::LogicalTypeId;
  switch (type.id()) {
    case Id::BOOLEAN: return "boolean";
    case Id::TINYINT: return "byte";
    case Id::SMALLINT: return "short";
    case Id::INTEGER: return "integer";
    case Id::BIGINT: return "long";
    case Id::UTINYINT: return "short";
    case Id::USMALLINT: return "integer";
    case Id::UINTEGER: return "long";
    case Id::UBIGINT:
    case Id::HUGEINT:
    case Id::UHUGEINT: return "decimal(38,0)";
    case Id::FLOAT: return "float";
    case Id::DOUBLE: return "double";
    case Id::DECIMAL:
      return fmt::format("decimal({},{})", duckdb::DecimalType::GetWidth(type),
                         duckdb::DecimalType::GetScale(type));
    case Id::DATE: return "date";
    case Id::TIMESTAMP:
    case Id::TIMESTAMP_TZ:
    case Id::TIMESTAMP_MS:
    case Id::TIMESTAMP_NS:
    case Id::TIMESTAMP_SEC: return "timestamp";
    case Id::BLOB: return "binary";
    case Id::LIST:
    case Id::ARRAY: return "array";
    case Id::STRUCT: return "struct";
    case Id::MAP: return "map";
    default: return "string";
  }
}

}  // namespace tarn::livy
