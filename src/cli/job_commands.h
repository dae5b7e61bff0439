// `tarn app` and `tarn job`: applications and job runs on a server (docs/jobs.md).
//
//   tarn app create NAME [--max-concurrent-runs N] [--queue-timeout MIN] [--default-timeout MIN]
//                   [--max-memory SIZE] [--max-threads N]
//                   [--executor local|slurm [--partition P] [--account A] [--qos Q]
//                    [--time-limit MIN] [--min-nodes N] [--max-nodes N]]
//   tarn app update ID [the same limits] | stop ID | start ID | delete ID
//   tarn app list | get ID
//   tarn job submit [--app A] (--sql SQL | --file F) [--name N] [--role R] [--client-token T]
//                   [--timeout MIN] [--wait]
//   tarn job list [--app A] [--state S] | get ID | logs ID [--follow] | cancel ID
//   tarn job result ID [--format json|csv|parquet] [--output F] [--limit N]
//   tarn schedule create --cron C [--timezone TZ] [--overlap skip|queue] (--sql | --file)
//                        [--app A] [--name N] [--role R]
//   tarn schedule list [--app A] | get ID | delete ID
//
// `--json` prints the server's JSON; otherwise a line or a table for people.
// `job submit --wait` and `job logs --follow` poll until the run ends (a progress
// bar on a terminal); the exit code is then 0 for SUCCESS, 1 for FAILED and 6 for
// CANCELLED.
#pragma once

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <vector>

#include "cli/remote_flags.h"
#include "jobs/job_store.h"

namespace tarn::cli {

// Polls job run `run_id` of `application` until it ends (a progress bar on a
// terminal; with `show_logs`, its log lines as they come); returns the exit code of
// its state (0 SUCCESS, 1 FAILED, 6 CANCELLED).
int WaitForJobRun(const RemoteOptions& remote, const std::string& application, const std::string& run_id,
                  bool show_logs);

// Downloads the files of job run `run_id` (GET .../jobruns/{id}/files) into `out_dir`
// (made if missing), naming each on stderr; returns their names (none when the run
// kept none).
std::vector<std::string> DownloadJobRunFiles(const RemoteOptions& remote, const std::string& application,
                                             const std::string& run_id, const std::filesystem::path& out_dir);

class JobCommands {
 public:
  // Adds the commands to `app`.
  explicit JobCommands(CLI::App& app);
  // After parsing: runs the chosen command and returns its exit code, or nullopt
  // when none of these was chosen.
  std::optional<int> Run();

 private:
  int Submit();
  int ChangeApplication();
  int Wait(const std::string& run_id, bool show_logs);
  int Result(const std::string& run_path);
  // maximum_capacity from --max-memory and --max-threads, if `cmd` was given them.
  nlohmann::json Capacity(const CLI::App& cmd) const;
  // The executor from --executor and the Slurm options, if `cmd` was given them (null otherwise).
  nlohmann::json Executor(const CLI::App& cmd) const;
  // tarn schedule ... (schedule_commands.cpp)
  void AddScheduleCommands(CLI::App& app);
  int Schedules();

  RemoteFlags remote_;
  CLI::App* app_cmd_ = nullptr;
  CLI::App* app_create_ = nullptr;
  CLI::App* app_list_ = nullptr;
  CLI::App* app_get_ = nullptr;
  CLI::App* app_update_ = nullptr;
  CLI::App* app_stop_ = nullptr;
  CLI::App* app_start_ = nullptr;
  CLI::App* app_delete_ = nullptr;
  std::vector<CLI::Option*> limit_options_;  // create's three, then update's three
  CLI::App* job_cmd_ = nullptr;
  CLI::App* job_submit_ = nullptr;
  CLI::App* job_list_ = nullptr;
  CLI::App* job_get_ = nullptr;
  CLI::App* job_logs_ = nullptr;
  CLI::App* job_cancel_ = nullptr;
  CLI::App* job_result_ = nullptr;
  CLI::App* schedule_cmd_ = nullptr;
  CLI::App* schedule_create_ = nullptr;
  CLI::App* schedule_list_ = nullptr;
  CLI::App* schedule_get_ = nullptr;
  CLI::App* schedule_delete_ = nullptr;
  std::string format_ = "json", output_, cron_, timezone_ = "UTC", overlap_ = "skip";
  int64_t limit_ = 10000, max_threads_ = 0;
  std::string max_memory_;
  jobs::Executor executor_;
  std::string name_, application_ = "default", sql_, file_, client_token_, state_, id_, role_;
  int64_t max_concurrent_ = 15, queue_timeout_ = 360, default_timeout_ = 720, timeout_ = -1;
  bool json_ = false, wait_ = false, follow_ = false;
};

}  // namespace tarn::cli
