// RunExecutor: where the runs of an application whose executor is not `local` compute
// their queries (the `slurm` executor, provided by the scale component, is handed to
// the job service like a job type). A run still executes through the Runner as its
// submitter; its RunRequest carries the executor's offload (session/offload.h), so
// governance, audit, logs, cancel and retries stay the job service's.
//
// Thread-safety: implementations are thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "jobs/job_store.h"
#include "session/offload.h"

namespace tarn::jobs {

// How an executor reports on a run while it executes.
struct RunHooks {
  std::function<void(const std::string&)> details;  // sets the run's state_details
  std::function<void(const std::string&)> note;     // adds a line to the run's log
};

class RunExecutor {
 public:
  virtual ~RunExecutor() = default;
  // The executor type it serves ("slurm").
  virtual std::string name() const = 0;
  // The offload for the current attempt of `run` of `app`. What it leaves (task
  // files, shuffle data) is removed when the returned object is destroyed, whether
  // the attempt succeeded or not. Throws what makes the attempt fail.
  virtual std::shared_ptr<session::QueryOffload> Start(const Application& app, const JobRun& run,
                                                       RunHooks hooks) = 0;
};

using RunExecutors = std::vector<std::shared_ptr<RunExecutor>>;

}  // namespace tarn::jobs
