// JobStore and JobRun: a run's steps, its events and its resource use (the rest is
// in job_store.cpp).
#include <fmt/format.h>

#include "jobs/job_store.h"

namespace tarn::jobs {

std::vector<StepSpec> JobRun::Steps() const {
  if (!job.contains("steps"))
    return {{"", script(), "CANCEL_AND_WAIT", job.value("partition_by", nlohmann::json())}};
  std::vector<StepSpec> out;
  for (auto& s : job["steps"])
    out.push_back({s.value("name", ""), s["job"].value("script", ""), s.value("action_on_failure", ""),
                   s["job"].value("partition_by", nlohmann::json())});
  return out;
}

nlohmann::json StepRecord::Json() const {
  return {{"step", step},
          {"name", name},
          {"action_on_failure", action_on_failure},
          {"state", state},
          {"state_details", state_details},
          {"attempt", attempt},
          {"started_at", OptIso(started_ms)},
          {"ended_at", OptIso(ended_ms)}};
}

void JobStore::AddSteps(const std::string& id, const std::vector<StepSpec>& steps) {
  for (size_t i = 0; i < steps.size(); i++) {
    store_.Execute(
        "INSERT INTO job_run_steps (run_id, step, name, action_on_failure, state, state_details, attempt) "
        "VALUES (?, ?, ?, ?, 'PENDING', '', 0)",
        {id, static_cast<int64_t>(i + 1), steps[i].name, steps[i].action_on_failure});
  }
}

std::vector<StepRecord> JobStore::Steps(const std::string& id) {
  std::vector<StepRecord> out;
  for (auto& r : store_.Query("SELECT step, name, action_on_failure, state, state_details, attempt, "
                              "started_ms, ended_ms FROM job_run_steps WHERE run_id = ? ORDER BY step",
                              {id})) {
    out.push_back({r.Int(0), r.Str(1), r.Str(2), r.Str(3), r.Str(4), r.Int(5), r.OptInt(6), r.OptInt(7)});
  }
  return out;
}

void JobStore::SetStep(const std::string& id, int64_t step, const std::string& state,
                       const std::string& details, int64_t attempt) {
  int64_t now = NowMs();
  std::string times = state == "RUNNING"   ? "started_ms = ?, ended_ms = NULL"
                      : state == "PENDING" ? "started_ms = NULL, ended_ms = NULL"
                                           : "ended_ms = ?";
  std::vector<store::Param> params = {state, details.substr(0, 2000), attempt};
  if (state != "PENDING") params.emplace_back(std::in_place_type<int64_t>, now);
  params.emplace_back(std::in_place_type<std::string>, id);
  params.emplace_back(std::in_place_type<int64_t>, step);
  store_.Execute("UPDATE job_run_steps SET state = ?, state_details = ?, attempt = ?, " + times +
                     " WHERE run_id = ? AND step = ?",
                 params);
  if (events_) {
    auto run = GetRun(id);
    Emit(
        "job_run_step", id, run.application_id, run.principal.user, run.principal.issuer,
        {{"step", step}, {"state", state}, {"state_details", details.substr(0, 2000)}, {"attempt", attempt}});
  }
  LogLocked(id, "step", fmt::format("step {} {}{}", step, state, details.empty() ? "" : ": " + details), now);
}

void JobStore::Emit(const std::string& type, const std::string& run_id, const std::string& application_id,
                    const std::string& user, const std::string& issuer, nlohmann::json data) {
  if (!events_) return;
  data["job_run_id"] = run_id;
  data["application_id"] = application_id;
  data["at"] = Iso(NowMs());
  events_->push_back({0, type, application_id, user, issuer, std::move(data)});
}

void JobStore::RecordUsage(const std::string& id, const nlohmann::json& usage,
                           std::optional<int64_t> result_rows) {
  store_.Execute("UPDATE job_runs SET usage_json = ?, result_rows = ? WHERE id = ?",
                 {usage.dump(), result_rows ? store::Param(*result_rows) : store::Param(nullptr), id});
}

}  // namespace tarn::jobs
