// Jobs over real HTTP, past one script: steps and their actions on failure, scripts
// from the lake, maximum_capacity, kept results and resource utilization.
#include <gmock/gmock.h>

#include <filesystem>
#include <fstream>

#include "jobs_fixture.h"

namespace tarn::testing {
namespace {

using ::testing::HasSubstr;

class JobStepsTest : public JobsFixture {
 protected:
  void SetUp() override {
    JobsFixture::SetUp();
    ASSERT_EQ(
        Sql(admin_, "CREATE DATABASE d; CREATE TABLE d.t (x INTEGER); GRANT ALL ON TABLE d.t TO USER ana")
            .status,
        200);
  }
  static json Step(const std::string& name, const std::string& script, const std::string& action) {
    return {{"name", name}, {"action_on_failure", action}, {"job", {{"type", "sql"}, {"script", script}}}};
  }
  server::ClientResponse SubmitSteps(const std::string& token, json steps, json extra = json::object()) {
    json body = {{"steps", steps}};
    for (auto& [k, val] : extra.items()) body[k] = val;
    return Call("POST", "/v1/applications/default/jobruns", token, body.dump());
  }
  json Steps(const std::string& token, const std::string& id) {
    auto r = Call("GET", "/v1/applications/default/jobruns/" + id + "/steps", token);
    EXPECT_EQ(r.status, 200) << r.body;
    return Json(r)["steps"];
  }
  std::vector<std::string> StepStates(const std::string& token, const std::string& id) {
    std::vector<std::string> out;
    for (auto& s : Steps(token, id)) out.push_back(s["state"]);
    return out;
  }
  int64_t Rows(const std::string& table) {
    return Json(Sql(admin_, "SELECT count(*) FROM " + table))["rows"][0][0].get<int64_t>();
  }
};

TEST_F(JobStepsTest, CancelAndWaitEndsTheStepsAfterAFailedOne) {
  auto r = SubmitSteps(ana_, {Step("load", "INSERT INTO d.t VALUES (1)", "CANCEL_AND_WAIT"),
                              Step("check", "SELECT * FROM d.missing", "CANCEL_AND_WAIT"),
                              Step("publish", "INSERT INTO d.t VALUES (2)", "CONTINUE")});
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = Json(r)["job_run_id"];
  auto run = WaitFor(ana_, id, "FAILED");
  EXPECT_THAT(run["state_details"].get<std::string>(), HasSubstr("step 2 (check) failed"));
  EXPECT_EQ(StepStates(ana_, id), (std::vector<std::string>{"COMPLETED", "FAILED", "CANCELLED"}));
  auto steps = Steps(ana_, id);
  EXPECT_EQ(steps[0]["name"], "load");
  EXPECT_TRUE(steps[0]["started_at"].is_string());
  EXPECT_TRUE(steps[0]["ended_at"].is_string());
  EXPECT_THAT(steps[1]["state_details"].get<std::string>(), HasSubstr("d.missing"));
  EXPECT_TRUE(steps[2]["started_at"].is_null());  // never ran
  EXPECT_EQ(Rows("d.t"), 1);
  EXPECT_EQ(run["progress"]["statements_total"], 3);
  EXPECT_EQ(run["progress"]["statements_done"], 1);
}

TEST_F(JobStepsTest, ContinueRunsTheStepsAfterAFailedOneAndTheRunStillFails) {
  auto r =
      SubmitSteps(ana_, {Step("", "SELECT * FROM d.missing", "CONTINUE"),
                         Step("", "INSERT INTO d.t VALUES (1); INSERT INTO d.t VALUES (2)", "CONTINUE")});
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = Json(r)["job_run_id"];
  auto run = WaitFor(ana_, id, "FAILED");
  EXPECT_THAT(run["state_details"].get<std::string>(), HasSubstr("step 1 failed"));
  EXPECT_EQ(StepStates(ana_, id), (std::vector<std::string>{"FAILED", "COMPLETED"}));
  EXPECT_EQ(Rows("d.t"), 2);
  EXPECT_EQ(run["resource_utilization"]["rows_written"], 2);
  // All steps completing is a SUCCESS.
  auto ok = SubmitSteps(ana_, {Step("", "SELECT 1", "CONTINUE"), Step("", "SELECT 2", "CANCEL_AND_WAIT")});
  WaitFor(ana_, Json(ok)["job_run_id"], "SUCCESS");
}

TEST_F(JobStepsTest, ARetryDoesNotRunCompletedStepsAgain) {
  auto r = SubmitSteps(ana_,
                       {Step("append", "INSERT INTO d.t VALUES (1)", "CANCEL_AND_WAIT"),
                        Step("check", "SELECT * FROM d.flag", "CANCEL_AND_WAIT")},
                       {{"retry_policy", {{"max_attempts", 2}}}});
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = Json(r)["job_run_id"];
  auto run = WaitFor(ana_, id, "FAILED");
  EXPECT_EQ(run["attempt"], 2);
  auto steps = Steps(ana_, id);
  EXPECT_EQ(steps[0]["state"], "COMPLETED");
  EXPECT_EQ(steps[0]["attempt"], 1);
  EXPECT_EQ(steps[1]["state"], "FAILED");
  EXPECT_EQ(steps[1]["attempt"], 2);
  EXPECT_EQ(Rows("d.t"), 1);  // appended once over two attempts
  auto logs = Call("GET", "/v1/applications/default/jobruns/" + id + "/logs", ana_).body;
  EXPECT_THAT(logs, HasSubstr("step 1 completed in attempt 1: not run again"));
}

TEST_F(JobStepsTest, BadStepsAre400NamingTheField) {
  auto bad = [&](json body, const std::string& says) {
    auto r = Call("POST", "/v1/applications/default/jobruns", ana_, body.dump());
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    EXPECT_THAT(r.body, HasSubstr(says)) << body;
  };
  bad({{"steps", json::array()}}, "field 'steps' must be a list of 1 to 100 steps");
  bad({{"steps", {Step("", "SELECT 1", "RETRY")}}}, "field 'steps[0].action_on_failure'");
  bad({{"steps", {{{"name", "x"}}}}}, "field 'steps[0].job' is required");
  bad({{"steps", {Step("", "SELECT 1", "CONTINUE"), Step("", " ;; ", "CONTINUE")}}},
      "field 'steps[1].job.script' holds no statement");
  bad({{"steps", {Step("", "SELECT 1", "CONTINUE")}}, {"job", {{"type", "sql"}, {"script", "SELECT 1"}}}},
      "exclude each other");
  auto split = [](json by) {
    return json{{"job", {{"type", "sql"}, {"script", "SELECT 1"}, {"partition_by", by}}}};
  };
  bad(split("customer"), "field 'job.partition_by' must map 1 to 8 tables (db.table) to their key columns");
  bad(split(json::object()), "field 'job.partition_by' must map 1 to 8 tables");
  bad(split({{"orders", "id"}}), "field 'job.partition_by': 'orders' is not a table name (db.table)");
  bad(split({{"a.b.c", "id"}}), "'a.b.c' is not a table name");
  bad(split({{"sales.orders", json::array()}}),
      "the key of sales.orders must be a column name or a list of 1 to 8 of them");
  bad(split({{"sales.orders", {1, 2}}}), "the key of sales.orders must be a column name");
  bad({{"steps", {{{"job", {{"type", "sql"}, {"script", "SELECT 1"}, {"partition_by", {{"x", "y"}}}}}}}}},
      "field 'steps[0].job.partition_by': 'x' is not a table name");
  EXPECT_TRUE(Json(Call("GET", "/v1/applications/default/jobruns", ana_))["job_runs"].empty());
}

TEST_F(JobStepsTest, AScriptIsReadFromTheLakesScriptsFolderAtSubmission) {
  auto root = instance_->lake().root();
  std::filesystem::create_directories(root / "scripts" / "nightly");
  std::ofstream(root / "scripts" / "nightly" / "load.sql") << "INSERT INTO d.t VALUES (7);\nSELECT 1;\n";
  std::ofstream(root / "secret.sql") << "SELECT 'outside scripts/'";
  auto r = Submit(ana_, "", "default",
                  {{"job", {{"type", "sql"}, {"script_location", "scripts/nightly/load.sql"}}}});
  ASSERT_EQ(r.status, 201) << r.body;
  auto run = WaitFor(ana_, Json(r)["job_run_id"], "SUCCESS");
  EXPECT_EQ(run["job"]["script_location"], "scripts/nightly/load.sql");
  EXPECT_THAT(run["job"]["script"].get<std::string>(), HasSubstr("VALUES (7)"));
  EXPECT_EQ(Rows("d.t"), 1);
  // Outside the folder, missing, escaping, not .sql: one refusal, naming the field.
  std::filesystem::create_symlink(root / "secret.sql", root / "scripts" / "link.sql");
  for (std::string where : {"secret.sql", "scripts/none.sql", "scripts/../secret.sql", "scripts/link.sql",
                            "/etc/passwd", "scripts/nightly", "scripts/nightly/load.txt"}) {
    auto refused = Submit(ana_, "", "default", {{"job", {{"type", "sql"}, {"script_location", where}}}});
    EXPECT_EQ(refused.status, 400) << where << " " << refused.body;
    EXPECT_THAT(refused.body, HasSubstr("field 'script_location'")) << where;
  }
  auto both =
      Submit(ana_, "SELECT 1", "default",
             {{"job", {{"type", "sql"}, {"script", "SELECT 1"}, {"script_location", "scripts/a.sql"}}}});
  EXPECT_EQ(both.status, 400);
}

TEST_F(JobStepsTest, MaximumCapacityHoldsRunsInQueueOrder) {
  auto app = Call("POST", "/v1/applications", admin_,
                  json{{"name", "small"}, {"maximum_capacity", {{"threads", 2}, {"memory", "4GB"}}}}.dump());
  ASSERT_EQ(app.status, 201) << app.body;
  std::string a = Json(app)["id"];
  EXPECT_EQ(Json(app)["maximum_capacity"]["threads"], 2);
  EXPECT_EQ(Json(app)["maximum_capacity"]["memory"], 4000000000);
  auto submit = [&](const std::string& script, int threads) {
    auto r = Submit(admin_, script, a, {{"capacity", {{"threads", threads}}}});
    EXPECT_EQ(r.status, 201) << r.body;
    return Json(r)["job_run_id"].get<std::string>();
  };
  auto first = submit(kLong, 1);
  WaitFor(admin_, first, "RUNNING", a);
  auto big = submit("SELECT 2", 2);    // 1 + 2 > 2: waits
  auto small = submit("SELECT 3", 1);  // would fit, but waits behind `big`
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(Run(admin_, big, a)["state"], "QUEUED");
  EXPECT_EQ(Run(admin_, small, a)["state"], "QUEUED");
  ASSERT_EQ(Call("DELETE", "/v1/applications/" + a + "/jobruns/" + first, admin_).status, 200);
  auto b = WaitFor(admin_, big, "SUCCESS", a);
  auto s = WaitFor(admin_, small, "SUCCESS", a);
  EXPECT_LE(b["started_at"].get<std::string>(), s["started_at"].get<std::string>());
  EXPECT_EQ(b["capacity"]["threads"], 2);
  // More than the application holds can never run: refused at once.
  auto huge = Submit(admin_, "SELECT 1", a, {{"capacity", {{"threads", 3}}}});
  EXPECT_EQ(huge.status, 400);
  EXPECT_THAT(huge.body, HasSubstr("maximum_capacity"));
  auto bad = Call("POST", "/v1/applications", admin_,
                  json{{"name", "bad"}, {"maximum_capacity", {{"memory", "lots"}}}}.dump());
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("maximum_capacity.memory"));
}

TEST_F(JobStepsTest, TheLastQuerysRowsAreKeptForTheSubmitterAndManagers) {
  auto id =
      SubmitOk(ana_, "INSERT INTO d.t VALUES (1), (2); SELECT x, 'v' || x AS label FROM d.t ORDER BY x");
  auto run = WaitFor(ana_, id, "SUCCESS");
  EXPECT_EQ(run["result"]["rows"], 2);
  auto log = Call("GET", "/v1/applications/default/jobruns/" + id + "/logs", ana_).body;
  EXPECT_THAT(log, HasSubstr("wrote 2 rows to the run's result"));
  EXPECT_THAT(log, ::testing::Not(HasSubstr(instance_->lake().root().string())));  // no server path
  EXPECT_GT(run["resource_utilization"]["bytes_scanned"].get<int64_t>(), 0);
  EXPECT_EQ(run["resource_utilization"]["rows_written"], 2);
  std::string base = "/v1/applications/default/jobruns/" + id + "/result";
  auto j = Call("GET", base, ana_);
  ASSERT_EQ(j.status, 200) << j.body;
  EXPECT_EQ(Json(j)["columns"], json({"x", "label"}));
  EXPECT_EQ(Json(j)["rows"], json::parse(R"([{"x": 1, "label": "v1"}, {"x": 2, "label": "v2"}])"));
  auto page = Json(Call("GET", base + "?offset=1&limit=1", ana_));
  EXPECT_EQ(page["rows"], json::parse(R"([{"x": 2, "label": "v2"}])"));
  EXPECT_EQ(page["row_count"], 2);
  auto csv = Call("GET", base + "?format=csv", ana_);
  EXPECT_EQ(csv.body, "x,label\n1,v1\n2,v2\n");
  auto parquet = Call("GET", base + "?format=parquet", admin_);
  ASSERT_EQ(parquet.status, 200);
  EXPECT_EQ(parquet.body.substr(0, 4), "PAR1");
  EXPECT_EQ(Call("GET", base + "?format=xml", ana_).status, 400);
  // Someone else reads it as missing; a run ending in a write keeps none.
  ASSERT_EQ(
      Call("POST", "/v1/users", admin_, json{{"name", "eve"}, {"password", "eve-secret-123"}}.dump()).status,
      201);
  EXPECT_EQ(Call("GET", base, Login("eve", "eve-secret-123")).status, 404);
  auto write = SubmitOk(ana_, "INSERT INTO d.t VALUES (3)");
  EXPECT_TRUE(WaitFor(ana_, write, "SUCCESS")["result"].is_null());
  EXPECT_EQ(Call("GET", "/v1/applications/default/jobruns/" + write + "/result", ana_).status, 404);
}

TEST_F(JobStepsTest, CpuTimeAndPeakMemoryAreMeasuredPerRun) {
  auto light = WaitFor(ana_, SubmitOk(ana_, "SELECT 1"), "SUCCESS")["resource_utilization"];
  auto heavy =
      WaitFor(ana_,
              SubmitOk(ana_,
                       "SELECT count(*) FROM (SELECT DISTINCT i % 1000000 AS k, 'x' || (i % 1000000) AS s "
                       "FROM range(3000000) r(i))"),
              "SUCCESS")["resource_utilization"];
  ASSERT_TRUE(heavy["cpu_seconds"].is_number()) << heavy;
  ASSERT_TRUE(heavy["peak_memory_bytes"].is_number()) << heavy;
  // A hash aggregate over 3 million rows costs far more than SELECT 1, and holds its
  // hash table (tens of megabytes) in the engine's buffer pool.
  EXPECT_GT(heavy["cpu_seconds"].get<double>(), 0.05) << heavy;
  EXPECT_GT(heavy["cpu_seconds"].get<double>(), 20 * light["cpu_seconds"].get<double>()) << light << heavy;
  EXPECT_GT(heavy["peak_memory_bytes"].get<int64_t>(), 10 << 20) << heavy;
}

}  // namespace
}  // namespace tarn::testing
