// Authenticator: who is calling. One per server, shared by every front end (HTTP
// today; the Livy and PostgreSQL endpoints use the same object), so that tokens,
// passwords and the login record work the same everywhere.
//
//   Bearer()    an access token of the built-in provider or of a trusted issuer
//               (TokenVerifier: signature, claims, the user still exists, ...).
//   Password()  a built-in user's name and secret (HTTP Basic, a PostgreSQL
//               password message); a person's password or a service's secret.
//   Grant()     the OAuth2 token endpoint: grant_type password (RFC 6749 §4.3),
//               client_credentials (§4.4, secret in the form or as
//               client_secret_basic) or authorization_code (§4.1 with PKCE, the
//               code from Authorize()); returns a signed access token.
//   Authorize() a person signing in on the built-in login page for a pending
//               authorization request (identity/auth_codes.h).
//
// Every Password() and Grant() is a login and leaves an audit event ("login"),
// refused ones too, never with the secret. Bearer() leaves none (the statement or
// action it authorises is audited).
//
// Errors: kUnauthenticated for a refused identity (its message is for the log; the
// client learns nothing from it), kInvalidArgument for a malformed request,
// kUnsupported for an unknown grant_type.
//
// Thread-safety: thread-safe; the Directory passed in is the caller's own.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "audit/audit_log.h"
#include "audit/events.h"
#include "identity/auth_codes.h"
#include "identity/directory.h"
#include "identity/keys.h"
#include "identity/verifier.h"

namespace tarn::identity {

struct AuthenticatorOptions {
  std::string issuer;  // the built-in provider's "iss"
  std::string audience = "tarn";
  std::chrono::seconds token_ttl{3600};
  std::vector<TrustedIssuer> trusted;
  TokenVerifier::Fetcher fetch;      // for trusted issuers' jwks_url
  std::vector<OAuthClient> clients;  // who may use the authorization-code flow
  std::function<int64_t()> clock;    // for codes' lifetimes (null: the system clock)
};

struct IssuedToken {
  Principal principal;
  std::string access_token;
  std::chrono::seconds expires_in{0};
};

// "Basic base64(id:secret)" -> (id, secret); nullopt if the header is not that.
// `form_encoded`: id and secret are application/x-www-form-urlencoded inside, as
// OAuth2 client_secret_basic requires (RFC 6749 §2.3.1).
std::optional<std::pair<std::string, std::string>> BasicCredentials(std::string_view header,
                                                                    bool form_encoded);

class Authenticator {
 public:
  Authenticator(const KeyManager& keys, audit::AuditLog& audit, AuthenticatorOptions options);

  Principal Bearer(std::string_view token, Directory& dir);
  Principal Password(Directory& dir, const std::string& name, std::string_view secret, UserKind kind,
                     const audit::Origin& origin);
  // `form`: the decoded request body; `authorization`: its Authorization header.
  IssuedToken Grant(Directory& dir, const std::map<std::string, std::string>& form,
                    std::string_view authorization, const audit::Origin& origin);

  // Signs `name` in for the pending sign-in `id` (a login, audited); returns the URL
  // to send the browser to (code and state). A wrong name or password throws
  // kUnauthenticated; the sign-in may be retried (5 times).
  std::string Authorize(Directory& dir, const std::string& id, const std::string& name,
                        std::string_view password, const audit::Origin& origin);
  AuthorizationCodes& codes() { return codes_; }

  // A sign-in at the external issuer `issuer` (the studio's identity provider): the
  // token it returned, verified as any token of a trusted issuer, must be that
  // issuer's. A login event either way; kUnauthenticated if the token is refused.
  Principal ExternalSignIn(Directory& dir, std::string_view token, const std::string& issuer,
                           const audit::Origin& origin);

  const std::string& issuer() const { return options_.issuer; }

 private:
  Principal Login(Directory& dir, const std::string& name, std::string_view secret, UserKind kind,
                  const audit::Origin& origin, const std::string& method);
  Principal Redeem(Directory& dir, const std::map<std::string, std::string>& form,
                   const audit::Origin& origin);
  Principal AuditedLogin(const std::string& name, const std::string& issuer, nlohmann::json details,
                         const audit::Origin& origin, const std::function<Principal()>& sign_in);

  const KeyManager& keys_;
  audit::AuditLog& audit_;
  AuthenticatorOptions options_;
  TokenVerifier verifier_;
  AuthorizationCodes codes_;
};

}  // namespace tarn::identity
