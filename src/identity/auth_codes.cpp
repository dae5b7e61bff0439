#include "identity/auth_codes.h"

#include <openssl/sha.h>

#include <algorithm>

#include "common/error.h"
#include "common/util.h"
#include "identity/jwt.h"

namespace tarn::identity {

namespace {

constexpr int64_t kSignInMs = 10 * 60 * 1000;
constexpr int64_t kCodeMs = 60 * 1000;
constexpr size_t kMaxPending = 10000;  // sign-ins and codes kept at once

// RFC 7636 §4.1: 43-128 characters of [A-Za-z0-9-._~].
bool IsPkceText(const std::string& s) {
  return s.size() >= 43 && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
         });
}

std::string Param(const std::map<std::string, std::string>& q, const char* name) {
  auto it = q.find(name);
  return it == q.end() ? "" : it->second;
}

}  // namespace

AuthorizationCodes::AuthorizationCodes(std::vector<OAuthClient> clients, std::function<int64_t()> clock)
    : clients_(std::move(clients)), clock_(std::move(clock)) {}

int64_t AuthorizationCodes::Now() const {
  return clock_ ? clock_() : EpochMillis();
}

void AuthorizationCodes::Prune(int64_t now) {
  std::erase_if(pending_, [&](auto& p) { return p.second.expires_ms <= now; });
  std::erase_if(codes_, [&](auto& c) { return c.second.expires_ms <= now; });
  if (pending_.size() + codes_.size() >= kMaxPending)
    throw Error::ResourceExhausted("too many sign-ins in progress: try again in a minute");
}

std::string AuthorizationCodes::Begin(const std::map<std::string, std::string>& q) {
  AuthorizeRequest r{Param(q, "client_id"), Param(q, "redirect_uri"), Param(q, "code_challenge"),
                     Param(q, "state")};
  auto client =
      std::find_if(clients_.begin(), clients_.end(), [&](auto& c) { return c.client_id == r.client_id; });
  if (client == clients_.end()) throw Error::InvalidArgument("unknown client_id");
  if (std::find(client->redirect_uris.begin(), client->redirect_uris.end(), r.redirect_uri) ==
      client->redirect_uris.end())
    throw Error::InvalidArgument("redirect_uri is not one registered for this client");
  if (Param(q, "response_type") != "code") throw Error::InvalidArgument("response_type must be code");
  if (Param(q, "code_challenge_method") != "S256")
    throw Error::InvalidArgument("PKCE is required: code_challenge_method=S256 and a code_challenge");
  if (!IsPkceText(r.code_challenge)) throw Error::InvalidArgument("code_challenge must be 43-128 characters");
  if (r.state.size() > 1024) throw Error::InvalidArgument("state is longer than 1024 characters");
  std::lock_guard lock(mu_);
  int64_t now = Now();
  Prune(now);
  std::string id = RandomHex(24);
  pending_[id] = {r, now + kSignInMs, 0};
  return id;
}

AuthorizeRequest AuthorizationCodes::Pending(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(id);
  if (it == pending_.end() || it->second.expires_ms <= Now())
    throw Error::InvalidArgument(
        "this sign-in expired or was already used: start again from the application");
  return it->second.request;
}

void AuthorizationCodes::Failed(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(id);
  if (it != pending_.end() && ++it->second.failures >= 5) pending_.erase(it);
}

std::string AuthorizationCodes::Complete(const std::string& id, const std::string& user) {
  std::lock_guard lock(mu_);
  int64_t now = Now();
  auto it = pending_.find(id);
  if (it == pending_.end() || it->second.expires_ms <= now)
    throw Error::InvalidArgument(
        "this sign-in expired or was already used: start again from the application");
  AuthorizeRequest r = it->second.request;
  pending_.erase(it);
  std::string code = RandomHex(32);
  codes_[code] = {r, user, now + kCodeMs};
  std::string url =
      r.redirect_uri + (r.redirect_uri.find('?') == std::string::npos ? "?" : "&") + "code=" + code;
  if (!r.state.empty()) url += "&state=" + UrlEncode(r.state);
  return url;
}

std::string AuthorizationCodes::Redeem(const std::string& code, const std::string& client_id,
                                       const std::string& redirect_uri, const std::string& verifier) {
  std::lock_guard lock(mu_);
  auto it = codes_.find(code);
  if (it == codes_.end() || it->second.expires_ms <= Now())
    throw Error::Unauthenticated("invalid or expired code");
  Code c = it->second;
  codes_.erase(it);  // one attempt: a leaked code is spent by whoever tries first
  if (c.request.client_id != client_id || c.request.redirect_uri != redirect_uri)
    throw Error::Unauthenticated("the code was issued to another client or redirect_uri");
  if (!IsPkceText(verifier)) throw Error::Unauthenticated("code_verifier must be 43-128 characters");
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
  std::string challenge =
      Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
  if (challenge != c.request.code_challenge)
    throw Error::Unauthenticated("code_verifier does not match the code_challenge");
  return c.user;
}

}  // namespace tarn::identity
