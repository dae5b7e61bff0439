// The job routes (/v1/applications/...): applications, job runs, their logs and
// cancellation, over jobs::JobStore and jobs::JobService. docs/jobs.md describes them.
//
// Who may do what (until GRANT CREATE APPLICATION / SUBMIT / MANAGE exist):
// administrators create applications and see and cancel every run; every
// authenticated principal may submit to the `default` application and sees and
// cancels only their own runs. Anything else reads as missing (404).
#pragma once

#include <functional>

#include "jobs/job_service.h"
#include "server/router.h"
#include "store/store.h"

namespace tarn::server {

struct JobRoutes {
  std::function<store::MetaStore&(size_t worker)> store;  // the worker's metadata store
  std::function<jobs::JobService&()> jobs;                // set once the server started
};

void AddJobRoutes(Router& router, JobRoutes routes);

}  // namespace tarn::server
