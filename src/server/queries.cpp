#include "server/queries.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/util.h"
#include "engine/engine.h"
#include "engine/result_writer.h"
#include "files/files.h"

namespace fs = std::filesystem;

namespace tarn::server {

// --- requests -------------------------------------------------------------------

StatementRequest ParseStatementRequest(const RequestContext& ctx, size_t max_limit) {
  nlohmann::json body;
  try {
    body = nlohmann::json::parse(ctx.request.body());
  } catch (const nlohmann::json::exception&) {
    throw Error::InvalidArgument("the body must be JSON: {{\"sql\": \"...\"}}");
  }
  if (!body.is_object()) throw Error::InvalidArgument("the body must be a JSON object: {{\"sql\": \"...\"}}");
  static const std::set<std::string> kKnown = {"sql",   "limit",    "max_rows", "format",
                                               "async", "query_id", "role"};
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
  if (body.contains("max_rows")) {
    if (!body["max_rows"].is_number_unsigned() || body["max_rows"].get<uint64_t>() == 0 ||
        body["max_rows"].get<uint64_t>() > (uint64_t{1} << 62)) {
      throw Error::InvalidArgument("field 'max_rows' must be a positive integer");
    }
    r.max_rows = body["max_rows"].get<int64_t>();
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
  if (body.contains("role")) {
    if (!body["role"].is_string() || body["role"].get<std::string>().empty())
      throw Error::InvalidArgument("field 'role' must be a role name");
    r.role = body["role"];
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
    if (accept.find("application/x-ndjson") != std::string_view::npos) format = "jsonl";
    if (accept.find("application/vnd.apache.parquet") != std::string_view::npos) format = "parquet";
  }
  if (!format.empty()) {
    if (format != "json" && format != "jsonl" && format != "csv" && format != "parquet" && format != "xlsx") {
      throw Error::InvalidArgument("format must be json, jsonl, csv, parquet or xlsx");
    }
    r.format = format;
  }
  // CSV is for bulk reads: its pages are as large as the server allows unless asked.
  if (!body.contains("limit") && (r.format == "csv" || r.format == "jsonl")) r.limit = max_limit;
  return r;
}

// --- paged results --------------------------------------------------------------

namespace {

constexpr const char* kXlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

// Pages 1, 2, ... of a result, in a temporary file (page 0 stays in memory).
class Spool {
 public:
  explicit Spool(fs::path file) : file_(std::move(file)) {}
  ~Spool() { Clear(); }
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  void Add(const std::string& text, int64_t rows) {
    if (!out_) {
      out_.reset(std::fopen(file_.c_str(), "w+b"));
      if (!out_) throw Error::Io("cannot write the result spool {}", file_.string());
    }
    if (std::fseek(out_.get(), 0, SEEK_END) != 0 ||
        std::fwrite(text.data(), 1, text.size(), out_.get()) != text.size())
      throw Error::Io("cannot write the result spool {}", file_.string());
    pages_.push_back({size_, text.size(), rows});
    size_ += text.size();
  }
  size_t pages() const { return pages_.size(); }
  // Page `i` (0-based within the spool) and its row count.
  std::string Read(size_t i, int64_t& rows) const {
    auto& p = pages_.at(i);
    std::string text(p.length, '\0');
    if (std::fflush(out_.get()) != 0 || std::fseek(out_.get(), static_cast<long>(p.offset), SEEK_SET) != 0 ||
        std::fread(text.data(), 1, p.length, out_.get()) != p.length)
      throw Error::Io("cannot read the result spool {}", file_.string());
    rows = p.rows;
    return text;
  }
  void Clear() {
    pages_.clear();
    size_ = 0;
    if (out_) {
      out_.reset();
      std::error_code ec;
      fs::remove(file_, ec);
    }
  }

 private:
  struct PageRef {
    size_t offset, length;
    int64_t rows;
  };
  struct Close {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  fs::path file_;
  std::unique_ptr<std::FILE, Close> out_;
  std::vector<PageRef> pages_;
  size_t size_ = 0;
};

// Encodes the rows of the run's last query into pages of `page_rows` rows and at
// most about `page_bytes`: JSON row arrays, or text (CSV with the header on page 0
// only, or JSON lines).
class PagedResult : public session::ResultHandler {
 public:
  // At most `max_bytes` of encoded rows are kept: a result past that is cut.
  // `text`: CSV or JSON lines; nullopt: JSON row arrays.
  PagedResult(std::optional<engine::OutputFormat> text, size_t page_rows, size_t page_bytes, size_t max_bytes,
              fs::path spool_file)
      : text_(text),
        page_rows_(page_rows),
        page_bytes_(page_bytes),
        max_bytes_(max_bytes),
        spool_(std::move(spool_file)) {}

  void OnColumns(const std::vector<std::string>& names,
                 const std::vector<duckdb::LogicalType>& types) override {
    columns_ = nlohmann::json::array();
    for (size_t i = 0; i < names.size(); i++)
      columns_.push_back({{"name", names[i]}, {"type", types[i].ToString()}});
    types_ = types;
    first_.clear();
    first_rows_ = 0;
    flushed_first_ = false;
    kept_ = 0;
    cut_reason_.clear();
    spool_.Clear();
    page_.str("");
    page_rows_now_ = 0;
    total_ = 0;
    has_rows_ = true;
    if (text_) {
      writer_ = engine::MakeResultWriter(*text_, page_);
      writer_->Begin(names, types);
    }
  }
  bool OnChunk(duckdb::DataChunk& chunk) override {
    if (!text_) {
      for (duckdb::idx_t r = 0; r < chunk.size(); r++) {
        std::string row = page_rows_now_ ? ",[" : "[";
        for (duckdb::idx_t c = 0; c < chunk.ColumnCount(); c++) {
          if (c) row += ',';
          row += engine::JsonValue(chunk.GetValue(c, r), types_[c]);
        }
        if (kept_ + row.size() + 1 > max_bytes_) return Cut();
        page_ << row << ']';
        kept_ += row.size() + 1;
        page_rows_now_++;
        total_++;
        if (PageFull()) FlushPage();
      }
      return true;
    }
    for (duckdb::idx_t done = 0; done < chunk.size();) {
      auto take = std::min<duckdb::idx_t>(chunk.size() - done, page_rows_ - page_rows_now_);
      duckdb::DataChunk part;
      part.InitializeEmpty(chunk.GetTypes());
      part.Reference(chunk);
      part.Slice(done, take);
      auto before = page_.tellp();
      writer_->Write(part);
      kept_ += static_cast<size_t>(page_.tellp() - before);
      if (kept_ > max_bytes_) return Cut();
      page_rows_now_ += take;
      total_ += static_cast<int64_t>(take);
      done += take;
      if (PageFull()) FlushPage();
    }
    return true;
  }
  void OnRowsEnd() override {
    if (page_rows_now_ || !flushed_first_) FlushPage(true);
  }
  void OnStatus(const std::string& message) override { messages_.push_back(message); }

  bool has_rows() const { return has_rows_; }
  const std::string& cut_reason() const { return cut_reason_; }
  const nlohmann::json& columns() const { return columns_; }
  const std::vector<std::string>& messages() const { return messages_; }
  size_t pages() const { return flushed_first_ ? 1 + spool_.pages() : 0; }
  int64_t total_rows() const { return total_; }
  std::string Page(size_t n, int64_t& rows) const {
    if (n == 0) {
      rows = first_rows_;
      return first_;
    }
    return spool_.Read(n - 1, rows);
  }

 private:
  bool Cut() {
    cut_reason_ = fmt::format("the server's max_result_bytes {} (encoded): add a LIMIT, or narrow the query",
                              max_bytes_);
    return false;
  }
  bool PageFull() {
    return page_rows_now_ >= page_rows_ || static_cast<size_t>(page_.tellp()) >= page_bytes_;
  }
  void FlushPage(bool last = false) {
    if (!page_rows_now_ && !last) return;
    std::string text = page_.str();
    page_.str("");
    if (!flushed_first_) {
      first_ = std::move(text);
      first_rows_ = static_cast<int64_t>(page_rows_now_);
      flushed_first_ = true;
    } else {
      spool_.Add(text, static_cast<int64_t>(page_rows_now_));
    }
    page_rows_now_ = 0;
  }

  std::optional<engine::OutputFormat> text_;
  size_t page_rows_, page_bytes_, max_bytes_;
  size_t kept_ = 0;
  std::string cut_reason_;
  Spool spool_;
  nlohmann::json columns_ = nlohmann::json::array();
  std::vector<duckdb::LogicalType> types_;
  std::vector<std::string> messages_;
  std::unique_ptr<engine::ResultWriter> writer_;
  std::ostringstream page_;
  size_t page_rows_now_ = 0;
  std::string first_;
  int64_t first_rows_ = 0;
  bool flushed_first_ = false;
  int64_t total_ = 0;
  bool has_rows_ = false;
};

std::string KeyOf(const identity::Principal& p, const std::string& id) {
  return p.Key() + '\x1f' + id;
}

}  // namespace

// A finished run's result, kept for its owner.
struct Statements::Stored {
  std::string id;
  identity::Principal owner;
  std::string state;  // finished, failed, cancelled, timed_out, refused
  std::chrono::steady_clock::time_point finished = std::chrono::steady_clock::now();
  std::optional<Response> error;        // the run failed
  std::unique_ptr<PagedResult> result;  // JSON or CSV pages
  std::optional<Response> parquet;      // a Parquet (or .xlsx) result
  bool truncated = false;
  std::string truncated_reason;
  std::string format;  // json, jsonl, csv, parquet, xlsx
  // False until the last statement's audit record is durable: until then the result
  // is not shown to anyone (see Statements::Execute).
  std::atomic<bool> released{true};

  // Page `n` as an HTTP response.
  Response PageResponse(size_t n, unsigned version) const {
    if (error) return *error;
    if (parquet) return *parquet;
    size_t pages = result ? result->pages() : 0;
    bool more = n + 1 < pages;
    std::string next = more ? fmt::format("/v1/queries/{}/results/{}", id, n + 1) : "";
    bool last_cut = !more && truncated;
    if (format != "json") {
      int64_t rows = 0;
      std::string body = pages ? result->Page(n, rows) : "";
      Response res =
          TextResponse(http::status::ok, std::move(body),
                       format == "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson", version);
      res.set("X-Tarn-Query-Id", id);
      res.set("X-Tarn-Truncated", more || last_cut ? "true" : "false");
      if (last_cut) res.set("X-Tarn-Truncated-Reason", truncated_reason);
      if (more) {
        res.set("X-Tarn-Next-Uri", next);
        res.set(http::field::link, "<" + next + ">; rel=\"next\"");
      }
      return res;
    }
    int64_t rows = 0;
    std::string body = pages ? result->Page(n, rows) : "";
    nlohmann::json head = {
        {"query_id", id},
        {"columns", result && result->has_rows() ? result->columns() : nlohmann::json::array()},
        {"page", n},
        {"row_count", rows},
        {"total_rows", result ? result->total_rows() : 0},
        {"truncated", more || last_cut}};
    if (n == 0) head["messages"] = result ? result->messages() : std::vector<std::string>{};
    if (more) head["next_uri"] = next;
    if (last_cut) head["truncated_reason"] = truncated_reason;
    std::string text = head.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    text.pop_back();  // '}'
    return TextResponse(http::status::ok, text + ",\"rows\":[" + body + "]}", "application/json", version);
  }
};

Statements::Statements(session::Runner& runner, fs::path temp_dir, size_t max_bytes,
                       std::atomic<int64_t>& active_gauge)
    : runner_(runner),
      temp_dir_(std::move(temp_dir)),
      max_bytes_(max_bytes),
      page_bytes_(std::min<size_t>(max_bytes, 16 << 20)),
      active_(active_gauge),
      async_pool_(4, 64) {}

Statements::~Statements() {
  runner_.CancelAll();
  async_pool_.Stop();
}

std::shared_ptr<Statements::Stored> Statements::Execute(const StatementRequest& request,
                                                        const identity::Principal& owner, unsigned version,
                                                        std::function<bool()> client_gone,
                                                        std::shared_ptr<audit::Receipt>* final_audit) {
  auto stored = std::make_shared<Stored>();
  session::RunRequest run;
  run.principal = owner;
  run.origin.kind = "http";
  run.origin.request_id = request.request_id;
  run.origin.run_id = request.query_id;
  run.sql = request.sql;
  run.role = request.role;
  run.caps.max_rows = request.max_rows;
  run.client_gone = std::move(client_gone);
  run.defer_final_audit = final_audit != nullptr;
  stored->owner = owner;
  stored->format = request.format;
  session::RunResult r;
  active_++;
  if (request.format == "parquet" || request.format == "xlsx") {
    fs::path file = temp_dir_ / ("http-" + RandomHex() + ".parquet");
    run.parquet_output = file;
    session::Drain drain;
    r = runner_.Run(run, drain);
    std::error_code ec;
    if (!r.error && fs::file_size(file, ec) > max_bytes_) {
      r.error = Error::ResourceExhausted(
          "the Parquet result is larger than {} bytes: add a LIMIT, or use CSV pages", max_bytes_);
    }
    if (!r.error && request.format == "xlsx") {
      fs::path sheet = temp_dir_ / ("http-" + RandomHex() + ".xlsx");
      try {
        files::ParquetToXlsx(file, sheet, "result");
      } catch (const Error& e) {
        r.error = e;
      }
      fs::remove(file, ec);
      file = sheet;
    }
    if (!r.error) {
      std::ifstream in(file, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      stored->parquet =
          TextResponse(http::status::ok, ss.str(),
                       request.format == "xlsx" ? kXlsxType : "application/vnd.apache.parquet", version);
      stored->parquet->set("X-Tarn-Query-Id", r.run_id);
    }
    fs::remove(file, ec);
  } else {
    std::optional<engine::OutputFormat> text;
    if (request.format == "csv") text = engine::OutputFormat::kCsv;
    if (request.format == "jsonl") text = engine::OutputFormat::kJson;
    stored->result = std::make_unique<PagedResult>(text, request.limit, page_bytes_, max_bytes_,
                                                   temp_dir_ / ("pages-" + RandomHex() + ".spool"));
    r = runner_.Run(run, *stored->result);
  }
  active_--;
  if (final_audit && r.final_audit) {
    *final_audit = r.final_audit;
    stored->released = false;
  }
  stored->id = r.run_id;
  stored->state = session::RunStateName(r.state);
  stored->truncated = r.truncated;
  stored->truncated_reason = r.truncated_reason;
  if (!r.truncated && stored->result && !stored->result->cut_reason().empty()) {
    stored->truncated = true;
    stored->truncated_reason = stored->result->cut_reason();
  }
  if (r.error) {
    stored->error = ErrorResponse(*r.error, r.run_id, version);
    stored->result.reset();
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto now = std::chrono::steady_clock::now();
  while (!order_.empty()) {  // at most 1000, none older than 10 minutes, oldest first
    auto s = order_.front().second.lock();
    bool old = !s || now - s->finished > std::chrono::minutes(10) || order_.size() > 1000;
    if (!old) break;
    auto it = stored_.find(order_.front().first);
    if (s && it != stored_.end() && it->second == s) stored_.erase(it);
    order_.pop_front();
  }
  std::string key = KeyOf(owner, r.run_id);
  stored_[key] = stored;
  order_.emplace_back(key, stored);
  return stored;
}

Response Statements::Run(const StatementRequest& request, RequestContext& ctx) {
  const auto& owner = *ctx.principal;
  unsigned version = ctx.request.version();
  if (!request.async) {
    StatementRequest r = request;
    if (r.query_id.empty()) r.query_id = RandomHex(12);
    std::shared_ptr<audit::Receipt> receipt;
    auto s = Execute(r, owner, version, ctx.client_gone, &receipt);
    {
      std::lock_guard<std::mutex> lock(mu_);
      // Only a result with more pages is kept for a synchronous caller.
      auto it = stored_.find(KeyOf(owner, s->id));
      if (it != stored_.end() && (s->error || !s->result || s->result->pages() <= 1)) stored_.erase(it);
    }
    if (receipt) {
      // The worker moves on; the answer (and the kept pages) wait for the audit record.
      ctx.send_after = [receipt, s](std::function<void(std::exception_ptr)> send) {
        receipt->Then([s, send = std::move(send)](std::exception_ptr error) {
          if (!error) s->released = true;
          send(error);
        });
      };
    }
    return s->PageResponse(0, version);
  }
  std::string id = runner_.Reserve(owner, request.query_id);
  StatementRequest r = request;
  r.query_id = id;
  bool queued =
      async_pool_.Submit([this, r, owner, version](size_t) { Execute(r, owner, version, nullptr); });
  if (!queued) {
    runner_.Release(owner, id);
    throw Error::ResourceExhausted("too many asynchronous statements are queued: try again shortly");
  }
  return JsonResponse(http::status::accepted, {{"query_id", id}, {"state", "queued"}}, version);
}

std::shared_ptr<Statements::Stored> Statements::FindStored(const identity::Principal& caller,
                                                           const std::string& id) {
  auto it = stored_.find(KeyOf(caller, id));
  return it == stored_.end() || !it->second->released ? nullptr : it->second;
}

Response Statements::Get(const std::string& id, const identity::Principal& caller, unsigned version) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto s = FindStored(caller, id)) {
      Response res = s->PageResponse(0, version);
      res.set("X-Tarn-Query-State", s->state);
      return res;
    }
  }
  auto info = runner_.Find(caller, id);  // kNotFound for what the caller may not see
  return JsonResponse(http::status::ok,
                      {{"query_id", info.run_id},
                       {"state", session::RunStateName(info.state)},
                       {"elapsed_s", info.elapsed_s}},
                      version);
}

Response Statements::Page(const std::string& id, const std::string& page, const identity::Principal& caller,
                          unsigned version) {
  size_t n = 0;
  if (page.empty() || page.size() > 9 || !std::all_of(page.begin(), page.end(), ::isdigit))
    throw Error::InvalidArgument("the page must be a number: 1, 2, ...");
  n = std::stoul(page);
  std::lock_guard<std::mutex> lock(mu_);
  auto s = FindStored(caller, id);
  if (!s)
    throw Error::NotFound("query {} has no stored result (results are kept 10 minutes)", id.substr(0, 64));
  size_t pages = s->result ? s->result->pages() : 1;
  if (n >= std::max<size_t>(pages, 1)) throw Error::NotFound("query {} has no page {}", id.substr(0, 64), n);
  return s->PageResponse(n, version);
}

Response Statements::Cancel(const std::string& id, const identity::Principal& caller, unsigned version) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = stored_.find(KeyOf(caller, id));
    if (it != stored_.end()) {  // finished: its result is dropped
      std::string state = it->second->state;
      stored_.erase(it);
      return JsonResponse(http::status::ok, {{"query_id", id}, {"state", state}}, version);
    }
  }
  auto state = runner_.Cancel(caller, id);
  bool running = state == session::RunState::kRunning || state == session::RunState::kQueued;
  return JsonResponse(http::status::ok,
                      {{"query_id", id}, {"state", running ? "cancelling" : session::RunStateName(state)}},
                      version);
}

Response Statements::List(const identity::Principal& caller, unsigned version) {
  nlohmann::json list = nlohmann::json::array();
  for (auto& r : runner_.List(caller)) {
    list.push_back({{"query_id", r.run_id},
                    {"user", r.user},
                    {"state", session::RunStateName(r.state)},
                    {"elapsed_s", r.elapsed_s},
                    {"origin", r.origin.Json()},
                    {"sql", r.sql}});
  }
  return JsonResponse(http::status::ok, {{"queries", list}}, version);
}

void Statements::CancelAll() {
  runner_.CancelAll();
}

void Statements::ForgetUser(const std::string& user, const std::string& issuer) {
  runner_.ForgetUser(user, issuer);
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = stored_.begin(); it != stored_.end();) {
    bool theirs = it->second->owner.user == user && it->second->owner.issuer == issuer;
    it = theirs ? stored_.erase(it) : std::next(it);
  }
}

}  // namespace tarn::server
