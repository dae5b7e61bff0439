// HttpServer: HTTP/1.1 (keep-alive) over TCP or TLS 1.2+, built on Boost.Beast.
//
// Connections are asynchronous on a few I/O threads; handlers run on a bounded
// WorkerPool, so a slow or idle client holds no worker. Every request must arrive
// whole within read_timeout once it starts, and a kept-alive connection may idle
// idle_timeout between requests; headers beyond max_header_bytes get 431, bodies
// beyond max_body_bytes 413, a full worker queue 429. Each request gets an id
// (X-Request-Id) and one structured access-log line on stderr.
//
// Shutdown(): stop accepting, let in-flight requests finish for shutdown_grace_s,
// then call `cancel` (which should cancel running statements), then stop.
//
// Thread-safety: Start/Shutdown/Wait from one controlling thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string_view>

#include "server/config.h"
#include "server/metrics.h"
#include "server/router.h"

namespace tarn::server {

class HttpServer {
 public:
  // Who sent the request (its bearer token, or the studio's session cookie), for the
  // worker `worker`; throws kUnauthenticated (or kPermissionDenied).
  using Authenticator = std::function<identity::Principal(const Request& request, size_t worker)>;

  HttpServer(const ServerConfig& config, const Router& router, Metrics& metrics, Authenticator authenticate);
  ~HttpServer();

  // Binds, calls `before_serving` with the bound port (nothing is accepted yet),
  // then starts serving. Throws kIo if the address cannot be bound.
  void Start(const std::function<void(uint16_t port)>& before_serving = {});
  // The bound port (useful with port 0).
  uint16_t port() const;
  // Graceful stop; returns when every connection is closed.
  void Shutdown(const std::function<void()>& cancel);
  // Blocks until Shutdown() completed (from another thread or a signal handler thread).
  void Wait();

  size_t queue_depth() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tarn::server
