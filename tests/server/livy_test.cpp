// The Livy-compatible endpoint over real HTTP: sessions and statements in Livy's
// shapes, governed SQL as the session's owner, sparkmagic's own request sequence
// (Basic auth, pyspark session, probes, %%sql cells parsed as sparkmagic parses
// them), privacy of sessions, cancel, cut results and bad input.
#include <gmock/gmock.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "livy_fixture.h"

namespace tarn::testing {
namespace {

using ::testing::HasSubstr;

TEST_F(LivyTest, ASqlSessionRunsGovernedStatementsInLivysShapes) {
  auto r = Call("POST", "/sessions", ana_, json{{"kind", "sql"}, {"name", "nb"}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  auto s = Json(r);
  EXPECT_EQ(r.headers["location"], "/sessions/" + std::to_string(s["id"].get<int64_t>()));
  EXPECT_EQ(s["state"], "idle");
  EXPECT_EQ(s["kind"], "sql");
  EXPECT_EQ(s["owner"], "ana");
  EXPECT_EQ(s["name"], "nb");
  for (auto* field : {"appId", "proxyUser", "appInfo", "log", "heartbeatTimeoutInSecond", "conf"})
    EXPECT_TRUE(s.contains(field)) << field;
  int64_t id = s["id"];

  auto post = Call("POST", "/sessions/" + std::to_string(id) + "/statements", ana_,
                   json{{"code", "SELECT x, label FROM d.t ORDER BY x"}}.dump());
  ASSERT_EQ(post.status, 201) << post.body;
  EXPECT_EQ(post.headers["location"], "/sessions/" + std::to_string(id) + "/statements/0");
  auto st = WaitStatement(ana_, id, Json(post)["id"]);
  EXPECT_EQ(st["state"], "available");
  EXPECT_EQ(st["progress"], 1.0);
  EXPECT_GT(st["completed"].get<int64_t>(), 0);
  EXPECT_GE(st["completed"].get<int64_t>(), st["started"].get<int64_t>());
  auto& out = st["output"];
  EXPECT_EQ(out["status"], "ok");
  EXPECT_EQ(out["execution_count"], 0);
  auto table = out["data"]["application/json"];
  EXPECT_EQ(table["schema"], json::parse(R"({"type": "struct", "fields": [
      {"name": "x", "type": "long", "nullable": true, "metadata": {}},
      {"name": "label", "type": "string", "nullable": true, "metadata": {}}]})"));
  EXPECT_EQ(table["data"], json::parse(R"([[1, "v1"], [2, null], [3, "v3"]])"));
  EXPECT_EQ(table["truncated"], false);
  EXPECT_EQ(table["total"], 3);

  // Governed as ana: d.secret is not hers (so, to her, it does not exist). The failure is an
  // available statement.
  auto denied = RunCode(ana_, id, "SELECT * FROM d.secret");
  EXPECT_EQ(denied["state"], "available");
  EXPECT_EQ(denied["output"]["status"], "error");
  EXPECT_EQ(denied["output"]["ename"], "NotFound");
  EXPECT_THAT(denied["output"]["evalue"].get<std::string>(), HasSubstr("d.secret"));
  EXPECT_TRUE(denied["output"]["traceback"].is_array());

  auto list = Json(Call("GET", "/sessions/" + std::to_string(id) + "/statements", ana_));
  EXPECT_EQ(list["total_statements"], 2);
  EXPECT_EQ(list["statements"][1]["id"], 1);
  auto desc = Json(Call("GET", "/sessions/" + std::to_string(id) + "/statements?order=desc&size=1", ana_));
  EXPECT_EQ(desc["statements"].size(), 1u);
  EXPECT_EQ(desc["statements"][0]["id"], 1);
  EXPECT_EQ(Json(Call("GET", "/sessions/nb/state", ana_)), json({{"id", id}, {"state", "idle"}}));  // by name

  // The audit names the Livy session.
  auto audit =
      Sql(admin_,
          "SELECT count(*) FROM system.audit WHERE event = 'statement' AND (origin->>'kind') = 'livy' AND "
          "user_name = 'ana' AND (origin->>'session_id') = '" +
              std::to_string(id) + "'");
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_EQ(Json(audit)["rows"][0][0], 2);
}

TEST_F(LivyTest, SparkmagicsRequestSequenceWorksUnchanged) {
  // Create, as sparkmagic does: HTTP Basic, kind pyspark, a heartbeat timeout.
  auto r = Basic("POST", "/sessions", R"({"kind": "pyspark", "heartbeatTimeoutInSecond": 60})");
  ASSERT_EQ(r.status, 201) << r.body;
  int64_t id = Json(r)["id"];
  std::string url = "/sessions/" + std::to_string(id);
  // Wait for idle, reading state and log as refresh_status_and_info does.
  auto s = Json(Basic("GET", url));
  EXPECT_EQ(s["state"], "idle");
  EXPECT_TRUE(s["log"].is_array());
  // The probe: `spark` must succeed.
  auto post = [&](const std::string& code) {
    auto p = Basic("POST", url + "/statements", json{{"code", code}}.dump());
    EXPECT_EQ(p.status, 201) << p.body;
    json st;
    for (int i = 0; i < 1000; i++) {
      st = Json(Basic("GET", url + "/statements/" + std::to_string(Json(p)["id"].get<int64_t>())));
      if (st["state"] == "available") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return st;
  };
  auto probe = post("spark");
  EXPECT_EQ(probe["output"]["status"], "ok");
  EXPECT_TRUE(probe["output"]["data"]["text/plain"].is_string());
  // A %%sql cell, exactly as sqlquery.py writes it, parsed as records_to_dataframe does.
  auto records = [&](const std::string& limit) {
    auto st = post(
        "import sys\nfor yQeKOYBsFgLWWGWZJu3y in spark.sql(u\"\"\"SELECT x, label FROM d.t ORDER BY x "
        "\"\"\").toJSON(use_unicode=(sys.version_info.major > 2))" +
        limit + ": print(yQeKOYBsFgLWWGWZJu3y)");
    EXPECT_EQ(st["output"]["status"], "ok") << st.dump();
    EXPECT_FALSE(st["output"]["data"].contains("application/json"));  // it would break sparkmagic
    std::string text = st["output"]["data"]["text/plain"];
    std::vector<json> out;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) out.push_back(json::parse(line));
    return out;
  };
  auto take = records(".take(2500)");
  ASSERT_EQ(take.size(), 3u);
  EXPECT_EQ(take[0], json({{"x", 1}, {"label", "v1"}}));
  EXPECT_EQ(take[1], json({{"x", 2}}));  // null fields are left out, as Spark's toJSON does
  EXPECT_EQ(records(".take(2)").size(), 2u);
  EXPECT_EQ(records(".collect()").size(), 3u);
  EXPECT_LE(records(".sample(False, 0.1).take(2500)").size(), 3u);
  // Other Python is refused with a clear message, as an available statement.
  auto other = post("print(1 + 1)");
  EXPECT_EQ(other["output"]["status"], "error");
  EXPECT_EQ(other["output"]["ename"], "UnsupportedLanguage");
  EXPECT_THAT(other["output"]["evalue"].get<std::string>(), HasSubstr("Tarn runs SQL"));
  // Heartbeat GETs, the log, then delete.
  EXPECT_EQ(Basic("GET", url).status, 200);
  auto log = Json(Basic("GET", url + "/log?from=0"));
  EXPECT_EQ(log["id"], id);
  EXPECT_GT(log["total"].get<int64_t>(), 0);
  EXPECT_TRUE(log["log"].is_array());
  auto del = Basic("DELETE", url);
  EXPECT_EQ(del.status, 200);
  EXPECT_EQ(Json(del), json({{"msg", "deleted"}}));
  auto gone = Basic("GET", url);
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(Json(gone), json({{"msg", "Session '" + std::to_string(id) + "' not found."}}));
}

TEST_F(LivyTest, SessionsArePrivateToTheirOwner) {
  int64_t mine = CreateSession(ana_, {{"kind", "sql"}});
  int64_t admins = CreateSession(admin_, {{"kind", "sql"}});
  auto list = Json(Call("GET", "/sessions", ana_));
  EXPECT_EQ(list["total"], 1);
  EXPECT_EQ(list["from"], 0);
  ASSERT_EQ(list["sessions"].size(), 1u);
  EXPECT_EQ(list["sessions"][0]["id"], mine);
  // Another's session reads exactly as a missing one, on every route.
  std::string theirs = "/sessions/" + std::to_string(admins);
  auto missing = Call("GET", "/sessions/999", ana_);
  auto other = Call("GET", theirs, ana_);
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(Json(other)["msg"], "Session '" + std::to_string(admins) + "' not found.");
  EXPECT_EQ(Json(missing)["msg"], "Session '999' not found.");
  EXPECT_EQ(Call("POST", theirs + "/statements", ana_, R"({"code": "SELECT 1"})").status, 404);
  EXPECT_EQ(Call("DELETE", theirs, ana_).status, 404);
  // Administrators see and drive every session; paging by from and size.
  auto all = Json(Call("GET", "/sessions?from=1&size=5", admin_));
  EXPECT_EQ(all["total"], 2);
  EXPECT_EQ(all["from"], 1);
  ASSERT_EQ(all["sessions"].size(), 1u);
  EXPECT_EQ(all["sessions"][0]["id"], admins);
  EXPECT_EQ(Call("GET", "/sessions/" + std::to_string(mine), admin_).status, 200);
}

TEST_F(LivyTest, CancelStopsARunningStatementsEngineWork) {
  int64_t id = CreateSession(ana_, {{"kind", "sql"}});
  std::string url = "/sessions/" + std::to_string(id);
  auto post = Call("POST", url + "/statements", ana_, json{{"code", kLong}}.dump());
  ASSERT_EQ(post.status, 201);
  int64_t sid = Json(post)["id"];
  for (int i = 0; i < 500 && Json(Call("GET", url + "/statements/0", ana_))["state"] != "running"; i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(Json(Call("GET", url, ana_))["state"], "busy");
  auto t0 = std::chrono::steady_clock::now();
  auto cancel = Call("POST", url + "/statements/" + std::to_string(sid) + "/cancel", ana_);
  EXPECT_EQ(cancel.status, 200);
  EXPECT_EQ(Json(cancel), json({{"msg", "canceled"}}));
  auto st = WaitStatement(ana_, id, sid);
  EXPECT_EQ(st["state"], "cancelled");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  // The session goes on.
  EXPECT_EQ(RunCode(ana_, id, "SELECT 42")["output"]["data"]["application/json"]["data"], json({{42}}));
}

// Statements of a session run one at a time, in order: one behind a running statement
// waits, and a cancel of it ends it at once (cancelled, no output) without touching
// the running one; a cancel of an ended statement changes nothing.
TEST_F(LivyTest, AWaitingStatementIsCancelledAtOnceAndTheRunningOneGoesOn) {
  int64_t id = CreateSession(ana_, {{"kind", "sql"}});
  std::string url = "/sessions/" + std::to_string(id) + "/statements";
  ASSERT_EQ(Call("POST", url, ana_, json{{"code", kLong}}.dump()).status, 201);
  ASSERT_EQ(Call("POST", url, ana_, json{{"code", "SELECT 7"}}.dump()).status, 201);
  for (int i = 0; i < 500 && Json(Call("GET", url + "/0", ana_))["state"] != "running"; i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto list = Json(Call("GET", url, ana_));
  EXPECT_EQ(list["statements"][0]["state"], "running");
  EXPECT_EQ(list["statements"][1]["state"], "waiting");
  EXPECT_EQ(list["statements"][1]["output"], nullptr);
  EXPECT_EQ(Call("POST", url + "/1/cancel", ana_).status, 200);
  auto waiting = Json(Call("GET", url + "/1", ana_));
  EXPECT_EQ(waiting["state"], "cancelled");
  EXPECT_EQ(waiting["output"], nullptr);
  EXPECT_EQ(waiting["started"], 0);  // it never ran
  EXPECT_EQ(Json(Call("GET", url + "/0", ana_))["state"], "running");
  EXPECT_EQ(Call("POST", url + "/0/cancel", ana_).status, 200);
  auto first = WaitStatement(ana_, id, 0);
  EXPECT_EQ(first["state"], "cancelled");
  EXPECT_EQ(Call("POST", url + "/0/cancel", ana_).status, 200);  // ended: stays as it is
  EXPECT_EQ(Json(Call("GET", url + "/0", ana_))["state"], "cancelled");
}

TEST_F(LivyTest, ACutResultSaysSoAndHowManyRowsThereWere) {
  int64_t id = CreateSession(ana_, {{"kind", "shared"}});
  auto st = RunCode(ana_, id, "SELECT i FROM range(12) r(i)", {{"kind", "sql"}});
  auto table = st["output"]["data"]["application/json"];
  EXPECT_EQ(table["data"].size(), 5u);  // livy.max_result_rows = 5 here
  EXPECT_EQ(table["truncated"], true);
  EXPECT_EQ(table["total"], 12);
  EXPECT_THAT(table["truncated_reason"].get<std::string>(), HasSubstr("5 of 12"));
}

TEST_F(LivyTest, BadRequestsGetLivysErrorsAndChangeNothing) {
  auto unknown = Call("POST", "/sessions", ana_, R"({"kind": "sql", "colour": "red"})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_THAT(Json(unknown)["msg"].get<std::string>(), HasSubstr("Unrecognized field \"colour\""));
  auto sparkr = Call("POST", "/sessions", ana_, R"({"kind": "sparkr"})");
  EXPECT_EQ(sparkr.status, 400);
  EXPECT_THAT(Json(sparkr)["msg"].get<std::string>(), HasSubstr("sparkr"));
  EXPECT_EQ(Call("POST", "/sessions", ana_, R"({"kind": "cobol"})").status, 400);
  EXPECT_EQ(Call("POST", "/sessions", ana_, R"({"kind": 3})").status, 400);
  EXPECT_EQ(Call("POST", "/sessions", ana_, R"({"heartbeatTimeoutInSecond": "soon"})").status, 400);
  EXPECT_EQ(Call("POST", "/sessions", ana_, "not json").status, 400);
  auto impersonate = Call("POST", "/sessions", ana_, R"({"kind": "sql", "proxyUser": "admin"})");
  EXPECT_EQ(impersonate.status, 403);
  EXPECT_EQ(Json(impersonate)["msg"], "User 'ana' not allowed to impersonate 'admin'.");
  EXPECT_EQ(Call("POST", "/sessions?doAs=admin", ana_, R"({"kind": "sql"})").status, 403);
  EXPECT_EQ(Json(Call("GET", "/sessions", ana_))["total"], 0);  // nothing was created

  auto anonymous = Call("GET", "/sessions");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_TRUE(Json(anonymous).contains("msg"));
  auto wrong = Call("GET", "/sessions", "", "", {{"Authorization", "Basic " + Base64("ana:wrong-password")}});
  EXPECT_EQ(wrong.status, 401);

  int64_t id = CreateSession(ana_, {{"kind", "sql"}});
  std::string url = "/sessions/" + std::to_string(id);
  EXPECT_EQ(Call("POST", url + "/statements", ana_, R"({"kind": "sql"})").status, 400);  // no code
  EXPECT_EQ(Call("POST", url + "/statements", ana_, R"({"code": "SELECT 1", "lang": "x"})").status, 400);
  EXPECT_EQ(Call("POST", url + "/statements", ana_, R"({"code": "SELECT 1", "kind": "sparkr"})").status, 400);
  auto nostatement = Call("GET", url + "/statements/7", ana_);
  EXPECT_EQ(nostatement.status, 404);
  EXPECT_EQ(Call("GET", url + "/statements/x", ana_).status, 404);
  EXPECT_EQ(Call("GET", "/sessions?from=abc", ana_).status, 400);
  EXPECT_EQ(Json(Call("GET", url + "/statements", ana_))["total_statements"], 0);
}

// proxyUser / doAs: only with IMPERSONATE ON USER u (or ON GROUP g); the session is
// its creator's, its statements run as u, and the audit names both. MANAGE LIVY sees
// every session.
TEST_F(LivyTest, ImpersonationNeedsAGrantAndTheAuditNamesBoth) {
  ASSERT_EQ(Call("POST", "/v1/users", admin_, R"({"name": "bea", "password": "bea-secret-12"})").status, 201);
  std::string bea = Login("bea", "bea-secret-12");
  auto refused = Call("POST", "/sessions", bea, R"({"kind": "sql", "proxyUser": "ana"})");
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(Json(refused)["msg"], "User 'bea' not allowed to impersonate 'ana'.");
  auto nobody = Call("POST", "/sessions", bea, R"({"kind": "sql", "proxyUser": "nobody"})");
  EXPECT_EQ(nobody.status, 403);  // a missing user answers as a refused one
  EXPECT_EQ(Json(nobody)["msg"], "User 'bea' not allowed to impersonate 'nobody'.");
  // Only administrators decide who may impersonate whom.
  auto self_grant = Sql(ana_, "GRANT IMPERSONATE ON USER ana TO USER bea");
  EXPECT_EQ(self_grant.status, 403) << self_grant.body;
  ASSERT_EQ(Sql(admin_, "GRANT IMPERSONATE ON USER ana TO USER bea").status, 200);
  EXPECT_EQ(Sql(admin_, "GRANT IMPERSONATE ON USER ghost TO USER bea").status, 404);
  EXPECT_EQ(Sql(admin_, "GRANT SELECT ON USER ana TO USER bea").status, 400);
  auto r = Call("POST", "/sessions?doAs=ana", bea, R"({"kind": "sql"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Json(r)["owner"], "bea");
  EXPECT_EQ(Json(r)["proxyUser"], "ana");
  int64_t id = Json(r)["id"];
  auto st = RunCode(bea, id, "SELECT count(*) FROM d.t");  // ana's grant, not bea's
  EXPECT_EQ(st["output"]["status"], "ok") << st.dump();
  auto audit =
      Json(Sql(admin_,
               "SELECT user_name, origin->>'impersonated_by' FROM system.audit WHERE event = 'statement' "
               "AND (origin->>'session_id') = '" +
                   std::to_string(id) + "'"));
  ASSERT_EQ(audit["rows"].size(), 1u) << audit.dump();
  EXPECT_EQ(audit["rows"][0], json({"ana", "bea"}));
  EXPECT_EQ(Call("GET", "/sessions/" + std::to_string(id), ana_).status, 404);  // bea's session, not ana's
  // A group grant covers its members; MANAGE LIVY sees every session.
  ASSERT_EQ(Sql(admin_, "REVOKE IMPERSONATE ON USER ana FROM USER bea").status, 200);
  EXPECT_EQ(Call("POST", "/sessions", bea, R"({"kind": "sql", "proxyUser": "ana"})").status, 403);
  ASSERT_EQ(Sql(admin_, "GRANT IMPERSONATE ON GROUP analysts TO USER bea").status, 200);
  EXPECT_EQ(Call("POST", "/sessions", bea, R"({"kind": "sql", "proxyUser": "ana"})").status, 201);
  CreateSession(ana_, {{"kind", "sql"}});
  EXPECT_EQ(Json(Call("GET", "/sessions", bea))["total"], 2);
  ASSERT_EQ(Sql(admin_, "GRANT MANAGE LIVY TO USER bea").status, 200);
  EXPECT_EQ(Json(Call("GET", "/sessions", bea))["total"], 3);
}

// Sessions are recorded: after a restart, those of the earlier life are listed as dead
// (their statements did not survive), still private, and new sessions get new ids.
TEST_F(LivyTest, AfterARestartEarlierSessionsAreListedAsDead) {
  int64_t before = CreateSession(ana_, {{"kind", "sql"}, {"name", "kept"}});
  int64_t admins = CreateSession(admin_, {{"kind", "sql"}});
  config_.port = service_->port();  // the same issuer URL: tokens stay valid
  service_->Shutdown();
  service_ = std::make_unique<server::Service>(*instance_, config_);
  service_->Start();
  base_ = "http://127.0.0.1:" + std::to_string(service_->port());
  auto list = Json(Call("GET", "/sessions", ana_));
  ASSERT_EQ(list["total"], 1);
  EXPECT_EQ(list["sessions"][0]["id"], before);
  EXPECT_EQ(list["sessions"][0]["state"], "dead");
  EXPECT_EQ(list["sessions"][0]["name"], "kept");
  EXPECT_THAT(list["sessions"][0]["log"].dump(), HasSubstr("the server restarted"));
  EXPECT_EQ(Call("GET", "/sessions/" + std::to_string(admins), ana_).status, 404);
  auto refused =
      Call("POST", "/sessions/" + std::to_string(before) + "/statements", ana_, R"({"code": "SELECT 1"})");
  EXPECT_EQ(refused.status, 400);
  EXPECT_THAT(Json(refused)["msg"].get<std::string>(), HasSubstr("is dead (the server restarted"));
  EXPECT_GT(CreateSession(ana_, {{"kind", "sql"}}), admins);
  EXPECT_EQ(Call("DELETE", "/sessions/" + std::to_string(before), ana_).status, 200);
  EXPECT_EQ(Json(Call("GET", "/sessions", ana_))["total"], 1);
}

// Completion offers only names the session's user may see.
TEST_F(LivyTest, CompletionOffersOnlyVisibleNames) {
  int64_t id = CreateSession(ana_, {{"kind", "sql"}});
  std::string url = "/sessions/" + std::to_string(id) + "/completion";
  auto complete = [&](const std::string& code, int64_t cursor) {
    auto r = Call("POST", url, ana_, json{{"code", code}, {"kind", "sql"}, {"cursor", cursor}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return Json(r)["candidates"];
  };
  EXPECT_EQ(complete("SELECT * FROM d.", 16), json({"d.t"}));  // not d.secret: not hers
  EXPECT_EQ(complete("SELECT la FROM d.t", 9), json({"label"}));
  EXPECT_EQ(complete("SELECT d.t.x FROM d.t", 12), json({"d.t.x"}));
  EXPECT_EQ(complete("SELECT s FROM d.secret", 8),
            json({"SELECT", "SHOW"}));  // keywords; its column s stays unknown
  EXPECT_EQ(complete("SEL", 3), json({"SELECT"}));
  EXPECT_EQ(Call("POST", url, ana_, R"({"cursor": 1})").status, 400);
  EXPECT_EQ(Call("POST", url, admin_, R"({"code": "x"})").status, 200);  // administrators drive all
  int64_t admins = CreateSession(admin_, {{"kind", "sql"}});
  EXPECT_EQ(
      Call("POST", "/sessions/" + std::to_string(admins) + "/completion", ana_, R"({"code": "x"})").status,
      404);
}

// The sequence of Livy's own REST examples (site/examples.md): create a session, follow
// the Location headers to the session and to the statement, read the output, delete.
// Tarn runs SQL, so the Scala "1 + 1" of the example answers UnsupportedLanguage; the
// same sequence in a sql session returns the value.
TEST_F(LivyTest, LivysDocumentedExampleSequenceWorks) {
  for (auto [kind, code] : {std::pair<std::string, std::string>{"spark", "1 + 1"}, {"sql", "SELECT 1 + 1"}}) {
    auto created = Call("POST", "/sessions", ana_, json{{"kind", kind}}.dump());
    ASSERT_EQ(created.status, 201) << created.body;
    std::string session_url = created.headers["location"];
    auto session = Json(Call("GET", session_url, ana_));
    EXPECT_EQ(session["state"], "idle");
    EXPECT_EQ(session["kind"], kind);
    auto posted = Call("POST", session_url + "/statements", ana_, json{{"code", code}}.dump());
    ASSERT_EQ(posted.status, 201) << posted.body;
    std::string statement_url = posted.headers["location"];
    json st;
    for (int i = 0; i < 500; i++) {
      st = Json(Call("GET", statement_url, ana_));
      if (st["state"] == "available") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(st["state"], "available") << st.dump();
    EXPECT_EQ(st["output"]["execution_count"], 0);
    if (kind == "spark") {
      EXPECT_EQ(st["output"]["status"], "error");
      EXPECT_EQ(st["output"]["ename"], "UnsupportedLanguage");
    } else {
      EXPECT_EQ(st["output"]["status"], "ok");
      EXPECT_EQ(st["output"]["data"]["application/json"]["data"], json({{2}}));
    }
    auto deleted = Call("DELETE", session_url, ana_);
    EXPECT_EQ(deleted.status, 200);
    EXPECT_EQ(Json(deleted), json({{"msg", "deleted"}}));
  }
}

// HTTP Basic over plain HTTP from another machine would send the password in clear:
// refused unless the operator allows it. (The test reaches the server through this
// machine's own non-loopback address, so the server sees a non-loopback peer.)
class LivyRemoteTest : public LivyTest {
 protected:
  void Configure(server::ServerConfig& config) override { config.host = "0.0.0.0"; }
  // An IPv4 address of this machine that is not loopback, if it has one.
  static std::string OwnAddress() {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return "";
    std::string out;
    for (auto* a = list; a && out.empty(); a = a->ifa_next) {
      if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
      auto addr = reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr;
      if ((ntohl(addr.s_addr) >> 24) == 127) continue;
      char text[INET_ADDRSTRLEN];
      if (inet_ntop(AF_INET, &addr, text, sizeof text)) out = text;
    }
    freeifaddrs(list);
    return out;
  }
};

TEST_F(LivyRemoteTest, BasicOverPlainHttpFromAnotherMachineIsRefused) {
  std::string own = OwnAddress();
  if (own.empty()) GTEST_SKIP() << "this machine has no non-loopback IPv4 address";
  std::string remote = "http://" + own + ":" + std::to_string(service_->port());
  auto basic = server::Fetch("GET", remote + "/sessions",
                             {{"Authorization", "Basic " + Base64(std::string("ana:") + kAnaPassword)}}, "");
  EXPECT_EQ(basic.status, 401);
  EXPECT_THAT(Json(basic)["msg"].get<std::string>(), HasSubstr("livy.allow_basic_over_http"));
  auto bearer = server::Fetch("GET", remote + "/sessions", {{"Authorization", "Bearer " + ana_}}, "");
  EXPECT_EQ(bearer.status, 200) << bearer.body;
  // From this machine (loopback) Basic is fine.
  EXPECT_EQ(Call("GET", "/sessions", "", "",
                 {{"Authorization", "Basic " + Base64(std::string("ana:") + kAnaPassword)}})
                .status,
            200);
}

// With livy.allow_basic_over_http the operator accepts it (a trusted network).
class LivyRemoteAllowedTest : public LivyRemoteTest {
 protected:
  void Configure(server::ServerConfig& config) override {
    LivyRemoteTest::Configure(config);
    config.livy_allow_basic_over_http = true;
  }
};

TEST_F(LivyRemoteAllowedTest, BasicFromAnotherMachineIsAcceptedWhenAllowed) {
  std::string own = OwnAddress();
  if (own.empty()) GTEST_SKIP() << "this machine has no non-loopback IPv4 address";
  auto basic = server::Fetch("GET", "http://" + own + ":" + std::to_string(service_->port()) + "/sessions",
                             {{"Authorization", "Basic " + Base64(std::string("ana:") + kAnaPassword)}}, "");
  EXPECT_EQ(basic.status, 200) << basic.body;
}

// Timeouts over a test clock: an idle session ends after livy.session_idle_timeout, one
// that asked for a heartbeat ends when no request named it for that long, a busy one is
// never ended, and an ended one stays listed (dead, refusing statements) until
// keep_ended_sessions passes. CSRF mode wants X-Requested-By on POST and DELETE.
class LivyLifecycleTest : public LivyTest {
 protected:
  void Configure(server::ServerConfig& config) override {
    config.livy_clock = [this] { return now_ms_.load(); };
    config.livy_reap_interval_ms = 10;
    config.livy_session_idle_timeout_s = 60;
    config.livy_keep_ended_sessions_s = 600;
    config.livy_csrf = true;
  }
  // Moves the clock and lets the reaper look.
  void Advance(int64_t seconds) {
    now_ms_ += seconds * 1000;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // From the list, which (as in Livy) is no heartbeat.
  std::string State(int64_t id) {
    auto list = Json(Call("GET", "/sessions", ana_));
    for (auto& s : list["sessions"]) {
      if (s["id"] == id) return s["state"];
    }
    return "gone";
  }
  // The state once it is `want` (polled for up to 5 s: the reaper runs on its own).
  std::string WaitState(int64_t id, const std::string& want) {
    std::string now;
    for (int i = 0; i < 500 && (now = State(id)) != want; i++)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return now;
  }
  server::ClientResponse Post(const std::string& path, const std::string& body) {
    return Call("POST", path, ana_, body, {{"X-Requested-By", "test"}});
  }
  int64_t Create(json body) {
    auto r = Post("/sessions", body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return Json(r)["id"];
  }
  std::atomic<int64_t> now_ms_{1000000};
};

TEST_F(LivyLifecycleTest, IdleAndHeartbeatTimeoutsEndSessionsButNeverABusyOne) {
  int64_t idle = Create({{"kind", "sql"}});
  int64_t busy = Create({{"kind", "sql"}});
  int64_t beating = Create({{"kind", "sql"}, {"heartbeatTimeoutInSecond", 20}});
  ASSERT_EQ(Post("/sessions/" + std::to_string(busy) + "/statements", json{{"code", kLong}}.dump()).status,
            201);
  std::string beat = "/sessions/" + std::to_string(beating);
  Advance(15);
  EXPECT_EQ(Json(Call("GET", beat, ana_))["state"], "idle");  // a request naming it: a heartbeat
  Advance(15);
  EXPECT_EQ(Json(Call("GET", beat + "/state", ana_))["state"], "idle");  // 30 s old, 15 s since a request
  Advance(25);
  EXPECT_EQ(WaitState(beating, "dead"), "dead");
  auto log = Json(Call("GET", "/sessions/" + std::to_string(beating) + "/log", ana_));
  EXPECT_THAT(log["log"].back().get<std::string>(), HasSubstr("heartbeatTimeoutInSecond (20 s)"));
  Advance(10);  // 65 s: past the idle timeout
  EXPECT_EQ(WaitState(idle, "dead"), "dead");
  EXPECT_EQ(State(busy), "busy");  // running its long statement: spared
  auto refused = Post("/sessions/" + std::to_string(idle) + "/statements", R"({"code": "SELECT 1"})");
  EXPECT_EQ(refused.status, 400);
  EXPECT_THAT(Json(refused)["msg"].get<std::string>(),
              HasSubstr("is dead (idle for livy.session_idle_timeout"));
  // Ended sessions stay listed for keep_ended_sessions, then go.
  EXPECT_EQ(Json(Call("GET", "/sessions", ana_))["total"], 3);
  Advance(601);
  EXPECT_EQ(WaitState(idle, "gone"), "gone");
  EXPECT_EQ(Call("GET", "/sessions/" + std::to_string(idle), ana_).status, 404);
  EXPECT_EQ(State(busy), "busy");
  ASSERT_EQ(Call("DELETE", "/sessions/" + std::to_string(busy), ana_, "", {{"X-Requested-By", "t"}}).status,
            200);
}

TEST_F(LivyLifecycleTest, CsrfModeWantsXRequestedByOnChanges) {
  auto bare = Call("POST", "/sessions", ana_, R"({"kind": "sql"})");
  EXPECT_EQ(bare.status, 400);
  EXPECT_THAT(Json(bare)["msg"].get<std::string>(), HasSubstr("Missing Required Header for CSRF protection"));
  EXPECT_EQ(Json(Call("GET", "/sessions", ana_))["total"], 0);  // nothing was created; GET needs no header
  int64_t id = Create({{"kind", "sql"}});
  EXPECT_EQ(Call("DELETE", "/sessions/" + std::to_string(id), ana_).status, 400);
  EXPECT_EQ(State(id), "idle");
}

// [livy] settings load from the config file; bad ones are refused naming the setting.
TEST(LivyConfig, SettingsLoadAndBadOnesAreRefusedByName) {
  TempDir dir;
  auto file = dir.path() / "server.toml";
  WriteFile(file,
            "[livy]\nbase_path = \"/livy\"\nworkers = 3\nmax_result_rows = 50\nallow_basic_over_http = true\n"
            "csrf = true\nmax_statements = 7\nsession_idle_timeout = \"30m\"\nkeep_ended_sessions = 60\n");
  auto c = server::LoadConfig(file);
  EXPECT_EQ(c.livy_base_path, "/livy");
  EXPECT_EQ(c.livy_workers, 3);
  EXPECT_EQ(c.livy_max_result_rows, 50);
  EXPECT_TRUE(c.livy_allow_basic_over_http);
  EXPECT_TRUE(c.livy_csrf);
  EXPECT_EQ(c.livy_max_statements, 7);
  EXPECT_EQ(c.livy_session_idle_timeout_s, 1800);
  EXPECT_EQ(c.livy_keep_ended_sessions_s, 60);
  EXPECT_NO_THROW(server::Validate(c));
  for (auto [text, named] : {std::pair<std::string, std::string>{"colour = 1", "livy.colour"},
                             {"csrf = \"yes\"", "csrf"},
                             {"session_idle_timeout = \"soon\"", "livy.session_idle_timeout"},
                             {"workers = -1", "workers"}}) {
    WriteFile(file, "[livy]\n" + text + "\n");
    try {
      server::LoadConfig(file);
      ADD_FAILURE() << text << " was accepted";
    } catch (const Error& e) {
      EXPECT_THAT(std::string(e.what()), HasSubstr(named)) << text;
    }
  }
  for (std::string base : {"livy", "/livy/", "/v1/livy", "/a b", "//x"}) {
    server::ServerConfig bad;
    bad.livy_base_path = base;
    EXPECT_THROW(server::Validate(bad), Error) << base;
  }
  server::ServerConfig zero;
  zero.livy_workers = 0;
  EXPECT_THROW(server::Validate(zero), Error);
}

}  // namespace
}  // namespace tarn::testing
