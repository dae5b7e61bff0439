// The audit trail: an append-only, hash-chained log of JSON events in a directory.
//
// Events are JSON-lines in segment files `audit-<seq of first event, 12 digits>.jsonl`
// (mode 0600, in a directory of mode 0700). Every event carries "seq" (1, 2, 3, ...
// across all segments) and "prev" (the lower-case hex SHA-256 of the previous event's
// line, 64 zeros for the first), so editing, deleting or reordering any event breaks
// the chain at a place Verify names. Append returns once the event is on disk
// (fdatasync'ed); concurrent appends share one sync (group commit), and several
// processes may append to one directory (they take turns under a flock on
// `<dir>/.lock`). docs/audit.md describes the format and the guarantees.
//
// Thread-safety: AuditLog::Append, Post and Segments may be called from any number of
// threads at once. Verify and Sha256Hex are thread-safe. An AuditLog does not survive
// fork(): a child process opens its own.
#pragma once

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace tarn::audit {

namespace internal {
class ChainWriter;
struct PendingEvent;
}  // namespace internal

// The fate of an event queued with AuditLog::Post: durable, or not written.
//
// Thread-safety: Then may be called from any thread, once.
class Receipt {
 public:
  // Calls `then` exactly once: with nullptr once the event is durable, or with the
  // kIo error it could not be written for. Called at once, on this thread, if that is
  // already known; else on the audit writer thread, which it must not hold up (post
  // real work elsewhere) and must not append from.
  void Then(std::function<void(std::exception_ptr)> then);

 private:
  friend class AuditLog;
  void Resolve(std::exception_ptr error);

  std::mutex mu_;
  bool resolved_ = false;                           // guarded by mu_
  std::exception_ptr error_;                        // guarded by mu_
  std::function<void(std::exception_ptr)> then_;  // guarded by mu_
};

struct AuditOptions {
  // A new segment starts once the current one has grown past this many bytes.
  uint64_t segment_bytes = 64 << 20;
};

class AuditLog {
 public:
  // Opens the trail in `dir`, creating the directory (mode 0700) if it is missing. A
  // torn last line left by a crash (no trailing newline: never acknowledged) is
  // truncated away; numbering continues after the last complete event. Throws kIo if
  // the directory cannot be created, locked or read, kInternal if its last event is
  // not an audit event (run Verify).
  explicit AuditLog(std::filesystem::path dir, AuditOptions options = {});
  // Writes what is still queued, then stops the writer thread. Never throws.
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends `event`, which must be a JSON object (else kInvalidArgument, nothing
  // written). Sets "seq" and "prev", overwriting any given; sets "time" (UTC,
  // milliseconds, e.g. 2026-11-24T10:11:12.123Z) if absent. Returns once the event is
  // durable; throws kIo naming the file if it could not be written and synced (the
  // event is then not acknowledged and is removed again where possible).
  void Append(nlohmann::json event);

  // Queues `event` like Append but returns at once, with the receipt that tells when
  // it is durable. For a caller that may release what the event records (a statement's
  // result) only once it is durable, without holding a thread meanwhile. Throws
  // kInvalidArgument (nothing queued) for an event that is not a JSON object.
  std::shared_ptr<Receipt> Post(nlohmann::json event);

  // The segment files, oldest first. Throws kIo if the directory cannot be listed.
  std::vector<std::filesystem::path> Segments() const;

  const std::filesystem::path& dir() const { return dir_; }

 private:
  // The writer thread: takes everything queued, writes and syncs it as one batch,
  // wakes the batch's callers, repeats until stopping_ and the queue is empty.
  void Run();

  const std::filesystem::path dir_;
  std::unique_ptr<internal::ChainWriter> writer_;  // used by the writer thread only

  std::mutex mu_;
  std::condition_variable work_cv_;             // queue_ not empty, or stopping_
  std::condition_variable done_cv_;             // a batch was resolved
  // Queues `pending` (kInternal if the log is closing).
  void Enqueue(const std::shared_ptr<internal::PendingEvent>& pending);

  std::vector<std::shared_ptr<internal::PendingEvent>> queue_;  // guarded by mu_
  bool stopping_ = false;                       // guarded by mu_
  std::thread thread_;                          // last: starts once the rest exists
};

struct VerifyResult {
  bool ok = true;
  int64_t events = 0;    // events whose line and link checked out (all of them if ok)
  int64_t segments = 0;  // segment files looked at
  // Empty if ok; else the first broken link, e.g. "audit-000000000001.jsonl line 17
  // (event 17): prev does not match the SHA-256 of event 16".
  std::string problem;
};

// Recomputes the chain over every segment of `dir` in order and reports the first
// broken link: a line that is not a JSON object with an integer "seq" and a string
// "prev", a seq that is not the previous seq + 1 (the first is 1), a prev that is not
// the SHA-256 of the previous line (64 zeros for the first), a segment whose name is
// not its first event's seq, an empty segment other than a fresh last one, a final
// line without newline. Editing the bytes of event k is reported at event k + 1, whose
// prev no longer matches; a line that no longer parses, or carries the wrong seq, is
// reported at that line. A missing `dir` verifies as ok with 0 events. Events appended
// while Verify runs are not looked at. Throws kIo if a segment cannot be read.
VerifyResult Verify(const std::filesystem::path& dir);

// Lower-case hex SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);

}  // namespace tarn::audit
