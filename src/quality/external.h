// External databases a validation may read (docs/validation.md, "Across systems"):
// tables in PostgreSQL, reached through connections the server's administrator
// configures ([connections.NAME] in tarn.toml). A spec names a connection, never a
// host or a credential; who may use a connection is an allow-list beside it.
//
// Thread-safety: plain values.
#pragma once

#include <string>
#include <vector>

#include "identity/principal.h"

namespace tarn::audit {
class AuditLog;
}

namespace tarn::quality {

struct ExternalConnection {
  std::string name;
  // A libpq connection URL or key=value string. Its user should be a read-only role:
  // Tarn only reads, in a READ ONLY transaction, but the database decides.
  std::string url;
  std::string password_file;  // read when connecting ("": the URL's own, or none)
  // Who may use it: these users and members of these groups. Neither: nobody.
  std::vector<std::string> users, groups;

  bool Allows(const identity::Principal& p) const;
};

// What validations run with: the connections, and the audit trail their reads of
// external tables are recorded in (null: not recorded, for tests of lower layers).
struct ValidationContext {
  std::vector<ExternalConnection> connections;
  audit::AuditLog* audit = nullptr;
};

}  // namespace tarn::quality
