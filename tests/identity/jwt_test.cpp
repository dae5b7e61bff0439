#include "identity/jwt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstring>
#include <functional>

#include "common/error.h"
#include "jwt_forge.h"

namespace tarn::identity {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using namespace tarn::testing;  // NOLINT: token-crafting helpers (jwt_forge.h)

constexpr int64_t kNow = 1'700'000'000;
constexpr const char* kIssuer = "https://issuer.example";
constexpr const char* kAudience = "tarn";

// --- helpers -----------------------------------------------------------------

// Keys are costly to generate: each is made once and shared (SigningKey is immutable).
const SigningKey& RsaKey() {
  static const SigningKey key = SigningKey::Generate(JwtAlgorithm::kRS256, "rsa-1");
  return key;
}
const SigningKey& RsaKey2() {
  static const SigningKey key = SigningKey::Generate(JwtAlgorithm::kRS256, "rsa-2");
  return key;
}
const SigningKey& EcKey() {
  static const SigningKey key = SigningKey::Generate(JwtAlgorithm::kES256, "ec-1");
  return key;
}

KeySet KeysOf(std::initializer_list<const SigningKey*> signing_keys) {
  json jwks = {{"keys", json::array()}};
  for (const SigningKey* key : signing_keys) jwks["keys"].push_back(key->PublicJwk());
  return KeySet::FromJwks(jwks);
}

json Claims() {
  return {{"iss", kIssuer}, {"aud", kAudience}, {"sub", "alice"}, {"iat", kNow - 10}, {"exp", kNow + 300}};
}

VerifyOptions Options() {
  VerifyOptions options;
  options.issuer = kIssuer;
  options.audience = kAudience;
  options.leeway = std::chrono::seconds(60);
  options.now = std::chrono::system_clock::time_point(std::chrono::seconds(kNow));
  return options;
}

struct EcdsaSigFree {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};

std::string PrivatePemOf(EVP_PKEY* pkey) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr);
  return BioText(bio.get());
}

// The public key of `key` as SubjectPublicKeyInfo PEM and DER.
std::string PublicPem(const SigningKey& key) {
  PkeyPtr pkey = LoadPrivate(key);
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), pkey.get());
  return BioText(bio.get());
}
std::string PublicDer(const SigningKey& key) {
  PkeyPtr pkey = LoadPrivate(key);
  int len = i2d_PUBKEY(pkey.get(), nullptr);
  std::string der(len, '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_PUBKEY(pkey.get(), &p);
  return der;
}

std::string BnBase64Url(EVP_PKEY* pkey, const char* name) {
  BIGNUM* raw = nullptr;
  EVP_PKEY_get_bn_param(pkey, name, &raw);
  BnPtr bn(raw);
  std::string bytes(BN_num_bytes(bn.get()), '\0');
  BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(bytes.data()));
  return Base64UrlEncode(bytes);
}

void ExpectError(ErrorCode code, std::string_view fragment, const std::function<void()>& f) {
  try {
    f();
    ADD_FAILURE() << "expected an error with code " << ErrorCodeName(code) << " mentioning \"" << fragment
                  << "\"";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_THAT(e.what(), HasSubstr(std::string(fragment)));
  }
}

void ExpectRefused(std::string_view fragment, const std::string& token, const KeySet& keys,
                   const VerifyOptions& options = Options()) {
  ExpectError(ErrorCode::kUnauthenticated, fragment, [&] { VerifyJwt(token, keys, options); });
}

// A claims set signed by RsaKey() and the keys that verify it.
std::string RsaToken(const json& claims) {
  return RsaKey().Sign(claims);
}
KeySet RsaKeys() {
  return KeysOf({&RsaKey()});
}

// --- base64url -----------------------------------------------------------------

TEST(Base64Url, RoundTripsEveryByteValueAtEveryLength) {
  std::string all;
  for (int i = 0; i < 256; i++) all += static_cast<char>(i);
  for (size_t len = 0; len <= all.size(); len++) {
    std::string bytes = all.substr(all.size() - len);
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(bytes)), bytes) << len;
  }
}

TEST(Base64Url, EncodesWithTheUrlAlphabetAndNoPadding) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
}

TEST(Base64Url, DecodeRejectsPadding) {
  for (const char* text : {"Zg==", "Zm8=", "Zg=", "====", "Zm9v===="}) {
    ExpectError(ErrorCode::kUnauthenticated, "alphabet", [&] { Base64UrlDecode(text); });
  }
}

TEST(Base64Url, DecodeRejectsCharactersOutsideTheAlphabet) {
  for (const std::string& text : std::vector<std::string>{"Zm9+", "Zm9/", "Zm 9", "Zm9\n", "Zm\xc3\xa9",
                                                          std::string("Zm\0v", 4), "Zm.v"}) {
    ExpectError(ErrorCode::kUnauthenticated, "alphabet", [&] { Base64UrlDecode(text); });
  }
}

TEST(Base64Url, DecodeRejectsImpossibleLengths) {
  for (const char* text : {"Z", "Zm9vY"}) {
    ExpectError(ErrorCode::kUnauthenticated, "length", [&] { Base64UrlDecode(text); });
  }
}

TEST(Base64Url, DecodeRejectsNonZeroTrailingBits) {
  // "Zg" is the encoding of "f"; "Zh" differs only in bits that encode nothing.
  EXPECT_EQ(Base64UrlDecode("Zg"), "f");
  ExpectError(ErrorCode::kUnauthenticated, "canonical", [] { Base64UrlDecode("Zh"); });
  ExpectError(ErrorCode::kUnauthenticated, "canonical", [] { Base64UrlDecode("Zm9"); });
}

// --- signing keys ----------------------------------------------------------------

TEST(Jwt, AlgorithmNamesAreTheJwsNames) {
  EXPECT_EQ(AlgorithmName(JwtAlgorithm::kRS256), "RS256");
  EXPECT_EQ(AlgorithmName(JwtAlgorithm::kES256), "ES256");
}

TEST(SigningKey, Rs256TokenVerifiesWithItsPublicJwk) {
  EXPECT_EQ(RsaKey().algorithm(), JwtAlgorithm::kRS256);
  EXPECT_EQ(VerifyJwt(RsaToken(Claims()), RsaKeys(), Options()), Claims());
}

TEST(SigningKey, Es256TokenVerifiesWithItsPublicJwk) {
  EXPECT_EQ(EcKey().algorithm(), JwtAlgorithm::kES256);
  EXPECT_EQ(VerifyJwt(EcKey().Sign(Claims()), KeysOf({&EcKey()}), Options()), Claims());
}

TEST(SigningKey, Es256SignatureIsRawRAndS) {
  std::string signature = Base64UrlDecode(Parts(EcKey().Sign(Claims()))[2]);
  EXPECT_EQ(signature.size(), 64u);
}

TEST(SigningKey, HeaderHasAlgTypAndKidOnly) {
  json header = json::parse(Base64UrlDecode(Parts(RsaToken(Claims()))[0]));
  EXPECT_EQ(header, (json{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "rsa-1"}}));
}

TEST(SigningKey, RsaPublicJwkIsA2048BitKeyWithoutLeadingZeros) {
  json jwk = RsaKey().PublicJwk();
  EXPECT_EQ(jwk["kty"], "RSA");
  EXPECT_EQ(jwk["kid"], "rsa-1");
  EXPECT_EQ(jwk["alg"], "RS256");
  EXPECT_EQ(jwk["use"], "sig");
  EXPECT_EQ(jwk["e"], "AQAB");
  std::string n = Base64UrlDecode(jwk["n"].get<std::string>());
  ASSERT_EQ(n.size(), 256u);
  EXPECT_GE(static_cast<unsigned char>(n[0]), 0x80);
}

TEST(SigningKey, EcPublicJwkHas32ByteCoordinatesOnP256) {
  json jwk = EcKey().PublicJwk();
  EXPECT_EQ(jwk["kty"], "EC");
  EXPECT_EQ(jwk["crv"], "P-256");
  EXPECT_EQ(jwk["kid"], "ec-1");
  EXPECT_EQ(jwk["alg"], "ES256");
  EXPECT_EQ(jwk["use"], "sig");
  EXPECT_EQ(Base64UrlDecode(jwk["x"].get<std::string>()).size(), 32u);
  EXPECT_EQ(Base64UrlDecode(jwk["y"].get<std::string>()).size(), 32u);
}

TEST(SigningKey, PrivatePemIsPkcs8AndFromPemSignsTheSame) {
  for (const SigningKey* key : {&RsaKey(), &EcKey()}) {
    SCOPED_TRACE(key->kid());
    std::string pem = key->PrivatePem();
    EXPECT_THAT(pem, ::testing::StartsWith("-----BEGIN PRIVATE KEY-----\n"));
    SigningKey reloaded = SigningKey::FromPem(pem, key->kid());
    EXPECT_EQ(reloaded.algorithm(), key->algorithm());
    EXPECT_EQ(reloaded.kid(), key->kid());
    EXPECT_EQ(reloaded.PublicJwk(), key->PublicJwk());
    EXPECT_EQ(VerifyJwt(reloaded.Sign(Claims()), KeysOf({key}), Options()), Claims());
  }
}

TEST(SigningKey, FromPemRejectsTextThatIsNoPrivateKey) {
  for (const std::string& pem : {std::string("not a key"), std::string(), PublicPem(RsaKey())}) {
    ExpectError(ErrorCode::kInvalidArgument, "PEM private key", [&] { SigningKey::FromPem(pem, "k"); });
  }
}

TEST(SigningKey, FromPemRejectsAnEncryptedKeyWithoutPrompting) {
  PkeyPtr pkey = LoadPrivate(EcKey());
  BioPtr bio(BIO_new(BIO_s_mem()));
  char pass[] = "secret";
  ASSERT_EQ(
      PEM_write_bio_PKCS8PrivateKey(bio.get(), pkey.get(), EVP_aes_256_cbc(), pass, 6, nullptr, nullptr), 1);
  std::string pem = BioText(bio.get());
  ASSERT_THAT(pem, HasSubstr("ENCRYPTED"));
  ExpectError(ErrorCode::kInvalidArgument, "PEM private key", [&] { SigningKey::FromPem(pem, "k"); });
}

TEST(SigningKey, FromPemRejectsRsaUnder2048Bits) {
  PkeyPtr small(EVP_RSA_gen(1024));
  std::string pem = PrivatePemOf(small.get());
  ExpectError(ErrorCode::kInvalidArgument, "1024-bit", [&] { SigningKey::FromPem(pem, "k"); });
}

TEST(SigningKey, FromPemRejectsCurvesOtherThanP256) {
  PkeyPtr p384(EVP_EC_gen("secp384r1"));
  std::string pem = PrivatePemOf(p384.get());
  ExpectError(ErrorCode::kInvalidArgument, "P-256", [&] { SigningKey::FromPem(pem, "k"); });
}

TEST(SigningKey, SignRequiresAClaimsObject) {
  ExpectError(ErrorCode::kInvalidArgument, "object", [] { RsaKey().Sign(json::array({1, 2})); });
}

// --- key sets ----------------------------------------------------------------------

TEST(KeySet, FromJwksPicksTheKeyNamedByKid) {
  KeySet keys = KeysOf({&RsaKey(), &RsaKey2(), &EcKey()});
  EXPECT_EQ(keys.size(), 3u);
  for (const SigningKey* key : {&RsaKey(), &RsaKey2(), &EcKey()}) {
    EXPECT_EQ(VerifyJwt(key->Sign(Claims()), keys, Options()), Claims()) << key->kid();
  }
  // Signed by rsa-2 but naming rsa-1: checked against rsa-1 only.
  ExpectRefused("signature", SignedWithHeader(RsaKey2(), RsaHeader(RsaKey()), Claims()), keys);
}

TEST(KeySet, AcceptsATokenWithExtraHarmlessHeaderMembers) {
  // Shows SignedWithHeader makes valid tokens, so the header refusals below are real.
  json header = RsaHeader(RsaKey());
  header["cty"] = "JWT";
  EXPECT_EQ(VerifyJwt(SignedWithHeader(RsaKey(), header, Claims()), RsaKeys(), Options()), Claims());
}

TEST(KeySet, FromJwksSkipsEncryptionKeys) {
  json enc = RsaKey2().PublicJwk();
  enc["use"] = "enc";
  KeySet keys = KeySet::FromJwks({{"keys", {enc, RsaKey().PublicJwk()}}});
  EXPECT_EQ(keys.size(), 1u);
  EXPECT_TRUE(keys.Contains("rsa-1"));
  EXPECT_FALSE(keys.Contains("rsa-2"));
}

TEST(KeySet, FromJwksSkipsSymmetricKeys) {
  json oct = {{"kty", "oct"}, {"kid", "hmac"}, {"k", Base64UrlEncode("0123456789abcdef")}};
  json oct_hs256 = oct;
  oct_hs256["kid"] = "hmac-hs256";
  oct_hs256["alg"] = "HS256";
  KeySet keys = KeySet::FromJwks({{"keys", {oct, oct_hs256, RsaKey().PublicJwk()}}});
  EXPECT_EQ(keys.size(), 1u);
  EXPECT_FALSE(keys.Contains("hmac"));
  EXPECT_FALSE(keys.Contains("hmac-hs256"));
}

TEST(KeySet, FromJwksSkipsKeysWithoutKid) {
  json no_kid = RsaKey2().PublicJwk();
  no_kid.erase("kid");
  KeySet keys = KeySet::FromJwks({{"keys", {no_kid, RsaKey().PublicJwk()}}});
  EXPECT_EQ(keys.size(), 1u);
  EXPECT_TRUE(keys.Contains("rsa-1"));
}

TEST(KeySet, FromJwksSkipsEcKeysOnOtherCurves) {
  json p384 = {{"kty", "EC"},
               {"crv", "P-384"},
               {"kid", "p384"},
               {"x", Base64UrlEncode(std::string(48, 'x'))},
               {"y", Base64UrlEncode(std::string(48, 'y'))}};
  KeySet keys = KeySet::FromJwks({{"keys", {p384, EcKey().PublicJwk()}}});
  EXPECT_EQ(keys.size(), 1u);
  EXPECT_FALSE(keys.Contains("p384"));
}

TEST(KeySet, FromJwksRejectsADocumentThatIsNotAnObject) {
  for (const json& doc : {json::array({RsaKey().PublicJwk()}), json("keys"), json(nullptr), json(42)}) {
    ExpectError(ErrorCode::kInvalidArgument, "JSON object", [&] { KeySet::FromJwks(doc); });
  }
}

TEST(KeySet, FromJwksRejectsAMissingOrMalformedKeysMember) {
  for (const json& doc :
       {json::object(), json{{"keys", RsaKey().PublicJwk()}}, json{{"key", json::array()}}}) {
    ExpectError(ErrorCode::kInvalidArgument, "\"keys\"", [&] { KeySet::FromJwks(doc); });
  }
  ExpectError(ErrorCode::kInvalidArgument, "JSON object", [] {
    KeySet::FromJwks({{"keys", json::array({42})}});
  });
}

TEST(KeySet, RefusesRsaKeysUnder2048Bits) {
  PkeyPtr small(EVP_RSA_gen(1024));
  json jwk = {{"kty", "RSA"},
              {"kid", "small"},
              {"n", BnBase64Url(small.get(), OSSL_PKEY_PARAM_RSA_N)},
              {"e", BnBase64Url(small.get(), OSSL_PKEY_PARAM_RSA_E)}};
  KeySet keys;
  ExpectError(ErrorCode::kInvalidArgument, "1024-bit", [&] { keys.Add(jwk); });
  ExpectError(ErrorCode::kInvalidArgument, "1024-bit", [&] {
    KeySet::FromJwks({{"keys", json::array({jwk})}});
  });
  EXPECT_EQ(keys.size(), 0u);
}

TEST(KeySet, AddRefusesEcKeysNotOnP256) {
  json jwk = EcKey().PublicJwk();
  jwk["crv"] = "P-384";
  KeySet keys;
  ExpectError(ErrorCode::kInvalidArgument, "P-256", [&] { keys.Add(jwk); });
}

TEST(KeySet, AddRefusesAPointNotOnTheCurve) {
  json jwk = EcKey().PublicJwk();
  std::string y = Base64UrlDecode(jwk["y"].get<std::string>());
  y[31] ^= 1;
  jwk["y"] = Base64UrlEncode(y);
  KeySet keys;
  ExpectError(ErrorCode::kInvalidArgument, "not a valid EC public key", [&] { keys.Add(jwk); });
}

TEST(KeySet, AddRefusesEcCoordinatesThatAreNot32Bytes) {
  json jwk = EcKey().PublicJwk();
  jwk["x"] = Base64UrlEncode(Base64UrlDecode(jwk["x"].get<std::string>()).substr(1));
  KeySet keys;
  ExpectError(ErrorCode::kInvalidArgument, "32 bytes", [&] { keys.Add(jwk); });
}

TEST(KeySet, AddRefusesAnAlgThatDisagreesWithKty) {
  json rsa = RsaKey().PublicJwk();
  rsa["alg"] = "ES256";
  json ec = EcKey().PublicJwk();
  ec["alg"] = "RS256";
  KeySet keys;
  ExpectError(ErrorCode::kInvalidArgument, "alg disagrees", [&] { keys.Add(rsa); });
  ExpectError(ErrorCode::kInvalidArgument, "alg disagrees", [&] { keys.Add(ec); });
  EXPECT_EQ(keys.size(), 0u);
}

TEST(KeySet, AddRefusesAKeyWithoutKid) {
  json jwk = RsaKey().PublicJwk();
  jwk.erase("kid");
  KeySet keys;
  ExpectError(ErrorCode::kInvalidArgument, "kid", [&] { keys.Add(jwk); });
}

TEST(KeySet, AddRefusesAnRsaKeyWithBadBase64Url) {
  json jwk = RsaKey().PublicJwk();
  jwk["n"] = "not+base64url";
  KeySet keys;
  ExpectError(ErrorCode::kInvalidArgument, "base64url", [&] { keys.Add(jwk); });
}

TEST(KeySet, AddReplacesAKeyWithTheSameKid) {
  SigningKey rsa = SigningKey::Generate(JwtAlgorithm::kRS256, "same");
  SigningKey ec = SigningKey::Generate(JwtAlgorithm::kES256, "same");
  KeySet keys;
  keys.Add(rsa.PublicJwk());
  keys.Add(ec.PublicJwk());
  EXPECT_EQ(keys.size(), 1u);
  EXPECT_EQ(VerifyJwt(ec.Sign(Claims()), keys, Options()), Claims());
  ExpectRefused("does not match", rsa.Sign(Claims()), keys);
}

TEST(KeySet, VerifySignatureRequiresTheAlgorithmPinnedToTheKey) {
  std::vector<std::string> parts = Parts(RsaToken(Claims()));
  std::string input = parts[0] + "." + parts[1];
  std::string signature = Base64UrlDecode(parts[2]);
  KeySet keys = RsaKeys();
  keys.VerifySignature("rsa-1", JwtAlgorithm::kRS256, input, signature);
  ExpectError(ErrorCode::kUnauthenticated, "does not match",
              [&] { keys.VerifySignature("rsa-1", JwtAlgorithm::kES256, input, signature); });
}

// --- refused tokens: algorithm and header ------------------------------------------

TEST(VerifyJwt, RefusesAlgNone) {
  for (const char* alg : {"none", "None", "NONE"}) {
    json header = {{"alg", alg}, {"typ", "JWT"}, {"kid", "rsa-1"}};
    std::string token = Join(Base64UrlEncode(header.dump()), Base64UrlEncode(Claims().dump()), "");
    ExpectRefused("alg", token, RsaKeys());
  }
}

TEST(VerifyJwt, RefusesHs256WithThePublicKeyAsHmacSecret) {
  json jwk = RsaKey().PublicJwk();
  std::string n = jwk["n"].get<std::string>();
  json header = {{"alg", "HS256"}, {"typ", "JWT"}, {"kid", "rsa-1"}};
  std::string input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(Claims().dump());
  for (const std::string& secret :
       {PublicPem(RsaKey()), PublicDer(RsaKey()), n, Base64UrlDecode(n), jwk.dump()}) {
    std::string token = input + "." + Base64UrlEncode(HmacSha256(secret, input));
    ExpectRefused("alg", token, RsaKeys());
  }
}

TEST(VerifyJwt, RefusesAnRs256TokenForAKeyPinnedToEs256) {
  SigningKey rsa = SigningKey::Generate(JwtAlgorithm::kRS256, "shared");
  SigningKey ec = SigningKey::Generate(JwtAlgorithm::kES256, "shared");
  ExpectRefused("does not match", rsa.Sign(Claims()), KeysOf({&ec}));
}

TEST(VerifyJwt, RefusesAnEs256TokenForAKeyPinnedToRs256) {
  SigningKey ec = SigningKey::Generate(JwtAlgorithm::kES256, "rsa-1");
  ExpectRefused("does not match", ec.Sign(Claims()), RsaKeys());
}

TEST(VerifyJwt, RefusesAnUnknownKid) {
  ExpectRefused("kid is not a known key", RsaKey2().Sign(Claims()), RsaKeys());
}

TEST(VerifyJwt, RefusesAMissingKid) {
  json header = RsaHeader(RsaKey());
  header.erase("kid");
  ExpectRefused("no kid", SignedWithHeader(RsaKey(), header, Claims()), RsaKeys());
  header["kid"] = "";
  ExpectRefused("no kid", SignedWithHeader(RsaKey(), header, Claims()), RsaKeys());
}

TEST(VerifyJwt, RefusesHeadersThatBringKeysOrCriticalExtensions) {
  json values = {{"jku", "https://attacker.example/jwks.json"},
                 {"jwk", RsaKey().PublicJwk()},
                 {"x5u", "https://attacker.example/cert.pem"},
                 {"x5c", json::array({"MIIB"})},
                 {"crit", json::array({"exp"})}};
  for (const auto& [member, value] : values.items()) {
    json header = RsaHeader(RsaKey());
    header[member] = value;
    SCOPED_TRACE(member);
    ExpectRefused("forbidden member " + member, SignedWithHeader(RsaKey(), header, Claims()), RsaKeys());
  }
}

TEST(VerifyJwt, RefusesAHeaderThatIsNotAJsonObject) {
  std::vector<std::string> parts = Parts(RsaToken(Claims()));
  for (const char* header : {"RS256", "[\"RS256\"]", "{\"alg\":\"RS256\""}) {
    ExpectRefused("header is not a JSON object", Join(Base64UrlEncode(header), parts[1], parts[2]),
                  RsaKeys());
  }
}

// --- refused tokens: structure and signature ----------------------------------------

TEST(VerifyJwt, RefusesATamperedPayload) {
  std::vector<std::string> parts = Parts(RsaToken(Claims()));
  json claims = Claims();
  claims["sub"] = "mallory";
  ExpectRefused("signature", Join(parts[0], Base64UrlEncode(claims.dump()), parts[2]), RsaKeys());
}

TEST(VerifyJwt, RefusesATamperedSignature) {
  for (const SigningKey* key : {&RsaKey(), &EcKey()}) {
    SCOPED_TRACE(key->kid());
    std::vector<std::string> parts = Parts(key->Sign(Claims()));
    std::string signature = Base64UrlDecode(parts[2]);
    signature[signature.size() / 2] ^= 0x01;
    ExpectRefused("signature", Join(parts[0], parts[1], Base64UrlEncode(signature)), KeysOf({key}));
  }
}

TEST(VerifyJwt, RefusesATruncatedToken) {
  std::string token = RsaToken(Claims());
  std::vector<std::string> parts = Parts(token);
  for (size_t cut : {1, 2, 3, 4, 100}) {
    ExpectRefused("", token.substr(0, token.size() - cut), RsaKeys());
  }
  ExpectRefused("signature", Join(parts[0], parts[1], ""), RsaKeys());
}

TEST(VerifyJwt, RefusesTwoOrFourParts) {
  std::string token = RsaToken(Claims());
  std::vector<std::string> parts = Parts(token);
  ExpectRefused("three parts", parts[0] + "." + parts[1], RsaKeys());
  ExpectRefused("three parts", token + "." + parts[2], RsaKeys());
  ExpectRefused("three parts", token + ".", RsaKeys());
  ExpectRefused("three parts", "", RsaKeys());
}

TEST(VerifyJwt, RefusesCharactersOutsideBase64Url) {
  std::vector<std::string> parts = Parts(RsaToken(Claims()));
  auto with = [](std::string part, size_t at, char c) {
    part[at] = c;
    return part;
  };
  ExpectRefused("alphabet", Join(with(parts[0], 3, '='), parts[1], parts[2]), RsaKeys());
  ExpectRefused("alphabet", Join(parts[0], with(parts[1], 3, ' '), parts[2]), RsaKeys());
  ExpectRefused("alphabet", Join(parts[0], parts[1], with(parts[2], 5, '+')), RsaKeys());
  ExpectRefused("alphabet", Join(parts[0], parts[1], with(parts[2], 5, '/')), RsaKeys());
  ASSERT_EQ(parts[2].size() % 4, 2u);  // so "==" is exactly the standard padding
  ExpectRefused("alphabet", Join(parts[0], parts[1], parts[2] + "=="), RsaKeys());
}

TEST(VerifyJwt, RefusesEs256SignaturesOfTheWrongLength) {
  std::vector<std::string> parts = Parts(EcKey().Sign(Claims()));
  std::string raw = Base64UrlDecode(parts[2]);
  ASSERT_EQ(raw.size(), 64u);
  // The same signature in OpenSSL's DER form, which JWS does not allow.
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(ECDSA_SIG_new());
  ECDSA_SIG_set0(sig.get(), BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr),
                 BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr));
  std::string der(i2d_ECDSA_SIG(sig.get(), nullptr), '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_ECDSA_SIG(sig.get(), &p);
  for (const std::string& signature : {raw.substr(0, 63), raw + '\0', std::string(1, '\0') + raw, der}) {
    SCOPED_TRACE(signature.size());
    ExpectRefused("signature", Join(parts[0], parts[1], Base64UrlEncode(signature)), KeysOf({&EcKey()}));
  }
}

TEST(VerifyJwt, RefusesAPayloadThatIsNotAJsonObject) {
  ExpectRefused("payload is not a JSON object",
                SignedWithHeader(RsaKey(), RsaHeader(RsaKey()), json::array({Claims()})), RsaKeys());
}

// --- refused and accepted claims -------------------------------------------------------

TEST(VerifyJwt, ReturnsTheClaims) {
  json claims = Claims();
  claims["groups"] = json::array({"analysts"});
  EXPECT_EQ(VerifyJwt(RsaToken(claims), RsaKeys(), Options()), claims);
}

TEST(VerifyJwt, RefusesAnExpiredToken) {
  json claims = Claims();
  claims["exp"] = kNow - 61;
  ExpectRefused("expired", RsaToken(claims), RsaKeys());
}

TEST(VerifyJwt, RefusesATokenExpiredByExactlyTheLeeway) {
  json claims = Claims();
  claims["exp"] = kNow - 60;
  ExpectRefused("expired", RsaToken(claims), RsaKeys());
}

TEST(VerifyJwt, AcceptsATokenExpiredWithinTheLeeway) {
  json claims = Claims();
  claims["exp"] = kNow - 30;
  EXPECT_EQ(VerifyJwt(RsaToken(claims), RsaKeys(), Options()), claims);
}

TEST(VerifyJwt, LeewayIsConfigurable) {
  json claims = Claims();
  claims["exp"] = kNow - 30;
  VerifyOptions options = Options();
  options.leeway = std::chrono::seconds(0);
  ExpectRefused("expired", RsaToken(claims), RsaKeys(), options);
}

TEST(VerifyJwt, RefusesATokenWithoutExp) {
  json claims = Claims();
  claims.erase("exp");
  ExpectRefused("no exp", RsaToken(claims), RsaKeys());
}

TEST(VerifyJwt, RefusesExpAsAString) {
  json claims = Claims();
  claims["exp"] = std::to_string(kNow + 300);
  ExpectRefused("exp is not a number", RsaToken(claims), RsaKeys());
}

TEST(VerifyJwt, RefusesNbfInTheFutureBeyondTheLeeway) {
  json claims = Claims();
  claims["nbf"] = kNow + 61;
  ExpectRefused("not yet valid", RsaToken(claims), RsaKeys());
}

TEST(VerifyJwt, AcceptsNbfInTheFutureWithinTheLeeway) {
  json claims = Claims();
  claims["nbf"] = kNow + 60;
  EXPECT_EQ(VerifyJwt(RsaToken(claims), RsaKeys(), Options()), claims);
}

TEST(VerifyJwt, RefusesNbfAsAString) {
  json claims = Claims();
  claims["nbf"] = std::to_string(kNow);
  ExpectRefused("nbf is not a number", RsaToken(claims), RsaKeys());
}

TEST(VerifyJwt, RefusesIatInTheFutureBeyondTheLeeway) {
  json claims = Claims();
  claims["iat"] = kNow + 61;
  ExpectRefused("issued in the future", RsaToken(claims), RsaKeys());
}

TEST(VerifyJwt, RefusesIatAsAString) {
  json claims = Claims();
  claims["iat"] = "yesterday";
  ExpectRefused("iat is not a number", RsaToken(claims), RsaKeys());
}

TEST(VerifyJwt, RefusesTheWrongIssuer) {
  json claims = Claims();
  claims["iss"] = "https://other.example";
  ExpectRefused("iss", RsaToken(claims), RsaKeys());
}

TEST(VerifyJwt, RefusesAMissingIssuer) {
  json claims = Claims();
  claims.erase("iss");
  ExpectRefused("iss", RsaToken(claims), RsaKeys());
}

TEST(VerifyJwt, RefusesTheWrongAudienceAsAString) {
  json claims = Claims();
  claims["aud"] = "other";
  ExpectRefused("aud", RsaToken(claims), RsaKeys());
}

TEST(VerifyJwt, RefusesTheWrongAudienceAsAnArray) {
  json claims = Claims();
  claims["aud"] = {"other", "another"};
  ExpectRefused("aud", RsaToken(claims), RsaKeys());
  claims["aud"] = json::array();
  ExpectRefused("aud", RsaToken(claims), RsaKeys());
}

TEST(VerifyJwt, AcceptsAnAudienceArrayContainingTheAudience) {
  json claims = Claims();
  claims["aud"] = {"other", kAudience};
  EXPECT_EQ(VerifyJwt(RsaToken(claims), RsaKeys(), Options()), claims);
}

TEST(VerifyJwt, RefusesAMissingAudience) {
  json claims = Claims();
  claims.erase("aud");
  ExpectRefused("aud", RsaToken(claims), RsaKeys());
}

TEST(VerifyJwt, RefusesAnAudienceArrayWithANonString) {
  json claims = Claims();
  claims["aud"] = {kAudience, 7};
  ExpectRefused("aud", RsaToken(claims), RsaKeys());
}

TEST(VerifyJwt, RefusesAMissingSub) {
  json claims = Claims();
  claims.erase("sub");
  ExpectRefused("sub", RsaToken(claims), RsaKeys());
}

TEST(VerifyJwt, RefusesAnEmptyOrNonStringSub) {
  json claims = Claims();
  claims["sub"] = "";
  ExpectRefused("sub", RsaToken(claims), RsaKeys());
  claims["sub"] = 42;
  ExpectRefused("sub", RsaToken(claims), RsaKeys());
}

TEST(VerifyJwt, EmptyExpectedIssuerOrAudienceMatchesNothing) {
  json claims = Claims();
  claims["iss"] = "";
  claims["aud"] = "";
  VerifyOptions options = Options();
  options.issuer = "";
  options.audience = "";
  ExpectRefused("iss", RsaToken(claims), RsaKeys(), options);
  claims["iss"] = kIssuer;
  options.issuer = kIssuer;
  ExpectRefused("aud", RsaToken(claims), RsaKeys(), options);
}

// --- UnverifiedIssuer ----------------------------------------------------------------

TEST(UnverifiedIssuer, ReadsIssWithoutCheckingTheSignature) {
  std::vector<std::string> parts = Parts(RsaToken(Claims()));
  EXPECT_EQ(UnverifiedIssuer(Join(parts[0], parts[1], "AAAA")), kIssuer);
}

TEST(UnverifiedIssuer, RefusesAMalformedToken) {
  std::vector<std::string> parts = Parts(RsaToken(Claims()));
  ExpectError(ErrorCode::kUnauthenticated, "three parts",
              [&] { UnverifiedIssuer(parts[0] + "." + parts[1]); });
  ExpectError(ErrorCode::kUnauthenticated, "payload",
              [&] { UnverifiedIssuer(Join(parts[0], Base64UrlEncode("[1]"), parts[2])); });
  ExpectError(ErrorCode::kUnauthenticated, "alphabet",
              [&] { UnverifiedIssuer(Join(parts[0], "e30=", parts[2])); });
}

TEST(UnverifiedIssuer, RefusesATokenWithoutIss) {
  json claims = Claims();
  claims.erase("iss");
  ExpectError(ErrorCode::kUnauthenticated, "iss", [&] { UnverifiedIssuer(RsaToken(claims)); });
}

}  // namespace
}  // namespace tarn::identity
