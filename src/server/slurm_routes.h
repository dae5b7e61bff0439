// The server's side of Slurm: the slurm executor, the node watcher, and the routes
// workers on Slurm nodes call (scale/slurm_executor.h), authenticated by
// a task credential in "Authorization: Task <credential>", never a user's token:
//
//   GET  /v1/worker/tasks/{run}/{task}          the task (statement, governed scans,
//                                               files it may read, where its rows go)
//   POST /v1/worker/tasks/{run}/{task}/report   {"ok", "rows", "milliseconds", "node"}
//                                               or {"ok": false, "error": {code, message}}
//
// A credential that does not check out for exactly that run's task (another task,
// expired, forged) is a 401 "invalid task credential"; a task that ended is a 404.
#pragma once

#include <functional>

#include "jobs/events.h"
#include "scale/node_watcher.h"
#include "scale/slurm_executor.h"
#include "server/config.h"
#include "server/router.h"
#include "session/instance.h"

namespace tarn::server {

// `executor` is asked per request (it exists once the server started).
void AddWorkerRoutes(Router& router, std::function<scale::SlurmExecutor&()> executor);

// The slurm executor of a server whose own URL is `base_url`, configured by [slurm].
// kInvalidArgument if an application already uses it while the metadata store is
// SQLite (the server then refuses to start).
std::shared_ptr<scale::SlurmExecutor> MakeSlurmExecutor(const ServerConfig& config,
                                                        session::Instance& instance,
                                                        const std::string& base_url);

// The node watcher of a server: it looks while some application uses the slurm
// executor, publishes to `bus` and audits to the instance's audit trail.
std::unique_ptr<scale::NodeWatcher> MakeNodeWatcher(const ServerConfig& config, session::Instance& instance,
                                                    jobs::EventBus& bus);

}  // namespace tarn::server
