#include "audit/events.h"

namespace tarn::audit {

nlohmann::json Origin::Json() const {
  nlohmann::json j = {{"kind", kind}};
  if (!request_id.empty()) j["request_id"] = request_id;
  if (!run_id.empty()) j["run_id"] = run_id;
  if (!job_run_id.empty()) j["job_run_id"] = job_run_id;
  if (!session_id.empty()) j["session_id"] = session_id;
  if (!impersonated_by.empty()) j["impersonated_by"] = impersonated_by;
  if (statement >= 0) j["statement"] = statement;
  return j;
}

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk: return "ok";
    case Outcome::kDenied: return "denied";
    case Outcome::kFailed: return "failed";
    case Outcome::kCancelled: return "cancelled";
    case Outcome::kTimeout: return "timeout";
    case Outcome::kLimit: return "limit";
  }
  return "failed";
}

Outcome OutcomeOf(const Error* error) {
  if (!error) return Outcome::kOk;
  switch (error->code()) {
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kUnauthenticated: return Outcome::kDenied;
    case ErrorCode::kCancelled: return Outcome::kCancelled;
    case ErrorCode::kResourceExhausted: return Outcome::kLimit;
    default: return Outcome::kFailed;
  }
}

namespace {

// The fields every record shares.
nlohmann::json Common(const char* event, const Actor& a, const Origin& o, Outcome outcome,
                      const std::string& reason) {
  return {{"event", event},     {"request_id", o.request_id}, {"user_name", a.user.substr(0, 128)},
          {"groups", a.groups}, {"roles", a.roles},           {"issuer", a.issuer},
          {"client", o.kind},   {"origin", o.Json()},         {"outcome", OutcomeName(outcome)},
          {"reason", reason}};
}

}  // namespace

nlohmann::json ToJson(const StatementEvent& e) {
  auto j = Common("statement", e.actor, e.origin, e.outcome, e.reason);
  j["statement_type"] = e.statement_type;
  j["statement"] = e.statement.size() > 16384 ? e.statement.substr(0, 16384) + "..." : e.statement;
  j["rows"] = e.rows;
  j["bytes_scanned"] = e.bytes_scanned;
  j["duration_ms"] = e.duration_ms;
  j["resources"] = e.resources;
  if (e.truncated) j["details"] = {{"truncated", true}};
  return j;
}

nlohmann::json ToJson(const ActionEvent& e) {
  auto j = Common(e.event.c_str(), e.actor, e.origin, e.outcome, e.reason);
  j["statement_type"] = e.action;
  j["details"] = e.details;
  return j;
}

const std::vector<std::pair<std::string, std::string>>& EventColumns() {
  static const std::vector<std::pair<std::string, std::string>> kColumns = {{"seq", "BIGINT"},
                                                                            {"time", "VARCHAR"},
                                                                            {"event", "VARCHAR"},
                                                                            {"request_id", "VARCHAR"},
                                                                            {"user_name", "VARCHAR"},
                                                                            {"groups", "VARCHAR[]"},
                                                                            {"roles", "VARCHAR[]"},
                                                                            {"issuer", "VARCHAR"},
                                                                            {"client", "VARCHAR"},
                                                                            {"origin", "JSON"},
                                                                            {"statement_type", "VARCHAR"},
                                                                            {"statement", "VARCHAR"},
                                                                            {"outcome", "VARCHAR"},
                                                                            {"reason", "VARCHAR"},
                                                                            {"rows", "BIGINT"},
                                                                            {"bytes_scanned", "BIGINT"},
                                                                            {"duration_ms", "DOUBLE"},
                                                                            {"resources", "JSON"},
                                                                            {"details", "JSON"},
                                                                            {"prev", "VARCHAR"}};
  return kColumns;
}

}  // namespace tarn::audit
