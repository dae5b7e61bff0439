// Validations run through the Runner on a real lake: a source and a "migrated" target
// with planted defects, found in both directions with the figures and rows they give;
// every option; the summary row; thresholds; refusals and spec errors.
#include <gmock/gmock.h>

#include <fstream>

#include "governance/governance_fixture.h"
#include "quality/validation.h"

namespace tarn::testing {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

class ValidationTest : public GovernanceTest {
 protected:
  void SetUp() override {
    GovernanceTest::SetUp();
    // id 3 is dropped, id 5 duplicated; id 2's amount is off by 0.004 (within 0.01),
    // id 4's by 1.00; id 6's name lost its trailing space and id 7 its case; id 8's
    // note went from NULL to ''.
    Exec(*admin_,
         "CREATE DATABASE quality;"
         "CREATE TABLE d.src AS SELECT id, name, CAST(amount AS DECIMAL(10,3)) AS amount, note FROM (VALUES (1, 'ann', 10.00, NULL), (2, 'bob', 20.00, 'x'), (3, "
         "'cy', 30.00, 'y'), (4, 'dee', 40.00, NULL), (5, 'eve', 50.00, NULL), (6, 'fay ', 60.00, NULL), (7, "
         "'Gus', 70.00, NULL), (8, 'hal', 80.00, NULL)) v(id, name, amount, note);"
         "CREATE TABLE d.dst AS SELECT id, name, CAST(amount AS DECIMAL(10,3)) AS amount, note FROM (VALUES (1, 'ann', 10.00, NULL), (2, 'bob', 20.004, 'x'), (4, "
         "'dee', 41.00, NULL), (5, 'eve', 50.00, NULL), (5, 'eve', 50.00, NULL), (6, 'fay', 60.00, NULL), (7, "
         "'gus', 70.00, NULL), (8, 'hal', 80.00, '')) v(id, name, amount, note)");
  }

  quality::ValidationOutcome Validate(const std::string& yaml, const identity::Principal& who) {
    session::RunRequest r;
    r.principal = who;
    r.origin = audit::Origin{"test"};
    r.output_dir = out_.path();
    session::Drain log;
    return quality::RunValidation(yaml, "v.yaml", r, *runner_, log);
  }
  quality::ValidationOutcome Validate(const std::string& yaml) {
    return Validate(yaml, session::Instance::LocalCaller().principal);
  }
  TempDir out_;
};

constexpr const char* kSpec = R"(name: people
source: d.src
target: {table: d.dst}
keys: [id]
columns:
  name: {trim: true, ignore_case: true}
  amount: {abs_tolerance: 0.01}
  note: {}
thresholds:
  - matched_fraction >= 0.5
  - missing == 0
  - column.amount.unequal <= 10
)";

TEST_F(ValidationTest, FindsEveryPlantedDefectInBothDirections) {
  auto v = Validate(kSpec);
  ASSERT_TRUE(v.run.error.has_value());  // missing == 0 fails
  const json& m = v.metrics;
  EXPECT_EQ(m["source"]["rows"], 8);
  EXPECT_EQ(m["target"]["rows"], 8);
  EXPECT_EQ(m["missing"], 1);  // id 3
  EXPECT_EQ(m["extra"], 1);    // the second id 5
  EXPECT_EQ(m["changed"], 2);  // id 4 (amount), id 8 (note NULL vs '')
  EXPECT_EQ(m["matched"], 5);
  EXPECT_DOUBLE_EQ(m["matched_fraction"].get<double>(), 5.0 / 9.0);
  EXPECT_EQ(m["duplicate_keys"]["target"], 1);
  EXPECT_EQ(m["rows_with_duplicate_keys"]["target"], 2);
  EXPECT_EQ(m["duplicate_keys"]["source"], 0);
  EXPECT_EQ(m["columns"]["amount"]["unequal"], 1);
  EXPECT_EQ(m["columns"]["amount"]["within_tolerance"], 1);
  EXPECT_DOUBLE_EQ(m["columns"]["amount"]["max_abs_diff"].get<double>(), 1.0);
  EXPECT_EQ(m["columns"]["name"]["unequal"], 0);
  EXPECT_EQ(m["columns"]["name"]["within_tolerance"], 2);  // fay, Gus: equal once trimmed and lower-cased
  EXPECT_EQ(m["columns"]["note"]["unequal"], 1);
  EXPECT_EQ(m["columns"]["note"]["null_diff"], 1);
  EXPECT_EQ(m["profiles"]["note"]["source"]["nulls"], 6);
  EXPECT_EQ(m["profiles"]["note"]["target"]["nulls"], 6);
  EXPECT_EQ(m["profiles"]["amount"]["source"]["sum"].get<double>(), 360.0);
  EXPECT_EQ(m["profiles"]["name"]["source"]["max_length"], 4);
  // Griffin: every source row but 3 (dropped), 2 and 4 (amounts differ as text), 6 and 7
  // (names differ) has an equal target row; 8 matches since it reads NULL as ''.
  EXPECT_EQ(m["griffin"]["total"], 8);
  EXPECT_EQ(m["griffin"]["miss"], 5);
  EXPECT_EQ(m["griffin"]["matched"], 3);
  // Thresholds: only missing == 0 fails, and the error names it.
  EXPECT_EQ(v.failed_checks, std::vector<std::string>{"missing == 0 (is 1)"});
  EXPECT_THAT(v.run.error->what(), HasSubstr("validation people failed: missing == 0 (is 1)"));
  EXPECT_EQ(m["passed"], false);
  // The mismatch table: one row per differing record.
  EXPECT_EQ(All(*admin_, "SELECT diff_type, id, changed_columns, amount_source, amount_target, note_source, "
                         "note_target FROM quality.people_mismatches ORDER BY ALL"),
            "changed|4|amount|40.000|41.000|NULL|NULL|\nchanged|8|note|80.000|80.000|NULL||\n"
            "extra|5|NULL|NULL|50.000|NULL|NULL|\nmissing|3|NULL|30.000|NULL|y|NULL|\n");
  EXPECT_EQ(m["samples"]["missing"].size(), 1u);
  EXPECT_EQ(m["samples"]["missing"][0]["id"], 3);
  // The summary row, and metrics.json beside it.
  EXPECT_EQ(All(*admin_, "SELECT validation, source, target, source_rows, missing, extra, changed, passed, "
                         "failed_checks FROM quality.validation_results"),
            "people|d.src|d.dst|8|1|1|2|false|missing == 0 (is 1)|\n");
  std::ifstream file(out_ / "metrics.json");
  EXPECT_EQ(json::parse(file)["missing"], 1);
}
}  // namespace
}  // namespace tarn::testing
