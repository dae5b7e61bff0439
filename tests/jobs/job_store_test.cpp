// JobStore on both metadata backends: submission, idempotency, claiming within an
// application's concurrency, compare-and-set transitions, the log, recovery.
#include "jobs/job_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/error.h"
#include "test_util.h"

namespace tarn::jobs {
namespace {

using tarn::testing::TempDir;
using tarn::testing::TestMetastore;
using ::testing::HasSubstr;

identity::Principal Ana() {
  return {"ana", {"analysts"}, "https://tarn.test", false, false, 1700000000000};
}

JobSpec Spec(const std::string& script, std::optional<std::string> token = std::nullopt) {
  JobSpec spec;
  spec.script = script;
  spec.client_token = std::move(token);
  spec.job = {{"type", "sql"}, {"script", script}};
  return spec;
}

class JobStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    metastore_ = std::make_unique<TestMetastore>(GetParam(), dir_.path());
    TARN_REQUIRE_METASTORE(*metastore_);
    meta_ = store::MetaStore::Open(metastore_->location());
    jobs_ = std::make_unique<JobStore>(*meta_);
  }
  JobRun Submit(const std::string& app, const JobSpec& spec, bool* created = nullptr) {
    bool c = false;
    auto run = jobs_->Submit(app, spec, Ana(), c);
    if (created) *created = c;
    return run;
  }

  TempDir dir_;
  std::unique_ptr<TestMetastore> metastore_;
  std::unique_ptr<store::MetaStore> meta_;
  std::unique_ptr<JobStore> jobs_;
};

TEST_P(JobStoreTest, RunsAreClaimedOldestFirstWithinTheApplicationsConcurrency) {
  auto app =
      jobs_->CreateApplication(ParseApplication({{"name", "two"}, {"max_concurrent_runs", 2}}), "admin");
  auto a = Submit(app.id, Spec("SELECT 1")), b = Submit(app.id, Spec("SELECT 2")),
       c = Submit(app.id, Spec("SELECT 3"));
  EXPECT_EQ(a.state, RunState::kQueued);
  auto first = jobs_->ClaimNext("test/1", 60000), second = jobs_->ClaimNext("test/1", 60000);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->id, a.id);
  EXPECT_EQ(second->id, b.id);
  EXPECT_EQ(first->state, RunState::kRunning);
  EXPECT_EQ(first->attempt, 1);
  EXPECT_FALSE(jobs_->ClaimNext("test/1", 60000));  // two running: c waits
  EXPECT_TRUE(jobs_->Transition(a.id, {RunState::kRunning}, RunState::kSuccess));
  EXPECT_FALSE(jobs_->Transition(a.id, {RunState::kRunning}, RunState::kFailed, "late"));  // compare-and-set
  auto third = jobs_->ClaimNext("test/1", 60000);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->id, c.id);
  auto done = jobs_->GetRun(a.id);
  EXPECT_EQ(done.state, RunState::kSuccess);
  ASSERT_TRUE(done.ended_ms && done.started_ms);
  EXPECT_GE(*done.ended_ms, *done.started_ms);
  std::vector<std::string> states;
  for (auto& l : jobs_->Logs(a.id, 0, 100)) states.push_back(l.message);
  EXPECT_EQ(states,
            (std::vector<std::string>{"SUBMITTED", "PENDING", "QUEUED", "SCHEDULED", "RUNNING", "SUCCESS"}));
  EXPECT_EQ(jobs_->ListRuns(app.id, nullptr, RunState::kRunning, 10).size(), 2u);
  auto ana = Ana();
  EXPECT_EQ(jobs_->ListRuns(app.id, &ana, std::nullopt, 10).size(), 3u);
}

TEST_P(JobStoreTest, AClientTokenGivesBackTheSameRunOrAConflict) {
  bool created = false;
  auto one = Submit("default", Spec("SELECT 1", "tok-1"), &created);
  EXPECT_TRUE(created);
  auto again = Submit("default", Spec("SELECT 1", "tok-1"), &created);
  EXPECT_FALSE(created);
  EXPECT_EQ(again.id, one.id);
  try {
    Submit("default", Spec("SELECT 2", "tok-1"));
    ADD_FAILURE() << "a reused token with another request was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kConflict);
    EXPECT_THAT(e.what(), HasSubstr(one.id));
  }
  EXPECT_EQ(jobs_->ListRuns("default", nullptr, std::nullopt, 10).size(), 1u);
}

TEST_P(JobStoreTest, RecoveryEndsWhatAStoppedServerLeftRunning) {
  auto running = Submit("default", Spec("SELECT 1"));
  auto cancelling = Submit("default", Spec("SELECT 2"));
  auto queued = Submit("default", Spec("SELECT 3"));
  ASSERT_TRUE(jobs_->ClaimNext("test/1", 60000));
  ASSERT_TRUE(jobs_->ClaimNext("test/1", 60000));
  ASSERT_TRUE(
      jobs_->Transition(cancelling.id, {RunState::kRunning}, RunState::kCancelling, "cancelled by ana"));
  EXPECT_EQ(jobs_->Recover(std::string("test/"), jobs::NowMs()), 2);
  EXPECT_EQ(jobs_->GetRun(running.id).state, RunState::kFailed);
  EXPECT_EQ(jobs_->GetRun(running.id).state_details, "interrupted");
  EXPECT_EQ(jobs_->GetRun(cancelling.id).state, RunState::kCancelled);
  EXPECT_EQ(jobs_->GetRun(queued.id).state, RunState::kQueued);
  // A queue timeout: an hour from now, the default application's 360 minutes have not passed.
  EXPECT_EQ(jobs_->ExpireQueued(NowMs() + 3600 * 1000), 0);
  EXPECT_EQ(jobs_->ExpireQueued(NowMs() + 361 * 60 * 1000), 1);
  EXPECT_EQ(jobs_->GetRun(queued.id).state_details, "queue timeout");
  // With attempts left, an interrupted run queues again; its attempt ended FAILED.
  auto spec = Spec("SELECT 4");
  spec.max_attempts = 2;
  auto retried = Submit("default", spec);
  ASSERT_TRUE(jobs_->ClaimNext("test/1", 60000));
  EXPECT_EQ(jobs_->Recover(std::string("test/"), jobs::NowMs()), 1);
  auto again = jobs_->GetRun(retried.id);
  EXPECT_EQ(again.state, RunState::kQueued);
  auto attempts = jobs_->Attempts(retried.id);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].state, "FAILED");
  EXPECT_EQ(attempts[0].state_details, "interrupted");
  auto second = jobs_->ClaimNext("test/1", 60000);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->attempt, 2);
}

TEST_P(JobStoreTest, ConcurrentWritersOfOneRunsLogNeverCollide) {
  auto run = Submit("default", Spec("SELECT 1"));
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < 3; w++) {
    writers.emplace_back([&, w] {
      try {
        auto meta = store::MetaStore::Open(metastore_->location());
        JobStore store(*meta);
        for (int i = 0; i < 20; i++) store.Log(run.id, "statement", "writer " + std::to_string(w));
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        failures++;
      }
    });
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto lines = jobs_->Logs(run.id, 0, 1000);
  ASSERT_EQ(lines.size(), 3u + 60u);  // SUBMITTED, PENDING, QUEUED and the writers'
  for (size_t i = 0; i < lines.size(); i++) EXPECT_EQ(lines[i].line, static_cast<int64_t>(i + 1));
}

TEST_P(JobStoreTest, AnApplicationKeepsItsExecutorAndSlurmNeedsPostgreSQL) {
  nlohmann::json slurm = {{"type", "slurm"}, {"partition", "debug"}, {"qos", "normal"},
                          {"max_nodes", 3},  {"min_nodes", 1},       {"time_limit_minutes", 30}};
  auto local = jobs_->CreateApplication(ParseApplication({{"name", "here"}}), "admin");
  EXPECT_EQ(local.executor.type, "local");
  EXPECT_EQ(jobs_->GetApplication("here").Json()["executor"], (nlohmann::json{{"type", "local"}}));
  if (GetParam() == "sqlite") {
    auto e = tarn::testing::CatchError([&] {
      jobs_->CreateApplication(ParseApplication({{"name", "far"}, {"executor", slurm}}), "admin");
    });
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("the slurm executor needs the PostgreSQL metadata store, and this server "
                                    "uses SQLite"));
    EXPECT_EQ(jobs_->ListApplications().size(), 2u);  // default and here: nothing half-made
    e = tarn::testing::CatchError([&] { jobs_->UpdateApplication("here", {{"executor", slurm}}); });
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(jobs_->GetApplication("here").executor.type, "local");
    return;
  }
  auto far = jobs_->CreateApplication(ParseApplication({{"name", "far"}, {"executor", slurm}}), "admin");
  auto stored = jobs_->GetApplication(far.id);
  EXPECT_EQ(stored.executor.partition, "debug");
  EXPECT_EQ(stored.executor.max_nodes, 3);
  auto json = stored.Json()["executor"];
  EXPECT_EQ(json, (nlohmann::json{{"type", "slurm"},
                                  {"partition", "debug"},
                                  {"account", nullptr},
                                  {"qos", "normal"},
                                  {"time_limit_minutes", 30},
                                  {"min_nodes", 1},
                                  {"max_nodes", 3},
                                  {"buckets", nullptr}}));
  // An update of another field keeps the executor; one naming it replaces it.
  EXPECT_EQ(jobs_->UpdateApplication(far.id, {{"max_concurrent_runs", 2}}).executor.qos, "normal");
  EXPECT_EQ(jobs_->UpdateApplication(far.id, {{"executor", {{"type", "local"}}}}).executor.type, "local");
  EXPECT_EQ(jobs_->GetApplication(far.id).executor.type, "local");
}

TEST(ParseExecutor, RefusesBadFieldsNamingThem) {
  auto message = [](const nlohmann::json& e) {
    return std::string(tarn::testing::CatchError([&] { ParseExecutor(e); }).what());
  };
  EXPECT_THAT(message("slurm"), HasSubstr("field 'executor' must be an object with a type"));
  EXPECT_THAT(message({{"type", "yarn"}}), HasSubstr("field 'executor.type' must be local or slurm"));
  EXPECT_THAT(message({{"type", "local"}, {"partition", "x"}}), HasSubstr("unknown field 'partition'"));
  EXPECT_THAT(message({{"type", "slurm"}, {"partition", "a b"}}),
              HasSubstr("field 'executor.partition' must be a Slurm name"));
  EXPECT_THAT(message({{"type", "slurm"}, {"account", "--uid=0;x"}}),
              HasSubstr("field 'executor.account' must be a Slurm name"));
  EXPECT_THAT(message({{"type", "slurm"}, {"max_nodes", 0}}),
              HasSubstr("field 'executor.max_nodes' must be an integer from 1 to 1000"));
  EXPECT_THAT(message({{"type", "slurm"}, {"min_nodes", 5}, {"max_nodes", 2}}),
              HasSubstr("field 'executor.min_nodes' (5) is more than 'executor.max_nodes' (2)"));
  EXPECT_THAT(message({{"type", "slurm"}, {"nodes", 2}}), HasSubstr("unknown field 'nodes'"));
  EXPECT_THAT(message({{"type", "slurm"}, {"buckets", 5000}}),
              HasSubstr("field 'executor.buckets' must be an integer from 0 to 4096"));
  EXPECT_THAT(message({{"type", "slurm"}, {"buckets", "many"}}), HasSubstr("field 'executor.buckets'"));
  EXPECT_EQ(ParseExecutor({{"type", "slurm"}, {"buckets", 16}}).buckets, 16);
}

TEST_P(JobStoreTest, UnknownApplicationsAndRunsAreNotFound) {
  EXPECT_THROW(Submit("nope", Spec("SELECT 1")), Error);
  EXPECT_THROW(jobs_->GetRun("jr-missing"), Error);
  EXPECT_THROW(ParseRunState("DONE"), Error);
}

INSTANTIATE_TEST_SUITE_P(Backends, JobStoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

TEST_P(JobStoreTest, ALeaseHoldsARunUntilItRunsOutUnlessAHeartbeatExtendsIt) {
  auto mine = Submit("default", Spec("SELECT 1"));
  auto theirs = Submit("default", Spec("SELECT 2"));
  int64_t t0 = NowMs();
  ASSERT_EQ(jobs_->ClaimNext("a/1", 60000)->id, mine.id);
  ASSERT_EQ(jobs_->ClaimNext("b/1", 60000)->id, theirs.id);
  // Within the lease nothing is taken back; another server's start takes nothing of a's.
  EXPECT_EQ(jobs_->Recover(std::nullopt, t0 + 30000), 0);
  EXPECT_EQ(jobs_->Recover(std::string("c/"), t0 + 30000), 0);
  // a's heartbeat extends only a's lease: past the first lease, b's run is taken back.
  EXPECT_EQ(jobs_->Heartbeat("a/1", 120000), 1);
  EXPECT_EQ(jobs_->Recover(std::nullopt, t0 + 61000), 1);
  EXPECT_EQ(jobs_->GetRun(theirs.id).state, RunState::kFailed);
  EXPECT_EQ(jobs_->GetRun(mine.id).state, RunState::kRunning);
  // a starting again (same server id, another life) takes its runs back at once.
  EXPECT_EQ(jobs_->Recover(std::string("a/"), NowMs()), 1);
  EXPECT_EQ(jobs_->GetRun(mine.id).state_details, "interrupted");
  EXPECT_EQ(jobs_->Heartbeat("a/1", 120000), 0);  // nothing left running
}

}  // namespace
}  // namespace tarn::jobs
