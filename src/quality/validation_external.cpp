// A validation's side in PostgreSQL: value texts alike in both systems, segment
// checksums and their bisection, and the records of differing segments staged for the
// run (docs/validation.md, "Across systems").
#include "quality/validation_external.h"

#include <fmt/format.h>
#include <duckdb.hpp>

#include <chrono>
#include <cmath>
#include <map>
#include <regex>

#include "common/error.h"
#include "quality/compare.h"
#include "quality/expr_functions.h"

namespace tarn::quality {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int64_t kTransferRows = 2048;   // records of differing segments read without splitting them further
constexpr size_t kMaxSegments = 1000000;  // checksums one level may compare
constexpr int kDigits = 2;                // a segment splits into 256 (two more hex digits of the key's MD5)
constexpr int kFanOut = 1 << (4 * kDigits);
constexpr double kFirstSegmentRows = 4096;  // at most this many records a segment at the first level

int Scale(const std::string& type) {
  static const std::regex kDecimal(R"(DECIMAL\((\d+),(\d+)\))");
  std::smatch m;
  return std::regex_match(type, m, kDecimal) ? std::stoi(m[2]) : 0;
}

std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

// The checksum of a record: the first 60 bits of the MD5 of its text, as a BIGINT.
std::string RecordHash(const std::string& record, bool pg) {
  return pg ? fmt::format("('x' || substr(md5({}), 1, 15))::bit(60)::bigint", record)
            : fmt::format("CAST('0x' || substr(md5({}), 1, 15) AS BIGINT)", record);
}

// Segments as prefixes of the key's MD5 (hex digits only, so safe to print as literals).
std::string InList(const std::vector<std::string>& prefixes) {
  std::string out;
  for (auto& p : prefixes) out += (out.empty() ? "'" : ", '") + p + "'";
  return out;
}

// Each segment's record count and sum of record checksums, at `length` hex digits,
// within the segments `within` (their length `within_length`; none: everywhere).
std::string ChecksumSql(const std::string& rel, const std::string& key, const std::string& record, bool pg,
                        int length, const std::vector<std::string>& within, int within_length) {
  std::string where =
      within.empty() ? "" : fmt::format(" WHERE substr(__k, 1, {}) IN ({})", within_length, InList(within));
  std::string inner = fmt::format(
      "SELECT substr(__k, 1, {0}) AS seg, count(*) AS n, sum({1}) AS h FROM (SELECT md5({2}) "
      "AS __k, * FROM {3}) AS __x{4} GROUP BY 1",
      length, RecordHash(record, pg), key, rel, where);
  return pg ? inner : "SELECT concat(seg, ' ', n, ' ', h) FROM (" + inner + ")";
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::round(std::chrono::duration<double>(d).count() * 1000) / 1000;
}

struct Checksum {
  int64_t rows = 0;
  std::string sum;
};
using Checksums = std::map<std::string, Checksum>;

// Writes rows to a Parquet file through a private DuckDB database of the stage: the
// values go in as text and are cast to their columns' types on the way out.
class StageWriter {
 public:
  explicit StageWriter(const fs::path& dir) : dir_(dir), db_((dir / "stage.duckdb").string()), con_(db_) {
    Run("SET memory_limit = '1GB'");
  }

  using Fill = std::function<void(duckdb::Appender&)>;
  session::FileInput Write(const std::string& table,
                           const std::vector<std::pair<std::string, std::string>>& columns,
                           const std::string& connection, const Fill& fill) {
    std::vector<std::string> raw, cast;
    for (size_t i = 0; i < columns.size(); i++) {
      raw.push_back(fmt::format("c{} VARCHAR", i));
      cast.push_back(fmt::format("CAST(c{} AS {}) AS {}", i, columns[i].second, QuoteName(columns[i].first)));
    }
    Run("CREATE OR REPLACE TABLE raw (" + Join(raw, ", ") + ")");
    {
      duckdb::Appender app(con_, "raw");
      fill(app);
      app.Close();
    }
    fs::path file = dir_ / (table + ".parquet");
    auto r = con_.Query(
        fmt::format("COPY (SELECT {} FROM raw) TO '{}' (FORMAT parquet)", Join(cast, ", "), file.string()));
    if (r->HasError())
      throw Error(ErrorCode::kIo,
                  fmt::format("connection '{}': a value read from PostgreSQL does not convert: {}",
                              connection, r->GetErrorObject().RawMessage()));
    Run("DROP TABLE raw");
    return session::FileInput{table, file, files::FileFormat::kParquet, {}, "connection " + connection};
  }

 private:
  void Run(const std::string& sql) {
    auto r = con_.Query(sql);
    if (r->HasError()) throw Error(ErrorCode::kInternal, "staging external rows: " + r->GetError());
  }
  fs::path dir_;
  duckdb::DuckDB db_;
  duckdb::Connection con_;
};

void AppendRow(duckdb::Appender& app, const std::vector<std::optional<std::string>>& row) {
  app.BeginRow();
  for (auto& cell : row) {
    if (cell) {
      app.Append(duckdb::Value(*cell));
    } else {
      app.Append(duckdb::Value());
    }
  }
  app.EndRow();
}

// Bisects the segments whose checksums differ: returns them, at the length reached.
class Bisection {
 public:
  Bisection(const ExternalPlan& plan, PgSource& pg, SchemaProbe& lake) : p_(plan), pg_(pg), lake_(lake) {}

  std::vector<std::string> Run(int64_t rows, int& length, json& levels) {
    length = 1;
    while (length < 6 && static_cast<double>(rows) / std::pow(16.0, length) > kFirstSegmentRows) length++;
    std::vector<std::string> within;
    int within_length = 0;
    for (;;) {
      auto t0 = std::chrono::steady_clock::now();
      Checksums ext = External(length, within, within_length);
      auto t_ext = std::chrono::steady_clock::now();
      Checksums lake = Lake(length, within, within_length);
      auto t_lake = std::chrono::steady_clock::now();
      std::vector<std::string> differ;
      int64_t ext_rows = 0;
      std::map<std::string, int> seen;
      for (auto& [seg, c] : ext) seen[seg] |= 1;
      for (auto& [seg, c] : lake) seen[seg] |= 2;
      for (auto& [seg, where] : seen) {
        auto e = ext.find(seg), l = lake.find(seg);
        bool same = where == 3 && e->second.rows == l->second.rows && e->second.sum == l->second.sum;
        if (same) continue;
        differ.push_back(seg);
        if (e != ext.end()) ext_rows += e->second.rows;
      }
      levels.push_back({{"prefix_digits", length},
                        {"segments_compared", seen.size()},
                        {"segments_differing", differ.size()},
                        {"external_rows_in_differing", ext_rows},
                        {"external_seconds", Seconds(t_ext - t0)},
                        {"lake_seconds", Seconds(t_lake - t_ext)}});
      bool dense = differ.size() * 2 > seen.size() && !within.empty();
      bool small = ext_rows <= kTransferRows || ext_rows <= 16 * static_cast<int64_t>(differ.size());
      if (differ.empty() || small || dense || length + kDigits > 16 || differ.size() * kFanOut > kMaxSegments)
        return differ;
      within = std::move(differ);
      within_length = length;
      length += kDigits;
    }
  }

 private:
  Checksums External(int length, const std::vector<std::string>& within, int within_length) {
    Checksums out;
    auto rows =
        pg_.Query(ChecksumSql(p_.table, p_.pg_key, p_.pg_record, true, length, within, within_length));
    for (auto& r : rows.rows) out[r[0].value_or("")] = {std::stoll(r[1].value_or("0")), r[2].value_or("")};
    return out;
  }
  Checksums Lake(int length, const std::vector<std::string>& within, int within_length) {
    Checksums out;
    std::string sql = ChecksumSql("(" + p_.lake_rel + ")", p_.lake_key, p_.lake_record, false, length, within,
                                  within_length);
    for (auto& line : lake_.Values(sql, kMaxSegments + 1)) {
      auto a = line.find(' '), b = line.rfind(' ');
      out[line.substr(0, a)] = {std::stoll(line.substr(a + 1, b - a - 1)), line.substr(b + 1)};
    }
    return out;
  }
  const ExternalPlan& p_;
  PgSource& pg_;
  SchemaProbe& lake_;
};

}  // namespace

std::string LakeValueText(const std::string& q, const std::string& type) {
  if (type.rfind("DECIMAL", 0) == 0 && Scale(type) > 0)
    return fmt::format("regexp_replace(CAST({} AS VARCHAR), '\\.?0+$', '')", q);
  if (IsFloating(type))
    return fmt::format(
        "CASE WHEN isnan({0}) THEN 'NaN' WHEN isinf({0}) THEN CASE WHEN {0} > 0 THEN 'Infinity' ELSE "
        "'-Infinity' END "
        "ELSE regexp_replace(CAST({0} AS VARCHAR), '\\.0$', '') END",
        q);
  if (type.rfind("TIMESTAMP", 0) == 0) return fmt::format("CAST(epoch_us({}) AS VARCHAR)", q);
  return fmt::format("CAST({} AS VARCHAR)", q);
}

std::string PgValueText(const std::string& q, const PgColumn& c) {
  if (c.pg_type.rfind("numeric", 0) == 0) return fmt::format("trim_scale({})::text", q);
  if (c.duck_type.rfind("TIMESTAMP", 0) == 0)
    return fmt::format("(extract(epoch from {}) * 1000000)::bigint::text", q);
  return fmt::format("{}::text", q);
}

// A value's text prefixed by its length in bytes ("5:hello"), or `null` for NULL;
// chained with || (PostgreSQL's concat() is several times slower).
std::string Prefixed(const std::string& t, bool pg, const char* null) {
  return pg ? fmt::format("coalesce(octet_length({0})::text || ':' || {0}, '{1}')", t, null)
            : fmt::format("coalesce(CAST(strlen({0}) AS VARCHAR) || ':' || {0}, '{1}')", t, null);
}

std::string SegmentKeyText(const std::vector<std::string>& texts, bool pg) {
  std::vector<std::string> parts;
  for (auto& t : texts) parts.push_back(Prefixed(t, pg, "0:"));  // NULL reads as ''
  return "(" + Join(parts, " || ") + ")";
}

std::string RecordText(const std::vector<std::string>& texts, bool pg) {
  std::vector<std::string> parts;
  for (auto& t : texts) parts.push_back(Prefixed(t, pg, "N"));  // a value's text starts with a digit
  return "(" + Join(parts, " || ") + ")";
}

const ExternalConnection& FindConnection(const ValidationContext& context, const std::string& name,
                                         const identity::Principal& principal) {
  for (auto& c : context.connections) {
    if (c.name == name && c.Allows(principal)) return c;
  }
  throw Error::NotFound(
      "connection '{}' does not exist (or you may not use it): the server's administrator names "
      "connections in tarn.toml, [connections.NAME]",
      name.substr(0, 64));
}

bool ExternalConnection::Allows(const identity::Principal& p) const {
  if (std::find(users.begin(), users.end(), p.user) != users.end()) return true;
  return std::any_of(groups.begin(), groups.end(), [&](auto& g) {
    return std::find(p.groups.begin(), p.groups.end(), g) != p.groups.end();
  });
}

ExternalStaged StageExternal(const ExternalPlan& plan, PgSource& pg, SchemaProbe& lake, const fs::path& dir) {
  auto started = std::chrono::steady_clock::now();
  ExternalStaged out;
  StageWriter writer(dir);
  int64_t rows = 0;
  for (auto& [table, sql] : plan.remote) {
    PgRows result = pg.Query(sql);
    std::vector<std::pair<std::string, std::string>> cols;
    for (size_t i = 0; i < result.columns.size(); i++) {
      cols.emplace_back(result.columns[i].name, result.columns[i].duck_type);
      if (table == "__ext_profile" && result.columns[i].name == "rows" && !result.rows.empty())
        rows = std::stoll(result.rows[0][i].value_or("0"));
    }
    out.inputs.push_back(writer.Write(table, cols, plan.connection, [&](duckdb::Appender& app) {
      for (auto& r : result.rows) AppendRow(app, r);
    }));
  }
  json levels = json::array();
  int length = 0;
  std::vector<std::string> differ = Bisection(plan, pg, lake).Run(rows, length, levels);
  int64_t checksum_bytes = pg.bytes_received();
  out.inputs.push_back(
      writer.Write("__ext_segments", {{"prefix", "VARCHAR"}}, plan.connection, [&](duckdb::Appender& app) {
        for (auto& d : differ) AppendRow(app, {d});
      }));
  std::string where =
      differ.empty() ? ""
                     : fmt::format("substr(md5({}), 1, {}) IN ({})", plan.pg_key, length, InList(differ));
  if (!plan.pg_always.empty())
    where = where.empty() ? plan.pg_always : "(" + where + ") OR " + plan.pg_always;
  std::vector<std::string> select;
  for (auto& [name, type] : plan.transfer) select.push_back(QuoteName(name));
  int64_t transferred = 0;
  auto transfer_started = std::chrono::steady_clock::now();
  out.inputs.push_back(writer.Write("__ext_rows", plan.transfer, plan.connection, [&](duckdb::Appender& app) {
    if (where.empty()) return;
    std::vector<PgColumn> columns;
    pg.Stream(
        fmt::format("SELECT {} FROM {} WHERE {}", Join(select, ", "), plan.table, where),
        [&](const std::vector<std::optional<std::string>>& row) {
          AppendRow(app, row);
          transferred++;
        },
        columns);
  }));
  auto now = std::chrono::steady_clock::now();
  out.stats = {{"connection", plan.connection},
               {"table", plan.name},
               {"side", plan.source ? "source" : "target"},
               {"rows", rows},
               {"levels", levels},
               {"segments_differing", differ.size()},
               {"rows_transferred", transferred},
               {"bytes_transferred", pg.bytes_received()},
               {"checksum_bytes", checksum_bytes},
               {"queries", pg.queries()},
               {"transfer_seconds", Seconds(now - transfer_started)},
               {"seconds", Seconds(now - started)}};
  return out;
}

}  // namespace tarn::quality
