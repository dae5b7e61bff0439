// Managed scaling: how many of a partition's power-saving (CLOUD) nodes should be up
// for the slurm applications that use it, and which nodes to power up or down through
// Slurm's power saving (scontrol update state=POWER_UP / POWER_DOWN, which run the
// partition's Resume/SuspendProgram). docs/scale-out.md, "Managed scaling".
//
//   wanted = clamp(busy nodes + pending tasks, min_nodes, max_nodes)
//
// over the applications' largest min_nodes and max_nodes. Fewer usable nodes than
// wanted: power up that many powered-down nodes (a drained node is not usable, so a
// replacement comes up for it). More nodes up (booting ones not counted): power down
// nodes idle for at least the idle period, never below wanted. A drained node that is
// idle is powered down.
//
// Thread-safety: Decide is a pure function.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "scale/slurm.h"

namespace tarn::scale {

// What the slurm applications of one partition ask for.
struct ScalePolicy {
  std::string partition;
  std::vector<std::string> applications;
  int64_t min_nodes = 0;
  int64_t max_nodes = 0;
};

// The partition as Slurm shows it now.
struct PartitionView {
  std::vector<SlurmNode> nodes;  // its CLOUD nodes
  int64_t pending_tasks = 0;     // jobs and array tasks waiting in it
};

struct ScaleDecision {
  std::string action;  // "up" or "down"
  std::vector<std::string> nodes;
  std::string reason;  // in words, with the figures it came from
};

// `idle_since`: since when each node has been up and idle (absent: busy or not up).
std::vector<ScaleDecision> Decide(
    const ScalePolicy& policy, const PartitionView& view,
    const std::map<std::string, std::chrono::steady_clock::time_point>& idle_since,
    std::chrono::steady_clock::time_point now, std::chrono::milliseconds idle_period);

// A node Tarn may power (a CLOUD node, or one Slurm has powered down).
bool PowerManaged(const SlurmNode& n);
// Powered down, or on its way down.
bool Off(const SlurmNode& n);
// Up (or coming up) and neither drained nor down: it can take work.
bool Usable(const SlurmNode& n);
// Running work.
bool Busy(const SlurmNode& n);

}  // namespace tarn::scale
