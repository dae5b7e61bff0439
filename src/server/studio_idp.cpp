#include "server/studio_idp.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/util.h"
#include "server/http_client.h"

namespace tarn::server {

namespace {

// How the server talks to the provider: its CA bundle, short deadlines, small answers.
ClientOptions IdpClient(const StudioIdpConfig& config) {
  ClientOptions options;
  options.ca_file = config.ca_file;
  options.timeout = std::chrono::seconds(10);
  options.max_response_bytes = 1 << 20;
  return options;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

ExternalIdp::ExternalIdp(StudioIdpConfig config) : config_(std::move(config)) {
  if (!config_.client_secret_file.empty()) client_secret_ = Trim(ReadTextFile(config_.client_secret_file));
}

void ExternalIdp::Discover() {
  if (discovered_ || (!config_.authorization_endpoint.empty() && !config_.token_endpoint.empty())) return;
  std::string issuer = config_.issuer;
  while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(FetchBody(issuer + "/.well-known/openid-configuration", IdpClient(config_)));
  } catch (const std::exception& e) {
    throw Error::Io("the identity provider {} could not be reached: {}", config_.issuer, e.what());
  }
  auto field = [&](const char* name, std::string& out) {
    if (!out.empty()) return;
    if (!doc.is_object() || !doc.contains(name) || !doc[name].is_string() || !HttpsOrLoopback(doc[name]))
      throw Error::Io("the identity provider's discovery document has no usable {}", name);
    out = doc[name];
  };
  field("authorization_endpoint", config_.authorization_endpoint);
  field("token_endpoint", config_.token_endpoint);
  discovered_ = true;
}

std::string ExternalIdp::AuthorizeUrl(const StudioLogin& login, const std::string& redirect_uri) {
  std::lock_guard<std::mutex> lock(mu_);
  Discover();
  const std::string& base = config_.authorization_endpoint;
  return fmt::format(
      "{}{}response_type=code&client_id={}&redirect_uri={}&scope={}&state={}&code_challenge={}"
      "&code_challenge_method=S256",
      base, base.find('?') == std::string::npos ? '?' : '&', UrlEncode(config_.client_id),
      UrlEncode(redirect_uri), UrlEncode(config_.scopes), login.state, login.challenge);
}

std::string ExternalIdp::Redeem(const std::string& code, const std::string& redirect_uri,
                                const std::string& verifier) {
  std::string endpoint;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Discover();
    endpoint = config_.token_endpoint;
  }
  if (code.empty() || code.size() > 4096) throw Error::Unauthenticated("the sign-in code was refused");
  std::string body = "grant_type=authorization_code&code=" + UrlEncode(code) +
                     "&redirect_uri=" + UrlEncode(redirect_uri) +
                     "&client_id=" + UrlEncode(config_.client_id) + "&code_verifier=" + UrlEncode(verifier);
  if (!client_secret_.empty()) body += "&client_secret=" + UrlEncode(client_secret_);
  ClientResponse r;
  try {
    r = Fetch("POST", endpoint,
              {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}}, body,
              IdpClient(config_));
  } catch (const std::exception& e) {
    throw Error::Io("the identity provider's token endpoint could not be reached: {}", e.what());
  }
  if (r.status == 400 || r.status == 401) throw Error::Unauthenticated("the sign-in code was refused");
  if (r.status != 200) throw Error::Io("the identity provider's token endpoint answered {}", r.status);
  auto json = nlohmann::json::parse(r.body, nullptr, false);
  if (!json.is_object() || !json.contains(config_.token) || !json[config_.token].is_string())
    throw Error::Io("the identity provider returned no {}", config_.token);
  return json[config_.token];
}

}  // namespace tarn::server
