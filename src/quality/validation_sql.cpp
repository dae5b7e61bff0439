// SQL builders of validation plans: bucket checksums (docs/validation.md, "How it
// scales": each side's records hashed into buckets by key, a bucket's count and sum of
// record hashes compared, so that only records of buckets that differ are compared
// column by column), pairing equal records off first, and Griffin's measure.
#include <fmt/format.h>

#include <regex>

#include "common/error.h"
#include "quality/expr_functions.h"
#include "quality/validation_spec.h"

namespace tarn::quality {

namespace {

constexpr int64_t kBuckets = 1 << 22;

std::string List(const std::vector<std::string>& v) {
  std::string out;
  for (auto& x : v) out += (out.empty() ? "" : ", ") + x;
  return out;
}

// The scale of a DuckDB number type (DECIMAL(p,s) gives s; integers 0).
int Scale(const std::string& type) {
  static const std::regex kDecimal(R"(DECIMAL\((\d+),(\d+)\))");
  std::smatch m;
  return std::regex_match(type, m, kDecimal) ? std::stoi(m[2]) : 0;
}

}  // namespace

std::string CanonicalType(const std::string& a, const std::string& b, CompareColumn::Kind kind) {
  if (a == b) return "";
  switch (kind) {
    case CompareColumn::kNumber:
      if (IsFloating(a) || IsFloating(b)) return "DOUBLE";
      return fmt::format("DECIMAL(38,{})", std::max(Scale(a), Scale(b)));
    case CompareColumn::kDate: return "TIMESTAMP";
    case CompareColumn::kOther: break;
  }
  return "VARCHAR";
}

std::string BucketOf(const std::vector<std::string>& keys) {
  return fmt::format("hash({}) % {}", List(keys), kBuckets);
}

std::string ChangedBucketsSql(const BucketSide& s, const BucketSide& t) {
  auto side = [](const BucketSide& b) {
    std::vector<std::string> all = b.keys;
    all.insert(all.end(), b.values.begin(), b.values.end());
    return fmt::format("SELECT {} AS __b, count(*) AS __n, sum(hash({})) AS __h FROM {} GROUP BY 1",
                       BucketOf(b.keys), List(all), b.rel);
  };
  return fmt::format(
      "SELECT coalesce(s.__b, t.__b) AS __b FROM ({}) s FULL JOIN ({}) t ON s.__b = t.__b WHERE s.__n IS "
      "DISTINCT "
      "FROM t.__n OR s.__h IS DISTINCT FROM t.__h",
      side(s), side(t));
}

std::string ExactPairsRemoved(const std::string& left, const std::string& right,
                              const std::vector<ExactColumn>& columns) {
  std::vector<std::string> l, r;
  std::string on;
  for (auto& c : columns) {
    std::string a = "s." + QuoteName(c.source), b = "t." + QuoteName(c.target);
    l.push_back(QuoteName(c.source));
    r.push_back(QuoteName(c.target));
    on += c.nulls_equal ? fmt::format("{} IS NOT DISTINCT FROM {} AND ", a, b)
                        : fmt::format("{} = {} AND ", a, b);
    if (!c.nans_equal) on += fmt::format("NOT (isnan({}) AND isnan({})) AND ", a, b);
  }
  on += "s.__e = t.__e";
  return fmt::format(
      "__es AS (SELECT *, row_number() OVER (PARTITION BY {0}) AS __e FROM {2}), __et AS (SELECT *, "
      "row_number() "
      "OVER (PARTITION BY {1}) AS __e FROM {3}), __rs AS (SELECT s.* EXCLUDE (__e) FROM __es s ANTI JOIN "
      "__et t ON "
      "{4}), __rt AS (SELECT t.* EXCLUDE (__e) FROM __et t ANTI JOIN __es s ON {4})",
      List(l), List(r), left, right, on);
}

std::string GriffinSql(const std::string& with, const std::vector<std::pair<std::string, std::string>>& rule,
                       bool bucketed, const std::string& total) {
  std::string on, snull, tnull;
  for (auto& [s, t] : rule) {
    on += fmt::format("{}coalesce(CAST(s.{} AS VARCHAR), '') = coalesce(CAST(t.{} AS VARCHAR), '')",
                      on.empty() ? "" : " AND ", QuoteName(s), QuoteName(t));
    snull += fmt::format("{}s.{} IS NULL", snull.empty() ? "" : " AND ", QuoteName(s));
    tnull += fmt::format("{}t.{} IS NULL", tnull.empty() ? "" : " AND ", QuoteName(t));
  }
  std::string w = with, left = "__s", right = "__t";
  if (bucketed) {
    // A record of a bucket whose checksums agree has an equal record on the other
    // side, so it is no miss: only the records the diff kept (v_cs, v_ct) can be.
    w = with.substr(0, with.size() - 1) +
        ", __gs AS (SELECT * EXCLUDE (__in) FROM v_cs), __gt AS (SELECT * EXCLUDE (__in) FROM v_ct) ";
    left = "__gs", right = "__gt";
  }
  return w + fmt::format(
                 "SELECT {} AS total, (SELECT count(*) FROM {} s LEFT JOIN {} t ON {} WHERE (NOT ({})) AND "
                 "({})) AS miss",
                 total, left, right, on, snull, tnull);
}

bool DatabaseExists(SchemaProbe& probe, const std::string& database) {
  try {
    probe.Values("SHOW TABLES FROM " + QuoteName(database), 1);
    return true;
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kNotFound) return false;
    throw;
  }
}

std::string ValidationPlan::Script() const {
  std::string out;
  for (auto& s : statements) out += s + ";\n\n";
  return out;
}

}  // namespace tarn::quality
