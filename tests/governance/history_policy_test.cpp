// Governance of a table's history: time travel reads old data under today's policy;
// ROLLBACK replaces rows (INSERT and DELETE, no row filter); CLONE copies every value
// (full unmasked read); SHOW HISTORY tells row counts (every row readable); table
// properties, OPTIMIZE and EXPIRE SNAPSHOTS need ALTER (OPTIMIZE ... WHERE a full
// read); merge-on-read deletes under a row filter remove only visible rows.
#include "governance/governance_fixture.h"

using ::testing::HasSubstr;

namespace tarn::testing {
namespace {

class HistoryPolicyTest : public GovernanceTest {
 protected:
  void SetUp() override {
    GovernanceTest::SetUp();
    // Snapshot "before": the four rows of the fixture; then a fifth EU row.
    before_ = Query(*admin_, "SHOW HISTORY d.t")[0][0];
    Exec(*admin_,
         "INSERT INTO d.t SELECT 5, 'EU', 50.0, 'e@x.eu', 'ssn-5'; "
         "CREATE DATA FILTER eu ON d.t EXCLUDING (ssn) ROW FILTER region = 'EU'; "
         "GRANT SELECT ON DATA FILTER eu TO USER ana; "
         "ALTER TABLE d.t ALTER COLUMN email SET MASK regexp_replace(email, '^[^@]+', '***'); "
         "GRANT INSERT, DELETE ON TABLE d.t TO USER ana; "
         "CREATE DATABASE scratch; GRANT CREATE_TABLE ON DATABASE scratch TO USER ana");
  }
  std::string before_;
};

TEST_F(HistoryPolicyTest, TimeTravelReadsOldSnapshotsUnderTodaysPolicy) {
  auto ana = As("ana");
  std::string at = " AT (SNAPSHOT => " + before_ + ")";
  // The old snapshot had rows 1-4: ana sees its EU rows, masked, without ssn.
  EXPECT_EQ(All(*ana, "SELECT id, email FROM d.t" + at + " ORDER BY id"), "1|***@x.eu|\n2|***@x.eu|\n");
  auto then = ExpectError(*ana, "SELECT ssn FROM d.t" + at);
  auto now = ExpectError(*ana, "SELECT ssn FROM d.t");
  EXPECT_EQ(then.code(), now.code());
  EXPECT_STREQ(then.what(), now.what());
  EXPECT_EQ(All(*ana, "SELECT count(*) FROM d.t" + at + " WHERE amount > 400000"), "0|\n");
  // bob has no grant on d.t: its old snapshots are as invisible as a missing table.
  auto bob = As("bob");
  auto hidden = ExpectError(*bob, "SELECT * FROM d.t" + at);
  auto missing = ExpectError(*bob, "SELECT * FROM d.nosuch" + at);
  EXPECT_EQ(hidden.code(), ErrorCode::kNotFound);
  EXPECT_EQ(std::string(hidden.what()).replace(std::string(hidden.what()).find("d.t"), 3, "d.nosuch"),
            std::string(missing.what()));
  // A snapshot number that is not d.t's says nothing about other tables to bob either.
  EXPECT_EQ(ExpectError(*bob, "SELECT * FROM d.t AT (SNAPSHOT => 99999)").code(), ErrorCode::kNotFound);
}

TEST_F(HistoryPolicyTest, RollbackNeedsToReplaceEveryRow) {
  auto ana = As("ana");
  // ana holds INSERT and DELETE but reads d.t through a row filter.
  auto e = ExpectError(*ana, "ROLLBACK TABLE d.t TO SNAPSHOT " + before_);
  EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(e.what(), HasSubstr("outside your row filter"));
  auto carl = As("carl");
  Exec(*admin_, "GRANT SELECT, INSERT ON TABLE d.t TO USER carl");
  EXPECT_THAT(ExpectError(*carl, "ROLLBACK TABLE d.t TO SNAPSHOT " + before_).what(),
              HasSubstr("needs INSERT and DELETE"));
  EXPECT_EQ(ExpectError(*As("bob"), "ROLLBACK TABLE d.t TO SNAPSHOT " + before_).code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(Scalar(*admin_, "SELECT count(*) FROM d.t"), "5");
  Exec(*admin_, "GRANT DELETE ON TABLE d.t TO USER carl");
  Exec(*carl, "ROLLBACK TABLE d.t TO SNAPSHOT " + before_);
  EXPECT_EQ(Scalar(*admin_, "SELECT count(*) FROM d.t"), "4");
  EXPECT_EQ(Query(*admin_, "SHOW HISTORY d.t")[0][3], "carl");
}

TEST_F(HistoryPolicyTest, CloneNeedsAnUnfilteredUnmaskedRead) {
  auto ana = As("ana");
  auto e = ExpectError(*ana, "CREATE TABLE scratch.mine CLONE d.t");
  EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(e.what(), HasSubstr("without a row filter or mask"));
  EXPECT_EQ(ExpectError(*ana, "SELECT * FROM scratch.mine").code(), ErrorCode::kNotFound);
  // dora reads every row of d.t, but email through a mask: no clone either.
  auto dora = As("dora");
  Exec(*admin_,
       "GRANT SELECT ON TABLE d.t TO USER dora; GRANT CREATE_TABLE ON DATABASE scratch TO USER dora");
  EXPECT_THAT(ExpectError(*dora, "CREATE TABLE scratch.c CLONE d.t").what(), HasSubstr("or mask"));
  // A table she reads raw she may clone where she may create tables, and owns the clone.
  Exec(*admin_, "CREATE TABLE d.plain AS SELECT 7 AS x; GRANT SELECT ON TABLE d.plain TO USER dora");
  EXPECT_THAT(ExpectError(*dora, "CREATE TABLE d.c CLONE d.plain").what(), HasSubstr("CREATE_TABLE"));
  Exec(*dora, "CREATE TABLE scratch.c CLONE d.plain");
  EXPECT_EQ(Scalar(*dora, "SELECT x FROM scratch.c"), "7");
  Exec(*dora, "INSERT INTO scratch.c SELECT 8");
  EXPECT_EQ(Scalar(*admin_, "SELECT count(*) FROM d.plain"), "1");
}

TEST_F(HistoryPolicyTest, ShowHistoryNeedsEveryRow) {
  auto ana = As("ana");
  EXPECT_THAT(ExpectError(*ana, "SHOW HISTORY d.t").what(), HasSubstr("every row of d.t"));
  EXPECT_EQ(ExpectError(*As("bob"), "SHOW HISTORY d.t").code(), ErrorCode::kNotFound);
}

TEST_F(HistoryPolicyTest, MaintenanceNeedsAlterAndAFilteredDeleteOnlyTouchesVisibleRows) {
  auto ana = As("ana");
  const char* statements[] = {"ALTER TABLE d.t SET TBLPROPERTIES ('write_mode' = 'merge-on-read')", "OPTIMIZE d.t",
                              "EXPIRE SNAPSHOTS d.t OLDER THAN '1 day'"};
  for (const char* sql : statements) {
    auto e = ExpectError(*ana, sql);
    EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied) << sql;
    EXPECT_THAT(e.what(), HasSubstr("needs ALTER on d.t")) << sql;
    EXPECT_EQ(ExpectError(*As("bob"), sql).code(), ErrorCode::kNotFound) << sql;
  }
  Exec(*admin_, "GRANT ALTER ON TABLE d.t TO USER ana");
  Exec(*ana, "ALTER TABLE d.t SET TBLPROPERTIES ('write_mode' = 'merge-on-read')");
  // Which files hold matching rows would tell about rows ana may not read.
  EXPECT_THAT(ExpectError(*ana, "OPTIMIZE d.t WHERE region = 'US'").what(), HasSubstr("every row and column"));
  EXPECT_EQ(Scalar(*admin_, "SELECT count(*) FROM d.t"), "5");
  Exec(*ana, "DELETE FROM d.t");  // her rows: the EU ones
  EXPECT_EQ(Scalar(*admin_, "SELECT count(*) FROM d.t WHERE region = 'EU'"), "0");
  EXPECT_EQ(Scalar(*admin_, "SELECT count(*) FROM d.t"), "2");
  Exec(*ana, "OPTIMIZE d.t");
  EXPECT_EQ(Scalar(*admin_, "SELECT count(*) FROM d.t"), "2");
  EXPECT_EQ(Query(*ana, "SHOW TBLPROPERTIES d.t").at(0).at(1), "merge-on-read");
  EXPECT_EQ(ExpectError(*As("bob"), "SHOW TBLPROPERTIES d.t").code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace tarn::testing
