// Governance of schema evolution: ALTER TABLE ... ADD / RENAME / DROP / ALTER COLUMN
// needs ALTER; a renamed column keeps its mask, grants, data filters and tags (the
// policy follows the column, never leaks it under a new name); a column that a row
// filter or another mask uses cannot be dropped; a dropped column's policy goes.
#include "governance/governance_fixture.h"

using ::testing::HasSubstr;

namespace tarn::testing {
namespace {

class SchemaPolicyTest : public GovernanceTest {
 protected:
  // Reading `sql` fails as reading a column that does not exist does.
  void ExpectHidden(RunAs& who, const std::string& sql) {
    auto e = ExpectError(who, sql);
    auto missing = ExpectError(who, "SELECT no_such_column FROM d.t");
    EXPECT_EQ(e.code(), missing.code()) << sql << ": " << e.what();
  }
  void SetUp() override {
    GovernanceTest::SetUp();
    Exec(*admin_,
         "CREATE DATA FILTER eu ON d.t COLUMNS (id, region, amount, email) ROW FILTER region = 'EU'; "
         "GRANT SELECT ON DATA FILTER eu TO USER ana; "
         "ALTER TABLE d.t ALTER COLUMN email SET MASK regexp_replace(email, '^[^@]+', '***'); "
         "GRANT SELECT (id, ssn) ON TABLE d.t TO USER carl");
  }
};

TEST_F(SchemaPolicyTest, AlteringColumnsNeedsAlterAndBobLearnsNothing) {
  auto ana = As("ana");
  auto e = ExpectError(*ana, "ALTER TABLE d.t ADD COLUMN x INTEGER");
  EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(e.what(), HasSubstr("needs ALTER on d.t"));
  auto bob = As("bob");
  auto hidden = ExpectError(*bob, "ALTER TABLE d.t RENAME COLUMN ssn TO s");
  auto missing = ExpectError(*bob, "ALTER TABLE d.nosuch RENAME COLUMN ssn TO s");
  EXPECT_EQ(hidden.code(), ErrorCode::kNotFound);
  EXPECT_EQ(missing.code(), ErrorCode::kNotFound);
  Exec(*admin_, "GRANT ALTER ON TABLE d.t TO USER bob");
  Exec(*bob, "ALTER TABLE d.t ADD COLUMN note VARCHAR");
  EXPECT_EQ(Scalar(*admin_, "SELECT count(note) FROM d.t"), "0");
}

TEST_F(SchemaPolicyTest, ARenamedColumnKeepsItsMaskFilterAndGrants) {
  Exec(*admin_, "ALTER TABLE d.t RENAME COLUMN email TO mail; ALTER TABLE d.t RENAME COLUMN region TO area");
  auto ana = As("ana");
  // Still masked, still only EU rows (the row filter now names `area`).
  EXPECT_EQ(All(*ana, "SELECT id, mail FROM d.t ORDER BY id"), "1|***@x.eu|\n2|***@x.eu|\n");
  EXPECT_EQ(All(*ana, "SELECT DISTINCT area FROM d.t"), "EU|\n");
  ExpectHidden(*ana, "SELECT ssn FROM d.t");
  // carl's column grant follows a rename of ssn too; the new name is not a new column.
  Exec(*admin_, "ALTER TABLE d.t RENAME COLUMN ssn TO national_id");
  auto carl = As("carl");
  EXPECT_EQ(All(*carl, "SELECT national_id FROM d.t WHERE id = 3"), "SECRET-SSN-3|\n");
  ExpectHidden(*carl, "SELECT amount FROM d.t");
  // A new column named like the old one is not granted by the old grant.
  Exec(*admin_, "ALTER TABLE d.t ADD COLUMN ssn VARCHAR");
  ExpectHidden(*carl, "SELECT ssn FROM d.t");
  // The mask still applies to everyone it does not exempt, the table's owner included.
  EXPECT_EQ(Scalar(*admin_, "SELECT mail FROM d.t WHERE id = 3"), "***@x.us");
}

TEST_F(SchemaPolicyTest, DroppingAColumnThePolicyUsesIsRefusedOtherwiseItsPolicyGoes) {
  auto e = ExpectError(*admin_, "ALTER TABLE d.t DROP COLUMN region");
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(e.what(), HasSubstr("row filter of data filter eu"));
  Exec(*admin_, "ALTER TABLE d.t ALTER COLUMN amount SET MASK CASE WHEN ssn IS NULL THEN 0 ELSE amount END");
  EXPECT_THAT(ExpectError(*admin_, "ALTER TABLE d.t DROP COLUMN ssn").what(),
              HasSubstr("mask of column amount"));
  Exec(*admin_, "ALTER TABLE d.t ALTER COLUMN amount DROP MASK");
  // ssn was carl's only column besides id: his grant keeps id; email's mask goes with it.
  Exec(*admin_, "ALTER TABLE d.t DROP COLUMN ssn; ALTER TABLE d.t DROP COLUMN email");
  auto carl = As("carl");
  EXPECT_EQ(All(*carl, "SELECT id FROM d.t WHERE id = 1"), "1|\n");
  Exec(*admin_,
       "ALTER TABLE d.t ADD COLUMN email VARCHAR; INSERT INTO d.t VALUES (5, 'EU', 1.0, 'new@x.eu')");
  auto ana = As("ana");
  // The new email column has no mask, and the eu filter's column list named the old
  // email, which it no longer grants: ana does not read the new column.
  ExpectHidden(*ana, "SELECT email FROM d.t");
  EXPECT_EQ(Scalar(*admin_, "SELECT email FROM d.t WHERE id = 5"), "new@x.eu");
}

}  // namespace
}  // namespace tarn::testing
