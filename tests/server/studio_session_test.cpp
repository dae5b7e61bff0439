// The studio's backend-for-frontend sign-in over real HTTP: the browser's journey
// (login redirect, sign-in page, callback) ends with an HttpOnly SameSite=Strict
// session cookie and no token; the cookie works on the API, state-changing requests
// need the CSRF token; sign-out and idle time end the session; a callback that was not
// started here, or whose state differs, is refused.
#include <gmock/gmock.h>

#include <regex>
#include <thread>

#include "server_fixture.h"

namespace tarn::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class StudioSessionTest : public ServerTest {
 protected:
  void Configure(server::ServerConfig& config) override { config.studio_session_idle_s = 2; }

  // name=value of a Set-Cookie header's cookie `name` ("" if not set).
  static std::string SetCookie(const server::ClientResponse& r, const std::string& name) {
    auto it = r.headers.find("set-cookie");
    if (it == r.headers.end()) return "";
    std::smatch m;
    std::string all = it->second;
    return std::regex_search(all, m, std::regex(name + "=[^;,]*")) ? m[0].str() : "";
  }
  static std::string Location(const server::ClientResponse& r) {
    return r.headers.count("location") ? r.headers.at("location") : "";
  }
  // The whole journey as a browser makes it; returns the session cookie (name=value).
  std::string SignIn(const std::string& user, const std::string& password,
                     std::string* callback_headers = nullptr) {
    auto start = Call("GET", "/studio/login");
    EXPECT_EQ(start.status, 302) << start.body;
    std::string login = SetCookie(start, "tarn_studio_login");
    EXPECT_THAT(start.headers["set-cookie"], HasSubstr("HttpOnly"));
    auto page = Call("GET", Location(start));
    EXPECT_EQ(page.status, 200) << page.body;
    std::smatch m;
    std::regex_search(page.body, m, std::regex("name=request value='([0-9a-f]+)'"));
    auto signed_in = Call("POST", "/oauth2/authorize", "",
                          "request=" + m[1].str() + "&username=" + user + "&password=" + password,
                          {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(signed_in.status, 303) << signed_in.body;
    std::string back = Location(signed_in).substr(base_.size());
    auto callback = Call("GET", back, "", "", {{"Cookie", login}});
    EXPECT_EQ(callback.status, 200) << callback.body;
    if (callback_headers) *callback_headers = callback.headers["set-cookie"];
    EXPECT_THAT(callback.body, Not(HasSubstr("eyJ")));  // no token reaches the browser
    return SetCookie(callback, "tarn_session");
  }
  nlohmann::json Session(const std::string& cookie) {
    auto r = Call("GET", "/studio/api/session", "", "", {{"Cookie", cookie}});
    return r.status == 200 ? Json(r) : nlohmann::json();
  }
};

TEST_F(StudioSessionTest, ABrowserSignsInWithACookieAndNeedsTheCsrfTokenToChangeThings) {
  std::string flags;
  std::string cookie = SignIn("ana", kAnaPassword, &flags);
  ASSERT_FALSE(cookie.empty()) << flags;
  EXPECT_THAT(flags, HasSubstr("HttpOnly"));
  EXPECT_THAT(flags, HasSubstr("SameSite=Strict"));
  EXPECT_THAT(flags, HasSubstr("Path=/"));
  EXPECT_THAT(flags, Not(HasSubstr("Secure")));  // plain HTTP in this test
  auto session = Session(cookie);
  EXPECT_EQ(session["user"], "ana");
  std::string csrf = session["csrf_token"];
  EXPECT_EQ(csrf.size(), 64u);

  nlohmann::json body = {{"sql", "SELECT 42 AS answer"}};
  auto refused = Call("POST", "/v1/statements", "", body.dump(), {{"Cookie", cookie}});
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_THAT(refused.body, HasSubstr("X-CSRF-Token"));
  auto wrong = Call("POST", "/v1/statements", "", body.dump(),
                    {{"Cookie", cookie}, {"X-CSRF-Token", std::string(64, 'a')}});
  EXPECT_EQ(wrong.status, 403);
  auto ok = Call("POST", "/v1/statements", "", body.dump(), {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_THAT(ok.body, HasSubstr("42"));
  auto who = Call("GET", "/v1/whoami", "", "", {{"Cookie", cookie}});  // reads need no CSRF token
  EXPECT_EQ(Json(who)["user"], "ana");

  EXPECT_EQ(Call("POST", "/studio/logout", "", "", {{"Cookie", cookie}}).status, 403);
  auto out = Call("POST", "/studio/logout", "", "", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  EXPECT_EQ(out.status, 303);
  EXPECT_THAT(out.headers["set-cookie"], HasSubstr("Max-Age=0"));
  EXPECT_EQ(Call("GET", "/v1/whoami", "", "", {{"Cookie", cookie}}).status, 401);  // revoked
}

TEST_F(StudioSessionTest, ASessionEndsWhenIdleOrWhenThePasswordChanges) {
  std::string cookie = SignIn("ana", kAnaPassword);
  EXPECT_EQ(Session(cookie)["user"], "ana");
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  EXPECT_EQ(Call("GET", "/v1/whoami", "", "", {{"Cookie", cookie}}).status, 401);
  cookie = SignIn("ana", kAnaPassword);
  std::string admin = Login("admin", kAdminPassword);
  ASSERT_EQ(Call("PUT", "/v1/users/ana/password", admin, R"({"password": "a-new-secret-99"})").status, 200);
  EXPECT_EQ(Call("GET", "/v1/whoami", "", "", {{"Cookie", cookie}}).status, 401);
}

TEST_F(StudioSessionTest, ACallbackNotStartedHereOrWithAnotherStateIsRefused) {
  auto start = Call("GET", "/studio/login");
  std::string login = SetCookie(start, "tarn_studio_login");
  std::string to = Location(start);
  auto no_cookie = Call("GET", "/studio/callback?code=abc&state=" +
                                   std::regex_replace(to, std::regex(".*state=([0-9a-f]+).*"), "$1"));
  EXPECT_EQ(no_cookie.status, 400);
  EXPECT_EQ(SetCookie(no_cookie, "tarn_session"), "");
  auto other_state = Call("GET", "/studio/callback?code=abc&state=0000", "", "", {{"Cookie", login}});
  EXPECT_EQ(other_state.status, 400);
  EXPECT_EQ(SetCookie(other_state, "tarn_session"), "");
  // A browser asking for / is sent to the studio; an API client is told where things are.
  EXPECT_EQ(Location(Call("GET", "/", "", "", {{"Accept", "text/html"}})), "/studio/");
  EXPECT_EQ(Json(Call("GET", "/"))["studio"], "/studio/");
}

}  // namespace
}  // namespace tarn::testing
