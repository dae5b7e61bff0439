// The interactive SQL shell: `tarn sql` on a terminal with no SQL given.
//
// Line editing and history (libedit; ~/.local/state/tarn/history, mode 0600),
// statements that span lines until a ';' outside quotes and comments, completion of
// the databases, tables and columns the caller may see, and backslash commands:
// \help, \q, \timing, \format table|csv|json, \x (expanded rows). Ctrl-C on an
// empty or half-typed line clears it; during a statement it cancels the statement
// (on the server too) and the shell goes on. Ctrl-D or \q leaves.
//
// Thread-safety: RunShell runs on the main thread, once at a time.
#pragma once

#include <string>
#include <vector>

#include "cli/remote.h"
#include "cli/signals.h"

namespace tarn::cli {

// Where the shell's statements run: the local data directory or a server.
class ShellBackend {
 public:
  virtual ~ShellBackend() = default;
  // Runs `sql`, printing rows on stdout and statuses on stderr; throws tarn::Error.
  // Runs on a thread of its own while the shell waits.
  virtual void Run(const std::string& sql, const SqlOutput& out) = 0;
  // Cancels what Run runs (from the shell's thread, while Run works; repeated until
  // Run returns, so it must be harmless to call again). Never throws.
  virtual void Cancel() = 0;
  // What to complete: database names, database.table names and column names the
  // caller may see. Throws tarn::Error (the shell then completes nothing).
  virtual std::vector<std::string> Names() = 0;
  // For the greeting: where statements run and as whom.
  virtual std::string Describe() = 0;
};

// Runs the shell until \q or end of input; returns the exit code (0).
int RunShell(ShellBackend& backend, SqlOutput out, ShellInterrupts& interrupts);

}  // namespace tarn::cli
