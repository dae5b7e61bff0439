// Metrics: counters and latency histograms, rendered in the Prometheus text format.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "common/histogram.h"

namespace tarn::server {

class Metrics {
 public:
  // Records one finished request: its method, route pattern, status and duration.
  void ObserveRequest(const std::string& method, const std::string& route, int status, double seconds);

  std::atomic<int64_t> active_queries{0};
  std::atomic<int64_t> open_connections{0};

  // The text for GET /metrics; `queue_depth` is read at render time.
  std::string Render(size_t queue_depth) const;

 private:
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;  // by route
};

}  // namespace tarn::server
