// Livy's /batches over job runs (livy/batches.h): a batch runs a SQL file of the
// lake's scripts/ folder as a job run of the application `default`.
#include "livy/batches.h"

#include "server/job_routes.h"
#include "server/livy_internal.h"

namespace tarn::server {

namespace {

using json = nlohmann::json;

// Whether `caller` submitted the batch: its run is theirs, or they created it as another
// (proxyUser; the run's tags name them).
bool Mine(const jobs::JobRun& run, const identity::Principal& caller) {
  if (run.principal.Key() == caller.Key()) return true;
  return run.tags.value("livy_impersonated_by", "") == caller.user &&
         run.tags.value("livy_impersonated_by_issuer", "") == caller.issuer;
}

// The batch `id` and its run, if the caller may see it (its submitter, or one who may
// manage); kNotFound worded as Livy's otherwise.
std::pair<int64_t, jobs::JobRun> VisibleBatch(const LivyRoutes& r, RequestContext& ctx) {
  const std::string& text = ctx.params.at("id");
  std::optional<std::string> run_id;
  if (!text.empty() && text.size() <= 18 && text.find_first_not_of("0123456789") == std::string::npos)
    run_id = livy::BatchStore(r.store(ctx.worker)).RunOf(std::stoll(text));
  std::optional<jobs::JobRun> run;
  if (run_id) {
    jobs::JobStore store(r.store(ctx.worker));
    run = store.GetRun(*run_id);
  }
  if (!run || !(Mine(*run, *ctx.principal) || (r.may_manage && r.may_manage(*ctx.principal, ctx.worker))))
    throw Error::NotFound("Session '{}' not found.", text.substr(0, 64));
  return {std::stoll(text), *run};
}

// The application a batch's `queue` names ("default" when absent), if `runs_as` may
// submit to it; one kInvalidArgument for one that does not exist and one they may not use.
jobs::Application SubmittableQueue(const LivyRoutes& r, RequestContext& ctx,
                                   const identity::Principal& runs_as, const std::string& queue) {
  jobs::JobStore store(r.store(ctx.worker));
  try {
    auto app = store.GetApplication(queue);
    if (MaySubmitTo(r.store(ctx.worker), runs_as, app)) return app;
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kNotFound) throw;
  }
  throw Error::InvalidArgument(
      "field 'queue': no application '{}' you may submit to (a batch runs in the application its queue "
      "names; GET /v1/applications lists them)",
      queue.substr(0, 64));
}

// The last 10 lines of a batch's log, as its Livy object shows them.
std::vector<std::string> LogTail(jobs::JobStore& store, const std::string& run_id) {
  return livy::BatchLog(store, run_id, std::max<int64_t>(0, store.LogLines(run_id) - 10), 10);
}

}  // namespace

void AddLivyBatchRoutes(const LivyAdd& add, const std::string& base,
                        std::shared_ptr<const LivyRoutes> routes) {
  using http::verb;
  auto v = [](const RequestContext& ctx) { return ctx.request.version(); };

  add(verb::post, base + "/batches", [routes, base, v](RequestContext& ctx) {
    const LivyRoutes& r = *routes;
    json body = LivyBody(
        ctx,
        {"file", "proxyUser", "args", "className", "jars", "pyFiles", "files", "archives", "driverMemory",
         "driverCores", "executorMemory", "executorCores", "numExecutors", "queue", "name", "conf"},
        "a batch");
    for (auto* f : {"file", "proxyUser", "className", "driverMemory", "executorMemory", "queue", "name"})
      LivyCheck(body, f, json::value_t::string);
    for (auto* f : {"driverCores", "executorCores", "numExecutors"})
      LivyCheck(body, f, json::value_t::number_integer);
    for (auto* f : {"args", "jars", "pyFiles", "files", "archives"}) LivyCheck(body, f, json::value_t::array);
    LivyCheck(body, "conf", json::value_t::object);
    std::string proxy = LivyProxyUser(ctx, body);
    identity::Principal runs_as = *ctx.principal;
    json tags = {{"livy", "batch"}};
    if (!proxy.empty()) {
      runs_as = r.impersonate(*ctx.principal, proxy, ctx.worker);
      tags["livy_impersonated_by"] = ctx.principal->user;  // both identities, kept with the run
      tags["livy_impersonated_by_issuer"] = ctx.principal->issuer;
    }
    jobs::Application app = SubmittableQueue(r, ctx, runs_as, body.value("queue", std::string("default")));
    json request = livy::BatchRunRequest(body, tags);
    jobs::JobSpec spec;
    try {
      spec = jobs::ParseJobSpec(request, r.jobs().lake_root(), {});  // SQL files only
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kInvalidArgument) throw;
      throw Error::InvalidArgument("{} (a batch's fields: docs/livy.md, \"Batches\")", e.what());
    }
    bool created = false;
    auto run = r.jobs().Submit(app.id, spec, runs_as, created);
    int64_t id = livy::BatchStore(r.store(ctx.worker)).Add(run.id);
    jobs::JobStore store(r.store(ctx.worker));
    auto res = JsonResponse(http::status::created, livy::BatchJson(id, store.GetRun(run.id), {}), v(ctx));
    res.set(http::field::location, base + "/batches/" + std::to_string(id));
    return res;
  });
  add(verb::get, base + "/batches", [routes, v](RequestContext& ctx) {
    const LivyRoutes& r = *routes;
    int64_t from = std::max<int64_t>(0, LivyIntParam(ctx, "from", 0));
    int64_t size = LivyIntParam(ctx, "size", 100);
    bool all = r.may_manage && r.may_manage(*ctx.principal, ctx.worker);
    jobs::JobStore store(r.store(ctx.worker));
    json sessions = json::array();
    int64_t total = 0;
    for (auto& [id, run_id] : livy::BatchStore(r.store(ctx.worker)).All()) {
      auto run = store.GetRun(run_id);
      if (!all && !Mine(run, *ctx.principal)) continue;
      if (total++ >= from && (size < 0 || static_cast<int64_t>(sessions.size()) < size))
        sessions.push_back(livy::BatchJson(id, run, LogTail(store, run.id)));
    }
    return JsonResponse(http::status::ok, {{"from", from}, {"total", total}, {"sessions", sessions}}, v(ctx));
  });
  add(verb::get, base + "/batches/{id}", [routes, v](RequestContext& ctx) {
    const LivyRoutes& r = *routes;
    auto [id, run] = VisibleBatch(r, ctx);
    jobs::JobStore store(r.store(ctx.worker));
    return JsonResponse(http::status::ok, livy::BatchJson(id, run, LogTail(store, run.id)), v(ctx));
  });
  add(verb::get, base + "/batches/{id}/state", [routes, v](RequestContext& ctx) {
    const LivyRoutes& r = *routes;
    auto [id, run] = VisibleBatch(r, ctx);
    return JsonResponse(http::status::ok, {{"id", id}, {"state", livy::BatchState(run.state)}}, v(ctx));
  });
  add(verb::get, base + "/batches/{id}/log", [routes, v](RequestContext& ctx) {
    const LivyRoutes& r = *routes;
    auto [id, run] = VisibleBatch(r, ctx);
    jobs::JobStore store(r.store(ctx.worker));
    int64_t total = store.LogLines(run.id);
    auto [from, end] = livy::LogWindow(total, LivyIntParam(ctx, "from", -1), LivyIntParam(ctx, "size", 100));
    auto log = livy::BatchLog(store, run.id, from, end - from);
    return JsonResponse(http::status::ok, {{"id", id}, {"from", from}, {"total", total}, {"log", log}},
                        v(ctx));
  });
  add(verb::delete_, base + "/batches/{id}", [routes, v](RequestContext& ctx) {
    const LivyRoutes& r = *routes;
    auto [id, run] = VisibleBatch(r, ctx);
    if (!jobs::IsTerminal(run.state)) {
      jobs::JobStore store(r.store(ctx.worker));
      try {
        r.jobs().Cancel(store, run, ctx.principal->user);
      } catch (const Error& e) {
        if (e.code() != ErrorCode::kConflict) throw;  // it ended meanwhile
      }
    }
    return JsonResponse(http::status::ok, {{"msg", "deleted"}}, v(ctx));
  });
}

}  // namespace tarn::server
