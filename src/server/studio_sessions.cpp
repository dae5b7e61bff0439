#include "server/studio_sessions.h"

#include <openssl/sha.h>

#include "common/error.h"
#include "common/util.h"
#include "identity/jwt.h"

namespace tarn::server {

namespace {
constexpr int64_t kLoginMs = 10 * 60 * 1000;
constexpr size_t kMaxEntries = 100000;
}  // namespace

StudioSessions::StudioSessions(std::chrono::seconds idle, std::chrono::seconds max,
                               std::function<int64_t()> clock)
    : idle_ms_(idle.count() * 1000), max_ms_(max.count() * 1000), clock_(std::move(clock)) {}

int64_t StudioSessions::Now() const {
  return clock_ ? clock_() : EpochMillis();
}

void StudioSessions::Prune(int64_t now) {
  std::erase_if(logins_, [&](auto& l) { return l.second.second + kLoginMs <= now; });
  std::erase_if(sessions_, [&](auto& s) {
    return s.second.last_ms + idle_ms_ <= now || s.second.created_ms + max_ms_ <= now;
  });
  if (logins_.size() + sessions_.size() >= kMaxEntries)
    throw Error::ResourceExhausted("too many studio sessions: try again later");
}

std::pair<std::string, StudioLogin> StudioSessions::BeginLogin() {
  StudioLogin l;
  l.state = RandomHex(16);
  l.verifier = RandomHex(32);  // 64 characters of [0-9a-f]
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(l.verifier.data()), l.verifier.size(), digest);
  l.challenge =
      identity::Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
  std::lock_guard lock(mu_);
  int64_t now = Now();
  Prune(now);
  std::string id = RandomHex(24);
  logins_[id] = {l, now};
  return {id, l};
}

std::optional<StudioLogin> StudioSessions::TakeLogin(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = logins_.find(id);
  if (it == logins_.end()) return std::nullopt;
  auto [login, started] = it->second;
  logins_.erase(it);
  if (started + kLoginMs <= Now()) return std::nullopt;
  return login;
}

std::string StudioSessions::Create(const identity::Principal& p, bool external) {
  std::lock_guard lock(mu_);
  int64_t now = Now();
  Prune(now);
  std::string id = RandomHex(32);
  sessions_[id] = {p.user, p.issuer, RandomHex(32), now, now, external ? std::optional(p) : std::nullopt};
  return id;
}

std::optional<StudioSession> StudioSessions::Find(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  int64_t now = Now();
  StudioSession& s = it->second;
  if (s.last_ms + idle_ms_ <= now || s.created_ms + max_ms_ <= now) {
    sessions_.erase(it);
    return std::nullopt;
  }
  s.last_ms = now;
  return s;
}

void StudioSessions::Revoke(const std::string& id) {
  std::lock_guard lock(mu_);
  sessions_.erase(id);
}

}  // namespace tarn::server
