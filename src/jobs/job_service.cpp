#include "jobs/job_service.h"

#include <fmt/format.h>

#include "common/error.h"
#include "common/util.h"
#include "identity/directory.h"
#include "jobs/job_writer.h"
#include "session/script.h"
#include "session/statements.h"

namespace tarn::jobs {

// Keeps a run's log and progress as its statements go, and writes them with each
// statement's end (one group-committed change per statement, not one per line).
class RunLog : public session::ResultHandler {
 public:
  // `total`: the statements of all of the run's steps; `result_file`: where its result
  // is kept, a server path its log names only as "the run's result".
  RunLog(JobWriter& writer, std::string id, int64_t total, std::string result_file)
      : writer_(writer), id_(std::move(id)), total_(total), result_file_(std::move(result_file)) {}

  void OnStatementBegin(const session::StatementStart& s) override {
    step_count_ = static_cast<int64_t>(s.count);
    std::string text = s.text.size() > 200 ? s.text.substr(0, 200) + "..." : s.text;
    Add("statement", fmt::format("statement {} of {} started: {}", s.index + 1, s.count, text));
  }
  void OnColumns(const std::vector<std::string>&, const std::vector<duckdb::LogicalType>&) override {}
  bool OnChunk(duckdb::DataChunk&) override { return true; }
  void OnStatus(const std::string& message) override {
    std::string text = message;
    for (size_t at; (at = text.find(result_file_)) != std::string::npos;)
      text.replace(at, result_file_.size(), "the run's result");
    Add("statement", text);
  }
  void OnStatementEnd(const session::StatementEnd& e) override {
    if (e.error) {
      Add("error", fmt::format("statement {} failed: {}", e.index + 1, e.error->what()));
    } else {
      done_++;
      std::string rows = e.rows >= 0 ? ", " + session::Plural(e.rows, "row", "rows") : "";
      Add("statement",
          fmt::format("statement {} ended: {}{} in {:.1f} ms", e.index + 1, e.type, rows, e.duration_ms));
      if (e.rows > 0) rows_total_ += e.rows;
    }
    bytes_scanned_ += e.bytes_scanned;
    cpu_seconds_ += e.cpu_seconds;
    peak_memory_bytes_ = std::max(peak_memory_bytes_, e.peak_memory_bytes);
    last_rows_ = e.rows;
    rows_written_ += e.rows_written;
    // The last statement's lines go with the run's end (one change); earlier ones now.
    if (static_cast<int64_t>(e.index) + 1 < step_count_) writer_.Do([&](JobStore& s) { WriteTo(s); });
  }
  // Writes the kept lines (with the times they happened at) and the progress.
  void WriteTo(JobStore& s) {
    if (lines_.empty()) return;
    for (auto& l : lines_) s.Log(id_, l.kind, l.message, l.at_ms);
    s.Progress(id_, total_, done_, rows_total_);
    lines_.clear();
  }
  void Note(std::string kind, std::string message) { Add(std::move(kind), std::move(message)); }
  // Rows of the last statement that ended (-1: none).
  int64_t last_rows() const { return last_rows_; }
  nlohmann::json Usage() const {
    return {{"bytes_scanned", bytes_scanned_},
            {"rows_written", rows_written_},
            {"cpu_seconds", cpu_seconds_},
            {"peak_memory_bytes", peak_memory_bytes_}};
  }

 private:
  void Add(std::string kind, std::string message) {
    lines_.push_back({0, NowMs(), std::move(kind), std::move(message)});
  }

  JobWriter& writer_;
  std::string id_;
  std::vector<LogLine> lines_;
  int64_t total_ = 0, step_count_ = 0, done_ = 0, rows_total_ = 0;
  std::string result_file_;
  int64_t bytes_scanned_ = 0, rows_written_ = 0, last_rows_ = -1, peak_memory_bytes_ = 0;
  double cpu_seconds_ = 0;
};

namespace {

std::filesystem::path ResultsDir(const session::Instance& instance) {
  return instance.lake().root() / "_jobs" / "results";
}

// The statements of all of a run's steps.
int64_t CountStatements(const JobRun& run) {
  int64_t n = 0;
  for (auto& step : run.Steps()) n += static_cast<int64_t>(session::SplitStatements(step.script).size());
  return n;
}

}  // namespace

std::string RunnerId(const JobRun& run) {
  return run.id + "." + std::to_string(run.attempt);
}

JobService::JobService(session::Instance& instance, session::Runner& runner, JobServiceOptions options)
    : instance_(instance),
      runner_(runner),
      options_(std::move(options)),
      writer_([&instance] { return instance.OpenMetastore(); },
              [this](std::vector<Event> events) { events_.Publish(std::move(events)); }),
      owner_(options_.server_id + "/" + RandomHex(6)) {
  writer_.Do([this](JobStore& s) { s.Recover(options_.server_id + "/", NowMs()); });
  std::error_code ec;  // where results are kept (a missing folder fails a run's result, not the server)
  std::filesystem::create_directories(ResultsDir(instance_), ec);
  for (int i = 0; i < std::max(1, options_.workers); i++) workers_.emplace_back([this] { Work(); });
  heartbeat_ = std::thread([this] { Heartbeat(); });
  scheduler_ = std::thread([this] { Schedules(); });
}

void JobService::Heartbeat() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    beat_.wait_for(lock, options_.lease / 3, [&] { return stopping_; });
    if (stopping_) continue;
    bool running = !current_.empty();
    lock.unlock();
    try {
      writer_.Do([&](JobStore& s) {
        if (running) s.Heartbeat(owner_, options_.lease.count());
        s.Recover(std::nullopt, NowMs());  // runs of servers that died, also while nothing queues
      });
    } catch (const Error&) {
      // The store is busy or gone: the next beat tries again, well within the lease.
    }
    lock.lock();
  }
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
  beat_.notify_all();
  tick_.notify_all();
  events_.Close();  // event streams end
  std::lock_guard join(join_mu_);
  for (auto& w : workers_) {
    if (w.joinable()) w.join();
  }
  if (heartbeat_.joinable()) heartbeat_.join();
  if (scheduler_.joinable()) scheduler_.join();
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
    std::string current;
    {
      std::lock_guard lock(mu_);
      auto it = current_.find(run.id);
      if (it != current_.end()) current = it->second;
    }
    try {
      if (!current.empty()) runner_.Cancel(run.principal, current);
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
    s.ExpireQueued(options_.deadline_clock());
    s.Recover(std::nullopt, now);  // runs of servers that died: their leases ran out
  }
}

std::optional<JobRun> JobService::ClaimIn(JobStore& s) {
  ExpireIfDue(s);
  return s.ClaimNext(owner_, options_.lease.count());
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
      service.current_.erase(id);
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
    RunLog log(writer_, run.id, CountStatements(run), ResultPath(run).string());
    bool external = options_.builtin_issuer.empty() || run.principal.issuer != options_.builtin_issuer;
    if (external && !run.principal.groups.empty() &&
        options_.deadline_clock() - run.created_ms > options_.external_identity_ttl.count()) {
      // Its issuer vouched for the groups at submission; that long after, no more.
      log.Note("state",
               fmt::format("the groups of {} (from {}) are older than jobs.external_identity_ttl ({} s): "
                           "the run executes without them",
                           run.principal.user, run.principal.issuer,
                           options_.external_identity_ttl.count() / 1000));
      run.principal.groups.clear();
    }
    std::atomic<bool> timed_out = false;
    std::optional<int64_t> result_rows;
    auto result = RunSteps(reader, run, log, timed_out, result_rows);
    bool retried = false;
    auto next = writer_.Do([&](JobStore& s) {
      log.WriteTo(s);
      s.RecordUsage(run.id, log.Usage(), result_rows);
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

std::filesystem::path JobService::ResultPath(const JobRun& run) const {
  return ResultsDir(instance_) / (run.id + ".parquet");
}

std::filesystem::path JobService::FilesDir(const JobRun& run) const {
  return ResultsDir(instance_) / (run.id + ".files");
}

std::shared_ptr<session::QueryOffload> JobService::Offload(JobStore& reader, const JobRun& run, RunLog& log) {
  auto app = reader.GetApplication(run.application_id);
  if (!app.executor.slurm()) return nullptr;
  for (auto& e : options_.executors) {
    if (e->name() != app.executor.type) continue;
    RunHooks hooks;
    hooks.details = [this, id = run.id](const std::string& details) {
      writer_.Do([&](JobStore& s) { s.SetDetails(id, details); });
    };
    hooks.note = [this, &log](const std::string& message) {
      log.Note("executor", message);
      writer_.Do([&](JobStore& s) { log.WriteTo(s); });  // seen at once, not with the statement's end
    };
    return e->Start(app, run, std::move(hooks));
  }
  throw Error::Unsupported(
      "application {} runs on the {} executor, which this server has not configured (docs/scale-out.md)",
      app.name, app.executor.type);
}

session::RunResult JobService::RunSteps(JobStore& reader, const JobRun& run, RunLog& log,
                                        std::atomic<bool>& timed_out, std::optional<int64_t>& result_rows) {
  auto steps = run.Steps();
  std::vector<StepRecord> records = run.has_steps() ? reader.Steps(run.id) : std::vector<StepRecord>{};
  session::RunRequest request;
  request.principal = run.principal;
  request.role = run.principal.role;
  request.origin.kind = "job";
  request.origin.job_run_id = run.id;
  request.measure_usage = true;
  auto deadline = run.timeout_minutes > 0 ? *run.started_ms + run.timeout_minutes * 60000 : INT64_MAX;
  request.client_gone = [this, &run, deadline, &timed_out] {
    if (options_.deadline_clock() > deadline) timed_out = true;
    return timed_out || StopRequested(run.id);
  };
  auto result_file = ResultPath(run);
  std::error_code ec;
  std::filesystem::create_directories(FilesDir(run), ec);
  request.output_dir = FilesDir(run);
  if (run.attempt > 1) std::filesystem::remove(result_file, ec);  // an earlier attempt's
  std::shared_ptr<session::QueryOffload> offload;
  try {
    offload = Offload(reader, run, log);
  } catch (const Error& e) {
    session::RunResult failed;
    failed.state = session::RunState::kFailed;
    failed.error = e;
    return failed;
  }
  request.offload_splits = offload && offload->MaySplit();
  if (std::string type = run.job.value("type", "sql"); type != "sql") {
    // A job of another type becomes its script now, as the run's principal.
    try {
      const JobType* t = FindJobType(options_.types, type);
      if (!t) throw Error::Unsupported("job type {} is not available on this server", type);
      request.origin.run_id = RunnerId(run);
      request.commit_scope = catalog::CommitKey{run.id, "step 1"};
      {
        std::lock_guard lock(mu_);
        current_[run.id] = request.origin.run_id;
      }
      request.offload = offload;  // a type that runs itself computes on the executor
      if (auto ran = t->Run(run.job, request, runner_, log)) return *ran;
      request.offload = nullptr;  // what the type asks while making its script is quick: here
      steps.at(0).script = t->Script(run.job, request, runner_);
      log.Note("step", fmt::format("{} job: made a script of {} statements", type,
                                   session::SplitStatements(steps[0].script).size()));
    } catch (const Error& e) {
      session::RunResult failed;
      failed.state = session::RunState::kFailed;
      failed.error = e;
      return failed;
    }
  }
  request.offload = offload;
  session::RunResult outcome;
  std::optional<std::string> failed;  // the first failed step's error
  bool skip_rest = false;
  for (size_t i = 0; i < steps.size(); i++) {
    int64_t n = static_cast<int64_t>(i) + 1;
    bool last = i + 1 == steps.size();
    if (run.has_steps() && records.at(i).state == "COMPLETED") {
      log.Note("step", fmt::format("step {} completed in attempt {}: not run again", n, records[i].attempt));
      continue;
    }
    if (skip_rest) {
      writer_.Do([&](JobStore& s) { s.SetStep(run.id, n, "CANCELLED", *failed, run.attempt); });
      continue;
    }
    if (run.has_steps()) writer_.Do([&](JobStore& s) { s.SetStep(run.id, n, "RUNNING", "", run.attempt); });
    request.sql = steps[i].script;
    if (run.job.value("type", "sql") == "sql") {  // another type's Script set its own
      request.partitioning.clear();
      if (steps[i].partition_by.is_object()) {
        session::Partitioning split;
        for (auto& [table, keys] : steps[i].partition_by.items()) split.keys[table] = keys;
        request.partitioning[session::SplitStatements(steps[i].script).size() - 1] = split;
      }
    }
    request.origin.run_id = RunnerId(run) + (run.has_steps() ? fmt::format(".{}", n) : "");
    request.commit_scope = catalog::CommitKey{run.id, fmt::format("step {}", n)};
    request.parquet_output = last ? std::optional(result_file) : std::nullopt;
    request.parquet_only_if_query = true;
    {
      std::lock_guard lock(mu_);
      current_[run.id] = request.origin.run_id;
    }
    auto r = runner_.Run(request, log);
    if (last && !r.error && std::filesystem::exists(result_file, ec)) result_rows = log.last_rows();
    bool stopped = timed_out || StopRequested(run.id);
    std::string error = r.error ? std::string(r.error->what()).substr(0, 2000) : "";
    if (run.has_steps()) {
      writer_.Do([&](JobStore& s) {
        log.WriteTo(s);
        s.SetStep(run.id, n, !r.error ? "COMPLETED" : stopped ? "CANCELLED" : "FAILED", error, run.attempt);
      });
    }
    if (!r.error) continue;
    if (!run.has_steps()) return r;
    if (stopped) {  // a cancel or timeout ends every step at once
      writer_.Do([&](JobStore& s) {
        for (size_t j = i + 1; j < steps.size(); j++)
          s.SetStep(run.id, static_cast<int64_t>(j) + 1, "CANCELLED", "the run was stopped", run.attempt);
      });
      return r;
    }
    if (!failed)
      failed = fmt::format("step {}{} failed: {}", n, steps[i].name.empty() ? "" : " (" + steps[i].name + ")",
                           error);
    outcome = r;
    skip_rest = steps[i].action_on_failure == "CANCEL_AND_WAIT";
  }
  if (failed) outcome.error = Error(outcome.error->code(), *failed);
  return outcome;
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
