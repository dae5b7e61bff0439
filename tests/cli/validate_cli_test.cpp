// `tarn validate` on a demo lake: the example finds exactly the defects demo-data
// planted in the migrated table, exits 1 on a failed threshold, and says what is wrong
// with a bad spec in one line.
#include <gmock/gmock.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "demo_lake_fixture.h"
#include "test_util.h"

namespace tarn::testing {
namespace {

using ::testing::HasSubstr;

class ValidateCliTest : public DemoLakeSuite {
 protected:
  static std::string Example() { return std::string(TARN_SOURCE_DIR) + "/examples/validation/customers.yaml"; }
};

TEST_F(ValidateCliTest, TheExampleFindsExactlyThePlantedDefects) {
  TempDir out;
  auto r = RunTarn({"validate", Example(), "-d", D(), "--out", out.path().string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;  // its thresholds fail: the migration lost records
  EXPECT_THAT(r.out, HasSubstr("validation customers_migration: FAILED\n"));
  EXPECT_THAT(r.out, HasSubstr("FAILED missing == 0: "));
  auto diff = RunTarn({"sql", "-d", D(), "--format", "csv",
                       "WITH found AS (SELECT customer_id, diff_type, changed_columns FROM "
                       "quality.customers_migration_mismatches) SELECT (SELECT count(*) FROM (FROM found EXCEPT ALL "
                       "FROM migration.expected_defects)) AS unexpected, (SELECT count(*) FROM (FROM "
                       "migration.expected_defects EXCEPT ALL FROM found)) AS missed, (SELECT count(*) FROM "
                       "migration.expected_defects) AS planted, (SELECT count(DISTINCT diff_type) FROM found) AS kinds"});
  ASSERT_EQ(diff.exit_code, 0) << diff.err;
  EXPECT_EQ(diff.out, "unexpected,missed,planted,kinds\n0,0,9,3\n");
  std::ifstream file(out / "metrics.json");
  auto m = nlohmann::json::parse(file);
  EXPECT_EQ(m["missing"], 2);  // customers 101 and 202 of 250
  EXPECT_EQ(m["columns"]["balance"]["within_tolerance"], 2);  // 107 and 214: a tenth of a cent off
  EXPECT_EQ(m["passed"], false);
  auto json = RunTarn({"validate", Example(), "-d", D(), "--json", "--out", out.path().string()});
  EXPECT_EQ(json.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(json.out)["extra"], 2);
  auto rows = RunTarn({"sql", "-d", D(), "--format", "csv",
                       "SELECT count(*), bool_or(passed) FROM quality.validation_results WHERE validation = "
                       "'customers_migration'"});
  EXPECT_EQ(rows.out, "count_star(),bool_or(passed)\n2,false\n");
}

TEST_F(ValidateCliTest, ExplainPrintsTheScriptAndRunsNothing) {
  TempDir dir;
  std::ofstream(dir / "v.yaml") << "name: explained\nsource: migration.customers_legacy\ntarget: "
                                   "migration.customers_migrated\nkeys: customer_id\n";
  auto r = RunTarn({"validate", (dir / "v.yaml").string(), "-d", D(), "--explain"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("CREATE TEMP TABLE v_buckets AS WITH __s AS (SELECT \"customer_id\""));
  EXPECT_THAT(r.out, HasSubstr("\"quality\".\"explained_mismatches\""));
  auto none = RunTarn({"sql", "-d", D(), "SELECT * FROM quality.explained_mismatches"});
  EXPECT_EQ(none.exit_code, 3) << none.out;
}

TEST_F(ValidateCliTest, ErrorsAreOneClearLine) {
  TempDir dir;
  auto spec = [&](const std::string& text) {
    std::ofstream(dir / "v.yaml") << text;
    return (dir / "v.yaml").string();
  };
  auto bad = RunTarn({"validate", spec("name: x\nsource: migration.customers_legacy\ntarget: nope\n"), "-d", D()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("line 3, field 'target': must name a table as database.table"));
  auto missing = RunTarn({"validate", spec("name: x\nsource: migration.customers_legacy\ntarget: migration.nope\n"),
                          "-d", D()});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_THAT(missing.err, HasSubstr("migration.nope"));
  auto remote_explain = RunTarn({"validate", Example(), "--explain", "--server", "http://127.0.0.1:1"});
  EXPECT_EQ(remote_explain.exit_code, 2);
  EXPECT_THAT(remote_explain.err, HasSubstr("--explain plans on a data directory"));
  auto no_out = RunTarn({"validate", Example(), "-d", D(), "--out", "/proc/no-such-folder"});
  EXPECT_EQ(no_out.exit_code, 7);
  EXPECT_THAT(no_out.err, HasSubstr("cannot create the folder /proc/no-such-folder"));
  auto passes = RunTarn({"validate",
                         spec("name: same\nsource: migration.customers_legacy\ntarget: migration.customers_legacy\n"
                              "keys: customer_id\nthresholds: [matched_fraction == 1, griffin.miss == 0]\n"),
                         "-d", D(), "--out", dir.path().string()});
  EXPECT_EQ(passes.exit_code, 0) << passes.err;
  EXPECT_THAT(passes.out, HasSubstr("validation same: PASSED"));
}

}  // namespace
}  // namespace tarn::testing
