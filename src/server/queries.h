// Queries: running statements for HTTP callers, and the registry that lets a caller
// poll or cancel them by id.
//
// A statement runs on a Session borrowed from a pool (sessions are reused between
// requests; each has its own engine connection). Every run is registered under a
// query id (the caller's, if it gave a valid one, else a random one) so that
// DELETE /v1/queries/{id} can cancel it from another connection, and a watchdog
// cancels anything running past the statement timeout. Query ids belong to their
// principal: two people may use the same id, and neither can see the other's. Finished asynchronous
// results are kept for 10 minutes (at most 1000), visible only to their owner.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/http.h"
#include "server/worker_pool.h"
#include "session/instance.h"

namespace tarn::server {

// A borrowed session that goes back to its pool when the lease ends.
class SessionPool {
 public:
  explicit SessionPool(session::Instance& instance, size_t max_idle = 32);
  using Lease = std::unique_ptr<session::Session, std::function<void(session::Session*)>>;
  // A session that runs as, and audits for, `caller`; with `memory_bytes`, one on
  // the engine of that size that `pool` (the deciding SET LIMIT, e.g. "GROUP
  // analysts") shares among its principals (Instance::NewLimitedSession).
  Lease Acquire(const session::Caller& caller, const std::string& pool = "", int64_t memory_bytes = 0);

 private:
  session::Instance& instance_;
  size_t max_idle_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<session::Session>>> idle_;  // by engine
  size_t idle_count_ = 0;
};

// What the caller asked for in POST /v1/statements.
struct StatementRequest {
  std::string sql;
  size_t limit = 1000;
  std::string format = "json";  // json, csv or parquet
  bool async = false;
  std::string query_id;    // optional, caller-chosen
  std::string request_id;  // the HTTP request's, for the audit trail
};

// Parses and checks the JSON body (and ?format= / Accept); throws kInvalidArgument.
StatementRequest ParseStatementRequest(const RequestContext& ctx, size_t max_limit);

class QueryRegistry {
 public:
  QueryRegistry(SessionPool& sessions, std::filesystem::path temp_dir, std::chrono::seconds timeout,
                size_t max_result_bytes, std::atomic<int64_t>& active_gauge);
  ~QueryRegistry();

  // Runs the statements for `owner`. Synchronous requests return the result;
  // asynchronous ones return 202 with the query id at once.
  Response Run(const StatementRequest& request, const identity::Principal& owner, unsigned version);
  // GET /v1/queries/{id}: state, and the result when finished.
  Response Get(const std::string& id, const identity::Principal& caller, unsigned version);
  // DELETE /v1/queries/{id}: cancels a running query.
  Response Cancel(const std::string& id, const identity::Principal& caller, unsigned version);
  // Cancels everything running (server shutdown).
  void CancelAll();
  // A user was removed: cancels their running queries and drops every stored
  // result, at once.
  void ForgetUser(const std::string& user, const std::string& issuer);

 private:
  struct Entry;
  std::shared_ptr<Entry> Register(const StatementRequest& request, const identity::Principal& owner);
  void Execute(const std::shared_ptr<Entry>& entry, const StatementRequest& request, unsigned version);
  std::shared_ptr<Entry> Find(const std::string& id, const identity::Principal& caller);
  // Registry key: ids are unique per principal (Principal::Key), not globally.
  static std::string Key(const identity::Principal& p, const std::string& id);
  void Watchdog();

  SessionPool& sessions_;
  std::filesystem::path temp_dir_;
  std::chrono::seconds timeout_;
  size_t max_result_bytes_;
  std::atomic<int64_t>& active_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<std::string, std::shared_ptr<Entry>> entries_;
  WorkerPool async_pool_;  // runs asynchronous statements
  std::thread watchdog_;
};

}  // namespace tarn::server
