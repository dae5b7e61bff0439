#include "jobs/schedules.h"

#include <set>

#include "common/error.h"
#include "common/util.h"
#include "jobs/cron.h"
#include "jobs/job_store.h"

namespace tarn::jobs {

namespace {

const char* kColumns =
    "id, application_id, name, cron, timezone, overlap, body_json, principal_json, next_fire_ms, "
    "last_fire_ms, last_run_id, created_ms";

std::string Text(const nlohmann::json& body, const char* name, const std::string& fallback, size_t max) {
  if (!body.contains(name)) return fallback;
  if (!body[name].is_string() || body[name].get<std::string>().size() > max)
    throw Error::InvalidArgument("field '{}' must be a string of at most {} characters", name, max);
  return body[name];
}

}  // namespace

nlohmann::json Schedule::Json() const {
  return {{"schedule_id", id},
          {"application_id", application_id},
          {"name", name},
          {"cron", cron},
          {"timezone", timezone},
          {"overlap", overlap},
          {"job_run", body},
          {"created_by", principal.user},
          {"created_at", Iso(created_ms)},
          {"next_fire_at", OptIso(next_fire_ms)},
          {"last_fire_at", OptIso(last_fire_ms)},
          {"last_job_run_id", last_run_id ? nlohmann::json(*last_run_id) : nlohmann::json(nullptr)}};
}

Schedule ParseSchedule(const nlohmann::json& body, const std::filesystem::path& lake_root,
                       const JobTypes& types) {
  if (!body.is_object()) throw Error::InvalidArgument("the schedule must be a JSON object");
  Schedule s;
  s.name = Text(body, "name", "", 256);
  if (!body.contains("cron"))
    throw Error::InvalidArgument("field 'cron' is required (e.g. \"0 6 * * MON-FRI\")");
  s.cron = Text(body, "cron", "", 256);
  s.timezone = Text(body, "timezone", "UTC", 64);
  s.overlap = Text(body, "overlap", "skip", 16);
  if (s.overlap != "skip" && s.overlap != "queue")
    throw Error::InvalidArgument("field 'overlap' must be \"skip\" or \"queue\"");
  try {
    CronSchedule::Parse(s.cron, s.timezone);
  } catch (const Error& e) {
    std::string what = e.what();
    throw Error::InvalidArgument("field '{}': {}", what.rfind("timezone", 0) == 0 ? "timezone" : "cron",
                                 what);
  }
  if (body.contains("client_token"))
    throw Error::InvalidArgument("field 'client_token' is not for schedules: each fire makes its own");
  nlohmann::json run = nlohmann::json::object();
  for (auto& [k, v] : body.items()) {
    if (k != "cron" && k != "timezone" && k != "overlap") run[k] = v;
  }
  ParseJobSpec(run, lake_root, types);  // checks the run's fields now, not at the first fire
  s.body = run;
  return s;
}

Schedule ScheduleStore::From(const store::Row& r) {
  Schedule s;
  s.id = r.Str(0);
  s.application_id = r.Str(1);
  s.name = r.Str(2);
  s.cron = r.Str(3);
  s.timezone = r.Str(4);
  s.overlap = r.Str(5);
  s.body = nlohmann::json::parse(r.Str(6));
  s.principal = PrincipalFrom(r.Str(7));
  s.next_fire_ms = r.OptInt(8);
  s.last_fire_ms = r.OptInt(9);
  if (!r.IsNull(10)) s.last_run_id = r.Str(10);
  s.created_ms = r.Int(11);
  return s;
}

Schedule ScheduleStore::Create(Schedule s, const identity::Principal& principal, int64_t now_ms) {
  s.id = "sch-" + RandomHex(8);
  s.principal = principal;
  s.created_ms = now_ms;
  s.next_fire_ms = CronSchedule::Parse(s.cron, s.timezone).NextAfter(now_ms);
  store_.Execute(
      std::string("INSERT INTO job_schedules (") + kColumns +
          ", principal_key, created_by, issuer) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {s.id, s.application_id, s.name, s.cron, s.timezone, s.overlap, s.body.dump(),
       PrincipalJson(principal).dump(),
       s.next_fire_ms ? store::Param(*s.next_fire_ms) : store::Param(nullptr), nullptr, nullptr, now_ms,
       principal.Key(), principal.user, principal.issuer});
  return s;
}

Schedule ScheduleStore::Get(const std::string& id) {
  auto rows = store_.Query(std::string("SELECT ") + kColumns + " FROM job_schedules WHERE id = ?", {id});
  if (rows.empty()) throw Error::NotFound("schedule {} does not exist", id.substr(0, 64));
  return From(rows[0]);
}

std::vector<Schedule> ScheduleStore::List(const std::string& application_id,
                                          const identity::Principal* owner) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM job_schedules WHERE application_id = ?";
  std::vector<store::Param> params = {application_id};
  if (owner) {
    sql += " AND created_by = ? AND issuer = ?";
    params.emplace_back(std::in_place_type<std::string>, owner->user);
    params.emplace_back(std::in_place_type<std::string>, owner->issuer);
  }
  std::vector<Schedule> out;
  for (auto& r : store_.Query(sql + " ORDER BY created_ms, id", params)) out.push_back(From(r));
  return out;
}

void ScheduleStore::Delete(const std::string& id) {
  if (store_.Execute("DELETE FROM job_schedules WHERE id = ?", {id}) != 1)
    throw Error::NotFound("schedule {} does not exist", id.substr(0, 64));
}

std::vector<std::string> ScheduleStore::Due(int64_t now_ms) {
  std::vector<std::string> out;
  for (auto& r : store_.Query(
           "SELECT id FROM job_schedules WHERE next_fire_ms IS NOT NULL AND next_fire_ms <= ? ORDER BY "
           "next_fire_ms, id",
           {now_ms})) {
    out.push_back(r.Str(0));
  }
  return out;
}

bool ScheduleStore::Fired(const std::string& id, int64_t due_ms, std::optional<int64_t> next_ms,
                          int64_t fired_ms, const std::optional<std::string>& run_id) {
  return store_.Execute(
             "UPDATE job_schedules SET next_fire_ms = ?, last_fire_ms = ?, last_run_id = coalesce(?, "
             "last_run_id) WHERE id = ? AND next_fire_ms = ?",
             {next_ms ? store::Param(*next_ms) : store::Param(nullptr), fired_ms,
              run_id ? store::Param(*run_id) : store::Param(nullptr), id, due_ms}) == 1;
}

}  // namespace tarn::jobs
