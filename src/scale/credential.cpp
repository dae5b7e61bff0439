#include "scale/credential.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/util.h"
#include "identity/jwt.h"

namespace tarn::scale {

namespace {

constexpr const char* kPrefix = "tt1.";

Error Invalid() {
  return Error(ErrorCode::kUnauthenticated, "invalid task credential");
}

}  // namespace

TaskSigner::TaskSigner(std::string key) : key_(std::move(key)) {
  if (key_.size() < 32) throw Error::Internal("a task signing key needs at least 32 bytes");
}

std::string TaskSigner::Mac(const std::string& payload) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
            reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac, &len)) {
    throw Error::Internal("HMAC-SHA256 failed");
  }
  return std::string(reinterpret_cast<char*>(mac), len);
}

std::string TaskSigner::Sign(const TaskClaims& c) const {
  nlohmann::json claims{{"run", c.run_id},    {"task", c.task_id}, {"attempt", c.attempt}, {"user", c.user},
                        {"issuer", c.issuer}, {"role", c.role},    {"exp", c.expires_ms}};
  std::string payload = kPrefix + identity::Base64UrlEncode(claims.dump());
  return payload + "." + identity::Base64UrlEncode(Mac(payload));
}

TaskClaims TaskSigner::Verify(const std::string& credential, const std::string& run_id,
                              const std::string& task_id, int64_t now_ms) const {
  if (credential.size() > 4096 || credential.rfind(kPrefix, 0) != 0) throw Invalid();
  auto dot = credential.rfind('.');
  if (dot <= std::string(kPrefix).size()) throw Invalid();
  std::string payload = credential.substr(0, dot);
  std::string mac;
  try {
    mac = identity::Base64UrlDecode(std::string_view(credential).substr(dot + 1));
  } catch (const Error&) {
    throw Invalid();
  }
  std::string want = Mac(payload);
  if (mac.size() != want.size() || CRYPTO_memcmp(mac.data(), want.data(), mac.size()) != 0) throw Invalid();
  TaskClaims c;
  try {
    auto j = nlohmann::json::parse(identity::Base64UrlDecode(std::string_view(payload).substr(4)));
    c = {j.at("run").get<std::string>(),  j.at("task").get<std::string>(),   j.at("attempt").get<int64_t>(),
         j.at("user").get<std::string>(), j.at("issuer").get<std::string>(), j.at("role").get<std::string>(),
         j.at("exp").get<int64_t>()};
  } catch (const std::exception&) {
    throw Invalid();
  }
  if (c.run_id != run_id || c.task_id != task_id || now_ms >= c.expires_ms) throw Invalid();
  return c;
}

std::string TaskSigningKey(store::MetaStore& meta) {
  std::string key;
  auto make = [&] {
    auto rows =
        meta.Query("SELECT value FROM server_secrets WHERE name = ?", {std::string("task_signing_key")});
    if (!rows.empty()) {
      key = identity::Base64UrlDecode(rows[0].Str(0));
      return;
    }
    key = RandomBytes(32);
    meta.Execute("INSERT INTO server_secrets (name, value, created_at) VALUES (?, ?, ?)",
                 {std::string("task_signing_key"), identity::Base64UrlEncode(key), NowUtc()});
  };
  try {
    meta.Transaction(make);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kAlreadyExists && e.code() != ErrorCode::kConflict) throw;
    meta.Transaction(make);  // another server made it first: read that one
  }
  return key;
}

}  // namespace tarn::scale
