// Jobs over real HTTP: applications, job runs through the Runner as their submitter,
// states and logs, idempotent submission, cancel, queueing, visibility, bad input.
#include <gmock/gmock.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <tuple>

#include "jobs_fixture.h"

namespace tarn::testing {
namespace {

using ::testing::HasSubstr;

using JobsTest = JobsFixture;

TEST_F(JobsTest, ARunExecutesAsItsSubmitterThroughEveryStateAndIsAudited) {
  auto id = SubmitOk(ana_, "SELECT 1 AS a; SELECT i FROM range(5) r(i)");
  auto run = WaitFor(ana_, id, "SUCCESS");
  EXPECT_EQ(run["created_by"], "ana");
  EXPECT_EQ(run["attempt"], 1);
  EXPECT_EQ(run["progress"]["statements_done"], 2);
  EXPECT_EQ(run["progress"]["statements_total"], 2);
  EXPECT_EQ(run["progress"]["rows_returned"], 6);
  EXPECT_TRUE(run["started_at"].is_string());
  EXPECT_TRUE(run["ended_at"].is_string());
  EXPECT_GE(run["queued_duration_ms"].get<int64_t>(), 0);
  EXPECT_EQ(LogStates(ana_, id),
            (std::vector<std::string>{"SUBMITTED", "PENDING", "QUEUED", "SCHEDULED", "RUNNING", "SUCCESS"}));
  auto logs = Json(Call("GET", "/v1/applications/default/jobruns/" + id + "/logs", ana_));
  EXPECT_THAT(logs.dump(), HasSubstr("statement 2 of 2 started"));
  EXPECT_THAT(logs.dump(), HasSubstr("statement 2 ended: SELECT, 5 rows"));
  // Paging through the log.
  auto page = Json(Call("GET", "/v1/applications/default/jobruns/" + id + "/logs?from=2&size=2", ana_));
  ASSERT_EQ(page["lines"].size(), 2u);
  EXPECT_EQ(page["lines"][0]["line"], 3);
  EXPECT_EQ(page["next"], 4);
  // Each statement's audit record names ana and the job run.
  auto audit = Json(Sql(admin_,
                        "SELECT user_name, origin->>'kind' FROM system.audit WHERE "
                        "origin->>'job_run_id' = '" +
                            id + "' AND event = 'statement'"));
  ASSERT_EQ(audit["rows"].size(), 2u) << audit.dump();
  EXPECT_EQ(audit["rows"][0][0], "ana");
  EXPECT_EQ(audit["rows"][0][1], "job");
}

TEST_F(JobsTest, ARunIsGovernedLikeAnyStatementOfItsSubmitter) {
  ASSERT_EQ(Sql(admin_, "CREATE DATABASE d; CREATE TABLE d.secret AS SELECT 1 AS x").status, 200);
  auto id = SubmitOk(ana_, "SELECT 1; SELECT * FROM d.secret; SELECT 3");
  auto run = WaitFor(ana_, id, "FAILED");
  EXPECT_THAT(run["state_details"].get<std::string>(), HasSubstr("does not exist"));
  EXPECT_EQ(run["progress"]["statements_done"], 1);
  // Granted, the same script succeeds.
  ASSERT_EQ(Sql(admin_, "GRANT SELECT ON TABLE d.secret TO USER ana").status, 200);
  WaitFor(ana_, SubmitOk(ana_, "SELECT 1; SELECT * FROM d.secret; SELECT 3"), "SUCCESS");
}

TEST_F(JobsTest, ARevokeDuringARunStopsItsLaterStatements) {
  ASSERT_EQ(Sql(admin_,
                "CREATE DATABASE d; CREATE TABLE d.secret AS SELECT 1 AS x; "
                "GRANT SELECT ON TABLE d.secret TO USER ana")
                .status,
            200);
  // The first statement reads d.secret for a few seconds; the grant goes meanwhile.
  auto id = SubmitOk(ana_,
                     "SELECT count(*) FROM d.secret, range(500000000) r(i) WHERE i % 7 = 3; "
                     "SELECT * FROM d.secret");
  WaitFor(ana_, id, "RUNNING");
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (RunningStatements() == 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(Sql(admin_, "REVOKE SELECT ON TABLE d.secret FROM USER ana").status, 200);
  auto run = WaitFor(ana_, id, "FAILED");
  EXPECT_EQ(run["progress"]["statements_done"], 1) << run.dump();  // the first ran with the grant
  EXPECT_THAT(run["state_details"].get<std::string>(), HasSubstr("d.secret"));
}

TEST_F(JobsTest, AClientTokenMakesSubmissionIdempotent) {
  json token = {{"client_token", "nightly-2026-12-04"}};
  auto first = Submit(ana_, "SELECT 1", "default", token);
  ASSERT_EQ(first.status, 201) << first.body;
  auto again = Submit(ana_, "SELECT 1", "default", token);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Json(again)["job_run_id"], Json(first)["job_run_id"]);
  auto other = Submit(ana_, "SELECT 2", "default", token);
  EXPECT_EQ(other.status, 409) << other.body;
  EXPECT_THAT(other.body, HasSubstr("client_token"));
  // Another principal's token is theirs.
  EXPECT_EQ(Submit(admin_, "SELECT 2", "default", token).status, 201);
  auto list = Json(Call("GET", "/v1/applications/default/jobruns", ana_));
  EXPECT_EQ(list["job_runs"].size(), 1u);
}

TEST_F(JobsTest, CancelStopsTheEngineWorkWithinASecond) {
  auto id = SubmitOk(ana_, kLong);
  WaitFor(ana_, id, "RUNNING");
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (RunningStatements() == 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(RunningStatements(), 1u);
  auto sent = std::chrono::steady_clock::now();
  auto r = Call("DELETE", "/v1/applications/default/jobruns/" + id, ana_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(Json(r)["state"].get<std::string>(), ::testing::AnyOf("CANCELLING", "CANCELLED"));
  auto run = WaitFor(ana_, id, "CANCELLED");
  EXPECT_LT(std::chrono::steady_clock::now() - sent, std::chrono::seconds(1));
  EXPECT_EQ(RunningStatements(), 0u);
  EXPECT_EQ(run["state_details"], "cancelled by ana");
  // An ended run cannot be cancelled again.
  EXPECT_EQ(Call("DELETE", "/v1/applications/default/jobruns/" + id, ana_).status, 409);
}

TEST_F(JobsTest, RunsBeyondTheApplicationsConcurrencyWaitInSubmissionOrder) {
  auto app = Call("POST", "/v1/applications", admin_,
                  json{{"name", "one-at-a-time"}, {"max_concurrent_runs", 1}}.dump());
  ASSERT_EQ(app.status, 201) << app.body;
  std::string a = Json(app)["id"];
  auto first = SubmitOk(admin_, kLong, a);
  auto second = SubmitOk(admin_, "SELECT 2", a);
  auto third = SubmitOk(admin_, "SELECT 3", a);
  WaitFor(admin_, first, "RUNNING", a);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(Run(admin_, second, a)["state"], "QUEUED");
  EXPECT_EQ(Run(admin_, third, a)["state"], "QUEUED");
  ASSERT_EQ(Call("DELETE", "/v1/applications/" + a + "/jobruns/" + first, admin_).status, 200);
  auto s2 = WaitFor(admin_, second, "SUCCESS", a);
  auto s3 = WaitFor(admin_, third, "SUCCESS", a);
  EXPECT_LE(s2["started_at"].get<std::string>(), s3["started_at"].get<std::string>());
  EXPECT_EQ(Json(Call("GET", "/v1/applications/" + a + "/jobruns?state=SUCCESS", admin_))["job_runs"].size(),
            2u);
}

TEST_F(JobsTest, ARunWhoseSubmitterWasRemovedFailsWhenItWouldStart) {
  ASSERT_EQ(
      Call("POST", "/v1/users", admin_, json{{"name", "bob"}, {"password", "bob-secret-123"}}.dump()).status,
      201);
  auto bob = Login("bob", "bob-secret-123");
  // `default` runs one run at a time and that one is busy, so bob's run waits in QUEUED.
  ASSERT_EQ(Call("PUT", "/v1/applications/default", admin_, json{{"max_concurrent_runs", 1}}.dump()).status,
            200);
  std::vector<std::string> blockers = {SubmitOk(admin_, kLong)};
  WaitFor(admin_, blockers[0], "RUNNING");
  auto queued = SubmitOk(bob, "SELECT 1");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(Run(bob, queued)["state"], "QUEUED");
  ASSERT_EQ(Call("DELETE", "/v1/users/bob", admin_).status, 200);
  ASSERT_EQ(Call("DELETE", "/v1/applications/default/jobruns/" + blockers[0], admin_).status, 200);
  auto run = WaitFor(admin_, queued, "FAILED");
  EXPECT_EQ(run["state_details"], "principal no longer exists");
  for (auto& b : blockers) Call("DELETE", "/v1/applications/default/jobruns/" + b, admin_);
}

TEST_F(JobsTest, AFailedAttemptIsRetriedWhileAttemptsRemainAndEachIsListed) {
  // Fails until d.flag exists: the script's second statement creates nothing, so all
  // three attempts fail alike; a table created meanwhile lets a later run succeed.
  auto r =
      Submit(ana_, "SELECT 1; SELECT * FROM d.flag", "default", {{"retry_policy", {{"max_attempts", 3}}}});
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = Json(r)["job_run_id"];
  auto run = WaitFor(ana_, id, "FAILED");
  EXPECT_EQ(run["attempt"], 3);
  EXPECT_EQ(run["retry_policy"]["max_attempts"], 3);
  auto attempts = Json(Call("GET", "/v1/applications/default/jobruns/" + id + "/attempts", ana_))["attempts"];
  ASSERT_EQ(attempts.size(), 3u) << attempts.dump();
  for (int i = 0; i < 3; i++) {
    EXPECT_EQ(attempts[i]["attempt"], i + 1);
    EXPECT_EQ(attempts[i]["state"], "FAILED");
    EXPECT_THAT(attempts[i]["state_details"].get<std::string>(), HasSubstr("d.flag"));
    EXPECT_TRUE(attempts[i]["ended_at"].is_string());
  }
  auto states = LogStates(ana_, id);
  EXPECT_EQ(std::count(states.begin(), states.end(), "RUNNING"), 3);
  // The default is one attempt; a retry_policy out of range is refused.
  auto once = WaitFor(ana_, SubmitOk(ana_, "SELECT * FROM d.flag"), "FAILED");
  EXPECT_EQ(once["attempt"], 1);
  EXPECT_EQ(Submit(ana_, "SELECT 1", "default", {{"retry_policy", {{"max_attempts", 11}}}}).status, 400);
  EXPECT_EQ(Submit(ana_, "SELECT 1", "default", {{"retry_policy", {{"tries", 2}}}}).status, 400);
}

TEST_F(JobsTest, ApplicationsAreUpdatedStoppedStartedAndDeletedOnlyWhenIdle) {
  auto created = Call("POST", "/v1/applications", admin_, json{{"name", "lifecycle"}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  std::string a = Json(created)["id"];
  auto running = SubmitOk(admin_, kLong, a);
  WaitFor(admin_, running, "RUNNING", a);
  for (auto [method, path, body] : {std::tuple{"PUT", "", R"({"max_concurrent_runs": 3})"},
                                    std::tuple{"POST", "/stop", ""}, std::tuple{"DELETE", "", ""}}) {
    auto r = Call(method, "/v1/applications/" + a + path, admin_, body);
    EXPECT_EQ(r.status, 409) << method << path << " " << r.body;
    EXPECT_THAT(r.body, HasSubstr("have not ended"));
  }
  ASSERT_EQ(Call("DELETE", "/v1/applications/" + a + "/jobruns/" + running, admin_).status, 200);
  WaitFor(admin_, running, "CANCELLED", a);
  auto updated = Call("PUT", "/v1/applications/" + a, admin_, R"({"max_concurrent_runs": 3})");
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(Json(updated)["max_concurrent_runs"], 3);
  EXPECT_EQ(Json(updated)["queue_timeout_minutes"], 360);  // unchanged
  EXPECT_EQ(Call("PUT", "/v1/applications/" + a, admin_, R"({"name": "other"})").status, 400);
  // ana holds nothing on it: it reads as missing.
  EXPECT_EQ(Call("PUT", "/v1/applications/" + a, ana_, R"({"max_concurrent_runs": 4})").status, 404);
  auto stopped = Call("POST", "/v1/applications/" + a + "/stop", admin_);
  ASSERT_EQ(stopped.status, 200) << stopped.body;
  EXPECT_EQ(Json(stopped)["state"], "STOPPED");
  auto refused = Submit(admin_, "SELECT 1", a);
  EXPECT_EQ(refused.status, 409);
  EXPECT_THAT(refused.body, HasSubstr("STOPPED"));
  EXPECT_EQ(Json(Call("POST", "/v1/applications/" + a + "/start", admin_))["state"], "STARTED");
  WaitFor(admin_, SubmitOk(admin_, "SELECT 1", a), "SUCCESS", a);
  ASSERT_EQ(Call("DELETE", "/v1/applications/" + a, admin_).status, 200);
  EXPECT_EQ(Call("GET", "/v1/applications/" + a, admin_).status, 404);
  EXPECT_EQ(Call("GET", "/v1/applications/" + a + "/jobruns/" + running, admin_).status, 404);
  EXPECT_EQ(Call("DELETE", "/v1/applications/default", admin_).status, 409);
}

TEST_F(JobsTest, OthersRunsReadAsMissing) {
  auto id = SubmitOk(ana_, "SELECT 1");
  WaitFor(ana_, id, "SUCCESS");
  ASSERT_EQ(Call("POST", "/v1/users", admin_, json{{"name", "carl"}, {"password", "carl-secret-123"}}.dump())
                .status,
            201);
  auto carl = Login("carl", "carl-secret-123");
  auto mine = Call("GET", "/v1/applications/default/jobruns/" + id, carl);
  auto none = Call("GET", "/v1/applications/default/jobruns/jr-00000000000000000000", carl);
  EXPECT_EQ(mine.status, 404);
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(Json(mine)["error"]["message"].get<std::string>().find(id) != std::string::npos, true);
  EXPECT_EQ(Call("DELETE", "/v1/applications/default/jobruns/" + id, carl).status, 404);
  EXPECT_EQ(Call("GET", "/v1/applications/default/jobruns/" + id + "/logs", carl).status, 404);
  EXPECT_TRUE(Json(Call("GET", "/v1/applications/default/jobruns", carl))["job_runs"].empty());
  // The administrator sees it.
  EXPECT_EQ(Call("GET", "/v1/applications/default/jobruns/" + id, admin_).status, 200);
}

TEST_F(JobsTest, BadInputIs400NamingTheFieldAndQueuesNothing) {
  auto bad = [&](const std::string& body, const std::string& says) {
    auto r = Call("POST", "/v1/applications/default/jobruns", ana_, body);
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    EXPECT_THAT(r.body, HasSubstr(says)) << body;
  };
  bad("not json", "JSON object");
  bad("[1]", "JSON object");
  bad(R"({"job": {"type": "sql", "script": "SELECT 1"}, "colour": "red"})", "unknown field 'colour'");
  bad(R"({"name": "x"})", "field 'job' is required");
  bad(R"({"job": {"type": "spark", "script": "SELECT 1"}})", "job.type");
  bad(R"({"job": {"type": "sql", "script": 42}})", "field 'script' must be a string");
  bad(R"({"job": {"type": "sql", "script": " ; "}})", "no statement");
  bad(R"({"job": {"type": "sql", "script": "SELECT 1"}, "client_token": "a b"})", "client_token");
  bad(R"({"job": {"type": "sql", "script": "SELECT 1"}, "timeout_minutes": -5})", "timeout_minutes");
  bad(R"({"job": {"type": "sql", "script": "SELECT 1"}, "execution_role": "a b"})", "execution_role");
  bad(R"({"job": {"type": "sql", "script": "SELECT 1"}, "execution_role": 7})", "execution_role");
  EXPECT_TRUE(Json(Call("GET", "/v1/applications/default/jobruns", ana_))["job_runs"].empty());
  EXPECT_EQ(Call("GET", "/v1/applications/default/jobruns?state=DONE", ana_).status, 400);
  EXPECT_EQ(Submit(ana_, "SELECT 1", "no-such-app").status, 404);
  // Creating applications takes CREATE APPLICATION; bad fields named.
  EXPECT_EQ(Call("POST", "/v1/applications", ana_, R"({"name": "mine"})").status, 403);
  auto r = Call("POST", "/v1/applications", admin_, R"({"name": "x", "max_concurrent_runs": 0})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("max_concurrent_runs"));
  EXPECT_EQ(Call("POST", "/v1/applications", admin_, R"({"name": "bad name"})").status, 400);
  ASSERT_EQ(Call("POST", "/v1/applications", admin_, R"({"name": "etl"})").status, 201);
  EXPECT_EQ(Call("POST", "/v1/applications", admin_, R"({"name": "etl"})").status, 409);
  // Non-administrators see only the default application.
  auto apps = Json(Call("GET", "/v1/applications", ana_))["applications"];
  ASSERT_EQ(apps.size(), 1u);
  EXPECT_EQ(apps[0]["id"], "default");
  EXPECT_EQ(Json(Call("GET", "/v1/applications", admin_))["applications"].size(), 2u);
}

// Who may create, submit to and manage applications is governed by grants.
TEST_F(JobsTest, ApplicationsAreGovernedByCreateSubmitAndManageGrants) {
  ASSERT_EQ(
      Call("POST", "/v1/users", admin_, json{{"name", "bob"}, {"password", "bob-secret-123"}}.dump()).status,
      201);
  auto bob = Login("bob", "bob-secret-123");
  auto create = [&](const std::string& token) {
    return Call("POST", "/v1/applications", token, R"({"name": "ana_etl"})");
  };
  auto refused = create(ana_);
  EXPECT_EQ(refused.status, 403);
  EXPECT_THAT(refused.body, HasSubstr("CREATE APPLICATION"));
  ASSERT_EQ(Sql(admin_, "GRANT CREATE APPLICATION TO USER ana").status, 200);
  auto created = create(ana_);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string app = Json(created)["id"];
  // The creator owns it: may change it and grant on it; bob sees nothing of it.
  EXPECT_EQ(Call("PUT", "/v1/applications/" + app, ana_, R"({"max_concurrent_runs": 4})").status, 200);
  EXPECT_EQ(Call("GET", "/v1/applications/" + app, bob).status, 404);
  EXPECT_EQ(Submit(bob, "SELECT 1", app).status, 404);
  auto granted = Sql(ana_, "GRANT SUBMIT ON APPLICATION ana_etl TO USER bob");
  ASSERT_EQ(granted.status, 200) << granted.body;
  auto bobs = Submit(bob, "SELECT 2", app);
  ASSERT_EQ(bobs.status, 201) << bobs.body;
  std::string run = Json(bobs)["job_run_id"];
  WaitFor(bob, run, "SUCCESS", app);
  // SUBMIT is not MANAGE: bob may not change it or see ana's runs; ana (ALL) sees bob's.
  EXPECT_EQ(Call("PUT", "/v1/applications/" + app, bob, R"({"max_concurrent_runs": 2})").status, 403);
  EXPECT_EQ(Call("POST", "/v1/applications/" + app + "/stop", bob).status, 403);
  auto anas = SubmitOk(ana_, "SELECT 3", app);
  EXPECT_EQ(Call("GET", "/v1/applications/" + app + "/jobruns/" + anas, bob).status, 404);
  EXPECT_EQ(Call("GET", "/v1/applications/" + app + "/jobruns/" + run, ana_).status, 200);
  EXPECT_EQ(Json(Call("GET", "/v1/applications/" + app + "/jobruns", ana_))["job_runs"].size(), 2u);
  EXPECT_EQ(Json(Call("GET", "/v1/applications/" + app + "/jobruns", bob))["job_runs"].size(), 1u);
  // MANAGE lets bob see and cancel every run; revoking it takes that away again.
  ASSERT_EQ(Sql(ana_, "GRANT MANAGE ON APPLICATION ana_etl TO USER bob").status, 200);
  EXPECT_EQ(Call("GET", "/v1/applications/" + app + "/jobruns/" + anas, bob).status, 200);
  ASSERT_EQ(Sql(ana_, "REVOKE MANAGE ON APPLICATION ana_etl FROM USER bob").status, 200);
  ASSERT_EQ(Sql(ana_, "REVOKE SUBMIT ON APPLICATION ana_etl FROM USER bob").status, 200);
  EXPECT_EQ(Submit(bob, "SELECT 4", app).status, 404);
  // Grants name existing applications and the privileges applications have.
  EXPECT_EQ(Sql(ana_, "GRANT SUBMIT ON APPLICATION nope TO USER bob").status, 404);
  EXPECT_EQ(Sql(ana_, "GRANT SELECT ON APPLICATION ana_etl TO USER bob").status, 400);
  EXPECT_EQ(Sql(bob, "GRANT SUBMIT ON APPLICATION ana_etl TO USER bob").status, 403);
  // Deleting the application takes its grants with it.
  WaitFor(ana_, anas, "SUCCESS", app);
  ASSERT_EQ(Call("DELETE", "/v1/applications/" + app, ana_).status, 200);
  auto grants = Json(Sql(admin_, "SHOW GRANTS"));
  EXPECT_THAT(grants.dump(), ::testing::Not(HasSubstr("ana_etl"))) << grants.dump();
  EXPECT_THAT(grants.dump(), ::testing::Not(HasSubstr(app))) << grants.dump();
}

// A run with an execution_role reads with that role's grants only; the submitter needs
// ASSUME on it; the audit names both the person and the role.
TEST_F(JobsTest, AnExecutionRoleRunsWithTheRolesGrantsAndTheAuditNamesBoth) {
  for (const char* sql : {"CREATE DATABASE vault", "CREATE TABLE vault.secret AS SELECT 42 AS answer",
                          "CREATE ROLE reporting", "GRANT SELECT ON TABLE vault.secret TO ROLE reporting"}) {
    ASSERT_EQ(Sql(admin_, sql).status, 200) << sql;
  }
  json as_reporting = {{"execution_role", "reporting"}};
  auto refused = Submit(ana_, "SELECT * FROM vault.secret", "default", as_reporting);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_THAT(refused.body, HasSubstr("ASSUME"));
  // A role that does not exist reads the same to ana; an administrator is told it is unknown.
  auto unknown = Submit(ana_, "SELECT 1", "default", {{"execution_role", "ghost"}});
  EXPECT_EQ(unknown.status, 403);
  EXPECT_EQ(Json(unknown)["error"]["message"].get<std::string>().find("does not exist"), std::string::npos);
  EXPECT_EQ(Submit(admin_, "SELECT 1", "default", {{"execution_role", "ghost"}}).status, 400);
  EXPECT_EQ(Sql(ana_, "GRANT ASSUME ON ROLE reporting TO USER ana").status, 403);
  ASSERT_EQ(Sql(admin_, "GRANT ASSUME ON ROLE reporting TO USER ana").status, 200);
  auto r = Submit(ana_, "SELECT * FROM vault.secret", "default", as_reporting);
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = Json(r)["job_run_id"];
  auto run = WaitFor(ana_, id, "SUCCESS");
  EXPECT_EQ(run["created_by"], "ana");
  EXPECT_EQ(run["execution_role"], "reporting");
  // Without the role, ana's own grants: the table does not exist for her.
  auto own = WaitFor(ana_, SubmitOk(ana_, "SELECT * FROM vault.secret"), "FAILED");
  EXPECT_EQ(own["execution_role"], nullptr);
  auto audit = Json(Sql(admin_, "SELECT user_name, roles FROM system.audit WHERE origin->>'job_run_id' = '" +
                                    id + "' AND event = 'statement'"));
  ASSERT_EQ(audit["rows"].size(), 1u) << audit.dump();
  EXPECT_EQ(audit["rows"][0][0], "ana");
  EXPECT_EQ(audit["rows"][0][1], json::array({"reporting"}));
  // The role only: its grants, not ana's (a table only ana may read fails under the role).
  ASSERT_EQ(Sql(admin_, "CREATE TABLE vault.anas AS SELECT 1 AS x").status, 200);
  ASSERT_EQ(Sql(admin_, "GRANT SELECT ON TABLE vault.anas TO USER ana").status, 200);
  WaitFor(ana_, SubmitOk(ana_, "SELECT * FROM vault.anas"), "SUCCESS");
  auto narrowed = Submit(ana_, "SELECT * FROM vault.anas", "default", as_reporting);
  ASSERT_EQ(narrowed.status, 201);
  WaitFor(ana_, Json(narrowed)["job_run_id"], "FAILED");
  // execution_policy narrows the role to what it names, never beyond the role's grants.
  ASSERT_EQ(Sql(admin_, "CREATE TABLE vault.other AS SELECT 1 AS y").status, 200);
  ASSERT_EQ(Sql(admin_, "GRANT SELECT ON TABLE vault.other TO ROLE reporting").status, 200);
  auto narrow = [&](const std::string& script, json policy) {
    json extra = {{"execution_role", "reporting"}, {"execution_policy", policy}};
    auto r = Submit(ana_, script, "default", extra);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? Json(r)["job_run_id"].get<std::string>() : "";
  };
  json only_secret = json::array({"SELECT ON TABLE vault.secret"});
  auto kept = WaitFor(ana_, narrow("SELECT * FROM vault.secret", only_secret), "SUCCESS");
  EXPECT_EQ(kept["execution_policy"], only_secret);
  WaitFor(ana_, narrow("SELECT * FROM vault.other", only_secret), "FAILED");
  WaitFor(ana_, narrow("SELECT * FROM vault.other", json::array({"select on vault.other"})), "SUCCESS");
  // Naming what the role does not hold gives nothing: ana's own table stays out of reach.
  WaitFor(ana_, narrow("SELECT * FROM vault.anas", json::array({"SELECT ON TABLE vault.anas"})), "FAILED");
  for (auto bad :
       {json("SELECT ON TABLE vault.secret"), json::array(), json::array({"SELECT ON"}),
        json::array({"SELECT ON TABLE"}), json::array({"SELECT TO vault.secret"}), json::array({7})}) {
    auto r =
        Submit(ana_, "SELECT 1", "default", {{"execution_role", "reporting"}, {"execution_policy", bad}});
    EXPECT_EQ(r.status, 400) << bad.dump() << " -> " << r.body;
    EXPECT_THAT(r.body, HasSubstr("execution_policy")) << bad.dump();
  }
  auto no_role = Submit(ana_, "SELECT 1", "default", {{"execution_policy", only_secret}});
  EXPECT_EQ(no_role.status, 400);
  EXPECT_THAT(no_role.body, HasSubstr("execution_role"));
  // ASSUME revoked: refused at submission.
  ASSERT_EQ(Sql(admin_, "REVOKE ASSUME ON ROLE reporting FROM USER ana").status, 200);
  EXPECT_EQ(Submit(ana_, "SELECT 1", "default", as_reporting).status, 403);
}

TEST_F(JobsTest, MetricsCountRunsByStateAndTimeQueueWaitAndDuration) {
  WaitFor(ana_, SubmitOk(ana_, "SELECT 1"), "SUCCESS");
  WaitFor(ana_, SubmitOk(ana_, "SELECT * FROM d.nope"), "FAILED");
  auto m = Call("GET", "/metrics", admin_);
  ASSERT_EQ(m.status, 200);
  EXPECT_THAT(m.body, HasSubstr("tarn_job_runs{application=\"default\",state=\"SUCCESS\"} 1\n"));
  EXPECT_THAT(m.body, HasSubstr("tarn_job_runs{application=\"default\",state=\"FAILED\"} 1\n"));
  EXPECT_THAT(m.body, HasSubstr("tarn_job_queue_depth{application=\"default\"} 0\n"));
  EXPECT_THAT(m.body, HasSubstr("tarn_job_queue_wait_seconds_count{application=\"default\"} 2\n"));
  EXPECT_THAT(m.body, HasSubstr("tarn_job_run_duration_seconds_count{application=\"default\"} 2\n"));
  EXPECT_THAT(m.body,
              HasSubstr("tarn_job_run_duration_seconds_bucket{application=\"default\",le=\"+Inf\"} 2\n"));
  // The HTTP histograms still render (they share the histogram code).
  EXPECT_THAT(
      m.body,
      HasSubstr(
          "tarn_http_request_duration_seconds_bucket{route=\"/v1/applications/{app}/jobruns\",le=\"+Inf\"}"));
  EXPECT_EQ(Call("GET", "/metrics", ana_).status, 403);
}

}  // namespace
}  // namespace tarn::testing
