// SQL builders of a validation's rows: profiles, duplicate keys, the multiset diff and
// the mismatch rows (docs/validation.md, "What a run does").
#include <fmt/format.h>

#include "common/util.h"
#include "quality/expr.h"
#include "quality/expr_functions.h"
#include "quality/validation_spec.h"

namespace tarn::quality {

namespace {

std::string Join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

// A profile's figures, one aggregate each: the one-step select list and, with
// `parts`, the partials' combination (AggregateParts).
class Figures {
 public:
  Figures(AggregateParts* parts, bool pg) : parts_(parts), pg_(pg) {}
  void Add(const std::string& alias, const char* function, const std::string& sql) {
    Append(one_, sql, alias);
    if (parts_) Append(combined_, parts_->Split(function, sql), alias);
  }
  // A mean as an exact sum over a count: a split gives the one-step figure.
  void Mean(const std::string& alias, const std::string& e) {
    if (pg_) return Append(one_, "avg(" + e + ")", alias);  // PostgreSQL's is exact
    Append(one_, fmt::format("CAST(sum({0}) AS DOUBLE) / nullif(count({0}), 0)", e), alias);
    if (parts_)
      Append(combined_,
             fmt::format("CAST({} AS DOUBLE) / nullif({}, 0)", parts_->Split("SUM", "sum(" + e + ")"),
                         parts_->Split("COUNT", "count(" + e + ")")),
             alias);
  }
  const std::string& one() const { return one_; }
  const std::string& combined() const { return combined_; }

 private:
  static void Append(std::string& list, const std::string& sql, const std::string& alias) {
    list += (list.empty() ? "" : ", ") + sql + " AS " + alias;
  }
  AggregateParts* parts_;
  bool pg_;
  std::string one_, combined_;
};

void AddProfile(Figures& f, const std::vector<ProfiledColumn>& profiled,
                const std::vector<std::pair<std::string, std::string>>& keys, bool source, bool pg) {
  f.Add("rows", "COUNT", "count(*)");
  for (size_t i = 0; i < profiled.size(); i++) {
    const ProfiledColumn& p = profiled[i];
    std::string c = QuoteName(source ? p.source : p.target);
    // PostgreSQL: exact distinct counts, and text ordered by bytes as DuckDB orders it.
    std::string m =
        pg && p.kind == CompareColumn::kOther ? fmt::format("CAST({} AS text) COLLATE \"C\"", c) : c;
    f.Add(fmt::format("n{}", i), "COUNT", "count(" + c + ")");
    if (pg)
      f.Add(fmt::format("d{}", i), "COUNT_DISTINCT", "count(DISTINCT " + c + ")");
    else
      f.Add(fmt::format("d{}", i), "APPROX_COUNT_DISTINCT", "approx_count_distinct(" + c + ")");
    f.Add(fmt::format("min{}", i), "MIN", "min(" + m + ")");
    f.Add(fmt::format("max{}", i), "MAX", "max(" + m + ")");
    if (p.kind == CompareColumn::kNumber) {
      f.Add(fmt::format("sum{}", i), "SUM", "sum(" + c + ")");
      f.Mean(fmt::format("mean{}", i), c);
    }
    if (p.kind == CompareColumn::kOther) {
      std::string len = fmt::format("length(CAST({} AS VARCHAR))", c);
      f.Add(fmt::format("minlen{}", i), "MIN", "min(" + len + ")");
      f.Add(fmt::format("maxlen{}", i), "MAX", "max(" + len + ")");
      f.Mean(fmt::format("meanlen{}", i), len);
    }
  }
  if (!keys.empty()) {
    std::vector<std::string> any;
    for (auto& [s, t] : keys) any.push_back(QuoteName(source ? s : t) + " IS NULL");
    f.Add("null_keys", "COUNT", fmt::format("count(*) FILTER (WHERE {})", Join(any, " OR ")));
  }
}

}  // namespace

const Column* FindColumn(const std::vector<Column>& columns, const std::string& name) {
  for (auto& c : columns) {
    if (c.name == name) return &c;
  }
  for (auto& c : columns) {
    if (AsciiLower(c.name) == AsciiLower(name)) return &c;
  }
  return nullptr;
}

std::string ProfileSql(const std::string& rel, const std::vector<ProfiledColumn>& profiled,
                       const std::vector<std::pair<std::string, std::string>>& keys, bool source, bool pg) {
  Figures f(nullptr, pg);
  AddProfile(f, profiled, keys, source, pg);
  return "SELECT " + f.one() + " FROM " + rel;
}

ProfileParts ProfileInParts(const std::string& rel, const std::string& partials,
                            const std::vector<ProfiledColumn>& profiled,
                            const std::vector<std::pair<std::string, std::string>>& keys, bool source,
                            const std::function<std::vector<Column>(const std::string& query)>& describe) {
  AggregateParts parts;
  Figures f(&parts, false);
  AddProfile(f, profiled, keys, source, false);
  auto types = describe(fmt::format("SELECT {} FROM {} LIMIT 0", Join(parts.partial, ", "), rel));
  std::vector<std::string> stored, cast;
  for (size_t i = 0; i < parts.partial.size(); i++) stored.push_back(parts.Stored(i, types.at(i).type));
  for (auto& c : describe(fmt::format("SELECT {} FROM {} LIMIT 0", f.one(), rel)))
    cast.push_back(fmt::format("CAST({0} AS {1}) AS {0}", QuoteName(c.name), c.type));
  return {fmt::format("SELECT {} FROM {}", Join(stored, ", "), rel),
          fmt::format("SELECT {} FROM (SELECT {} FROM {})", Join(cast, ", "), f.combined(), partials)};
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
