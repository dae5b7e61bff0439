// The bodies of POST /v1/applications and POST .../jobruns, checked field by field:
// unknown fields and bad values are kInvalidArgument naming the field.
#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "common/error.h"
#include "governance/policy.h"
#include "jobs/job_store.h"
#include "lake/lake.h"

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

// A memory size: bytes as an integer, or text with a unit ('512MB', '2GiB').
int64_t MemoryField(const nlohmann::json& v, const std::string& name) {
  if (v.is_number_integer() && v.get<int64_t>() >= (16 << 20)) return v.get<int64_t>();
  if (v.is_string()) {
    try {
      return governance::ParseLimitValue("memory", v.get<std::string>());
    } catch (const Error&) {
    }
  }
  throw Error::InvalidArgument("field '{}' must be a size of at least 16MiB, as bytes or with a unit ('2GB')",
                               name);
}

// {memory, threads} of `body[name]`, each 0 when not given.
std::pair<int64_t, int64_t> CapacityField(const nlohmann::json& body, const char* name) {
  if (!body.contains(name) || body[name].is_null()) return {0, 0};
  const auto& c = body[name];
  OnlyFields(c, {"memory", "threads"}, fmt::format("field '{}'", name).c_str());
  int64_t memory = c.contains("memory") ? MemoryField(c["memory"], std::string(name) + ".memory") : 0;
  int64_t threads = IntField(c, "threads", 0, 1, 1024);
  return {memory, threads};
}

}  // namespace

const JobType* FindJobType(const JobTypes& types, const std::string& name) {
  for (auto& t : types) {
    if (t->name() == name) return t.get();
  }
  return nullptr;
}

// A missing file, one outside the folder and one of another kind are refused alike.
std::string ReadLakeScript(const std::string& location, const std::filesystem::path& lake_root,
                           const std::vector<std::string>& suffixes, const std::string& field) {
  namespace fs = std::filesystem;
  std::string kinds;
  for (auto& s : suffixes) kinds += (kinds.empty() ? "" : " or ") + s;
  auto refuse = [&] {
    return Error::InvalidArgument(
        "field '{}': no file {} in the lake's scripts/ folder (name a {} file under scripts/)", field,
        location.substr(0, 256), kinds);
  };
  bool suffix_ok = false;
  for (auto& s : suffixes) {
    suffix_ok = suffix_ok || (location.size() > s.size() + 8 &&
                              location.compare(location.size() - s.size(), s.size(), s) == 0);
  }
  if (location.rfind("scripts/", 0) != 0 || !suffix_ok) throw refuse();
  std::string checked;
  try {
    checked = lake::Lake(lake_root).CheckLocation(location);
  } catch (const Error&) {
    throw refuse();
  }
  std::error_code ec;
  auto folder = fs::canonical(lake_root / "scripts", ec);
  if (ec) throw refuse();
  auto file = fs::canonical(lake_root / checked, ec);
  auto rel = file.lexically_relative(folder).string();
  if (ec || rel.empty() || rel.rfind("..", 0) == 0 || !fs::is_regular_file(file, ec)) throw refuse();
  if (fs::file_size(file, ec) > (1 << 20))
    throw Error::InvalidArgument("field '{}': {} is larger than 1 MiB", field, location.substr(0, 256));
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) throw refuse();
  return text.str();
}

namespace {

std::string ReadScript(const std::string& location, const std::filesystem::path& lake_root) {
  return ReadLakeScript(location, lake_root, {".sql"}, "script_location");
}

// "partition_by": 1 to 8 tables (db.table) each mapped to 1 to 8 key columns (a
// column, or a list of them); as stored, every value a list.
nlohmann::json PartitionBy(const nlohmann::json& value, const std::string& field) {
  std::string what = "field '" + field + ".partition_by'";
  if (!value.is_object() || value.empty() || value.size() > 8)
    throw Error::InvalidArgument("{} must map 1 to 8 tables (db.table) to their key columns", what);
  nlohmann::json out = nlohmann::json::object();
  for (auto& [table, keys] : value.items()) {
    auto dot = table.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == table.size() || table.size() > 256 ||
        table.find('.', dot + 1) != std::string::npos)
      throw Error::InvalidArgument("{}: '{}' is not a table name (db.table)", what, table.substr(0, 64));
    auto list = keys.is_string() ? nlohmann::json::array({keys}) : keys;
    bool ok = list.is_array() && !list.empty() && list.size() <= 8;
    for (auto& k : list)
      ok = ok && k.is_string() && !k.get<std::string>().empty() && k.get<std::string>().size() <= 255;
    if (!ok)
      throw Error::InvalidArgument("{}: the key of {} must be a column name or a list of 1 to 8 of them",
                                   what, table.substr(0, 64));
    out[table] = list;
  }
  return out;
}

// A "job" object: {type: "sql", script | script_location}, or one of a JobType in
// `types`; returns it as stored (with the script's text) and sets `script` (SQL only).
nlohmann::json ParseJob(const nlohmann::json& job, const std::string& field,
                        const std::filesystem::path& lake_root, std::string& script, const JobTypes& types) {
  if (!job.is_object()) throw Error::InvalidArgument("field '{}' must be a JSON object", field);
  auto type = TextField(job, "type", true, 32);
  if (type != "sql") {
    if (const JobType* t = FindJobType(types, type)) return t->Parse(job, field, lake_root);
    std::string names = "\"sql\"";
    for (auto& t : types) names += ", \"" + t->name() + "\"";
    throw Error::InvalidArgument("field '{}.type' must be one of {}", field, names);
  }
  OnlyFields(job, {"type", "script", "script_location", "partition_by"}, ("field '" + field + "'").c_str());
  nlohmann::json stored = {{"type", type}};
  if (job.contains("partition_by")) stored["partition_by"] = PartitionBy(job["partition_by"], field);
  if (job.contains("script") == job.contains("script_location"))
    throw Error::InvalidArgument("field '{}' needs one of 'script' and 'script_location'", field);
  if (job.contains("script")) {
    script = TextField(job, "script", true, 1 << 20);
  } else {
    auto location = TextField(job, "script_location", true, 1024);
    script = ReadScript(location, lake_root);
    stored["script_location"] = location;
  }
  if (script.find_first_not_of(" \t\r\n;") == std::string::npos) {
    throw Error::InvalidArgument("field '{}.script' holds no statement", field);
  }
  stored["script"] = script;
  return stored;
}

// "steps": 1 to 100 of {name, action_on_failure, job}.
std::vector<StepSpec> ParseSteps(const nlohmann::json& list, const std::filesystem::path& lake_root,
                                 nlohmann::json& stored) {
  if (!list.is_array() || list.empty() || list.size() > 100)
    throw Error::InvalidArgument("field 'steps' must be a list of 1 to 100 steps");
  std::vector<StepSpec> steps;
  stored = nlohmann::json::array();
  for (size_t i = 0; i < list.size(); i++) {
    std::string field = fmt::format("steps[{}]", i);
    OnlyFields(list[i], {"name", "action_on_failure", "job"}, ("field '" + field + "'").c_str());
    StepSpec step;
    step.name = TextField(list[i], "name", false, 256);
    if (list[i].contains("action_on_failure")) {
      step.action_on_failure = TextField(list[i], "action_on_failure", true, 32);
      if (step.action_on_failure != "CONTINUE" && step.action_on_failure != "CANCEL_AND_WAIT")
        throw Error::InvalidArgument("field '{}.action_on_failure' must be CONTINUE or CANCEL_AND_WAIT",
                                     field);
    }
    if (!list[i].contains("job")) throw Error::InvalidArgument("field '{}.job' is required", field);
    auto job = ParseJob(list[i]["job"], field + ".job", lake_root, step.script, {});
    stored.push_back({{"name", step.name}, {"action_on_failure", step.action_on_failure}, {"job", job}});
    steps.push_back(std::move(step));
  }
  return steps;
}

}  // namespace

Executor ParseExecutor(const nlohmann::json& value) {
  Executor e;
  if (value.is_null()) return e;
  if (!value.is_object() || !value.contains("type"))
    throw Error::InvalidArgument(
        "field 'executor' must be an object with a type: {{\"type\": \"local\"}} or {{\"type\": \"slurm\", "
        "...}}");
  e.type = TextField(value, "type", true, 16);
  if (e.type == "local") {
    OnlyFields(value, {"type"}, "field 'executor' (type local)");
    return e;
  }
  if (e.type != "slurm") throw Error::InvalidArgument("field 'executor.type' must be local or slurm");
  OnlyFields(
      value,
      {"type", "partition", "account", "qos", "time_limit_minutes", "min_nodes", "max_nodes", "buckets"},
      "field 'executor' (type slurm)");
  auto name = [&](const char* field) {
    if (!value.contains(field) || value[field].is_null()) return std::string();
    auto v = TextField(value, field, true, 64);
    if (!IsToken(v))
      throw Error::InvalidArgument(
          "field 'executor.{}' must be a Slurm name (letters, digits, '.', '_', '-')", field);
    return v;
  };
  e.partition = name("partition");
  e.account = name("account");
  e.qos = name("qos");
  auto number = [&](const char* field, int64_t fallback, int64_t min, int64_t max) {
    if (value.contains(field) && value[field].is_null()) return fallback;
    try {
      return IntField(value, field, fallback, min, max);
    } catch (const Error&) {
      throw Error::InvalidArgument("field 'executor.{}' must be an integer from {} to {}", field, min, max);
    }
  };
  e.time_limit_minutes = number("time_limit_minutes", 0, 0, 10080);
  e.min_nodes = number("min_nodes", 0, 0, 1000);
  e.max_nodes = number("max_nodes", 4, 1, 1000);
  e.buckets = number("buckets", 0, 0, 4096);
  if (e.min_nodes > e.max_nodes)
    throw Error::InvalidArgument("field 'executor.min_nodes' ({}) is more than 'executor.max_nodes' ({})",
                                 e.min_nodes, e.max_nodes);
  return e;
}

Application ParseApplication(const nlohmann::json& body) {
  OnlyFields(body,
             {"name", "max_concurrent_runs", "queue_timeout_minutes", "default_timeout_minutes",
              "maximum_capacity", "executor"},
             "the application");
  Application app;
  app.name = TextField(body, "name", true, 64);
  if (!IsToken(app.name)) {
    throw Error::InvalidArgument("field 'name' must be 1 to 64 of letters, digits, '.', '_' and '-'");
  }
  app.max_concurrent_runs = IntField(body, "max_concurrent_runs", 15, 1, 1000);
  app.queue_timeout_minutes = IntField(body, "queue_timeout_minutes", 360, 1, 10080);
  app.default_timeout_minutes = IntField(body, "default_timeout_minutes", 720, 0, 10080);
  std::tie(app.max_memory_bytes, app.max_threads) = CapacityField(body, "maximum_capacity");
  if (body.contains("executor")) app.executor = ParseExecutor(body["executor"]);
  return app;
}

JobSpec ParseJobSpec(const nlohmann::json& body, const std::filesystem::path& lake_root,
                     const JobTypes& types) {
  OnlyFields(body,
             {"name", "client_token", "job", "steps", "timeout_minutes", "retry_policy", "execution_role",
              "execution_policy", "capacity", "tags"},
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
  std::tie(spec.memory_bytes, spec.threads) = CapacityField(body, "capacity");
  if (body.contains("tags")) {
    const auto& tags = body["tags"];
    bool ok = tags.is_object() && tags.size() <= 50;
    if (ok) {
      for (auto& [k, v] : tags.items())
        ok = ok && IsToken(k) && v.is_string() && v.get<std::string>().size() <= 256;
    }
    if (!ok)
      throw Error::InvalidArgument(
          "field 'tags' must map at most 50 names (letters, digits, '.', '_', '-') to strings of at most 256 "
          "characters");
    spec.tags = tags;
  }
  if (!body.contains("job") && !body.contains("steps"))
    throw Error::InvalidArgument("field 'job' is required (or 'steps', a list of steps)");
  if (body.contains("job") && body.contains("steps"))
    throw Error::InvalidArgument("fields 'job' and 'steps' exclude each other: give one");
  if (body.contains("job")) {
    spec.job = ParseJob(body["job"], "job", lake_root, spec.script, types);
  } else {
    nlohmann::json steps;
    spec.steps = ParseSteps(body["steps"], lake_root, steps);
    spec.job = {{"type", "sql"}, {"steps", steps}};
  }
  return spec;
}

}  // namespace tarn::jobs
