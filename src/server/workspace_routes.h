// The studio's workspace routes (/v1/workspaces, docs/studio.md) over WorkspaceStore:
//   GET    /v1/workspaces                       the caller's and those shared with it
//   POST   /v1/workspaces                       {name, cells} -> the new workspace (201)
//   GET    /v1/workspaces/{id}                  with its cells and (owner) shares
//   PUT    /v1/workspaces/{id}                  {name, cells, base_revision} -> a new revision
//   DELETE /v1/workspaces/{id}                  (owner)
//   GET    /v1/workspaces/{id}/revisions        newest first
//   GET    /v1/workspaces/{id}/revisions/{rev}  one revision's name and cells
//   PUT    /v1/workspaces/{id}/shares           {shares: [{kind, name, access}]} (owner)
#pragma once

#include <functional>

#include "server/router.h"
#include "store/store.h"

namespace tarn::server {

struct WorkspaceRoutes {
  std::function<store::MetaStore&(size_t worker)> store;  // the worker's metadata store
};

void AddWorkspaceRoutes(Router& router, WorkspaceRoutes routes);

}  // namespace tarn::server
