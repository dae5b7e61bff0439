// The `reconciliation` job type (docs/reconciliation.md): a job run whose job is
//   {type: "reconciliation", pipeline: "<YAML>" | pipeline_location: "scripts/x.yaml",
//    params: {name: "value"}, files: {input: "up-..."}}
// checked at submission (the spec parses; the file is read then), and compiled when
// the run starts, as its submitter, into the SQL script the run executes.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "jobs/job_type.h"
#include "quality/pipeline.h"

namespace tarn::quality {

// `uploads`: the session::UploadStore folder a run's file inputs come from
// (job.files maps each file input to an upload of the submitter's).
std::shared_ptr<const jobs::JobType> MakeReconciliationJobType(std::filesystem::path uploads);

// A job's spec text (the reconciliation and validation types): job[key], at most
// 1 MiB, or the lake file job[key + "_location"] (.yaml, .yml or .json under scripts/,
// recorded in `stored` and named in `source`); exactly one of them. kInvalidArgument
// naming `field` otherwise.
std::string JobSpecText(const nlohmann::json& job, const std::string& field, const std::string& key,
                        const std::filesystem::path& lake_root, nlohmann::json& stored, std::string& source);

// The pipeline text with each ${name} replaced by params[name]. Values are 1-256 of
// letters, digits, space and - _ . : / (nothing YAML reads as structure); an unknown
// ${name} or a bad value is kInvalidArgument.
std::string ApplyParams(const std::string& text, const std::map<std::string, std::string>& params);

// Where file input `f` of the pipeline `source` is: its path as written, relative to
// `base_dir`. kNotFound naming the input if there is no such file.
std::filesystem::path FileInputPath(const FileInputSpec& f, const std::filesystem::path& base_dir,
                                    const std::string& source);

// Reads the file inputs of pipeline `text` (paths relative to `base_dir`) once, as
// `as.principal` through `runner`, into Parquet files in `scratch`, and returns them as
// the inputs a run of the compiled script (and CompileAs) stages. kNotFound naming
// the input for a missing file; kInvalidArgument naming the file for one that does
// not read.
std::vector<session::FileInput> LoadFileInputs(const std::string& text, const std::string& source,
                                               const std::filesystem::path& base_dir,
                                               const std::filesystem::path& scratch, const session::RunRequest& as,
                                               session::Runner& runner);

// Compiles the pipeline `text` as `as.principal` through `runner`, with `as.inputs`
// staged (LoadFileInputs) for the pipeline's file inputs.
CompiledPipeline CompileAs(const std::string& text, const std::string& source, const session::RunRequest& as,
                           session::Runner& runner);

}  // namespace tarn::quality
