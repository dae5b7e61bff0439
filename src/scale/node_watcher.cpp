#include "scale/node_watcher.h"

#include <fmt/format.h>

#include <cctype>

#include "audit/events.h"
#include "common/error.h"

namespace tarn::scale {

namespace {

// DRAIN, RESUME, DOWN or STATE: what a change from `was` to `now` amounts to.
std::string Action(const SlurmNode& was, const SlurmNode& now) {
  bool drained = now.Has("DRAIN"), was_drained = was.Has("DRAIN");
  bool down = now.Has("DOWN") && !now.Has("POWERED_DOWN"),
       was_down = was.Has("DOWN") && !was.Has("POWERED_DOWN");
  if (drained && !was_drained) return "DRAIN";
  if (down && !was_down) return "DOWN";
  if ((was_drained && !drained) || (was_down && !down)) return "RESUME";
  return "STATE";
}

std::string BaseState(const std::string& state) {
  std::string base = state.substr(0, state.find('+'));
  for (auto& c : base) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!base.empty() && !std::isalpha(static_cast<unsigned char>(base.back())))
    base.pop_back();  // idle* / down~
  return base.empty() ? "unknown" : base;
}

}  // namespace

NodeWatcher::NodeWatcher(NodeWatcherOptions options) : options_(std::move(options)) {
  thread_ = std::thread([this] { Loop(); });
}

NodeWatcher::~NodeWatcher() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void NodeWatcher::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, options_.interval, [&] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    try {
      if (!options_.active || options_.active()) Look();
    } catch (const Error&) {
      // Slurm or the store is unreachable now: the next interval tries again.
    }
    lock.lock();
  }
}

void NodeWatcher::Look() {
  std::lock_guard one(look_mu_);
  auto seen = slurm_.Nodes();
  std::vector<std::pair<SlurmNode, SlurmNode>> changed;  // was, now
  {
    std::lock_guard lock(mu_);
    for (auto& n : seen) {
      auto it = nodes_.find(n.name);
      if (looked_ && it != nodes_.end() && (it->second.state != n.state || it->second.reason != n.reason))
        changed.emplace_back(it->second, n);
      nodes_[n.name] = n;
    }
    looked_ = true;
    changes_ += static_cast<int64_t>(changed.size());
  }
  for (auto& [was, now] : changed) {
    nlohmann::json details{
        {"node", now.name}, {"state", now.state}, {"reason", now.reason}, {"previous_state", was.state}};
    if (options_.publish) {
      jobs::Event e;
      e.type = "node";
      e.data = details;
      options_.publish(std::move(e));
    }
    if (options_.audit) {
      audit::ActionEvent a;
      a.event = "node_state";
      a.actor.user = "slurm";
      a.origin = audit::Origin{"slurm"};
      a.action = Action(was, now);
      a.details = details;
      options_.audit(audit::ToJson(a));
    }
  }
}

std::string NodeWatcher::RenderMetrics() const {
  std::lock_guard lock(mu_);
  if (!looked_) return "";
  std::map<std::string, int64_t> by_state;
  int64_t drained = 0;
  for (auto& [name, n] : nodes_) {
    by_state[BaseState(n.state)]++;
    drained += n.Has("DRAIN") ? 1 : 0;
  }
  std::string out =
      "# HELP tarn_slurm_nodes Slurm nodes by state at the last look.\n# TYPE tarn_slurm_nodes gauge\n";
  for (auto& [state, count] : by_state)
    out += fmt::format("tarn_slurm_nodes{{state=\"{}\"}} {}\n", state, count);
  out += fmt::format(
      "# HELP tarn_slurm_nodes_drained Slurm nodes drained at the last look.\n# TYPE "
      "tarn_slurm_nodes_drained "
      "gauge\ntarn_slurm_nodes_drained {}\n",
      drained);
  out += fmt::format(
      "# HELP tarn_slurm_node_changes_total Node state changes seen.\n# TYPE tarn_slurm_node_changes_total "
      "counter\ntarn_slurm_node_changes_total {}\n",
      changes_);
  return out;
}

}  // namespace tarn::scale
