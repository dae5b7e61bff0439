#include "livy/sessions.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>

#include "common/error.h"
#include "common/util.h"
#include "jobs/job_store.h"
#include "livy/completion.h"
#include "livy/output.h"

namespace tarn::livy {

struct LivyService::Statement {
  int64_t id = 0;
  std::string code;
  Kind kind = Kind::kSql;  // the statement's own, else its session's
  std::string state = "waiting";
  nlohmann::json output;
  int64_t started_ms = 0, completed_ms = 0;
  std::string run_id;              // its Runner run
  std::atomic<bool> stop = false;  // a cancel, the session's end or the server's
};

struct LivyService::Session {
  int64_t id = 0;
  std::optional<std::string> name;
  identity::Principal owner, runs_as;
  Kind kind = Kind::kShared;
  int64_t heartbeat_timeout_s = 0;
  std::deque<std::shared_ptr<Statement>> statements;  // oldest first
  int64_t next_statement = 0;
  bool running = false;  // a worker runs one of its statements
  bool queued = false;   // it waits in ready_
  bool deleted = false;
  std::deque<std::string> log;
  int64_t log_total = 0;  // lines ever written (the first kept is log_total - log.size())
  int64_t last_heartbeat_ms = 0, last_activity_ms = 0;  // LivyService::Now()
  int64_t ended_ms = 0;                                 // 0: not ended
  std::string ended_reason;
  bool busy() const { return running || queued; }
};

namespace {

constexpr size_t kLogLines = 1000;

using jobs::NowMs;

bool Ended(const std::string& state) {
  return state == "available" || state == "cancelled";
}

std::string ProbeText(Kind kind, const std::string& probe) {
  return kind == Kind::kSpark
             ? fmt::format(
                   "{}: Tarn SQL compatibility mode (send SQL with %%sql, or use a session of kind sql)",
                   probe)
             : fmt::format(
                   "<{}: Tarn SQL compatibility mode; send SQL with %%sql, or use a session of kind sql>",
                   probe);
}

}  // namespace

nlohmann::json StatementView::Json() const {
  return {{"id", id},
          {"code", code},
          {"state", state},
          {"output", output},
          {"progress", progress},
          {"started", started_ms},
          {"completed", completed_ms}};
}

nlohmann::json SessionView::Json() const {
  size_t first = log.size() > 10 ? log.size() - 10 : 0;
  return {{"id", id},
          {"name", name ? nlohmann::json(*name) : nlohmann::json(nullptr)},
          {"appId", nullptr},
          {"owner", owner.user},
          {"proxyUser", runs_as.user},
          {"state", state},
          {"kind", KindName(kind)},
          {"appInfo", {{"driverLogUrl", nullptr}, {"sparkUiUrl", nullptr}, {"executorLogUrls", nullptr}}},
          {"log", std::vector<std::string>(log.begin() + static_cast<std::ptrdiff_t>(first), log.end())},
          {"ttl", nullptr},
          {"idleTimeout", nullptr},
          {"driverMemory", nullptr},
          {"driverCores", 0},
          {"executorMemory", nullptr},
          {"executorCores", 0},
          {"conf", nlohmann::json::object()},
          {"archives", nlohmann::json::array()},
          {"files", nlohmann::json::array()},
          {"heartbeatTimeoutInSecond", heartbeat_timeout_s},
          {"jars", nlohmann::json::array()},
          {"numExecutors", 0},
          {"pyFiles", nlohmann::json::array()},
          {"queue", nullptr}};
}

LivyService::LivyService(session::Runner& runner, std::unique_ptr<store::MetaStore> meta, LivyOptions options)
    : runner_(runner), meta_(std::move(meta)), options_(options), instance_(RandomHex(4)) {
  Restore();
  for (int i = 0; i < std::max(1, options_.workers); i++) workers_.emplace_back([this] { Work(); });
  reaper_ = std::thread([this] { Reap(); });
}

int64_t LivyService::Now() const {
  if (options_.clock) return options_.clock();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void LivyService::Restore() {
  std::lock_guard lock(mu_);
  auto rows = meta_->Query(
      "SELECT id, name, owner_json, runs_as_json, kind, heartbeat_timeout_s, ended_reason FROM livy_sessions "
      "ORDER BY id");
  for (auto& r : rows) {
    auto s = std::make_shared<Session>();
    s->id = r.Int(0);
    if (!r.IsNull(1)) s->name = r.Str(1);
    s->owner = jobs::PrincipalFrom(r.Str(2));
    s->runs_as = jobs::PrincipalFrom(r.Str(3));
    s->kind = ParseKind(r.Str(4)).value_or(Kind::kSql);
    s->heartbeat_timeout_s = r.Int(5);
    s->last_heartbeat_ms = s->last_activity_ms = Now();
    EndLocked(*s, !r.IsNull(6) ? r.Str(6) : "the server restarted: a session's statements do not survive it");
    sessions_[s->id] = s;
  }
}

void LivyService::EndLocked(Session& s, const std::string& why) {
  s.ended_ms = Now();
  s.ended_reason = why;
  AddLog(s, "session ended: " + why);
  try {
    meta_->Execute("UPDATE livy_sessions SET ended_reason = ? WHERE id = ?", {why, s.id});
  } catch (const Error&) {
    // The store is busy or gone: the session ended all the same; a restart says so again.
  }
}

void LivyService::Reap() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    reap_cv_.wait_for(lock, options_.reap_interval, [&] { return stopping_; });
    int64_t now = Now();
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      Session& s = *it->second;
      if (s.ended_ms) {
        bool gone = now - s.ended_ms > options_.retain_ended.count() * 1000;
        if (gone) Forget(s.id);
        it = gone ? sessions_.erase(it) : std::next(it);
        continue;
      }
      std::string why;
      if (s.busy()) {
        // A session at work is never ended by a timeout.
      } else if (s.heartbeat_timeout_s > 0 && now - s.last_heartbeat_ms > s.heartbeat_timeout_s * 1000) {
        why = fmt::format("no request named it for heartbeatTimeoutInSecond ({} s)", s.heartbeat_timeout_s);
      } else if (options_.idle_timeout.count() > 0 &&
                 now - s.last_activity_ms > options_.idle_timeout.count() * 1000) {
        why = fmt::format("idle for livy.session_idle_timeout ({} s)", options_.idle_timeout.count());
      }
      if (!why.empty()) EndLocked(s, why);
      ++it;
    }
  }
}

LivyService::~LivyService() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& [id, s] : sessions_)
      for (auto& st : s->statements) st->stop = true;
  }
  cv_.notify_all();
  reap_cv_.notify_all();
  for (auto& w : workers_) w.join();
  reaper_.join();
}

void LivyService::Forget(int64_t id) {
  try {
    meta_->Execute("DELETE FROM livy_sessions WHERE id = ?", {id});
  } catch (const Error&) {
    // The store is busy or gone: the row is dead already and goes with the next restart's reap.
  }
}

void LivyService::AddLog(Session& s, std::string line) {
  s.log.push_back(NowUtc() + " " + std::move(line));
  s.log_total++;
  if (s.log.size() > kLogLines) s.log.pop_front();
}

SessionView LivyService::ViewLocked(const Session& s) const {
  SessionView v;
  v.id = s.id;
  v.name = s.name;
  v.owner = s.owner;
  v.runs_as = s.runs_as;
  v.kind = s.kind;
  v.state = s.ended_ms ? "dead" : s.busy() ? "busy" : "idle";
  v.heartbeat_timeout_s = s.heartbeat_timeout_s;
  v.log.assign(s.log.begin(), s.log.end());
  return v;
}

SessionView LivyService::Create(const identity::Principal& owner, const identity::Principal& runs_as,
                                Kind kind, std::optional<std::string> name, int64_t heartbeat_timeout_s) {
  std::lock_guard lock(mu_);
  if (sessions_.size() >= options_.max_sessions) {
    throw Error::ResourceExhausted("Rejected, too many sessions ({}): delete sessions you no longer use",
                                   sessions_.size());
  }
  if (name) {
    for (auto& [id, s] : sessions_) {  // per owner: another's names are not the caller's business
      if (s->name == name && s->owner.Key() == owner.Key())
        throw Error::InvalidArgument("Duplicate session name: {} for session {}", *name, id);
    }
  }
  auto s = std::make_shared<Session>();
  s->id =
      meta_
          ->Query(
              "INSERT INTO livy_sessions (name, owner_json, runs_as_json, kind, heartbeat_timeout_s) VALUES "
              "(?, ?, ?, ?, ?) RETURNING id",
              {name ? store::Param(*name) : store::Param(nullptr), jobs::PrincipalJson(owner).dump(),
               jobs::PrincipalJson(runs_as).dump(), std::string(KindName(kind)), heartbeat_timeout_s})
          .at(0)
          .Int(0);
  s->name = std::move(name);
  s->owner = owner;
  s->runs_as = runs_as;
  s->kind = kind;
  s->heartbeat_timeout_s = heartbeat_timeout_s;
  s->last_heartbeat_ms = s->last_activity_ms = Now();
  AddLog(*s, fmt::format("session {} of {} created, kind {}: statements run as {}", s->id, owner.user,
                         KindName(kind), runs_as.user));
  sessions_[s->id] = s;
  return ViewLocked(*s);
}

std::shared_ptr<LivyService::Session> LivyService::Find(const identity::Principal& caller,
                                                        const MayManage& manage, const std::string& key) {
  std::shared_ptr<Session> found;
  bool numeric = !key.empty() && key.size() <= 18 && std::all_of(key.begin(), key.end(), ::isdigit);
  if (numeric) {
    auto it = sessions_.find(std::stoll(key));
    if (it != sessions_.end()) found = it->second;
  } else {  // names are unique per owner: the caller's own first
    for (auto& [id, s] : sessions_) {
      if (s->name == key && (!found || s->owner.Key() == caller.Key())) found = s;
    }
  }
  // Another principal's session reads as missing.
  if (!found || !(found->owner.Key() == caller.Key() || (manage && manage(caller)))) {
    throw Error::NotFound("Session '{}' not found.", key.substr(0, 64));
  }
  found->last_heartbeat_ms = Now();  // every request naming the session is a heartbeat, as in Livy
  return found;
}

std::vector<SessionView> LivyService::List(const identity::Principal& caller, const MayManage& manage) {
  bool all = manage && manage(caller);
  std::lock_guard lock(mu_);
  std::vector<SessionView> out;
  for (auto& [id, s] : sessions_) {
    if (all || s->owner.Key() == caller.Key()) out.push_back(ViewLocked(*s));
  }
  return out;
}

SessionView LivyService::Get(const identity::Principal& caller, const MayManage& manage,
                             const std::string& key) {
  std::lock_guard lock(mu_);
  return ViewLocked(*Find(caller, manage, key));
}

void LivyService::Delete(const identity::Principal& caller, const MayManage& manage, const std::string& key) {
  std::vector<std::shared_ptr<Statement>> running;
  identity::Principal owner;
  {
    std::lock_guard lock(mu_);
    auto s = Find(caller, manage, key);
    s->deleted = true;
    owner = s->runs_as;
    for (auto& st : s->statements) {
      if (st->state == "waiting") {
        st->state = "cancelled";
        st->completed_ms = NowMs();
      } else if (st->state == "running" || st->state == "cancelling") {
        st->stop = true;
        running.push_back(st);
      }
    }
    sessions_.erase(s->id);
    Forget(s->id);
  }
  for (auto& st : running) {
    try {
      runner_.Cancel(owner, st->run_id);
    } catch (const Error&) {
      // Not registered yet, or already ended: `stop` ends it.
    }
  }
}

std::pair<int64_t, std::vector<std::string>> LivyService::Log(const identity::Principal& caller,
                                                              const MayManage& manage, const std::string& key,
                                                              int64_t from, int64_t size, int64_t& total) {
  std::lock_guard lock(mu_);
  auto s = Find(caller, manage, key);
  int64_t first = s->log_total - static_cast<int64_t>(s->log.size());  // older lines are gone
  total = s->log_total;
  auto [begin, end] = LogWindow(total, from, size);
  std::vector<std::string> out;
  for (int64_t i = std::max(begin, first); i < end; i++)
    out.push_back(s->log[static_cast<size_t>(i - first)]);
  return {begin, out};
}

std::pair<int64_t, int64_t> LogWindow(int64_t total, int64_t from, int64_t size) {
  if (size < 0) size = total;
  if (from < 0) from = std::max<int64_t>(0, total - size);
  return {from, std::max(from, std::min(total, from + size))};
}

StatementView LivyService::ViewOf(const Statement& st) {
  StatementView v;
  v.id = st.id;
  v.code = st.code;
  v.state = st.state;
  v.output = st.output;
  v.progress = Ended(st.state) ? 1.0 : 0.0;
  v.started_ms = st.started_ms;
  v.completed_ms = st.completed_ms;
  return v;
}

StatementView LivyService::Submit(const identity::Principal& caller, const MayManage& manage,
                                  const std::string& key, const std::string& code, std::optional<Kind> kind) {
  std::lock_guard lock(mu_);
  auto s = Find(caller, manage, key);
  if (s->ended_ms) {
    throw Error::InvalidArgument("Session {} is dead ({}): create a new session", s->id, s->ended_reason);
  }
  s->last_activity_ms = Now();
  auto st = std::make_shared<Statement>();
  st->id = s->next_statement++;
  st->code = code;
  st->kind = kind.value_or(s->kind);
  st->run_id = fmt::format("livy-{}-{}-{}", instance_, s->id, st->id);
  s->statements.push_back(st);
  while (s->statements.size() > options_.max_statements && Ended(s->statements.front()->state))
    s->statements.pop_front();
  AddLog(*s, fmt::format("statement {} submitted by {}", st->id, caller.user));
  if (!s->running && !s->queued) {
    s->queued = true;
    ready_.push_back(s);
    cv_.notify_one();
  }
  return ViewOf(*st);
}

std::vector<StatementView> LivyService::Statements(const identity::Principal& caller, const MayManage& manage,
                                                   const std::string& key) {
  std::lock_guard lock(mu_);
  std::vector<StatementView> out;
  for (auto& st : Find(caller, manage, key)->statements) out.push_back(ViewOf(*st));
  return out;
}

std::shared_ptr<LivyService::Statement> LivyService::FindStatement(Session& s, int64_t statement) {
  for (auto& st : s.statements) {
    if (st->id == statement) return st;
  }
  throw Error::NotFound("Statement not found");
}

StatementView LivyService::GetStatement(const identity::Principal& caller, const MayManage& manage,
                                        const std::string& key, int64_t statement) {
  std::lock_guard lock(mu_);
  return ViewOf(*FindStatement(*Find(caller, manage, key), statement));
}

void LivyService::Cancel(const identity::Principal& caller, const MayManage& manage, const std::string& key,
                         int64_t statement) {
  std::shared_ptr<Statement> st;
  identity::Principal owner;
  {
    std::lock_guard lock(mu_);
    auto s = Find(caller, manage, key);
    st = FindStatement(*s, statement);
    owner = s->runs_as;
    if (st->state == "waiting") {
      st->state = "cancelled";
      st->completed_ms = NowMs();
      AddLog(*s, fmt::format("statement {} cancelled by {} before it ran", st->id, caller.user));
      return;
    }
    if (st->state != "running") return;  // ended, or already cancelling
    st->state = "cancelling";
    st->stop = true;
    AddLog(*s, fmt::format("statement {} cancelled by {}", st->id, caller.user));
  }
  try {
    runner_.Cancel(owner, st->run_id);
  } catch (const Error&) {
    // Not registered yet, or already ended: `stop` ends it.
  }
}

std::vector<std::string> LivyService::Complete(const identity::Principal& caller, const MayManage& manage,
                                               const std::string& key, const std::string& code,
                                               int64_t cursor) {
  identity::Principal runs_as;
  {
    std::lock_guard lock(mu_);
    runs_as = Find(caller, manage, key)->runs_as;
  }
  return CompleteNames(runner_, runs_as, code, cursor);
}

void LivyService::Work() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !ready_.empty(); });
    if (stopping_) return;
    auto s = ready_.front();
    ready_.pop_front();
    s->queued = false;
    std::shared_ptr<Statement> next;
    for (auto& st : s->statements) {
      if (st->state == "waiting") {
        next = st;
        break;
      }
    }
    if (!next || s->deleted) continue;
    next->state = "running";
    next->started_ms = NowMs();
    s->running = true;
    lock.unlock();
    nlohmann::json output;
    try {
      output = Run(*s, *next);
    } catch (const std::exception& e) {
      output = ErrorOutput(next->id, Error::Internal("{}", e.what()));
    }
    lock.lock();
    s->running = false;
    s->last_activity_ms = Now();
    next->state = next->stop ? "cancelled" : "available";
    next->output = next->stop ? nlohmann::json(nullptr) : std::move(output);
    next->completed_ms = NowMs();
    AddLog(*s, fmt::format("statement {} {}", next->id,
                           next->stop ? "cancelled"
                           : next->output.value("status", "") == "ok"
                               ? "available: ok"
                               : "available: error: " + next->output.value("evalue", "")));
    bool more = std::any_of(s->statements.begin(), s->statements.end(),
                            [](auto& st) { return st->state == "waiting"; });
    if (more && !s->deleted && !s->queued) {
      s->queued = true;
      ready_.push_back(s);
      cv_.notify_one();
    }
  }
}

nlohmann::json LivyService::Run(const Session& s, const Statement& st) {
  Code code = Interpret(st.kind, st.code);
  switch (code.action) {
    case Code::Action::kProbe:
      return {{"status", "ok"},
              {"execution_count", st.id},
              {"data", {{"text/plain", ProbeText(st.kind, code.probe)}}}};
    case Code::Action::kUnsupported:
      return ErrorOutput(
          st.id, "UnsupportedLanguage",
          fmt::format("Tarn runs SQL, not {} code. Send SQL as a statement of kind \"sql\" (or in "
                      "a session of kind sql); from sparkmagic, use a %%sql cell.",
                      KindName(st.kind)));
    default: break;
  }
  session::RunRequest request;
  request.principal = s.runs_as;
  if (s.runs_as.Key() != s.owner.Key()) request.origin.impersonated_by = s.owner.user;  // both, in the audit
  request.origin.kind = "livy";
  request.origin.session_id = std::to_string(s.id);
  request.origin.run_id = st.run_id;
  request.sql = code.sql;
  request.client_gone = [&st] { return st.stop.load(); };
  OutputCollector out(code, options_.max_result_rows);
  auto result = runner_.Run(request, out);
  if (result.error) return ErrorOutput(st.id, *result.error);
  bool cut = result.truncated && code.action == Code::Action::kSql;
  return out.Ok(st.id, cut ? result.truncated_reason : "");
}

}  // namespace tarn::livy
