// CREATE ROLE, DROP ROLE and SHOW ROLES. (Role membership is GRANT / REVOKE ROLE, in
// grants.cpp.)
#include "common/error.h"
#include "common/util.h"
#include "governance/policy_statements.h"
#include "identity/directory.h"

namespace tarn::governance {

namespace {

// CREATE ROLE name / DROP ROLE name (the reader past ROLE). Dropping a role also
// removes its grants and members.
bool CreateOrDropRole(StatementContext& ctx, bool create) {
  engine::TokenReader& r = ctx.reader;
  std::string role = identity::CheckPrincipalName(r.Identifier("CREATE ROLE name"), "role");
  r.ExpectEnd(create ? "CREATE ROLE name" : "DROP ROLE name");
  ctx.RequireAdmin(create ? "CREATE ROLE" : "DROP ROLE");
  if (create == (ctx.policy().roles.count(role) > 0)) {
    if (create) throw Error::AlreadyExists("role {} already exists", role);
    throw Error::NotFound("role {} does not exist", role);
  }
  ctx.Change([&] {
    if (create) {
      ctx.store().Execute("INSERT INTO roles (name, created_by, created_at) VALUES (?, ?, ?)",
                          {role, ctx.me, NowUtc()});
    } else {
      ctx.store().Execute("DELETE FROM grants WHERE grantee_kind = 'ROLE' AND grantee = ?", {role});
      ctx.store().Execute("DELETE FROM grants WHERE object_kind = 'role' AND object_name = ?", {role});
      ctx.store().Execute("DELETE FROM role_members WHERE role = ?", {role});
      ctx.store().Execute("DELETE FROM roles WHERE name = ?", {role});
    }
  });
  ctx.out.status = (create ? "created role " : "dropped role ") + role;
  return true;
}

}  // namespace

bool ExecuteCreateRole(StatementContext& ctx) {
  return CreateOrDropRole(ctx, true);
}

bool ExecuteDropRole(StatementContext& ctx) {
  return CreateOrDropRole(ctx, false);
}

// Administrators see every role; anyone else the roles they hold.
bool ExecuteShowRoles(StatementContext& ctx) {
  ctx.reader.ExpectEnd("SHOW ROLES");
  ctx.out.names = {"role", "members"};
  for (auto& [role, members] : ctx.policy().roles) {
    if (!ctx.subject().admin && !ctx.subject().Is({GranteeKind::kRole, role})) continue;
    std::vector<std::string> m;
    for (auto& g : members) m.push_back(g.ToString());
    ctx.out.rows.push_back({Text(role), Text(Joined(m))});
  }
  return true;
}

}  // namespace tarn::governance
