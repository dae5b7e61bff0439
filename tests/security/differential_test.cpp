// Differential test of governance: random queries (query_gen.h) run as an analyst
// on a governed table and as the administrator on a plain table holding exactly what
// the analyst may see. The two must answer alike: the same rows (as sorted multisets
// unless the query orders them totally), the same column names, or both an error of
// the same code. Nothing the analyst receives may carry a planted marker.
//
// The lake (planted as the local administrator):
//   d.t   200 rows: id 1-200; region EU (id % 4 in 0, 1), APAC (id % 4 = 2) or
//         US-HIDDEN-MARK (id % 4 = 3). EU rows hold ordinary values, raw emails
//         rawlocal<id>@corp<k>.example (masked as ***@corp<k>.example); APAC and US
//         rows hold emails HIDDEN-MARK-..., amounts 900000+; US rows dates in 1900 and
//         scores 77700+; ssn is HIDDEN-MARK-ssn-<id> in every row. Some emails and
//         scores are NULL.
//   Data filter eu: EXCLUDING (ssn) ROW FILTER region = 'EU', granted to analysts;
//   data filter apac: COLUMNS (id, region, created, score) ROW FILTER region = 'APAC',
//   granted to apac; email masked as '***' || substr(email, strpos(email, '@')).
//   d.ref_eu    what analysts see: EU rows, masked emails, no ssn.
//   d.ref_both  what analysts who are also in apac see: EU rows as above, plus APAC
//               rows with amount and email NULL.
//
// TARN_DIFF_SEED and TARN_DIFF_COUNT (queries per test) change the run; TARN_DIFF_FROM
// starts at a given query index (to replay one failure); TARN_DIFF_VERBOSE=1 prints
// every query with the reference's reply. A failure prints the seed,
// the index, both replies and a shrunk query that still fails the same way.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "query_gen.h"
#include "session/instance.h"
#include "sql_helpers.h"
#include "test_util.h"

namespace tarn::testing {
namespace {

// --- the planted lake ---------------------------------------------------------------

constexpr const char* kRows =
    "SELECT i AS id,"
    " CASE i % 4 WHEN 0 THEN 'EU' WHEN 1 THEN 'EU' WHEN 2 THEN 'APAC' ELSE 'US-HIDDEN-MARK' END AS region,"
    " CAST(CASE WHEN i % 4 < 2 THEN ((i * 3719) % 100000) / 100.0 ELSE 900000 + i + 0.42 END"
    "   AS DECIMAL(12,2)) AS amount,"
    " CASE WHEN i % 11 = 0 THEN NULL"
    "   WHEN i % 4 < 2 THEN 'rawlocal' || i || '@corp' || (i % 5) || '.example'"
    "   WHEN i % 4 = 2 THEN 'HIDDEN-MARK-apac' || i || '@corp' || (i % 5) || '.example'"
    "   ELSE 'HIDDEN-MARK-US-' || i || '@corp' || (i % 5) || '.example' END AS email,"
    " 'HIDDEN-MARK-ssn-' || i AS ssn,"
    " CASE WHEN i % 4 = 3 THEN DATE '1900-01-01' + CAST(i AS INTEGER)"
    "   ELSE DATE '2020-01-01' + CAST((i * 13) % 1500 AS INTEGER) END AS created,"
    " CAST(CASE WHEN i % 4 = 3 THEN 77700 + i WHEN i % 7 = 0 THEN NULL ELSE (i * 7) % 50 END AS INTEGER)"
    "   AS score "
    "FROM range(1, 201) r(i)";

constexpr const char* kMask = "'***' || substr(email, strpos(email, '@'))";

std::string PlantSql() {
  std::string rows = kRows, mask = kMask;
  return "CREATE DATABASE d;"
         "CREATE TABLE d.t AS " +
         rows +
         ";"
         "CREATE DATA FILTER eu ON d.t EXCLUDING (ssn) ROW FILTER region = 'EU';"
         "CREATE DATA FILTER apac ON d.t COLUMNS (id, region, created, score) ROW FILTER region = 'APAC';"
         "GRANT SELECT ON DATA FILTER eu TO GROUP analysts;"
         "GRANT SELECT ON DATA FILTER apac TO GROUP apac;"
         "ALTER TABLE d.t ALTER COLUMN email SET MASK " +
         mask +
         ";"
         "CREATE TABLE d.ref_eu AS SELECT id, region, amount, " +
         mask + " AS email, created, score FROM (" + rows +
         ") g WHERE region = 'EU';"
         "CREATE TABLE d.ref_both AS SELECT id, region, CASE WHEN region = 'EU' THEN amount END AS amount,"
         " CASE WHEN region = 'EU' THEN " +
         mask + " END AS email, created, score FROM (" + rows + ") g WHERE region IN ('EU', 'APAC')";
}

// What the analyst must never receive, compared case-insensitively.
const std::vector<std::string> kMarkers = {"hidden-mark", "rawlocal"};

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// --- one statement's reply --------------------------------------------------------------

struct Reply {
  bool ok = false;
  ErrorCode code = ErrorCode::kInternal;
  std::string error;
  std::vector<std::string> names;
  Rows rows;

  std::string Text(size_t max_rows = 20) const {
    std::string out = ok ? "ok" : std::string(ErrorCodeName(code)) + ": " + error;
    out += "\ncolumns:";
    for (auto& n : names) out += " " + n;
    for (size_t i = 0; i < rows.size() && i < max_rows; i++) {
      out += "\n ";
      for (auto& v : rows[i]) out += " " + v + " |";
    }
    if (rows.size() > max_rows) out += "\n  ... " + std::to_string(rows.size()) + " rows";
    return out;
  }
  std::string Marker() const {
    std::string all = error;
    for (auto& n : names) all.append(1, '\n').append(n);
    for (auto& r : rows) {
      for (auto& v : r) all.append(1, '\n').append(v);
    }
    all = Lower(all);
    for (auto& m : kMarkers) {
      if (all.find(m) != std::string::npos) return m;
    }
    return "";
  }
};

Reply Ask(RunAs& s, const std::string& sql) {
  Reply r;
  Collect c;
  try {
    s.Execute(sql, c);
    r.ok = true;
  } catch (const Error& e) {
    r.code = e.code();
    r.error = e.what();
  } catch (const std::exception& e) {
    r.error = std::string("not a tarn::Error: ") + e.what();
  }
  r.names = c.names;
  r.rows = c.rows;
  return r;
}

// How the analyst's reply differs from the reference: "" when it does not; else a
// kind ("leak", "error", "code", "names", "rows") and a colon and what differs.
std::string Difference(const Reply& ana, const Reply& ref, bool ordered) {
  if (auto m = ana.Marker(); !m.empty()) return "leak: the analyst's reply carries the marker '" + m + "'";
  if (ana.ok != ref.ok)
    return "error: only the " + std::string(ana.ok ? "administrator" : "analyst") + " failed";
  if (!ana.ok) {
    return ana.code == ref.code ? "" : "code: the two failed with different codes";
  }
  if (ana.names != ref.names) return "names: the column names differ";
  Rows a = ana.rows, b = ref.rows;
  if (!ordered) {
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
  }
  if (a != b) {
    auto row = [](const Rows& rows, size_t i) {
      std::string out = i < rows.size() ? "" : "(none)";
      for (size_t c = 0; i < rows.size() && c < rows[i].size(); c++) out += (c ? " | " : "") + rows[i][c];
      return out;
    };
    size_t i = 0;
    while (i < a.size() && i < b.size() && a[i] == b[i]) i++;
    return "rows: " + std::to_string(a.size()) + " rows against " + std::to_string(b.size()) +
           (ordered ? " (ordered)" : " (sorted)") + "; first difference at row " + std::to_string(i) +
           ": analyst " + row(a, i) + ", reference " + row(b, i);
  }
  return "";
}

std::string Kind(const std::string& difference) {
  return difference.substr(0, difference.find(':'));
}

// --- shrinking ------------------------------------------------------------------------------

// Top-level pieces of an expression: the arguments of each parenthesised group and
// the operands of its AND / OR. Most are no valid replacement; the check sorts them out.
std::vector<std::string> Pieces(const std::string& e) {
  std::vector<std::string> out;
  std::vector<size_t> open;
  bool quoted = false;
  for (size_t i = 0; i < e.size(); i++) {
    if (e[i] == '\'') quoted = !quoted;
    if (quoted) continue;
    if (e[i] == '(') open.push_back(i);
    if (e[i] != ')' || open.empty()) continue;
    size_t from = open.back() + 1;
    open.pop_back();
    std::string inner = e.substr(from, i - from);
    int depth = 0;
    size_t start = 0;
    for (size_t j = 0; j <= inner.size(); j++) {
      char c = j < inner.size() ? inner[j] : ',';
      if (c == '(') depth++;
      if (c == ')') depth--;
      bool cut =
          depth == 0 && (c == ',' || inner.compare(j, 5, " AND ") == 0 || inner.compare(j, 4, " OR ") == 0);
      if (!cut) continue;
      out.push_back(inner.substr(start, j - start));
      start = j + (c == ',' ? 1 : inner.compare(j, 5, " AND ") == 0 ? 5 : 4);
    }
  }
  return out;
}

// Simpler variants of `q`: one clause dropped or one expression replaced by a piece.
std::vector<GenQuery> Candidates(const GenQuery& q) {
  std::vector<GenQuery> out;
  auto drop_each = [&](std::vector<std::string> GenQuery::*field, size_t keep) {
    for (size_t i = 0; (q.*field).size() > keep && i < (q.*field).size(); i++) {
      GenQuery c = q;
      (c.*field).erase((c.*field).begin() + static_cast<long>(i));
      out.push_back(c);
    }
  };
  drop_each(&GenQuery::where, 0);
  drop_each(&GenQuery::having, 0);
  drop_each(&GenQuery::group, 0);
  drop_each(&GenQuery::items, 1);
  auto edit = [&](auto change) {
    GenQuery c = q;
    change(c);
    out.push_back(c);
  };
  if (q.rhs) edit([](GenQuery& c) { c.rhs.reset(), c.set_op.clear(); });
  if (!q.qualify.empty()) edit([](GenQuery& c) { c.qualify.clear(); });
  if (q.distinct) edit([](GenQuery& c) { c.distinct = false; });
  if (q.offset >= 0) edit([](GenQuery& c) { c.offset = -1; });
  if (q.limit >= 0) edit([](GenQuery& c) { c.limit = -1, c.offset = -1; });
  if (q.order_all && q.limit < 0) edit([](GenQuery& c) { c.order_all = false; });
  if (!q.cte.empty()) edit([](GenQuery& c) { c.cte.clear(), c.from = "{T} a"; });
  if (q.from != "{T} a") edit([](GenQuery& c) { c.from = "{T} a"; });
  if (q.rhs) {
    for (auto& r : Candidates(*q.rhs)) edit([&](GenQuery& c) { c.rhs = std::make_shared<GenQuery>(r); });
  }
  auto pieces_of = [&](std::vector<std::string> GenQuery::*field) {
    for (size_t i = 0; i < (q.*field).size(); i++) {
      std::string e = (q.*field)[i], alias;
      if (auto as = e.rfind(" AS c"); as != std::string::npos) alias = e.substr(as), e.resize(as);
      for (auto& p : Pieces(e)) edit([&](GenQuery& c) { (c.*field)[i] = p + alias; });
    }
  };
  pieces_of(&GenQuery::where);
  pieces_of(&GenQuery::items);
  pieces_of(&GenQuery::having);
  return out;
}

// The smallest variant of `q` found that still differs in the same kind of way.
GenQuery Shrink(GenQuery q, const std::string& kind,
                const std::function<std::string(const GenQuery&)>& differ) {
  for (int round = 0, tries = 0; round < 200 && tries < 1500; round++) {
    bool smaller = false;
    for (auto& c : Candidates(q)) {
      tries++;
      if (c.Render().size() < q.Render().size() && Kind(differ(c)) == kind) {
        q = c;
        smaller = true;
        break;
      }
    }
    if (!smaller) break;
  }
  return q;
}

// --- the fixture -----------------------------------------------------------------------------

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

class DifferentialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.data_dir = dir_.path();
    options_.threads = 2;
    session::Instance::Init(options_);
    instance_ = std::make_unique<session::Instance>(options_);
    runner_ = std::make_unique<session::Runner>(*instance_, session::RunnerOptions{});
    admin_ = std::make_unique<RunAs>(*runner_, session::Instance::LocalCaller().principal);
    Collect c;
    admin_->Execute(PlantSql(), c);
  }

  std::unique_ptr<RunAs> As(const std::string& user, std::vector<std::string> groups) {
    return std::make_unique<RunAs>(*runner_, identity::Principal{user, std::move(groups), "local", false});
  }

  // Runs the generated queries of `salt`'s stream as `analyst` on d.t and as the
  // administrator on `ref`; reports every difference (the first few shrunk).
  void Compare(RunAs& analyst, const std::string& ref, uint64_t salt) {
    const uint64_t seed = EnvNumber("TARN_DIFF_SEED", 20250611);
    const uint64_t count = EnvNumber("TARN_DIFF_COUNT", 1000);
    const uint64_t from = EnvNumber("TARN_DIFF_FROM", 0);
    const bool verbose = EnvNumber("TARN_DIFF_VERBOSE", 0) != 0;
    auto differ = [&](const GenQuery& q) {
      std::string text = q.Render();
      return Difference(Ask(analyst, Bind(text, "d.t")), Ask(*admin_, Bind(text, ref)), q.Ordered());
    };
    std::map<std::string, int> outcomes;
    int failures = 0;
    auto start = std::chrono::steady_clock::now();
    for (uint64_t i = from; i < from + count; i++) {
      GenQuery q = QueryGen(seed * 1000003 + salt * 7919 + i).Next();
      std::string text = q.Render();
      Reply a = Ask(analyst, Bind(text, "d.t")), r = Ask(*admin_, Bind(text, ref));
      outcomes[!r.ok ? std::string(ErrorCodeName(r.code)) : r.rows.empty() ? "empty" : "rows"]++;
      if (verbose)
        std::printf("%llu: %s\n  -> %s\n", static_cast<unsigned long long>(i), text.c_str(),
                    r.Text(3).c_str());
      std::string diff = Difference(a, r, q.Ordered());
      if (diff.empty()) continue;
      if (++failures > 5) continue;
      GenQuery small = Shrink(q, Kind(diff), differ);
      std::string s = small.Render();
      ADD_FAILURE() << diff << "\n  seed " << seed << ", query " << i << " (replay: TARN_DIFF_SEED=" << seed
                    << " TARN_DIFF_FROM=" << i << " TARN_DIFF_COUNT=1)\n  query:  " << text
                    << "\n  shrunk: " << s
                    << "\n  analyst on d.t (shrunk): " << Ask(analyst, Bind(s, "d.t")).Text()
                    << "\n  admin on " << ref << " (shrunk): " << Ask(*admin_, Bind(s, ref)).Text();
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::string summary;
    for (auto& [k, n] : outcomes) summary += " " + k + "=" + std::to_string(n);
    std::printf(
        "[differential] seed %llu, queries %llu-%llu, %.1f s, reference outcomes:%s, differences: %d\n",
        static_cast<unsigned long long>(seed), static_cast<unsigned long long>(from),
        static_cast<unsigned long long>(from + count - 1), seconds, summary.c_str(), failures);
    EXPECT_EQ(failures, 0) << "differences in " << failures << " of " << count << " queries (seed " << seed
                           << "); the first 5 are reported above";
    EXPECT_GT(outcomes["rows"], static_cast<int>(count / 3)) << "most generated queries should return rows";
  }

  TempDir dir_;
  session::InstanceOptions options_;
  std::unique_ptr<session::Instance> instance_;
  std::unique_ptr<session::Runner> runner_;
  std::unique_ptr<RunAs> admin_;
};

TEST_F(DifferentialTest, ReferenceTablesHoldWhatTheAnalystsSeeAndTheMarkersAreInTheData) {
  auto ana = As("ana", {"analysts"});
  auto bea = As("bea", {"analysts", "apac"});
  std::string all = "SELECT * FROM {T} ORDER BY id";
  Reply a = Ask(*ana, Bind(all, "d.t")), r = Ask(*admin_, Bind(all, "d.ref_eu"));
  ASSERT_TRUE(a.ok) << a.Text();
  EXPECT_EQ(a.rows.size(), 100u);
  EXPECT_EQ(Difference(a, r, true), "") << a.Text() << "\n" << r.Text();
  Reply b = Ask(*bea, Bind(all, "d.t")), rb = Ask(*admin_, Bind(all, "d.ref_both"));
  EXPECT_EQ(b.rows.size(), 150u);
  EXPECT_EQ(Difference(b, rb, true), "") << b.Text() << "\n" << rb.Text();
  EXPECT_EQ(a.names, (std::vector<std::string>{"id", "region", "amount", "email", "created", "score"}));
  // The markers are really in the table (the administrator reads every row and column).
  Reply raw = Ask(*admin_, "SELECT count(*) FROM d.t WHERE ssn LIKE 'HIDDEN-MARK-%' AND region <> 'EU'");
  EXPECT_EQ(raw.rows, (Rows{{"100"}})) << raw.Text();
  Reply rawmail = Ask(*admin_, "SELECT count(*) FROM d.t WHERE email LIKE '***@corp%'");
  EXPECT_EQ(rawmail.rows, (Rows{{"182"}})) << "the mask applies to the administrator too: " << rawmail.Text();
}

TEST_F(DifferentialTest, OneDataFilterWithAMaskAnswersLikeItsReferenceTable) {
  auto ana = As("ana", {"analysts"});
  Compare(*ana, "d.ref_eu", 1);
}

TEST_F(DifferentialTest, TwoDataFiltersWithDifferentColumnsAnswerLikeTheirReferenceTable) {
  auto bea = As("bea", {"analysts", "apac"});
  Compare(*bea, "d.ref_both", 2);
}

}  // namespace
}  // namespace tarn::testing
