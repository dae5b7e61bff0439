// The Livy tests' server: a database d with a table ana may read (d.t: x 1..3, label
// with one NULL) and one she may not (d.secret), results cut at 5 rows, and helpers
// that speak Livy over real HTTP.
#pragma once

#include <openssl/evp.h>

#include <chrono>
#include <string>
#include <thread>

#include "jobs_fixture.h"
#include "server/config.h"

namespace tarn::testing {

inline std::string Base64(const std::string& s) {
  std::string out(4 * ((s.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

class LivyTest : public JobsFixture {
 protected:
  void Configure(server::ServerConfig& config) override { config.livy_max_result_rows = 5; }
  void SetUp() override {
    JobsFixture::SetUp();
    ASSERT_EQ(
        Sql(admin_,
            "CREATE DATABASE d; CREATE TABLE d.t AS SELECT i AS x, CASE WHEN i = 2 THEN NULL ELSE 'v' || i "
            "END AS label FROM range(1, 4) r(i); CREATE TABLE d.secret AS SELECT 1 AS s; "
            "GRANT SELECT ON TABLE d.t TO USER ana")
            .status,
        200);
  }
  // sparkmagic's way: HTTP Basic and Content-Type on every request.
  server::ClientResponse Basic(const std::string& method, const std::string& path,
                               const std::string& body = "") {
    return Call(method, path, "", body,
                {{"Authorization", "Basic " + Base64(std::string("ana:") + kAnaPassword)},
                 {"Content-Type", "application/json"}});
  }
  // Posts code and polls the statement until it is available or cancelled.
  json RunCode(const std::string& token, int64_t session, const std::string& code,
               json extra = json::object()) {
    json body = {{"code", code}};
    for (auto& [k, val] : extra.items()) body[k] = val;
    auto r = Call("POST", "/sessions/" + std::to_string(session) + "/statements", token, body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return WaitStatement(token, session, Json(r)["id"]);
  }
  json WaitStatement(const std::string& token, int64_t session, int64_t id) {
    std::string url = "/sessions/" + std::to_string(session) + "/statements/" + std::to_string(id);
    json st;
    for (int i = 0; i < 1000; i++) {
      st = Json(Call("GET", url, token));
      if (st["state"] == "available" || st["state"] == "cancelled") return st;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "statement never ended: " << st.dump();
    return st;
  }
  int64_t CreateSession(const std::string& token, json body) {
    auto r = Call("POST", "/sessions", token, body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return Json(r)["id"];
  }
};

}  // namespace tarn::testing
