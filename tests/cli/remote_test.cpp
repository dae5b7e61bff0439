// The tarn command against a running server: login, whoami, remote SQL and admin,
// and the `tarn server` process itself.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "identity/jwt.h"
#include "server/server_fixture.h"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace tarn::testing {
namespace {

class RemoteCliTest : public ServerTest {
 protected:
  CommandResult Tarn(std::vector<std::string> args, const std::string& input = "") {
    return RunTarn(args, input, {{"XDG_CONFIG_HOME", config_.path().string()}, {"TARN_TOKEN", ""}});
  }
  TempDir config_;
};

TEST_F(RemoteCliTest, LoginCachesATokenOnlyTheOwnerCanRead) {
  auto r = Tarn({"login", "--server", base_, "--user", "ana", "--password-stdin"},
                std::string(kAnaPassword) + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto file = config_ / "tarn/credentials.json";
  ASSERT_TRUE(fs::exists(file));
  struct stat st {};
  stat(file.c_str(), &st);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  r = Tarn({"whoami", "--server", base_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto me = nlohmann::json::parse(r.out);
  EXPECT_EQ(me["user"], "ana");
  EXPECT_EQ(me["groups"], nlohmann::json({"analysts"}));
}

// Two people's logins to one server live side by side as named profiles; a profile
// brings its server, so --server is not needed; the listing never shows a token.
TEST_F(RemoteCliTest, NamedProfilesKeepSeveralLoginsToOneServer) {
  ASSERT_EQ(Tarn({"login", "--server", base_, "--profile", "analyst", "--user", "ana", "--password-stdin"},
                 std::string(kAnaPassword) + "\n")
                .exit_code,
            0);
  auto r = Tarn({"login", "--server", base_, "--profile", "ops", "--user", "admin", "--password-stdin"},
                std::string(kAdminPassword) + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("(profile ops)"));
  auto who = [&](std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    env["XDG_CONFIG_HOME"] = config_.path().string();
    env["TARN_TOKEN"] = "";
    args.insert(args.begin(), "whoami");
    auto res = RunTarn(args, "", env);
    EXPECT_EQ(res.exit_code, 0) << res.err;
    return res.exit_code == 0 ? nlohmann::json::parse(res.out).value("user", "") : "";
  };
  EXPECT_EQ(who({"--profile", "analyst"}), "ana");
  EXPECT_EQ(who({"--profile", "ops"}), "admin");
  EXPECT_EQ(who({}, {{"TARN_PROFILE", "ops"}}), "admin");
  EXPECT_EQ(who({"--profile", "analyst", "--server", base_ + "/"}), "ana");
  // SQL runs as the profile's user.
  r = Tarn({"sql", "--profile", "analyst", "--format", "csv", "SELECT current_user AS u"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "u\nana\n");
  // No server login was made without a profile: that one still asks to log in.
  r = Tarn({"whoami", "--server", base_});
  EXPECT_EQ(r.exit_code, 8);
  EXPECT_THAT(r.err, HasSubstr("tarn login --server"));
  // Unknown profile, a profile used against another server, no server at all.
  r = Tarn({"whoami", "--profile", "nobody"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("no profile nobody: run `tarn login --profile nobody"));
  r = Tarn({"whoami", "--profile", "ops", "--server", "http://127.0.0.1:1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("profile ops is a login to " + base_));
  r = Tarn({"whoami"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("which server?"));
  // The listing: both profiles, their users and server, never a token.
  r = Tarn({"profiles", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("access_token"), std::string::npos);
  EXPECT_EQ(r.out.find("eyJ"), std::string::npos);
  std::map<std::string, std::string> users;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["server"], base_);
    users[j["profile"]] = j["user"];
  }
  EXPECT_EQ(users, (std::map<std::string, std::string>{{"analyst", "ana"}, {"ops", "admin"}}));
}

TEST_F(RemoteCliTest, WrongPasswordAndMissingLoginAreOneLineErrors) {
  auto r = Tarn({"login", "--server", base_, "--user", "ana", "--password-stdin"}, "wrong-password\n");
  EXPECT_EQ(r.exit_code, 8);
  EXPECT_THAT(r.err, HasSubstr("error: login refused: wrong user name or password for ana"));
  r = Tarn({"whoami", "--server", base_});
  EXPECT_EQ(r.exit_code, 8);
  EXPECT_THAT(r.err, HasSubstr("tarn login"));
  r = Tarn({"whoami", "--server", "http://127.0.0.1:1"});
  EXPECT_NE(r.exit_code, 0);
}

TEST_F(RemoteCliTest, RemoteSqlPrintsLikeLocalSql) {
  ASSERT_EQ(Tarn({"login", "--server", base_, "--user", "admin", "--password-stdin"},
                 std::string(kAdminPassword) + "\n")
                .exit_code,
            0);
  auto r = Tarn(
      {"sql", "--server", base_, "-q", "CREATE DATABASE d; CREATE TABLE d.t AS SELECT 1 AS a, 'x' AS b"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Tarn({"sql", "--server", base_, "SELECT a, b FROM d.t"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("| INTEGER | VARCHAR |"));
  EXPECT_THAT(r.out, HasSubstr("(1 row)"));
  r = Tarn({"sql", "--server", base_, "--format", "csv", "SELECT a, b FROM d.t"});
  EXPECT_EQ(r.out, "a,b\n1,x\n");
  r = Tarn({"sql", "--server", base_, "--format", "json", "SELECT a, b FROM d.t"});
  EXPECT_EQ(r.out, "{\"a\":1,\"b\":\"x\"}\n");
  r = Tarn({"sql", "--server", base_, "SELECT * FROM d.nope"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("error: table d.nope does not exist"));
}

TEST_F(RemoteCliTest, UsersAndGroupsAreManagedThroughTheApi) {
  auto admin = Login("admin", kAdminPassword);
  auto r = Tarn({"group", "add", "finance", "--server", base_, "--token", admin});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Tarn(
      {"user", "add", "fred", "--group", "finance", "--password-stdin", "--server", base_, "--token", admin},
      "fred-secret-1\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Tarn({"user", "list", "--server", base_, "--token", admin});
  EXPECT_THAT(r.out, HasSubstr("fred\tperson\t-\tfinance")) << r.err;
  // An analyst's token may not.
  auto ana = Login("ana", kAnaPassword);
  r = Tarn({"group", "add", "x", "--server", base_, "--token", ana});
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_THAT(r.err, HasSubstr("administrator"));
}

std::string KidOf(const std::string& token) {
  auto header = nlohmann::json::parse(identity::Base64UrlDecode(token.substr(0, token.find('.'))));
  return header["kid"];
}

TEST_F(RemoteCliTest, KeyRotationKeepsOldTokensValidAndSignsNewOnesWithTheNewKey) {
  auto old_token = Login("ana", kAnaPassword);
  auto r = Tarn({"keys", "rotate", "-d", dir_.path().string(), "--keep-for", "3600"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the server looks once a second
  EXPECT_EQ(Call("GET", "/v1/whoami", old_token).status, 200);
  auto new_token = Login("ana", kAnaPassword);
  EXPECT_NE(KidOf(old_token), KidOf(new_token));
  EXPECT_EQ(Call("GET", "/v1/whoami", new_token).status, 200);
  auto jwks = Json(Call("GET", "/.well-known/jwks.json"));
  EXPECT_EQ(jwks["keys"].size(), 2u);
  // A retired key past its grace period is dropped, and its tokens with it.
  r = Tarn({"keys", "rotate", "-d", dir_.path().string(), "--keep-for", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(Call("GET", "/v1/whoami", new_token).status, 401);
  EXPECT_EQ(Call("GET", "/v1/whoami", old_token).status, 200);  // its key keeps its own hour
}

TEST(InitCli, GeneratesAnAdminPasswordAndPrintsItOnce) {
  TempDir dir;
  auto r = RunTarn({"init", "-d", dir.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("created the administrator 'admin' with password: "));
  r = RunTarn({"init", "-d", dir.path()});  // a second init says so, changes nothing, prints no password
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(r.err, HasSubstr("is already a Tarn data directory: nothing was changed"));
  EXPECT_EQ(r.out, "");
  r = RunTarn({"user", "list", "-d", dir.path()});
  EXPECT_EQ(r.out, "admin\tperson\tadmin\t-\n");
}

TEST(InitCli, LocalUserAdministration) {
  TempDir dir;
  ASSERT_EQ(RunTarn({"init", "-d", dir.path(), "--admin-password-stdin"}, "admin-pass-1\n").exit_code, 0);
  EXPECT_EQ(RunTarn({"group", "add", "g1", "-d", dir.path()}).exit_code, 0);
  auto r = RunTarn({"user", "add", "u1", "-g", "g1", "--password-stdin", "-d", dir.path()}, "u1-password\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunTarn({"user", "add", "u2", "-g", "nope", "--password-stdin", "-d", dir.path()}, "u2-password\n");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("tarn group add nope"));
  r = RunTarn({"user", "add", "u3", "--password-stdin", "-d", dir.path()}, "short\n");
  EXPECT_EQ(r.exit_code, 2);
  r = RunTarn({"user", "add", "bad/name", "--password-stdin", "-d", dir.path()}, "long-enough\n");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(RunTarn({"group", "members", "remove", "g1", "u1", "-d", dir.path()}).exit_code, 0);
  EXPECT_EQ(RunTarn({"group", "members", "remove", "g1", "u1", "-d", dir.path()}).exit_code, 3);
  EXPECT_EQ(RunTarn({"user", "remove", "u1", "-d", dir.path()}).exit_code, 0);
  EXPECT_EQ(RunTarn({"user", "list", "-d", dir.path()}).out, "admin\tperson\tadmin\t-\n");
}

TEST(ServerCli, ServesUntilSigtermThenExitsCleanly) {
  TempDir dir;
  ASSERT_EQ(RunTarn({"init", "-d", dir.path(), "--admin-password-stdin"}, "admin-pass-1\n").exit_code, 0);
  std::string listen = "127.0.0.1:" + std::to_string(FreePort());
  int pid = SpawnTarn({"server", "-d", dir.path(), "--listen", listen});
  server::ClientResponse r;
  for (int i = 0; i < 100; i++) {
    try {
      r = server::Fetch("GET", "http://" + listen + "/healthz", {}, "");
      break;
    } catch (const Error&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  EXPECT_EQ(r.status, 200);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(ServerCli, BadConfigurationIsAOneLineError) {
  TempDir dir;
  ASSERT_EQ(RunTarn({"init", "-d", dir.path(), "--admin-password-stdin"}, "admin-pass-1\n").exit_code, 0);
  WriteFile(dir / "tarn.toml", "listen = \"127.0.0.1:0\"\n[limits]\nworkerz = 3\n");
  auto r = RunTarn({"server", "-d", dir.path(), "--config", (dir / "tarn.toml").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown setting limits.workerz"));
  WriteFile(dir / "tarn.toml", "[tls]\ncert = \"missing.pem\"\nkey = \"missing.key\"\n");
  r = RunTarn({"server", "-d", dir.path(), "--config", (dir / "tarn.toml").string()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("missing.pem"));
  r = RunTarn({"server", "-d", dir.path(), "--listen", "nonsense"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("HOST:PORT"));
}

}  // namespace
}  // namespace tarn::testing
