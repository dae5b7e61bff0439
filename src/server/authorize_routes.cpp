#include "server/authorize_routes.h"

#include <fmt/format.h>

#include "common/error.h"

namespace tarn::server {

namespace {

std::string Esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// scheme://host[:port] of a URL ("" if it has none).
std::string OriginOf(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  auto path = url.find('/', scheme + 3);
  return url.substr(0, path);
}

constexpr const char* kStyle =
    "body{font:15px system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0}"
    "main{max-width:360px;margin:12vh auto;background:#fff;padding:28px 32px;border-radius:10px;"
    "box-shadow:0 2px 12px #0002}h1{font-size:20px;margin:0 0 4px}p{color:#566}label{display:block;"
    "margin:14px 0 4px;font-weight:600}input{width:100%;box-sizing:border-box;padding:9px;font:inherit;"
    "border:1px solid #bbc;border-radius:6px}button{margin-top:20px;width:100%;padding:10px;font:inherit;"
    "font-weight:600;color:#fff;background:#2456d6;border:0;border-radius:6px;cursor:pointer}"
    ".error{color:#b00020;font-weight:600}@media(prefers-color-scheme:dark){body{background:#12151c;"
    "color:#e6e9f0}main{background:#1c212b}input{background:#12151c;color:#e6e9f0;border-color:#445}}";

// A page of the sign-in flow, with the headers every one carries.
Response Page(http::status status, const std::string& body, const std::string& form_origin,
              unsigned version) {
  std::string html = fmt::format(
      "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><meta name=viewport "
      "content='width=device-width'>"
      "<title>Sign in to Tarn</title><style>{}</style></head><body><main>{}</main></body></html>\n",
      kStyle, body);
  auto res = TextResponse(status, html, "text/html; charset=utf-8", version);
  std::string actions = "'self'" + (form_origin.empty() ? "" : " " + form_origin);
  res.set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action " + actions +
                                         "; frame-ancestors 'none'; base-uri 'none'");
  res.set(http::field::cache_control, "no-store");
  res.set("X-Frame-Options", "DENY");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  return res;
}

Response LoginPage(http::status status, const std::string& id, const identity::AuthorizeRequest& r,
                   const std::string& user, const std::string& error, unsigned version) {
  std::string body = fmt::format(
      "<h1>Sign in to Tarn</h1><p>for <b>{}</b></p>{}<form method=post action='/oauth2/authorize'>"
      "<input type=hidden name=request value='{}'>"
      "<label for=username>User name</label><input id=username name=username autocomplete=username "
      "autofocus required value='{}'>"
      "<label for=password>Password</label><input id=password name=password type=password "
      "autocomplete=current-password required>"
      "<button type=submit>Sign in</button></form>",
      Esc(r.client_id), error.empty() ? "" : "<p class=error role=alert>" + Esc(error) + "</p>", Esc(id),
      Esc(user));
  return Page(status, body, OriginOf(r.redirect_uri), version);
}

Response ErrorPage(const Error& e, unsigned version) {
  return Page(StatusFor(e.code()),
              "<h1>This sign-in cannot go on</h1><p class=error role=alert>" + Esc(e.what()) +
                  "</p><p>Start again from the application.</p>",
              "", version);
}

}  // namespace

void AddAuthorizeRoutes(Router& router, AuthorizeRoute route) {
  router.Add(http::verb::get, "/oauth2/authorize", false, [route](RequestContext& ctx) {
    unsigned v = ctx.request.version();
    try {
      auto& auth = route.auth();
      std::string id = auth.codes().Begin(ctx.query);
      return LoginPage(http::status::ok, id, auth.codes().Pending(id), "", "", v);
    } catch (const Error& e) {
      return ErrorPage(e, v);
    }
  });
  router.Add(http::verb::post, "/oauth2/authorize", false, [route](RequestContext& ctx) {
    unsigned v = ctx.request.version();
    auto form = ParseForm(ctx.request.body());
    std::string id = form["request"], user = form["username"];
    identity::AuthorizeRequest pending;
    try {
      pending = route.auth().codes().Pending(id);
    } catch (const Error& e) {
      return ErrorPage(e, v);
    }
    try {
      audit::Origin origin = "http";
      origin.request_id = ctx.request_id;
      auto dir = route.directory(ctx.worker);
      std::string to = route.auth().Authorize(dir, id, user, form["password"], origin);
      Response res = Page(http::status::see_other, "<p>Signed in.</p>", "", v);
      res.set(http::field::location, to);
      return res;
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kUnauthenticated && e.code() != ErrorCode::kInvalidArgument)
        return ErrorPage(e, v);
      try {
        route.auth().codes().Pending(id);  // five failures drop the sign-in
      } catch (const Error& gone) {
        return ErrorPage(gone, v);
      }
      return LoginPage(http::status::unauthorized, id, pending, user, "Wrong user name or password.", v);
    }
  });
}

}  // namespace tarn::server
