// Session: runs SQL scripts for one caller against the catalog.
//
// A script is split into statements and run in order; the first failure stops it
// (earlier statements stay done: every statement commits on its own). Statements
// are either Tarn's own (CREATE DATABASE, CREATE EXTERNAL TABLE, CREATE TABLE [AS],
// INSERT INTO / INSERT OVERWRITE, DROP, SHOW, DESCRIBE, SHOW SNAPSHOTS) or a DuckDB
// query (SELECT, WITH, VALUES, FROM-first, EXPLAIN, SUMMARIZE) over catalog tables
// named database.table. Any other DuckDB statement is refused with kUnsupported.
//
// Thread-safety: one thread runs a session; Cancel() may be called from any thread.
#pragma once

#include <duckdb.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "audit/audit_log.h"
#include "audit/events.h"
#include "catalog/catalog.h"
#include "engine/engine.h"
#include "files/files.h"
#include "governance/governance.h"
#include "identity/principal.h"
#include "session/offload.h"
#include "store/store.h"

namespace tarn::session {

// One statement of a run, as the handler sees it begin.
struct StatementStart {
  size_t index = 0;  // 0-based position in the script
  size_t count = 0;  // statements in the script
  std::string text;
};

// How one statement ended.
struct StatementEnd {
  size_t index = 0;
  std::string type;              // SELECT, GRANT, ...
  int64_t rows = -1;             // rows handed to the handler (or written), -1 if none
  bool truncated = false;        // the handler stopped reading before the end
  const Error* error = nullptr;  // set if it failed (then the run stops)
  double duration_ms = 0;
  int64_t bytes_scanned = 0;  // of table data files it read (as the audit counts them)
  int64_t rows_written = 0;   // rows it committed to tables
  // What the engine spent on it (see engine::EngineUsage); zero unless the session
  // measures (Session::Measure).
  double cpu_seconds = 0;
  int64_t peak_memory_bytes = 0;
};

// Receives what each statement of a script produces, in this order per statement:
// OnStatementBegin; then OnColumns, OnChunk... , OnRowsEnd for rows, or OnStatus;
// then OnStatementEnd (also when the statement failed).
class ResultHandler {
 public:
  virtual ~ResultHandler() = default;
  virtual void OnStatementBegin(const StatementStart&) {}
  virtual void OnColumns(const std::vector<std::string>& names,
                         const std::vector<duckdb::LogicalType>& types) = 0;
  // Takes a chunk of rows. May shorten the chunk (SetCardinality) to what it took;
  // returns false to read no further (the result is then reported truncated).
  virtual bool OnChunk(duckdb::DataChunk& chunk) = 0;
  virtual void OnRowsEnd() {}
  // A statement that returns no rows finished; `message` says what it did.
  virtual void OnStatus(const std::string& message) = 0;
  virtual void OnStatementEnd(const StatementEnd&) {}
};

// Reads every row and keeps nothing.
class Drain : public ResultHandler {
 public:
  void OnColumns(const std::vector<std::string>&, const std::vector<duckdb::LogicalType>&) override {}
  bool OnChunk(duckdb::DataChunk&) override { return true; }
  void OnStatus(const std::string&) override {}
};

// Who runs the statements, and through what front end (recorded in every audit event).
struct Caller {
  identity::Principal principal;
  audit::Origin origin;
};

// Why a run was stopped from outside. Sticky: once set it holds until the session's
// next BeginRun, so a stop that arrives between statements or while Tarn itself works
// (checking, writing) still ends the run.
enum class StopReason { kNone, kCancelled, kTimeout, kClientGone, kShutdown };

// What one statement did, for its audit event.
struct StatementOutcome {
  std::string type;  // statement type, e.g. SELECT, GRANT
  int64_t rows = -1;
  bool policy_change = false;
  bool truncated = false;
  int64_t rows_written = 0;  // rows a write committed to a table
};

struct StatementContext;

// A family of statements a session runs (see session/statements.h).
class StatementFamily {
 public:
  virtual ~StatementFamily() = default;
  // Runs `text` and returns true, or returns false if it is not one of this family's
  // statements (the next family is asked). Throws tarn::Error when it is one but fails.
  virtual bool Run(const std::string& text, StatementContext& ctx) = 0;
};

// A file a run reads as a temporary table (see Session::StageFile).
struct FileInput {
  std::string name;            // the temporary table's name
  std::filesystem::path path;  // the file, readable by this process
  files::FileFormat format = files::FileFormat::kCsv;
  files::ReadOptions options;  // sheet, range, column types
  std::string label;           // the file as its owner knows it, for errors ("": path's name)
};

class Session {
 public:
  // Opens its own metadata-store connection (`metastore`) and engine connection.
  // Statements are audited to `audit` (not owned; may be null in tests of lower
  // layers), whose segments live in `audit_dir`.
  Session(engine::Engine& engine, const lake::Lake& lake, const std::string& metastore,
          std::filesystem::path temp_dir, audit::AuditLog* audit, std::filesystem::path audit_dir);
  ~Session();  // EndRun

  // Every statement from now on runs as, and is audited for, `caller`.
  void SetCaller(Caller caller);
  const Caller& caller() const { return caller_; }

  // A new run starts: forgets an earlier stop; each statement may then run at most
  // `statement_timeout` (zero: no deadline).
  void BeginRun(std::chrono::milliseconds statement_timeout);
  // Stops the run for `reason` (thread-safe): the running statement fails at once,
  // and no further statement starts. kCancelled fails with kCancelled; kTimeout with
  // kResourceExhausted naming the timeout (audited as a timeout).
  void Stop(StopReason reason);
  void Cancel() { Stop(StopReason::kCancelled); }
  StopReason stop_reason() const { return static_cast<StopReason>(stop_.load()); }
  // Re-sends the engine interrupt while stopped (an interrupt that lands just before
  // the engine starts a statement is forgotten by it); a deadline passed stops with
  // kTimeout. Thread-safe; the Runner's watchdog calls it.
  void Enforce(std::chrono::steady_clock::time_point now);

  // The run is over: its temporary tables (CREATE TEMP TABLE) are forgotten and their
  // files removed. BeginRun and the destructor do it too.
  void EndRun();
  // Where the run's temporary table `name` (a checked name) is written: a folder of
  // this session's own under the instance's temp directory, made on first use.
  std::filesystem::path TempTablePath(const std::string& name);

  // Reads `input` into the run's temporary table `input.name` (types inferred from
  // every row, or as input.options names them) and returns its row count. The file is
  // copied into this session's folder first: the engine reads nowhere else. Errors:
  // kAlreadyExists for a name the run has; kInvalidArgument naming the file for what
  // its content or the options get wrong; nothing is staged then.
  int64_t StageFile(const FileInput& input);

  // From now on (on) or no longer (off), each statement's StatementEnd reports what the
  // engine spent on it (engine::EngineConnection::Measure; costs a little per operator).
  void Measure(bool on) { conn_->Measure(on); }

  // From now on (a scope) or no longer (nullopt), each statement's data commit is
  // recorded under the key {scope.scope, scope.key + "/" + its index} (see
  // catalog::Catalog::SetCommitKey), and a statement whose key was already recorded is
  // not run again: its handler hears that it committed earlier (OnStatus) and its
  // StatementEnd reports the rows that commit wrote. A rerun of a script after a crash
  // thus never appends twice.
  void SetCommitScope(std::optional<catalog::CommitKey> scope) { commit_scope_ = std::move(scope); }

  // Where the files this run writes (COPY (query) TO 'name', see WriteOutput) go once
  // it succeeds (PublishOutputs); nullopt: the run may write no files.
  void SetOutputDir(std::optional<std::filesystem::path> dir) { output_dir_ = std::move(dir); }
  // From now on (an offload) or no longer (null), the run's queries (SELECT, WITH, ...
  // as statements of their own) are computed by `offload` (see offload.h); everything
  // else still runs here; the statements `partitioning` names may be split by key.
  void SetOffload(std::shared_ptr<QueryOffload> offload, std::map<size_t, Partitioning> partitioning = {}) {
    offload_ = std::move(offload);
    partitioning_ = std::move(partitioning);
  }
  bool offloads() const { return offload_ != nullptr; }
  // On an offload, whether the current statement runs in this server all the same
  // (Partitioning::here).
  bool RunsHere() const;
  // For the query statement family: checks, resolves and verifies `statement` (its
  // pre-bind check done) here and has the offload compute it; the rows go to the
  // handler (or `parquet_output`). A query that reads what only this server can runs
  // here (RunQuery).
  // With `parts` (and a `parquet_output`), the rows stay in the lake where the nodes
  // wrote them (the run's scratch folder, one file or several), named into `parts`,
  // and `parquet_output` is not written (unless the query runs here: `parts` stays empty).
  // `options`: how Parquet files of the rows are written (a table's field ids).
  void RunOffloaded(duckdb::unique_ptr<duckdb::SQLStatement> statement, ResultHandler& handler,
                    const std::filesystem::path* parquet_output, StatementOutcome& outcome,
                    std::vector<std::filesystem::path>* parts = nullptr,
                    const engine::ParquetOptions& options = {});
  // For the statements that write a table's rows (Catalog::Write's `elsewhere`): on an
  // offload, unless the current statement runs here, a writer that has the nodes
  // compute the rows and write the table's files (split as the statement's
  // Partitioning says, else one task), which the catalog then moves in and commits.
  // Empty otherwise: the catalog writes them in this server.
  lake::ParquetWrite WriteOnNodes();
  bool may_write_files() const { return output_dir_.has_value(); }
  // Writes the rows of `query` (checked and run as any query of the caller's) to the
  // run's file `name`, a bare file name, in `format`; an .xlsx file gets them as sheet
  // `sheet`, and several statements may add sheets to one workbook. Files are kept
  // aside until PublishOutputs: a run that fails leaves none. Returns the rows.
  int64_t WriteOutput(duckdb::unique_ptr<duckdb::SelectStatement> query, const std::string& name,
                      files::FileFormat format, const std::string& sheet, StatementOutcome& outcome);
  // The run succeeded: moves its files into the output folder (each replaced whole,
  // never seen half-written) and returns their names.
  std::vector<std::string> PublishOutputs();

  // Records in the audit trail that `script` was refused before it ran (a limit,
  // a cancellation), for the reason `error`.
  void Refuse(const std::string& script, const Error& error);

  // Runs every statement of `script`. If `parquet_output` is set, the last statement
  // must be a query and its rows are written to that file instead of the handler
  // (with `parquet_only_if_query`, a last statement that is no query runs as usual
  // and no file is written).
  // Each statement's audit record is durable before the next statement starts and
  // before Execute returns or throws — except with `final_audit`: then the last
  // statement's record is only queued, its receipt is stored there, and the caller
  // must not release that statement's result before the receipt resolves.
  void Execute(const std::string& script, ResultHandler& handler,
               const std::optional<std::filesystem::path>& parquet_output = std::nullopt,
               std::shared_ptr<audit::Receipt>* final_audit = nullptr, bool parquet_only_if_query = false);
  // Whether the Execute running now writes Parquet only for a query (see Execute).
  bool parquet_optional() const { return parquet_optional_; }

  catalog::Catalog& catalog() { return *catalog_; }
  governance::Governor& governor() { return *governor_; }

  // Adds a statement family, asked after the built-in policy and catalog statements
  // and before the engine's SQL.
  void AddStatements(std::unique_ptr<StatementFamily> family);

  // For statement families: runs a query, its rows to the handler (or, with
  // `parquet_output`, to that file).
  void RunQuery(duckdb::unique_ptr<duckdb::SQLStatement> statement, ResultHandler& handler,
                const std::filesystem::path* parquet_output, StatementOutcome& outcome,
                const engine::ParquetOptions& options = {});
  // For statement families: hands a small, Tarn-made table of rows (SHOW, DESCRIBE)
  // to the handler.
  void EmitRows(const std::vector<std::string>& names, const std::vector<std::vector<duckdb::Value>>& rows,
                ResultHandler& handler, StatementOutcome& outcome);

 private:
  using Outcome = StatementOutcome;
  // This run's own folder under the instance's temp directory (temporary tables,
  // staged inputs, files waiting to be published), made on first use.
  std::filesystem::path RunFolder();
  // Throws the error of a stop, if the run was stopped or its deadline passed.
  void CheckStop();
  Error StopError(StopReason reason) const;
  // Hands every row of `result` to the handler, until it says enough.
  void Deliver(duckdb::QueryResult& result, ResultHandler& handler, Outcome& outcome);
  // RunOffloaded's split: `planned`'s partition keys, parts key and buckets as
  // `partitioning` declares them (kInvalidArgument for a table it does not read).
  void DeclareSplit(PlannedQuery& planned, const Partitioning& partitioning) const;
  // The later statements of the script an offload may compute with `now`
  // (PlannedQuery::with), planned as the caller (plan_ahead.cpp).
  std::vector<PlannedQuery> PlanAhead(const PlannedQuery& now);
  std::optional<PlannedQuery> PlanTempQuery(size_t index, const Partitioning& partitioning);
  // `receipt`: as Execute's final_audit, for this statement.
  void ExecuteOne(const StatementStart& statement, ResultHandler& handler,
                  const std::filesystem::path* parquet_output, std::shared_ptr<audit::Receipt>* receipt);
  // With a commit scope: sets the statement's commit key, and returns true (having
  // told the handler) if the statement committed earlier under it.
  bool CommittedEarlier(const StatementStart& statement, ResultHandler& handler, Outcome& outcome);
  void Dispatch(const std::string& statement, ResultHandler& handler,
                const std::filesystem::path* parquet_output, Outcome& outcome);
  void Audit(const std::string& statement, const Outcome& outcome, const Error* error, double millis,
             std::shared_ptr<audit::Receipt>* receipt = nullptr);

  std::unique_ptr<store::MetaStore> store_;
  std::unique_ptr<engine::EngineConnection> conn_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::shared_ptr<governance::Governor> governor_;
  std::filesystem::path temp_dir_;
  std::filesystem::path temp_tables_dir_;  // this run's temporary tables ("": none yet)
  std::optional<std::filesystem::path> output_dir_;
  std::vector<std::pair<std::string, std::filesystem::path>> outputs_;     // name, where it waits
  std::map<std::string, std::unique_ptr<files::XlsxWorkbook>> workbooks_;  // open, by name
  audit::AuditLog* audit_;
  Caller caller_;
  std::atomic<int> stop_{0};             // StopReason
  std::atomic<int64_t> deadline_ns_{0};  // steady clock; 0: none
  bool parquet_optional_ = false;
  std::optional<catalog::CommitKey> commit_scope_;
  std::shared_ptr<QueryOffload> offload_;
  std::map<size_t, Partitioning> partitioning_;
  std::vector<std::string> script_;  // the statements of the script Execute runs
  size_t statement_index_ = 0;       // of the statement running now
  std::chrono::milliseconds timeout_{0};
  std::vector<std::unique_ptr<StatementFamily>> families_;  // the engine's SQL last
};

// Parses `sql` as exactly one query (SELECT, WITH, VALUES, FROM-first); throws
// kInvalidArgument otherwise.
duckdb::unique_ptr<duckdb::SelectStatement> ParseQuery(const std::string& sql, const char* where);

}  // namespace tarn::session
