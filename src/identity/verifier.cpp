#include "identity/verifier.h"

#include <algorithm>

#include "common/error.h"
#include "common/util.h"

namespace tarn::identity {

namespace {

std::string HeaderKid(std::string_view token) {
  auto dot = token.find('.');
  if (dot == std::string_view::npos) throw Error::Unauthenticated("malformed token");
  try {
    auto header = nlohmann::json::parse(Base64UrlDecode(token.substr(0, dot)));
    if (header.is_object() && header.contains("kid") && header["kid"].is_string()) return header["kid"];
  } catch (const nlohmann::json::exception&) {
  }
  throw Error::Unauthenticated("token header has no kid");
}

constexpr size_t kMaxVerified = 10000;

}  // namespace

TokenVerifier::TokenVerifier(std::string builtin_issuer, std::string audience, const KeyManager& keys,
                             std::vector<TrustedIssuer> trusted, Fetcher fetch)
    : builtin_issuer_(std::move(builtin_issuer)),
      audience_(std::move(audience)),
      keys_(keys),
      fetch_(std::move(fetch)) {
  for (auto& t : trusted) {
    if (t.issuer == builtin_issuer_) {
      throw Error::InvalidArgument("trusted issuer {} is the built-in issuer's own name", t.issuer);
    }
    External ext;
    ext.config = t;
    external_.emplace(t.issuer, std::move(ext));
  }
}

KeySet TokenVerifier::ExternalKeys(External& ext, const std::string& kid) {
  auto now = std::chrono::steady_clock::now();
  bool stale = ext.keys.size() == 0 || now - ext.loaded > ext.config.refresh;
  bool unknown = !ext.keys.Contains(kid) && now - ext.last_refresh_attempt > std::chrono::seconds(10);
  if (stale || unknown) {
    ext.last_refresh_attempt = now;
    try {
      std::string doc =
          ext.config.jwks_file.empty() ? fetch_(ext.config.jwks_url) : ReadTextFile(ext.config.jwks_file);
      ext.keys = KeySet::FromJwks(nlohmann::json::parse(doc));
      ext.loaded = now;
    } catch (const std::exception& e) {
      // Keep the keys we had; a broken JWKS endpoint must not lock everybody out.
      if (ext.keys.size() == 0)
        throw Error::Unauthenticated("JWKS of {} unavailable: {}", ext.config.issuer, e.what());
    }
  }
  return ext.keys;
}

std::shared_ptr<const nlohmann::json> TokenVerifier::Claims(std::string_view token, const std::string& kid,
                                                           const KeySet& keys, const VerifyOptions& options) {
  double now = static_cast<double>(EpochMillis()) / 1000;
  std::string key(token);
  {
    std::lock_guard<std::mutex> lock(verified_mu_);
    auto it = verified_.find(key);
    if (it != verified_.end()) {
      // No leeway here: a remembered token ends at its exp exactly.
      if (now < it->second.expires && it->second.kid == kid && keys.Contains(kid)) return it->second.claims;
      verified_.erase(it);
    }
  }
  auto claims = std::make_shared<const nlohmann::json>(VerifyJwt(token, keys, options));
  Verified v{claims, kid, claims->at("exp").get<double>()};
  std::lock_guard<std::mutex> lock(verified_mu_);
  if (verified_.size() >= kMaxVerified) {
    std::erase_if(verified_, [&](const auto& e) { return e.second.expires <= now; });
    if (verified_.size() >= kMaxVerified) verified_.clear();
  }
  verified_.emplace(std::move(key), std::move(v));
  return claims;
}

Principal TokenVerifier::Verify(std::string_view token, const UserLookup& lookup) {
  if (token.empty()) throw Error::Unauthenticated("no token");
  if (token.size() > 16384) throw Error::Unauthenticated("token too long");
  std::string iss = UnverifiedIssuer(token);
  VerifyOptions options;
  options.issuer = iss;
  std::string kid = HeaderKid(token);
  if (iss == builtin_issuer_) {
    options.audience = audience_;
    const auto& claims = *Claims(token, kid, keys_.Keys(), options);
    auto p = lookup(claims.at("sub").get<std::string>());
    if (!p) throw Error::Unauthenticated("user {} no longer exists", claims.at("sub").get<std::string>());
    // A token from before the user's creation (a namesake) or last password change is
    // void, to the millisecond (our tokens carry a fractional iat; a whole-second one
    // from the second of a change is void too).
    if (!claims.contains("iat") || !claims["iat"].is_number() ||
        claims["iat"].get<double>() * 1000 <= static_cast<double>(p->credentials_since_ms)) {
      throw Error::Unauthenticated("token of {} predates its credentials", p->user);
    }
    return *p;
  }
  KeySet keys;
  TrustedIssuer config;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = external_.find(iss);
    if (it == external_.end()) throw Error::Unauthenticated("untrusted issuer");
    keys = ExternalKeys(it->second, kid);
    config = it->second.config;
  }
  options.audience = config.audience;
  const auto& claims = *Claims(token, kid, keys, options);
  Principal p;
  p.issuer = iss;
  auto user = claims.find(config.user_claim);
  if (user == claims.end() || !user->is_string() || user->get<std::string>().empty()) {
    throw Error::Unauthenticated("token has no {} claim", config.user_claim);
  }
  p.user = *user;
  // Grants name users without their issuer, so another issuer may not speak for a
  // built-in user (it would inherit, say, the local admin's ownership grants).
  std::optional<Principal> namesake;
  try {
    namesake = lookup(p.user);
  } catch (const Error&) {  // not a valid built-in user name: cannot collide
  }
  if (namesake) {
    throw Error::Unauthenticated(
        "issuer {} names user '{}', which is a built-in user: map a claim that does not collide ({})", iss,
        p.user, config.user_claim);
  }
  auto groups = claims.find(config.groups_claim);
  if (groups != claims.end()) {
    if (groups->is_string()) {
      p.groups.push_back(*groups);
    } else if (groups->is_array()) {
      for (auto& g : *groups) {
        if (g.is_string()) p.groups.push_back(g);
      }
    }
  }
  std::sort(p.groups.begin(), p.groups.end());
  return p;
}

std::string IssueToken(const KeyManager& keys, const Principal& principal, const std::string& issuer,
                       const std::string& audience, std::chrono::seconds ttl) {
  int64_t now_ms = EpochMillis();
  int64_t now = now_ms / 1000;
  // iat to the millisecond (a JSON NumericDate may be fractional): Verify voids tokens
  // issued up to a password change, which may fall in the same second.
  nlohmann::json claims = {
      {"iss", issuer}, {"aud", audience},          {"sub", principal.user},      {"iat", now_ms / 1000.0},
      {"nbf", now},    {"exp", now + ttl.count()}, {"groups", principal.groups}, {"jti", RandomHex(12)}};
  return keys.Current().Sign(claims);
}

}  // namespace tarn::identity
