// Small helpers shared by every component.
#pragma once

#include <string>

namespace tarn {

// The current time in UTC as ISO 8601, e.g. 2026-11-24T07:19:47Z.
std::string NowUtc();

// Test hook for crash-safety tests: if the environment variable TARN_TEST_CRASH_AT
// equals `point`, the process kills itself (SIGKILL) right here. A no-op otherwise.
void CrashPoint(const char* point);

}  // namespace tarn
