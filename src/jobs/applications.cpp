// JobStore: applications (the runs are in job_store.cpp).
#include <fmt/format.h>

#include "common/error.h"
#include "common/util.h"
#include "jobs/job_store.h"

namespace tarn::jobs {

namespace {

const char* kAppColumns =
    "id, name, state, max_concurrent_runs, queue_timeout_minutes, default_timeout_minutes, created_by, "
    "created_at, updated_at, max_memory_bytes, max_threads, executor_json";

// A slurm executor needs a metadata store every server and node can reach.
void RequireSharedStore(store::MetaStore& store, const Executor& executor) {
  if (executor.slurm() && store.backend() != "postgresql") {
    throw Error::InvalidArgument(
        "field 'executor': the slurm executor needs the PostgreSQL metadata store, and this server uses "
        "SQLite (a file only this machine reads); start the server with --metastore postgresql://... and a "
        "lake every node mounts at the same path (docs/scale-out.md)");
  }
}

std::string ExecutorText(const Executor& e) {
  return e.slurm() ? e.Json().dump() : "";
}

}  // namespace

Application JobStore::CreateApplication(Application app, const std::string& user) {
  app.id = "app-" + RandomHex(8);
  app.state = "STARTED";
  app.created_by = user;
  app.created_at = app.updated_at = Iso(NowMs());
  RequireSharedStore(store_, app.executor);
  try {
    store_.Execute(std::string("INSERT INTO applications (") + kAppColumns +
                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   {app.id, app.name, app.state, app.max_concurrent_runs, app.queue_timeout_minutes,
                    app.default_timeout_minutes, app.created_by, app.created_at, app.updated_at,
                    app.max_memory_bytes, app.max_threads, ExecutorText(app.executor)});
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kAlreadyExists) throw Error::AlreadyExists("application {} exists", app.name);
    throw;
  }
  return app;
}

std::vector<Application> JobStore::ListApplications() {
  std::vector<Application> out;
  for (auto& r : store_.Query(std::string("SELECT ") + kAppColumns + " FROM applications ORDER BY name")) {
    Executor executor;
    if (!r.Str(11).empty()) executor = ParseExecutor(nlohmann::json::parse(r.Str(11)));
    out.push_back({r.Str(0), r.Str(1), r.Str(2), r.Int(3), r.Int(4), r.Int(5), r.Int(9), r.Int(10), executor,
                   r.Str(6), r.Str(7), r.Str(8)});
  }
  return out;
}

Application JobStore::GetApplication(const std::string& id) {
  for (auto& app : ListApplications()) {
    if (app.id == id || app.name == id) return app;
  }
  throw Error::NotFound("application {} does not exist (GET /v1/applications lists them)", id.substr(0, 64));
}

namespace {

// kConflict while `app` has runs that have not ended.
void RequireIdle(store::MetaStore& store, const Application& app, const char* what) {
  auto rows = store.Query(
      "SELECT count(*) FROM job_runs WHERE application_id = ? AND state NOT IN ('SUCCESS', 'FAILED', "
      "'CANCELLED')",
      {app.id});
  if (rows[0].Int(0) > 0) {
    throw Error::Conflict("cannot {} application {}: {} of its runs have not ended (cancel them or wait)",
                          what, app.name, rows[0].Int(0));
  }
}

}  // namespace

Application JobStore::UpdateApplication(const std::string& id, const nlohmann::json& body) {
  if (!body.is_object()) throw Error::InvalidArgument("the application must be a JSON object");
  if (body.contains("name"))
    throw Error::InvalidArgument("field 'name' cannot change: create another application");
  Application out;
  store_.Transaction([&] {
    auto app = GetApplication(id);
    auto merged = app.Json();
    for (auto key : {"id", "state", "created_by", "created_at", "updated_at"}) merged.erase(key);
    for (auto& [k, v] : body.items()) merged[k] = v;
    auto changed = ParseApplication(merged);
    RequireIdle(store_, app, "update");
    app.max_concurrent_runs = changed.max_concurrent_runs;
    app.queue_timeout_minutes = changed.queue_timeout_minutes;
    app.default_timeout_minutes = changed.default_timeout_minutes;
    app.max_memory_bytes = changed.max_memory_bytes;
    app.max_threads = changed.max_threads;
    app.executor = changed.executor;
    RequireSharedStore(store_, app.executor);
    app.updated_at = Iso(NowMs());
    store_.Execute(
        "UPDATE applications SET max_concurrent_runs = ?, queue_timeout_minutes = ?, "
        "default_timeout_minutes = ?, max_memory_bytes = ?, max_threads = ?, executor_json = ?, updated_at = "
        "? "
        "WHERE id = ?",
        {app.max_concurrent_runs, app.queue_timeout_minutes, app.default_timeout_minutes,
         app.max_memory_bytes, app.max_threads, ExecutorText(app.executor), app.updated_at, app.id});
    out = app;
  });
  return out;
}

Application JobStore::SetApplicationState(const std::string& id, const std::string& state) {
  Application out;
  store_.Transaction([&] {
    auto app = GetApplication(id);
    if (state == "STOPPED") RequireIdle(store_, app, "stop");
    app.state = state;
    app.updated_at = Iso(NowMs());
    store_.Execute("UPDATE applications SET state = ?, updated_at = ? WHERE id = ?",
                   {state, app.updated_at, app.id});
    out = app;
  });
  return out;
}

void JobStore::DeleteApplication(const std::string& id) {
  store_.Transaction([&] {
    auto app = GetApplication(id);
    if (app.id == "default") throw Error::Conflict("the default application cannot be deleted");
    RequireIdle(store_, app, "delete");
    for (auto table : {"job_run_log", "job_run_attempts", "job_run_steps"}) {
      store_.Execute(fmt::format("DELETE FROM {} WHERE run_id IN (SELECT id FROM job_runs WHERE "
                                 "application_id = ?)",
                                 table),
                     {app.id});
    }
    store_.Execute("DELETE FROM job_schedules WHERE application_id = ?", {app.id});
    store_.Execute("DELETE FROM job_runs WHERE application_id = ?", {app.id});
    store_.Execute("DELETE FROM applications WHERE id = ?", {app.id});
  });
}

}  // namespace tarn::jobs
