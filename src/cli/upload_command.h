// `tarn upload FILE database.table`: a local CSV, Parquet, JSON or .xlsx file becomes
// a managed table (or is added to one: --append, or replaces its rows: --replace),
// on a data directory as the operator or --as a user, or on a server
// (POST /v1/databases/{db}/tables/{table}/upload). Governed and audited as SQL's
// CREATE TABLE AS / INSERT are (session/upload.h).
//
//   tarn upload FILE DB.TABLE [--append|--replace] [--format F] [--sheet S] [--range A1:F99]
//               [--type COL=TYPE]... [--json] [-d DIR [--as USER] | --server URL]
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli/remote_flags.h"
#include "cli/sql_command.h"
#include "session/instance.h"

namespace tarn::cli {

class UploadCommand {
 public:
  UploadCommand(CLI::App& app, const std::function<void(CLI::App*)>& add_instance_flags,
                std::function<session::InstanceOptions()> instance_options);
  // After parsing: the exit code, or nullopt when `upload` was not chosen.
  std::optional<int> Run();

 private:
  std::function<session::InstanceOptions()> instance_options_;
  CLI::App* cmd_ = nullptr;
  std::string file_, table_, format_, sheet_, range_;
  std::vector<std::string> types_;
  bool append_ = false, replace_ = false, json_ = false;
  LocalCaller caller_;
  RemoteFlags remote_;
};

}  // namespace tarn::cli
