// KeyManager: the built-in identity provider's token signing keys.
//
// Keys live in a folder of the data directory (keys/, mode 0700): current.json
// (key id and private key, mode 0600, replaced atomically), and
// retired/<kid>.json, each holding a retired
// key's public JWK with the time until which tokens it signed may still be
// presented. The JWKS the provider publishes is the current key plus every retired
// key not yet past that time, so rotation never invalidates a live token.
//
// Thread-safety: all methods are thread-safe. A rotation made by another process
// (`tarn keys rotate`) is picked up within a second, and a retired key leaves the
// key set within a second of its expiry: both are checked at most once a second
// when keys are read.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>

#include "identity/jwt.h"

namespace tarn::identity {

class KeyManager {
 public:
  // Loads the keys in `dir`, creating the folder and a first key (`alg`) if needed.
  explicit KeyManager(std::filesystem::path dir, JwtAlgorithm alg = JwtAlgorithm::kRS256);

  // The key that signs new tokens.
  SigningKey Current() const;
  // Replaces the current key with a new one of `alg`; the old public key stays
  // published for `keep_for` (the longest lifetime of a token it signed).
  void Rotate(std::chrono::seconds keep_for, JwtAlgorithm alg = JwtAlgorithm::kRS256);
  // {"keys": [...]} for /.well-known/jwks.json.
  nlohmann::json Jwks() const;
  // The same keys, ready to verify with.
  KeySet Keys() const;
  // Re-reads the folder (after another process rotated).
  void Reload();

 private:
  void LoadLocked() const;
  // Reloads if the folder changed since the last load (checked at most once a second).
  void RefreshLocked() const;
  std::filesystem::path dir_;
  mutable std::mutex mu_;
  mutable std::chrono::steady_clock::time_point last_check_{};
  mutable std::string stamp_;        // what the folder looked like at the last load
  mutable int64_t next_expiry_ = 0;  // when the next retired key leaves the JWKS (epoch s)
  mutable std::optional<SigningKey> current_;
  mutable nlohmann::json jwks_;
  mutable KeySet keys_;
};

}  // namespace tarn::identity
