#include "server/job_routes.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>
#include <sstream>

#include "common/util.h"
#include "governance/policy.h"
#include "jobs/job_result.h"
#include "jobs/schedules.h"

namespace tarn::server {

namespace {

using jobs::JobStore;

// What the caller may do with applications and runs, from the governance policy:
// SUBMIT and MANAGE on an application (administrators hold both everywhere, and
// everyone may submit to `default`), CREATE_APPLICATION on the system.
class Access {
 public:
  Access(store::MetaStore& meta, const identity::Principal& p)
      : policy_(governance::PolicyStore(meta).Load()), subject_(governance::MakeSubject(p, *policy_)) {}
  bool MaySubmit(const jobs::Application& app) const {
    return app.id == "default" || governance::HoldsOnApplication(*policy_, subject_, app.id, "SUBMIT");
  }
  bool MayManage(const jobs::Application& app) const {
    return governance::HoldsOnApplication(*policy_, subject_, app.id, "MANAGE");
  }
  bool MayCreate() const {
    return !governance::SystemPrivilege(*policy_, subject_, "CREATE_APPLICATION").empty();
  }
  // kPermissionDenied (or kInvalidArgument for an administrator naming no role) unless
  // the caller may run as `role`; one message for a role that does not exist and one
  // the caller may not assume, so a refusal tells nothing about which roles exist.
  void RequireAssume(const std::string& role) const {
    if (subject_.admin && !policy_->roles.count(role)) {
      throw Error::InvalidArgument("field 'execution_role': role {} does not exist (CREATE ROLE creates it)",
                                   role);
    }
    if (!policy_->roles.count(role) || !governance::MayAssume(*policy_, subject_, role)) {
      throw Error::PermissionDenied(
          "access denied: you may not run as role {}: it takes GRANT ASSUME ON ROLE {} (or membership)", role,
          role);
    }
  }

 private:
  std::shared_ptr<const governance::Policy> policy_;
  governance::Subject subject_;
};

// The application, if the caller may see it (submit to or manage it); kNotFound otherwise.
jobs::Application VisibleApplication(JobStore& store, const Access& access, const RequestContext& ctx) {
  std::optional<jobs::Application> app;
  try {
    app = store.GetApplication(ctx.params.at("app"));
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kNotFound) throw;
  }
  if (!app || !(access.MaySubmit(*app) || access.MayManage(*app))) {
    throw Error::NotFound("application {} does not exist (GET /v1/applications lists them)",
                          ctx.params.at("app").substr(0, 64));
  }
  return *app;
}

// The application, if the caller may manage it: kNotFound if they may not see it,
// kPermissionDenied if they only submit to it.
jobs::Application ManagedApplication(JobStore& store, const Access& access, const RequestContext& ctx) {
  auto app = VisibleApplication(store, access, ctx);
  if (!access.MayManage(app)) {
    throw Error::PermissionDenied(
        "access denied: changing application {} takes MANAGE on it (GRANT MANAGE ON APPLICATION {} TO ...)",
        app.name, app.name);
  }
  return app;
}

bool Owns(const identity::Principal& p, const jobs::JobRun& run) {
  return p.user == run.principal.user && p.issuer == run.principal.issuer;
}

// The run of the application in the path, if the caller may see it (their own, or
// any with MANAGE on the application); kNotFound otherwise.
jobs::JobRun VisibleRun(JobStore& store, const Access& access, const RequestContext& ctx) {
  auto app = VisibleApplication(store, access, ctx);
  const std::string& id = ctx.params.at("run");
  std::optional<jobs::JobRun> run;
  try {
    run = store.GetRun(id);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kNotFound) throw;
  }
  if (!run || run->application_id != app.id || !(Owns(*ctx.principal, *run) || access.MayManage(app))) {
    throw Error::NotFound("job run {} does not exist", id.substr(0, 64));
  }
  return *run;
}

// The schedule of the application in the path, if the caller may see it (their own,
// or any with MANAGE on the application); kNotFound otherwise.
jobs::Schedule VisibleSchedule(store::MetaStore& meta, const Access& access, const RequestContext& ctx) {
  JobStore store(meta);
  auto app = VisibleApplication(store, access, ctx);
  const std::string& id = ctx.params.at("schedule");
  std::optional<jobs::Schedule> s;
  try {
    s = jobs::ScheduleStore(meta).Get(id);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kNotFound) throw;
  }
  if (!s || s->application_id != app.id ||
      !((ctx.principal->user == s->principal.user && ctx.principal->issuer == s->principal.issuer) ||
        access.MayManage(app))) {
    throw Error::NotFound("schedule {} does not exist", id.substr(0, 64));
  }
  return *s;
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

// GET /v1/events: the bus's events the caller may see, as Server-Sent Events. What
// the caller may see is read when the stream opens; a stream ends after
// `max_seconds` (the client reconnects with Last-Event-ID, and sees by the policy then).
class EventStream : public BodyStream {
 public:
  EventStream(jobs::EventBus& bus, std::function<bool(const jobs::Event&)> visible, int64_t after,
              std::chrono::seconds max)
      : bus_(bus),
        visible_(std::move(visible)),
        after_(after),
        deadline_(std::chrono::steady_clock::now() + max) {}
  ~EventStream() override {
    if (subscription_) bus_.Unsubscribe(subscription_);
  }
  void Start(std::function<void()> wake) override { subscription_ = bus_.Subscribe(std::move(wake)); }
  std::chrono::milliseconds MaxWait() const override {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - std::chrono::steady_clock::now());
    return std::min<std::chrono::milliseconds>(std::chrono::seconds(15), left + std::chrono::milliseconds(1));
  }
  std::string Pull(bool& ended) override {
    std::string out;
    if (first_) {
      first_ = false;
      bool gap = false;
      bus_.After(after_, 0, &gap);
      out = "retry: 1000\n\n";
      if (gap) {
        out +=
            "event: gap\ndata: {\"message\": \"events since your Last-Event-ID are no longer kept: read "
            "the current state with GET\"}\n\n";
        after_ = bus_.last_id();
      }
    }
    for (bool more = true; more && out.size() < (256 << 10);) {
      auto events = bus_.After(after_, 500);
      more = events.size() == 500;
      for (auto& e : events) {
        after_ = e.id;
        if (visible_(e)) out += e.Sse();
      }
    }
    if (out.empty()) ended = bus_.closed() || std::chrono::steady_clock::now() > deadline_;
    return out;
  }

 private:
  jobs::EventBus& bus_;
  std::function<bool(const jobs::Event&)> visible_;
  int64_t after_;
  std::chrono::steady_clock::time_point deadline_;
  uint64_t subscription_ = 0;
  bool first_ = true;
};

// The events of `types` (all if empty) and `application` (all if empty) that the
// caller may see: an application's if they may submit to or manage it; a run's or
// schedule's if it is theirs or they manage its application.
std::function<bool(const jobs::Event&)> EventFilter(std::shared_ptr<Access> access, identity::Principal p,
                                                    std::set<std::string> types, std::string application) {
  return [access, p, types, application](const jobs::Event& e) {
    if (!types.empty() && !types.count(e.type)) return false;
    if (!application.empty() && e.application_id != application) return false;
    jobs::Application app;
    app.id = e.application_id;
    if (e.type == "application") return access->MaySubmit(app) || access->MayManage(app);
    if (e.type == "node" || e.type == "scaling") return p.admin;  // the Slurm cluster's nodes: administrators
    return (e.owner_user == p.user && e.owner_issuer == p.issuer) || access->MayManage(app);
  };
}

void AddEventRoute(Router& router, JobRoutes r) {
  router.Add(http::verb::get, "/v1/events", true, [r](RequestContext& ctx) {
    std::set<std::string> types;
    if (ctx.query.count("types")) {
      std::stringstream list(ctx.query.at("types"));
      for (std::string t; std::getline(list, t, ',');) {
        if (t != "job_run" && t != "job_run_step" && t != "application" && t != "schedule" && t != "node" &&
            t != "scaling")
          throw Error::InvalidArgument(
              "query parameter 'types' lists job_run, job_run_step, application, schedule, node and scaling "
              "(comma-separated)");
        types.insert(t);
      }
    }
    int64_t after = r.jobs().events().last_id();
    auto last = ctx.request.find("Last-Event-ID");
    if (last != ctx.request.end() || ctx.query.count("after")) {
      std::string text = ctx.query.count("after") ? ctx.query.at("after") : std::string(last->value());
      try {
        size_t used = 0;
        after = std::stoll(text, &used);
        if (used != text.size() || after < 0) throw std::invalid_argument("bad");
      } catch (const std::exception&) {
        throw Error::InvalidArgument("Last-Event-ID (or 'after') must be an event id, a whole number");
      }
    }
    auto max = QueryInt(ctx, "max_seconds", 60, 1, 3600);
    std::string application = ctx.query.count("application") ? ctx.query.at("application") : "";
    auto access = std::make_shared<Access>(r.store(ctx.worker), *ctx.principal);
    ctx.stream = std::make_shared<EventStream>(r.jobs().events(),
                                               EventFilter(access, *ctx.principal, types, application), after,
                                               std::chrono::seconds(max));
    Response res{http::status::ok, ctx.request.version()};
    res.set(http::field::content_type, "text/event-stream; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    res.set("X-Accel-Buffering", "no");
    return res;
  });
}

// Publishes an application's change.
void Published(const JobRoutes& r, const jobs::Application& app, const std::string& action) {
  jobs::Event e;
  e.type = "application";
  e.application_id = app.id;
  e.data = {{"application_id", app.id}, {"name", app.name}, {"state", app.state}, {"action", action}};
  r.jobs().events().Publish({e});
}

}  // namespace

static void AddScheduleRoutes(Router& router, JobRoutes r) {
  using http::verb;
  auto v = [](const RequestContext& ctx) { return ctx.request.version(); };
  const std::string base = "/v1/applications/{app}/schedules";
  router.Add(verb::post, base, true, [r, v](RequestContext& ctx) {
    auto& meta = r.store(ctx.worker);
    JobStore store(meta);
    Access access(meta, *ctx.principal);
    auto app = VisibleApplication(store, access, ctx);
    if (!access.MaySubmit(app))
      throw Error::PermissionDenied("access denied: scheduling runs on application {} takes SUBMIT on it",
                                    app.name);
    auto s = jobs::ParseSchedule(JsonBody(ctx), r.jobs().lake_root(), r.jobs().types());
    std::string role = s.body.value("execution_role", "");
    if (!role.empty()) access.RequireAssume(role);
    s.application_id = app.id;
    s = jobs::ScheduleStore(meta).Create(s, *ctx.principal, r.jobs().Now());
    return JsonResponse(http::status::created, s.Json(), v(ctx));
  });
  router.Add(verb::get, base, true, [r, v](RequestContext& ctx) {
    auto& meta = r.store(ctx.worker);
    JobStore store(meta);
    Access access(meta, *ctx.principal);
    auto app = VisibleApplication(store, access, ctx);
    nlohmann::json list = nlohmann::json::array();
    const identity::Principal* owner = access.MayManage(app) ? nullptr : &*ctx.principal;
    for (auto& s : jobs::ScheduleStore(meta).List(app.id, owner)) list.push_back(s.Json());
    return JsonResponse(http::status::ok, {{"schedules", list}}, v(ctx));
  });
  router.Add(verb::get, base + "/{schedule}", true, [r, v](RequestContext& ctx) {
    auto& meta = r.store(ctx.worker);
    return JsonResponse(http::status::ok, VisibleSchedule(meta, Access(meta, *ctx.principal), ctx).Json(),
                        v(ctx));
  });
  router.Add(verb::delete_, base + "/{schedule}", true, [r, v](RequestContext& ctx) {
    auto& meta = r.store(ctx.worker);
    auto s = VisibleSchedule(meta, Access(meta, *ctx.principal), ctx);
    jobs::ScheduleStore(meta).Delete(s.id);
    return JsonResponse(http::status::ok, {{"deleted", s.id}}, v(ctx));
  });
}

bool MaySubmitTo(store::MetaStore& meta, const identity::Principal& caller, const jobs::Application& app) {
  return Access(meta, caller).MaySubmit(app);
}

void AddJobRoutes(Router& router, JobRoutes r) {
  AddEventRoute(router, r);
  AddScheduleRoutes(router, r);
  using http::verb;
  auto v = [](const RequestContext& ctx) { return ctx.request.version(); };
  router.Add(verb::post, "/v1/applications", true, [r, v](RequestContext& ctx) {
    auto& meta = r.store(ctx.worker);
    if (!Access(meta, *ctx.principal).MayCreate()) {
      throw Error::PermissionDenied(
          "access denied: creating applications takes CREATE APPLICATION (GRANT CREATE APPLICATION TO ...)");
    }
    auto app = jobs::ParseApplication(JsonBody(ctx));
    JobStore store(meta);
    // The creator owns what they create: ALL on it, WITH GRANT OPTION.
    meta.Transaction([&] {
      app = store.CreateApplication(app, ctx.principal->user);
      governance::PolicyStore(meta).GrantOwnership(ctx.principal->user, governance::ObjectKind::kApplication,
                                                   0, app.id);
    });
    Published(r, app, "created");
    return JsonResponse(http::status::created, app.Json(), v(ctx));
  });
  router.Add(verb::get, "/v1/applications", true, [r, v](RequestContext& ctx) {
    JobStore store(r.store(ctx.worker));
    Access access(r.store(ctx.worker), *ctx.principal);
    nlohmann::json list = nlohmann::json::array();
    for (auto& app : store.ListApplications()) {
      if (access.MaySubmit(app) || access.MayManage(app)) list.push_back(app.Json());
    }
    return JsonResponse(http::status::ok, {{"applications", list}}, v(ctx));
  });
  router.Add(verb::get, "/v1/applications/{app}", true, [r, v](RequestContext& ctx) {
    JobStore store(r.store(ctx.worker));
    Access access(r.store(ctx.worker), *ctx.principal);
    return JsonResponse(http::status::ok, VisibleApplication(store, access, ctx).Json(), v(ctx));
  });
  router.Add(verb::put, "/v1/applications/{app}", true, [r, v](RequestContext& ctx) {
    JobStore store(r.store(ctx.worker));
    auto app = ManagedApplication(store, Access(r.store(ctx.worker), *ctx.principal), ctx);
    auto updated = store.UpdateApplication(app.id, JsonBody(ctx));
    Published(r, updated, "updated");
    return JsonResponse(http::status::ok, updated.Json(), v(ctx));
  });
  for (auto [action, state] : {std::pair{"stop", "STOPPED"}, std::pair{"start", "STARTED"}}) {
    router.Add(verb::post, std::string("/v1/applications/{app}/") + action, true,
               [r, v, state](RequestContext& ctx) {
                 JobStore store(r.store(ctx.worker));
                 auto app = ManagedApplication(store, Access(r.store(ctx.worker), *ctx.principal), ctx);
                 auto changed = store.SetApplicationState(app.id, state);
                 Published(r, changed, state == std::string("STARTED") ? "started" : "stopped");
                 return JsonResponse(http::status::ok, changed.Json(), v(ctx));
               });
  }
  router.Add(verb::delete_, "/v1/applications/{app}", true, [r, v](RequestContext& ctx) {
    auto& meta = r.store(ctx.worker);
    JobStore store(meta);
    auto app = ManagedApplication(store, Access(meta, *ctx.principal), ctx);
    // The grants on it go with it.
    meta.Transaction([&] {
      store.DeleteApplication(app.id);
      governance::PolicyStore(meta).ForgetNamed(ctx.principal->user, governance::ObjectKind::kApplication,
                                                app.id);
    });
    app.state = "DELETED";
    Published(r, app, "deleted");
    return JsonResponse(http::status::ok, {{"deleted", app.id}}, v(ctx));
  });
  router.Add(verb::post, "/v1/applications/{app}/jobruns", true, [r, v](RequestContext& ctx) {
    JobStore store(r.store(ctx.worker));
    Access access(r.store(ctx.worker), *ctx.principal);
    auto app = VisibleApplication(store, access, ctx);
    if (!access.MaySubmit(app)) {
      throw Error::PermissionDenied("access denied: submitting to application {} takes SUBMIT on it",
                                    app.name);
    }
    auto spec = jobs::ParseJobSpec(JsonBody(ctx), r.jobs().lake_root(), r.jobs().types());
    if (!spec.execution_role.empty()) access.RequireAssume(spec.execution_role);
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
    Access access(r.store(ctx.worker), *ctx.principal);
    auto app = VisibleApplication(store, access, ctx);
    std::optional<jobs::RunState> state;
    if (ctx.query.count("state")) state = jobs::ParseRunState(ctx.query.at("state"));
    auto limit = QueryInt(ctx, "limit", 100, 1, 1000);
    nlohmann::json list = nlohmann::json::array();
    const identity::Principal* owner = access.MayManage(app) ? nullptr : &*ctx.principal;
    for (auto& run : store.ListRuns(app.id, owner, state, limit)) list.push_back(run.Json());
    return JsonResponse(http::status::ok, {{"job_runs", list}}, v(ctx));
  });
  router.Add(verb::get, "/v1/applications/{app}/jobruns/{run}", true, [r, v](RequestContext& ctx) {
    JobStore store(r.store(ctx.worker));
    return JsonResponse(http::status::ok,
                        VisibleRun(store, Access(r.store(ctx.worker), *ctx.principal), ctx).Json(), v(ctx));
  });
  router.Add(verb::delete_, "/v1/applications/{app}/jobruns/{run}", true, [r, v](RequestContext& ctx) {
    JobStore store(r.store(ctx.worker));
    auto run = VisibleRun(store, Access(r.store(ctx.worker), *ctx.principal), ctx);
    return JsonResponse(http::status::ok, r.jobs().Cancel(store, run, ctx.principal->user).Json(), v(ctx));
  });
  router.Add(verb::get, "/v1/applications/{app}/jobruns/{run}/attempts", true, [r, v](RequestContext& ctx) {
    JobStore store(r.store(ctx.worker));
    auto run = VisibleRun(store, Access(r.store(ctx.worker), *ctx.principal), ctx);
    nlohmann::json list = nlohmann::json::array();
    for (auto& a : store.Attempts(run.id)) list.push_back(a.Json());
    return JsonResponse(http::status::ok, {{"job_run_id", run.id}, {"attempts", list}}, v(ctx));
  });
  router.Add(verb::get, "/v1/applications/{app}/jobruns/{run}/steps", true, [r, v](RequestContext& ctx) {
    JobStore store(r.store(ctx.worker));
    auto run = VisibleRun(store, Access(r.store(ctx.worker), *ctx.principal), ctx);
    nlohmann::json list = nlohmann::json::array();
    for (auto& step : store.Steps(run.id)) list.push_back(step.Json());
    return JsonResponse(http::status::ok, {{"job_run_id", run.id}, {"steps", list}}, v(ctx));
  });
  router.Add(verb::get, "/v1/applications/{app}/jobruns/{run}/result", true, [r, v](RequestContext& ctx) {
    JobStore store(r.store(ctx.worker));
    auto run = VisibleRun(store, Access(r.store(ctx.worker), *ctx.principal), ctx);
    std::string format = ctx.query.count("format") ? ctx.query.at("format") : "json";
    if (format != "json" && format != "csv" && format != "parquet")
      throw Error::InvalidArgument("query parameter 'format' must be json, csv or parquet");
    if (!jobs::IsTerminal(run.state) || !run.result_rows)
      throw Error::NotFound(
          "job run {} kept no result ({}): only a run whose last statement is a query keeps one", run.id,
          jobs::RunStateName(run.state));
    auto offset = QueryInt(ctx, "offset", 0, 0, INT64_MAX);
    auto limit = QueryInt(ctx, "limit", 10000, 1, 1000000);
    auto result = jobs::ReadResult(r.jobs().ResultPath(run), format, offset, limit);
    return TextResponse(http::status::ok, result.body, result.content_type, v(ctx));
  });
  // The files a run wrote (a pipeline's file outputs), once it ended.
  router.Add(verb::get, "/v1/applications/{app}/jobruns/{run}/files", true, [r, v](RequestContext& ctx) {
    JobStore store(r.store(ctx.worker));
    auto run = VisibleRun(store, Access(r.store(ctx.worker), *ctx.principal), ctx);
    nlohmann::json files = nlohmann::json::array();
    std::error_code ec;
    if (jobs::IsTerminal(run.state)) {
      std::vector<std::pair<std::string, uintmax_t>> found;
      for (auto& e : std::filesystem::directory_iterator(r.jobs().FilesDir(run), ec)) {
        std::string name = e.path().filename().string();
        if (e.is_regular_file() && !name.starts_with(".")) found.emplace_back(name, e.file_size());
      }
      std::sort(found.begin(), found.end());
      for (auto& [name, size] : found) files.push_back({{"name", name}, {"bytes", size}});
    }
    return JsonResponse(http::status::ok, {{"job_run_id", run.id}, {"files", files}}, v(ctx));
  });
  router.Add(
      verb::get, "/v1/applications/{app}/jobruns/{run}/files/{name}", true, [r, v](RequestContext& ctx) {
        JobStore store(r.store(ctx.worker));
        auto run = VisibleRun(store, Access(r.store(ctx.worker), *ctx.principal), ctx);
        const std::string& name = ctx.params["name"];
        auto path = r.jobs().FilesDir(run) / name;
        std::error_code ec;
        bool bare = !name.empty() && name.find('/') == std::string::npos && !name.starts_with(".");
        if (!bare || !jobs::IsTerminal(run.state) || !std::filesystem::is_regular_file(path, ec) ||
            std::filesystem::is_symlink(path, ec))
          throw Error::NotFound("job run {} has no file {}", run.id, name.substr(0, 128));
        std::string type = name.ends_with(".csv") ? "text/csv"
                           : name.ends_with(".xlsx")
                               ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                           : name.ends_with(".parquet") ? "application/vnd.apache.parquet"
                           : name.ends_with(".json")    ? "application/json"
                                                        : "application/octet-stream";
        bool html = name.ends_with(".html");
        if (html) type = "text/html; charset=utf-8";
        auto res = TextResponse(http::status::ok, ReadTextFile(path), type, v(ctx));
        // A report shows inside the studio with ?inline=1: sandboxed, no script.
        bool inline_html = html && ctx.query["inline"] == "1";
        res.set(http::field::content_disposition,
                inline_html ? std::string("inline") : "attachment; filename=\"" + name + "\"");
        res.set("X-Content-Type-Options", "nosniff");
        if (html)
          res.set("Content-Security-Policy",
                  "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors " +
                      std::string(inline_html ? "'self'" : "'none'"));
        return res;
      });
  router.Add(verb::get, "/v1/applications/{app}/jobruns/{run}/logs", true, [r, v](RequestContext& ctx) {
    JobStore store(r.store(ctx.worker));
    auto run = VisibleRun(store, Access(r.store(ctx.worker), *ctx.principal), ctx);
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
