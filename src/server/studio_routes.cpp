#include "server/studio_routes.h"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include "common/error.h"
#include "common/util.h"
#include "server/pages.h"

namespace tarn::server {

namespace {

constexpr const char* kSessionCookie = "tarn_session";
constexpr const char* kLoginCookie = "tarn_studio_login";

// The value of cookie `name` in the request's Cookie header ("" if absent).
std::string Cookie(const Request& req, const std::string& name) {
  auto it = req.find(http::field::cookie);
  if (it == req.end()) return "";
  std::string_view all(it->value().data(), it->value().size());
  while (!all.empty()) {
    auto end = all.find(';');
    std::string_view part = all.substr(0, end);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    auto eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name) return std::string(part.substr(eq + 1));
    if (end == std::string_view::npos) break;
    all.remove_prefix(end + 1);
  }
  return "";
}

std::string SetCookie(const std::string& name, const std::string& value, const char* path,
                      const char* same_site, int max_age, bool secure) {
  std::string c = fmt::format("{}={}; Path={}; HttpOnly; SameSite={}", name, value, path, same_site);
  if (max_age >= 0) c += fmt::format("; Max-Age={}", max_age);
  if (secure) c += "; Secure";
  return c;
}

bool SameSecret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && !a.empty() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Response Redirect(http::status status, const std::string& to, unsigned version) {
  Response res =
      HtmlPage(status, "Tarn", "<p><a href='" + HtmlEscape(to) + "'>Continue</a></p>", "", version);
  res.set(http::field::location, to);
  return res;
}

Response Problem(http::status status, const std::string& why, unsigned version) {
  return HtmlPage(status, "Tarn studio",
                  "<h1>This sign-in cannot go on</h1><p class=error role=alert>" + HtmlEscape(why) +
                      "</p><p><a href='/studio/login'>Sign in again</a></p>",
                  "", version);
}

// The studio's single page: scripts from this origin only; styles from this origin and
// the <style> elements the editor makes, which carry this response's nonce (the page
// reads it from <meta name=tarn-style-nonce>).
Response AppPage(const std::string& html, unsigned version) {
  std::string nonce = RandomHex(16);
  std::string page = html;
  auto head = page.find("<head>");
  if (head != std::string::npos)
    page.insert(head + 6, "<meta name=\"tarn-style-nonce\" content=\"" + nonce + "\">");
  Response res = PageResponse(http::status::ok, std::move(page),
                              "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-" + nonce +
                                  "'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; "
                                  "frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri "
                                  "'none'; object-src 'none'",
                              version);
  res.set("Cross-Origin-Opener-Policy", "same-origin");
  return res;
}

// Without a built front end: sign-in and sign-out work, and the page says how to build it.
Response UnbuiltPage(const std::optional<StudioSession>& s, unsigned v) {
  constexpr const char* kBuild =
      "<p>The studio's front end is not built here: run <code>scripts/build</code>.</p>";
  if (!s)
    return HtmlPage(
        http::status::ok, "Tarn studio",
        std::string("<h1>Tarn studio</h1>") + kBuild + "<p><a href='/studio/login'>Sign in</a></p>", "", v);
  return HtmlPage(http::status::ok, "Tarn studio",
                  "<h1>Tarn studio</h1><p>Signed in as <b>" + HtmlEscape(s->user) + "</b>.</p>" + kBuild +
                      "<form method=post action='/studio/logout'><input type=hidden name=csrf value='" +
                      HtmlEscape(s->csrf) + "'><button type=submit>Sign out</button></form>",
                  "", v);
}

// The callback's principal, from the built-in provider: the code redeemed in-process.
identity::Principal BuiltInPrincipal(const StudioRoute& route, RequestContext& ctx, const StudioLogin& login,
                                     const audit::Origin& origin) {
  std::map<std::string, std::string> form = {{"grant_type", "authorization_code"},
                                             {"code", ctx.query["code"]},
                                             {"client_id", "tarn-studio"},
                                             {"redirect_uri", route.issuer() + "/studio/callback"},
                                             {"code_verifier", login.verifier}};
  auto dir = route.directory(ctx.worker);
  return route.auth().Grant(dir, form, "", origin).principal;
}

// The callback's principal, from the external identity provider: the code redeemed at
// its token endpoint, the token verified as that trusted issuer's.
identity::Principal ExternalPrincipal(const StudioRoute& route, RequestContext& ctx, const StudioLogin& login,
                                      const audit::Origin& origin) {
  if (!ctx.query["error"].empty())
    throw Error::Unauthenticated("the identity provider refused the sign-in: {}",
                                 ctx.query["error"].substr(0, 64));
  std::string token =
      route.idp->Redeem(ctx.query["code"], route.issuer() + "/studio/callback", login.verifier);
  auto dir = route.directory(ctx.worker);
  return route.auth().ExternalSignIn(dir, token, route.idp->config().issuer, origin);
}

}  // namespace

std::optional<identity::Principal> StudioPrincipal(const Request& req, StudioSessions& sessions,
                                                   identity::Directory& dir) {
  std::string id = Cookie(req, kSessionCookie);
  if (id.empty()) return std::nullopt;
  auto s = sessions.Find(id);
  if (!s) throw Error::Unauthenticated("the studio session ended: sign in again");
  auto p = s->external ? s->external : dir.Lookup(s->user, s->issuer);
  if (!p || !sessions.Current(*s, *p)) {
    sessions.Revoke(id);
    throw Error::Unauthenticated("the studio session ended: sign in again");
  }
  auto m = req.method();
  if (m != http::verb::get && m != http::verb::head && m != http::verb::options) {
    auto it = req.find("X-CSRF-Token");
    std::string sent = it == req.end() ? "" : std::string(it->value());
    if (!SameSecret(sent, s->csrf))
      throw Error::PermissionDenied(
          "a studio request that changes something needs the session's X-CSRF-Token");
  }
  return p;
}

void AddStudioRoutes(Router& router, StudioRoute route) {
  router.Add(http::verb::get, "/studio/login", false, [route](RequestContext& ctx) {
    auto [id, login] = route.sessions->BeginLogin();
    std::string back = route.issuer() + "/studio/callback";
    std::string to;
    if (route.idp) {
      try {
        to = route.idp->AuthorizeUrl(login, back);
      } catch (const Error& e) {
        return Problem(http::status::bad_gateway, e.what(), ctx.request.version());
      }
    } else {
      to = fmt::format(
          "/oauth2/authorize?response_type=code&client_id=tarn-studio&redirect_uri={}&code_challenge={}"
          "&code_challenge_method=S256&state={}",
          UrlEncode(back), login.challenge, login.state);
    }
    Response res = Redirect(http::status::found, to, ctx.request.version());
    // Lax: the browser comes back with it from the identity provider's redirect.
    res.insert(http::field::set_cookie, SetCookie(kLoginCookie, id, "/studio", "Lax", 600, route.secure));
    return res;
  });
  router.Add(http::verb::get, "/studio/callback", false, [route](RequestContext& ctx) {
    unsigned v = ctx.request.version();
    auto login = route.sessions->TakeLogin(Cookie(ctx.request, kLoginCookie));
    if (!login || ctx.query["state"].empty() || !SameSecret(ctx.query["state"], login->state))
      return Problem(http::status::bad_request, "this sign-in was not started here, or it expired", v);
    audit::Origin origin = "http";
    origin.request_id = ctx.request_id;
    identity::Principal principal;
    try {
      principal = route.idp ? ExternalPrincipal(route, ctx, *login, origin)
                            : BuiltInPrincipal(route, ctx, *login, origin);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::kIo) return Problem(http::status::bad_gateway, e.what(), v);
      if (e.code() != ErrorCode::kUnauthenticated && e.code() != ErrorCode::kInvalidArgument) throw;
      // At an external provider the person may learn why its token was not taken.
      return Problem(
          http::status::bad_request,
          route.idp ? std::string("the sign-in was refused: ") + e.what() : "the sign-in code was refused",
          v);
    }
    // A page that moves on by itself rather than a redirect: a session cookie set in
    // a redirect chain that began at another site is not sent along that chain.
    Response res = HtmlPage(http::status::ok, "Tarn studio",
                            "<meta http-equiv=refresh content='0;url=/studio/'><p>Signed in as <b>" +
                                HtmlEscape(principal.user) + "</b>. <a href='/studio/'>Continue</a></p>",
                            "", v);
    res.insert(http::field::set_cookie, SetCookie(kLoginCookie, "", "/studio", "Lax", 0, route.secure));
    res.insert(http::field::set_cookie,
               SetCookie(kSessionCookie, route.sessions->Create(principal, route.idp != nullptr), "/",
                         "Strict", -1, route.secure));
    return res;
  });
  router.Add(http::verb::get, "/studio/api/session", true, [route](RequestContext& ctx) {
    auto s = route.sessions->Find(Cookie(ctx.request, kSessionCookie));
    if (!s) throw Error::Unauthenticated("no studio session: sign in at /studio/login");
    const auto& p = *ctx.principal;
    return JsonResponse(http::status::ok,
                        {{"user", p.user}, {"groups", p.groups}, {"admin", p.admin}, {"csrf_token", s->csrf}},
                        ctx.request.version());
  });
  router.Add(http::verb::post, "/studio/logout", false, [route](RequestContext& ctx) {
    std::string id = Cookie(ctx.request, kSessionCookie);
    auto s = route.sessions->Find(id);
    auto form = ParseForm(ctx.request.body());
    auto header = ctx.request.find("X-CSRF-Token");
    std::string sent = header != ctx.request.end() ? std::string(header->value()) : form["csrf"];
    if (s && !SameSecret(sent, s->csrf))
      throw Error::PermissionDenied("signing out needs the session's CSRF token");
    if (s) route.sessions->Revoke(id);
    Response res = Redirect(http::status::see_other, "/studio/", ctx.request.version());
    res.insert(http::field::set_cookie, SetCookie(kSessionCookie, "", "/", "Strict", 0, route.secure));
    return res;
  });
  router.Add(http::verb::get, "/studio/", false, [route](RequestContext& ctx) {
    unsigned v = ctx.request.version();
    std::optional<StudioSession> s = route.sessions->Find(Cookie(ctx.request, kSessionCookie));
    if (!route.assets->empty()) {
      if (!s) return Redirect(http::status::found, "/studio/login", v);
      return AppPage(route.assets->index_html(), v);
    }
    return UnbuiltPage(s, v);
  });
  router.Add(http::verb::get, "/studio", false, [](RequestContext& ctx) {
    return Redirect(http::status::moved_permanently, "/studio/", ctx.request.version());
  });
  router.Add(http::verb::get, "/studio/assets/{file}", false, [route](RequestContext& ctx) {
    const StaticAsset* asset = route.assets->Find(ctx.params["file"]);
    if (!asset) throw Error::NotFound("no such studio file");
    Response res = TextResponse(http::status::ok, asset->body, asset->content_type, ctx.request.version());
    res.set(http::field::cache_control, "public, max-age=31536000, immutable");
    res.set("X-Content-Type-Options", "nosniff");
    return res;
  });
  router.Add(http::verb::get, "/", false, [](RequestContext& ctx) {
    auto accept = ctx.request.find(http::field::accept);
    bool browser =
        accept != ctx.request.end() && std::string(accept->value()).find("text/html") != std::string::npos;
    if (browser) return Redirect(http::status::found, "/studio/", ctx.request.version());
    return JsonResponse(http::status::ok, {{"service", "tarn"}, {"studio", "/studio/"}, {"api", "/v1/"}},
                        ctx.request.version());
  });
}

}  // namespace tarn::server
