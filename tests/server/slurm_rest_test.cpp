// Runs submitted through slurmrestd ([slurm] rest_socket) instead of sbatch: a query
// split into job arrays gives the local result, and a cancel cancels the Slurm jobs.
#include <gmock/gmock.h>

#include "slurm_jobs_fixture.h"

namespace tarn::testing {
namespace {

using ::testing::HasSubstr;

class SlurmRestTest : public SlurmJobsTest {
 protected:
  void SetUp() override {
    SlurmJobsTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (!std::getenv("TARN_TEST_SLURMRESTD")) {
      const char* ci = std::getenv("CI");
      if (ci && std::string(ci) == "true") FAIL() << "the test cluster runs no slurmrestd";
      GTEST_SKIP() << "the test cluster runs no slurmrestd";
    }
    json split = {
        {"name", "split"},
        {"executor", {{"type", "slurm"}, {"partition", "debug"}, {"max_nodes", 3}, {"buckets", 3}}}};
    ASSERT_EQ(Call("POST", "/v1/applications", admin_, split.dump()).status, 201);
    ASSERT_EQ(Sql(admin_, "GRANT SUBMIT ON APPLICATION split TO GROUP analysts").status, 200);
  }
  void Configure(server::ServerConfig& config) override {
    SlurmJobsTest::Configure(config);
    if (const char* socket = std::getenv("TARN_TEST_SLURMRESTD")) config.slurm_rest_socket = socket;
  }
};

// Per customer (the key the run is split by): governed orders joined to customers.
constexpr const char* kByCustomer =
    "SELECT o.customer, c.segment, count(*) AS orders, sum(o.amount) AS amount FROM sales.orders o "
    "JOIN sales.customers c ON o.customer = c.customer GROUP BY ALL ORDER BY o.customer";

TEST_F(SlurmRestTest, ASplitRunSubmittedThroughSlurmrestdGivesTheLocalResult) {
  auto local = SubmitOk(ana_, kByCustomer, "here");
  auto id =
      SubmitJob("split", {{"type", "sql"},
                          {"script", kByCustomer},
                          {"partition_by", {{"sales.orders", "customer"}, {"sales.customers", "customer"}}}});
  ASSERT_EQ(WaitEnded(local, "here")["state"], "SUCCESS");
  auto run = WaitEnded(id, "split", std::chrono::seconds(120));
  auto log = Log(id, "split");
  ASSERT_EQ(run["state"], "SUCCESS") << run.dump() << log;
  auto expected = Result(local, "here");
  ASSERT_EQ(expected["rows"].size(), 10u);  // the fixture's 10 customers
  EXPECT_EQ(Result(id, "split")["rows"], expected["rows"]);
  // The map and bucket stages were job arrays, submitted and followed through the daemon.
  EXPECT_THAT(log, ::testing::ContainsRegex(
                       "statement 1 map: Slurm job [0-9]+ submitted with slurmrestd \\([0-9]+ tasks\\)"));
  EXPECT_THAT(log, ::testing::ContainsRegex(
                       "statement 1 buckets: Slurm job [0-9]+ submitted with slurmrestd \\(3 tasks\\)"));
  EXPECT_THAT(log, ::testing::ContainsRegex("task t1.b[0-2] ended on n[1-3]"));
  EXPECT_THAT(log, ::testing::Not(HasSubstr("with sbatch")));
  EXPECT_TRUE(ScratchEmpty());
}

TEST_F(SlurmRestTest, ACancelThroughSlurmrestdCancelsTheSlurmJob) {
  auto id = SubmitOk(ana_, std::string(kLong), "far");
  std::string job = WaitSlurmRunning(id, "far");
  ASSERT_FALSE(job.empty());
  EXPECT_THAT(Log(id, "far"), HasSubstr("Slurm job " + job + " submitted with slurmrestd"));
  ASSERT_EQ(Call("DELETE", "/v1/applications/far/jobruns/" + id, ana_).status, 200);
  EXPECT_EQ(WaitEnded(id, "far", std::chrono::seconds(30))["state"], "CANCELLED");
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < until && !slurm_.Jobs(job).at(0).Ended())
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(slurm_.Jobs(job).at(0).state, "CANCELLED");  // as sbatch's own tools see it
  EXPECT_TRUE(ScratchEmpty());
}

}  // namespace
}  // namespace tarn::testing
