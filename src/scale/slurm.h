// SlurmClient: Tarn's side of a Slurm cluster, through Slurm's own command-line tools
// (sbatch, squeue, scontrol, scancel) run with argument vectors, never a shell. The
// cluster is the one the server's environment names (SLURM_CONF, else Slurm's
// default /etc/slurm/slurm.conf); munge authenticates Tarn to it as the user the
// server runs as. Given slurmrestd's socket, jobs are submitted, looked at and
// cancelled through that daemon instead (slurm_rest.h); nodes are managed with the
// tools either way.
//
// Errors: kIo naming the tool and its first line of error output when a tool fails
// or cannot be run; kInvalidArgument for a request that would not make a valid job.
//
// Thread-safety: thread-safe (each call runs its own processes).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tarn::scale {

struct SlurmJobRequest {
  std::string name;                  // --job-name: letters, digits, '-', '_', '.'
  std::vector<std::string> command;  // what the job runs, argv (argv[0] an absolute path)
  std::string partition;             // "" for the cluster's default
  std::string account;
  std::string qos;
  int64_t time_limit_minutes = 0;    // 0: the partition's
  int64_t array_size = 0;            // > 0: a job array of tasks 0..array_size-1
  int64_t max_parallel = 0;          // with an array: at most this many at once (0: no cap)
  std::vector<std::string> exclude;  // nodes it must not run on
  std::filesystem::path output;      // standard output and error (%A, %a, %j as sbatch knows them)
  std::filesystem::path workdir;     // --chdir
};

// One job, or one task of an array ("123_4"), as Slurm sees it.
struct SlurmJob {
  std::string id;         // 123, or 123_4 for array task 4
  std::string state;      // PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, NODE_FAIL, ...
  std::string reason;     // Slurm's reason (Priority, Resources, NodeDown, ...), "None" if none
  std::string nodes;      // where it runs or ran
  int64_t exit_code = 0;  // the script's exit status once ended
  int64_t restarts = 0;   // how often it was requeued
  bool Ended() const;     // COMPLETED, FAILED, CANCELLED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, ...
};

struct SlurmNode {
  std::string name;
  std::string state;                        // IDLE, ALLOCATED, IDLE+DRAIN, DOWN+CLOUD+POWERED_DOWN, ...
  std::string reason;                       // why it is drained or down ("" if it is not)
  bool Has(const std::string& flag) const;  // a word of `state`, e.g. "DRAIN"
};

class SlurmRest;

class SlurmClient {
 public:
  // `rest_socket`: slurmrestd's UNIX socket, or empty for sbatch, scontrol and scancel.
  explicit SlurmClient(std::chrono::milliseconds timeout = std::chrono::seconds(30),
                       const std::filesystem::path& rest_socket = {});
  // How jobs are submitted: "sbatch" or "slurmrestd".
  const char* Via() const { return rest_ ? "slurmrestd" : "sbatch"; }

  // Submits `request` (with sbatch, or through slurmrestd); returns the job id (of the array, for an array).
  std::string Submit(const SlurmJobRequest& request) const;
  // The job `id` (an array: each of its tasks, pending ones included) while Slurm
  // still knows it (MinJobAge after it ends); none if it does not.
  std::vector<SlurmJob> Jobs(const std::string& id) const;
  // Cancels the job `id` (every task of an array). A job that already ended is no error.
  void Cancel(const std::string& id) const;
  // Requeues the job or task `id` (it runs again, on a node Slurm picks).
  void Requeue(const std::string& id) const;
  // The jobs (tasks as "123_4") running on `node`.
  std::vector<std::string> JobsOn(const std::string& node) const;
  std::vector<SlurmNode> Nodes(const std::string& partition = "") const;
  SlurmNode Node(const std::string& name) const;
  // Drains `node` with `reason` (no new work; running work goes on) / returns it to service.
  void Drain(const std::string& node, const std::string& reason) const;
  void Resume(const std::string& node) const;
  // Jobs and array tasks waiting (PENDING) in `partition`.
  int64_t PendingTasks(const std::string& partition) const;
  // Powers `node` up or down through Slurm's power saving (its Resume/SuspendProgram).
  void PowerUp(const std::string& node) const;
  void PowerDown(const std::string& node) const;

 private:
  std::chrono::milliseconds timeout_;
  std::shared_ptr<const SlurmRest> rest_;  // null: the command-line tools
};

// `text` quoted for a POSIX shell (one word, whatever it holds).
std::string ShellQuote(const std::string& text);

}  // namespace tarn::scale
