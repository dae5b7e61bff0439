// Livy batches are job runs. A batch is a run of the application `default` whose
// script is the SQL file the batch names (`file`, under the lake's scripts/ folder,
// read at submission), so the jobs API and GET /batches see the same work. Table
// livy_batches gives each such run Livy's integer id.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "jobs/job_store.h"
#include "store/store.h"

namespace tarn::livy {

class BatchStore {
 public:
  explicit BatchStore(store::MetaStore& store) : store_(store) {}
  // Numbers the job run as a batch; returns its id.
  int64_t Add(const std::string& job_run_id);
  // The job run of batch `id`, if there is one.
  std::optional<std::string> RunOf(int64_t id);
  // Every batch, by id: (id, job run id).
  std::vector<std::pair<int64_t, std::string>> All();

 private:
  store::MetaStore& store_;
};

// The job-run request (docs/jobs.md) a Livy batch body asks for, checked against what
// a SQL batch can honour (docs/livy.md, "Batches"): `file` → job.script_location;
// `name`; `driverMemory` / conf `spark.driver.memory` (Spark sizes: 512m, 4g; no unit
// is MiB) → capacity.memory; `driverCores` / conf `spark.driver.cores` →
// capacity.threads; conf `tarn.timeout_minutes`, `tarn.max_attempts` → timeout_minutes,
// retry_policy. Every other conf key, non-empty args/jars/pyFiles/files/archives,
// className and executor settings are a kInvalidArgument naming the field. `tags` are
// added as they are. The request is then checked as any job run (jobs::ParseJobSpec).
nlohmann::json BatchRunRequest(const nlohmann::json& body, nlohmann::json tags);

// Livy's state of a job run: starting (submitted, queued), running, shutting_down
// (cancelling), success, dead (failed), killed (cancelled).
const char* BatchState(jobs::RunState state);

// Livy's batch object: {id, name, owner, proxyUser, state, appId (the job run),
// appInfo, log (the last lines)}. The owner is who submitted it; proxyUser whom it
// runs as (the same unless it was submitted with proxyUser/doAs).
nlohmann::json BatchJson(int64_t id, const jobs::JobRun& run, const std::vector<std::string>& log);

// A job run's log lines as Livy log text, "<time> <kind>: <message>": lines
// [from, from + size) of it.
std::vector<std::string> BatchLog(jobs::JobStore& store, const std::string& job_run_id, int64_t from = 0,
                                  int64_t size = 10000);

}  // namespace tarn::livy
