// StudioSessions: the studio's backend-for-frontend sessions. The browser holds only
// an opaque session cookie; who it stands for, and the CSRF token every
// state-changing request must echo, stay here. Sign-ins in progress keep their PKCE
// verifier and state here too, named by a short-lived login cookie.
//
// A session ends when it is revoked (sign-out), idle longer than `idle`, older than
// `max`, or when its user's credentials changed after it began (Find checks
// Principal::credentials_since_ms). Sessions live in memory: a restart signs everyone
// out. Thread-safety: thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "identity/principal.h"

namespace tarn::server {

struct StudioLogin {
  std::string state, verifier, challenge;  // PKCE S256: challenge = BASE64URL(SHA256(verifier))
};

struct StudioSession {
  std::string user, issuer, csrf;
  int64_t created_ms = 0, last_ms = 0;
  // Signed in at an external issuer: the principal its token named (groups as of the
  // sign-in; the session's lifetimes bound how long they are trusted).
  std::optional<identity::Principal> external{};
};

class StudioSessions {
 public:
  StudioSessions(std::chrono::seconds idle, std::chrono::seconds max,
                 std::function<int64_t()> clock = nullptr);

  // A sign-in begins: its id (the login cookie) and what the authorize request needs.
  std::pair<std::string, StudioLogin> BeginLogin();
  // The sign-in `id`, once (nullopt if unknown or older than 10 minutes).
  std::optional<StudioLogin> TakeLogin(const std::string& id);

  // A new session for `p`: its id (the session cookie). `external`: `p` came from an
  // external issuer's token and is kept whole (the directory does not know it).
  std::string Create(const identity::Principal& p, bool external = false);
  // The live session `id` (touched), or nullopt.
  std::optional<StudioSession> Find(const std::string& id);
  // Ends a session whose user's credentials changed since it began.
  bool Current(const StudioSession& s, const identity::Principal& p) const {
    return p.credentials_since_ms < s.created_ms;
  }
  void Revoke(const std::string& id);

 private:
  int64_t Now() const;
  void Prune(int64_t now);  // mu_ held

  int64_t idle_ms_, max_ms_;
  std::function<int64_t()> clock_;
  std::mutex mu_;
  std::map<std::string, std::pair<StudioLogin, int64_t>> logins_;  // guarded by mu_; with their start
  std::map<std::string, StudioSession> sessions_;                  // guarded by mu_
};

}  // namespace tarn::server
