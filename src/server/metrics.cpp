#include "server/metrics.h"

#include <fmt/format.h>

namespace tarn::server {

void Metrics::ObserveRequest(const std::string& method, const std::string& route, int status,
                             double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  requests_[{method, route, status}]++;
  latency_[route].Observe(seconds);
}

std::string Metrics::Render(size_t queue_depth) const {
  std::string out;
  out += "# HELP tarn_http_requests_total HTTP requests by method, route and status.\n";
  out += "# TYPE tarn_http_requests_total counter\n";
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [key, n] : requests_) {
    auto& [method, route, status] = key;
    out += fmt::format("tarn_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}\n",
                       PromLabel(method), PromLabel(route), status, n);
  }
  out += "# HELP tarn_http_request_duration_seconds Time from a complete request to its response.\n";
  out += "# TYPE tarn_http_request_duration_seconds histogram\n";
  for (auto& [route, h] : latency_) {
    out += h.Render("tarn_http_request_duration_seconds", "route=\"" + PromLabel(route) + "\"");
  }
  out += "# HELP tarn_active_queries Statements running now.\n# TYPE tarn_active_queries gauge\n";
  out += fmt::format("tarn_active_queries {}\n", active_queries.load());
  out += "# HELP tarn_queue_depth Requests waiting for a worker.\n# TYPE tarn_queue_depth gauge\n";
  out += fmt::format("tarn_queue_depth {}\n", queue_depth);
  out += "# HELP tarn_open_connections Open client connections.\n# TYPE tarn_open_connections gauge\n";
  out += fmt::format("tarn_open_connections {}\n", open_connections.load());
  return out;
}

}  // namespace tarn::server
