// Lake: the directory tree that holds table data, and the rules for naming places in it.
//
// Every location a user gives (CREATE EXTERNAL TABLE ... LOCATION) is relative to
// the lake root. CheckLocation() rejects what could escape the root: absolute
// paths, ".." segments, backslashes, control characters. ListFiles() expands a
// location (a file, a folder, or a glob with *, ?, [..] and ** for any depth) to
// the data files it names (in a folder or a glob, only files with the format's
// extension), and refuses any file whose real path (symlinks resolved) lies outside
// the root or inside warehouse/. Files and folders whose names start with '.'
// or '_' are ignored, as Hive and Spark do.
//
// Managed tables keep their files under warehouse/<database>/<table>-<id>/, one
// subfolder per commit. Data files are written completely and synced before a
// commit records them (see data_writer.h); files no snapshot names are orphans that
// CollectGarbage() removes once they are older than a grace period.
//
// Thread-safety: a Lake is immutable after construction and thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tarn::lake {

// File formats Tarn reads and writes.
enum class Format { kParquet, kCsv, kJson };
std::string_view FormatName(Format f);
// Parses "parquet", "csv" or "json" (any case); throws kInvalidArgument otherwise.
Format ParseFormat(std::string_view name);

class Lake {
 public:
  // `root` must exist; it is made canonical.
  explicit Lake(const std::filesystem::path& root);

  const std::filesystem::path& root() const { return root_; }

  // The location normalized ("a/./b/" -> "a/b"), or throws kInvalidArgument saying why
  // it is not acceptable.
  std::string CheckLocation(std::string_view location) const;

  // The data files a checked location names, as absolute paths, sorted. A location
  // without glob characters that names a folder means every file of `format`
  // below it. Throws kNotFound when nothing matches, kPermissionDenied when a match
  // resolves outside the root.
  std::vector<std::filesystem::path> ListFiles(const std::string& location, Format format) const;

  // The format of the files a location names, guessed from their extensions; throws
  // kInvalidArgument when they are mixed or unknown.
  Format GuessFormat(const std::string& location) const;

  // Folder (relative to the root) for a managed table's data.
  std::string ManagedTableDir(const std::string& database, const std::string& table, int64_t table_id) const;

  // Absolute path of a path relative to the root (no checks: for paths Tarn made).
  std::filesystem::path Absolute(const std::string& relative) const { return root_ / relative; }
  // Relative form of an absolute path under the root.
  std::string Relative(const std::filesystem::path& absolute) const;

  // Deletes files under warehouse/ that are not in `live` (relative paths) and were
  // last modified before `older_than`; then removes empty folders. Returns the
  // relative paths removed.
  std::vector<std::string> CollectGarbage(const std::set<std::string>& live,
                                          std::filesystem::file_time_type older_than) const;

 private:
  bool Inside(const std::filesystem::path& canonical) const;
  bool InWarehouse(const std::filesystem::path& canonical) const;
  std::filesystem::path root_;
};

// Flushes a file's or a folder's contents to stable storage; throws kIo on failure.
void SyncPath(const std::filesystem::path& path);

}  // namespace tarn::lake
