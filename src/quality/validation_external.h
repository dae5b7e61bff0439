// Internals of validation (quality/validation.h): reading the side of a validation
// that is a table in PostgreSQL (docs/validation.md, "Across systems").
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>

#include "quality/external.h"
#include "quality/pg_source.h"
#include "quality/validation_spec.h"
#include "session/session.h"

namespace tarn::quality {

// The connection `name` if `principal` may use it; kNotFound otherwise, worded the
// same whether it is missing or not theirs.
const ExternalConnection& FindConnection(const ValidationContext& context, const std::string& name,
                                         const identity::Principal& principal);

// ExternalTables over one open connection.
class PgTables : public ExternalTables {
 public:
  explicit PgTables(PgSource& pg) : pg_(pg) {}
  std::vector<PgColumn> Describe(const ValidationSide& side) override {
    return pg_.Describe(side.table, side.name);
  }

 private:
  PgSource& pg_;
};

// What StageExternal read, for the run.
struct ExternalStaged {
  std::vector<session::FileInput> inputs;  // __ext_rows, __ext_segments, and the remote queries' tables
  nlohmann::json stats;  // the metrics' "external" block: segments, levels, rows and bytes read
};

// Runs the plan's remote queries, bisects segments by comparing their checksums in
// PostgreSQL with those of the lake side (queries run through `lake`, as the
// submitter), reads the records of the segments that differ, and writes it all as
// Parquet files under `dir` (which must exist and outlive the run).
ExternalStaged StageExternal(const ExternalPlan& plan, PgSource& pg, SchemaProbe& lake,
                             const std::filesystem::path& dir);

}  // namespace tarn::quality
