// The fixture of the job tests over real HTTP: a server with admin and ana logged in,
// and helpers to submit runs, read them and wait for their states.
#pragma once

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "server_fixture.h"

namespace tarn::testing {

using json = nlohmann::json;

inline constexpr const char* kLong = "SELECT count(*) FROM range(10000000000000) r(i) WHERE i % 7 = 3";

class JobsFixture : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    admin_ = Login("admin", kAdminPassword);
    ana_ = Login("ana", kAnaPassword);
  }

  server::ClientResponse Submit(const std::string& token, const std::string& script,
                                const std::string& app = "default", json extra = json::object()) {
    json body = {{"job", {{"type", "sql"}, {"script", script}}}};
    for (auto& [k, val] : extra.items()) body[k] = val;
    return Call("POST", "/v1/applications/" + app + "/jobruns", token, body.dump());
  }
  std::string SubmitOk(const std::string& token, const std::string& script,
                       const std::string& app = "default") {
    auto r = Submit(token, script, app);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? Json(r)["job_run_id"].get<std::string>() : "";
  }
  json Run(const std::string& token, const std::string& id, const std::string& app = "default") {
    auto r = Call("GET", "/v1/applications/" + app + "/jobruns/" + id, token);
    EXPECT_EQ(r.status, 200) << r.body;
    return Json(r);
  }
  // Polls until the run is in `state` (or 20 s pass); returns the run.
  json WaitFor(const std::string& token, const std::string& id, const std::string& state,
               const std::string& app = "default") {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    json run;
    while (std::chrono::steady_clock::now() < until) {
      run = Run(token, id, app);
      if (run["state"] == state) return run;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "job run " << id << " never reached " << state << ": " << run.dump();
    return run;
  }
  std::vector<std::string> LogStates(const std::string& token, const std::string& id) {
    auto logs = Json(Call("GET", "/v1/applications/default/jobruns/" + id + "/logs", token));
    std::vector<std::string> states;
    for (auto& l : logs["lines"]) {
      if (l["kind"] == "state")
        states.push_back(
            l["message"].get<std::string>().substr(0, l["message"].get<std::string>().find(':')));
    }
    return states;
  }
  size_t RunningStatements() { return Json(Call("GET", "/v1/queries", admin_))["queries"].size(); }

  std::string admin_, ana_;
};

}  // namespace tarn::testing
