// Schedules: job runs submitted on a cron expression (docs/jobs.md, "Schedules").
//
// A schedule belongs to an application and to the principal who created it; each
// fire submits the job run its body describes (the fields of POST .../jobruns), as
// that principal, through JobStore::Submit with the client_token
// "schedule-<id>-<fire ms>" (a fire is never submitted twice) and schedule_id set.
// `overlap` says what a fire does while the schedule's previous run has not ended:
// "skip" (the default) lets it pass, "queue" submits it anyway (it queues behind).
//
// Missed fires: a fire is due once its time has passed. A server that was down (or
// busy) past several fire times fires once, for the first missed time, and then
// resumes from now: the next fire is the first one after now. The fire's event
// counts the fire times that were let pass (`missed`).
//
// Errors: kInvalidArgument naming the field (cron, timezone, overlap, and the job
// run fields as ParseJobSpec checks them); kNotFound for an unknown schedule.
// Thread-safety: as the MetaStore used.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "identity/principal.h"
#include "jobs/job_type.h"
#include "store/store.h"

namespace tarn::jobs {

struct Schedule {
  std::string id;
  std::string application_id;
  std::string name;
  std::string cron;
  std::string timezone = "UTC";
  std::string overlap = "skip";                    // skip | queue
  nlohmann::json body = nlohmann::json::object();  // the job run each fire submits
  identity::Principal principal;                   // its creator, as at creation
  std::optional<int64_t> next_fire_ms;             // null: it never fires again
  std::optional<int64_t> last_fire_ms;
  std::optional<std::string> last_run_id;
  int64_t created_ms = 0;
  nlohmann::json Json() const;
};

// The fields of POST .../schedules: name, cron, timezone, overlap, and the fields of
// a job run (checked by ParseJobSpec against `lake_root`; no client_token).
Schedule ParseSchedule(const nlohmann::json& body, const std::filesystem::path& lake_root,
                       const JobTypes& types);

class ScheduleStore {
 public:
  explicit ScheduleStore(store::MetaStore& store) : store_(store) {}

  // Stores `s` for `principal` with its first fire after `now_ms`.
  Schedule Create(Schedule s, const identity::Principal& principal, int64_t now_ms);
  Schedule Get(const std::string& id);
  // An application's schedules; only `owner`'s unless null.
  std::vector<Schedule> List(const std::string& application_id, const identity::Principal* owner);
  void Delete(const std::string& id);
  // Ids of schedules due at `now_ms`, oldest fire first.
  std::vector<std::string> Due(int64_t now_ms);
  // Records a fire of `id` that was due at `due_ms` (a compare-and-set: false if
  // another fire got there first) and its next fire time.
  bool Fired(const std::string& id, int64_t due_ms, std::optional<int64_t> next_ms, int64_t fired_ms,
             const std::optional<std::string>& run_id);

 private:
  Schedule From(const store::Row& row);
  store::MetaStore& store_;
};

}  // namespace tarn::jobs
