// The tarn command as a user runs it: exit codes, one-line errors, output formats.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/util.h"
#include "demo_lake_fixture.h"
#include "store/store.h"
#include "test_util.h"

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

namespace tarn::testing {
namespace {

// One line on stderr, starting with "error: ".
void ExpectOneLineError(const CommandResult& r, const std::string& fragment) {
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, StartsWith("error: "));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr(fragment));
}

using CliTest = DemoLakeSuite;  // the demo lake is shared by the suite

TEST_F(CliTest, CountOfTheDemoOrdersIsPrinted) {
  auto r = RunTarn({"sql", "--data-dir", D(), "SELECT count(*) FROM sales.orders"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("5000"));
  EXPECT_THAT(r.out, HasSubstr("(1 row)"));
}

TEST_F(CliTest, SyntaxErrorIsOneLineAndExitCode2) {
  auto r = RunTarn({"sql", "-d", D(), "SELEC count(*) FROM sales.orders"});
  ExpectOneLineError(r, "syntax error");
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(CliTest, UnknownTableIsOneLineAndExitCode3) {
  auto r = RunTarn({"sql", "-d", D(), "SELECT * FROM sales.nope"});
  ExpectOneLineError(r, "sales.nope does not exist");
  EXPECT_EQ(r.exit_code, 3);
}

TEST_F(CliTest, PathEscapingTheLakeIsOneLineError) {
  auto r = RunTarn({"sql", "-d", D(), "CREATE EXTERNAL TABLE sales.x LOCATION '../../etc' FORMAT csv"});
  ExpectOneLineError(r, "inside the lake");
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(CliTest, MissingDataDirectoryIsOneLineErrorWithTheFix) {
  auto r = RunTarn({"sql", "-d", "/nonexistent/tarn", "SELECT 1"});
  ExpectOneLineError(r, "tarn init --data-dir /nonexistent/tarn");
  EXPECT_EQ(r.exit_code, 3);
  TempDir empty;
  r = RunTarn({"sql", "-d", empty.path(), "SELECT 1"});
  ExpectOneLineError(r, "not a Tarn data directory");
}

TEST_F(CliTest, MultiLineEngineErrorsAreCutToOneLine) {
  auto r = RunTarn({"sql", "-d", D(), "SELECT * FROM sales.orders WHERE"});
  ExpectOneLineError(r, "syntax error");
  r = RunTarn({"sql", "-d", D(), "SELECT * FROM read_csv('/etc/passwd')"});
  ExpectOneLineError(r, "access denied");
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("root:")));
}

TEST_F(CliTest, CsvAndJsonFormatsAreMachineReadable) {
  auto r = RunTarn({"sql", "-d", D(), "--format", "csv",
                    "SELECT region, count(*) AS n FROM sales.orders GROUP BY region ORDER BY region"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("region,n\nAPAC,"));
  r = RunTarn({"sql", "-d", D(), "--format", "json",
               "SELECT 1 AS a, 'x\"y' AS b, NULL AS c, 2.50::DECIMAL(5,2) AS d"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"a\":1,\"b\":\"x\\\"y\",\"c\":null,\"d\":2.50}\n");
}

TEST_F(CliTest, ParquetFormatWritesTheOutputFile) {
  TempDir out;
  auto file = (out / "orders.parquet").string();
  auto r =
      RunTarn({"sql", "-d", D(), "--format", "parquet", "-o", file, "SELECT * FROM sales.orders LIMIT 10"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(file));
  EXPECT_THAT(r.err, HasSubstr("wrote 10 rows"));
  r = RunTarn({"sql", "-d", D(), "--format", "parquet", "SELECT 1"});
  ExpectOneLineError(r, "--output");
}

TEST_F(CliTest, SqlComesFromStdinOrAFile) {
  auto r = RunTarn({"sql", "-d", D(), "-q", "--format", "csv"}, "SELECT 1 AS a;\nSELECT 2 AS b;\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "a\n1\nb\n2\n");
  TempDir t;
  WriteFile(t / "q.sql", "-- a comment; with a semicolon\nSELECT count(*) AS n FROM finance.ledger;");
  r = RunTarn({"sql", "-d", D(), "--format", "csv", "-f", (t / "q.sql").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "n\n2500\n");
  r = RunTarn({"sql", "-d", D(), "-f", (t / "missing.sql").string()});
  ExpectOneLineError(r, "cannot read SQL file");
}

TEST_F(CliTest, DemoLakeHasPlantedDiscrepanciesForReconciliation) {
  auto r = RunTarn(
      {"sql", "-d", D(), "--format", "csv",
       "SELECT (SELECT count(*) FROM finance.ledger l ANTI JOIN finance.bank_statements b USING (txn_ref)) "
       "AS missing, (SELECT count(*) FROM finance.expected_breaks WHERE kind = 'missing_in_bank') AS "
       "planted"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "missing,planted\n25,25\n");  // entries 97, 194, ..., 2425 of 2500
}

TEST_F(CliTest, DemoDataRefusesToOverwriteWithoutReplace) {
  auto r = RunTarn({"demo-data", "-d", D(), "--rows", "5000"});
  ExpectOneLineError(r, "--replace");
  r = RunTarn({"demo-data", "-d", D(), "--rows", "10"});
  ExpectOneLineError(r, "--rows");
}

TEST_F(CliTest, DemoDataIsDeterministic) {
  TempDir other;
  ASSERT_EQ(RunTarn({"demo-data", "-d", other.path(), "--rows", "5000"}).exit_code, 0);
  std::string q = "SELECT sum(amount), max(email) FROM sales.orders JOIN sales.customers USING (customer_id)";
  auto a = RunTarn({"sql", "-d", D(), "--format", "csv", q});
  auto b = RunTarn({"sql", "-d", other.path(), "--format", "csv", q});
  EXPECT_EQ(a.exit_code, 0);
  EXPECT_EQ(a.out, b.out);
}

TEST_F(CliTest, HelpAndVersion) {
  auto r = RunTarn({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (auto cmd : {"sql", "init", "demo-data", "gc", "version"}) EXPECT_THAT(r.out, HasSubstr(cmd));
  r = RunTarn({"sql", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("CREATE EXTERNAL TABLE"));
  r = RunTarn({"version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("DuckDB v1.4.4"));
  r = RunTarn({"frobnicate"});
  EXPECT_NE(r.exit_code, 0);
}

TEST(CliPostgres, InitWithAPostgresMetastoreIsRememberedByLaterCommands) {
  TempDir dir;
  TestMetastore pg("postgresql", dir.path());
  TARN_REQUIRE_METASTORE(pg);
  auto r = RunTarn({"init", "-d", dir.path(), "--metastore", pg.location()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(dir / "metadata.sqlite"));
  EXPECT_EQ(fs::status(dir / "config.json").permissions() & fs::perms::others_read, fs::perms::none);
  r = RunTarn({"sql", "-d", dir.path(), "-q", "--format", "csv",
               "CREATE DATABASE p; CREATE TABLE p.t AS SELECT 7 AS a; SELECT a FROM p.t"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "a\n7\n");
  auto check = store::MetaStore::Open(pg.location());
  EXPECT_EQ(check->Query("SELECT name FROM databases").at(0).Str(0), "p");
}

TEST_F(CliTest, UnknownFormatIsRefused) {
  auto r = RunTarn({"sql", "-d", D(), "--format", "xml", "SELECT 1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("xml"));
  EXPECT_THAT(r.err, HasSubstr("; see tarn sql --help"));
}

TEST_F(CliTest, UsageErrorsExit2WithOneLineAndWhereHelpIs) {
  auto r = RunTarn({"query", "SELECT 1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("error: "));
  EXPECT_THAT(r.err, HasSubstr("see tarn --help"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  r = RunTarn({"sql", "-d", D(), "--max-rows", "many", "SELECT 1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("see tarn sql --help"));
  r = RunTarn({"login"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("required"));
}

TEST(AuditCliTest, VerifyPassesAfterARunAndNamesTheEventAfterAOneByteEdit) {
  TempDir dir;
  std::string d = dir.path().string();
  ASSERT_EQ(RunTarn({"init", "-d", d, "--admin-password-stdin"}, "admin-secret-1\n").exit_code, 0);
  ASSERT_EQ(RunTarn({"sql", "-d", d, "CREATE DATABASE a; CREATE TABLE a.t AS SELECT 41 AS n"}).exit_code, 0);
  ASSERT_EQ(RunTarn({"sql", "-d", d, "SELECT n FROM a.t"}).exit_code, 0);
  EXPECT_NE(RunTarn({"sql", "-d", d, "SELECT * FROM read_text('/etc/passwd')"}).exit_code,
            0);  // denied: audited
  auto r = RunTarn({"audit", "verify", "-d", d});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("audit trail intact: 4 events"));
  // Change one byte of the second event (a digit of its duration).
  auto segment = dir.path() / "audit" / "audit-000000000001.jsonl";
  std::string text = ReadTextFile(segment);
  size_t line2 = text.find('\n') + 1;
  size_t at = text.find("\"duration_ms\":", line2) + 14;
  ASSERT_LT(at, text.find('\n', line2));
  text[at] = text[at] == '9' ? '8' : '9';
  WriteFile(segment, text);
  r = RunTarn({"audit", "verify", "-d", d, "--json"});
  EXPECT_EQ(r.exit_code, 9);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_FALSE(j["ok"].get<bool>());
  EXPECT_EQ(j["events"], 2);
  EXPECT_THAT(j["problem"].get<std::string>(), HasSubstr("(event 3)"));
}

}  // namespace
}  // namespace tarn::testing
