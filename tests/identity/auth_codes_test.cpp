// AuthorizationCodes on a clock the test moves: sign-ins last 10 minutes and codes 60
// seconds; a code redeems once, for its client, redirect URI and PKCE verifier.
#include <gmock/gmock.h>

#include "common/error.h"
#include "identity/auth_codes.h"
#include "test_util.h"

namespace tarn::testing {
namespace {

using ::testing::HasSubstr;

constexpr const char* kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr const char* kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
constexpr const char* kRedirect = "https://tarn.example/studio/callback";

class AuthCodesTest : public ::testing::Test {
 protected:
  std::map<std::string, std::string> Query() {
    return {{"response_type", "code"},         {"client_id", "app"},
            {"redirect_uri", kRedirect},       {"code_challenge", kChallenge},
            {"code_challenge_method", "S256"}, {"state", "s 1"}};
  }
  int64_t now_ = 1'000'000;
  identity::AuthorizationCodes codes_{{{"app", {kRedirect}}}, [this] { return now_; }};
};

TEST_F(AuthCodesTest, ACodeRedeemsOnceWithinItsMinute) {
  std::string url = codes_.Complete(codes_.Begin(Query()), "ana");
  EXPECT_EQ(url.rfind(std::string(kRedirect) + "?code=", 0), 0u);
  EXPECT_THAT(url, HasSubstr("&state=s%201"));
  std::string code = url.substr(url.find("code=") + 5, 64);
  EXPECT_EQ(codes_.Redeem(code, "app", kRedirect, kVerifier), "ana");
  EXPECT_EQ(CatchError([&] { codes_.Redeem(code, "app", kRedirect, kVerifier); }).code(),
            ErrorCode::kUnauthenticated);
  url = codes_.Complete(codes_.Begin(Query()), "ana");
  code = url.substr(url.find("code=") + 5, 64);
  now_ += 60'000;
  EXPECT_THAT(CatchError([&] { codes_.Redeem(code, "app", kRedirect, kVerifier); }).what(),
              HasSubstr("expired"));
}

TEST_F(AuthCodesTest, ASignInLastsTenMinutesAndFiveFailures) {
  std::string id = codes_.Begin(Query());
  now_ += 599'000;
  EXPECT_EQ(codes_.Pending(id).client_id, "app");
  now_ += 1'000;
  EXPECT_EQ(CatchError([&] { codes_.Pending(id); }).code(), ErrorCode::kInvalidArgument);
  id = codes_.Begin(Query());
  for (int i = 0; i < 4; i++) codes_.Failed(id);
  EXPECT_EQ(codes_.Pending(id).redirect_uri, kRedirect);
  codes_.Failed(id);
  EXPECT_EQ(CatchError([&] { codes_.Complete(id, "ana"); }).code(), ErrorCode::kInvalidArgument);
}

TEST_F(AuthCodesTest, OnlyRegisteredClientsAndRedirectsWithPkce) {
  auto refused = [&](const char* key, const char* value) {
    auto q = Query();
    if (*value) {
      q[key] = value;
    } else {
      q.erase(key);
    }
    return std::string(CatchError([&] { codes_.Begin(q); }).what());
  };
  EXPECT_THAT(refused("client_id", "other"), HasSubstr("unknown client_id"));
  EXPECT_THAT(refused("redirect_uri", "https://tarn.example/studio/callback/../evil"),
              HasSubstr("redirect_uri"));
  EXPECT_THAT(refused("redirect_uri", "https://tarn.example/studio/callbackx"), HasSubstr("redirect_uri"));
  EXPECT_THAT(refused("code_challenge_method", "plain"), HasSubstr("PKCE is required"));
  EXPECT_THAT(refused("code_challenge", "short"), HasSubstr("43-128"));
  EXPECT_THAT(refused("response_type", "token"), HasSubstr("response_type must be code"));
  std::string url = codes_.Complete(codes_.Begin(Query()), "ana");
  std::string code = url.substr(url.find("code=") + 5, 64);
  EXPECT_THAT(CatchError([&] { codes_.Redeem(code, "other", kRedirect, kVerifier); }).what(),
              HasSubstr("another client"));
}

}  // namespace
}  // namespace tarn::testing
