// `tarn sql` results end to end: every page fetched, caps that say so, nested values
// as JSON a stdlib parser reads, Ctrl-C and disconnects that cancel on the server,
// and per-principal limits for `tarn sql --as`.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "server/server_fixture.h"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace tarn::testing {
namespace {

size_t Lines(const std::string& s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

class SqlResultsTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    admin_ = Login("admin", kAdminPassword);
    ana_ = Login("ana", kAnaPassword);
  }
  // The tarn command, logged in to the server as `token`'s user.
  std::map<std::string, std::string> Env(const std::string& token) {
    return {{"XDG_CONFIG_HOME", config_.path().string()}, {"TARN_TOKEN", token}};
  }
  CommandResult Tarn(std::vector<std::string> args, const std::string& token) {
    return RunTarn(args, "", Env(token));
  }
  // Running statements the server reports (as an administrator sees them).
  size_t Running() {
    auto r = Call("GET", "/v1/queries", admin_);
    EXPECT_EQ(r.status, 200) << r.body;
    return Json(r)["queries"].size();
  }
  // Waits up to `most` for the server to report `n` running statements.
  bool WaitForRunning(size_t n, std::chrono::milliseconds most) {
    auto until = std::chrono::steady_clock::now() + most;
    while (std::chrono::steady_clock::now() < until) {
      if (Running() == n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return Running() == n;
  }
  // Runs a stdlib-only Python check on `text`; returns its exit code.
  int Python(const std::string& text, const std::string& program) {
    auto data = config_.path() / "data.json";
    auto code = config_.path() / "check.py";
    WriteFile(data, text);
    WriteFile(code, program);
    std::string cmd = "python3 " + code.string() + " " + data.string();
    int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  TempDir config_;
  std::string admin_, ana_;
};

TEST_F(SqlResultsTest, ACsvResultOfHalfAMillionRowsArrivesWhole) {
  auto r = Tarn({"sql", "--server", base_, "--format", "csv", "SELECT i, i * 2 AS j FROM range(500000) r(i)"},
                ana_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Lines(r.out), 500001u);
  EXPECT_EQ(r.out.substr(0, 12), "i,j\n0,0\n1,2\n");
  EXPECT_THAT(r.out, HasSubstr("\n499999,999998\n"));
  EXPECT_TRUE(r.err.empty()) << r.err;
  // JSON lines too, across pages of 10000.
  r = Tarn({"sql", "--server", base_, "--format", "json", "SELECT i FROM range(25000) r(i)"}, ana_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Lines(r.out), 25000u);
  EXPECT_THAT(r.out, HasSubstr("{\"i\":24999}\n"));
}

TEST_F(SqlResultsTest, MaxRowsCutsWithAWarningAndExit6InCsvAndJson) {
  auto r = Tarn(
      {"sql", "--server", base_, "--format", "csv", "--max-rows", "10", "SELECT i FROM range(500000) r(i)"},
      ana_);
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_EQ(Lines(r.out), 11u);
  EXPECT_THAT(r.err, HasSubstr("warning: the result is incomplete: it was cut at max_rows 10"));
  r = Tarn({"sql", "--server", base_, "--format", "json", "--max-rows", "3", "SELECT i FROM range(10) r(i)"},
           ana_);
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_EQ(Lines(r.out), 3u);
  // A result that fits is no warning.
  r = Tarn({"sql", "--server", base_, "--format", "csv", "--max-rows", "10", "SELECT i FROM range(10) r(i)"},
           ana_);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Lines(r.out), 11u);
  // The table format shows the first rows and says the rest was left out, exit 0.
  r = Tarn({"sql", "--server", base_, "--max-rows", "5", "SELECT i FROM range(100) r(i)"}, ana_);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("cut at max_rows 5"));
}

constexpr const char* kNested =
    "SELECT [1, 2] AS l, {'a': 1, 'b': [true, NULL]} AS s, MAP {'k': 2.5} AS m, 12.50::DECIMAL(6,2) AS d, "
    "DATE '2026-12-02' AS dt, '\\xAA\\x01'::BLOB AS b, [{'x': 'y'}] AS ls, "
    "170141183460469231731687303715884105727::HUGEINT AS h, "
    "'{\"j\": [1]}'::JSON AS j, NULL::INTEGER[] AS n";

constexpr const char* kCheckNested = R"(
import json, sys
lines = [l for l in open(sys.argv[1]).read().splitlines() if l]
rows = [json.loads(l) for l in lines]
if "columns" in rows[0]:  # an HTTP answer: columns and rows
    names = [c["name"] for c in rows[0]["columns"]]
    rows = [dict(zip(names, row)) for row in rows[0]["rows"]]
r = rows[0]
assert r["l"] == [1, 2], r
assert r["s"] == {"a": 1, "b": [True, None]}, r
assert r["m"] == {"k": 2.5}, r
assert r["d"] == 12.5, r
assert r["dt"] == "2026-12-02", r
assert isinstance(r["b"], str), r
assert r["ls"] == [{"x": "y"}], r
assert r["h"] == 170141183460469231731687303715884105727, r
assert r["j"] == {"j": [1]}, r
assert r["n"] is None, r
)";

TEST_F(SqlResultsTest, NestedValuesAreRealJsonEverywhere) {
  // Local and remote JSON lines.
  auto remote = Tarn({"sql", "--server", base_, "--format", "json", kNested}, ana_);
  ASSERT_EQ(remote.exit_code, 0) << remote.err;
  EXPECT_EQ(Python(remote.out, kCheckNested), 0) << remote.out;
  auto local = RunTarn({"sql", "--data-dir", dir_.path().string(), "--format", "json", kNested});
  ASSERT_EQ(local.exit_code, 0) << local.err;
  EXPECT_EQ(Python(local.out, kCheckNested), 0) << local.out;
  EXPECT_EQ(local.out, remote.out);
  // The HTTP rows: one object per row made from columns and rows.
  auto http = Sql(ana_, kNested);
  EXPECT_EQ(Python(http.body + "\n", kCheckNested), 0) << http.body;
}

TEST_F(SqlResultsTest, CtrlCCancelsTheStatementOnTheServerAndExits6) {
  auto env = Env(ana_);
  int pid = SpawnTarn(
      {"sql", "--server", base_, "SELECT count(*) FROM range(10000000000000) r(i) WHERE i % 7 = 3"}, env);
  ASSERT_TRUE(WaitForRunning(1, std::chrono::seconds(10)));
  auto sent = std::chrono::steady_clock::now();
  kill(pid, SIGINT);
  EXPECT_TRUE(WaitForRunning(0, std::chrono::seconds(1)));
  EXPECT_LT(std::chrono::steady_clock::now() - sent, std::chrono::milliseconds(1100));
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 6);
  // The audit trail says it was cancelled, from the CLI's query id.
  auto audit =
      Json(Sql(admin_,
               "SELECT outcome, origin->>'run_id' FROM system.audit WHERE statement LIKE '%i % 7 = 3%' "
               "AND event = 'statement'"));
  ASSERT_EQ(audit["rows"].size(), 1u) << audit.dump();
  EXPECT_EQ(audit["rows"][0][0], "cancelled");
  EXPECT_THAT(audit["rows"][0][1].get<std::string>(), HasSubstr("cli-"));
}

TEST_F(SqlResultsTest, AdministratorsListAndCancelRunningQueries) {
  auto r = Sql(ana_, "SELECT count(*) FROM range(10000000000000) r(i) WHERE i % 11 = 2",
               {{"async", true}, {"query_id", "anas-long-one"}});
  ASSERT_EQ(r.status, 202) << r.body;
  ASSERT_TRUE(WaitForRunning(1, std::chrono::seconds(10)));
  auto list = Tarn({"queries", "list", "--server", base_}, admin_);
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("anas-long-one"));
  EXPECT_THAT(list.out, HasSubstr("| ana "));
  auto json = Tarn({"queries", "list", "--server", base_, "--json"}, admin_);
  auto q = nlohmann::json::parse(json.out.substr(0, json.out.find('\n')));
  EXPECT_EQ(q["origin"]["kind"], "http");
  // Ana sees her own.
  EXPECT_THAT(Tarn({"queries", "list", "--server", base_}, ana_).out, HasSubstr("anas-long-one"));
  auto cancel = Tarn({"queries", "cancel", "--server", base_, "anas-long-one"}, admin_);
  ASSERT_EQ(cancel.exit_code, 0) << cancel.err;
  EXPECT_EQ(cancel.out, "anas-long-one\tcancelling\n");
  EXPECT_TRUE(WaitForRunning(0, std::chrono::seconds(2)));
  EXPECT_EQ(Tarn({"queries", "cancel", "--server", base_, "no-such-query"}, admin_).exit_code, 3);
}

TEST_F(SqlResultsTest, AClientThatHangsUpHasItsStatementCancelled) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(service_->port());
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string body =
      nlohmann::json({{"sql", "SELECT count(*) FROM range(10000000000000) r(i) WHERE i % 5 = 2"}}).dump();
  std::string req = "POST /v1/statements HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + ana_ +
                    "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\n\r\n" + body;
  ASSERT_EQ(write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  ASSERT_TRUE(WaitForRunning(1, std::chrono::seconds(10)));
  close(fd);
  EXPECT_TRUE(WaitForRunning(0, std::chrono::seconds(1)));
}

TEST_F(SqlResultsTest, SqlAsAUserRunsUnderThatUsersLimits) {
  ASSERT_EQ(
      Sql(admin_, "SET LIMIT statement_timeout = '1s' FOR USER ana; SET LIMIT result_rows = 3 FOR USER ana")
          .status,
      200);
  std::string data = dir_.path().string();
  auto start = std::chrono::steady_clock::now();
  auto r = RunTarn({"sql", "--data-dir", data, "--as", "ana",
                    "SELECT count(*) FROM range(10000000000000) r(i) WHERE i % 3 = 1"});
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_THAT(r.err, HasSubstr("ran longer than 1 s"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  r = RunTarn({"sql", "--data-dir", data, "--as", "ana", "--format", "csv", "SELECT i FROM range(10) r(i)"});
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_EQ(r.out, "i\n0\n1\n2\n");
  EXPECT_THAT(r.err, HasSubstr("result_rows 3 (USER ana)"));
  // The operator is not held by ana's limits.
  r = RunTarn({"sql", "--data-dir", data, "--format", "csv", "SELECT count(*) AS n FROM range(10)"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // Both runs of ana are in the audit trail as hers, from the CLI, the first as a timeout.
  auto audit =
      Json(Sql(admin_,
               "SELECT outcome, client FROM system.audit WHERE user_name = 'ana' AND event = 'statement' "
               "AND statement LIKE '%range(10%' ORDER BY seq"));
  ASSERT_EQ(audit["rows"].size(), 2u) << audit.dump();
  EXPECT_EQ(audit["rows"][0], nlohmann::json({"timeout", "cli"}));
  EXPECT_EQ(audit["rows"][1], nlohmann::json({"ok", "cli"}));
}

// --role runs with only that role's grants, locally (--as) and over the server.
TEST_F(SqlResultsTest, SqlWithARoleHasOnlyThatRolesGrants) {
  ASSERT_EQ(Sql(admin_, "CREATE ROLE viewers; GRANT ROLE viewers TO USER ana").status, 200);
  std::string data = dir_.path().string();
  auto r = RunTarn({"sql", "--data-dir", data, "--as", "ana", "--role", "viewers", "--format", "csv",
                    "SELECT current_user AS u"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "u\nana\n");
  r = RunTarn({"sql", "--data-dir", data, "--as", "ana", "--role", "auditors", "SELECT 1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("cannot assume role auditors"));
}

}  // namespace
}  // namespace tarn::testing
