// POST /v1/databases/{db}/tables/{table}/upload: a file in the request body (CSV,
// Parquet, JSON or .xlsx) becomes a managed table, or is added to one, under the
// caller's CREATE / INSERT grants (session/upload.h). Query parameters: mode
// (create | append | replace, default create), format (default: from `filename`),
// filename, sheet, range, and types (col:TYPE,col:TYPE). Answers 201 (created) or
// 200 with {"table", "mode", "rows_written", "message"}; a file that does not read is
// a 400 naming the problem, and nothing is written. Bodies up to max_upload_bytes.
//
// POST /v1/uploads?filename=NAME keeps a file for the caller's runs (a server
// pipeline's file inputs, job.files) for a week: 201 {"upload_id", "filename",
// "bytes", "expires_at"}. Only the uploader's runs can read it.
#pragma once

#include <filesystem>
#include <functional>

#include "server/router.h"
#include "session/runner.h"

namespace tarn::server {

struct UploadRoute {
  std::function<session::Runner&()> runner;  // set once the server started
  std::filesystem::path temp_dir;     // where bodies are spooled
  std::filesystem::path uploads_dir;  // session::UploadStore's folder
};

void AddUploadRoutes(Router& router, UploadRoute route);

// Whether `path` (without its query) is an upload route, which takes larger bodies.
bool IsUploadPath(std::string_view path);

}  // namespace tarn::server
