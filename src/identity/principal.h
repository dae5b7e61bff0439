// Principal: the person or service a request acts for.
#pragma once

#include <string>
#include <vector>

namespace tarn::identity {

struct Principal {
  std::string user;                 // user name (built-in) or mapped claim (external issuer)
  std::vector<std::string> groups;  // sorted
  std::string issuer;               // who vouched for it: the token issuer
  bool admin = false;               // data-lake administrator (built-in users only)
  bool service = false;             // a service principal (client credentials)
  // Built-in users: tokens issued up to this time (epoch milliseconds: the user's
  // creation or last password change) are void.
  int64_t credentials_since_ms = 0;
  // An assumed role (a run's runtime role): only that role's grants apply, and the
  // principal must hold the role. Empty: every grant of the user, its groups and roles.
  std::string role{};
  // With a role: only the role's grants these entries name ("PRIVILEGE [ON TABLE db.t |
  // DATABASE db | DATA FILTER f | TAG k | APPLICATION a]"), never more than the role
  // holds (governance::NarrowForRole). Empty: all of the role's grants.
  std::vector<std::string> execution_policy{};

  // Who this is, stably: issuer, name and credential epoch. A user deleted and
  // created again under the same name (or whose password changed) is someone else
  // to everything keyed by it (stored results, running queries).
  std::string Key() const { return issuer + '\x1f' + user + '\x1f' + std::to_string(credentials_since_ms); }
};

}  // namespace tarn::identity
