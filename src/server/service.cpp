#include "server/service.h"

#include <openssl/crypto.h>

#include <optional>

#include "audit/audit_log.h"
#include "audit/events.h"
#include "governance/policy.h"
#include "identity/authenticator.h"
#include "identity/directory.h"
#include "identity/keys.h"
#include "quality/recon_job.h"
#include "quality/validation.h"
#include "server/authorize_routes.h"
#include "server/http_client.h"
#include "server/http_server.h"
#include "server/job_routes.h"
#include "server/livy_routes.h"
#include "server/metrics.h"
#include "server/queries.h"
#include "server/slurm_routes.h"
#include "server/static_assets.h"
#include "server/studio_routes.h"
#include "server/upload_routes.h"
#include "server/workspace_routes.h"

namespace tarn::server {

namespace {

std::string StringField(const nlohmann::json& body, const char* name, bool required = true) {
  if (!body.contains(name)) {
    if (required) throw Error::InvalidArgument("field '{}' is required", name);
    return "";
  }
  if (!body[name].is_string()) throw Error::InvalidArgument("field '{}' must be a string", name);
  return body[name];
}

void RequireAdmin(const RequestContext& ctx) {
  if (!ctx.principal || !ctx.principal->admin) {
    throw Error::PermissionDenied("only a data-lake administrator may do this");
  }
}

// A refused token request as RFC 6749 §5.2 says: 400 (401 for a client that failed
// to authenticate) with {"error", "error_description"}. A refused identity is
// described as nothing more than "invalid credentials".
Response TokenError(const Error& e, const std::string& grant, unsigned version) {
  std::string error;
  auto status = http::status::bad_request;
  switch (e.code()) {
    case ErrorCode::kInvalidArgument: error = "invalid_request"; break;
    case ErrorCode::kUnsupported: error = "unsupported_grant_type"; break;
    case ErrorCode::kUnauthenticated:
      error = grant == "client_credentials" ? "invalid_client" : "invalid_grant";
      if (error == "invalid_client") status = http::status::unauthorized;
      break;
    default: throw e;  // not the client's fault: the generic error answer
  }
  std::string description = e.code() == ErrorCode::kUnauthenticated ? "invalid credentials" : e.what();
  auto res = JsonResponse(status, {{"error", error}, {"error_description", description}}, version);
  if (status == http::status::unauthorized) res.set(http::field::www_authenticate, "Basic realm=\"tarn\"");
  res.set(http::field::cache_control, "no-store");
  res.set(http::field::pragma, "no-cache");
  return res;
}

nlohmann::json PrincipalJson(const identity::Principal& p) {
  return {{"user", p.user},
          {"groups", p.groups},
          {"issuer", p.issuer},
          {"admin", p.admin},
          {"service", p.service}};
}

}  // namespace

struct Service::Impl {
  session::Instance& instance;
  ServerConfig config;
  Metrics metrics;
  Router router;
  std::unique_ptr<identity::KeyManager> keys;
  std::unique_ptr<identity::Authenticator> auth;
  std::unique_ptr<session::Runner> runner;
  std::unique_ptr<Statements> queries;
  std::shared_ptr<scale::SlurmExecutor> slurm;            // the jobs' slurm executor
  std::unique_ptr<jobs::JobService> jobs;                 // after the runner: stopped before it
  std::unique_ptr<scale::NodeWatcher> nodes;              // after jobs (publishes to its bus): stopped first
  std::unique_ptr<livy::LivyService> livy;                // after the runner: stopped before it
  std::vector<std::unique_ptr<store::MetaStore>> stores;  // one per worker
  std::unique_ptr<HttpServer> http;
  std::string issuer;

  Impl(session::Instance& i, ServerConfig c) : instance(i), config(std::move(c)) {}

  identity::Directory Directory(size_t worker) { return identity::Directory(*stores.at(worker)); }
  void AddRoutes();
  // /metrics is for the configured scrape token, administrators and the role
  // `monitor`; anyone else gets 403 (401 without a valid token).
  void AuthorizeMetrics(RequestContext& ctx);
  // The principal a bearer token stands for (built-in or trusted issuer).
  identity::Principal Authenticate(std::string_view token, size_t worker) {
    auto dir = Directory(worker);
    return auth->Bearer(token, dir);
  }
  // A bearer token, or else the studio's session cookie (studio_routes.h).
  identity::Principal AuthenticateRequest(const Request& req, size_t worker) {
    if (req.find(http::field::authorization) == req.end()) {
      auto dir = Directory(worker);
      if (auto p = StudioPrincipal(req, studio, dir)) return *p;
    }
    return Authenticate(BearerToken(req), worker);
  }
  StudioSessions studio{std::chrono::seconds(config.studio_session_idle_s),
                        std::chrono::seconds(config.studio_session_max_s)};
  StaticAssets studio_assets = StaticAssets::Load(config.studio_assets);
  std::unique_ptr<ExternalIdp> studio_idp =
      config.studio_idp.enabled() ? std::make_unique<ExternalIdp>(config.studio_idp) : nullptr;
};

void Service::Impl::AuthorizeMetrics(RequestContext& ctx) {
  std::string_view token = BearerToken(ctx.request);
  const std::string& scrape = config.metrics_token;
  if (!scrape.empty() && token.size() == scrape.size() &&
      CRYPTO_memcmp(token.data(), scrape.data(), token.size()) == 0) {
    return;
  }
  ctx.principal = Authenticate(token, ctx.worker);
  if (ctx.principal->admin) return;
  governance::PolicyStore policies(*stores.at(ctx.worker));
  auto subject = governance::MakeSubject(*ctx.principal, *policies.Load());
  if (!subject.Is({governance::GranteeKind::kRole, "monitor"})) {
    throw Error::PermissionDenied("access denied: /metrics is for administrators and the role monitor");
  }
}

void Service::Impl::AddRoutes() {
  using http::verb;
  auto v = [](const RequestContext& ctx) { return ctx.request.version(); };
  // Administration and catalog reads leave an audit record, refused ones too: who,
  // what, on which names (the route's path parameters and a body's "name"; never a
  // password).
  auto Audited = [this](const char* event, const char* action, Handler handler) -> Handler {
    return [this, event, action, handler = std::move(handler)](RequestContext& ctx) {
      audit::ActionEvent e;
      e.event = event;
      e.action = action;
      const auto& p = *ctx.principal;
      e.actor = {p.user, p.groups, {}, p.issuer};
      e.origin = "http";
      e.origin.request_id = ctx.request_id;
      for (auto& [k, val] : ctx.params) e.details[k] = val.substr(0, 256);
      try {
        auto body = nlohmann::json::parse(ctx.request.body(), nullptr, false);
        if (body.is_object() && body.contains("name") && body["name"].is_string())
          e.details["name"] = body["name"].get<std::string>().substr(0, 256);
      } catch (...) {
      }
      try {
        Response res = handler(ctx);
        instance.audit().Append(audit::ToJson(e));
        return res;
      } catch (const Error& err) {
        e.outcome = audit::OutcomeOf(&err);
        e.reason = err.what();
        instance.audit().Append(audit::ToJson(e));
        throw;
      }
    };
  };

  // --- health, metrics, discovery ------------------------------------------------
  router.Add(verb::get, "/healthz", false, [v](RequestContext& ctx) {
    return JsonResponse(http::status::ok, {{"status", "ok"}}, v(ctx));
  });
  router.Add(verb::get, "/readyz", false, [this, v](RequestContext& ctx) {
    stores.at(ctx.worker)->Query("SELECT 1");
    return JsonResponse(http::status::ok, {{"status", "ready"}}, v(ctx));
  });
  router.Add(verb::get, "/metrics", false, [this, v](RequestContext& ctx) {
    AuthorizeMetrics(ctx);
    jobs::JobStore reader(*stores.at(ctx.worker));
    return TextResponse(http::status::ok,
                        metrics.Render(http->queue_depth()) + (jobs ? jobs->RenderMetrics(reader) : "") +
                            (nodes ? nodes->RenderMetrics() : ""),
                        "text/plain; version=0.0.4", v(ctx));
  });
  router.Add(verb::get, "/.well-known/openid-configuration", false, [this, v](RequestContext& ctx) {
    return JsonResponse(
        http::status::ok,
        {{"issuer", issuer},
         {"jwks_uri", issuer + "/.well-known/jwks.json"},
         {"token_endpoint", issuer + "/oauth2/token"},
         {"authorization_endpoint", issuer + "/oauth2/authorize"},
         {"grant_types_supported", {"password", "client_credentials", "authorization_code"}},
         {"code_challenge_methods_supported", {"S256"}},
         {"token_endpoint_auth_methods_supported", {"client_secret_post", "client_secret_basic"}},
         {"id_token_signing_alg_values_supported", {config.algorithm}},
         {"subject_types_supported", {"public"}},
         {"response_types_supported", {"code", "token"}},
         {"claims_supported", {"iss", "aud", "sub", "exp", "iat", "nbf", "groups"}}},
        v(ctx));
  });
  router.Add(verb::get, "/.well-known/jwks.json", false, [this, v](RequestContext& ctx) {
    auto res = JsonResponse(http::status::ok, keys->Jwks(), v(ctx));
    res.set(http::field::cache_control, "public, max-age=300");
    return res;
  });

  // --- tokens -------------------------------------------------------------------
  router.Add(verb::post, "/oauth2/token", false, [this, v](RequestContext& ctx) {
    audit::Origin origin = "http";
    origin.request_id = ctx.request_id;
    std::string grant;
    try {
      auto type = ctx.request[http::field::content_type];
      if (type.find("application/x-www-form-urlencoded") == std::string_view::npos) {
        throw Error::InvalidArgument("send the token request as application/x-www-form-urlencoded");
      }
      auto form = ParseForm(ctx.request.body());
      grant = form.count("grant_type") ? form["grant_type"] : "";
      auto dir = Directory(ctx.worker);
      auto auth_header = ctx.request[http::field::authorization];
      auto token = auth->Grant(dir, form, std::string_view(auth_header.data(), auth_header.size()), origin);
      auto res = JsonResponse(http::status::ok,
                              {{"access_token", token.access_token},
                               {"token_type", "Bearer"},
                               {"expires_in", token.expires_in.count()}},
                              v(ctx));
      res.set(http::field::cache_control, "no-store");
      res.set(http::field::pragma, "no-cache");
      return res;
    } catch (const Error& e) {
      return TokenError(e, grant, v(ctx));
    }
  });

  AddAuthorizeRoutes(router, {[this]() -> identity::Authenticator& { return *auth; },
                              [this](size_t worker) { return Directory(worker); }});
  AddStudioRoutes(router, {[this]() -> identity::Authenticator& { return *auth; },
                           [this](size_t worker) { return Directory(worker); }, [this] { return issuer; },
                           &studio, config.tls(), &studio_assets, studio_idp.get()});

  // --- statements ---------------------------------------------------------------
  router.Add(verb::post, "/v1/statements", true, [this, v](RequestContext& ctx) {
    auto request = ParseStatementRequest(ctx, config.max_result_rows);
    request.request_id = ctx.request_id;
    return queries->Run(request, ctx);
  });
  router.Add(verb::get, "/v1/queries", true,
             [this, v](RequestContext& ctx) { return queries->List(*ctx.principal, v(ctx)); });
  router.Add(verb::get, "/v1/queries/{id}/results/{page}", true, [this, v](RequestContext& ctx) {
    return queries->Page(ctx.params["id"], ctx.params["page"], *ctx.principal, v(ctx));
  });
  router.Add(verb::get, "/v1/queries/{id}", true, [this, v](RequestContext& ctx) {
    return queries->Get(ctx.params["id"], *ctx.principal, v(ctx));
  });
  router.Add(verb::delete_, "/v1/queries/{id}", true, [this, v](RequestContext& ctx) {
    return queries->Cancel(ctx.params["id"], *ctx.principal, v(ctx));
  });

  // --- catalog ------------------------------------------------------------------
  // The catalog API shows what the caller may see, as SHOW / DESCRIBE do.
  auto lease = [this](RequestContext& ctx) {
    audit::Origin origin;
    origin.kind = "http";
    origin.request_id = ctx.request_id;
    auto s = runner->Borrow({*ctx.principal, origin});
    s->governor().BeginStatement();
    return s;
  };
  router.Add(verb::get, "/v1/databases", true,
             Audited("catalog_read", "LIST DATABASES", [this, v, lease](RequestContext& ctx) {
               auto s = lease(ctx);
               nlohmann::json list = nlohmann::json::array();
               for (auto& d : s->governor().VisibleDatabases()) list.push_back({{"name", d}});
               return JsonResponse(http::status::ok, {{"databases", list}}, v(ctx));
             }));
  router.Add(verb::get, "/v1/databases/{db}/tables", true,
             Audited("catalog_read", "LIST TABLES", [this, v, lease](RequestContext& ctx) {
               auto s = lease(ctx);
               nlohmann::json list = nlohmann::json::array();
               for (auto& t : s->governor().VisibleTables(ctx.params["db"])) {
                 list.push_back({{"name", t.name},
                                 {"kind", catalog::TableKindName(t.kind)},
                                 {"format", std::string(lake::FormatName(t.format))},
                                 {"location", t.location}});
               }
               return JsonResponse(
                   http::status::ok,
                   {{"database", catalog::CheckName(ctx.params["db"], "database")}, {"tables", list}},
                   v(ctx));
             }));
  router.Add(verb::get, "/v1/databases/{db}/tables/{table}", true,
             Audited("catalog_read", "DESCRIBE TABLE", [this, v, lease](RequestContext& ctx) {
               auto s = lease(ctx);
               auto view = s->governor().DescribeTable(ctx.params["db"], ctx.params["table"]);
               const auto& t = view.table;
               nlohmann::json snapshot = nullptr;
               if (view.snapshot) {
                 snapshot = {{"id", view.snapshot->id},
                             {"operation", view.snapshot->operation},
                             {"row_count", view.snapshot->row_count},
                             {"file_count", view.snapshot->file_count},
                             {"byte_size", view.snapshot->byte_size},
                             {"created_at", view.snapshot->created_at}};
               }
               nlohmann::json columns = nlohmann::json::array();
               for (auto& c : t.schema) {
                 nlohmann::json col = {{"name", c.name}, {"type", c.type}};
                 if (auto it = view.stats.find(c.name); it != view.stats.end()) col["stats"] = it->second;
                 columns.push_back(col);
               }
               return JsonResponse(http::status::ok,
                                   {{"database", t.database},
                                    {"name", t.name},
                                    {"kind", catalog::TableKindName(t.kind)},
                                    {"format", std::string(lake::FormatName(t.format))},
                                    {"location", t.location},
                                    {"partition_columns", t.partition_columns},
                                    {"columns", columns},
                                    {"snapshot", snapshot},
                                    {"created_at", t.created_at}},
                                   v(ctx));
             }));

  AddUploadRoutes(router, {[this]() -> session::Runner& { return *runner; }, instance.temp_dir(),
                           instance.options().data_dir / "uploads"});

  // --- jobs ---------------------------------------------------------------------
  AddWorkspaceRoutes(router, {[this](size_t worker) -> store::MetaStore& { return *stores.at(worker); }});
  AddJobRoutes(router, {[this](size_t worker) -> store::MetaStore& { return *stores.at(worker); },
                        [this]() -> jobs::JobService& { return *jobs; }});
  AddWorkerRoutes(router, [this]() -> scale::SlurmExecutor& { return *slurm; });

  // --- Livy ---------------------------------------------------------------------
  LivyRoutes lr;
  lr.base_path = config.livy_base_path;
  lr.allow_basic_over_http = config.livy_allow_basic_over_http;
  lr.csrf = config.livy_csrf;
  lr.bearer = [this](std::string_view token, size_t worker) { return Authenticate(token, worker); };
  lr.password = [this](const std::string& user, std::string_view password, size_t worker) {
    auto dir = Directory(worker);
    return auth->Password(dir, user, password, identity::UserKind::kPerson, audit::Origin{"livy"});
  };
  lr.may_manage = [this](const identity::Principal& p, size_t worker) {
    if (p.admin) return true;
    auto policy = governance::PolicyStore(*stores.at(worker)).Load();
    return !governance::SystemPrivilege(*policy, governance::MakeSubject(p, *policy), "MANAGE_LIVY").empty();
  };
  lr.impersonate = [this](const identity::Principal& caller, const std::string& user, size_t worker) {
    auto& meta = *stores.at(worker);
    auto policy = governance::PolicyStore(meta).Load();
    // A built-in user, as now; one answer for "no such user" and "not allowed".
    auto who = identity::Directory(meta).Lookup(user, issuer);
    if (!who || !governance::MayImpersonate(*policy, governance::MakeSubject(caller, *policy), who->user,
                                            who->groups)) {
      throw Error::PermissionDenied("User '{}' not allowed to impersonate '{}'.", caller.user,
                                    user.substr(0, 64));
    }
    return *who;
  };
  lr.livy = [this]() -> livy::LivyService& { return *livy; };
  lr.store = [this](size_t worker) -> store::MetaStore& { return *stores.at(worker); };
  lr.jobs = [this]() -> jobs::JobService& { return *jobs; };
  AddLivyRoutes(router, std::move(lr));

  // --- identity -----------------------------------------------------------------
  // The audit chain recomputed (docs/audit.md), for AUDIT holders.
  router.Add(verb::get, "/v1/audit/verify", true, [this, v](RequestContext& ctx) {
    auto policy = governance::PolicyStore(*stores.at(ctx.worker)).Load();
    if (governance::SystemPrivilege(*policy, governance::MakeSubject(*ctx.principal, *policy), "AUDIT")
            .empty())
      throw Error::PermissionDenied(
          "verifying the audit trail needs the AUDIT privilege (GRANT AUDIT TO USER ...)");
    auto r = audit::Verify(instance.audit_dir());
    return JsonResponse(
        http::status::ok,
        {{"ok", r.ok}, {"events", r.events}, {"segments", r.segments}, {"problem", r.problem}}, v(ctx));
  });
  router.Add(verb::get, "/v1/whoami", true, [v](RequestContext& ctx) {
    return JsonResponse(http::status::ok, PrincipalJson(*ctx.principal), v(ctx));
  });
  router.Add(verb::get, "/v1/users", true, Audited("admin", "LIST USERS", [this, v](RequestContext& ctx) {
               RequireAdmin(ctx);
               nlohmann::json list = nlohmann::json::array();
               for (auto& u : Directory(ctx.worker).ListUsers()) {
                 list.push_back({{"name", u.name},
                                 {"kind", u.kind == identity::UserKind::kService ? "service" : "person"},
                                 {"admin", u.admin},
                                 {"groups", u.groups},
                                 {"created_at", u.created_at}});
               }
               return JsonResponse(http::status::ok, {{"users", list}}, v(ctx));
             }));
  router.Add(verb::post, "/v1/users", true, Audited("admin", "CREATE USER", [this, v](RequestContext& ctx) {
               RequireAdmin(ctx);
               auto body = JsonBody(ctx);
               std::string name = StringField(body, "name"), password = StringField(body, "password");
               std::string kind = StringField(body, "kind", false);
               if (!kind.empty() && kind != "person" && kind != "service") {
                 throw Error::InvalidArgument("kind must be person or service");
               }
               std::vector<std::string> groups;
               if (body.contains("groups")) {
                 if (!body["groups"].is_array())
                   throw Error::InvalidArgument("field 'groups' must be an array of names");
                 for (auto& g : body["groups"]) {
                   if (!g.is_string())
                     throw Error::InvalidArgument("field 'groups' must be an array of names");
                   groups.push_back(g);
                 }
               }
               auto dir = Directory(ctx.worker);
               auto existing = dir.ListGroups();
               for (auto& g : groups) {
                 if (std::find(existing.begin(), existing.end(), identity::CheckPrincipalName(g, "group")) ==
                     existing.end()) {
                   throw Error::NotFound("group {} does not exist", identity::CheckPrincipalName(g, "group"));
                 }
               }
               auto& store = *stores.at(ctx.worker);
               store.Transaction([&] {
                 dir.AddUser(name, password,
                             kind == "service" ? identity::UserKind::kService : identity::UserKind::kPerson,
                             false);
                 for (auto& g : groups) dir.AddMember(g, name);
               });
               return JsonResponse(http::status::created,
                                   {{"name", identity::CheckPrincipalName(name, "user")}}, v(ctx));
             }));
  router.Add(verb::delete_, "/v1/users/{name}", true,
             Audited("admin", "DROP USER", [this, v](RequestContext& ctx) {
               RequireAdmin(ctx);
               if (identity::CheckPrincipalName(ctx.params["name"], "user") == ctx.principal->user) {
                 throw Error::InvalidArgument("you cannot remove yourself");
               }
               Directory(ctx.worker).RemoveUser(ctx.params["name"]);
               queries->ForgetUser(identity::CheckPrincipalName(ctx.params["name"], "user"), issuer);
               return JsonResponse(http::status::ok, {{"removed", ctx.params["name"]}}, v(ctx));
             }));
  router.Add(verb::put, "/v1/users/{name}/password", true,
             Audited("admin", "SET PASSWORD", [this, v](RequestContext& ctx) {
               bool self = identity::CheckPrincipalName(ctx.params["name"], "user") == ctx.principal->user &&
                           ctx.principal->issuer == issuer;
               if (!self) RequireAdmin(ctx);
               auto body = JsonBody(ctx);
               Directory(ctx.worker).SetPassword(ctx.params["name"], StringField(body, "password"));
               return JsonResponse(http::status::ok, {{"updated", ctx.params["name"]}}, v(ctx));
             }));
  router.Add(
      verb::get, "/v1/groups", true, Audited("admin", "LIST GROUPS", [this, v](RequestContext& ctx) {
        RequireAdmin(ctx);
        return JsonResponse(http::status::ok, {{"groups", Directory(ctx.worker).ListGroups()}}, v(ctx));
      }));
  router.Add(verb::post, "/v1/groups", true, Audited("admin", "CREATE GROUP", [this, v](RequestContext& ctx) {
               RequireAdmin(ctx);
               auto body = JsonBody(ctx);
               Directory(ctx.worker).AddGroup(StringField(body, "name"));
               return JsonResponse(http::status::created,
                                   {{"name", identity::CheckPrincipalName(body["name"], "group")}}, v(ctx));
             }));
  router.Add(verb::delete_, "/v1/groups/{name}", true,
             Audited("admin", "DROP GROUP", [this, v](RequestContext& ctx) {
               RequireAdmin(ctx);
               Directory(ctx.worker).RemoveGroup(ctx.params["name"]);
               return JsonResponse(http::status::ok, {{"removed", ctx.params["name"]}}, v(ctx));
             }));
  router.Add(verb::put, "/v1/groups/{name}/members/{user}", true,
             Audited("admin", "ADD MEMBER", [this, v](RequestContext& ctx) {
               RequireAdmin(ctx);
               Directory(ctx.worker).AddMember(ctx.params["name"], ctx.params["user"]);
               return JsonResponse(http::status::ok,
                                   {{"group", ctx.params["name"]}, {"added", ctx.params["user"]}}, v(ctx));
             }));
  router.Add(verb::delete_, "/v1/groups/{name}/members/{user}", true,
             Audited("admin", "REMOVE MEMBER", [this, v](RequestContext& ctx) {
               RequireAdmin(ctx);
               Directory(ctx.worker).RemoveMember(ctx.params["name"], ctx.params["user"]);
               return JsonResponse(http::status::ok,
                                   {{"group", ctx.params["name"]}, {"removed", ctx.params["user"]}}, v(ctx));
             }));
}

Service::Service(session::Instance& instance, ServerConfig config)
    : impl_(std::make_unique<Impl>(instance, std::move(config))) {
  Validate(impl_->config);
  impl_->AddRoutes();
}

Service::~Service() {
  if (impl_->http)
    impl_->http->Shutdown([this] {
      if (impl_->jobs) impl_->jobs->Stop();
      impl_->queries->CancelAll();
    });
}

void Service::Start() {
  auto& s = *impl_;
  auto alg = s.config.algorithm == "ES256" ? identity::JwtAlgorithm::kES256 : identity::JwtAlgorithm::kRS256;
  s.keys = std::make_unique<identity::KeyManager>(s.instance.options().data_dir / "keys", alg);
  for (int i = 0; i < s.config.workers; i++) s.stores.push_back(s.instance.OpenMetastore());
  session::RunnerOptions ro;
  ro.statement_timeout = std::chrono::seconds(s.config.statement_timeout_s);
  s.runner = std::make_unique<session::Runner>(s.instance, ro);
  s.queries = std::make_unique<Statements>(*s.runner, s.instance.temp_dir(), s.config.max_result_bytes,
                                           s.metrics.active_queries);
  s.http = std::make_unique<HttpServer>(
      s.config, s.router, s.metrics,
      [this](const Request& req, size_t worker) { return impl_->AuthenticateRequest(req, worker); });
  // Issuer and verifier are set before the first connection is accepted; with
  // port 0 the issuer URL is only known once bound.
  s.http->Start([&](uint16_t port) {
    ServerConfig bound = s.config;
    bound.port = port;
    s.issuer = s.config.issuer.empty() ? bound.BaseUrl() : s.config.issuer;
    std::vector<identity::TrustedIssuer> trusted;
    for (auto& t : s.config.trusted_issuers) {
      trusted.push_back({t.issuer, t.audience, t.jwks_file, t.jwks_url, t.user_claim, t.groups_claim,
                         std::chrono::seconds(t.refresh_s)});
    }
    identity::AuthenticatorOptions ao;
    ao.issuer = s.issuer;
    ao.audience = s.config.audience;
    ao.token_ttl = std::chrono::seconds(s.config.token_ttl_s);
    ao.trusted = std::move(trusted);
    // The studio signs people in with the authorization-code flow (docs/server.md).
    ao.clients = {{"tarn-studio", {s.issuer + "/studio/callback"}}};
    ao.fetch = [](const std::string& url) {
      ClientOptions o;
      o.timeout = std::chrono::seconds(5);
      o.max_response_bytes = 1 << 20;
      return FetchBody(url, o);
    };
    s.auth = std::make_unique<identity::Authenticator>(*s.keys, s.instance.audit(), std::move(ao));
    jobs::JobServiceOptions jo;
    jo.builtin_issuer = s.issuer;
    jo.workers = s.config.job_workers;
    jo.external_identity_ttl = std::chrono::seconds(s.config.job_external_identity_ttl_s);
    jo.schedule_poll = std::chrono::milliseconds(s.config.job_schedule_poll_ms);
    if (s.config.job_clock) jo.clock = s.config.job_clock;
    if (s.config.job_deadline_clock) jo.deadline_clock = s.config.job_deadline_clock;
    jo.types = {quality::MakeReconciliationJobType(s.instance.options().data_dir / "uploads"),
                quality::MakeValidationJobType({s.config.connections, &s.instance.audit()})};
    s.slurm = MakeSlurmExecutor(s.config, s.instance, bound.BaseUrl());
    jo.executors = {s.slurm};
    s.jobs = std::make_unique<jobs::JobService>(s.instance, *s.runner, jo);
    s.nodes = MakeNodeWatcher(s.config, s.instance, s.jobs->events());
    livy::LivyOptions lo;
    lo.workers = s.config.livy_workers;
    lo.max_result_rows = s.config.livy_max_result_rows;
    lo.max_statements = static_cast<size_t>(std::max<int64_t>(1, s.config.livy_max_statements));
    lo.idle_timeout = std::chrono::seconds(s.config.livy_session_idle_timeout_s);
    lo.retain_ended = std::chrono::seconds(s.config.livy_keep_ended_sessions_s);
    lo.reap_interval = std::chrono::milliseconds(s.config.livy_reap_interval_ms);
    lo.clock = s.config.livy_clock;
    s.livy = std::make_unique<livy::LivyService>(*s.runner, s.instance.OpenMetastore(), lo);
  });
}

uint16_t Service::port() const {
  return impl_->http->port();
}
std::string Service::issuer() const {
  return impl_->issuer;
}
const Router& Service::router() const {
  return impl_->router;
}

void Service::Shutdown() {
  if (impl_->http)
    impl_->http->Shutdown([this] {
      if (impl_->jobs) impl_->jobs->Stop();  // its running runs stop (queued again or FAILED "interrupted")
      impl_->queries->CancelAll();
    });
}

void Service::Wait() {
  impl_->http->Wait();
}

}  // namespace tarn::server
