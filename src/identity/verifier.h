// TokenVerifier: turns a bearer token into a Principal, or refuses it.
//
// Two kinds of issuer are trusted: the built-in provider (its own keys, its users
// looked up in the directory at every request, so a removed user's tokens stop
// working at once, group changes apply immediately, and tokens issued before the
// user's creation or last password change are refused), and external identity
// providers named in the configuration (trusted identity propagation: the person
// the token names is the principal, with the user name and groups read from the
// configured claims). The issuer is chosen by the token's "iss"; its keys verify the
// token (see jwt.h for every check). An external issuer's JWKS comes from a file or a
// URL; it is re-read after `refresh` and, at most once every 10 s, when a token
// names an unknown key id.
//
// A token whose signature and claims were verified is remembered (by its exact text)
// until it expires, so a client sending the same token again costs a key-set lookup
// rather than a signature check; the entry is only used while its key is still
// trusted, and every per-request check (the user still exists, credentials not newer
// than the token, namesakes) runs again each time.
//
// Errors: kUnauthenticated for every refusal; the message says why for the logs
// and must never reach the client.
//
// Thread-safety: Verify() is thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "identity/jwt.h"
#include "identity/keys.h"
#include "identity/principal.h"

namespace tarn::identity {

struct TrustedIssuer {
  std::string issuer;
  std::string audience;
  std::string jwks_file;
  std::string jwks_url;
  std::string user_claim = "sub";
  std::string groups_claim = "groups";
  std::chrono::seconds refresh{300};
};

class TokenVerifier {
 public:
  // Fetches a URL's body (for jwks_url); throws tarn::Error on failure.
  using Fetcher = std::function<std::string(const std::string& url)>;
  // Looks a built-in user up now; nullopt if the user no longer exists.
  using UserLookup = std::function<std::optional<Principal>(const std::string& user)>;

  TokenVerifier(std::string builtin_issuer, std::string audience, const KeyManager& keys,
                std::vector<TrustedIssuer> trusted, Fetcher fetch);

  Principal Verify(std::string_view token, const UserLookup& lookup);

  const std::string& builtin_issuer() const { return builtin_issuer_; }
  const std::string& audience() const { return audience_; }

 private:
  struct External {
    TrustedIssuer config;
    KeySet keys;
    std::chrono::steady_clock::time_point loaded{};
    std::chrono::steady_clock::time_point last_refresh_attempt{};
  };
  // The keys of an external issuer, refreshed when stale or when `kid` is unknown.
  KeySet ExternalKeys(External& ext, const std::string& kid);
  // VerifyJwt, or what it returned for the same token before (see above).
  std::shared_ptr<const nlohmann::json> Claims(std::string_view token, const std::string& kid,
                                               const KeySet& keys, const VerifyOptions& options);

  struct Verified {
    std::shared_ptr<const nlohmann::json> claims;
    std::string kid;
    double expires = 0;  // epoch seconds
  };

  std::string builtin_issuer_;
  std::string audience_;
  const KeyManager& keys_;
  Fetcher fetch_;
  std::mutex mu_;
  std::map<std::string, External> external_;
  std::mutex verified_mu_;
  std::unordered_map<std::string, Verified> verified_;
};

// Issues built-in access tokens: RS256/ES256 JWTs with kid, iss, aud, sub, exp,
// iat, nbf, groups and jti.
std::string IssueToken(const KeyManager& keys, const Principal& principal, const std::string& issuer,
                       const std::string& audience, std::chrono::seconds ttl);

}  // namespace tarn::identity
