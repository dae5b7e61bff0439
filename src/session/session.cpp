#include "session/session.h"

#include <duckdb/parser/statement/select_statement.hpp>

#include <chrono>
#include <fstream>

#include "common/error.h"
#include "common/util.h"
#include "engine/sql_text.h"
#include "governance/planned_resolver.h"
#include "lake/data_writer.h"
#include "session/script.h"
#include "session/statements.h"

namespace fs = std::filesystem;

namespace tarn::session {

duckdb::unique_ptr<duckdb::SelectStatement> ParseQuery(const std::string& sql, const char* where) {
  auto statements = engine::Parse(sql);
  if (statements.size() != 1 || statements[0]->type != duckdb::StatementType::SELECT_STATEMENT) {
    throw Error::InvalidArgument("{} needs exactly one query (SELECT ...)", where);
  }
  return duckdb::unique_ptr_cast<duckdb::SQLStatement, duckdb::SelectStatement>(std::move(statements[0]));
}

Session::Session(engine::Engine& engine, const lake::Lake& lake, const std::string& metastore,
                 fs::path temp_dir, audit::AuditLog* audit, fs::path audit_dir)
    : store_(store::MetaStore::Open(metastore)),
      conn_(engine.Connect()),
      temp_dir_(std::move(temp_dir)),
      audit_(audit) {
  catalog_ = std::make_unique<catalog::Catalog>(*store_, lake, *conn_);
  governor_ = std::make_shared<governance::Governor>(*catalog_, *store_, std::move(audit_dir));
  conn_->SetTableResolver(governor_);
  families_.push_back(PolicyStatements());
  families_.push_back(CatalogStatements());
  families_.push_back(EngineStatements());
}

void Session::SetCaller(Caller caller) {
  caller_ = std::move(caller);
  governor_->SetPrincipal(caller_.principal);
  catalog_->SetCommitter(caller_.principal.user);
}

void Session::BeginRun(std::chrono::milliseconds statement_timeout) {
  EndRun();  // nothing of an earlier run's temporary tables survives into this one
  stop_ = static_cast<int>(StopReason::kNone);
  timeout_ = statement_timeout;
  deadline_ns_ = 0;
}

void Session::EndRun() {
  workbooks_.clear();  // unclosed: nothing written
  outputs_.clear();
  governor_->ClearTempTables();
  if (!temp_tables_dir_.empty()) {
    std::error_code ec;
    fs::remove_all(temp_tables_dir_, ec);
    temp_tables_dir_.clear();
  }
}

Session::~Session() {
  EndRun();
}

std::filesystem::path Session::TempTablePath(const std::string& name) {
  return RunFolder() / (name + ".parquet");
}

std::filesystem::path Session::RunFolder() {
  if (temp_tables_dir_.empty()) {
    temp_tables_dir_ = temp_dir_ / ("temp-tables-" + RandomHex());
    std::error_code ec;
    fs::create_directories(temp_tables_dir_, ec);
    if (ec) throw Error::Io("cannot create the folder of temporary tables: {}", ec.message());
    fs::permissions(temp_tables_dir_, fs::perms::owner_all, ec);
  }
  return temp_tables_dir_;
}

int64_t Session::StageFile(const FileInput& input) {
  std::string name = catalog::CheckName(input.name, "temporary table");
  if (governor_->HasTempTable(name))
    throw Error::AlreadyExists("temporary table {} already exists in this run", name);
  std::string lower = duckdb::StringUtil::Lower(name);
  auto table_file = TempTablePath(lower);
  auto dir = RunFolder();
  // The engine reads only its own directories: a file from elsewhere is copied in
  // first; one Tarn placed under its temp directory (a spooled upload) is read there.
  auto inside = input.path.lexically_normal().lexically_relative(temp_dir_.lexically_normal());
  auto staged = input.path;
  std::error_code ec;
  if (inside.empty() || *inside.begin() == "..") {
    staged = dir / ("input-" + lower + input.path.extension().string());
    fs::copy_file(input.path, staged, fs::copy_options::overwrite_existing, ec);
    if (ec) throw Error::Io("cannot read {}: {}", input.path.filename().string(), ec.message());
  }
  auto staged_name = staged.filename();
  std::string label = input.label.empty() ? input.path.filename().string() : input.label;
  try {
    auto statements = engine::Parse(files::ReadQuery(staged, input.format, input.options, dir));
    auto guard = conn_->Trusted();  // Tarn's own read of a file it just placed
    int64_t rows = engine::WriteParquetFile(
        *conn_, std::move(statements.at(0)->Cast<duckdb::SelectStatement>().node), table_file);
    governor_->AddTempTable(name, table_file);
    return rows;
  } catch (const Error& e) {
    fs::remove(table_file, ec);
    if (e.code() == ErrorCode::kCancelled) throw;
    // DuckDB's reader errors run over lines (the line, the value, then hints and the
    // reader's options, which name Tarn's paths): its first paragraph, on one line.
    std::string message, line;
    std::istringstream lines(e.what());
    while (std::getline(lines, line) && !line.empty()) message += (message.empty() ? "" : "; ") + line;
    std::string staged = staged_name.string();
    for (size_t at; !staged.empty() && (at = message.find(staged)) != std::string::npos;)
      message.replace(at, staged.size(), label);
    throw Error(e.code() == ErrorCode::kIo ? ErrorCode::kIo : ErrorCode::kInvalidArgument,
                message.starts_with(label) ? message : label + ": " + message);
  }
}

void Session::Stop(StopReason reason) {
  int none = static_cast<int>(StopReason::kNone);
  stop_.compare_exchange_strong(none, static_cast<int>(reason));  // the first reason wins
  conn_->Cancel();
}

void Session::Enforce(std::chrono::steady_clock::time_point now) {
  int64_t deadline = deadline_ns_.load();
  if (deadline && now.time_since_epoch().count() > deadline) Stop(StopReason::kTimeout);
  if (stop_reason() != StopReason::kNone) conn_->Cancel();
}

Error Session::StopError(StopReason reason) const {
  switch (reason) {
    case StopReason::kTimeout:
      return Error::ResourceExhausted("the statement ran longer than {} and was stopped",
                                      FormatDuration(timeout_));
    case StopReason::kClientGone: return Error::Cancelled("the client went away: statement cancelled");
    case StopReason::kShutdown: return Error::Cancelled("the server is shutting down: statement cancelled");
    default: return Error::Cancelled("statement cancelled");
  }
}

void Session::CheckStop() {
  int64_t deadline = deadline_ns_.load();
  if (deadline && std::chrono::steady_clock::now().time_since_epoch().count() > deadline)
    Stop(StopReason::kTimeout);
  if (auto reason = stop_reason(); reason != StopReason::kNone) throw StopError(reason);
}

void Session::Execute(const std::string& script, ResultHandler& handler,
                      const std::optional<fs::path>& parquet_output,
                      std::shared_ptr<audit::Receipt>* final_audit, bool parquet_only_if_query) {
  parquet_optional_ = parquet_only_if_query;
  auto statements = SplitStatements(script);
  if (statements.empty()) throw Error::InvalidArgument("no SQL statement given");
  script_ = statements;
  struct Forget {
    std::vector<std::string>& script;
    ~Forget() { script.clear(); }
  } forget{script_};
  for (size_t i = 0; i < statements.size(); i++) {
    bool last = i + 1 == statements.size();
    ExecuteOne({i, statements.size(), statements[i]}, handler,
               last && parquet_output ? &*parquet_output : nullptr, last ? final_audit : nullptr);
  }
}

void Session::ExecuteOne(const StatementStart& st, ResultHandler& handler, const fs::path* parquet_output,
                         std::shared_ptr<audit::Receipt>* receipt) {
  auto start = std::chrono::steady_clock::now();
  deadline_ns_ = timeout_.count() ? (start + timeout_).time_since_epoch().count() : 0;
  Outcome outcome;
  auto millis = [&] {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  };
  auto end = [&](const Error* error) {
    int64_t scanned = 0;
    for (auto& r : governor_->resources()) scanned += r.bytes;
    auto used = conn_->TakeUsage();
    handler.OnStatementEnd({st.index, outcome.type, outcome.rows, outcome.truncated, error, millis(), scanned,
                            outcome.rows_written, used.cpu_seconds, used.peak_memory_bytes});
  };
  caller_.origin.statement = static_cast<int64_t>(st.index);
  statement_index_ = st.index;
  try {
    CheckStop();
    handler.OnStatementBegin(st);
    governor_->BeginStatement();
    if (auto tokens = engine::Tokenize(st.text); !tokens.empty())
      outcome.type = duckdb::StringUtil::Upper(tokens[0].text);
    if (!CommittedEarlier(st, handler, outcome)) Dispatch(st.text, handler, parquet_output, outcome);
    CheckStop();  // a stop that came while Tarn finished the statement's work
  } catch (const Error& e) {
    // An engine interrupt we caused reports the reason we had.
    auto reason = stop_reason();
    Error explained = reason != StopReason::kNone && e.code() == ErrorCode::kCancelled
                          ? StopError(reason)
                          : governor_->Explain(e);
    Audit(st.text, outcome, &explained, millis(), receipt);
    end(&explained);
    throw explained;
  } catch (const std::exception& e) {
    Error internal = Error::Internal("{}", e.what());
    Audit(st.text, outcome, &internal, millis(), receipt);
    end(&internal);
    throw;
  }
  Audit(st.text, outcome, nullptr, millis(), receipt);
  end(nullptr);
}

bool Session::CommittedEarlier(const StatementStart& st, ResultHandler& handler, Outcome& outcome) {
  catalog_->SetCommitKey(std::nullopt);
  if (!commit_scope_) return false;
  catalog::CommitKey key{commit_scope_->scope, fmt::format("{}/{}", commit_scope_->key, st.index)};
  auto rows = catalog_->CommittedUnder(key);
  if (!rows) {
    catalog_->SetCommitKey(std::move(key));
    return false;
  }
  outcome.rows_written = *rows;
  handler.OnStatus(fmt::format("statement {} committed {} in an earlier attempt: not run again", st.index + 1,
                               Plural(*rows, "row", "rows")));
  return true;
}

void Session::Refuse(const std::string& script, const Error& error) {
  governor_->BeginStatement();
  Outcome outcome;
  outcome.type = "REFUSED";
  Audit(script, outcome, &error, 0);
}

void Session::Audit(const std::string& text, const Outcome& outcome, const Error* error, double millis,
                    std::shared_ptr<audit::Receipt>* receipt) {
  if (!audit_) return;
  const auto& p = caller_.principal;
  audit::StatementEvent e;
  e.actor = {p.user, p.groups, governor_->subject().Roles(), p.issuer};
  e.origin = caller_.origin;
  e.statement_type = outcome.type;
  e.statement = text;
  e.outcome = audit::OutcomeOf(error);
  if (error && error->code() == ErrorCode::kResourceExhausted && stop_reason() == StopReason::kTimeout)
    e.outcome = audit::Outcome::kTimeout;
  e.reason = error ? std::string(error->what()) : std::string();
  e.rows = outcome.rows;
  e.duration_ms = millis;
  e.truncated = outcome.truncated;
  for (auto& r : governor_->resources()) {
    e.resources.push_back({{"table", r.table},
                           {"access", r.access},
                           {"columns", r.columns},
                           {"filters", r.filters},
                           {"masks", r.masks}});
    if (r.rows >= 0) e.resources.back()["rows"] = r.rows;
    e.bytes_scanned += r.bytes;
  }
  auto event = audit::ToJson(e);
  bool policy_change = outcome.policy_change && !error;
  if (receipt && !policy_change) {  // a policy change waits: it has two records
    *receipt = audit_->Post(std::move(event));
    return;
  }
  audit_->Append(event);
  if (policy_change) {
    event["event"] = "policy_change";
    event["details"] = {{"statement", event["statement"]}};
    audit_->Append(event);
  }
}

void Session::Deliver(duckdb::QueryResult& result, ResultHandler& handler, Outcome& outcome) {
  engine::ThrowIfError(result);
  std::vector<std::string> names(result.names.begin(), result.names.end());
  std::vector<duckdb::LogicalType> types(result.types.begin(), result.types.end());
  handler.OnColumns(names, types);
  outcome.rows = 0;
  while (true) {
    CheckStop();
    auto chunk = result.Fetch();
    engine::ThrowIfError(result);
    if (!chunk || chunk->size() == 0) break;
    bool more = handler.OnChunk(*chunk);
    outcome.rows += static_cast<int64_t>(chunk->size());
    if (!more) {
      outcome.truncated = true;
      break;
    }
  }
  handler.OnRowsEnd();
}

void Session::AddStatements(std::unique_ptr<StatementFamily> family) {
  families_.insert(families_.end() - 1, std::move(family));
}

void Session::Dispatch(const std::string& text, ResultHandler& handler, const fs::path* parquet_output,
                       Outcome& outcome) {
  StatementContext ctx{*this, *catalog_, *governor_, *conn_, handler, parquet_output, outcome};
  for (auto& family : families_) {
    if (family->Run(text, ctx)) return;
  }
  throw Error::Internal("no statement family took the statement");
}

void Session::RunQuery(duckdb::unique_ptr<duckdb::SQLStatement> statement, ResultHandler& handler,
                       const fs::path* parquet_output, Outcome& outcome,
                       const engine::ParquetOptions& options) {
  if (!parquet_output) {
    CheckStop();
    auto result = conn_->Stream(std::move(statement));
    return Deliver(*result, handler, outcome);
  }
  if (statement->type != duckdb::StatementType::SELECT_STATEMENT) {
    if (parquet_optional_) return RunQuery(std::move(statement), handler, nullptr, outcome);
    throw Error::InvalidArgument("--format parquet needs a query");
  }
  // The engine may only write inside its own directories: write there, then move.
  std::error_code ec;
  fs::create_directories(temp_dir_, ec);
  fs::path tmp = temp_dir_ / ("export-" + RandomHex() + ".parquet");
  try {
    int64_t rows = engine::WriteParquetFile(
        *conn_, std::move(statement->Cast<duckdb::SelectStatement>().node), tmp, options);
    outcome.rows = rows;
    fs::rename(tmp, *parquet_output, ec);
    if (ec) {  // another file system: copy, then remove
      fs::copy_file(tmp, *parquet_output, fs::copy_options::overwrite_existing, ec);
      if (ec) throw Error::Io("cannot write {}: {}", parquet_output->string(), ec.message());
      fs::remove(tmp, ec);
    }
    handler.OnStatus(fmt::format("wrote {} to {}", Plural(rows, "row", "rows"), parquet_output->string()));
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
  }
}

bool Session::RunsHere() const {
  auto it = partitioning_.find(statement_index_);
  return offload_ && it != partitioning_.end() && it->second.here;
}

void Session::RunOffloaded(duckdb::unique_ptr<duckdb::SQLStatement> statement, ResultHandler& handler,
                           const fs::path* parquet_output, Outcome& outcome, std::vector<fs::path>* parts,
                           const engine::ParquetOptions& options) {
  CheckStop();
  PlannedQuery planned;
  planned.index = statement_index_;
  planned.sql = statement->ToString();
  planned.field_ids = options.field_ids;
  std::vector<duckdb::LogicalType> types;
  conn_->Describe(statement->Copy(), planned.columns, types);  // resolved and verified as the caller
  try {
    planned.reads = governor_->Planned();
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kUnsupported) throw;
    offload_->RunsHere(planned, e.what());
    return RunQuery(std::move(statement), handler, parquet_output, outcome, options);
  }
  if (RunsHere()) {  // small: here, its rows (a temporary table's) where the nodes read them
    offload_->RunsHere(planned, "it reads only small results, not worth a Slurm job");
    fs::path shared =
        parts && parquet_output ? offload_->SharedFile(parquet_output->filename().string()) : "";
    if (shared.empty()) return RunQuery(std::move(statement), handler, parquet_output, outcome, options);
    RunQuery(std::move(statement), handler, &shared, outcome, options);
    return parts->push_back(shared);
  }
  if (auto it = partitioning_.find(statement_index_); it != partitioning_.end()) {
    DeclareSplit(planned, it->second);
    planned.parts_of = [this](const std::string& key, size_t parts) {
      return governor_->PlannedParts(key, parts);
    };
  }
  planned.parts_ok = parts && parquet_output;
  if (offload_->MaySplit()) planned.with = PlanAhead(planned);
  auto result = offload_->Run(planned, [this] { return stop_reason() != StopReason::kNone; });
  CheckStop();
  if (parquet_output) {
    if (parts) {  // the rows stay where the nodes wrote them, in the run's scratch folder
      if (result.parts.empty()) parts->push_back(result.file);
      parts->insert(parts->end(), result.parts.begin(), result.parts.end());
    } else {
      MoveFile(result.file, *parquet_output);
    }
    outcome.rows = result.rows;
    handler.OnStatus(
        fmt::format("wrote {} to {}", Plural(result.rows, "row", "rows"), parquet_output->string()));
    return;
  }
  auto read = engine::Parse("SELECT * FROM read_parquet(" + engine::QuoteString(result.file.string()) + ")");
  auto trusted = conn_->Trusted();  // Tarn's own read of the rows the node computed
  auto rows = conn_->Stream(std::move(read.at(0)));
  Deliver(*rows, handler, outcome);
}

lake::ParquetWrite Session::WriteOnNodes() {
  if (!offload_ || RunsHere()) return {};
  return [this](duckdb::unique_ptr<duckdb::SelectStatement> query, const engine::ParquetOptions& options) {
    fs::path file = RunFolder() / ("write-" + RandomHex() + ".parquet");  // if it must run here
    std::vector<fs::path> parts;
    Drain quiet;
    Outcome outcome;
    RunOffloaded(std::move(query), quiet, &file, outcome, &parts, options);
    if (parts.empty()) parts.push_back(file);
    return parts;
  };
}

void Session::EmitRows(const std::vector<std::string>& names,
                       const std::vector<std::vector<duckdb::Value>>& rows, ResultHandler& handler,
                       Outcome& outcome) {
  // The values are literals rendered by DuckDB itself (ToSQLString), never raw text.
  std::string cols;
  for (auto& n : names) cols += (cols.empty() ? "" : ", ") + engine::QuoteIdent(n);
  std::string sql;
  if (rows.empty()) {
    std::string nulls;
    for (size_t i = 0; i < names.size(); i++) nulls += (i ? ", " : "") + std::string("NULL::VARCHAR");
    sql = "SELECT * FROM (VALUES (" + nulls + ")) AS t(" + cols + ") WHERE false";
  } else {
    std::string values;
    for (auto& row : rows) {
      std::string r;
      for (auto& v : row) {
        auto type = v.type().id() == duckdb::LogicalTypeId::SQLNULL ? duckdb::LogicalType::VARCHAR : v.type();
        r += (r.empty() ? "CAST(" : ", CAST(") + (v.IsNull() ? std::string("NULL") : v.ToSQLString()) +
             " AS " + type.ToString() + ")";
      }
      values += (values.empty() ? "(" : ", (") + r + ")";
    }
    sql = "SELECT * FROM (VALUES " + values + ") AS t(" + cols + ")";
  }
  auto result = conn_->Run(sql);
  Deliver(*result, handler, outcome);
}

}  // namespace tarn::session
