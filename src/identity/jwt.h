// JSON Web Tokens: signing (RS256, ES256) and strict verification.
//
// A SigningKey is a private key with a key id; it signs compact JWS tokens whose
// header is {"alg", "typ":"JWT", "kid"}. A KeySet holds public keys read from a
// JWKS document, each pinned to exactly one algorithm (RSA keys to RS256, EC P-256
// keys to ES256; a JWK "alg" member, when present, must agree). VerifyJwt accepts a
// token only if every check holds:
//   - three base64url parts (no padding), header and payload JSON objects;
//   - header has no "jku", "jwk", "x5u", "x5c" or "crit" member;
//   - header "alg" is RS256 or ES256 (never "none", never HS*) and equals the
//     algorithm pinned to the key named by header "kid" (which must be present and known);
//   - the signature verifies with that key;
//   - "iss" equals the expected issuer; "aud" (string or array) contains the
//     expected audience; "exp" is in the future and "nbf" (if present) in the past,
//     both within a small leeway; "iat" (if present) is not in the future beyond it;
//   - "sub" is a non-empty string.
// Failures throw tarn::Error with code kUnauthenticated; the message names the
// failed check for logs (callers must not echo it to clients).
//
// Thread-safety: SigningKey and KeySet are immutable after construction and may be
// shared between threads.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace tarn::identity {

enum class JwtAlgorithm { kRS256, kES256 };
std::string_view AlgorithmName(JwtAlgorithm alg);

// base64url without padding, as JWS uses it. Decode throws kUnauthenticated on bad input.
std::string Base64UrlEncode(std::string_view bytes);
std::string Base64UrlDecode(std::string_view text);

class SigningKey {
 public:
  // A new random key: RSA 2048 for RS256, P-256 for ES256.
  static SigningKey Generate(JwtAlgorithm alg, std::string kid);
  // A key from a PKCS#8 PEM private key (RSA -> RS256, EC P-256 -> ES256).
  static SigningKey FromPem(const std::string& pem, std::string kid);

  const std::string& kid() const { return kid_; }
  JwtAlgorithm algorithm() const { return alg_; }
  // PKCS#8 PEM of the private key.
  std::string PrivatePem() const;
  // The public half as a JWK: {"kty","kid","alg","use":"sig", n/e or crv/x/y}.
  nlohmann::json PublicJwk() const;
  // A compact JWS over `claims` (the caller sets iss, aud, sub, exp, ...).
  std::string Sign(const nlohmann::json& claims) const;

 private:
  struct Key;  // wraps EVP_PKEY
  SigningKey(std::shared_ptr<Key> key, JwtAlgorithm alg, std::string kid);
  std::shared_ptr<Key> key_;
  JwtAlgorithm alg_;
  std::string kid_;
};

class KeySet {
 public:
  KeySet() = default;
  // Reads {"keys": [jwk, ...]}. Keys that are not RSA or EC P-256 signature keys
  // (e.g. "use":"enc", or kty "oct") are skipped; a malformed document throws
  // kInvalidArgument.
  static KeySet FromJwks(const nlohmann::json& jwks);
  // Adds (or replaces) one key given as a JWK; throws kInvalidArgument if unusable.
  void Add(const nlohmann::json& jwk);
  bool Contains(const std::string& kid) const;
  size_t size() const;

  // Verifies `signing_input` ("header.payload") against `signature` (raw bytes)
  // with key `kid`, which must be pinned to `alg`. Throws kUnauthenticated.
  void VerifySignature(const std::string& kid, JwtAlgorithm alg, std::string_view signing_input,
                       std::string_view signature) const;

 private:
  struct PublicKey;
  std::map<std::string, std::shared_ptr<const PublicKey>> keys_;
};

struct VerifyOptions {
  std::string issuer;
  std::string audience;
  std::chrono::seconds leeway{60};
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

// The verified claims of `token`; throws kUnauthenticated (see above).
nlohmann::json VerifyJwt(std::string_view token, const KeySet& keys, const VerifyOptions& options);

// The "iss" claim of a token without verifying anything (to choose which issuer's
// keys to verify it with). Throws kUnauthenticated if the token is malformed.
std::string UnverifiedIssuer(std::string_view token);

}  // namespace tarn::identity
