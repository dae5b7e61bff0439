// JobStore: applications and job runs in the metadata store (SQLite or PostgreSQL).
//
// A job run is submitted into QUEUED (SUBMITTED and PENDING are recorded on the
// way, in one transaction), claimed by a worker (QUEUED -> SCHEDULED -> RUNNING, a
// compare-and-set: two workers never claim the same run) and ends SUCCESS, FAILED
// or CANCELLED (through CANCELLING when it was running). Every transition is a line
// of the run's log, timestamped. docs/jobs.md states the model.
//
// Errors: kInvalidArgument for a bad field (the message names it), kNotFound for an
// unknown application or run, kConflict for a client_token reused with another
// request or a run not in a state that allows the change, kIo from the store.
//
// Thread-safety: as the MetaStore it uses (one thread at a time).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "identity/principal.h"
#include "jobs/events.h"
#include "jobs/job_type.h"
#include "store/store.h"

namespace tarn::jobs {

enum class RunState {
  kSubmitted,
  kPending,
  kQueued,
  kScheduled,
  kRunning,
  kSuccess,
  kFailed,
  kCancelling,
  kCancelled
};
const char* RunStateName(RunState state);
// kInvalidArgument naming the states if `name` is none of them.
RunState ParseRunState(const std::string& name);
bool IsTerminal(RunState state);

// Where an application's runs execute: "local" (in the server) or "slurm" (on the
// nodes of a Slurm cluster, as `tarn worker`s; see docs/scale-out.md).
struct Executor {
  std::string type = "local";
  std::string partition;  // slurm: "" for the cluster's default partition
  std::string account;
  std::string qos;
  int64_t time_limit_minutes = 0;  // 0: the partition's limit
  int64_t min_nodes = 0;           // managed scaling: never fewer nodes kept up
  int64_t max_nodes = 4;           // at most this many nodes at once for one run
  // Buckets of a partitioned query (docs/scale-out.md, "Partitioned runs"); 0: chosen
  // from the input's size and the run's memory.
  int64_t buckets = 0;
  bool slurm() const { return type == "slurm"; }
  nlohmann::json Json() const;
};

struct Application {
  std::string id;
  std::string name;
  std::string state;  // CREATED, STARTED, STOPPING, STOPPED
  int64_t max_concurrent_runs = 15;
  int64_t queue_timeout_minutes = 360;
  int64_t default_timeout_minutes = 720;  // 0: never
  // maximum_capacity: the most memory (bytes) and threads its RUNNING runs may hold
  // together (0: no cap); a run that would exceed it waits in QUEUED.
  int64_t max_memory_bytes = 0;
  int64_t max_threads = 0;
  Executor executor;
  std::string created_by;
  std::string created_at;
  std::string updated_at;
  nlohmann::json Json() const;
};

// The fields of POST /v1/applications, checked: unknown fields and bad values are
// kInvalidArgument naming the field.
Application ParseApplication(const nlohmann::json& body);
// An application's `executor` field: {"type": "local"} or {"type": "slurm",
// "partition", "account", "qos", "time_limit_minutes", "min_nodes", "max_nodes"}.
Executor ParseExecutor(const nlohmann::json& value);

// One step of a run: a script, and what a failure of it does to the steps after it.
struct StepSpec {
  std::string name;
  std::string script;
  std::string action_on_failure = "CANCEL_AND_WAIT";  // or CONTINUE
  // {"db.table": [key column, ...]}: a Slurm executor may split the script's last
  // statement by those keys (docs/scale-out.md, "Partitioned runs"); null: it may not.
  nlohmann::json partition_by;
};

// What to run: type "sql" with a script (given, or read from script_location in the
// lake's scripts/ folder at submission), or an ordered list of steps.
struct JobSpec {
  std::string name;
  std::string script;
  std::vector<StepSpec> steps;  // empty: the run is `script`
  int64_t memory_bytes = 0;     // capacity the run reserves (0: the defaults, 1 GiB and 1 thread)
  int64_t threads = 0;
  std::optional<std::string> client_token;
  int64_t timeout_minutes = -1;  // -1: the application's default
  int64_t max_attempts = 1;      // retry_policy.max_attempts: a failed attempt reruns while attempts remain
  std::string execution_role;    // the role the run executes as ("": the submitter's own rights)
  std::vector<std::string> execution_policy;  // with a role: only the role's grants these name
  nlohmann::json job;  // as stored: {type, script[, script_location]} or {type, steps: [...]}
  nlohmann::json tags = nlohmann::json::object();  // name -> text, the caller's own labels
  std::optional<std::string> schedule_id;          // set by the scheduler, never from a request
};

// The fields of POST .../jobruns, checked as ParseApplication does; a script_location
// is read from `lake_root`/scripts/ (kInvalidArgument, worded the same, for what is not there).
// Job objects of another type than "sql" are parsed by that type in `types`.
JobSpec ParseJobSpec(const nlohmann::json& body, const std::filesystem::path& lake_root,
                     const JobTypes& types);

struct JobRun {
  std::string id;
  std::string application_id;
  std::string name;
  identity::Principal principal;  // the submitter, as at submission
  std::optional<std::string> client_token;
  nlohmann::json job;
  int64_t timeout_minutes = 0;
  RunState state = RunState::kSubmitted;
  std::string state_details;
  int64_t attempt = 0;
  int64_t max_attempts = 1;
  int64_t statements_total = 0;
  int64_t statements_done = 0;
  int64_t rows_returned = 0;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  std::optional<int64_t> started_ms;
  std::optional<int64_t> ended_ms;
  std::string script() const { return job.value("script", ""); }
  int64_t memory_bytes = 0;  // the capacity it reserves while running
  int64_t threads = 0;
  nlohmann::json usage = nlohmann::json::object();  // resource_utilization so far
  std::optional<int64_t> result_rows;               // rows of its kept result, if it has one
  std::optional<std::string> schedule_id;           // the schedule that submitted it
  nlohmann::json tags = nlohmann::json::object();
  // Its steps: those given, else one step (unnamed, CANCEL_AND_WAIT) of its script.
  std::vector<StepSpec> Steps() const;
  bool has_steps() const { return job.contains("steps"); }
  nlohmann::json Json() const;
};

// One attempt of a run: its own state, times and error.
struct Attempt {
  int64_t attempt = 0;
  std::string state;
  std::string state_details;
  int64_t started_ms = 0;
  std::optional<int64_t> ended_ms;
  nlohmann::json Json() const;
};

// A step's record in a run.
struct StepRecord {
  int64_t step = 0;  // from 1
  std::string name;
  std::string action_on_failure;
  std::string state;  // PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, INTERRUPTED
  std::string state_details;
  int64_t attempt = 0;  // the attempt that ran it last
  std::optional<int64_t> started_ms;
  std::optional<int64_t> ended_ms;
  nlohmann::json Json() const;
};

struct LogLine {
  int64_t line = 0;
  int64_t at_ms = 0;
  std::string kind;  // state, statement, error
  std::string message;
  nlohmann::json Json() const;
};

// Milliseconds since the epoch, now.
int64_t NowMs();
// "2026-12-04T17:26:26.000Z"; OptIso: null for none.
std::string Iso(int64_t ms);
nlohmann::json OptIso(const std::optional<int64_t>& ms);
// A principal as job runs and schedules store it (and back).
nlohmann::json PrincipalJson(const identity::Principal& p);
identity::Principal PrincipalFrom(const std::string& text);

class JobStore {
 public:
  explicit JobStore(store::MetaStore& store) : store_(store) {}
  store::MetaStore& meta() { return store_; }
  // Appends an Event for every run state change (and step change) made through this
  // store to `sink` (null: none); publishing them once committed is the caller's.
  void CollectEvents(std::vector<Event>* sink) { events_ = sink; }
  // Adds an event to the sink (if any), with the run's id, its application and the time.
  void Emit(const std::string& type, const std::string& run_id, const std::string& application_id,
            const std::string& user, const std::string& issuer, nlohmann::json data);

  // Errors: kInvalidArgument for a slurm executor on a SQLite metadata store (nodes
  // need a store they can all reach: PostgreSQL).
  Application CreateApplication(Application app, const std::string& user);
  std::vector<Application> ListApplications();
  Application GetApplication(const std::string& id);
  // Changes max_concurrent_runs, queue_timeout_minutes and default_timeout_minutes
  // (`body` as ParseApplication takes it, without "name"); stops, starts or deletes
  // (with its runs and their logs). Update, stop and delete are kConflict while the
  // application has runs that have not ended; `default` cannot be deleted.
  Application UpdateApplication(const std::string& id, const nlohmann::json& body);
  Application SetApplicationState(const std::string& id, const std::string& state);
  void DeleteApplication(const std::string& id);

  // Queues a run of `spec` for `principal` on `application_id` (which must be
  // STARTED); the run executes as `principal` with spec.execution_role as its role
  // (whether the principal may assume it is the caller's to check). With a client_token already used by this
  // principal: the same request gives back that run (`created` false), another request is kConflict.
  JobRun Submit(const std::string& application_id, const JobSpec& spec, const identity::Principal& principal,
                bool& created);
  JobRun GetRun(const std::string& id);
  // Runs of an application, newest first; only `owner`'s (user and issuer) unless null.
  std::vector<JobRun> ListRuns(const std::string& application_id, const identity::Principal* owner,
                               std::optional<RunState> state, int64_t limit);

  // Whether any run is QUEUED: a read, so that idle workers polling an empty queue
  // never take the store's write lock (SQLite's is the whole file).
  bool HasQueued();
  // Claims the oldest QUEUED run at the head of its application's queue whose
  // application has a free slot (max_concurrent_runs) and room for its capacity
  // (maximum_capacity); it is RUNNING when returned, attempt counted, leased to
  // `owner` for `lease_ms`.
  std::optional<JobRun> ClaimNext(const std::string& owner, int64_t lease_ms);
  // Extends the leases of `owner`'s running runs to now + lease_ms; returns how many.
  int64_t Heartbeat(const std::string& owner, int64_t lease_ms);
  // Moves `id` from one of `from` to `to` (a compare-and-set); false if it was in
  // none of them. Terminal states stamp ended_ms.
  bool Transition(const std::string& id, const std::vector<RunState>& from, RunState to,
                  const std::string& details = "");
  // Sets the state_details of a RUNNING run (an executor's view of it, e.g. Slurm's
  // state and reason); false if it is not running.
  bool SetDetails(const std::string& id, const std::string& details);
  // Runs queued longer than their application's queue_timeout_minutes end CANCELLED,
  // "queue timeout"; returns how many.
  int64_t ExpireQueued(int64_t now_ms);
  // Runs whose server stopped without ending them: those whose lease expired before
  // `now_ms` (or that have none) and, at a server's start, those leased by an earlier
  // life of that server (lease owner starting with `stale_prefix`). RUNNING and
  // SCHEDULED ones are retried if attempts remain, else end FAILED "interrupted";
  // CANCELLING ones end CANCELLED. Returns how many.
  int64_t Recover(const std::optional<std::string>& stale_prefix, int64_t now_ms);
  // A failed attempt of a RUNNING run with attempts left goes back to QUEUED (the
  // attempt ends FAILED with `error`); false if it has none left or is not RUNNING.
  bool Retry(const std::string& id, const std::string& error);
  std::vector<Attempt> Attempts(const std::string& id);
  // How many runs each application has in each state: {application id, state, count}.
  std::vector<std::tuple<std::string, std::string, int64_t>> CountByState();
  // The run's steps (none for a run of one script); SetStep moves one (PENDING,
  // RUNNING, COMPLETED, FAILED, CANCELLED) and logs it.
  std::vector<StepRecord> Steps(const std::string& id);
  void SetStep(const std::string& id, int64_t step, const std::string& state, const std::string& details,
               int64_t attempt);
  // The run's resource_utilization and the rows of its kept result (null: none).
  void RecordUsage(const std::string& id, const nlohmann::json& usage, std::optional<int64_t> result_rows);
  void Progress(const std::string& id, int64_t statements_total, int64_t statements_done, int64_t rows);
  // Appends a line to the run's log, stamped `at_ms` (now if 0).
  void Log(const std::string& id, const std::string& kind, const std::string& message, int64_t at_ms = 0);
  // Up to `size` log lines of run `id` after line `from` (lines count from 1).
  std::vector<LogLine> Logs(const std::string& id, int64_t from, int64_t size);
  // How many lines run `id`'s log holds (0 for an unknown run).
  int64_t LogLines(const std::string& id);

 private:
  JobRun RunFrom(const store::Row& row);
  void AddSteps(const std::string& id, const std::vector<StepSpec>& steps);
  void EndAttempt(const std::string& id, RunState state, const std::string& details, int64_t now);
  void LogLocked(const std::string& id, const std::string& kind, const std::string& message, int64_t at);

  store::MetaStore& store_;
  std::vector<Event>* events_ = nullptr;
};

}  // namespace tarn::jobs
