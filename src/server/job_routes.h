// The job routes (/v1/applications/...): applications, job runs, their logs and
// cancellation, over jobs::JobStore and jobs::JobService. docs/jobs.md describes them.
//
// Who may do what is governed (docs/jobs.md): CREATE APPLICATION on the system to
// create one (its creator then holds ALL on it WITH GRANT OPTION); SUBMIT on an
// application to submit to it and see and cancel one's own runs; MANAGE to change,
// stop, start or delete it and to see and cancel everyone's runs on it. Everyone may
// submit to `default`; administrators may do everything. An application the caller
// may neither submit to nor manage, and others' runs, read as missing (404).
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

// Whether `caller` may submit runs to `app` (SUBMIT on it; everyone may submit to
// `default`) — the rule POST /v1/applications/{app}/jobruns applies.
bool MaySubmitTo(store::MetaStore& meta, const identity::Principal& caller, const jobs::Application& app);

}  // namespace tarn::server
