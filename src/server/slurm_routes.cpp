#include "server/slurm_routes.h"

#include <unistd.h>

#include <algorithm>
#include <map>

#include "common/error.h"
#include "jobs/job_store.h"
#include "server/http.h"
#include "server/node_files.h"

namespace tarn::server {

namespace {

// The credential of "Authorization: Task <credential>"; kUnauthenticated otherwise.
std::string TaskCredential(const RequestContext& ctx) {
  auto it = ctx.request.find(http::field::authorization);
  std::string value = it == ctx.request.end() ? "" : std::string(it->value());
  if (value.rfind("Task ", 0) != 0) throw Error(ErrorCode::kUnauthenticated, "invalid task credential");
  return value.substr(5);
}

}  // namespace

void AddWorkerRoutes(Router& router, std::function<scale::SlurmExecutor&()> executor) {
  router.Add(http::verb::get, "/v1/worker/tasks/{run}/{task}", false, [executor](RequestContext& ctx) {
    auto task = executor().FetchTask(ctx.params["run"], ctx.params["task"], TaskCredential(ctx));
    return JsonResponse(http::status::ok, task, ctx.request.version());
  });
  router.Add(http::verb::post, "/v1/worker/tasks/{run}/{task}/report", false,
             [executor](RequestContext& ctx) {
               auto credential = TaskCredential(ctx);
               auto body = JsonBody(ctx);
               if (!body.contains("ok") || !body["ok"].is_boolean())
                 throw Error::InvalidArgument("a task report needs a boolean field 'ok'");
               executor().Report(ctx.params["run"], ctx.params["task"], credential, std::move(body));
               return JsonResponse(http::status::ok, {{"accepted", true}}, ctx.request.version());
             });
}

std::shared_ptr<scale::SlurmExecutor> MakeSlurmExecutor(const ServerConfig& config,
                                                        session::Instance& instance,
                                                        const std::string& base_url) {
  auto meta = instance.OpenMetastore();
  if (meta->backend() != "postgresql") {
    jobs::JobStore store(*meta);
    for (auto& app : store.ListApplications()) {
      if (app.executor.slurm())
        throw Error::InvalidArgument(
            "application {} uses the slurm executor, which needs the PostgreSQL metadata store; this server "
            "uses SQLite: start it with --metastore postgresql://... (docs/scale-out.md)",
            app.name);
    }
  }
  scale::SlurmExecutorOptions o;
  o.lake_root = instance.lake().root();
  o.worker_program = config.slurm_worker_program;
  if (o.worker_program.empty()) {
    std::error_code ec;
    o.worker_program = std::filesystem::read_symlink("/proc/self/exe", ec);
  }
  std::string url = config.slurm_worker_url.empty() ? base_url : config.slurm_worker_url;
  o.server_url = [url] { return url; };
  o.ca_file = config.slurm_worker_ca_file;
  o.rest_socket = config.slurm_rest_socket;
  o.node_scratch = config.slurm_node_scratch;
  o.remove_node_files = RemoveNodeFiles;
  o.poll = std::chrono::milliseconds(config.slurm_poll_ms);
  return std::make_shared<scale::SlurmExecutor>(std::move(o), scale::TaskSigningKey(*meta));
}

std::unique_ptr<scale::NodeWatcher> MakeNodeWatcher(const ServerConfig& config, session::Instance& instance,
                                                    jobs::EventBus& bus) {
  scale::NodeWatcherOptions o;
  o.interval = std::chrono::milliseconds(config.slurm_node_poll_ms);
  std::shared_ptr<store::MetaStore> meta = instance.OpenMetastore();  // the watcher thread's alone
  o.active = [meta] {
    for (auto& app : jobs::JobStore(*meta).ListApplications())
      if (app.executor.slurm()) return true;
    return false;
  };
  o.policies = [meta] {
    // One policy per partition: the largest min_nodes and max_nodes of its applications.
    std::map<std::string, scale::ScalePolicy> by_partition;
    for (auto& app : jobs::JobStore(*meta).ListApplications()) {
      if (!app.executor.slurm() || app.executor.partition.empty()) continue;
      auto& p = by_partition[app.executor.partition];
      p.partition = app.executor.partition;
      p.applications.push_back(app.name);
      p.min_nodes = std::max(p.min_nodes, app.executor.min_nodes);
      p.max_nodes = std::max(p.max_nodes, app.executor.max_nodes);
    }
    std::vector<scale::ScalePolicy> out;
    for (auto& [name, p] : by_partition) out.push_back(p);
    return out;
  };
  o.scale_idle = std::chrono::milliseconds(config.slurm_scale_idle_ms);
  o.publish = [&bus](jobs::Event e) { bus.Publish({std::move(e)}); };
  o.audit = [&instance](const nlohmann::json& record) { instance.audit().Append(record); };
  return std::make_unique<scale::NodeWatcher>(std::move(o));
}

}  // namespace tarn::server
