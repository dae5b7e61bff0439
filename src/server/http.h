// HTTP vocabulary shared by the server's parts: request and response types, the
// per-request context handlers get, JSON and error responses, and the one place
// where error codes become HTTP statuses.
#pragma once

#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/error.h"
#include "identity/principal.h"

namespace tarn::server {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// A response body written as it is produced, after the response's head, until it
// ends, the client goes or the server stops (Server-Sent Events). The connection
// closes after it. Both methods run on the connection's I/O thread: they must not
// block.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // Called once, before the first Pull. `wake` asks for another Pull soon; it may be
  // called from any thread, any number of times, also after the connection closed.
  virtual void Start(std::function<void()> wake) = 0;
  // What is ready to send ("" if nothing yet); sets `ended` when nothing more will come.
  virtual std::string Pull(bool& ended) = 0;
  // The longest the server may wait before the next Pull when nothing is ready (it
  // also writes an SSE comment line then, to keep the connection alive).
  virtual std::chrono::milliseconds MaxWait() const { return std::chrono::seconds(15); }
};

// What a handler knows about the request it serves.
struct RequestContext {
  const Request& request;
  std::string path;                           // decoded path without the query
  std::map<std::string, std::string> query;   // decoded query parameters
  std::map<std::string, std::string> params;  // {name} parts of the route
  std::string request_id;
  std::optional<identity::Principal> principal;  // set for authenticated routes
  size_t worker = 0;                             // index of the worker thread
  bool secure = false;                           // the connection is TLS
  bool loopback = false;                         // the peer is this machine (127.0.0.0/8 or ::1)
  // True once the client closed its connection (polls the socket; cheap).
  std::function<bool()> client_gone = [] { return false; };
  // Set by a handler whose response may only be sent once something else happened
  // (its audit record is durable), so that the worker need not wait for it: the
  // server calls it with the function that sends the response, which takes the
  // error to answer with instead (null: send the response).
  std::function<void(std::function<void(std::exception_ptr)>)> send_after;
  // Set by a handler whose body follows its response's head as a stream (the head's
  // own body is then not sent).
  std::shared_ptr<BodyStream> stream;
};

// The HTTP status for an error code (the only mapping in the server).
http::status StatusFor(ErrorCode code);

// {"error":{"code","message","request_id"}} with the status for `error`. Internal
// errors carry a generic message; their details go to the log only.
Response ErrorResponse(const Error& error, const std::string& request_id, unsigned version);

// The request's body as a JSON object; kInvalidArgument if it is not one.
nlohmann::json JsonBody(const RequestContext& ctx);

Response JsonResponse(http::status status, const nlohmann::json& body, unsigned version);
Response TextResponse(http::status status, std::string body, std::string content_type, unsigned version);

// The token of "Authorization: Bearer <token>" (spaces before it skipped); throws
// kUnauthenticated if the request carries none.
std::string_view BearerToken(const Request& req);

// key=value&... into a map (application/x-www-form-urlencoded and query strings).
std::map<std::string, std::string> ParseForm(std::string_view s);

}  // namespace tarn::server
