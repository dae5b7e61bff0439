// AuthorizationCodes: the built-in provider's authorization-code flow with PKCE
// (RFC 6749 §4.1, RFC 7636 S256), as the studio and other browser clients sign in.
//
//   Begin()     checks GET /oauth2/authorize's parameters and keeps them as a pending
//               sign-in (10 minutes), named by a random id the login form posts back
//               (so nothing the browser sends later can change them);
//   Complete()  after the person signed in: a one-time code (60 s) and the URL to
//               send the browser to (the registered redirect URI with code and state);
//   Redeem()    the token endpoint's grant_type=authorization_code: the code once,
//               for the same client and redirect URI, with the PKCE verifier.
//
// Only registered clients with exactly registered redirect URIs are served (no
// wildcards), and PKCE is required. Errors: kInvalidArgument for a bad authorize
// request (shown on the page, never redirected: RFC 6749 §4.1.2.1) and for a pending
// sign-in that does not exist (or expired), kUnauthenticated for a code that
// does not redeem. Thread-safety: thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace tarn::identity {

struct OAuthClient {
  std::string client_id;
  std::vector<std::string> redirect_uris;
};

struct AuthorizeRequest {
  std::string client_id, redirect_uri, code_challenge, state;
};

class AuthorizationCodes {
 public:
  // `clock`: milliseconds since the epoch (null: the system clock).
  explicit AuthorizationCodes(std::vector<OAuthClient> clients, std::function<int64_t()> clock = nullptr);

  std::string Begin(const std::map<std::string, std::string>& query);
  AuthorizeRequest Pending(const std::string& id);
  // A failed sign-in on pending request `id`: after 5, the request is dropped.
  void Failed(const std::string& id);
  // Returns the redirect URL carrying a new code for `user`; the request is finished.
  std::string Complete(const std::string& id, const std::string& user);
  // The user the code was issued to. The code is spent by any attempt.
  std::string Redeem(const std::string& code, const std::string& client_id, const std::string& redirect_uri,
                     const std::string& verifier);

 private:
  struct Sign {
    AuthorizeRequest request;
    int64_t expires_ms = 0;
    int failures = 0;
  };
  struct Code {
    AuthorizeRequest request;
    std::string user;
    int64_t expires_ms = 0;
  };
  int64_t Now() const;
  void Prune(int64_t now);  // mu_ held

  std::vector<OAuthClient> clients_;
  std::function<int64_t()> clock_;
  std::mutex mu_;
  std::map<std::string, Sign> pending_;  // guarded by mu_
  std::map<std::string, Code> codes_;    // guarded by mu_
};

}  // namespace tarn::identity
