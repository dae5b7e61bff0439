// Steps that combine or reshape: join, lookup (XLOOKUP/VLOOKUP), pivot, unpivot.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "common/error.h"
#include "quality/compiler.h"
#include "quality/expr_functions.h"

namespace tarn::quality {

namespace {

struct KeyPair {
  std::string left, right;
};

// `field` as key pairs: [k] (the same name on both sides) or {left_col: right_col}.
std::vector<KeyPair> Keys(const StepContext& step, const std::string& field, const Relation& left,
                          const Relation& right) {
  std::vector<KeyPair> out;
  for (auto& [l, r] : step.spec().Pairs(field, true))
    out.push_back({left.Find(l, step.spec(), field), right.Find(r, step.spec(), field)});
  return out;
}

std::string On(const std::vector<KeyPair>& keys, const std::string& l, const std::string& r, bool nulls_match,
               size_t count) {
  std::string out;
  for (size_t i = 0; i < count; i++)
    out += fmt::format("{}{}.{} {} {}.{}", i ? " AND " : "", l, QuoteName(keys[i].left),
                       nulls_match ? "IS NOT DISTINCT FROM" : "=", r, QuoteName(keys[i].right));
  return out;
}

// A check that `keys` of `rel` are unique: fails naming the first duplicate.
void UniqueCheck(StepContext& step, const Relation& rel, const std::vector<std::string>& keys,
                 const std::string& what) {
  std::string shown, not_null, list = ColumnList(keys);
  for (auto& k : keys) {
    shown += fmt::format("{}{}, coalesce(CAST({} AS VARCHAR), 'NULL')", shown.empty() ? "" : ", ' ', ",
                         StringLiteral(k + "="), QuoteName(k));
    not_null += (not_null.empty() ? "" : " AND ") + QuoteName(k) + " IS NOT NULL";
  }
  std::string prefix = StringLiteral(fmt::format("step '{}': {}: key ", step.name(), what));
  step.Check(
      fmt::format("SELECT error(concat({}, {}, ' appears ', n, ' times')) FROM (SELECT {}, count(*) AS n "
                  "FROM {} WHERE {} GROUP BY {} HAVING count(*) > 1 LIMIT 1)",
                  prefix, shown, list, rel.cte, not_null, list),
      {&rel}, fmt::format("check: {} ({})", what, step.name()));
}

class Join : public StepType {
 public:
  const char* name() const override { return "join"; }
  std::set<std::string> fields() const override {
    return {"left", "right", "type", "on", "validate", "suffix"};
  }
  void Compile(StepContext& step) const override {
    const Relation& left = step.Input("left");
    const Relation& right = step.Input("right", false);
    auto keys = Keys(step, "on", left, right);
    std::string type =
        step.spec().Choice("type", {"inner", "left", "right", "full", "semi", "anti"}, "inner");
    std::string validate = step.spec().Choice("validate", {"1:1", "1:m", "m:1", "m:m"}, "m:m");
    std::vector<std::string> lk, rk;
    for (auto& k : keys) lk.push_back(k.left), rk.push_back(k.right);
    if (validate == "1:1" || validate == "1:m")
      UniqueCheck(step, left, lk, "validate " + validate + " (left)");
    if (validate == "1:1" || validate == "m:1")
      UniqueCheck(step, right, rk, "validate " + validate + " (right)");
    std::string on = On(keys, "l", "r", false, keys.size());
    if (type == "semi" || type == "anti") {
      auto& out = step.Add(fmt::format("SELECT * FROM {} l WHERE {}EXISTS (SELECT 1 FROM {} r WHERE {})",
                                       left.cte, type == "anti" ? "NOT " : "", right.cte, on),
                           {&left, &right});
      return step.OnKeys(out, left, lk, right, rk);
    }
    std::string suffix = step.spec().Text("suffix", "_right");
    auto lnames = left.Names();
    std::string list;
    for (auto& c : lnames) {
      auto key = std::find(lk.begin(), lk.end(), c);
      bool shared_key = key != lk.end() && rk[key - lk.begin()] == c;
      if (shared_key && (type == "right" || type == "full"))
        list += fmt::format("{0}coalesce(l.{1}, r.{1}) AS {1}", list.empty() ? "" : ", ", QuoteName(c));
      else
        list += (list.empty() ? "" : ", ") + ("l." + QuoteName(c));
    }
    for (auto& c : right.Names()) {
      auto key = std::find(rk.begin(), rk.end(), c);
      if (key != rk.end() && lk[key - rk.begin()] == c) continue;  // the shared key is there once
      bool clash = std::find(lnames.begin(), lnames.end(), c) != lnames.end();
      list += ", r." + QuoteName(c) + (clash ? " AS " + QuoteName(c + suffix) : "");
    }
    auto& out = step.Add(fmt::format("SELECT {} FROM {} l {} JOIN {} r ON {}", list, left.cte,
                                     type == "inner"   ? "INNER"
                                     : type == "left"  ? "LEFT"
                                     : type == "right" ? "RIGHT"
                                                       : "FULL",
                                     right.cte, on),
                         {&left, &right});
    step.OnKeys(out, left, lk, right, rk);
  }
};

// XLOOKUP: for each row of the input, the `return` columns of the matching row of
// `from` (or `if_not_found`).
class Lookup : public StepType {
 public:
  const char* name() const override { return "lookup"; }
  std::set<std::string> fields() const override {
    return {"input", "from",   "keys",         "return",   "if_not_found",
            "match", "search", "on_duplicate", "order_by", "null_keys_match"};
  }
  void Compile(StepContext& step) const override {
    const Spec& spec = step.spec();
    const Relation& in = step.Input("input");
    const Relation& table = step.Input("from", false);
    auto keys = Keys(step, "keys", in, table);
    std::string match =
        spec.Choice("match", {"exact", "exact_or_next_smaller", "exact_or_next_larger"}, "exact");
    std::string search = spec.Choice("search", {"first", "last"}, "first");
    std::string dup = spec.Choice("on_duplicate", {"first", "last", "error"}, search);
    bool nulls = spec.Bool("null_keys_match", false);
    std::vector<std::string> tk;
    for (auto& k : keys) tk.push_back(k.right);
    if (dup == "error") UniqueCheck(step, table, tk, "on_duplicate: error");
    // The returned columns and their names in the result.
    std::vector<std::pair<std::string, std::string>> ret;
    auto inames = in.Names();
    for (auto& [col, as] : spec.Pairs("return", true)) {
      ret.emplace_back(table.Find(col, spec, "return"), as);
      if (std::find(inames.begin(), inames.end(), as) != inames.end())
        spec.Fail("return", fmt::format("the input already has a column '{}': return it under another name "
                                        "(return: {{{}: new_name}})",
                                        as, col));
    }
    // Defaults when no row matches: one for all, or per returned column.
    std::map<std::string, std::string> fallback;
    if (spec.Has("if_not_found")) {
      if (spec.node()["if_not_found"].IsMap()) {
        Spec f = spec.Child("if_not_found");
        for (auto& [col, as] : ret) {
          if (f.Has(as)) fallback[as] = f.Literal(as);
        }
      } else {
        for (auto& [col, as] : ret) fallback[as] = spec.Literal("if_not_found");
      }
    }
    std::string order = spec.Has("order_by") ? spec.Text("order_by") : "";
    std::string picked;
    for (auto& c : tk) picked += (picked.empty() ? "" : ", ") + QuoteName(c);
    for (auto& [col, as] : ret) picked += ", " + QuoteName(col) + " AS " + QuoteName("__r_" + as);
    std::string ordering;
    if (!order.empty()) {
      ordering =
          " ORDER BY " + QuoteName(table.Find(order, spec, "order_by")) + (dup == "last" ? " DESC" : " ASC");
    } else if (dup == "last") {
      spec.Fail("on_duplicate", "last needs order_by (last along which column?)");
    }
    bool asof = match != "exact";
    // As-of matches take the nearest row, so there is nothing to dedupe but exact ties.
    std::string lookup_sql =
        fmt::format("SELECT {}, TRUE AS __found FROM {} QUALIFY row_number() OVER (PARTITION BY {}{}) = 1",
                    picked, table.cte, ColumnList(tk), ordering);
    std::string on = On(keys, "i", "t", nulls, asof ? keys.size() - 1 : keys.size());
    if (asof) {
      auto& last = keys.back();
      on += fmt::format("{}i.{} {} t.{}", on.empty() ? "" : " AND ", QuoteName(last.left),
                        match == "exact_or_next_smaller" ? ">=" : "<=", QuoteName(last.right));
    }
    std::string list = "i.*";
    for (auto& [col, as] : ret) {
      std::string v = "t." + QuoteName("__r_" + as);
      list += fmt::format(
          ", {} AS {}",
          fallback.count(as) ? fmt::format("CASE WHEN t.__found THEN {} ELSE {} END", v, fallback[as]) : v,
          QuoteName(as));
    }
    auto& out = step.Add(fmt::format("SELECT {} FROM {} i {}LEFT JOIN ({}) t ON {}", list, in.cte,
                                     asof ? "ASOF " : "", lookup_sql, on),
                         {&in, &table});
    step.RowWise(out, in, StepContext::AllBut(in));  // one row per input row; `from` read whole
  }
};

class Pivot : public StepType {
 public:
  const char* name() const override { return "pivot"; }
  std::set<std::string> fields() const override {
    return {"input",     "index", "columns", "column_values", "values",
            "aggregate", "fill",  "totals",  "max_columns"};
  }
  void Compile(StepContext& step) const override {
    const Spec& spec = step.spec();
    const Relation& in = step.Input("input");
    std::vector<std::string> index;
    for (auto& c : spec.List("index")) index.push_back(in.Find(c, spec, "index"));
    std::string on = in.Find(spec.Text("columns", "", true), spec, "columns");
    std::string agg =
        spec.Choice("aggregate", {"sum", "count", "avg", "min", "max", "count_distinct"}, "sum");
    std::string value =
        agg == "count" && !spec.Has("values") ? "" : in.Find(spec.Text("values", "", true), spec, "values");
    std::string max_text = spec.Text("max_columns", "200");
    if (max_text.find_first_not_of("0123456789") != std::string::npos || max_text.empty() ||
        max_text.size() > 4)
      spec.Fail("max_columns", "must be a whole number up to 9999");
    size_t max = std::stoul(max_text);
    // The new columns: as given, else every value the column holds (a query over the
    // steps before, run as the submitter while compiling).
    auto values =
        spec.Has("column_values")
            ? spec.List("column_values")
            : step.Values(fmt::format("SELECT DISTINCT CAST({0} AS VARCHAR) FROM {1} WHERE {0} IS NOT "
                                      "NULL ORDER BY 1",
                                      QuoteName(on), in.cte),
                          {&in}, max + 1);
    if (values.size() > max)
      spec.Fail("columns",
                fmt::format("'{}' has more than {} distinct values: pivot on a column with fewer, or raise "
                            "max_columns",
                            on, max));
    auto call = [&](const std::string& filter) {
      std::string f = filter.empty() ? "" : " FILTER (WHERE " + filter + ")";
      if (agg == "count") return fmt::format("count({}){}", value.empty() ? "*" : QuoteName(value), f);
      if (agg == "count_distinct") return fmt::format("count(DISTINCT {}){}", QuoteName(value), f);
      return fmt::format("{}({}){}", agg, QuoteName(value), f);
    };
    std::string fill = spec.Has("fill") ? spec.Literal("fill") : "";
    auto filled = [&](const std::string& c) {
      return fill.empty() ? c : "coalesce(" + c + ", " + fill + ")";
    };
    std::string list = ColumnList(index), combined = list;
    AggregateParts parts;  // each value's partials, for AddAggregate
    for (auto& v : values) {
      std::string c = call(fmt::format("CAST({} AS VARCHAR) = {}", QuoteName(on), StringLiteral(v)));
      list += fmt::format("{}{} AS {}", list.empty() ? "" : ", ", filled(c), QuoteName(v));
      std::string upper = agg;  // AggregateParts::Split's names; a distinct count does not split
      for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      combined += fmt::format("{}{} AS {}", combined.empty() ? "" : ", ", filled(parts.Split(upper, c)),
                              QuoteName(v));
    }
    bool totals = spec.Bool("totals", false);
    if (!totals)  // (the totals' grouping sets stay one statement)
      return AddAggregate(step, in, index,
                          fmt::format("SELECT {} FROM {}{}", list, in.cte,
                                      index.empty() ? "" : " GROUP BY " + ColumnList(index)),
                          parts, combined);
    if (totals) list += fmt::format("{}{} AS {}", list.empty() ? "" : ", ", call(""), QuoteName("Total"));
    std::string group;
    if (!index.empty())
      group = totals ? " GROUP BY GROUPING SETS ((" + ColumnList(index) + "), ())"
                     : " GROUP BY " + ColumnList(index);
    std::string order =
        index.empty() ? "" : " ORDER BY grouping(" + ColumnList(index) + "), " + ColumnList(index);
    step.Add(fmt::format("SELECT {} FROM {}{}{}", list, in.cte, group, totals ? order : ""), {&in});
  }
};

class Unpivot : public StepType {
 public:
  const char* name() const override { return "unpivot"; }
  std::set<std::string> fields() const override {
    return {"input", "columns", "exclude", "name", "value", "include_nulls"};
  }
  void Compile(StepContext& step) const override {
    const Spec& spec = step.spec();
    const Relation& in = step.Input("input");
    if (spec.Has("columns") == spec.Has("exclude"))
      spec.Fail("", "give one of 'columns' (the ones to turn into rows) and 'exclude' (the ones to keep)");
    std::vector<std::string> turned, kept;
    if (spec.Has("columns")) {
      for (auto& c : spec.List("columns")) turned.push_back(in.Find(c, spec, "columns"));
      for (auto& c : in.Names())
        if (std::find(turned.begin(), turned.end(), c) == turned.end()) kept.push_back(c);
    } else {
      for (auto& c : spec.List("exclude")) kept.push_back(in.Find(c, spec, "exclude"));
      for (auto& c : in.Names())
        if (std::find(kept.begin(), kept.end(), c) == kept.end()) turned.push_back(c);
    }
    if (turned.empty()) spec.Fail("columns", "turns no column into rows");
    std::string name = spec.Text("name", "name"), value = spec.Text("value", "value");
    std::string names, values;
    for (auto& c : turned) {
      names += (names.empty() ? "" : ", ") + StringLiteral(c);
      values += (values.empty() ? "" : ", ") + QuoteName(c);
    }
    std::string sql =
        fmt::format("SELECT {}{}unnest([{}]) AS {}, unnest([{}]) AS {} FROM {}", ColumnList(kept),
                    kept.empty() ? "" : ", ", names, QuoteName(name), values, QuoteName(value), in.cte);
    if (!spec.Bool("include_nulls", false))
      sql = fmt::format("SELECT * FROM ({}) WHERE {} IS NOT NULL", sql, QuoteName(value));
    step.Add(sql, {&in});
  }
};

}  // namespace

std::unique_ptr<StepType> MakeJoin() {
  return std::make_unique<Join>();
}
std::unique_ptr<StepType> MakeLookup() {
  return std::make_unique<Lookup>();
}
std::unique_ptr<StepType> MakePivot() {
  return std::make_unique<Pivot>();
}
std::unique_ptr<StepType> MakeUnpivot() {
  return std::make_unique<Unpivot>();
}

}  // namespace tarn::quality
