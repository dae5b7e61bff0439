// Table properties and merge-on-read row changes (delete files applied at scan
// time), and their interplay with copy-on-write, history and concurrent commits.
#include "catalog/lakehouse_fixture.h"

using ::testing::HasSubstr;

namespace tarn::testing {
namespace {

// d.t: 1000 rows over 2 files (ids 0-499, 500-999), merge-on-read.
class WriteModes : public LakehouseTest {
 protected:
  void MakeTable() {
    Exec(
        "CREATE DATABASE d; CREATE TABLE d.t AS SELECT range AS id, 'v' || range AS s FROM range(500); "
        "INSERT INTO d.t SELECT range, 'v' || range FROM range(500, 1000); "
        "ALTER TABLE d.t SET TBLPROPERTIES ('write_mode' = 'merge-on-read')");
  }
  // The current snapshot's files: data files by path, and how many are delete files.
  std::pair<std::set<std::string>, int> Files() {
    auto lease = admin_->Borrow();
    auto& cat = lease->catalog();
    std::set<std::string> data;
    int deletes = 0;
    for (auto& f : cat.SnapshotFiles(*cat.GetTable("d", "t").snapshot_id)) {
      if (f.deletes_of.empty()) {
        data.insert(f.path);
      } else {
        deletes++;
      }
    }
    return {data, deletes};
  }
  std::string Summary() { return One("SELECT count(*) || '/' || sum(id) FROM d.t"); }
};

TEST_P(WriteModes, PropertiesAreAnAllowListWithDefaults) {
  Exec("CREATE DATABASE d; CREATE TABLE d.t AS SELECT 1 AS id");
  EXPECT_EQ(All("SHOW TBLPROPERTIES d.t").substr(0, 33), "write_mode|copy-on-write|default|");
  EXPECT_THAT(Status("ALTER TABLE d.t SET TBLPROPERTIES ('write_mode' = 'merge-on-read')"),
              HasSubstr("set properties of d.t: write_mode"));
  EXPECT_EQ(All("SHOW TBLPROPERTIES d.t").substr(0, 29), "write_mode|merge-on-read|set|");
  auto e = ExpectError(*admin_, "ALTER TABLE d.t SET TBLPROPERTIES ('write_mode' = 'fast')");
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(e.what(), HasSubstr("'copy-on-write', 'merge-on-read'"));
  e = ExpectError(*admin_, "ALTER TABLE d.t SET TBLPROPERTIES ('colour' = 'blue')");
  EXPECT_THAT(e.what(), HasSubstr("unknown table property 'colour'"));
  EXPECT_EQ(ExpectError(*admin_, "ALTER TABLE d.t SET TBLPROPERTIES ('write_mode')").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(
      ExpectError(*admin_, "ALTER TABLE d.nosuch SET TBLPROPERTIES ('write_mode' = 'merge-on-read')").code(),
      ErrorCode::kNotFound);
  EXPECT_EQ(All("SHOW TBLPROPERTIES d.t").substr(0, 29), "write_mode|merge-on-read|set|");  // unchanged
  Exec("ALTER TABLE d.t UNSET TBLPROPERTIES ('write_mode')");
  EXPECT_EQ(All("SHOW TBLPROPERTIES d.t").substr(0, 33), "write_mode|copy-on-write|default|");
}

TEST_P(WriteModes, ADeleteWritesOneDeleteFilePerDataFileAndRewritesNoData) {
  MakeTable();
  auto [data, deletes] = Files();
  ASSERT_EQ(data.size(), 2u);
  auto before = Query(*admin_, "SHOW HISTORY d.t")[0][0];
  Exec("DELETE FROM d.t WHERE id % 100 = 7");
  EXPECT_EQ(Summary(), "990/" + std::to_string(499500 - 4570));
  auto after = Files();
  EXPECT_EQ(after.first, data);  // no data file rewritten
  EXPECT_EQ(after.second, 2);
  // A second delete on the same files merges into their delete files.
  Exec("DELETE FROM d.t WHERE id IN (8, 508)");
  after = Files();
  EXPECT_EQ(after.first, data);
  EXPECT_EQ(after.second, 2);
  EXPECT_EQ(One("SELECT count(*) FROM d.t"), "988");
  EXPECT_EQ(One("SELECT count(*) FROM d.t WHERE id IN (7, 8, 508, 907)"), "0");
  auto h = Query(*admin_, "SHOW HISTORY d.t")[0];
  EXPECT_EQ(h[4] + ":" + h[6] + "/" + h[7], "delete:2/988");
  // A file with no row left is dropped with its delete file.
  Exec("DELETE FROM d.t WHERE id < 500");
  after = Files();
  EXPECT_EQ(after.first.size(), 1u);
  EXPECT_EQ(after.second, 1);
  EXPECT_EQ(One("SELECT count(*) || '/' || min(id) FROM d.t"), "494/500");
  // Time travel reads the rows as they were.
  EXPECT_EQ(One("SELECT count(*) FROM d.t AT (SNAPSHOT => " + before + ")"), "1000");
}

TEST_P(WriteModes, AnUpdateAddsOneFileOfNewRowsAndCopyOnWriteLaterAppliesTheDeletes) {
  MakeTable();
  Exec("UPDATE d.t SET s = 'new' WHERE id % 250 = 0");
  EXPECT_EQ(All("SELECT id, s FROM d.t WHERE s = 'new' ORDER BY id"), "0|new;250|new;500|new;750|new;");
  EXPECT_EQ(Summary(), "1000/499500");
  auto files = Files();
  EXPECT_EQ(files.first.size(), 3u);  // the two and the updated rows
  EXPECT_EQ(files.second, 2);
  // Back to copy-on-write: the next change rewrites its file without the deleted rows.
  Exec("ALTER TABLE d.t UNSET TBLPROPERTIES ('write_mode')");
  Exec("DELETE FROM d.t WHERE id = 1");
  files = Files();
  EXPECT_EQ(files.second, 1);
  EXPECT_EQ(Summary(), "999/499499");
  EXPECT_EQ(One("SELECT count(*) FROM d.t WHERE s = 'new'"), "4");
  EXPECT_EQ(One("SELECT count(*) FROM d.t WHERE id = 250"), "1");
}

TEST_P(WriteModes, RollbackAndCloneCarryTheDeleteFiles) {
  MakeTable();
  auto before = Query(*admin_, "SHOW HISTORY d.t")[0][0];
  Exec("DELETE FROM d.t WHERE id >= 900");
  Exec("CREATE TABLE d.c CLONE d.t");
  EXPECT_EQ(One("SELECT count(*) FROM d.c"), "900");
  Exec("ROLLBACK TABLE d.t TO SNAPSHOT " + before);
  EXPECT_EQ(Summary(), "1000/499500");
  EXPECT_EQ(One("SELECT count(*) FROM d.c"), "900");
  Exec("DELETE FROM d.c WHERE id < 100");
  EXPECT_EQ(One("SELECT count(*) FROM d.c"), "800");
  EXPECT_EQ(Summary(), "1000/499500");
}

TEST_P(WriteModes, DeletesOfTheSameFileFromOneSnapshotConflict) {
  MakeTable();
  auto lease = admin_->Borrow();
  auto& cat = lease->catalog();
  auto table = cat.GetTable("d", "t");
  auto files = cat.FilesToScan(table);
  auto pick = [&](int file, int row) {
    auto path = instance_->lake().root() / fmt::format("pick-{}-{}.parquet", file, row);
    instance_->engine().Connect()->Run(
        fmt::format("COPY (SELECT {}::BIGINT AS __tarn_file, {}::BIGINT AS __tarn_row) TO '{}'", file, row,
                    path.string()));
    return path;
  };
  EXPECT_EQ(cat.ChangeRows(table, files, {"delete", pick(0, 0), {}, {}, ""}).rows_removed, 1);
  // From the same old snapshot: another row of the same file conflicts (its delete file changed) ...
  auto e = CatchError([&] { cat.ChangeRows(table, files, {"delete", pick(0, 1), {}, {}, ""}); });
  EXPECT_EQ(e.code(), ErrorCode::kConflict);
  // ... a row of the other file does not: its commit is replayed on the newer snapshot.
  EXPECT_EQ(cat.ChangeRows(table, files, {"delete", pick(1, 0), {}, {}, ""}).rows_removed, 1);
  EXPECT_EQ(One("SELECT count(*) FROM d.t"), "998");
  EXPECT_EQ(Files().second, 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, WriteModes, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tarn::testing
