// The bodies of POST /v1/applications and POST .../jobruns, checked field by field:
// unknown fields and bad values are kInvalidArgument naming the field.
#include <algorithm>
#include <set>

#include "common/error.h"
#include "governance/policy.h"
#include "jobs/job_store.h"

namespace tarn::jobs {

namespace {

// Every key of `body` must be one of `known`.
void OnlyFields(const nlohmann::json& body, const std::set<std::string>& known, const char* what) {
  if (!body.is_object()) throw Error::InvalidArgument("{} must be a JSON object", what);
  for (auto& [key, value] : body.items()) {
    if (!known.count(key)) {
      std::string list;
      for (auto& k : known) list += (list.empty() ? "" : ", ") + k;
      throw Error::InvalidArgument("unknown field '{}' in {} (known: {})", key.substr(0, 64), what, list);
    }
  }
}

int64_t IntField(const nlohmann::json& body, const char* name, int64_t fallback, int64_t min, int64_t max) {
  if (!body.contains(name)) return fallback;
  auto& v = body[name];
  if (!v.is_number_integer() || v.get<int64_t>() < min || v.get<int64_t>() > max) {
    throw Error::InvalidArgument("field '{}' must be an integer from {} to {}", name, min, max);
  }
  return v.get<int64_t>();
}

std::string TextField(const nlohmann::json& body, const char* name, bool required, size_t max_len) {
  if (!body.contains(name)) {
    if (required) throw Error::InvalidArgument("field '{}' is required", name);
    return "";
  }
  if (!body[name].is_string()) throw Error::InvalidArgument("field '{}' must be a string", name);
  std::string s = body[name];
  if (s.size() > max_len)
    throw Error::InvalidArgument("field '{}' is longer than {} characters", name, max_len);
  return s;
}

// 1-64 of [A-Za-z0-9._-].
bool IsToken(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (unsigned char c : s) {
    if (!std::isalnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

}  // namespace

Application ParseApplication(const nlohmann::json& body) {
  OnlyFields(body, {"name", "max_concurrent_runs", "queue_timeout_minutes", "default_timeout_minutes"},
             "the application");
  Application app;
  app.name = TextField(body, "name", true, 64);
  if (!IsToken(app.name)) {
    throw Error::InvalidArgument("field 'name' must be 1 to 64 of letters, digits, '.', '_' and '-'");
  }
  app.max_concurrent_runs = IntField(body, "max_concurrent_runs", 15, 1, 1000);
  app.queue_timeout_minutes = IntField(body, "queue_timeout_minutes", 360, 1, 10080);
  app.default_timeout_minutes = IntField(body, "default_timeout_minutes", 720, 0, 10080);
  return app;
}

JobSpec ParseJobSpec(const nlohmann::json& body) {
  OnlyFields(body,
             {"name", "client_token", "job", "timeout_minutes", "retry_policy", "execution_role",
              "execution_policy"},
             "the job run");
  JobSpec spec;
  spec.name = TextField(body, "name", false, 256);
  if (body.contains("execution_role") && !body["execution_role"].is_null()) {
    spec.execution_role = TextField(body, "execution_role", true, 64);
    if (!IsToken(spec.execution_role)) {
      throw Error::InvalidArgument(
          "field 'execution_role' must name a role (letters, digits, '.', '_', '-')");
    }
    std::transform(spec.execution_role.begin(), spec.execution_role.end(), spec.execution_role.begin(),
                   [](unsigned char c) { return std::tolower(c); });
  }
  if (body.contains("client_token")) {
    auto token = TextField(body, "client_token", true, 64);
    if (!IsToken(token)) {
      throw Error::InvalidArgument(
          "field 'client_token' must be 1 to 64 of letters, digits, '.', '_' and '-'");
    }
    spec.client_token = token;
  }
  if (body.contains("execution_policy")) {
    const auto& list = body["execution_policy"];
    if (!list.is_array() || list.empty() || list.size() > 100)
      throw Error::InvalidArgument("field 'execution_policy' must be a list of 1 to 100 grants");
    if (spec.execution_role.empty())
      throw Error::InvalidArgument("field 'execution_policy' narrows an execution_role: name one");
    for (auto& e : list) {
      if (!e.is_string()) throw Error::InvalidArgument("field 'execution_policy' must hold strings");
      governance::ParseScope(e.get<std::string>());  // kInvalidArgument quoting the entry
      spec.execution_policy.push_back(e.get<std::string>());
    }
  }
  spec.timeout_minutes = IntField(body, "timeout_minutes", -1, 0, 10080);
  if (body.contains("retry_policy")) {
    OnlyFields(body["retry_policy"], {"max_attempts"}, "field 'retry_policy'");
    spec.max_attempts = IntField(body["retry_policy"], "max_attempts", 1, 1, 10);
  }
  if (!body.contains("job")) throw Error::InvalidArgument("field 'job' is required");
  const auto& job = body["job"];
  OnlyFields(job, {"type", "script"}, "field 'job'");
  auto type = TextField(job, "type", true, 32);
  if (type != "sql") throw Error::InvalidArgument("field 'job.type' must be \"sql\"");
  spec.script = TextField(job, "script", true, 1 << 20);
  if (spec.script.find_first_not_of(" \t\r\n;") == std::string::npos) {
    throw Error::InvalidArgument("field 'job.script' holds no statement");
  }
  spec.job = {{"type", type}, {"script", spec.script}};
  return spec;
}

}  // namespace tarn::jobs
