// `tarn worker`: runs one task of a Slurm run on this node (docs/scale-out.md). Slurm
// starts it; people do not.
//
//   tarn worker --server URL --run RUN --task TASK --credential-file FILE [--cacert PEM]
//
// It fetches the task from the server with the task credential in FILE (written by
// the server into the run's private scratch folder), computes it (scale/worker.h)
// and reports the outcome back. Exit 0 once the report was delivered (whether the
// query succeeded or not: the report says), 7 when the server cannot be reached, 8
// when it refuses the credential.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace tarn::cli {

class WorkerCommand {
 public:
  explicit WorkerCommand(CLI::App& app);
  std::optional<int> Run();

 private:
  CLI::App* cmd_ = nullptr;
  std::string server_, run_, task_, credential_file_, cacert_;
};

}  // namespace tarn::cli
