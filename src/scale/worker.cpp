#include "scale/worker.h"

#include <duckdb/parser/statement/select_statement.hpp>

#include <chrono>
#include <filesystem>
#include <set>

#include "common/error.h"
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
  auto spill = output.parent_path() / "spill";
  fs::create_directories(spill);
  engine::EngineOptions options;
  options.memory_limit = std::to_string(task.at("memory").get<int64_t>() >> 20) + "MB";
  options.threads = static_cast<int>(task.at("threads").get<int64_t>());
  options.temp_directory = spill;
  options.allowed_directories = {output.parent_path()};
  options.allowed_directories.insert(options.allowed_directories.end(), dirs.begin(), dirs.end());
  engine::Engine engine(options);
  auto conn = engine.Connect();
  conn->SetTableResolver(std::make_shared<governance::PlannedResolver>(std::move(reads)));
  auto statements = engine::Parse(task.at("sql").get<std::string>());
  if (statements.size() != 1 || statements[0]->type != duckdb::StatementType::SELECT_STATEMENT)
    throw Error::InvalidArgument("the task's statement is not one query");
  // A map task (partition_plan.h) writes its rows into one folder per bucket.
  engine::ParquetOptions parquet;
  if (task.contains("partition_by")) {
    parquet.partition_by = {task.at("partition_by").get<std::string>()};
    parquet.file_prefix = "part";
  }
  auto rows = engine::WriteParquetFile(*conn, std::move(statements[0]->Cast<duckdb::SelectStatement>().node),
                                       output, parquet);
  std::error_code ec;
  fs::remove_all(spill, ec);
  return rows;
}

}  // namespace

nlohmann::json ExecuteTask(const nlohmann::json& task) {
  const char* node = std::getenv("SLURMD_NODENAME");
  nlohmann::json report{{"node", node && *node ? node : "local"}};
  auto started = std::chrono::steady_clock::now();
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
  return report;
}

}  // namespace tarn::scale
