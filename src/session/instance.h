// Instance: one Tarn data directory, opened.
//
// A data directory holds the lake (lake/), the engine's spill space (tmp/) and, by
// default, the SQLite metadata store (metadata.sqlite). A PostgreSQL metadata
// store is chosen with InstanceOptions::metastore instead; Init() records that
// choice in config.json (mode 0600) so that later opens find it. Init() creates the
// layout; opening a directory that was never initialised fails with kNotFound and
// says how to create it.
//
// Thread-safety: an Instance is thread-safe; each Session it makes is used by one
// thread.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "lake/keyring.h"
#include "lake/lake.h"
#include "session/session.h"

namespace tarn::session {

struct InstanceOptions {
  std::filesystem::path data_dir;
  // Metadata store: a postgresql:// URL, or empty for <data_dir>/metadata.sqlite.
  std::string metastore;
  // Engine limits (see engine::EngineOptions).
  std::string memory_limit;
  int threads = 0;
  // Encryption at rest (lake/keyring.h): the operator's table key, from a file or
  // printed by a command (default: the keyring in <data_dir>/keys), and whether new
  // managed tables are encrypted. The environment may set them: TARN_TABLE_KEY_FILE,
  // TARN_TABLE_KEY_COMMAND, TARN_ENCRYPT_TABLES=true.
  std::string table_key_file = {};
  std::string table_key_command = {};
  bool encrypt_tables = false;
};

class Instance {
 public:
  // Creates the data directory layout and the metadata store, private to the owner
  // (folders 0700, files 0600); a no-op for what exists, which it never changes.
  // Returns what it found already there that group or others may access.
  static std::vector<std::string> Init(const InstanceOptions& options);
  // Entries in `data_dir` (itself included) with any group or other permission bit.
  static std::vector<std::string> OpenToOthers(const std::filesystem::path& data_dir);

  explicit Instance(InstanceOptions options);
  ~Instance();

  // A new session with its own metadata and engine connections. It runs as the
  // local operator (LocalCaller) until SetCaller says otherwise.
  std::unique_ptr<Session> NewSession();
  // A new session on the engine of memory pool `pool` (a name), which may use at
  // most `memory_bytes`: every session of the pool with that size shares it, so the
  // limit bounds their statements together and no one else's count. Such engines
  // live as long as the Instance; beyond kMaxLimitedEngines of them, throws
  // kResourceExhausted.
  std::unique_ptr<Session> NewLimitedSession(const std::string& pool, int64_t memory_bytes);
  static constexpr size_t kMaxLimitedEngines = 64;
  // Whoever can open the data directory holds everything in it: the local CLI
  // runs as the bootstrap administrator `admin`, audited with issuer "local".
  static Caller LocalCaller();

  // The audit trail (data_dir/audit).
  audit::AuditLog& audit() { return *audit_; }
  std::filesystem::path audit_dir() const { return options_.data_dir / "audit"; }
  // The keys of encrypted tables.
  lake::Keyring& keyring() { return *keyring_; }
  // A new connection to the metadata store (migrated).
  std::unique_ptr<store::MetaStore> OpenMetastore() const;

  // Removes data files no snapshot names that are older than `grace`; returns them.
  std::vector<std::string> CollectGarbage(std::chrono::seconds grace);

  engine::Engine& engine() { return *engine_; }
  const lake::Lake& lake() const { return *lake_; }
  const InstanceOptions& options() const { return options_; }
  std::filesystem::path temp_dir() const { return options_.data_dir / "tmp"; }

 private:
  // A session on `engine`, running as the local operator.
  std::unique_ptr<Session> SessionOn(engine::Engine& engine);

  InstanceOptions options_;
  std::unique_ptr<lake::Lake> lake_;
  std::unique_ptr<lake::Keyring> keyring_;
  std::unique_ptr<engine::Engine> engine_;
  engine::EngineOptions engine_options_;
  std::mutex limited_mu_;
  std::map<std::string, std::unique_ptr<engine::Engine>> limited_;  // pool + size -> engine
  std::unique_ptr<audit::AuditLog> audit_;
};

}  // namespace tarn::session
