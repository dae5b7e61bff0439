// Durability of job runs: a real `tarn server` process is killed with SIGKILL at
// several moments while 100 runs are submitted and executing, then started again,
// on both metadata backends. Every accepted run must be accounted for: a run that
// had ended keeps its state and result, a queued one still queues, and one that was
// running is retried (attempts left) or ends FAILED, "interrupted"; none stays
// RUNNING, and none runs twice in one attempt.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "server/http_client.h"
#include "test_util.h"

namespace tarn::testing {
namespace {

using json = nlohmann::json;

constexpr int kRuns = 100;
constexpr const char* kQuick = "SELECT 42 AS answer";
constexpr const char* kSlow = "SELECT count(*) AS n FROM range(60000000) r(i) WHERE i % 7 = 3";

class JobCrashTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    meta_ = std::make_unique<TestMetastore>(GetParam(), dir_.path());
    TARN_REQUIRE_METASTORE(*meta_);
    auto init =
        RunTarn({"init", "-d", dir_.path(), "--metastore", meta_->location(), "--admin-password-stdin"},
                "admin-pass-12\n");
    ASSERT_EQ(init.exit_code, 0) << init.err;
    base_ = "http://127.0.0.1:" + std::to_string(FreePort());
  }
  void TearDown() override { Kill(SIGTERM); }

  void Start(const std::map<std::string, std::string>& env = {}) {
    pid_ = SpawnTarn(
        {"server", "-d", dir_.path(), "--metastore", meta_->location(), "--listen", base_.substr(7)}, env);
    for (int i = 0; i < 200; i++) {
      try {
        if (server::Fetch("GET", base_ + "/healthz", {}, "").status == 200) break;
      } catch (const Error&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    auto r = server::Fetch("POST", base_ + "/oauth2/token",
                           {{"Content-Type", "application/x-www-form-urlencoded"}},
                           "grant_type=password&username=admin&password=admin-pass-12");
    ASSERT_EQ(r.status, 200) << r.body;
    token_ = json::parse(r.body)["access_token"];
  }
  void Kill(int signal) {
    if (pid_ <= 0) return;
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  server::ClientResponse Call(const std::string& method, const std::string& path,
                              const std::string& body = "") {
    std::map<std::string, std::string> headers = {{"Authorization", "Bearer " + token_}};
    if (!body.empty()) headers["Content-Type"] = "application/json";
    return server::Fetch(method, base_ + path, headers, body);
  }
  // Submits runs `from` to `to` (odd ones slow, with two attempts); the ids of those
  // the server accepted (a 2xx answer) are added to accepted_. Stops at the first
  // refused connection (the server was killed).
  void SubmitRange(int from, int to) {
    for (int i = from; i < to; i++) {
      bool slow = i % 2 == 1;
      json body = {{"name", "run-" + std::to_string(i)},
                   {"client_token", "crash-" + std::to_string(i)},
                   {"job", {{"type", "sql"}, {"script", slow ? kSlow : kQuick}}},
                   {"retry_policy", {{"max_attempts", slow ? 2 : 1}}}};
      try {
        auto r = Call("POST", "/v1/applications/crash/jobruns", body.dump());
        if (r.status / 100 != 2) continue;
        std::lock_guard lock(mu_);
        accepted_[json::parse(r.body)["job_run_id"]] = i;
      } catch (const Error&) {
        return;
      }
    }
  }
  // The state of every run of the application, by id.
  std::map<std::string, json> Runs() {
    auto r = Call("GET", "/v1/applications/crash/jobruns?limit=1000");
    EXPECT_EQ(r.status, 200) << r.body;
    std::map<std::string, json> out;
    auto list = json::parse(r.body);
    for (auto& run : list["job_runs"]) out[run["job_run_id"]] = run;
    return out;
  }
  // Every accepted run exists; those that had ended keep their state (and result).
  void CheckAccounted(const std::map<std::string, json>& before) {
    auto now = Runs();
    std::lock_guard lock(mu_);
    for (auto& [id, i] : accepted_) {
      ASSERT_TRUE(now.count(id)) << "accepted run " << id << " (run-" << i << ") is gone";
      auto it = before.find(id);
      if (it == before.end()) continue;
      std::string was = it->second["state"];
      if (was == "SUCCESS" || was == "FAILED" || was == "CANCELLED") {
        EXPECT_EQ(now[id]["state"], was) << id;
        EXPECT_EQ(now[id]["attempt"], it->second["attempt"]) << id;
        EXPECT_EQ(now[id]["result"], it->second["result"]) << id;
      }
    }
  }

  TempDir dir_;
  std::unique_ptr<TestMetastore> meta_;
  std::string base_, token_;
  int pid_ = -1;
  std::mutex mu_;
  std::map<std::string, int> accepted_;  // run id -> its number
};

TEST_P(JobCrashTest, EveryAcceptedRunIsAccountedForAfterKillMinusNine) {
  Start();
  ASSERT_EQ(
      Call("POST", "/v1/applications", json{{"name", "crash"}, {"max_concurrent_runs", 50}}.dump()).status,
      201);
  // Kill 1: while runs are being submitted and the first ones run.
  std::thread submitter([&] { SubmitRange(0, 60); });
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  Kill(SIGKILL);
  submitter.join();
  ASSERT_GT(accepted_.size(), 0u);
  Start();
  CheckAccounted({});
  SubmitRange(static_cast<int>(accepted_.size()), kRuns);  // the rest; tokens make resubmission safe
  // Kill 2: while the slow runs execute.
  auto before = Runs();
  int running = 0;
  for (auto& [id, run] : before) running += run["state"] == "RUNNING";
  Kill(SIGKILL);
  Start();
  CheckAccounted(before);
  // Kill 3: right after a start, while recovered runs are claimed again.
  before = Runs();
  Kill(SIGKILL);
  Start();
  CheckAccounted(before);
  // Every run ends: SUCCESS, or FAILED "interrupted" when no attempt was left.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(180);
  std::map<std::string, json> end;
  while (std::chrono::steady_clock::now() < until) {
    end = Runs();
    bool all = true;
    for (auto& [id, run] : end) {
      std::string s = run["state"];
      all = all && (s == "SUCCESS" || s == "FAILED" || s == "CANCELLED");
    }
    if (all) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  int success = 0, interrupted = 0, retried = 0;
  for (auto& [id, i] : accepted_) {
    auto& run = end[id];
    std::string state = run["state"];
    EXPECT_TRUE(state == "SUCCESS" || (state == "FAILED" && run["state_details"] == "interrupted"))
        << id << ": " << run.dump();
    success += state == "SUCCESS";
    interrupted += state == "FAILED";
    retried += run["attempt"].get<int>() > 1;
    if (state == "SUCCESS") {
      EXPECT_EQ(run["result"]["rows"], 1) << id;
      // One row of the right answer, kept as Parquet.
      auto result = Call("GET", "/v1/applications/crash/jobruns/" + id + "/result");
      ASSERT_EQ(result.status, 200) << result.body;
      auto rows = json::parse(result.body)["rows"];
      EXPECT_EQ(rows[0].begin().value(), i % 2 ? 8571429 : 42) << id;
    }
    // Attempts are numbered without gaps, and only the last may have succeeded.
    auto attempts =
        json::parse(Call("GET", "/v1/applications/crash/jobruns/" + id + "/attempts").body)["attempts"];
    ASSERT_EQ(attempts.size(), run["attempt"].get<size_t>()) << id;
    for (size_t a = 0; a + 1 < attempts.size(); a++) EXPECT_EQ(attempts[a]["state"], "FAILED") << id;
  }
  EXPECT_EQ(static_cast<int>(accepted_.size()), kRuns);
  std::printf(
      "%s: %zu runs accepted (%d were running at the second kill): %d SUCCESS, %d FAILED interrupted, "
      "%d retried\n",
      GetParam().c_str(), accepted_.size(), running, success, interrupted, retried);
}

// A statement's data commit and its record are one transaction: a server killed right
// after a job's INSERT committed (before its step or run recorded anything) reruns the
// attempt without appending those rows again, and the statements after it still run.
TEST_P(JobCrashTest, AStatementThatCommittedBeforeAKillIsNotRunAgain) {
  Start();
  auto made =
      Call("POST", "/v1/statements", json{{"sql", "CREATE DATABASE d; CREATE TABLE d.t (x INTEGER)"}}.dump());
  ASSERT_EQ(made.status, 200) << made.body;
  Kill(SIGTERM);
  Start({{"TARN_TEST_CRASH_AT", "after_metadata_commit"}});  // dies at its first data commit
  auto step = [](const char* name, const char* script) {
    return json{{"name", name},
                {"action_on_failure", "CANCEL_AND_WAIT"},
                {"job", {{"type", "sql"}, {"script", script}}}};
  };
  json body = {{"steps",
                {step("load", "INSERT INTO d.t VALUES (1), (2); INSERT INTO d.t VALUES (3)"),
                 step("more", "INSERT INTO d.t VALUES (4)")}},
               {"retry_policy", {{"max_attempts", 2}}}};
  auto r = Call("POST", "/v1/applications/default/jobruns", body.dump());
  ASSERT_EQ(r.status / 100, 2) << r.body;
  std::string id = json::parse(r.body)["job_run_id"];
  int status = 0;
  ASSERT_EQ(waitpid(pid_, &status, 0), pid_);
  pid_ = -1;
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the server did not stop at the commit";
  Start();
  json run;
  for (int i = 0; i < 300; i++) {
    run = json::parse(Call("GET", "/v1/applications/default/jobruns/" + id).body);
    if (run["state"] == "SUCCESS" || run["state"] == "FAILED") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(run["state"], "SUCCESS") << run.dump();
  EXPECT_EQ(run["attempt"], 2);
  auto rows = Call("POST", "/v1/statements", json{{"sql", "SELECT x FROM d.t ORDER BY x"}}.dump());
  ASSERT_EQ(rows.status, 200) << rows.body;
  EXPECT_EQ(json::parse(rows.body)["rows"], json::parse("[[1], [2], [3], [4]]"));  // 1 and 2 once
  auto logs = Call("GET", "/v1/applications/default/jobruns/" + id + "/logs?size=1000").body;
  EXPECT_THAT(logs,
              ::testing::HasSubstr("statement 1 committed 2 rows in an earlier attempt: not run again"));
  EXPECT_EQ(run["resource_utilization"]["rows_written"], 4);
}

INSTANTIATE_TEST_SUITE_P(Backends, JobCrashTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tarn::testing
