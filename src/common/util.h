// Small helpers shared by every component.
#pragma once

#include <cstddef>
#include <string>

namespace tarn {

// The current time in UTC as ISO 8601, e.g. 2026-11-24T07:19:47Z.
std::string NowUtc();

// A random identifier: `bytes` random bytes as lower-case hex (for file names, ids).
std::string RandomHex(size_t bytes = 16);

// Test hook for crash-safety tests: if the environment variable TARN_TEST_CRASH_AT
// equals `point`, the process kills itself (SIGKILL) right here. A no-op otherwise.
void CrashPoint(const char* point);

}  // namespace tarn
