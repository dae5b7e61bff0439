#include "session/runner.h"

#include <algorithm>

#include "common/util.h"

namespace fs = std::filesystem;

namespace tarn::session {

const char* RunStateName(RunState state) {
  switch (state) {
    case RunState::kQueued: return "queued";
    case RunState::kRunning: return "running";
    case RunState::kFinished: return "finished";
    case RunState::kFailed: return "failed";
    case RunState::kCancelled: return "cancelled";
    case RunState::kTimedOut: return "timed_out";
    case RunState::kRefused: return "refused";
  }
  return "failed";
}

void RunResult::ThrowIfFailed() const {
  if (error) throw *error;
}

// --- result caps ----------------------------------------------------------------

namespace {

// Bytes of each row's values (see ResultBytes).
std::vector<int64_t> RowBytes(duckdb::DataChunk& chunk) {
  std::vector<int64_t> bytes(chunk.size(), 0);
  for (duckdb::idx_t c = 0; c < chunk.ColumnCount(); c++) {
    auto& vec = chunk.data[c];
    auto physical = vec.GetType().InternalType();
    if (physical == duckdb::PhysicalType::VARCHAR) {
      duckdb::UnifiedVectorFormat f;
      vec.ToUnifiedFormat(chunk.size(), f);
      auto* data = duckdb::UnifiedVectorFormat::GetData<duckdb::string_t>(f);
      for (duckdb::idx_t r = 0; r < chunk.size(); r++) {
        auto i = f.sel->get_index(r);
        if (f.validity.RowIsValid(i)) bytes[r] += static_cast<int64_t>(data[i].GetSize());
      }
    } else if (duckdb::TypeIsConstantSize(physical)) {
      for (auto& b : bytes) b += static_cast<int64_t>(duckdb::GetTypeIdSize(physical));
    } else {  // lists, structs, maps, arrays: their text
      for (duckdb::idx_t r = 0; r < chunk.size(); r++)
        bytes[r] += static_cast<int64_t>(vec.GetValue(r).ToString().size());
    }
  }
  return bytes;
}

// Hands rows on to `inner` until a cap is reached, then cuts the result there; counts
// the statements that finished and whether the last one was cut.
class CappedHandler : public ResultHandler {
 public:
  struct Cap {
    int64_t most = 0;
    std::string reason;  // what set it, for the person told the result was cut
  };
  CappedHandler(ResultHandler& inner, std::optional<Cap> rows, std::optional<Cap> bytes)
      : inner_(inner), rows_cap_(std::move(rows)), bytes_cap_(std::move(bytes)) {}

  void OnStatementBegin(const StatementStart& s) override { inner_.OnStatementBegin(s); }
  void OnColumns(const std::vector<std::string>& names,
                 const std::vector<duckdb::LogicalType>& types) override {
    rows_ = bytes_ = 0;
    inner_.OnColumns(names, types);
  }
  bool OnChunk(duckdb::DataChunk& chunk) override {
    int64_t take = static_cast<int64_t>(chunk.size());
    const Cap* cut = nullptr;
    if (rows_cap_ && rows_ + take > rows_cap_->most) {
      take = rows_cap_->most - rows_;
      cut = &*rows_cap_;
    }
    if (bytes_cap_) {
      auto sizes = RowBytes(chunk);
      int64_t fits = 0;
      while (fits < take && bytes_ + sizes[fits] <= bytes_cap_->most) bytes_ += sizes[fits++];
      if (fits < take) {
        take = fits;
        cut = &*bytes_cap_;
      }
    }
    rows_ += take;
    if (take < static_cast<int64_t>(chunk.size())) chunk.SetCardinality(take);
    bool more = take == 0 || inner_.OnChunk(chunk);
    if (cut) {
      truncated_reason_ = cut->reason;
      return false;
    }
    return more;
  }
  void OnRowsEnd() override { inner_.OnRowsEnd(); }
  void OnStatus(const std::string& message) override { inner_.OnStatus(message); }
  void OnStatementEnd(const StatementEnd& end) override {
    if (!end.error) done_++;
    last_cut_ = end.truncated;
    inner_.OnStatementEnd(end);
  }

  const std::string& truncated_reason() const { return truncated_reason_; }
  size_t done() const { return done_; }        // statements that finished
  bool last_cut() const { return last_cut_; }  // the last statement's result was cut

 private:
  ResultHandler& inner_;
  std::optional<Cap> rows_cap_, bytes_cap_;
  int64_t rows_ = 0, bytes_ = 0;
  std::string truncated_reason_;
  size_t done_ = 0;
  bool last_cut_ = false;
};

}  // namespace

int64_t ResultBytes(duckdb::DataChunk& chunk) {
  int64_t total = 0;
  for (auto b : RowBytes(chunk)) total += b;
  return total;
}

// --- the session pool -----------------------------------------------------------

// Idle sessions, per engine (the shared one, or a memory pool's).
class Runner::Pool {
 public:
  Pool(Instance& instance, size_t max_idle) : instance_(instance), max_idle_(max_idle) {}
  Lease Acquire(const Caller& caller, const std::string& pool = "", int64_t memory_bytes = 0) {
    std::string key = memory_bytes ? pool + '\x1f' + std::to_string(memory_bytes) : "";
    std::unique_ptr<Session> s;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = idle_.find(key);
      if (it != idle_.end() && !it->second.empty()) {
        s = std::move(it->second.back());
        it->second.pop_back();
        idle_count_--;
      }
    }
    if (!s) s = memory_bytes ? instance_.NewLimitedSession(pool, memory_bytes) : instance_.NewSession();
    s->SetCaller(caller);
    return Lease(s.release(), [this, key](Session* raw) {
      std::unique_ptr<Session> back(raw);
      std::lock_guard<std::mutex> lock(mu_);
      if (idle_count_ < max_idle_) {
        idle_[key].push_back(std::move(back));
        idle_count_++;
      }
    });
  }

 private:
  Instance& instance_;
  size_t max_idle_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<Session>>> idle_;
  size_t idle_count_ = 0;
};

// --- the registry ---------------------------------------------------------------

struct Runner::Entry {
  std::string id;
  identity::Principal principal;
  audit::Origin origin;
  std::string sql;
  RunState state = RunState::kQueued;
  bool reserved = false;                      // Reserve()d, not yet run
  StopReason stop = StopReason::kNone;        // asked for (also before the session existed)
  StopReason stopped_by = StopReason::kNone;  // what the session stopped for
  std::function<bool()> client_gone;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point finished{};
  Session* session = nullptr;  // while running

  bool Done() const { return state != RunState::kQueued && state != RunState::kRunning; }
  RunInfo Info() const {
    auto end = Done() ? finished : std::chrono::steady_clock::now();
    return {id,
            principal.user,
            principal.issuer,
            origin,
            state,
            sql.substr(0, 200),
            std::chrono::duration<double>(end - started).count()};
  }
  void Stop(StopReason reason) {
    if (stop == StopReason::kNone) stop = reason;
    if (session) session->Stop(reason);
  }
};

namespace {
std::string KeyOf(const identity::Principal& p, const std::string& id) {
  return p.Key() + '\x1f' + id;
}
}  // namespace

Runner::Runner(Instance& instance, RunnerOptions options)
    : instance_(instance),
      options_(std::move(options)),
      pool_(std::make_unique<Pool>(instance, options_.max_idle_sessions)) {
  watchdog_ = std::thread([this] { Watchdog(); });
}

Runner::~Runner() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (auto& [key, e] : entries_) {
      if (!e->Done()) e->Stop(StopReason::kShutdown);
    }
  }
  cv_.notify_all();
  watchdog_.join();
}

std::string Runner::Reserve(const identity::Principal& principal, const std::string& run_id) {
  RunRequest r;
  r.principal = principal;
  r.origin.run_id = run_id;
  auto e = Register(r);
  std::lock_guard<std::mutex> lock(mu_);
  e->reserved = true;
  return e->id;
}

void Runner::Release(const identity::Principal& principal, const std::string& run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(KeyOf(principal, run_id));
  if (it != entries_.end() && it->second->reserved) entries_.erase(it);
}

std::shared_ptr<Runner::Entry> Runner::Register(const RunRequest& request) {
  std::string id = request.origin.run_id.empty() ? RandomHex(12) : request.origin.run_id;
  std::lock_guard<std::mutex> lock(mu_);
  // Finished runs are forgotten oldest first: at most 1000, none older than 10 minutes.
  auto now = std::chrono::steady_clock::now();
  while (!finished_.empty()) {
    auto e = finished_.front().second.lock();
    bool old = !e || now - e->finished > std::chrono::minutes(10) || finished_.size() > 1000;
    if (!old) break;
    auto it = entries_.find(finished_.front().first);
    if (e && it != entries_.end() && it->second == e) entries_.erase(it);
    finished_.pop_front();
  }
  std::string key = KeyOf(request.principal, id);
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    auto& e = it->second;
    if (!e->reserved) throw Error::AlreadyExists("you already have a query with id {}", id);
    e->reserved = false;  // the reservation is taken
    e->origin = request.origin;
    e->origin.run_id = id;
    e->sql = request.sql;
    e->client_gone = request.client_gone;
    return e;
  }
  auto e = std::make_shared<Entry>();
  e->id = id;
  e->principal = request.principal;
  e->origin = request.origin;
  e->origin.run_id = id;
  e->sql = request.sql;
  e->client_gone = request.client_gone;
  entries_[key] = e;
  return e;
}

RunResult Runner::Run(const RunRequest& request, ResultHandler& handler) {
  auto e = Register(request);
  RunResult result;
  result.run_id = e->id;
  try {
    Execute(*e, request, handler, result);
  } catch (const Error& err) {
    result.error = err;
  } catch (const std::exception& ex) {
    result.error = Error::Internal("{}", ex.what());
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (e->state == RunState::kRunning || e->state == RunState::kQueued) {
    if (!result.error) {
      e->state = RunState::kFinished;
    } else if (result.error->code() == ErrorCode::kCancelled) {
      e->state = RunState::kCancelled;
    } else if (e->stopped_by == StopReason::kTimeout) {
      e->state = RunState::kTimedOut;
    } else {
      e->state = RunState::kFailed;
    }
  }
  result.state = e->state;
  e->client_gone = nullptr;
  e->finished = std::chrono::steady_clock::now();
  finished_.emplace_back(KeyOf(e->principal, e->id), e);
  return result;
}

void Runner::Execute(Entry& e, const RunRequest& request, ResultHandler& handler, RunResult& result) {
  Caller caller{request.principal, e.origin};
  caller.principal.role = request.role;
  auto lease = pool_->Acquire(caller);
  auto limits = lease->governor().CallerLimits(/*for_next_statement=*/true);
  if (auto memory = limits.Get("memory")) {  // the engine of its memory pool
    lease = pool_->Acquire(caller, limits.values.at("memory").source, *memory);
  }
  auto timeout = options_.statement_timeout;
  if (auto t = limits.Get("statement_timeout")) timeout = std::chrono::seconds(*t);
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::optional<Error> refused;
    int64_t running = running_[e.principal.Key()];
    auto most = limits.Get("concurrent_statements");
    if (most && running >= *most) {
      refused = Error::ResourceExhausted(
          "you already run {} statement(s), your limit ({}): wait for one to finish or cancel it", running,
          limits.values.at("concurrent_statements").source);
    } else if (e.stop != StopReason::kNone) {
      refused = Error::Cancelled("statement cancelled");
    }
    if (refused) {
      e.state = refused->code() == ErrorCode::kCancelled ? RunState::kCancelled : RunState::kRefused;
      lease->Refuse(request.sql, *refused);  // audited, though it never ran
      throw *refused;
    }
    e.state = RunState::kRunning;
    e.session = lease.get();
    running_[e.principal.Key()]++;
    lease->BeginRun(timeout);
  }
  // Before the session goes back to the pool: unhook it, keeping why it stopped.
  struct Unhook {
    Runner& runner;
    Entry& e;
    ~Unhook() {
      std::lock_guard<std::mutex> lock(runner.mu_);
      if (e.session) e.stopped_by = e.session->stop_reason();
      e.session = nullptr;
      auto it = runner.running_.find(e.principal.Key());
      if (it != runner.running_.end() && --it->second <= 0) runner.running_.erase(it);
    }
  } unhook{*this, e};
  // The session goes back to the pool measuring nothing, under no commit scope.
  struct Reset {
    Session& session;
    ~Reset() {
      session.Measure(false);
      session.SetCommitScope(std::nullopt);
      session.SetOutputDir(std::nullopt);
      session.SetOffload(nullptr);
      session.EndRun();  // its temporary tables go with the run
    }
  } reset{*lease};
  lease->Measure(request.measure_usage);
  lease->SetCommitScope(request.commit_scope);
  lease->SetOutputDir(request.output_dir);
  lease->SetOffload(request.offload, request.partitioning);

  std::optional<CappedHandler::Cap> rows_cap, bytes_cap;
  auto tighter = [](std::optional<CappedHandler::Cap>& cap, int64_t most, std::string reason) {
    if (!cap || most < cap->most) cap = CappedHandler::Cap{most, std::move(reason)};
  };
  if (auto v = limits.Get("result_rows"))
    tighter(rows_cap, *v, fmt::format("result_rows {} ({})", *v, limits.values.at("result_rows").source));
  if (request.caps.max_rows)
    tighter(rows_cap, *request.caps.max_rows, fmt::format("max_rows {}", *request.caps.max_rows));
  if (auto v = limits.Get("result_bytes")) {
    tighter(bytes_cap, *v, fmt::format("result_bytes {} ({})", *v, limits.values.at("result_bytes").source));
  } else if (options_.result_bytes) {
    tighter(bytes_cap, *options_.result_bytes,
            fmt::format("the server's max_result_bytes {}", *options_.result_bytes));
  }
  if (request.caps.max_bytes)
    tighter(bytes_cap, *request.caps.max_bytes, fmt::format("max_bytes {}", *request.caps.max_bytes));

  for (const auto& input : request.inputs) lease->StageFile(input);
  CappedHandler capped(handler, rows_cap, bytes_cap);
  try {
    lease->Execute(request.sql, capped, request.parquet_output,
                   request.defer_final_audit ? &result.final_audit : nullptr, request.parquet_only_if_query);
  } catch (...) {
    result.statements = capped.done();
    throw;
  }
  result.statements = capped.done();
  result.files = lease->PublishOutputs();
  std::error_code ec;
  if (request.parquet_output && bytes_cap &&
      static_cast<int64_t>(fs::file_size(*request.parquet_output, ec)) > bytes_cap->most) {
    throw Error::ResourceExhausted("the Parquet result is larger than {}: add a LIMIT", bytes_cap->reason);
  }
  result.truncated = capped.last_cut() && !capped.truncated_reason().empty();
  result.truncated_reason = result.truncated ? capped.truncated_reason() : "";
}

// --- finding and stopping -------------------------------------------------------

std::shared_ptr<Runner::Entry> Runner::FindLocked(const identity::Principal& caller, const std::string& id) {
  auto it = entries_.find(KeyOf(caller, id));
  if (it != entries_.end()) return it->second;
  if (caller.admin) {  // administrators see everyone's
    for (auto& [key, e] : entries_) {
      if (e->id == id) return e;
    }
  }
  // Another person's run is reported exactly like a missing one.
  throw Error::NotFound("query {} does not exist", id.size() > 64 ? id.substr(0, 64) : id);
}

RunState Runner::Cancel(const identity::Principal& caller, const std::string& run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto e = FindLocked(caller, run_id);
  if (!e->Done()) e->Stop(StopReason::kCancelled);
  return e->state;
}

RunInfo Runner::Find(const identity::Principal& caller, const std::string& run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return FindLocked(caller, run_id)->Info();
}

std::vector<RunInfo> Runner::List(const identity::Principal& caller, bool include_finished) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RunInfo> out;
  for (auto& [key, e] : entries_) {
    if (!include_finished && e->Done()) continue;
    if (caller.admin || e->principal.Key() == caller.Key()) out.push_back(e->Info());
  }
  std::sort(out.begin(), out.end(),
            [](const RunInfo& a, const RunInfo& b) { return a.elapsed_s > b.elapsed_s; });
  return out;
}

void Runner::CancelAll(StopReason reason) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [key, e] : entries_) {
    if (!e->Done()) e->Stop(reason);
  }
}

void Runner::ForgetUser(const std::string& user, const std::string& issuer) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto& e = it->second;
    if (e->principal.user != user || e->principal.issuer != issuer) {
      ++it;
      continue;
    }
    if (!e->Done()) e->Stop(StopReason::kCancelled);
    it = entries_.erase(it);
  }
}

Runner::Lease Runner::Borrow(const Caller& caller) {
  return pool_->Acquire(caller);
}

void Runner::Watchdog() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(100));
    auto now = std::chrono::steady_clock::now();
    for (auto& [key, e] : entries_) {
      if (e->state != RunState::kRunning || !e->session) continue;
      if (e->client_gone && e->stop == StopReason::kNone && e->client_gone())
        e->Stop(StopReason::kClientGone);
      e->session->Enforce(now);
    }
  }
}

}  // namespace tarn::session
