// Keyring: the keys that encrypt managed tables' Parquet files at rest (Parquet
// modular encryption through the engine: AES-GCM over the footer and every column,
// one key per file).
//
// The keyring keeps named 256-bit keys and which of them encrypts new files, in
// <data_dir>/table-keys/tables.json (folder 0700, file 0600, replaced atomically); its
// first key is made the first time a file is encrypted. An operator who keeps keys
// elsewhere names a key file (32 random bytes, or their base64 text on one line) or
// a command that prints the key: that key is then the current one, its id derived
// from the key itself, and it is never written to the data directory. Rotate makes
// a new keyring key current; a file keeps the key it was written with, so old keys
// stay for reading. A file whose key is gone cannot be read.
//
// Key material leaves this class only to the engine (Register); key ids are safe
// to store and show.
//
// Thread-safety: every method is thread-safe.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace tarn::lake {

class Keyring {
 public:
  struct Options {
    std::filesystem::path dir;        // the keyring folder (<data_dir>/table-keys)
    std::string key_file;             // the operator's key file ("" for none)
    std::string key_command;          // or a command that prints the key ("" for none)
    bool encrypt_new_tables = false;  // new managed tables are encrypted unless told otherwise
  };
  // Reads the keyring and the operator's key; kInvalidArgument or kIo (naming the
  // file or command, never the key) when a key cannot be had.
  explicit Keyring(Options options);

  bool encrypt_new_tables() const { return options_.encrypt_new_tables; }

  // The id of the key new files are encrypted with (made and saved on first use).
  std::string CurrentId();
  // Makes a new keyring key the current one and returns its id. kInvalidArgument
  // while the operator's key file or command supplies the current key.
  std::string Rotate();

  struct Info {
    std::string id;
    std::string created_at;
    std::string source;  // "keyring", "key file", "key command"
    bool current = false;
  };
  std::vector<Info> List();

  // The name the engine knows key `id` by.
  static std::string EngineKeyName(const std::string& id) { return "tarn_" + id; }
  // Gives the engine of `conn` every key (under EngineKeyName) it does not have yet.
  // kNotFound naming the id if `needed` is not among them.
  void Register(engine::EngineConnection& conn, const std::string& needed = "");

 private:
  struct Key {
    std::string material;  // base64 of 32 bytes
    std::string created_at;
    std::string source;
  };
  // Reads the keyring file's keys (and which is current, if `with_current`).
  void LoadLocked(bool with_current);
  void SaveLocked();
  std::string NewKeyLocked();

  Options options_;
  std::mutex mu_;
  std::map<std::string, Key> keys_;
  std::string current_;
  std::map<const void*, size_t> registered_;  // engine database -> keys it was given
};

}  // namespace tarn::lake
