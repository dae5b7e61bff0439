// Uploads: a local file (CSV, Parquet, JSON, .xlsx) made into a managed table, or
// added to one, through an ordinary governed run (tarn upload, POST
// /v1/databases/{db}/tables/{table}/upload). The file is staged as the run's
// temporary table `upload` (Session::StageFile) and the run's one statement is
// CREATE TABLE db.t AS / INSERT INTO / INSERT OVERWRITE ... SELECT * FROM upload:
// the CREATE / INSERT grants, the audit trail and the atomic commit are those of SQL.
#pragma once

#include <string>

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

}  // namespace tarn::session
