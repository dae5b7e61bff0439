#include "lake/keyring.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "common/util.h"

namespace fs = std::filesystem;

namespace tarn::lake {

namespace {

std::string Base64(const std::string& raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// 32 bytes from their base64 text, or "" if `text` is not that.
std::string Unbase64(const std::string& text) {
  if (text.size() != 44 || text[43] != '=' || text[42] == '=') return "";
  std::string out(33, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n != 33) return "";  // 32 bytes and one byte of padding
  out.resize(32);
  return out;
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// The operator's key as base64 of 32 bytes: the text is that base64, or the 32 raw bytes.
std::string OperatorKey(const std::string& text, const std::string& where) {
  std::string trimmed = Trimmed(text);
  if (!Unbase64(trimmed).empty()) return trimmed;
  if (text.size() == 32) return Base64(text);
  throw Error::InvalidArgument(
      "{} does not hold a 256-bit key: give 32 random bytes or their base64 text (e.g. `head -c 32 "
      "/dev/urandom "
      "| base64`)",
      where);
}

std::string ReadCommand(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) throw Error::Io("the table key command cannot be started");
  std::string out;
  char buf[256];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0 && out.size() < 4096) out.append(buf, n);
  int status = ::pclose(pipe);
  if (status != 0) throw Error::Io("the table key command failed (exit status {})", status);
  return out;
}

// An id for the operator's key that does not reveal it: "ext-" and 12 hex digits of its SHA-256.
std::string OperatorKeyId(const std::string& key) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  std::string raw = Unbase64(key);
  SHA256(reinterpret_cast<const unsigned char*>(raw.data()), raw.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "ext-";
  for (int i = 0; i < 6; i++) {
    id += kHex[digest[i] >> 4];
    id += kHex[digest[i] & 15];
  }
  return id;
}

}  // namespace

Keyring::Keyring(Options options) : options_(std::move(options)) {
  std::lock_guard<std::mutex> lock(mu_);
  LoadLocked(true);
  std::string key, source;
  if (!options_.key_file.empty()) {
    std::ifstream in(options_.key_file, std::ios::binary);
    if (!in) throw Error::Io("the table key file {} cannot be read", options_.key_file);
    std::stringstream text;
    text << in.rdbuf();
    key = OperatorKey(text.str(), "the table key file " + options_.key_file);
    source = "key file";
  } else if (!options_.key_command.empty()) {
    key = OperatorKey(ReadCommand(options_.key_command), "the output of the table key command");
    source = "key command";
  }
  if (!key.empty()) {
    current_ = OperatorKeyId(key);
    keys_[current_] = {key, NowUtc(), source};
  }
}

void Keyring::LoadLocked(bool with_current) {
  fs::path file = options_.dir / "tables.json";
  std::error_code ec;
  if (!fs::exists(file, ec)) return;
  std::ifstream in(file);
  try {
    auto j = nlohmann::json::parse(in);
    if (with_current) current_ = j.value("current", "");
    for (auto& [id, k] : j.at("keys").items()) {
      keys_[id] = {k.at("key").get<std::string>(), k.value("created_at", ""), "keyring"};
    }
  } catch (const nlohmann::json::exception&) {
    throw Error::InvalidArgument("the table keyring {} is damaged: restore it from a backup", file.string());
  }
}

void Keyring::SaveLocked() {
  std::error_code ec;
  fs::create_directories(options_.dir, ec);
  fs::permissions(options_.dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  nlohmann::json keys = nlohmann::json::object();
  std::string current;
  for (auto& [id, k] : keys_) {
    if (k.source != "keyring") continue;
    keys[id] = {{"key", k.material}, {"created_at", k.created_at}};
    if (id == current_) current = id;
  }
  WriteFileAtomic(options_.dir / "tables.json", nlohmann::json{{"current", current}, {"keys", keys}}.dump(2),
                  0600);
}

std::string Keyring::NewKeyLocked() {
  std::string id = "k" + RandomHex(6);
  keys_[id] = {Base64(RandomBytes(32)), NowUtc(), "keyring"};
  current_ = id;
  SaveLocked();
  return id;
}

std::string Keyring::CurrentId() {
  std::lock_guard<std::mutex> lock(mu_);
  if (current_.empty()) NewKeyLocked();
  return current_;
}

std::string Keyring::Rotate() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!options_.key_file.empty() || !options_.key_command.empty()) {
    throw Error::InvalidArgument(
        "the current table key comes from the operator's key {}: rotate it there (new files then use the new "
        "key)",
        options_.key_file.empty() ? "command" : "file");
  }
  return NewKeyLocked();
}

std::vector<Keyring::Info> Keyring::List() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Info> out;
  for (auto& [id, k] : keys_) out.push_back({id, k.created_at, k.source, id == current_});
  return out;
}

void Keyring::Register(engine::EngineConnection& conn, const std::string& needed) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!needed.empty() && !keys_.count(needed)) LoadLocked(false);  // another process may have made it
  if (!needed.empty() && !keys_.count(needed)) {
    throw Error::NotFound(
        "the key {} that encrypts this table's files is not in the keyring or given by the operator", needed);
  }
  auto& db = *conn.raw().context->db;
  if (registered_[&db] == keys_.size()) return;
  // Keys are the database's: given on a connection of Tarn's own, so that this works
  // while `conn` is binding a query (a scan resolves its table then).
  duckdb::Connection own(db);
  for (auto& [id, k] : keys_) {
    auto r = own.Query("PRAGMA add_parquet_key(" + engine::QuoteString(EngineKeyName(id)) + ", " +
                       engine::QuoteString(k.material) + ")");
    if (r->HasError()) throw Error::Internal("the engine did not take the table key {}", id);
  }
  registered_[&db] = keys_.size();
}

}  // namespace tarn::lake
