// The catalog test suite: every test runs against SQLite and against PostgreSQL.
#include "catalog/catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "catalog/lakehouse_fixture.h"
#include "session/session.h"
#include "store/migrations.h"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace tarn::testing {
namespace {

// The lakehouse fixture, with a session of the operator's for reading the catalog.
class CatalogTest : public LakehouseTest {
 protected:
  void SetUp() override {
    LakehouseTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    s_ = Operator();
    lease_ = s_->Borrow();
  }

  // The local operator, running statements through the Runner.
  std::unique_ptr<RunAs> Operator() {
    return std::make_unique<RunAs>(*runner_, session::Instance::LocalCaller().principal);
  }

  catalog::Catalog& cat() { return lease_->catalog(); }
  fs::path lake() { return instance_->lake().root(); }
  // Writes a Parquet file into the lake with the engine (trusted SQL).
  void WriteParquet(const std::string& rel, const std::string& query) {
    fs::create_directories((lake() / rel).parent_path());
    auto conn = instance_->engine().Connect();
    conn->Run("COPY (" + query + ") TO " + engine::QuoteString((lake() / rel).string()) +
              " (FORMAT parquet)");
  }

  std::unique_ptr<RunAs> s_;
  session::Runner::Lease lease_;
};

TEST_P(CatalogTest, DatabasesAreCreatedListedAndDropped) {
  Exec("CREATE DATABASE sales; CREATE DATABASE finance");
  EXPECT_EQ(cat().ListDatabases(), (std::vector<std::string>{"finance", "sales"}));
  EXPECT_EQ(ExpectError(*s_, "CREATE DATABASE sales").code(), ErrorCode::kAlreadyExists);
  Exec("CREATE DATABASE IF NOT EXISTS sales");
  Exec("DROP DATABASE finance");
  EXPECT_EQ(cat().ListDatabases(), (std::vector<std::string>{"sales"}));
  EXPECT_EQ(ExpectError(*s_, "DROP DATABASE finance").code(), ErrorCode::kNotFound);
  Exec("DROP DATABASE IF EXISTS finance");
}

TEST_P(CatalogTest, BadAndReservedDatabaseNamesAreRefused) {
  EXPECT_EQ(ExpectError(*s_, "CREATE DATABASE main").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExpectError(*s_, "CREATE DATABASE information_schema").code(), ErrorCode::kInvalidArgument);
  auto e = ExpectError(*s_, "CREATE DATABASE \"a-b\"");
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(e.what(), HasSubstr("invalid database name"));
  EXPECT_TRUE(cat().ListDatabases().empty());
}

TEST_P(CatalogTest, NamesAreCaseInsensitive) {
  Exec("CREATE DATABASE Sales; CREATE TABLE SALES.Things AS SELECT 1 AS Id");
  EXPECT_EQ(Scalar(*s_, "SELECT id FROM sales.things"), "1");
  EXPECT_EQ(cat().GetTable("SALES", "THINGS").QualifiedName(), "sales.things");
}

TEST_P(CatalogTest, ManagedTableCommitsOneSnapshotPerWrite) {
  Exec("CREATE DATABASE d; CREATE TABLE d.t (id BIGINT, name VARCHAR)");
  Exec("INSERT INTO d.t SELECT i, 'n' || i FROM range(10) r(i)");
  Exec("INSERT INTO d.t VALUES (100, 'x')");
  EXPECT_EQ(Scalar(*s_, "SELECT count(*) FROM d.t"), "11");
  Exec("INSERT OVERWRITE d.t SELECT i, 'o' FROM range(3) r(i)");
  EXPECT_EQ(Scalar(*s_, "SELECT string_agg(name, ',') FROM d.t"), "o,o,o");
  auto t = cat().GetTable("d", "t");
  auto snaps = cat().ListSnapshots(t);
  ASSERT_EQ(snaps.size(), 4u);
  EXPECT_EQ(snaps[0].operation, "create");
  EXPECT_EQ(snaps[1].operation, "append");
  EXPECT_EQ(snaps[2].operation, "append");
  EXPECT_EQ(snaps[3].operation, "overwrite");
  EXPECT_EQ(snaps[2].row_count, 11);
  EXPECT_EQ(snaps[2].file_count, 2);
  EXPECT_EQ(snaps[3].row_count, 3);
  EXPECT_EQ(snaps[3].file_count, 1);
  EXPECT_EQ(snaps[3].parent_id, snaps[2].id);
  EXPECT_EQ(t.snapshot_id, snaps[3].id);
  auto rows = Query(*s_, "SHOW SNAPSHOTS d.t");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[3][2], "overwrite");
  EXPECT_EQ(rows[3][7], "true");
  EXPECT_EQ(rows[2][7], "false");
}

// A scan is kept per snapshot: a statement on the same snapshot reuses it, a new
// commit (from this session or another) is seen at once, and sizes are the files'.
TEST_P(CatalogTest, TheScanOfAManagedTableFollowsItsSnapshot) {
  Exec("CREATE DATABASE d; CREATE TABLE d.t (id BIGINT)");
  auto first = cat().Scan(cat().GetTable("d", "t"));
  EXPECT_TRUE(first->files.empty());
  EXPECT_EQ(first->bytes, 0);
  Exec("INSERT INTO d.t SELECT i FROM range(10) r(i)");
  auto t = cat().GetTable("d", "t");
  auto one = cat().Scan(t);
  ASSERT_EQ(one->files.size(), 1u);
  EXPECT_EQ(one->bytes, static_cast<int64_t>(fs::file_size(one->files[0])));
  EXPECT_EQ(cat().Scan(cat().GetTable("d", "t")), one);  // the same snapshot: kept
  auto other = Operator();
  Collect c;
  other->Execute("INSERT INTO d.t VALUES (10)", c);
  auto two = cat().Scan(cat().GetTable("d", "t"));
  ASSERT_EQ(two->files.size(), 2u);
  EXPECT_EQ(Scalar(*s_, "SELECT count(*) FROM d.t"), "11");
  other->Execute("INSERT OVERWRITE d.t SELECT 1", c);
  EXPECT_EQ(Scalar(*s_, "SELECT count(*) FROM d.t"), "1");
  EXPECT_EQ(cat().Scan(cat().GetTable("d", "t"))->files.size(), 1u);
}

TEST_P(CatalogTest, CreateTableAsTakesTheQuerySchema) {
  Exec(
      "CREATE DATABASE d; CREATE TABLE d.t AS SELECT 1::INTEGER AS a, 'x' AS b, 2.50::DECIMAL(10,2) AS c, "
      "DATE '2024-01-02' AS d");
  auto rows = Query(*s_, "DESCRIBE d.t");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0][0], "a");
  EXPECT_EQ(rows[0][1], "INTEGER");
  EXPECT_EQ(rows[1][1], "VARCHAR");
  EXPECT_EQ(rows[2][1], "DECIMAL(10,2)");
  EXPECT_EQ(rows[3][1], "DATE");
}

TEST_P(CatalogTest, StatisticsComeFromParquetFootersAcrossFiles) {
  Exec("CREATE DATABASE d; CREATE TABLE d.t (n INTEGER, s VARCHAR)");
  Exec("INSERT INTO d.t VALUES (9, 'b'), (NULL, 'a')");
  Exec("INSERT INTO d.t VALUES (10, NULL), (10, NULL)");
  auto rows = Query(*s_, "DESCRIBE d.t");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][3], "9");  // numeric min, not the string "10"
  EXPECT_EQ(rows[0][4], "10");
  EXPECT_EQ(rows[0][5], "1");
  EXPECT_EQ(rows[1][3], "a");
  EXPECT_EQ(rows[1][4], "b");
  EXPECT_EQ(rows[1][5], "2");
}

TEST_P(CatalogTest, InsertWithTheWrongShapeFailsAndWritesNothing) {
  Exec("CREATE DATABASE d; CREATE TABLE d.t (a INTEGER, b INTEGER); INSERT INTO d.t VALUES (1, 2)");
  size_t files = WarehouseFiles();
  auto e = ExpectError(*s_, "INSERT INTO d.t SELECT 1");
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(e.what(), HasSubstr("1 columns but the table has 2"));
  EXPECT_EQ(ExpectError(*s_, "INSERT INTO d.t SELECT 'x', 1").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(cat().ListSnapshots(cat().GetTable("d", "t")).size(), 2u);
  EXPECT_EQ(WarehouseFiles(), files);
  EXPECT_EQ(Scalar(*s_, "SELECT count(*) FROM d.t"), "1");
}

// A write under a commit key commits once: a second write under the same key fails
// and leaves the table and the warehouse as they were.
TEST_P(CatalogTest, AWriteUnderACommitKeyCommitsOnce) {
  Exec("CREATE DATABASE d; CREATE TABLE d.t (a INTEGER)");
  auto t = cat().GetTable("d", "t");
  catalog::CommitKey key{"run-1", "step 1/0"};
  EXPECT_FALSE(cat().CommittedUnder(key).has_value());
  cat().SetCommitKey(key);
  cat().Write(t, session::ParseQuery("SELECT 1 UNION ALL SELECT 2", "test"), false);
  EXPECT_EQ(cat().CommittedUnder(key), 2);
  size_t files = WarehouseFiles();
  EXPECT_THROW(cat().Write(t, session::ParseQuery("SELECT 3", "test"), false), Error);
  cat().SetCommitKey(std::nullopt);
  EXPECT_EQ(Scalar(*s_, "SELECT count(*) FROM d.t"), "2");
  EXPECT_EQ(WarehouseFiles(), files);  // the refused write's file is gone
  auto meta = instance_->OpenMetastore();
  catalog::Catalog::ForgetCommitKeys(*meta, "run-1");
  EXPECT_FALSE(cat().CommittedUnder(key).has_value());
}

// Through the Runner: a rerun of a script under the same commit scope skips the
// statements that committed and runs the others.
TEST_P(CatalogTest, ARerunUnderACommitScopeSkipsStatementsThatCommitted) {
  Exec("CREATE DATABASE d; CREATE TABLE d.t (a INTEGER)");
  session::RunRequest request;
  request.principal = session::Instance::LocalCaller().principal;
  request.sql = "INSERT INTO d.t VALUES (1), (2); SELECT count(*) FROM d.t; INSERT INTO d.t VALUES (3)";
  request.commit_scope = catalog::CommitKey{"run-2", "step 1"};
  Collect first;
  runner_->Run(request, first).ThrowIfFailed();
  EXPECT_EQ(first.rows, (std::vector<std::vector<std::string>>{{"2"}}));
  Collect second;
  runner_->Run(request, second).ThrowIfFailed();
  EXPECT_EQ(second.rows, (std::vector<std::vector<std::string>>{{"3"}}));  // the query reran
  EXPECT_EQ(Scalar(*s_, "SELECT string_agg(a::VARCHAR, ',' ORDER BY a) FROM d.t"), "1,2,3");
  EXPECT_THAT(second.statuses,
              ::testing::ElementsAre("statement 1 committed 2 rows in an earlier attempt: not run again",
                                     "statement 3 committed 1 row in an earlier attempt: not run again"));
  // Without the scope, the same script appends again.
  request.commit_scope.reset();
  Collect third;
  runner_->Run(request, third).ThrowIfFailed();
  EXPECT_EQ(Scalar(*s_, "SELECT count(*) FROM d.t"), "6");
}

TEST_P(CatalogTest, FailedCreateTableAsLeavesNoTable) {
  Exec("CREATE DATABASE d");
  auto e = ExpectError(*s_, "CREATE TABLE d.t AS SELECT CAST('x' || i AS INTEGER) AS a FROM range(5) r(i)");
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(cat().FindTable("d", "t").has_value());
  EXPECT_EQ(WarehouseFiles(), 0u);
}

TEST_P(CatalogTest, ExternalParquetTableRecognisesHivePartitions) {
  WriteParquet("raw/ev/region=EU/part0.parquet", "SELECT i AS id, i * 2 AS v FROM range(10) r(i)");
  WriteParquet("raw/ev/region=NA/part0.parquet", "SELECT i AS id, i * 2 AS v FROM range(10, 15) r(i)");
  WriteFile(lake() / "raw/ev/_SUCCESS", "");
  Exec("CREATE DATABASE d; CREATE EXTERNAL TABLE d.ev LOCATION 'raw/ev' FORMAT parquet");
  auto t = cat().GetTable("d", "ev");
  EXPECT_EQ(t.kind, catalog::TableKind::kExternal);
  EXPECT_EQ(t.partition_columns, (std::vector<std::string>{"region"}));
  EXPECT_EQ(Scalar(*s_, "SELECT count(*) FROM d.ev"), "15");
  EXPECT_EQ(Scalar(*s_, "SELECT count(*) FROM d.ev WHERE region = 'NA'"), "5");
  auto rows = Query(*s_, "DESCRIBE d.ev");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2][0], "region");
  EXPECT_EQ(rows[2][2], "true");
  EXPECT_EQ(rows[0][3], "0");
  EXPECT_EQ(rows[0][4], "14");
  EXPECT_EQ(cat().GetSnapshot(*t.snapshot_id).row_count, 15);
}

TEST_P(CatalogTest, PartitionedByMustNameAFolderKey) {
  WriteParquet("raw/ev/part0.parquet", "SELECT 1 AS id");
  auto e = ExpectError(
      *s_, "CREATE DATABASE d; CREATE EXTERNAL TABLE d.ev LOCATION 'raw/ev' PARTITIONED BY (day)");
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(e.what(), HasSubstr("day=value"));
  EXPECT_FALSE(cat().FindTable("d", "ev").has_value());
}

TEST_P(CatalogTest, ExternalCsvJsonAndGlobLocations) {
  WriteFile(lake() / "raw/csv/a.csv", "id,name\n1,ann\n2,bob\n");
  WriteFile(lake() / "raw/csv/b.csv", "id,name\n3,cid\n");
  WriteFile(lake() / "raw/csv/notes.txt", "not data");
  WriteFile(lake() / "raw/json/x.json", "{\"k\": 1, \"v\": \"a\"}\n{\"k\": 2, \"v\": \"b\"}\n");
  Exec("CREATE DATABASE d");
  Exec("CREATE EXTERNAL TABLE d.people LOCATION 'raw/csv'");
  EXPECT_EQ(cat().GetTable("d", "people").format, lake::Format::kCsv);
  EXPECT_EQ(Scalar(*s_, "SELECT string_agg(name, ',' ORDER BY id) FROM d.people"), "ann,bob,cid");
  Exec("CREATE EXTERNAL TABLE d.first LOCATION 'raw/csv/a*.csv'");
  EXPECT_EQ(Scalar(*s_, "SELECT count(*) FROM d.first"), "2");
  Exec("CREATE EXTERNAL TABLE d.j LOCATION 'raw/json/x.json' FORMAT json");
  EXPECT_EQ(Scalar(*s_, "SELECT sum(k) FROM d.j"), "3");
}

TEST_P(CatalogTest, ExternalTablesReadTheFilesPresentAtQueryTime) {
  WriteFile(lake() / "raw/csv/a.csv", "id\n1\n");
  Exec("CREATE DATABASE d; CREATE EXTERNAL TABLE d.t LOCATION 'raw/csv' FORMAT csv");
  EXPECT_EQ(Scalar(*s_, "SELECT count(*) FROM d.t"), "1");
  WriteFile(lake() / "raw/csv/b.csv", "id\n2\n");
  EXPECT_EQ(Scalar(*s_, "SELECT count(*) FROM d.t"), "2");
}

TEST_P(CatalogTest, LocationsCannotEscapeTheLake) {
  TempDir outside;
  WriteFile(outside / "secret.csv", "secret\ntop-secret-value\n");
  fs::create_directories(lake() / "raw");
  fs::create_directory_symlink(outside.path(), lake() / "raw/link");
  fs::create_symlink(outside / "secret.csv", lake() / "raw/file.csv");
  Exec("CREATE DATABASE d");
  for (auto loc : {"../secret.csv", "raw/../../x", "/etc/passwd", "~/x", "file:///etc/passwd"}) {
    auto e = ExpectError(*s_, std::string("CREATE EXTERNAL TABLE d.t LOCATION '") + loc + "' FORMAT csv");
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << loc;
  }
  for (auto loc : {"raw/link", "raw/link/secret.csv", "raw/file.csv", "raw/*.csv"}) {
    auto e = ExpectError(*s_, std::string("CREATE EXTERNAL TABLE d.t LOCATION '") + loc + "' FORMAT csv");
    EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied) << loc;
    EXPECT_THAT(e.what(), ::testing::Not(HasSubstr("top-secret-value")));
  }
  EXPECT_EQ(ExpectError(*s_, "CREATE EXTERNAL TABLE d.t LOCATION 'warehouse/d' FORMAT parquet").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_TRUE(cat().ListTables("d").empty());
}

TEST_P(CatalogTest, ExternalTablesAreReadOnly) {
  WriteFile(lake() / "raw/csv/a.csv", "id\n1\n");
  Exec("CREATE DATABASE d; CREATE EXTERNAL TABLE d.t LOCATION 'raw/csv'");
  EXPECT_EQ(ExpectError(*s_, "INSERT INTO d.t VALUES (2)").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExpectError(*s_, "INSERT OVERWRITE d.t SELECT 2").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Scalar(*s_, "SELECT count(*) FROM d.t"), "1");
}

TEST_P(CatalogTest, DroppedTablesFilesAreCollectedAsGarbage) {
  Exec("CREATE DATABASE d; CREATE TABLE d.keep AS SELECT 1 AS a; CREATE TABLE d.gone AS SELECT 2 AS a");
  Exec("INSERT OVERWRITE d.keep SELECT 3");
  ASSERT_EQ(WarehouseFiles(), 3u);
  Exec("DROP TABLE d.gone");
  EXPECT_EQ(ExpectError(*s_, "SELECT * FROM d.gone").code(), ErrorCode::kNotFound);
  // Young orphans survive a collection with a grace period; old ones do not.
  EXPECT_TRUE(instance_->CollectGarbage(std::chrono::seconds(3600)).empty());
  auto removed = instance_->CollectGarbage(std::chrono::seconds(-1));
  EXPECT_EQ(removed.size(), 1u);
  EXPECT_EQ(WarehouseFiles(), 2u);  // both snapshots of d.keep are still referenced
  EXPECT_EQ(Scalar(*s_, "SELECT a FROM d.keep"), "3");
  EXPECT_EQ(ExpectError(*s_, "DROP TABLE d.gone").code(), ErrorCode::kNotFound);
  Exec("DROP TABLE IF EXISTS d.gone");
}

TEST_P(CatalogTest, DroppingADatabaseWithTablesNeedsCascade) {
  Exec("CREATE DATABASE d; CREATE TABLE d.t AS SELECT 1 AS a");
  EXPECT_EQ(ExpectError(*s_, "DROP DATABASE d").code(), ErrorCode::kInvalidArgument);
  Exec("DROP DATABASE d CASCADE");
  EXPECT_TRUE(cat().ListDatabases().empty());
}

TEST_P(CatalogTest, UnknownNamesSayWhatIsMissing) {
  Exec("CREATE DATABASE d");
  auto e = ExpectError(*s_, "SELECT * FROM d.nope");
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  EXPECT_THAT(e.what(), HasSubstr("table d.nope does not exist"));
  // A missing database reads like a missing table: names say nothing about what exists.
  e = ExpectError(*s_, "SELECT * FROM nodb.t");
  EXPECT_THAT(e.what(), HasSubstr("table nodb.t does not exist"));
  e = ExpectError(*s_, "SELECT * FROM t");
  EXPECT_THAT(e.what(), HasSubstr("database.table"));
}

TEST_P(CatalogTest, EmptyManagedTableReadsAsZeroTypedRows) {
  Exec("CREATE DATABASE d; CREATE TABLE d.t (a INTEGER, b VARCHAR)");
  Collect c;
  s_->Execute("SELECT * FROM d.t", c);
  EXPECT_TRUE(c.rows.empty());
  EXPECT_EQ(c.names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Scalar(*s_, "SELECT count(*) FROM d.t"), "0");
}

TEST_P(CatalogTest, ConcurrentAppendsLoseNoRows) {
  Exec("CREATE DATABASE d; CREATE TABLE d.t (w INTEGER, i INTEGER)");
  constexpr int kWriters = 4, kEach = 5;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int w = 0; w < kWriters; w++) {
    threads.emplace_back([&, w] {
      try {
        auto s = Operator();
        for (int k = 0; k < kEach; k++) {
          Collect c;
          s->Execute("INSERT INTO d.t SELECT " + std::to_string(w) + ", i FROM range(100) r(i)", c);
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Scalar(*s_, "SELECT count(*) FROM d.t"), std::to_string(kWriters * kEach * 100));
  EXPECT_EQ(Scalar(*s_, "SELECT count(DISTINCT w) FROM d.t"), std::to_string(kWriters));
  EXPECT_EQ(cat().ListSnapshots(cat().GetTable("d", "t")).size(), 1u + kWriters * kEach);
}

TEST_P(CatalogTest, OverwriteWhoseBaseMovedFailsWithConflictAndKeepsTheOtherCommit) {
  Exec("CREATE DATABASE d; CREATE TABLE d.t (a BIGINT); INSERT INTO d.t VALUES (1)");
  std::atomic<bool> started{false};
  std::optional<Error> error;
  std::thread slow([&] {
    auto s = Operator();
    Collect c;
    started = true;
    try {
      // Slow enough that the append below commits while this one runs.
      s->Execute("INSERT OVERWRITE d.t SELECT count(*) FROM range(400000000) r(i) WHERE i % 7 = 3", c);
    } catch (const Error& e) {
      error = e;
    }
  });
  while (!started) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto s2 = Operator();
  Collect c;
  s2->Execute("INSERT INTO d.t VALUES (2)", c);
  slow.join();
  ASSERT_TRUE(error.has_value()) << "the overwrite finished before the append committed; make it slower";
  EXPECT_EQ(error->code(), ErrorCode::kConflict);
  EXPECT_THAT(error->what(), HasSubstr("changed by another commit"));
  EXPECT_EQ(Scalar(*s_, "SELECT string_agg(CAST(a AS VARCHAR), ',' ORDER BY a) FROM d.t"), "1,2");
  EXPECT_EQ(WarehouseFiles(), cat().LiveFiles().size());  // the loser's file was removed
}

TEST_P(CatalogTest, MigrationsAreVersionedAndAppliedOnce) {
  std::string loc = GetParam() == "sqlite" ? (dir_ / "metadata.sqlite").string() : metastore_->location();
  auto a = store::MetaStore::Open(loc);
  auto b = store::MetaStore::Open(loc);
  EXPECT_EQ(a->SchemaVersion(), store::Migrations().back().version);
  EXPECT_EQ(a->Query("SELECT count(*) FROM schema_migrations")[0].Int(0),
            static_cast<int64_t>(store::Migrations().size()));
  EXPECT_EQ(b->backend(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(Backends, CatalogTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tarn::testing
