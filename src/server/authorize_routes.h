// The built-in provider's sign-in page for the OAuth2 authorization-code flow with
// PKCE (identity/auth_codes.h), as browser clients (the studio) sign people in.
//
//   GET  /oauth2/authorize?response_type=code&client_id&redirect_uri&code_challenge
//        &code_challenge_method=S256[&state]   the login page (a bad request: an error
//        page, 400, never a redirect to an unchecked URI)
//   POST /oauth2/authorize  (form: request, username, password)  303 to the client's
//        redirect URI with code and state; a wrong name or password: the page again
//        with the error, 401 (each attempt an audited login)
//
// The pages carry no script, a strict Content-Security-Policy, no caching and may not
// be framed. The code is redeemed at /oauth2/token (grant_type=authorization_code).
#pragma once

#include <functional>

#include "identity/authenticator.h"
#include "server/router.h"

namespace tarn::server {

struct AuthorizeRoute {
  std::function<identity::Authenticator&()> auth;
  std::function<identity::Directory(size_t worker)> directory;
};

void AddAuthorizeRoutes(Router& router, AuthorizeRoute route);

}  // namespace tarn::server
