// The authorization-code flow with PKCE over real HTTP: the built-in login page, the
// code bound to its client, redirect URI and challenge, spent once; refusals never
// redirect to an unchecked URI; the pages carry a strict CSP and no script.
#include <gmock/gmock.h>

#include <regex>

#include "common/util.h"
#include "server_fixture.h"

namespace tarn::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// RFC 7636 appendix B's verifier and its S256 challenge.
constexpr const char* kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr const char* kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

class AuthorizeTest : public ServerTest {
 protected:
  std::string Redirect() { return base_ + "/studio/callback"; }
  std::string Query(const std::string& extra = "") {
    return "/oauth2/authorize?response_type=code&client_id=tarn-studio&redirect_uri=" +
           UrlEncode(Redirect()) + "&code_challenge=" + kChallenge +
           "&code_challenge_method=S256&state=xyz%20%26" + extra;
  }
  // The pending sign-in's id, from the login page.
  std::string Begin() {
    auto r = Call("GET", Query());
    EXPECT_EQ(r.status, 200) << r.body;
    std::smatch m;
    EXPECT_TRUE(std::regex_search(r.body, m, std::regex("name=request value='([0-9a-f]+)'"))) << r.body;
    return m.size() > 1 ? m[1].str() : "";
  }
  server::ClientResponse SignIn(const std::string& id, const std::string& user, const std::string& password) {
    return Call("POST", "/oauth2/authorize", "",
                "request=" + id + "&username=" + user + "&password=" + password,
                {{"Content-Type", "application/x-www-form-urlencoded"}});
  }
  // The code of a successful sign-in's redirect.
  std::string Code(const server::ClientResponse& r) {
    EXPECT_EQ(r.status, 303) << r.body;
    std::smatch m;
    std::string location = r.headers.count("location") ? r.headers.at("location") : "";
    EXPECT_TRUE(std::regex_search(location, m, std::regex("[?&]code=([0-9a-f]+)"))) << location;
    return m.size() > 1 ? m[1].str() : "";
  }
  server::ClientResponse Redeem(const std::string& code, const std::string& verifier = kVerifier,
                                const std::string& redirect = "") {
    return Call("POST", "/oauth2/token", "",
                "grant_type=authorization_code&client_id=tarn-studio&code=" + code + "&redirect_uri=" +
                    UrlEncode(redirect.empty() ? Redirect() : redirect) + "&code_verifier=" + verifier,
                {{"Content-Type", "application/x-www-form-urlencoded"}});
  }
};

TEST_F(AuthorizeTest, ASignInWithPkceGivesATokenOfThePersonOnce) {
  auto discovery = Json(Call("GET", "/.well-known/openid-configuration"));
  EXPECT_EQ(discovery["authorization_endpoint"], base_ + "/oauth2/authorize");
  EXPECT_EQ(discovery["code_challenge_methods_supported"], nlohmann::json::array({"S256"}));

  auto page = Call("GET", Query());
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_THAT(page.headers["content-security-policy"], HasSubstr("default-src 'none'"));
  EXPECT_THAT(page.headers["content-security-policy"], Not(HasSubstr("script")));
  EXPECT_EQ(page.headers["x-frame-options"], "DENY");
  EXPECT_EQ(page.headers["cache-control"], "no-store");
  EXPECT_THAT(page.body, Not(HasSubstr("<script")));

  std::string id = Begin();
  auto wrong = SignIn(id, "ana", "not-her-password");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_THAT(wrong.body, HasSubstr("Wrong user name or password"));
  EXPECT_EQ(wrong.headers.count("location"), 0u);
  auto ok = SignIn(id, "ana", kAnaPassword);
  std::string code = Code(ok);
  EXPECT_EQ(ok.headers["location"].rfind(Redirect() + "?code=", 0), 0u) << ok.headers["location"];
  EXPECT_THAT(ok.headers["location"], HasSubstr("&state=xyz%20%26"));
  EXPECT_EQ(SignIn(id, "ana", kAnaPassword).status, 400);  // the sign-in is finished

  auto token = Redeem(code);
  ASSERT_EQ(token.status, 200) << token.body;
  auto who = Call("GET", "/v1/whoami", Json(token)["access_token"]);
  ASSERT_EQ(who.status, 200) << who.body;
  EXPECT_EQ(Json(who)["user"], "ana");
  auto again = Redeem(code);
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(Json(again)["error"], "invalid_grant");

  std::string admin = Login("admin", kAdminPassword);
  auto audit =
      Json(Sql(admin,
               "SELECT outcome, count(*) FROM system.audit WHERE event = 'login' AND user_name = 'ana' AND "
               "details LIKE '%authorization_code%' GROUP BY ALL ORDER BY ALL"));
  // The wrong password, the sign-in and the code's redemption.
  EXPECT_EQ(audit["rows"], nlohmann::json::parse(R"([["denied", 1], ["ok", 2]])")) << audit.dump();
}

TEST_F(AuthorizeTest, TheCodeIsBoundToItsVerifierAndRedirectAndSpentByAnyAttempt) {
  std::string code = Code(SignIn(Begin(), "ana", kAnaPassword));
  EXPECT_EQ(Json(Redeem(code, std::string(43, 'a')))["error"], "invalid_grant");
  EXPECT_EQ(Redeem(code).status, 400);  // spent by the wrong attempt
  code = Code(SignIn(Begin(), "ana", kAnaPassword));
  EXPECT_EQ(Json(Redeem(code, kVerifier, base_ + "/elsewhere"))["error"], "invalid_grant");
}

TEST_F(AuthorizeTest, BadRequestsGetAnErrorPageAndNeverARedirect) {
  auto bad = [&](const std::string& path) {
    auto r = Call("GET", path);
    EXPECT_EQ(r.status, 400) << path;
    EXPECT_EQ(r.headers.count("location"), 0u) << path;
    return r.body;
  };
  EXPECT_THAT(bad(std::regex_replace(Query(), std::regex("client_id=tarn-studio"), "client_id=evil")),
              HasSubstr("unknown client_id"));
  EXPECT_THAT(bad(std::regex_replace(Query(), std::regex("studio%2Fcallback"), "evil")),
              HasSubstr("redirect_uri is not one registered"));
  EXPECT_THAT(bad(std::regex_replace(Query(), std::regex("&code_challenge_method=S256"), "")),
              HasSubstr("PKCE is required"));
  EXPECT_THAT(bad(std::regex_replace(Query(), std::regex("response_type=code"), "response_type=token")),
              HasSubstr("response_type must be code"));
  EXPECT_THAT(bad(std::regex_replace(Query(), std::regex("client_id=tarn-studio"), "client_id=%3Cscript%3E")),
              Not(HasSubstr("<script>")));
  auto unknown = SignIn("0123456789abcdef", "ana", kAnaPassword);
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.headers.count("location"), 0u);
  // Five wrong passwords end the sign-in.
  std::string id = Begin();
  for (int i = 0; i < 4; i++) EXPECT_EQ(SignIn(id, "ana", "wrong").status, 401);
  auto fifth = SignIn(id, "ana", "wrong");
  EXPECT_EQ(fifth.status, 400);
  EXPECT_THAT(fifth.body, HasSubstr("start again"));
  EXPECT_EQ(SignIn(id, "ana", kAnaPassword).status, 400);
}

}  // namespace
}  // namespace tarn::testing
