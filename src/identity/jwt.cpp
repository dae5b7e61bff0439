#include "identity/jwt.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>

#include "common/error.h"
#include "common/free_with.h"

namespace tarn::identity {

namespace {

using PkeyPtr = std::unique_ptr<EVP_PKEY, FreeWith<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, FreeWith<EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, FreeWith<EVP_MD_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, FreeWith<BIO_free>>;
using BnPtr = std::unique_ptr<BIGNUM, FreeWith<BN_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, FreeWith<ECDSA_SIG_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, FreeWith<OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, FreeWith<OSSL_PARAM_free>>;

constexpr int kRsaMinBits = 2048;
constexpr int kRsaMaxBits = 16384;  // OpenSSL's own limit
constexpr int kEcCoordinateBytes = 32;
constexpr const char* kCurve = "prime256v1";  // OpenSSL's name for P-256
constexpr const char* kForbiddenHeaderMembers[] = {"jku", "jwk", "x5u", "x5c", "crit"};

// The oldest queued OpenSSL error as text; empties the (thread-local) queue.
std::string TakeOpensslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no OpenSSL error queued";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* Bytes(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}

std::optional<JwtAlgorithm> ParseAlgorithm(std::string_view name) {
  if (name == "RS256") return JwtAlgorithm::kRS256;
  if (name == "ES256") return JwtAlgorithm::kES256;
  return std::nullopt;
}

// The algorithm `pkey` is fit for; throws kInvalidArgument for any other key.
JwtAlgorithm AlgorithmFor(const EVP_PKEY* pkey, std::string_view what) {
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    int bits = EVP_PKEY_get_bits(pkey);
    if (bits < kRsaMinBits || bits > kRsaMaxBits) {
      throw Error::InvalidArgument("{} is a {}-bit RSA key; {} to {} bits are accepted", what, bits,
                                   kRsaMinBits, kRsaMaxBits);
    }
    return JwtAlgorithm::kRS256;
  }
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) != 1 ||
        std::string_view(group, len) != kCurve) {
      ERR_clear_error();
      throw Error::InvalidArgument("{} is an EC key on a curve other than P-256", what);
    }
    return JwtAlgorithm::kES256;
  }
  throw Error::InvalidArgument("{} is neither an RSA nor an EC P-256 key", what);
}

BnPtr GetBn(const EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) {
    throw Error::Internal("reading key parameter {}: {}", name, TakeOpensslError());
  }
  return BnPtr(bn);
}

// Big-endian bytes of `bn`: minimal when width is 0, else left-padded to width.
std::string BnBytes(const BIGNUM* bn, int width = 0) {
  std::string out(width ? width : BN_num_bytes(bn), '\0');
  int n = width ? BN_bn2binpad(bn, Bytes(out), width) : BN_bn2bin(bn, Bytes(out));
  if (n < 0 || static_cast<size_t>(n) != out.size()) throw Error::Internal("a key number does not fit");
  return out;
}

// ECDSA signatures: OpenSSL speaks DER, JWS raw r||s.
std::string DerToRaw(std::string_view der) {
  const unsigned char* p = Bytes(der);
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) throw Error::Internal("decoding an ECDSA signature: {}", TakeOpensslError());
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  return BnBytes(r, kEcCoordinateBytes) + BnBytes(s, kEcCoordinateBytes);
}

std::string RawToDer(std::string_view raw) {
  BnPtr r(BN_bin2bn(Bytes(raw), kEcCoordinateBytes, nullptr));
  BnPtr s(BN_bin2bn(Bytes(raw) + kEcCoordinateBytes, kEcCoordinateBytes, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    throw Error::Internal("building an ECDSA signature: {}", TakeOpensslError());
  }
  r.release();  // now owned by sig
  s.release();
  int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) throw Error::Internal("encoding an ECDSA signature: {}", TakeOpensslError());
  std::string der(len, '\0');
  unsigned char* p = Bytes(der);
  if (i2d_ECDSA_SIG(sig.get(), &p) != len) throw Error::Internal("encoding an ECDSA signature");
  return der;
}

// A digest context set up for `alg` with `pkey` (PKCS#1 v1.5 padding for RSA).
MdCtxPtr DigestContext(EVP_PKEY* pkey, JwtAlgorithm alg, bool sign) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  int ok = ctx ? (sign ? EVP_DigestSignInit_ex(ctx.get(), &pctx, "SHA256", nullptr, nullptr, pkey, nullptr)
                       : EVP_DigestVerifyInit_ex(ctx.get(), &pctx, "SHA256", nullptr, nullptr, pkey, nullptr))
               : 0;
  if (ok == 1 && alg == JwtAlgorithm::kRS256) ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING);
  if (ok != 1) throw Error::Internal("setting up {}: {}", AlgorithmName(alg), TakeOpensslError());
  return ctx;
}

std::string SignBytes(EVP_PKEY* pkey, JwtAlgorithm alg, std::string_view input) {
  MdCtxPtr ctx = DigestContext(pkey, alg, true);
  size_t len = EVP_PKEY_get_size(pkey);
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), Bytes(sig), &len, Bytes(input), input.size()) != 1) {
    throw Error::Internal("signing with {}: {}", AlgorithmName(alg), TakeOpensslError());
  }
  sig.resize(len);
  return alg == JwtAlgorithm::kES256 ? DerToRaw(sig) : sig;
}

bool VerifyBytes(EVP_PKEY* pkey, JwtAlgorithm alg, std::string_view input, std::string_view sig) {
  std::string der;
  if (alg == JwtAlgorithm::kES256) {
    if (sig.size() != 2 * kEcCoordinateBytes) return false;
    der = RawToDer(sig);
    sig = der;
  } else if (sig.size() != static_cast<size_t>(EVP_PKEY_get_size(pkey))) {
    return false;
  }
  MdCtxPtr ctx = DigestContext(pkey, alg, false);
  bool ok = EVP_DigestVerify(ctx.get(), Bytes(sig), sig.size(), Bytes(input), input.size()) == 1;
  ERR_clear_error();
  return ok;
}

// A public key built from OSSL_PARAMs, e.g. "RSA" from n and e.
PkeyPtr PublicKeyFromParams(const char* type, OSSL_PARAM_BLD* bld, const std::string& kid) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    throw Error::Internal("building a {} key: {}", type, TakeOpensslError());
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ERR_clear_error();
    throw Error::InvalidArgument("JWK {} is not a valid {} public key", kid, type);
  }
  PkeyPtr pkey(raw);
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    ERR_clear_error();
    throw Error::InvalidArgument("JWK {} is not a valid {} public key", kid, type);
  }
  return pkey;
}

// The base64url-decoded bytes of string member `name`; throws kInvalidArgument.
std::string JwkBytes(const nlohmann::json& jwk, const char* name, const std::string& kid) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    throw Error::InvalidArgument("JWK {} has no \"{}\"", kid, name);
  }
  try {
    return Base64UrlDecode(it->get_ref<const std::string&>());
  } catch (const Error&) {
    throw Error::InvalidArgument("JWK {}: \"{}\" is not base64url", kid, name);
  }
}

PkeyPtr RsaFromJwk(const nlohmann::json& jwk, const std::string& kid) {
  std::string n_bytes = JwkBytes(jwk, "n", kid);
  std::string e_bytes = JwkBytes(jwk, "e", kid);
  BnPtr n(BN_bin2bn(Bytes(n_bytes), static_cast<int>(n_bytes.size()), nullptr));
  BnPtr e(BN_bin2bn(Bytes(e_bytes), static_cast<int>(e_bytes.size()), nullptr));
  if (!n || !e) throw Error::Internal("reading JWK {}: {}", kid, TakeOpensslError());
  int bits = BN_num_bits(n.get());
  if (bits < kRsaMinBits || bits > kRsaMaxBits) {
    throw Error::InvalidArgument("JWK {} is a {}-bit RSA key; {} to {} bits are accepted", kid, bits,
                                 kRsaMinBits, kRsaMaxBits);
  }
  if (!BN_is_odd(e.get()) || BN_is_one(e.get())) {
    throw Error::InvalidArgument("JWK {} has an invalid RSA exponent", kid);
  }
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    throw Error::Internal("reading JWK {}: {}", kid, TakeOpensslError());
  }
  return PublicKeyFromParams("RSA", bld.get(), kid);
}

PkeyPtr EcFromJwk(const nlohmann::json& jwk, const std::string& kid) {
  auto crv = jwk.find("crv");
  if (crv == jwk.end() || *crv != "P-256") throw Error::InvalidArgument("JWK {} is not on curve P-256", kid);
  std::string x = JwkBytes(jwk, "x", kid);
  std::string y = JwkBytes(jwk, "y", kid);
  if (x.size() != kEcCoordinateBytes || y.size() != kEcCoordinateBytes) {
    throw Error::InvalidArgument("JWK {}: x and y must be {} bytes each", kid, kEcCoordinateBytes);
  }
  std::string point = "\x04" + x + y;  // uncompressed point
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, kCurve, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    throw Error::Internal("reading JWK {}: {}", kid, TakeOpensslError());
  }
  return PublicKeyFromParams("EC", bld.get(), kid);
}

// Why a JWKS entry is not one of ours to use, or nullopt if it should be (Add
// then refuses it if it is broken).
std::optional<std::string_view> SkipReason(const nlohmann::json& jwk) {
  if (!jwk.is_object()) return std::nullopt;
  if (!jwk.contains("kid")) return "no kid";
  if (jwk.contains("use") && jwk["use"] != "sig") return "not a signature key";
  if (auto ops = jwk.find("key_ops"); ops != jwk.end() && ops->is_array()) {
    bool verify = false;
    for (const auto& op : *ops) verify = verify || op == "verify";
    if (!verify) return "not a verification key";
  }
  auto kty = jwk.find("kty");
  if (kty == jwk.end() || !kty->is_string()) return std::nullopt;
  if (*kty != "RSA" && *kty != "EC") return "key type not supported";
  if (*kty == "EC" && jwk.contains("crv") && jwk["crv"] != "P-256") return "curve not supported";
  if (auto alg = jwk.find("alg"); alg != jwk.end() && alg->is_string()) {
    if (!ParseAlgorithm(alg->get_ref<const std::string&>())) return "algorithm not supported";
  }
  return std::nullopt;
}

struct TokenParts {
  std::string_view header, payload, signature;
};

TokenParts SplitToken(std::string_view token) {
  size_t first = token.find('.');
  size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    throw Error::Unauthenticated("JWT does not have three parts");
  }
  return {token.substr(0, first), token.substr(first + 1, second - first - 1), token.substr(second + 1)};
}

nlohmann::json ParseObject(const std::string& text, std::string_view what) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) throw Error::Unauthenticated("JWT {} is not a JSON object", what);
  return j;
}

// A NumericDate claim in seconds, or nullopt if absent; must be a finite number.
std::optional<double> NumericClaim(const nlohmann::json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  if (!it->is_number() || !std::isfinite(it->get<double>())) {
    throw Error::Unauthenticated("JWT claim {} is not a number", name);
  }
  return it->get<double>();
}

bool IsNonEmptyString(const nlohmann::json& j) {
  return j.is_string() && !j.get_ref<const std::string&>().empty();
}

}  // namespace

std::string_view AlgorithmName(JwtAlgorithm alg) {
  switch (alg) {
    case JwtAlgorithm::kRS256: return "RS256";
    case JwtAlgorithm::kES256: return "ES256";
  }
  return "?";
}

// --- base64url ---------------------------------------------------------------

namespace {
constexpr char kBase64UrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int Base64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}
}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : bytes) {
    acc = (acc << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kBase64UrlAlphabet[(acc >> bits) & 63];
    }
    acc &= (1u << bits) - 1;
  }
  if (bits > 0) out += kBase64UrlAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

std::string Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) throw Error::Unauthenticated("base64url text has an impossible length");
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int value = Base64UrlValue(c);
    if (value < 0) throw Error::Unauthenticated("base64url text has a character outside the alphabet");
    acc = (acc << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
    acc &= (1u << bits) - 1;
  }
  // Unused trailing bits must be zero, so each byte string has one encoding.
  if (acc != 0) throw Error::Unauthenticated("base64url text is not canonical");
  return out;
}

// --- SigningKey ----------------------------------------------------------------

struct SigningKey::Key {
  PkeyPtr pkey;
};

SigningKey::SigningKey(std::shared_ptr<Key> key, JwtAlgorithm alg, std::string kid)
    : key_(std::move(key)), alg_(alg), kid_(std::move(kid)) {}

SigningKey SigningKey::Generate(JwtAlgorithm alg, std::string kid) {
  if (kid.empty()) throw Error::InvalidArgument("a signing key needs a key id");
  PkeyPtr pkey(alg == JwtAlgorithm::kRS256 ? EVP_RSA_gen(kRsaMinBits) : EVP_EC_gen(kCurve));
  if (!pkey) throw Error::Internal("generating an {} key: {}", AlgorithmName(alg), TakeOpensslError());
  return SigningKey(std::make_shared<Key>(Key{std::move(pkey)}), alg, std::move(kid));
}

SigningKey SigningKey::FromPem(const std::string& pem, std::string kid) {
  if (kid.empty()) throw Error::InvalidArgument("a signing key needs a key id");
  if (pem.size() > INT_MAX) throw Error::InvalidArgument("signing key {}: PEM too large", kid);
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) throw Error::Internal("reading a PEM key: {}", TakeOpensslError());
  // A callback that supplies no passphrase, so an encrypted key fails instead of prompting.
  auto no_passphrase = [](char*, int, int, void*) { return 0; };
  PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!pkey) {
    ERR_clear_error();
    throw Error::InvalidArgument("signing key {} is not an unencrypted PEM private key", kid);
  }
  JwtAlgorithm alg = AlgorithmFor(pkey.get(), fmt::format("signing key {}", kid));
  return SigningKey(std::make_shared<Key>(Key{std::move(pkey)}), alg, std::move(kid));
}

std::string SigningKey::PrivatePem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key_->pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    throw Error::Internal("writing signing key {}: {}", kid_, TakeOpensslError());
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

nlohmann::json SigningKey::PublicJwk() const {
  nlohmann::json jwk = {{"kid", kid_}, {"alg", AlgorithmName(alg_)}, {"use", "sig"}};
  const EVP_PKEY* pkey = key_->pkey.get();
  if (alg_ == JwtAlgorithm::kRS256) {
    jwk["kty"] = "RSA";
    jwk["n"] = Base64UrlEncode(BnBytes(GetBn(pkey, OSSL_PKEY_PARAM_RSA_N).get()));
    jwk["e"] = Base64UrlEncode(BnBytes(GetBn(pkey, OSSL_PKEY_PARAM_RSA_E).get()));
  } else {
    jwk["kty"] = "EC";
    jwk["crv"] = "P-256";
    jwk["x"] = Base64UrlEncode(BnBytes(GetBn(pkey, OSSL_PKEY_PARAM_EC_PUB_X).get(), kEcCoordinateBytes));
    jwk["y"] = Base64UrlEncode(BnBytes(GetBn(pkey, OSSL_PKEY_PARAM_EC_PUB_Y).get(), kEcCoordinateBytes));
  }
  return jwk;
}

std::string SigningKey::Sign(const nlohmann::json& claims) const {
  if (!claims.is_object()) throw Error::InvalidArgument("JWT claims must be a JSON object");
  nlohmann::json header = {{"alg", AlgorithmName(alg_)}, {"typ", "JWT"}, {"kid", kid_}};
  std::string input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
  return input + "." + Base64UrlEncode(SignBytes(key_->pkey.get(), alg_, input));
}

// --- KeySet --------------------------------------------------------------------

struct KeySet::PublicKey {
  PkeyPtr pkey;
  JwtAlgorithm alg;
};

KeySet KeySet::FromJwks(const nlohmann::json& jwks) {
  if (!jwks.is_object()) throw Error::InvalidArgument("a JWKS must be a JSON object");
  auto keys = jwks.find("keys");
  if (keys == jwks.end() || !keys->is_array()) throw Error::InvalidArgument("a JWKS needs a \"keys\" array");
  KeySet set;
  for (const auto& jwk : *keys) {
    if (!SkipReason(jwk)) set.Add(jwk);
  }
  return set;
}

void KeySet::Add(const nlohmann::json& jwk) {
  if (!jwk.is_object()) throw Error::InvalidArgument("a JWK must be a JSON object");
  auto kid_it = jwk.find("kid");
  if (kid_it == jwk.end() || !IsNonEmptyString(*kid_it)) {
    throw Error::InvalidArgument("a JWK needs a non-empty string \"kid\"");
  }
  const std::string& kid = kid_it->get_ref<const std::string&>();
  if (jwk.contains("use") && jwk["use"] != "sig")
    throw Error::InvalidArgument("JWK {} is not for signatures", kid);
  if (auto ops = jwk.find("key_ops"); ops != jwk.end()) {
    bool verify = false;
    if (ops->is_array()) {
      for (const auto& op : *ops) verify = verify || op == "verify";
    }
    if (!verify) throw Error::InvalidArgument("JWK {} key_ops does not allow \"verify\"", kid);
  }
  auto kty = jwk.find("kty");
  JwtAlgorithm alg;
  if (kty != jwk.end() && *kty == "RSA") {
    alg = JwtAlgorithm::kRS256;
  } else if (kty != jwk.end() && *kty == "EC") {
    alg = JwtAlgorithm::kES256;
  } else {
    throw Error::InvalidArgument("JWK {}: kty must be RSA or EC", kid);
  }
  if (jwk.contains("alg") && jwk["alg"] != AlgorithmName(alg)) {
    throw Error::InvalidArgument("JWK {}: alg disagrees with kty (a {} key is used for {} only)", kid,
                                 kty->get_ref<const std::string&>(), AlgorithmName(alg));
  }
  PkeyPtr pkey = alg == JwtAlgorithm::kRS256 ? RsaFromJwk(jwk, kid) : EcFromJwk(jwk, kid);
  if (AlgorithmFor(pkey.get(), fmt::format("JWK {}", kid)) != alg) {
    throw Error::Internal("JWK {} built the wrong key type", kid);
  }
  keys_[kid] = std::make_shared<const PublicKey>(PublicKey{std::move(pkey), alg});
}

bool KeySet::Contains(const std::string& kid) const {
  return keys_.count(kid) > 0;
}

size_t KeySet::size() const {
  return keys_.size();
}

void KeySet::VerifySignature(const std::string& kid, JwtAlgorithm alg, std::string_view signing_input,
                             std::string_view signature) const {
  auto it = keys_.find(kid);
  if (it == keys_.end()) throw Error::Unauthenticated("JWT kid is not a known key");
  const PublicKey& key = *it->second;
  if (key.alg != alg) {
    throw Error::Unauthenticated("JWT alg {} does not match its key's {}", AlgorithmName(alg),
                                 AlgorithmName(key.alg));
  }
  if (!VerifyBytes(key.pkey.get(), alg, signing_input, signature)) {
    throw Error::Unauthenticated("JWT signature does not verify");
  }
}

// --- verification ------------------------------------------------------------

nlohmann::json VerifyJwt(std::string_view token, const KeySet& keys, const VerifyOptions& options) {
  TokenParts parts = SplitToken(token);
  std::string header_text = Base64UrlDecode(parts.header);
  std::string payload_text = Base64UrlDecode(parts.payload);
  std::string signature = Base64UrlDecode(parts.signature);
  nlohmann::json header = ParseObject(header_text, "header");
  for (const char* member : kForbiddenHeaderMembers) {
    if (header.contains(member)) throw Error::Unauthenticated("JWT header has a forbidden member {}", member);
  }
  auto alg_it = header.find("alg");
  std::optional<JwtAlgorithm> alg;
  if (alg_it != header.end() && alg_it->is_string()) {
    alg = ParseAlgorithm(alg_it->get_ref<const std::string&>());
  }
  if (!alg) throw Error::Unauthenticated("JWT alg is not RS256 or ES256");
  auto kid = header.find("kid");
  if (kid == header.end() || !IsNonEmptyString(*kid)) throw Error::Unauthenticated("JWT header has no kid");
  std::string_view signing_input = token.substr(0, parts.header.size() + 1 + parts.payload.size());
  keys.VerifySignature(kid->get_ref<const std::string&>(), *alg, signing_input, signature);

  // The payload is parsed only once its signature is known to be good.
  nlohmann::json claims = ParseObject(payload_text, "payload");
  auto iss = claims.find("iss");
  if (iss == claims.end() || !IsNonEmptyString(*iss) || *iss != options.issuer) {
    throw Error::Unauthenticated("JWT iss is not the expected issuer");
  }
  auto aud = claims.find("aud");
  bool audience_ok = false;
  if (aud != claims.end() && aud->is_array()) {
    for (const auto& entry : *aud) {
      if (!entry.is_string()) throw Error::Unauthenticated("JWT aud has a member that is not a string");
      audience_ok = audience_ok || entry == options.audience;
    }
  } else if (aud != claims.end()) {
    audience_ok = aud->is_string() && *aud == options.audience;
  }
  if (!audience_ok || options.audience.empty()) {
    throw Error::Unauthenticated("JWT aud does not contain the expected audience");
  }

  double now = std::chrono::duration<double>(options.now.time_since_epoch()).count();
  double leeway = std::chrono::duration<double>(options.leeway).count();
  std::optional<double> exp = NumericClaim(claims, "exp");
  if (!exp) throw Error::Unauthenticated("JWT has no exp claim");
  if (now >= *exp + leeway) throw Error::Unauthenticated("JWT has expired");
  if (auto nbf = NumericClaim(claims, "nbf"); nbf && now + leeway < *nbf) {
    throw Error::Unauthenticated("JWT is not yet valid (nbf)");
  }
  if (auto iat = NumericClaim(claims, "iat"); iat && now + leeway < *iat) {
    throw Error::Unauthenticated("JWT was issued in the future (iat)");
  }
  auto sub = claims.find("sub");
  if (sub == claims.end() || !IsNonEmptyString(*sub)) {
    throw Error::Unauthenticated("JWT sub is missing or empty");
  }
  return claims;
}

std::string UnverifiedIssuer(std::string_view token) {
  nlohmann::json claims = ParseObject(Base64UrlDecode(SplitToken(token).payload), "payload");
  auto iss = claims.find("iss");
  if (iss == claims.end() || !iss->is_string()) throw Error::Unauthenticated("JWT has no iss claim");
  return iss->get<std::string>();
}

}  // namespace tarn::identity
