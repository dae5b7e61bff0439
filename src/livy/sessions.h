// Livy interactive sessions: a session belongs to the principal who created it and
// runs its statements one at a time, in order, each through the Runner as the
// session's user — its creator, or the user it impersonates (proxyUser) — governed,
// limited, cancellable, and audited with origin "livy", the session and the statement.
// docs/livy.md describes the protocol as Tarn serves it.
//
// Sessions are recorded in the metadata store (table livy_sessions), their statements
// only in memory: after a restart the sessions of the server's earlier life are
// listed as dead ("the server restarted"), kept like any ended session. Statements of
// all sessions share `workers` threads; a session's own statements never overlap. The
// last `max_statements` statements are kept.
//
// A session ends (state dead) when it was idle for `idle_timeout`, or when it asked
// for a heartbeat (heartbeatTimeoutInSecond) and no request named it for that long;
// a session with a statement waiting or running is never ended by either. An ended
// session stays listed for `retain_ended`, refusing statements.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <nlohmann/json.hpp>

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

#include "identity/principal.h"
#include "livy/code.h"
#include "session/runner.h"
#include "store/store.h"

namespace tarn::livy {

struct LivyOptions {
  int workers = 4;                 // statements running at once, over all sessions
  size_t max_statements = 100;     // statements kept per session (the oldest go first)
  int64_t max_result_rows = 1000;  // rows of a SQL result's application/json table
  size_t max_sessions = 1000;      // sessions at once, over all principals
  // A session with no statement waiting or running for this long ends (0: never).
  std::chrono::seconds idle_timeout{3600};
  // An ended session stays listed (state dead, with the reason in its log) this long.
  std::chrono::seconds retain_ended{600};
  std::chrono::milliseconds reap_interval{1000};  // how often timeouts are checked
  std::function<int64_t()> clock;                 // ms; for tests (null: a steady clock)
};

struct StatementView {
  int64_t id = 0;
  std::string code;
  std::string state;      // waiting, running, available, cancelling, cancelled
  nlohmann::json output;  // null until available
  double progress = 0;
  int64_t started_ms = 0, completed_ms = 0;  // 0 until then
  nlohmann::json Json() const;
};

struct SessionView {
  int64_t id = 0;
  std::optional<std::string> name;
  identity::Principal owner;    // who created it: it is theirs
  identity::Principal runs_as;  // whom its statements run as: the owner, or its proxyUser
  Kind kind = Kind::kShared;
  std::string state;  // idle, busy, dead
  int64_t heartbeat_timeout_s = 0;
  std::vector<std::string> log;  // the last lines
  nlohmann::json Json() const;   // Livy's session object
};

// Livy's log paging over `total` lines: `size` lines (negative: all) from line `from`
// (negative: the last `size`). Returns [begin, end).
std::pair<int64_t, int64_t> LogWindow(int64_t total, int64_t from, int64_t size);

// Who may see (and drive) a session besides its owner.
using MayManage = std::function<bool(const identity::Principal& caller)>;

class LivyService {
 public:
  // `meta`: where sessions are recorded (the service's own connection).
  LivyService(session::Runner& runner, std::unique_ptr<store::MetaStore> meta, LivyOptions options);
  ~LivyService();  // stops running statements and waits for the workers
  LivyService(const LivyService&) = delete;
  LivyService& operator=(const LivyService&) = delete;

  // A new session of `owner`'s, idle at once (there is no cluster to start). Throws
  // kInvalidArgument for a name another session has, kResourceExhausted at
  // max_sessions.
  // `runs_as`: the owner, or the user it may impersonate (proxyUser; decided by the caller).
  SessionView Create(const identity::Principal& owner, const identity::Principal& runs_as, Kind kind,
                     std::optional<std::string> name, int64_t heartbeat_timeout_s);
  // The sessions `caller` may see (own ones; every one if `manage` says so), by id.
  std::vector<SessionView> List(const identity::Principal& caller, const MayManage& manage);
  // The session `key` (its id, or its name) if `caller` may see it; kNotFound,
  // worded as Livy does ("Session 'x' not found."), otherwise.
  SessionView Get(const identity::Principal& caller, const MayManage& manage, const std::string& key);
  // Ends the session: its running statement is cancelled, waiting ones dropped.
  void Delete(const identity::Principal& caller, const MayManage& manage, const std::string& key);
  // The session's log lines from `from` (negative: the last `size`), at most `size`.
  std::pair<int64_t, std::vector<std::string>> Log(const identity::Principal& caller, const MayManage& manage,
                                                   const std::string& key, int64_t from, int64_t size,
                                                   int64_t& total);

  // Queues a statement; `kind` is the statement's own kind (else the session's).
  StatementView Submit(const identity::Principal& caller, const MayManage& manage, const std::string& key,
                       const std::string& code, std::optional<Kind> kind);
  std::vector<StatementView> Statements(const identity::Principal& caller, const MayManage& manage,
                                        const std::string& key);
  // kNotFound ("Statement not found") for an id the session does not keep.
  StatementView GetStatement(const identity::Principal& caller, const MayManage& manage,
                             const std::string& key, int64_t statement);
  // Names that may complete the word before `cursor` in `code`: databases, db.table
  // names and columns of the tables the code names — only what the session's
  // principal may see — and SQL keywords, sorted, at most 100.
  std::vector<std::string> Complete(const identity::Principal& caller, const MayManage& manage,
                                    const std::string& key, const std::string& code, int64_t cursor);
  // A waiting statement is cancelled at once; a running one goes cancelling and its
  // engine work is stopped; an ended one stays as it is.
  void Cancel(const identity::Principal& caller, const MayManage& manage, const std::string& key,
              int64_t statement);

 private:
  struct Statement;
  struct Session;
  std::shared_ptr<Session> Find(const identity::Principal& caller, const MayManage& manage,
                                const std::string& key);
  static std::shared_ptr<Statement> FindStatement(Session& s, int64_t statement);
  static StatementView ViewOf(const Statement& st);
  void Work();
  void Restore();  // the sessions of the server's earlier life, as dead
  void EndLocked(Session& s, const std::string& why);
  void Forget(int64_t id);  // its row
  void Reap();              // the timeouts, every reap_interval
  int64_t Now() const;
  // Runs one statement; returns its output.
  nlohmann::json Run(const Session& s, const Statement& st);
  void AddLog(Session& s, std::string line);
  SessionView ViewLocked(const Session& s) const;

  session::Runner& runner_;
  std::unique_ptr<store::MetaStore> meta_;  // used under mu_
  LivyOptions options_;
  std::string instance_;  // random: Runner ids of this server's life never repeat
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<int64_t, std::shared_ptr<Session>> sessions_;
  std::deque<std::shared_ptr<Session>> ready_;  // sessions with a waiting statement, not running
  std::vector<std::thread> workers_;
  std::thread reaper_;
  std::condition_variable reap_cv_;  // the reaper's own: cv_ wakes workers only
};

}  // namespace tarn::livy
