#include "server/livy_routes.h"

#include "server/livy_internal.h"

#include <chrono>
#include <mutex>
#include <set>

#include "audit/audit_log.h"
#include "common/util.h"
#include "identity/authenticator.h"

namespace tarn::server {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// Verified Basic credentials, for 60 s: keyed by a salted hash, never the password.
class BasicCache {
 public:
  std::optional<identity::Principal> Find(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.second < Clock::now()) return std::nullopt;
    return it->second.first;
  }
  void Put(const std::string& key, const identity::Principal& p) {
    std::lock_guard lock(mu_);
    if (entries_.size() >= 10000) entries_.clear();  // a bound, not an eviction policy
    entries_[key] = {p, Clock::now() + std::chrono::seconds(60)};
  }
  std::string Key(const std::string& user, std::string_view password) const {
    return audit::Sha256Hex(salt_ + user + '\0' + std::string(password));
  }

 private:
  std::mutex mu_;
  std::string salt_ = RandomHex(16);
  std::map<std::string, std::pair<identity::Principal, Clock::time_point>> entries_;
};

// Livy's error shape: {"msg": ...} with the status for the error's code. Internal
// errors say nothing more than that.
Response LivyError(const Error& e, unsigned version) {
  std::string msg = e.code() == ErrorCode::kInternal ? "internal error" : e.what();
  auto res = JsonResponse(StatusFor(e.code()), {{"msg", msg}}, version);
  if (e.code() == ErrorCode::kUnauthenticated) res.set(http::field::www_authenticate, "Basic realm=\"tarn\"");
  return res;
}

}  // namespace

json LivyBody(const RequestContext& ctx, const std::set<std::string>& fields, const char* what) {
  json body;
  try {
    body = ctx.request.body().empty() ? json::object() : json::parse(ctx.request.body());
  } catch (const json::exception&) {
    throw Error::InvalidArgument("the body must be a JSON object");
  }
  if (!body.is_object()) throw Error::InvalidArgument("the body must be a JSON object");
  for (auto& [k, v] : body.items()) {
    if (!fields.count(k)) {
      std::string known;
      for (auto& f : fields) known += (known.empty() ? "" : ", ") + f;
      throw Error::InvalidArgument("Unrecognized field \"{}\": {} takes {}", k.substr(0, 64), what, known);
    }
  }
  return body;
}

// A field of a type: string, integer, array of strings or object of strings.
void LivyCheck(const json& body, const std::string& name, json::value_t type) {
  if (!body.contains(name) || body[name].is_null()) return;
  const json& v = body[name];
  bool ok = type == json::value_t::number_integer ? v.is_number_integer() : v.type() == type;
  if (ok && (v.is_array() || v.is_object())) {
    for (auto& item : v) ok = ok && item.is_string();
  }
  if (!ok) {
    const char* want = type == json::value_t::string           ? "a string"
                       : type == json::value_t::number_integer ? "an integer"
                       : type == json::value_t::array          ? "a list of strings"
                                                               : "an object of strings";
    throw Error::InvalidArgument("field '{}' must be {}", name, want);
  }
}

std::string LivyProxyUser(const RequestContext& ctx, const json& body) {
  std::string proxy = body.value("proxyUser", "");
  if (auto it = ctx.query.find("doAs"); it != ctx.query.end()) proxy = it->second;
  return proxy == ctx.principal->user ? "" : proxy;
}

int64_t LivyIntParam(const RequestContext& ctx, const std::string& name, int64_t fallback) {
  auto it = ctx.query.find(name);
  if (it == ctx.query.end() || it->second.empty()) return fallback;
  try {
    size_t used = 0;
    int64_t v = std::stoll(it->second, &used);
    if (used == it->second.size()) return v;
  } catch (const std::exception&) {
  }
  throw Error::InvalidArgument("'{}' must be an integer", name);
}

namespace {

int64_t IdParam(const RequestContext& ctx, const std::string& name) {
  const std::string& text = ctx.params.at(name);
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos)
    throw Error::NotFound("Statement not found");
  return std::stoll(text);
}

livy::Kind ParseSessionKind(const json& body) {
  if (!body.contains("kind") || body["kind"].is_null()) return livy::Kind::kShared;
  std::string name = body["kind"];
  if (name == "sparkr" || name == "r") {
    throw Error::InvalidArgument(
        "sparkr sessions are not supported: Tarn runs SQL. Use kind sql (or shared), or pyspark/spark with "
        "sparkmagic's %%sql");
  }
  auto kind = livy::ParseKind(name);
  if (!kind)
    throw Error::InvalidArgument("Invalid kind: {} (sql, shared, spark or pyspark)", name.substr(0, 32));
  return *kind;
}

}  // namespace

void AddLivyRoutes(Router& router, LivyRoutes r) {
  using http::verb;
  auto routes = std::make_shared<LivyRoutes>(std::move(r));
  auto cache = std::make_shared<BasicCache>();
  std::string base = routes->base_path == "/" ? "" : routes->base_path;

  // Who calls: a bearer token, or Basic (see the header for where Basic is accepted).
  auto caller = [routes, cache](RequestContext& ctx) -> identity::Principal {
    auto header = ctx.request[http::field::authorization];
    std::string_view h(header.data(), header.size());
    if (auto basic = identity::BasicCredentials(h, false)) {
      if (!ctx.secure && !ctx.loopback && !routes->allow_basic_over_http) {
        throw Error::Unauthenticated(
            "HTTP Basic is refused over plain HTTP from another machine (the password would cross the "
            "network in clear): use HTTPS, a bearer token, or ask the operator to set "
            "livy.allow_basic_over_http");
      }
      std::string key = cache->Key(basic->first, basic->second);
      if (auto p = cache->Find(key)) return *p;
      auto p = routes->password(basic->first, basic->second, ctx.worker);
      cache->Put(key, p);
      return p;
    }
    return routes->bearer(BearerToken(ctx.request), ctx.worker);
  };
  // Every Livy route: authenticated, answering errors in Livy's shape.
  auto add = [&router, routes, caller](verb method, const std::string& pattern,
                                       std::function<Response(RequestContext&, livy::LivyService&)> f) {
    router.Add(method, pattern, false, [routes, caller, f](RequestContext& ctx) {
      try {
        bool changes = ctx.request.method() != http::verb::get && ctx.request.method() != http::verb::head;
        if (routes->csrf && changes && ctx.request.find("X-Requested-By") == ctx.request.end()) {
          throw Error::InvalidArgument(
              "Missing Required Header for CSRF protection: send an X-Requested-By header (any value) with "
              "POST and DELETE requests (sparkmagic: \"custom_headers\": {{\"X-Requested-By\": "
              "\"sparkmagic\"}})");
        }
        ctx.principal = caller(ctx);
        return f(ctx, routes->livy());
      } catch (const Error& e) {
        return LivyError(e, ctx.request.version());
      }
    });
  };
  // Whether the caller sees and drives every session (decided once per request).
  auto manage_of = [routes](const RequestContext& ctx) -> livy::MayManage {
    bool all = routes->may_manage && routes->may_manage(*ctx.principal, ctx.worker);
    return [all](const identity::Principal&) { return all; };
  };
  auto v = [](const RequestContext& ctx) { return ctx.request.version(); };

  add(verb::post, base + "/sessions", [routes, base, v](RequestContext& ctx, livy::LivyService& livy) {
    json body = LivyBody(ctx,
                         {"kind", "proxyUser", "jars", "pyFiles", "files", "archives", "driverMemory",
                          "driverCores", "executorMemory", "executorCores", "numExecutors", "queue", "name",
                          "conf", "heartbeatTimeoutInSecond", "ttl", "idleTimeout"},
                         "a session");
    for (auto* f :
         {"kind", "proxyUser", "driverMemory", "executorMemory", "queue", "name", "ttl", "idleTimeout"})
      LivyCheck(body, f, json::value_t::string);
    for (auto* f : {"driverCores", "executorCores", "numExecutors", "heartbeatTimeoutInSecond"})
      LivyCheck(body, f, json::value_t::number_integer);
    for (auto* f : {"jars", "pyFiles", "files", "archives"}) LivyCheck(body, f, json::value_t::array);
    LivyCheck(body, "conf", json::value_t::object);
    auto kind = ParseSessionKind(body);
    std::string proxy = LivyProxyUser(ctx, body);
    std::optional<identity::Principal> runs_as;
    if (!proxy.empty()) runs_as = routes->impersonate(*ctx.principal, proxy, ctx.worker);
    int64_t heartbeat = body.value("heartbeatTimeoutInSecond", int64_t{0});
    if (heartbeat < 0) throw Error::InvalidArgument("field 'heartbeatTimeoutInSecond' must be 0 or more");
    std::optional<std::string> name;
    if (body.contains("name") && body["name"].is_string())
      name = body["name"].get<std::string>().substr(0, 256);
    auto s = livy.Create(*ctx.principal, runs_as.value_or(*ctx.principal), kind, name, heartbeat);
    auto res = JsonResponse(http::status::created, s.Json(), v(ctx));
    res.set(http::field::location, base + "/sessions/" + std::to_string(s.id));
    return res;
  });
  add(verb::get, base + "/sessions", [manage_of, v](RequestContext& ctx, livy::LivyService& livy) {
    int64_t from = std::max<int64_t>(0, LivyIntParam(ctx, "from", 0));
    int64_t size = LivyIntParam(ctx, "size", 100);
    auto all = livy.List(*ctx.principal, manage_of(ctx));
    json sessions = json::array();
    for (size_t i = static_cast<size_t>(from);
         i < all.size() && (size < 0 || sessions.size() < static_cast<size_t>(size)); i++)
      sessions.push_back(all[i].Json());
    return JsonResponse(http::status::ok, {{"from", from}, {"total", all.size()}, {"sessions", sessions}},
                        v(ctx));
  });
  add(verb::get, base + "/sessions/{id}", [manage_of, v](RequestContext& ctx, livy::LivyService& livy) {
    return JsonResponse(http::status::ok,
                        livy.Get(*ctx.principal, manage_of(ctx), ctx.params.at("id")).Json(), v(ctx));
  });
  add(verb::get, base + "/sessions/{id}/state", [manage_of, v](RequestContext& ctx, livy::LivyService& livy) {
    auto s = livy.Get(*ctx.principal, manage_of(ctx), ctx.params.at("id"));
    return JsonResponse(http::status::ok, {{"id", s.id}, {"state", s.state}}, v(ctx));
  });
  add(verb::delete_, base + "/sessions/{id}", [manage_of, v](RequestContext& ctx, livy::LivyService& livy) {
    livy.Delete(*ctx.principal, manage_of(ctx), ctx.params.at("id"));
    return JsonResponse(http::status::ok, {{"msg", "deleted"}}, v(ctx));
  });
  add(verb::get, base + "/sessions/{id}/log", [manage_of, v](RequestContext& ctx, livy::LivyService& livy) {
    int64_t total = 0;
    auto id = livy.Get(*ctx.principal, manage_of(ctx), ctx.params.at("id")).id;
    auto [from, lines] = livy.Log(*ctx.principal, manage_of(ctx), ctx.params.at("id"),
                                  LivyIntParam(ctx, "from", -1), LivyIntParam(ctx, "size", 100), total);
    return JsonResponse(http::status::ok, {{"id", id}, {"from", from}, {"total", total}, {"log", lines}},
                        v(ctx));
  });
  add(verb::post, base + "/sessions/{id}/statements",
      [base, manage_of, v](RequestContext& ctx, livy::LivyService& livy) {
        json body = LivyBody(ctx, {"code", "kind"}, "a statement");
        if (!body.contains("code") || !body["code"].is_string())
          throw Error::InvalidArgument("field 'code' is required: the SQL to run");
        LivyCheck(body, "kind", json::value_t::string);
        std::optional<livy::Kind> kind;
        if (body.contains("kind") && body["kind"].is_string()) {
          kind = livy::ParseKind(body["kind"]);
          if (!kind || *kind == livy::Kind::kShared)
            throw Error::InvalidArgument("Invalid kind: {} (sql, spark or pyspark)",
                                         body["kind"].get<std::string>().substr(0, 32));
        }
        auto s = livy.Get(*ctx.principal, manage_of(ctx), ctx.params.at("id"));
        auto st = livy.Submit(*ctx.principal, manage_of(ctx), ctx.params.at("id"), body["code"], kind);
        auto res = JsonResponse(http::status::created, st.Json(), v(ctx));
        res.set(http::field::location,
                base + "/sessions/" + std::to_string(s.id) + "/statements/" + std::to_string(st.id));
        return res;
      });
  add(verb::get, base + "/sessions/{id}/statements",
      [manage_of, v](RequestContext& ctx, livy::LivyService& livy) {
        auto all = livy.Statements(*ctx.principal, manage_of(ctx), ctx.params.at("id"));
        if (ctx.query.count("order") && ctx.query.at("order") == "desc") std::reverse(all.begin(), all.end());
        int64_t from = std::max<int64_t>(0, LivyIntParam(ctx, "from", 0));
        int64_t size = LivyIntParam(ctx, "size", -1);
        json statements = json::array();
        for (size_t i = static_cast<size_t>(from);
             i < all.size() && (size < 0 || statements.size() < static_cast<size_t>(size)); i++)
          statements.push_back(all[i].Json());
        return JsonResponse(http::status::ok, {{"total_statements", all.size()}, {"statements", statements}},
                            v(ctx));
      });
  add(verb::get, base + "/sessions/{id}/statements/{sid}",
      [manage_of, v](RequestContext& ctx, livy::LivyService& livy) {
        auto st = livy.GetStatement(*ctx.principal, manage_of(ctx), ctx.params.at("id"), IdParam(ctx, "sid"));
        return JsonResponse(http::status::ok, st.Json(), v(ctx));
      });
  add(verb::post, base + "/sessions/{id}/statements/{sid}/cancel",
      [manage_of, v](RequestContext& ctx, livy::LivyService& livy) {
        livy.Cancel(*ctx.principal, manage_of(ctx), ctx.params.at("id"), IdParam(ctx, "sid"));
        return JsonResponse(http::status::ok, {{"msg", "canceled"}}, v(ctx));
      });
  add(verb::post, base + "/sessions/{id}/completion",
      [manage_of, v](RequestContext& ctx, livy::LivyService& livy) {
        json body = LivyBody(ctx, {"code", "kind", "cursor"}, "a completion");
        if (!body.contains("code") || !body["code"].is_string())
          throw Error::InvalidArgument("field 'code' is required: the text to complete in");
        LivyCheck(body, "kind", json::value_t::string);
        LivyCheck(body, "cursor", json::value_t::number_integer);
        std::string code = body["code"];
        int64_t cursor = body.value("cursor", static_cast<int64_t>(code.size()));
        auto candidates = livy.Complete(*ctx.principal, manage_of(ctx), ctx.params.at("id"), code, cursor);
        return JsonResponse(http::status::ok, {{"candidates", candidates}}, v(ctx));
      });
  AddLivyBatchRoutes(
      [add](verb method, const std::string& pattern, std::function<Response(RequestContext&)> f) {
        add(method, pattern, [f](RequestContext& ctx, livy::LivyService&) { return f(ctx); });
      },
      base, routes);
}

}  // namespace tarn::server
