#include "server/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <set>

#include "common/error.h"
#include "governance/policy.h"
#include "scale/node_scratch.h"
#include "server/http_client.h"

namespace tarn::server {

namespace {

template <typename T>
void Read(const toml::table& t, const std::string& key, T& out, const std::string& where,
          std::set<std::string>& known) {
  known.insert(key);
  auto node = t.get(key);
  if (!node) return;
  if constexpr (std::is_same_v<T, std::string>) {
    auto v = node->value<std::string>();
    if (!v) throw Error::InvalidArgument("{}{}: expected a string", where, key);
    out = *v;
  } else if constexpr (std::is_same_v<T, bool>) {
    auto v = node->value<bool>();
    if (!v) throw Error::InvalidArgument("{}{}: expected true or false", where, key);
    out = *v;
  } else if constexpr (std::is_same_v<T, std::filesystem::path>) {
    auto v = node->value<std::string>();
    if (!v) throw Error::InvalidArgument("{}{}: expected a string", where, key);
    out = *v;
  } else {
    auto v = node->value<int64_t>();
    if (!v || *v < 0) throw Error::InvalidArgument("{}{}: expected a non-negative integer", where, key);
    out = static_cast<T>(*v);
  }
}

// A duration: seconds, or text with a unit ("12h", "30m", "90s").
void ReadDuration(const toml::table& t, const std::string& key, int64_t& out, const std::string& where,
                  std::set<std::string>& known) {
  known.insert(key);
  auto node = t[key];
  if (!node) return;
  std::string text =
      node.is_integer() ? std::to_string(*node.value<int64_t>()) : node.value_or(std::string("x"));
  try {
    out = governance::ParseLimitValue("statement_timeout", text);
  } catch (const Error&) {
    throw Error::InvalidArgument("{}{} must be a positive duration: seconds, or with s, m or h (\"12h\")",
                                 where, key);
  }
}

// A list of names (users, groups).
void ReadNames(const toml::table& t, const std::string& key, std::vector<std::string>& out,
               const std::string& where, std::set<std::string>& known) {
  known.insert(key);
  auto node = t.get(key);
  if (!node) return;
  auto* arr = node->as_array();
  if (!arr) throw Error::InvalidArgument("{}{}: expected a list of names", where, key);
  for (auto& v : *arr) {
    auto s = v.value<std::string>();
    if (!s) throw Error::InvalidArgument("{}{}: expected a list of names", where, key);
    out.push_back(*s);
  }
}

void RejectUnknown(const toml::table& t, const std::set<std::string>& known, const std::string& where) {
  for (auto& [k, v] : t) {
    if (!known.count(std::string(k.str()))) {
      throw Error::InvalidArgument("unknown setting {}{}", where, std::string(k.str()));
    }
  }
}

}  // namespace

std::string ServerConfig::BaseUrl() const {
  return (tls() ? "https://" : "http://") + host + ":" + std::to_string(port);
}

void SetListen(ServerConfig& config, const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw Error::InvalidArgument("--listen '{}': expected HOST:PORT, e.g. 127.0.0.1:8998", listen);
  }
  int port = 0;
  try {
    size_t used = 0;
    port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535)
    throw Error::InvalidArgument("--listen '{}': the port must be 0-65535", listen);
  config.host = listen.substr(0, colon);
  if (config.host.size() > 2 && config.host.front() == '[' && config.host.back() == ']') {
    config.host = config.host.substr(1, config.host.size() - 2);
  }
  config.port = static_cast<uint16_t>(port);
}

ServerConfig LoadConfig(const std::filesystem::path& file) {
  ServerConfig c;
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    throw Error::InvalidArgument("{}:{}: {}", file.string(), e.source().begin.line, e.description());
  }
  std::set<std::string> known;
  std::string listen;
  Read(root, "listen", listen, "", known);
  if (!listen.empty()) SetListen(c, listen);
  for (auto section : {"tls", "limits", "identity", "jobs", "livy", "connections", "studio", "slurm"})
    known.insert(section);
  RejectUnknown(root, known, "");
  if (auto* t = root["tls"].as_table()) {
    std::set<std::string> k;
    Read(*t, "cert", c.tls_cert, "tls.", k);
    Read(*t, "key", c.tls_key, "tls.", k);
    RejectUnknown(*t, k, "tls.");
  }
  if (auto* t = root["limits"].as_table()) {
    std::set<std::string> k;
    Read(*t, "max_body_bytes", c.max_body_bytes, "limits.", k);
    Read(*t, "max_upload_bytes", c.max_upload_bytes, "limits.", k);
    Read(*t, "upload_timeout_s", c.upload_timeout_s, "limits.", k);
    Read(*t, "max_header_bytes", c.max_header_bytes, "limits.", k);
    Read(*t, "read_timeout_s", c.read_timeout_s, "limits.", k);
    Read(*t, "idle_timeout_s", c.idle_timeout_s, "limits.", k);
    Read(*t, "workers", c.workers, "limits.", k);
    Read(*t, "max_queue", c.max_queue, "limits.", k);
    Read(*t, "max_connections", c.max_connections, "limits.", k);
    Read(*t, "statement_timeout_s", c.statement_timeout_s, "limits.", k);
    Read(*t, "max_result_rows", c.max_result_rows, "limits.", k);
    Read(*t, "max_result_bytes", c.max_result_bytes, "limits.", k);
    Read(*t, "shutdown_grace_s", c.shutdown_grace_s, "limits.", k);
    RejectUnknown(*t, k, "limits.");
  }
  if (auto* t = root["identity"].as_table()) {
    std::set<std::string> k = {"trusted_issuers"};
    Read(*t, "issuer", c.issuer, "identity.", k);
    Read(*t, "audience", c.audience, "identity.", k);
    Read(*t, "token_ttl_s", c.token_ttl_s, "identity.", k);
    Read(*t, "algorithm", c.algorithm, "identity.", k);
    Read(*t, "metrics_token", c.metrics_token, "identity.", k);
    RejectUnknown(*t, k, "identity.");
    if (auto* arr = (*t)["trusted_issuers"].as_array()) {
      for (auto& node : *arr) {
        auto* it = node.as_table();
        if (!it)
          throw Error::InvalidArgument(
              "identity.trusted_issuers: expected tables ([[identity.trusted_issuers]])");
        TrustedIssuerConfig ti;
        std::set<std::string> ik;
        std::string w = "identity.trusted_issuers.";
        Read(*it, "issuer", ti.issuer, w, ik);
        Read(*it, "audience", ti.audience, w, ik);
        Read(*it, "jwks_file", ti.jwks_file, w, ik);
        Read(*it, "jwks_url", ti.jwks_url, w, ik);
        Read(*it, "user_claim", ti.user_claim, w, ik);
        Read(*it, "groups_claim", ti.groups_claim, w, ik);
        Read(*it, "refresh_s", ti.refresh_s, w, ik);
        RejectUnknown(*it, ik, w);
        if (!ti.jwks_file.empty() && std::filesystem::path(ti.jwks_file).is_relative()) {
          ti.jwks_file = (file.parent_path() / ti.jwks_file).string();
        }
        c.trusted_issuers.push_back(ti);
      }
    }
  }
  if (auto* t = root["livy"].as_table()) {
    std::set<std::string> k;
    Read(*t, "base_path", c.livy_base_path, "livy.", k);
    Read(*t, "workers", c.livy_workers, "livy.", k);
    Read(*t, "max_result_rows", c.livy_max_result_rows, "livy.", k);
    Read(*t, "allow_basic_over_http", c.livy_allow_basic_over_http, "livy.", k);
    Read(*t, "csrf", c.livy_csrf, "livy.", k);
    Read(*t, "max_statements", c.livy_max_statements, "livy.", k);
    ReadDuration(*t, "session_idle_timeout", c.livy_session_idle_timeout_s, "livy.", k);
    ReadDuration(*t, "keep_ended_sessions", c.livy_keep_ended_sessions_s, "livy.", k);
    RejectUnknown(*t, k, "livy.");
  }
  if (auto* t = root["studio"].as_table()) {
    std::set<std::string> k;
    ReadDuration(*t, "session_idle", c.studio_session_idle_s, "studio.", k);
    ReadDuration(*t, "session_max", c.studio_session_max_s, "studio.", k);
    Read(*t, "assets", c.studio_assets, "studio.", k);
    k.insert("identity_provider");
    RejectUnknown(*t, k, "studio.");
    if (auto* node = t->get("identity_provider")) {
      auto* idp = node->as_table();
      if (!idp) throw Error::InvalidArgument("studio.identity_provider: expected a table");
      std::set<std::string> ik;
      std::string w = "studio.identity_provider.";
      auto& d = c.studio_idp;
      Read(*idp, "issuer", d.issuer, w, ik);
      Read(*idp, "client_id", d.client_id, w, ik);
      Read(*idp, "client_secret_file", d.client_secret_file, w, ik);
      Read(*idp, "authorization_endpoint", d.authorization_endpoint, w, ik);
      Read(*idp, "token_endpoint", d.token_endpoint, w, ik);
      Read(*idp, "scopes", d.scopes, w, ik);
      Read(*idp, "token", d.token, w, ik);
      Read(*idp, "ca_file", d.ca_file, w, ik);
      RejectUnknown(*idp, ik, w);
    }
  }
  if (auto* t = root["jobs"].as_table()) {
    std::set<std::string> k;
    Read(*t, "workers", c.job_workers, "jobs.", k);
    ReadDuration(*t, "external_identity_ttl", c.job_external_identity_ttl_s, "jobs.", k);
    RejectUnknown(*t, k, "jobs.");
  }
  if (auto* t = root["slurm"].as_table()) {
    std::set<std::string> k;
    Read(*t, "worker_url", c.slurm_worker_url, "slurm.", k);
    std::string program;
    Read(*t, "worker_program", program, "slurm.", k);
    c.slurm_worker_program = program;
    Read(*t, "worker_ca_file", c.slurm_worker_ca_file, "slurm.", k);
    std::string rest_socket;
    Read(*t, "rest_socket", rest_socket, "slurm.", k);
    c.slurm_rest_socket = rest_socket;
    Read(*t, "node_scratch", c.slurm_node_scratch, "slurm.", k);
    if (!c.slurm_node_scratch.empty()) {
      try {
        scale::NodeScratchRoot(c.slurm_node_scratch, "node");
      } catch (const Error&) {
        throw Error::InvalidArgument("slurm.node_scratch must be an absolute path (%n: the node's name)");
      }
    }
    if (!rest_socket.empty() && !c.slurm_rest_socket.is_absolute())
      throw Error::InvalidArgument("slurm.rest_socket must be the absolute path of slurmrestd's UNIX socket");
    int64_t node_poll_s = c.slurm_node_poll_ms / 1000;
    ReadDuration(*t, "node_poll", node_poll_s, "slurm.", k);
    if (node_poll_s < 1 || node_poll_s > 3600)
      throw Error::InvalidArgument("slurm.node_poll must be 1s to 1h");
    c.slurm_node_poll_ms = static_cast<int>(node_poll_s * 1000);
    int64_t idle_s = c.slurm_scale_idle_ms / 1000;
    ReadDuration(*t, "scale_idle", idle_s, "slurm.", k);
    if (idle_s < 1 || idle_s > 7 * 86400) throw Error::InvalidArgument("slurm.scale_idle must be 1s to 7d");
    c.slurm_scale_idle_ms = idle_s * 1000;
    RejectUnknown(*t, k, "slurm.");
    if (!c.slurm_worker_url.empty() && c.slurm_worker_url.rfind("https://", 0) != 0 &&
        c.slurm_worker_url.rfind("http://", 0) != 0)
      throw Error::InvalidArgument("slurm.worker_url must be an http:// or https:// URL");
    if (!program.empty() && !c.slurm_worker_program.is_absolute())
      throw Error::InvalidArgument("slurm.worker_program must be an absolute path");
  }
  if (auto* t = root["connections"].as_table()) {
    for (auto& [name, node] : *t) {
      auto* ct = node.as_table();
      std::string w = "connections." + std::string(name.str()) + ".";
      if (!ct)
        throw Error::InvalidArgument("connections.{}: expected a table ([connections.NAME])", name.str());
      quality::ExternalConnection conn;
      conn.name = name.str();
      bool ok = !conn.name.empty() && conn.name.size() <= 64 &&
                !std::isdigit(static_cast<unsigned char>(conn.name[0]));
      for (unsigned char ch : conn.name) ok = ok && (std::isalnum(ch) || ch == '_');
      if (!ok)
        throw Error::InvalidArgument("connections.{}: a connection's name is letters, digits and '_'",
                                     conn.name);
      std::set<std::string> k;
      Read(*ct, "url", conn.url, w, k);
      Read(*ct, "password_file", conn.password_file, w, k);
      ReadNames(*ct, "users", conn.users, w, k);
      ReadNames(*ct, "groups", conn.groups, w, k);
      RejectUnknown(*ct, k, w);
      if (conn.url.empty()) throw Error::InvalidArgument("{}url is required", w);
      if (!conn.password_file.empty() && std::filesystem::path(conn.password_file).is_relative())
        conn.password_file = (file.parent_path() / conn.password_file).string();
      c.connections.push_back(conn);
    }
  }
  auto rel = [&](std::filesystem::path& p) {
    if (!p.empty() && p.is_relative()) p = file.parent_path() / p;
  };
  rel(c.tls_cert);
  rel(c.tls_key);
  rel(c.studio_assets);
  rel(c.studio_idp.client_secret_file);
  if (!c.studio_idp.ca_file.empty() && std::filesystem::path(c.studio_idp.ca_file).is_relative())
    c.studio_idp.ca_file = (file.parent_path() / c.studio_idp.ca_file).string();
  return c;
}

namespace {

void ValidateStudioIdp(const ServerConfig& c) {
  const auto& d = c.studio_idp;
  if (!d.enabled()) return;
  bool trusted = std::any_of(c.trusted_issuers.begin(), c.trusted_issuers.end(),
                             [&](const TrustedIssuerConfig& t) { return t.issuer == d.issuer; });
  if (!trusted)
    throw Error::InvalidArgument(
        "studio.identity_provider.issuer {} must be one of identity.trusted_issuers (its tokens are verified "
        "with that entry's keys and claims)",
        d.issuer);
  if (d.client_id.empty()) throw Error::InvalidArgument("studio.identity_provider.client_id is required");
  if (d.token != "id_token" && d.token != "access_token")
    throw Error::InvalidArgument("studio.identity_provider.token must be id_token or access_token");
  for (const auto* url : {&d.issuer, &d.authorization_endpoint, &d.token_endpoint})
    if (!url->empty() && !HttpsOrLoopback(*url))
      throw Error::InvalidArgument(
          "studio.identity_provider: {} must use https:// (plain http only on loopback)", *url);
  if (!d.client_secret_file.empty() && !std::filesystem::is_regular_file(d.client_secret_file))
    throw Error::NotFound("studio.identity_provider.client_secret_file {} does not exist",
                          d.client_secret_file.string());
}

}  // namespace

void Validate(const ServerConfig& c) {
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    throw Error::InvalidArgument("TLS needs both a certificate and a key (tls.cert and tls.key)");
  }
  for (auto* p : {&c.tls_cert, &c.tls_key}) {
    if (!p->empty() && !std::filesystem::exists(*p))
      throw Error::NotFound("TLS file {} does not exist", p->string());
  }
  if (c.workers < 1 || c.workers > 1024) throw Error::InvalidArgument("limits.workers must be 1-1024");
  if (c.job_workers < 1 || c.job_workers > 256) throw Error::InvalidArgument("jobs.workers must be 1-256");
  if (c.livy_workers < 1 || c.livy_workers > 256) throw Error::InvalidArgument("livy.workers must be 1-256");
  if (c.livy_max_result_rows < 1) throw Error::InvalidArgument("livy.max_result_rows must be at least 1");
  if (c.livy_max_statements < 1) throw Error::InvalidArgument("livy.max_statements must be at least 1");
  const std::string& base = c.livy_base_path;
  bool base_ok = !base.empty() && base[0] == '/' && (base.size() == 1 || base.back() != '/') &&
                 base.find("//") == std::string::npos && base.find_first_of("{}?#% ") == std::string::npos &&
                 base.rfind("/v1", 0) != 0;
  if (!base_ok) {
    throw Error::InvalidArgument(
        "livy.base_path '{}' must be a path such as / or /livy (starting with /, no trailing /, not under "
        "/v1)",
        base);
  }
  if (c.max_queue < 1) throw Error::InvalidArgument("limits.max_queue must be at least 1");
  if (c.read_timeout_s < 1 || c.idle_timeout_s < 1)
    throw Error::InvalidArgument("timeouts must be at least 1 s");
  if (c.token_ttl_s < 60) throw Error::InvalidArgument("identity.token_ttl_s must be at least 60");
  if (c.algorithm != "RS256" && c.algorithm != "ES256") {
    throw Error::InvalidArgument("identity.algorithm must be RS256 or ES256");
  }
  if (!c.metrics_token.empty() && c.metrics_token.size() < 16) {
    throw Error::InvalidArgument("identity.metrics_token must be at least 16 characters (a random string)");
  }
  ValidateStudioIdp(c);
  for (auto& t : c.trusted_issuers) {
    if (t.issuer.empty() || t.audience.empty()) {
      throw Error::InvalidArgument("every trusted issuer needs issuer and audience");
    }
    if (t.jwks_file.empty() == t.jwks_url.empty()) {
      throw Error::InvalidArgument("trusted issuer {} needs exactly one of jwks_file and jwks_url", t.issuer);
    }
    if (!t.jwks_url.empty() && !HttpsOrLoopback(t.jwks_url)) {
      throw Error::InvalidArgument("jwks_url of {} must use https:// (plain http only on loopback)",
                                   t.issuer);
    }
  }
}

}  // namespace tarn::server
