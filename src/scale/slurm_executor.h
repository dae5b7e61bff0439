// SlurmExecutor: the `slurm` executor of applications (jobs/executor.h). Each query
// of a run (planned and verified here as its submitter, session/offload.h) becomes a
// task: a Slurm batch job running `tarn worker` on a node, which fetches the task
// from this server with the task's credential (credential.h), computes it in a
// sandboxed engine that may read only the files the plan named, writes the rows into
// the run's private scratch folder and reports back. The run's state_details follow
// the Slurm job (state, reason, node); a cancel or timeout cancels the Slurm job;
// the scratch folder (<lake>/_tarn/scratch/<run>.<attempt>/, mode 0700, never a
// table's) is removed when the attempt ends, whatever the outcome.
//
// Thread-safety: thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "jobs/executor.h"
#include "scale/credential.h"
#include "scale/slurm.h"

namespace tarn::scale {

struct SlurmExecutorOptions {
  std::filesystem::path lake_root;       // the lake every node mounts at this same path
  std::filesystem::path worker_program;  // the tarn binary, at this path on every node
  // How workers reach this server (http(s)://host:port), asked when a task starts.
  std::function<std::string()> server_url;
  std::string ca_file;  // the PEM file workers trust for the server's certificate ("": system store)
  std::filesystem::path rest_socket;    // slurmrestd's UNIX socket ("": sbatch, scontrol, scancel)
  std::chrono::milliseconds poll{250};  // how often Slurm is asked about a task's job
  // How long a task credential holds when the application sets no time limit.
  std::chrono::minutes credential_ttl{24 * 60};
  // Each node's scratch root (%n: the node's name), where map tasks write the shuffle
  // when the node runs a file service (node_scratch.h); "": on the shared filesystem.
  std::string node_scratch;
  // Removes the files a map task wrote on a node (its report's "node_files") once the
  // attempt ended; throws if the node cannot be reached (its service then removes them
  // when they are old).
  std::function<void(const nlohmann::json& node_files)> remove_node_files;
};

// The tasks handed out and their reports, by (run, task).
class TaskBoard {
 public:
  void Post(const std::string& run, const std::string& task, nlohmann::json body);
  std::optional<nlohmann::json> Task(const std::string& run, const std::string& task) const;
  // kNotFound if the task is not on the board (it ended, or never was).
  void Report(const std::string& run, const std::string& task, nlohmann::json report);
  std::optional<nlohmann::json> TakeReport(const std::string& run, const std::string& task);
  void Remove(const std::string& run, const std::string& task);

 private:
  struct Entry {
    nlohmann::json task;
    std::optional<nlohmann::json> report;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Entry> entries_;
};

class SlurmExecutor : public jobs::RunExecutor {
 public:
  // `signing_key`: the metadata store's task signing key (TaskSigningKey).
  SlurmExecutor(SlurmExecutorOptions options, std::string signing_key);
  std::string name() const override { return "slurm"; }
  std::shared_ptr<session::QueryOffload> Start(const jobs::Application& app, const jobs::JobRun& run,
                                               jobs::RunHooks hooks) override;

  // For the worker routes: the task `credential` was issued for, if it is `run`'s
  // `task` and still valid (kUnauthenticated otherwise, kNotFound once it ended).
  nlohmann::json FetchTask(const std::string& run, const std::string& task, const std::string& credential);
  void Report(const std::string& run, const std::string& task, const std::string& credential,
              nlohmann::json report);

  const SlurmExecutorOptions& options() const { return options_; }
  const TaskSigner& signer() const { return signer_; }
  TaskBoard& board() { return board_; }
  const SlurmClient& slurm() const { return slurm_; }

 private:
  SlurmExecutorOptions options_;
  TaskSigner signer_;
  TaskBoard board_;
  SlurmClient slurm_;
};

}  // namespace tarn::scale
