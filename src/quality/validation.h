// Data validation (docs/validation.md): proves that a target table holds exactly a
// source table's records, in both directions, and says where it does not.
//
// A spec (YAML or JSON) names a source and a target (lake tables, each optionally
// filtered), the keys that pair records (none: whole rows are compared as multisets),
// the columns compared with their tolerances and normalisations, not-null and row
// rules, and thresholds that decide pass or fail.
//
// PlanValidation turns a spec into one script of Tarn SQL run as the submitter (every
// read governed and audited as theirs): the records that differ go to a mismatch table
// in the lake (one row per record: missing | extra | changed), and queries give the
// counts, profiles and per-column figures. ValidationMetrics turns their rows into the
// metrics JSON (with a `griffin` block: Apache Griffin's accuracy definitions) and
// decides each threshold. RunValidation does all of it through a Runner and appends
// one summary row to quality.validation_results.
//
// Thread-safety: pure functions over their arguments; RunValidation blocks.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "jobs/job_type.h"
#include "quality/external.h"
#include "quality/pipeline.h"
#include "session/runner.h"

namespace tarn::quality {

struct ValidationSpec;  // a parsed spec (validation_spec.cpp)
struct ExternalPlan;    // what a validation reads in PostgreSQL (validation_spec.h)
class ExternalTables;   // how it learns those tables' columns

// Parses a spec; `source` names it in errors. Throws kInvalidArgument "<source> line
// N, field 'f': ..." for bad YAML, an unknown field, a bad name, rule or threshold.
std::shared_ptr<const ValidationSpec> ParseValidation(const std::string& text, const std::string& source);

// One statement of a validation's script whose rows the metrics are made of.
struct ValidationQuery {
  size_t statement = 0;  // its index in the script
  std::string part;      // what it computes: counts, profile_source, accuracy, ...
};

struct ValidationPlan {
  std::string name;
  std::string mismatch_table;  // database.table, as the spec names it
  std::vector<std::string> statements;
  std::vector<ValidationQuery> queries;
  nlohmann::json shape;  // what the metrics need besides the rows: columns, rules, thresholds...
  // With a side in PostgreSQL: what is read there before the script runs (the script
  // reads the staged results); null otherwise.
  std::shared_ptr<const ExternalPlan> external;
  // The statements (by index) that may be split by key on a cluster: the tables they
  // read (db.table) -> their key columns. Only with PlanValidation's `split`.
  std::map<size_t, std::map<std::string, std::vector<std::string>>> partitioning;
  // Or the table (db.table) whose files they may be split by the parts of
  // (session::Partitioning::parts_of): partial figures a later query combines.
  std::map<size_t, std::string> parts_of;
  // The queries that combine such figures (a row per part or bucket): small, they run
  // in the server (session::Partitioning::here).
  std::set<size_t> here;
  std::string Script() const;
};

// Plans `spec` against the tables as `probe`'s principal sees them (their columns and
// types). kInvalidArgument naming the field for a column either side lacks, types that
// cannot be compared, a threshold on an unknown metric; what `probe` throws for a table
// that does not exist or may not be read (worded the same).
// `external` describes a side in PostgreSQL (null: such a spec fails, kInvalidArgument).
// `split`: the run may split statements by key (a Slurm executor): the diff of two lake
// tables is then one join split by key instead of bucket checksums first.
ValidationPlan PlanValidation(const ValidationSpec& spec, SchemaProbe& probe,
                              ExternalTables* external = nullptr, bool split = false);

// The rows of one query: column names and each row's values as JSON.
struct QueryRows {
  std::vector<std::string> columns;
  std::vector<std::vector<nlohmann::json>> rows;
};

// The metrics JSON from the plan and its queries' rows (indexed like plan.queries);
// `passed` and `thresholds` say what each threshold found.
nlohmann::json ValidationMetrics(const ValidationPlan& plan, const std::vector<QueryRows>& rows);

// The report: one self-contained HTML page (no script, nothing fetched) of `metrics`.
std::string ValidationReportHtml(const nlohmann::json& metrics);

// What a validation run did.
struct ValidationOutcome {
  session::RunResult run;          // the script's run (error set: the run failed)
  nlohmann::json metrics;          // empty if the run failed before them
  std::vector<std::string> files;  // written into the output folder
  // The thresholds that failed, as "missing == 0 (is 12)"; the run is then FAILED.
  std::vector<std::string> failed_checks;
};

// Plans and runs `spec_text` as `request`'s principal through `runner`, statements
// reported to `log`; writes metrics.json (and report.html) into request.output_dir
// when set, and appends the summary row to quality.validation_results. `request.sql`
// is ignored.
// A side in PostgreSQL goes through `context`'s connections (quality/external.h).
ValidationOutcome RunValidation(const std::string& spec_text, const std::string& source,
                                const session::RunRequest& request, session::Runner& runner,
                                session::ResultHandler& log, const ValidationContext& context = {});

// The script RunValidation would run for `spec_text`, planned as `request`'s
// principal; runs nothing (a side in PostgreSQL is only described).
std::string ExplainValidation(const std::string& spec_text, const std::string& source,
                              const session::RunRequest& request, session::Runner& runner,
                              const ValidationContext& context = {});

// The job type `validation`: job {type: validation, spec: "<YAML>" | spec_location:
// "scripts/x.yaml"}, checked at submission (the spec parses) and planned when the run
// starts, as its submitter. A threshold that fails ends the run FAILED naming it; the
// run's files (metrics.json, report.html) are kept either way.
std::shared_ptr<const jobs::JobType> MakeValidationJobType(ValidationContext context = {});

}  // namespace tarn::quality
