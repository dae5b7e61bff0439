// EXPLAIN ACCESS answers from the statement's names and the policy alone: changing
// a hidden value in the data must not change a single byte of its output, whatever
// predicate the statement puts on hidden rows, hidden columns or masked values.
#include <gmock/gmock.h>

#include "governance/governance_fixture.h"

namespace tarn::testing {
namespace {

class ExplainAccessTest : public GovernanceTest {
 protected:
  void SetUp() override {
    GovernanceTest::SetUp();
    Exec(*admin_,
         "GRANT DESCRIBE ON TABLE d.t TO USER bob; "  // describe only
         "CREATE DATA FILTER eu ON d.t EXCLUDING (ssn) ROW FILTER region = 'EU'; "
         "GRANT SELECT ON DATA FILTER eu TO USER ana; "
         "ALTER TABLE d.t ALTER COLUMN email SET MASK '***'");
  }

  // Probes that bisect the hidden row 3 (US, 424242.42, SECRET-SSN-3, c@x.us):
  // statistics would prove each of them impossible after the change below.
  std::string Explain(RunAs& s) {
    std::string out;
    for (auto sql : {"SELECT id FROM d.t WHERE amount > 100000",
                     "SELECT id FROM d.t WHERE amount > 424242 AND amount < 424243",
                     "SELECT id FROM d.t WHERE ssn = 'SECRET-SSN-3'", "SELECT id FROM d.t WHERE ssn > 'S'",
                     "SELECT id FROM d.t WHERE email >= 'c@x.us'", "SELECT id FROM d.t WHERE region = 'US'",
                     "SELECT count(*) FROM d.t WHERE amount BETWEEN 424242 AND 424243",
                     "SELECT region, max(amount) FROM d.t WHERE amount > 1e5 GROUP BY region",
                     "SELECT a.id FROM d.t a JOIN d.t b ON a.id = b.id WHERE b.amount > 100000"}) {
      out += std::string("== ") + sql + "\n";
      try {
        for (auto& row : Query(s, std::string("EXPLAIN ACCESS ") + sql)) {
          for (auto& v : row) out += v + "|";
          out += "\n";
        }
      } catch (const Error& e) {
        out += std::string("error ") + std::string(ErrorCodeName(e.code())) + ": " + e.what() + "\n";
      }
    }
    return out;
  }
};

TEST_F(ExplainAccessTest, OutputDoesNotDependOnHiddenValues) {
  std::map<std::string, std::string> before;
  for (auto user : {"ana", "bob"}) before[user] = Explain(*As(user));
  // The hidden row changes so that every probe above becomes impossible by the
  // files' statistics (max amount 40, no ssn or email starting past 'b').
  Exec(*admin_,
       "INSERT OVERWRITE d.t SELECT id, CASE WHEN id = 3 THEN 'APAC' ELSE region END, "
       "CASE WHEN id = 3 THEN 5.0 ELSE amount END, CASE WHEN id = 3 THEN 'a@x.us' ELSE email END, "
       "CASE WHEN id = 3 THEN 'ssn-3' ELSE ssn END FROM d.t");
  ASSERT_EQ(Scalar(*admin_, "SELECT max(amount) < 100 FROM d.t"), "true");
  for (auto user : {"ana", "bob"}) {
    EXPECT_EQ(Explain(*As(user)), before[user]) << user << "'s EXPLAIN ACCESS changed with hidden data";
  }
  // And it still says what the query reads.
  EXPECT_THAT(before["ana"], ::testing::HasSubstr("d.t|amount|read|allowed|"));
  EXPECT_THAT(before["bob"], ::testing::HasSubstr("d.t|ssn|read|denied|"));
  EXPECT_THAT(before["bob"], ::testing::HasSubstr("d.t|amount|read|denied|"));
}

}  // namespace
}  // namespace tarn::testing
