// The studio's sign-in as a backend-for-frontend (docs/studio.md): the browser gets an
// HttpOnly session cookie and never a token.
//
//   GET  /studio/login      starts the authorization-code flow with PKCE against the
//                           built-in provider (state and verifier kept here, named by a
//                           short-lived login cookie) and redirects to /oauth2/authorize,
//                           or to the external identity provider's authorize endpoint
//                           when one is configured (ExternalIdp)
//   GET  /studio/callback   checks state, redeems the code, starts a session
//                           (cookie tarn_session: HttpOnly, SameSite=Strict, Path=/,
//                           Secure with TLS) and sends the browser to /studio/
//   GET  /studio/api/session  {user, groups, admin, csrf_token} of the session, or 401
//   POST /studio/logout     ends the session (needs the CSRF token: X-CSRF-Token or
//                           the form field csrf)
//   GET  /studio/           the studio (the built front end's index.html under a strict
//                           Content-Security-Policy; without a session: to /studio/login);
//                           GET / sends browsers there
//   GET  /studio/assets/{file}  the front end's hashed files (StaticAssets), immutable
//
// Every API route also accepts the session cookie in place of a bearer token
// (StudioPrincipal); a state-changing request must then carry X-CSRF-Token.
#pragma once

#include <functional>
#include <optional>

#include "identity/authenticator.h"
#include "server/router.h"
#include "server/static_assets.h"
#include "server/studio_idp.h"
#include "server/studio_sessions.h"

namespace tarn::server {

struct StudioRoute {
  std::function<identity::Authenticator&()> auth;
  std::function<identity::Directory(size_t worker)> directory;
  std::function<std::string()> issuer;  // the server's base URL, once bound
  StudioSessions* sessions = nullptr;
  bool secure = false;                   // TLS: cookies are Secure
  const StaticAssets* assets = nullptr;  // the built front end (may be empty)
  ExternalIdp* idp = nullptr;            // sign in there instead of the built-in provider
};

void AddStudioRoutes(Router& router, StudioRoute route);

// The principal of a request that carries a studio session cookie (nullopt if it
// carries none). kUnauthenticated for a session that ended (its cookie is then
// worthless); kPermissionDenied for a state-changing method without the session's
// CSRF token in X-CSRF-Token.
std::optional<identity::Principal> StudioPrincipal(const Request& request, StudioSessions& sessions,
                                                   identity::Directory& dir);

}  // namespace tarn::server
