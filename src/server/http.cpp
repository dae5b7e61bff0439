#include "server/http.h"

#include "common/util.h"

namespace tarn::server {

http::status StatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return http::status::bad_request;
    case ErrorCode::kNotFound: return http::status::not_found;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kConflict: return http::status::conflict;
    case ErrorCode::kUnauthenticated: return http::status::unauthorized;
    case ErrorCode::kPermissionDenied: return http::status::forbidden;
    case ErrorCode::kUnsupported: return http::status::bad_request;
    case ErrorCode::kResourceExhausted: return http::status::too_many_requests;
    case ErrorCode::kCancelled: return http::status::conflict;
    case ErrorCode::kIo:
    case ErrorCode::kInternal: return http::status::internal_server_error;
  }
  return http::status::internal_server_error;
}

nlohmann::json JsonBody(const RequestContext& ctx) {
  try {
    auto body = nlohmann::json::parse(ctx.request.body());
    if (!body.is_object()) throw Error::InvalidArgument("the body must be a JSON object");
    return body;
  } catch (const nlohmann::json::exception&) {
    throw Error::InvalidArgument("the body must be a JSON object");
  }
}

Response JsonResponse(http::status status, const nlohmann::json& body, unsigned version) {
  Response res{status, version};
  res.set(http::field::content_type, "application/json");
  res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  res.prepare_payload();
  return res;
}

Response TextResponse(http::status status, std::string body, std::string content_type, unsigned version) {
  Response res{status, version};
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

std::string_view BearerToken(const Request& req) {
  auto auth = req[http::field::authorization];
  if (auth.size() < 8 || !boost::beast::iequals(auth.substr(0, 7), "Bearer ")) {
    throw Error::Unauthenticated("no bearer token");
  }
  std::string_view token(auth.data() + 7, auth.size() - 7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  return token;
}

Response ErrorResponse(const Error& error, const std::string& request_id, unsigned version) {
  std::string message = error.what();
  if (error.code() == ErrorCode::kInternal || error.code() == ErrorCode::kIo) {
    message = "internal error; the server log has details under this request id";
  } else if (error.code() == ErrorCode::kUnauthenticated) {
    message = "missing or invalid credentials";  // never say which check failed
  }
  auto nl = message.find('\n');
  if (nl != std::string::npos) message.resize(nl);
  auto res = JsonResponse(StatusFor(error.code()),
                          {{"error",
                            {{"code", std::string(ErrorCodeName(error.code()))},
                             {"message", message},
                             {"request_id", request_id}}}},
                          version);
  if (error.code() == ErrorCode::kUnauthenticated) res.set(http::field::www_authenticate, "Bearer");
  return res;
}

std::map<std::string, std::string> ParseForm(std::string_view s) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t amp = s.find('&', start);
    if (amp == std::string_view::npos) amp = s.size();
    auto pair = s.substr(start, amp - start);
    if (!pair.empty()) {
      auto eq = pair.find('=');
      std::string key = UrlDecode(pair.substr(0, eq), true);
      std::string value = eq == std::string_view::npos ? "" : UrlDecode(pair.substr(eq + 1), true);
      if (out.count(key)) throw Error::InvalidArgument("parameter '{}' appears twice", key);
      out[key] = value;
    }
    start = amp + 1;
  }
  return out;
}

}  // namespace tarn::server
