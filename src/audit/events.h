// Audit events: the one place where the shape of an audit record is decided.
//
// Every record carries who (user, groups, roles, issuer), through what (the origin:
// the front end and its ids), what happened (event, statement type, outcome) and
// why (reason). AuditLog adds seq, time and prev. docs/audit.md lists the fields;
// system.audit reads exactly these columns (EventColumns).
//
// Outcomes: ok; denied (a right was missing); failed (bad input, engine error);
// cancelled (by the caller or an administrator); timeout (ran past its deadline);
// limit (a SET LIMIT or server limit refused or stopped it).
//
// Thread-safety: plain values and free functions.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "common/error.h"

namespace tarn::audit {

// Where a statement or request came from.
struct Origin {
  Origin() = default;
  Origin(const char* k) : kind(k) {}  // NOLINT: Origin{"http"}

  std::string kind = "cli";     // cli, http, job, livy, pg
  std::string request_id;       // the HTTP request, CLI invocation or PG connection
  std::string run_id;           // the Runner's run (a query id over HTTP)
  std::string job_run_id;       // jobs: the job run
  std::string session_id;       // Livy: the session; PG: the connection
  std::string impersonated_by;  // the person who acts as this principal (Livy proxyUser), if any
  int64_t statement = -1;       // index of the statement within its run (0-based), -1 if none

  nlohmann::json Json() const;
};

// Who acted.
struct Actor {
  std::string user;
  std::vector<std::string> groups;
  std::vector<std::string> roles;
  std::string issuer;
};

enum class Outcome { kOk, kDenied, kFailed, kCancelled, kTimeout, kLimit };
const char* OutcomeName(Outcome outcome);
// The outcome an error stands for, unless a caller knows better (timeouts).
Outcome OutcomeOf(const Error* error);

// One SQL statement, run or refused.
struct StatementEvent {
  Actor actor;
  Origin origin;
  std::string statement_type;  // SELECT, GRANT, ... ; REFUSED when it never ran
  std::string statement;       // the text (cut at 16 KiB)
  Outcome outcome = Outcome::kOk;
  std::string reason;  // the error message, when not ok
  int64_t rows = -1;
  bool truncated = false;  // the result was cut by a limit
  int64_t bytes_scanned = 0;
  double duration_ms = 0;
  nlohmann::json resources = nlohmann::json::array();
};
nlohmann::json ToJson(const StatementEvent& e);

// Anything else a person did or tried: login, user and group administration, REST
// catalog reads. `event` names it (login, admin, catalog_read), `action` says what
// (CREATE USER, LIST TABLES ...), `details` carries the object (never a secret).
struct ActionEvent {
  std::string event;
  Actor actor;
  Origin origin;
  std::string action;
  Outcome outcome = Outcome::kOk;
  std::string reason;
  nlohmann::json details = nlohmann::json::object();
};
nlohmann::json ToJson(const ActionEvent& e);

// The columns of system.audit: name and DuckDB type, in order.
const std::vector<std::pair<std::string, std::string>>& EventColumns();

}  // namespace tarn::audit
