// Temporary tables (CREATE TEMP TABLE name AS query): what a run keeps between its own
// statements. Their rows are what the run's principal may see (row filters, masks,
// hidden columns applied when they are made), and nothing of them outlives the run:
// not for a later run of the same user, not for another user of the pooled session,
// not on disk.
#include <gmock/gmock.h>

#include <filesystem>

#include "governance_fixture.h"

namespace tarn::testing {
namespace {

using ::testing::HasSubstr;

class TempTableTest : public GovernanceTest {
 protected:
  void SetUp() override {
    GovernanceTest::SetUp();
    Exec(*admin_,
         "CREATE DATA FILTER eu ON d.t EXCLUDING (ssn) ROW FILTER region = 'EU'; "
         "GRANT SELECT ON DATA FILTER eu TO GROUP analysts; "
         "ALTER TABLE d.t ALTER COLUMN email SET MASK regexp_replace(email, '^[^@]+', '***')");
    ana_ = As("ana");
  }
  // Files under the instance's temp directory whose path contains "temp-tables".
  size_t TempFiles() {
    size_t n = 0;
    std::error_code ec;
    for (auto& e : std::filesystem::recursive_directory_iterator(dir_.path(), ec))
      n += e.path().string().find("temp-tables") != std::string::npos;
    return n;
  }
  std::unique_ptr<RunAs> ana_;
};

TEST_F(TempTableTest, ARunReadsItsTemporaryTableWithItsOwnGovernanceApplied) {
  auto rows =
      Query(*ana_,
            "CREATE TEMP TABLE mine AS SELECT * FROM d.t; "
            "SELECT count(*), min(region), max(region), count(*) FILTER (WHERE email IS NOT NULL) FROM mine");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"2", "EU", "EU", "2"}));  // EU rows only
  EXPECT_EQ(Scalar(*ana_,
                   "CREATE TEMP TABLE mine AS SELECT * FROM d.t; SELECT string_agg(email, ',' ORDER BY "
                   "email) FROM mine"),
            "***@x.eu,***@x.eu");  // masked as she reads them
  // The hidden column was never written: it is not there to read.
  auto e = ExpectError(*ana_, "CREATE TEMP TABLE mine AS SELECT * FROM d.t; SELECT ssn FROM mine");
  EXPECT_THAT(e.what(), HasSubstr("ssn"));
  // temp.name works too, and a CTE of the same name wins over the table.
  EXPECT_EQ(Scalar(*ana_, "CREATE TEMP TABLE x AS SELECT 1 AS v; SELECT v FROM temp.x"), "1");
  EXPECT_EQ(Scalar(*ana_, "CREATE TEMP TABLE x AS SELECT 1 AS v; WITH x AS (SELECT 2 AS v) SELECT v FROM x"),
            "2");
}

TEST_F(TempTableTest, NothingOfATemporaryTableOutlivesItsRun) {
  EXPECT_EQ(Scalar(*ana_, "CREATE TEMP TABLE kept AS SELECT id FROM d.t; SELECT count(*) FROM kept"), "2");
  EXPECT_EQ(TempFiles(), 0u);  // removed when the run ended
  // A later run of the same user, and a run of another user on the pooled session.
  EXPECT_EQ(ExpectError(*ana_, "SELECT * FROM kept").code(), ErrorCode::kNotFound);
  EXPECT_EQ(ExpectError(*admin_, "SELECT * FROM kept").code(), ErrorCode::kNotFound);
  EXPECT_EQ(ExpectError(*admin_, "SELECT * FROM temp.kept").code(), ErrorCode::kNotFound);
  // A failed run leaves nothing either.
  ExpectError(*ana_, "CREATE TEMP TABLE a AS SELECT id FROM d.t; SELECT * FROM nowhere.at_all");
  EXPECT_EQ(TempFiles(), 0u);
  // The internal schema cannot be named.
  EXPECT_EQ(ExpectError(*ana_, "CREATE TEMP TABLE a AS SELECT 1; SELECT * FROM __tarn_temp.a").code(),
            ErrorCode::kNotFound);
}

TEST_F(TempTableTest, BadTemporaryTablesAreRefused) {
  EXPECT_THAT(ExpectError(*ana_, "CREATE TEMP TABLE d.x AS SELECT 1").what(), HasSubstr("bare name"));
  EXPECT_THAT(ExpectError(*ana_, "CREATE TEMP TABLE x (a INT)").what(), HasSubstr("made from a query"));
  EXPECT_EQ(ExpectError(*ana_, "CREATE TEMP TABLE x AS SELECT 1; CREATE TEMP TABLE x AS SELECT 2").code(),
            ErrorCode::kAlreadyExists);
  // A column she may not see is as missing as in any query.
  EXPECT_EQ(ExpectError(*ana_, "CREATE TEMP TABLE x AS SELECT ssn FROM d.t").code(),
            ExpectError(*ana_, "SELECT ssn FROM d.t").code());
  EXPECT_EQ(ExpectError(*ana_, "CREATE TEMP TABLE x AS SELECT * FROM read_csv('/etc/passwd')").code(),
            ErrorCode::kPermissionDenied);
}

}  // namespace
}  // namespace tarn::testing
