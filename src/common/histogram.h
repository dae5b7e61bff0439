// Histogram: a Prometheus histogram of durations in seconds (cumulative buckets,
// count and sum), rendered in the text exposition format.
//
// Thread-safety: none; callers hold their own lock.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace tarn {

class Histogram {
 public:
  static constexpr std::array<double, 17> kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600, 3600};
  void Observe(double seconds);
  // The _bucket, _sum and _count lines of metric `name`; `labels` is "" or `k="v",...`
  // (already escaped, see PromLabel).
  std::string Render(const std::string& name, const std::string& labels) const;

 private:
  std::array<uint64_t, kBuckets.size()> buckets_{};
  uint64_t count_ = 0;
  double sum_ = 0;
};

// `v` as a Prometheus label value: backslash, quote and newline escaped.
std::string PromLabel(const std::string& v);

}  // namespace tarn
