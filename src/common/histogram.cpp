#include "common/histogram.h"

#include <fmt/format.h>

namespace tarn {

void Histogram::Observe(double seconds) {
  for (size_t i = 0; i < kBuckets.size(); i++) {
    if (seconds <= kBuckets[i]) buckets_[i]++;
  }
  count_++;
  sum_ += seconds;
}

std::string Histogram::Render(const std::string& name, const std::string& labels) const {
  std::string sep = labels.empty() ? "" : ",";
  std::string out;
  for (size_t i = 0; i < kBuckets.size(); i++) {
    out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep, kBuckets[i], buckets_[i]);
  }
  out += fmt::format("{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, sep, count_);
  std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += fmt::format("{}_sum{} {}\n{}_count{} {}\n", name, braces, sum_, name, braces, count_);
  return out;
}

std::string PromLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace tarn
