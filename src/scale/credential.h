// Task credentials: what a worker on a Slurm node holds instead of a user's token or
// a database password. The server signs one per task attempt (HMAC-SHA256 under a
// key kept only in the metadata store, which workers cannot read); it names the run,
// the task, the attempt, the principal the task runs as (and its role) and an expiry.
// The server accepts it only for that run's that task, before the expiry: a worker
// can fetch its own task and report its own result, nothing else.
//
// Format: "tt1.<base64url(JSON claims)>.<base64url(HMAC)>".
//
// Errors: Verify throws kUnauthenticated "invalid task credential" for anything that
// does not check out (bad form, signature, other task, expired), the same message for
// all, so a caller learns nothing from which.
//
// Thread-safety: TaskSigner is immutable and thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "store/store.h"

namespace tarn::scale {

struct TaskClaims {
  std::string run_id;
  std::string task_id;  // e.g. "map-3", "task-0"
  int64_t attempt = 0;  // the run's attempt it belongs to
  std::string user;     // the principal the task runs as
  std::string issuer;
  std::string role;  // the role it runs under ("": the principal's own rights)
  int64_t expires_ms = 0;
};

class TaskSigner {
 public:
  // `key`: at least 32 bytes of secret.
  explicit TaskSigner(std::string key);
  std::string Sign(const TaskClaims& claims) const;
  // The claims of `credential` if it is signed by this key, for `run_id`'s `task_id`,
  // and not expired at `now_ms`.
  TaskClaims Verify(const std::string& credential, const std::string& run_id, const std::string& task_id,
                    int64_t now_ms) const;

 private:
  std::string Mac(const std::string& payload) const;
  std::string key_;
};

// The task signing key of this metadata store, made (32 random bytes) on first use.
std::string TaskSigningKey(store::MetaStore& meta);

}  // namespace tarn::scale
