// The `reconciliation` job type over real HTTP: a pipeline submitted as a job run is
// checked at submission, compiled as its submitter when it starts, writes its
// outputs as them and returns its summary as the run's result; a pipeline over a
// table the submitter may not read fails and writes nothing.
#include <gmock/gmock.h>

#include <filesystem>
#include <fstream>

#include "jobs_fixture.h"

namespace tarn::testing {
namespace {

using ::testing::HasSubstr;

class ReconJobTest : public JobsFixture {
 protected:
  void SetUp() override {
    JobsFixture::SetUp();
    ASSERT_EQ(
        Sql(admin_,
            "CREATE DATABASE fin; "
            "CREATE TABLE fin.ledger AS SELECT 'T' || i AS ref, CAST(i * 10 AS DECIMAL(10,2)) AS amount "
            "FROM range(1, 6) r(i); "
            "CREATE TABLE fin.bank AS SELECT 'T' || i AS ref, CAST(i * 10 + CASE WHEN i = 2 THEN 1 ELSE 0 "
            "END "
            "AS DECIMAL(10,2)) AS amount FROM range(2, 7) r(i); "
            "CREATE TABLE fin.secret AS SELECT 'T1' AS ref, 1.0 AS amount; "
            "GRANT SELECT ON TABLE fin.ledger TO USER ana; GRANT SELECT ON TABLE fin.bank TO USER ana; "
            "GRANT CREATE_TABLE ON DATABASE fin TO USER ana")
            .status,
        200);
  }
  static std::string Pipeline(const std::string& right) {
    return "inputs:\n  ledger: {table: fin.ledger}\n  bank: {table: " + right +
           "}\nsteps:\n  - name: rec\n    compare: {left: ledger, right: bank, keys: [ref], columns: "
           "{amount: {}}}\n"
           "  - name: save\n    output: {input: rec.breaks, table: fin.${target}}\n";
  }
  server::ClientResponse SubmitPipeline(const std::string& token, const std::string& yaml,
                                        json params = {{"target", "breaks"}}) {
    json body = {{"job", {{"type", "reconciliation"}, {"pipeline", yaml}, {"params", params}}}};
    return Call("POST", "/v1/applications/default/jobruns", token, body.dump());
  }
};

TEST_F(ReconJobTest, APipelineRunsAsItsSubmitterAndItsSummaryIsTheResult) {
  auto r = SubmitPipeline(ana_, Pipeline("fin.bank"));
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = Json(r)["job_run_id"];
  auto run = WaitFor(ana_, id, "SUCCESS");
  EXPECT_EQ(run["job"]["type"], "reconciliation");
  auto result = Json(Call("GET", "/v1/applications/default/jobruns/" + id + "/result", ana_));
  EXPECT_EQ(result["columns"], json({"diff_type", "reason", "rows", "amount"}));
  EXPECT_EQ(result["rows"].size(), 4u) << result.dump();  // break amount, left_only, matched, right_only
  auto breaks = Json(Sql(ana_, "SELECT ref, reason, amount_diff FROM fin.breaks"));
  EXPECT_EQ(breaks["rows"], json::parse(R"([["T2", "amount", 1.0]])")) << breaks.dump();
  auto logs = Json(Call("GET", "/v1/applications/default/jobruns/" + id + "/logs", ana_));
  EXPECT_THAT(logs.dump(), HasSubstr("reconciliation job: made a script of 3 statements"));
  // Everything it read and wrote is audited as ana's, from this job run.
  auto audit = Json(Sql(
      admin_, "SELECT count(*) FROM system.audit WHERE user_name = 'ana' AND (origin->>'job_run_id') = '" +
                  id + "' AND statement LIKE '%fin.breaks%'"));
  EXPECT_GE(audit["rows"][0][0].get<int64_t>(), 1) << audit.dump();
}

TEST_F(ReconJobTest, APipelineOverATableTheSubmitterCannotReadFailsAndWritesNothing) {
  auto r = SubmitPipeline(ana_, Pipeline("fin.secret"), {{"target", "leak"}});
  ASSERT_EQ(r.status, 201) << r.body;
  auto run = WaitFor(ana_, Json(r)["job_run_id"], "FAILED");
  EXPECT_THAT(run["state_details"].get<std::string>(), HasSubstr("fin.secret"));
  EXPECT_EQ(Sql(admin_, "SELECT * FROM fin.leak").status, 404);
  auto denied = Json(Sql(admin_,
                         "SELECT count(*) FROM system.audit WHERE user_name = 'ana' AND outcome <> 'ok' AND "
                         "statement LIKE '%fin%secret%'"));
  EXPECT_GE(denied["rows"][0][0].get<int64_t>(), 1) << denied.dump();
}

TEST_F(ReconJobTest, ABadSpecIsRefusedAtSubmissionNamingTheLine) {
  auto bad = SubmitPipeline(ana_, "inputs:\n  a: {table: fin.ledger}\nsteps:\n  - name: x\n    filtr: {}\n");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(Json(bad)["error"]["message"].get<std::string>(),
              HasSubstr("the pipeline: step 'x' line 5, field 'filtr': no step type 'filtr'"));
  auto missing_param = SubmitPipeline(ana_, Pipeline("fin.bank"), json::object());
  EXPECT_EQ(missing_param.status, 400);
  EXPECT_THAT(missing_param.body, HasSubstr("${target}"));
  auto hostile = SubmitPipeline(ana_, Pipeline("fin.bank"), {{"target", "x}\n  - name: y"}});
  EXPECT_EQ(hostile.status, 400);
  EXPECT_THAT(hostile.body, HasSubstr("parameter 'target'"));
  json none = {{"job", {{"type", "reconciliation"}}}};
  EXPECT_EQ(Call("POST", "/v1/applications/default/jobruns", ana_, none.dump()).status, 400);
  json unknown = {{"job", {{"type", "spark"}, {"script", "x"}}}};
  auto u = Call("POST", "/v1/applications/default/jobruns", ana_, unknown.dump());
  EXPECT_EQ(u.status, 400);
  EXPECT_THAT(u.body, HasSubstr("\\\"reconciliation\\\""));
  // A pipeline file from the lake's scripts/ folder.
  auto root = instance_->lake().root();
  std::filesystem::create_directories(root / "scripts");
  std::ofstream(root / "scripts" / "recon.yaml") << Pipeline("fin.bank");
  json located = {{"job",
                   {{"type", "reconciliation"},
                    {"pipeline_location", "scripts/recon.yaml"},
                    {"params", {{"target", "b2"}}}}}};
  auto ok = Call("POST", "/v1/applications/default/jobruns", ana_, located.dump());
  ASSERT_EQ(ok.status, 201) << ok.body;
  WaitFor(ana_, Json(ok)["job_run_id"], "SUCCESS");
  json outside = {{"job", {{"type", "reconciliation"}, {"pipeline_location", "../recon.yaml"}}}};
  EXPECT_EQ(Call("POST", "/v1/applications/default/jobruns", ana_, outside.dump()).status, 400);
}

// A cancel mid-pipeline stops the engine work: the output committed before it is
// whole, the one running is not written at all, and the run's temporary tables are gone.
TEST_F(ReconJobTest, ACancelMidPipelineLeavesEarlierOutputsWholeAndWritesNothingHalf) {
  ASSERT_EQ(Sql(admin_, "CREATE TABLE fin.big AS SELECT i, 1 AS k FROM range(30000) r(i)").status, 200);
  std::string yaml =
      "inputs:\n  ledger: {table: fin.ledger}\n  big: {table: fin.big}\nsteps:\n"
      "  - name: first\n    output: {input: ledger, table: fin.first}\n"
      "  - name: pairs\n    join: {left: big, right: big, on: [k], suffix: _2}\n"  // 900M rows
      "  - name: n\n    aggregate: {values: {n: COUNT(), s: SUM(i * i_2)}}\n"
      "  - name: second\n    output: {table: fin.second}\n";
  auto r = SubmitPipeline(admin_, yaml, json::object());
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = Json(r)["job_run_id"];
  WaitFor(admin_, id, "RUNNING");
  for (int i = 0; i < 500 && Sql(admin_, "SELECT count(*) FROM fin.first").status != 200; i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // into the long statement
  ASSERT_EQ(Call("DELETE", "/v1/applications/default/jobruns/" + id, admin_).status, 200);
  auto run = WaitFor(admin_, id, "CANCELLED");
  EXPECT_EQ(Json(Sql(admin_, "SELECT count(*) FROM fin.first"))["rows"], json::parse("[[5]]"));
  EXPECT_EQ(Sql(admin_, "SELECT * FROM fin.second").status, 404);
  size_t temp_files = 0;
  std::error_code ec;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir_.path(), ec))
    temp_files += e.path().string().find("temp-tables") != std::string::npos;
  EXPECT_EQ(temp_files, 0u);
}

}  // namespace
}  // namespace tarn::testing
