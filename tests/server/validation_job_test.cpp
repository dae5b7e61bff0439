// The `validation` job type over real HTTP: a spec submitted as a job run is checked at
// submission, runs as its submitter, keeps metrics.json as a run file, appends its
// summary row, and ends FAILED naming the threshold that failed; a spec over a table
// the submitter may not read fails and writes nothing.
#include <gmock/gmock.h>

#include <filesystem>
#include <fstream>

#include "jobs_fixture.h"

namespace tarn::testing {
namespace {

using ::testing::HasSubstr;

class ValidationJobTest : public JobsFixture {
 protected:
  void SetUp() override {
    JobsFixture::SetUp();
    ASSERT_EQ(
        Sql(admin_,
            "CREATE DATABASE m; CREATE DATABASE quality; "
            "CREATE TABLE m.src AS SELECT i AS id, CAST(i * 10 AS DECIMAL(10,2)) AS amount FROM range(1, 6) "
            "r(i); "
            "CREATE TABLE m.dst AS SELECT i AS id, CAST(i * 10 + CASE WHEN i = 2 THEN 1 ELSE 0 END AS "
            "DECIMAL(10,2)) AS amount FROM range(1, 5) r(i); "
            "CREATE TABLE m.secret AS SELECT 1 AS id, 1.0 AS amount; "
            "GRANT SELECT ON TABLE m.src TO USER ana; GRANT SELECT ON TABLE m.dst TO USER ana; "
            "GRANT ALL ON DATABASE quality TO USER ana")
            .status,
        200);
  }
  server::ClientResponse Submit(const std::string& token, const std::string& spec) {
    json body = {{"job", {{"type", "validation"}, {"spec", spec}}}};
    return Call("POST", "/v1/applications/default/jobruns", token, body.dump());
  }
  static std::string Spec(const std::string& target, const std::string& thresholds) {
    return "name: mig\nsource: m.src\ntarget: " + target + "\nkeys: id\nthresholds: " + thresholds + "\n";
  }
};

TEST_F(ValidationJobTest, AFailedThresholdEndsTheRunFailedWithItsFiguresKept) {
  auto r = Submit(ana_, Spec("m.dst", "[missing == 0, changed <= 5]"));
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = Json(r)["job_run_id"];
  auto run = WaitFor(ana_, id, "FAILED");
  EXPECT_EQ(run["state_details"], "validation mig failed: missing == 0 (is 1)");
  std::string files = "/v1/applications/default/jobruns/" + id + "/files";
  auto metrics = Json(Call("GET", files + "/metrics.json", ana_));
  EXPECT_EQ(metrics["missing"], 1);
  EXPECT_EQ(metrics["changed"], 1);
  EXPECT_EQ(metrics["columns"]["amount"]["max_abs_diff"], 1.0);
  // The HTML report downloads, or shows inside the studio (?inline=1) in a sandbox
  // that runs no script.
  auto report = Call("GET", files + "/report.html", ana_);
  ASSERT_EQ(report.status, 200);
  EXPECT_EQ(report.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_THAT(report.headers["content-disposition"], ::testing::HasSubstr("attachment"));
  EXPECT_THAT(report.headers["content-security-policy"], ::testing::HasSubstr("sandbox"));
  auto shown = Call("GET", files + "/report.html?inline=1", ana_);
  ASSERT_EQ(shown.status, 200);
  EXPECT_EQ(shown.headers["content-disposition"], "inline");
  EXPECT_THAT(shown.headers["content-security-policy"], ::testing::HasSubstr("frame-ancestors 'self'"));
  EXPECT_THAT(shown.headers["content-security-policy"], ::testing::Not(::testing::HasSubstr("script")));
  EXPECT_EQ(shown.body, report.body);
  auto rows = Json(Sql(ana_, "SELECT diff_type, id FROM quality.mig_mismatches ORDER BY ALL"));
  EXPECT_EQ(rows["rows"], json::parse(R"([["changed", 2], ["missing", 5]])")) << rows.dump();
  auto summary = Json(Sql(ana_, "SELECT submitted_by, passed, run_id <> '' FROM quality.validation_results"));
  EXPECT_EQ(summary["rows"], json::parse(R"([["ana", false, true]])")) << summary.dump();
  // Passing thresholds: SUCCESS.
  auto ok = Submit(ana_, Spec("m.dst", "[missing <= 1, matched_fraction >= 0.5]"));
  ASSERT_EQ(ok.status, 201) << ok.body;
  WaitFor(ana_, Json(ok)["job_run_id"], "SUCCESS");
}

TEST_F(ValidationJobTest, ATableTheSubmitterCannotReadFailsTheRunAndWritesNothing) {
  auto r = Submit(ana_, Spec("m.secret", "[]"));
  ASSERT_EQ(r.status, 201) << r.body;
  auto run = WaitFor(ana_, Json(r)["job_run_id"], "FAILED");
  EXPECT_THAT(run["state_details"].get<std::string>(), HasSubstr("m.secret"));
  EXPECT_EQ(Sql(admin_, "SELECT * FROM quality.mig_mismatches").status, 404);
  EXPECT_EQ(Sql(admin_, "SELECT * FROM quality.validation_results").status, 404);
}

TEST_F(ValidationJobTest, ABadSpecIsRefusedAtSubmissionNamingTheLine) {
  auto bad = Submit(ana_, "name: mig\nsource: m.src\ntarget: m.dst\nkeys: id\nthresholds: [missing is 0]\n");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(Json(bad)["error"]["message"].get<std::string>(),
              HasSubstr("the spec line 5, field 'thresholds': 'missing is 0' is not 'metric op number'"));
  json none = {{"job", {{"type", "validation"}}}};
  EXPECT_EQ(Call("POST", "/v1/applications/default/jobruns", ana_, none.dump()).status, 400);
  // A spec file from the lake's scripts/ folder; none from outside it.
  auto root = instance_->lake().root();
  std::filesystem::create_directories(root / "scripts");
  std::ofstream(root / "scripts" / "v.yaml") << Spec("m.dst", "[missing <= 1]");
  json located = {{"job", {{"type", "validation"}, {"spec_location", "scripts/v.yaml"}}}};
  auto ok = Call("POST", "/v1/applications/default/jobruns", ana_, located.dump());
  ASSERT_EQ(ok.status, 201) << ok.body;
  WaitFor(ana_, Json(ok)["job_run_id"], "SUCCESS");
  json outside = {{"job", {{"type", "validation"}, {"spec_location", "../v.yaml"}}}};
  EXPECT_EQ(Call("POST", "/v1/applications/default/jobruns", ana_, outside.dump()).status, 400);
}

// A server's [connections]: a job run reads a PostgreSQL source through one, as a
// user on its list; someone else's run fails as if there were no such connection.
class ExternalValidationJobTest : public ValidationJobTest {
 protected:
  void Configure(server::ServerConfig& config) override {
    if (pg_.available()) config.connections = {{"crm", pg_.location(), "", {"ana"}, {}}};
  }
  void SetUp() override {
    TARN_REQUIRE_METASTORE(pg_);
    ValidationJobTest::SetUp();
    PgExec(
        pg_.location(),
        "CREATE TABLE src AS SELECT i AS id, (i * 10)::numeric(10,2) AS amount FROM generate_series(1, 5) i");
  }
  TempDir pgdir_;
  TestMetastore pg_{"postgresql", pgdir_.path()};
};

TEST_F(ExternalValidationJobTest, AJobRunReadsAPostgreSQLSourceThroughTheServersConnection) {
  std::string spec =
      "name: crm\nsource: {connection: crm, table: public.src}\ntarget: m.dst\nkeys: id\n"
      "thresholds: [missing == 0]\n";
  auto r = Submit(ana_, spec);
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = Json(r)["job_run_id"];
  auto run = WaitFor(ana_, id, "FAILED");
  EXPECT_EQ(run["state_details"], "validation crm failed: missing == 0 (is 1)");
  auto metrics = Json(Call("GET", "/v1/applications/default/jobruns/" + id + "/files/metrics.json", ana_));
  EXPECT_EQ(metrics["changed"], 1);
  EXPECT_EQ(metrics["source"]["table"], "crm:public.src");
  EXPECT_EQ(metrics["external"]["connection"], "crm");
  EXPECT_EQ(metrics["external"]["rows"], 5);
  auto refused = Submit(admin_, spec);
  ASSERT_EQ(refused.status, 201) << refused.body;
  auto other = WaitFor(admin_, Json(refused)["job_run_id"], "FAILED");
  EXPECT_THAT(other["state_details"].get<std::string>(),
              HasSubstr("connection 'crm' does not exist (or you may not use it)"));
}

}  // namespace
}  // namespace tarn::testing
