// RunProgram: runs a program with an argument vector (never through a shell) and
// collects its exit status and output. Used to talk to Slurm's command-line tools
// (sbatch, squeue, scontrol, scancel), whose output formats Tarn asks for explicitly.
//
// Thread-safety: thread-safe (no shared state; posix_spawn).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace tarn::scale {

struct ProgramResult {
  int exit_code = 0;  // the program's exit status; 128 + N when killed by signal N
  std::string out;    // its standard output
  std::string err;    // its standard error
};

// Runs argv[0] (looked up in PATH) with `argv`, standard input from /dev/null, and
// waits at most `timeout` (the program is then killed and kIo thrown naming it).
// Output beyond 16 MiB per stream is dropped. Throws kIo if it cannot be started.
ProgramResult RunProgram(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Starts a daemon (a program that forks itself into the background) with standard
// input, output and error on /dev/null, so that it outlives this process's pipes;
// waits at most `timeout` for the starting process to exit and returns its status.
int StartDaemon(const std::vector<std::string>& argv,
                std::chrono::milliseconds timeout = std::chrono::seconds(30));

// As RunProgram, but a non-zero exit is kIo with the program's name and the first
// line of its standard error; returns the standard output.
std::string RunProgramChecked(const std::vector<std::string>& argv,
                              std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace tarn::scale
