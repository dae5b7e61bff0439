// ExecuteTask: what `tarn worker` does on a node with a task it fetched from the
// server (see slurm_executor.h). The task's query runs in an engine of its own that
// may open only the directories of the files the server's plan named, the task's
// output folder and its spill folder on the node's local disk ($TMPDIR, else /tmp); its table names resolve
// to the governed scans planned on the server (governance/planned_resolver.h), and the plan is checked again
// to read only those files. The rows go to the task's output file as Parquet.
//
// Thread-safety: thread-safe (each call has its own engine).
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>

namespace tarn::scale {

// Copies the file another node's task wrote (an entry of the task's "fetch": {path,
// url, sha256, dir, capability, file}, node_scratch.h) to `to`; throws kIo if that
// node's service cannot give it.
using FetchInput = std::function<void(const nlohmann::json& from, const std::filesystem::path& to)>;

// Runs `task` and returns the report the server expects: {"ok": true, "rows",
// "milliseconds", "node"} or {"ok": false, "error": {"code", "message"}, "node"}.
// Never throws for what the query did; a task that is malformed is reported too.
//
// A map task whose body names a "node_scratch" root with a running file service
// writes its files there and reports them as "node_files" (node_scratch.h). A task
// whose body lists files to "fetch" copies them with `fetch` into its spill folder
// (or, on the node that wrote them, reads them where they are) and reads them there,
// reporting their "fetched_bytes"; a task that cannot fetch one is reported with the
// folders it could not fetch ("lost", their "dir"), which the server has written
// again. A task may carry "also": further queries ({sql, scans, files, output,
// field_ids}) over the same inputs, computed after its own into their outputs, their
// rows reported under "also" in order.
nlohmann::json ExecuteTask(const nlohmann::json& task, const FetchInput& fetch = {});

}  // namespace tarn::scale
