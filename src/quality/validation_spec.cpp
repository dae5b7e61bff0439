// Reading a validation spec (docs/validation.md, "The spec").
#include <fmt/format.h>
#include <duckdb.hpp>
#include <duckdb/parser/parsed_expression_iterator.hpp>
#include <duckdb/parser/parser.hpp>

#include <algorithm>
#include <cctype>
#include <regex>

#include "common/error.h"
#include "quality/compare.h"
#include "quality/expr_functions.h"
#include "quality/validation_spec.h"

namespace tarn::quality {

namespace {

// Refuses a subquery anywhere in `e`: a rule or filter reads its own row only.
void NoSubquery(duckdb::ParsedExpression& e, const Spec& spec, const std::string& field) {
  if (e.GetExpressionClass() == duckdb::ExpressionClass::SUBQUERY)
    spec.Fail(field, "reads its own row only: no subqueries");
  duckdb::ParsedExpressionIterator::EnumerateChildren(
      e, [&](duckdb::unique_ptr<duckdb::ParsedExpression>& child) { NoSubquery(*child, spec, field); });
}

// One SQL boolean expression, printed back by DuckDB's parser (so that nothing but the
// expression reaches the script). Which functions it may call is the engine's
// allow-list, checked when it runs as the submitter.
std::string SqlCondition(const Spec& spec, const std::string& field) {
  std::string text = spec.Text(field, "", true);
  duckdb::vector<duckdb::unique_ptr<duckdb::ParsedExpression>> list;
  try {
    list = duckdb::Parser::ParseExpressionList(text);
  } catch (const std::exception& e) {
    spec.Fail(field, "is not a SQL expression: " + duckdb::ErrorData(e).RawMessage());
  }
  if (list.size() != 1) spec.Fail(field, "must be exactly one SQL expression");
  NoSubquery(*list[0], spec, field);
  return list[0]->ToString();
}

ValidationSide ReadSide(const Spec& top, const std::string& field) {
  if (top.Has(field) && top.node()[field].IsScalar()) {
    ValidationSide side;
    side.table = top.Table(field);
    side.name = top.Text(field);
    return side;
  }
  Spec s = top.Child(field);
  s.OnlyFields({"table", "where", "connection"});
  ValidationSide side;
  side.table = s.Table("table");
  side.name = s.Text("table");
  if (s.Has("connection")) {
    side.connection = s.Text("connection");
    if (!IsName(side.connection)) s.Fail("connection", "names a connection of the server's [connections]");
    if (s.Has("where"))
      s.Fail("where", "filters lake tables only: for a table in PostgreSQL, validate a view that filters it");
    side.name = side.connection + ":" + side.name;
  } else if (s.Has("where")) {
    side.where = SqlCondition(s, "where");
  }
  return side;
}

std::string NumberLiteral(const Spec& o, const std::string& field) {
  std::string v = o.Literal(field);
  if (v.empty() || v[0] == '\'' || v == "TRUE" || v == "FALSE" || v == "NULL" || v[0] == '-')
    o.Fail(field, "must be a number of at least 0");
  return v;
}

ValidationColumn ReadColumn(const std::string& name, const YAML::Node& node, const Spec& columns) {
  ValidationColumn c;
  c.source = name;
  if (!node.IsNull() && !node.IsMap()) columns.Fail(name, "must be a map of options (or empty)");
  c.spec = node.IsMap() ? columns.Child(name) : Spec(YAML::Node(YAML::NodeType::Map), columns.where());
  const Spec& o = c.spec;
  o.OnlyFields(
      {"target", "abs_tolerance", "rel_tolerance", "days_tolerance", "trim", "ignore_case", "compare_as"});
  c.target = o.Text("target", name);
  if (o.Has("abs_tolerance")) c.abs_tolerance = NumberLiteral(o, "abs_tolerance");
  if (o.Has("rel_tolerance")) c.rel_tolerance = NumberLiteral(o, "rel_tolerance");
  if (o.Has("days_tolerance")) c.days_tolerance = NumberLiteral(o, "days_tolerance");
  c.trim = o.Bool("trim", false);
  c.ignore_case = o.Bool("ignore_case", false);
  if (o.Has("compare_as")) c.compare_as = o.Choice("compare_as", {"text", "number", "date"}, "text");
  return c;
}

// "metric op number": a metric is a dotted path of names (column.amount.unequal).
ValidationThreshold ReadThreshold(const YAML::Node& node, const Spec& top) {
  static const std::regex kThreshold(
      R"(\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*(>=|<=|==|!=|>|<|=)\s*(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)\s*)");
  ValidationThreshold t;
  t.line = node.Mark().line + 1;
  std::smatch m;
  if (!node.IsScalar()) top.Fail("thresholds", "must list checks such as 'missing == 0'");
  t.text = node.Scalar();
  if (!std::regex_match(t.text, m, kThreshold))
    throw Error::InvalidArgument(
        "{} line {}, field 'thresholds': '{}' is not 'metric op number' (op: >= <= == != > <), e.g. "
        "'matched_fraction >= 0.9999'",
        top.where(), t.line, t.text.substr(0, 200));
  t.metric = m[1];
  t.op = m[2] == "=" ? "==" : std::string(m[2]);
  t.value = std::stod(m[3]);
  return t;
}

}  // namespace

std::shared_ptr<const ValidationSpec> ParseValidation(const std::string& text, const std::string& source) {
  YAML::Node root = LoadSpec(text, source, 1 << 20);
  auto v = std::make_shared<ValidationSpec>();
  v->root = Spec(root, source);
  const Spec& top = v->root;
  top.OnlyFields({"name", "description", "source", "target", "keys", "columns", "exclude", "null_equals_null",
                  "nan_equals_nan", "completeness", "rules", "thresholds", "mismatch_table", "samples",
                  "profile", "key_uniqueness"});
  v->name = top.Text("name", "", true);
  if (!IsName(v->name))
    top.Fail("name", "is letters, digits and '_' (at most 64), not starting with a digit");
  v->source = ReadSide(top, "source");
  v->target = ReadSide(top, "target");
  if (!v->source.connection.empty() && !v->target.connection.empty())
    top.Fail("target", "one side may be a table in PostgreSQL, the other must be a lake table");
  v->keys = top.Pairs("keys");
  if (top.Has("columns")) {
    if (!root["columns"].IsMap())
      top.Fail("columns", "must map source columns to their options ({amount: {abs_tolerance: 0.01}})");
    Spec columns = top.Child("columns");
    for (auto it = root["columns"].begin(); it != root["columns"].end(); ++it)
      v->columns.push_back(ReadColumn(it->first.Scalar(), it->second, columns));
    v->columns_given = true;
  }
  v->exclude = top.List("exclude");
  if (v->columns_given && !v->exclude.empty())
    top.Fail("exclude", "leaves columns out of the default set: give 'columns' or 'exclude', not both");
  v->null_equals_null = top.Bool("null_equals_null", true);
  v->nan_equals_nan = top.Bool("nan_equals_nan", true);
  v->profile = top.Bool("profile", true);
  v->key_uniqueness = top.Bool("key_uniqueness", true);
  v->completeness = top.List("completeness");
  if (top.Has("rules")) {
    if (!root["rules"].IsMap())
      top.Fail("rules", "must map rule names to SQL conditions ({positive: amount > 0})");
    Spec rules(root["rules"], source);
    for (auto it = root["rules"].begin(); it != root["rules"].end(); ++it) {
      ValidationRule r;
      r.name = it->first.Scalar();
      if (!IsName(r.name)) rules.Fail(r.name, "a rule's name is letters, digits and '_' (at most 64)");
      if (it->second.IsMap()) {
        Spec o = rules.Child(r.name);
        o.OnlyFields({"check", "on"});
        r.expr = SqlCondition(o, "check");
        r.on = o.Choice("on", {"source", "target", "both"}, "both");
      } else {
        r.expr = SqlCondition(rules, r.name);
      }
      const char* lake = v->source.connection.empty() ? "source" : "target";
      bool external = !v->source.connection.empty() || !v->target.connection.empty();
      if (external && r.on != lake)
        rules.Fail(r.name,
                   fmt::format("rules run on lake tables: give this one 'on: {}' (the other side is read "
                               "in PostgreSQL as checksums)",
                               lake));
      v->rules.push_back(r);
    }
  }
  if (top.Has("thresholds")) {
    if (!root["thresholds"].IsSequence()) top.Fail("thresholds", "must be a list of checks ('missing == 0')");
    for (auto node : root["thresholds"]) v->thresholds.push_back(ReadThreshold(node, top));
  }
  v->mismatch_name = top.Text("mismatch_table", "quality." + v->name + "_mismatches");
  v->mismatch_table = top.Has("mismatch_table")
                          ? top.Table("mismatch_table")
                          : QuoteName("quality") + "." + QuoteName(v->name + "_mismatches");
  if (top.Has("samples")) {
    std::string n = top.Text("samples");
    if (n.empty() || n.size() > 4 || !std::all_of(n.begin(), n.end(), ::isdigit) || std::stoi(n) > 1000)
      top.Fail("samples", "must be a number from 0 to 1000");
    v->samples = std::stoi(n);
  }
  return v;
}

ComparedColumn PlanCompared(const ValidationColumn& w, const Column& sc, const Column& tc, const Spec& where,
                            bool given, bool keyed) {
  ComparedColumn c;
  c.c.left = sc.name;
  c.c.right = tc.name;
  c.c.name = sc.name;
  c.c.reason = sc.name;
  c.source_type = sc.type;
  c.target_type = tc.type;
  c.compare_as = w.compare_as;
  auto sk = CompareKind(sc.type), tk = CompareKind(tc.type);
  if (!w.compare_as.empty()) {
    sk = tk = w.compare_as == "number" ? CompareColumn::kNumber
              : w.compare_as == "date" ? CompareColumn::kDate
                                       : CompareColumn::kOther;
  } else if (sk != tk) {
    where.Fail(given ? "compare_as" : "columns",
               fmt::format("column '{}' is {} in the source and {} in the target: say how to compare them "
                           "(columns: {{{}: {{compare_as: text | number | date}}}})",
                           sc.name, sc.type, tc.type, sc.name));
  }
  c.c.kind = sk;
  c.c.floating = w.compare_as.empty() && (IsFloating(sc.type) || IsFloating(tc.type));
  c.c.abs_tolerance = w.abs_tolerance;
  c.c.rel_tolerance = w.rel_tolerance;
  c.c.days_tolerance = w.days_tolerance;
  c.c.trim = w.trim;
  c.c.ignore_case = w.ignore_case;
  bool tolerances = w.abs_tolerance != "0" || w.rel_tolerance != "0";
  if (tolerances && c.c.kind != CompareColumn::kNumber)
    where.Fail("abs_tolerance",
               fmt::format("'{}' compares as {}, not as a number", sc.name, CompareKindName(sk)));
  if (w.days_tolerance != "0" && c.c.kind != CompareColumn::kDate)
    where.Fail("days_tolerance",
               fmt::format("'{}' compares as {}, not as a date", sc.name, CompareKindName(sk)));
  if ((w.trim || w.ignore_case) && c.c.kind != CompareColumn::kOther)
    where.Fail(
        w.trim ? "trim" : "ignore_case",
        fmt::format("'{}' compares as {}: trim and ignore_case are for text", sc.name, CompareKindName(sk)));
  if (!keyed && (tolerances || w.days_tolerance != "0"))
    where.Fail("abs_tolerance", "tolerances pair records by key: give 'keys'");
  return c;
}

}  // namespace tarn::quality
