#include "cli/node_commands.h"

#include <condition_variable>
#include <iostream>
#include <mutex>
#include <sstream>

#include "cli/signals.h"
#include "common/error.h"
#include "governance/policy.h"
#include "scale/node_check.h"
#include "scale/node_scratch.h"
#include "scale/power.h"
#include "scale/slurm.h"
#include "server/config.h"
#include "server/node_files.h"

namespace tarn::cli {

namespace {

// Drain reasons this check sets start with this; only those does it lift.
constexpr const char* kReasonPrefix = "tarn node check: ";

int64_t Size(const std::string& text, const char* flag) {
  try {
    return governance::ParseLimitValue("result_bytes", text);
  } catch (const Error&) {
    throw Error::InvalidArgument("{} takes a size such as 512MiB or 2GB, not '{}'", flag, text.substr(0, 64));
  }
}

// Drains `node` (requeueing its running jobs) or lifts this check's own drain; what
// was done goes into `out`.
void ActOnSlurm(const std::string& node, const scale::NodeHealth& health, nlohmann::json& out) {
  scale::SlurmClient slurm;
  auto state = slurm.Node(node);
  bool drained_by_us = (state.Has("DRAIN") || state.Has("DRAINED") || state.Has("DRAINING")) &&
                       state.reason.rfind(kReasonPrefix, 0) == 0;
  out["node"] = node;
  out["action"] = "none";
  if (!health.healthy()) {
    std::string reason = kReasonPrefix + health.Reason();
    if (reason.size() > 240) reason = reason.substr(0, 237) + "...";
    slurm.Drain(node, reason);
    auto requeued = nlohmann::json::array();
    for (auto& job : slurm.JobsOn(node)) {
      try {
        slurm.Requeue(job);
        requeued.push_back(job);
      } catch (const Error& e) {
        std::cerr << "could not requeue job " << job << ": " << e.what() << "\n";
      }
    }
    out["action"] = "drained";
    out["requeued"] = requeued;
  } else if (drained_by_us) {
    slurm.Resume(node);
    out["action"] = "resumed";
  }
}

}  // namespace

NodeCommands::NodeCommands(CLI::App& app) {
  auto* node = app.add_subcommand("node", "This machine as a node of a Slurm cluster (docs/scale-out.md)");
  check_ = node->add_subcommand(
      "check",
      "Check that this node can run Tarn's work: temp space and inodes, memory, lake, engine. Exit 0 "
      "healthy, 1 unhealthy");
  check_->add_option("--temp-dir", temp_dir_, "Temp folder to check (default $TMPDIR, else /tmp)");
  check_->add_option("--lake", lake_, "Lake root that must be reachable and readable");
  check_->add_option("--min-free-space", min_free_space_, "Free space the temp folder needs (default 1GiB)");
  check_
      ->add_option("--min-free-inodes", min_free_inodes_, "Free inodes the temp folder needs (default 10000)")
      ->check(CLI::NonNegativeNumber);
  check_->add_option("--min-memory", min_memory_, "Available memory needed (default 256MiB)");
  check_->add_flag("--json", json_, "Print one JSON object: healthy, reason, checks, action");
  check_->add_flag(
      "--drain", drain_,
      "Slurm HealthCheckProgram mode: drain this node when unhealthy (requeueing its jobs), return "
      "it to service when healthy again");
  check_->add_option("--node", node_, "With --drain: the Slurm node name (default $SLURMD_NODENAME)");
  for (bool up : {true, false}) {
    auto* c = node->add_subcommand(up ? "resume" : "suspend",
                                   up ? "Slurm ResumeProgram: power the nodes of HOSTLIST up"
                                      : "Slurm SuspendProgram: power the nodes of HOSTLIST down");
    c->add_option("hostlist", hostlist_, "The nodes, as Slurm names them (c[1-2])")->required();
    c->add_option("--command", command_,
                  "The provider's program and arguments, split at spaces and run without a shell; {node} "
                  "stands for each node");
    c->add_flag("--local-slurmd", local_slurmd_,
                "Start or stop a slurmd on this host for each node (test clusters)");
    (up ? resume_ : suspend_) = c;
  }
  serve_ = node->add_subcommand(
      "serve", "Serve the shuffle files this node's map tasks write on its local disk to the other nodes");
  serve_->add_option("--scratch", scratch_, "The node's scratch root (the server's [slurm] node_scratch)")
      ->required();
  serve_->add_option("--listen", listen_, "Address and port to listen on (default 0.0.0.0:0, any free port)");
  serve_->add_option("--advertise", advertise_,
                     "Host name the other nodes reach this one by (default: its name)");
  serve_->add_option("--keep", keep_hours_, "Hours after which leftover folders are removed (default 24)")
      ->check(CLI::Range(1, 24 * 365));
}

int NodeCommands::Serve() {
  server::NodeFileServiceOptions options;
  options.root = scale::NodeScratchRoot(scratch_, "");
  server::ServerConfig listen;
  server::SetListen(listen, listen_);
  options.host = listen.host;
  options.port = listen.port;
  options.advertise = advertise_;
  options.keep = std::chrono::hours(keep_hours_);
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  InterruptGuard guard(
      [&] {
        std::lock_guard lock(mu);
        stop = true;
        cv.notify_all();
      },
      "\nstopping the node file service\n");
  server::NodeFileService service(options);
  service.Start();
  std::cerr << "tarn node file service on " << service.url() << " (certificate sha256 " << service.sha256()
            << ", scratch " << options.root.string() << ")\n";
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return stop; });
  }
  service.Shutdown();
  return 0;
}

std::optional<int> NodeCommands::Run() {
  if (serve_->parsed()) return Serve();
  if (check_->parsed()) return Check();
  if (resume_->parsed()) return Power(true);
  if (suspend_->parsed()) return Power(false);
  return std::nullopt;
}

int NodeCommands::Power(bool up) {
  scale::PowerOptions options;
  std::istringstream words(command_);
  for (std::string w; words >> w;) options.command.push_back(w);
  options.local_slurmd = local_slurmd_;
  auto nodes = scale::ExpandHostlist(hostlist_);
  auto done = up ? scale::PowerUp(nodes, options) : scale::PowerDown(nodes, options);
  for (auto& line : done) std::cout << (up ? "resume " : "suspend ") << line << "\n";
  return 0;
}

int NodeCommands::Check() {
  scale::NodeCheckOptions options;
  options.temp_dir = temp_dir_;
  if (!lake_.empty()) options.lake = lake_;
  options.min_free_bytes = Size(min_free_space_, "--min-free-space");
  options.min_available_bytes = Size(min_memory_, "--min-memory");
  options.min_free_inodes = min_free_inodes_;
  std::string node = node_;
  if (drain_ && node.empty()) {
    const char* env = std::getenv("SLURMD_NODENAME");
    if (!env || !*env)
      throw Error::InvalidArgument(
          "--drain needs the node's Slurm name: run as Slurm's HealthCheckProgram "
          "(SLURMD_NODENAME) or give --node");
    node = env;
  }
  auto health = scale::CheckNode(options);
  auto out = health.Json();
  if (drain_) ActOnSlurm(node, health, out);
  if (json_) {
    std::cout << out.dump() << "\n";
  } else {
    for (auto& c : health.checks)
      std::cout << (c.ok ? "ok    " : "FAIL  ") << c.name << ": " << c.detail << "\n";
    std::cout << (health.healthy() ? "healthy" : "unhealthy");
    if (drain_) std::cout << " (node " << node << ": " << out["action"].get<std::string>() << ")";
    std::cout << "\n";
  }
  return health.healthy() ? 0 : 1;
}

}  // namespace tarn::cli
