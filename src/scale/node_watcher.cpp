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
  Scale(seen);
  for (auto& [was, now] : changed) {
    nlohmann::json details{
        {"node", now.name}, {"state", now.state}, {"reason", now.reason}, {"previous_state", was.state}};
    Record("node", "node_state", "slurm", Action(was, now), details);
  }
}

void NodeWatcher::Record(const std::string& type, const std::string& event, const std::string& actor,
                         const std::string& action, const nlohmann::json& details) {
  if (options_.publish) {
    jobs::Event e;
    e.type = type;
    e.data = details;
    options_.publish(std::move(e));
  }
  if (options_.audit) {
    audit::ActionEvent a;
    a.event = event;
    a.actor.user = actor;
    a.origin = audit::Origin{"slurm"};
    a.action = action;
    a.details = details;
    options_.audit(audit::ToJson(a));
  }
}

void NodeWatcher::Scale(const std::vector<SlurmNode>& seen) {
  auto now = std::chrono::steady_clock::now();
  for (auto& n : seen) {
    if (Usable(n) && !Busy(n))
      idle_since_.emplace(n.name, now);  // the first look that saw it idle
    else
      idle_since_.erase(n.name);
  }
  if (!options_.policies) return;
  for (auto& policy : options_.policies()) {
    PartitionView view;
    for (auto n : slurm_.Nodes(policy.partition)) {
      if (!PowerManaged(n)) continue;
      // A power request of the last seconds counts as under way even before Slurm shows it.
      if (auto it = requested_.find(n.name);
          it != requested_.end() && now - it->second.second < std::chrono::seconds(15)) {
        bool up = it->second.first == "up", off = Off(n);
        if (up && off) n.state = "IDLE+CLOUD+POWERING_UP";
        if (!up && !off) n.state = "IDLE+CLOUD+POWERING_DOWN";
      }
      view.nodes.push_back(n);
    }
    if (view.nodes.empty()) continue;  // nothing in it Tarn may power
    view.pending_tasks = slurm_.PendingTasks(policy.partition);
    for (auto& d : Decide(policy, view, idle_since_, now, options_.scale_idle)) {
      std::string failed;  // what Slurm refused, if it did (the next look decides again)
      for (auto& node : d.nodes) {
        try {
          d.action == "up" ? slurm_.PowerUp(node) : slurm_.PowerDown(node);
          requested_[node] = {d.action, now};
        } catch (const Error& e) {
          failed += (failed.empty() ? "" : "; ") + std::string(e.what());
        }
        idle_since_.erase(node);
      }
      nlohmann::json details{{"partition", policy.partition},
                             {"applications", policy.applications},
                             {"action", d.action},
                             {"nodes", d.nodes},
                             {"reason", d.reason}};
      if (!failed.empty()) details["error"] = failed;
      {
        std::lock_guard lock(mu_);
        scaled_[d.action]++;
      }
      Record("scaling", "node_scale", "tarn", d.action == "up" ? "POWER_UP" : "POWER_DOWN", details);
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
  out +=
      "# HELP tarn_slurm_scale_decisions_total Nodes powered up or down by managed scaling, decisions.\n"
      "# TYPE tarn_slurm_scale_decisions_total counter\n";
  for (auto action : {"up", "down"}) {
    auto it = scaled_.find(action);
    out += fmt::format("tarn_slurm_scale_decisions_total{{action=\"{}\"}} {}\n", action,
                       it == scaled_.end() ? 0 : it->second);
  }
  return out;
}

}  // namespace tarn::scale
