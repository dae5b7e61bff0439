// `tarn node`: this machine as a node of a Slurm cluster (docs/scale-out.md).
//
//   tarn node check [--temp-dir D] [--lake D] [--min-free-space SIZE]
//                   [--min-free-inodes N] [--min-memory SIZE] [--json]
//                   [--drain [--node NAME]]
//
// `check` runs the node checks (scale/node_check.h) and prints what each found; the
// exit code is 0 when healthy and 1 when not. With --drain it is Slurm's
// HealthCheckProgram: an unhealthy node (SLURMD_NODENAME, or --node) is drained with
// the failed checks as the reason and its running jobs are requeued on other nodes;
// a node this check drained earlier goes back to service once healthy. Drains by
// people or by Slurm itself are left alone.
//
//   tarn node resume HOSTLIST (--command "PROGRAM ARGS {node}" | --local-slurmd)
//   tarn node suspend HOSTLIST (--command "PROGRAM ARGS {node}" | --local-slurmd)
//
// Slurm's ResumeProgram and SuspendProgram for power saving (scale/power.h): power the
// nodes of HOSTLIST up or down through the provider's command (split at spaces, run
// without a shell, {node} replaced), or start and stop local slurmd's (test clusters).
//   tarn node serve --scratch DIR [--listen HOST:PORT] [--advertise HOST] [--keep HOURS]
//
// The node's file service (server/node_files.h): map tasks on this node write their
// shuffle files under DIR (the server's [slurm] node_scratch, %n filled in) and the
// other nodes' tasks fetch them from it. Runs until SIGTERM or Ctrl-C.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace tarn::cli {

class NodeCommands {
 public:
  explicit NodeCommands(CLI::App& app);
  std::optional<int> Run();

 private:
  int Check();
  int Power(bool up);
  int Serve();

  CLI::App* check_ = nullptr;
  CLI::App* resume_ = nullptr;
  CLI::App* suspend_ = nullptr;
  CLI::App* serve_ = nullptr;
  std::string scratch_, listen_ = "0.0.0.0:0", advertise_;
  int64_t keep_hours_ = 24;
  std::string hostlist_, command_;
  bool local_slurmd_ = false;
  std::string temp_dir_, lake_, min_free_space_ = "1GiB", min_memory_ = "256MiB", node_;
  int64_t min_free_inodes_ = 10000;
  bool json_ = false, drain_ = false;
};

}  // namespace tarn::cli
