// Router: the route table. A route is a method, a path pattern whose {name} parts
// match one path segment, whether it needs a bearer token, and a handler. The
// table is also what the OpenAPI test compares docs/api/openapi.yaml with.
//
// Thread-safety: built before the server starts, then read-only.
#pragma once

#include <string>
#include <vector>

#include "server/http.h"

namespace tarn::server {

using Handler = std::function<Response(RequestContext&)>;

struct Route {
  http::verb method;
  std::string pattern;  // e.g. /v1/databases/{db}/tables
  bool authenticated = true;
  Handler handler;
};

class Router {
 public:
  void Add(http::verb method, std::string pattern, bool authenticated, Handler handler);

  // The route for method and path, filling `params`; null if none. Sets
  // `path_known` when some route has that path with another method (405).
  const Route* Match(http::verb method, const std::string& path, std::map<std::string, std::string>& params,
                     bool& path_known) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace tarn::server
