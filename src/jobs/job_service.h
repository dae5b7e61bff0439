// JobService: runs queued job runs through the Runner, as their submitters.
//
// Worker threads claim queued runs from the metadata store (JobStore::ClaimNext:
// oldest first, within each application's max_concurrent_runs) and run each script
// through session::Runner::Run with origin {kind "job", job_run_id}, so that every
// statement is governed, limited and audited like any other front end's. The
// ResultHandler of a run writes its log (each statement's start and end, rows,
// errors) and progress to the store.
//
// A cancel is recorded first (RUNNING -> CANCELLING, or QUEUED -> CANCELLED) and then
// reaches the engine: Runner::Cancel at once, and the run's client_gone poll as a
// backstop for a cancel that arrives before the run is registered. A run past its
// timeout_minutes is stopped the same way and ends CANCELLED, "execution timeout".
// A run's built-in submitter must still exist when it starts ("principal no longer
// exists" otherwise); their groups are read again then.
//
// Runs left RUNNING by a server that stopped without finishing them are queued again
// (attempts left) or end FAILED, "interrupted", when the next JobService starts (one
// server per metadata store).
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/histogram.h"
#include "jobs/job_store.h"
#include "jobs/job_writer.h"
#include "session/instance.h"
#include "session/runner.h"

namespace tarn::jobs {

// The id of a run's current attempt in the Runner (and GET /v1/queries): "<run>.<attempt>".
std::string RunnerId(const JobRun& run);

struct JobServiceOptions {
  int workers = 16;  // runs executing at once, over all applications
  std::chrono::milliseconds poll{500};
  // Principals of this issuer are built-in users: looked up again when their run starts.
  std::string builtin_issuer;
};

class JobService {
 public:
  JobService(session::Instance& instance, session::Runner& runner, JobServiceOptions options);
  ~JobService();  // Stop()

  // Stops the workers: what still runs is stopped and queued again if attempts
  // remain, else ends FAILED, "interrupted". Idempotent; the other methods stay
  // usable (a cancel still reaches the store).
  void Stop();

  // Queues a run (JobStore::Submit, group-committed) and wakes an idle worker.
  JobRun Submit(const std::string& application_id, const JobSpec& spec, const identity::Principal& principal,
                bool& created);
  // A run was queued: wakes an idle worker.
  void Wake();
  // Prometheus lines: runs by application and state and each application's queue
  // depth (read with `reader`), and this server's histograms of queue wait and run
  // duration per application.
  std::string RenderMetrics(JobStore& reader);
  // Cancels `run` (as `by`): QUEUED ends CANCELLED at once; RUNNING goes CANCELLING and
  // its statement is stopped; kConflict for a run that already ended.
  JobRun Cancel(JobStore& store, const JobRun& run, const std::string& by);

 private:
  void Work();
  // The next run to execute, if one may start (queue timeouts applied first, once per
  // poll interval); ClaimIn inside a change of the writer, Claim from outside.
  std::optional<JobRun> Claim(JobStore& reader);
  std::optional<JobRun> ClaimIn(JobStore& s);
  void ExpireIfDue(JobStore& s);
  // Runs `run`; its end and the claim of the next run are one change. Returns that run.
  std::optional<JobRun> Execute(JobStore& reader, JobRun run);
  // Records how the run ended (inside a change); true if it was queued for a retry.
  bool End(JobStore& s, const JobRun& run, const session::RunResult& result, bool timed_out);
  // The next run for a worker that just ended one, unless the service is stopping.
  std::optional<JobRun> Next(JobStore& s);
  bool StopRequested(const std::string& id);

  session::Instance& instance_;
  session::Runner& runner_;
  JobServiceOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  uint64_t wakes_ = 0;
  std::set<std::string> cancelled_;  // runs asked to stop, until their worker ends them
  std::atomic<int64_t> last_expiry_ms_{0};
  std::mutex metrics_mu_;
  std::map<std::string, Histogram> queue_wait_, run_duration_;  // by application id
  JobWriter writer_;  // every change of job state goes through it (group commit)
  std::mutex join_mu_;
  std::vector<std::thread> workers_;
};

}  // namespace tarn::jobs
