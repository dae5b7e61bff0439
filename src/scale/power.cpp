#include "scale/power.h"

#include <signal.h>

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "scale/process.h"

namespace tarn::scale {

namespace {

void CheckOptions(const PowerOptions& o) {
  if (o.command.empty() == !o.local_slurmd)
    throw Error::InvalidArgument("give the provider's command (--command) or --local-slurmd, one of them");
}

std::vector<std::string> WithNode(const std::vector<std::string>& command, const std::string& node) {
  std::vector<std::string> out;
  for (auto arg : command) {
    for (size_t at; (at = arg.find("{node}")) != std::string::npos;) arg.replace(at, 6, node);
    out.push_back(arg);
  }
  return out;
}

// The pid file of `node`'s slurmd (SlurmdPidFile, %n replaced).
std::string PidFile(const std::string& node) {
  std::istringstream config(RunProgramChecked({"scontrol", "show", "config"}));
  for (std::string line; std::getline(config, line);) {
    if (line.rfind("SlurmdPidFile", 0) != 0) continue;
    std::string path = line.substr(line.find('=') + 1);
    path.erase(0, path.find_first_not_of(' '));
    for (size_t at; (at = path.find("%n")) != std::string::npos;) path.replace(at, 2, node);
    return path;
  }
  throw Error::Io("scontrol show config names no SlurmdPidFile");
}

// Runs `argv` for every node, collecting what happened; the first failure is thrown
// after every node was tried.
std::vector<std::string> ForEach(const std::vector<std::string>& nodes,
                                 const std::function<std::string(const std::string&)>& act) {
  std::vector<std::string> done;
  std::optional<Error> failed;
  for (auto& node : nodes) {
    try {
      done.push_back(act(node));
    } catch (const Error& e) {
      done.push_back(fmt::format("{}: {}", node, e.what()));
      if (!failed) failed = Error::Io("{}: {}", node, e.what());
    }
  }
  if (failed) throw *failed;
  return done;
}

// Waits up to `limit` for process `pid` to end; whether it did.
bool Ended(int pid, std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (kill(pid, 0) == 0) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

}  // namespace

std::vector<std::string> ExpandHostlist(const std::string& hostlist) {
  if (hostlist.empty() || hostlist[0] == '-')
    throw Error::InvalidArgument("'{}' is not a Slurm hostlist", hostlist);
  std::istringstream out(RunProgramChecked({"scontrol", "show", "hostnames", hostlist}));
  std::vector<std::string> nodes;
  for (std::string line; std::getline(out, line);)
    if (!line.empty()) nodes.push_back(line);
  return nodes;
}

std::vector<std::string> PowerUp(const std::vector<std::string>& nodes, const PowerOptions& o) {
  CheckOptions(o);
  // `slurmd -b` reports a boot one second before it started; Slurm counts a node as
  // resumed only if it booted after the resume request, so a local slurmd started
  // within a second of that request would never count. Wait that second out.
  if (o.local_slurmd) std::this_thread::sleep_for(std::chrono::seconds(2));
  return ForEach(nodes, [&](const std::string& node) {
    if (o.local_slurmd) {
      int rc = StartDaemon({"/usr/sbin/slurmd", "-b", "-N", node});
      if (rc != 0) throw Error::Io("slurmd -N {} exited {}", node, rc);
      return fmt::format("{}: slurmd started", node);
    }
    RunProgramChecked(WithNode(o.command, node), std::chrono::minutes(5));
    return fmt::format("{}: {} done", node, o.command[0]);
  });
}

std::vector<std::string> PowerDown(const std::vector<std::string>& nodes, const PowerOptions& o) {
  CheckOptions(o);
  return ForEach(nodes, [&](const std::string& node) {
    if (o.local_slurmd) {
      std::ifstream f(PidFile(node));
      int pid = 0;
      if (!(f >> pid) || pid <= 1) return fmt::format("{}: no slurmd running", node);
      if (kill(pid, SIGTERM) != 0) return fmt::format("{}: slurmd {} already gone", node, pid);
      // slurmd may take its time over SIGTERM; a node powered up again must not find it.
      if (!Ended(pid, std::chrono::seconds(5))) {
        kill(pid, SIGKILL);
        Ended(pid, std::chrono::seconds(2));
        return fmt::format("{}: slurmd {} killed (it did not end on SIGTERM within 5 s)", node, pid);
      }
      return fmt::format("{}: slurmd {} stopped", node, pid);
    }
    RunProgramChecked(WithNode(o.command, node), std::chrono::minutes(5));
    return fmt::format("{}: {} done", node, o.command[0]);
  });
}

}  // namespace tarn::scale
