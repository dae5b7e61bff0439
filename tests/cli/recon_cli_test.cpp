// `tarn recon` on a demo lake: the example pipeline finds exactly the breaks
// demo-data planted, and the commands' errors are one clear line.
#include <gmock/gmock.h>

#include <fstream>

#include "demo_lake_fixture.h"
#include "test_util.h"

namespace tarn::testing {
namespace {

using ::testing::HasSubstr;

class ReconCliTest : public DemoLakeSuite {
 protected:
  static std::string Example() { return std::string(TARN_SOURCE_DIR) + "/examples/recon/bank.yaml"; }
};

TEST_F(ReconCliTest, TheExamplePipelineFindsExactlyThePlantedBreaks) {
  auto v = RunTarn({"recon", "validate", Example(), "-d", D()});
  ASSERT_EQ(v.exit_code, 0) << v.err;
  EXPECT_EQ(v.out, "pipeline bank-reconciliation: 3 steps, 1 outputs, 3 statements: ok\n");
  auto r = RunTarn({"recon", "run", Example(), "-d", D(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("created table finance.recon_breaks with 97 rows"));
  EXPECT_THAT(r.out, HasSubstr(R"({"diff_type":"left_only","reason":"","rows":25,)"));
  // Each break's kinds (a break may have two: amount and date) against the planted ones, both ways.
  auto diff = RunTarn(
      {"sql", "-d", D(), "--format", "csv",
       "WITH found AS (SELECT txn_ref, unnest(string_split(kind, ',')) AS kind FROM finance.recon_breaks) "
       "SELECT (SELECT count(*) FROM (FROM found EXCEPT ALL SELECT txn_ref, kind FROM "
       "finance.expected_breaks)) "
       "AS extra, (SELECT count(*) FROM (SELECT txn_ref, kind FROM finance.expected_breaks EXCEPT ALL FROM "
       "found)) "
       "AS missed, (SELECT count(*) FROM finance.expected_breaks) AS planted"});
  ASSERT_EQ(diff.exit_code, 0) << diff.err;
  EXPECT_EQ(diff.out, "extra,missed,planted\n0,0,97\n");
  // A rerun overwrites the output: the same breaks, not twice as many.
  ASSERT_EQ(RunTarn({"recon", "run", Example(), "-d", D()}).exit_code, 0);
  auto n = RunTarn({"sql", "-d", D(), "--format", "csv", "SELECT count(*) AS n FROM finance.recon_breaks"});
  EXPECT_EQ(n.out, "n\n97\n");
}

TEST_F(ReconCliTest, ExplainShowsEachStepsSqlAndTheStatements) {
  auto r = RunTarn({"recon", "explain", Example(), "-d", D()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("step rec (compare, line 17)"));
  // CREATE TABLE on a first run, INSERT OVERWRITE once the table exists.
  EXPECT_THAT(r.out,
              ::testing::ContainsRegex("(CREATE TABLE|INSERT OVERWRITE) \"finance\"\\.\"recon_breaks\""));
  auto sql = RunTarn({"recon", "explain", Example(), "-d", D(), "--sql"});
  EXPECT_THAT(sql.out, ::testing::StartsWith("-- "));
}

TEST_F(ReconCliTest, ErrorsAreOneLineAndSayWhere) {
  TempDir t;
  std::ofstream(t / "bad.yaml")
      << "inputs:\n  l: {table: finance.ledger}\nsteps:\n  - name: x\n    filter: {where: 'amount >> 1'}\n";
  auto r = RunTarn({"recon", "validate", (t / "bad.yaml").string(), "-d", D()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("bad.yaml: step 'x' (filter) line 5, field 'where'"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  // A user who may not read the ledger cannot compile over it.
  ASSERT_EQ(RunTarn({"user", "add", "nobody", "-d", D(), "--password-stdin"}, "nobody-pw-123\n").exit_code,
            0);
  auto denied = RunTarn({"recon", "validate", Example(), "-d", D(), "--as", "nobody"});
  EXPECT_NE(denied.exit_code, 0);
  EXPECT_THAT(denied.err, HasSubstr("finance"));
  auto missing = RunTarn({"recon", "run", Example(), "-d", D(), "--param", "oops"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_THAT(missing.err, HasSubstr("--param oops is not NAME=VALUE"));
}

}  // namespace
}  // namespace tarn::testing
