// Internals of the audit trail (not for use outside src/audit): owned file
// descriptors, flock guards, segment names and listing, and reading a segment's
// last line from its end.
//
// Thread-safety: free functions are thread-safe; a UniqueFd or FileLock belongs to
// one thread at a time.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tarn::audit::internal {

// The lock file every writer holds (flock, exclusive) while it writes and syncs.
inline constexpr std::string_view kLockFileName = ".lock";

// The `prev` of the first event: 64 zeros.
inline constexpr std::string_view kGenesisPrev =
    "0000000000000000000000000000000000000000000000000000000000000000";
static_assert(kGenesisPrev.size() == 64);

// An owned file descriptor, closed when the object goes away.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  // Closes the descriptor held (if any) and takes `fd`.
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Holds flock(`op`: LOCK_EX or LOCK_SH) on `fd` for its lifetime. Throws kIo naming
// `path` if the lock cannot be taken.
class FileLock {
 public:
  FileLock(int fd, int op, const std::filesystem::path& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

// strerror(err), thread-safe.
std::string ErrnoText(int err);

// "audit-000000000042.jsonl" for a segment whose first event has seq 42.
std::string SegmentName(int64_t first_seq);

// The first seq a segment file name stands for, or nothing if `name` is not the
// canonical name of a segment (so "audit-42.jsonl" and ".lock" are not segments).
std::optional<int64_t> ParseSegmentName(std::string_view name);

struct SegmentEntry {
  int64_t first_seq = 0;
  std::filesystem::path path;
};

// The segments in `dir`, ordered by first seq. Throws kIo if `dir` cannot be listed.
std::vector<SegmentEntry> ListSegments(const std::filesystem::path& dir);

// fsync()s the directory itself, so a file created in it survives a crash. Throws kIo.
void SyncDirectory(const std::filesystem::path& dir);

// Reads exactly `size` bytes at `offset` of `fd` into `out`. Throws kIo naming `path`.
void ReadAt(int fd, uint64_t offset, size_t size, char* out, const std::filesystem::path& path);

// Offset just past the last '\n' in the first `size` bytes of `fd` (0 if there is
// none), reading backwards from `size`. Throws kIo naming `path`.
uint64_t EndOfLastLine(int fd, uint64_t size, const std::filesystem::path& path);

// The last line in the first `size` bytes of `fd`, without its newline; the byte at
// `size - 1` must be '\n' and `size` > 0. Throws kIo naming `path`.
std::string ReadLastLine(int fd, uint64_t size, const std::filesystem::path& path);

// The current UTC time as ISO 8601 with milliseconds, e.g. 2026-11-24T10:11:12.123Z.
std::string NowUtcMillis();

}  // namespace tarn::audit::internal
