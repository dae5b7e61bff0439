// CheckNode: whether this machine can run Tarn's work (`tarn node check`, Slurm's
// HealthCheckProgram). Each check says what it measured; the node is healthy when
// every check passes. Checks, in order:
//   temp    the temp folder is a writable directory with at least min_free_bytes and
//           min_free_inodes free (inodes only where the file system counts them);
//   memory  MemAvailable (/proc/meminfo) is at least min_available_bytes;
//   lake    the lake root, if given, is a directory that can be listed;
//   engine  the engine writes a Parquet file into the temp folder, reads it back and
//           gets the expected sum (then removes it).
//
// Thread-safety: CheckNode is thread-safe (the engine test uses its own file name).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tarn::scale {

struct NodeCheckOptions {
  std::filesystem::path temp_dir;             // default: $TMPDIR, else /tmp
  std::optional<std::filesystem::path> lake;  // unset: no lake check
  int64_t min_free_bytes = int64_t{1} << 30;  // 1 GiB
  int64_t min_free_inodes = 10000;
  int64_t min_available_bytes = int64_t{256} << 20;  // 256 MiB
};

struct CheckOutcome {
  std::string name;  // temp, memory, lake, engine
  bool ok = false;
  std::string detail;  // what was found, e.g. "52.1 GiB and 3.2M inodes free in /tmp"
  nlohmann::json figures = nlohmann::json::object();
};

struct NodeHealth {
  std::vector<CheckOutcome> checks;
  bool healthy() const;
  // The failed checks' details joined with "; " ("" when healthy): the drain reason.
  std::string Reason() const;
  nlohmann::json Json() const;
};

NodeHealth CheckNode(const NodeCheckOptions& options);

}  // namespace tarn::scale
