#include "lake/lake.h"
#include "common/util.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "common/error.h"

namespace fs = std::filesystem;

namespace tarn::lake {

namespace {

bool HasGlob(std::string_view s) {
  return s.find_first_of("*?[") != std::string_view::npos;
}

std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string part(path.substr(start, end - start));
    if (!part.empty() && part != ".") parts.push_back(part);
    start = end + 1;
  }
  return parts;
}

// Matches path segments against pattern segments; "**" matches any number of segments.
bool MatchSegments(const std::vector<std::string>& pat, size_t pi, const std::vector<std::string>& seg,
                   size_t si) {
  if (pi == pat.size()) return si == seg.size();
  if (pat[pi] == "**") {
    for (size_t k = si; k <= seg.size(); k++) {
      if (MatchSegments(pat, pi + 1, seg, k)) return true;
    }
    return false;
  }
  if (si == seg.size()) return false;
  if (fnmatch(pat[pi].c_str(), seg[si].c_str(), FNM_PERIOD) != 0) return false;
  return MatchSegments(pat, pi + 1, seg, si + 1);
}

bool Hidden(const std::string& name) {
  return !name.empty() && (name[0] == '.' || name[0] == '_');
}

// The format a file name suggests, if any.
std::optional<Format> FormatOf(const fs::path& p) {
  std::string name = AsciiLower(p.filename().string());
  for (const char* z : {".gz", ".zst"}) {
    if (name.ends_with(z)) name.resize(name.size() - std::string_view(z).size());
  }
  if (name.ends_with(".parquet")) return Format::kParquet;
  if (name.ends_with(".csv") || name.ends_with(".tsv")) return Format::kCsv;
  if (name.ends_with(".json") || name.ends_with(".jsonl") || name.ends_with(".ndjson")) return Format::kJson;
  return std::nullopt;
}

}  // namespace

std::string_view FormatName(Format f) {
  switch (f) {
    case Format::kParquet: return "parquet";
    case Format::kCsv: return "csv";
    case Format::kJson: return "json";
  }
  return "parquet";
}

Format ParseFormat(std::string_view name) {
  std::string n = AsciiLower(std::string(name));
  if (n == "parquet") return Format::kParquet;
  if (n == "csv") return Format::kCsv;
  if (n == "json") return Format::kJson;
  throw Error::InvalidArgument("unknown format '{}': use parquet, csv or json", name);
}

Lake::Lake(const fs::path& root) {
  std::error_code ec;
  root_ = fs::canonical(root, ec);
  if (ec) throw Error::NotFound("lake directory {} does not exist", root.string());
}

bool Lake::InWarehouse(const fs::path& canonical) const {
  auto w = (root_ / "warehouse").native();
  auto p = canonical.native();
  return p.compare(0, w.size(), w) == 0 && (p.size() == w.size() || p[w.size()] == '/');
}

bool Lake::Inside(const fs::path& canonical) const {
  auto r = root_.native();
  auto p = canonical.native();
  return p.size() > r.size() && p.compare(0, r.size(), r) == 0 && p[r.size()] == '/';
}

std::string Lake::CheckLocation(std::string_view location) const {
  if (location.empty())
    throw Error::InvalidArgument("location is empty: give a path relative to the lake root");
  if (location.size() > 1024) throw Error::InvalidArgument("location is longer than 1024 characters");
  for (unsigned char c : location) {
    if (c < 0x20 || c == 0x7f) throw Error::InvalidArgument("location contains a control character");
    if (c == '\\') throw Error::InvalidArgument("location contains a backslash: use '/' between folders");
  }
  if (location.front() == '/' || location.front() == '~') {
    throw Error::InvalidArgument("location '{}' is absolute: give a path relative to the lake root",
                                 location);
  }
  if (location.find("://") != std::string_view::npos) {
    throw Error::InvalidArgument("location '{}' is a URL: give a path relative to the lake root", location);
  }
  auto parts = Split(location);
  std::string out;
  for (auto& part : parts) {
    if (part == "..")
      throw Error::InvalidArgument("location '{}' contains '..': it must stay inside the lake", location);
    out += (out.empty() ? "" : "/") + part;
  }
  if (out.empty()) throw Error::InvalidArgument("location '{}' names the lake root itself", location);
  if (parts[0] == "warehouse") {
    throw Error::InvalidArgument("location '{}' is inside warehouse/, which holds managed tables", location);
  }
  // Symlinks: the deepest existing ancestor without globs must resolve inside the root.
  fs::path probe = root_;
  for (auto& part : parts) {
    if (HasGlob(part)) break;
    fs::path next = probe / part;
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(next, ec))) break;
    probe = next;
  }
  if (probe != root_) {
    std::error_code ec;
    fs::path real = fs::canonical(probe, ec);
    if (ec || !Inside(real)) {
      throw Error::PermissionDenied("location '{}' resolves outside the lake", location);
    }
    if (InWarehouse(real)) {
      throw Error::PermissionDenied("location '{}' resolves into warehouse/, which holds managed tables",
                                    location);
    }
  }
  return out;
}

std::vector<fs::path> Lake::ListFiles(const std::string& location, Format format) const {
  auto parts = Split(location);
  size_t first_glob = parts.size();
  for (size_t i = 0; i < parts.size(); i++) {
    if (HasGlob(parts[i])) {
      first_glob = i;
      break;
    }
  }
  fs::path base = root_;
  for (size_t i = 0; i < first_glob; i++) base /= parts[i];
  std::vector<std::string> pattern(parts.begin() + first_glob, parts.end());

  std::vector<fs::path> found;
  auto accept = [&](const fs::path& p) {
    std::error_code ec;
    fs::path real = fs::canonical(p, ec);
    if (ec || !Inside(real)) {
      throw Error::PermissionDenied("'{}' resolves outside the lake", Relative(p));
    }
    if (InWarehouse(real)) {
      throw Error::PermissionDenied("'{}' resolves into warehouse/, which holds managed tables", Relative(p));
    }
    found.push_back(p);
  };
  std::error_code ec;
  auto st = fs::status(base, ec);
  if (ec || !fs::exists(st)) throw Error::NotFound("nothing at lake location '{}'", location);
  if (pattern.empty() && fs::is_regular_file(st)) {
    accept(base);
  } else if (fs::is_directory(st)) {
    if (pattern.empty()) pattern = {"**", "*"};
    for (auto it = fs::recursive_directory_iterator(base, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (Hidden(name)) {
        if (it->is_directory()) it.disable_recursion_pending();
        continue;
      }
      if (it->is_directory()) continue;
      if (!it->is_regular_file()) continue;  // follows a file symlink; checked by accept()
      auto rel = Split(it->path().lexically_relative(base).string());
      if (!MatchSegments(pattern, 0, rel, 0)) continue;
      // Folders and globs take only files of the format; a file named exactly may
      // have any name.
      if (FormatOf(it->path()) != format) continue;
      accept(it->path());
    }
    if (ec) throw Error::Io("cannot list lake location '{}': {}", location, ec.message());
  }
  if (found.empty()) {
    throw Error::NotFound("no {} files at lake location '{}'", FormatName(format), location);
  }
  std::sort(found.begin(), found.end());
  return found;
}

Format Lake::GuessFormat(const std::string& location) const {
  // ListFiles(location, f) skips files of other known formats, so gather the
  // extensions of what each format's listing holds: exactly one format may appear.
  std::set<Format> seen;
  bool unknown = false;
  for (Format f : {Format::kParquet, Format::kCsv, Format::kJson}) {
    try {
      for (const auto& p : ListFiles(location, f)) {
        auto g = FormatOf(p);
        if (g) {
          seen.insert(*g);
        } else {
          unknown = true;
        }
      }
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kNotFound) throw;
    }
  }
  if (seen.size() == 1 && !unknown) return *seen.begin();
  throw Error::InvalidArgument(
      "cannot tell the format of the files at '{}' from their names: add FORMAT parquet|csv|json", location);
}

std::string Lake::ManagedTableDir(const std::string& database, const std::string& table,
                                  int64_t table_id) const {
  return "warehouse/" + database + "/" + table + "-" + std::to_string(table_id);
}

std::string Lake::Relative(const fs::path& absolute) const {
  return absolute.lexically_relative(root_).string();
}

std::vector<std::string> Lake::CollectGarbage(const std::set<std::string>& live,
                                              fs::file_time_type older_than) const {
  std::vector<std::string> removed;
  fs::path warehouse = root_ / "warehouse";
  std::error_code ec;
  if (!fs::exists(warehouse, ec)) return removed;
  std::vector<fs::path> files, dirs;
  for (auto it = fs::recursive_directory_iterator(warehouse, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_symlink()) continue;
    if (it->is_directory()) {
      dirs.push_back(it->path());
    } else if (it->is_regular_file()) {
      files.push_back(it->path());
    }
  }
  for (auto& f : files) {
    std::string rel = Relative(f);
    if (live.count(rel)) continue;
    std::error_code mec;
    auto mtime = fs::last_write_time(f, mec);
    if (mec || mtime >= older_than) continue;
    if (fs::remove(f, mec)) removed.push_back(rel);
  }
  std::sort(dirs.begin(), dirs.end(), [](auto& a, auto& b) { return a.native().size() > b.native().size(); });
  for (auto& d : dirs) {
    std::error_code rec;
    if (fs::is_empty(d, rec) && !rec) fs::remove(d, rec);
  }
  return removed;
}

void SyncPath(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error::Io("cannot open {} to sync it", path.string());
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw Error::Io("cannot sync {} to disk", path.string());
}

}  // namespace tarn::lake
