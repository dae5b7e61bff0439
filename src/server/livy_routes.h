// The Livy-compatible routes (docs/livy.md): interactive sessions and their
// statements under a configurable base path, answering in Livy's shapes — errors
// as {"msg": ...} with Livy's statuses — over livy::LivyService.
//
// Identity: a bearer token (built-in or trusted issuer), or HTTP Basic with a
// built-in user's password (what notebook clients send). Basic is accepted over TLS
// and from this machine; from elsewhere over plain HTTP only when the operator set
// livy.allow_basic_over_http. A verified Basic credential is remembered for 60 s (a
// notebook polls often; each password check costs an Argon2 hash).
#pragma once

#include <functional>
#include <string>

#include "identity/principal.h"
#include "jobs/job_service.h"
#include "livy/sessions.h"
#include "server/router.h"

namespace tarn::server {

struct LivyRoutes {
  std::string base_path = "/";  // "/" or e.g. "/livy"
  bool allow_basic_over_http = false;
  bool csrf = false;  // POST and DELETE need an X-Requested-By header (any value)
  std::function<identity::Principal(std::string_view token, size_t worker)> bearer;
  std::function<identity::Principal(const std::string& user, std::string_view password, size_t worker)>
      password;
  // Whether the caller sees and drives every session and batch (MANAGE LIVY).
  std::function<bool(const identity::Principal& caller, size_t worker)> may_manage;
  // The principal `caller` may act as (proxyUser, doAs): the built-in user `user`;
  // kPermissionDenied, worded as Livy's, otherwise (also for a user that does not exist).
  std::function<identity::Principal(const identity::Principal& caller, const std::string& user,
                                    size_t worker)>
      impersonate;
  std::function<livy::LivyService&()> livy;               // set once the server started
  std::function<store::MetaStore&(size_t worker)> store;  // the worker's metadata store
  std::function<jobs::JobService&()> jobs;                // batches are job runs
};

void AddLivyRoutes(Router& router, LivyRoutes routes);

}  // namespace tarn::server
