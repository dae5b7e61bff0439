#include "livy/batches.h"

#include <algorithm>
#include <cctype>
#include <set>

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

namespace {

using json = nlohmann::json;

// A Spark size ("512m", "4g", "2048"; no unit is MiB, as for spark.driver.memory) in
// bytes; kInvalidArgument naming `field` otherwise.
int64_t SparkSize(const json& v, const std::string& field) {
  static const std::pair<const char*, int> kUnits[] = {{"", 20},  {"b", 0},   {"k", 10}, {"kb", 10},
                                                       {"m", 20}, {"mb", 20}, {"g", 30}, {"gb", 30},
                                                       {"t", 40}, {"tb", 40}};
  std::string text = v.is_string() ? v.get<std::string>() : "";
  size_t digits = std::min(text.find_first_not_of("0123456789"), text.size());
  std::string unit = text.substr(digits);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (digits > 0 && digits <= 12) {
    int64_t n = std::stoll(text.substr(0, digits));
    for (auto& [name, shift] : kUnits) {
      if (unit == name && n <= (int64_t{1} << (62 - shift))) return n << shift;
    }
  }
  throw Error::InvalidArgument("field '{}' must be a size such as \"512m\" or \"4g\"", field);
}

// body[name], else conf[key], when either is set (the body's field wins, as in Livy).
const json* Setting(const json& body, const char* name, const json& conf, const char* key) {
  if (body.contains(name) && !body[name].is_null()) return &body[name];
  if (conf.contains(key)) return &conf[key];
  return nullptr;
}

}  // namespace

json BatchRunRequest(const json& body, json tags) {
  if (!body.contains("file") || !body["file"].is_string())
    throw Error::InvalidArgument("File is required: a SQL script under the lake's scripts/ folder");
  for (auto* f : {"args", "jars", "pyFiles", "files", "archives"}) {
    if (body.contains(f) && !body[f].is_null() && !body[f].empty())
      throw Error::InvalidArgument("field '{}' is not supported: a batch runs its SQL file as it is", f);
  }
  for (auto* f : {"className", "executorMemory", "executorCores", "numExecutors"}) {
    if (body.contains(f) && !body[f].is_null())
      throw Error::InvalidArgument(
          "field '{}' is not supported: a batch runs a SQL file in Tarn's engine (driverMemory and "
          "driverCores set its capacity)",
          f);
  }
  static const std::set<std::string> kConf = {"spark.driver.memory", "spark.driver.cores",
                                              "tarn.timeout_minutes", "tarn.max_attempts"};
  const json conf = body.value("conf", json::object());
  for (auto& [key, value] : conf.items()) {
    if (!kConf.count(key))
      throw Error::InvalidArgument(
          "conf key '{}' is not supported (supported: spark.driver.memory, spark.driver.cores, "
          "tarn.timeout_minutes, tarn.max_attempts)",
          key.substr(0, 128));
  }
  json run = {{"job", {{"type", "sql"}, {"script_location", body["file"]}}}, {"tags", std::move(tags)}};
  if (body.contains("name") && body["name"].is_string()) run["name"] = body["name"];
  if (auto* memory = Setting(body, "driverMemory", conf, "spark.driver.memory"))
    run["capacity"]["memory"] = SparkSize(*memory, "driverMemory");
  if (auto* cores = Setting(body, "driverCores", conf, "spark.driver.cores")) {
    std::string text = cores->is_string() ? cores->get<std::string>() : cores->dump();
    if (text.empty() || text.size() > 4 || text.find_first_not_of("0123456789") != std::string::npos)
      throw Error::InvalidArgument("field 'driverCores' must be a number of threads from 1 to 1024");
    run["capacity"]["threads"] = std::stoll(text);
  }
  for (auto [key, field] : {std::pair{"tarn.timeout_minutes", "timeout_minutes"},
                            std::pair{"tarn.max_attempts", "max_attempts"}}) {
    if (!conf.contains(key)) continue;
    std::string text = conf[key].get<std::string>();
    if (text.empty() || text.size() > 6 || text.find_first_not_of("0123456789") != std::string::npos)
      throw Error::InvalidArgument("conf key '{}' must be a whole number", key);
    if (std::string(field) == "max_attempts")
      run["retry_policy"]["max_attempts"] = std::stoll(text);
    else
      run[field] = std::stoll(text);
  }
  return run;
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
          {"owner", run.tags.value("livy_impersonated_by", run.principal.user)},
          {"proxyUser", run.principal.user},
          {"state", BatchState(run.state)},
          {"appId", run.id},
          {"appInfo", {{"driverLogUrl", nullptr}, {"sparkUiUrl", nullptr}, {"executorLogUrls", nullptr}}},
          {"log", std::vector<std::string>(log.begin() + static_cast<std::ptrdiff_t>(first), log.end())}};
}

std::vector<std::string> BatchLog(jobs::JobStore& store, const std::string& job_run_id, int64_t from,
                                  int64_t size) {
  std::vector<std::string> out;
  for (auto& l : store.Logs(job_run_id, from, size))
    out.push_back(l.Json().value("at", "") + " " + l.kind + ": " + l.message);
  return out;
}

}  // namespace tarn::livy
