// ExecuteTask: what `tarn worker` does on a node with a task it fetched from the
// server (see slurm_executor.h). The task's query runs in an engine of its own that
// may open only the directories of the files the server's plan named, the task's
// output folder and its spill folder on the node's local disk ($TMPDIR, else /tmp); its table names resolve to the governed scans planned on the server
// (governance/planned_resolver.h), and the plan is checked again to read only those
// files. The rows go to the task's output file as Parquet.
//
// Thread-safety: thread-safe (each call has its own engine).
#pragma once

#include <nlohmann/json.hpp>

namespace tarn::scale {

// Runs `task` and returns the report the server expects: {"ok": true, "rows",
// "milliseconds", "node"} or {"ok": false, "error": {"code", "message"}, "node"}.
// Never throws for what the query did; a task that is malformed is reported too.
nlohmann::json ExecuteTask(const nlohmann::json& task);

}  // namespace tarn::scale
