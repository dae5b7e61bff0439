// Password hashing with Argon2id (libargon2), in the PHC string format
// ($argon2id$v=19$m=...,t=...,p=...$salt$hash), so parameters travel with each hash.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace tarn::identity {

// A new hash of `password` with a random 16-byte salt. Throws kInvalidArgument for
// passwords shorter than 8 or longer than 1024 bytes.
std::string HashPassword(std::string_view password);

// True if `password` matches `encoded` (a HashPassword result). Constant-time in
// the comparison; false (never a throw) for a malformed hash.
bool VerifyPassword(const std::string& encoded, std::string_view password);

// A random password of 24 URL-safe characters (for generated admin passwords).
std::string GeneratePassword();

}  // namespace tarn::identity
