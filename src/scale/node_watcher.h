// NodeWatcher: the server's view of its Slurm cluster's nodes. Every `interval`, while
// `active()` says some application uses the slurm executor, it reads the nodes
// (scontrol) and for each node whose state or reason changed since the last look it
//   - publishes an event of type "node" (GET /v1/events, administrators):
//     {node, state, reason, previous_state};
//   - appends an audit record (event "node_state", actor "slurm", action DRAIN,
//     RESUME, DOWN or STATE, details {node, state, reason, previous_state});
//   - counts it for the metrics (Render).
// The first look records the states without events (they did not change then).
// Then, for each partition a slurm application scales (`policies`), it powers nodes
// up or down as Decide says and publishes each decision as an event of type
// "scaling" {partition, applications, action, nodes, reason}, audited as event
// "node_scale" (action POWER_UP or POWER_DOWN).
//
// Thread-safety: thread-safe; the destructor stops the watching thread.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "jobs/events.h"
#include "scale/scaler.h"
#include "scale/slurm.h"

namespace tarn::scale {

struct NodeWatcherOptions {
  std::chrono::milliseconds interval{5000};
  std::function<bool()> active;                      // whether to look at all now
  std::function<void(jobs::Event)> publish;          // to the event bus
  std::function<void(const nlohmann::json&)> audit;  // an audit record to append
  // Managed scaling (scaler.h): the partitions to scale, looked up at each look (none: no scaling).
  std::function<std::vector<ScalePolicy>()> policies;
  std::chrono::milliseconds scale_idle{300000};  // how long a node idles before it is powered down
};

class NodeWatcher {
 public:
  explicit NodeWatcher(NodeWatcherOptions options);
  ~NodeWatcher();
  NodeWatcher(const NodeWatcher&) = delete;
  NodeWatcher& operator=(const NodeWatcher&) = delete;

  // Looks once now (the thread does it every interval).
  void Look();
  // Prometheus lines: tarn_slurm_nodes{state} for the last look (state: the node's
  // first state word, lower case; drained nodes also count in tarn_slurm_nodes_drained)
  // and tarn_slurm_node_changes_total.
  std::string RenderMetrics() const;

 private:
  void Loop();

  NodeWatcherOptions options_;
  SlurmClient slurm_{std::chrono::seconds(10)};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool looked_ = false;
  std::map<std::string, SlurmNode> nodes_;  // by name, as last seen
  int64_t changes_ = 0;
  std::map<std::string, std::chrono::steady_clock::time_point> idle_since_;  // usable, idle nodes
  std::map<std::string, int64_t> scaled_;                                    // decisions by action
  // Power requests Slurm may not show yet: node -> (action, when asked).
  std::map<std::string, std::pair<std::string, std::chrono::steady_clock::time_point>> requested_;
  void Scale(const std::vector<SlurmNode>& seen);
  // Publishes an event of `type` and appends an audit record (`event`, `action`) of `details`.
  void Record(const std::string& type, const std::string& event, const std::string& actor,
              const std::string& action, const nlohmann::json& details);
  std::mutex look_mu_;  // one look at a time
  std::thread thread_;
};

}  // namespace tarn::scale
