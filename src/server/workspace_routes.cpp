#include "server/workspace_routes.h"

#include <charconv>

#include "common/error.h"
#include "common/util.h"
#include "server/workspaces.h"

namespace tarn::server {

namespace {

using http::verb;

int64_t RevisionParam(const std::string& text) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 1)
    throw Error::InvalidArgument("a revision is a positive integer");
  return n;
}

}  // namespace

void AddWorkspaceRoutes(Router& router, WorkspaceRoutes r) {
  auto v = [](const RequestContext& ctx) { return ctx.request.version(); };
  router.Add(verb::get, "/v1/workspaces", true, [r, v](RequestContext& ctx) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& w : WorkspaceStore(r.store(ctx.worker)).List(*ctx.principal))
      list.push_back(w.Json(false));
    return JsonResponse(http::status::ok, {{"workspaces", list}}, v(ctx));
  });
  router.Add(verb::post, "/v1/workspaces", true, [r, v](RequestContext& ctx) {
    auto body = JsonBody(ctx);
    auto w = WorkspaceStore(r.store(ctx.worker))
                 .Create(*ctx.principal, body.value("name", ""), body.value("cells", nlohmann::json::array()),
                         EpochMillis());
    return JsonResponse(http::status::created, w.Json(true), v(ctx));
  });
  router.Add(verb::get, "/v1/workspaces/{id}", true, [r, v](RequestContext& ctx) {
    return JsonResponse(http::status::ok,
                        WorkspaceStore(r.store(ctx.worker)).Get(ctx.params["id"], *ctx.principal).Json(true),
                        v(ctx));
  });
  router.Add(verb::put, "/v1/workspaces/{id}", true, [r, v](RequestContext& ctx) {
    auto body = JsonBody(ctx);
    auto base = body.value("base_revision", nlohmann::json());
    if (!base.is_number_integer())
      throw Error::InvalidArgument("base_revision: the revision the changes start from (an integer)");
    if (!body.contains("name") || !body.contains("cells"))
      throw Error::InvalidArgument("a save carries the whole workspace: name and cells");
    auto w = WorkspaceStore(r.store(ctx.worker))
                 .Save(ctx.params["id"], *ctx.principal,
                       body["name"].is_string() ? body["name"].get<std::string>() : "", body["cells"],
                       base.get<int64_t>(), EpochMillis());
    return JsonResponse(http::status::ok, w.Json(true), v(ctx));
  });
  router.Add(verb::delete_, "/v1/workspaces/{id}", true, [r, v](RequestContext& ctx) {
    WorkspaceStore(r.store(ctx.worker)).Delete(ctx.params["id"], *ctx.principal);
    return JsonResponse(http::status::ok, {{"deleted", ctx.params["id"]}}, v(ctx));
  });
  router.Add(verb::get, "/v1/workspaces/{id}/revisions", true, [r, v](RequestContext& ctx) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& rev : WorkspaceStore(r.store(ctx.worker)).Revisions(ctx.params["id"], *ctx.principal))
      list.push_back({{"revision", rev.revision},
                      {"name", rev.name},
                      {"author", rev.author},
                      {"created_ms", rev.created_ms}});
    return JsonResponse(http::status::ok, {{"revisions", list}}, v(ctx));
  });
  router.Add(verb::get, "/v1/workspaces/{id}/revisions/{rev}", true, [r, v](RequestContext& ctx) {
    auto rev = WorkspaceStore(r.store(ctx.worker))
                   .Revision(ctx.params["id"], RevisionParam(ctx.params["rev"]), *ctx.principal);
    return JsonResponse(http::status::ok,
                        {{"revision", rev.revision},
                         {"name", rev.name},
                         {"author", rev.author},
                         {"created_ms", rev.created_ms},
                         {"cells", rev.cells}},
                        v(ctx));
  });
  router.Add(verb::put, "/v1/workspaces/{id}/shares", true, [r, v](RequestContext& ctx) {
    auto body = JsonBody(ctx);
    auto shares = CheckShares(body.value("shares", nlohmann::json()));
    auto w = WorkspaceStore(r.store(ctx.worker)).Share(ctx.params["id"], *ctx.principal, shares);
    return JsonResponse(http::status::ok, w.Json(true), v(ctx));
  });
}

}  // namespace tarn::server
