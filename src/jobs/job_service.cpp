#include "jobs/job_service.h"

#include <fmt/format.h>

#include "common/error.h"
#include "identity/directory.h"

namespace tarn::jobs {

namespace {

// Writes a run's log and progress as its statements go.
class RunLog : public session::ResultHandler {
 public:
  RunLog(JobStore& store, std::string id) : store_(store), id_(std::move(id)) {}

  void OnStatementBegin(const session::StatementStart& s) override {
    total_ = static_cast<int64_t>(s.count);
    std::string text = s.text.size() > 200 ? s.text.substr(0, 200) + "..." : s.text;
    store_.Log(id_, "statement", fmt::format("statement {} of {} started: {}", s.index + 1, s.count, text));
  }
  void OnColumns(const std::vector<std::string>&, const std::vector<duckdb::LogicalType>&) override {
    rows_ = 0;
  }
  bool OnChunk(duckdb::DataChunk& chunk) override {
    rows_ += static_cast<int64_t>(chunk.size());
    return true;
  }
  void OnStatus(const std::string& message) override { store_.Log(id_, "statement", message); }
  void OnStatementEnd(const session::StatementEnd& e) override {
    if (e.error) {
      store_.Log(id_, "error", fmt::format("statement {} failed: {}", e.index + 1, e.error->what()));
    } else {
      done_++;
      std::string rows = e.rows >= 0 ? fmt::format(", {} rows", e.rows) : "";
      store_.Log(
          id_, "statement",
          fmt::format("statement {} ended: {}{} in {:.1f} ms", e.index + 1, e.type, rows, e.duration_ms));
      if (e.rows > 0) rows_total_ += e.rows;
    }
    store_.Progress(id_, total_, done_, rows_total_);
  }

 private:
  JobStore& store_;
  std::string id_;
  int64_t total_ = 0, done_ = 0, rows_ = 0, rows_total_ = 0;
};

}  // namespace

std::string RunnerId(const JobRun& run) {
  return run.id + "." + std::to_string(run.attempt);
}

JobService::JobService(session::Instance& instance, session::Runner& runner, JobServiceOptions options)
    : instance_(instance), runner_(runner), options_(std::move(options)) {
  {
    auto store = instance_.OpenMetastore();
    JobStore(*store).Recover();
  }
  for (int i = 0; i < std::max(1, options_.workers); i++) workers_.emplace_back([this] { Work(); });
}

JobService::~JobService() {
  Stop();
}

void JobService::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  std::lock_guard join(join_mu_);
  for (auto& w : workers_) {
    if (w.joinable()) w.join();
  }
}

void JobService::Wake() {
  {
    std::lock_guard lock(mu_);
    wakes_++;
  }
  cv_.notify_one();
}

bool JobService::StopRequested(const std::string& id) {
  std::lock_guard lock(mu_);
  return stopping_ || cancelled_.count(id);
}

JobRun JobService::Cancel(JobStore& store, const JobRun& run, const std::string& by) {
  std::string details = "cancelled by " + by;
  if (store.Transition(run.id, {RunState::kSubmitted, RunState::kPending, RunState::kQueued},
                       RunState::kCancelled, details)) {
    return store.GetRun(run.id);
  }
  if (store.Transition(run.id, {RunState::kScheduled, RunState::kRunning}, RunState::kCancelling, details)) {
    {
      std::lock_guard lock(mu_);
      cancelled_.insert(run.id);
    }
    try {
      runner_.Cancel(run.principal, RunnerId(store.GetRun(run.id)));
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kNotFound) throw;  // not registered yet: client_gone stops it
    }
    return store.GetRun(run.id);
  }
  auto now = store.GetRun(run.id);
  if (now.state == RunState::kCancelling) return now;
  throw Error::Conflict("job run {} already ended ({})", run.id, RunStateName(now.state));
}

void JobService::Work() {
  auto meta = instance_.OpenMetastore();
  JobStore store(*meta);
  uint64_t seen = 0;
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (stopping_) return;
      seen = wakes_;
    }
    std::optional<JobRun> run;
    try {
      std::lock_guard claim(claim_mu_);
      store.ExpireQueued(NowMs());
      run = store.ClaimNext();
    } catch (const Error&) {
      // The store is busy or gone: try again after the poll interval.
    }
    if (run) {
      Execute(store, std::move(*run));
      continue;
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, options_.poll, [&] { return stopping_ || wakes_ != seen; });
  }
}

void JobService::Execute(JobStore& store, JobRun run) {
  // However the run ends, a cancel asked for it is forgotten.
  struct Forget {
    JobService& service;
    std::string id;
    ~Forget() {
      std::lock_guard lock(service.mu_);
      service.cancelled_.erase(id);
    }
  } forget{*this, run.id};
  try {
    if (!options_.builtin_issuer.empty() && run.principal.issuer == options_.builtin_issuer) {
      auto now = identity::Directory(store.meta()).Lookup(run.principal.user, run.principal.issuer);
      if (!now) {
        store.Transition(run.id, {RunState::kRunning}, RunState::kFailed, "principal no longer exists");
        return;
      }
      now->role = run.principal.role;
      run.principal = *now;
    }
    session::RunRequest request;
    request.principal = run.principal;
    request.role = run.principal.role;
    request.origin.kind = "job";
    request.origin.job_run_id = run.id;
    request.origin.run_id = RunnerId(run);
    request.sql = run.script();
    auto deadline = run.timeout_minutes > 0 ? *run.started_ms + run.timeout_minutes * 60000 : INT64_MAX;
    std::atomic<bool> timed_out = false;
    request.client_gone = [this, &run, deadline, &timed_out] {
      if (NowMs() > deadline) timed_out = true;
      return timed_out || StopRequested(run.id);
    };
    RunLog log(store, run.id);
    auto result = runner_.Run(request, log);
    // A run's end is a compare-and-set from RUNNING; a cancel that got in first
    // (CANCELLING) wins, whatever the statements did.
    auto end = [&](RunState to, const std::string& details) {
      if (store.Transition(run.id, {RunState::kRunning}, to, details)) return;
      store.Transition(run.id, {RunState::kCancelling}, RunState::kCancelled,
                       store.GetRun(run.id).state_details);
    };
    if (timed_out) {
      store.Transition(run.id, {RunState::kRunning, RunState::kCancelling}, RunState::kCancelled,
                       fmt::format("execution timeout ({} minutes)", run.timeout_minutes));
    } else if (result.error) {
      bool shutdown = StopRequested(run.id);
      std::string error = shutdown ? "interrupted" : std::string(result.error->what()).substr(0, 2000);
      // A failed attempt reruns from the start while attempts remain (after a
      // shutdown, on the next server); never one that was cancelled.
      if (store.GetRun(run.id).state != RunState::kRunning || !store.Retry(run.id, error)) {
        end(RunState::kFailed, error);
      } else if (!shutdown) {
        Wake();
      }
    } else {
      end(RunState::kSuccess, "");
    }
  } catch (const std::exception& e) {
    try {
      store.Transition(run.id, {RunState::kRunning, RunState::kCancelling}, RunState::kFailed,
                       std::string("internal error: ") + e.what());
    } catch (const std::exception&) {
      // The store itself failed: the next start's Recover() ends the run.
    }
  }
}

}  // namespace tarn::jobs
