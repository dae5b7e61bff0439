// Crafting tokens by hand for JWT tests: splitting and joining compact JWS, RS256
// signatures made with OpenSSL directly (so any header can be signed, independently
// of jwt.cpp), and HMAC for algorithm-confusion forgeries.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "identity/jwt.h"

namespace tarn::testing {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};

// The dot-separated parts of a compact token (any number of them).
inline std::vector<std::string> Parts(const std::string& token) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t dot; (dot = token.find('.', start)) != std::string::npos; start = dot + 1) {
    parts.push_back(token.substr(start, dot - start));
  }
  parts.push_back(token.substr(start));
  return parts;
}

inline std::string Join(std::string_view header, std::string_view payload, std::string_view signature) {
  return std::string(header) + "." + std::string(payload) + "." + std::string(signature);
}

inline nlohmann::json DecodePart(const std::string& part) {
  return nlohmann::json::parse(identity::Base64UrlDecode(part));
}

inline std::string BioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

inline PkeyPtr LoadPrivate(const identity::SigningKey& key) {
  std::string pem = key.PrivatePem();
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!pkey) throw std::runtime_error("test: cannot reload a private key");
  return pkey;
}

// RS256 over `input` with `key`'s private half.
inline std::string RsaSign(const identity::SigningKey& key, std::string_view input) {
  PkeyPtr pkey = LoadPrivate(key);
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t len = EVP_PKEY_get_size(pkey.get());
  std::string sig(len, '\0');
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    throw std::runtime_error("test: RSA signing failed");
  }
  sig.resize(len);
  return sig;
}

// A token with any header, validly RS256-signed by `key` (SigningKey::Sign always
// writes its own header).
inline std::string SignedWithHeader(const identity::SigningKey& key, const nlohmann::json& header,
                                    const nlohmann::json& claims) {
  std::string input =
      identity::Base64UrlEncode(header.dump()) + "." + identity::Base64UrlEncode(claims.dump());
  return input + "." + identity::Base64UrlEncode(RsaSign(key, input));
}

inline nlohmann::json RsaHeader(const identity::SigningKey& key) {
  return {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", key.kid()}};
}

inline std::string HmacSha256(std::string_view secret, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t len = 0;
  if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                 reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, sizeof out, &len)) {
    throw std::runtime_error("test: HMAC failed");
  }
  return std::string(reinterpret_cast<char*>(out), len);
}

// An RSA public key built from a JWK's n and e, as a verifier holding the JWKS sees it.
inline PkeyPtr RsaPublicFromJwk(const nlohmann::json& jwk) {
  std::string n = identity::Base64UrlDecode(jwk.at("n").get<std::string>());
  std::string e = identity::Base64UrlDecode(jwk.at("e").get<std::string>());
  BnPtr bn_n(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr));
  BnPtr bn_e(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr));
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    throw std::runtime_error("test: cannot build RSA parameters");
  }
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    throw std::runtime_error("test: cannot build an RSA public key");
  }
  return PkeyPtr(raw);
}

}  // namespace tarn::testing
