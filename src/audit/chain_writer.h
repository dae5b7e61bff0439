// Internals of the audit trail (not for use outside src/audit): ChainWriter owns the
// on-disk end of the chain for one AuditLog — the lock file, the current segment, and
// the seq and hash of the last event — and appends batches of events to it.
//
// Thread-safety: none; one thread (AuditLog's writer) uses a ChainWriter. Other
// processes and other ChainWriters on the same directory are excluded by an
// exclusive flock on `<dir>/.lock`, held while a batch is written and synced.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "audit/segment_files.h"

namespace tarn::audit {

class Receipt;

namespace internal {

// One event on its way to disk: made by Append or Post, resolved by the writer thread
// (which sets `written` or `error`, then `done` under AuditLog::mu_, then resolves
// `receipt`, if the event was posted).
struct PendingEvent {
  nlohmann::json event;
  bool written = false;      // durable on disk
  std::exception_ptr error;  // a tarn::Error: why it is not
  bool done = false;         // resolved; guarded by AuditLog::mu_
  std::shared_ptr<Receipt> receipt;
};

class ChainWriter {
 public:
  // Creates `dir` (0700) if missing, opens its lock file and, under the lock, finds
  // the end of the chain (truncating a torn last line). Throws kIo, or kInternal if
  // the last line is not an audit event.
  ChainWriter(std::filesystem::path dir, uint64_t segment_bytes);

  // Appends the events of `batch` in order, each with its seq and prev, in as few
  // write()s as segment boundaries allow, and syncs once per segment touched. Sets
  // `written` on every event that is durable and `error` on every other one.
  void WriteBatch(std::span<PendingEvent* const> batch) noexcept;

 private:
  // Takes the exclusive lock on <dir>/.lock into `lock`, reopening the lock file if
  // it is no longer the one in the directory. Throws kIo.
  void LockDirectory(std::optional<FileLock>& lock);
  // True if another writer has appended since this one last wrote (the current
  // segment changed size or identity, or the next segment exists).
  bool DiskChanged() const;
  // Finds the end of the chain from the files: the last segment, its last complete
  // line (a torn tail is truncated away), that line's seq and hash. Needs the lock.
  void Rescan();
  // Creates the segment whose first event is `first_seq` and makes it current.
  void StartSegment(int64_t first_seq);
  // Writes `bytes` at the end of the current segment and syncs; on failure truncates
  // back to the segment's previous size and throws kIo.
  void WriteAndSync(const std::string& bytes);

  const std::filesystem::path dir_;
  const uint64_t segment_bytes_;
  UniqueFd lock_fd_;     // <dir>/.lock
  UniqueFd segment_fd_;  // the current segment (O_APPEND); none before the first
  std::filesystem::path segment_path_;
  ino_t segment_inode_ = 0;
  uint64_t segment_size_ = 0;  // its size after this writer's last write or rescan
  int64_t last_seq_ = 0;       // seq of the last event on disk (0: none yet)
  std::string last_hash_;      // SHA-256 hex of that event's line (kGenesisPrev: none)
  bool stale_ = false;         // a batch failed: Rescan before the next one
};

}  // namespace internal
}  // namespace tarn::audit
