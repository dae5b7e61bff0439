#include "scale/worker.h"

#include <fmt/format.h>
#include <duckdb/parser/statement/select_statement.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>

#include "common/error.h"
#include "common/util.h"
#include "engine/engine.h"
#include "governance/planned_resolver.h"
#include "scale/node_scratch.h"

namespace tarn::scale {

namespace fs = std::filesystem;

namespace {

// Points `query`'s scans and files at the copies `local` names (by their names in the plan).
void Repoint(nlohmann::json& query, const std::map<std::string, std::string>& local) {
  for (auto& [name, scan] : query.at("scans").items()) {
    std::string text = scan.get<std::string>();
    for (auto& [from, to] : local) {
      auto quoted = engine::QuoteString(from), copy = engine::QuoteString(to);
      for (auto at = text.find(quoted); at != std::string::npos; at = text.find(quoted, at))
        text.replace(at, quoted.size(), copy), at += copy.size();
    }
    scan = text;
  }
  for (auto& f : query.at("files")) {
    if (auto it = local.find(f.at("path").get<std::string>()); it != local.end()) f["path"] = it->second;
  }
}

// This node's scratch root (the task's "node_scratch", %n its Slurm name) and its
// file service, if the task names a root and the service runs.
struct ThisNode {
  fs::path root;
  NodeService service;
};
std::optional<ThisNode> NodeOf(const nlohmann::json& task) {
  if (!task.contains("node_scratch")) return std::nullopt;
  const char* node = std::getenv("SLURMD_NODENAME");
  auto root = NodeScratchRoot(task.at("node_scratch").get<std::string>(), node ? node : "");
  auto service = ReadNodeService(root);
  if (!service) return std::nullopt;
  return ThisNode{root, *service};
}

// The file `from` names if it is on `node` (its service, and the capability opens the
// folder): read where it is, not fetched.
std::optional<fs::path> OnThisNode(const std::optional<ThisNode>& node, const nlohmann::json& from) {
  if (!node) return std::nullopt;
  auto dir = from.at("dir").get<std::string>(), file = from.at("file").get<std::string>();
  if (node->service.url != from.at("url") || node->service.sha256 != from.at("sha256") ||
      !IsScratchName(dir) || !IsScratchFile(file) ||
      !Opens(node->root / "files" / dir, from.at("capability").get<std::string>()))
    return std::nullopt;
  return node->root / "files" / dir / file;
}

// Copies the task's "fetch" files into `into` (those on this node are read where they
// are) and points its scans and files at the copies. Those it cannot fetch: their
// folders go to `lost`, and it throws. Returns the bytes fetched.
int64_t FetchInputs(nlohmann::json& task, const fs::path& into, const FetchInput& fetch,
                    std::vector<std::string>& lost) {
  if (!task.contains("fetch")) return 0;
  if (!fetch)
    throw Error::InvalidArgument("the task reads files of other nodes, which this worker cannot fetch");
  fs::create_directories(into);
  std::map<std::string, std::string> local;  // the file's name in the plan -> its copy
  std::string failure;
  int64_t bytes = 0;
  const char* slurm_node = std::getenv("SLURMD_NODENAME");
  auto node = slurm_node && *slurm_node ? NodeOf(task) : std::nullopt;  // read once, not per file
  for (auto& from : task.at("fetch")) {
    if (auto here = OnThisNode(node, from); here && fs::is_regular_file(*here)) {
      local[from.at("path").get<std::string>()] = here->string();
      continue;
    }
    fs::path to = into / fmt::format("{}.parquet", local.size());
    try {
      fetch(from, to);
    } catch (const Error& e) {
      auto dir = from.at("dir").get<std::string>();
      if (std::find(lost.begin(), lost.end(), dir) == lost.end()) lost.push_back(dir);
      failure = e.what();
      continue;
    }
    local[from.at("path").get<std::string>()] = to.string();
    std::error_code ec;
    bytes += static_cast<int64_t>(fs::file_size(to, ec));
  }
  if (!lost.empty())
    throw Error::Io("cannot fetch the shuffle files of {} task folder(s) from their nodes: {}", lost.size(),
                    failure);
  Repoint(task, local);
  if (task.contains("also"))
    for (auto& q : task["also"]) Repoint(q, local);
  return bytes;
}

// Where a map task with a node scratch root writes, if that node has a file service:
// a fresh folder of the root's files/ (0700).
std::optional<std::pair<NodeService, fs::path>> NodeFolder(const nlohmann::json& task) {
  if (!task.contains("partition_by")) return std::nullopt;
  auto node = NodeOf(task);
  if (!node) return std::nullopt;
  auto name = fmt::format("{}.{}.{}", task.at("run").get<std::string>(), task.at("attempt").get<int64_t>(),
                          task.at("task").get<std::string>());
  if (!IsScratchName(name)) throw Error::InvalidArgument("the task's name is not a plain file name");
  fs::path dir = node->root / "files" / name;
  std::error_code ec;
  fs::remove_all(dir, ec);  // an earlier try of this task on this node
  fs::create_directories(dir, ec);
  if (ec) throw Error::Io("cannot make the task's folder {}: {}", dir.string(), ec.message());
  fs::permissions(dir, fs::perms::owner_all, ec);
  return std::make_pair(node->service, dir);
}

// What one query of the task (the task itself, or one of its "also") reads; the
// folders of its files go to `dirs`.
governance::PlannedReads ReadsOf(const nlohmann::json& query, std::set<fs::path>& dirs) {
  governance::PlannedReads reads;
  reads.scans = query.at("scans").get<std::map<std::string, std::string>>();
  for (auto& f : query.at("files")) {
    fs::path path = f.at("path").get<std::string>();
    reads.files[path.string()] = f.at("table").get<std::string>();
    dirs.insert(path.parent_path());
  }
  return reads;
}

// Computes `query`'s statement over `reads` in `engine`, its rows into `output`.
int64_t Compute(engine::Engine& engine, const nlohmann::json& query, governance::PlannedReads reads,
                const fs::path& output, engine::ParquetOptions parquet) {
  auto conn = engine.Connect();
  conn->SetTableResolver(std::make_shared<governance::PlannedResolver>(std::move(reads)));
  auto statements = engine::Parse(query.at("sql").get<std::string>());
  if (statements.size() != 1 || statements[0]->type != duckdb::StatementType::SELECT_STATEMENT)
    throw Error::InvalidArgument("the task's statement is not one query");
  if (query.contains("field_ids"))  // its rows are a table's data files
    parquet.field_ids = query.at("field_ids").get<std::vector<std::pair<std::string, int64_t>>>();
  return engine::WriteParquetFile(*conn, std::move(statements[0]->Cast<duckdb::SelectStatement>().node),
                                  output, parquet);
}

// An absolute path whose folder is made.
fs::path OutputOf(const nlohmann::json& query) {
  fs::path output = query.at("output").get<std::string>();
  if (!output.is_absolute()) throw Error::InvalidArgument("the task's output is not an absolute path");
  return output;
}

void MakeFolder(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error::Io("cannot make the task's folder {}: {}", dir.string(), ec.message());
}

int64_t Run(nlohmann::json task, const FetchInput& fetch, nlohmann::json& report) {
  fs::path output = OutputOf(task);
  auto node = NodeFolder(task);
  if (node) output = node->second / "out";
  MakeFolder(output.parent_path());
  // What does not fit in the task's memory goes to the node's local disk, never the
  // shared filesystem the lake is on; so do the files fetched from other nodes.
  TempFolder spill("tarn-spill-", "the task's spill folder");
  std::vector<std::string> lost;
  try {
    if (int64_t fetched = FetchInputs(task, spill.path() / "inputs", fetch, lost); fetched > 0)
      report["fetched_bytes"] = fetched;
  } catch (const Error&) {
    if (!lost.empty()) report["lost"] = lost;
    throw;
  }
  std::set<fs::path> dirs{output.parent_path(), spill.path()};
  auto reads = ReadsOf(task, dirs);
  auto also = task.value("also", nlohmann::json::array());
  std::vector<governance::PlannedReads> also_reads;
  for (auto& q : also) {
    also_reads.push_back(ReadsOf(q, dirs));
    MakeFolder(OutputOf(q).parent_path());
    dirs.insert(OutputOf(q).parent_path());
  }
  engine::EngineOptions options;
  options.memory_limit = std::to_string(task.at("memory").get<int64_t>() >> 20) + "MB";
  options.threads = static_cast<int>(task.at("threads").get<int64_t>());
  options.temp_directory = spill.path();
  options.allowed_directories.assign(dirs.begin(), dirs.end());
  engine::Engine engine(options);
  // A map task (partition_plan.h) writes its rows into one folder per bucket, as zstd
  // when the shuffle goes through the shared filesystem (zstd halves its bytes,
  // bench/results/scale-*.md, for a little more CPU), as snappy on the node's disk.
  engine::ParquetOptions parquet;
  if (task.contains("partition_by")) {
    parquet.partition_by = {task.at("partition_by").get<std::string>()};
    parquet.file_prefix = "part";
    parquet.compression = node ? engine::ParquetCompression::kSnappy : engine::ParquetCompression::kZstd;
  }
  auto rows = Compute(engine, task, std::move(reads), output, parquet);
  // Later statements over the same inputs (a bucket's other queries, partition_plan.h).
  for (size_t k = 0; k < also.size(); k++)
    report["also"].push_back(
        {{"rows", Compute(engine, also[k], std::move(also_reads[k]), OutputOf(also[k]), {})}});
  if (node) report["node_files"] = DescribeNodeFiles(node->first, node->second, SealFolder(node->second));
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

nlohmann::json ExecuteTask(const nlohmann::json& task, const FetchInput& fetch) {
  const char* node = std::getenv("SLURMD_NODENAME");
  nlohmann::json report{{"node", node && *node ? node : "local"}};
  auto started = std::chrono::steady_clock::now();
  auto io = IoBytes();
  try {
    report["rows"] = Run(task, fetch, report);
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
