// ExternalIdp: the studio's sign-in at an external OIDC issuer (docs/studio.md,
// "Signing in at your identity provider"). The authorization-code flow with PKCE
// (S256) as a confidential or public client: the browser goes to the issuer's
// authorization endpoint; the server redeems the code at its token endpoint and hands
// the returned token (id_token or access_token, per config) to the Authenticator,
// which verifies it as any token of that trusted issuer.
//
// Endpoints not configured are read once from <issuer>/.well-known/openid-configuration
// (and must be https://, or http:// on loopback). Errors: kIo when the issuer
// cannot be reached or answers badly (the sign-in page says so); kUnauthenticated when
// the code is refused. Thread-safety: thread-safe.
#pragma once

#include <mutex>
#include <string>

#include "server/config.h"
#include "server/studio_sessions.h"

namespace tarn::server {

class ExternalIdp {
 public:
  explicit ExternalIdp(StudioIdpConfig config);

  const StudioIdpConfig& config() const { return config_; }
  // Where to send the browser to sign in.
  std::string AuthorizeUrl(const StudioLogin& login, const std::string& redirect_uri);
  // Redeems `code`; returns the token to verify.
  std::string Redeem(const std::string& code, const std::string& redirect_uri, const std::string& verifier);

 private:
  void Discover();  // mu_ held

  StudioIdpConfig config_;
  std::string client_secret_;
  std::mutex mu_;
  bool discovered_ = false;  // guarded by mu_, as are the endpoints in config_
};

}  // namespace tarn::server
