#include "server/queries.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "common/util.h"
#include "engine/engine.h"
#include "engine/result_writer.h"

namespace fs = std::filesystem;

namespace tarn::server {

// --- sessions -------------------------------------------------------------------

SessionPool::SessionPool(session::Instance& instance, size_t max_idle)
    : instance_(instance), max_idle_(max_idle) {}

SessionPool::Lease SessionPool::Acquire(const session::Caller& caller, const std::string& pool,
                                        int64_t memory_bytes) {
  // Sessions are pooled per engine: the shared one (""), or a memory pool's own.
  std::string key = memory_bytes ? pool + '\x1f' + std::to_string(memory_bytes) : "";
  std::unique_ptr<session::Session> s;
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
  return Lease(s.release(), [this, key](session::Session* raw) {
    std::unique_ptr<session::Session> back(raw);
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_count_ < max_idle_) {
      idle_[key].push_back(std::move(back));
      idle_count_++;
    }
  });
}

// --- requests -------------------------------------------------------------------

StatementRequest ParseStatementRequest(const RequestContext& ctx, size_t max_limit) {
  nlohmann::json body;
  try {
    body = nlohmann::json::parse(ctx.request.body());
  } catch (const nlohmann::json::exception&) {
    throw Error::InvalidArgument("the body must be JSON: {{\"sql\": \"...\"}}");
  }
  if (!body.is_object()) throw Error::InvalidArgument("the body must be a JSON object: {{\"sql\": \"...\"}}");
  static const std::set<std::string> kKnown = {"sql", "limit", "format", "async", "query_id"};
  for (auto& [k, v] : body.items()) {
    if (!kKnown.count(k))
      throw Error::InvalidArgument("unknown field '{}'", k.size() > 40 ? k.substr(0, 40) : k);
  }
  StatementRequest r;
  if (!body.contains("sql") || !body["sql"].is_string() || body["sql"].get<std::string>().empty()) {
    throw Error::InvalidArgument("field 'sql' must be a non-empty string");
  }
  r.sql = body["sql"];
  if (body.contains("limit")) {
    if (!body["limit"].is_number_unsigned() || body["limit"].get<uint64_t>() == 0 ||
        body["limit"].get<uint64_t>() > max_limit) {
      throw Error::InvalidArgument("field 'limit' must be an integer from 1 to {}", max_limit);
    }
    r.limit = body["limit"];
  }
  if (body.contains("async")) {
    if (!body["async"].is_boolean()) throw Error::InvalidArgument("field 'async' must be true or false");
    r.async = body["async"];
  }
  if (body.contains("query_id")) {
    auto valid = [](const std::string& id) {
      return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '_';
      });
    };
    if (!body["query_id"].is_string() || !valid(body["query_id"].get<std::string>())) {
      throw Error::InvalidArgument("field 'query_id' must be 1-64 letters, digits, '-' or '_'");
    }
    r.query_id = body["query_id"];
  }
  std::string format;
  if (body.contains("format")) {
    if (!body["format"].is_string()) throw Error::InvalidArgument("field 'format' must be a string");
    format = body["format"];
  } else if (auto it = ctx.query.find("format"); it != ctx.query.end()) {
    format = it->second;
  } else {
    auto accept = ctx.request[http::field::accept];
    if (accept.find("text/csv") != std::string_view::npos) format = "csv";
    if (accept.find("application/vnd.apache.parquet") != std::string_view::npos) format = "parquet";
  }
  if (!format.empty()) {
    if (format != "json" && format != "csv" && format != "parquet") {
      throw Error::InvalidArgument("format must be json, csv or parquet");
    }
    r.format = format;
  }
  return r;
}

// --- running --------------------------------------------------------------------

namespace {

// Builds the JSON body of the last statement's result, up to `limit` rows and
// `max_bytes` of row text.
class JsonResult : public session::ResultHandler {
 public:
  JsonResult(size_t limit, size_t max_bytes) : limit_(limit), max_bytes_(max_bytes) {}
  int64_t OnRows(duckdb::QueryResult& result) override {
    Read(result);
    return static_cast<int64_t>(count_);
  }
  void Read(duckdb::QueryResult& result) {
    columns_ = nlohmann::json::array();
    for (size_t i = 0; i < result.names.size(); i++) {
      columns_.push_back({{"name", result.names[i]}, {"type", result.types[i].ToString()}});
    }
    rows_.clear();
    count_ = 0;
    truncated_ = false;
    while (true) {
      auto chunk = result.Fetch();
      engine::ThrowIfError(result);
      if (!chunk || chunk->size() == 0) break;
      for (duckdb::idx_t r = 0; r < chunk->size(); r++) {
        std::string row = count_ ? ",[" : "[";
        for (duckdb::idx_t c = 0; c < chunk->ColumnCount() && row.size() <= max_bytes_; c++) {
          if (c) row += ',';
          row += engine::JsonValue(chunk->GetValue(c, r), result.types[c]);
        }
        row += ']';
        // The rows never exceed max_bytes: a row that would is not sent.
        if (count_ >= limit_ || rows_.size() + row.size() > max_bytes_) {
          truncated_ = true;
          return;  // stop reading: the rest of the result is not needed
        }
        rows_ += row;
        count_++;
      }
    }
  }
  void OnStatus(const std::string& message) override { messages_.push_back(message); }

  std::string Body(const std::string& query_id) const {
    nlohmann::json head = {{"query_id", query_id},
                           {"columns", columns_},
                           {"row_count", count_},
                           {"truncated", truncated_},
                           {"messages", messages_}};
    std::string text = head.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    text.pop_back();  // '}'
    return text + ",\"rows\":[" + rows_ + "]}";
  }

 private:
  size_t limit_, max_bytes_;
  nlohmann::json columns_ = nlohmann::json::array();
  std::string rows_;
  size_t count_ = 0;
  bool truncated_ = false;
  std::vector<std::string> messages_;
};

class CsvResult : public session::ResultHandler {
 public:
  explicit CsvResult(size_t limit) : limit_(limit) {}
  int64_t OnRows(duckdb::QueryResult& result) override {
    out_.str("");
    auto writer = engine::MakeResultWriter(engine::OutputFormat::kCsv, out_);
    writer->Begin(result.names, result.types);
    size_t n = 0;
    truncated_ = false;
    while (auto chunk = result.Fetch()) {
      engine::ThrowIfError(result);
      if (chunk->size() == 0) break;
      if (n + chunk->size() > limit_) {
        chunk->SetCardinality(limit_ - n);
        writer->Write(*chunk);
        truncated_ = true;
        break;
      }
      n += chunk->size();
      writer->Write(*chunk);
    }
    engine::ThrowIfError(result);
    writer->End();
    return static_cast<int64_t>(n);
  }
  void OnStatus(const std::string&) override {}
  std::string body() const { return out_.str(); }
  bool truncated() const { return truncated_; }

 private:
  size_t limit_;
  std::ostringstream out_;
  bool truncated_ = false;
};

class Discard : public session::ResultHandler {
 public:
  int64_t OnRows(duckdb::QueryResult&) override { return -1; }
  void OnStatus(const std::string&) override {}
};

}  // namespace

std::string QueryRegistry::Key(const identity::Principal& p, const std::string& id) {
  return p.Key() + '\x1f' + id;
}

struct QueryRegistry::Entry {
  std::string id;
  std::string owner;
  std::string owner_issuer;  // a name is only unique per issuer
  identity::Principal principal;
  bool async = false;
  std::string state = "running";  // running, finished, failed, cancelled
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point finished{};
  std::chrono::seconds timeout{0};                   // the owner's statement timeout, once running
  std::chrono::steady_clock::time_point admitted{};  // when it started running
  bool timed_out = false;
  bool cancel_requested = false;
  session::Session* session = nullptr;  // while running
  std::optional<Response> result;       // async: kept for GET
};

QueryRegistry::QueryRegistry(SessionPool& sessions, fs::path temp_dir, std::chrono::seconds timeout,
                             size_t max_result_bytes, std::atomic<int64_t>& active_gauge)
    : sessions_(sessions),
      temp_dir_(std::move(temp_dir)),
      timeout_(timeout),
      max_result_bytes_(max_result_bytes),
      active_(active_gauge),
      async_pool_(4, 64) {
  watchdog_ = std::thread([this] { Watchdog(); });
}

QueryRegistry::~QueryRegistry() {
  CancelAll();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  watchdog_.join();
  async_pool_.Stop();
}

std::shared_ptr<QueryRegistry::Entry> QueryRegistry::Register(const StatementRequest& request,
                                                              const identity::Principal& owner) {
  auto e = std::make_shared<Entry>();
  e->id = request.query_id.empty() ? RandomHex(12) : request.query_id;
  e->owner = owner.user;
  e->owner_issuer = owner.issuer;
  e->principal = owner;
  e->async = request.async;
  std::lock_guard<std::mutex> lock(mu_);
  // Forget old finished entries: at most 1000, none older than 10 minutes.
  auto now = std::chrono::steady_clock::now();
  for (auto it = entries_.begin(); it != entries_.end();) {
    bool done = it->second->state != "running";
    if (done && (now - it->second->finished > std::chrono::minutes(10) || entries_.size() > 1000)) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  // Ids are per principal: one person's ids say nothing about another's.
  std::string key = Key(owner, e->id);
  if (entries_.count(key)) throw Error::AlreadyExists("you already have a query with id {}", e->id);
  entries_[key] = e;
  return e;
}

void QueryRegistry::Execute(const std::shared_ptr<Entry>& e, const StatementRequest& request,
                            unsigned version) {
  Response res;
  session::Caller caller;
  caller.principal = e->principal;
  caller.client = "http";
  caller.request_id = request.request_id;
  auto lease = sessions_.Acquire(caller);
  active_++;
  try {
    // The owner's limits (SET LIMIT), else the server's.
    auto limits = lease->governor().CallerLimits();
    auto timeout = std::chrono::seconds(limits.Get("statement_timeout").value_or(timeout_.count()));
    size_t max_bytes =
        static_cast<size_t>(limits.Get("result_bytes").value_or(static_cast<int64_t>(max_result_bytes_)));
    size_t max_rows = request.limit;
    if (auto rows = limits.Get("result_rows")) max_rows = std::min(max_rows, static_cast<size_t>(*rows));
    if (auto memory = limits.Get("memory")) {  // the engine of its memory pool
      lease = sessions_.Acquire(caller, limits.values.at("memory").source, *memory);
    }
    std::optional<Error> refused;
    {
      std::lock_guard<std::mutex> lock(mu_);
      int64_t running = 0;
      for (auto& [key, other] : entries_) {
        running += other != e && other->session && other->principal.Key() == e->principal.Key();
      }
      auto most = limits.Get("concurrent_statements");
      if (most && running >= *most) {
        refused = Error::ResourceExhausted(
            "you already run {} statement(s), your limit ({}): wait for one to finish or cancel it", running,
            limits.values.at("concurrent_statements").source);
      } else if (e->cancel_requested) {
        refused = Error::Cancelled("query cancelled");
      } else {
        e->timeout = timeout;
        e->admitted = std::chrono::steady_clock::now();
        e->session = lease.get();
      }
    }
    if (refused) {
      lease->Refuse(request.sql, *refused);  // audited, though it never ran
      throw *refused;
    }
    if (request.format == "csv") {
      CsvResult csv(max_rows);
      lease->Execute(request.sql, csv);
      res = TextResponse(http::status::ok, csv.body(), "text/csv; charset=utf-8", version);
      res.set("X-Tarn-Query-Id", e->id);
      res.set("X-Tarn-Truncated", csv.truncated() ? "true" : "false");
    } else if (request.format == "parquet") {
      fs::path file = temp_dir_ / ("http-" + RandomHex() + ".parquet");
      Discard discard;
      try {
        lease->Execute(request.sql, discard, file);
        std::error_code ec;
        if (fs::file_size(file, ec) > max_bytes) {
          throw Error::ResourceExhausted("the result is larger than {} bytes: add a LIMIT", max_bytes);
        }
        std::ifstream in(file, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        res = TextResponse(http::status::ok, ss.str(), "application/vnd.apache.parquet", version);
        res.set("X-Tarn-Query-Id", e->id);
      } catch (...) {
        std::error_code ec;
        fs::remove(file, ec);
        throw;
      }
      std::error_code ec;
      fs::remove(file, ec);
    } else {
      JsonResult json(max_rows, max_bytes);
      lease->Execute(request.sql, json);
      res = TextResponse(http::status::ok, json.Body(e->id), "application/json", version);
    }
    std::lock_guard<std::mutex> lock(mu_);
    e->state = "finished";
  } catch (const Error& err) {
    std::lock_guard<std::mutex> lock(mu_);
    Error reported = err;
    if (err.code() == ErrorCode::kCancelled && e->timed_out) {
      reported =
          Error::ResourceExhausted("the statement ran longer than {} s and was stopped", e->timeout.count());
    }
    e->state = err.code() == ErrorCode::kCancelled ? "cancelled" : "failed";
    res = ErrorResponse(reported, e->id, version);
  }
  active_--;
  std::lock_guard<std::mutex> lock(mu_);
  e->session = nullptr;
  e->finished = std::chrono::steady_clock::now();
  e->result = std::move(res);
}

Response QueryRegistry::Run(const StatementRequest& request, const identity::Principal& owner,
                            unsigned version) {
  auto e = Register(request, owner);
  if (!request.async) {
    Execute(e, request, version);
    std::lock_guard<std::mutex> lock(mu_);
    Response res = *e->result;
    if (!e->async) e->result.reset();
    return res;
  }
  bool queued = async_pool_.Submit([this, e, request, version](size_t) { Execute(e, request, version); });
  if (!queued) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.erase(Key(owner, e->id));
    throw Error::ResourceExhausted("too many asynchronous statements are queued: try again shortly");
  }
  return JsonResponse(http::status::accepted, {{"query_id", e->id}, {"state", "running"}}, version);
}

std::shared_ptr<QueryRegistry::Entry> QueryRegistry::Find(const std::string& id,
                                                          const identity::Principal& caller) {
  auto it = entries_.find(Key(caller, id));
  if (it != entries_.end()) return it->second;
  if (caller.admin) {  // administrators see everyone's
    for (auto& [key, e] : entries_) {
      if (e->id == id) return e;
    }
  }
  // Another person's query is reported exactly like a missing one.
  throw Error::NotFound("query {} does not exist", id.size() > 64 ? id.substr(0, 64) : id);
}

Response QueryRegistry::Get(const std::string& id, const identity::Principal& caller, unsigned version) {
  std::lock_guard<std::mutex> lock(mu_);
  auto e = Find(id, caller);
  if (e->state != "running" && e->result) {
    Response res = *e->result;
    res.version(version);
    res.set("X-Tarn-Query-State", e->state);
    return res;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - e->started).count();
  return JsonResponse(http::status::ok, {{"query_id", e->id}, {"state", e->state}, {"elapsed_s", secs}},
                      version);
}

Response QueryRegistry::Cancel(const std::string& id, const identity::Principal& caller, unsigned version) {
  std::lock_guard<std::mutex> lock(mu_);
  auto e = Find(id, caller);
  if (e->state == "running") {
    e->cancel_requested = true;
    if (e->session) e->session->Cancel();
  }
  return JsonResponse(http::status::ok,
                      {{"query_id", e->id}, {"state", e->state == "running" ? "cancelling" : e->state}},
                      version);
}

void QueryRegistry::CancelAll() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, e] : entries_) {
    if (e->state == "running") {
      e->cancel_requested = true;
      if (e->session) e->session->Cancel();
    }
  }
}

void QueryRegistry::ForgetUser(const std::string& user, const std::string& issuer) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto& e = it->second;
    if (e->principal.user != user || e->principal.issuer != issuer) {
      ++it;
      continue;
    }
    if (e->state == "running") {
      e->cancel_requested = true;
      if (e->session) e->session->Cancel();
    }
    it = entries_.erase(it);
  }
}

void QueryRegistry::Watchdog() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(200));
    auto now = std::chrono::steady_clock::now();
    for (auto& [id, e] : entries_) {
      if (e->state != "running" || !e->session) continue;
      if (!e->timed_out && now - e->admitted > e->timeout) e->timed_out = true;
      // Repeated every tick: an interrupt that lands just before the engine starts a
      // statement is forgotten by the engine, so it is sent again until it sticks.
      if (e->timed_out || e->cancel_requested) e->session->Cancel();
    }
  }
}

}  // namespace tarn::server
