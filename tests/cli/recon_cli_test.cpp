// `tarn recon` on a demo lake: the example pipeline finds exactly the breaks
// demo-data planted, and the commands' errors are one clear line.
#include <fmt/format.h>
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
  EXPECT_EQ(v.out, "pipeline bank-reconciliation: 3 steps, 3 outputs, 7 statements: ok\n");
  TempDir out;
  auto r = RunTarn({"recon", "run", Example(), "-d", D(), "--json", "--out", out.path().string()});
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
  // The workbook holds the same breaks: read back into the lake, nothing differs either way.
  auto up = RunTarn({"upload", (out / "recon-breaks.xlsx").string(), "finance.breaks_back", "--sheet", "Breaks",
                     "-d", D()});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_EQ(up.out, "created table finance.breaks_back with 97 rows (snapshot " +
                        up.out.substr(up.out.find("snapshot ") + 9));
  auto same = RunTarn({"sql", "-d", D(), "--format", "csv",
                       "SELECT (SELECT count(*) FROM (SELECT txn_ref, kind, diff_type FROM finance.recon_breaks EXCEPT "
                       "ALL SELECT txn_ref, kind, diff_type FROM finance.breaks_back)) AS extra, (SELECT count(*) "
                       "FROM (SELECT txn_ref, kind, diff_type FROM finance.breaks_back EXCEPT ALL SELECT txn_ref, "
                       "kind, diff_type FROM finance.recon_breaks)) AS missed"});
  EXPECT_EQ(same.out, "extra,missed\n0,0\n") << same.err;
  auto summary = RunTarn({"upload", (out / "recon-breaks.xlsx").string(), "finance.summary_back", "--sheet",
                          "Summary", "-d", D()});
  // The summary sheet has the run's summary rows (one JSON line each).
  EXPECT_THAT(summary.out, HasSubstr(fmt::format("with {} rows", std::count(r.out.begin(), r.out.end(), '\n'))))
      << summary.err;
  // A rerun overwrites the output: the same breaks, not twice as many.
  ASSERT_EQ(RunTarn({"recon", "run", Example(), "-d", D(), "--out", out.path().string()}).exit_code, 0);
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
  auto nofile = RunTarn({"recon", "validate", (t / "absent.yaml").string(), "-d", D()});
  EXPECT_NE(nofile.exit_code, 0);
  EXPECT_THAT(nofile.err, HasSubstr("absent.yaml"));
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_THAT(missing.err, HasSubstr("--param oops is not NAME=VALUE"));
}

// The statement as a spreadsheet: exported by one pipeline, read by another as a
// file input in place of the table, it gives the same breaks.
TEST_F(ReconCliTest, APipelineReadsASpreadsheetAsAnInput) {
  TempDir t;
  std::ofstream(t / "export.yaml") << "inputs:\n  bank: {table: finance.bank_statements}\nsteps:\n"
                                      "  - name: lines\n    output: {input: bank, file: statement.xlsx, sheet: Lines}\n";
  auto e = RunTarn({"recon", "run", (t / "export.yaml").string(), "-d", D(), "--out", t.path().string()});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  std::ifstream in(Example());
  std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string table = "bank: {table: finance.bank_statements}";
  ASSERT_NE(yaml.find(table), std::string::npos);
  yaml.replace(yaml.find(table), table.size(),
               "bank: {file: statement.xlsx, sheet: Lines, types: {amount: \"DECIMAL(14,2)\"}}");
  yaml.replace(yaml.find("finance.recon_breaks"), 20, "finance.xlsx_breaks");
  std::ofstream(t / "from-xlsx.yaml") << yaml;
  auto r = RunTarn({"recon", "run", (t / "from-xlsx.yaml").string(), "-d", D(), "--out", t.path().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("created table finance.xlsx_breaks with 97 rows"));
  // A missing file or sheet is named.
  std::ofstream(t / "nosheet.yaml") << "inputs:\n  b: {file: statement.xlsx, sheet: March}\nsteps:\n"
                                       "  - name: o\n    output: {table: finance.never}\n";
  auto bad = RunTarn({"recon", "validate", (t / "nosheet.yaml").string(), "-d", D()});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, HasSubstr("statement.xlsx has no sheet 'March'; its sheets: 'Lines'"));
}

}  // namespace
}  // namespace tarn::testing
