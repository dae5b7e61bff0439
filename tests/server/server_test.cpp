// The HTTP API over real sockets: statements, catalog, admin routes, limits,
// TLS, slow clients, shutdown, and the OpenAPI document.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include "files/files.h"
#include "server_fixture.h"

using ::testing::HasSubstr;

namespace tarn::testing {
namespace {

class ApiTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    admin_ = Login("admin", kAdminPassword);
    ana_ = Login("ana", kAnaPassword);
    auto r =
        Sql(admin_,
            "CREATE DATABASE d; CREATE TABLE d.t AS SELECT i AS id, 'n' || i AS name FROM range(10) r(i); "
            "GRANT SELECT ON TABLE d.t TO GROUP analysts");
    ASSERT_EQ(r.status, 200) << r.body;
  }
  std::string admin_, ana_;
};

TEST_F(ApiTest, HealthIsPublicAndCarriesARequestId) {
  auto r = Call("GET", "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Json(r)["status"], "ok");
  EXPECT_EQ(r.headers["x-request-id"].size(), 16u);
  EXPECT_EQ(Call("GET", "/readyz").status, 200);
}

// "role" runs the statements with only that role's grants; a role the caller does
// not hold is a 403, a malformed one a 400.
TEST_F(ApiTest, AStatementRequestMayAssumeARoleTheCallerHolds) {
  ASSERT_EQ(Sql(admin_, "CREATE ROLE auditors; GRANT ROLE auditors TO USER ana").status, 200);
  EXPECT_EQ(Json(Sql(ana_, "SELECT count(*) FROM d.t"))["rows"][0][0], 10);
  auto r = Sql(ana_, "SELECT count(*) FROM d.t", {{"role", "auditors"}});
  EXPECT_EQ(r.status, 404) << r.body;  // the role holds nothing on d.t
  r = Sql(ana_, "SELECT current_user AS u", {{"role", "auditors"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r)["rows"][0][0], "ana");
  r = Sql(ana_, "SELECT 1", {{"role", "admins"}});
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_THAT(Json(r)["error"]["message"].get<std::string>(), HasSubstr("cannot assume role admins"));
  EXPECT_EQ(Sql(ana_, "SELECT 1", {{"role", 7}}).status, 400);
  EXPECT_EQ(Sql(ana_, "SELECT 1", {{"role", ""}}).status, 400);
}

TEST_F(ApiTest, StatementsReturnColumnsRowsAndCounts) {
  auto r = Sql(ana_, "SELECT id, name, id * 1.5 AS x, NULL AS z FROM d.t WHERE id < 3 ORDER BY id");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = Json(r);
  EXPECT_EQ(j["columns"][0]["name"], "id");
  EXPECT_EQ(j["columns"][0]["type"], "BIGINT");
  EXPECT_EQ(j["columns"][1]["type"], "VARCHAR");
  EXPECT_EQ(j["row_count"], 3);
  EXPECT_EQ(j["truncated"], false);
  EXPECT_EQ(j["rows"][2][0], 2);
  EXPECT_EQ(j["rows"][2][1], "n2");
  EXPECT_TRUE(j["rows"][2][3].is_null());
  EXPECT_FALSE(j["query_id"].get<std::string>().empty());
}

TEST_F(ApiTest, LimitTruncatesAndSaysSo) {
  auto j = Json(Sql(ana_, "SELECT * FROM d.t ORDER BY id", {{"limit", 4}}));
  EXPECT_EQ(j["row_count"], 4);
  EXPECT_EQ(j["truncated"], true);
  EXPECT_EQ(j["rows"].size(), 4u);
}

TEST_F(ApiTest, SeveralStatementsReturnTheLastResultAndEveryMessage) {
  auto j = Json(Sql(admin_, "CREATE TABLE d.u (a INTEGER); INSERT INTO d.u VALUES (7); SELECT a FROM d.u"));
  EXPECT_EQ(j["rows"][0][0], 7);
  ASSERT_EQ(j["messages"].size(), 2u);
  EXPECT_THAT(j["messages"][1].get<std::string>(), HasSubstr("inserted 1 row"));
}

TEST_F(ApiTest, BadStatementsMapToStatuses) {
  auto r = Sql(ana_, "SELEC 1");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r)["error"]["code"], "invalid_argument");
  r = Sql(ana_, "SELECT * FROM d.nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(Json(r)["error"]["message"].get<std::string>(), HasSubstr("d.nope"));
  r = Sql(ana_, "COPY (SELECT 1) TO 'x.csv'");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Json(r)["error"]["code"], "access_denied");
  r = Sql(admin_, "CREATE DATABASE d");
  EXPECT_EQ(r.status, 409);
}

TEST_F(ApiTest, MalformedRequestBodiesAre400) {
  for (std::string body :
       {"not json", "[1,2]", "{}", "{\"sql\": 5}", "{\"sql\": \"SELECT 1\", \"limit\": 0}",
        "{\"sql\": \"SELECT 1\", \"limit\": -1}", "{\"sql\": \"SELECT 1\", \"bogus\": 1}",
        "{\"sql\": \"SELECT 1\", \"format\": \"xml\"}", "{\"sql\": \"SELECT 1\", \"query_id\": \"a/b\"}"}) {
    auto r = Call("POST", "/v1/statements", ana_, body);
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    EXPECT_TRUE(Json(r)["error"].contains("request_id")) << body;
  }
}

TEST_F(ApiTest, CsvAndParquetResults) {
  auto r = Sql(ana_, "SELECT id, name FROM d.t WHERE id < 2 ORDER BY id", {{"format", "csv"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "text/csv; charset=utf-8");
  EXPECT_EQ(r.body, "id,name\n0,n0\n1,n1\n");
  r = Call("POST", "/v1/statements?format=csv", ana_, R"({"sql": "SELECT 1 AS one"})");
  EXPECT_EQ(r.body, "one\n1\n");
  r = Call("POST", "/v1/statements", ana_, R"({"sql": "SELECT * FROM d.t"})",
           {{"Accept", "application/vnd.apache.parquet"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "application/vnd.apache.parquet");
  ASSERT_GT(r.body.size(), 8u);
  EXPECT_EQ(r.body.substr(0, 4), "PAR1");
  EXPECT_EQ(r.body.substr(r.body.size() - 4), "PAR1");
}

TEST_F(ApiTest, TheAuditChainIsVerifiedForAuditHoldersOnly) {
  auto refused = Call("GET", "/v1/audit/verify", ana_);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_THAT(refused.body, ::testing::HasSubstr("AUDIT privilege"));
  std::string admin = Login("admin", kAdminPassword);
  auto r = Call("GET", "/v1/audit/verify", admin);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r)["ok"], true);
  EXPECT_GT(Json(r)["events"].get<int64_t>(), 0);
  EXPECT_EQ(Json(r)["problem"], "");
  ASSERT_EQ(Sql(admin, "GRANT AUDIT TO USER ana").status, 200);
  EXPECT_EQ(Call("GET", "/v1/audit/verify", ana_).status, 200);
}

TEST_F(ApiTest, XlsxResultsAreOneSheetOfTheLastStatementsRows) {
  auto r = Sql(ana_, "SELECT 1; SELECT id, name FROM d.t WHERE id < 3 ORDER BY id", {{"format", "xlsx"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
  auto file = std::filesystem::path(dir_.path()) / "result.xlsx";
  WriteFile(file, r.body);
  EXPECT_EQ(files::XlsxSheetNames(file), std::vector<std::string>{"result"});
  files::XlsxToCsv(file, {"result", "", {}}, std::filesystem::path(dir_.path()) / "result.csv");
  EXPECT_EQ(ReadTextFile(std::filesystem::path(dir_.path()) / "result.csv"),
            "\"id\",\"name\"\n\"0\",\"n0\"\n\"1\",\"n1\"\n\"2\",\"n2\"\n");
  // A failing statement is an error, not a workbook.
  r = Sql(ana_, "SELECT * FROM d.missing", {{"format", "xlsx"}});
  EXPECT_EQ(r.status, 404) << r.body;
}

TEST_F(ApiTest, AsyncQueriesArePolledAndCancelled) {
  auto r = Sql(ana_, "SELECT count(*) FROM range(100000000000) r(i) WHERE i % 7 = 1",
               {{"async", true}, {"query_id", "long-one"}});
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(Json(r)["query_id"], "long-one");
  // Queued until an asynchronous worker takes it, then running.
  EXPECT_THAT(Json(Call("GET", "/v1/queries/long-one", ana_))["state"].get<std::string>(),
              ::testing::AnyOf("queued", "running"));
  r = Call("DELETE", "/v1/queries/long-one", ana_);
  EXPECT_EQ(r.status, 200);
  for (int i = 0; i < 100; i++) {
    r = Call("GET", "/v1/queries/long-one", ana_);
    if (r.headers["x-tarn-query-state"] == "cancelled") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(r.headers["x-tarn-query-state"], "cancelled");
  EXPECT_EQ(Json(r)["error"]["code"], "cancelled");
  EXPECT_EQ(Call("GET", "/v1/queries/nope", ana_).status, 404);
}

TEST_F(ApiTest, OthersQueriesLookMissing) {
  auto r = Sql(ana_, "SELECT 42", {{"async", true}, {"query_id", "anas"}});
  ASSERT_EQ(r.status, 202);
  auto other = Call("POST", "/v1/users", admin_, R"({"name": "bob", "password": "bob-secret-1"})");
  ASSERT_EQ(other.status, 201) << other.body;
  auto bob = Login("bob", "bob-secret-1");
  EXPECT_EQ(Call("GET", "/v1/queries/anas", bob).status, 404);
  EXPECT_EQ(Call("DELETE", "/v1/queries/anas", bob).status, 404);
  EXPECT_EQ(Call("GET", "/v1/queries/anas", admin_).status, 200);
}

// A result belongs to the person who made it, not to a name: after the user is
// removed it is gone at once, and a namesake created later never sees it.
TEST_F(ApiTest, ResultsDieWithTheirUser) {
  ASSERT_EQ(Call("POST", "/v1/users", admin_, R"({"name": "bob", "password": "bob-secret-1"})").status, 201);
  ASSERT_EQ(Sql(admin_, "GRANT SELECT ON TABLE d.t TO USER bob").status, 200);
  auto bob = Login("bob", "bob-secret-1");
  ASSERT_EQ(
      Sql(bob, "SELECT 'bobs-result-' || count(*) FROM d.t", {{"async", true}, {"query_id", "mine"}}).status,
      202);
  auto pending = [&] {
    auto state = Json(Call("GET", "/v1/queries/mine", bob)).value("state", "");
    return state == "queued" || state == "running";
  };
  for (int i = 0; i < 100 && pending(); i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_THAT(Call("GET", "/v1/queries/mine", bob).body, HasSubstr("bobs-result-10"));
  ASSERT_EQ(Call("DELETE", "/v1/users/bob", admin_).status, 200);
  EXPECT_EQ(Call("GET", "/v1/queries/mine", admin_).status, 404);  // dropped at once
  ASSERT_EQ(Call("POST", "/v1/users", admin_, R"({"name": "bob", "password": "bob-secret-2"})").status, 201);
  auto namesake = Login("bob", "bob-secret-2");
  auto r = Call("GET", "/v1/queries/mine", namesake);
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, ::testing::Not(HasSubstr("bobs-result")));
}

// The registry keys by the credential epoch too: a namesake whose user was removed
// by another process (no ForgetUser call) still finds nothing.
TEST(PrincipalKeyTest, NamesakesDiffer) {
  identity::Principal a{"bob", {}, "https://tarn", false, false, 1000};
  identity::Principal b = a;
  b.credentials_since_ms = 2000;
  EXPECT_NE(a.Key(), b.Key());
  identity::Principal c = a;
  c.issuer = "https://other";
  EXPECT_NE(a.Key(), c.Key());
  EXPECT_EQ(a.Key(), identity::Principal(a).Key());
}

TEST_F(ApiTest, ControlCharactersInPathsAreA400) {
  for (auto path :
       {"/v1/databases/d%00x/tables", "/v1/databases/d%0Ax/tables", "/v1/queries/a%1Fb", "/v1/users/x%7F"}) {
    auto r = Call("GET", path, admin_);
    EXPECT_EQ(r.status, 400) << path << ": " << r.body;
    EXPECT_THAT(r.body, HasSubstr("control character")) << path;
  }
}

TEST_F(ApiTest, CatalogRoutesDescribeDatabasesAndTables) {
  auto j = Json(Call("GET", "/v1/databases", ana_));
  EXPECT_EQ(j["databases"][0]["name"], "d");
  j = Json(Call("GET", "/v1/databases/d/tables", ana_));
  EXPECT_EQ(j["tables"][0]["name"], "t");
  EXPECT_EQ(j["tables"][0]["kind"], "managed");
  j = Json(Call("GET", "/v1/databases/d/tables/t", ana_));
  EXPECT_EQ(j["columns"][0]["name"], "id");
  EXPECT_EQ(j["columns"][0]["stats"]["max"], "9");
  EXPECT_EQ(j["snapshot"]["row_count"], 10);
  EXPECT_EQ(Call("GET", "/v1/databases/nope/tables", ana_).status, 404);
  EXPECT_EQ(Call("GET", "/v1/databases/d/tables/nope", ana_).status, 404);
  EXPECT_EQ(Call("GET", "/v1/databases/bad%20name/tables", ana_).status, 400);
}

TEST_F(ApiTest, AdminRoutesNeedAnAdministrator) {
  EXPECT_EQ(Call("GET", "/v1/users", ana_).status, 403);
  EXPECT_EQ(Call("POST", "/v1/groups", ana_, R"({"name": "x"})").status, 403);
  auto r = Call("POST", "/v1/groups", admin_, R"({"name": "finance"})");
  EXPECT_EQ(r.status, 201);
  r = Call("POST", "/v1/users", admin_,
           R"({"name": "carl", "password": "carl-secret", "groups": ["finance"]})");
  EXPECT_EQ(r.status, 201) << r.body;
  auto users = Json(Call("GET", "/v1/users", admin_))["users"];
  bool found = false;
  for (auto& u : users) found |= u["name"] == "carl" && u["groups"] == nlohmann::json({"finance"});
  EXPECT_TRUE(found) << users.dump();
  EXPECT_EQ(Call("POST", "/v1/users", admin_, R"({"name": "carl", "password": "carl-secret"})").status, 409);
  EXPECT_EQ(Call("POST", "/v1/users", admin_, R"({"name": "dan", "password": "short"})").status, 400);
  EXPECT_EQ(
      Call("POST", "/v1/users", admin_, R"({"name": "dan", "password": "long-enough", "groups": ["nope"]})")
          .status,
      404);
  EXPECT_EQ(Call("DELETE", "/v1/users/admin", admin_).status, 400);  // not yourself
}

TEST_F(ApiTest, UsersMayChangeTheirOwnPasswordOnly) {
  EXPECT_EQ(Call("PUT", "/v1/users/admin/password", ana_, R"({"password": "taken-over-1"})").status, 403);
  EXPECT_EQ(Call("PUT", "/v1/users/ana/password", ana_, R"({"password": "new-secret-9"})").status, 200);
  // Tokens issued before the change are void, the one that made it included.
  EXPECT_EQ(Call("GET", "/v1/whoami", ana_).status, 401);
  std::string fresh = Login("ana", "new-secret-9");
  ASSERT_FALSE(fresh.empty());
  EXPECT_EQ(Call("GET", "/v1/whoami", fresh).status, 200);
}

TEST_F(ApiTest, UnknownRoutesAre404AndWrongMethods405) {
  EXPECT_EQ(Call("GET", "/v2/nothing", ana_).status, 404);
  EXPECT_EQ(Call("PUT", "/v1/statements", ana_, "{}").status, 405);
  EXPECT_EQ(Call("GET", "/nothing").status, 404);
}

TEST_F(ApiTest, MetricsCountRequestsAndNeedAToken) {
  Sql(ana_, "SELECT 1");
  EXPECT_EQ(Call("GET", "/metrics").status, 401);
  EXPECT_EQ(Call("GET", "/metrics", "not-a-token").status, 401);
  // Request counts per route are for administrators and the role monitor.
  auto denied = Call("GET", "/metrics", ana_);
  EXPECT_EQ(denied.status, 403);
  EXPECT_THAT(denied.body, ::testing::Not(HasSubstr("tarn_http_requests_total")));
  ASSERT_EQ(Sql(admin_, "CREATE ROLE monitor; GRANT ROLE monitor TO GROUP analysts").status, 200);
  EXPECT_EQ(Call("GET", "/metrics", ana_).status, 200);
  auto r = Call("GET", "/metrics", admin_);
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.body,
              HasSubstr("tarn_http_requests_total{method=\"POST\",route=\"/v1/statements\",status=\"200\"}"));
  EXPECT_THAT(r.body,
              HasSubstr("tarn_http_request_duration_seconds_bucket{route=\"/v1/statements\",le=\"+Inf\"}"));
  EXPECT_THAT(r.body, HasSubstr("tarn_active_queries 0"));
  EXPECT_THAT(r.body, HasSubstr("tarn_queue_depth"));
}

TEST_F(ApiTest, InternalErrorsLeakNothing) {
  // A query id that is taken is a client error; a 500 is only for bugs. Check that the
  // error body never carries stack or file details for the client errors we can cause.
  auto r = Sql(ana_, "SELECT * FROM read_csv('/etc/passwd')");
  EXPECT_EQ(r.status, 403);
  EXPECT_THAT(r.body, ::testing::Not(HasSubstr("root:")));
}

// --- limits -------------------------------------------------------------------------

class LimitsTest : public ServerTest {
 protected:
  void Configure(server::ServerConfig& c) override {
    c.max_body_bytes = 1024;
    c.max_upload_bytes = 8192;
    c.max_header_bytes = 2048;
    c.read_timeout_s = 2;
    c.idle_timeout_s = 2;
    c.workers = 1;
    c.max_queue = 1;
    c.statement_timeout_s = 1;
  }
};

TEST_F(LimitsTest, OversizedBodyIs413AndOversizedHeadersAre431) {
  auto token = Login("ana", kAnaPassword);
  auto r = Call("POST", "/v1/statements", token, "{\"sql\": \"SELECT '" + std::string(4000, 'x') + "'\"}");
  EXPECT_EQ(r.status, 413);
  r = Call("GET", "/healthz", "", "", {{"X-Big", std::string(4000, 'y')}});
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(Call("GET", "/healthz").status, 200);  // the server is fine
}

// Upload routes take bodies up to max_upload_bytes, other routes only max_body_bytes.
TEST_F(LimitsTest, UploadsTakeLargerBodiesUpToTheirOwnLimit) {
  auto token = Login("ana", kAnaPassword);
  std::map<std::string, std::string> binary = {{"Content-Type", "application/octet-stream"}};
  std::string csv = "a\n" + std::string(3000, '1') + "\n";
  EXPECT_EQ(Call("POST", "/v1/uploads?filename=a.csv", token, csv, binary).status, 201);
  EXPECT_EQ(Call("POST", "/v1/uploads?filename=a.csv", token, std::string(9000, 'x'), binary).status, 413);
  EXPECT_EQ(
      Call("POST", "/v1/statements", token, "{\"sql\": \"SELECT '" + std::string(3000, 'x') + "'\"}").status,
      413);
}

// A client still sending when the server refuses its request must read the refusal,
// not a connection reset: the server drains what it will not read before it closes.
TEST_F(LimitsTest, ARefusedRequestIsAnsweredEvenWhileTheClientIsStillSending) {
  auto token = Login("ana", kAnaPassword);
  std::string body = "{\"sql\": \"SELECT '" + std::string(4000000, 'x') + "'\"}";
  for (int i = 0; i < 5; i++) {
    server::ClientResponse r;
    ASSERT_NO_THROW(r = Call("POST", "/v1/statements", token, body)) << "try " << i;
    EXPECT_EQ(r.status, 413) << "try " << i;
    ASSERT_NO_THROW(r = Call("POST", "/v1/statements", token, body, {{"X-Big", std::string(4000, 'y')}}))
        << "try " << i;
    EXPECT_EQ(r.status, 431) << "try " << i;
  }
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
}

TEST_F(LimitsTest, RunawayStatementIsStoppedByTheTimeout) {
  auto token = Login("ana", kAnaPassword);
  auto start = std::chrono::steady_clock::now();
  auto r = Sql(token, "SELECT count(*) FROM range(10000000000000) r(i) WHERE i % 3 = 1");
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_THAT(Json(r)["error"]["message"].get<std::string>(), HasSubstr("longer than 1 s"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
}

TEST_F(LimitsTest, AFullQueueAnswers429) {
  auto token = Login("ana", kAnaPassword);
  // One worker busy, one request queued: the third is refused at once.
  std::string slow = "SELECT count(*) FROM range(10000000000000) r(i) WHERE i % 3 = 1";
  auto a = std::async(std::launch::async, [&] { return Sql(token, slow); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto b = std::async(std::launch::async, [&] { return Sql(token, slow); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto c = Sql(token, "SELECT 1");
  EXPECT_EQ(c.status, 429) << c.body;
  EXPECT_EQ(Json(c)["error"]["code"], "resource_exhausted");
  a.get();
  b.get();
}

// Connects a raw socket to the server.
int Connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST_F(LimitsTest, ASlowClientDoesNotBlockOthersAndIsCutOff) {
  int fd = Connect(service_->port());
  ASSERT_GE(fd, 0);
  std::atomic<bool> cut{false};
  // Dribble a request one byte a second, as a slowloris would.
  std::thread slow([&] {
    std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaa\r\n\r\n";
    for (char ch : req) {
      if (send(fd, &ch, 1, MSG_NOSIGNAL) != 1) {
        cut = true;
        return;
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  });
  // Meanwhile others are served promptly (the only worker is free: the slow client holds none).
  for (int i = 0; i < 10; i++) {
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(Call("GET", "/healthz").status, 200);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  // After read_timeout (2 s) the server has closed the slow connection.
  char buf[16];
  auto start = std::chrono::steady_clock::now();
  ssize_t n = -1;
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(5)) {
    n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(n, 0) << "the slow connection is still open";
  shutdown(fd, SHUT_RDWR);
  slow.join();
  close(fd);
}

TEST_F(LimitsTest, IdleKeptAliveConnectionsAreClosed) {
  int fd = Connect(service_->port());
  ASSERT_GE(fd, 0);
  std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  std::this_thread::sleep_for(std::chrono::seconds(3));
  char buf[4096];
  ssize_t got = recv(fd, buf, sizeof buf, 0);  // the response
  EXPECT_GT(got, 0);
  EXPECT_EQ(recv(fd, buf, sizeof buf, 0), 0);  // then the close after idle_timeout
  close(fd);
}

// --- shutdown -----------------------------------------------------------------------

TEST_F(ApiTest, ShutdownFinishesQuickRequestsAndCancelsLongOnesAfterTheGrace) {
  auto long_query = std::async(std::launch::async, [&] {
    return Sql(ana_, "SELECT count(*) FROM range(10000000000000) r(i) WHERE i % 3 = 1");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto start = std::chrono::steady_clock::now();
  service_->Shutdown();
  auto elapsed = std::chrono::steady_clock::now() - start;
  auto r = long_query.get();
  EXPECT_EQ(r.status, 409) << r.body;  // cancelled after the 2 s grace period
  EXPECT_EQ(Json(r)["error"]["code"], "cancelled");
  EXPECT_GE(elapsed, std::chrono::seconds(2));
  EXPECT_LT(elapsed, std::chrono::seconds(15));
  EXPECT_THROW(Call("GET", "/healthz"), Error);  // no longer accepting
  service_.reset();
}

// --- TLS ----------------------------------------------------------------------------

class TlsTest : public ServerTest {
 protected:
  void Configure(server::ServerConfig& c) override {
    auto cert = certs_ / "cert.pem", key = certs_ / "key.pem";
    std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key.string() + " -out " +
                      cert.string() +
                      " -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    c.tls_cert = cert;
    c.tls_key = key;
    ca_file_ = cert.string();
  }
  TempDir certs_;
};

TEST_F(TlsTest, HttpsServesWithAVerifiedCertificate) {
  auto token = Login("ana", kAnaPassword);
  auto r = Sql(token, "SELECT 40 + 2 AS answer");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r)["rows"][0][0], 42);
  EXPECT_EQ(Json(Call("GET", "/.well-known/openid-configuration"))["issuer"].get<std::string>().substr(0, 8),
            "https://");
}

TEST_F(TlsTest, UntrustedCertificateAndPlainHttpAreRefused) {
  server::ClientOptions strict;  // the system store does not know our self-signed CA
  EXPECT_THROW(server::Fetch("GET", base_ + "/healthz", {}, "", strict), Error);
  std::string plain = "http://127.0.0.1:" + std::to_string(service_->port()) + "/healthz";
  server::ClientOptions quick;
  quick.timeout = std::chrono::seconds(3);
  EXPECT_THROW(server::Fetch("GET", plain, {}, "", quick), Error);
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
}

// --- the OpenAPI document -------------------------------------------------------------

TEST_F(ApiTest, OpenApiDocumentDescribesExactlyTheServedRoutes) {
  YAML::Node doc = YAML::LoadFile(std::string(TARN_SOURCE_DIR) + "/docs/api/openapi.yaml");
  std::set<std::string> documented, served;
  for (auto path : doc["paths"]) {
    for (auto op : path.second) {
      std::string method = op.first.as<std::string>();
      if (method == "parameters") continue;
      for (auto& ch : method) ch = static_cast<char>(std::toupper(ch));
      documented.insert(method + " " + path.first.as<std::string>());
    }
  }
  for (auto& r : service_->router().routes()) {
    served.insert(std::string(server::http::to_string(r.method)) + " " + r.pattern);
    // And each served route answers with something other than 404/405 when called.
    std::string path = r.pattern;
    for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"{id}", "x"}, {"{db}", "d"}, {"{table}", "t"}, {"{name}", "nobody"}, {"{user}", "nobody"}}) {
      for (size_t p; (p = path.find(from)) != std::string::npos;) path.replace(p, from.size(), to);
    }
    if (r.method == server::http::verb::delete_) continue;    // do not remove anything
    if (r.pattern == "/v1/events") path += "?max_seconds=1";  // a stream: short
    auto res = Call(std::string(server::http::to_string(r.method)), path, admin_, "{}");
    EXPECT_NE(res.status, 405) << r.pattern;
    if (r.pattern.find('{') == std::string::npos) {
      EXPECT_NE(res.status, 404) << r.pattern;
    }
  }
  EXPECT_EQ(documented, served);
}

}  // namespace
}  // namespace tarn::testing

namespace tarn::testing {
namespace {

class ScrapeTokenTest : public ServerTest {
 protected:
  void Configure(server::ServerConfig& config) override { config.metrics_token = "scrape-0123456789abcdef"; }
};

TEST_F(ScrapeTokenTest, TheScrapeTokenReadsMetricsAndNothingElse) {
  EXPECT_EQ(Call("GET", "/metrics", "scrape-0123456789abcdef").status, 200);
  EXPECT_EQ(Call("GET", "/metrics", "scrape-0123456789abcdeX").status, 401);
  EXPECT_EQ(Call("GET", "/v1/whoami", "scrape-0123456789abcdef").status, 401);
}

}  // namespace
}  // namespace tarn::testing

namespace tarn::testing {
namespace {

// User and group administration and REST catalog reads leave audit records, refused
// ones too, and a password never reaches the trail.
// The worker does not wait for the audit sync, but the answer does: when a statement's
// response arrives, its audit record is on disk; when the record cannot be written,
// the caller gets an error instead of the rows.
TEST_F(ApiTest, AStatementIsAnsweredOnlyOnceItsAuditRecordIsDurable) {
  auto audit_dir = instance_->audit_dir();
  auto last_statement = [&] {
    std::string last;
    for (auto& segment : audit::AuditLog(audit_dir).Segments()) {
      std::ifstream in(segment);
      for (std::string line; std::getline(in, line);) last = line;
    }
    return last.empty() ? nlohmann::json() : nlohmann::json::parse(last);
  };
  for (int i = 0; i < 20; i++) {
    std::string sql = fmt::format("SELECT {} AS answer", 4200 + i);
    auto r = Sql(ana_, sql);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(last_statement()["statement"], sql);
  }
  std::filesystem::remove_all(audit_dir);
  auto r = Sql(ana_, "SELECT 4321 AS answer");
  EXPECT_EQ(r.status, 500) << r.body;
  EXPECT_THAT(r.body, ::testing::Not(HasSubstr("4321")));
  EXPECT_EQ(Json(r)["error"]["code"], "io_error");
  EXPECT_THAT(r.body, ::testing::Not(HasSubstr(audit_dir.string())));  // details go to the log only
  // A multi-page result is not handed out either, not even its later pages.
  EXPECT_EQ(Sql(ana_, "SELECT * FROM range(1000)", {{"limit", 10}, {"query_id", "unaudited"}}).status, 500);
  EXPECT_EQ(Call("GET", "/v1/queries/unaudited/results/1", ana_).status, 404);
  std::filesystem::create_directories(audit_dir);
  EXPECT_EQ(Sql(ana_, "SELECT 1").status, 200);
}

TEST_F(ApiTest, AdministrationAndCatalogReadsAreAudited) {
  EXPECT_EQ(Call("GET", "/v1/users", ana_).status, 403);
  ASSERT_EQ(Call("POST", "/v1/users", admin_, R"({"name": "bob", "password": "bob-secret-pw-1"})").status,
            201);
  ASSERT_EQ(Call("PUT", "/v1/groups/analysts/members/bob", admin_).status, 200);
  ASSERT_EQ(Call("GET", "/v1/databases/d/tables/t", ana_).status, 200);
  EXPECT_EQ(Call("GET", "/v1/databases/d/tables/nope", ana_).status, 404);
  auto r = Sql(admin_,
               "SELECT event, statement_type, user_name, outcome, details::VARCHAR FROM system.audit "
               "WHERE event IN ('admin', 'catalog_read') ORDER BY seq");
  ASSERT_EQ(r.status, 200) << r.body;
  auto rows = Json(r)["rows"];
  ASSERT_EQ(rows.size(), 5u) << rows.dump();
  EXPECT_EQ(rows[0][0], "admin");
  EXPECT_EQ(rows[0][1], "LIST USERS");
  EXPECT_EQ(rows[0][2], "ana");
  EXPECT_EQ(rows[0][3], "denied");
  EXPECT_EQ(rows[1][1], "CREATE USER");
  EXPECT_EQ(rows[1][3], "ok");
  EXPECT_THAT(rows[1][4].get<std::string>(), HasSubstr("bob"));
  EXPECT_THAT(rows[2][4].get<std::string>(), HasSubstr("analysts"));
  EXPECT_EQ(rows[3][0], "catalog_read");
  EXPECT_EQ(rows[3][1], "DESCRIBE TABLE");
  EXPECT_EQ(rows[4][3], "failed");
  // The password is nowhere in the trail.
  auto all = Sql(admin_,
                 "SELECT count(*) FROM system.audit WHERE details::VARCHAR LIKE '%bob-secret%' "
                 "OR statement LIKE '%bob-secret%' OR reason LIKE '%bob-secret%'");
  EXPECT_EQ(Json(all)["rows"][0][0], 0) << all.body;
}

}  // namespace
}  // namespace tarn::testing
