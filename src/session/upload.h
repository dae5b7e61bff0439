// Uploads: a local file (CSV, Parquet, JSON, .xlsx) made into a managed table, or
// added to one, through an ordinary governed run (tarn upload, POST
// /v1/databases/{db}/tables/{table}/upload). The file is staged as the run's
// temporary table `upload` (Session::StageFile) and the run's one statement is
// CREATE TABLE db.t AS / INSERT INTO / INSERT OVERWRITE ... SELECT * FROM upload:
// the CREATE / INSERT grants, the audit trail and the atomic commit are those of SQL.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "session/runner.h"

namespace tarn::session {

enum class UploadMode { kCreate, kAppend, kReplace };

// "create", "append", "replace"; kInvalidArgument for anything else.
UploadMode ParseUploadMode(const std::string& mode);

// The statement an upload to `database`.`table` runs in `mode` (names checked).
std::string UploadScript(const std::string& database, const std::string& table, UploadMode mode);

// Splits "database.table"; kInvalidArgument naming what is wrong otherwise.
std::pair<std::string, std::string> SplitTableName(const std::string& qualified);

// Collects what an upload run did: its status line and the rows it wrote.
class UploadOutcome : public ResultHandler {
 public:
  std::string message;
  int64_t rows_written = 0;
  void OnColumns(const std::vector<std::string>&, const std::vector<duckdb::LogicalType>&) override {}
  bool OnChunk(duckdb::DataChunk&) override { return true; }
  void OnStatus(const std::string& m) override { message = m; }
  void OnStatementEnd(const StatementEnd& end) override { rows_written += end.rows_written; }
};

// Files uploaded for runs (POST /v1/uploads): a server run reads a pipeline's file
// input from one of these, never from a path of the server's. Each is kept for
// kUploadDays days under <dir>/<id> with a sidecar <id>.json naming its owner, and
// only its owner's runs find it.
// Thread-safety: thread-safe (every call works on files of its own).
class UploadStore {
 public:
  static constexpr int kUploadDays = 7;
  explicit UploadStore(std::filesystem::path dir) : dir_(std::move(dir)) {}

  struct Info {
    std::string id;        // up-<hex>
    std::string filename;  // as the uploader named it (its extension gives the format)
    int64_t bytes = 0;
    int64_t created_ms = 0;
    std::filesystem::path path;
  };
  // Keeps `body` for `owner`. kInvalidArgument for a file name without a known
  // extension; removes uploads older than kUploadDays first.
  Info Save(const identity::Principal& owner, const std::string& filename, std::string_view body,
            int64_t now_ms);
  // The upload `id` if `owner` made it; kNotFound alike for a missing one and another's.
  Info Find(const identity::Principal& owner, const std::string& id) const;

 private:
  std::filesystem::path dir_;
};

}  // namespace tarn::session
