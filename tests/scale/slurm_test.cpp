// SlurmClient and `tarn node check --drain` against the real test cluster that
// scripts/test starts (scripts/lib/slurm.sh: n1-n3 in partition debug, c1-c2 cloud).
#include "scale/slurm.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "test_util.h"

namespace tarn::scale {
namespace {

using namespace std::chrono_literals;

class SlurmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* root = std::getenv("TARN_TEST_SLURM_ROOT");
    if (!root || !std::getenv("SLURM_CONF")) {
      const char* ci = std::getenv("CI");
      if (ci && std::string(ci) == "true")
        FAIL() << "Slurm tests are required in CI but no test cluster runs";
      GTEST_SKIP() << "no Slurm test cluster (run scripts/test, which starts one)";
    }
    root_ = root;
    out_ = root_ / "out" / ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(out_);
  }

  // Polls `id` until `done` holds for its jobs or `limit` passes; returns the last view.
  std::vector<SlurmJob> WaitFor(const std::string& id,
                                const std::function<bool(const std::vector<SlurmJob>&)>& done,
                                std::chrono::seconds limit = 60s) {
    auto until = std::chrono::steady_clock::now() + limit;
    std::vector<SlurmJob> jobs;
    while (std::chrono::steady_clock::now() < until) {
      jobs = slurm_.Jobs(id);
      if (!jobs.empty() && done(jobs)) return jobs;
      std::this_thread::sleep_for(200ms);
    }
    ADD_FAILURE() << "job " << id << " did not get there in " << limit.count() << " s";
    return jobs;
  }
  static bool AllEnded(const std::vector<SlurmJob>& jobs) {
    for (auto& j : jobs)
      if (!j.Ended()) return false;
    return true;
  }
  std::string Read(const std::filesystem::path& p) {
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }

  SlurmClient slurm_;
  std::filesystem::path root_, out_;
};

// The job calls, with sbatch/scontrol/scancel and through slurmrestd alike.
class SlurmJobApiTest : public SlurmTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    SlurmTest::SetUp();
    if (IsSkipped() || HasFatalFailure() || GetParam() != "slurmrestd") return;
    const char* socket = std::getenv("TARN_TEST_SLURMRESTD");
    if (!socket) GTEST_SKIP() << "no slurmrestd for the test cluster";
    slurm_ = SlurmClient(std::chrono::seconds(30), socket);
  }
};

INSTANTIATE_TEST_SUITE_P(Via, SlurmJobApiTest, ::testing::Values("sbatch", "slurmrestd"),
                         [](const auto& info) { return info.param; });

TEST_P(SlurmJobApiTest, AnArrayRunsEachTaskAndEndsCompleted) {
  EXPECT_STREQ(slurm_.Via(), GetParam().c_str());
  SlurmJobRequest r;
  r.name = "tarn-test-array";
  r.command = {"/bin/sh", "-c", "echo \"task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_TASK_COUNT\""};
  r.array_size = 4;
  r.output = out_ / "%A_%a.out";
  auto id = slurm_.Submit(r);
  auto jobs = WaitFor(id, AllEnded);
  ASSERT_EQ(jobs.size(), 4u);
  for (int i = 0; i < 4; i++) {
    EXPECT_EQ(jobs[i].state, "COMPLETED") << jobs[i].id;
    EXPECT_EQ(jobs[i].exit_code, 0);
    EXPECT_EQ(jobs[i].id.substr(0, id.size() + 1), id + "_");
    EXPECT_EQ(Read(out_ / (id + "_" + std::to_string(i) + ".out")), "task " + std::to_string(i) + " of 4\n");
  }
}

TEST_P(SlurmJobApiTest, AFailedJobReportsItsExitCodeAndExcludedNodesAreAvoided) {
  SlurmJobRequest r;
  r.name = "tarn-test-fail";
  r.command = {"/bin/sh", "-c", "echo $SLURMD_NODENAME; exit 3"};
  r.exclude = {"n1", "n2"};
  r.output = out_ / "%j.out";
  auto id = slurm_.Submit(r);
  auto jobs = WaitFor(id, AllEnded);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].state, "FAILED");
  EXPECT_EQ(jobs[0].exit_code, 3);
  EXPECT_EQ(jobs[0].nodes, "n3");
  EXPECT_EQ(Read(out_ / (id + ".out")), "n3\n");
}

TEST_P(SlurmJobApiTest, CancelStopsEveryTaskOfAnArray) {
  SlurmJobRequest r;
  r.name = "tarn-test-cancel";
  r.command = {"/bin/sleep", "300"};
  r.array_size = 2;
  r.output = "/dev/null";
  auto id = slurm_.Submit(r);
  WaitFor(id, [](auto& jobs) {
    return jobs.size() == 2 && jobs[0].state == "RUNNING" && jobs[1].state == "RUNNING";
  });
  slurm_.Cancel(id);
  auto jobs = WaitFor(id, AllEnded, 30s);
  ASSERT_EQ(jobs.size(), 2u);
  for (auto& j : jobs) EXPECT_EQ(j.state, "CANCELLED");
  slurm_.Cancel(id);  // again: no error
}

TEST_P(SlurmJobApiTest, BadRequestsAreRefusedBeforeSbatch) {
  SlurmJobRequest r;
  r.name = "tarn test";
  r.command = {"/bin/true"};
  EXPECT_EQ(tarn::testing::CatchError([&] { slurm_.Submit(r); }).code(), ErrorCode::kInvalidArgument);
  r.name = "ok";
  r.partition = "--uid=0";
  EXPECT_EQ(tarn::testing::CatchError([&] { slurm_.Submit(r); }).code(), ErrorCode::kInvalidArgument);
  r.partition = "";
  r.command = {"true"};
  auto e = tarn::testing::CatchError([&] { slurm_.Submit(r); });
  EXPECT_STREQ(e.what(), "a Slurm job runs a program named by an absolute path");
  r.command = {"/bin/true"};
  r.partition = "nosuchpartition";
  e = tarn::testing::CatchError([&] { slurm_.Submit(r); });
  EXPECT_EQ(e.code(), ErrorCode::kIo);
  EXPECT_NE(
      std::string(e.what()).find(GetParam() == "sbatch" ? "sbatch failed" : "slurmrestd refused the job"),
      std::string::npos)
      << e.what();
  EXPECT_NE(std::string(e.what()).find("nvalid partition"), std::string::npos) << e.what();
  EXPECT_TRUE(slurm_.Jobs("999999999").empty());
  if (GetParam() == "slurmrestd") {  // an id is never more than a job id in the daemon's URL
    EXPECT_EQ(tarn::testing::CatchError([&] { slurm_.Jobs("1/../../nodes"); }).code(),
              ErrorCode::kInvalidArgument);
    EXPECT_EQ(tarn::testing::CatchError([&] { slurm_.Cancel("1?x=2"); }).code(), ErrorCode::kInvalidArgument);
  }
}

TEST_F(SlurmTest, AMissingSlurmrestdIsAClearError) {
  SlurmClient rest(std::chrono::seconds(2), root_ / "run" / "no-such.socket");
  SlurmJobRequest r;
  r.name = "tarn-test";
  r.command = {"/bin/true"};
  auto e = tarn::testing::CatchError([&] { rest.Submit(r); });
  EXPECT_EQ(e.code(), ErrorCode::kIo);
  EXPECT_NE(
      std::string(e.what()).find("cannot reach slurmrestd at " + (root_ / "run" / "no-such.socket").string()),
      std::string::npos)
      << e.what();
}

// The cluster's HealthCheckProgram is `tarn node check --drain` with the temp folder
// root/tmp/<node>: replacing n2's with a file makes n2 unhealthy.
TEST_F(SlurmTest, AnUnhealthyNodeIsDrainedItsJobsRequeuedAndItReturnsWhenHealthy) {
  auto temp = root_ / "tmp" / "n2";
  SlurmJobRequest r;
  r.name = "tarn-test-requeue";
  r.command = {"/bin/sh", "-c", "echo \"$SLURMD_NODENAME restart ${SLURM_RESTART_COUNT:-0}\"; sleep 300"};
  r.exclude = {"n1", "n3"};
  r.output = out_ / "%j.out";
  auto id = slurm_.Submit(r);
  WaitFor(id, [](auto& jobs) { return jobs[0].state == "RUNNING"; });
  std::filesystem::remove_all(temp);
  tarn::testing::WriteFile(temp, "not a folder");
  auto until = std::chrono::steady_clock::now() + 30s;
  SlurmNode node;
  while (std::chrono::steady_clock::now() < until) {
    node = slurm_.Node("n2");
    if (node.Has("DRAIN")) break;
    std::this_thread::sleep_for(200ms);
  }
  std::filesystem::remove(temp);
  std::filesystem::create_directories(temp);
  ASSERT_TRUE(node.Has("DRAIN")) << node.state;
  // (A check under way when the folder went may have failed on it first, in its engine test.)
  EXPECT_TRUE(node.reason == "tarn node check: " + temp.string() + " is not a directory" ||
              (node.reason.starts_with("tarn node check: engine self-test failed") &&
               node.reason.find(temp.string()) != std::string::npos))
      << node.reason;
  auto jobs = WaitFor(
      id, [](auto& jobs) { return jobs[0].restarts >= 1; }, 30s);
  EXPECT_GE(jobs[0].restarts, 1);
  // Healthy again: the next check returns n2 to service and the job runs there again.
  until = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < until && slurm_.Node("n2").Has("DRAIN"))
    std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(slurm_.Node("n2").Has("DRAIN")) << slurm_.Node("n2").state;
  slurm_.Cancel(id);
  WaitFor(id, AllEnded, 30s);
}

TEST_F(SlurmTest, TheResumeProgramRunsTheProvidersCommandForEachNode) {
  auto r = tarn::testing::RunTarn(
      {"node", "resume", "c[1-2]", "--command", "/usr/bin/touch " + (out_ / "{node}.up").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "resume c1: /usr/bin/touch done\nresume c2: /usr/bin/touch done\n");
  EXPECT_TRUE(std::filesystem::exists(out_ / "c1.up") && std::filesystem::exists(out_ / "c2.up"));
  auto failed = tarn::testing::RunTarn({"node", "suspend", "c1", "--command", "/bin/false {node}"});
  EXPECT_EQ(failed.exit_code, 7);
  EXPECT_NE(failed.err.find("c1: /bin/false failed (exit 1)"), std::string::npos) << failed.err;
  auto neither = tarn::testing::RunTarn({"node", "resume", "c1"});
  EXPECT_EQ(neither.exit_code, 2);
  EXPECT_NE(neither.err.find("give the provider's command (--command) or --local-slurmd"), std::string::npos);
}

// The CLOUD nodes' Resume/SuspendProgram is `tarn node resume|suspend --local-slurmd`.
TEST_F(SlurmTest, ACloudNodeIsPoweredUpForWorkAndDownWhenIdle) {
  SlurmJobRequest r;
  r.name = "tarn-test-cloud";
  r.partition = "cloud";
  r.command = {"/bin/sh", "-c", "echo $SLURMD_NODENAME"};
  r.output = out_ / "%j.out";
  auto id = slurm_.Submit(r);
  auto jobs = WaitFor(id, AllEnded, 120s);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].state, "COMPLETED");
  std::string node = jobs[0].nodes;
  ASSERT_TRUE(node == "c1" || node == "c2") << node;
  EXPECT_NE(Read(root_ / "log" / "power.log").find("resume " + node + ": slurmd started"), std::string::npos);
  // Idle for SuspendTime (40 s): powered down again by the SuspendProgram (then Slurm's
  // own power-down steps; 120 s leaves room on a loaded machine).
  auto until = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < until && !slurm_.Node(node).Has("POWERED_DOWN"))
    std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(slurm_.Node(node).Has("POWERED_DOWN")) << slurm_.Node(node).state;
  EXPECT_NE(Read(root_ / "log" / "power.log").find("suspend " + node + ": slurmd "), std::string::npos)
      << Read(root_ / "log" / "power.log");
}

TEST_F(SlurmTest, ADrainByAPersonIsLeftAlone) {
  slurm_.Drain("n1", "maintenance by ops");
  std::this_thread::sleep_for(7s);  // longer than HealthCheckInterval
  auto node = slurm_.Node("n1");
  slurm_.Resume("n1");
  EXPECT_TRUE(node.Has("DRAIN")) << node.state;
  EXPECT_EQ(node.reason, "maintenance by ops");
}

}  // namespace
}  // namespace tarn::scale
