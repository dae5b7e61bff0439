// Managed scaling decisions: between min_nodes and max_nodes by busy nodes and pending
// tasks, idle nodes down after the idle period, drained nodes down and replaced.
#include "scale/scaler.h"

#include <gtest/gtest.h>

namespace tarn::scale {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::seconds;

SlurmNode Node(const std::string& name, const std::string& state) {
  return {name, state, ""};
}

class ScalerTest : public ::testing::Test {
 protected:
  std::vector<ScaleDecision> Run(std::vector<SlurmNode> nodes, int64_t pending) {
    return Decide(policy_, {std::move(nodes), pending}, idle_, now_, std::chrono::milliseconds(60000));
  }
  ScalePolicy policy_{"cloud", {"nightly"}, 1, 3};
  std::map<std::string, Clock::time_point> idle_;
  Clock::time_point now_ = Clock::now();
};

TEST_F(ScalerTest, MinNodesComeUpWithNothingToDo) {
  auto d = Run({Node("c1", "IDLE+CLOUD+POWERED_DOWN"), Node("c2", "IDLE+CLOUD+POWERED_DOWN")}, 0);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].action, "up");
  EXPECT_EQ(d[0].nodes, std::vector<std::string>{"c1"});
  EXPECT_NE(d[0].reason.find("fewer than min_nodes: 1 nodes wanted"), std::string::npos) << d[0].reason;
}

TEST_F(ScalerTest, WaitingWorkBringsNodesUpToMaxNodesOnly) {
  auto d = Run({Node("c1", "ALLOCATED+CLOUD"), Node("c2", "IDLE+CLOUD+POWERED_DOWN"),
                Node("c3", "IDLE+CLOUD+POWERED_DOWN"), Node("c4", "IDLE+CLOUD+POWERED_DOWN")},
               10);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].action, "up");
  EXPECT_EQ(d[0].nodes, (std::vector<std::string>{"c2", "c3"}));  // 3 = max_nodes
  EXPECT_NE(d[0].reason.find("work waiting: 3 nodes wanted"), std::string::npos) << d[0].reason;
  EXPECT_NE(d[0].reason.find("1 busy, 10 tasks pending"), std::string::npos) << d[0].reason;
  // Nodes already coming up count: nothing more to do.
  EXPECT_TRUE(Run({Node("c1", "ALLOCATED+CLOUD"), Node("c2", "IDLE+CLOUD+POWERING_UP"),
                   Node("c3", "IDLE+CLOUD+POWERING_UP"), Node("c4", "IDLE+CLOUD+POWERED_DOWN")},
                  10)
                  .empty());
}

TEST_F(ScalerTest, IdleNodesGoDownAfterTheIdlePeriodButNeverBelowMinNodes) {
  std::vector<SlurmNode> nodes{Node("c1", "IDLE+CLOUD"), Node("c2", "IDLE+CLOUD"), Node("c3", "IDLE+CLOUD")};
  idle_ = {{"c1", now_ - seconds(120)}, {"c2", now_ - seconds(120)}, {"c3", now_ - seconds(10)}};
  auto d = Run(nodes, 0);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].action, "down");
  EXPECT_EQ(d[0].nodes, (std::vector<std::string>{"c1", "c2"}));  // c3 has idled 10 s only
  EXPECT_NE(d[0].reason.find("idle for 60 s or more: 1 nodes wanted"), std::string::npos) << d[0].reason;
  idle_["c3"] = now_ - seconds(120);
  d = Run(nodes, 0);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].nodes.size(), 2u);  // one stays: min_nodes 1
  // A node still booting does not count as up: the one that is up stays until it does.
  EXPECT_TRUE(Run({Node("c1", "IDLE+CLOUD"), Node("c2", "IDLE+CLOUD+POWERING_UP")}, 0).empty());
  idle_["c2"] = now_ - seconds(120);
  d = Run({Node("c1", "IDLE+CLOUD"), Node("c2", "IDLE+CLOUD")}, 0);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].nodes, std::vector<std::string>{"c1"});
  // Busy nodes and pending work keep them: 2 busy + 1 pending = 3 wanted.
  EXPECT_TRUE(
      Run({Node("c1", "IDLE+CLOUD"), Node("c2", "ALLOCATED+CLOUD"), Node("c3", "MIXED+CLOUD")}, 1).empty());
}

TEST_F(ScalerTest, ADrainedNodeGoesDownAndAnotherComesUpForIt) {
  auto d = Run({Node("c1", "IDLE+DRAIN+CLOUD"), Node("c2", "IDLE+CLOUD+POWERED_DOWN")}, 0);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].action, "down");
  EXPECT_EQ(d[0].nodes, std::vector<std::string>{"c1"});
  EXPECT_NE(d[0].reason.find("drained"), std::string::npos);
  EXPECT_EQ(d[1].action, "up");
  EXPECT_EQ(d[1].nodes, std::vector<std::string>{"c2"});
  // A drained node still running work is left to finish; a powered-down drained node is not brought up.
  d = Run({Node("c1", "ALLOCATED+DRAIN+CLOUD"), Node("c2", "IDLE+DRAIN+CLOUD+POWERED_DOWN")}, 0);
  EXPECT_TRUE(d.empty());
}

TEST(Scaler, OnlyCloudOrPoweredDownNodesArePowerManaged) {
  EXPECT_TRUE(PowerManaged(Node("c1", "IDLE+CLOUD")));
  EXPECT_TRUE(PowerManaged(Node("n1", "IDLE+POWERED_DOWN")));
  EXPECT_FALSE(PowerManaged(Node("n1", "IDLE")));
  EXPECT_FALSE(Usable(Node("n1", "DOWN+NOT_RESPONDING")));
  EXPECT_TRUE(Busy(Node("n1", "MIXED")));
}

}  // namespace
}  // namespace tarn::scale
