#include "identity/keys.h"

#include <sys/stat.h>

#include <limits>

#include "common/error.h"
#include "common/util.h"

namespace fs = std::filesystem;

namespace tarn::identity {

namespace {}  // namespace

KeyManager::KeyManager(fs::path dir, JwtAlgorithm alg) : dir_(std::move(dir)) {
  std::error_code ec;
  fs::create_directories(dir_ / "retired", ec);
  if (ec) throw Error::Io("cannot create {}: {}", dir_.string(), ec.message());
  ::chmod(dir_.c_str(), 0700);
  if (!fs::exists(dir_ / "current.json")) {
    auto key = SigningKey::Generate(alg, RandomHex(8));
    WriteFileAtomic(dir_ / "current.json",
                    nlohmann::json{{"kid", key.kid()}, {"pem", key.PrivatePem()}}.dump(), 0600);
  }
  Reload();
}

void KeyManager::Reload() {
  std::lock_guard<std::mutex> lock(mu_);
  LoadLocked();
}

// Modification times and names of the key files: changes when a key is rotated.
static std::string FolderStamp(const fs::path& dir) {
  std::string stamp;
  std::error_code ec;
  auto add = [&](const fs::path& p) {
    auto t = fs::last_write_time(p, ec);
    if (!ec) stamp += p.filename().string() + ":" + std::to_string(t.time_since_epoch().count()) + ";";
  };
  add(dir / "current.json");
  for (auto& e : fs::directory_iterator(dir / "retired", ec)) add(e.path());
  return stamp;
}

void KeyManager::RefreshLocked() const {
  auto now = std::chrono::steady_clock::now();
  if (now - last_check_ < std::chrono::seconds(1)) return;
  last_check_ = now;
  if (FolderStamp(dir_) != stamp_ || EpochSeconds() >= next_expiry_) LoadLocked();
}

void KeyManager::LoadLocked() const {
  stamp_ = FolderStamp(dir_);
  auto path = dir_ / "current.json";
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    throw Error::PermissionDenied("{} is readable by others: run chmod 600 on it", path.string());
  }
  try {
    auto doc = nlohmann::json::parse(ReadTextFile(path));
    current_ = SigningKey::FromPem(doc.at("pem").get<std::string>(), doc.at("kid").get<std::string>());
  } catch (const nlohmann::json::exception& e) {
    throw Error::Internal("{} is damaged: {}", path.string(), e.what());
  }
  nlohmann::json keys = nlohmann::json::array();
  keys.push_back(current_->PublicJwk());
  int64_t now = EpochSeconds();
  next_expiry_ = std::numeric_limits<int64_t>::max();
  std::error_code ec;
  for (auto& entry : fs::directory_iterator(dir_ / "retired", ec)) {
    if (entry.path().extension() != ".json") continue;
    try {
      auto doc = nlohmann::json::parse(ReadTextFile(entry.path()));
      int64_t expires = doc.at("expires_at").get<int64_t>();
      if (expires > now) {
        keys.push_back(doc.at("jwk"));
        next_expiry_ = std::min(next_expiry_, expires);
      }
    } catch (const nlohmann::json::exception&) {
      // A damaged retired key only loses its remaining grace period.
    }
  }
  jwks_ = {{"keys", keys}};
  keys_ = KeySet::FromJwks(jwks_);
}

SigningKey KeyManager::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  RefreshLocked();
  return *current_;
}

void KeyManager::Rotate(std::chrono::seconds keep_for, JwtAlgorithm alg) {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json retired = {{"jwk", current_->PublicJwk()},
                            {"expires_at", EpochSeconds() + keep_for.count()}};
  WriteFileAtomic(dir_ / "retired" / (current_->kid() + ".json"), retired.dump(2), 0600);
  auto key = SigningKey::Generate(alg, RandomHex(8));
  WriteFileAtomic(dir_ / "current.json", nlohmann::json{{"kid", key.kid()}, {"pem", key.PrivatePem()}}.dump(),
                  0600);
  LoadLocked();
}

nlohmann::json KeyManager::Jwks() const {
  std::lock_guard<std::mutex> lock(mu_);
  RefreshLocked();
  return jwks_;
}

KeySet KeyManager::Keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  RefreshLocked();
  return keys_;
}

}  // namespace tarn::identity
