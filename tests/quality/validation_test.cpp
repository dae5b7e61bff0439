// Validations run through the Runner on a real lake: a source and a "migrated" target
// with planted defects, found in both directions with the figures and rows they give;
// every option; the summary row; thresholds; refusals and spec errors.
#include <gmock/gmock.h>

#include <fstream>

#include "governance/governance_fixture.h"
#include "quality/runner_probe.h"
#include "quality/validation.h"

namespace tarn::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

class ValidationTest : public GovernanceTest {
 protected:
  void SetUp() override {
    GovernanceTest::SetUp();
    // id 3 is dropped, id 5 duplicated; id 2's amount is off by 0.004 (within 0.01),
    // id 4's by 1.00; id 6's name lost its trailing space and id 7 its case; id 8's
    // note went from NULL to ''.
    Exec(
        *admin_,
        "CREATE DATABASE quality;"
        "CREATE TABLE d.src AS SELECT id, name, CAST(amount AS DECIMAL(10,3)) AS amount, note FROM (VALUES "
        "(1, 'ann', 10.00, NULL), (2, 'bob', 20.00, 'x'), (3, "
        "'cy', 30.00, 'y'), (4, 'dee', 40.00, NULL), (5, 'eve', 50.00, NULL), (6, 'fay ', 60.00, NULL), (7, "
        "'Gus', 70.00, NULL), (8, 'hal', 80.00, NULL)) v(id, name, amount, note);"
        "CREATE TABLE d.dst AS SELECT id, name, CAST(amount AS DECIMAL(10,3)) AS amount, note FROM (VALUES "
        "(1, 'ann', 10.00, NULL), (2, 'bob', 20.004, 'x'), (4, "
        "'dee', 41.00, NULL), (5, 'eve', 50.00, NULL), (5, 'eve', 50.00, NULL), (6, 'fay', 60.00, NULL), (7, "
        "'gus', 70.00, NULL), (8, 'hal', 80.00, '')) v(id, name, amount, note)");
  }

  quality::ValidationOutcome Validate(const std::string& yaml, const identity::Principal& who) {
    session::RunRequest r;
    r.principal = who;
    r.origin = audit::Origin{"test"};
    r.output_dir = out_.path();
    session::Drain log;
    return quality::RunValidation(yaml, "v.yaml", r, *runner_, log);
  }
  quality::ValidationOutcome Validate(const std::string& yaml) {
    return Validate(yaml, session::Instance::LocalCaller().principal);
  }
  TempDir out_;
};

constexpr const char* kSpec = R"(name: people
source: d.src
target: {table: d.dst}
keys: [id]
columns:
  name: {trim: true, ignore_case: true}
  amount: {abs_tolerance: 0.01}
  note: {}
thresholds:
  - matched_fraction >= 0.5
  - missing == 0
  - column.amount.unequal <= 10
)";

TEST_F(ValidationTest, FindsEveryPlantedDefectInBothDirections) {
  auto v = Validate(kSpec);
  ASSERT_TRUE(v.run.error.has_value());  // missing == 0 fails
  const json& m = v.metrics;
  EXPECT_EQ(m["source"]["rows"], 8);
  EXPECT_EQ(m["target"]["rows"], 8);
  EXPECT_EQ(m["missing"], 1);  // id 3
  EXPECT_EQ(m["extra"], 1);    // the second id 5
  EXPECT_EQ(m["changed"], 2);  // id 4 (amount), id 8 (note NULL vs '')
  EXPECT_EQ(m["matched"], 5);
  EXPECT_DOUBLE_EQ(m["matched_fraction"].get<double>(), 5.0 / 9.0);
  EXPECT_EQ(m["duplicate_keys"]["target"], 1);
  EXPECT_EQ(m["rows_with_duplicate_keys"]["target"], 2);
  EXPECT_EQ(m["duplicate_keys"]["source"], 0);
  EXPECT_EQ(m["columns"]["amount"]["unequal"], 1);
  EXPECT_EQ(m["columns"]["amount"]["within_tolerance"], 1);
  EXPECT_DOUBLE_EQ(m["columns"]["amount"]["max_abs_diff"].get<double>(), 1.0);
  EXPECT_EQ(m["columns"]["name"]["unequal"], 0);
  EXPECT_EQ(m["columns"]["name"]["within_tolerance"], 2);  // fay, Gus: equal once trimmed and lower-cased
  EXPECT_EQ(m["columns"]["note"]["unequal"], 1);
  EXPECT_EQ(m["columns"]["note"]["null_diff"], 1);
  EXPECT_EQ(m["profiles"]["note"]["source"]["nulls"], 6);
  EXPECT_EQ(m["profiles"]["note"]["target"]["nulls"], 6);
  EXPECT_EQ(m["profiles"]["amount"]["source"]["sum"].get<double>(), 360.0);
  EXPECT_EQ(m["profiles"]["name"]["source"]["max_length"], 4);
  // Griffin: every source row but 3 (dropped), 2 and 4 (amounts differ as text), 6 and 7
  // (names differ) has an equal target row; 8 matches since it reads NULL as ''.
  EXPECT_EQ(m["griffin"]["total"], 8);
  EXPECT_EQ(m["griffin"]["miss"], 5);
  EXPECT_EQ(m["griffin"]["matched"], 3);
  // Thresholds: only missing == 0 fails, and the error names it.
  EXPECT_EQ(v.failed_checks, std::vector<std::string>{"missing == 0 (is 1)"});
  EXPECT_THAT(v.run.error->what(), HasSubstr("validation people failed: missing == 0 (is 1)"));
  EXPECT_EQ(m["passed"], false);
  // The mismatch table: one row per differing record.
  EXPECT_EQ(All(*admin_,
                "SELECT diff_type, id, changed_columns, amount_source, amount_target, note_source, "
                "note_target FROM quality.people_mismatches ORDER BY ALL"),
            "changed|4|amount|40.000|41.000|NULL|NULL|\nchanged|8|note|80.000|80.000|NULL||\n"
            "extra|5|NULL|NULL|50.000|NULL|NULL|\nmissing|3|NULL|30.000|NULL|y|NULL|\n");
  EXPECT_EQ(m["samples"]["missing"].size(), 1u);
  EXPECT_EQ(m["samples"]["missing"][0]["id"], 3);
  // The summary row, and metrics.json beside it.
  EXPECT_EQ(All(*admin_,
                "SELECT validation, source, target, source_rows, missing, extra, changed, passed, "
                "failed_checks FROM quality.validation_results"),
            "people|d.src|d.dst|8|1|1|2|false|missing == 0 (is 1)|\n");
  std::ifstream file(out_ / "metrics.json");
  EXPECT_EQ(json::parse(file)["missing"], 1);
}

TEST_F(ValidationTest, DefaultColumnsAreTheSharedOnesAndSchemaDifferencesAreReported) {
  Exec(*admin_,
       "CREATE TABLE d.a AS SELECT 1 AS id, 'x' AS name, 1.5 AS score, 7 AS only_a;"
       "CREATE TABLE d.b AS SELECT 1 AS id, 'x' AS name, CAST(1.5 AS DOUBLE) AS score, 8 AS only_b");
  auto v = Validate("name: ab\nsource: d.a\ntarget: d.b\nkeys: id\n");
  ASSERT_FALSE(v.run.error.has_value()) << v.run.error->what();
  const json& m = v.metrics;
  EXPECT_EQ(m["schema"]["only_in_source"], json::array({"only_a"}));
  EXPECT_EQ(m["schema"]["only_in_target"], json::array({"only_b"}));
  EXPECT_EQ(m["schema"]["type_changes"][0]["column"], "score");
  EXPECT_EQ(m["columns"].size(), 2u);  // name, score
  EXPECT_EQ(m["matched"], 1);
  EXPECT_EQ(m["passed"], true);
  // exclude leaves a shared column out.
  auto e = Validate("name: ab2\nsource: d.a\ntarget: d.b\nkeys: id\nexclude: [score]\n");
  EXPECT_EQ(e.metrics["columns"].size(), 1u);
}

TEST_F(ValidationTest, WithoutKeysWholeRowsCompareAsMultisets) {
  auto v = Validate(
      "name: bag\nsource: d.src\ntarget: d.dst\ncolumns: {name: {trim: true, ignore_case: true}, "
      "amount: {}, note: {}}\n");
  ASSERT_FALSE(v.run.error.has_value()) << v.run.error->what();
  const json& m = v.metrics;
  EXPECT_EQ(m["mode"], "multiset");
  // Missing: (cy 30 y), (dee 40), (bob 20 x), (hal 80 NULL); extra: (bob 20.004 x),
  // (dee 41), (eve 50) once more, (hal 80 '').
  EXPECT_EQ(m["missing"], 4);
  EXPECT_EQ(m["extra"], 4);
  EXPECT_EQ(m["changed"], 0);
  EXPECT_EQ(All(*admin_,
                "SELECT diff_type, name_source, name_target, amount_target FROM quality.bag_mismatches "
                "WHERE name_source = 'eve' OR name_target = 'eve'"),
            "extra|NULL|eve|50.000|\n");
  // Tolerances need keys to pair records.
  EXPECT_THAT(CatchError([&] {
                Validate(
                    "name: bag\nsource: d.src\ntarget: d.dst\ncolumns: {amount: "
                    "{abs_tolerance: 1}}\n");
              }).what(),
              HasSubstr("tolerances pair records by key: give 'keys'"));
}

// Only buckets whose checksums differ are compared record by record: records
// duplicated alike on both sides pair up, a surplus copy is extra, and a column whose
// type changed (DECIMAL(10,3) to DOUBLE here) still compares by value.
TEST_F(ValidationTest, BucketChecksumsFindTheSameDifferencesAsAFullComparison) {
  Exec(*admin_,
       "CREATE TABLE d.b1 AS SELECT i % 5000 AS id, CAST(i % 7 AS DECIMAL(10,3)) AS v, 'x' || (i % 5000) AS "
       "t FROM "
       "range(10000) r(i);"  // every id twice
       "CREATE TABLE d.b2 AS SELECT id, CAST(v AS DOUBLE) AS v, t FROM d.b1 UNION ALL SELECT 17, 3.0, 'x17' "
       "UNION "
       "ALL SELECT 4242, 0.0, 'x4242'");  // one surplus copy of 17 (v 3 as in b1), one of 4242 differs
  auto spec = std::string("name: bk\nsource: d.b1\ntarget: d.b2\nkeys: id\n");
  auto fast = Validate(spec);
  ASSERT_FALSE(fast.run.error.has_value()) << fast.run.error->what();
  EXPECT_EQ(fast.metrics["extra"], 2);
  EXPECT_EQ(fast.metrics["missing"], 0);
  EXPECT_EQ(fast.metrics["changed"], 0);
  EXPECT_EQ(fast.metrics["duplicate_keys"]["source"], 5000);
  EXPECT_EQ(fast.metrics["duplicate_keys"]["target"], 5000);
  // The same without buckets (NULL = NULL off makes every pair go through the full comparison).
  auto full = Validate("name: bk2\nsource: d.b1\ntarget: d.b2\nkeys: id\nnull_equals_null: false\n");
  EXPECT_EQ(full.metrics["extra"], 2);
  EXPECT_EQ(full.metrics["changed"], 0);
  EXPECT_EQ(All(*admin_,
                "SELECT count(*) FROM (FROM quality.bk_mismatches EXCEPT ALL FROM quality.bk2_mismatches)"),
            "0|\n");
  // Without the key and profile passes: no duplicate figures, and no threshold may name them.
  auto lean = Validate(spec + "key_uniqueness: false\nprofile: false\n");
  EXPECT_FALSE(lean.metrics.contains("duplicate_keys"));
  EXPECT_EQ(lean.metrics["profiles"].size(), 0u);
  EXPECT_EQ(lean.metrics["extra"], 2);
  EXPECT_THAT(CatchError([&] {
                Validate(spec + "key_uniqueness: false\nthresholds: [duplicate_keys.target == 0]\n");
              }).what(),
              HasSubstr("no metric 'duplicate_keys.target'"));
}

TEST_F(ValidationTest, OnAClusterTheDiffOfTwoTablesWithKeysOfOneTypeIsSplitByKey) {
  Exec(*admin_, "CREATE TABLE d.wide AS SELECT CAST(id AS BIGINT) AS id, name, amount, note FROM d.dst");
  quality::RunnerProbe probe(*runner_, session::Instance::LocalCaller().principal, audit::Origin{"test"});
  auto plan = [&](const std::string& target, bool split) {
    return quality::PlanValidation(
        *quality::ParseValidation("name: s\nsource: d.src\ntarget: " + target + "\nkeys: id\n", "v.yaml"),
        probe, nullptr, split);
  };
  auto here = plan("d.dst", false);
  EXPECT_TRUE(here.partitioning.empty());
  EXPECT_THAT(here.Script(), HasSubstr("v_buckets"));  // locally: bucket checksums first
  auto split = plan("d.dst", true);
  EXPECT_THAT(split.Script(), ::testing::Not(HasSubstr("v_buckets")));
  EXPECT_THAT(split.Script(), HasSubstr("__vb AS ("));  // each bucket compares its checksums first
  // Each side's duplicate keys, the diff, and Griffin's figures, per bucket.
  ASSERT_EQ(split.partitioning.size(), 4u);
  std::vector<std::string> split_statements;
  for (auto& [i, keys] : split.partitioning) split_statements.push_back(split.statements.at(i).substr(0, 40));
  EXPECT_THAT(split_statements, ::testing::ElementsAre(HasSubstr("v_keys_source"), HasSubstr("v_keys_target"),
                                                       HasSubstr("v_diff"), HasSubstr("v_griffin")));
  using Keys = std::map<std::string, std::vector<std::string>>;
  EXPECT_EQ(std::next(split.partitioning.begin(), 2)->second, (Keys{{"d.src", {"id"}}, {"d.dst", {"id"}}}));
  EXPECT_EQ(split.partitioning.begin()->second, (Keys{{"d.src", {"id"}}}));
  // Keys of different types hash apart: not split, bucketed as locally.
  auto apart = plan("d.wide", true);
  EXPECT_TRUE(apart.partitioning.empty());
  EXPECT_THAT(apart.Script(), HasSubstr("v_buckets"));
  // A table against itself: nothing to tell its sides apart by name.
  EXPECT_TRUE(plan("d.src", true).partitioning.empty());
}

TEST_F(ValidationTest, NullsAndNaNsCompareAsTheOptionsSay) {
  Exec(*admin_,
       "CREATE TABLE d.n1 AS SELECT * FROM (VALUES (1, NULL, 'nan'::DOUBLE), (2, 'a', 1.0::DOUBLE)) v(id, t, "
       "f);"
       "CREATE TABLE d.n2 AS SELECT * FROM (VALUES (1, NULL, 'nan'::DOUBLE), (2, 'a', 'nan'::DOUBLE)) v(id, "
       "t, f)");
  auto v = Validate("name: n\nsource: d.n1\ntarget: d.n2\nkeys: [id]\n");
  EXPECT_EQ(v.metrics["changed"], 1);  // NaN against 1.0 differs; NULL = NULL and NaN = NaN are equal
  EXPECT_EQ(v.metrics["columns"]["f"]["unequal"], 1);
  auto strict = Validate(
      "name: n\nsource: d.n1\ntarget: d.n2\nkeys: [id]\nnull_equals_null: false\n"
      "nan_equals_nan: false\n");
  EXPECT_EQ(strict.metrics["changed"], 2);
  EXPECT_EQ(strict.metrics["columns"]["t"]["unequal"], 1);
  EXPECT_EQ(strict.metrics["columns"]["f"]["unequal"], 2);
}

TEST_F(ValidationTest, NullKeysPairWithNullKeysAndGriffinReadsThemAsEmptyText) {
  Exec(*admin_,
       "CREATE TABLE d.k1 AS SELECT * FROM (VALUES (NULL, 'a'), ('x', 'b'), ('', 'c')) v(k, val);"
       "CREATE TABLE d.k2 AS SELECT * FROM (VALUES (NULL, 'a'), ('x', 'b'), (NULL, 'c')) v(k, val)");
  for (const char* extra : {"", "null_equals_null: false\n"}) {  // with and without bucket checksums
    auto v = Validate(std::string("name: k\nsource: d.k1\ntarget: d.k2\nkeys: k\n") + extra);
    ASSERT_FALSE(v.run.error.has_value()) << v.run.error->what();
    EXPECT_EQ(v.metrics["null_keys"]["source"], 1) << extra;
    EXPECT_EQ(v.metrics["null_keys"]["target"], 2) << extra;
    EXPECT_EQ(v.metrics["missing"], 1) << extra;  // ('', c): '' is no NULL
    EXPECT_EQ(v.metrics["extra"], 1) << extra;    // (NULL, c): a second NULL key
    // Griffin pairs ('', c) with (NULL, c): NULL reads as ''.
    EXPECT_EQ(v.metrics["griffin"]["miss"], 0) << extra;
  }
}

TEST_F(ValidationTest, TypesThatDoNotCompareNeedCompareAs) {
  Exec(*admin_,
       "CREATE TABLE d.t1 AS SELECT 1 AS id, 42 AS code;"
       "CREATE TABLE d.t2 AS SELECT 1 AS id, '42' AS code");
  EXPECT_THAT(
      CatchError([&] { Validate("name: t\nsource: d.t1\ntarget: d.t2\nkeys: id\n"); }).what(),
      HasSubstr("column 'code' is INTEGER in the source and VARCHAR in the target: say how to compare"));
  auto v = Validate("name: t\nsource: d.t1\ntarget: d.t2\nkeys: id\ncolumns: {code: {compare_as: text}}\n");
  ASSERT_FALSE(v.run.error.has_value()) << v.run.error->what();
  EXPECT_EQ(v.metrics["matched"], 1);
  auto n = Validate(
      "name: t\nsource: d.t1\ntarget: d.t2\nkeys: id\ncolumns: {code: {compare_as: number, "
      "abs_tolerance: 0.5}}\n");
  EXPECT_EQ(n.metrics["matched"], 1);
}

TEST_F(ValidationTest, EmptyTablesMatchCompletely) {
  Exec(*admin_,
       "CREATE TABLE d.e1 AS SELECT * FROM d.src WHERE false; CREATE TABLE d.e2 AS SELECT * FROM d.dst "
       "WHERE false");
  auto v = Validate("name: e\nsource: d.e1\ntarget: d.e2\nkeys: id\nthresholds: [matched_fraction >= 1]\n");
  ASSERT_FALSE(v.run.error.has_value()) << v.run.error->what();
  EXPECT_EQ(v.metrics["matched"], 0);
  EXPECT_EQ(v.metrics["matched_fraction"], 1.0);
  EXPECT_EQ(v.metrics["griffin"]["matchedFraction"], 1.0);
  EXPECT_EQ(v.metrics["passed"], true);
  // Only the source empty: every target record is extra.
  auto half = Validate("name: e\nsource: d.e1\ntarget: d.dst\nkeys: id\n");
  EXPECT_EQ(half.metrics["extra"], 8);
  EXPECT_EQ(half.metrics["matched_fraction"], 0.0);
}

TEST_F(ValidationTest, FiltersCompletenessAndRowRules) {
  auto v = Validate(R"(name: r
source: {table: d.src, where: "id <= 4"}
target: {table: d.dst, where: "id <= 4"}
keys: [id]
columns: {amount: {abs_tolerance: 0.01}}
completeness: [note]
rules:
  small: amount < 40
  named: {check: "length(name) = 3", on: target}
thresholds: [rule.small.target_failed <= 0, completeness.note.target_nulls == 2]
)");
  const json& m = v.metrics;
  EXPECT_EQ(m["source"]["rows"], 4);
  EXPECT_EQ(m["target"]["rows"], 3);
  EXPECT_EQ(m["completeness"]["note"]["source_nulls"], 2);
  EXPECT_EQ(m["completeness"]["note"]["target_nulls"], 2);
  EXPECT_EQ(m["rules"]["small"]["source_failed"], 1);  // 40
  EXPECT_EQ(m["rules"]["small"]["target_failed"], 1);  // 41
  EXPECT_EQ(m["rules"]["named"]["target_failed"], 0);
  EXPECT_FALSE(m["rules"]["named"].contains("source_failed"));
  EXPECT_EQ(v.failed_checks, std::vector<std::string>{"rule.small.target_failed <= 0 (is 1)"});
}

TEST_F(ValidationTest, ATableTheSubmitterCannotReadIsRefusedAuditedAndNothingIsWritten) {
  Exec(*admin_, "GRANT SELECT ON d.src TO USER ana; GRANT ALL ON DATABASE quality TO USER ana");
  auto ana = *identity::Directory(*store_).Lookup("ana", "test");
  auto e = CatchError([&] { Validate(kSpec, ana); });
  EXPECT_THAT(e.what(), HasSubstr("d.dst"));
  EXPECT_EQ(All(*admin_,
                "SELECT count(*) FROM system.audit WHERE user_name = 'ana' AND outcome <> 'ok' AND "
                "statement LIKE '%d\".\"dst%'") != "0|\n",
            true);
  EXPECT_THAT(CatchError([&] { All(*admin_, "SELECT * FROM quality.people_mismatches"); }).what(),
              HasSubstr("people_mismatches"));
  EXPECT_FALSE(std::filesystem::exists(out_ / "metrics.json"));
}

TEST_F(ValidationTest, SpecErrorsNameTheLineAndField) {
  auto err = [&](const std::string& yaml) { return std::string(CatchError([&] { Validate(yaml); }).what()); };
  EXPECT_THAT(err("name: x\nsource: d.src\ntarget: [d.dst\n"), HasSubstr("v.yaml line 4: not valid YAML"));
  EXPECT_THAT(err("name: x\nsource: d.src\ntarget: d.dst\nkeys: id\ncolor: red\n"),
              HasSubstr("unknown field 'color'"));
  EXPECT_THAT(err("name: x\nsource: d.src\ntarget: d.dst\nkeys: id\nthresholds:\n  - missing is zero\n"),
              HasSubstr("v.yaml line 6, field 'thresholds': 'missing is zero' is not 'metric op number'"));
  EXPECT_THAT(err("name: x\nsource: d.src\ntarget: d.dst\nkeys: id\nthresholds:\n  - nope.x == 0\n"),
              HasSubstr("v.yaml line 6, field 'thresholds': no metric 'nope.x'"));
  EXPECT_THAT(err("name: x\nsource: d.src\ntarget: d.dst\nkeys: [nope]\n"),
              HasSubstr("v.yaml line 4, field 'keys': the source d.src has no column 'nope'"));
  EXPECT_THAT(err("name: x\nsource: d.src\ntarget: d.dst\nkeys: id\ncolumns:\n  name: {abs_tolerance: 1}\n"),
              HasSubstr("line 6, field 'abs_tolerance': 'name' compares as text, not as a number"));
  EXPECT_THAT(err("name: x\nsource: {table: d.src, where: \"id > (SELECT 1)\"}\ntarget: d.dst\n"),
              HasSubstr("no subqueries"));
  EXPECT_THAT(err("name: x\nsource: {table: d.src, where: \"id > 1; DROP TABLE d.src\"}\ntarget: d.dst\n"),
              HasSubstr("field 'where'"));
  EXPECT_THAT(err("name: x y\nsource: d.src\ntarget: d.dst\n"), HasSubstr("field 'name'"));
  // A mismatch table of another shape is not overwritten.
  Exec(*admin_, "CREATE TABLE quality.x_mismatches AS SELECT 1 AS other");
  EXPECT_THAT(err("name: x\nsource: d.src\ntarget: d.dst\nkeys: id\n"),
              HasSubstr("quality.x_mismatches has other columns than this validation's mismatch rows"));
  EXPECT_EQ(All(*admin_, "SELECT * FROM quality.x_mismatches"), "1|\n");
}

// The report is one page with nothing to fetch; hostile values stay text; headless
// Chromium (installed by scripts/setup) renders it.
TEST_F(ValidationTest, TheReportOpensInHeadlessChromiumWithHostileValuesAsText) {
  Exec(*admin_,
       "CREATE TABLE d.h1 AS SELECT 1 AS id, '<script>document.title=''pwned''</script>' AS name;"
       "CREATE TABLE d.h2 AS SELECT 1 AS id, '<img src=x onerror=alert(1)>' AS name");
  auto v = Validate("name: hostile\nsource: d.h1\ntarget: d.h2\nkeys: id\nthresholds: [changed == 0]\n");
  ASSERT_EQ(v.files, (std::vector<std::string>{"metrics.json", "report.html"}));
  std::ifstream in(out_ / "report.html");
  std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"));
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium")) << "scripts/setup installs chromium";
  std::string url = "file://" + (out_ / "report.html").string();
  std::string profile = "--user-data-dir=" + (out_ / "chromium").string();
  auto dom = RunProgram("/usr/bin/chromium",
                        {"--headless", "--no-sandbox", "--disable-gpu", profile, "--dump-dom", url});
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  EXPECT_THAT(dom.out, HasSubstr("<title>Validation hostile</title>"));
  EXPECT_THAT(dom.out, HasSubstr("FAILED"));
  EXPECT_THAT(dom.out, HasSubstr("changed == 0"));
  EXPECT_EQ(dom.out.find("<script"), std::string::npos);
  auto shot = RunProgram("/usr/bin/chromium",
                         {"--headless", "--no-sandbox", "--disable-gpu", profile, "--hide-scrollbars",
                          "--window-size=1200,1600", "--screenshot=" + (out_ / "report.png").string(), url});
  ASSERT_EQ(shot.exit_code, 0) << shot.err;
  EXPECT_GT(std::filesystem::file_size(out_ / "report.png"), 10000u);
}

}  // namespace
}  // namespace tarn::testing
