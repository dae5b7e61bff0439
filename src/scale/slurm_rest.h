// SlurmRest: a Slurm job's submission, state and cancel through slurmrestd, Slurm's
// REST daemon (OpenAPI v0.0.38, as Slurm 22.05 serves it), on its UNIX socket. The
// daemon authenticates callers by the socket (rest_auth/local): it runs as the user
// the server runs as, and jobs are that user's, as with sbatch. No token or password
// is held. docs/scale-out.md, "Submitting through slurmrestd".
//
// Errors: kIo naming slurmrestd and Slurm's first error when the daemon cannot be
// reached, does not answer within the timeout, or refuses the request.
//
// Thread-safety: thread-safe (each call opens its own connection).
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "scale/slurm.h"

namespace tarn::scale {

class SlurmRest {
 public:
  SlurmRest(std::filesystem::path socket, std::chrono::milliseconds timeout);

  // `request` as SlurmClient::Submit checked it; returns the job id.
  std::string Submit(const SlurmJobRequest& request) const;
  // As SlurmClient::Jobs: the job, or each task of an array; none once Slurm forgot it.
  std::vector<SlurmJob> Jobs(const std::string& id) const;
  // As SlurmClient::Cancel: a job that already ended is no error.
  void Cancel(const std::string& id) const;

 private:
  std::filesystem::path socket_;
  std::chrono::milliseconds timeout_;
};

}  // namespace tarn::scale
