// Existence after privilege: a caller without the right a statement needs gets the
// same status and message whether the object it names exists (hidden from it) or
// not, for every statement form that names a table, column, data filter, tag, role
// or user. Each case runs twice: once naming a real object, once a missing one.
#include <gmock/gmock.h>

#include <regex>

#include "governance/governance_fixture.h"

namespace tarn::testing {
namespace {

struct Probe {
  const char* form;     // SQL with {} where the object's name goes
  const char* present;  // an object that exists but the caller may not use
  const char* missing;  // one that does not exist
};

// ana: SELECT (id, region) on d.t WITH GRANT OPTION and DESCRIBE on d.open, nothing
// else; she owns nothing and is no administrator.
const Probe kProbes[] = {
    // columns
    {"GRANT SELECT ({}) ON TABLE d.t TO USER bob", "ssn", "nosuchcol"},
    {"GRANT SELECT ({}, id) ON TABLE d.t TO USER bob", "email", "nosuchcol"},
    {"GRANT SELECT EXCEPT ({}) ON TABLE d.t TO USER bob", "ssn", "nosuchcol"},
    {"REVOKE SELECT ({}) ON TABLE d.t FROM USER bob", "ssn", "nosuchcol"},
    {"CREATE DATA FILTER f2 ON d.t COLUMNS (id, {})", "ssn", "nosuchcol"},
    {"CREATE DATA FILTER f2 ON d.t EXCLUDING ({})", "ssn", "nosuchcol"},
    {"ALTER TABLE d.t ALTER COLUMN {} SET MASK 'x'", "ssn", "nosuchcol"},
    {"ALTER TABLE d.t ALTER COLUMN {} DROP MASK", "email", "nosuchcol"},
    {"ALTER TABLE d.t ALTER COLUMN {} SET TAG pii = 'yes'", "ssn", "nosuchcol"},
    {"ALTER TABLE d.t ALTER COLUMN {} UNSET TAG pii", "ssn", "nosuchcol"},
    {"SELECT {} FROM d.t", "ssn", "nosuchcol"},
    {"SELECT id FROM d.t WHERE {} IS NULL", "ssn", "nosuchcol"},
    {"SELECT id FROM d.t ORDER BY {}", "amount", "nosuchcol"},
    // data filters
    {"DROP DATA FILTER {}", "us_rows", "nosuchfilter"},
    {"DROP DATA FILTER IF EXISTS {}", "us_rows", "nosuchfilter"},
    {"GRANT SELECT ON DATA FILTER {} TO USER bob", "us_rows", "nosuchfilter"},
    {"REVOKE SELECT ON DATA FILTER {} FROM USER bob", "us_rows", "nosuchfilter"},
    {"SHOW GRANTS ON DATA FILTER {}", "us_rows", "nosuchfilter"},
    {"REVOKE GRANT OPTION FOR SELECT ON DATA FILTER {} FROM USER bob", "us_rows", "nosuchfilter"},
    {"CREATE DATA FILTER {} ON d.open ROW FILTER true", "us_rows", "nosuchfilter"},
    // tags
    {"ALTER TABLE d.t SET TAG {} = 'yes'", "pii", "nosuchtag"},
    {"ALTER TABLE d.t UNSET TAG {}", "pii", "nosuchtag"},
    {"GRANT SELECT ON TAG {} IN ('yes') TO USER bob", "pii", "nosuchtag"},
    {"REVOKE SELECT ON TAG {} IN ('yes') FROM USER bob", "pii", "nosuchtag"},
    {"SHOW GRANTS ON TAG {} IN ('yes')", "pii", "nosuchtag"},
    {"DROP TAG {}", "pii", "nosuchtag"},
    {"CREATE TAG {} VALUES ('a')", "pii", "nosuchtag"},
    // roles
    {"GRANT SELECT ON TABLE d.open TO ROLE {}", "auditor", "nosuchrole"},
    {"GRANT ROLE {} TO USER bob", "auditor", "nosuchrole"},
    {"REVOKE ROLE {} FROM USER bob", "auditor", "nosuchrole"},
    {"DROP ROLE {}", "auditor", "nosuchrole"},
    {"CREATE ROLE {}", "auditor", "nosuchrole"},
    {"RESET LIMIT result_rows FOR ROLE {}", "auditor", "nosuchrole"},
    {"SET LIMIT result_rows = 5 FOR ROLE {}", "auditor", "nosuchrole"},
    // users
    {"SHOW LIMITS FOR USER {}", "carl", "nosuchuser"},
    {"EXPLAIN ACCESS FOR USER {} SELECT 1", "carl", "nosuchuser"},
    {"GRANT ADMIN TO USER {}", "carl", "nosuchuser"},
    {"REVOKE ADMIN FROM USER {}", "carl", "nosuchuser"},
    // tables and databases
    {"SELECT * FROM {}", "d.hidden", "d.nosuchtable"},
    {"DESCRIBE {}", "d.hidden", "d.nosuchtable"},
    {"SHOW COLUMNS FROM {}", "d.hidden", "d.nosuchtable"},
    {"INSERT INTO {} SELECT 1", "d.hidden", "d.nosuchtable"},
    {"DROP TABLE {}", "d.hidden", "d.nosuchtable"},
    {"GRANT SELECT ON TABLE {} TO USER bob", "d.hidden", "d.nosuchtable"},
    {"REVOKE SELECT ON TABLE {} FROM USER bob", "d.hidden", "d.nosuchtable"},
    {"SHOW GRANTS ON TABLE {}", "d.hidden", "d.nosuchtable"},
    {"CREATE DATA FILTER f ON {} ROW FILTER true", "d.hidden", "d.nosuchtable"},
    {"ALTER TABLE {} SET TAG pii = 'yes'", "d.hidden", "d.nosuchtable"},
    {"ALTER TABLE {} ALTER COLUMN x SET MASK 'x'", "d.hidden", "d.nosuchtable"},
    {"SHOW DATA FILTERS ON {}", "d.hidden", "d.nosuchtable"},
    {"EXPLAIN ACCESS SELECT * FROM {}", "d.hidden", "d.nosuchtable"},
    {"SHOW TABLES FROM {}", "secret", "nosuchdb"},
    {"GRANT SELECT ON DATABASE {} TO USER bob", "secret", "nosuchdb"},
    {"CREATE TABLE {}.x (a INT)", "secret", "nosuchdb"},
    {"DROP DATABASE {}", "secret", "nosuchdb"},
};

class ExistenceTest : public GovernanceTest {
 protected:
  void SetUp() override {
    GovernanceTest::SetUp();
    Exec(*admin_,
         "CREATE TABLE d.hidden AS SELECT 1 AS x; CREATE TABLE d.open AS SELECT 1 AS x; "
         "CREATE DATABASE secret; CREATE TABLE secret.s AS SELECT 1 AS x; "
         "CREATE DATA FILTER us_rows ON d.t ROW FILTER region = 'US'; "
         "ALTER TABLE d.t ALTER COLUMN email SET MASK '***'; "
         "CREATE TAG pii VALUES ('yes', 'no'); ALTER TABLE d.t ALTER COLUMN ssn SET TAG pii = 'yes'; "
         "CREATE ROLE auditor; "
         "GRANT SELECT (id, region) ON TABLE d.t TO USER ana WITH GRANT OPTION; "
         "GRANT DESCRIBE ON TABLE d.open TO USER ana");
  }

  static std::string Fill(const char* form, const std::string& name) {
    std::string sql = form;
    sql.replace(sql.find("{}"), 2, name);
    return sql;
  }

  // The outcome as text: "ok" or code + message, with `name` replaced by "<name>".
  static std::string Outcome(RunAs& s, const std::string& sql, const std::string& name) {
    std::string out;
    try {
      Collect c;
      s.Execute(sql, c);
      out = "ok " + ::testing::PrintToString(c.rows) + ::testing::PrintToString(c.statuses);
    } catch (const Error& e) {
      out = std::string(ErrorCodeName(e.code())) + ": " + e.what();
    }
    for (size_t at; (at = out.find(name)) != std::string::npos;) out.replace(at, name.size(), "<name>");
    // DuckDB suggests the visible column closest in spelling to the name typed: it
    // depends on that name and the visible columns, not on what exists.
    static const std::regex kCandidates("Candidate bindings: [^\n]*");
    return std::regex_replace(out, kCandidates, "Candidate bindings: ...");
  }
};

TEST_F(ExistenceTest, HiddenAndMissingObjectsReadAlike) {
  auto ana = As("ana");
  for (auto& p : kProbes) {
    std::string present = Outcome(*ana, Fill(p.form, p.present), p.present);
    std::string missing = Outcome(*ana, Fill(p.form, p.missing), p.missing);
    EXPECT_EQ(present, missing) << "\"" << p.form << "\" tells " << p.present << " (exists) from "
                                << p.missing << " (missing)";
    if (std::string(p.form).find("IF EXISTS") == std::string::npos) {
      EXPECT_THAT(present, ::testing::Not(::testing::StartsWith("ok"))) << p.form << " should be refused";
    }
  }
}

// The rule protects names, not work: with the right, a missing name is reported.
TEST_F(ExistenceTest, WithTheRightMissingObjectsAreNamed) {
  auto e = ExpectError(*admin_, "ALTER TABLE d.t ALTER COLUMN nosuchcol SET MASK 'x'");
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  EXPECT_THAT(std::string(e.what()), ::testing::HasSubstr("column nosuchcol does not exist"));
  EXPECT_EQ(ExpectError(*admin_, "GRANT SELECT ON TABLE d.t TO ROLE nosuchrole").code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(ExpectError(*admin_, "DROP DATA FILTER nosuchfilter").code(), ErrorCode::kNotFound);
  auto ana = As("ana");
  // ana may grant id: granting it to a missing role names the role.
  EXPECT_EQ(ExpectError(*ana, "GRANT SELECT (id) ON TABLE d.t TO ROLE nosuchrole").code(),
            ErrorCode::kNotFound);
}

TEST_F(ExistenceTest, ShowTagsShowsOnlyWhatTheCallerCanSee) {
  Exec(*admin_, "CREATE TAG secret_project VALUES ('x'); ALTER TABLE d.hidden SET TAG secret_project = 'x'");
  EXPECT_EQ(Query(*admin_, "SHOW TAGS").size(), 2u);
  auto ana = As("ana");
  // ana sees d.t's id and region only: the pii tag sits on ssn, secret_project on d.hidden.
  EXPECT_TRUE(Query(*ana, "SHOW TAGS").empty());
  Exec(*admin_, "ALTER TABLE d.t ALTER COLUMN region SET TAG pii = 'no'");
  auto rows = Query(*As("ana"), "SHOW TAGS");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "pii");
  EXPECT_EQ(rows[0][1], "no");  // not the value on the hidden column
}

}  // namespace
}  // namespace tarn::testing
