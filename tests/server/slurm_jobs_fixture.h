// The fixture of job runs on the slurm executor: a real server on PostgreSQL, workers
// started by the test Slurm cluster (scripts/lib/slurm.sh) as `tarn worker`.
#pragma once

#include <gmock/gmock.h>

#include <filesystem>
#include <vector>

#include "jobs_fixture.h"
#include "scale/slurm.h"
#include "store/store.h"

namespace tarn::testing {

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
    config.slurm_node_poll_ms = 300;
    // The nodes' file services of the test cluster: the shuffle stays on the nodes.
    if (const char* nodes = std::getenv("TARN_TEST_NODE_SCRATCH")) config.slurm_node_scratch = nodes;
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
  // Waits (up to 60 s) until the run's first Slurm job is RUNNING; returns its id ("" if not).
  std::string WaitSlurmRunning(const std::string& id, const std::string& app) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < until) {
      auto job = SlurmJob(Log(id, app));
      if (!job.empty() && !slurm_.Jobs(job).empty() && slurm_.Jobs(job)[0].state == "RUNNING") return job;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return "";
  }
  // Submits `job` (a job object) as ana; returns the run's id.
  std::string SubmitJob(const std::string& app, const json& job) {
    auto r = Call("POST", "/v1/applications/" + app + "/jobruns", ana_, json{{"job", job}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? Json(r)["job_run_id"].get<std::string>() : "";
  }
  std::filesystem::path Scratch() { return dir_.path() / "lake" / "_tarn" / "scratch"; }
  bool ScratchEmpty() {
    std::error_code ec;
    return (!std::filesystem::exists(Scratch(), ec) || std::filesystem::is_empty(Scratch(), ec)) &&
           NodeFiles().empty();
  }
  // A node's scratch root, if the test cluster's nodes run file services ("" if not).
  std::filesystem::path NodeRoot(const std::string& node) {
    const char* pattern = std::getenv("TARN_TEST_NODE_SCRATCH");
    if (!pattern) return {};
    std::string root = pattern;
    return root.replace(root.find("%n"), 2, node);
  }
  // The map tasks' folders on the nodes' scratch (the test cluster's n1-n3).
  std::vector<std::filesystem::path> NodeFiles() {
    std::vector<std::filesystem::path> out;
    for (auto node : {"n1", "n2", "n3"}) {
      std::error_code ec;
      if (NodeRoot(node).empty()) break;
      for (auto& e : std::filesystem::directory_iterator(NodeRoot(node) / "files", ec))
        out.push_back(e.path());
    }
    return out;
  }

  std::unique_ptr<TestMetastore> pg_;
  scale::SlurmClient slurm_;
};

}  // namespace tarn::testing
