// The `tarn` command: parses arguments, runs one subcommand, maps errors to exit
// codes (tarn::ExitCodeFor) and prints each error as one line on stderr.
#pragma once

namespace tarn::cli {

// Runs the command line; returns the process exit code.
int Main(int argc, char** argv);

}  // namespace tarn::cli
