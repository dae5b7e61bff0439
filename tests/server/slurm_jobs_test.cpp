// Job runs on the slurm executor: a real server on PostgreSQL, workers started by the
// test Slurm cluster (scripts/lib/slurm.sh) as `tarn worker`, over real HTTP.
#include <gmock/gmock.h>

#include <fstream>

#include "jobs/job_store.h"
#include "jobs_fixture.h"
#include "scale/credential.h"
#include "scale/slurm.h"
#include "store/store.h"

namespace tarn::testing {
namespace {

using ::testing::HasSubstr;

// A governed table ana reads with a row filter (EU only) and a mask (email), in four files.
constexpr const char* kSetup =
    "CREATE DATABASE sales;"
    "CREATE TABLE sales.orders AS SELECT i AS id, CASE WHEN i % 3 = 0 THEN 'EU' ELSE 'US' END AS region, "
    "  'user' || i || '@example.com' AS email, (i * 7) % 100 AS amount, i % 10 AS customer "
    "  FROM range(1, 2001) t(i);"
    "INSERT INTO sales.orders SELECT i, 'EU', 'late' || i || '@example.com', i % 50, i % 10 FROM range(2001, "
    "2501) t(i);"
    "INSERT INTO sales.orders SELECT i, 'APAC', 'apac' || i || '@example.com', 5, i % 10 FROM range(2501, "
    "2601) t(i);"
    "CREATE TABLE sales.customers AS SELECT i AS customer, 'segment-' || (i % 3) AS segment FROM range(0, "
    "10) t(i);"
    "CREATE DATA FILTER eu ON sales.orders ROW FILTER region = 'EU';"
    "GRANT SELECT ON DATA FILTER eu TO GROUP analysts;"
    "GRANT SELECT ON TABLE sales.customers TO GROUP analysts;"
    "ALTER TABLE sales.orders ALTER COLUMN email SET MASK regexp_replace(email, '^[^@]+', '***')";

// What ana runs: a join, a grouping, a window, the mask, the filter.
constexpr const char* kQuery =
    "SELECT c.segment, count(*) AS orders, sum(o.amount) AS amount, min(o.email) AS first_email, "
    "  rank() OVER (ORDER BY sum(o.amount) DESC) AS place "
    "FROM sales.orders o JOIN sales.customers c ON o.customer = c.customer "
    "GROUP BY c.segment ORDER BY c.segment";

class SlurmJobsTest : public JobsFixture {
 protected:
  void SetUp() override {
    if (!std::getenv("TARN_TEST_SLURM_ROOT") || !std::getenv("SLURM_CONF")) {
      const char* ci = std::getenv("CI");
      if (ci && std::string(ci) == "true")
        FAIL() << "Slurm tests are required in CI but no test cluster runs";
      GTEST_SKIP() << "no Slurm test cluster (run scripts/test, which starts one)";
    }
    pg_ = std::make_unique<TestMetastore>("postgresql", dir_.path());
    TARN_REQUIRE_METASTORE(*pg_);
    options_.metastore = pg_->location();
    JobsFixture::SetUp();
    auto r = Sql(admin_, kSetup);
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(Call("POST", "/v1/applications", admin_, json{{"name", "here"}}.dump()).status, 201);
    json far = {{"name", "far"}, {"executor", {{"type", "slurm"}, {"partition", "debug"}, {"max_nodes", 3}}}};
    auto created = Call("POST", "/v1/applications", admin_, far.dump());
    ASSERT_EQ(created.status, 201) << created.body;
    EXPECT_EQ(Json(created)["executor"]["type"], "slurm");
    for (auto app : {"here", "far"})
      ASSERT_EQ(Sql(admin_, std::string("GRANT SUBMIT ON APPLICATION ") + app + " TO GROUP analysts").status,
                200);
  }
  void Configure(server::ServerConfig& config) override {
    config.slurm_poll_ms = 100;
    config.slurm_worker_program = TARN_BINARY;  // not this test program, which serves here
  }

  // Polls until the run ends (up to `limit`); returns it.
  json WaitEnded(const std::string& id, const std::string& app,
                 std::chrono::seconds limit = std::chrono::seconds(90)) {
    auto until = std::chrono::steady_clock::now() + limit;
    json run;
    while (std::chrono::steady_clock::now() < until) {
      run = Run(ana_, id, app);
      std::string s = run["state"];
      if (s == "SUCCESS" || s == "FAILED" || s == "CANCELLED") return run;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "run " << id << " did not end: " << run.dump();
    return run;
  }
  json Result(const std::string& id, const std::string& app) {
    auto r = Call("GET", "/v1/applications/" + app + "/jobruns/" + id + "/result?format=json", ana_);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? Json(r) : json();
  }
  std::string Log(const std::string& id, const std::string& app) {
    auto logs = Json(Call("GET", "/v1/applications/" + app + "/jobruns/" + id + "/logs", ana_));
    std::string all;
    for (auto& l : logs["lines"]) all += l["message"].get<std::string>() + "\n";
    return all;
  }
  // The Slurm job id the run's log names for its first task.
  std::string SlurmJob(const std::string& log) {
    auto at = log.find("Slurm job ");
    if (at == std::string::npos) return "";
    at += 10;
    return log.substr(at, log.find(' ', at) - at);
  }
  std::filesystem::path Scratch() { return dir_.path() / "lake" / "_tarn" / "scratch"; }
  bool ScratchEmpty() {
    std::error_code ec;
    return !std::filesystem::exists(Scratch(), ec) || std::filesystem::is_empty(Scratch(), ec);
  }

  std::unique_ptr<TestMetastore> pg_;
  scale::SlurmClient slurm_;
};

TEST_F(SlurmJobsTest, AGovernedQueryOnTheClusterGivesTheLocalResult) {
  auto local = SubmitOk(ana_, kQuery, "here");
  auto far = SubmitOk(ana_, kQuery, "far");
  ASSERT_EQ(WaitEnded(local, "here")["state"], "SUCCESS");
  auto run = WaitEnded(far, "far");
  ASSERT_EQ(run["state"], "SUCCESS") << run.dump() << Log(far, "far");
  auto expected = Result(local, "here"), got = Result(far, "far");
  EXPECT_EQ(got["rows"], expected["rows"]);
  EXPECT_EQ(got["columns"], expected["columns"]);
  ASSERT_EQ(expected["rows"].size(), 3u);
  // Only EU rows (1167 of 2600), emails masked: the node computed the governed scan.
  int64_t orders = 0;
  for (auto& row : got["rows"]) {
    orders += row["orders"].get<int64_t>();
    EXPECT_THAT(row["first_email"].get<std::string>(), ::testing::StartsWith("***@"));
  }
  EXPECT_EQ(orders, 666 + 500);
  auto log = Log(far, "far");
  EXPECT_THAT(log, HasSubstr("statement 1: Slurm job "));
  EXPECT_THAT(log, ::testing::ContainsRegex("task ended on n[1-3]: 3 rows"));
  auto job = SlurmJob(log);
  auto jobs = slurm_.Jobs(job);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].state, "COMPLETED");
  EXPECT_TRUE(ScratchEmpty());  // the run's private folder went with it
  // The audit names ana's read with the filter and the mask, as for a local run.
  auto audit =
      Json(Sql(admin_, "SELECT user_name, resources FROM system.audit WHERE origin->>'job_run_id' = '" + far +
                           "' AND event = 'statement'"));
  ASSERT_EQ(audit["rows"].size(), 1u) << audit.dump();
  EXPECT_EQ(audit["rows"][0][0], "ana");
  EXPECT_THAT(audit["rows"][0][1].dump(), HasSubstr("DATA FILTER eu"));
  EXPECT_THAT(audit["rows"][0][1].dump(), HasSubstr("\"masks\":[\"email\"]"));
}

TEST_F(SlurmJobsTest, CancelStopsTheSlurmJobAndRemovesTheScratchFolder) {
  auto id = SubmitOk(ana_, std::string(kLong), "far");
  std::string job;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < until) {
    job = SlurmJob(Log(id, "far"));
    if (!job.empty() && !slurm_.Jobs(job).empty() && slurm_.Jobs(job)[0].state == "RUNNING") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(job.empty());
  // The run's details follow Slurm's view of it.
  until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  json run;
  while (std::chrono::steady_clock::now() < until) {
    run = Run(ana_, id, "far");
    if (run["state_details"].get<std::string>().find("RUNNING on n") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_THAT(run["state_details"].get<std::string>(), HasSubstr("Slurm job " + job + " RUNNING on n"));
  ASSERT_EQ(Call("DELETE", "/v1/applications/far/jobruns/" + id, ana_).status, 200);
  run = WaitEnded(id, "far", std::chrono::seconds(30));
  EXPECT_EQ(run["state"], "CANCELLED");
  until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < until && !slurm_.Jobs(job).at(0).Ended())
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(slurm_.Jobs(job).at(0).state, "CANCELLED");
  EXPECT_TRUE(ScratchEmpty());
}

TEST_F(SlurmJobsTest, ATaskCredentialServesOnlyItsOwnTaskAndExpires) {
  auto id = SubmitOk(ana_, std::string(kLong), "far");
  std::filesystem::path file;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < until) {
    std::error_code ec;
    for (auto& d : std::filesystem::directory_iterator(Scratch(), ec))
      if (std::filesystem::exists(d.path() / "t1" / "credential")) file = d.path() / "t1" / "credential";
    if (!file.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(file.empty());
  EXPECT_EQ(std::filesystem::status(file).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::ifstream in(file);
  std::string credential((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto get = [&](const std::string& task, const std::string& authorization) {
    return server::Fetch("GET", base_ + "/v1/worker/tasks/" + id + "/" + task,
                         {{"Authorization", authorization}}, "", client_);
  };
  auto own = get("t1", "Task " + credential);
  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_THAT(Json(own)["sql"].get<std::string>(), HasSubstr("range"));
  EXPECT_EQ(get("t2", "Task " + credential).status, 401);
  EXPECT_THAT(get("t2", "Task " + credential).body, HasSubstr("missing or invalid credentials"));
  EXPECT_EQ(get("t1", "Bearer " + ana_).status, 401);  // a user's token is no task credential
  EXPECT_EQ(get("t1", "").status, 401);
  // Signed with the server's own key, for this very task, but expired.
  auto meta = store::MetaStore::Open(pg_->location());
  scale::TaskSigner signer(scale::TaskSigningKey(*meta));
  auto expired = signer.Sign({id, "t1", 1, "ana", "", "", tarn::jobs::NowMs() - 1});
  EXPECT_EQ(get("t1", "Task " + expired).status, 401);
  // A report with another task's credential is refused and changes nothing.
  auto other = signer.Sign({id, "t2", 1, "ana", "", "", tarn::jobs::NowMs() + 60000});
  auto report = server::Fetch("POST", base_ + "/v1/worker/tasks/" + id + "/t1/report",
                              {{"Authorization", "Task " + other}, {"Content-Type", "application/json"}},
                              R"({"ok": true, "rows": 0})", client_);
  EXPECT_EQ(report.status, 401);
  ASSERT_EQ(Call("DELETE", "/v1/applications/far/jobruns/" + id, ana_).status, 200);
  EXPECT_EQ(WaitEnded(id, "far", std::chrono::seconds(30))["state"], "CANCELLED");
  EXPECT_EQ(get("t1", "Task " + credential).status, 404);  // the task ended with the run
}

TEST_F(SlurmJobsTest, AQueryThatFailsOnTheNodeFailsTheRunWithItsError) {
  auto id = SubmitOk(ana_, "SELECT CAST(region || 'x' AS INTEGER) FROM sales.orders", "far");
  auto run = WaitEnded(id, "far");
  EXPECT_EQ(run["state"], "FAILED");
  EXPECT_THAT(run["state_details"].get<std::string>(), HasSubstr("Could not convert string 'EUx' to INT32"));
  EXPECT_TRUE(ScratchEmpty());
}

TEST_F(SlurmJobsTest, WhatOnlyTheServerCanReadRunsThereAndSaysSo) {
  auto id = SubmitOk(ana_, "SELECT count(*) AS n FROM information_schema.tables", "far");
  auto run = WaitEnded(id, "far");
  EXPECT_EQ(run["state"], "SUCCESS") << run.dump();
  EXPECT_THAT(Log(id, "far"),
              HasSubstr("statement 1 runs on the server: this query reads information_schema.tables"));
}

// Without PostgreSQL the slurm executor is refused with the reason (no cluster needed).
class SlurmOnSqliteTest : public ServerTest {};

TEST_F(SlurmOnSqliteTest, AnApplicationOnTheSlurmExecutorNeedsPostgreSQL) {
  auto admin = Login("admin", kAdminPassword);
  auto r = Call("POST", "/v1/applications", admin, R"({"name": "far", "executor": {"type": "slurm"}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("the slurm executor needs the PostgreSQL metadata store"));
  EXPECT_EQ(Call("GET", "/v1/applications/far", admin).status, 404);
}

}  // namespace
}  // namespace tarn::testing
