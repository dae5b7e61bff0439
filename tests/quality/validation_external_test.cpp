// Validations with one side in PostgreSQL (the real server scripts/test starts): the
// figures and mismatch rows equal those of the same validation over a lake copy of
// the PostgreSQL table, while only the records of differing segments are read;
// connections are an allow-list, refusals are audited; spec errors name the field.
#include <gmock/gmock.h>
#include <regex>

#include "audit/audit_log.h"
#include "governance/governance_fixture.h"
#include "quality/validation.h"

namespace tarn::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr int kRows = 40000;

// The same records in PostgreSQL and in DuckDB: every type a migration meets.
constexpr const char* kPgTable =
    "CREATE TABLE people (id int, name text, note text, amount numeric(12,2), born date, seen timestamptz, "
    "score "
    "float8, active boolean);"
    "INSERT INTO people SELECT i, 'n' || i, CASE WHEN i % 97 = 0 THEN NULL WHEN i % 89 = 0 THEN '' ELSE "
    "'note' END, "
    "(i % 1000) * 1.25, date '2000-01-01' + (i % 9000), timestamptz '2024-01-01 00:00:00+00' + i * interval "
    "'1 "
    "second', i * 0.5, i % 2 = 0 FROM generate_series(1, 40000) i";
constexpr const char* kLakeCopy =
    "CREATE TABLE d.copy AS SELECT CAST(i AS INTEGER) AS id, 'n' || i AS name, CASE WHEN i % 97 = 0 THEN "
    "NULL WHEN i "
    "% 89 = 0 THEN '' ELSE 'note' END AS note, CAST((i % 1000) * 1.25 AS DECIMAL(12,2)) AS amount, DATE "
    "'2000-01-01' + CAST(i % 9000 AS INTEGER) AS born, TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(i) "
    "AS "
    "seen, CAST(i * 0.5 AS DOUBLE) AS score, i % 2 = 0 AS active FROM range(1, 40001) t(i)";
// id 100 dropped; 40001 added; 200's name, 300's amount (within 0.02), 400's amount
// (beyond), 97's note (NULL to ''), 600's score changed; 700 duplicated.
constexpr const char* kLakeMigrated =
    "CREATE TABLE d.migrated AS SELECT id, CASE WHEN id = 200 THEN 'changed' ELSE name END AS name, CASE "
    "WHEN id = "
    "97 THEN '' ELSE note END AS note, CAST(CASE WHEN id = 300 THEN amount + 0.01 WHEN id = 400 THEN amount "
    "+ 5 "
    "ELSE amount END AS DECIMAL(12,2)) AS amount, born, seen, CASE WHEN id = 600 THEN score + 0.25 ELSE "
    "score END AS score, active FROM "
    "d.copy WHERE id <> 100 UNION ALL SELECT 40001, 'new', NULL, 1, DATE '2000-01-01', TIMESTAMPTZ "
    "'2024-01-01 "
    "00:00:00+00', 1, true UNION ALL SELECT * FROM d.copy WHERE id = 700";

class ExternalValidationTest : public GovernanceTest {
 protected:
  void SetUp() override {
    TARN_REQUIRE_METASTORE(pg_);
    GovernanceTest::SetUp();
    PgExec(pg_.location(), kPgTable);
    Exec(*admin_, std::string("CREATE DATABASE quality;") + kLakeCopy + ";" + kLakeMigrated);
    context_.connections = {{"crm", pg_.location(), "", {"admin", "bob"}, {}}};
    context_.audit = &instance_->audit();
  }

  quality::ValidationOutcome Validate(const std::string& yaml, const identity::Principal& who) {
    session::RunRequest r;
    r.principal = who;
    r.origin = audit::Origin{"test"};
    session::Drain log;
    return quality::RunValidation(yaml, "v.yaml", r, *runner_, log, context_);
  }
  quality::ValidationOutcome Validate(const std::string& yaml) {
    return Validate(yaml, session::Instance::LocalCaller().principal);
  }

  // The figures both ways of validating must agree on.
  static json Figures(const json& m) {
    json f;
    for (auto k : {"matched", "missing", "extra", "changed", "matched_fraction", "griffin", "duplicate_keys"})
      f[k] = m.value(k, json());
    f["source_rows"] = m["source"]["rows"];
    f["target_rows"] = m["target"]["rows"];
    for (auto& [name, c] : m["columns"].items()) {
      for (auto k : {"unequal", "null_diff", "within_tolerance", "max_abs_diff"})
        f["columns"][name][k] = c.value(k, json());
    }
    return f;
  }

  TempDir pgdir_;
  TestMetastore pg_{"postgresql", pgdir_.path()};
  quality::ValidationContext context_;
};

constexpr const char* kKeyed = R"(name: {name}
source: {source}
target: d.migrated
keys: [id]
columns:
  name: {{}}
  note: {{}}
  amount: {{abs_tolerance: 0.02}}
  born: {{}}
  seen: {{}}
  score: {{}}
  active: {{}}
)";

TEST_F(ExternalValidationTest, APostgreSQLSourceGivesTheFiguresOfItsLakeCopyReadingOnlyDifferingSegments) {
  auto ext = Validate(fmt::format(kKeyed, fmt::arg("name", "ext"),
                                  fmt::arg("source", "{connection: crm, table: public.people}")));
  auto lake = Validate(fmt::format(kKeyed, fmt::arg("name", "lake"), fmt::arg("source", "d.copy")));
  ASSERT_FALSE(ext.run.error) << ext.run.error->what();
  ASSERT_FALSE(lake.run.error) << lake.run.error->what();
  EXPECT_EQ(Figures(ext.metrics), Figures(lake.metrics));
  EXPECT_EQ(ext.metrics["missing"], 1);
  EXPECT_EQ(ext.metrics["extra"], 2);  // 40001 and the second 700
  EXPECT_EQ(ext.metrics["changed"], 4);
  EXPECT_EQ(ext.metrics["columns"]["amount"]["within_tolerance"], 1);
  EXPECT_EQ(ext.metrics["source"]["rows"], kRows);
  EXPECT_EQ(All(*admin_, "SELECT * FROM quality.ext_mismatches ORDER BY ALL"),
            All(*admin_, "SELECT * FROM quality.lake_mismatches ORDER BY ALL"));
  const json& x = ext.metrics["external"];
  EXPECT_EQ(x["connection"], "crm");
  EXPECT_EQ(x["rows"], kRows);
  EXPECT_GE(x["levels"].size(), 2u);  // 16 segments of 2,500 records, then split
  EXPECT_GT(x["rows_transferred"].get<int64_t>(), 0);
  EXPECT_LT(x["rows_transferred"].get<int64_t>(), 2000);
  // The external side's profile is PostgreSQL's, and agrees with the lake copy's.
  for (auto k : {"nulls", "min", "max", "sum"})
    EXPECT_EQ(ext.metrics["profiles"]["amount"]["source"][k], lake.metrics["profiles"]["amount"]["source"][k])
        << k;
  EXPECT_EQ(ext.metrics["profiles"]["note"]["source"]["nulls"], kRows / 97);
  std::string html = quality::ValidationReportHtml(ext.metrics);
  EXPECT_THAT(html, HasSubstr("read through connection <b>crm</b>"));
  // The read is audited as the submitter's, with what it transferred.
  EXPECT_EQ(All(*admin_, "SELECT outcome, statement_type FROM system.audit WHERE event = 'external_read'"),
            "ok|VALIDATE|\n");
}

TEST_F(ExternalValidationTest, EqualTablesTransferNoRecord) {
  auto v = Validate(
      "name: same\nsource: {connection: crm, table: public.people}\ntarget: d.copy\nkeys: [id]\n"
      "thresholds: ['matched_fraction == 1']\n");
  ASSERT_FALSE(v.run.error) << v.run.error->what();
  EXPECT_EQ(v.metrics["matched"], kRows);
  EXPECT_EQ(v.metrics["external"]["segments_differing"], 0);  // every value prints alike in both systems
  EXPECT_EQ(v.metrics["external"]["rows_transferred"], 0);
  EXPECT_EQ(v.metrics["external"]["levels"].size(), 1u);
}

TEST_F(ExternalValidationTest, APostgreSQLTargetWithoutKeysAndNullsNeverEqual) {
  constexpr const char* kSpec = R"(name: {}
source: d.migrated
target: {}
null_equals_null: false
)";
  auto ext = Validate(fmt::format(kSpec, "ext", "{connection: crm, table: public.people}"));
  auto lake = Validate(fmt::format(kSpec, "lake", "d.copy"));
  ASSERT_FALSE(ext.run.error) << ext.run.error->what();
  ASSERT_FALSE(lake.run.error) << lake.run.error->what();
  EXPECT_EQ(Figures(ext.metrics), Figures(lake.metrics));
  EXPECT_GT(ext.metrics["missing"].get<int64_t>(),
            kRows / 97);  // every record with a NULL differs from itself
  EXPECT_EQ(ext.metrics["external"]["side"], "target");
  EXPECT_EQ(All(*admin_, "SELECT count(*) FROM quality.ext_mismatches"),
            All(*admin_, "SELECT count(*) FROM quality.lake_mismatches"));
}

TEST_F(ExternalValidationTest, AConnectionIsAnAllowListAndRefusalsAreAuditedAndLeaveNothing) {
  Exec(*admin_, "GRANT SELECT ON d.migrated TO USER ana; GRANT ALL ON DATABASE quality TO USER ana");
  auto ana = *identity::Directory(*store_).Lookup("ana", "test");
  std::string spec =
      "name: v\nsource: {connection: crm, table: public.people}\ntarget: d.migrated\nkeys: [id]\n";
  Error refused = CatchError([&] { Validate(spec, ana); });
  EXPECT_EQ(refused.code(), ErrorCode::kNotFound);
  EXPECT_THAT(refused.what(), HasSubstr("connection 'crm' does not exist (or you may not use it)"));
  Error missing = CatchError([&] {
    Validate("name: v\nsource: {connection: nope, table: public.people}\ntarget: d.migrated\nkeys: [id]\n",
             ana);
  });
  EXPECT_EQ(std::string(missing.what()), std::regex_replace(refused.what(), std::regex("'crm'"), "'nope'"));
  EXPECT_EQ(All(*admin_,
                "SELECT count(*) FROM system.audit WHERE event = 'external_read' AND user_name = 'ana' AND "
                "outcome = 'denied'"),
            "2|\n");
  EXPECT_THAT(CatchError([&] { All(*admin_, "SELECT * FROM quality.v_mismatches"); }).what(),
              HasSubstr("v_mismatches"));
  // bob may use the connection but not read the lake side: that is the lake's refusal.
  auto bob = *identity::Directory(*store_).Lookup("bob", "test");
  EXPECT_THAT(CatchError([&] { Validate(spec, bob); }).what(), HasSubstr("d.migrated"));
}

TEST_F(ExternalValidationTest, ErrorsNameTheTableOrTheField) {
  auto err = [&](const std::string& yaml) { return std::string(CatchError([&] { Validate(yaml); }).what()); };
  EXPECT_THAT(err("name: v\nsource: {connection: crm, table: public.nothing}\ntarget: d.copy\n"),
              HasSubstr("table crm:public.nothing does not exist through connection 'crm'"));
  EXPECT_THAT(
      err("name: v\nsource: {connection: crm, table: public.people, where: id > 1}\ntarget: d.copy\n"),
      HasSubstr("field 'where': filters lake tables only"));
  EXPECT_THAT(
      err("name: v\nsource: {connection: crm, table: public.people}\ntarget: {connection: crm, table: "
          "public.people}\n"),
      HasSubstr("one side may be a table in PostgreSQL"));
  EXPECT_THAT(err("name: v\nsource: {connection: crm, table: public.people}\ntarget: d.copy\nrules:\n  pos: "
                  "id > 0\n"),
              HasSubstr("give this one 'on: target'"));
  EXPECT_THAT(err("name: v\nsource: {connection: crm, table: people}\ntarget: d.copy\n"),
              HasSubstr("database.table"));
  quality::ValidationContext none;
  session::RunRequest r;
  r.principal = session::Instance::LocalCaller().principal;
  session::Drain log;
  EXPECT_THAT(CatchError([&] {
                quality::RunValidation(
                    "name: v\nsource: {connection: crm, table: public.people}\ntarget: d.copy\n", "v.yaml", r,
                    *runner_, log, none);
              }).what(),
              HasSubstr("connection 'crm' does not exist"));
}

TEST_F(ExternalValidationTest, AnUnreachableDatabaseIsAnIoErrorWithoutItsPassword) {
  context_.connections = {{"crm", "postgresql://reader:s3cret-pw@127.0.0.1:1/crm", "", {"admin"}, {}}};
  Error e = CatchError(
      [&] { Validate("name: v\nsource: {connection: crm, table: public.people}\ntarget: d.copy\n"); });
  EXPECT_EQ(e.code(), ErrorCode::kIo);
  EXPECT_THAT(e.what(), HasSubstr("connection 'crm': cannot connect"));
  EXPECT_THAT(e.what(), ::testing::Not(HasSubstr("s3cret-pw")));
}

}  // namespace
}  // namespace tarn::testing
