// Small helpers shared by every component.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace tarn {

// The current time in UTC as ISO 8601, e.g. 2026-11-24T07:19:47Z.
std::string NowUtc();
// A time (seconds since the epoch) in the same form.
std::string FormatUtc(int64_t epoch_seconds);

// Seconds since the Unix epoch, now.
int64_t EpochSeconds();
int64_t EpochMillis();

// The whole content of a file; throws kIo naming the file if it cannot be read.
std::string ReadTextFile(const std::filesystem::path& path);

// Replaces `path` with `text` atomically: a temporary file created with `mode`
// (so a secret is never readable by others, even briefly), synced, then renamed.
// Throws kIo.
void WriteFileAtomic(const std::filesystem::path& path, const std::string& text, unsigned mode);

// Moves `from` to `to` (a rename; across file systems a copy, then `from` removed).
// Throws kIo naming `to`.
void MoveFile(const std::filesystem::path& from, const std::filesystem::path& to);

// A folder of this process's own (mode 0700) under the temp directory ($TMPDIR, else
// /tmp: a node's local disk), named `prefix` and random hex; removed with everything
// in it when it goes. Throws kIo naming `what` if it cannot be made.
class TempFolder {
 public:
  TempFolder(const std::string& prefix, const std::string& what);
  ~TempFolder();
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// `n` bytes from the kernel's CSPRNG (keys, nonces). Throws kInternal if it fails.
std::string RandomBytes(size_t n);
// A random identifier: `bytes` random bytes as lower-case hex (for file names, ids).
std::string RandomHex(size_t bytes = 16);

// Percent-decoding ('+' as space when `form`); throws kInvalidArgument on bad escapes.
std::string UrlDecode(std::string_view s, bool form);
// Percent-encoding of everything but RFC 3986's unreserved characters.
std::string UrlEncode(std::string_view s);
// Text for HTML: & < > " ' as character references.
std::string HtmlEscape(std::string_view s);
// `s` with ASCII letters in lower case (names compared case-insensitively).
std::string AsciiLower(std::string s);

// A duration for people: "250 ms", "30 s", "2.5 s".
std::string FormatDuration(std::chrono::milliseconds d);

// Test hook for crash-safety tests: if the environment variable TARN_TEST_CRASH_AT
// equals `point`, the process kills itself (SIGKILL) right here. A no-op otherwise.
void CrashPoint(const char* point);

}  // namespace tarn
