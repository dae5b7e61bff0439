#include "common/util.h"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string_view>

namespace tarn {

std::string NowUtc() {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string RandomHex(size_t bytes) {
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes; i++) {
    unsigned b = rd() & 0xff;
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

void CrashPoint(const char* point) {
  const char* at = std::getenv("TARN_TEST_CRASH_AT");
  if (at && std::string_view(at) == point) std::raise(SIGKILL);
}

}  // namespace tarn
