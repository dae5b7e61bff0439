#include "server/job_routes.h"

namespace tarn::server {

namespace {

using jobs::JobStore;

nlohmann::json Body(const RequestContext& ctx) {
  try {
    return nlohmann::json::parse(ctx.request.body());
  } catch (const nlohmann::json::exception&) {
    throw Error::InvalidArgument("the body must be a JSON object");
  }
}

// May `p` submit to `app`? Administrators anywhere; everyone to `default`.
bool MaySubmit(const identity::Principal& p, const jobs::Application& app) {
  return p.admin || app.id == "default";
}

// The application, if the caller may see it; kNotFound otherwise.
jobs::Application VisibleApplication(JobStore& store, const RequestContext& ctx) {
  auto app = store.GetApplication(ctx.params.at("app"));
  if (!MaySubmit(*ctx.principal, app)) {
    throw Error::NotFound("application {} does not exist (GET /v1/applications lists them)",
                          ctx.params.at("app").substr(0, 64));
  }
  return app;
}

bool Owns(const identity::Principal& p, const jobs::JobRun& run) {
  return p.admin || (p.user == run.principal.user && p.issuer == run.principal.issuer);
}

// The run of the application in the path, if the caller may see it; kNotFound otherwise.
jobs::JobRun VisibleRun(JobStore& store, const RequestContext& ctx) {
  auto app = VisibleApplication(store, ctx);
  const std::string& id = ctx.params.at("run");
  std::optional<jobs::JobRun> run;
  try {
    run = store.GetRun(id);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kNotFound) throw;
  }
  if (!run || run->application_id != app.id || !Owns(*ctx.principal, *run)) {
    throw Error::NotFound("job run {} does not exist", id.substr(0, 64));
  }
  return *run;
}

int64_t QueryInt(const RequestContext& ctx, const char* name, int64_t fallback, int64_t min, int64_t max) {
  auto it = ctx.query.find(name);
  if (it == ctx.query.end()) return fallback;
  try {
    size_t used = 0;
    int64_t v = std::stoll(it->second, &used);
    if (used == it->second.size() && v >= min && v <= max) return v;
  } catch (const std::exception&) {
  }
  throw Error::InvalidArgument("query parameter '{}' must be an integer from {} to {}", name, min, max);
}

}  // namespace

void AddJobRoutes(Router& router, JobRoutes r) {
  using http::verb;
  auto v = [](const RequestContext& ctx) { return ctx.request.version(); };
  router.Add(verb::post, "/v1/applications", true, [r, v](RequestContext& ctx) {
    if (!ctx.principal->admin)
      throw Error::PermissionDenied("only a data-lake administrator may create applications");
    auto app = jobs::ParseApplication(Body(ctx));
    JobStore store(r.store(ctx.worker));
    return JsonResponse(http::status::created, store.CreateApplication(app, ctx.principal->user).Json(),
                        v(ctx));
  });
  router.Add(verb::get, "/v1/applications", true, [r, v](RequestContext& ctx) {
    JobStore store(r.store(ctx.worker));
    nlohmann::json list = nlohmann::json::array();
    for (auto& app : store.ListApplications()) {
      if (MaySubmit(*ctx.principal, app)) list.push_back(app.Json());
    }
    return JsonResponse(http::status::ok, {{"applications", list}}, v(ctx));
  });
  router.Add(verb::get, "/v1/applications/{app}", true, [r, v](RequestContext& ctx) {
    JobStore store(r.store(ctx.worker));
    return JsonResponse(http::status::ok, VisibleApplication(store, ctx).Json(), v(ctx));
  });
  auto admin_only = [](const RequestContext& ctx) {
    if (!ctx.principal->admin)
      throw Error::PermissionDenied("only a data-lake administrator may change applications");
  };
  router.Add(verb::put, "/v1/applications/{app}", true, [r, v, admin_only](RequestContext& ctx) {
    admin_only(ctx);
    JobStore store(r.store(ctx.worker));
    return JsonResponse(http::status::ok, store.UpdateApplication(ctx.params["app"], Body(ctx)).Json(),
                        v(ctx));
  });
  for (auto [action, state] : {std::pair{"stop", "STOPPED"}, std::pair{"start", "STARTED"}}) {
    router.Add(verb::post, std::string("/v1/applications/{app}/") + action, true,
               [r, v, admin_only, state](RequestContext& ctx) {
                 admin_only(ctx);
                 JobStore store(r.store(ctx.worker));
                 return JsonResponse(http::status::ok,
                                     store.SetApplicationState(ctx.params["app"], state).Json(), v(ctx));
               });
  }
  router.Add(verb::delete_, "/v1/applications/{app}", true, [r, v, admin_only](RequestContext& ctx) {
    admin_only(ctx);
    JobStore store(r.store(ctx.worker));
    store.DeleteApplication(ctx.params["app"]);
    return JsonResponse(http::status::ok, {{"deleted", ctx.params["app"]}}, v(ctx));
  });
  router.Add(verb::post, "/v1/applications/{app}/jobruns", true, [r, v](RequestContext& ctx) {
    JobStore store(r.store(ctx.worker));
    auto app = VisibleApplication(store, ctx);
    auto spec = jobs::ParseJobSpec(Body(ctx));
    bool created = false;
    auto run = r.jobs().Submit(app.id, spec, *ctx.principal, created);
    return JsonResponse(created ? http::status::created : http::status::ok,
                        {{"application_id", run.application_id},
                         {"job_run_id", run.id},
                         {"state", jobs::RunStateName(run.state)}},
                        v(ctx));
  });
  router.Add(verb::get, "/v1/applications/{app}/jobruns", true, [r, v](RequestContext& ctx) {
    JobStore store(r.store(ctx.worker));
    auto app = VisibleApplication(store, ctx);
    std::optional<jobs::RunState> state;
    if (ctx.query.count("state")) state = jobs::ParseRunState(ctx.query.at("state"));
    auto limit = QueryInt(ctx, "limit", 100, 1, 1000);
    nlohmann::json list = nlohmann::json::array();
    const identity::Principal* owner = ctx.principal->admin ? nullptr : &*ctx.principal;
    for (auto& run : store.ListRuns(app.id, owner, state, limit)) list.push_back(run.Json());
    return JsonResponse(http::status::ok, {{"job_runs", list}}, v(ctx));
  });
  router.Add(verb::get, "/v1/applications/{app}/jobruns/{run}", true, [r, v](RequestContext& ctx) {
    JobStore store(r.store(ctx.worker));
    return JsonResponse(http::status::ok, VisibleRun(store, ctx).Json(), v(ctx));
  });
  router.Add(verb::delete_, "/v1/applications/{app}/jobruns/{run}", true, [r, v](RequestContext& ctx) {
    JobStore store(r.store(ctx.worker));
    auto run = VisibleRun(store, ctx);
    return JsonResponse(http::status::ok, r.jobs().Cancel(store, run, ctx.principal->user).Json(), v(ctx));
  });
  router.Add(verb::get, "/v1/applications/{app}/jobruns/{run}/attempts", true, [r, v](RequestContext& ctx) {
    JobStore store(r.store(ctx.worker));
    auto run = VisibleRun(store, ctx);
    nlohmann::json list = nlohmann::json::array();
    for (auto& a : store.Attempts(run.id)) list.push_back(a.Json());
    return JsonResponse(http::status::ok, {{"job_run_id", run.id}, {"attempts", list}}, v(ctx));
  });
  router.Add(verb::get, "/v1/applications/{app}/jobruns/{run}/logs", true, [r, v](RequestContext& ctx) {
    JobStore store(r.store(ctx.worker));
    auto run = VisibleRun(store, ctx);
    auto from = QueryInt(ctx, "from", 0, 0, INT64_MAX);
    auto size = QueryInt(ctx, "size", 1000, 1, 10000);
    nlohmann::json lines = nlohmann::json::array();
    int64_t next = from;
    for (auto& line : store.Logs(run.id, from, size)) {
      lines.push_back(line.Json());
      next = line.line;
    }
    return JsonResponse(
        http::status::ok,
        {{"job_run_id", run.id}, {"state", jobs::RunStateName(run.state)}, {"lines", lines}, {"next", next}},
        v(ctx));
  });
}

}  // namespace tarn::server
