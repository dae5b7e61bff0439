// SQL builders of a validation's rows: profiles, duplicate keys, the multiset diff and
// the mismatch rows (docs/validation.md, "What a run does").
#include <fmt/format.h>

#include "quality/expr_functions.h"
#include "quality/validation_spec.h"

namespace tarn::quality {

namespace {

std::string Join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

}  // namespace

std::string ProfileSql(const std::string& rel, const std::vector<ProfiledColumn>& profiled,
                       const std::vector<std::pair<std::string, std::string>>& keys, bool source, bool pg) {
  std::string sel = "count(*) AS rows";
  for (size_t i = 0; i < profiled.size(); i++) {
    const ProfiledColumn& p = profiled[i];
    std::string c = QuoteName(source ? p.source : p.target);
    // PostgreSQL: exact distinct counts, and text ordered by bytes as DuckDB orders it.
    std::string m =
        pg && p.kind == CompareColumn::kOther ? fmt::format("CAST({} AS text) COLLATE \"C\"", c) : c;
    std::string d = pg ? "count(DISTINCT " + c + ")" : "approx_count_distinct(" + c + ")";
    sel +=
        fmt::format(", count({0}) AS n{1}, {3} AS d{1}, min({2}) AS min{1}, max({2}) AS max{1}", c, i, m, d);
    if (p.kind == CompareColumn::kNumber)
      sel += fmt::format(", sum({0}) AS sum{1}, avg({0}) AS mean{1}", c, i);
    if (p.kind == CompareColumn::kOther)
      sel += fmt::format(
          ", min(length(CAST({0} AS VARCHAR))) AS minlen{1}, max(length(CAST({0} AS VARCHAR))) AS maxlen{1}, "
          "avg(length(CAST({0} AS VARCHAR))) AS meanlen{1}",
          c, i);
  }
  if (!keys.empty()) {
    std::vector<std::string> any;
    for (auto& [s, t] : keys) any.push_back(QuoteName(source ? s : t) + " IS NULL");
    sel += fmt::format(", count(*) FILTER (WHERE {}) AS null_keys", Join(any, " OR "));
  }
  return "SELECT " + sel + " FROM " + rel;
}

std::string DuplicatesSql(const std::string& rel,
                          const std::vector<std::pair<std::string, std::string>>& keys, bool source) {
  std::vector<std::string> k;
  for (auto& [s, t] : keys) k.push_back(source ? s : t);
  return fmt::format(
      "SELECT count(*) FILTER (WHERE __n > 1) AS duplicate_keys, coalesce(sum(__n) FILTER (WHERE __n > 1), "
      "0) AS "
      "rows_with_duplicate_keys FROM (SELECT count(*) AS __n FROM {} GROUP BY {}) AS __g",
      rel, ColumnList(k));
}

std::pair<std::string, std::string> MultisetDiffSql(const std::vector<CompareColumn>& columns,
                                                    bool null_equals_null) {
  std::vector<std::string> s, t, on, out;
  for (auto& c : columns) {
    auto norm = [&](const std::string& name) {
      std::string e = QuoteName(name);
      if (c.trim) e = "trim(" + e + ")";
      if (c.ignore_case) e = "lower(" + e + ")";
      return e + " AS " + QuoteName(c.name);
    };
    s.push_back(norm(c.left));
    t.push_back(norm(c.right));
    std::string q = QuoteName(c.name);
    on.push_back(fmt::format("s.{0} {1} t.{0}", q, null_equals_null ? "IS NOT DISTINCT FROM" : "="));
    out.push_back(fmt::format("coalesce(s.{0}, t.{0}) AS {0}", q));
  }
  auto group = [](const std::vector<std::string>& list, const char* rel) {
    return fmt::format("SELECT {}, count(*) AS __n FROM {} GROUP BY ALL", Join(list, ", "), rel);
  };
  return {fmt::format(
              "SELECT {}, coalesce(s.__n, 0) AS __ns, coalesce(t.__n, 0) AS __nt FROM ({}) s FULL JOIN ({}) "
              "t ON {} WHERE coalesce(s.__n, 0) <> coalesce(t.__n, 0)",
              Join(out, ", "), group(s, "__s"), group(t, "__t"), Join(on, " AND ")),
          "SELECT coalesce(sum(greatest(__ns - __nt, 0)), 0) AS missing, coalesce(sum(greatest(__nt - __ns, "
          "0)), 0) AS "
          "extra, 0 AS changed FROM v_diff"};
}

std::string MismatchesSql(const RowsShape& r) {
  if (r.keys.empty()) {
    std::string cols;
    for (auto& c : r.columns) {
      std::string q = QuoteName(c.name);
      cols += fmt::format(
          ", CASE WHEN __ns > __nt THEN {0} END AS {1}, CASE WHEN __nt > __ns THEN {0} END AS {2}", q,
          QuoteName(c.name + "_source"), QuoteName(c.name + "_target"));
    }
    return fmt::format(
        "SELECT * EXCLUDE (__i) FROM (SELECT CASE WHEN __ns > __nt THEN 'missing' ELSE 'extra' END AS "
        "diff_type, "
        "CAST(NULL AS VARCHAR) AS changed_columns{}, unnest(range(CAST(abs(__ns - __nt) AS BIGINT))) AS __i "
        "FROM "
        "v_diff)",
        cols);
  }
  std::string sel =
      "CASE diff_type WHEN 'left_only' THEN 'missing' WHEN 'right_only' THEN 'extra' ELSE 'changed' END AS "
      "diff_type";
  for (auto& [s, t] : r.keys) sel += ", " + QuoteName(s);
  sel += ", reason AS changed_columns";
  for (auto& c : r.columns)
    sel += fmt::format(", {} AS {}, {} AS {}", QuoteName(c.name + "_left"), QuoteName(c.name + "_source"),
                       QuoteName(c.name + "_right"), QuoteName(c.name + "_target"));
  return "SELECT " + sel + " FROM v_diff WHERE diff_type <> 'matched'";
}

std::vector<std::string> MismatchColumns(const RowsShape& r) {
  std::vector<std::string> out = {"diff_type"};
  for (auto& [s, t] : r.keys) out.push_back(s);
  out.push_back("changed_columns");
  for (auto& c : r.columns) {
    out.push_back(c.name + "_source");
    out.push_back(c.name + "_target");
  }
  return out;
}

std::string MismatchOrder(const RowsShape& r) {
  std::vector<std::string> by = {"diff_type"};
  for (auto& [s, t] : r.keys) by.push_back(s);
  if (r.keys.empty()) {
    for (auto& c : r.columns) by.push_back(c.name + "_source"), by.push_back(c.name + "_target");
  }
  return ColumnList(by);
}

std::string AccuracySql(const std::vector<CompareColumn>& columns) {
  std::string sel =
      "count(*) FILTER (WHERE diff_type = 'left_only') AS missing, count(*) FILTER (WHERE diff_type = "
      "'right_only') AS extra, count(*) FILTER (WHERE diff_type = 'break') AS changed";
  for (size_t i = 0; i < columns.size(); i++) {
    auto& c = columns[i];
    std::string l = QuoteName(c.name + "_left"), r = QuoteName(c.name + "_right"),
                u = QuoteName(c.name + "_unequal");
    std::string pair = "diff_type IN ('matched', 'break')";
    sel += fmt::format(
        ", count(*) FILTER (WHERE {0} AND {1}) AS unequal{4}, count(*) FILTER (WHERE {0} AND ({2} IS NULL) "
        "<> "
        "({3} IS NULL)) AS null_diff{4}, count(*) FILTER (WHERE {0} AND NOT {1} AND {2} IS DISTINCT FROM "
        "{3}) "
        "AS within{4}",
        pair, u, l, r, i);
    if (c.kind != CompareColumn::kOther)
      sel += fmt::format(", max(abs({})) FILTER (WHERE {}) AS max_abs_diff{}", QuoteName(c.name + "_diff"),
                         pair, i);
  }
  return "SELECT " + sel + " FROM v_diff";
}

}  // namespace tarn::quality
