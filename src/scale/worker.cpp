#include "scale/worker.h"

#include <duckdb/parser/statement/select_statement.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

#include "common/error.h"
#include "common/util.h"
#include "engine/engine.h"
#include "governance/planned_resolver.h"

namespace tarn::scale {

namespace fs = std::filesystem;

namespace {

int64_t Run(const nlohmann::json& task) {
  governance::PlannedReads reads;
  reads.scans = task.at("scans").get<std::map<std::string, std::string>>();
  std::set<fs::path> dirs;
  for (auto& f : task.at("files")) {
    fs::path path = f.at("path").get<std::string>();
    reads.files[path.string()] = f.at("table").get<std::string>();
    dirs.insert(path.parent_path());
  }
  fs::path output = task.at("output").get<std::string>();
  if (!output.is_absolute()) throw Error::InvalidArgument("the task's output is not an absolute path");
  std::error_code ec;
  fs::create_directories(output.parent_path(), ec);
  if (ec)
    throw Error::Io("cannot make the task's folder {}: {}", output.parent_path().string(), ec.message());
  // What does not fit in the task's memory goes to the node's local disk, never the
  // shared filesystem the lake is on.
  TempFolder spill("tarn-spill-", "the task's spill folder");
  engine::EngineOptions options;
  options.memory_limit = std::to_string(task.at("memory").get<int64_t>() >> 20) + "MB";
  options.threads = static_cast<int>(task.at("threads").get<int64_t>());
  options.temp_directory = spill.path();
  options.allowed_directories = {output.parent_path(), spill.path()};
  options.allowed_directories.insert(options.allowed_directories.end(), dirs.begin(), dirs.end());
  engine::Engine engine(options);
  auto conn = engine.Connect();
  conn->SetTableResolver(std::make_shared<governance::PlannedResolver>(std::move(reads)));
  auto statements = engine::Parse(task.at("sql").get<std::string>());
  if (statements.size() != 1 || statements[0]->type != duckdb::StatementType::SELECT_STATEMENT)
    throw Error::InvalidArgument("the task's statement is not one query");
  // A map task (partition_plan.h) writes its rows into one folder per bucket, as zstd:
  // the shuffle is written and read back over the shared filesystem, and zstd halves
  // its bytes (bench/results/scale-*.md) for a little more CPU.
  engine::ParquetOptions parquet;
  if (task.contains("partition_by")) {
    parquet.partition_by = {task.at("partition_by").get<std::string>()};
    parquet.file_prefix = "part";
    parquet.compression = engine::ParquetCompression::kZstd;
  }
  if (task.contains("field_ids"))  // its rows are a table's data files
    parquet.field_ids = task.at("field_ids").get<std::vector<std::pair<std::string, int64_t>>>();
  auto rows = engine::WriteParquetFile(*conn, std::move(statements[0]->Cast<duckdb::SelectStatement>().node),
                                       output, parquet);
  return rows;
}

// Bytes this process has read and written through read/write calls so far (rchar,
// wchar of /proc/self/io: files and the page cache alike); zeros where there is none.
std::pair<int64_t, int64_t> IoBytes() {
  std::ifstream io("/proc/self/io");
  int64_t read = 0, written = 0;
  for (std::string key; io >> key;) {
    int64_t value = 0;
    if (!(io >> value)) break;
    if (key == "rchar:") read = value;
    if (key == "wchar:") written = value;
  }
  return {read, written};
}

}  // namespace

nlohmann::json ExecuteTask(const nlohmann::json& task) {
  const char* node = std::getenv("SLURMD_NODENAME");
  nlohmann::json report{{"node", node && *node ? node : "local"}};
  auto started = std::chrono::steady_clock::now();
  auto io = IoBytes();
  try {
    report["rows"] = Run(task);
    report["ok"] = true;
  } catch (const Error& e) {
    report["ok"] = false;
    report["error"] = {{"code", std::string(ErrorCodeName(e.code()))}, {"message", e.what()}};
  } catch (const std::exception& e) {  // a malformed task (JSON field missing or mistyped)
    report["ok"] = false;
    report["error"] = {{"code", "invalid_argument"}, {"message", std::string("malformed task: ") + e.what()}};
  }
  report["milliseconds"] =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  auto after = IoBytes();
  report["read_bytes"] = after.first - io.first;
  report["written_bytes"] = after.second - io.second;
  return report;
}

}  // namespace tarn::scale
