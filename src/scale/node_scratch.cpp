#include "scale/node_scratch.h"

#include <openssl/crypto.h>
#include <signal.h>

#include <cerrno>

#include "audit/audit_log.h"
#include "common/error.h"
#include "common/util.h"

namespace tarn::scale {

namespace fs = std::filesystem;

namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
         c == '_' || c == '=';
}

}  // namespace

fs::path NodeScratchRoot(const std::string& pattern, const std::string& node) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); i++) {
    if (pattern[i] == '%' && i + 1 < pattern.size() && pattern[i + 1] == 'n') {
      if (!IsScratchName(node)) throw Error::InvalidArgument("the node name '{}' is not a plain name", node);
      out += node;
      i++;
    } else {
      out += pattern[i];
    }
  }
  fs::path root(out);
  if (!root.is_absolute()) throw Error::InvalidArgument("the node scratch '{}' is not an absolute path", out);
  return root.lexically_normal();
}

bool IsScratchName(const std::string& name) {
  if (name.empty() || name.size() > 200 || name == "." || name == "..") return false;
  for (char c : name)
    if (!IsNameChar(c)) return false;
  return true;
}

bool IsScratchFile(const std::string& relative) {
  if (relative.empty() || relative.size() > 1000) return false;
  size_t start = 0;
  for (;;) {
    auto slash = relative.find('/', start);
    auto name = relative.substr(start, slash - start);
    if (!IsScratchName(name) || name[0] == '.') return false;
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

std::optional<NodeService> ReadNodeService(const fs::path& root) {
  std::error_code ec;
  if (!fs::is_regular_file(root / "service.json", ec)) return std::nullopt;
  try {
    auto j = nlohmann::json::parse(ReadTextFile(root / "service.json"));
    NodeService s{j.at("url").get<std::string>(), j.at("sha256").get<std::string>(),
                  j.value("pid", int64_t{0})};
    if (!s.url.starts_with("https://") || s.sha256.size() != 64) return std::nullopt;
    if (s.pid > 0 && kill(static_cast<pid_t>(s.pid), 0) != 0 && errno == ESRCH) return std::nullopt;
    return s;
  } catch (const std::exception&) {  // half written or foreign: as if there were none
    return std::nullopt;
  }
}

void WriteNodeService(const fs::path& root, const NodeService& service) {
  WriteFileAtomic(
      root / "service.json",
      nlohmann::json{{"url", service.url}, {"sha256", service.sha256}, {"pid", service.pid}}.dump(), 0644);
}

std::string SealFolder(const fs::path& dir) {
  std::string capability = RandomHex(32);
  WriteFileAtomic(dir / ".capability", audit::Sha256Hex(capability), 0600);
  return capability;
}

bool Opens(const fs::path& dir, const std::string& capability) {
  std::string want;
  try {
    want = ReadTextFile(dir / ".capability");
  } catch (const Error&) {
    return false;
  }
  std::string got = audit::Sha256Hex(capability);
  return capability.size() == 64 && want.size() == got.size() &&
         CRYPTO_memcmp(want.data(), got.data(), got.size()) == 0;
}

nlohmann::json DescribeNodeFiles(const NodeService& service, const fs::path& dir,
                                 const std::string& capability) {
  auto files = nlohmann::json::array();
  std::error_code ec;
  for (auto& entry : fs::recursive_directory_iterator(dir, ec)) {
    if (!entry.is_regular_file() || entry.path().filename() == ".capability") continue;
    files.push_back({{"name", entry.path().lexically_relative(dir).string()},
                     {"bytes", static_cast<int64_t>(entry.file_size())}});
  }
  if (ec) throw Error::Io("cannot list the task's files in {}: {}", dir.string(), ec.message());
  return {{"url", service.url},
          {"sha256", service.sha256},
          {"dir", dir.filename().string()},
          {"capability", capability},
          {"files", files}};
}

}  // namespace tarn::scale
