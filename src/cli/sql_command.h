// `tarn sql`: statements from the argument, --file or standard input, run locally
// through a session::Runner (as the operator, or --as a user under that user's
// limits) or on a server; with nothing given on a terminal, the interactive shell.
//
// Thread-safety: for the main thread of the tarn command.
#pragma once

#include <functional>
#include <string>

#include "cli/remote.h"
#include "session/instance.h"
#include "session/runner.h"

namespace tarn::cli {

// True when `tarn sql` should open the shell: no SQL, no file, stdin a terminal.
bool WantsShell(const std::string& sql, const std::string& file);

// The SQL to run: the argument, else --file, else standard input; throws
// kInvalidArgument when there is none.
std::string ReadSqlInput(const std::string& sql, const std::string& file);

// Who local statements run as: the operator, or (`as_user`) a user of the data
// directory; with `role`, only that role's grants (a role the user holds).
struct LocalCaller {
  std::string as_user;
  std::string role;
};

// The request local statements run under: as the operator, or --as a user of the
// data directory (kNotFound if there is none), origin "cli".
session::RunRequest LocalRequest(session::Instance& instance, const LocalCaller& caller);
// The local operator's Runner: no deadline and no result cap unless SET LIMIT gives one.
session::RunnerOptions LocalRunnerOptions();

// Runs `sql` on the data directory; returns the exit code (6 when a cap cut a result).
// `customize` may add to the request (files to stage, where written files go).
int RunLocalSql(const session::InstanceOptions& options, const std::string& sql, const SqlOutput& out,
                const LocalCaller& caller, const std::function<void(session::RunRequest&)>& customize = {});

// The shell, locally or against a server.
int RunLocalShell(const session::InstanceOptions& options, const SqlOutput& out, const LocalCaller& caller);
int RunRemoteShell(const RemoteOptions& remote, const SqlOutput& out);

// Columns of the terminal on stdout (0 when it is not a terminal).
size_t TerminalWidth();

}  // namespace tarn::cli
