// Shared by the Livy route files (livy_routes.cpp, livy_batch_routes.cpp); not a
// public interface.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "server/livy_routes.h"

namespace tarn::server {

// The request body as a JSON object whose fields are all in `fields`; kInvalidArgument
// otherwise, worded as Livy words it ("Unrecognized field ...").
nlohmann::json LivyBody(const RequestContext& ctx, const std::set<std::string>& fields, const char* what);
// kInvalidArgument unless body[name] (if present and not null) is of `type` (arrays
// and objects: of strings).
void LivyCheck(const nlohmann::json& body, const std::string& name, nlohmann::json::value_t type);
// A query parameter as an integer (`fallback` if absent); kInvalidArgument otherwise.
int64_t LivyIntParam(const RequestContext& ctx, const std::string& name, int64_t fallback);

// The user a create request asks to act as: ?doAs= (which wins, as in Livy), else the
// body's proxyUser; "" when neither names anyone but the caller.
std::string LivyProxyUser(const RequestContext& ctx, const nlohmann::json& body);

// Adds a route that is authenticated (Bearer or Basic), CSRF-checked and answers
// errors in Livy's shape.
using LivyAdd =
    std::function<void(http::verb, const std::string& pattern, std::function<Response(RequestContext&)>)>;

// The /batches routes (docs/livy.md, "Batches").
void AddLivyBatchRoutes(const LivyAdd& add, const std::string& base,
                        std::shared_ptr<const LivyRoutes> routes);

}  // namespace tarn::server
