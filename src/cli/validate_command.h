// `tarn validate`: data validation (docs/validation.md).
//
//   tarn validate SPEC [-d DIR] [--as USER] [--out DIR] [--json] [--explain] [--config tarn.toml]
//   tarn validate SPEC --server URL [--app A] [--name N] [--wait [--out DIR]] [--json]
//
// Locally the spec is planned and run on the data directory, as the operator or --as a
// user (every table read as that user, audited); metrics.json goes to --out and a
// summary to stdout (--json: the metrics). With a server it is submitted as a job run
// of type validation; --wait follows it and then downloads its files into --out.
// --explain plans the spec as the caller and prints the script a run executes, running
// nothing. Exit codes: 0 every threshold held, 1 one failed (FAILED), others as for any error.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <string>

#include "cli/remote_flags.h"
#include "cli/sql_command.h"
#include "quality/external.h"
#include "session/instance.h"

namespace tarn::cli {

class ValidateCommand {
 public:
  ValidateCommand(CLI::App& app, const std::function<void(CLI::App*)>& add_instance_flags,
                  std::function<session::InstanceOptions()> instance_options);
  // After parsing: the exit code, or nullopt when `tarn validate` was not chosen.
  std::optional<int> Run();

 private:
  int Local();
  int Remote();
  quality::ValidationContext Context(session::Instance& instance) const;

  std::function<session::InstanceOptions()> instance_options_;
  CLI::App* cmd_ = nullptr;
  std::string file_;
  LocalCaller caller_;
  std::string application_ = "default";
  std::string name_;
  bool wait_ = false;
  bool json_ = false;
  bool explain_ = false;
  std::string out_dir_ = ".";
  std::string config_file_;
  RemoteFlags remote_;
};

// The human summary of a validation's metrics.
std::string ValidationSummary(const nlohmann::json& metrics);

}  // namespace tarn::cli
