// Files in and out of runs: uploads staged as temporary tables and written as the
// caller's CREATE TABLE AS / INSERT (governed, audited, all or nothing), and the files
// a run writes with COPY (query) TO 'name', published only when the run succeeds.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "governance/governance_fixture.h"
#include "session/upload.h"

using ::testing::HasSubstr;
using ::testing::Not;

namespace tarn::testing {
namespace {

class FilesTest : public GovernanceTest {
 protected:
  void SetUp() override {
    GovernanceTest::SetUp();
    std::ofstream(files_ / "rates.csv") << "currency,rate,since\nEUR,1.08,2024-01-31\nGBP,1.27,2024-02-29\n";
    std::ofstream(files_ / "bad.csv") << "currency,rate\nEUR,1.08\nGBP,lots\n";
  }
  session::RunRequest Upload(const identity::Principal& who, const std::string& file, const std::string& table,
                             session::UploadMode mode, files::ReadOptions options = {}) {
    session::RunRequest r;
    r.principal = who;
    r.origin.kind = "test";
    auto [db, t] = session::SplitTableName(table);
    r.sql = session::UploadScript(db, t, mode);
    r.inputs.push_back({"upload", files_ / file, files::FormatOfPath(file), options, file});
    return r;
  }
  session::RunResult Run(const session::RunRequest& r) {
    session::UploadOutcome outcome;
    auto result = runner_->Run(r, outcome);
    rows_written_ = outcome.rows_written;
    return result;
  }
  identity::Principal Who(const std::string& user) { return *identity::Directory(*store_).Lookup(user, "test"); }
  TempDir files_;
  int64_t rows_written_ = 0;
};

TEST_F(FilesTest, AnUploadCreatesAppendsAndReplacesATable) {
  auto admin = session::Instance::LocalCaller().principal;
  Run(Upload(admin, "rates.csv", "d.rates", session::UploadMode::kCreate)).ThrowIfFailed();
  EXPECT_EQ(rows_written_, 2);
  EXPECT_EQ(All(*admin_, "SELECT currency, rate, since, typeof(rate), typeof(since) FROM d.rates ORDER BY 1"),
            "EUR|1.08|2024-01-31|DOUBLE|DATE|\nGBP|1.27|2024-02-29|DOUBLE|DATE|\n");
  Run(Upload(admin, "rates.csv", "d.rates", session::UploadMode::kAppend)).ThrowIfFailed();
  EXPECT_EQ(All(*admin_, "SELECT count(*) FROM d.rates"), "4|\n");
  Run(Upload(admin, "rates.csv", "d.rates", session::UploadMode::kReplace)).ThrowIfFailed();
  EXPECT_EQ(All(*admin_, "SELECT count(*) FROM d.rates"), "2|\n");
  auto again = Run(Upload(admin, "rates.csv", "d.rates", session::UploadMode::kCreate));
  ASSERT_TRUE(again.error);
  EXPECT_EQ(again.error->code(), ErrorCode::kAlreadyExists);
}

TEST_F(FilesTest, JsonAndParquetFilesUploadToo) {
  auto admin = session::Instance::LocalCaller().principal;
  std::ofstream(files_ / "lines.jsonl") << "{\"currency\": \"EUR\", \"rate\": 1.08}\n{\"currency\": \"GBP\", \"rate\": 1.27}\n";
  Run(Upload(admin, "lines.jsonl", "d.from_json", session::UploadMode::kCreate)).ThrowIfFailed();
  EXPECT_EQ(All(*admin_, "SELECT currency, rate, typeof(rate) FROM d.from_json ORDER BY 1"),
            "EUR|1.08|DOUBLE|\nGBP|1.27|DOUBLE|\n");
  // A Parquet file a run wrote, read back with a column's type changed.
  session::RunRequest w;
  w.principal = admin;
  w.origin.kind = "test";
  w.output_dir = files_.path();
  w.sql = "COPY (SELECT id, amount FROM d.t ORDER BY id) TO 't.parquet'";
  Collect c;
  runner_->Run(w, c).ThrowIfFailed();
  files::ReadOptions typed;
  typed.types = {{"amount", "VARCHAR"}};
  Run(Upload(admin, "t.parquet", "d.from_parquet", session::UploadMode::kCreate, typed)).ThrowIfFailed();
  EXPECT_EQ(All(*admin_, "SELECT id, typeof(amount) FROM d.from_parquet ORDER BY id LIMIT 1"), "1|VARCHAR|\n");
  EXPECT_EQ(All(*admin_, "SELECT count(*) FROM d.from_parquet"), "4|\n");
}

TEST_F(FilesTest, TypesCanBeNamedAndAValueThatDoesNotFitFailsWithNothingWritten) {
  auto admin = session::Instance::LocalCaller().principal;
  files::ReadOptions typed;
  typed.types = {{"rate", "decimal(10,4)"}};
  Run(Upload(admin, "rates.csv", "d.typed", session::UploadMode::kCreate, typed)).ThrowIfFailed();
  EXPECT_EQ(All(*admin_, "SELECT typeof(rate) FROM d.typed LIMIT 1"), "DECIMAL(10,4)|\n");

  files::ReadOptions strict;
  strict.types = {{"rate", "DOUBLE"}};
  auto r = Run(Upload(admin, "bad.csv", "d.bad", session::UploadMode::kCreate, strict));
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(r.error->what(), HasSubstr("bad.csv"));
  EXPECT_THAT(r.error->what(), HasSubstr("lots"));
  EXPECT_THAT(All(*admin_, "SHOW TABLES IN d"), Not(HasSubstr("bad"))) << "no table d.bad";

  files::ReadOptions hostile;
  hostile.types = {{"rate", "DOUBLE); DROP TABLE d.t; --"}};
  r = Run(Upload(admin, "rates.csv", "d.hostile", session::UploadMode::kCreate, hostile));
  ASSERT_TRUE(r.error);
  EXPECT_THAT(r.error->what(), HasSubstr("is not a type Tarn reads files as"));
}

TEST_F(FilesTest, AnUploadNeedsTheGrantsSqlWouldNeedAndIsAudited) {
  auto ana = Who("ana");
  Exec(*admin_, "GRANT SELECT ON d.t TO GROUP analysts");  // she sees d, may not write in it
  auto r = Run(Upload(ana, "rates.csv", "d.rates", session::UploadMode::kCreate));
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code(), ErrorCode::kPermissionDenied);
  r = Run(Upload(ana, "rates.csv", "d.t", session::UploadMode::kAppend));
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(All(*admin_, "SELECT count(*) FROM d.t"), "4|\n") << "nothing appended";
  EXPECT_THAT(All(*admin_, "SELECT outcome FROM system.audit WHERE event = 'statement' AND user_name = 'ana' "
                           "AND statement LIKE '%FROM upload%' ORDER BY seq"),
              "denied|\ndenied|\n");
  Exec(*admin_, "GRANT CREATE_TABLE ON DATABASE d TO USER ana");
  Run(Upload(ana, "rates.csv", "d.ana_rates", session::UploadMode::kCreate)).ThrowIfFailed();
  EXPECT_EQ(All(*As("ana"), "SELECT count(*) FROM d.ana_rates"), "2|\n");
}

TEST_F(FilesTest, ARunsFilesAppearOnlyWhenItSucceeds) {
  TempDir out;
  session::RunRequest r;
  r.principal = session::Instance::LocalCaller().principal;
  r.origin.kind = "test";
  r.output_dir = out.path();
  r.sql =
      "COPY (SELECT id, region FROM d.t ORDER BY id) TO 'regions.csv' (FORMAT csv);"
      "COPY (SELECT id, amount FROM d.t ORDER BY id) TO 'book.xlsx' (FORMAT xlsx, SHEET 'Amounts');"
      "COPY (SELECT region, count(*) AS n FROM d.t GROUP BY 1 ORDER BY 1) TO 'book.xlsx' (SHEET 'Regions');"
      "COPY (SELECT * FROM d.t) TO 'all.parquet'";
  Collect c;
  auto result = runner_->Run(r, c);
  result.ThrowIfFailed();
  EXPECT_EQ(result.files, (std::vector<std::string>{"regions.csv", "book.xlsx", "all.parquet"}));
  std::ifstream csv(out / "regions.csv");
  std::string text((std::istreambuf_iterator<char>(csv)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "id,region\n1,EU\n2,EU\n3,US\n4,APAC\n");
  EXPECT_EQ(files::XlsxSheetNames(out / "book.xlsx"), (std::vector<std::string>{"Amounts", "Regions"}));

  // A run that fails after writing a file leaves none.
  TempDir none;
  r.output_dir = none.path();
  r.sql = "COPY (SELECT 1 AS x) TO 'first.csv'; COPY (SELECT 1 AS x) TO 'second.xlsx'; SELECT error('boom')";
  ASSERT_TRUE(runner_->Run(r, c).error);
  EXPECT_TRUE(std::filesystem::is_empty(none.path()));
}

TEST_F(FilesTest, WhatAndWhereARunWritesIsChecked) {
  TempDir out;
  session::RunRequest r;
  r.principal = Who("ana");
  r.origin.kind = "test";
  r.output_dir = out.path();
  Exec(*admin_, "GRANT SELECT ON d.t TO GROUP analysts");
  Exec(*admin_, "CREATE DATABASE secret; CREATE TABLE secret.s AS SELECT 42 AS x");
  Collect c;
  auto error = [&](const std::string& sql) {
    r.sql = sql;
    auto res = runner_->Run(r, c);
    EXPECT_TRUE(res.error) << sql;
    return res.error ? std::string(res.error->what()) : std::string();
  };
  EXPECT_THAT(error("COPY (SELECT 1) TO '../escape.csv'"), HasSubstr("cannot name a file a run writes"));
  EXPECT_THAT(error("COPY (SELECT 1) TO '/tmp/abs.csv'"), HasSubstr("cannot name a file a run writes"));
  EXPECT_THAT(error("COPY (SELECT 1) TO 'x.csv' (FORMAT parquet)"), HasSubstr("named as csv but written as parquet"));
  EXPECT_THAT(error("COPY (SELECT 1) TO 'x.csv' (DELIMITER ';')"), HasSubstr("takes the options FORMAT and SHEET"));
  EXPECT_THAT(error("COPY d.t FROM 'x.csv'"), HasSubstr("COPY FROM is not allowed"));
  EXPECT_THAT(error("COPY (SELECT * FROM secret.s) TO 'leak.csv'"), HasSubstr("secret.s"));
  EXPECT_TRUE(std::filesystem::is_empty(out.path()));
  r.output_dir.reset();
  EXPECT_THAT(error("COPY (SELECT 1) TO 'x.csv'"), HasSubstr("COPY statements are not allowed here"));
}

}  // namespace
}  // namespace tarn::testing
