// A real Tarn server on a free loopback port for tests, with a data directory,
// the administrator `admin`, a person `ana` in group `analysts`, and a service
// principal `etl-bot`. Requests go over real sockets through server::Fetch.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/admin.h"
#include "server/http_client.h"
#include "server/service.h"
#include "session/instance.h"
#include "test_util.h"

namespace tarn::testing {

inline constexpr const char* kAdminPassword = "admin-secret-1";
inline constexpr const char* kAnaPassword = "ana-secret-12";
inline constexpr const char* kBotSecret = "bot-secret-123";

class ServerTest : public ::testing::Test {
 protected:
  // Override to change the configuration before the server starts.
  virtual void Configure(server::ServerConfig& config) {}

  void SetUp() override {
    options_.data_dir = dir_.path();
    options_.threads = 2;
    session::Instance::Init(options_);
    cli::EnsureAdmin(options_, kAdminPassword);
    auto admin = cli::LocalAdmin(options_);
    admin->AddGroup("analysts");
    admin->AddUser("ana", kAnaPassword, identity::UserKind::kPerson, {"analysts"});
    admin->AddUser("etl-bot", kBotSecret, identity::UserKind::kService, {});
    config_.port = 0;
    config_.workers = 4;
    config_.shutdown_grace_s = 2;
    Configure(config_);
    instance_ = std::make_unique<session::Instance>(options_);
    service_ = std::make_unique<server::Service>(*instance_, config_);
    service_->Start();
    base_ =
        std::string(config_.tls() ? "https" : "http") + "://127.0.0.1:" + std::to_string(service_->port());
    client_.ca_file = ca_file_;
  }
  void TearDown() override {
    if (service_) service_->Shutdown();
  }

  server::ClientResponse Call(const std::string& method, const std::string& path,
                              const std::string& token = "", const std::string& body = "",
                              std::map<std::string, std::string> headers = {}) {
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    if (!body.empty() && !headers.count("Content-Type")) headers["Content-Type"] = "application/json";
    return server::Fetch(method, base_ + path, headers, body, client_);
  }
  nlohmann::json Json(const server::ClientResponse& r) { return nlohmann::json::parse(r.body); }

  // A token from the password grant; fails the test if refused.
  std::string Login(const std::string& user, const std::string& password) {
    auto r =
        Call("POST", "/oauth2/token", "", "grant_type=password&username=" + user + "&password=" + password,
             {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? Json(r)["access_token"].get<std::string>() : "";
  }
  // Runs SQL as `token`; returns the response.
  server::ClientResponse Sql(const std::string& token, const std::string& sql, nlohmann::json extra = {}) {
    nlohmann::json body = {{"sql", sql}};
    for (auto& [k, v] : extra.items()) body[k] = v;
    return Call("POST", "/v1/statements", token, body.dump());
  }

  TempDir dir_;
  session::InstanceOptions options_;
  server::ServerConfig config_;
  std::string ca_file_;
  std::unique_ptr<session::Instance> instance_;
  std::unique_ptr<server::Service> service_;
  std::string base_;
  server::ClientOptions client_;
};

}  // namespace tarn::testing
