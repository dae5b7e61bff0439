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
// A claimed run is leased to this service (lease owner "<server_id>/<random>") and a
// heartbeat extends the leases of its runs every lease/3. Runs left RUNNING by a
// server that stopped without finishing them are queued again (attempts left) or end
// FAILED, "interrupted": at once when the same server_id starts again, else when
// their lease runs out (any service checks once per poll interval).
//
// A run of steps runs them in order, each as one Runner run; a failed step's
// action_on_failure says whether the steps after it run (CONTINUE) or end CANCELLED
// (CANCEL_AND_WAIT). A retried attempt does not run again the steps that completed.
// The rows of the run's last statement, if it is a query, are kept as Parquet
// (ResultPath).
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/histogram.h"
#include "jobs/events.h"
#include "jobs/executor.h"
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
  std::string server_id = "local";         // names this server in run leases
  std::chrono::milliseconds lease{60000};  // how long a claim holds without a heartbeat
  // The scheduler's clock (ms since the epoch; tests move it), and how often it looks
  // for due schedules.
  std::function<int64_t()> clock = NowMs;
  // The clock that execution and queue timeouts and external identities' TTL are
  // measured on against runs' own times (tests move it ahead of them).
  std::function<int64_t()> deadline_clock = NowMs;
  std::chrono::milliseconds schedule_poll{1000};
  // The job types besides "sql" (e.g. quality's reconciliation).
  JobTypes types;
  // The executors besides "local" (e.g. scale's slurm), by the name applications use.
  RunExecutors executors;
  // How long after submission the groups in an external principal's token are trusted.
  std::chrono::milliseconds external_identity_ttl{std::chrono::hours(12)};
};

class RunLog;

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
  // State changes of runs (published by the writer once committed), applications and schedules.
  EventBus& events() { return events_; }
  // Now, by the scheduler's clock.
  int64_t Now() const { return options_.clock(); }
  const std::filesystem::path& lake_root() const { return instance_.lake().root(); }
  const JobTypes& types() const { return options_.types; }
  // Where a run's result is kept: <lake>/_jobs/results/<run>.parquet.
  std::filesystem::path ResultPath(const JobRun& run) const;
  // Where the files a run writes (COPY ... TO 'name', a pipeline's file outputs) are
  // kept: <lake>/_jobs/results/<run>.files/.
  std::filesystem::path FilesDir(const JobRun& run) const;

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
  // Runs the run's steps (or its script); `result_rows` gets the kept result's rows.
  session::RunResult RunSteps(JobStore& reader, const JobRun& run, RunLog& log, std::atomic<bool>& timed_out,
                              std::optional<int64_t>& result_rows);
  // The offload of `run`'s application's executor (null for local; see executor.h).
  std::shared_ptr<session::QueryOffload> Offload(JobStore& reader, const JobRun& run, RunLog& log);
  void Heartbeat();
  // The scheduler thread: fires what is due every schedule_poll (schedule_fire.cpp).
  void Schedules();
  void FireDue(store::MetaStore& meta);
  // Fires schedule `id` if it is due at `now` (inside a change); true if it submitted a run.
  bool Fire(JobStore& s, const std::string& id, int64_t now);
  // The next run for a worker that just ended one, unless the service is stopping.
  std::optional<JobRun> Next(JobStore& s);
  bool StopRequested(const std::string& id);

  session::Instance& instance_;
  session::Runner& runner_;
  JobServiceOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable beat_;  // the heartbeat's, apart: a Wake must reach a worker
  bool stopping_ = false;
  uint64_t wakes_ = 0;
  std::set<std::string> cancelled_;             // runs asked to stop, until their worker ends them
  std::map<std::string, std::string> current_;  // run id -> the Runner id of its running step
  std::atomic<int64_t> last_expiry_ms_{0};
  std::mutex metrics_mu_;
  std::map<std::string, Histogram> queue_wait_, run_duration_;  // by application id
  EventBus events_;                                             // before the writer, which publishes to it
  JobWriter writer_;  // every change of job state goes through it (group commit)
  std::mutex join_mu_;
  std::vector<std::thread> workers_;
  std::string owner_;  // this service's lease owner
  std::thread heartbeat_;
  std::condition_variable tick_;  // the scheduler's
  std::thread scheduler_;
};

}  // namespace tarn::jobs
