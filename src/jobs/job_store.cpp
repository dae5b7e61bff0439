#include "jobs/job_store.h"

#include <algorithm>

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <set>

#include "audit/audit_log.h"
#include "catalog/catalog.h"
#include "common/error.h"
#include "common/util.h"

namespace tarn::jobs {

namespace {

constexpr std::array<const char*, 9> kStateNames = {
    "SUBMITTED", "PENDING", "QUEUED", "SCHEDULED", "RUNNING", "SUCCESS", "FAILED", "CANCELLING", "CANCELLED"};

const char* kRunColumns =
    "id, application_id, name, principal_json, client_token, job_json, timeout_minutes, state, "
    "state_details, "
    "attempt, statements_total, statements_done, rows_returned, created_ms, updated_ms, started_ms, "
    "ended_ms, "
    "max_attempts, memory_bytes, threads, usage_json, result_rows, schedule_id, tags_json";

// What a run reserves of its application's maximum_capacity when it asks for nothing.
constexpr int64_t kDefaultRunMemory = int64_t{1} << 30;
constexpr int64_t kDefaultRunThreads = 1;

}  // namespace

std::string Iso(int64_t ms) {
  auto t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

nlohmann::json OptIso(const std::optional<int64_t>& ms) {
  return ms ? nlohmann::json(Iso(*ms)) : nlohmann::json(nullptr);
}

nlohmann::json PrincipalJson(const identity::Principal& p) {
  return {{"user", p.user},       {"groups", p.groups},
          {"issuer", p.issuer},   {"admin", p.admin},
          {"service", p.service}, {"credentials_since_ms", p.credentials_since_ms},
          {"role", p.role},       {"execution_policy", p.execution_policy}};
}

nlohmann::json CapacityJson(int64_t memory_bytes, int64_t threads) {
  if (!memory_bytes && !threads) return nullptr;
  nlohmann::json j = nlohmann::json::object();
  if (memory_bytes) j["memory"] = memory_bytes;
  if (threads) j["threads"] = threads;
  return j;
}

identity::Principal PrincipalFrom(const std::string& text) {
  auto j = nlohmann::json::parse(text);
  identity::Principal p;
  p.user = j.at("user");
  p.groups = j.at("groups").get<std::vector<std::string>>();
  p.issuer = j.at("issuer");
  p.admin = j.at("admin");
  p.service = j.at("service");
  p.credentials_since_ms = j.at("credentials_since_ms");
  p.role = j.value("role", "");
  p.execution_policy = j.value("execution_policy", std::vector<std::string>{});
  return p;
}

const char* RunStateName(RunState state) {
  return kStateNames.at(static_cast<size_t>(state));
}

RunState ParseRunState(const std::string& name) {
  for (size_t i = 0; i < kStateNames.size(); i++) {
    if (name == kStateNames[i]) return static_cast<RunState>(i);
  }
  throw Error::InvalidArgument(
      "unknown job run state '{}': use one of SUBMITTED, PENDING, QUEUED, SCHEDULED, "
      "RUNNING, SUCCESS, FAILED, CANCELLING, CANCELLED",
      name.substr(0, 32));
}

bool IsTerminal(RunState state) {
  return state == RunState::kSuccess || state == RunState::kFailed || state == RunState::kCancelled;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

nlohmann::json Executor::Json() const {
  if (!slurm()) return {{"type", type}};
  nlohmann::json j{{"type", type}, {"min_nodes", min_nodes}, {"max_nodes", max_nodes}};
  auto optional = [&](const char* k, const std::string& v) {
    j[k] = v.empty() ? nlohmann::json(nullptr) : nlohmann::json(v);
  };
  optional("partition", partition);
  optional("account", account);
  optional("qos", qos);
  j["time_limit_minutes"] =
      time_limit_minutes > 0 ? nlohmann::json(time_limit_minutes) : nlohmann::json(nullptr);
  j["buckets"] = buckets > 0 ? nlohmann::json(buckets) : nlohmann::json(nullptr);
  return j;
}

nlohmann::json Application::Json() const {
  return {{"id", id},
          {"name", name},
          {"state", state},
          {"max_concurrent_runs", max_concurrent_runs},
          {"queue_timeout_minutes", queue_timeout_minutes},
          {"default_timeout_minutes", default_timeout_minutes},
          {"maximum_capacity", CapacityJson(max_memory_bytes, max_threads)},
          {"executor", executor.Json()},
          {"created_by", created_by},
          {"created_at", created_at},
          {"updated_at", updated_at}};
}

nlohmann::json JobRun::Json() const {
  nlohmann::json j = {
      {"job_run_id", id},
      {"application_id", application_id},
      {"name", name},
      {"state", RunStateName(state)},
      {"state_details", state_details},
      {"created_by", principal.user},
      {"execution_role", principal.role.empty() ? nlohmann::json(nullptr) : nlohmann::json(principal.role)},
      {"execution_policy", principal.execution_policy},
      {"issuer", principal.issuer},
      {"client_token", client_token ? nlohmann::json(*client_token) : nlohmann::json(nullptr)},
      {"job", job},
      {"tags", tags},
      {"capacity", {{"memory", memory_bytes}, {"threads", threads}}},
      {"schedule_id", schedule_id ? nlohmann::json(*schedule_id) : nlohmann::json(nullptr)},
      {"result", result_rows ? nlohmann::json({{"rows", *result_rows}}) : nlohmann::json(nullptr)},
      {"timeout_minutes", timeout_minutes},
      {"attempt", attempt},
      {"retry_policy", {{"max_attempts", max_attempts}}},
      {"created_at", Iso(created_ms)},
      {"updated_at", Iso(updated_ms)},
      {"started_at", OptIso(started_ms)},
      {"ended_at", OptIso(ended_ms)},
      {"progress",
       {{"statements_total", statements_total},
        {"statements_done", statements_done},
        {"rows_returned", rows_returned},
        {"rows_written", usage.value("rows_written", 0)}}}};
  // A run that has not run yet measured nothing: null, never a made-up 0.
  auto measured = [&](const char* key) { return usage.contains(key) ? usage[key] : nlohmann::json(nullptr); };
  j["resource_utilization"] = {{"cpu_seconds", measured("cpu_seconds")},
                               {"peak_memory_bytes", measured("peak_memory_bytes")},
                               {"bytes_scanned", usage.value("bytes_scanned", 0)},
                               {"rows_written", usage.value("rows_written", 0)}};
  j["queued_duration_ms"] = started_ms ? nlohmann::json(*started_ms - created_ms) : nlohmann::json(nullptr);
  j["total_execution_duration_seconds"] =
      started_ms ? nlohmann::json(((ended_ms ? *ended_ms : NowMs()) - *started_ms) / 1000.0)
                 : nlohmann::json(0);
  return j;
}

nlohmann::json LogLine::Json() const {
  return {{"line", line}, {"at", Iso(at_ms)}, {"kind", kind}, {"message", message}};
}

// --- runs -----------------------------------------------------------------------------

JobRun JobStore::RunFrom(const store::Row& r) {
  JobRun run;
  run.id = r.Str(0);
  run.application_id = r.Str(1);
  run.name = r.Str(2);
  run.principal = PrincipalFrom(r.Str(3));
  if (!r.IsNull(4)) run.client_token = r.Str(4);
  run.job = nlohmann::json::parse(r.Str(5));
  run.timeout_minutes = r.Int(6);
  run.state = ParseRunState(r.Str(7));
  run.state_details = r.Str(8);
  run.attempt = r.Int(9);
  run.statements_total = r.Int(10);
  run.statements_done = r.Int(11);
  run.rows_returned = r.Int(12);
  run.created_ms = r.Int(13);
  run.updated_ms = r.Int(14);
  run.started_ms = r.OptInt(15);
  run.ended_ms = r.OptInt(16);
  run.max_attempts = r.Int(17);
  run.memory_bytes = r.Int(18);
  run.threads = r.Int(19);
  run.usage = nlohmann::json::parse(r.Str(20));
  run.result_rows = r.OptInt(21);
  if (!r.IsNull(22)) run.schedule_id = r.Str(22);
  run.tags = nlohmann::json::parse(r.Str(23));
  return run;
}

JobRun JobStore::Submit(const std::string& application_id, const JobSpec& spec,
                        const identity::Principal& principal, bool& created) {
  auto app = GetApplication(application_id);
  int64_t timeout = spec.timeout_minutes >= 0 ? spec.timeout_minutes : app.default_timeout_minutes;
  nlohmann::json request = {{"application_id", app.id},
                            {"name", spec.name},
                            {"job", spec.job},
                            {"timeout_minutes", timeout},
                            {"max_attempts", spec.max_attempts},
                            {"execution_role", spec.execution_role},
                            {"execution_policy", spec.execution_policy},
                            {"capacity", {spec.memory_bytes, spec.threads}},
                            {"tags", spec.tags}};
  int64_t memory = spec.memory_bytes ? spec.memory_bytes : kDefaultRunMemory;
  int64_t threads = spec.threads ? spec.threads : kDefaultRunThreads;
  if ((app.max_memory_bytes && memory > app.max_memory_bytes) ||
      (app.max_threads && threads > app.max_threads)) {
    throw Error::InvalidArgument(
        "field 'capacity': the run asks for {} bytes and {} thread(s), more than application {}'s "
        "maximum_capacity ({}): ask for less",
        memory, threads, app.name, CapacityJson(app.max_memory_bytes, app.max_threads).dump());
  }
  std::string hash = audit::Sha256Hex(request.dump());
  identity::Principal runner = principal;  // what the run executes as
  runner.role = spec.execution_role;
  runner.execution_policy = spec.execution_policy;
  std::string id;
  created = false;
  store_.Transaction([&] {
    if (spec.client_token) {
      auto rows =
          store_.Query("SELECT id, request_hash FROM job_runs WHERE principal_key = ? AND client_token = ?",
                       {principal.Key(), *spec.client_token});
      if (!rows.empty()) {
        if (rows[0].Str(1) != hash) {
          throw Error::Conflict("client_token {} was used for another request (job run {})",
                                *spec.client_token, rows[0].Str(0));
        }
        id = rows[0].Str(0);
        return;
      }
    }
    if (app.state != "STARTED") {
      throw Error::Conflict("application {} is {}: start it before submitting", app.name, app.state);
    }
    id = "jr-" + RandomHex(10);
    int64_t now = NowMs();
    store_.Execute(
        std::string(
            "INSERT INTO job_runs (id, application_id, name, principal_key, created_by, issuer, "
            "principal_json, client_token, request_hash, job_json, timeout_minutes, state, "
            "state_details, attempt, max_attempts, statements_total, statements_done, "
            "rows_returned, created_ms, updated_ms, memory_bytes, threads, schedule_id, tags_json) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'QUEUED', '', 0, ?, 0, 0, 0, ?, ?, ?, ?, ?, ?)"),
        {id, app.id, spec.name, principal.Key(), principal.user, principal.issuer,
         PrincipalJson(runner).dump(),
         spec.client_token ? store::Param(*spec.client_token) : store::Param(nullptr), hash, spec.job.dump(),
         timeout, spec.max_attempts, now, now, memory, threads,
         spec.schedule_id ? store::Param(*spec.schedule_id) : store::Param(nullptr), spec.tags.dump()});
    for (auto state : {RunState::kSubmitted, RunState::kPending, RunState::kQueued})
      LogLocked(id, "state", RunStateName(state), now);
    AddSteps(id, spec.steps);
    created = true;
    Emit("job_run", id, app.id, principal.user, principal.issuer,
         {{"state", "QUEUED"}, {"state_details", ""}, {"name", spec.name}});
  });
  return GetRun(id);
}

JobRun JobStore::GetRun(const std::string& id) {
  auto rows = store_.Query(std::string("SELECT ") + kRunColumns + " FROM job_runs WHERE id = ?", {id});
  if (rows.empty()) throw Error::NotFound("job run {} does not exist", id.substr(0, 64));
  return RunFrom(rows[0]);
}

std::vector<JobRun> JobStore::ListRuns(const std::string& application_id, const identity::Principal* owner,
                                       std::optional<RunState> state, int64_t limit) {
  std::string sql = std::string("SELECT ") + kRunColumns + " FROM job_runs WHERE application_id = ?";
  std::vector<store::Param> params = {application_id};
  if (owner) {
    sql += " AND created_by = ? AND issuer = ?";
    params.emplace_back(std::in_place_type<std::string>, owner->user);
    params.emplace_back(std::in_place_type<std::string>, owner->issuer);
  }
  if (state) {
    sql += " AND state = ?";
    params.emplace_back(std::in_place_type<std::string>, RunStateName(*state));
  }
  sql += " ORDER BY seq DESC LIMIT ?";
  params.emplace_back(std::in_place_type<int64_t>, limit);
  std::vector<JobRun> out;
  for (auto& r : store_.Query(sql, params)) out.push_back(RunFrom(r));
  return out;
}

bool JobStore::HasQueued() {
  return !store_.Query("SELECT 1 FROM job_runs WHERE state = 'QUEUED' LIMIT 1").empty();
}

std::optional<JobRun> JobStore::ClaimNext(const std::string& owner, int64_t lease_ms) {
  if (!HasQueued()) return std::nullopt;
  std::optional<std::string> id;
  store_.Transaction([&] {
    // The head of each started application's queue (runs start in submission order),
    // if a slot is free and its capacity fits beside what the application runs.
    auto rows = store_.Query(
        "SELECT r.id FROM job_runs r JOIN applications a ON a.id = r.application_id "
        "WHERE r.state = 'QUEUED' AND a.state = 'STARTED' AND NOT EXISTS (SELECT 1 FROM job_runs o WHERE "
        "o.application_id = r.application_id AND o.state = 'QUEUED' AND o.seq < r.seq) AND "
        "(SELECT count(*) FROM job_runs x WHERE x.application_id = r.application_id AND x.state IN "
        "('SCHEDULED', 'RUNNING', 'CANCELLING')) < a.max_concurrent_runs AND (a.max_memory_bytes = 0 OR "
        "r.memory_bytes + (SELECT coalesce(sum(x.memory_bytes), 0) FROM job_runs x WHERE x.application_id = "
        "r.application_id AND x.state IN ('SCHEDULED', 'RUNNING', 'CANCELLING')) <= a.max_memory_bytes) AND "
        "(a.max_threads = 0 OR r.threads + (SELECT coalesce(sum(x.threads), 0) FROM job_runs x WHERE "
        "x.application_id = r.application_id AND x.state IN ('SCHEDULED', 'RUNNING', 'CANCELLING')) <= "
        "a.max_threads) ORDER BY r.seq LIMIT 1");
    if (rows.empty()) return;
    int64_t now = NowMs();
    if (store_.Execute("UPDATE job_runs SET state = 'RUNNING', attempt = attempt + 1, started_ms = ?, "
                       "updated_ms = ?, lease_owner = ?, lease_expires_ms = ? WHERE id = ? AND state = "
                       "'QUEUED'",
                       {now, now, owner, now + lease_ms, rows[0].Str(0)}) != 1) {
      return;
    }
    id = rows[0].Str(0);
    store_.Execute(
        "INSERT INTO job_run_attempts (run_id, attempt, state, state_details, started_ms) SELECT id, "
        "attempt, 'RUNNING', '', ? FROM job_runs WHERE id = ?",
        {now, *id});
    LogLocked(*id, "state", RunStateName(RunState::kScheduled), now);
    LogLocked(*id, "state", RunStateName(RunState::kRunning), now);
  });
  if (!id) return std::nullopt;
  auto run = GetRun(*id);
  Emit("job_run", run.id, run.application_id, run.principal.user, run.principal.issuer,
       {{"state", "RUNNING"}, {"state_details", ""}, {"attempt", run.attempt}});
  return run;
}

bool JobStore::SetDetails(const std::string& id, const std::string& details) {
  auto rows = store_.Query(
      "UPDATE job_runs SET state_details = ?, updated_ms = ? WHERE id = ? AND state = 'RUNNING' "
      "RETURNING application_id, created_by, issuer, attempt",
      {details, NowMs(), id});
  if (rows.size() != 1) return false;
  Emit("job_run", id, rows[0].Str(0), rows[0].Str(1), rows[0].Str(2),
       {{"state", "RUNNING"}, {"state_details", details}, {"attempt", rows[0].Int(3)}});
  return true;
}

bool JobStore::Transition(const std::string& id, const std::vector<RunState>& from, RunState to,
                          const std::string& details) {
  bool moved = false;
  store_.Transaction([&] {
    std::string in;
    int64_t now = NowMs();
    // ended_ms is stamped (with now) only by a move into a terminal state.
    std::vector<store::Param> params = {std::string(RunStateName(to)), details, now,
                                        IsTerminal(to) ? store::Param(now) : store::Param(nullptr), id};
    for (auto s : from) {
      in += in.empty() ? "?" : ", ?";
      params.emplace_back(std::in_place_type<std::string>, RunStateName(s));
    }
    auto rows = store_.Query(
        "UPDATE job_runs SET state = ?, state_details = ?, updated_ms = ?, ended_ms = coalesce(?, ended_ms) "
        "WHERE id = ? AND state IN (" +
            in + ") RETURNING application_id, created_by, issuer, attempt",
        params);
    moved = rows.size() == 1;
    if (moved) {
      Emit("job_run", id, rows[0].Str(0), rows[0].Str(1), rows[0].Str(2),
           {{"state", RunStateName(to)}, {"state_details", details}, {"attempt", rows[0].Int(3)}});
      if (IsTerminal(to)) {
        EndAttempt(id, to, details, now);
        catalog::Catalog::ForgetCommitKeys(store_, id);  // no attempt will rerun its statements
      }
      LogLocked(id, "state", std::string(RunStateName(to)) + (details.empty() ? "" : ": " + details), now);
    }
  });
  return moved;
}

void JobStore::EndAttempt(const std::string& id, RunState state, const std::string& details, int64_t now) {
  store_.Execute(
      "UPDATE job_run_attempts SET state = ?, state_details = ?, ended_ms = ? WHERE run_id = ? AND "
      "ended_ms IS NULL",
      {std::string(RunStateName(state)), details, now, id});
}

bool JobStore::Retry(const std::string& id, const std::string& error) {
  bool moved = false;
  store_.Transaction([&] {
    int64_t now = NowMs();
    auto rows = store_.Query(
        "UPDATE job_runs SET state = 'QUEUED', state_details = ?, updated_ms = ? WHERE id = ? AND state = "
        "'RUNNING' AND attempt < max_attempts RETURNING application_id, created_by, issuer, attempt",
        {"attempt failed, retrying: " + error, now, id});
    moved = rows.size() == 1;
    if (!moved) return;
    Emit("job_run", id, rows[0].Str(0), rows[0].Str(1), rows[0].Str(2),
         {{"state", "QUEUED"},
          {"state_details", "attempt failed, retrying: " + error},
          {"attempt", rows[0].Int(3)}});
    EndAttempt(id, RunState::kFailed, error, now);
    LogLocked(id, "state", "QUEUED: attempt failed, retrying", now);
  });
  return moved;
}

std::vector<Attempt> JobStore::Attempts(const std::string& id) {
  std::vector<Attempt> out;
  for (auto& r :
       store_.Query("SELECT attempt, state, state_details, started_ms, ended_ms FROM job_run_attempts "
                    "WHERE run_id = ? ORDER BY attempt",
                    {id})) {
    out.push_back({r.Int(0), r.Str(1), r.Str(2), r.Int(3), r.OptInt(4)});
  }
  return out;
}

std::vector<std::tuple<std::string, std::string, int64_t>> JobStore::CountByState() {
  std::vector<std::tuple<std::string, std::string, int64_t>> out;
  for (auto& r : store_.Query("SELECT application_id, state, count(*) FROM job_runs GROUP BY application_id, "
                              "state ORDER BY application_id, state")) {
    out.emplace_back(r.Str(0), r.Str(1), r.Int(2));
  }
  return out;
}

nlohmann::json Attempt::Json() const {
  return {{"attempt", attempt},
          {"state", state},
          {"state_details", state_details},
          {"started_at", Iso(started_ms)},
          {"ended_at", OptIso(ended_ms)}};
}

int64_t JobStore::ExpireQueued(int64_t now_ms) {
  auto rows = store_.Query(
      "SELECT r.id FROM job_runs r JOIN applications a ON a.id = r.application_id WHERE r.state = 'QUEUED' "
      "AND "
      "r.created_ms + a.queue_timeout_minutes * 60000 < ?",
      {now_ms});
  int64_t n = 0;
  for (auto& r : rows) n += Transition(r.Str(0), {RunState::kQueued}, RunState::kCancelled, "queue timeout");
  return n;
}

int64_t JobStore::Heartbeat(const std::string& owner, int64_t lease_ms) {
  return store_.Execute(
      "UPDATE job_runs SET lease_expires_ms = ? WHERE lease_owner = ? AND state IN ('SCHEDULED', 'RUNNING', "
      "'CANCELLING')",
      {NowMs() + lease_ms, owner});
}

int64_t JobStore::Recover(const std::optional<std::string>& stale_prefix, int64_t now_ms) {
  int64_t n = 0;
  std::string sql =
      "SELECT id, state FROM job_runs WHERE state IN ('SCHEDULED', 'RUNNING', 'CANCELLING') AND "
      "(lease_expires_ms IS NULL OR lease_expires_ms < ?";
  std::vector<store::Param> params = {now_ms};
  if (stale_prefix) {
    sql += " OR substr(lease_owner, 1, ?) = ?";
    params.emplace_back(std::in_place_type<int64_t>, static_cast<int64_t>(stale_prefix->size()));
    params.emplace_back(std::in_place_type<std::string>, *stale_prefix);
  }
  for (auto& r : store_.Query(sql + ")", params)) {
    // A step it was running did not end: INTERRUPTED (a retry runs it again).
    store_.Execute(
        "UPDATE job_run_steps SET state = 'INTERRUPTED', state_details = 'the server stopped', ended_ms = ? "
        "WHERE run_id = ? AND state = 'RUNNING'",
        {now_ms, r.Str(0)});
    auto state = ParseRunState(r.Str(1));
    if (state == RunState::kCancelling) {
      n += Transition(r.Str(0), {state}, RunState::kCancelled, "cancelled (the server stopped meanwhile)");
    } else if (state == RunState::kRunning && Retry(r.Str(0), "interrupted")) {
      n++;
    } else {
      n += Transition(r.Str(0), {state}, RunState::kFailed, "interrupted");
    }
  }
  return n;
}

void JobStore::Progress(const std::string& id, int64_t statements_total, int64_t statements_done,
                        int64_t rows) {
  store_.Execute(
      "UPDATE job_runs SET statements_total = ?, statements_done = ?, rows_returned = ?, updated_ms = ? "
      "WHERE id = ?",
      {statements_total, statements_done, rows, NowMs(), id});
}

void JobStore::Log(const std::string& id, const std::string& kind, const std::string& message,
                   int64_t at_ms) {
  store_.Transaction([&] { LogLocked(id, kind, message, at_ms > 0 ? at_ms : NowMs()); });
}

void JobStore::LogLocked(const std::string& id, const std::string& kind, const std::string& message,
                         int64_t at) {
  // The run's row is the counter: concurrent writers of one run's log (its worker, a
  // cancel) take turns on that row, so line numbers never collide on either backend.
  auto rows =
      store_.Query("UPDATE job_runs SET log_lines = log_lines + 1 WHERE id = ? RETURNING log_lines", {id});
  if (rows.empty()) throw Error::NotFound("job run {} does not exist", id.substr(0, 64));
  store_.Execute("INSERT INTO job_run_log (run_id, line, at_ms, kind, message) VALUES (?, ?, ?, ?, ?)",
                 {id, rows[0].Int(0), at, kind, message.substr(0, 4096)});
}

std::vector<LogLine> JobStore::Logs(const std::string& id, int64_t from, int64_t size) {
  std::vector<LogLine> out;
  for (auto& r :
       store_.Query("SELECT line, at_ms, kind, message FROM job_run_log WHERE run_id = ? AND line > ? "
                    "ORDER BY line LIMIT ?",
                    {id, from, size})) {
    out.push_back({r.Int(0), r.Int(1), r.Str(2), r.Str(3)});
  }
  return out;
}

int64_t JobStore::LogLines(const std::string& id) {
  auto rows = store_.Query("SELECT log_lines FROM job_runs WHERE id = ?", {id});
  return rows.empty() ? 0 : rows[0].Int(0);
}

}  // namespace tarn::jobs
