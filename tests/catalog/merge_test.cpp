// MERGE INTO on managed tables, on both metadata stores.
#include "catalog/lakehouse_fixture.h"

using ::testing::HasSubstr;

namespace tarn::testing {
namespace {

class Merge : public LakehouseTest {
 protected:
  void SetUp() override {
    LakehouseTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    Exec(
        "CREATE DATABASE d; CREATE TABLE d.t AS SELECT * FROM (VALUES (1, 'a', 10), (2, 'b', 20), (3, 'c', "
        "30)) "
        "v(id, v, n)");
    UseWriteMode("d.t");
  }
  std::string Rows() { return All("SELECT id, v, n FROM d.t ORDER BY id NULLS LAST, v"); }
};

TEST_P(Merge, UpsertsUpdateMatchedRowsAndInsertTheRest) {
  Exec("CREATE TABLE d.s AS SELECT * FROM (VALUES (1, 'A'), (5, 'E'), (NULL, 'nullkey')) v(id, v)");
  EXPECT_THAT(Status("MERGE INTO d.t x USING d.s s ON x.id = s.id "
                     "WHEN MATCHED THEN UPDATE SET v = s.v "
                     "WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.v, 0)"),
              HasSubstr("merged into d.t: 1 row updated, 0 deleted, 2 inserted"));
  // A NULL key matches nothing: its row is inserted.
  EXPECT_EQ(Rows(), "1|A|10;2|b|20;3|c|30;5|E|0;NULL|nullkey|0;");
  auto h = Query(*admin_, "SHOW HISTORY d.t")[0];
  EXPECT_EQ(h[4] + ":" + h[5] + "/" + h[6], "merge:3/1");
}

TEST_P(Merge, TheFirstClauseThatAppliesWins) {
  Exec(
      "MERGE INTO d.t x USING (SELECT * FROM (VALUES (1, 'del'), (2, 'keep'), (3, 'up'), (4, 'new'), (6, "
      "'skip')) "
      "v(id, op)) s ON x.id = s.id "
      "WHEN MATCHED AND s.op = 'del' THEN DELETE "
      "WHEN MATCHED AND s.op = 'keep' THEN DO NOTHING "
      "WHEN MATCHED THEN UPDATE SET n = x.n + 1, v = s.op "
      "WHEN NOT MATCHED AND s.op = 'skip' THEN DO NOTHING "
      "WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.op)");
  EXPECT_EQ(Rows(), "2|b|20;3|up|31;4|new|NULL;");
}

TEST_P(Merge, ATargetRowMatchedTwiceFailsAndChangesNothing) {
  auto e = ExpectError(
      *admin_,
      "MERGE INTO d.t x USING (SELECT * FROM (VALUES (1, 'p'), (1, 'q')) v(id, v)) s ON x.id = s.id "
      "WHEN MATCHED THEN UPDATE SET v = s.v");
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(e.what(), HasSubstr("more than once"));
  // Even when the clause would delete it.
  EXPECT_EQ(ExpectError(*admin_,
                        "MERGE INTO d.t x USING (SELECT * FROM (VALUES (1), (1)) v(id)) s ON x.id = s.id "
                        "WHEN MATCHED THEN DELETE")
                .code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Rows(), "1|a|10;2|b|20;3|c|30;");
  EXPECT_EQ(Query(*admin_, "SHOW HISTORY d.t").size(), 2u);
}

TEST_P(Merge, BadClausesAreRefusedBeforeAnythingChanges) {
  const std::string head = "MERGE INTO d.t x USING (SELECT 1 AS id) s ON x.id = s.id ";
  EXPECT_THAT(ExpectError(*admin_, head + "WHEN MATCHED THEN ERROR").what(), HasSubstr("THEN ERROR"));
  EXPECT_EQ(ExpectError(*admin_, head + "WHEN NOT MATCHED BY SOURCE THEN DELETE").code(),
            ErrorCode::kUnsupported);
  EXPECT_EQ(ExpectError(*admin_, head + "WHEN NOT MATCHED THEN INSERT VALUES (1)").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExpectError(*admin_, head + "WHEN MATCHED THEN UPDATE SET nosuch = 1").code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(ExpectError(*admin_, "MERGE INTO d.t x USING d.nosuch s ON x.id = s.id WHEN MATCHED THEN DELETE")
                .code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(ExpectError(*admin_, head + "WHEN MATCHED THEN UPDATE SET n = 'text'").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Rows(), "1|a|10;2|b|20;3|c|30;");
}

INSTANTIATE_TEST_SUITE_P(Backends, Merge, AllWriteModes(), [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tarn::testing
