#include "engine/engine.h"
#include "engine/openssl_crypto.h"
#include "engine/sketch.h"
#include "engine/sql_text.h"

#include <duckdb/catalog/catalog.hpp>
#include <duckdb/main/client_context_state.hpp>
#include <duckdb/main/client_data.hpp>
#include <duckdb/main/config.hpp>
#include <duckdb/main/query_profiler.hpp>
#include <duckdb/optimizer/optimizer.hpp>
#include <duckdb/optimizer/optimizer_extension.hpp>
#include <duckdb/optimizer/remove_unused_columns.hpp>
#include <duckdb/parser/parsed_data/create_scalar_function_info.hpp>
#include <duckdb/parser/parser.hpp>
#include <duckdb/parser/statement/copy_statement.hpp>

namespace tarn::engine {

namespace {

constexpr const char* kStateKey = "tarn_connection_state";

}  // namespace

// Per-connection state DuckDB hands back to the replacement scan and the optimizer
// hook: the resolver, whether Tarn's own trusted SQL is running, the file a
// Tarn-issued COPY may write, and whether the current statement's plan was verified.
struct EngineConnection::State : public duckdb::ClientContextState {
  void QueryBegin(duckdb::ClientContext&) override {
    verified = false;
    if (resolver) resolver->Reset();
  }
  using duckdb::ClientContextState::QueryEnd;
  void QueryEnd(duckdb::ClientContext& context, duckdb::optional_ptr<duckdb::ErrorData>) override {
    if (measuring) AddUsage(context);
  }
  // Adds what the profiler measured of the query that just ended to `usage`.
  void AddUsage(duckdb::ClientContext& context) {
    auto root = duckdb::QueryProfiler::Get(context).GetRoot();
    if (!root) return;  // no plan ran (e.g. the statement failed to bind)
    auto& metrics = root->GetProfilingInfo().metrics;
    if (auto it = metrics.find(duckdb::MetricsType::CPU_TIME); it != metrics.end() && !it->second.IsNull())
      usage.cpu_seconds += it->second.GetValue<double>();
    if (auto it = metrics.find(duckdb::MetricsType::SYSTEM_PEAK_BUFFER_MEMORY);
        it != metrics.end() && !it->second.IsNull())
      usage.peak_memory_bytes = std::max(usage.peak_memory_bytes, it->second.GetValue<int64_t>());
  }
  std::shared_ptr<TableResolver> resolver;
  int trusted_depth = 0;
  std::string copy_target;
  bool verified = false;
  bool structural = false;  // DescribeStructure: verify the bound plan, pruned by structure only
  bool measuring = false;   // Measure(true): the profiler runs and `usage` adds up
  EngineUsage usage;
};

namespace {

// The only replacement scan the engine has: DuckDB's file-path scans are removed.
duckdb::unique_ptr<duckdb::TableRef> ResolveCatalogTable(duckdb::ClientContext& context,
                                                         duckdb::ReplacementScanInput& input,
                                                         duckdb::optional_ptr<duckdb::ReplacementScanData>) {
  auto state = context.registered_state->Get<EngineConnection::State>(kStateKey);
  if (!state || !state->resolver) return nullptr;
  if (!input.catalog_name.empty()) {
    throw duckdb::BinderException("name %s.%s.%s has too many parts: name tables as database.table",
                                  input.catalog_name, input.schema_name, input.table_name);
  }
  try {
    return state->resolver->Resolve(input.schema_name, input.table_name);
  } catch (const Error& e) {
    // Re-raise in DuckDB's vocabulary so the code survives the trip through the binder.
    switch (e.code()) {
      case ErrorCode::kNotFound: throw duckdb::CatalogException(e.what());
      case ErrorCode::kPermissionDenied: throw duckdb::PermissionException(e.what());
      case ErrorCode::kInvalidArgument: throw duckdb::BinderException(e.what());
      case ErrorCode::kConflict: throw duckdb::TransactionException(e.what());
      default: throw duckdb::IOException(e.what());
    }
  }
}

// Hands `plan` to the resolver's check, in DuckDB's exception vocabulary.
void VerifyWith(EngineConnection::State& state, duckdb::LogicalOperator& plan) {
  try {
    state.resolver->VerifyPlan(plan, state.copy_target);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kPermissionDenied) throw duckdb::PermissionException(e.what());
    if (e.code() == ErrorCode::kNotFound) throw duckdb::CatalogException(e.what());
    throw duckdb::InvalidInputException(e.what());
  }
}

// The pre-optimizer hook: hands every bound plan to the connection's resolver.
void PreparePlan(duckdb::OptimizerExtensionInput& input, duckdb::unique_ptr<duckdb::LogicalOperator>& plan) {
  auto state = input.context.registered_state->Get<EngineConnection::State>(kStateKey);
  if (!state || state->trusted_depth > 0 || !state->resolver) return;
  try {
    state->resolver->PreparePlan(plan);
  } catch (const Error& e) {
    throw duckdb::InvalidInputException(e.what());
  }
  if (state->structural) {
    // Only the columns the statement's structure needs, before any optimizer that
    // consults statistics could prune a scan or a filter away.
    duckdb::RemoveUnusedColumns unused(input.optimizer.binder, input.context, true);
    unused.VisitOperator(*plan);
    VerifyWith(*state, *plan);
  }
}

// The optimizer hook: hands every optimized plan to the connection's resolver.
void VerifyPlan(duckdb::OptimizerExtensionInput& input, duckdb::unique_ptr<duckdb::LogicalOperator>& plan) {
  auto state = input.context.registered_state->Get<EngineConnection::State>(kStateKey);
  if (!state) return;
  if (state->trusted_depth == 0 && state->resolver && !state->structural) VerifyWith(*state, *plan);
  state->verified = true;
}

std::string WithSlash(const std::filesystem::path& p) {
  std::string s = p.string();
  if (s.empty() || s.back() != '/') s += '/';
  return s;
}

}  // namespace

Engine::Engine(const EngineOptions& options) : options_(options) {
  duckdb::DBConfig config;
  try {
    config.SetOptionByName("autoinstall_known_extensions", duckdb::Value::BOOLEAN(false));
    config.SetOptionByName("autoload_known_extensions", duckdb::Value::BOOLEAN(false));
    config.SetOptionByName("allow_community_extensions", duckdb::Value::BOOLEAN(false));
    config.SetOptionByName("allow_unsigned_extensions", duckdb::Value::BOOLEAN(false));
    config.SetOptionByName("allow_persistent_secrets", duckdb::Value::BOOLEAN(false));
    if (!options.memory_limit.empty())
      config.SetOptionByName("memory_limit", duckdb::Value(options.memory_limit));
    if (options.threads > 0) config.SetOptionByName("threads", duckdb::Value::BIGINT(options.threads));
    if (!options.temp_directory.empty()) {
      config.SetOptionByName("temp_directory", duckdb::Value(options.temp_directory.string()));
    }
    for (const auto& dir : options.allowed_directories) {
      config.options.allowed_directories.insert(WithSlash(dir));
    }
    config.SetOptionByName("enable_external_access", duckdb::Value::BOOLEAN(false));
    db_ = duckdb::make_uniq<duckdb::DuckDB>(nullptr, &config);
  } catch (const std::exception& e) {
    throw ToError(duckdb::ErrorData(e));
  }
  auto& instance_config = duckdb::DBConfig::GetConfig(*db_->instance);
  instance_config.encryption_util = OpenSslEncryption();  // Parquet encryption at rest (lake/keyring.h)
  instance_config.replacement_scans.clear();
  instance_config.replacement_scans.emplace_back(ResolveCatalogTable);
  duckdb::OptimizerExtension verifier;
  verifier.pre_optimize_function = PreparePlan;
  verifier.optimize_function = VerifyPlan;
  instance_config.optimizer_extensions.push_back(verifier);
  {
    // kGuardFunction: the identity on BOOLEAN (see table_resolver.h).
    duckdb::ScalarFunction guard(kGuardFunction, {duckdb::LogicalType::BOOLEAN}, duckdb::LogicalType::BOOLEAN,
                                 [](duckdb::DataChunk& args, duckdb::ExpressionState&,
                                    duckdb::Vector& result) { result.Reference(args.data[0]); });
    duckdb::CreateScalarFunctionInfo info(std::move(guard));
    auto& catalog = duckdb::Catalog::GetSystemCatalog(*db_->instance);
    auto transaction = duckdb::CatalogTransaction::GetSystemTransaction(*db_->instance);
    catalog.CreateFunction(transaction, info);
  }
  RegisterSketchFunctions(*db_->instance);
  // No setting may change from here on (statements never reach SET, but this is
  // the second line).
  duckdb::Connection setup(*db_);
  // Parquet footers are cached per file (DuckDB re-validates an entry against the
  // file's modification time): lake data files are written once under fresh names,
  // so a statement over a table no longer re-reads and re-parses every footer.
  for (const char* sql : {"SET parquet_metadata_cache = true", "SET lock_configuration = true"}) {
    auto r = setup.Query(sql);
    ThrowIfError(*r);
  }
}

Engine::~Engine() = default;

std::unique_ptr<EngineConnection> Engine::Connect() {
  return std::make_unique<EngineConnection>(*db_);
}

EngineConnection::EngineConnection(duckdb::DuckDB& db) : conn_(db), state_(duckdb::make_shared_ptr<State>()) {
  conn_.context->registered_state->Insert(kStateKey, state_);
}

EngineConnection::~EngineConnection() = default;

void EngineConnection::SetTableResolver(std::shared_ptr<TableResolver> resolver) {
  state_->resolver = std::move(resolver);
}

void EngineConnection::Measure(bool on) {
  auto& config = duckdb::ClientConfig::GetConfig(*conn_.context);
  if (on) {
    config.profiler_settings = {duckdb::MetricsType::CPU_TIME,
                                duckdb::MetricsType::SYSTEM_PEAK_BUFFER_MEMORY};
    config.profiling_coverage = duckdb::ProfilingCoverage::ALL;
    config.emit_profiler_output = false;
  }
  config.enable_profiler = on;
  state_->measuring = on;
  state_->usage = {};
}

EngineUsage EngineConnection::TakeUsage() {
  return std::exchange(state_->usage, {});
}

EngineConnection::TrustedScope::TrustedScope(EngineConnection& c) : conn_(c) {
  conn_.state_->trusted_depth++;
}

EngineConnection::TrustedScope::~TrustedScope() {
  conn_.state_->trusted_depth--;
}

void EngineConnection::CheckVerified() {
  if (!state_->verified && state_->trusted_depth == 0 && state_->resolver) {
    throw Error::PermissionDenied("access denied: the statement could not be verified");
  }
}

duckdb::unique_ptr<duckdb::MaterializedQueryResult> EngineConnection::Run(const std::string& sql) {
  auto statements = Parse(sql);
  if (statements.size() != 1) throw Error::Internal("Run() takes one statement");
  return Run(std::move(statements[0]));
}

duckdb::unique_ptr<duckdb::MaterializedQueryResult> EngineConnection::Run(
    duckdb::unique_ptr<duckdb::SQLStatement> statement) {
  duckdb::unique_ptr<duckdb::QueryResult> result;
  try {
    auto pending = conn_.PendingQuery(std::move(statement), false);
    if (pending->HasError()) throw ToError(pending->GetErrorObject());
    CheckVerified();
    result = pending->Execute();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw ToError(duckdb::ErrorData(e));
  }
  ThrowIfError(*result);
  if (result->type != duckdb::QueryResultType::MATERIALIZED_RESULT)
    throw Error::Internal("expected a materialized result");
  return duckdb::unique_ptr_cast<duckdb::QueryResult, duckdb::MaterializedQueryResult>(std::move(result));
}

duckdb::unique_ptr<duckdb::QueryResult> EngineConnection::Stream(
    duckdb::unique_ptr<duckdb::SQLStatement> statement) {
  duckdb::unique_ptr<duckdb::QueryResult> result;
  try {
    auto pending = conn_.PendingQuery(std::move(statement), true);
    if (pending->HasError()) throw ToError(pending->GetErrorObject());
    CheckVerified();
    result = pending->Execute();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw ToError(duckdb::ErrorData(e));
  }
  ThrowIfError(*result);
  return result;
}

void EngineConnection::DescribeStructure(duckdb::unique_ptr<duckdb::SQLStatement> statement,
                                         std::vector<std::string>& names,
                                         std::vector<duckdb::LogicalType>& types) {
  state_->structural = true;
  try {
    Describe(std::move(statement), names, types);
  } catch (...) {
    state_->structural = false;
    throw;
  }
  state_->structural = false;
}

void EngineConnection::Describe(duckdb::unique_ptr<duckdb::SQLStatement> statement,
                                std::vector<std::string>& names, std::vector<duckdb::LogicalType>& types) {
  duckdb::unique_ptr<duckdb::PreparedStatement> prepared;
  try {
    prepared = conn_.Prepare(std::move(statement));
  } catch (const std::exception& e) {
    throw ToError(duckdb::ErrorData(e));
  }
  if (prepared->HasError()) throw ToError(prepared->error);
  names = prepared->GetNames();
  types = prepared->GetTypes();
}

void EngineConnection::Cancel() {
  conn_.Interrupt();
}

Error ToError(const duckdb::ErrorData& error) {
  using duckdb::ExceptionType;
  std::string msg = error.RawMessage();
  switch (error.Type()) {
    case ExceptionType::PARSER:
      return Error::InvalidArgument("{}{}", msg.starts_with("syntax error") ? "" : "syntax error: ", msg);
    case ExceptionType::CATALOG: return Error::NotFound("{}", msg);
    case ExceptionType::BINDER:
    case ExceptionType::CONVERSION:
    case ExceptionType::INVALID_INPUT:
    case ExceptionType::INVALID_TYPE:
    case ExceptionType::MISMATCH_TYPE:
    case ExceptionType::OUT_OF_RANGE:
    case ExceptionType::DIVIDE_BY_ZERO:
    case ExceptionType::CONSTRAINT:
    case ExceptionType::SYNTAX:
    case ExceptionType::DEPENDENCY: return Error::InvalidArgument("{}", msg);
    case ExceptionType::PERMISSION: return Error::PermissionDenied("{}", msg);
    case ExceptionType::INTERRUPT: return Error::Cancelled("query cancelled");
    case ExceptionType::OUT_OF_MEMORY: return Error::ResourceExhausted("out of memory: {}", msg);
    case ExceptionType::IO:
    case ExceptionType::HTTP: return Error::Io("{}", msg);
    case ExceptionType::NOT_IMPLEMENTED: return Error::Unsupported("{}", msg);
    case ExceptionType::TRANSACTION: return Error::Conflict("{}", msg);
    default: return Error::Internal("engine error: {}", msg);
  }
}

void ThrowIfError(duckdb::QueryResult& result) {
  if (result.HasError()) throw ToError(result.GetErrorObject());
}

std::vector<duckdb::unique_ptr<duckdb::SQLStatement>> Parse(const std::string& sql) {
  duckdb::Parser parser;
  try {
    parser.ParseQuery(SpellTimeTravel(sql));
  } catch (const std::exception& e) {
    // Whatever the parser objects to is a problem with the text: invalid argument.
    Error error = ToError(duckdb::ErrorData(e));
    throw Error(ErrorCode::kInvalidArgument, error.what());
  }
  std::vector<duckdb::unique_ptr<duckdb::SQLStatement>> out;
  for (auto& s : parser.statements) out.emplace_back(std::move(s));
  return out;
}

int64_t WriteParquetFile(EngineConnection& conn, duckdb::unique_ptr<duckdb::QueryNode> query,
                         const std::filesystem::path& file, const ParquetOptions& options) {
  std::string extra;
  if (!options.key_name.empty())
    extra += ", ENCRYPTION_CONFIG {footer_key: " + QuoteString(options.key_name) + "}";
  if (!options.field_ids.empty()) {
    std::string ids;
    for (auto& [name, id] : options.field_ids)
      ids += fmt::format("{}{}: {}", ids.empty() ? "" : ", ", QuoteString(name), id);
    extra += ", FIELD_IDS {" + ids + "}";
  }
  if (!options.partition_by.empty()) {
    std::string cols;
    for (auto& c : options.partition_by) cols += (cols.empty() ? "" : ", ") + QuoteIdent(c);
    extra += ", PARTITION_BY (" + cols +
             "), WRITE_PARTITION_COLUMNS true, OVERWRITE_OR_IGNORE true, FILENAME_PATTERN " +
             QuoteString(options.file_prefix + "_{i}");
  }
  auto statements =
      Parse("COPY (SELECT 1) TO " + QuoteString(file.string()) + " (FORMAT parquet, COMPRESSION " +
            (options.compression == ParquetCompression::kZstd ? "zstd" : "snappy") + extra + ")");
  statements.at(0)->Cast<duckdb::CopyStatement>().info->select_statement = std::move(query);
  conn.state_->copy_target = file.string();
  duckdb::unique_ptr<duckdb::MaterializedQueryResult> result;
  try {
    result = conn.Run(std::move(statements[0]));
  } catch (...) {
    conn.state_->copy_target.clear();
    throw;
  }
  conn.state_->copy_target.clear();
  return result->RowCount() ? result->GetValue(0, 0).GetValue<int64_t>() : 0;
}

std::string QuoteIdent(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string QuoteString(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

}  // namespace tarn::engine
