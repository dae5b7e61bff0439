// The `reconciliation` job type (docs/reconciliation.md): a job run whose job is
//   {type: "reconciliation", pipeline: "<YAML>" | pipeline_location: "scripts/x.yaml",
//    params: {name: "value"}}
// checked at submission (the spec parses; the file is read then), and compiled when
// the run starts, as its submitter, into the SQL script the run executes.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "jobs/job_type.h"
#include "quality/pipeline.h"

namespace tarn::quality {

std::shared_ptr<const jobs::JobType> MakeReconciliationJobType();

// The pipeline text with each ${name} replaced by params[name]. Values are 1-256 of
// letters, digits, space and - _ . : / (nothing YAML reads as structure); an unknown
// ${name} or a bad value is kInvalidArgument.
std::string ApplyParams(const std::string& text, const std::map<std::string, std::string>& params);

// Compiles the pipeline `text` as `as.principal` through `runner`.
CompiledPipeline CompileAs(const std::string& text, const std::string& source, const session::RunRequest& as,
                           session::Runner& runner);

}  // namespace tarn::quality
