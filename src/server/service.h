// Service: the Tarn HTTP service — the REST API v1, the built-in OAuth2/OIDC
// identity provider, health and metrics — over one data directory.
//
// Routes (docs/api/openapi.yaml describes each): POST /oauth2/token,
// GET /.well-known/openid-configuration, GET /.well-known/jwks.json, GET /healthz,
// GET /readyz, GET /metrics, POST /v1/statements, GET|DELETE /v1/queries/{id},
// GET /v1/databases[/{db}/tables[/{table}]], GET /v1/whoami, and the
// administrator's /v1/users and /v1/groups. Every route except health, token and
// discovery requires "Authorization: Bearer <token>" from the built-in provider or
// a trusted external issuer; the request then runs as that principal.
//
// Thread-safety: Start/Shutdown/Wait from one controlling thread.
#pragma once

#include <memory>

#include "server/config.h"
#include "server/router.h"
#include "session/instance.h"

namespace tarn::server {

class Service {
 public:
  Service(session::Instance& instance, ServerConfig config);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Binds, loads keys, starts serving. Throws on a bad configuration or bind failure.
  void Start();
  uint16_t port() const;
  // The issuer URL tokens of the built-in provider carry.
  std::string issuer() const;
  // Graceful stop (see HttpServer::Shutdown); running statements are cancelled
  // after the grace period.
  void Shutdown();
  void Wait();

  const Router& router() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tarn::server
