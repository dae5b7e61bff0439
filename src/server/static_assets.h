// StaticAssets: the studio's built front end (web/, built by scripts/build with Vite
// into <build>/studio), read into memory once when the server starts.
//
// Only what the folder held at load time is ever served: index.html and the files
// directly inside assets/ whose extension is on an allow-list (.js .css .svg .png
// .woff2 .ico); a request names a file of that list or gets 404, so no request path
// reaches the file system. Vite gives the files in assets/ content-hashed names:
// they are served as immutable for a year; index.html is never cached.
//
// Thread-safety: immutable after Load.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace tarn::server {

struct StaticAsset {
  std::string body;
  std::string content_type;
};

class StaticAssets {
 public:
  // Reads `dir` (index.html and assets/*). An empty `dir` means the default places:
  // <folder of the running executable>/studio, then <that folder>/../share/tarn/studio.
  // A folder without index.html yields empty assets (the studio then says how to build
  // it); an unreadable file throws kIo.
  static StaticAssets Load(const std::filesystem::path& dir);

  bool empty() const { return index_.empty(); }
  const std::string& index_html() const { return index_; }
  const std::filesystem::path& folder() const { return folder_; }
  // The file assets/<name>, if it was loaded.
  const StaticAsset* Find(const std::string& name) const;

 private:
  std::filesystem::path folder_;
  std::string index_;
  std::map<std::string, StaticAsset> files_;
};

}  // namespace tarn::server
