// OPTIMIZE (compaction) and EXPIRE SNAPSHOTS, on both metadata stores.
#include <thread>

#include "catalog/lakehouse_fixture.h"

using ::testing::HasSubstr;

namespace tarn::testing {
namespace {

// d.t: 600 rows in 6 small files (ids 0-99, 100-199, ...), g = id % 7.
class Maintenance : public LakehouseTest {
 protected:
  void MakeTable() {
    Exec("CREATE DATABASE d; CREATE TABLE d.t AS SELECT range AS id, range % 7 AS g FROM range(100)");
    for (int i = 1; i < 6; i++) {
      Exec(fmt::format("INSERT INTO d.t SELECT range, range % 7 FROM range({}, {})", i * 100, i * 100 + 100));
    }
  }
  std::string Summary() { return One("SELECT count(*) || '/' || sum(id) || '/' || sum(g) FROM d.t"); }
  std::vector<lake::DataFile> Files(const std::string& table = "t") {
    auto lease = admin_->Borrow();
    auto& cat = lease->catalog();
    return cat.SnapshotFiles(*cat.GetTable("d", table).snapshot_id);
  }
};

TEST_P(Maintenance, OptimizeCompactsSmallFilesAndAppliesDeletesWithoutChangingRows) {
  MakeTable();
  Exec("ALTER TABLE d.t SET TBLPROPERTIES ('write_mode' = 'merge-on-read'); DELETE FROM d.t WHERE g = 0");
  std::string rows = Summary();
  auto before = Query(*admin_, "SHOW HISTORY d.t")[0][0];
  EXPECT_EQ(Files().size(), 12u);  // six data files, six delete files
  EXPECT_THAT(Status("OPTIMIZE d.t"), HasSubstr("optimized d.t: 12 files rewritten into 1 (514 rows"));
  auto files = Files();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_TRUE(files[0].deletes_of.empty());
  EXPECT_EQ(Summary(), rows);
  auto h = Query(*admin_, "SHOW HISTORY d.t")[0];
  EXPECT_EQ(h[4] + ":" + h[5] + "/" + h[6] + "/" + h[7], "optimize:0/0/514");
  EXPECT_EQ(One("SELECT count(*) FROM d.t AT (SNAPSHOT => " + before + ")"), "514");
  EXPECT_THAT(Status("OPTIMIZE d.t"), HasSubstr("d.t is compact: nothing to rewrite"));
  EXPECT_EQ(Query(*admin_, "SHOW HISTORY d.t")[0][4], "optimize");
}

TEST_P(Maintenance, OptimizeWhereRewritesOnlyFilesHoldingMatchingRowsAndOrderBySorts) {
  MakeTable();
  Exec("OPTIMIZE d.t WHERE id < 150 OR id IS NULL");
  auto files = Files();
  ASSERT_EQ(files.size(), 5u);  // 0-99 and 100-199 became one; four untouched
  EXPECT_EQ(files.size(), 5u);
  EXPECT_EQ(Summary(), "600/179700/" + One("SELECT sum(range % 7) FROM range(600)"));
  Exec("OPTIMIZE d.t ORDER BY g, id");
  files = Files();
  ASSERT_EQ(files.size(), 1u);
  // The file's rows are in (g, id) order.
  auto path = instance_->lake().Absolute(files[0].path).string();
  auto r = instance_->engine().Connect()->Run(
      "SELECT count(*) FROM (SELECT g, id, lag(g) OVER w AS pg, lag(id) OVER w AS pid FROM read_parquet('" +
      path + "') WINDOW w AS (ORDER BY file_row_number)) WHERE pg > g OR (pg = g AND pid > id)");
  EXPECT_EQ(r->GetValue(0, 0).ToString(), "0");
  EXPECT_EQ(Summary(), "600/179700/" + One("SELECT sum(range % 7) FROM range(600)"));
}

TEST_P(Maintenance, OptimizeSplitsRowsIntoFilesOfTheTargetSizeWithoutLosingOne) {
  // About 4 MB of incompressible text in two files, then a delete.
  Exec(
      "CREATE DATABASE d; CREATE TABLE d.t AS SELECT range AS id, md5(range::VARCHAR) || md5((range * "
      "7)::VARCHAR) AS s "
      "FROM range(40000); INSERT INTO d.t SELECT range, md5(range::VARCHAR) || md5((range * 7)::VARCHAR) "
      "FROM "
      "range(40000, 60000); DELETE FROM d.t WHERE id % 1000 = 0");
  std::string rows = One("SELECT count(*) || '/' || sum(id) || '/' || count(DISTINCT s) FROM d.t");
  Exec("ALTER TABLE d.t SET TBLPROPERTIES ('target_file_size' = '1MB')");
  Exec("OPTIMIZE d.t ORDER BY s");
  auto files = Files();
  EXPECT_GE(files.size(), 3u);
  EXPECT_EQ(One("SELECT count(*) || '/' || sum(id) || '/' || count(DISTINCT s) FROM d.t"), rows);
  // Each file holds a range of s, in order, and the ranges follow each other.
  std::vector<std::pair<std::string, std::string>> ranges;
  auto conn = instance_->engine().Connect();
  for (auto& f : files) {
    auto path = instance_->lake().Absolute(f.path).string();
    auto r = conn->Run(
        "SELECT min(s), max(s), count(*) FILTER (WHERE p > s) FROM (SELECT s, lag(s) OVER (ORDER BY "
        "file_row_number) AS p FROM read_parquet('" +
        path + "'))");
    EXPECT_EQ(r->GetValue(2, 0).ToString(), "0");
    ranges.push_back({r->GetValue(0, 0).ToString(), r->GetValue(1, 0).ToString()});
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); i++) EXPECT_LT(ranges[i - 1].second, ranges[i].first);
}

TEST_P(Maintenance, OptimizeRefusesWhatItCannotDo) {
  MakeTable();
  EXPECT_EQ(ExpectError(*admin_, "OPTIMIZE d.t WHERE read_text('/etc/passwd') IS NULL").code(),
            ErrorCode::kUnsupported);
  EXPECT_EQ(ExpectError(*admin_, "OPTIMIZE d.t WHERE id IN (SELECT 1)").code(), ErrorCode::kUnsupported);
  EXPECT_EQ(ExpectError(*admin_, "OPTIMIZE d.t WHERE nosuch = 1").code(), ErrorCode::kNotFound);
  EXPECT_EQ(ExpectError(*admin_, "OPTIMIZE d.t ORDER BY nosuch").code(), ErrorCode::kNotFound);
  EXPECT_EQ(ExpectError(*admin_, "OPTIMIZE d.t ORDER BY g DESC").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExpectError(*admin_, "OPTIMIZE d.t ORDER BY g + 1").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExpectError(*admin_, "OPTIMIZE d.t LIMIT 3").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExpectError(*admin_, "OPTIMIZE d.nosuch").code(), ErrorCode::kNotFound);
  EXPECT_EQ(ExpectError(*admin_, "ALTER TABLE d.t SET TBLPROPERTIES ('target_file_size' = '10KB')").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Files().size(), 6u);  // nothing was rewritten
}

TEST_P(Maintenance, ExpiryForgetsOldSnapshotsAndRemovesOnlyFilesNothingNames) {
  MakeTable();
  auto history = Query(*admin_, "SHOW HISTORY d.t");
  auto first = history[history.size() - 2][0];  // the first with rows (CREATE TABLE AS commits twice)
  Exec("CREATE TABLE d.c CLONE d.t AT (SNAPSHOT => " + first + ")");  // holds the first file
  Exec("INSERT OVERWRITE d.t SELECT range, range % 7 FROM range(10)");
  size_t files = WarehouseFiles();
  EXPECT_THAT(Status("EXPIRE SNAPSHOTS d.t OLDER THAN '2100-01-01 00:00:00' RETAIN LAST 2"),
              HasSubstr("expired 6 snapshots of d.t: 0 files removed"));
  EXPECT_EQ(Query(*admin_, "SHOW HISTORY d.t").size(), 2u);
  EXPECT_EQ(WarehouseFiles(), files);  // the second-newest snapshot still names the six files
  EXPECT_THAT(Status("EXPIRE SNAPSHOTS d.t OLDER THAN '2100-01-01 00:00:00'"),
              HasSubstr("expired 1 snapshot of d.t: 5 files removed"));
  EXPECT_EQ(WarehouseFiles(), files - 5);  // the clone's file stays
  EXPECT_EQ(One("SELECT count(*) FROM d.c"), "100");
  EXPECT_EQ(One("SELECT count(*) FROM d.t"), "10");
  EXPECT_EQ(ExpectError(*admin_, "SELECT * FROM d.t AT (SNAPSHOT => " + first + ")").code(),
            ErrorCode::kNotFound);
  // Nothing older than a week: nothing goes.
  EXPECT_THAT(Status("EXPIRE SNAPSHOTS d.t OLDER THAN '7 days'"), HasSubstr("expired 0 snapshots"));
  EXPECT_EQ(ExpectError(*admin_, "EXPIRE SNAPSHOTS d.t OLDER THAN 'soon'").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExpectError(*admin_, "EXPIRE SNAPSHOTS d.t OLDER THAN '1 day' RETAIN LAST 0").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExpectError(*admin_, "EXPIRE SNAPSHOTS d.t").code(), ErrorCode::kInvalidArgument);
}

TEST_P(Maintenance, ATablePropertyExpiresSnapshotsAfterEachCommit) {
  MakeTable();
  EXPECT_EQ(
      ExpectError(*admin_, "ALTER TABLE d.t SET TBLPROPERTIES ('expire_snapshots_after' = 'later')").code(),
      ErrorCode::kInvalidArgument);
  Exec("ALTER TABLE d.t SET TBLPROPERTIES ('expire_snapshots_after' = '1 second')");
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  Exec("INSERT INTO d.t SELECT 600, 5");
  EXPECT_EQ(Query(*admin_, "SHOW HISTORY d.t").size(), 1u);
  EXPECT_EQ(Summary(),
            "601/180300/" + std::to_string(std::stoll(One("SELECT sum(range % 7) FROM range(600)")) + 5));
}

INSTANTIATE_TEST_SUITE_P(Backends, Maintenance, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tarn::testing
