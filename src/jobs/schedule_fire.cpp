// JobService's scheduler: fires due schedules (see schedules.h).
#include <fmt/format.h>

#include "common/error.h"
#include "governance/policy.h"
#include "jobs/cron.h"
#include "jobs/job_service.h"
#include "jobs/schedules.h"

namespace tarn::jobs {

namespace {

// Why `s`'s creator may not submit its run now ("" if they may): the grants are
// read at each fire, so a revoke after the schedule was made is honoured.
std::string Refusal(store::MetaStore& meta, const Schedule& s, const std::string& role) {
  auto policy = governance::PolicyStore(meta).Load();
  auto subject = governance::MakeSubject(s.principal, *policy);
  if (s.application_id != "default" &&
      !governance::HoldsOnApplication(*policy, subject, s.application_id, "SUBMIT")) {
    return "its creator may no longer submit to the application";
  }
  if (!role.empty() && (!policy->roles.count(role) || !governance::MayAssume(*policy, subject, role)))
    return "its creator may no longer run as role " + role;
  return "";
}

}  // namespace

void JobService::Schedules() {
  std::unique_ptr<store::MetaStore> meta;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    tick_.wait_for(lock, options_.schedule_poll, [&] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    try {
      if (!meta) meta = instance_.OpenMetastore();
      FireDue(*meta);
    } catch (const std::exception&) {
      meta.reset();  // the store is busy or gone: the next tick tries again
    }
    lock.lock();
  }
}

void JobService::FireDue(store::MetaStore& meta) {
  int64_t now = options_.clock();
  for (auto& id : ScheduleStore(meta).Due(now)) {
    try {
      if (writer_.Do([&](JobStore& s) { return Fire(s, id, now); })) Wake();
    } catch (const Error&) {
      // This schedule could not fire (its store change failed): the others still do,
      // and it is due again at the next tick.
    }
  }
}

bool JobService::Fire(JobStore& s, const std::string& id, int64_t now) {
  ScheduleStore schedules(s.meta());
  Schedule sch;
  try {
    sch = schedules.Get(id);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kNotFound) return false;  // deleted meanwhile
    throw;
  }
  if (!sch.next_fire_ms || *sch.next_fire_ms > now) return false;  // fired already
  int64_t due = *sch.next_fire_ms;
  auto cron = CronSchedule::Parse(sch.cron, sch.timezone);
  int64_t missed = 0;
  for (auto t = cron.NextAfter(due); t && *t <= now && missed < 100000; t = cron.NextAfter(*t)) missed++;
  std::optional<std::string> run_id;
  std::string outcome = "submitted";
  std::string role = sch.body.value("execution_role", "");
  if (auto refusal = Refusal(s.meta(), sch, role); !refusal.empty()) {
    outcome = "refused: " + refusal;
  } else if (sch.overlap == "skip" && sch.last_run_id && !IsTerminal(s.GetRun(*sch.last_run_id).state)) {
    outcome = "skipped: job run " + *sch.last_run_id + " has not ended";
  } else {
    try {
      s.meta().Transaction([&] {
        auto spec = ParseJobSpec(sch.body, lake_root(), options_.types);
        spec.client_token = fmt::format("schedule-{}-{}", sch.id.substr(4), due);
        spec.schedule_id = sch.id;
        bool created = false;
        run_id = s.Submit(sch.application_id, spec, sch.principal, created).id;
      });
    } catch (const Error& e) {
      outcome = std::string("failed: ") + e.what();  // e.g. the application is stopped
    }
  }
  schedules.Fired(sch.id, due, cron.NextAfter(now), now, run_id);
  s.Emit("schedule", run_id.value_or(""), sch.application_id, sch.principal.user, sch.principal.issuer,
         {{"schedule_id", sch.id}, {"due_at", Iso(due)}, {"missed", missed}, {"outcome", outcome}});
  return run_id.has_value();
}

}  // namespace tarn::jobs
