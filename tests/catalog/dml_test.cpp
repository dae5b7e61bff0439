// DELETE and UPDATE of managed tables (copy-on-write), on both metadata stores.
#include "catalog/lakehouse_fixture.h"

using ::testing::HasSubstr;

namespace tarn::testing {
namespace {

// d.t: 1000 rows over 3 files (ids 0-399, 400-799, 800-999), g = id % 10.
class RowChanges : public LakehouseTest {
 protected:
  void MakeTable() {
    Exec(
        "CREATE DATABASE d; CREATE TABLE d.t AS SELECT range AS id, range % 10 AS g, 'v' || range AS s "
        "FROM range(400); INSERT INTO d.t SELECT range, range % 10, 'v' || range FROM range(400, 800); "
        "INSERT INTO d.t SELECT range, range % 10, 'v' || range FROM range(800, 1000)");
    UseWriteMode("d.t");
  }
};

TEST_P(RowChanges, DeleteRemovesExactlyTheMatchingRowsAndRewritesOnlyTheirFiles) {
  MakeTable();
  auto before = Query(*admin_, "SHOW SNAPSHOTS d.t").back();
  EXPECT_THAT(Status("DELETE FROM d.t WHERE id >= 800 AND g = 3"), HasSubstr("deleted 20 rows of d.t"));
  EXPECT_EQ(One("SELECT count(*) FROM d.t"), "980");
  EXPECT_EQ(One("SELECT count(*) FROM d.t WHERE id >= 800 AND g = 3"), "0");
  EXPECT_EQ(One("SELECT sum(id) FROM d.t"), std::to_string(499500 - (803 + 993) * 10));
  // One file rewritten: still three files, the other two untouched (merge-on-read:
  // the three and a delete file for one of them).
  auto after = Query(*admin_, "SHOW SNAPSHOTS d.t").back();
  EXPECT_EQ(after[4], MergeOnRead() ? "4" : "3");
  EXPECT_EQ(after[2], "delete");
  auto h = Query(*admin_, "SHOW HISTORY d.t")[0];
  EXPECT_EQ(h[5] + "/" + h[6] + "/" + h[7], "0/20/980");
  // Nothing matches: no new snapshot.
  EXPECT_THAT(Status("DELETE FROM d.t WHERE id < 0"), HasSubstr("deleted 0 rows of d.t"));
  EXPECT_EQ(Query(*admin_, "SHOW HISTORY d.t").size(), 5u);
  // NULL conditions delete nothing; no WHERE deletes everything.
  Exec("DELETE FROM d.t WHERE NULL");
  EXPECT_EQ(One("SELECT count(*) FROM d.t"), "980");
  Exec("DELETE FROM d.t");
  EXPECT_EQ(One("SELECT count(*) FROM d.t"), "0");
  EXPECT_EQ(Query(*admin_, "SHOW SNAPSHOTS d.t").back()[4], "0");  // no empty files kept
  // And time travel still reads the rows deleted.
  EXPECT_EQ(One("SELECT count(*) FROM d.t AT (SNAPSHOT => " + before[0] + ")"), "1000");
}

TEST_P(RowChanges, DeleteUsingAnotherTableAndSubqueries) {
  MakeTable();
  Exec("CREATE TABLE d.gone AS SELECT * FROM (VALUES (1), (2), (2), (NULL)) v(id)");
  EXPECT_THAT(Status("DELETE FROM d.t USING d.gone WHERE t.id = gone.id"), HasSubstr("deleted 2 rows"));
  Exec("DELETE FROM d.t x WHERE x.id IN (SELECT id + 10 FROM d.gone WHERE id IS NOT NULL)");
  EXPECT_EQ(One("SELECT count(*) FROM d.t"), "996");
  Exec("DELETE FROM d.t WHERE id > (SELECT avg(id) FROM d.t)");
  EXPECT_EQ(One("SELECT max(id) FROM d.t"), "501");  // avg after the deletes: 501.48
}

TEST_P(RowChanges, UpdateSetsColumnsOfTheMatchingRowsOnly) {
  MakeTable();
  EXPECT_THAT(Status("UPDATE d.t SET s = upper(s), g = g + 100 WHERE id % 100 = 0"),
              HasSubstr("updated 10 rows of d.t"));
  EXPECT_EQ(All("SELECT id, g, s FROM d.t WHERE g >= 100 ORDER BY id LIMIT 2"), "0|100|V0;100|100|V100;");
  EXPECT_EQ(One("SELECT count(*) FROM d.t"), "1000");
  EXPECT_EQ(One("SELECT count(*) FROM d.t WHERE s LIKE 'V%'"), "10");
  auto h = Query(*admin_, "SHOW HISTORY d.t")[0];
  EXPECT_EQ(h[4] + ":" + h[5] + "/" + h[6], "update:10/10");
  // Values are cast to the column's type; a value that does not fit fails, nothing changes.
  auto e = ExpectError(*admin_, "UPDATE d.t SET g = 'not a number' WHERE id = 1");
  EXPECT_EQ(One("SELECT g FROM d.t WHERE id = 1"), "1");
  Exec("UPDATE d.t SET s = NULL WHERE id = 5");
  EXPECT_EQ(One("SELECT s IS NULL FROM d.t WHERE id = 5"), "true");
  EXPECT_EQ(ExpectError(*admin_, "UPDATE d.t SET nosuch = 1").code(), ErrorCode::kNotFound);
  EXPECT_EQ(ExpectError(*admin_, "UPDATE d.t SET g = 1, g = 2").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExpectError(*admin_, "UPDATE d.t SET g = DEFAULT").code(), ErrorCode::kUnsupported);
}

TEST_P(RowChanges, UpdateFromAnotherTableMustMatchEachRowOnce) {
  MakeTable();
  Exec("CREATE TABLE d.fix AS SELECT * FROM (VALUES (1, 'one'), (2, 'two'), (2, 'deux')) v(id, s)");
  auto e = ExpectError(*admin_, "UPDATE d.t SET s = f.s FROM d.fix f WHERE t.id = f.id");
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(e.what(), HasSubstr("more than once"));
  EXPECT_EQ(One("SELECT s FROM d.t WHERE id = 1"), "v1");
  Exec("UPDATE d.t SET s = f.s FROM d.fix f WHERE t.id = f.id AND f.s <> 'deux'");
  EXPECT_EQ(All("SELECT s FROM d.t WHERE id IN (1, 2) ORDER BY id"), "one;two;");
}

TEST_P(RowChanges, ExternalTablesAndEngineNamesAreRefused) {
  Exec("CREATE DATABASE d; CREATE TABLE d.odd AS SELECT 1 AS file_row_number, 2 AS x");
  EXPECT_EQ(ExpectError(*admin_, "DELETE FROM d.odd").code(), ErrorCode::kUnsupported);
  EXPECT_EQ(ExpectError(*admin_, "DELETE FROM d.nosuch").code(), ErrorCode::kNotFound);
  EXPECT_EQ(ExpectError(*admin_, "DELETE FROM nosuch").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExpectError(*admin_, "DELETE FROM d.odd RETURNING *").code(), ErrorCode::kUnsupported);
}

TEST_P(RowChanges, AConcurrentAppendIsKeptAndAConflictingRewriteFails) {
  MakeTable();
  // A DELETE whose base moved because of an append still commits, keeping the append.
  auto lease = admin_->Borrow();
  auto& cat = lease->catalog();
  auto table = cat.GetTable("d", "t");
  Exec("INSERT INTO d.t SELECT 5000, 0, 'late'");
  // Rewrite from the old snapshot: a change file picking row 0 of file 0.
  auto files = cat.FilesToScan(table);
  auto changes = instance_->lake().root() / "changes.parquet";
  instance_->engine().Connect()->Run("COPY (SELECT 0::BIGINT AS __tarn_file, 0::BIGINT AS __tarn_row) TO '" +
                                     changes.string() + "'");
  auto r = cat.ChangeRows(table, files, {"delete", changes, {}, {}, ""});
  EXPECT_EQ(r.rows_removed, 1);
  EXPECT_EQ(One("SELECT count(*) FROM d.t"), "1000");  // 1000 - 1 + 1 late row
  EXPECT_EQ(One("SELECT count(*) FROM d.t WHERE s = 'late'"), "1");
  // The same change again from the old snapshot: its file was rewritten meanwhile.
  auto e = CatchError([&] { cat.ChangeRows(table, files, {"delete", changes, {}, {}, ""}); });
  EXPECT_EQ(e.code(), ErrorCode::kConflict);
  EXPECT_EQ(One("SELECT count(*) FROM d.t"), "1000");
}

INSTANTIATE_TEST_SUITE_P(Backends, RowChanges, AllWriteModes(), [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tarn::testing
