// A table's history: SHOW HISTORY, time travel (AT), ROLLBACK TABLE and CLONE, on
// both metadata stores.
#include <chrono>
#include <thread>

#include "catalog/lakehouse_fixture.h"

using ::testing::HasSubstr;

namespace tarn::testing {
namespace {

using History = LakehouseTest;

// The snapshot ids of d.t, oldest first.
std::vector<std::string> Snapshots(const RunAs& as, const std::string& table) {
  std::vector<std::string> ids;
  for (auto& row : Query(as, "SHOW HISTORY " + table)) ids.insert(ids.begin(), row[0]);
  return ids;
}

TEST_P(History, ShowHistoryListsEveryCommitNewestFirstWithWhoAndRowsChanged) {
  Exec("CREATE DATABASE d; CREATE TABLE d.t AS SELECT * FROM range(3) r(id)");
  Exec("INSERT INTO d.t SELECT 10 + range FROM range(2)");
  Exec("INSERT OVERWRITE d.t SELECT 42");
  Collect c;
  admin_->Execute("SHOW HISTORY d.t", c);
  EXPECT_THAT(c.names, ::testing::ElementsAre("snapshot", "parent", "created_at", "principal", "operation",
                                              "rows_added", "rows_removed", "rows", "detail", "current"));
  ASSERT_EQ(c.rows.size(), 4u);
  auto cols = [&](size_t i) {
    auto& r = c.rows[i];
    return r[3] + "|" + r[4] + "|" + r[5] + "|" + r[6] + "|" + r[7] + "|" + r[9];
  };
  EXPECT_EQ(cols(0), "admin|overwrite|1|5|1|true");
  EXPECT_EQ(cols(1), "admin|append|2|0|5|false");
  EXPECT_EQ(cols(2), "admin|append|3|0|3|false");
  EXPECT_EQ(cols(3), "admin|create|0|0|0|false");
  EXPECT_EQ(c.rows[0][1], c.rows[1][0]);  // each snapshot's parent is the one before
  EXPECT_THAT(c.rows[0][2], ::testing::MatchesRegex("20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-9:]{8}Z"));
  EXPECT_EQ(ExpectError(*admin_, "SHOW HISTORY d.nosuch").code(), ErrorCode::kNotFound);
}

TEST_P(History, TimeTravelReadsASnapshotByNumberOrTime) {
  Exec("CREATE DATABASE d; CREATE TABLE d.t AS SELECT 1 AS id");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  Exec("INSERT INTO d.t SELECT 2");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  Exec("INSERT OVERWRITE d.t SELECT 100");
  auto ids = Snapshots(*admin_, "d.t");  // create, append 1, append 2, overwrite
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(All("SELECT id FROM d.t AT (SNAPSHOT => " + ids[1] + ")"), "1;");
  EXPECT_EQ(All("SELECT id FROM d.t AT (SNAPSHOT => " + ids[2] + ") ORDER BY id"), "1;2;");
  EXPECT_EQ(All("SELECT count(*) FROM d.t AT (SNAPSHOT => " + ids[0] + ")"), "0;");
  EXPECT_EQ(All("SELECT id FROM d.t"), "100;");
  // Now and then in one statement; aliases work as for any table.
  EXPECT_EQ(All("SELECT (SELECT sum(id) FROM d.t), (SELECT sum(x.id) FROM d.t AS x AT (SNAPSHOT => " +
                ids[2] + "))"),
            "100|3;");
  // By time: the snapshot that was current then.
  auto created = Query(*admin_, "SHOW HISTORY d.t");  // newest first
  std::string t1 = created[2][2];                     // when the first append committed
  std::string when = t1.substr(0, 10) + " " + t1.substr(11, 8);
  EXPECT_EQ(All("SELECT id FROM d.t AT (TIMESTAMP => '" + when + "')"), "1;");
  EXPECT_EQ(All("SELECT id FROM d.t AT (TIMESTAMP => TIMESTAMP '" + when + "')"), "1;");
  // The same instant with an offset.
  int hour = std::stoi(when.substr(11, 2));
  if (hour < 23) {
    std::string shifted = when.substr(0, 11) + fmt::format("{:02}", hour + 1) + when.substr(13) + "+01:00";
    EXPECT_EQ(All("SELECT id FROM d.t AT (TIMESTAMP => '" + shifted + "')"), "1;");
  }
  auto before = ExpectError(*admin_, "SELECT * FROM d.t AT (TIMESTAMP => '2001-01-01 00:00:00')");
  EXPECT_EQ(before.code(), ErrorCode::kNotFound);
  EXPECT_THAT(before.what(), HasSubstr("no snapshot at or before 2001-01-01T00:00:00Z"));
}

TEST_P(History, TimeTravelRefusesWhatItCannotRead) {
  Exec("CREATE DATABASE d; CREATE TABLE d.t AS SELECT 1 AS id; CREATE TABLE d.u AS SELECT 2 AS id");
  auto other = Snapshots(*admin_, "d.u").back();
  auto e = ExpectError(*admin_, "SELECT * FROM d.t AT (SNAPSHOT => " + other + ")");
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);  // another table's snapshot is not d.t's
  EXPECT_THAT(e.what(), HasSubstr("d.t has no snapshot " + other));
  EXPECT_EQ(ExpectError(*admin_, "SELECT * FROM d.t AT (SNAPSHOT => 99999)").code(), ErrorCode::kNotFound);
  EXPECT_EQ(ExpectError(*admin_, "SELECT * FROM d.t AT (SNAPSHOT => 'x')").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExpectError(*admin_, "SELECT * FROM d.t AT (SNAPSHOT => 0)").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExpectError(*admin_, "SELECT * FROM d.t AT (TIMESTAMP => 'yesterday-ish')").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExpectError(*admin_, "SELECT * FROM d.t AT (COLOR => 'red')").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExpectError(*admin_, "SELECT * FROM d.t AT (SNAPSHOT => (SELECT 1))").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExpectError(*admin_, "SELECT * FROM d.nosuch AT (SNAPSHOT => 1)").code(), ErrorCode::kNotFound);
  // A name only the pre-bind check may write.
  EXPECT_EQ(ExpectError(*admin_, "SELECT * FROM __tarn_at.\"d.t@snapshot=1\"").code(), ErrorCode::kNotFound);
}

TEST_P(History, RollbackIsANewCommitAndCanItselfBeRolledBack) {
  Exec("CREATE DATABASE d; CREATE TABLE d.t AS SELECT * FROM range(5) r(id)");
  auto good = Snapshots(*admin_, "d.t").back();
  Exec("INSERT OVERWRITE d.t SELECT -1");  // the mistake
  auto bad = Snapshots(*admin_, "d.t").back();
  EXPECT_THAT(Status("ROLLBACK TABLE d.t TO SNAPSHOT " + good),
              HasSubstr("rolled d.t back to snapshot " + good + ": 5 rows now"));
  EXPECT_EQ(One("SELECT sum(id) FROM d.t"), "10");
  auto history = Query(*admin_, "SHOW HISTORY d.t");
  EXPECT_EQ(history[0][4], "rollback");
  EXPECT_EQ(history[0][8], "to snapshot " + good);
  EXPECT_EQ(history[0][5] + "/" + history[0][6], "5/1");
  // Undo the undo: the table is as the mistake left it.
  Exec("ROLLBACK TABLE d.t TO SNAPSHOT " + bad);
  EXPECT_EQ(All("SELECT id FROM d.t"), "-1;");
  EXPECT_EQ(Snapshots(*admin_, "d.t").size(), 5u);
  // Appends after a rollback see the rolled-back files.
  Exec("ROLLBACK TABLE d.t TO SNAPSHOT " + good + "; INSERT INTO d.t SELECT 100");
  EXPECT_EQ(One("SELECT sum(id) FROM d.t"), "110");
  EXPECT_EQ(ExpectError(*admin_, "ROLLBACK TABLE d.t TO SNAPSHOT 99999").code(), ErrorCode::kNotFound);
  EXPECT_EQ(ExpectError(*admin_, "ROLLBACK TABLE d.t TO 3").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(One("SELECT sum(id) FROM d.t"), "110");  // failed rollbacks change nothing
}

TEST_P(History, RollbackToATimeUndoesABadOverwrite) {
  Exec("CREATE DATABASE d; CREATE TABLE d.t AS SELECT * FROM range(5) r(id)");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto when = Query(*admin_, "SHOW HISTORY d.t")[0][2];
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  Exec("INSERT OVERWRITE d.t SELECT -1");
  Exec("ROLLBACK TABLE d.t TO TIMESTAMP '" + when + "'");
  EXPECT_EQ(One("SELECT count(*) FROM d.t"), "5");
}

TEST_P(History, AClonePointsAtTheSameFilesAndThenGoesItsOwnWay) {
  Exec("CREATE DATABASE d; CREATE TABLE d.t AS SELECT * FROM range(4) r(id)");
  auto first = Snapshots(*admin_, "d.t").back();
  Exec("INSERT INTO d.t SELECT 10");
  size_t files = WarehouseFiles();
  EXPECT_THAT(Status("CREATE TABLE d.c CLONE d.t"), HasSubstr("as a clone of d.t"));
  EXPECT_EQ(WarehouseFiles(), files);  // zero-copy
  EXPECT_EQ(One("SELECT sum(id) FROM d.c"), "16");
  Exec("CREATE TABLE d.old CLONE d.t AT (SNAPSHOT => " + first + ")");
  EXPECT_EQ(One("SELECT sum(id) FROM d.old"), "6");
  // Independent: writes to one do not show in the other.
  Exec("INSERT INTO d.c SELECT 1000; INSERT OVERWRITE d.t SELECT -5");
  EXPECT_EQ(One("SELECT sum(id) FROM d.c"), "1016");
  EXPECT_EQ(One("SELECT sum(id) FROM d.t"), "-5");
  // The source's files stay while a clone refers to them, also after a drop.
  Exec("DROP TABLE d.t");
  instance_->CollectGarbage(std::chrono::seconds(-1));
  EXPECT_EQ(One("SELECT sum(id) FROM d.c"), "1016");
  EXPECT_EQ(One("SELECT sum(id) FROM d.old"), "6");
  EXPECT_EQ(Query(*admin_, "SHOW HISTORY d.c").back()[4], "clone");
  EXPECT_EQ(ExpectError(*admin_, "CREATE TABLE d.c CLONE d.old").code(), ErrorCode::kAlreadyExists);
  EXPECT_THAT(Status("CREATE TABLE IF NOT EXISTS d.c CLONE d.old"), HasSubstr("already exists"));
  EXPECT_EQ(ExpectError(*admin_, "CREATE TABLE d.x CLONE d.nosuch").code(), ErrorCode::kNotFound);
  EXPECT_EQ(ExpectError(*admin_, "CREATE TABLE d.x CLONE d.old AT (SNAPSHOT => 99999)").code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(ExpectError(*admin_, "CREATE TABLE d.x CLONE d.old garbage").code(), ErrorCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Backends, History, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tarn::testing
