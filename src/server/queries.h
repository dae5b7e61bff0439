// Statements over HTTP: POST /v1/statements and /v1/queries/..., on the Runner.
//
// What stays here is HTTP: parsing the request, encoding the result (JSON, CSV,
// Parquet), paging it and keeping it for the caller. Limits, deadlines, admission,
// cancellation and audit are the Runner's (session/runner.h).
//
// Results are never silently cut. A result larger than one page (`limit` rows, or
// the server's page size in bytes) is kept in pages: the first comes with the
// answer, with "next_uri" (JSON) or a Link rel="next" header (CSV) naming the next
// one, and so on until the last. A result a cap cut (SET LIMIT result_rows /
// result_bytes, the caller's max_rows) says so on its last page: "truncated": true
// with "truncated_reason". Results and pages are kept for 10 minutes (at most 1000
// runs), visible to their owner only; DELETE /v1/queries/{id} drops them.
//
// A synchronous statement whose client disconnects is cancelled.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "server/http.h"
#include "server/worker_pool.h"
#include "session/runner.h"

namespace tarn::server {

// What the caller asked for in POST /v1/statements.
struct StatementRequest {
  std::string sql;
  size_t limit = 1000;              // rows per page
  std::optional<int64_t> max_rows;  // the caller's cap on the whole result
  std::string format = "json";      // json, csv or parquet
  bool async = false;
  std::string query_id;    // optional, caller-chosen
  std::string role;        // optional assumed role
  std::string request_id;  // the HTTP request's, for the audit trail
};

// Parses and checks the JSON body (and ?format= / Accept); throws kInvalidArgument.
StatementRequest ParseStatementRequest(const RequestContext& ctx, size_t max_limit);

class Statements {
 public:
  // A result keeps at most `max_bytes` of encoded rows (a Parquet result at most
  // that size), in pages of about 16 MiB at most; spooled pages live in `temp_dir`.
  // `active_gauge` counts running statements (for /metrics).
  Statements(session::Runner& runner, std::filesystem::path temp_dir, size_t max_bytes,
             std::atomic<int64_t>& active_gauge);
  ~Statements();

  // Runs the statements for `owner`. Synchronous requests return the first page,
  // sent once the last statement's audit record is durable (ctx.send_after);
  // asynchronous ones return 202 with the query id at once.
  Response Run(const StatementRequest& request, RequestContext& ctx);
  // GET /v1/queries/{id}: state, and the first page when finished.
  Response Get(const std::string& id, const identity::Principal& caller, unsigned version);
  // GET /v1/queries/{id}/results/{page}: page 1, 2, ... of a finished result.
  Response Page(const std::string& id, const std::string& page, const identity::Principal& caller,
                unsigned version);
  // DELETE /v1/queries/{id}: cancels a running query, or drops a finished one's result.
  Response Cancel(const std::string& id, const identity::Principal& caller, unsigned version);
  // GET /v1/queries: the caller's running queries (everyone's for administrators).
  Response List(const identity::Principal& caller, unsigned version);
  // Stops everything running (server shutdown).
  void CancelAll();
  // A user was removed: stops their queries and drops their results, at once.
  void ForgetUser(const std::string& user, const std::string& issuer);

  struct Stored;

 private:
  // Runs and stores the result. With `final_audit`, the last statement's audit record
  // is only queued (see RunRequest::defer_final_audit): its receipt goes there, and
  // the stored result stays hidden until it resolves without an error.
  std::shared_ptr<Stored> Execute(const StatementRequest& request, const identity::Principal& owner,
                                  unsigned version, std::function<bool()> client_gone,
                                  std::shared_ptr<audit::Receipt>* final_audit = nullptr);
  // The stored result of `id`, if the caller owns it and it is released.
  std::shared_ptr<Stored> FindStored(const identity::Principal& caller, const std::string& id);

  session::Runner& runner_;
  std::filesystem::path temp_dir_;
  size_t max_bytes_;
  size_t page_bytes_;
  std::atomic<int64_t>& active_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Stored>> stored_;            // Principal::Key + id
  std::deque<std::pair<std::string, std::weak_ptr<Stored>>> order_;  // oldest first
  WorkerPool async_pool_;                                            // runs asynchronous statements
};

}  // namespace tarn::server
