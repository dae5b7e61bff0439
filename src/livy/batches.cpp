#include "livy/batches.h"

#include "common/error.h"

namespace tarn::livy {

int64_t BatchStore::Add(const std::string& job_run_id) {
  auto rows = store_.Query("INSERT INTO livy_batches (job_run_id) VALUES (?) RETURNING id", {job_run_id});
  return rows.at(0).Int(0);
}

std::optional<std::string> BatchStore::RunOf(int64_t id) {
  auto rows = store_.Query("SELECT job_run_id FROM livy_batches WHERE id = ?", {id});
  if (rows.empty()) return std::nullopt;
  return rows[0].Str(0);
}

std::vector<std::pair<int64_t, std::string>> BatchStore::All() {
  std::vector<std::pair<int64_t, std::string>> out;
  for (auto& r : store_.Query("SELECT id, job_run_id FROM livy_batches ORDER BY id"))
    out.emplace_back(r.Int(0), r.Str(1));
  return out;
}

const char* BatchState(jobs::RunState state) {
  using S = jobs::RunState;
  switch (state) {
    case S::kRunning: return "running";
    case S::kCancelling: return "shutting_down";
    case S::kSuccess: return "success";
    case S::kFailed: return "dead";
    case S::kCancelled: return "killed";
    default: return "starting";  // submitted, pending, queued, scheduled
  }
}

nlohmann::json BatchJson(int64_t id, const jobs::JobRun& run, const std::vector<std::string>& log) {
  size_t first = log.size() > 10 ? log.size() - 10 : 0;
  return {{"id", id},
          {"name", run.name.empty() ? nlohmann::json(nullptr) : nlohmann::json(run.name)},
          {"owner", run.principal.user},
          {"proxyUser", run.principal.user},
          {"state", BatchState(run.state)},
          {"appId", run.id},
          {"appInfo", {{"driverLogUrl", nullptr}, {"sparkUiUrl", nullptr}, {"executorLogUrls", nullptr}}},
          {"log", std::vector<std::string>(log.begin() + static_cast<std::ptrdiff_t>(first), log.end())}};
}

std::vector<std::string> BatchLog(jobs::JobStore& store, const std::string& job_run_id) {
  std::vector<std::string> out;
  for (auto& l : store.Logs(job_run_id, 0, 10000))
    out.push_back(l.Json().value("at", "") + " " + l.kind + ": " + l.message);
  return out;
}

}  // namespace tarn::livy
