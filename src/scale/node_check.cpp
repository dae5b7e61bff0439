#include "scale/node_check.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include <fmt/format.h>

#include <fmt/ranges.h>
#include "common/error.h"
#include "common/util.h"
#include "engine/engine.h"

namespace tarn::scale {

namespace {

namespace fs = std::filesystem;

std::string Bytes(int64_t n) {
  double v = static_cast<double>(n);
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, u++;
  return fmt::format("{:.1f} {}", v, units[u]);
}

CheckOutcome Failed(std::string name, std::string detail) {
  return {std::move(name), false, std::move(detail), nlohmann::json::object()};
}

CheckOutcome CheckTemp(const NodeCheckOptions& o) {
  std::error_code ec;
  if (!fs::is_directory(o.temp_dir, ec))
    return Failed("temp", fmt::format("{} is not a directory", o.temp_dir.string()));
  auto probe = o.temp_dir / fmt::format(".tarn-node-check-{}-{}", getpid(), RandomHex(4));
  {
    std::ofstream f(probe);
    f << "probe";
    if (!f.good()) return Failed("temp", fmt::format("cannot write a file in {}", o.temp_dir.string()));
  }
  fs::remove(probe, ec);
  struct statvfs st {};
  if (statvfs(o.temp_dir.c_str(), &st) != 0)
    return Failed("temp", fmt::format("cannot read the free space of {}", o.temp_dir.string()));
  auto free_bytes = static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
  auto free_inodes = static_cast<int64_t>(st.f_favail);
  bool counts_inodes = st.f_files > 0;
  CheckOutcome out{"temp", true, "", {{"path", o.temp_dir.string()}, {"free_bytes", free_bytes}}};
  if (counts_inodes) out.figures["free_inodes"] = free_inodes;
  std::vector<std::string> short_of;
  if (free_bytes < o.min_free_bytes)
    short_of.push_back(fmt::format("{} free (needs {})", Bytes(free_bytes), Bytes(o.min_free_bytes)));
  if (counts_inodes && free_inodes < o.min_free_inodes)
    short_of.push_back(fmt::format("{} inodes free (needs {})", free_inodes, o.min_free_inodes));
  out.ok = short_of.empty();
  out.detail =
      out.ok ? fmt::format("{} and {} inodes free in {}", Bytes(free_bytes),
                           counts_inodes ? std::to_string(free_inodes) : "uncounted", o.temp_dir.string())
             : fmt::format("temp folder {}: {}", o.temp_dir.string(), fmt::join(short_of, ", "));
  return out;
}

CheckOutcome CheckMemory(const NodeCheckOptions& o) {
  std::ifstream f("/proc/meminfo");
  std::string key;
  int64_t kib = -1;
  std::string unit;
  while (f >> key) {
    int64_t value = 0;
    f >> value >> unit;
    if (key == "MemAvailable:") {
      kib = value;
      break;
    }
  }
  if (kib < 0) return Failed("memory", "cannot read MemAvailable from /proc/meminfo");
  int64_t available = kib * 1024;
  CheckOutcome out{"memory", available >= o.min_available_bytes, "", {{"available_bytes", available}}};
  out.detail =
      out.ok ? fmt::format("{} available", Bytes(available))
             : fmt::format("memory: {} available (needs {})", Bytes(available), Bytes(o.min_available_bytes));
  return out;
}

CheckOutcome CheckLake(const fs::path& lake) {
  std::error_code ec;
  if (!fs::is_directory(lake, ec))
    return Failed("lake", fmt::format("lake {} is not a reachable directory", lake.string()));
  fs::directory_iterator it(lake, ec);
  if (ec) return Failed("lake", fmt::format("lake {} cannot be listed: {}", lake.string(), ec.message()));
  int64_t entries = 0;
  for (; it != fs::directory_iterator() && entries < 1000; it.increment(ec)) {
    if (ec) return Failed("lake", fmt::format("lake {} cannot be listed: {}", lake.string(), ec.message()));
    entries++;
  }
  return {"lake", true, fmt::format("{} readable", lake.string()), {{"path", lake.string()}}};
}

CheckOutcome CheckEngine(const NodeCheckOptions& o) {
  auto file = o.temp_dir / fmt::format(".tarn-node-check-{}-{}.parquet", getpid(), RandomHex(4));
  auto started = std::chrono::steady_clock::now();
  std::error_code ec;
  try {
    engine::Engine engine({"256MB", 1, o.temp_dir, {o.temp_dir}});
    auto conn = engine.Connect();
    conn->Run(fmt::format("COPY (SELECT i, i * 2 AS j FROM range(100000) t(i)) TO {} (FORMAT parquet)",
                          engine::QuoteString(file.string())));
    auto r = conn->Run(fmt::format("SELECT sum(j)::BIGINT, count(*) FROM read_parquet({})",
                                   engine::QuoteString(file.string())));
    fs::remove(file, ec);
    int64_t sum = r->GetValue(0, 0).GetValue<int64_t>();
    int64_t rows = r->GetValue(1, 0).GetValue<int64_t>();
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    bool ok = sum == 9999900000 && rows == 100000;
    return {"engine",
            ok,
            ok ? fmt::format("Parquet round trip of 100000 rows in {:.0f} ms", ms)
               : fmt::format(
                     "engine: Parquet round trip gave sum {} over {} rows (expected 9999900000 over 100000)",
                     sum, rows),
            {{"milliseconds", ms}}};
  } catch (const Error& e) {
    fs::remove(file, ec);
    return Failed("engine", fmt::format("engine self-test failed: {}", e.what()));
  }
}

}  // namespace

bool NodeHealth::healthy() const {
  for (auto& c : checks)
    if (!c.ok) return false;
  return true;
}

std::string NodeHealth::Reason() const {
  std::vector<std::string> parts;
  for (auto& c : checks)
    if (!c.ok) parts.push_back(c.detail);
  return fmt::format("{}", fmt::join(parts, "; "));
}

nlohmann::json NodeHealth::Json() const {
  auto list = nlohmann::json::array();
  for (auto& c : checks) {
    auto j = c.figures;
    j["name"] = c.name;
    j["ok"] = c.ok;
    j["detail"] = c.detail;
    list.push_back(std::move(j));
  }
  nlohmann::json out{{"healthy", healthy()}, {"checks", std::move(list)}};
  if (!healthy()) out["reason"] = Reason();
  return out;
}

NodeHealth CheckNode(const NodeCheckOptions& given) {
  NodeCheckOptions o = given;
  if (o.temp_dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    o.temp_dir = tmp && *tmp ? tmp : "/tmp";
  }
  NodeHealth health;
  health.checks.push_back(CheckTemp(o));
  health.checks.push_back(CheckMemory(o));
  if (o.lake) health.checks.push_back(CheckLake(*o.lake));
  // The engine test needs a usable temp folder; without one it would only repeat that failure.
  if (health.checks.front().ok) health.checks.push_back(CheckEngine(o));
  return health;
}

}  // namespace tarn::scale
