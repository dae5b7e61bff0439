// Schema evolution (ALTER TABLE ADD / RENAME / DROP / ALTER COLUMN) with stable column
// ids, and partition evolution (SET PARTITIONED BY), on both metadata stores and in
// both write modes: files written under every version read correctly.
#include "catalog/lakehouse_fixture.h"

using ::testing::HasSubstr;

namespace tarn::testing {
namespace {

class SchemaEvolution : public LakehouseTest {
 protected:
  // d.t(id INTEGER, a VARCHAR, b DOUBLE): ids 1-3 in one file, 4-5 in another.
  void MakeTable() {
    Exec(
        "CREATE DATABASE d; CREATE TABLE d.t AS SELECT range::INTEGER AS id, 'a' || range AS a, (range * "
        "1.5)::DOUBLE AS b "
        "FROM range(1, 4)");
    UseWriteMode("d.t");
    Exec("INSERT INTO d.t VALUES (4, 'a4', 6.0), (5, 'a5', 7.5)");
  }
  std::vector<lake::DataFile> Files() {
    auto lease = admin_->Borrow();
    auto& cat = lease->catalog();
    std::vector<lake::DataFile> out;
    for (auto& f : cat.SnapshotFiles(*cat.GetTable("d", "t").snapshot_id)) {
      if (f.deletes_of.empty()) out.push_back(f);
    }
    return out;
  }
  catalog::TableInfo Table() {
    auto lease = admin_->Borrow();
    return lease->catalog().GetTable("d", "t");
  }
  std::string Columns() {
    std::string out;
    for (auto& row : Query(*admin_, "DESCRIBE d.t")) out += row[0] + " " + row[1] + ";";
    return out;
  }
};

TEST_P(SchemaEvolution, AddRenameAndDropReadEveryOldFileByColumnId) {
  MakeTable();
  EXPECT_THAT(Status("ALTER TABLE d.t ADD COLUMN c BIGINT"),
              HasSubstr("altered d.t: added column c BIGINT (schema version 1)"));
  Exec("INSERT INTO d.t VALUES (6, 'a6', 9.0, 60)");
  Exec("ALTER TABLE d.t RENAME COLUMN a TO name");
  Exec("INSERT INTO d.t VALUES (7, 'a7', 10.5, 70)");
  Exec("ALTER TABLE d.t DROP COLUMN b");
  Exec("INSERT INTO d.t VALUES (8, 'a8', 80)");
  EXPECT_EQ(Columns(), "id INTEGER;name VARCHAR;c BIGINT;");
  EXPECT_EQ(All("SELECT * FROM d.t ORDER BY id"),
            "1|a1|NULL;2|a2|NULL;3|a3|NULL;4|a4|NULL;5|a5|NULL;6|a6|60;7|a7|70;8|a8|80;");
  EXPECT_EQ(One("SELECT count(*) FROM d.t WHERE name = 'a2'"), "1");
  EXPECT_EQ(ExpectError(*admin_, "SELECT b FROM d.t").code(), ErrorCode::kInvalidArgument);
  // Every column keeps its id; files store a renamed column under its first name, with
  // the id as the Parquet field id.
  auto t = Table();
  ASSERT_EQ(t.schema.size(), 3u);
  EXPECT_EQ(t.schema[1].id, 2);
  EXPECT_EQ(t.schema[1].StoredName(), "a");
  EXPECT_EQ(t.schema[2].id, 4);
  EXPECT_EQ(t.schema_version, 3);
  auto newest = Files().back();
  for (auto& f : Files()) {
    if (f.schema_version == 3) newest = f;
  }
  auto r = instance_->engine().Connect()->Run(
      "SELECT string_agg(name || ':' || field_id, ',' ORDER BY field_id) FROM parquet_schema('" +
      instance_->lake().Absolute(newest.path).string() + "') WHERE field_id IS NOT NULL");
  EXPECT_EQ(r->GetValue(0, 0).ToString(), "id:1,a:2,c:4");
}

TEST_P(SchemaEvolution, ADroppedColumnAddedAgainIsANewColumnNullInOldRows) {
  MakeTable();
  Exec("ALTER TABLE d.t DROP COLUMN b; ALTER TABLE d.t ADD COLUMN b VARCHAR");
  Exec("INSERT INTO d.t VALUES (6, 'a6', 'new')");
  EXPECT_EQ(All("SELECT id, b FROM d.t ORDER BY id"), "1|NULL;2|NULL;3|NULL;4|NULL;5|NULL;6|new;");
  // A rename frees the name: a new column of that name is another column.
  Exec("ALTER TABLE d.t RENAME COLUMN a TO old_a; ALTER TABLE d.t ADD COLUMN a INTEGER");
  Exec("INSERT INTO d.t VALUES (7, 'a7', 'x', 77)");
  EXPECT_EQ(All("SELECT id, old_a, a FROM d.t WHERE id IN (1, 6, 7) ORDER BY id"),
            "1|a1|NULL;6|a6|NULL;7|a7|77;");
  auto t = Table();
  EXPECT_EQ(t.schema.back().name, "a");
  EXPECT_NE(t.schema.back().StoredName(), "a");  // "a" is what old_a's files call it
}

TEST_P(SchemaEvolution, WideningCastsOldFilesAndNarrowingIsRefused) {
  MakeTable();
  Exec("ALTER TABLE d.t ALTER COLUMN id TYPE BIGINT");
  Exec("INSERT INTO d.t VALUES (1099511627776, 'big', 1.0)");
  EXPECT_EQ(Columns(), "id BIGINT;a VARCHAR;b DOUBLE;");
  EXPECT_EQ(One("SELECT sum(id) FROM d.t"), "1099511627791");
  EXPECT_EQ(One("SELECT typeof(id) FROM d.t WHERE id = 1"), "BIGINT");
  auto e = ExpectError(*admin_, "ALTER TABLE d.t ALTER COLUMN id TYPE INTEGER");
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(e.what(), HasSubstr("cannot change from BIGINT to INTEGER"));
  EXPECT_EQ(ExpectError(*admin_, "ALTER TABLE d.t ALTER COLUMN a TYPE INTEGER").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExpectError(*admin_, "ALTER TABLE d.t ALTER COLUMN b TYPE FLOAT").code(),
            ErrorCode::kInvalidArgument);
  Exec("ALTER TABLE d.t ADD COLUMN m DECIMAL(9,2); INSERT INTO d.t VALUES (9, 'm', 0, 1234567.89)");
  Exec("ALTER TABLE d.t ALTER COLUMN m SET DATA TYPE DECIMAL(18,4)");
  EXPECT_EQ(One("SELECT m FROM d.t WHERE id = 9"), "1234567.8900");
  EXPECT_TRUE(catalog::Widens("INTEGER", "DECIMAL(12,2)"));
  EXPECT_FALSE(catalog::Widens("INTEGER", "DECIMAL(10,2)"));
  EXPECT_TRUE(catalog::Widens("UINTEGER", "BIGINT"));
  EXPECT_FALSE(catalog::Widens("UBIGINT", "BIGINT"));
  EXPECT_FALSE(catalog::Widens("DATE", "TIMESTAMP"));
}

TEST_P(SchemaEvolution, RowChangesRewriteOldFilesIntoTheCurrentSchema) {
  MakeTable();
  Exec(
      "ALTER TABLE d.t ADD COLUMN c INTEGER; ALTER TABLE d.t RENAME COLUMN a TO name; ALTER TABLE d.t DROP "
      "COLUMN b");
  Exec("UPDATE d.t SET c = id * 10 WHERE id IN (2, 4)");
  Exec("DELETE FROM d.t WHERE id = 5");
  Exec(
      "MERGE INTO d.t x USING (SELECT 1 AS id, 'one' AS name UNION ALL SELECT 9, 'nine') s ON x.id = s.id "
      "WHEN "
      "MATCHED THEN UPDATE SET name = s.name WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.name, 90)");
  EXPECT_EQ(All("SELECT * FROM d.t ORDER BY id"), "1|one|NULL;2|a2|20;3|a3|NULL;4|a4|40;9|nine|90;");
  Exec("OPTIMIZE d.t");
  auto files = Files();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].schema_version, 3);
  EXPECT_EQ(All("SELECT * FROM d.t ORDER BY id"), "1|one|NULL;2|a2|20;3|a3|NULL;4|a4|40;9|nine|90;");
}

TEST_P(SchemaEvolution, TimeTravelRollbackAndCloneReadOldSnapshotsWithTheCurrentSchema) {
  MakeTable();
  auto history = Query(*admin_, "SHOW HISTORY d.t");
  std::string first = history.at(history.size() - 2)[0];  // rows 1-3 (before them: the empty create)
  Exec("ALTER TABLE d.t RENAME COLUMN a TO name; ALTER TABLE d.t ADD COLUMN c INTEGER");
  Exec("INSERT INTO d.t VALUES (6, 'a6', 1, 60)");
  EXPECT_EQ(All("SELECT id, name, c FROM d.t AT (SNAPSHOT => " + first + ") ORDER BY id"),
            "1|a1|NULL;2|a2|NULL;3|a3|NULL;");
  Exec("CREATE TABLE d.copy CLONE d.t AT (SNAPSHOT => " + first + ")");
  EXPECT_EQ(All("SELECT id, name, c FROM d.copy ORDER BY id"), "1|a1|NULL;2|a2|NULL;3|a3|NULL;");
  Exec("ALTER TABLE d.copy DROP COLUMN name");  // the clone's schema is its own
  EXPECT_EQ(One("SELECT count(name) FROM d.t"), "6");
  Exec("ROLLBACK TABLE d.t TO SNAPSHOT " + first);  // data goes back, the schema stays
  EXPECT_EQ(All("SELECT * FROM d.t ORDER BY id"), "1|a1|1.5|NULL;2|a2|3.0|NULL;3|a3|4.5|NULL;");
}

TEST_P(SchemaEvolution, StatisticsFollowARenameAndIfExistsMakesNoChange) {
  MakeTable();
  Exec("ALTER TABLE d.t RENAME COLUMN id TO key");
  auto rows = Query(*admin_, "DESCRIBE d.t");
  ASSERT_EQ(rows[0][0], "key");
  EXPECT_EQ(rows[0][3] + ".." + rows[0][4], "1..5");
  EXPECT_THAT(Status("ALTER TABLE d.t ADD COLUMN IF NOT EXISTS key INTEGER"), HasSubstr("unchanged"));
  EXPECT_THAT(Status("ALTER TABLE d.t DROP COLUMN IF EXISTS nothing"), HasSubstr("unchanged"));
  EXPECT_THAT(Status("ALTER TABLE d.t ALTER COLUMN key TYPE INTEGER"), HasSubstr("unchanged"));
  EXPECT_EQ(Table().schema_version, 1);
}

TEST_P(SchemaEvolution, BadChangesFailWithAClearErrorAndChangeNothing) {
  MakeTable();
  struct Case {
    const char* sql;
    const char* says;
  };
  for (auto& c : std::vector<Case>{
           {"ALTER TABLE d.t ADD COLUMN a INTEGER", "already has a column a"},
           {"ALTER TABLE d.t ADD COLUMN x INTEGER NOT NULL", "takes a name and a type only"},
           {"ALTER TABLE d.t ADD COLUMN x INTEGER DEFAULT 3", "takes a name and a type only"},
           {"ALTER TABLE d.t ADD COLUMN x NOSUCHTYPE", "is not a column type"},
           {"ALTER TABLE d.t ADD COLUMN x", "needs a type"},
           {"ALTER TABLE d.t ADD COLUMN \"x y\" INTEGER", "column name"},
           {"ALTER TABLE d.t RENAME COLUMN nope TO x", "has no column nope"},
           {"ALTER TABLE d.t RENAME COLUMN a TO b", "already has a column b"},
           {"ALTER TABLE d.t RENAME TO u", "renaming a table is not supported"},
           {"ALTER TABLE d.t DROP COLUMN nope", "has no column nope"},
           {"ALTER TABLE d.t ALTER COLUMN id TYPE BIGINT USING id + 1", "no USING"},
           {"ALTER TABLE d.t SET PARTITIONED BY (b)", "may be partitioned by integer"},
           {"ALTER TABLE d.t SET PARTITIONED BY (nope)", "has no column nope"},
           {"ALTER TABLE d.t SET PARTITIONED BY (id, id)", "appears twice"},
       }) {
    auto e = ExpectError(*admin_, c.sql);
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << c.sql;
    EXPECT_THAT(e.what(), HasSubstr(c.says)) << c.sql;
  }
  Exec("CREATE TABLE d.one AS SELECT 1 AS x");
  EXPECT_THAT(ExpectError(*admin_, "ALTER TABLE d.one DROP COLUMN x").what(), HasSubstr("only column"));
  EXPECT_EQ(Table().schema_version, 0);
  EXPECT_EQ(All("SELECT * FROM d.t ORDER BY id"), "1|a1|1.5;2|a2|3.0;3|a3|4.5;4|a4|6.0;5|a5|7.5;");
}

TEST_P(SchemaEvolution, NewDataIsPartitionedByTheCurrentSpecAndOldFilesKeepTheirs) {
  MakeTable();
  Exec("ALTER TABLE d.t ADD COLUMN g INTEGER");
  EXPECT_THAT(Status("ALTER TABLE d.t SET PARTITIONED BY (g)"), HasSubstr("new data is partitioned by g"));
  Exec("INSERT INTO d.t SELECT range, 'p', 0, range % 3 FROM range(10, 19)");
  auto partitioned = [&] {
    size_t n = 0;
    for (auto& f : Files()) n += f.path.find("/g=") != std::string::npos;
    return n;
  };
  EXPECT_EQ(partitioned(), 3u);  // g=0, g=1, g=2
  for (auto& f : Files()) {
    if (f.path.find("/g=") == std::string::npos) continue;
    auto path = instance_->lake().Absolute(f.path).string();
    auto r = instance_->engine().Connect()->Run("SELECT count(DISTINCT g) FROM read_parquet('" + path + "')");
    EXPECT_EQ(r->GetValue(0, 0).ToString(), "1") << f.path;
  }
  EXPECT_EQ(One("SELECT count(*) || '/' || sum(id) || '/' || sum(g) FROM d.t"), "14/141/9");
  auto rows = Query(*admin_, "DESCRIBE d.t");
  EXPECT_EQ(rows[3][0] + ":" + rows[3][2], "g:true");
  // The partition column follows a rename and cannot be dropped while it partitions.
  Exec("ALTER TABLE d.t RENAME COLUMN g TO grp");
  EXPECT_EQ(Table().partition_columns, std::vector<std::string>{"grp"});
  EXPECT_THAT(ExpectError(*admin_, "ALTER TABLE d.t DROP COLUMN grp").what(),
              HasSubstr("SET PARTITIONED BY"));
  // A MERGE's new rows are split too; after BY NONE new data is one file again.
  Exec(
      "MERGE INTO d.t x USING (SELECT 30 + range AS id, range % 2 AS grp FROM range(4)) s ON x.id = s.id "
      "WHEN NOT "
      "MATCHED THEN INSERT VALUES (s.id, 'm', 0, s.grp)");
  EXPECT_GE(partitioned(), 5u);
  Exec("ALTER TABLE d.t SET PARTITIONED BY NONE");
  size_t before = partitioned();
  Exec("INSERT INTO d.t VALUES (50, 'n', 0, 7)");
  EXPECT_EQ(partitioned(), before);
  EXPECT_TRUE(Table().partition_columns.empty());
  EXPECT_EQ(One("SELECT count(*) || '/' || sum(id) FROM d.t"), "19/317");
}

TEST_P(SchemaEvolution, ExternalTablesKeepTheirFilesColumns) {
  auto dir = instance_->lake().root() / "ext";
  std::filesystem::create_directories(dir);
  instance_->engine().Connect()->Run("COPY (SELECT 1 AS x) TO '" + (dir / "f.parquet").string() + "'");
  Exec("CREATE DATABASE d; CREATE EXTERNAL TABLE d.e LOCATION 'ext'");
  auto e = ExpectError(*admin_, "ALTER TABLE d.e ADD COLUMN y INTEGER");
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(e.what(), HasSubstr("external table"));
}

INSTANTIATE_TEST_SUITE_P(Backends, SchemaEvolution, AllWriteModes(),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tarn::testing
