#include "identity/password.h"

#include <argon2.h>

#include <vector>

#include "common/error.h"
#include "common/util.h"

namespace tarn::identity {

namespace {
// OWASP's Argon2id recommendation: 19 MiB, 2 passes, 1 lane.
constexpr uint32_t kMemoryKiB = 19456;
constexpr uint32_t kPasses = 2;
constexpr uint32_t kLanes = 1;
constexpr size_t kSaltLen = 16;
constexpr size_t kHashLen = 32;
}  // namespace

std::string HashPassword(std::string_view password) {
  if (password.size() < 8) throw Error::InvalidArgument("passwords need at least 8 characters");
  if (password.size() > 1024) throw Error::InvalidArgument("passwords may have at most 1024 characters");
  std::string salt = RandomBytes(kSaltLen);
  size_t len = argon2_encodedlen(kPasses, kMemoryKiB, kLanes, kSaltLen, kHashLen, Argon2_id);
  std::vector<char> encoded(len);
  int rc = argon2id_hash_encoded(kPasses, kMemoryKiB, kLanes, password.data(), password.size(), salt.data(),
                                 salt.size(), kHashLen, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) throw Error::Internal("argon2id failed: {}", argon2_error_message(rc));
  return std::string(encoded.data());
}

bool VerifyPassword(const std::string& encoded, std::string_view password) {
  if (password.size() > 1024) return false;
  return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

std::string GeneratePassword() {
  static constexpr char kAlphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_";
  constexpr unsigned kN = sizeof(kAlphabet) - 1;
  std::string out;
  while (out.size() < 24) {
    for (unsigned char b : RandomBytes(32)) {
      if (b < 256 / kN * kN && out.size() < 24) out += kAlphabet[b % kN];  // no modulo bias
    }
  }
  return out;
}

}  // namespace tarn::identity
