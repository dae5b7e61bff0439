// The studio signing people in at an external OIDC issuer (src/server/studio_idp.h),
// over real HTTP: a small identity provider on a loopback port of its own (discovery,
// authorize, token endpoint checking PKCE) hands back a signed id_token; Tarn redeems
// the code, verifies the token as that trusted issuer's, and starts a session whose
// principal is the token's user and groups. A token the issuer did not sign, a code it
// refuses, and a name that collides with a built-in user all end at an error page.
#include <gmock/gmock.h>
#include <openssl/sha.h>

#include <fstream>
#include <mutex>
#include <regex>

#include "identity/jwt.h"
#include "identity/keys.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/router.h"
#include "server_fixture.h"

namespace tarn::testing {
namespace {

using ::testing::HasSubstr;
namespace http = server::http;
using ::testing::Not;

const identity::SigningKey& IdpKey() {
  static const identity::SigningKey key =
      identity::SigningKey::Generate(identity::JwtAlgorithm::kRS256, "corp-1");
  return key;
}
const identity::SigningKey& OtherKey() {
  static const identity::SigningKey key =
      identity::SigningKey::Generate(identity::JwtAlgorithm::kRS256, "corp-1");
  return key;
}

// The identity provider: it signs in whoever `user` says, once per code.
class FakeIdp {
 public:
  FakeIdp() {
    config_.port = 0;
    config_.workers = 2;
    config_.shutdown_grace_s = 1;
    router_.Add(http::verb::get, "/.well-known/openid-configuration", false,
                [this](server::RequestContext& ctx) {
                  return server::JsonResponse(http::status::ok,
                                              {{"issuer", base},
                                               {"authorization_endpoint", base + "/authorize"},
                                               {"token_endpoint", base + "/token"}},
                                              ctx.request.version());
                });
    router_.Add(http::verb::get, "/authorize", false, [this](server::RequestContext& ctx) {
      std::lock_guard lock(mu_);
      seen_authorize = ctx.query;
      code_ = "code-" + std::to_string(++codes_);
      auto res = server::JsonResponse(http::status::found, {}, ctx.request.version());
      res.set(http::field::location,
              ctx.query["redirect_uri"] + "?code=" + code_ + "&state=" + ctx.query["state"]);
      return res;
    });
    router_.Add(http::verb::post, "/token", false, [this](server::RequestContext& ctx) {
      std::lock_guard lock(mu_);
      auto form = server::ParseForm(ctx.request.body());
      seen_token = form;
      unsigned char digest[SHA256_DIGEST_LENGTH];
      SHA256(reinterpret_cast<const unsigned char*>(form["code_verifier"].data()),
             form["code_verifier"].size(), digest);
      std::string challenge =
          identity::Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
      bool ok = !code_.empty() && form["code"] == code_ && challenge == seen_authorize["code_challenge"] &&
                form["redirect_uri"] == seen_authorize["redirect_uri"] &&
                form["client_id"] == "tarn-studio" && form["client_secret"] == "studio-secret";
      code_.clear();  // a code works once
      if (!ok)
        return server::JsonResponse(http::status::bad_request, {{"error", "invalid_grant"}},
                                    ctx.request.version());
      int64_t now = EpochSeconds();
      nlohmann::json claims = {{"iss", base},
                               {"aud", "tarn-studio"},
                               {"sub", "u-123"},
                               {"preferred_username", user},
                               {"groups", {"analysts", "corp"}},
                               {"iat", now},
                               {"exp", now + 300}};
      return server::JsonResponse(
          http::status::ok,
          {{"id_token", signer->Sign(claims)}, {"access_token", "opaque"}, {"token_type", "Bearer"}},
          ctx.request.version());
    });
    server_ = std::make_unique<server::HttpServer>(
        config_, router_, metrics_,
        [](const server::Request&, size_t) -> identity::Principal { throw Error::Unauthenticated("no"); });
    server_->Start();
    base = "http://127.0.0.1:" + std::to_string(server_->port());
  }
  ~FakeIdp() {
    server_->Shutdown([] {});
  }

  std::string base;
  std::string user = "maria";
  const identity::SigningKey* signer = &IdpKey();
  std::map<std::string, std::string> seen_authorize, seen_token;

 private:
  server::ServerConfig config_;
  server::Router router_;
  server::Metrics metrics_;
  std::unique_ptr<server::HttpServer> server_;
  std::mutex mu_;
  std::string code_;
  int codes_ = 0;
};

class StudioIdpTest : public ServerTest {
 protected:
  void Configure(server::ServerConfig& config) override {
    namespace fs = std::filesystem;
    fs::path jwks = fs::path(dir_.path()) / "corp-jwks.json";
    std::ofstream(jwks) << nlohmann::json({{"keys", {IdpKey().PublicJwk()}}}).dump();
    fs::path secret = fs::path(dir_.path()) / "studio-secret";
    std::ofstream(secret) << "studio-secret\n";
    server::TrustedIssuerConfig t;
    t.issuer = idp_.base;
    t.audience = "tarn-studio";
    t.jwks_file = jwks.string();
    t.user_claim = "preferred_username";
    config.trusted_issuers.push_back(t);
    config.studio_idp.issuer = idp_.base;
    config.studio_idp.client_id = "tarn-studio";
    config.studio_idp.client_secret_file = secret;
    config.studio_idp.scopes = "openid profile";
  }
  static std::string Location(const server::ClientResponse& r) {
    return r.headers.count("location") ? r.headers.at("location") : "";
  }
  static std::string CookieOf(const server::ClientResponse& r, const std::string& name) {
    std::smatch m;
    std::string all = r.headers.count("set-cookie") ? r.headers.at("set-cookie") : "";
    return std::regex_search(all, m, std::regex(name + "=[^;,]*")) ? m[0].str() : "";
  }
  // The browser's journey: /studio/login -> the provider -> /studio/callback.
  server::ClientResponse Journey() {
    auto start = Call("GET", "/studio/login");
    EXPECT_EQ(start.status, 302) << start.body;
    std::string to = Location(start);
    EXPECT_EQ(to.rfind(idp_.base + "/authorize?", 0), 0u) << to;
    auto at_idp = server::Fetch("GET", to, {}, "", client_);
    EXPECT_EQ(at_idp.status, 302) << at_idp.body;
    std::string back = Location(at_idp);
    EXPECT_EQ(back.rfind(base_ + "/studio/callback?", 0), 0u) << back;
    return Call("GET", back.substr(base_.size()), "", "", {{"Cookie", CookieOf(start, "tarn_studio_login")}});
  }
  FakeIdp idp_;
};

TEST_F(StudioIdpTest, APersonSignsInAtTheProviderAndTheSessionIsTheirs) {
  auto callback = Journey();
  ASSERT_EQ(callback.status, 200) << callback.body;
  EXPECT_EQ(idp_.seen_authorize["client_id"], "tarn-studio");
  EXPECT_EQ(idp_.seen_authorize["scope"], "openid profile");
  EXPECT_EQ(idp_.seen_authorize["code_challenge_method"], "S256");
  EXPECT_EQ(idp_.seen_authorize["redirect_uri"], base_ + "/studio/callback");
  EXPECT_EQ(idp_.seen_token["grant_type"], "authorization_code");
  std::string cookie = CookieOf(callback, "tarn_session");
  ASSERT_FALSE(cookie.empty()) << callback.headers["set-cookie"];
  EXPECT_THAT(callback.body, Not(HasSubstr("eyJ")));  // the token stays on the server

  auto session = Call("GET", "/studio/api/session", "", "", {{"Cookie", cookie}});
  ASSERT_EQ(session.status, 200) << session.body;
  EXPECT_EQ(Json(session)["user"], "maria");
  EXPECT_EQ(Json(session)["groups"], nlohmann::json::array({"analysts", "corp"}));
  EXPECT_EQ(Json(session)["admin"], false);
  auto who = Call("GET", "/v1/whoami", "", "", {{"Cookie", cookie}});
  EXPECT_EQ(Json(who)["issuer"], idp_.base);
  // The session runs statements as maria, with her groups' grants, and is audited so.
  auto csrf = Json(session)["csrf_token"].get<std::string>();
  auto sql = Call("POST", "/v1/statements", "", R"({"sql":"SELECT current_user AS u"})",
                  {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  ASSERT_EQ(sql.status, 200) << sql.body;
  EXPECT_EQ(Json(sql)["rows"][0][0], "maria");
  std::string admin = Login("admin", kAdminPassword);
  auto audit =
      Sql(admin, "SELECT user_name, issuer, outcome FROM system.audit WHERE event = 'login' AND issuer = '" +
                     idp_.base + "'");
  ASSERT_EQ(audit.status, 200) << audit.body;
  ASSERT_EQ(Json(audit)["rows"].size(), 1u) << audit.body;
  EXPECT_EQ(Json(audit)["rows"][0][0], "maria");
  EXPECT_EQ(Json(audit)["rows"][0][2], "ok");
}

TEST_F(StudioIdpTest, ATokenNotSignedByTheIssuerOrARefusedCodeStartsNoSession) {
  idp_.signer = &OtherKey();  // same key id, another key: a forgery
  auto forged = Journey();
  EXPECT_EQ(forged.status, 400) << forged.body;
  EXPECT_THAT(forged.body, HasSubstr("sign-in was refused"));
  EXPECT_TRUE(CookieOf(forged, "tarn_session").empty());

  idp_.signer = &IdpKey();
  idp_.user = "admin";  // a built-in user's name: the provider may not speak for them
  auto namesake = Journey();
  EXPECT_EQ(namesake.status, 400) << namesake.body;
  EXPECT_THAT(namesake.body, HasSubstr("built-in user"));
  EXPECT_TRUE(CookieOf(namesake, "tarn_session").empty());

  // A callback replayed with the same code: the provider refuses it (codes work once),
  // and the login cookie was used up anyway.
  idp_.user = "maria";
  auto start = Call("GET", "/studio/login");
  auto at_idp = server::Fetch("GET", Location(start), {}, "", client_);
  std::string back = Location(at_idp).substr(base_.size());
  std::string login = CookieOf(start, "tarn_studio_login");
  EXPECT_EQ(Call("GET", back, "", "", {{"Cookie", login}}).status, 200);
  auto again = Call("GET", back, "", "", {{"Cookie", login}});
  EXPECT_EQ(again.status, 400);
  EXPECT_TRUE(CookieOf(again, "tarn_session").empty());

  // The provider says no.
  auto start2 = Call("GET", "/studio/login");
  std::string state = std::regex_replace(Location(start2), std::regex(".*[?&]state=([0-9a-f]+).*"), "$1");
  auto denied = Call("GET", "/studio/callback?error=access_denied&state=" + state, "", "",
                     {{"Cookie", CookieOf(start2, "tarn_studio_login")}});
  EXPECT_EQ(denied.status, 400);
  EXPECT_THAT(denied.body, HasSubstr("access_denied"));
}

TEST(StudioIdpConfigTest, TheProviderMustBeATrustedIssuerWithAClient) {
  TempDir dir;
  auto load = [&](const std::string& toml) {
    WriteFile(std::filesystem::path(dir.path()) / "tarn.toml", toml);
    auto c = server::LoadConfig(std::filesystem::path(dir.path()) / "tarn.toml");
    server::Validate(c);
    return c;
  };
  std::string trusted =
      "[[identity.trusted_issuers]]\nissuer = \"https://login.example.com\"\naudience = \"tarn\"\njwks_url = "
      "\"https://login.example.com/jwks\"\n";
  auto ok = load(
      trusted + "[studio.identity_provider]\nissuer = \"https://login.example.com\"\nclient_id = \"tarn\"\n");
  EXPECT_TRUE(ok.studio_idp.enabled());
  EXPECT_EQ(ok.studio_idp.token, "id_token");
  auto expect = [&](const std::string& toml, const std::string& why) {
    try {
      load(toml);
      ADD_FAILURE() << "accepted: " << toml;
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr(why)) << toml;
    }
  };
  expect("[studio.identity_provider]\nissuer = \"https://elsewhere.example.com\"\nclient_id = \"x\"\n",
         "must be one of identity.trusted_issuers");
  expect(trusted + "[studio.identity_provider]\nissuer = \"https://login.example.com\"\n",
         "client_id is required");
  expect(trusted +
             "[studio.identity_provider]\nissuer = \"https://login.example.com\"\nclient_id = \"x\"\ntoken = "
             "\"refresh_token\"\n",
         "id_token or access_token");
  expect(trusted +
             "[studio.identity_provider]\nissuer = \"https://login.example.com\"\nclient_id = \"x\"\n"
             "token_endpoint = \"http://login.example.com/token\"\n",
         "must use https://");
  expect(trusted +
             "[studio.identity_provider]\nissuer = \"https://login.example.com\"\nclient_id = \"x\"\nsecret "
             "= 1\n",
         "unknown");
}

}  // namespace
}  // namespace tarn::testing
