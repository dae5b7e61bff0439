// A job run's kept result: the rows of its last statement, if that was a query,
// written as Parquet at JobService::ResultPath when the run ended.
//
// ReadResult renders it for GET .../jobruns/{run}/result and `tarn job result`:
// "parquet" is the file as it lies; "csv" (RFC 4180 with a header) and "json"
// ({columns, rows: [{...}], row_count, truncated}) hold at most `limit` rows from
// `offset`. Whether the caller may read it is the caller's to check (the run's
// submitter and the application's managers).
//
// Errors: kNotFound if the run kept no result; kIo if the file cannot be read.
// Thread-safety: thread-safe (each call reads with its own in-memory engine).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace tarn::jobs {

struct RenderedResult {
  std::string body;
  std::string content_type;
};

RenderedResult ReadResult(const std::filesystem::path& file, const std::string& format, int64_t offset,
                          int64_t limit);

}  // namespace tarn::jobs
