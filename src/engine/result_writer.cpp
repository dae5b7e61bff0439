#include "engine/result_writer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "engine/engine.h"

namespace tarn::engine {

namespace {

bool IsNumeric(const duckdb::LogicalType& t) {
  switch (t.id()) {
    case duckdb::LogicalTypeId::TINYINT:
    case duckdb::LogicalTypeId::SMALLINT:
    case duckdb::LogicalTypeId::INTEGER:
    case duckdb::LogicalTypeId::BIGINT:
    case duckdb::LogicalTypeId::HUGEINT:
    case duckdb::LogicalTypeId::UTINYINT:
    case duckdb::LogicalTypeId::USMALLINT:
    case duckdb::LogicalTypeId::UINTEGER:
    case duckdb::LogicalTypeId::UBIGINT:
    case duckdb::LogicalTypeId::UHUGEINT:
    case duckdb::LogicalTypeId::FLOAT:
    case duckdb::LogicalTypeId::DOUBLE:
    case duckdb::LogicalTypeId::DECIMAL: return true;
    default: return false;
  }
}

class TableWriter : public ResultWriter {
 public:
  TableWriter(std::ostream& out, TableLayout layout) : out_(out), layout_(layout) {}
  void Begin(const std::vector<std::string>& names, const std::vector<duckdb::LogicalType>& types) override {
    names_ = names;
    types_ = types;
  }
  void Write(duckdb::DataChunk& chunk) override {
    for (duckdb::idx_t r = 0; r < chunk.size(); r++, total_++) {
      if (rows_.size() >= layout_.max_rows) continue;
      std::vector<std::string> row;
      for (duckdb::idx_t c = 0; c < chunk.ColumnCount(); c++) row.push_back(ValueText(chunk.GetValue(c, r)));
      rows_.push_back(std::move(row));
    }
  }
  void End() override {
    size_t n = names_.size();
    // EXPLAIN: the plan, whole, as the engine drew it.
    if (n == 2 && names_[0] == "explain_key" && names_[1] == "explain_value") {
      for (auto& row : rows_) out_ << row[1] << (row[1].ends_with('\n') ? "" : "\n");
      return;
    }
    std::vector<size_t> width(n);
    size_t total = 1;
    bool clipped = false;
    for (size_t c = 0; c < n; c++) {
      width[c] = std::max(names_[c].size(), types_[c].ToString().size());
      for (auto& row : rows_) width[c] = std::max(width[c], Display(row[c]));
      clipped = clipped || width[c] > 60;
      width[c] = std::min<size_t>(width[c], 60);
      total += width[c] + 3;
    }
    if (layout_.expanded || (layout_.width && total > layout_.width && n > 1)) return Expanded();
    auto rule = [&] {
      out_ << '+';
      for (size_t c = 0; c < n; c++) out_ << std::string(width[c] + 2, '-') << '+';
      out_ << '\n';
    };
    auto line = [&](const std::vector<std::string>& cells, bool header) {
      out_ << '|';
      for (size_t c = 0; c < n; c++) {
        std::string s = Clip(cells[c], width[c]);
        size_t pad = width[c] - Display(s);
        bool right = !header && IsNumeric(types_[c]);
        out_ << ' ' << (right ? std::string(pad, ' ') + s : s + std::string(pad, ' ')) << " |";
      }
      out_ << '\n';
    };
    if (n > 0) {
      rule();
      line(names_, true);
      std::vector<std::string> type_names;
      for (auto& t : types_) type_names.push_back(t.ToString());
      line(type_names, true);
      rule();
      for (auto& row : rows_) line(row, false);
      rule();
    }
    Footer();
    if (clipped) out_ << "(values longer than 60 characters end in \xE2\x80\xA6: \\x or --format csv shows them whole)\n";
  }

 private:
  void Footer() {
    out_ << "(" << total_ << (total_ == 1 ? " row" : " rows");
    if (total_ > rows_.size()) out_ << ", " << rows_.size() << " shown; use --format csv or json for all";
    out_ << ")\n";
  }
  // One block per row, one line per column: name | value, the value whole.
  void Expanded() {
    size_t name_width = 0;
    for (auto& name : names_) name_width = std::max(name_width, Display(name));
    for (size_t r = 0; r < rows_.size(); r++) {
      out_ << "-[ row " << r + 1 << " ]" << std::string(std::max<size_t>(name_width, 10), '-') << "\n";
      for (size_t c = 0; c < names_.size(); c++) {
        out_ << names_[c] << std::string(name_width - Display(names_[c]), ' ') << " | " << rows_[r][c] << "\n";
      }
    }
    Footer();
  }
  // Width in terminal cells, counting UTF-8 code points.
  static size_t Display(const std::string& s) {
    return std::count_if(s.begin(), s.end(),
                         [](char ch) { return (static_cast<unsigned char>(ch) & 0xC0) != 0x80; });
  }
  static std::string Clip(const std::string& s, size_t width) {
    if (Display(s) <= width) return s;
    std::string out;
    size_t cells = 0;
    for (size_t i = 0; i < s.size(); i++) {
      bool lead = (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
      if (lead && ++cells > width - 1) break;
      out += s[i];
    }
    return out + "\xE2\x80\xA6";  // ellipsis
  }
  std::ostream& out_;
  TableLayout layout_;
  std::vector<std::string> names_;
  std::vector<duckdb::LogicalType> types_;
  std::vector<std::vector<std::string>> rows_;
  uint64_t total_ = 0;
};

class CsvWriter : public ResultWriter {
 public:
  explicit CsvWriter(std::ostream& out) : out_(out) {}
  void Begin(const std::vector<std::string>& names, const std::vector<duckdb::LogicalType>&) override {
    for (size_t c = 0; c < names.size(); c++) out_ << (c ? "," : "") << Field(names[c]);
    out_ << '\n';
  }
  void Write(duckdb::DataChunk& chunk) override {
    for (duckdb::idx_t r = 0; r < chunk.size(); r++) {
      for (duckdb::idx_t c = 0; c < chunk.ColumnCount(); c++) {
        auto v = chunk.GetValue(c, r);
        out_ << (c ? "," : "") << (v.IsNull() ? std::string() : Field(ValueText(v)));
      }
      out_ << '\n';
    }
  }
  void End() override { out_.flush(); }

 private:
  static std::string Field(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos && !s.empty()) return s;
    std::string out = "\"";
    for (char ch : s) {
      if (ch == '"') out += '"';
      out += ch;
    }
    return out + '"';
  }
  std::ostream& out_;
};

class JsonLinesWriter : public ResultWriter {
 public:
  explicit JsonLinesWriter(std::ostream& out) : out_(out) {}
  void Begin(const std::vector<std::string>& names, const std::vector<duckdb::LogicalType>& types) override {
    for (auto& n : names) keys_.push_back(nlohmann::json(n).dump());
    types_ = types;
  }
  void Write(duckdb::DataChunk& chunk) override {
    for (duckdb::idx_t r = 0; r < chunk.size(); r++) {
      out_ << '{';
      for (duckdb::idx_t c = 0; c < chunk.ColumnCount(); c++) {
        out_ << (c ? "," : "") << keys_[c] << ':' << JsonValue(chunk.GetValue(c, r), types_[c]);
      }
      out_ << "}\n";
    }
  }
  void End() override { out_.flush(); }

 private:
  std::ostream& out_;
  std::vector<std::string> keys_;
  std::vector<duckdb::LogicalType> types_;
};

}  // namespace

OutputFormat ParseOutputFormat(const std::string& name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "csv") return OutputFormat::kCsv;
  if (name == "json") return OutputFormat::kJson;
  throw Error::InvalidArgument("unknown output format '{}': use table, csv, json or parquet", name);
}

std::unique_ptr<ResultWriter> MakeResultWriter(OutputFormat format, std::ostream& out, TableLayout layout) {
  switch (format) {
    case OutputFormat::kTable: return std::make_unique<TableWriter>(out, layout);
    case OutputFormat::kCsv: return std::make_unique<CsvWriter>(out);
    case OutputFormat::kJson: return std::make_unique<JsonLinesWriter>(out);
  }
  throw Error::Internal("unknown output format");
}

uint64_t WriteResult(duckdb::QueryResult& result, ResultWriter& writer) {
  writer.Begin(result.names, result.types);
  uint64_t rows = 0;
  while (true) {
    duckdb::unique_ptr<duckdb::DataChunk> chunk;
    try {
      chunk = result.Fetch();
    } catch (const std::exception& e) {
      throw ToError(duckdb::ErrorData(e));
    }
    ThrowIfError(result);
    if (!chunk || chunk->size() == 0) break;
    rows += chunk->size();
    writer.Write(*chunk);
  }
  writer.End();
  return rows;
}

std::string ValueText(const duckdb::Value& v) {
  return v.IsNull() ? "NULL" : v.ToString();
}

namespace {

std::string JsonString(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string JsonValue(const duckdb::Value& v, const duckdb::LogicalType& t) {
  if (v.IsNull()) return "null";
  if (t.id() == duckdb::LogicalTypeId::BOOLEAN) return v.GetValue<bool>() ? "true" : "false";
  if (IsNumeric(t)) {
    if (t.id() == duckdb::LogicalTypeId::FLOAT || t.id() == duckdb::LogicalTypeId::DOUBLE) {
      double d = v.GetValue<double>();
      if (!std::isfinite(d)) return JsonString(v.ToString());
    }
    return v.ToString();
  }
  switch (t.id()) {
    case duckdb::LogicalTypeId::LIST:
    case duckdb::LogicalTypeId::ARRAY: {
      auto& child = t.id() == duckdb::LogicalTypeId::LIST ? duckdb::ListType::GetChildType(t)
                                                          : duckdb::ArrayType::GetChildType(t);
      auto& items = t.id() == duckdb::LogicalTypeId::LIST ? duckdb::ListValue::GetChildren(v)
                                                          : duckdb::ArrayValue::GetChildren(v);
      std::string out = "[";
      for (size_t i = 0; i < items.size(); i++) {
        if (i) out += ',';
        out += JsonValue(items[i], child);
      }
      return out + "]";
    }
    case duckdb::LogicalTypeId::STRUCT: {
      auto& fields = duckdb::StructValue::GetChildren(v);
      std::string out = "{";
      for (size_t i = 0; i < fields.size(); i++) {
        if (i) out += ',';
        out += JsonString(duckdb::StructType::GetChildName(t, i)) + ':' +
               JsonValue(fields[i], duckdb::StructType::GetChildType(t, i));
      }
      return out + "}";
    }
    case duckdb::LogicalTypeId::MAP: {  // an object: keys as their text
      auto& value_type = duckdb::MapType::ValueType(t);
      std::string out = "{";
      bool first = true;
      for (auto& entry : duckdb::ListValue::GetChildren(v)) {
        auto& kv = duckdb::StructValue::GetChildren(entry);
        if (!first) out += ',';
        first = false;
        out += JsonString(kv[0].IsNull() ? "null" : kv[0].DefaultCastAs(duckdb::LogicalType::VARCHAR).ToString());
        out += ':' + JsonValue(kv[1], value_type);
      }
      return out + "}";
    }
    case duckdb::LogicalTypeId::UNION: {
      auto tag = duckdb::UnionValue::GetTag(v);
      return JsonValue(duckdb::UnionValue::GetValue(v), duckdb::UnionType::GetMemberType(t, tag));
    }
    default: break;
  }
  if (t.IsJSONType()) {  // already JSON text: embed it as it is, if it parses
    auto text = v.ToString();
    if (nlohmann::json::accept(text)) return text;
  }
  return JsonString(v.ToString());
}

}  // namespace tarn::engine
