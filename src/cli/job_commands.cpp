#include "cli/job_commands.h"

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "cli/job_helpers.h"
#include "cli/progress.h"
#include "common/error.h"

namespace tarn::cli {

JobCommands::JobCommands(CLI::App& app) {
  auto common = [this](CLI::App* cmd) {
    remote_.AddTo(cmd, true);
    cmd->add_flag("--json", json_, "Print the server's JSON");
  };
  app_cmd_ = app.add_subcommand("app", "Manage job applications on a server (named queues with limits)");
  app_cmd_->require_subcommand(1);
  app_create_ = app_cmd_->add_subcommand("create", "Create an application (needs CREATE APPLICATION)");
  app_create_->add_option("name", name_, "1-64 of letters, digits, '.', '_', '-'")->required();
  app_update_ = app_cmd_->add_subcommand("update", "Change an application's limits (needs MANAGE on it)");
  for (auto* c : {app_create_, app_update_}) {
    limit_options_.push_back(
        c->add_option("--max-concurrent-runs", max_concurrent_, "Runs running at once; more wait in QUEUED")
            ->check(CLI::Range(1, 1000))
            ->capture_default_str());
    limit_options_.push_back(
        c->add_option("--queue-timeout", queue_timeout_, "Minutes a run may wait in QUEUED")
            ->check(CLI::Range(1, 10080))
            ->capture_default_str());
    limit_options_.push_back(
        c->add_option("--default-timeout", default_timeout_, "Minutes a run may run (0: no limit)")
            ->check(CLI::Range(0, 10080))
            ->capture_default_str());
    c->add_option("--max-memory", max_memory_,
                  "maximum_capacity: memory its running runs reserve together, e.g. 8GB");
    c->add_option("--max-threads", max_threads_,
                  "maximum_capacity: threads its running runs reserve together")
        ->check(CLI::Range(1, 1024));
    c->add_option("--executor", executor_.type, "Where its runs compute their queries: local or slurm")
        ->check(CLI::IsMember({"local", "slurm"}));
    c->add_option("--partition", executor_.partition, "slurm: the partition (default: the cluster's)");
    c->add_option("--account", executor_.account, "slurm: the account");
    c->add_option("--qos", executor_.qos, "slurm: the QOS");
    c->add_option("--time-limit", executor_.time_limit_minutes,
                  "slurm: minutes a task may run (0: the partition's)")
        ->check(CLI::Range(0, 10080));
    c->add_option("--min-nodes", executor_.min_nodes, "slurm: nodes kept up")->check(CLI::Range(0, 1000));
    c->add_option("--max-nodes", executor_.max_nodes, "slurm: nodes at most")->check(CLI::Range(1, 1000));
    c->add_option("--buckets", executor_.buckets,
                  "slurm: buckets of a partitioned query (default: from its input's size)")
        ->check(CLI::Range(1, 4096));
  }
  app_list_ =
      app_cmd_->add_subcommand("list", "Applications you may submit to or manage: id, name, state, limits");
  app_get_ = app_cmd_->add_subcommand("get", "One application");
  app_stop_ = app_cmd_->add_subcommand("stop", "Refuse further submissions (needs MANAGE; only when idle)");
  app_start_ = app_cmd_->add_subcommand("start", "Accept submissions again (needs MANAGE)");
  app_delete_ =
      app_cmd_->add_subcommand("delete", "Delete it with its runs and logs (needs MANAGE; only when idle)");
  for (auto* c : {app_get_, app_update_, app_stop_, app_start_, app_delete_})
    c->add_option("id", id_, "Application id or name")->required();
  for (auto* c : {app_create_, app_list_, app_get_, app_update_, app_stop_, app_start_, app_delete_})
    common(c);

  job_cmd_ = app.add_subcommand("job", "Submit, watch and cancel job runs on a server");
  job_cmd_->require_subcommand(1);
  job_submit_ = job_cmd_->add_subcommand("submit", "Submit a SQL script as a job run; prints its id");
  auto* sql = job_submit_->add_option("--sql", sql_, "The script");
  auto* file = job_submit_->add_option("--file", file_, "Read the script from FILE (- for stdin)");
  sql->excludes(file);
  job_submit_->add_option("--name", name_, "A name for the run");
  job_submit_->add_option("--role", role_, "Run with this role's grants only (needs ASSUME ON ROLE)");
  job_submit_->add_option("--client-token", client_token_,
                          "Idempotency token: the same submission again gives back the same run");
  job_submit_->add_option("--timeout", timeout_, "Minutes the run may run (default: the application's)")
      ->check(CLI::Range(0, 10080));
  job_submit_->add_flag(
      "--wait", wait_, "Wait for the run to end, with a progress bar; exit 0 SUCCESS, 1 FAILED, 6 CANCELLED");
  job_list_ = job_cmd_->add_subcommand(
      "list", "Your job runs (with MANAGE on the application: everyone's), newest first");
  job_list_->add_option("--state", state_, "Only runs in this state, e.g. RUNNING");
  job_get_ = job_cmd_->add_subcommand("get", "One job run: state, details, times, progress");
  job_logs_ = job_cmd_->add_subcommand("logs", "A job run's log: states, statements, errors");
  job_logs_->add_flag("--follow", follow_, "Keep printing until the run ends; exit as --wait does");
  job_cancel_ = job_cmd_->add_subcommand("cancel", "Cancel a job run (its running statement stops)");
  job_result_ = job_cmd_->add_subcommand(
      "result", "The rows of a run's last statement, if it was a query (kept when the run ended)");
  job_result_->add_option("--format", format_, "json, csv or parquet (parquet needs --output)")
      ->check(CLI::IsMember({"json", "csv", "parquet"}))
      ->capture_default_str();
  job_result_->add_option("--output", output_, "Write to this file instead of standard output");
  job_result_->add_option("--limit", limit_, "At most this many rows (json, csv)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}))
      ->capture_default_str();
  for (auto* c : {job_get_, job_logs_, job_cancel_, job_result_})
    c->add_option("id", id_, "The job run id")->required();
  for (auto* c : {job_submit_, job_list_, job_get_, job_logs_, job_cancel_, job_result_}) {
    c->add_option("--app", application_, "The application (id or name)")->capture_default_str();
    common(c);
  }
  AddScheduleCommands(app);
}

std::optional<int> JobCommands::Run() {
  if (*schedule_cmd_) return Schedules();
  if (!*app_cmd_ && !*job_cmd_) return std::nullopt;
  auto remote = remote_.Options();
  if (*app_create_) {
    nlohmann::json body = {{"name", name_},
                           {"max_concurrent_runs", max_concurrent_},
                           {"queue_timeout_minutes", queue_timeout_},
                           {"default_timeout_minutes", default_timeout_}};
    if (auto cap = Capacity(*app_create_); !cap.empty()) body["maximum_capacity"] = cap;
    if (auto executor = Executor(*app_create_); !executor.is_null()) body["executor"] = executor;
    auto app = CallApi(remote, "POST", "/v1/applications", body);
    if (json_)
      std::cout << app.dump() << "\n";
    else
      std::cout << app["id"].get<std::string>() << "\n";
    std::cerr << "created application " << app["name"].get<std::string>() << "\n";
    return 0;
  }
  if (*app_list_) {
    PrintTable(
        CallApi(remote, "GET", "/v1/applications")["applications"],
        {"id", "name", "state", "max_concurrent_runs", "queue_timeout_minutes", "default_timeout_minutes"},
        json_);
    return 0;
  }
  if (*app_get_) {
    std::cout
        << CallApi(remote, "GET", "/v1/applications/" + Checked(id_, "application")).dump(json_ ? -1 : 2)
        << "\n";
    return 0;
  }
  if (*app_update_ || *app_stop_ || *app_start_ || *app_delete_) return ChangeApplication();
  std::string runs = "/v1/applications/" + Checked(application_, "application") + "/jobruns";
  if (*job_submit_) return Submit();
  if (*job_list_) {
    std::string path = runs + (state_.empty() ? "" : "?state=" + std::string(Checked(state_, "state")));
    PrintTable(CallApi(remote, "GET", path)["job_runs"],
               {"job_run_id", "state", "name", "created_by", "created_at"}, json_);
    return 0;
  }
  std::string run = runs + "/" + Checked(id_, "job run");
  if (*job_get_) {
    std::cout << CallApi(remote, "GET", run).dump(json_ ? -1 : 2) << "\n";
    return 0;
  }
  if (*job_result_) return Result(run);
  if (*job_cancel_) {
    auto r = CallApi(remote, "DELETE", run);
    if (json_) std::cout << r.dump() << "\n";
    std::cerr << "job run " << id_ << ": " << r["state"].get<std::string>() << "\n";
    return 0;
  }
  if (follow_) return Wait(id_, true);
  auto logs = CallApi(remote, "GET", run + "/logs?size=10000");
  for (auto& line : logs["lines"]) {
    if (json_)
      std::cout << line.dump() << "\n";
    else
      std::cout << Cell(line["at"]) << "\t" << Cell(line["kind"]) << "\t" << Cell(line["message"]) << "\n";
  }
  return 0;
}

int JobCommands::ChangeApplication() {
  std::string path = "/v1/applications/" + Checked(id_, "application");
  nlohmann::json r;
  if (*app_update_) {
    nlohmann::json body = nlohmann::json::object();
    const char* fields[] = {"max_concurrent_runs", "queue_timeout_minutes", "default_timeout_minutes"};
    int64_t values[] = {max_concurrent_, queue_timeout_, default_timeout_};
    for (size_t i = 0; i < 3; i++) {
      if (limit_options_[3 + i]->count() > 0) body[fields[i]] = values[i];  // the update's own options
    }
    if (auto cap = Capacity(*app_update_); !cap.empty()) body["maximum_capacity"] = cap;
    if (auto executor = Executor(*app_update_); !executor.is_null()) body["executor"] = executor;
    if (body.empty())
      throw Error::InvalidArgument(
          "nothing to change: give --max-concurrent-runs, --queue-timeout, --default-timeout, --max-memory, "
          "--max-threads or --executor");
    r = CallApi(remote_.Options(), "PUT", path, body);
  } else if (*app_delete_) {
    r = CallApi(remote_.Options(), "DELETE", path);
  } else {
    r = CallApi(remote_.Options(), "POST", path + (*app_stop_ ? "/stop" : "/start"));
  }
  if (json_) std::cout << r.dump() << "\n";
  std::cerr << "application " << id_ << ": "
            << (*app_delete_ ? std::string("deleted") : r.value("state", std::string("changed"))) << "\n";
  return 0;
}

int JobCommands::Submit() {
  if (sql_.empty() == file_.empty()) {
    throw Error::InvalidArgument(
        "give the script with --sql SQL or --file FILE (see tarn job submit --help)");
  }
  std::string script = file_.empty() ? sql_ : ReadScript(file_);
  nlohmann::json body = {{"job", {{"type", "sql"}, {"script", script}}}};
  if (!name_.empty()) body["name"] = name_;
  if (!role_.empty()) body["execution_role"] = role_;
  if (!client_token_.empty()) body["client_token"] = client_token_;
  if (timeout_ >= 0) body["timeout_minutes"] = timeout_;
  auto r = CallApi(remote_.Options(), "POST",
                   "/v1/applications/" + Checked(application_, "application") + "/jobruns", body);
  std::string id = r["job_run_id"];
  if (json_)
    std::cout << r.dump() << "\n";
  else
    std::cout << id << "\n";
  std::cout.flush();
  return wait_ ? Wait(id, false) : 0;
}

nlohmann::json JobCommands::Executor(const CLI::App& cmd) const {
  bool slurm_options = false;
  for (auto* flag :
       {"--partition", "--account", "--qos", "--time-limit", "--min-nodes", "--max-nodes", "--buckets"})
    slurm_options = slurm_options || cmd.count(flag) > 0;
  if (!cmd.count("--executor")) {
    if (slurm_options)
      throw Error::InvalidArgument(
          "--partition, --account, --qos, --time-limit, --min-nodes, --max-nodes and --buckets go with "
          "--executor slurm");
    return nullptr;
  }
  if (executor_.type == "local") {
    if (slurm_options) throw Error::InvalidArgument("--executor local takes no Slurm options");
    return {{"type", "local"}};
  }
  nlohmann::json e{{"type", "slurm"},
                   {"min_nodes", executor_.min_nodes},
                   {"max_nodes", executor_.max_nodes},
                   {"time_limit_minutes", executor_.time_limit_minutes}};
  if (!executor_.partition.empty()) e["partition"] = executor_.partition;
  if (!executor_.account.empty()) e["account"] = executor_.account;
  if (!executor_.qos.empty()) e["qos"] = executor_.qos;
  if (executor_.buckets > 0) e["buckets"] = executor_.buckets;
  return e;
}

nlohmann::json JobCommands::Capacity(const CLI::App& cmd) const {
  nlohmann::json cap = nlohmann::json::object();
  if (cmd.count("--max-memory")) cap["memory"] = max_memory_;
  if (cmd.count("--max-threads")) cap["threads"] = max_threads_;
  return cap;
}

int JobCommands::Result(const std::string& run_path) {
  if (format_ == "parquet" && output_.empty())
    throw Error::InvalidArgument("--format parquet writes a binary file: give --output FILE");
  std::string body = CallApiRaw(remote_.Options(), "GET",
                                run_path + "/result?format=" + format_ + "&limit=" + std::to_string(limit_));
  if (format_ == "json") body = nlohmann::json::parse(body).dump(json_ ? -1 : 2) + "\n";
  if (output_.empty()) {
    std::cout << body;
    return 0;
  }
  std::ofstream out(output_, std::ios::binary | std::ios::trunc);
  out << body;
  out.close();
  if (!out) throw Error::Io("cannot write {}", output_);
  std::cerr << "wrote " << body.size() << " bytes to " << output_ << "\n";
  return 0;
}

int JobCommands::Wait(const std::string& run_id, bool show_logs) {
  return WaitForJobRun(remote_.Options(), application_, run_id, show_logs);
}

std::vector<std::string> DownloadJobRunFiles(const RemoteOptions& remote, const std::string& application,
                                             const std::string& run_id,
                                             const std::filesystem::path& out_dir) {
  std::string base = "/v1/applications/" + Checked(application, "application") + "/jobruns/" +
                     Checked(run_id, "job run") + "/files";
  nlohmann::json listing;
  try {
    listing = CallApi(remote, "GET", base)["files"];
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kNotFound) throw;  // a run that ended before it wrote any
  }
  std::filesystem::create_directories(out_dir);
  std::vector<std::string> names;
  for (auto& f : listing) {
    std::string name = std::filesystem::path(f["name"].get<std::string>()).filename();
    auto target = out_dir / name;
    std::ofstream(target, std::ios::binary) << CallApiRaw(remote, "GET", base + "/" + name);
    std::cerr << "downloaded " << target.string() << "\n";
    names.push_back(name);
  }
  return names;
}

int WaitForJobRun(const RemoteOptions& remote, const std::string& application, const std::string& run_id,
                  bool show_logs) {
  std::string path = "/v1/applications/" + Checked(application, "application") + "/jobruns/" + run_id;
  std::unique_ptr<Progress> bar;
  int64_t line = 0;
  while (true) {
    auto run = CallApi(remote, "GET", path);
    if (show_logs) {
      auto logs = CallApi(remote, "GET", path + "/logs?from=" + std::to_string(line));
      for (auto& l : logs["lines"]) {
        std::cout << Cell(l["at"]) << "\t" << Cell(l["kind"]) << "\t" << Cell(l["message"]) << "\n";
        line = l["line"];
      }
      std::cout.flush();
    }
    std::string state = run["state"];
    auto& progress = run["progress"];
    int64_t total = progress["statements_total"];
    if (!show_logs && !bar && total > 0) bar = std::make_unique<Progress>("job " + run_id, total);
    if (bar) bar->Update(progress["statements_done"].get<uint64_t>(), state);
    if (Terminal(state)) {
      if (bar) bar->Finish();
      std::string details = run["state_details"];
      std::cerr << "job run " << run_id << ": " << state << (details.empty() ? "" : " (" + details + ")")
                << "\n";
      return ExitCodeOf(state);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace tarn::cli
