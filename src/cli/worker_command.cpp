#include "cli/worker_command.h"

#include <iostream>

#include "common/error.h"
#include "common/util.h"
#include "scale/worker.h"
#include "server/http_client.h"
#include "server/node_files.h"

namespace tarn::cli {

namespace {

// The server's answer as JSON, or the error it carries.
nlohmann::json Answer(const server::ClientResponse& r, const char* what) {
  nlohmann::json body = nlohmann::json::parse(r.body, nullptr, false);
  if (r.status == 200 && body.is_object()) return body;
  std::string message = body.is_object() && body.contains("error") ? body["error"].value("message", "") : "";
  ErrorCode code = r.status == 401   ? ErrorCode::kUnauthenticated
                   : r.status == 404 ? ErrorCode::kNotFound
                                     : ErrorCode::kIo;
  throw Error(code, fmt::format("{}: the server answered {}{}", what, r.status,
                                message.empty() ? "" : ": " + message));
}

}  // namespace

WorkerCommand::WorkerCommand(CLI::App& app) {
  cmd_ = app.add_subcommand("worker",
                            "Run one task of a Slurm run on this node (started by Slurm, not by people)");
  cmd_->add_option("--server", server_, "The server's URL, as the node reaches it")->required();
  cmd_->add_option("--run", run_, "The job run the task belongs to")->required();
  cmd_->add_option("--task", task_, "The task to run (%a: the index of this task of a job array)")
      ->required();
  cmd_->add_option("--credential-file", credential_file_,
                   "The file holding the task credential (%a as above)")
      ->required();
  cmd_->add_option("--cacert", cacert_, "PEM file to trust for the server's certificate");
}

std::optional<int> WorkerCommand::Run() {
  if (!cmd_->parsed()) return std::nullopt;
  // A task of a job array: %a is its index (as in sbatch's file name patterns).
  for (auto* text : {&task_, &credential_file_}) {
    auto at = text->find("%a");
    if (at == std::string::npos) continue;
    const char* index = std::getenv("SLURM_ARRAY_TASK_ID");
    if (!index || !*index || std::string(index).find_first_not_of("0123456789") != std::string::npos)
      throw Error::InvalidArgument("{} has %a, which only a task of a Slurm job array can fill in", *text);
    text->replace(at, 2, index);
  }
  std::string credential = ReadTextFile(credential_file_);
  while (!credential.empty() && (credential.back() == '\n' || credential.back() == '\r'))
    credential.pop_back();
  server::ClientOptions options;
  options.ca_file = cacert_;
  options.timeout = std::chrono::seconds(60);
  std::string url = server_ + "/v1/worker/tasks/" + UrlEncode(run_) + "/" + UrlEncode(task_);
  std::map<std::string, std::string> headers{{"Authorization", "Task " + credential}};
  auto task = Answer(server::Fetch("GET", url, headers, "", options), "fetching the task");
  std::cerr << "task " << task_ << " of run " << run_ << ": running\n";
  auto report = scale::ExecuteTask(task, server::FetchNodeFile);
  std::cerr << "task " << task_ << ": "
            << (report["ok"].get<bool>() ? "done, " + report["rows"].dump() + " rows"
                                         : "failed: " + report["error"]["message"].get<std::string>())
            << "\n";
  headers["Content-Type"] = "application/json";
  Answer(server::Fetch("POST", url + "/report", headers, report.dump(), options), "reporting the task");
  return 0;
}

}  // namespace tarn::cli
