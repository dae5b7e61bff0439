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

#include "jobs/job_store.h"
#include "session/instance.h"
#include "session/runner.h"

namespace tarn::jobs {

// The id of a run's current attempt in the Runner (and GET /v1/queries): "<run>.<attempt>".
std::string RunnerId(const JobRun& run);

struct JobServiceOptions {
  int workers = 4;  // runs executing at once, over all applications
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

  // A run was queued: wakes an idle worker.
  void Wake();
  // Cancels `run` (as `by`): QUEUED ends CANCELLED at once; RUNNING goes CANCELLING and
  // its statement is stopped; kConflict for a run that already ended.
  JobRun Cancel(JobStore& store, const JobRun& run, const std::string& by);

 private:
  void Work();
  void Execute(JobStore& store, JobRun run);
  bool StopRequested(const std::string& id);

  session::Instance& instance_;
  session::Runner& runner_;
  JobServiceOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  uint64_t wakes_ = 0;
  std::set<std::string> cancelled_;  // runs asked to stop, until their worker ends them
  std::mutex claim_mu_;              // one claim at a time in this process
  std::mutex join_mu_;
  std::vector<std::thread> workers_;
};

}  // namespace tarn::jobs
