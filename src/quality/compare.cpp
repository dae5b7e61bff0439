// The compare operator's SQL, and the pipeline's `compare` step over it.
#include "quality/compare.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "quality/compiler.h"
#include "quality/expr_functions.h"

namespace tarn::quality {

CompareColumn::Kind CompareKind(const std::string& type) {
  static const char* kNumbers[] = {"TINYINT",  "SMALLINT",  "INTEGER",  "BIGINT",  "HUGEINT",
                                   "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
                                   "FLOAT",    "DOUBLE",    "DECIMAL"};
  for (auto* n : kNumbers) {
    if (type.rfind(n, 0) == 0) return CompareColumn::kNumber;
  }
  if (type == "DATE" || type.rfind("TIMESTAMP", 0) == 0) return CompareColumn::kDate;
  return CompareColumn::kOther;
}

bool IsFloating(const std::string& type) {
  return type == "FLOAT" || type == "DOUBLE" || type == "REAL";
}

namespace {

// Whether the pair differs beyond the column's tolerance (NULL on one side only differs).
std::string Differs(const CompareColumn& c, const std::string& l, const std::string& r) {
  switch (c.kind) {
    case CompareColumn::kNumber:
      return fmt::format(
          "({0} IS DISTINCT FROM {1} AND ({0} IS NULL OR {1} IS NULL OR abs({0} - {1}) > greatest({2}, {3} * "
          "greatest(abs({0}), abs({1})))))",
          l, r, c.abs_tolerance, c.rel_tolerance);
    case CompareColumn::kDate:
      return fmt::format(
          "({0} IS DISTINCT FROM {1} AND ({0} IS NULL OR {1} IS NULL OR abs(date_diff('day', {0}, {1})) > "
          "{2}))",
          l, r, c.days_tolerance);
    case CompareColumn::kOther: break;
  }
  auto norm = [&](const std::string& v) {
    std::string out = "CAST(" + v + " AS VARCHAR)";
    if (c.trim) out = "trim(" + out + ")";
    if (c.ignore_case) out = "lower(" + out + ")";
    return out;
  };
  return fmt::format("({} IS DISTINCT FROM {})", norm(l), norm(r));
}

}  // namespace

std::string CompareDiffers(const CompareColumn& c, const std::string& l, const std::string& r,
                           bool null_equals_null, bool nan_equals_nan) {
  std::string out = Differs(c, l, r);
  // DuckDB holds NaN equal to NaN (and greater than every number).
  if (!null_equals_null) out = fmt::format("({} OR ({} IS NULL AND {} IS NULL))", out, l, r);
  // abs(NaN - x) > tolerance is not true: a NaN against a number differs explicitly.
  if (c.floating) out = fmt::format("({} OR coalesce(isnan({}) <> isnan({}), false))", out, l, r);
  if (!nan_equals_nan && c.floating) out = fmt::format("({} OR (isnan({}) AND isnan({})))", out, l, r);
  return out;
}

std::string CompareSql(const CompareSpec& s) {
  std::vector<std::string> lk, rk;
  for (auto& [l, r] : s.keys) lk.push_back(l), rk.push_back(r);
  auto side = [&](const std::string& rel, const std::vector<std::string>& keys, bool left,
                  const std::string& order) {
    std::string list = ColumnList(keys);
    for (auto& c : s.columns) {
      const std::string& col = left ? c.left : c.right;
      if (std::find(keys.begin(), keys.end(), col) == keys.end() &&
          list.find(QuoteName(col)) == std::string::npos)
        list += ", " + QuoteName(col);
    }
    return fmt::format("SELECT {}, row_number() OVER (PARTITION BY {}{}) AS __n FROM {}", list,
                       ColumnList(keys), order.empty() ? "" : " ORDER BY " + order, rel);
  };
  std::string on;
  std::string joined;
  for (size_t i = 0; i < lk.size(); i++) {
    on += fmt::format("{}l.{} {} r.{}", i ? " AND " : "", QuoteName(lk[i]),
                      s.null_keys_match ? "IS NOT DISTINCT FROM" : "=", QuoteName(rk[i]));
    joined += fmt::format("{}coalesce(l.{}, r.{}) AS {}", i ? ", " : "", QuoteName(lk[i]), QuoteName(rk[i]),
                          QuoteName(lk[i]));
  }
  std::string partition = ColumnList(lk);
  joined += ", l.__n AS __ln, r.__n AS __rn";
  std::string reasons, any_diff, values;
  for (auto& c : s.columns) {
    std::string l = QuoteName(c.name + "_left"), r = QuoteName(c.name + "_right");
    joined += fmt::format(", l.{} AS {}, r.{} AS {}", QuoteName(c.left), l, QuoteName(c.right), r);
    std::string d = CompareDiffers(c, l, r, s.null_equals_null, s.nan_equals_nan);
    if (s.unequal_flags)
      values += fmt::format(", coalesce({}, false) AS {}", d, QuoteName(c.name + "_unequal"));
    reasons += fmt::format(", CASE WHEN {} THEN {} END", d, StringLiteral(c.reason));
    any_diff += (any_diff.empty() ? "" : " OR ") + d;
    values += ", " + l + ", " + r;
    if (c.kind == CompareColumn::kNumber)
      values += fmt::format(", {} - {} AS {}", r, l, QuoteName(c.name + "_diff"));
    if (c.kind == CompareColumn::kDate)
      values += fmt::format(", date_diff('day', {}, {}) AS {}", l, r, QuoteName(c.name + "_diff"));
  }
  if (any_diff.empty()) any_diff = "FALSE";
  std::string j =
      fmt::format("SELECT {} FROM ({}) l FULL JOIN ({}) r ON {} AND l.__n = r.__n", joined,
                  side(s.left, lk, true, s.order_left), side(s.right, rk, false, s.order_right), on);
  std::string counted = fmt::format(
      "SELECT *, count(__ln) OVER (PARTITION BY {0}) AS __lc, count(__rn) OVER (PARTITION BY {0}) AS __rc "
      "FROM ({1})",
      partition, j);
  // With one_sided_duplicates an unpaired row never counts as a break.
  std::string lc = s.one_sided_duplicates ? "0" : "__lc", rc = s.one_sided_duplicates ? "0" : "__rc";
  return fmt::format(
      "SELECT {0}, CASE WHEN __ln IS NULL THEN (CASE WHEN {5} > 0 THEN 'break' ELSE 'right_only' END) "
      "WHEN __rn IS NULL THEN (CASE WHEN {6} > 0 THEN 'break' ELSE 'left_only' END) "
      "WHEN {1} THEN 'break' ELSE 'matched' END AS diff_type, "
      "CASE WHEN __ln IS NULL OR __rn IS NULL THEN (CASE WHEN (__ln IS NULL AND {5} > 0) OR (__rn IS NULL "
      "AND {6} > 0) THEN 'duplicate' END) ELSE nullif(concat_ws(','{2}), '') END AS reason{3} FROM ({4})",
      ColumnList(lk), any_diff, reasons, values, s.one_sided_duplicates ? j : counted, lc, rc);
}

namespace {

class Compare : public StepType {
 public:
  const char* name() const override { return "compare"; }
  std::set<std::string> fields() const override {
    return {"left", "right", "keys", "columns", "order_by", "null_keys_match"};
  }
  void Compile(StepContext& step) const override {
    const Spec& spec = step.spec();
    const Relation& left = step.Input("left");
    const Relation& right = step.Input("right", false);
    CompareSpec c;
    c.left = left.cte;
    c.right = right.cte;
    for (auto& [l, r] : spec.Pairs("keys", true))
      c.keys.emplace_back(left.Find(l, spec, "keys"), right.Find(r, spec, "keys"));
    c.null_keys_match = spec.Bool("null_keys_match", false);
    if (spec.Has("order_by")) {
      Spec order = spec.Child("order_by");
      order.OnlyFields({"left", "right"});
      if (order.Has("left")) c.order_left = QuoteName(left.Find(order.Text("left"), order, "left"));
      if (order.Has("right")) c.order_right = QuoteName(right.Find(order.Text("right"), order, "right"));
    }
    if (!spec.Has("columns") || !spec.node()["columns"].IsMap())
      spec.Fail("columns", "must map the columns to compare to their options ({amount: {tolerance: 0.01}})");
    Spec columns = spec.Child("columns");
    for (auto it = spec.node()["columns"].begin(); it != spec.node()["columns"].end(); ++it) {
      std::string name = it->first.Scalar();
      CompareColumn col;
      col.name = name;
      col.left = left.Find(name, spec, "columns");
      Spec o =
          it->second.IsMap() ? columns.Child(name) : Spec(YAML::Node(YAML::NodeType::Map), columns.where());
      if (!it->second.IsNull() && !it->second.IsMap())
        columns.Fail(name, "must be a map of options (or empty)");
      o.OnlyFields(
          {"right", "tolerance", "rel_tolerance", "tolerance_days", "ignore_case", "trim", "reason"});
      col.right = right.Find(o.Text("right", name), o, "right");
      col.reason = o.Text("reason", name);
      std::string type;
      for (auto& lc : left.columns) {
        if (lc.name == col.left) type = lc.type;
      }
      col.kind = CompareKind(type);
      auto number = [&](const char* field) {
        std::string v = o.Literal(field);
        if (v.empty() || v[0] == '\'' || v == "TRUE" || v == "FALSE" || v == "NULL" || v[0] == '-')
          o.Fail(field, "must be a number of at least 0");
        return v;
      };
      if (o.Has("tolerance")) col.abs_tolerance = number("tolerance");
      if (o.Has("rel_tolerance")) col.rel_tolerance = number("rel_tolerance");
      if (o.Has("tolerance_days")) col.days_tolerance = number("tolerance_days");
      if ((o.Has("tolerance") || o.Has("rel_tolerance")) && col.kind != CompareColumn::kNumber)
        o.Fail("tolerance", fmt::format("'{}' is {}, not a number", name, type));
      if (o.Has("tolerance_days") && col.kind != CompareColumn::kDate)
        o.Fail("tolerance_days", fmt::format("'{}' is {}, not a date", name, type));
      col.ignore_case = o.Bool("ignore_case", false);
      col.trim = o.Bool("trim", false);
      c.columns.push_back(col);
    }
    const Relation& all = step.Add(CompareSql(c), {&left, &right});
    // Rows pair up only within a key: the compare may be split by key (quality/lineage.h).
    std::vector<std::string> lk, rk;
    for (auto& [l, r] : c.keys) lk.push_back(l), rk.push_back(r);
    if (!c.null_keys_match) step.OnKeys(all, left, lk, right, rk);
    for (auto* part : {"matched", "left_only", "right_only"}) {
      auto& r = step.Add(fmt::format("SELECT * FROM {} WHERE diff_type = '{}'", all.cte, part), {&all}, part);
      step.RowWise(r, all, {});
    }
    auto& breaks =
        step.Add(fmt::format("SELECT * FROM {} WHERE diff_type = 'break'", all.cte), {&all}, "breaks");
    step.RowWise(breaks, all, {});
    // The summary: rows and amounts per status and reason (the first number compared).
    std::string amount;
    for (auto& col : c.columns) {
      if (col.kind == CompareColumn::kNumber && amount.empty())
        amount =
            fmt::format(", round(sum(abs(coalesce({}, {}, {}))), 9) AS amount", QuoteName(col.name + "_diff"),
                        QuoteName(col.name + "_left"), QuoteName(col.name + "_right"));
    }
    step.Add(fmt::format(
                 "SELECT diff_type, coalesce(reason, '') AS reason, count(*) AS rows{} FROM {} GROUP BY ALL "
                 "ORDER BY ALL",
                 amount, all.cte),
             {&all}, "summary");
  }
};

}  // namespace

std::unique_ptr<StepType> MakeCompare() {
  return std::make_unique<Compare>();
}

}  // namespace tarn::quality
