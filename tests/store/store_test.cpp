// The metadata store contract, on both backends.
#include "store/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "store/migrations.h"
#include "test_util.h"

using ::testing::HasSubstr;

namespace tarn::testing {
namespace {

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    metastore_ = std::make_unique<TestMetastore>(GetParam(), dir_.path());
    TARN_REQUIRE_METASTORE(*metastore_);
    store_ = store::MetaStore::Open(metastore_->location());
    store_->Execute("CREATE TABLE kv (k TEXT PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, t TEXT)");
  }
  TempDir dir_;
  std::unique_ptr<TestMetastore> metastore_;
  std::unique_ptr<store::MetaStore> store_;
};

TEST_P(StoreTest, ParametersOfEveryTypeRoundTrip) {
  store_->Execute("INSERT INTO kv VALUES (?, ?, ?, ?)", {std::string("a"), int64_t{-42}, 2.5, nullptr});
  auto rows = store_->Query("SELECT k, i, d, t FROM kv WHERE k = ?", {std::string("a")});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].Str(0), "a");
  EXPECT_EQ(rows[0].Int(1), -42);
  EXPECT_EQ(std::stod(rows[0].Str(2)), 2.5);
  EXPECT_TRUE(rows[0].IsNull(3));
  EXPECT_FALSE(rows[0].OptInt(3).has_value());
}

TEST_P(StoreTest, HostileTextIsDataNotSql) {
  std::string evil = "x'); DROP TABLE kv; --";
  store_->Execute("INSERT INTO kv (k, t) VALUES (?, ?)", {evil, evil});
  EXPECT_EQ(store_->Query("SELECT t FROM kv WHERE k = ?", {evil}).at(0).Str(0), evil);
}

TEST_P(StoreTest, ExecuteReturnsTheChangedRowCount) {
  store_->Execute("INSERT INTO kv (k, i) VALUES ('a', 1), ('b', 1), ('c', 2)");
  EXPECT_EQ(store_->Execute("UPDATE kv SET i = 5 WHERE i = ?", {int64_t{1}}), 2);
  EXPECT_EQ(store_->Execute("DELETE FROM kv WHERE k = 'zzz'"), 0);
}

TEST_P(StoreTest, UniqueViolationIsAlreadyExists) {
  store_->Execute("INSERT INTO kv (k) VALUES ('a')");
  try {
    store_->Execute("INSERT INTO kv (k) VALUES ('a')");
    FAIL() << "expected a unique violation";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kAlreadyExists);
  }
}

TEST_P(StoreTest, TransactionCommitsWhenTheBodyReturns) {
  store_->Transaction([&] { store_->Execute("INSERT INTO kv (k) VALUES ('a')"); });
  EXPECT_EQ(store_->Query("SELECT count(*) FROM kv")[0].Int(0), 1);
}

TEST_P(StoreTest, TransactionRollsBackWhenTheBodyThrows) {
  EXPECT_THROW(store_->Transaction([&] {
    store_->Execute("INSERT INTO kv (k) VALUES ('a')");
    throw Error::Conflict("changed my mind");
  }),
               Error);
  EXPECT_EQ(store_->Query("SELECT count(*) FROM kv")[0].Int(0), 0);
  // The store is usable afterwards.
  store_->Transaction([&] { store_->Execute("INSERT INTO kv (k) VALUES ('b')"); });
  EXPECT_EQ(store_->Query("SELECT count(*) FROM kv")[0].Int(0), 1);
}

TEST_P(StoreTest, ANestedTransactionIsASavepointThatFailsAlone) {
  store_->Transaction([&] {
    store_->Execute("INSERT INTO kv (k) VALUES ('outer')");
    EXPECT_THROW(store_->Transaction([&] {
      store_->Execute("INSERT INTO kv (k) VALUES ('inner-undone')");
      throw Error::Conflict("no");
    }),
                 Error);
    store_->Transaction([&] {
      store_->Execute("INSERT INTO kv (k) VALUES ('inner-kept')");
      store_->Transaction([&] { store_->Execute("INSERT INTO kv (k) VALUES ('deeper')"); });
    });
  });
  std::vector<std::string> keys;
  for (auto& r : store_->Query("SELECT k FROM kv ORDER BY k")) keys.push_back(r.Str(0));
  EXPECT_EQ(keys, (std::vector<std::string>{"deeper", "inner-kept", "outer"}));
  // An outer transaction that throws takes its committed savepoints with it.
  EXPECT_THROW(store_->Transaction([&] {
    store_->Transaction([&] { store_->Execute("INSERT INTO kv (k) VALUES ('gone')"); });
    throw Error::Conflict("changed my mind");
  }),
               Error);
  EXPECT_EQ(store_->Query("SELECT count(*) FROM kv")[0].Int(0), 3);
  // A statement error inside a savepoint leaves the outer transaction usable (PostgreSQL
  // aborts a transaction on an error until it rolls back to a savepoint).
  store_->Transaction([&] {
    EXPECT_THROW(store_->Transaction([&] { store_->Query("SELECT * FROM no_such_table"); }), Error);
    store_->Execute("INSERT INTO kv (k) VALUES ('after-error')");
  });
  EXPECT_EQ(store_->Query("SELECT count(*) FROM kv")[0].Int(0), 4);
}

TEST_P(StoreTest, BadSqlIsAnIoErrorNamingTheProblem) {
  try {
    store_->Query("SELECT * FROM no_such_table");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIo);
    EXPECT_THAT(e.what(), HasSubstr("no_such_table"));
  }
}

TEST_P(StoreTest, OpeningMigratesToTheNewestVersion) {
  EXPECT_EQ(store_->SchemaVersion(), store::Migrations().back().version);
  EXPECT_EQ(store_->Query("SELECT count(*) FROM databases")[0].Int(0), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

TEST(PostgresStore, UnreachableServerIsAnIoErrorWithoutThePassword) {
  try {
    store::MetaStore::Open("postgresql://tarn:hunter2@127.0.0.1:1/none?connect_timeout=2");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIo);
    EXPECT_THAT(e.what(), ::testing::Not(HasSubstr("hunter2")));
    EXPECT_THAT(e.what(), HasSubstr("PostgreSQL"));
  }
}

TEST(SqliteStore, UnwritableLocationIsAnIoError) {
  try {
    store::MetaStore::Open("/nonexistent-dir/metadata.sqlite");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIo);
  }
}

}  // namespace
}  // namespace tarn::testing
