// Execution and queue timeouts over real HTTP, on a job clock the test moves forward
// (ServerConfig::job_deadline_clock): a run past its timeout_minutes is stopped in the engine
// and ends CANCELLED "execution timeout"; a run queued past its application's
// queue_timeout_minutes ends CANCELLED "queue timeout" without running.
#include <gmock/gmock.h>

#include <atomic>

#include "jobs_fixture.h"

namespace tarn::testing {
namespace {

class JobTimeoutsTest : public JobsFixture {
 protected:
  void Configure(server::ServerConfig& config) override {
    config.job_deadline_clock = [this] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count() +
             offset_ms_.load();
    };
  }
  std::atomic<int64_t> offset_ms_{0};
};

TEST_F(JobTimeoutsTest, ARunPastItsTimeoutIsStoppedAndEndsCancelled) {
  auto id = Json(Submit(ana_, kLong, "default", {{"timeout_minutes", 1}}))["job_run_id"].get<std::string>();
  WaitFor(ana_, id, "RUNNING");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(Run(ana_, id)["state"], "RUNNING");  // within its minute
  offset_ms_ = 61 * 1000;
  auto run = WaitFor(ana_, id, "CANCELLED");
  EXPECT_EQ(run["state_details"], "execution timeout (1 minutes)");
  EXPECT_EQ(RunningStatements(), 0u);  // the engine stopped
  auto attempts = Json(Call("GET", "/v1/applications/default/jobruns/" + id + "/attempts", ana_))["attempts"];
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0]["state"], "CANCELLED");
}

TEST_F(JobTimeoutsTest, ARunQueuedPastItsApplicationsQueueTimeoutEndsCancelledWithoutRunning) {
  auto app = Call("POST", "/v1/applications", admin_,
                  json{{"name", "narrow"}, {"max_concurrent_runs", 1}, {"queue_timeout_minutes", 1}}.dump());
  ASSERT_EQ(app.status, 201) << app.body;
  std::string a = Json(app)["id"];
  auto busy = SubmitOk(admin_, kLong, a);
  WaitFor(admin_, busy, "RUNNING", a);
  auto waiting = SubmitOk(admin_, "SELECT 1", a);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  EXPECT_EQ(Run(admin_, waiting, a)["state"], "QUEUED");
  offset_ms_ = 61 * 1000;
  auto run = WaitFor(admin_, waiting, "CANCELLED", a);
  EXPECT_EQ(run["state_details"], "queue timeout");
  EXPECT_TRUE(run["started_at"].is_null());             // it never ran
  EXPECT_EQ(Run(admin_, busy, a)["state"], "RUNNING");  // its own timeout is 720 minutes
  ASSERT_EQ(Call("DELETE", "/v1/applications/" + a + "/jobruns/" + busy, admin_).status, 200);
}

}  // namespace
}  // namespace tarn::testing
