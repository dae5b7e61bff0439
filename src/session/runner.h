// Runner: the one way any front end (HTTP, CLI, jobs, Livy, the PostgreSQL
// endpoint, the studio) runs statements as a principal.
//
// A run is a script of statements for one principal, from one origin. The Runner
//   - resolves the principal's limits (SET LIMIT, else the Runner's defaults) and
//     picks the engine: the shared one, or a memory pool's (SET LIMIT memory);
//   - admits or refuses it (concurrent_statements; a refusal is audited);
//   - borrows a Session from its pool, runs the script, returns the Session;
//   - gives every statement a deadline (statement_timeout) that a watchdog enforces;
//   - caps what the result hands over (result_rows, result_bytes and the caller's
//     own max_rows) by wrapping the caller's handler: a cut result is reported
//     `truncated`, never silently short;
//   - registers the run under an id so that its owner (or an administrator) can
//     find, list and cancel it from another thread; a cancel is sticky (see
//     Session::Stop).
// Finished runs stay listed for 10 minutes (at most 1000).
//
// Thread-safety: all methods are thread-safe; Run blocks the calling thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "session/instance.h"
#include "session/session.h"

namespace tarn::session {

enum class RunState { kQueued, kRunning, kFinished, kFailed, kCancelled, kTimedOut, kRefused };
const char* RunStateName(RunState state);

// Caps the caller itself asks for (a front end's page size is not one of these: a
// cap cuts the result).
struct RunCaps {
  std::optional<int64_t> max_rows;   // rows of each statement's result
  std::optional<int64_t> max_bytes;  // bytes of values (ResultBytes) of each result
};

struct RunRequest {
  identity::Principal principal;
  audit::Origin origin;  // origin.run_id: the caller's id for the run, else one is made
  std::string sql;
  // An assumed role: the run has only that role's grants (the principal must hold
  // it; its limits stay the principal's own). Empty: all of the principal's grants.
  std::string role;
  RunCaps caps;
  // Writes the last statement's rows to this Parquet file instead of the handler.
  std::optional<std::filesystem::path> parquet_output;
  bool parquet_only_if_query = false;  // see Session::Execute
  // Polled by the watchdog while the run is running; true stops it (kClientGone).
  std::function<bool()> client_gone;
  // The last statement's audit record is only queued, not waited for: RunResult::
  // final_audit tells when it is durable, and the caller must not release that
  // statement's result before then. Lets a front end answer without holding a thread
  // while the record is synced.
  bool defer_final_audit = false;
  // Each statement's StatementEnd reports what the engine spent on it (CPU time,
  // peak memory; see Session::Measure). Costs a little per operator.
  bool measure_usage = false;
  // Files the script reads as temporary tables, staged before its first statement
  // (Session::StageFile); a file that cannot be read fails the run.
  std::vector<FileInput> inputs;
  // Where the files the script writes (COPY (query) TO 'name') go when it succeeds;
  // nullopt: COPY TO a file is refused. RunResult::files names them.
  std::optional<std::filesystem::path> output_dir;
  // Statements commit their data at most once under this scope (see
  // Session::SetCommitScope): a rerun skips those that committed.
  std::optional<catalog::CommitKey> commit_scope;
  // Computes the run's queries elsewhere (see offload.h); null: here.
  std::shared_ptr<QueryOffload> offload;
  // Whether the run's offload may split statements (QueryOffload::MaySplit), also
  // while a job type makes its script, when `offload` is null.
  bool offload_splits = false;
  // Statements (by their index in `sql`, from 0) an offload may split by key.
  std::map<size_t, Partitioning> partitioning;
};

// What a run did. `error` is set when it did not finish.
struct RunResult {
  std::string run_id;
  RunState state = RunState::kFinished;
  std::optional<Error> error;
  bool truncated = false;          // a cap cut a result
  std::string truncated_reason;    // which cap, e.g. "result_rows 100 (GROUP analysts)"
  size_t statements = 0;           // statements that finished
  std::vector<std::string> files;  // the files written into RunRequest::output_dir
  // With RunRequest::defer_final_audit: the receipt of the last statement's audit
  // record (null if the run ended before that statement was audited).
  std::shared_ptr<audit::Receipt> final_audit;
  // Throws `error`, if any.
  void ThrowIfFailed() const;
};

// A run as List/Find report it.
struct RunInfo {
  std::string run_id;
  std::string user;
  std::string issuer;
  audit::Origin origin;
  RunState state = RunState::kQueued;
  std::string sql;  // first 200 characters
  double elapsed_s = 0;
};

struct RunnerOptions {
  std::chrono::milliseconds statement_timeout{std::chrono::seconds(300)};  // unless SET LIMIT says
  std::optional<int64_t> result_bytes;  // default result_bytes cap (none: unlimited)
  size_t max_idle_sessions = 32;
};

class Runner {
 public:
  Runner(Instance& instance, RunnerOptions options);
  ~Runner();  // stops everything running (kShutdown) and waits for nothing else

  // Runs `request` to the end, handing results to `handler`. Never throws for what
  // the run did (see RunResult::error); throws kAlreadyExists if the principal already
  // has a run with origin.run_id.
  RunResult Run(const RunRequest& request, ResultHandler& handler);

  // Reserves the run id before running (for callers that answer before they run);
  // Run with the same origin.run_id then takes the reservation. Throws kAlreadyExists.
  std::string Reserve(const identity::Principal& principal, const std::string& run_id);
  // Drops a reservation that will not be run.
  void Release(const identity::Principal& principal, const std::string& run_id);

  // Stops the run `run_id` of `caller` (administrators: anyone's). Returns its state
  // after the request; throws kNotFound, worded as for a missing run, otherwise.
  RunState Cancel(const identity::Principal& caller, const std::string& run_id);
  // The run, if `caller` may see it (own, or administrator); kNotFound otherwise.
  RunInfo Find(const identity::Principal& caller, const std::string& run_id);
  // Runs `caller` may see: their own, or everyone's for an administrator;
  // only running ones unless `include_finished`.
  std::vector<RunInfo> List(const identity::Principal& caller, bool include_finished = false);
  // Stops every running run: kShutdown for a server going down, kCancelled for
  // the local operator's Ctrl-C.
  void CancelAll(StopReason reason = StopReason::kShutdown);
  // A user was removed: stops their runs and forgets them.
  void ForgetUser(const std::string& user, const std::string& issuer);

  // Borrows a session running as `caller`, for reading the caller's view of the
  // catalog without running a statement (the REST catalog routes); it goes back to
  // the pool when the lease ends.
  using Lease = std::unique_ptr<Session, std::function<void(Session*)>>;
  Lease Borrow(const Caller& caller);

 private:
  struct Entry;
  class Pool;
  std::shared_ptr<Entry> Register(const RunRequest& request);
  void Execute(Entry& entry, const RunRequest& request, ResultHandler& handler, RunResult& result);
  std::shared_ptr<Entry> FindLocked(const identity::Principal& caller, const std::string& run_id);
  void Watchdog();

  Instance& instance_;
  RunnerOptions options_;
  std::unique_ptr<Pool> pool_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<std::string, std::shared_ptr<Entry>> entries_;              // Principal::Key + id
  std::deque<std::pair<std::string, std::weak_ptr<Entry>>> finished_;  // oldest first, for forgetting
  std::map<std::string, int64_t> running_;                             // runs running, by Principal::Key
  std::thread watchdog_;
};

// The bytes of a chunk's values, as result_bytes counts them: strings and blobs by
// their length, fixed-width values by their width, nested values by their text.
int64_t ResultBytes(duckdb::DataChunk& chunk);

}  // namespace tarn::session
