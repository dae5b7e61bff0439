#include "scale/scaler.h"

#include <fmt/format.h>

#include <algorithm>

namespace tarn::scale {

namespace {

bool Unfit(const SlurmNode& n) {
  return n.Has("DRAIN") || n.Has("DOWN") || n.Has("FAIL");
}

}  // namespace

bool PowerManaged(const SlurmNode& n) {
  return n.Has("CLOUD") || n.Has("POWERED_DOWN");
}

bool Off(const SlurmNode& n) {
  return n.Has("POWERED_DOWN") || n.Has("POWERING_DOWN") || n.Has("POWER_DOWN");
}

bool Usable(const SlurmNode& n) {
  return !Off(n) && !Unfit(n);
}

bool Busy(const SlurmNode& n) {
  return n.Has("ALLOCATED") || n.Has("MIXED") || n.Has("COMPLETING");
}

std::vector<ScaleDecision> Decide(
    const ScalePolicy& policy, const PartitionView& view,
    const std::map<std::string, std::chrono::steady_clock::time_point>& idle_since,
    std::chrono::steady_clock::time_point now, std::chrono::milliseconds idle_period) {
  std::vector<ScaleDecision> out;
  int64_t usable = 0, booting = 0, busy = 0;
  std::vector<std::string> off, idle, drained;
  for (auto& n : view.nodes) {
    if (Usable(n)) {
      usable++;
      if (n.Has("POWERING_UP")) booting++;
      if (Busy(n)) {
        busy++;
      } else if (!n.Has("POWERING_UP")) {
        auto it = idle_since.find(n.name);
        if (it != idle_since.end() && now - it->second >= idle_period) idle.push_back(n.name);
      }
    } else if (Off(n)) {
      if (!n.Has("POWERING_DOWN") && !n.Has("POWER_DOWN") && !Unfit(n)) off.push_back(n.name);
    } else if (Unfit(n) && !Busy(n)) {
      drained.push_back(n.name);  // up, unfit and idle: its power is wasted
    }
  }
  int64_t most = std::max<int64_t>(policy.max_nodes, policy.min_nodes);
  int64_t wanted = std::clamp<int64_t>(busy + view.pending_tasks, policy.min_nodes, most);
  std::string figures = fmt::format("{} usable, {} busy, {} tasks pending; min_nodes {}, max_nodes {}",
                                    usable, busy, view.pending_tasks, policy.min_nodes, most);
  if (!drained.empty()) out.push_back({"down", drained, "drained or down, and idle (" + figures + ")"});
  if (usable < wanted && !off.empty()) {
    std::sort(off.begin(), off.end());
    off.resize(std::min<size_t>(off.size(), static_cast<size_t>(wanted - usable)));
    std::string why = busy + view.pending_tasks > usable
                          ? fmt::format("work waiting: {} nodes wanted", wanted)
                          : fmt::format("fewer than min_nodes: {} nodes wanted", wanted);
    out.push_back({"up", off, why + " (" + figures + ")"});
  } else if (usable - booting > wanted && !idle.empty()) {
    // Only nodes that are up count here: a node still booting may never answer, and an
    // up node powered down for it would leave the partition with nothing to run on.
    std::sort(idle.begin(), idle.end());
    idle.resize(std::min<size_t>(idle.size(), static_cast<size_t>(usable - booting - wanted)));
    out.push_back({"down", idle,
                   fmt::format("idle for {} s or more: {} nodes wanted ({})", idle_period.count() / 1000,
                               wanted, figures)});
  }
  return out;
}

}  // namespace tarn::scale
