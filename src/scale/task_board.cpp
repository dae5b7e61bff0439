// TaskBoard (slurm_executor.h): the tasks handed out to workers and their reports.
#include "scale/slurm_executor.h"

#include "common/error.h"

namespace tarn::scale {

void TaskBoard::Post(const std::string& run, const std::string& task, nlohmann::json body) {
  std::lock_guard lock(mu_);
  entries_[{run, task}] = {std::move(body), std::nullopt};
}

std::optional<nlohmann::json> TaskBoard::Task(const std::string& run, const std::string& task) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find({run, task});
  if (it == entries_.end()) return std::nullopt;
  return it->second.task;
}

void TaskBoard::Report(const std::string& run, const std::string& task, nlohmann::json report) {
  std::lock_guard lock(mu_);
  auto it = entries_.find({run, task});
  if (it == entries_.end()) throw Error::NotFound("task {} of run {} has ended", task, run);
  it->second.report = std::move(report);
}

std::optional<nlohmann::json> TaskBoard::TakeReport(const std::string& run, const std::string& task) {
  std::lock_guard lock(mu_);
  auto it = entries_.find({run, task});
  if (it == entries_.end() || !it->second.report) return std::nullopt;
  auto out = std::move(*it->second.report);
  it->second.report.reset();
  return out;
}

void TaskBoard::Remove(const std::string& run, const std::string& task) {
  std::lock_guard lock(mu_);
  entries_.erase({run, task});
}

}  // namespace tarn::scale
