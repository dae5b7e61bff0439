// Authentication over real sockets: the built-in OAuth2/OIDC provider (password and
// client-credentials grants, token claims, JWKS, discovery), refusal of forged and
// invalid tokens with a generic 401, trusted external issuers (JWKS file and URL,
// claim mapping), signing-key rotation, and directory changes taking effect at once.
#include <gmock/gmock.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "identity/jwt.h"
#include "identity/keys.h"
#include "identity/verifier.h"
#include "jwt_forge.h"
#include "server_fixture.h"

namespace tarn::testing {
namespace {

using json = nlohmann::json;
using identity::Base64UrlDecode;
using identity::Base64UrlEncode;
using identity::JwtAlgorithm;
using identity::SigningKey;

constexpr const char* kGenericMessage = "missing or invalid credentials";
constexpr const char* kIdpIssuer = "https://idp.example.test";
constexpr const char* kIdp2Issuer = "https://idp2.example.test";
constexpr const char* kIdpAudience = "tarn-api";

// --- helpers -------------------------------------------------------------------

// Keys are costly to generate: each is made once and shared (SigningKey is immutable).
const SigningKey& IdpRsaKey() {
  static const SigningKey key = SigningKey::Generate(JwtAlgorithm::kRS256, "idp-rsa-1");
  return key;
}
const SigningKey& IdpEcKey() {
  static const SigningKey key = SigningKey::Generate(JwtAlgorithm::kES256, "idp-ec-1");
  return key;
}
const SigningKey& AttackerKey() {
  static const SigningKey key = SigningKey::Generate(JwtAlgorithm::kRS256, "attacker-1");
  return key;
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct EncoderCtxFree {
  void operator()(OSSL_ENCODER_CTX* p) const { OSSL_ENCODER_CTX_free(p); }
};

// An HS256 token with `header` over `claims`, keyed with `secret` (OpenSSL's HMAC()).
std::string Hs256Token(const json& header, const json& claims, const std::string& secret) {
  std::string input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
            reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len)) {
    throw std::runtime_error("test: HMAC failed");
  }
  return input + "." + Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), len));
}

// Every form of the server's public key an HMAC-confusion attacker might try as the
// secret: SubjectPublicKeyInfo PEM (with and without the final newline) and DER,
// PKCS#1 PEM, the raw modulus, the modulus as base64url text, and the JWK itself.
std::vector<std::pair<std::string, std::string>> PublicKeySecrets(const json& jwk) {
  PkeyPtr pkey = RsaPublicFromJwk(jwk);
  std::vector<std::pair<std::string, std::string>> secrets;

  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PUBKEY(bio.get(), pkey.get()) != 1) throw std::runtime_error("test: no PEM");
  std::string spki_pem = BioText(bio.get());
  secrets.emplace_back("SPKI PEM", spki_pem);
  secrets.emplace_back("SPKI PEM without newline", spki_pem.substr(0, spki_pem.find_last_not_of('\n') + 1));

  int der_len = i2d_PUBKEY(pkey.get(), nullptr);
  std::string der(der_len > 0 ? der_len : 0, '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
  if (der_len <= 0 || i2d_PUBKEY(pkey.get(), &p) != der_len) throw std::runtime_error("test: no DER");
  secrets.emplace_back("SPKI DER", der);

  unsigned char* data = nullptr;
  size_t len = 0;
  std::unique_ptr<OSSL_ENCODER_CTX, EncoderCtxFree> enc(
      OSSL_ENCODER_CTX_new_for_pkey(pkey.get(), EVP_PKEY_PUBLIC_KEY, "PEM", "type-specific", nullptr));
  if (!enc || OSSL_ENCODER_to_data(enc.get(), &data, &len) != 1) throw std::runtime_error("test: no PKCS#1");
  secrets.emplace_back("PKCS#1 PEM", std::string(reinterpret_cast<char*>(data), len));
  OPENSSL_free(data);

  secrets.emplace_back("modulus bytes", Base64UrlDecode(jwk.at("n").get<std::string>()));
  secrets.emplace_back("modulus text", jwk.at("n").get<std::string>());
  secrets.emplace_back("JWK JSON", jwk.dump());
  return secrets;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// A refusal must be a 401 whose body is exactly {"error":{code,message,request_id}}
// with the generic message, and must not say which check failed.
void ExpectGenericRefusal(const server::ClientResponse& r) {
  EXPECT_EQ(r.status, 401) << r.body;
  json body = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(body.is_object()) << r.body;
  EXPECT_EQ(body.size(), 1u) << r.body;
  ASSERT_TRUE(body.contains("error") && body["error"].is_object()) << r.body;
  const json& error = body["error"];
  EXPECT_EQ(error.size(), 3u) << r.body;
  EXPECT_EQ(error.value("code", ""), "unauthenticated") << r.body;
  EXPECT_EQ(error.value("message", ""), kGenericMessage) << r.body;
  EXPECT_TRUE(error.contains("request_id")) << r.body;
  std::string lower = Lower(r.body);
  for (const char* detail : {"kid", "alg", "expired", "audience", "signature", "issuer", "nbf", "jwks", "jku",
                             "header", "token", "hmac", "none", "claim", "user"}) {
    EXPECT_EQ(lower.find(detail), std::string::npos)
        << "the 401 body mentions \"" << detail << "\": " << r.body;
  }
  auto www = r.headers.find("www-authenticate");
  ASSERT_NE(www, r.headers.end());
  EXPECT_EQ(www->second, "Bearer");
}

// A refused token request as RFC 6749 §5.2 says: `status`, a JSON object with
// "error" (and at most "error_description"), not cached; a refused identity is
// described as nothing more than "invalid credentials".
void ExpectTokenError(const server::ClientResponse& r, int status, const std::string& error) {
  EXPECT_EQ(r.status, status) << r.body;
  json body = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(body.is_object()) << r.body;
  EXPECT_EQ(body.value("error", ""), error) << r.body;
  for (auto& [key, value] : body.items()) {
    EXPECT_TRUE(key == "error" || key == "error_description") << r.body;
    EXPECT_TRUE(value.is_string()) << r.body;
  }
  if (error == "invalid_grant" || error == "invalid_client") {
    EXPECT_EQ(body.value("error_description", ""), "invalid credentials") << r.body;
  }
  EXPECT_EQ(r.headers.count("cache-control") ? r.headers.at("cache-control") : "", "no-store");
  EXPECT_EQ(r.headers.count("pragma") ? r.headers.at("pragma") : "", "no-cache");
  if (status == 401) {
    ASSERT_TRUE(r.headers.count("www-authenticate")) << r.body;
    EXPECT_EQ(r.headers.at("www-authenticate").rfind("Basic", 0), 0u);
  }
}

std::string BasicAuth(const std::string& id, const std::string& secret) {
  std::string in = id + ":" + secret;
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(n);
  return "Basic " + out;
}

// Claims a trusted external issuer would put in a token for `user`.
json IdpClaims(const std::string& issuer = kIdpIssuer) {
  int64_t now = NowSeconds();
  return {{"iss", issuer},
          {"aud", kIdpAudience},
          {"sub", "00u1a2b3c4"},
          {"preferred_username", "maria"},
          {"roles", json::array({"finance", "analysts"})},
          {"groups", json::array({"idp-group"})},
          {"iat", now},
          {"exp", now + 600}};
}

// Adds a trusted issuer whose JWKS file (in `dir`) holds `keys`' public halves.
void TrustIssuer(server::ServerConfig& config, const std::filesystem::path& dir, const std::string& issuer,
                 std::initializer_list<const SigningKey*> keys, const std::string& user_claim,
                 const std::string& groups_claim) {
  json jwks = {{"keys", json::array()}};
  for (const SigningKey* key : keys) jwks["keys"].push_back(key->PublicJwk());
  auto file = dir / ("jwks-" + std::to_string(config.trusted_issuers.size()) + ".json");
  WriteFile(file, jwks.dump());
  server::TrustedIssuerConfig t;
  t.issuer = issuer;
  t.audience = kIdpAudience;
  t.jwks_file = file.string();
  t.user_claim = user_claim;
  t.groups_claim = groups_claim;
  config.trusted_issuers.push_back(t);
}

// --- the built-in provider -------------------------------------------------------

class AuthTest : public ServerTest {
 protected:
  server::ClientResponse Whoami(const std::string& token) { return Call("GET", "/v1/whoami", token); }
  server::ClientResponse TokenRequest(const std::string& form,
                                      std::map<std::string, std::string> headers = {}) {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    return Call("POST", "/oauth2/token", "", form, headers);
  }
};

TEST_F(AuthTest, BuiltInTokenIdentifiesTheUserAndGroups) {
  std::string token = Login("ana", kAnaPassword);
  auto r = Whoami(token);
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = Json(r);
  EXPECT_EQ(j["user"], "ana");
  EXPECT_EQ(j["groups"], json::array({"analysts"}));
  EXPECT_EQ(j["issuer"], service_->issuer());
  EXPECT_EQ(j["admin"], false);
  EXPECT_EQ(j["service"], false);
}

TEST_F(AuthTest, TokenCarriesTheStandardHeaderAndClaims) {
  int64_t before = NowSeconds();
  std::string token = Login("ana", kAnaPassword);
  int64_t after = NowSeconds();
  auto parts = Parts(token);
  ASSERT_EQ(parts.size(), 3u) << token;
  json header = DecodePart(parts[0]);
  EXPECT_EQ(header["alg"], "RS256");
  EXPECT_EQ(header["typ"], "JWT");
  ASSERT_TRUE(header.contains("kid") && header["kid"].is_string());
  EXPECT_FALSE(header["kid"].get<std::string>().empty());

  json claims = DecodePart(parts[1]);
  EXPECT_EQ(claims["iss"], service_->issuer());
  EXPECT_EQ(claims["aud"], "tarn");
  EXPECT_EQ(claims["sub"], "ana");
  EXPECT_EQ(claims["groups"], json::array({"analysts"}));
  for (const char* name : {"exp", "nbf"}) {
    ASSERT_TRUE(claims.contains(name) && claims[name].is_number_integer()) << name << ": " << claims.dump();
  }
  // iat is to the millisecond (a fractional NumericDate), so a password change in the
  // same second still voids the token.
  ASSERT_TRUE(claims.contains("iat") && claims["iat"].is_number()) << claims.dump();
  double iat = claims["iat"];
  EXPECT_GE(iat, before);
  EXPECT_LE(iat, after + 1);
  EXPECT_LE(claims["nbf"].get<int64_t>(), iat);
  EXPECT_EQ(claims["exp"].get<int64_t>() - static_cast<int64_t>(iat), 3600);
}

TEST_F(AuthTest, TokenResponseSaysBearerAndLifetimeAndIsNotCached) {
  auto r = TokenRequest(std::string("grant_type=password&username=ana&password=") + kAnaPassword);
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = Json(r);
  EXPECT_EQ(j["token_type"], "Bearer");
  EXPECT_EQ(j["expires_in"], 3600);
  EXPECT_EQ(r.headers["cache-control"], "no-store");
}

TEST_F(AuthTest, TokenVerifiesAgainstThePublishedJwks) {
  std::string token = Login("ana", kAnaPassword);
  auto r = Call("GET", "/.well-known/jwks.json");
  ASSERT_EQ(r.status, 200) << r.body;
  auto jwks = Json(r);
  ASSERT_EQ(jwks["keys"].size(), 1u) << r.body;
  // Only public material is published.
  for (const char* private_member : {"d", "p", "q", "dp", "dq", "qi"}) {
    EXPECT_FALSE(jwks["keys"][0].contains(private_member)) << private_member;
  }
  auto keys = identity::KeySet::FromJwks(jwks);
  identity::VerifyOptions options;
  options.issuer = service_->issuer();
  options.audience = "tarn";
  json claims;
  ASSERT_NO_THROW(claims = identity::VerifyJwt(token, keys, options));
  EXPECT_EQ(claims["sub"], "ana");
  // ... and the check is real: another audience is refused.
  options.audience = "not-tarn";
  EXPECT_THROW(identity::VerifyJwt(token, keys, options), Error);
  options.audience = "tarn";
  options.issuer = "https://not-this-server.example.test";
  EXPECT_THROW(identity::VerifyJwt(token, keys, options), Error);
}

TEST_F(AuthTest, DiscoveryDocumentNamesIssuerJwksAndTokenEndpoint) {
  auto r = Call("GET", "/.well-known/openid-configuration");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = Json(r);
  EXPECT_EQ(j["issuer"], service_->issuer());
  std::string jwks_uri = j["jwks_uri"];
  std::string token_endpoint = j["token_endpoint"];
  EXPECT_EQ(jwks_uri, service_->issuer() + "/.well-known/jwks.json");
  const std::string suffix = "/oauth2/token";
  ASSERT_GE(token_endpoint.size(), suffix.size());
  EXPECT_EQ(token_endpoint.substr(token_endpoint.size() - suffix.size()), suffix);
  // The advertised JWKS URI serves the keys (the issuer is this server's own URL).
  auto keys = server::Fetch("GET", jwks_uri, {}, "", client_);
  EXPECT_EQ(keys.status, 200);
  EXPECT_EQ(Json(keys)["keys"].size(), 1u);
}

TEST_F(AuthTest, ClientCredentialsWithFormSecretIdentifyTheService) {
  auto r = TokenRequest(std::string("grant_type=client_credentials&client_id=etl-bot&client_secret=") +
                        kBotSecret);
  ASSERT_EQ(r.status, 200) << r.body;
  auto me = Whoami(Json(r)["access_token"]);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(Json(me)["user"], "etl-bot");
  EXPECT_EQ(Json(me)["service"], true);
}

TEST_F(AuthTest, ClientCredentialsWithBasicAuthIdentifyTheService) {
  auto r =
      TokenRequest("grant_type=client_credentials", {{"Authorization", BasicAuth("etl-bot", kBotSecret)}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto me = Whoami(Json(r)["access_token"]);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(Json(me)["user"], "etl-bot");
  EXPECT_EQ(Json(me)["service"], true);
  // A wrong secret in the Basic header is refused like any other.
  ExpectTokenError(TokenRequest("grant_type=client_credentials",
                                {{"Authorization", BasicAuth("etl-bot", "wrong-secret")}}),
                   401, "invalid_client");
}

TEST_F(AuthTest, PersonCannotUseClientCredentials) {
  ExpectTokenError(
      TokenRequest(std::string("grant_type=client_credentials&client_id=ana&client_secret=") + kAnaPassword),
      401, "invalid_client");
  ExpectTokenError(
      TokenRequest("grant_type=client_credentials", {{"Authorization", BasicAuth("ana", kAnaPassword)}}), 401,
      "invalid_client");
}

TEST_F(AuthTest, ServiceCannotUsePasswordGrant) {
  ExpectTokenError(TokenRequest(std::string("grant_type=password&username=etl-bot&password=") + kBotSecret),
                   400, "invalid_grant");
}

TEST_F(AuthTest, WrongPasswordAndUnknownUserGetTheSameAnswer) {
  auto wrong = TokenRequest("grant_type=password&username=ana&password=not-her-password");
  auto unknown = TokenRequest("grant_type=password&username=nobody&password=not-her-password");
  ExpectTokenError(wrong, 400, "invalid_grant");
  ExpectTokenError(unknown, 400, "invalid_grant");
  EXPECT_EQ(wrong.body, unknown.body);
}

// RFC 6749 §5.2: each malformed or unsupported request gets its error code, 400.
TEST_F(AuthTest, TokenRequestErrorsFollowRfc6749) {
  ExpectTokenError(TokenRequest("username=ana&password=x"), 400, "invalid_request");
  ExpectTokenError(TokenRequest("grant_type=authorization_code&code=abc"), 400,
                   "invalid_grant");  // no such code
  ExpectTokenError(TokenRequest("grant_type=refresh_token&refresh_token=abc"), 400, "unsupported_grant_type");
  ExpectTokenError(TokenRequest("grant_type=password&password=x"), 400, "invalid_request");
  ExpectTokenError(TokenRequest("grant_type=password&username=ana"), 400, "invalid_request");
  ExpectTokenError(TokenRequest("grant_type=password&grant_type=password&username=ana&password=x"), 400,
                   "invalid_request");
  ExpectTokenError(TokenRequest("grant_type=password&username=ana&password=%zz"), 400, "invalid_request");
  ExpectTokenError(TokenRequest("grant_type=client_credentials"), 400, "invalid_request");
  ExpectTokenError(TokenRequest(std::string("grant_type=client_credentials&client_secret=") + kBotSecret,
                                {{"Authorization", BasicAuth("etl-bot", kBotSecret)}}),
                   400, "invalid_request");
  // Not a form: invalid_request, the description says what to send.
  auto json_body = Call("POST", "/oauth2/token", "", R"({"grant_type":"password"})",
                        {{"Content-Type", "application/json"}});
  ExpectTokenError(json_body, 400, "invalid_request");
  EXPECT_THAT(Json(json_body).value("error_description", ""), ::testing::HasSubstr("x-www-form-urlencoded"));
  // The valid request still works after all of these.
  EXPECT_EQ(TokenRequest(std::string("grant_type=password&username=ana&password=") + kAnaPassword).status,
            200);
}

TEST_F(AuthTest, RemovedUsersTokenStopsWorkingAtOnce) {
  std::string admin = Login("admin", kAdminPassword);
  std::string ana = Login("ana", kAnaPassword);
  ASSERT_EQ(Whoami(ana).status, 200);
  auto r = Call("DELETE", "/v1/users/ana", admin);
  ASSERT_EQ(r.status, 200) << r.body;
  ExpectGenericRefusal(Whoami(ana));
  ExpectGenericRefusal(Sql(ana, "SELECT 1"));
}

TEST_F(AuthTest, GroupChangesApplyToExistingTokens) {
  std::string admin = Login("admin", kAdminPassword);
  std::string ana = Login("ana", kAnaPassword);
  ASSERT_EQ(Json(Whoami(ana))["groups"], json::array({"analysts"}));
  auto r = Call("POST", "/v1/groups", admin, json{{"name", "finance"}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  r = Call("PUT", "/v1/groups/finance/members/ana", admin);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(Whoami(ana))["groups"], json::array({"analysts", "finance"}));
  r = Call("DELETE", "/v1/groups/analysts/members/ana", admin);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(Whoami(ana))["groups"], json::array({"finance"}));
}

// --- forged and invalid tokens ----------------------------------------------------

// The server trusts one external issuer whose key the test holds, so that tokens
// that are valid but for one claim (expired, wrong audience, ...) can be minted.
class ForgeryTest : public ServerTest {
 protected:
  void Configure(server::ServerConfig& config) override {
    TrustIssuer(config, dir_.path(), kIdpIssuer, {&IdpRsaKey()}, "sub", "groups");
  }
  void SetUp() override {
    ServerTest::SetUp();
    ana_ = Login("ana", kAnaPassword);
    auto parts = Parts(ana_);
    ASSERT_EQ(parts.size(), 3u);
    ana_header_ = DecodePart(parts[0]);
    ana_claims_ = DecodePart(parts[1]);
    ASSERT_EQ(Whoami(ana_).status, 200);
  }
  server::ClientResponse Whoami(const std::string& token) { return Call("GET", "/v1/whoami", token); }
  server::ClientResponse WithAuthorization(const std::string& value) {
    return Call("GET", "/v1/whoami", "", "", {{"Authorization", value}});
  }
  // A valid token of the trusted external issuer, checked to be accepted, so that a
  // refusal of its altered form is due to the alteration.
  void ExpectIdpTokenAccepted(const json& claims) {
    auto r = Whoami(IdpRsaKey().Sign(claims));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Json(r)["issuer"], kIdpIssuer);
  }

  std::string ana_;
  json ana_header_, ana_claims_;
};

TEST_F(ForgeryTest, MissingAuthorizationHeaderIsRefused) {
  ExpectGenericRefusal(Call("GET", "/v1/whoami"));
  ExpectGenericRefusal(Sql("", "SELECT 1"));
}

TEST_F(ForgeryTest, EmptyBearerTokenIsRefused) {
  ExpectGenericRefusal(WithAuthorization("Bearer "));
  ExpectGenericRefusal(WithAuthorization("Bearer"));
  ExpectGenericRefusal(WithAuthorization("Bearer     "));
}

TEST_F(ForgeryTest, NonBearerSchemeIsRefused) {
  ExpectGenericRefusal(WithAuthorization(BasicAuth("ana", kAnaPassword)));
  ExpectGenericRefusal(WithAuthorization("Token " + ana_));
  ExpectGenericRefusal(WithAuthorization(ana_));
}

TEST_F(ForgeryTest, AlgNoneIsRefused) {
  std::string payload = Parts(ana_)[1];
  for (const json& header : {json{{"alg", "none"}}, json{{"alg", "none"}, {"typ", "JWT"}},
                             json{{"alg", "none"}, {"typ", "JWT"}, {"kid", ana_header_["kid"]}},
                             json{{"alg", "None"}, {"typ", "JWT"}, {"kid", ana_header_["kid"]}}}) {
    SCOPED_TRACE(header.dump());
    ExpectGenericRefusal(Whoami(Base64UrlEncode(header.dump()) + "." + payload + "."));
    // ... also with the real signature left on.
    ExpectGenericRefusal(Whoami(Base64UrlEncode(header.dump()) + "." + payload + "." + Parts(ana_)[2]));
  }
}

TEST_F(ForgeryTest, Hs256WithTheServersPublicKeyAsSecretIsRefused) {
  auto r = Call("GET", "/.well-known/jwks.json");
  ASSERT_EQ(r.status, 200) << r.body;
  json jwk = Json(r)["keys"][0];
  ASSERT_EQ(jwk["kid"], ana_header_["kid"]);
  json admin_claims = ana_claims_;
  admin_claims["sub"] = "admin";
  for (const auto& [what, secret] : PublicKeySecrets(jwk)) {
    for (const json& header : {json{{"alg", "HS256"}, {"typ", "JWT"}, {"kid", jwk["kid"]}},
                               json{{"alg", "HS256"}, {"typ", "JWT"}}}) {
      SCOPED_TRACE(what + " " + header.dump());
      ExpectGenericRefusal(Whoami(Hs256Token(header, ana_claims_, secret)));
      ExpectGenericRefusal(Whoami(Hs256Token(header, admin_claims, secret)));
    }
  }
}

TEST_F(ForgeryTest, UnknownKidIsRefused) {
  ExpectGenericRefusal(Whoami(AttackerKey().Sign(ana_claims_)));
}

TEST_F(ForgeryTest, ServersKidOnAnAttackersSignatureIsRefused) {
  json header = RsaHeader(AttackerKey());
  header["kid"] = ana_header_["kid"];
  ExpectGenericRefusal(Whoami(SignedWithHeader(AttackerKey(), header, ana_claims_)));
}

TEST_F(ForgeryTest, HeaderWithJkuIsRefused) {
  // The attacker's own key, announced by URL...
  json header = RsaHeader(AttackerKey());
  header["jku"] = "http://127.0.0.1:1/jwks.json";
  ExpectGenericRefusal(Whoami(SignedWithHeader(AttackerKey(), header, ana_claims_)));
  // ... and even on a token the trusted issuer really signed.
  ExpectIdpTokenAccepted(IdpClaims());
  header = RsaHeader(IdpRsaKey());
  header["jku"] = "http://127.0.0.1:1/jwks.json";
  ExpectGenericRefusal(Whoami(SignedWithHeader(IdpRsaKey(), header, IdpClaims())));
}

TEST_F(ForgeryTest, HeaderWithEmbeddedJwkIsRefused) {
  json header = RsaHeader(AttackerKey());
  header["jwk"] = AttackerKey().PublicJwk();
  ExpectGenericRefusal(Whoami(SignedWithHeader(AttackerKey(), header, ana_claims_)));
  ExpectIdpTokenAccepted(IdpClaims());
  header = RsaHeader(IdpRsaKey());
  header["jwk"] = IdpRsaKey().PublicJwk();
  ExpectGenericRefusal(Whoami(SignedWithHeader(IdpRsaKey(), header, IdpClaims())));
}

TEST_F(ForgeryTest, HeaderWithX5uOrX5cIsRefused) {
  json header = RsaHeader(AttackerKey());
  header["x5u"] = "http://127.0.0.1:1/cert.pem";
  ExpectGenericRefusal(Whoami(SignedWithHeader(AttackerKey(), header, ana_claims_)));
  ExpectIdpTokenAccepted(IdpClaims());
  header = RsaHeader(IdpRsaKey());
  header["x5u"] = "http://127.0.0.1:1/cert.pem";
  ExpectGenericRefusal(Whoami(SignedWithHeader(IdpRsaKey(), header, IdpClaims())));
  header = RsaHeader(IdpRsaKey());
  header["x5c"] = json::array({"MIIB"});
  ExpectGenericRefusal(Whoami(SignedWithHeader(IdpRsaKey(), header, IdpClaims())));
}

TEST_F(ForgeryTest, ExpiredTokenIsRefused) {
  ExpectIdpTokenAccepted(IdpClaims());
  json claims = IdpClaims();
  int64_t now = NowSeconds();
  claims["iat"] = now - 7200;
  claims["exp"] = now - 3600;
  ExpectGenericRefusal(Whoami(IdpRsaKey().Sign(claims)));
  claims.erase("exp");  // no expiry at all
  ExpectGenericRefusal(Whoami(IdpRsaKey().Sign(claims)));
}

TEST_F(ForgeryTest, WrongAudienceIsRefused) {
  ExpectIdpTokenAccepted(IdpClaims());
  json claims = IdpClaims();
  claims["aud"] = "tarn";  // the built-in provider's audience, not the one configured for this issuer
  ExpectGenericRefusal(Whoami(IdpRsaKey().Sign(claims)));
  claims["aud"] = json::array({"other", "another"});
  ExpectGenericRefusal(Whoami(IdpRsaKey().Sign(claims)));
  claims.erase("aud");
  ExpectGenericRefusal(Whoami(IdpRsaKey().Sign(claims)));
}

TEST_F(ForgeryTest, WrongIssuerIsRefused) {
  ExpectIdpTokenAccepted(IdpClaims());
  // An issuer the server was never told about.
  ExpectGenericRefusal(Whoami(IdpRsaKey().Sign(IdpClaims("https://evil.example.test"))));
  // The trusted issuer's key cannot vouch for the built-in issuer's users.
  json claims = ana_claims_;
  ExpectGenericRefusal(Whoami(IdpRsaKey().Sign(claims)));
  claims["sub"] = "admin";
  ExpectGenericRefusal(Whoami(IdpRsaKey().Sign(claims)));
  // No issuer at all.
  claims = IdpClaims();
  claims.erase("iss");
  ExpectGenericRefusal(Whoami(IdpRsaKey().Sign(claims)));
}

TEST_F(ForgeryTest, TamperedPayloadIsRefused) {
  auto parts = Parts(ana_);
  json claims = ana_claims_;
  claims["sub"] = "admin";
  ExpectGenericRefusal(Whoami(Join(parts[0], Base64UrlEncode(claims.dump()), parts[2])));
  claims = ana_claims_;
  claims["exp"] = claims["exp"].get<int64_t>() + 86400;
  ExpectGenericRefusal(Whoami(Join(parts[0], Base64UrlEncode(claims.dump()), parts[2])));
}

TEST_F(ForgeryTest, TamperedSignatureIsRefused) {
  auto parts = Parts(ana_);
  std::string sig = Base64UrlDecode(parts[2]);
  for (size_t at : {size_t{0}, sig.size() / 2, sig.size() - 1}) {
    std::string bad = sig;
    bad[at] = static_cast<char>(bad[at] ^ 0x01);
    ExpectGenericRefusal(Whoami(Join(parts[0], parts[1], Base64UrlEncode(bad))));
  }
  ExpectGenericRefusal(Whoami(Join(parts[0], parts[1], Base64UrlEncode(sig + '\0'))));
  ExpectGenericRefusal(Whoami(Join(parts[0], parts[1], Base64UrlEncode(sig.substr(1)))));
  ExpectGenericRefusal(Whoami(Join(parts[0], parts[1], "")));
}

TEST_F(ForgeryTest, TruncatedTokenIsRefused) {
  for (size_t cut : {size_t{1}, size_t{2}, size_t{4}, ana_.size() / 2}) {
    SCOPED_TRACE(cut);
    ExpectGenericRefusal(Whoami(ana_.substr(0, ana_.size() - cut)));
  }
  auto parts = Parts(ana_);
  ExpectGenericRefusal(Whoami(parts[0] + "." + parts[1]));
  ExpectGenericRefusal(Whoami(parts[0]));
}

TEST_F(ForgeryTest, TokenWithFourPartsIsRefused) {
  ExpectGenericRefusal(Whoami(ana_ + "."));
  ExpectGenericRefusal(Whoami(ana_ + "." + Parts(ana_)[2]));
  auto parts = Parts(ana_);
  ExpectGenericRefusal(Whoami(parts[0] + "." + parts[1] + "." + parts[1] + "." + parts[2]));
}

TEST_F(ForgeryTest, GarbageIsRefused) {
  for (const std::string& token : {std::string("x"), std::string("a.b.c"), std::string("...."),
                                   std::string(10000, 'A'), "%%%." + Parts(ana_)[1] + "." + Parts(ana_)[2]}) {
    SCOPED_TRACE(token.substr(0, 40));
    ExpectGenericRefusal(Whoami(token));
  }
}

// --- trusted external issuers -------------------------------------------------------

// Two trusted issuers: an RS256 one mapping preferred_username/roles, and an ES256
// one with the default claims (sub/groups).
class ExternalIssuerTest : public ServerTest {
 protected:
  void Configure(server::ServerConfig& config) override {
    TrustIssuer(config, dir_.path(), kIdpIssuer, {&IdpRsaKey()}, "preferred_username", "roles");
    TrustIssuer(config, dir_.path(), kIdp2Issuer, {&IdpEcKey()}, "sub", "groups");
  }
  server::ClientResponse Whoami(const std::string& token) { return Call("GET", "/v1/whoami", token); }
};

TEST_F(ExternalIssuerTest, TokenIsAcceptedWithTheConfiguredUserAndGroupClaims) {
  auto r = Whoami(IdpRsaKey().Sign(IdpClaims()));
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = Json(r);
  EXPECT_EQ(j["user"], "maria");
  EXPECT_EQ(j["groups"], json::array({"analysts", "finance"}));
  EXPECT_EQ(j["issuer"], kIdpIssuer);
  EXPECT_EQ(j["admin"], false);
  EXPECT_EQ(j["service"], false);
}

// A job run of an external principal trusts its token's groups for at most
// jobs.external_identity_ttl after submission (12 h by default): the job clock is
// moved past it, and the run executes without them.
class ExternalJobIdentityTest : public ExternalIssuerTest {
 protected:
  void Configure(server::ServerConfig& config) override {
    ExternalIssuerTest::Configure(config);
    config.job_deadline_clock = [this] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count() +
             offset_ms_.load();
    };
  }
  json RunToEnd(const std::string& token, const std::string& script) {
    auto r = Call("POST", "/v1/applications/default/jobruns", token,
                  json{{"job", {{"type", "sql"}, {"script", script}}}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    std::string id = Json(r)["job_run_id"];
    for (int i = 0; i < 500; i++) {
      auto run = Json(Call("GET", "/v1/applications/default/jobruns/" + id, token));
      std::string state = run["state"];
      if (state == "SUCCESS" || state == "FAILED" || state == "CANCELLED") return run;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "run " << id << " never ended";
    return {};
  }
  std::atomic<int64_t> offset_ms_{0};
};

TEST_F(ExternalJobIdentityTest, TokenGroupsAreTrustedForTheTtlAfterSubmission) {
  auto admin = Login("admin", kAdminPassword);
  ASSERT_EQ(Sql(admin,
                "CREATE DATABASE fin; CREATE TABLE fin.ledger AS SELECT 1 AS x; "
                "GRANT SELECT ON TABLE fin.ledger TO GROUP finance")
                .status,
            200);
  // Moving the clock 12 h must not also end the run by the default application's queue
  // timeout (6 h) or execution timeout (12 h) before the TTL check: lift both.
  ASSERT_EQ(Call("PUT", "/v1/applications/default", admin,
                 R"({"queue_timeout_minutes": 10080, "default_timeout_minutes": 0})")
                .status,
            200);
  auto maria = IdpRsaKey().Sign(IdpClaims());  // groups: finance, analysts
  EXPECT_EQ(RunToEnd(maria, "SELECT * FROM fin.ledger")["state"], "SUCCESS");
  offset_ms_ = int64_t{12} * 3600 * 1000 + 60000;  // the run starts 12 h 1 min after its submission
  auto late = RunToEnd(maria, "SELECT * FROM fin.ledger");
  EXPECT_EQ(late["state"], "FAILED");
  auto logs = Call(
      "GET", "/v1/applications/default/jobruns/" + late["job_run_id"].get<std::string>() + "/logs", maria);
  EXPECT_THAT(logs.body, ::testing::HasSubstr("older than jobs.external_identity_ttl (43200 s)"));
}

TEST(ServerConfig, ExternalIdentityTtlIsADurationInTheJobsSection) {
  TempDir dir;
  auto file = dir.path() / "server.toml";
  EXPECT_EQ(server::ServerConfig{}.job_external_identity_ttl_s, 43200);
  for (auto [text, seconds] : {std::pair{"\"30m\"", 1800}, {"90", 90}, {"\"2h\"", 7200}}) {
    WriteFile(file, std::string("[jobs]\nexternal_identity_ttl = ") + text + "\n");
    EXPECT_EQ(server::LoadConfig(file).job_external_identity_ttl_s, seconds) << text;
  }
  WriteFile(file, "[jobs]\nexternal_identity_ttl = \"soon\"\n");
  try {
    server::LoadConfig(file);
    ADD_FAILURE() << "a bad TTL was accepted";
  } catch (const Error& e) {
    EXPECT_THAT(std::string(e.what()), ::testing::HasSubstr("jobs.external_identity_ttl"));
  }
}

TEST_F(ExternalIssuerTest, AudienceListContainingTheConfiguredAudienceIsAccepted) {
  json claims = IdpClaims();
  claims["aud"] = json::array({"other", kIdpAudience});
  auto r = Whoami(IdpRsaKey().Sign(claims));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r)["user"], "maria");
}

TEST_F(ExternalIssuerTest, WrongAudienceIsRefused) {
  ASSERT_EQ(Whoami(IdpRsaKey().Sign(IdpClaims())).status, 200);
  json claims = IdpClaims();
  claims["aud"] = "other";
  ExpectGenericRefusal(Whoami(IdpRsaKey().Sign(claims)));
}

TEST_F(ExternalIssuerTest, ExpiredTokenIsRefused) {
  json claims = IdpClaims();
  int64_t now = NowSeconds();
  claims["iat"] = now - 4000;
  claims["exp"] = now - 400;  // well past the leeway
  ExpectGenericRefusal(Whoami(IdpRsaKey().Sign(claims)));
}

TEST_F(ExternalIssuerTest, TokenNotYetValidIsRefused) {
  json claims = IdpClaims();
  claims["nbf"] = NowSeconds() + 3600;
  claims["exp"] = NowSeconds() + 7200;
  ExpectGenericRefusal(Whoami(IdpRsaKey().Sign(claims)));
}

TEST_F(ExternalIssuerTest, TokenWithoutTheUserClaimIsRefused) {
  json claims = IdpClaims();
  claims.erase("preferred_username");  // "sub" is still there: it must not stand in
  ExpectGenericRefusal(Whoami(IdpRsaKey().Sign(claims)));
  claims["preferred_username"] = "";
  ExpectGenericRefusal(Whoami(IdpRsaKey().Sign(claims)));
  claims["preferred_username"] = json::array({"maria"});
  ExpectGenericRefusal(Whoami(IdpRsaKey().Sign(claims)));
}

TEST_F(ExternalIssuerTest, Es256KeyOfAnotherIssuerWorksWithDefaultClaims) {
  int64_t now = NowSeconds();
  json claims = {{"iss", kIdp2Issuer},
                 {"aud", kIdpAudience},
                 {"sub", "svc-reporting"},
                 {"groups", json::array({"ops", "bi"})},
                 {"iat", now},
                 {"exp", now + 600}};
  std::string token = IdpEcKey().Sign(claims);
  EXPECT_EQ(DecodePart(Parts(token)[0])["alg"], "ES256");
  auto r = Whoami(token);
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = Json(r);
  EXPECT_EQ(j["user"], "svc-reporting");
  EXPECT_EQ(j["groups"], json::array({"bi", "ops"}));
  EXPECT_EQ(j["issuer"], kIdp2Issuer);
}

TEST_F(ExternalIssuerTest, OneIssuersKeyCannotSignForAnother) {
  // The ES256 key is trusted for idp2 only; the RS256 key for idp only.
  ExpectGenericRefusal(Whoami(IdpEcKey().Sign(IdpClaims(kIdpIssuer))));
  json claims = IdpClaims(kIdp2Issuer);
  ExpectGenericRefusal(Whoami(IdpRsaKey().Sign(claims)));
}

// Grants name users without their issuer, so an external issuer may not name a
// built-in user: the token is refused rather than handed the built-in user's grants.
TEST_F(ExternalIssuerTest, ExternalUserNamedAdminIsNotTheAdministrator) {
  json claims = IdpClaims();
  claims["preferred_username"] = "admin";
  claims["roles"] = json::array({"admin", "administrators"});
  std::string token = IdpRsaKey().Sign(claims);
  ExpectGenericRefusal(Whoami(token));
  EXPECT_EQ(Call("GET", "/v1/users", token).status, 401);
  EXPECT_EQ(Call("DELETE", "/v1/users/ana", token).status, 401);
  // An administrator-sounding name that no built-in user has is just a user.
  claims["preferred_username"] = "administrator";
  token = IdpRsaKey().Sign(claims);
  auto r = Whoami(token);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r)["admin"], false);
  EXPECT_EQ(Call("GET", "/v1/users", token).status, 403);
}

TEST_F(ExternalIssuerTest, ExternalNamesakeCannotReachABuiltInUsersQueries) {
  std::string ana = Login("ana", kAnaPassword);
  auto r = Sql(ana, "SELECT 42 AS answer", {{"query_id", "anas-report"}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(Call("GET", "/v1/queries/anas-report", ana).status, 200);
  // Someone the external issuer calls "ana" is not the built-in provider's ana.
  json claims = IdpClaims();
  claims["preferred_username"] = "ana";
  std::string namesake = IdpRsaKey().Sign(claims);
  ExpectGenericRefusal(Whoami(namesake));
  EXPECT_EQ(Call("GET", "/v1/queries/anas-report", namesake).status, 401);
  EXPECT_EQ(Call("DELETE", "/v1/queries/anas-report", namesake).status, 401);
  EXPECT_EQ(Call("GET", "/v1/queries/anas-report", ana).status, 200);
}

// The trusted issuer is another running Tarn server: its JWKS URL is fetched.
class ExternalJwksUrlTest : public ServerTest {
 protected:
  static constexpr const char* kOtherAdminPassword = "other-admin-pw-1";

  void Configure(server::ServerConfig& config) override {
    other_options_.data_dir = other_dir_.path();
    other_options_.threads = 1;
    session::Instance::Init(other_options_);
    cli::EnsureAdmin(other_options_, kOtherAdminPassword);
    other_instance_ = std::make_unique<session::Instance>(other_options_);
    server::ServerConfig other_config;
    other_config.port = 0;
    other_config.workers = 2;
    other_config.shutdown_grace_s = 2;
    other_service_ = std::make_unique<server::Service>(*other_instance_, other_config);
    other_service_->Start();
    other_base_ = "http://127.0.0.1:" + std::to_string(other_service_->port());
    server::TrustedIssuerConfig t;
    t.issuer = other_service_->issuer();
    t.audience = "tarn";
    t.jwks_url = other_base_ + "/.well-known/jwks.json";
    config.trusted_issuers.push_back(t);
  }
  void TearDown() override {
    ServerTest::TearDown();
    if (other_service_) other_service_->Shutdown();
  }
  std::string OtherLogin(const std::string& user, const std::string& password) {
    auto r = server::Fetch("POST", other_base_ + "/oauth2/token",
                           {{"Content-Type", "application/x-www-form-urlencoded"}},
                           "grant_type=password&username=" + user + "&password=" + password);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? json::parse(r.body)["access_token"].get<std::string>() : "";
  }

  TempDir other_dir_;
  session::InstanceOptions other_options_;
  std::unique_ptr<session::Instance> other_instance_;
  std::unique_ptr<server::Service> other_service_;
  std::string other_base_;
};

TEST_F(ExternalJwksUrlTest, TokenOfAnotherServerIsAcceptedViaItsJwksUrl) {
  ASSERT_NE(other_service_->issuer(), service_->issuer());
  std::string other_admin = OtherLogin("admin", kOtherAdminPassword);
  ASSERT_FALSE(other_admin.empty());
  auto made =
      server::Fetch("POST", other_base_ + "/v1/users",
                    {{"Authorization", "Bearer " + other_admin}, {"Content-Type", "application/json"}},
                    R"({"name": "otto", "password": "otto-secret-1"})");
  ASSERT_EQ(made.status, 201) << made.body;
  std::string token = OtherLogin("otto", "otto-secret-1");
  auto r = Call("GET", "/v1/whoami", token);
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = Json(r);
  EXPECT_EQ(j["user"], "otto");
  EXPECT_EQ(j["issuer"], other_service_->issuer());
  EXPECT_EQ(j["admin"], false);
  EXPECT_EQ(Call("GET", "/v1/users", token).status, 403);
  // The other server's administrator is named like ours: refused here, not ours.
  ExpectGenericRefusal(Call("GET", "/v1/whoami", other_admin));
}

TEST_F(ExternalJwksUrlTest, TrustIsNotMutual) {
  std::string ours = Login("admin", kAdminPassword);
  auto r = server::Fetch("GET", other_base_ + "/v1/whoami", {{"Authorization", "Bearer " + ours}}, "");
  ExpectGenericRefusal(r);
}

// --- signing-key rotation ----------------------------------------------------------

// Rotation at the KeyManager/TokenVerifier level (a TokenVerifier reads the keys of
// its KeyManager at every Verify, as the server's does).
class KeyRotationTest : public ::testing::Test {
 protected:
  static constexpr const char* kIssuer = "https://tarn.example.test";

  std::string Issue(const identity::KeyManager& km) {
    identity::Principal p;
    p.user = "ana";
    p.groups = {"analysts"};
    return identity::IssueToken(km, p, kIssuer, "tarn", std::chrono::seconds(3600));
  }
  // The principal the token names, or the refusal.
  identity::Principal Verify(const identity::KeyManager& km, const std::string& token) {
    identity::TokenVerifier verifier(
        kIssuer, "tarn", km, {}, [](const std::string&) -> std::string { throw Error::Io("no fetching"); });
    return verifier.Verify(token, [](const std::string& user) -> std::optional<identity::Principal> {
      identity::Principal p;
      p.user = user;
      p.issuer = kIssuer;
      return p;
    });
  }
  static std::string Kid(const std::string& token) { return DecodePart(Parts(token)[0])["kid"]; }
  static std::set<std::string> JwksKids(const identity::KeyManager& km) {
    std::set<std::string> kids;
    json jwks = km.Jwks();  // not a temporary: the loop walks into it
    for (const auto& k : jwks["keys"]) kids.insert(k["kid"].get<std::string>());
    return kids;
  }
  static void ExpectUnauthenticated(const std::function<void()>& f) {
    try {
      f();
      ADD_FAILURE() << "expected kUnauthenticated";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kUnauthenticated) << e.what();
    }
  }

  TempDir dir_;
};

TEST_F(KeyRotationTest, RetiredKeyStillVerifiesItsTokensDuringItsGrace) {
  identity::KeyManager km(dir_ / "keys");
  std::string old_token = Issue(km);
  std::string old_kid = km.Current().kid();
  ASSERT_EQ(Kid(old_token), old_kid);

  km.Rotate(std::chrono::seconds(3600));
  std::string new_token = Issue(km);
  EXPECT_NE(Kid(new_token), old_kid);
  EXPECT_EQ(Kid(new_token), km.Current().kid());
  EXPECT_EQ(JwksKids(km), (std::set<std::string>{old_kid, km.Current().kid()}));
  EXPECT_EQ(km.Keys().size(), 2u);

  EXPECT_EQ(Verify(km, old_token).user, "ana");
  EXPECT_EQ(Verify(km, new_token).user, "ana");
  // A fresh KeyManager over the folder (a restart) publishes the same keys.
  identity::KeyManager reopened(dir_ / "keys");
  EXPECT_EQ(JwksKids(reopened), JwksKids(km));
  EXPECT_EQ(Verify(reopened, old_token).user, "ana");
}

TEST_F(KeyRotationTest, RotationWithoutGraceRefusesOldTokensAtOnce) {
  identity::KeyManager km(dir_ / "keys");
  std::string old_token = Issue(km);
  ASSERT_EQ(Verify(km, old_token).user, "ana");
  km.Rotate(std::chrono::seconds(0));
  km.Reload();
  EXPECT_EQ(JwksKids(km), std::set<std::string>{km.Current().kid()});
  ExpectUnauthenticated([&] { Verify(km, old_token); });
  EXPECT_EQ(Verify(km, Issue(km)).user, "ana");
}

TEST_F(KeyRotationTest, ReloadPicksUpARotationMadeElsewhere) {
  identity::KeyManager server_keys(dir_ / "keys");
  identity::KeyManager other(dir_ / "keys");
  std::string before = server_keys.Current().kid();
  ASSERT_EQ(other.Current().kid(), before);
  other.Rotate(std::chrono::seconds(3600));
  std::string token = Issue(other);
  // After a reload both keys are known and new tokens use the new one.
  server_keys.Reload();
  EXPECT_NE(server_keys.Current().kid(), before);
  EXPECT_EQ(server_keys.Current().kid(), other.Current().kid());
  EXPECT_EQ(Verify(server_keys, token).user, "ana");
  EXPECT_EQ(JwksKids(server_keys).size(), 2u);
}

TEST_F(KeyRotationTest, Es256RotationPublishesAnEcKey) {
  identity::KeyManager km(dir_ / "keys");
  std::string old_token = Issue(km);
  km.Rotate(std::chrono::seconds(3600), JwtAlgorithm::kES256);
  std::string new_token = Issue(km);
  EXPECT_EQ(DecodePart(Parts(new_token)[0])["alg"], "ES256");
  EXPECT_EQ(Verify(km, old_token).user, "ana");
  EXPECT_EQ(Verify(km, new_token).user, "ana");
}

// Rotation reaching a server: a running one notices a rotation made in its keys
// folder by another process (tarn keys rotate), and a restarted one signs with the
// new key and still accepts tokens of the retired one. The issuer is fixed, as the
// port changes on restart.
class KeyRotationServerTest : public ServerTest {
 protected:
  void Configure(server::ServerConfig& config) override { config.issuer = "https://tarn.example.test"; }
  void Restart() {
    service_->Shutdown();
    service_.reset();
    service_ = std::make_unique<server::Service>(*instance_, config_);
    service_->Start();
    base_ = "http://127.0.0.1:" + std::to_string(service_->port());
  }
  static std::string Kid(const std::string& token) { return DecodePart(Parts(token)[0])["kid"]; }
  std::set<std::string> PublishedKids() {
    std::set<std::string> kids;
    json jwks = Json(Call("GET", "/.well-known/jwks.json"));
    for (const auto& k : jwks["keys"]) kids.insert(k["kid"].get<std::string>());
    return kids;
  }
  // Polls `done` for up to 5 s (the server promises to notice a rotation within 1 s).
  static bool Eventually(const std::function<bool()>& done) {
    for (int i = 0; i < 50; i++) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return done();
  }
};

TEST_F(KeyRotationServerTest, RunningServerPicksUpARotationMadeElsewhere) {
  std::string old_token = Login("ana", kAnaPassword);
  std::string old_kid = Kid(old_token);
  identity::KeyManager km(dir_ / "keys");
  km.Rotate(std::chrono::seconds(3600));
  std::string new_kid = km.Current().kid();
  ASSERT_NE(new_kid, old_kid);
  EXPECT_TRUE(Eventually([&] { return PublishedKids().size() == 2; }));
  EXPECT_EQ(PublishedKids(), (std::set<std::string>{old_kid, new_kid}));
  std::string new_token = Login("ana", kAnaPassword);
  EXPECT_EQ(Kid(new_token), new_kid);
  EXPECT_EQ(Call("GET", "/v1/whoami", new_token).status, 200);
  EXPECT_EQ(Call("GET", "/v1/whoami", old_token).status, 200);
}

TEST_F(KeyRotationServerTest, RunningServerDropsAKeyRotatedWithoutGrace) {
  std::string old_token = Login("ana", kAnaPassword);
  identity::KeyManager km(dir_ / "keys");
  km.Rotate(std::chrono::seconds(0));
  EXPECT_TRUE(Eventually([&] { return Call("GET", "/v1/whoami", old_token).status == 401; }));
  ExpectGenericRefusal(Call("GET", "/v1/whoami", old_token));
  EXPECT_EQ(PublishedKids(), std::set<std::string>{km.Current().kid()});
}

TEST_F(KeyRotationServerTest, RestartAfterRotationKeepsLiveTokensValid) {
  std::string old_token = Login("ana", kAnaPassword);
  std::string old_kid = Kid(old_token);
  {
    identity::KeyManager km(dir_ / "keys");
    ASSERT_EQ(km.Current().kid(), old_kid);
    km.Rotate(std::chrono::seconds(3600));
  }
  Restart();
  std::string new_token = Login("ana", kAnaPassword);
  EXPECT_NE(Kid(new_token), old_kid);
  auto jwks = Json(Call("GET", "/.well-known/jwks.json"));
  std::set<std::string> kids;
  for (const auto& k : jwks["keys"]) kids.insert(k["kid"].get<std::string>());
  EXPECT_EQ(kids, (std::set<std::string>{old_kid, Kid(new_token)}));
  auto r = Call("GET", "/v1/whoami", old_token);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r)["user"], "ana");
  EXPECT_EQ(Call("GET", "/v1/whoami", new_token).status, 200);
}

TEST_F(KeyRotationServerTest, RestartAfterRotationWithoutGraceRefusesOldTokens) {
  std::string old_token = Login("ana", kAnaPassword);
  {
    identity::KeyManager km(dir_ / "keys");
    km.Rotate(std::chrono::seconds(0));
  }
  Restart();
  ExpectGenericRefusal(Call("GET", "/v1/whoami", old_token));
  EXPECT_EQ(Call("GET", "/v1/whoami", Login("ana", kAnaPassword)).status, 200);
}

}  // namespace
}  // namespace tarn::testing

namespace tarn::testing {
namespace {

TEST_F(AuthTest, PasswordChangeVoidsEarlierTokens) {
  std::string before = Login("ana", kAnaPassword);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // iat has one-second resolution
  auto admin = Login("admin", kAdminPassword);
  ASSERT_EQ(Call("PUT", "/v1/users/ana/password", admin, R"({"password": "changed-secret-1"})").status, 200);
  EXPECT_EQ(Whoami(before).status, 401);
  EXPECT_EQ(Whoami(Login("ana", "changed-secret-1")).status, 200);
}

TEST_F(AuthTest, ARecreatedNamesakeDoesNotInheritTokens) {
  std::string before = Login("ana", kAnaPassword);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto admin = Login("admin", kAdminPassword);
  ASSERT_EQ(Call("DELETE", "/v1/users/ana", admin).status, 200);
  ASSERT_EQ(Call("POST", "/v1/users", admin, R"({"name": "ana", "password": "another-ana-1"})").status, 201);
  EXPECT_EQ(Whoami(before).status, 401);
}

TEST_F(AuthTest, QueryIdsBelongToTheirPrincipal) {
  auto ana = Login("ana", kAnaPassword);
  auto admin = Login("admin", kAdminPassword);
  ASSERT_EQ(Call("POST", "/v1/users", admin, R"({"name": "bob", "password": "bob-secret-1"})").status, 201);
  auto bob = Login("bob", "bob-secret-1");
  std::string body = R"({"sql": "SELECT 1", "query_id": "report"})";
  EXPECT_EQ(Call("POST", "/v1/statements", ana, body).status, 200);
  // Bob's use of the same id neither collides nor reveals Ana's query.
  EXPECT_EQ(Call("POST", "/v1/statements", bob, body).status, 200);
  EXPECT_EQ(Call("POST", "/v1/statements", ana, body).status, 409);  // Ana's own id is taken
}

TEST_F(KeyRotationTest, ARetiredKeyLeavesTheKeySetWhenItsGraceEnds) {
  identity::KeyManager km(dir_ / "keys");
  std::string old_token = Issue(km);
  km.Rotate(std::chrono::seconds(2));
  EXPECT_EQ(JwksKids(km).size(), 2u);
  std::this_thread::sleep_for(std::chrono::milliseconds(3200));
  EXPECT_EQ(JwksKids(km).size(), 1u);
  ExpectUnauthenticated([&] { Verify(km, old_token); });
}

TEST(ServerConfig, ConnectionsNameAUrlAndWhoMayUseThem) {
  TempDir dir;
  auto file = dir.path() / "server.toml";
  WriteFile(file,
            "[connections.crm]\nurl = \"postgresql://reader@db/crm\"\npassword_file = \"crm.pass\"\n"
            "users = [\"ana\"]\ngroups = [\"migration\"]\n");
  auto c = server::LoadConfig(file);
  ASSERT_EQ(c.connections.size(), 1u);
  EXPECT_EQ(c.connections[0].name, "crm");
  EXPECT_EQ(c.connections[0].url, "postgresql://reader@db/crm");
  EXPECT_EQ(c.connections[0].password_file, (dir.path() / "crm.pass").string());
  EXPECT_EQ(c.connections[0].users, std::vector<std::string>{"ana"});
  EXPECT_EQ(c.connections[0].groups, std::vector<std::string>{"migration"});
  identity::Principal ana{"ana", {}, "x"}, member{"zoe", {"migration"}, "x"}, other{"bob", {"sales"}, "x"};
  EXPECT_TRUE(c.connections[0].Allows(ana));
  EXPECT_TRUE(c.connections[0].Allows(member));
  EXPECT_FALSE(c.connections[0].Allows(other));
  for (auto [text, error] :
       {std::pair{"[connections.crm]\nusers = [\"ana\"]\n", "connections.crm.url is required"},
        {"[connections.crm]\nurl = \"x\"\nhost = \"db\"\n", "unknown setting connections.crm.host"},
        {"[connections.crm]\nurl = \"x\"\nusers = \"ana\"\n", "connections.crm.users: expected a list"}}) {
    WriteFile(file, text);
    try {
      server::LoadConfig(file);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const Error& e) {
      EXPECT_THAT(std::string(e.what()), ::testing::HasSubstr(error));
    }
  }
}

TEST(ServerConfig, StudioSessionLifetimesAreDurationsAndBadOnesAreNamed) {
  TempDir dir;
  auto file = dir.path() / "server.toml";
  WriteFile(file, "[studio]\nsession_idle = \"10m\"\nsession_max = \"2h\"\n");
  auto c = server::LoadConfig(file);
  EXPECT_EQ(c.studio_session_idle_s, 600);
  EXPECT_EQ(c.studio_session_max_s, 7200);
  for (auto [text, error] : {std::pair{"[studio]\nsession_idle = \"soon\"\n", "studio.session_idle"},
                             {"[studio]\ncookie = \"x\"\n", "unknown setting studio.cookie"}}) {
    WriteFile(file, text);
    try {
      server::LoadConfig(file);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const Error& e) {
      EXPECT_THAT(std::string(e.what()), ::testing::HasSubstr(error));
    }
  }
}

TEST(ServerConfig, AShortMetricsTokenIsRefused) {
  server::ServerConfig c;
  c.metrics_token = "short";
  try {
    server::Validate(c);
    ADD_FAILURE() << "a 5-character scrape token was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(std::string(e.what()), ::testing::HasSubstr("metrics_token"));
  }
  c.metrics_token = "scrape-0123456789abcdef";
  EXPECT_NO_THROW(server::Validate(c));
}

TEST(ServerConfig, JwksUrlMustUseHttpsOutsideLoopback) {
  server::ServerConfig c;
  c.trusted_issuers.push_back({"https://idp.example.test", "tarn", "", "http://idp.example.test/jwks"});
  EXPECT_THROW(server::Validate(c), Error);
  c.trusted_issuers[0].jwks_url = "https://idp.example.test/jwks";
  EXPECT_NO_THROW(server::Validate(c));
  c.trusted_issuers[0].jwks_url = "http://127.0.0.1:9/jwks";
  EXPECT_NO_THROW(server::Validate(c));
}

TEST(ServerConfig, JobWorkersComeFromTheJobsSectionAndBadValuesAreNamed) {
  TempDir dir;
  auto file = dir.path() / "server.toml";
  WriteFile(file, "[jobs]\nworkers = 3\n");
  auto c = server::LoadConfig(file);
  EXPECT_EQ(c.job_workers, 3);
  EXPECT_NO_THROW(server::Validate(c));
  for (int bad : {0, 257}) {
    c.job_workers = bad;
    try {
      server::Validate(c);
      ADD_FAILURE() << "jobs.workers = " << bad << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_THAT(std::string(e.what()), ::testing::HasSubstr("jobs.workers"));
    }
  }
  WriteFile(file, "[jobs]\nworkerz = 3\n");
  try {
    server::LoadConfig(file);
    ADD_FAILURE() << "an unknown key in [jobs] was accepted";
  } catch (const Error& e) {
    EXPECT_THAT(std::string(e.what()), ::testing::HasSubstr("workerz"));
  }
}

}  // namespace
}  // namespace tarn::testing
