// JobType: a kind of job other than SQL scripts, handed to the job service (the
// quality component provides `reconciliation`). A job of a type is stored as its
// request's job object (checked by Parse) and turned into the SQL script it runs when
// a run starts (Script), so the run then goes through the Runner like any SQL job:
// governed and audited as its submitter, cancellable, retried, its log and result
// kept the same way. `jobs` never includes the components that provide types.
//
// Thread-safety: implementations are immutable and thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "session/runner.h"

namespace tarn::jobs {

class JobType {
 public:
  virtual ~JobType() = default;
  // The value of job.type that selects this type ("reconciliation").
  virtual std::string name() const = 0;
  // Checks a request's job object (its `type` is name()) and returns it as stored.
  // Files it names are read from `lake_root` now. Throws kInvalidArgument naming the
  // field ("field 'job.pipeline': ...").
  virtual nlohmann::json Parse(const nlohmann::json& job, const std::string& field,
                               const std::filesystem::path& lake_root) const = 0;
  // The script a run of the stored `job` executes, made as the run starts. `run` is the
  // run's request (principal, role, origin): anything the type asks the engine to make
  // the script goes through `runner` as that principal, and the type may add what the
  // run stages (run.inputs). Throws what makes the run fail.
  virtual std::string Script(const nlohmann::json& job, session::RunRequest& run,
                             session::Runner& runner) const = 0;
  // A type whose run is more than its script (validation: figures and files made from
  // the script's results, a state decided by them) runs itself here: `run` is complete
  // (principal, origin.run_id, output_dir, commit_scope), statements go through
  // `runner` and are reported to `log`. nullopt (the default): the job service runs
  // Script()'s script.
  virtual std::optional<session::RunResult> Run(const nlohmann::json& job, session::RunRequest& run,
                                                session::Runner& runner, session::ResultHandler& log) const {
    (void)job, (void)run, (void)runner, (void)log;
    return std::nullopt;
  }
};

using JobTypes = std::vector<std::shared_ptr<const JobType>>;

// The type named `name` in `types`, or null.
const JobType* FindJobType(const JobTypes& types, const std::string& name);

// Reads a file of the lake's scripts/ folder whose name ends in one of `suffixes`, at
// most 1 MiB; kInvalidArgument naming `field` for anything else (outside the folder,
// a symlink leaving it, missing, too large).
std::string ReadLakeScript(const std::string& location, const std::filesystem::path& lake_root,
                           const std::vector<std::string>& suffixes, const std::string& field);

}  // namespace tarn::jobs
