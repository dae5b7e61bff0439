#include "jobs/job_service.h"

#include <fmt/format.h>

#include "common/error.h"
#include "identity/directory.h"
#include "jobs/job_writer.h"

namespace tarn::jobs {

namespace {

// Keeps a run's log and progress as its statements go, and writes them with each
// statement's end (one group-committed change per statement, not one per line).
class RunLog : public session::ResultHandler {
 public:
  RunLog(JobWriter& writer, std::string id) : writer_(writer), id_(std::move(id)) {}

  void OnStatementBegin(const session::StatementStart& s) override {
    total_ = static_cast<int64_t>(s.count);
    std::string text = s.text.size() > 200 ? s.text.substr(0, 200) + "..." : s.text;
    Add("statement", fmt::format("statement {} of {} started: {}", s.index + 1, s.count, text));
  }
  void OnColumns(const std::vector<std::string>&, const std::vector<duckdb::LogicalType>&) override {}
  bool OnChunk(duckdb::DataChunk&) override { return true; }
  void OnStatus(const std::string& message) override { Add("statement", message); }
  void OnStatementEnd(const session::StatementEnd& e) override {
    if (e.error) {
      Add("error", fmt::format("statement {} failed: {}", e.index + 1, e.error->what()));
    } else {
      done_++;
      std::string rows = e.rows >= 0 ? fmt::format(", {} rows", e.rows) : "";
      Add("statement",
          fmt::format("statement {} ended: {}{} in {:.1f} ms", e.index + 1, e.type, rows, e.duration_ms));
      if (e.rows > 0) rows_total_ += e.rows;
    }
    // The last statement's lines go with the run's end (one change); earlier ones now.
    if (static_cast<int64_t>(e.index) + 1 < total_) writer_.Do([&](JobStore& s) { WriteTo(s); });
  }
  // Writes the kept lines (with the times they happened at) and the progress.
  void WriteTo(JobStore& s) {
    if (lines_.empty()) return;
    for (auto& l : lines_) s.Log(id_, l.kind, l.message, l.at_ms);
    s.Progress(id_, total_, done_, rows_total_);
    lines_.clear();
  }

 private:
  void Add(std::string kind, std::string message) {
    lines_.push_back({0, NowMs(), std::move(kind), std::move(message)});
  }

  JobWriter& writer_;
  std::string id_;
  std::vector<LogLine> lines_;
  int64_t total_ = 0, done_ = 0, rows_total_ = 0;
};

}  // namespace

std::string RunnerId(const JobRun& run) {
  return run.id + "." + std::to_string(run.attempt);
}

JobService::JobService(session::Instance& instance, session::Runner& runner, JobServiceOptions options)
    : instance_(instance),
      runner_(runner),
      options_(std::move(options)),
      writer_([&instance] { return instance.OpenMetastore(); }) {
  writer_.Do([](JobStore& s) { s.Recover(); });
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

JobRun JobService::Submit(const std::string& application_id, const JobSpec& spec,
                          const identity::Principal& principal, bool& created) {
  auto run = writer_.Do([&](JobStore& s) { return s.Submit(application_id, spec, principal, created); });
  if (created) Wake();
  return run;
}

JobRun JobService::Cancel(JobStore& store, const JobRun& run, const std::string& by) {
  std::string details = "cancelled by " + by;
  auto moved = [&](std::vector<RunState> from, RunState to) {
    return writer_.Do([&](JobStore& s) { return s.Transition(run.id, from, to, details); });
  };
  if (moved({RunState::kSubmitted, RunState::kPending, RunState::kQueued}, RunState::kCancelled)) {
    return store.GetRun(run.id);
  }
  if (moved({RunState::kScheduled, RunState::kRunning}, RunState::kCancelling)) {
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

void JobService::ExpireIfDue(JobStore& s) {
  int64_t now = NowMs();
  int64_t last = last_expiry_ms_.load();
  // Queue timeouts are minutes: checking them once per poll interval is plenty.
  if (now - last >= options_.poll.count() && last_expiry_ms_.compare_exchange_strong(last, now)) {
    s.ExpireQueued(now);
  }
}

std::optional<JobRun> JobService::ClaimIn(JobStore& s) {
  ExpireIfDue(s);
  return s.ClaimNext();
}

std::optional<JobRun> JobService::Claim(JobStore& reader) {
  // Nothing queued, nothing to claim or expire: an idle service never writes.
  if (!reader.HasQueued()) return std::nullopt;
  return writer_.Do([&](JobStore& s) { return ClaimIn(s); });
}

void JobService::Work() {
  auto meta = instance_.OpenMetastore();
  JobStore reader(*meta);
  uint64_t seen = 0;
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (stopping_) return;
      seen = wakes_;
    }
    std::optional<JobRun> run;
    try {
      run = Claim(reader);
    } catch (const Error&) {
      // The store is busy or gone: try again after the poll interval.
    }
    if (run) {
      // Each run's end claims the next one in the same change, while there is one.
      while (run) run = Execute(reader, std::move(*run));
      continue;
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, options_.poll, [&] { return stopping_ || wakes_ != seen; });
  }
}

std::optional<JobRun> JobService::Execute(JobStore& reader, JobRun run) {
  // However the run ends, a cancel asked for it is forgotten.
  struct Forget {
    JobService& service;
    std::string id;
    ~Forget() {
      std::lock_guard lock(service.mu_);
      service.cancelled_.erase(id);
    }
  } forget{*this, run.id};
  {
    std::lock_guard lock(metrics_mu_);
    queue_wait_[run.application_id].Observe(static_cast<double>(*run.started_ms - run.created_ms) / 1000);
  }
  // However the run ends, its duration is observed.
  struct Timed {
    JobService& service;
    const JobRun& run;
    ~Timed() {
      std::lock_guard lock(service.metrics_mu_);
      service.run_duration_[run.application_id].Observe(static_cast<double>(NowMs() - *run.started_ms) /
                                                        1000);
    }
  } timed{*this, run};
  try {
    if (!options_.builtin_issuer.empty() && run.principal.issuer == options_.builtin_issuer) {
      auto now = identity::Directory(reader.meta()).Lookup(run.principal.user, run.principal.issuer);
      if (!now) {
        return writer_.Do([&](JobStore& s) {
          s.Transition(run.id, {RunState::kRunning}, RunState::kFailed, "principal no longer exists");
          return Next(s);
        });
      }
      now->role = run.principal.role;
      now->execution_policy = run.principal.execution_policy;
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
    RunLog log(writer_, run.id);
    auto result = runner_.Run(request, log);
    bool retried = false;
    auto next = writer_.Do([&](JobStore& s) {
      log.WriteTo(s);
      retried = End(s, run, result, timed_out);
      return Next(s);
    });
    if (retried && !next) Wake();
    return next;
  } catch (const std::exception& e) {
    try {
      writer_.Do([&](JobStore& s) {
        s.Transition(run.id, {RunState::kRunning, RunState::kCancelling}, RunState::kFailed,
                     std::string("internal error: ") + e.what());
      });
    } catch (const std::exception&) {
      // The store itself failed: the next start's Recover() ends the run.
    }
    return std::nullopt;
  }
}

std::string JobService::RenderMetrics(JobStore& reader) {
  std::string out = "# HELP tarn_job_runs Job runs by application and state.\n# TYPE tarn_job_runs gauge\n";
  std::map<std::string, int64_t> queued;
  for (auto& [app, state, n] : reader.CountByState()) {
    out += fmt::format("tarn_job_runs{{application=\"{}\",state=\"{}\"}} {}\n", PromLabel(app), state, n);
    queued[app] += state == "QUEUED" ? n : 0;
  }
  out +=
      "# HELP tarn_job_queue_depth Job runs waiting in QUEUED, by application.\n"
      "# TYPE tarn_job_queue_depth gauge\n";
  for (auto& [app, n] : queued)
    out += fmt::format("tarn_job_queue_depth{{application=\"{}\"}} {}\n", PromLabel(app), n);
  std::lock_guard lock(metrics_mu_);
  out +=
      "# HELP tarn_job_queue_wait_seconds Time from submission to RUNNING, by application.\n"
      "# TYPE tarn_job_queue_wait_seconds histogram\n";
  for (auto& [app, h] : queue_wait_)
    out += h.Render("tarn_job_queue_wait_seconds", "application=\"" + PromLabel(app) + "\"");
  out +=
      "# HELP tarn_job_run_duration_seconds Time from RUNNING to the end of an attempt, by application.\n"
      "# TYPE tarn_job_run_duration_seconds histogram\n";
  for (auto& [app, h] : run_duration_)
    out += h.Render("tarn_job_run_duration_seconds", "application=\"" + PromLabel(app) + "\"");
  return out;
}

std::optional<JobRun> JobService::Next(JobStore& s) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return std::nullopt;
  }
  // A savepoint of its own: a failed claim (or expiry) leaves the run's end intact,
  // on PostgreSQL too, where an error aborts the transaction up to the last savepoint.
  std::optional<JobRun> next;
  try {
    s.meta().Transaction([&] { next = ClaimIn(s); });
  } catch (const Error&) {
    return std::nullopt;
  }
  return next;
}

bool JobService::End(JobStore& s, const JobRun& run, const session::RunResult& result, bool timed_out) {
  if (timed_out) {
    s.Transition(run.id, {RunState::kRunning, RunState::kCancelling}, RunState::kCancelled,
                 fmt::format("execution timeout ({} minutes)", run.timeout_minutes));
    return false;
  }
  // A run's end is a compare-and-set from RUNNING; a cancel that got in first
  // (CANCELLING) wins, whatever the statements did.
  auto end = [&](RunState to, const std::string& details) {
    if (s.Transition(run.id, {RunState::kRunning}, to, details)) return;
    s.Transition(run.id, {RunState::kCancelling}, RunState::kCancelled, s.GetRun(run.id).state_details);
  };
  if (!result.error) {
    end(RunState::kSuccess, "");
    return false;
  }
  bool shutdown = StopRequested(run.id);
  std::string error = shutdown ? "interrupted" : std::string(result.error->what()).substr(0, 2000);
  // A failed attempt reruns from the start while attempts remain (after a shutdown,
  // on the next server); never one that was cancelled.
  if (s.Retry(run.id, error)) return !shutdown;
  end(RunState::kFailed, error);
  return false;
}

}  // namespace tarn::jobs
