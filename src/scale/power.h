// Slurm power saving: what Tarn's ResumeProgram and SuspendProgram (`tarn node resume`,
// `tarn node suspend`) do with the nodes Slurm names. A real cluster gives a provider
// command (an argument vector with {node} standing for each node's name, run without a
// shell: e.g. a cloud CLI that starts or stops the machine); the test cluster, whose
// nodes are slurmd's on one host, starts and stops local slurmd's (`local_slurmd`).
//
// Errors: kInvalidArgument for neither or both of command and local_slurmd; kIo naming
// the node whose command failed (the other nodes are still tried).
//
// Thread-safety: thread-safe.
#pragma once

#include <string>
#include <vector>

namespace tarn::scale {

struct PowerOptions {
  std::vector<std::string> command;  // the provider's program and arguments, {node} replaced
  bool local_slurmd = false;         // start `slurmd -b -N node` / stop it by its pid file
};

// A Slurm hostlist ("c[1-2],d3") as node names (scontrol show hostnames).
std::vector<std::string> ExpandHostlist(const std::string& hostlist);

// Powers up (Resume) or down (Suspend) each of `nodes`; returns one line per node
// saying what was done.
std::vector<std::string> PowerUp(const std::vector<std::string>& nodes, const PowerOptions& options);
std::vector<std::string> PowerDown(const std::vector<std::string>& nodes, const PowerOptions& options);

}  // namespace tarn::scale
