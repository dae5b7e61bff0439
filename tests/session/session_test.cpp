// The SQL surface of a session: which statements run, which are refused, and how.
#include "session/session.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "session/instance.h"
#include "sql_helpers.h"
#include "test_util.h"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace tarn::testing {
namespace {

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.data_dir = dir_.path();
    options_.threads = 2;
    session::Instance::Init(options_);
    instance_ = std::make_unique<session::Instance>(options_);
    s_ = instance_->NewSession();
    Collect c;
    s_->Execute(
        "CREATE DATABASE d; CREATE TABLE d.t AS SELECT i AS id, 'name' || i AS name FROM range(5) r(i)", c);
  }
  TempDir dir_;
  session::InstanceOptions options_;
  std::unique_ptr<session::Instance> instance_;
  std::unique_ptr<session::Session> s_;
};

TEST_F(SessionTest, ScriptsRunEveryStatementInOrderAndReportEach) {
  Collect c;
  s_->Execute("CREATE TABLE d.u (a INTEGER); INSERT INTO d.u VALUES (1), (2); SELECT sum(a) FROM d.u;", c);
  ASSERT_EQ(c.statuses.size(), 2u);
  EXPECT_EQ(c.statuses[0], "created table d.u");
  EXPECT_THAT(c.statuses[1], HasSubstr("inserted 2 rows into d.u"));
  ASSERT_EQ(c.rows.size(), 1u);
  EXPECT_EQ(c.rows[0][0], "3");
}

TEST_F(SessionTest, AFailingStatementStopsTheScriptButKeepsEarlierOnes) {
  Collect c;
  EXPECT_THROW(
      s_->Execute(
          "INSERT INTO d.t VALUES (10, 'x'); SELECT * FROM d.missing; INSERT INTO d.t VALUES (11, 'y')", c),
      Error);
  EXPECT_EQ(Scalar(*s_, "SELECT count(*) FROM d.t"), "6");
}

TEST_F(SessionTest, QueriesJoinAndAggregateCatalogTables) {
  Collect c;
  s_->Execute("CREATE TABLE d.names AS SELECT i AS id, upper('n' || i) AS label FROM range(3) r(i)", c);
  EXPECT_EQ(Scalar(*s_,
                   "WITH j AS (SELECT t.id, n.label FROM d.t t JOIN d.names n USING (id)) "
                   "SELECT string_agg(label, ',' ORDER BY id) FROM j"),
            "N0,N1,N2");
  EXPECT_EQ(Scalar(*s_, "FROM d.t SELECT max(id)"), "4");
  EXPECT_FALSE(Query(*s_, "EXPLAIN SELECT * FROM d.t").empty());
}

// A sum of BIGINTs is a HUGEINT; a lake table keeps it as DECIMAL(38,0), every digit
// (Parquet has no 128-bit integer, and a DOUBLE would round 2^53 + 1).
TEST_F(SessionTest, HugeIntegersKeepEveryDigitInTheLake) {
  Collect c;
  s_->Execute(
      "CREATE TABLE d.big AS SELECT sum(x) AS s FROM (VALUES (9007199254740993), (0)) v(x); "
      "CREATE TABLE d.declared (h HUGEINT); INSERT INTO d.declared SELECT "
      "17014118346046923173168730371588410",
      c);
  EXPECT_EQ(Scalar(*s_, "SELECT CAST(s AS VARCHAR) FROM d.big"), "9007199254740993");
  EXPECT_EQ(Scalar(*s_, "SELECT typeof(s) FROM d.big"), "DECIMAL(38,0)");
  EXPECT_EQ(Scalar(*s_, "SELECT CAST(h AS VARCHAR) FROM d.declared"), "17014118346046923173168730371588410");
}

TEST_F(SessionTest, StatementsOutsideTarnsSurfaceAreRefused) {
  for (auto sql : {"ATTACH 'x.db' AS x", "COPY (SELECT 1) TO 'out.csv'", "SET threads = 1", "PRAGMA version",
                   "INSTALL httpfs", "LOAD httpfs", "CREATE VIEW d.v AS SELECT 1", "CREATE MACRO m(x) AS x",
                   "EXPORT DATABASE 'x'", "CREATE SECRET (TYPE s3)", "PREPARE p AS SELECT 1", "EXECUTE p",
                   "IMPORT DATABASE 'x'", "RESET threads", "VACUUM"}) {
    auto e = ExpectError(*s_, sql);
    EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied) << sql << ": " << e.what();
    EXPECT_THAT(e.what(), HasSubstr("access denied"));
  }
  for (auto sql :
       {"EXPLAIN INSERT INTO d.t VALUES (1, 'a')", "CREATE TEMP TABLE d.x (a INT)", "SHOW ALL TABLES"}) {
    auto e = ExpectError(*s_, sql);
    EXPECT_EQ(e.code(), ErrorCode::kUnsupported) << sql << ": " << e.what();
  }
  EXPECT_EQ(Scalar(*s_, "SELECT count(*) FROM d.t"), "5");
}

TEST_F(SessionTest, FilePathsNeverActAsTableNames) {
  auto file = instance_->lake().root() / "raw/x.parquet";
  fs::create_directories(file.parent_path());
  instance_->engine().Connect()->Run("COPY (SELECT 42 AS secret) TO " + engine::QuoteString(file.string()));
  for (std::string sql :
       {"SELECT * FROM '" + file.string() + "'", std::string("SELECT * FROM 'raw/x.parquet'")}) {
    auto e = ExpectError(*s_, sql);
    EXPECT_EQ(e.code(), ErrorCode::kNotFound) << sql;
    EXPECT_THAT(e.what(), ::testing::Not(HasSubstr("42")));
  }
}

TEST_F(SessionTest, CreateTableRejectsWhatALakeTableCannotKeep) {
  EXPECT_EQ(ExpectError(*s_, "CREATE TABLE d.p (a INTEGER PRIMARY KEY)").code(), ErrorCode::kUnsupported);
  EXPECT_EQ(ExpectError(*s_, "CREATE TABLE d.p (a INTEGER DEFAULT 3)").code(), ErrorCode::kUnsupported);
  EXPECT_EQ(ExpectError(*s_, "CREATE OR REPLACE TABLE d.t AS SELECT 1 AS a").code(), ErrorCode::kUnsupported);
  EXPECT_EQ(ExpectError(*s_, "CREATE TABLE p (a INTEGER)").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExpectError(*s_, "CREATE TABLE d.p (a INTEGER, A VARCHAR)").code(), ErrorCode::kInvalidArgument);
  auto e = ExpectError(*s_, "CREATE TABLE d.p AS SELECT count(*) FROM d.t");
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(e.what(), HasSubstr("name it with AS"));
  EXPECT_FALSE(s_->catalog().FindTable("d", "p").has_value());
  EXPECT_EQ(ExpectError(*s_, "CREATE TABLE d.t AS SELECT 1 AS a").code(), ErrorCode::kAlreadyExists);
}

TEST_F(SessionTest, InsertFormsOutsideTheSimpleOneAreRefused) {
  EXPECT_EQ(ExpectError(*s_, "INSERT INTO d.t (id) VALUES (1)").code(), ErrorCode::kUnsupported);
  EXPECT_EQ(ExpectError(*s_, "INSERT INTO d.t VALUES (1, 'a') RETURNING id").code(), ErrorCode::kUnsupported);
  EXPECT_EQ(ExpectError(*s_, "INSERT INTO d.t BY NAME SELECT 1 AS id, 'a' AS name").code(),
            ErrorCode::kUnsupported);
  EXPECT_EQ(ExpectError(*s_, "INSERT OVERWRITE d.t").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExpectError(*s_, "INSERT OVERWRITE d.t SELECT 1, 'a'; VACUUM").code(),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(Scalar(*s_, "SELECT count(*) FROM d.t"), "1");  // the overwrite before the refused statement ran
}

TEST_F(SessionTest, LastQueryCanBeWrittenAsParquet) {
  TempDir out;
  auto file = out / "result.parquet";
  Collect c;
  s_->Execute("SELECT id, name FROM d.t WHERE id < 3", c, file);
  ASSERT_TRUE(fs::exists(file));
  EXPECT_THAT(c.statuses.back(), HasSubstr("wrote 3 rows"));
  // Read it back through a lake table to check its content.
  fs::copy_file(file, instance_->lake().root() / "result.parquet");
  s_->Execute("CREATE EXTERNAL TABLE d.back LOCATION 'result.parquet'", c);
  EXPECT_EQ(Scalar(*s_, "SELECT string_agg(name, ',' ORDER BY id) FROM d.back"), "name0,name1,name2");
}

TEST_F(SessionTest, ParquetOutputNeedsAQueryLast) {
  TempDir out;
  Collect c;
  try {
    s_->Execute("CREATE DATABASE e", c, out / "x.parquet");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_FALSE(fs::exists(out / "x.parquet"));
}

TEST_F(SessionTest, CancelStopsARunningQuery) {
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    s_->Cancel();
  });
  auto start = std::chrono::steady_clock::now();
  auto e = ExpectError(*s_, "SELECT count(*) FROM range(100000000000) r(i) WHERE i % 3 = 1");
  canceller.join();
  EXPECT_EQ(e.code(), ErrorCode::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  // The stop holds until the next run begins; then the session works again.
  EXPECT_EQ(ExpectError(*s_, "SELECT 1").code(), ErrorCode::kCancelled);
  s_->BeginRun(std::chrono::milliseconds(0));
  EXPECT_EQ(Scalar(*s_, "SELECT count(*) FROM d.t"), "5");
}

TEST_F(SessionTest, EmptyScriptIsAnError) {
  EXPECT_EQ(ExpectError(*s_, "  ; -- nothing\n").code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tarn::testing
