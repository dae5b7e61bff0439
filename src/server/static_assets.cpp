#include "server/static_assets.h"

#include <array>
#include <system_error>
#include <utility>

#include "common/util.h"

namespace tarn::server {

namespace {

namespace fs = std::filesystem;

// The content type of an allowed extension; nullopt for any other.
std::optional<std::string> ContentType(const fs::path& file) {
  static const std::array<std::pair<const char*, const char*>, 6> kTypes = {{
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".woff2", "font/woff2"},
      {".ico", "image/x-icon"},
  }};
  std::string ext = file.extension().string();
  for (const auto& [e, type] : kTypes)
    if (ext == e) return std::string(type);
  return std::nullopt;
}

fs::path DefaultFolder() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  for (fs::path candidate :
       {exe.parent_path() / "studio", exe.parent_path() / ".." / "share" / "tarn" / "studio"})
    if (fs::is_regular_file(candidate / "index.html", ec)) return candidate;
  return {};
}

}  // namespace

StaticAssets StaticAssets::Load(const fs::path& dir) {
  StaticAssets out;
  out.folder_ = dir.empty() ? DefaultFolder() : dir;
  std::error_code ec;
  if (out.folder_.empty() || !fs::is_regular_file(out.folder_ / "index.html", ec)) return out;
  out.index_ = ReadTextFile(out.folder_ / "index.html");
  fs::path assets = out.folder_ / "assets";
  if (!fs::is_directory(assets, ec)) return out;
  for (const auto& entry : fs::directory_iterator(assets)) {
    if (!entry.is_regular_file()) continue;
    auto type = ContentType(entry.path());
    if (!type) continue;
    out.files_[entry.path().filename().string()] = {ReadTextFile(entry.path()), *type};
  }
  return out;
}

const StaticAsset* StaticAssets::Find(const std::string& name) const {
  auto it = files_.find(name);
  return it == files_.end() ? nullptr : &it->second;
}

}  // namespace tarn::server
