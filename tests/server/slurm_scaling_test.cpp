// Managed scaling on the test cluster's power-saving nodes (c1, c2 in partition cloud):
// min_nodes kept up, a node more for waiting work (never above max_nodes), idle nodes
// powered down (never below min_nodes), a drained node powered down and replaced;
// each decision an event and an audit record with its reason.
#include <gmock/gmock.h>

#include <cstdlib>
#include <deque>
#include <fstream>

#include "scale/scaler.h"
#include "slurm_jobs_fixture.h"

namespace tarn::testing {
namespace {

using ::testing::HasSubstr;

class SlurmScalingTest : public SlurmJobsTest {
 protected:
  void Configure(server::ServerConfig& config) override {
    SlurmJobsTest::Configure(config);
    config.slurm_scale_idle_ms = 3000;
  }
  // The scaling decisions so far (from the audit trail): action, nodes, reason.
  std::vector<json> Decisions() {
    auto audit =
        Json(Sql(admin_, "SELECT details FROM system.audit WHERE event = 'node_scale' ORDER BY seq"));
    std::vector<json> out;
    for (auto& row : audit["rows"])
      out.push_back(row[0].is_string() ? json::parse(row[0].get<std::string>()) : row[0]);
    return out;
  }
  // Waits (up to `limit`) for a decision with `action` whose reason has `why`; returns it.
  json WaitDecision(const std::string& action, const std::string& why, size_t after,
                    std::chrono::seconds limit = std::chrono::seconds(60)) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      auto all = Decisions();
      for (size_t i = after; i < all.size(); i++)
        if (all[i]["action"] == action && all[i]["reason"].get<std::string>().find(why) != std::string::npos)
          return all[i];
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << "no '" << action << "' decision for '" << why << "' in " << json(Decisions()).dump()
                  << "; nodes: " << States();
    return json();
  }
  // The cloud nodes that can take work now.
  std::vector<std::string> UsableNodes() {
    std::vector<std::string> out;
    for (auto& n : slurm_.Nodes("cloud"))
      if (scale::Usable(n) && !n.Has("POWERING_UP")) out.push_back(n.name);
    return out;
  }
  // The cloud nodes' states, and the end of the logs that say why (power programs, slurmds).
  std::string States() {
    std::string out;
    for (auto& n : slurm_.Nodes("cloud")) out += n.name + "=" + n.state + " (" + n.reason + ") ";
    const char* root = std::getenv("TARN_TEST_SLURM_ROOT");
    for (std::string log : {"power.log", "slurmd-c1.log", "slurmd-c2.log"}) {
      std::ifstream in(std::string(root ? root : "") + "/log/" + log);
      std::deque<std::string> tail;
      for (std::string line; std::getline(in, line);) {
        tail.push_back(line);
        if (tail.size() > 15) tail.pop_front();
      }
      out += "\n--- " + log + " (end):\n";
      for (auto& line : tail) out += line + "\n";
    }
    return out;
  }
  bool WaitUsable(size_t n, std::chrono::seconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (UsableNodes().size() == n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }
};

TEST_F(SlurmScalingTest, NodesFollowWorkBetweenMinAndMaxAndADrainedNodeIsReplaced) {
  json elastic = {
      {"name", "elastic"},
      {"executor",
       {{"type", "slurm"}, {"partition", "cloud"}, {"min_nodes", 1}, {"max_nodes", 2}, {"buckets", 4}}}};
  // Start from the cloud nodes powered down (an earlier test may have used them).
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  auto all_off = [&] {
    for (auto& n : slurm_.Nodes("cloud"))
      if (!n.Has("POWERED_DOWN")) return false;
    return true;
  };
  while (std::chrono::steady_clock::now() < until && !all_off())
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_TRUE(all_off()) << States();
  ASSERT_EQ(Call("POST", "/v1/applications", admin_, elastic.dump()).status, 201);
  ASSERT_EQ(Sql(admin_, "GRANT SUBMIT ON APPLICATION elastic TO GROUP analysts").status, 200);
  // min_nodes: one node comes up with nothing to do.
  auto first = WaitDecision("up", "fewer than min_nodes", 0);
  ASSERT_EQ(first["nodes"].size(), 1u) << first.dump();
  EXPECT_EQ(first["applications"], json::array({"elastic"}));
  ASSERT_TRUE(WaitUsable(1, std::chrono::seconds(45))) << json(Decisions()).dump() << States();
  // Work: the run's tasks spread over at most max_nodes nodes (each stage's job array
  // runs at most 2 tasks at once; Slurm or Tarn powers the second node up).
  auto id = SubmitJob("elastic",
                      {{"type", "sql"},
                       {"script", kQuery},
                       {"partition_by", {{"sales.orders", "customer"}, {"sales.customers", "customer"}}}});
  auto run = WaitEnded(id, "elastic", std::chrono::seconds(120));
  auto log = Log(id, "elastic");
  ASSERT_EQ(run["state"], "SUCCESS") << run.dump() << log;
  EXPECT_THAT(log, ::testing::ContainsRegex("task t1.b[0-3] ended on c[12]"));
  EXPECT_THAT(log, ::testing::Not(::testing::ContainsRegex("ended on n[1-3]")));
  // Idle: back down to min_nodes by Tarn (before Slurm's own SuspendTime of 40 s), not below.
  size_t seen = Decisions().size();
  if (UsableNodes().size() > 1) {
    auto down = WaitDecision("down", "idle for 3 s", seen, std::chrono::seconds(15));
    EXPECT_EQ(down["nodes"].size(), 1u) << down.dump();
    EXPECT_THAT(down["reason"].get<std::string>(), HasSubstr("1 nodes wanted"));
  }
  ASSERT_TRUE(WaitUsable(1, std::chrono::seconds(30))) << json(Decisions()).dump() << States();
  // A drained node is powered down and another comes up for it, within 60 s. The drain
  // comes at once: the node has idled only seconds, well before Slurm's own SuspendTime
  // (40 s) would power it down itself.
  auto up = UsableNodes();
  ASSERT_EQ(up.size(), 1u) << States();
  seen = Decisions().size();
  auto drained_at = std::chrono::steady_clock::now();
  slurm_.Drain(up[0], "tarn node check: test drain");
  auto gone = WaitDecision("down", "drained", seen);
  EXPECT_EQ(gone["nodes"], json::array({up[0]}));
  auto replacement = WaitDecision("up", "fewer than min_nodes", seen);
  // Whichever node is powered down first: on a cloud a node name is a slot, and
  // powering the drained one's slot up again starts a new machine in it.
  ASSERT_EQ(replacement["nodes"].size(), 1u);
  EXPECT_TRUE(WaitUsable(1, std::chrono::seconds(60))) << States() << json(Decisions()).dump();
  EXPECT_LT(std::chrono::steady_clock::now() - drained_at, std::chrono::seconds(60));
  try {
    slurm_.Resume(up[0]);  // its drain, if Slurm's power-down did not clear it
  } catch (const Error&) {
  }
  // The decisions were events too, for administrators.
  auto events = Call("GET", "/v1/events?after=0&max_seconds=1&types=scaling", admin_);
  EXPECT_THAT(events.body, HasSubstr("fewer than min_nodes"));
  EXPECT_THAT(Call("GET", "/metrics", admin_).body,
              ::testing::ContainsRegex("tarn_slurm_scale_decisions_total\\{action=\"up\"\\} [3-9]"));
}

}  // namespace
}  // namespace tarn::testing
