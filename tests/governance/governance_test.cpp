// Governance semantics: grants, column grants, data filters, masks, tags, roles,
// grant options, revocation, EXPLAIN ACCESS and metadata that follows data.
#include <gmock/gmock.h>

#include <fstream>

#include "governance/governance_fixture.h"

using ::testing::HasSubstr;
using ::testing::Not;

namespace tarn::testing {
namespace {

TEST_F(GovernanceTest, NoGrantMeansNothingIsVisible) {
  auto ana = As("ana");
  EXPECT_TRUE(Query(*ana, "SHOW DATABASES").empty());
  EXPECT_TRUE(Query(*ana, "SHOW TABLES").empty());
  auto e = ExpectError(*ana, "SELECT * FROM d.t");
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  // Identical to a table that does not exist at all.
  auto missing = ExpectError(*ana, "SELECT * FROM d.nope");
  std::string expected = missing.what();
  expected.replace(expected.find("d.nope"), 6, "d.t");
  EXPECT_EQ(std::string(e.what()), expected);
  EXPECT_EQ(ExpectError(*ana, "DESCRIBE d.t").code(), ErrorCode::kNotFound);
  EXPECT_TRUE(Query(*ana, "SELECT * FROM information_schema.tables").empty());
}

TEST_F(GovernanceTest, TableGrantGivesEveryColumnAndRow) {
  Exec(*admin_, "GRANT SELECT ON TABLE d.t TO USER ana");
  auto ana = As("ana");
  EXPECT_EQ(Scalar(*ana, "SELECT count(*) FROM d.t"), "4");
  EXPECT_EQ(Query(*ana, "SHOW TABLES").size(), 1u);
  EXPECT_EQ(ExpectError(*ana, "INSERT INTO d.t SELECT * FROM d.t").code(), ErrorCode::kPermissionDenied);
}

TEST_F(GovernanceTest, ColumnGrantsHideOtherColumnsAsNotFound) {
  Exec(*admin_, "GRANT SELECT (id, region) ON TABLE d.t TO USER ana");
  auto ana = As("ana");
  EXPECT_EQ(Query(*ana, "SELECT * FROM d.t").at(0).size(), 2u);
  // Exactly what a column that does not exist gets.
  auto e = ExpectError(*ana, "SELECT ssn FROM d.t");
  auto missing = ExpectError(*ana, "SELECT nope FROM d.t");
  EXPECT_EQ(e.code(), missing.code());
  EXPECT_THAT(e.what(), HasSubstr("\"ssn\" not found"));
  EXPECT_THAT(e.what(), Not(HasSubstr("amount")));
  auto cols = Query(*ana, "DESCRIBE d.t");
  EXPECT_EQ(cols.size(), 2u);
  // SELECT EXCEPT: everything but the listed columns.
  Exec(*admin_, "GRANT SELECT EXCEPT (ssn) ON TABLE d.t TO USER bob");
  auto bob = As("bob");
  EXPECT_EQ(Query(*bob, "SELECT * FROM d.t").at(0).size(), 4u);
  EXPECT_THAT(ExpectError(*bob, "SELECT ssn FROM d.t").what(), HasSubstr("not found"));
}

TEST_F(GovernanceTest, HiddenColumnIsDeniedForWhoMayDescribeTheTable) {
  Exec(*admin_, "GRANT SELECT (id) ON TABLE d.t TO USER ana; GRANT DESCRIBE ON TABLE d.t TO USER ana");
  auto ana = As("ana");
  auto e = ExpectError(*ana, "SELECT ssn FROM d.t");
  EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(e.what(), HasSubstr("column ssn"));
  EXPECT_EQ(Query(*ana, "DESCRIBE d.t").size(), 5u);
}

TEST_F(GovernanceTest, RowFilterAndColumnsOfADataFilter) {
  Exec(*admin_,
       "CREATE DATA FILTER eu ON d.t EXCLUDING (ssn) ROW FILTER region = 'EU'; "
       "GRANT SELECT ON DATA FILTER eu TO GROUP analysts");
  auto ana = As("ana");
  EXPECT_EQ(All(*ana, "SELECT id, region FROM d.t ORDER BY id"), "1|EU|\n2|EU|\n");
  EXPECT_THAT(All(*ana, "SELECT * FROM d.t"), Not(HasSubstr("424242")));
  EXPECT_THAT(ExpectError(*ana, "SELECT ssn FROM d.t").what(), HasSubstr("not found"));
  // An error() oracle over filtered rows never fires.
  EXPECT_EQ(Scalar(*ana,
                   "SELECT count(*) FROM d.t WHERE CASE WHEN region = 'US' THEN error('leak ' || amount) "
                   "ELSE true END"),
            "2");
  EXPECT_EQ(Scalar(*ana, "SELECT max(amount) FROM d.t"), "20.00");
  // Top-N plans (late materialization re-scans the files) are governed the same way.
  EXPECT_EQ(All(*ana, "SELECT id, email FROM d.t ORDER BY amount DESC LIMIT 1"), "2|b@x.eu|\n");
}

TEST_F(GovernanceTest, TwoGroupsWithDifferentFiltersAndMasksCompose) {
  // analysts: EU rows, all but ssn. emea: APAC rows, only id and region.
  Exec(*admin_,
       "CREATE DATA FILTER eu ON d.t EXCLUDING (ssn) ROW FILTER region = 'EU'; "
       "CREATE DATA FILTER apac ON d.t COLUMNS (id, region) ROW FILTER region = 'APAC'; "
       "GRANT SELECT ON DATA FILTER eu TO GROUP analysts; GRANT SELECT ON DATA FILTER apac TO GROUP emea; "
       "ALTER TABLE d.t ALTER COLUMN email SET MASK regexp_replace(email, '^[^@]+', '***') EXEMPT GROUP "
       "engineers");
  auto ana = As("ana");  // in analysts and emea
  // A row is visible if any filter admits it; a cell shows only if a filter
  // admitting its row includes its column.
  EXPECT_EQ(All(*ana, "SELECT id, region, amount, email FROM d.t ORDER BY id"),
            "1|EU|10.00|***@x.eu|\n2|EU|20.00|***@x.eu|\n4|APAC|NULL|NULL|\n");
  // The mask applies inside the scan: grouping and filtering see masked values.
  EXPECT_EQ(Scalar(*ana, "SELECT count(*) FROM d.t WHERE email LIKE 'a@%'"), "0");
  // A user exempt from the mask (engineers) with a plain grant sees raw values.
  Exec(*admin_, "GRANT SELECT ON TABLE d.t TO GROUP engineers");
  auto bob = As("bob");
  EXPECT_EQ(Scalar(*bob, "SELECT email FROM d.t WHERE id = 1"), "a@x.eu");
}

TEST_F(GovernanceTest, MaskExpressionsSeeCurrentUserAndMembership) {
  Exec(*admin_,
       "GRANT SELECT ON TABLE d.t TO USER ana; GRANT SELECT ON TABLE d.t TO USER carl; "
       "ALTER TABLE d.t ALTER COLUMN ssn SET MASK CASE WHEN is_member('emea') THEN ssn ELSE 'hidden-for-' || "
       "current_user END");
  EXPECT_EQ(Scalar(*As("ana"), "SELECT ssn FROM d.t WHERE id = 1"), "ssn-1");
  EXPECT_EQ(Scalar(*As("carl"), "SELECT ssn FROM d.t WHERE id = 1"), "hidden-for-carl");
  Exec(*admin_, "ALTER TABLE d.t ALTER COLUMN ssn DROP MASK");
  EXPECT_EQ(Scalar(*As("carl"), "SELECT ssn FROM d.t WHERE id = 1"), "ssn-1");
}

TEST_F(GovernanceTest, GrantOptionChainsAndCascadingRevoke) {
  Exec(*admin_, "GRANT SELECT ON TABLE d.t TO USER ana WITH GRANT OPTION");
  auto ana = As("ana");
  Exec(*ana, "GRANT SELECT ON TABLE d.t TO USER bob WITH GRANT OPTION");
  auto bob = As("bob");
  Exec(*bob, "GRANT SELECT ON TABLE d.t TO USER carl");
  EXPECT_EQ(Scalar(*As("carl"), "SELECT count(*) FROM d.t"), "4");
  // Never more than one holds: ana has no INSERT to give, carl no grant option.
  EXPECT_EQ(ExpectError(*ana, "GRANT INSERT ON TABLE d.t TO USER bob").code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(ExpectError(*As("carl"), "GRANT SELECT ON TABLE d.t TO USER dora").code(),
            ErrorCode::kPermissionDenied);
  // Revoking ana's grant takes away what she passed on, and what that passed on.
  Exec(*admin_, "REVOKE SELECT ON TABLE d.t FROM USER ana");
  EXPECT_EQ(ExpectError(*As("bob"), "SELECT count(*) FROM d.t").code(), ErrorCode::kNotFound);
  EXPECT_EQ(ExpectError(*As("carl"), "SELECT count(*) FROM d.t").code(), ErrorCode::kNotFound);
}

TEST_F(GovernanceTest, RevocationTakesEffectForTheNextStatementOfOpenSessions) {
  Exec(*admin_, "GRANT SELECT ON TABLE d.t TO GROUP analysts");
  auto ana = As("ana");  // stays open across the revoke
  EXPECT_EQ(Scalar(*ana, "SELECT count(*) FROM d.t"), "4");
  Exec(*admin_, "REVOKE SELECT ON TABLE d.t FROM GROUP analysts");
  EXPECT_EQ(ExpectError(*ana, "SELECT count(*) FROM d.t").code(), ErrorCode::kNotFound);
}

TEST_F(GovernanceTest, TagGrantsFollowNewTablesAndColumnTags) {
  Exec(*admin_,
       "CREATE TAG sensitivity VALUES ('public', 'pii'); "
       "GRANT SELECT ON TAG sensitivity IN ('public') TO GROUP analysts");
  auto ana = As("ana");
  EXPECT_TRUE(Query(*ana, "SHOW TABLES").empty());
  // A table created and tagged after the grant is covered; its pii column is not.
  Exec(*admin_,
       "CREATE TABLE d.later AS SELECT 1 AS id, 'x@y' AS email; "
       "ALTER TABLE d.later SET TAG sensitivity = 'public'; "
       "ALTER TABLE d.later ALTER COLUMN email SET TAG sensitivity = 'pii'");
  EXPECT_EQ(All(*ana, "SELECT * FROM d.later"), "1|\n");
  EXPECT_THAT(ExpectError(*ana, "SELECT email FROM d.later").what(), HasSubstr("not found"));
  EXPECT_EQ(ExpectError(*admin_, "ALTER TABLE d.later SET TAG sensitivity = 'secret'").code(),
            ErrorCode::kInvalidArgument);
}

TEST_F(GovernanceTest, RolesCarryGrantsToTheirMembers) {
  Exec(
      *admin_,
      "CREATE ROLE auditor; GRANT SELECT (id) ON TABLE d.t TO ROLE auditor; GRANT ROLE auditor TO USER dora");
  EXPECT_EQ(Scalar(*As("dora"), "SELECT count(id) FROM d.t"), "4");
  Exec(*admin_, "REVOKE ROLE auditor FROM USER dora");
  EXPECT_EQ(ExpectError(*As("dora"), "SELECT count(id) FROM d.t").code(), ErrorCode::kNotFound);
}

TEST_F(GovernanceTest, WritesStayInsideTheWritersRowFilter) {
  Exec(*admin_,
       "CREATE DATA FILTER eu ON d.t ROW FILTER region = 'EU'; GRANT SELECT ON DATA FILTER eu TO USER ana; "
       "GRANT INSERT, DELETE ON TABLE d.t TO USER ana");
  auto ana = As("ana");
  Exec(*ana, "INSERT INTO d.t VALUES (5, 'EU', 1.0, 'e@x.eu', 'ssn-5')");
  auto e = ExpectError(*ana, "INSERT INTO d.t VALUES (6, 'EU', 1.0, 'f', 's'), (7, 'US', 1.0, 'g', 's')");
  EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(e.what(), HasSubstr("outside your row filter"));
  EXPECT_EQ(ExpectError(*ana, "INSERT OVERWRITE d.t SELECT * FROM d.t").code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(Scalar(*admin_, "SELECT count(*) FROM d.t"), "5");  // nothing of the refused insert
}

TEST_F(GovernanceTest, CreateTableAsKeepsMasksAndNeedsCreateTable) {
  Exec(*admin_,
       "CREATE DATABASE scratch; GRANT SELECT ON TABLE d.t TO USER bob; "
       "ALTER TABLE d.t ALTER COLUMN ssn SET MASK 'xxx'");
  auto bob = As("bob");
  EXPECT_EQ(ExpectError(*bob, "CREATE TABLE scratch.c AS SELECT * FROM d.t").code(), ErrorCode::kNotFound);
  Exec(*admin_, "GRANT CREATE_TABLE ON DATABASE scratch TO USER bob");
  Exec(*bob, "CREATE TABLE scratch.c AS SELECT * FROM d.t");
  EXPECT_EQ(Scalar(*admin_, "SELECT count(DISTINCT ssn) || ':' || min(ssn) FROM scratch.c"), "1:xxx");
  // The creator owns the new table: bob may read it and grant it on.
  Exec(*bob, "GRANT SELECT ON TABLE scratch.c TO USER carl");
  EXPECT_EQ(Scalar(*As("carl"), "SELECT count(*) FROM scratch.c"), "4");
}

TEST_F(GovernanceTest, ExplainAccessNamesTheDecidingGrantForAllowedAndDeniedColumns) {
  Exec(*admin_,
       "GRANT SELECT (id, region) ON TABLE d.t TO GROUP analysts; GRANT DESCRIBE ON TABLE d.t TO USER ana");
  auto rows = Query(*As("ana"), "EXPLAIN ACCESS SELECT id, ssn FROM d.t");
  ASSERT_EQ(rows.size(), 2u);
  // table, column, access, decision, reason, row_filter, mask
  EXPECT_EQ(rows[0][1], "id");
  EXPECT_EQ(rows[0][3], "allowed");
  EXPECT_EQ(rows[0][4], "GRANT SELECT (id, region) ON TABLE d.t TO GROUP analysts");
  EXPECT_EQ(rows[1][1], "ssn");
  EXPECT_EQ(rows[1][3], "denied");
  // Administrators may ask for someone else.
  auto other = Query(*admin_, "EXPLAIN ACCESS FOR USER ana SELECT region FROM d.t");
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0][3], "allowed");
  // For bob, who holds nothing, the table does not exist.
  EXPECT_EQ(ExpectError(*admin_, "EXPLAIN ACCESS FOR USER bob SELECT id FROM d.t").code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(ExpectError(*As("ana"), "EXPLAIN ACCESS FOR USER bob SELECT 1").code(),
            ErrorCode::kPermissionDenied);
}

TEST_F(GovernanceTest, ShowGrantsListsWhatTheCallerMaySee) {
  Exec(*admin_, "GRANT SELECT ON TABLE d.t TO USER ana; GRANT INSERT ON TABLE d.t TO USER bob");
  auto mine = Query(*As("ana"), "SHOW GRANTS");
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0][0], "USER ana");
  EXPECT_GE(Query(*admin_, "SHOW GRANTS ON TABLE d.t").size(), 3u);  // owner, ana, bob
}

TEST_F(GovernanceTest, PolicyStatementsCheckTheirInput) {
  EXPECT_EQ(ExpectError(*admin_, "GRANT FLY ON TABLE d.t TO USER ana").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExpectError(*admin_, "GRANT SELECT (nope) ON TABLE d.t TO USER ana").code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(ExpectError(*admin_, "CREATE DATA FILTER f ON d.t ROW FILTER (SELECT 1) = 1").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExpectError(*admin_, "CREATE DATA FILTER f ON d.t ROW FILTER nope = 1").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExpectError(*admin_, "CREATE DATA FILTER f ON d.t ROW FILTER read_text('x') = ''").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExpectError(*admin_, "GRANT SELECT ON TABLE d.t TO ROLE nobody").code(), ErrorCode::kNotFound);
  EXPECT_EQ(ExpectError(*As("ana"), "CREATE TAG k VALUES ('a')").code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(ExpectError(*As("ana"), "GRANT ADMIN TO USER ana").code(), ErrorCode::kPermissionDenied);
  EXPECT_TRUE(Query(*admin_, "SHOW DATA FILTERS").empty());  // nothing half-made
}

TEST_F(GovernanceTest, GrantAdminMakesAnAdministrator) {
  EXPECT_EQ(ExpectError(*As("dora"), "SELECT count(*) FROM d.t").code(), ErrorCode::kNotFound);
  Exec(*admin_, "GRANT ADMIN TO USER dora");
  EXPECT_EQ(Scalar(*As("dora"), "SELECT count(*) FROM d.t"), "4");
  Exec(*admin_, "REVOKE ADMIN FROM USER dora");
  EXPECT_EQ(ExpectError(*As("dora"), "SELECT count(*) FROM d.t").code(), ErrorCode::kNotFound);
}

TEST_F(GovernanceTest, AuditTableIsForAuditHoldersOnly) {
  Exec(*admin_, "GRANT SELECT ON TABLE d.t TO USER ana");
  auto ana = As("ana");
  Scalar(*ana, "SELECT count(*) FROM d.t");
  EXPECT_EQ(ExpectError(*ana, "SELECT * FROM system.audit").code(), ErrorCode::kPermissionDenied);
  Exec(*admin_, "GRANT AUDIT TO USER carl");
  auto rows =
      Query(*As("carl"),
            "SELECT outcome, resources FROM system.audit WHERE user_name = 'ana' AND statement_type = "
            "'SELECT' ORDER BY seq");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0], "ok");
  EXPECT_THAT(rows[0][1], HasSubstr("d.t"));
  EXPECT_EQ(rows[1][0], "denied");
}

}  // namespace
TEST_F(GovernanceTest, LimitsTakeTheUsersOwnElseTheMostGenerousGroupAndArePolicyChanges) {
  Exec(*admin_,
       "SET LIMIT statement_timeout = '5m' FOR GROUP analysts; SET LIMIT statement_timeout = 30 FOR GROUP "
       "emea;"
       "SET LIMIT result_bytes = '64MB' FOR GROUP emea; SET LIMIT result_rows = 10 FOR GROUP analysts");
  auto ana = As("ana");  // in analysts and emea
  EXPECT_EQ(All(*ana, "SHOW LIMITS"),
            "statement_timeout|300|GROUP analysts|\nresult_rows|10|GROUP analysts|\n"
            "result_bytes|64000000|GROUP emea|\nconcurrent_statements|NULL|server default|\n"
            "memory|NULL|server default|\n");
  // The user's own setting wins, even when smaller; the open session sees it at once.
  Exec(*admin_, "SET LIMIT statement_timeout = '1h' FOR USER bob; SET LIMIT result_rows = 2 FOR USER ana");
  EXPECT_THAT(All(*ana, "SHOW LIMITS"), HasSubstr("result_rows|2|USER ana|"));
  EXPECT_EQ(ana->Borrow()->governor().CallerLimits().Get("result_rows"), 2);
  EXPECT_EQ(ana->Borrow()->governor().CallerLimits().Get("concurrent_statements"), std::nullopt);
  EXPECT_THAT(All(*admin_, "SHOW LIMITS FOR USER bob"), HasSubstr("statement_timeout|3600|USER bob|"));
  // Administrators see every setting; others may not look at someone else's.
  EXPECT_THAT(All(*admin_, "SHOW LIMITS"), HasSubstr("result_bytes|64000000|set for GROUP emea|"));
  EXPECT_EQ(ExpectError(*ana, "SHOW LIMITS FOR USER bob").code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(ExpectError(*ana, "SET LIMIT result_rows = 1000000 FOR USER ana").code(),
            ErrorCode::kPermissionDenied);
  // Bad input is explained, and changes nothing.
  for (const char* bad :
       {"SET LIMIT result_rows = 0 FOR USER ana", "SET LIMIT result_rows = '10 rows' FOR USER ana",
        "SET LIMIT statement_timeout = '2 days' FOR USER ana", "SET LIMIT memory = '1MB' FOR USER ana",
        "SET LIMIT memory_hog = 1 FOR USER ana", "SET LIMIT result_rows 5 FOR USER ana",
        "SET LIMIT result_rows = 5 FOR ana", "SET LIMIT memory = '999999999999GB' FOR USER ana",
        "SET LIMIT statement_timeout = '999999999999h' FOR USER ana"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(ExpectError(*admin_, bad).code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(ana->Borrow()->governor().CallerLimits().Get("result_rows"), 2);
  Exec(*admin_, "RESET LIMIT result_rows FOR USER ana");
  EXPECT_EQ(ana->Borrow()->governor().CallerLimits().Get("result_rows"), 10);
  // Each change is a versioned policy change.
  EXPECT_THAT(All(*admin_, "SELECT statement FROM system.audit WHERE event = 'policy_change'"),
              HasSubstr("RESET LIMIT result_rows FOR USER ana"));
}


// Dropping a database (CASCADE) or a table removes everything that named it: grants
// on the database and its tables, data filters and the grants on them, masks and
// tags; the names are free again and nothing lingers in SHOW GRANTS.
TEST_F(GovernanceTest, DropRemovesTheGrantsFiltersMasksAndTagsOnWhatItDropped) {
  Exec(*admin_,
       "CREATE TAG sensitivity VALUES ('public', 'pii'); "
       "CREATE TABLE d.keep AS SELECT 1 AS id; "
       "GRANT SELECT ON d.keep TO USER bob; "
       "GRANT DESCRIBE ON DATABASE d TO USER carl; "
       "GRANT SELECT ON d.t TO USER ana; "
       "CREATE DATA FILTER eu ON d.t ROW FILTER region = 'EU'; "
       "GRANT SELECT ON DATA FILTER eu TO GROUP analysts; "
       "ALTER TABLE d.t ALTER COLUMN email SET MASK '***'; "
       "ALTER TABLE d.t ALTER COLUMN ssn SET TAG sensitivity = 'pii'");
  auto count = [&](const std::string& sql) { return store_->Query(sql)[0].Int(0); };
  int64_t version = count("SELECT max(version) FROM policy_changes");

  Exec(*admin_, "DROP TABLE d.t");
  EXPECT_EQ(count("SELECT count(*) FROM grants WHERE object_name IN ('d.t', 'eu')"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM data_filters"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM column_masks"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM tag_assignments"), 0);
  EXPECT_GT(count("SELECT max(version) FROM policy_changes"), version);  // open sessions reload
  // What was on other objects stays.
  EXPECT_EQ(All(*As("bob"), "SELECT id FROM d.keep"), "1|\n");
  EXPECT_EQ(count("SELECT count(*) FROM tags"), 1);

  // The names are free again: a new d.t and a new filter eu start with no policy.
  Exec(*admin_,
       "CREATE TABLE d.t AS SELECT 'EU' AS region, 's' AS ssn; "
       "CREATE DATA FILTER eu ON d.t ROW FILTER region = 'EU'");
  EXPECT_THAT(ExpectError(*As("ana"), "SELECT * FROM d.t").what(), HasSubstr("does not exist"));

  Exec(*admin_, "DROP DATABASE d CASCADE");
  EXPECT_EQ(count("SELECT count(*) FROM grants WHERE object_kind <> 'system'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM data_filters"), 0);
  EXPECT_TRUE(Query(*admin_, "SHOW GRANTS").empty() ||
              All(*admin_, "SHOW GRANTS").find("d.") == std::string::npos)
      << All(*admin_, "SHOW GRANTS");
  // A namesake database is not reachable through the old grants.
  Exec(*admin_, "CREATE DATABASE d; CREATE TABLE d.keep AS SELECT 2 AS id");
  EXPECT_THAT(ExpectError(*As("bob"), "SELECT * FROM d.keep").what(), HasSubstr("does not exist"));
  EXPECT_THAT(ExpectError(*As("carl"), "SELECT * FROM d.keep").what(), HasSubstr("does not exist"));
}

}  // namespace tarn::testing
