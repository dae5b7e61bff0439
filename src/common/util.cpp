#include "common/util.h"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <ctime>
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

void CrashPoint(const char* point) {
  const char* at = std::getenv("TARN_TEST_CRASH_AT");
  if (at && std::string_view(at) == point) std::raise(SIGKILL);
}

}  // namespace tarn
