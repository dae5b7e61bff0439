// Reconciliation pipelines (docs/reconciliation.md): a YAML spec of named inputs and
// ordered, named steps, compiled to engine SQL.
//
// Compile() turns a pipeline into a script of Tarn SQL statements: every step is a
// common table expression over the names before it, and each `output` step is one
// statement (CREATE TABLE / INSERT INTO / INSERT OVERWRITE ... WITH ... SELECT) that
// carries only the steps it needs, so the engine plans and fuses them as one query.
// A step that two or more statements would compute is computed once instead, into a
// temporary table of the run (CREATE TEMP TABLE, docs/sql.md) that they read. Checks a step asks for (join
// `validate`, lookup `on_duplicate: error`) are statements of their own that fail with the first offending
// keys. The script is then run as any SQL is — through the Runner, as the submitter: every table it reads and
// writes is governed and audited as theirs.
//
// Compiling needs each step's columns (a `select` of "all but", a `pivot`'s new
// columns): a SchemaProbe answers by binding the SQL so far as the submitter, so a
// table they may not read fails the compile as it would fail the run.
//
// Thread-safety: pure functions over their arguments.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tarn::quality {

// A column of a step's result.
struct Column {
  std::string name;
  std::string type;  // DuckDB's name of the type: VARCHAR, DECIMAL(14,2), DATE, ...
};

// Answers questions about SQL the compiler builds, as the pipeline's submitter.
class SchemaProbe {
 public:
  virtual ~SchemaProbe() = default;
  // The columns `query` returns (it is bound, not run).
  virtual std::vector<Column> Describe(const std::string& query) = 0;
  // The first column of `query`'s rows as text (NULL as ""), at most `limit` rows.
  virtual std::vector<std::string> Values(const std::string& query, size_t limit) = 0;
};

class Pipeline;  // a parsed spec (pipeline.cpp)

// Parses a pipeline spec (YAML or JSON). `source` names it in errors ("recon.yaml").
// Throws kInvalidArgument "<source> line N: step 'x', field 'y': ..." for bad YAML,
// an unknown step type or field, a name used twice or a step reading a name that
// comes later or does not exist.
std::shared_ptr<const Pipeline> ParsePipeline(const std::string& text, const std::string& source);

// One statement of a compiled pipeline.
struct CompiledStatement {
  enum Kind { kCheck, kOutput, kSummary, kMaterialize } kind;
  std::string step;  // the step it belongs to
  std::string sql;
  std::string note;  // what it does, for explain and the run's log
  // The tables (db.table) it may be split by and their key columns
  // (session::Partitioning); empty: it may not be.
  std::map<std::string, std::vector<std::string>> partition_keys;
  // Or the temporary table it may be split by the parts of (session::Partitioning::
  // parts_of): a step's partial aggregates, which the next statement combines.
  std::string parts_of;
  // With Compile's split_aggregates: it reads only small results (combinations of
  // partial ones, what is made from them), so it runs in the server
  // (session::Partitioning::here).
  bool here = false;
};

// A step as explain shows it.
struct CompiledStep {
  std::string name;
  std::string op;   // filter, lookup, ...
  int line = 0;     // in the spec
  std::string sql;  // its common table expression's query
  std::vector<Column> columns;
  std::string materialized;  // "" when it is fused into the statements that use it; else why not
};

// A file a pipeline reads (inputs: {bank: {file: statement.xlsx, sheet: March}}): a
// run stages it as the temporary table `table` before its first statement
// (session::FileInput), and the compiled SQL reads that table.
struct FileInputSpec {
  std::string input;   // the input's name
  std::string table;   // the temporary table: file_<input>
  std::string file;    // the path as the spec writes it (relative to the spec's folder)
  std::string format;  // csv, parquet, json, xlsx ("": from the file's name)
  std::string sheet, range;
  std::vector<std::pair<std::string, std::string>> types;  // column, SQL type
};

struct CompiledPipeline {
  std::string name;
  std::vector<FileInputSpec> files;  // the file inputs, to stage before the script
  std::vector<CompiledStep> steps;
  std::vector<CompiledStatement> statements;  // checks and outputs in spec order, then the summary
  // The whole script, statements separated by ";\n".
  std::string Script() const;
  // What `tarn recon explain` prints: each step's SQL and whether it is materialized,
  // then the statements.
  std::string Explain() const;
};

// Compiles `pipeline`; parameters ${name} in the spec were replaced by ParsePipeline's
// caller. Throws kInvalidArgument naming the step, field and line for what only the
// inputs' columns reveal (an unknown column, a formula that does not compile), and
// whatever `probe` throws (a table that does not exist or may not be read).
// `split_aggregates` (for an offload that may split): an aggregate step whose values
// all combine from partial aggregates (expr.h, AggregateParts) is computed in two
// statements, its partial aggregates part by part of its input's files, then their
// combination.
CompiledPipeline Compile(const Pipeline& pipeline, SchemaProbe& probe, bool split_aggregates = false);

// The file inputs of `pipeline`, as Compile will read them (a caller stages them for
// the probe's questions too). kInvalidArgument naming the input and field.
std::vector<FileInputSpec> FileInputs(const Pipeline& pipeline);

// The step types, in documentation order.
std::vector<std::string> StepTypes();

}  // namespace tarn::quality
