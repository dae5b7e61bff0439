// A validation run (plan, script, metrics, files, summary row) and the `validation`
// job type.
#include <fmt/format.h>

#include <chrono>

#include "audit/audit_log.h"
#include "audit/events.h"
#include "common/error.h"
#include "common/util.h"
#include "engine/result_writer.h"
#include "quality/expr_functions.h"
#include "quality/recon_job.h"
#include "quality/runner_probe.h"
#include "quality/validation_external.h"
#include "quality/validation_spec.h"

namespace tarn::quality {

namespace {

using nlohmann::json;

// A value as JSON (engine::JsonValue: numbers as numbers, non-finite ones and dates as text).
json ToJson(const duckdb::Value& v) {
  return json::parse(engine::JsonValue(v, v.type()));
}

// Hands every statement to the run's log, and keeps the rows of the plan's queries.
class Capture : public session::ResultHandler {
 public:
  Capture(const ValidationPlan& plan, session::ResultHandler& log) : rows(plan.queries.size()), log_(log) {
    for (size_t i = 0; i < plan.queries.size(); i++) wanted_[plan.queries[i].statement] = i;
  }
  void OnStatementBegin(const session::StatementStart& s) override {
    auto it = wanted_.find(s.index);
    current_ = it == wanted_.end() ? nullptr : &rows[it->second];
    log_.OnStatementBegin(s);
  }
  void OnColumns(const std::vector<std::string>& names,
                 const std::vector<duckdb::LogicalType>& types) override {
    if (current_) current_->columns = names;
    log_.OnColumns(names, types);
  }
  bool OnChunk(duckdb::DataChunk& chunk) override {
    if (current_) {
      for (duckdb::idx_t r = 0; r < chunk.size(); r++) {
        std::vector<json> row;
        for (duckdb::idx_t c = 0; c < chunk.ColumnCount(); c++) row.push_back(ToJson(chunk.GetValue(c, r)));
        current_->rows.push_back(std::move(row));
      }
    }
    bool more = log_.OnChunk(chunk);
    return current_ != nullptr || more;
  }
  void OnRowsEnd() override { log_.OnRowsEnd(); }
  void OnStatus(const std::string& message) override { log_.OnStatus(message); }
  void OnStatementEnd(const session::StatementEnd& e) override { log_.OnStatementEnd(e); }

  std::vector<QueryRows> rows;

 private:
  session::ResultHandler& log_;
  std::map<size_t, size_t> wanted_;
  QueryRows* current_ = nullptr;
};

constexpr const char* kResultsTable = "\"quality\".\"validation_results\"";
constexpr const char* kResultsColumns =
    "validated_at TIMESTAMP, validation VARCHAR, run_id VARCHAR, submitted_by VARCHAR, source VARCHAR, "
    "target "
    "VARCHAR, source_rows BIGINT, target_rows BIGINT, matched BIGINT, missing BIGINT, extra BIGINT, changed "
    "BIGINT, matched_fraction DOUBLE, passed BOOLEAN, failed_checks VARCHAR, metrics VARCHAR";

// The statements that append the run's summary row (and make the table first if the
// submitter sees none).
std::string SummaryScript(const json& m, const std::vector<std::string>& failed, const std::string& run_id,
                          const std::string& user, bool table_exists, bool database_exists) {
  std::string checks;
  for (auto& f : failed) checks += (checks.empty() ? "" : "; ") + f;
  std::string sql =
      table_exists ? "" : fmt::format("CREATE TABLE {} ({});\n", kResultsTable, kResultsColumns);
  if (!database_exists) sql = "CREATE DATABASE IF NOT EXISTS \"quality\";\n" + sql;
  return sql + fmt::format(
                   "INSERT INTO {} SELECT now()::TIMESTAMP, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, "
                   "{}, {}, {}",
                   kResultsTable, StringLiteral(m["validation"]), StringLiteral(run_id), StringLiteral(user),
                   StringLiteral(m["source"]["table"]), StringLiteral(m["target"]["table"]),
                   m["source"]["rows"].get<int64_t>(), m["target"]["rows"].get<int64_t>(),
                   m["matched"].get<int64_t>(), m["missing"].get<int64_t>(), m["extra"].get<int64_t>(),
                   m["changed"].get<int64_t>(), fmt::format("{:.17g}", m["matched_fraction"].get<double>()),
                   m["passed"].get<bool>() ? "TRUE" : "FALSE", StringLiteral(checks),
                   StringLiteral(m.dump()));
}

// The side of `spec` in PostgreSQL, or null.
const ValidationSide* ExternalSide(const ValidationSpec& spec) {
  if (!spec.source.connection.empty()) return &spec.source;
  return spec.target.connection.empty() ? nullptr : &spec.target;
}

// Records a read of an external table (or the refusal of one) in the audit trail.
void AuditExternal(const ValidationContext& context, const session::RunRequest& request,
                   const ValidationSide& side, const Error* error, const json& stats, bool denied = false) {
  if (!context.audit) return;
  audit::ActionEvent e;
  e.event = "external_read";
  e.action = "VALIDATE";
  const auto& p = request.principal;
  e.actor = {p.user, p.groups, p.role.empty() ? std::vector<std::string>{} : std::vector<std::string>{p.role},
             p.issuer};
  e.origin = request.origin;
  e.outcome = denied ? audit::Outcome::kDenied : audit::OutcomeOf(error);
  if (error) e.reason = error->what();
  e.details = {{"connection", side.connection}, {"table", side.name}};
  for (const char* k : {"rows_transferred", "bytes_transferred", "segments_differing"}) {
    if (stats.contains(k)) e.details[k] = stats[k];
  }
  context.audit->Append(audit::ToJson(e));
}

// Opens the connection of a spec's side in PostgreSQL (if it has one) as `request`'s
// principal may; refusals and failures are audited.
std::unique_ptr<PgSource> OpenExternal(const ValidationSpec& spec, const ValidationContext& context,
                                       const session::RunRequest& request) {
  const ValidationSide* side = ExternalSide(spec);
  if (!side) return nullptr;
  const ExternalConnection* connection = nullptr;
  try {
    connection = &FindConnection(context, side->connection, request.principal);
    return std::make_unique<PgSource>(*connection, 300);
  } catch (const Error& e) {
    AuditExternal(context, request, *side, &e, json::object(), connection == nullptr);
    throw;
  }
}

}  // namespace

ValidationOutcome RunValidation(const std::string& spec_text, const std::string& source,
                                const session::RunRequest& request, session::Runner& runner,
                                session::ResultHandler& log, const ValidationContext& context) {
  ValidationOutcome out;
  auto spec = ParseValidation(spec_text, source);
  RunnerProbe probe(runner, request.principal, request.origin, request.role, request.inputs);
  auto pg = OpenExternal(*spec, context, request);
  std::unique_ptr<PgTables> tables = pg ? std::make_unique<PgTables>(*pg) : nullptr;
  // On a cluster that splits statements (an offload) the diff may be split by key.
  auto plan = PlanValidation(*spec, probe, tables.get(), request.offload && request.offload->MaySplit());
  bool results_exist = true;
  try {
    probe.Describe(std::string("SELECT * FROM ") + kResultsTable);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kNotFound) throw;
    results_exist = false;
  }
  bool quality_exists =
      results_exist || plan.mismatch_table.rfind("quality.", 0) == 0 || DatabaseExists(probe, "quality");
  session::RunRequest run = request;
  run.sql = plan.Script();
  run.parquet_output.reset();
  for (auto& [i, keys] : plan.partitioning) run.partitioning[i] = {keys, 0, "", false};
  for (auto& [i, table] : plan.parts_of) run.partitioning[i] = {{}, 0, table, false};
  for (size_t i : plan.here) run.partitioning[i].here = true;
  TempFolder scratch("tarn-validation-", "the validation's scratch folder");
  json external;
  if (plan.external) {
    const ValidationSide& side = *ExternalSide(*spec);
    try {
      auto staged = StageExternal(*plan.external, *pg, probe, scratch.path());
      run.inputs.insert(run.inputs.end(), staged.inputs.begin(), staged.inputs.end());
      external = staged.stats;
    } catch (const Error& e) {
      AuditExternal(context, request, side, &e, json::object());
      throw;
    }
    AuditExternal(context, request, side, nullptr, external);
  }
  Capture capture(plan, log);
  out.run = runner.Run(run, capture);
  if (out.run.error) return out;
  out.metrics = ValidationMetrics(plan, capture.rows);
  if (!external.is_null()) out.metrics["external"] = external;
  out.metrics["run_id"] = out.run.run_id;
  out.metrics["submitted_by"] = request.principal.user;
  out.failed_checks = FailedChecks(out.metrics);
  if (request.output_dir) {
    WriteFileAtomic(*request.output_dir / "metrics.json", out.metrics.dump(2) + "\n", 0600);
    WriteFileAtomic(*request.output_dir / "report.html", ValidationReportHtml(out.metrics), 0600);
    out.files = {"metrics.json", "report.html"};
  }
  session::RunRequest summary = request;
  summary.origin.run_id = request.origin.run_id.empty() ? "" : request.origin.run_id + ".summary";
  summary.sql = SummaryScript(out.metrics, out.failed_checks, out.run.run_id, request.principal.user,
                              results_exist, quality_exists);
  summary.parquet_output.reset();
  summary.offload.reset();  // one row of figures: the server appends it
  summary.partitioning.clear();
  summary.inputs.clear();
  summary.output_dir.reset();
  if (request.commit_scope)
    summary.commit_scope =
        catalog::CommitKey{request.commit_scope->scope, request.commit_scope->key + "/summary"};
  auto appended = runner.Run(summary, log);
  if (appended.error) {
    out.run.error =
        Error(appended.error->code(),
              fmt::format("validation {}: the summary row was not appended to quality.validation_results: {}",
                          plan.name, appended.error->what()));
    out.run.state = appended.state;
    return out;
  }
  if (!out.failed_checks.empty()) {
    std::string checks;
    for (auto& f : out.failed_checks) checks += (checks.empty() ? "" : "; ") + f;
    out.run.state = session::RunState::kFailed;
    out.run.error = Error(ErrorCode::kConflict, fmt::format("validation {} failed: {}", plan.name, checks));
  }
  return out;
}

std::string ExplainValidation(const std::string& spec_text, const std::string& source,
                              const session::RunRequest& request, session::Runner& runner,
                              const ValidationContext& context) {
  auto spec = ParseValidation(spec_text, source);
  RunnerProbe probe(runner, request.principal, request.origin, request.role, request.inputs);
  auto pg = OpenExternal(*spec, context, request);
  std::unique_ptr<PgTables> tables = pg ? std::make_unique<PgTables>(*pg) : nullptr;
  return PlanValidation(*spec, probe, tables.get()).Script();
}

namespace {

class ValidationJob : public jobs::JobType {
 public:
  explicit ValidationJob(ValidationContext context) : context_(std::move(context)) {}
  std::string name() const override { return "validation"; }

  nlohmann::json Parse(const nlohmann::json& job, const std::string& field,
                       const std::filesystem::path& lake_root) const override {
    for (auto& [k, v] : job.items()) {
      if (k != "type" && k != "spec" && k != "spec_location")
        throw Error::InvalidArgument("unknown field '{}' in field '{}' (known: type, spec, spec_location)",
                                     k.substr(0, 64), field);
    }
    nlohmann::json stored = {{"type", name()}};
    std::string source = "the spec";
    std::string text = JobSpecText(job, field, "spec", lake_root, stored, source);
    ParseValidation(text, source);  // a spec error is the submitter's 400 now
    stored["spec"] = text;
    return stored;
  }

  std::string Script(const nlohmann::json& job, session::RunRequest& run,
                     session::Runner& runner) const override {
    return ExplainValidation(job.value("spec", ""), Source(job), run, runner, context_);
  }

  std::optional<session::RunResult> Run(const nlohmann::json& job, session::RunRequest& run,
                                        session::Runner& runner, session::ResultHandler& log) const override {
    return RunValidation(job.value("spec", ""), Source(job), run, runner, log, context_).run;
  }

 private:
  static std::string Source(const nlohmann::json& job) {
    return job.value("spec_location", std::string("the spec"));
  }
  ValidationContext context_;
};

}  // namespace

std::shared_ptr<const jobs::JobType> MakeValidationJobType(ValidationContext context) {
  return std::make_shared<ValidationJob>(std::move(context));
}

}  // namespace tarn::quality
