#include "server/authorize_routes.h"

#include <fmt/format.h>

#include "common/error.h"
#include "server/pages.h"

namespace tarn::server {

namespace {

// scheme://host[:port] of a URL ("" if it has none).
std::string OriginOf(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  auto path = url.find('/', scheme + 3);
  return url.substr(0, path);
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
      HtmlEscape(r.client_id), error.empty() ? "" : "<p class=error role=alert>" + HtmlEscape(error) + "</p>",
      HtmlEscape(id), HtmlEscape(user));
  return HtmlPage(status, "Sign in to Tarn", body, OriginOf(r.redirect_uri), version);
}

Response ErrorPage(const Error& e, unsigned version) {
  return HtmlPage(StatusFor(e.code()), "Sign in to Tarn",
                  "<h1>This sign-in cannot go on</h1><p class=error role=alert>" + HtmlEscape(e.what()) +
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
      Response res = HtmlPage(http::status::see_other, "Sign in to Tarn", "<p>Signed in.</p>", "", v);
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
