// The metrics JSON of a validation from its queries' rows, and its thresholds
// (docs/validation.md, "Metrics").
#include <fmt/format.h>

#include <cmath>
#include <functional>

#include "common/error.h"
#include "quality/validation_spec.h"

namespace tarn::quality {

namespace {

using nlohmann::json;

// The rows of the query that computes `part` (none when the plan has no such query or
// it was not run).
const QueryRows* Part(const ValidationPlan& plan, const std::vector<QueryRows>& rows,
                      const std::string& part) {
  for (size_t i = 0; i < plan.queries.size() && i < rows.size(); i++) {
    if (plan.queries[i].part == part) return &rows[i];
  }
  return nullptr;
}

// The value of column `name` in the first row of `q` (0 when absent).
json Cell(const QueryRows* q, const std::string& name) {
  if (!q || q->rows.empty()) return 0;
  for (size_t i = 0; i < q->columns.size(); i++) {
    if (q->columns[i] == name) return q->rows[0][i];
  }
  return 0;
}

double Num(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
  return 0;
}

int64_t Int(const json& v) {
  return static_cast<int64_t>(std::llround(Num(v)));
}

json Profile(const QueryRows* q, size_t i, const std::string& kind) {
  int64_t rows = Int(Cell(q, "rows"));
  json p = {{"nulls", rows - Int(Cell(q, fmt::format("n{}", i)))},
            {"distinct", Int(Cell(q, fmt::format("d{}", i)))},
            {"min", Cell(q, fmt::format("min{}", i))},
            {"max", Cell(q, fmt::format("max{}", i))}};
  if (kind == "number") {
    p["sum"] = Cell(q, fmt::format("sum{}", i));
    p["mean"] = Cell(q, fmt::format("mean{}", i));
  }
  if (kind == "text") {
    p["min_length"] = Cell(q, fmt::format("minlen{}", i));
    p["max_length"] = Cell(q, fmt::format("maxlen{}", i));
    p["mean_length"] = Cell(q, fmt::format("meanlen{}", i));
  }
  return p;
}

json Samples(const QueryRows* q) {
  json out = {{"missing", json::array()}, {"extra", json::array()}, {"changed", json::array()}};
  if (!q) return out;
  for (auto& row : q->rows) {
    json r = json::object();
    for (size_t i = 0; i < q->columns.size(); i++) r[q->columns[i]] = row[i];
    std::string kind = row.empty() || !row[0].is_string() ? "" : row[0].get<std::string>();
    if (out.contains(kind)) out[kind].push_back(r);
  }
  return out;
}

// Every number of `m` under its dotted path (lists: their length), as thresholds name them.
void Flatten(const json& m, const std::string& prefix, std::map<std::string, double>& out) {
  for (auto& [k, v] : m.items()) {
    std::string path = prefix.empty() ? k : prefix + "." + k;
    if (v.is_object()) {
      Flatten(v, path, out);
    } else if (v.is_number()) {
      out[path] = v.get<double>();
    } else if (v.is_array() && prefix == "schema") {
      out[path] = static_cast<double>(v.size());
    }
  }
}

// The metrics that thresholds may name: the JSON without samples, thresholds and
// descriptive parts, with `columns` as `column`, `rules` as `rule`.
std::map<std::string, double> Values(const json& m) {
  json t = m;
  for (auto* k : {"samples", "thresholds", "passed", "keys", "mode", "validation", "mismatch_table"})
    t.erase(k);
  if (t.contains("columns")) t["column"] = t["columns"], t.erase("columns");
  if (t.contains("rules")) t["rule"] = t["rules"], t.erase("rules");
  std::map<std::string, double> out;
  Flatten(t, "", out);
  return out;
}

bool Holds(double v, const std::string& op, double x) {
  if (op == ">=") return v >= x;
  if (op == "<=") return v <= x;
  if (op == ">") return v > x;
  if (op == "<") return v < x;
  if (op == "!=") return v != x;
  return v == x;
}

std::string Figure(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{:.6g}", v);
}

}  // namespace

json ValidationMetrics(const ValidationPlan& plan, const std::vector<QueryRows>& rows) {
  const json& shape = plan.shape;
  auto counts = Part(plan, rows, "counts");
  auto accuracy = Part(plan, rows, "accuracy");
  bool keyed = shape["mode"] == "keys";
  int64_t source_rows = Int(Cell(counts, "source_rows")), target_rows = Int(Cell(counts, "target_rows"));
  int64_t missing = Int(Cell(accuracy, "missing")), extra = Int(Cell(accuracy, "extra")),
          changed = Int(Cell(accuracy, "changed"));
  int64_t matched = source_rows - missing - changed;
  int64_t seen = matched + missing + changed + extra;
  json m = {
      {"validation", shape["name"]}, {"mode", shape["mode"]}, {"mismatch_table", shape["mismatch_table"]}};
  m["source"] = {
      {"table", shape["source"]["table"]}, {"where", shape["source"]["where"]}, {"rows", source_rows}};
  m["target"] = {
      {"table", shape["target"]["table"]}, {"where", shape["target"]["where"]}, {"rows", target_rows}};
  m["keys"] = json::array();
  for (auto& k : shape["keys"]) m["keys"].push_back(k["source"]);
  m["matched"] = matched;
  m["missing"] = missing;
  m["extra"] = extra;
  m["changed"] = changed;
  m["matched_fraction"] = seen == 0 ? 1.0 : static_cast<double>(matched) / static_cast<double>(seen);
  if (keyed && shape.value("key_uniqueness", true)) {
    auto ks = Part(plan, rows, "keys_source"), kt = Part(plan, rows, "keys_target");
    m["duplicate_keys"] = {{"source", Int(Cell(ks, "duplicate_keys"))},
                           {"target", Int(Cell(kt, "duplicate_keys"))}};
    m["rows_with_duplicate_keys"] = {{"source", Int(Cell(ks, "rows_with_duplicate_keys"))},
                                     {"target", Int(Cell(kt, "rows_with_duplicate_keys"))}};
  }
  if (keyed) {
    auto ps = Part(plan, rows, "profile_source"), pt = Part(plan, rows, "profile_target");
    m["null_keys"] = {{"source", Int(Cell(ps, "null_keys"))}, {"target", Int(Cell(pt, "null_keys"))}};
  }
  m["columns"] = json::object();
  for (size_t i = 0; i < shape["columns"].size(); i++) {
    auto& c = shape["columns"][i];
    json col = {{"target", c["target"]},
                {"compares_as", c["compares_as"]},
                {"source_type", c["source_type"]},
                {"target_type", c["target_type"]}};
    if (keyed) {
      col["unequal"] = Int(Cell(accuracy, fmt::format("unequal{}", i)));
      col["null_diff"] = Int(Cell(accuracy, fmt::format("null_diff{}", i)));
      col["within_tolerance"] = Int(Cell(accuracy, fmt::format("within{}", i)));
      if (c["compares_as"] != "text") {
        json d = Cell(accuracy, fmt::format("max_abs_diff{}", i));
        col["max_abs_diff"] = d.is_null() ? json(0) : d;
      }
    }
    m["columns"][c["source"].get<std::string>()] = col;
  }
  m["profiles"] = json::object();
  auto ps = Part(plan, rows, "profile_source"), pt = Part(plan, rows, "profile_target");
  for (size_t i = 0; i < shape["profiled"].size(); i++) {
    auto& p = shape["profiled"][i];
    std::string kind = p["kind"];
    m["profiles"][p["source"].get<std::string>()] = {
        {"target_column", p["target"]}, {"source", Profile(ps, i, kind)}, {"target", Profile(pt, i, kind)}};
  }
  m["completeness"] = json::object();
  for (auto& c : shape["completeness"]) {
    std::string name = c["source"];
    auto& prof = m["profiles"][name];
    m["completeness"][name] = {{"source_nulls", prof["source"]["nulls"]},
                               {"target_nulls", prof["target"]["nulls"]}};
  }
  m["rules"] = json::object();
  auto rs = Part(plan, rows, "rules_source"), rt = Part(plan, rows, "rules_target");
  for (size_t i = 0; i < shape["rules"].size(); i++) {
    auto& r = shape["rules"][i];
    json out = {{"check", r["check"]}, {"on", r["on"]}};
    if (r["on"] != "target") out["source_failed"] = Int(Cell(rs, fmt::format("r{}", i)));
    if (r["on"] != "source") out["target_failed"] = Int(Cell(rt, fmt::format("r{}", i)));
    m["rules"][r["name"].get<std::string>()] = out;
  }
  m["schema"] = shape["schema"];
  auto g = Part(plan, rows, "griffin");
  int64_t total = Int(Cell(g, "total")), miss = Int(Cell(g, "miss"));
  m["griffin"] = {
      {"total", total},
      {"miss", miss},
      {"matched", total - miss},
      {"matchedFraction", total == 0 ? 1.0 : static_cast<double>(total - miss) / static_cast<double>(total)}};
  m["samples"] = Samples(Part(plan, rows, "samples"));
  // Thresholds, over every number above.
  auto values = Values(m);
  m["thresholds"] = json::array();
  bool passed = true;
  for (auto& t : shape["thresholds"]) {
    std::string metric = t["metric"];
    auto it = values.find(metric);
    double v = it == values.end() ? std::nan("") : it->second;
    bool ok = it != values.end() && Holds(v, t["op"], t["value"].get<double>());
    passed = passed && ok;
    m["thresholds"].push_back({{"check", t["check"]},
                               {"metric", metric},
                               {"value", it == values.end() ? json() : json(v)},
                               {"passed", ok}});
  }
  m["passed"] = passed;
  return m;
}

const char* CompareKindName(CompareColumn::Kind k) {
  return k == CompareColumn::kNumber ? "number" : k == CompareColumn::kDate ? "date" : "text";
}

json ValidationShape(const ValidationSpec& spec, const ShapeFacts& f) {
  json j;
  j["name"] = spec.name;
  j["mode"] = spec.keys.empty() ? "multiset" : "keys";
  j["source"] = {{"table", spec.source.name}, {"where", spec.source.where}};
  j["target"] = {{"table", spec.target.name}, {"where", spec.target.where}};
  j["keys"] = json::array();
  for (auto& [s, t] : f.keys) j["keys"].push_back({{"source", s}, {"target", t}});
  j["columns"] = json::array();
  for (auto& c : f.columns)
    j["columns"].push_back({{"source", c.c.left},
                            {"target", c.c.right},
                            {"compares_as", CompareKindName(c.c.kind)},
                            {"source_type", c.source_type},
                            {"target_type", c.target_type},
                            {"abs_tolerance", c.c.abs_tolerance},
                            {"rel_tolerance", c.c.rel_tolerance},
                            {"days_tolerance", c.c.days_tolerance},
                            {"trim", c.c.trim},
                            {"ignore_case", c.c.ignore_case}});
  j["profiled"] = json::array();
  for (auto& [s, t, k] : f.profiled)
    j["profiled"].push_back({{"source", s}, {"target", t}, {"kind", CompareKindName(k)}});
  j["completeness"] = json::array();
  for (auto& [s, t] : f.complete) j["completeness"].push_back({{"source", s}, {"target", t}});
  j["rules"] = json::array();
  for (auto& r : spec.rules) j["rules"].push_back({{"name", r.name}, {"check", r.expr}, {"on", r.on}});
  j["thresholds"] = json::array();
  for (auto& t : spec.thresholds)
    j["thresholds"].push_back(
        {{"check", t.text}, {"metric", t.metric}, {"op", t.op}, {"value", t.value}, {"line", t.line}});
  j["schema"] = {{"only_in_source", f.only_in_source},
                 {"only_in_target", f.only_in_target},
                 {"type_changes", f.type_changes.empty() ? json::array() : json(f.type_changes)}};
  j["mismatch_table"] = spec.mismatch_name;
  j["null_equals_null"] = spec.null_equals_null;
  j["key_uniqueness"] = !spec.keys.empty() && spec.key_uniqueness;
  j["bucketed"] = f.bucketed;
  j["nan_equals_nan"] = spec.nan_equals_nan;
  return j;
}

std::set<std::string> ValidationMetricNames(const json& shape) {
  ValidationPlan plan;
  plan.shape = shape;
  plan.shape["thresholds"] = json::array();
  std::set<std::string> out;
  for (auto& [k, v] : Values(ValidationMetrics(plan, {}))) out.insert(k);
  return out;
}

std::vector<std::string> FailedChecks(const json& metrics) {
  std::vector<std::string> out;
  for (auto& t : metrics.value("thresholds", json::array())) {
    if (t["passed"].get<bool>()) continue;
    out.push_back(fmt::format("{} (is {})", t["check"].get<std::string>(),
                              t["value"].is_number() ? Figure(t["value"].get<double>()) : "not known"));
  }
  return out;
}

void CheckThresholdMetrics(const ValidationSpec& spec, const json& shape) {
  auto names = ValidationMetricNames(shape);
  for (auto& t : spec.thresholds) {
    if (!names.count(t.metric)) {
      std::string known;
      size_t n = 0;
      for (auto& k : names) {
        if (n++ < 12) known += (known.empty() ? "" : ", ") + k;
      }
      throw Error::InvalidArgument(
          "{} line {}, field 'thresholds': no metric '{}' (metrics include {}, ...; see "
          "docs/validation.md)",
          spec.root.where(), t.line, t.metric.substr(0, 100), known);
    }
  }
}

}  // namespace tarn::quality
