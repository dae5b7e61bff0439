// `tarn recon`: reconciliation pipelines (docs/reconciliation.md).
//
//   tarn recon validate PIPELINE [--param k=v]... [-d DIR] [--as USER]
//   tarn recon explain PIPELINE [--param k=v]... [-d DIR] [--as USER] [--sql]
//   tarn recon run PIPELINE [--param k=v]... [--app A] [--name N] [--wait [--out DIR]] [--json] --server URL
//   tarn recon run PIPELINE [--param k=v]... [-d DIR] [--as USER] [--out DIR]
//   tarn recon functions
//
// validate and explain compile the pipeline against a data directory, as the operator
// or --as a user of it (every table read as that user, audited): validate says whether
// it compiles, explain prints each step's SQL, whether it is materialized, and the
// statements (--sql: only the script). run submits it to a server as a job run of
// type reconciliation; --wait follows it (exit 0 SUCCESS, 1 FAILED, 6 CANCELLED) and
// prints its summary. Without a server, run compiles and runs it on the data
// directory (statuses on stderr, the summary on stdout).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/remote_flags.h"
#include "cli/sql_command.h"
#include "session/instance.h"

namespace tarn::cli {

class ReconCommands {
 public:
  // `add_instance_flags` adds --data-dir and friends to a command; `instance_options`
  // reads them after parsing.
  ReconCommands(CLI::App& app, const std::function<void(CLI::App*)>& add_instance_flags,
                std::function<session::InstanceOptions()> instance_options);
  // After parsing: the chosen command's exit code, or nullopt when none of these was chosen.
  std::optional<int> Run();

 private:
  int Compile(bool explain);
  int Submit();
  std::map<std::string, std::string> Params() const;

  std::function<session::InstanceOptions()> instance_options_;
  CLI::App* recon_ = nullptr;
  CLI::App* validate_ = nullptr;
  CLI::App* explain_ = nullptr;
  CLI::App* run_ = nullptr;
  CLI::App* functions_ = nullptr;
  std::string file_;
  std::vector<std::string> params_;
  LocalCaller caller_;
  bool sql_only_ = false;
  std::string application_ = "default";
  std::string name_;
  bool wait_ = false;
  bool json_ = false;
  std::string out_dir_ = ".";
  RemoteFlags remote_;
};

}  // namespace tarn::cli
