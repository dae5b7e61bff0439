// Governance of DELETE and UPDATE: a caller changes only rows it can see, sets only
// columns it holds UPDATE on and reads unmasked, never uses a masked column to pick
// or compute rows, and cannot move a row out of its row filter.
#include "governance/governance_fixture.h"

using ::testing::HasSubstr;

namespace tarn::testing {
namespace {

class RowChangePolicyTest : public GovernanceTest {
 protected:
  void SetUp() override {
    GovernanceTest::SetUp();
    Exec(*admin_,
         "CREATE DATA FILTER eu ON d.t EXCLUDING (ssn) ROW FILTER region = 'EU'; "
         "GRANT SELECT ON DATA FILTER eu TO USER ana; "
         "ALTER TABLE d.t ALTER COLUMN email SET MASK regexp_replace(email, '^[^@]+', '***')");
  }
  std::string Ids() { return All(*admin_, "SELECT id FROM d.t ORDER BY id"); }
};

TEST_F(RowChangePolicyTest, DeleteNeedsDeleteAndRemovesOnlyVisibleRows) {
  auto ana = As("ana");
  auto e = ExpectError(*ana, "DELETE FROM d.t WHERE id = 1");
  EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(e.what(), HasSubstr("needs DELETE"));
  Exec(*admin_, "GRANT DELETE ON TABLE d.t TO USER ana");
  // No WHERE: every row ana can see, and only those.
  Collect c;
  ana->Execute("DELETE FROM d.t", c);
  EXPECT_THAT(c.statuses.back(), HasSubstr("deleted 2 rows"));
  EXPECT_EQ(Ids(), "3|\n4|\n");
  // A row outside the filter is not there for her: naming it deletes nothing.
  ana->Execute("DELETE FROM d.t WHERE id = 3", c);
  EXPECT_THAT(c.statuses.back(), HasSubstr("deleted 0 rows"));
  EXPECT_EQ(Ids(), "3|\n4|\n");
  // bob may not know d.t: the same answer as for a missing table.
  EXPECT_EQ(ExpectError(*As("bob"), "DELETE FROM d.t").code(), ErrorCode::kNotFound);
}

TEST_F(RowChangePolicyTest, MaskedAndHiddenColumnsCannotPickRows) {
  Exec(*admin_, "GRANT DELETE ON TABLE d.t TO USER ana");
  auto ana = As("ana");
  auto masked = ExpectError(*ana, "DELETE FROM d.t WHERE email LIKE 'a%'");
  EXPECT_EQ(masked.code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(masked.what(), HasSubstr("column email is masked"));
  EXPECT_EQ(ExpectError(*ana, "DELETE FROM d.t x WHERE x.email = 'a@x.eu'").code(),
            ErrorCode::kPermissionDenied);
  // A column she may not read is answered as a missing one.
  auto hidden = ExpectError(*ana, "DELETE FROM d.t WHERE ssn = 'ssn-1'");
  auto missing = ExpectError(*ana, "DELETE FROM d.t WHERE nosuch = 'ssn-1'");
  EXPECT_EQ(hidden.code(), missing.code());
  EXPECT_THAT(hidden.what(), ::testing::Not(HasSubstr("SECRET")));
  EXPECT_EQ(Ids(), "1|\n2|\n3|\n4|\n");
}

TEST_F(RowChangePolicyTest, UpdateNeedsUpdateOnEachSetColumnAndStaysInsideTheFilter) {
  auto ana = As("ana");
  EXPECT_THAT(ExpectError(*ana, "UPDATE d.t SET amount = 0").what(), HasSubstr("needs UPDATE on it"));
  Exec(*admin_, "GRANT UPDATE (amount, region) ON TABLE d.t TO USER ana");
  Collect c;
  ana->Execute("UPDATE d.t SET amount = amount * 2", c);
  EXPECT_THAT(c.statuses.back(), HasSubstr("updated 2 rows"));
  EXPECT_EQ(All(*admin_, "SELECT id, amount FROM d.t ORDER BY id"),
            "1|20.00|\n2|40.00|\n3|424242.42|\n4|40.00|\n");
  // Moving a row out of her filter fails and changes nothing.
  auto moved = ExpectError(*ana, "UPDATE d.t SET region = 'US' WHERE id = 1");
  EXPECT_EQ(moved.code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(moved.what(), HasSubstr("outside your row filter"));
  EXPECT_EQ(Scalar(*admin_, "SELECT region FROM d.t WHERE id = 1"), "EU");
  EXPECT_EQ(Query(*admin_, "SHOW HISTORY d.t")[0][3], "ana");
  // Not granted, masked, or computed from a masked column: refused.
  EXPECT_THAT(ExpectError(*ana, "UPDATE d.t SET id = 9").what(), HasSubstr("needs UPDATE"));
  Exec(*admin_, "GRANT UPDATE ON TABLE d.t TO USER ana");
  EXPECT_THAT(ExpectError(*ana, "UPDATE d.t SET email = 'x@y'").what(), HasSubstr("masked"));
  EXPECT_THAT(ExpectError(*ana, "UPDATE d.t SET amount = length(email)").what(), HasSubstr("masked"));
  // She may describe d.t (she holds UPDATE on it), so she knows ssn exists.
  EXPECT_THAT(ExpectError(*ana, "UPDATE d.t SET ssn = 'x'").what(), HasSubstr("not readable"));
  EXPECT_EQ(All(*admin_, "SELECT email, ssn FROM d.t WHERE id = 1"), "***@x.eu|ssn-1|\n");
}

TEST_F(RowChangePolicyTest, MergeComposesTheRulesOfItsClauses) {
  auto ana = As("ana");
  const std::string merge =
      "MERGE INTO d.t x USING (SELECT * FROM (VALUES (1, 11.0), (3, 33.0), (7, 77.0)) v(id, amount)) s "
      "ON x.id = s.id WHEN MATCHED THEN UPDATE SET amount = s.amount ";
  EXPECT_THAT(ExpectError(*ana, merge).what(), HasSubstr("needs UPDATE"));
  Exec(*admin_, "GRANT UPDATE (amount) ON TABLE d.t TO USER ana");
  EXPECT_THAT(
      ExpectError(*ana, merge + "WHEN NOT MATCHED THEN INSERT (id, region) VALUES (s.id, 'EU')").what(),
      HasSubstr("needs INSERT"));
  Exec(*admin_, "GRANT INSERT ON TABLE d.t TO USER ana");
  // Row 3 is a US row: hidden from ana, so it does not match; the insert of a US row is refused.
  auto outside = ExpectError(*ana, merge + "WHEN NOT MATCHED THEN INSERT (id, region) VALUES (s.id, 'US')");
  EXPECT_EQ(outside.code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(outside.what(), HasSubstr("outside your row filter"));
  EXPECT_EQ(Scalar(*admin_, "SELECT count(*) FROM d.t"), "4");
  Collect c;
  ana->Execute(merge + "WHEN NOT MATCHED THEN INSERT (id, region) VALUES (s.id, 'EU')", c);
  EXPECT_THAT(c.statuses.back(), HasSubstr("1 row updated, 0 deleted, 2 inserted"));
  EXPECT_EQ(All(*admin_, "SELECT id, region, amount FROM d.t ORDER BY id, region"),
            "1|EU|11.00|\n2|EU|20.00|\n3|EU|NULL|\n3|US|424242.42|\n4|APAC|40.00|\n7|EU|NULL|\n");
  // A masked column cannot be used in any clause.
  EXPECT_THAT(ExpectError(*ana,
                          "MERGE INTO d.t x USING (SELECT 'a@x.eu' AS e) s ON x.email = s.e "
                          "WHEN MATCHED THEN UPDATE SET amount = 0")
                  .what(),
              HasSubstr("masked"));
  // DELETE clauses need DELETE.
  EXPECT_THAT(
      ExpectError(*ana, "MERGE INTO d.t x USING (SELECT 1 AS id) s ON x.id = s.id WHEN MATCHED THEN DELETE")
          .what(),
      HasSubstr("needs DELETE"));
}

TEST_F(RowChangePolicyTest, TheAuditRecordsTheRowsChanged) {
  Exec(*admin_, "DELETE FROM d.t WHERE region = 'APAC'; GRANT AUDIT TO USER carl");
  auto rows =
      Query(*admin_,
            "SELECT resources FROM system.audit WHERE statement LIKE 'DELETE FROM d.t%' AND outcome = 'ok'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_THAT(rows[0][0], HasSubstr("\"rows\":1"));
  EXPECT_THAT(rows[0][0], HasSubstr("\"access\":\"write\""));
}

}  // namespace
}  // namespace tarn::testing
