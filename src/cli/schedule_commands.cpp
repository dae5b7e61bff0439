// `tarn schedule`: job runs on a cron expression (see job_commands.h).
#include <iostream>

#include "cli/job_commands.h"
#include "cli/job_helpers.h"

namespace tarn::cli {

void JobCommands::AddScheduleCommands(CLI::App& app) {
  schedule_cmd_ = app.add_subcommand("schedule", "Submit job runs on a cron expression (on a server)");
  schedule_cmd_->require_subcommand(1);
  schedule_create_ =
      schedule_cmd_->add_subcommand("create", "Create a schedule (needs SUBMIT on the application)");
  schedule_create_
      ->add_option("--cron", cron_, "5 fields: minute hour day-of-month month day-of-week, or @daily")
      ->required();
  schedule_create_->add_option("--timezone", timezone_, "IANA time zone of the cron times")
      ->capture_default_str();
  schedule_create_->add_option("--overlap", overlap_, "While the last run has not ended: skip or queue")
      ->check(CLI::IsMember({"skip", "queue"}))
      ->capture_default_str();
  auto* sql = schedule_create_->add_option("--sql", sql_, "The script each fire runs");
  auto* file = schedule_create_->add_option("--file", file_, "Read the script from FILE (- for stdin)");
  sql->excludes(file);
  schedule_create_->add_option("--name", name_, "A name for the schedule and its runs");
  schedule_create_->add_option("--role", role_,
                               "Its runs use this role's grants only (needs ASSUME ON ROLE)");
  schedule_list_ =
      schedule_cmd_->add_subcommand("list", "Your schedules (with MANAGE: everyone's) and next fire");
  schedule_get_ = schedule_cmd_->add_subcommand("get", "One schedule");
  schedule_delete_ = schedule_cmd_->add_subcommand("delete", "Delete a schedule (its runs stay)");
  for (auto* c : {schedule_get_, schedule_delete_}) c->add_option("id", id_, "The schedule id")->required();
  for (auto* c : {schedule_create_, schedule_list_, schedule_get_, schedule_delete_}) {
    c->add_option("--app", application_, "The application (id or name)")->capture_default_str();
    remote_.AddTo(c, true);
    c->add_flag("--json", json_, "Print the server's JSON");
  }
}

int JobCommands::Schedules() {
  auto remote = remote_.Options();
  std::string base = "/v1/applications/" + Checked(application_, "application") + "/schedules";
  if (*schedule_list_) {
    PrintTable(CallApi(remote, "GET", base)["schedules"],
               {"schedule_id", "name", "cron", "timezone", "overlap", "next_fire_at", "last_job_run_id"},
               json_);
    return 0;
  }
  if (*schedule_get_) {
    std::cout << CallApi(remote, "GET", base + "/" + Checked(id_, "schedule")).dump(json_ ? -1 : 2) << "\n";
    return 0;
  }
  if (*schedule_delete_) {
    auto r = CallApi(remote, "DELETE", base + "/" + Checked(id_, "schedule"));
    if (json_) std::cout << r.dump() << "\n";
    std::cerr << "deleted schedule " << id_ << "\n";
    return 0;
  }
  if (sql_.empty() == file_.empty())
    throw Error::InvalidArgument(
        "give the script with --sql SQL or --file FILE (see tarn schedule create --help)");
  nlohmann::json body = {{"cron", cron_},
                         {"timezone", timezone_},
                         {"overlap", overlap_},
                         {"job", {{"type", "sql"}, {"script", file_.empty() ? sql_ : ReadScript(file_)}}}};
  if (!name_.empty()) body["name"] = name_;
  if (!role_.empty()) body["execution_role"] = role_;
  auto s = CallApi(remote, "POST", base, body);
  if (json_)
    std::cout << s.dump() << "\n";
  else
    std::cout << s["schedule_id"].get<std::string>() << "\n";
  std::cerr << "created schedule " << s["schedule_id"].get<std::string>() << ": next fire "
            << Cell(s["next_fire_at"]) << "\n";
  return 0;
}

}  // namespace tarn::cli
