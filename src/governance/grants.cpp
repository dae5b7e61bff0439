// GRANT and REVOKE (privileges, ADMIN, role membership) and SHOW GRANTS.
#include <algorithm>
#include <set>

#include "common/error.h"
#include "common/util.h"
#include "governance/policy_statements.h"
#include "identity/directory.h"

namespace tarn::governance {

namespace {

using engine::TokenReader;

const std::set<std::string> kTablePrivileges = {"SELECT",   "INSERT", "UPDATE", "DELETE",
                                                "DESCRIBE", "ALTER",  "DROP",   "ALL"};
const std::set<std::string> kDatabasePrivileges = {"CREATE_TABLE", "DESCRIBE", "ALTER", "DROP", "ALL"};
const std::set<std::string> kSystemPrivileges = {"AUDIT", "CREATE_DATABASE", "CREATE_APPLICATION",
                                                 "MANAGE_LIVY"};
const std::set<std::string> kApplicationPrivileges = {"SUBMIT", "MANAGE", "ALL"};
const std::set<std::string> kRolePrivileges = {"ASSUME"};
const std::set<std::string> kPrincipalPrivileges = {"IMPERSONATE"};  // on a user or a group

// Whether grant `g` is on what `t` names: applications and roles by name, the rest by id.
bool SameObject(const Grant& g, const Target& t) {
  if (g.object_kind != t.kind) return false;
  if (t.kind == ObjectKind::kApplication || t.kind == ObjectKind::kRole || t.kind == ObjectKind::kUser ||
      t.kind == ObjectKind::kGroup)
    return g.object_name == t.name;
  return g.object_id == t.id;
}

// What a GRANT, REVOKE or SHOW GRANTS names after ON. kNotFound for what the caller
// may not know about; tags are for administrators only.
Target ReadTarget(StatementContext& ctx, const char* usage) {
  TokenReader& r = ctx.reader;
  Target t;
  if (r.AcceptWord("DATABASE")) {
    t.kind = ObjectKind::kDatabase;
    t.name = Name(r, "database", usage);
    ctx.governor.RequireDatabase(t.name, "", "");
    t.id = *ctx.catalog().FindDatabase(t.name);
  } else if (r.AcceptWords({"DATA", "FILTER"})) {
    t.kind = ObjectKind::kDataFilter;
    t.name = Name(r, "data filter", usage);
    auto [filter, table] = FindFilter(ctx, t.name);
    if (!table) throw Error::NotFound("the table of data filter {} no longer exists", t.name);
    t.id = filter->id;
    t.table = table;
  } else if (r.AcceptWord("APPLICATION")) {
    // Job applications (src/jobs) live in the same store; grants name them by id.
    t.kind = ObjectKind::kApplication;
    std::string name = r.Identifier(usage);
    auto rows = ctx.store().Query("SELECT id FROM applications WHERE id = ? OR name = ?", {name, name});
    if (rows.empty()) throw Error::NotFound("application {} does not exist", name.substr(0, 64));
    t.name = rows[0].Str(0);
  } else if (r.AcceptWord("ROLE")) {
    t.kind = ObjectKind::kRole;
    t.name = identity::CheckPrincipalName(r.Identifier(usage), "role");
    // Only administrators say who may assume a role: decided before the role is looked up.
    if (!ctx.subject().admin) throw Denied("who may assume a role is decided by data-lake administrators");
    if (!ctx.policy().roles.count(t.name))
      throw Error::NotFound("role {} does not exist (CREATE ROLE creates it)", t.name);
  } else if (r.PeekWord("USER") || r.PeekWord("GROUP")) {
    // Who may act as whom (IMPERSONATE) is decided by administrators: before any lookup.
    bool user = r.AcceptWord("USER");
    if (!user) r.ExpectWord("GROUP", usage);
    t.kind = user ? ObjectKind::kUser : ObjectKind::kGroup;
    t.name = identity::CheckPrincipalName(r.Identifier(usage), user ? "user" : "group");
    if (!ctx.subject().admin) throw Denied("who may impersonate whom is decided by data-lake administrators");
    identity::Directory dir(ctx.store());
    bool exists = user ? dir.FindUser(t.name).has_value() : [&] {
      auto groups = dir.ListGroups();
      return std::find(groups.begin(), groups.end(), t.name) != groups.end();
    }();
    if (!exists) throw Error::NotFound("{} {} does not exist", user ? "user" : "group", t.name);
  } else if (r.AcceptWord("TAG")) {
    t.kind = ObjectKind::kTag;
    t.name = Name(r, "tag", usage);
    // Only administrators manage grants on tags: decided before the tag is looked up.
    if (!ctx.subject().admin) throw Denied("grants on tags are managed by data-lake administrators");
    auto it = ctx.policy().tags.find(t.name);
    if (it == ctx.policy().tags.end())
      throw Error::NotFound("tag {} does not exist (CREATE TAG creates it)", t.name);
    r.ExpectWord("IN", usage);
    r.ExpectSymbol('(', usage);
    do {
      std::string v = r.String(usage);
      if (std::find(it->second.begin(), it->second.end(), v) == it->second.end()) {
        throw Error::InvalidArgument("'{}' is not a value of tag {} (allowed: {})", v, t.name,
                                     Joined(it->second));
      }
      t.tag_values.push_back(v);
    } while (r.AcceptSymbol(','));
    r.ExpectSymbol(')', usage);
  } else {
    r.AcceptWord("TABLE");
    std::string db, table;
    r.QualifiedName(db, table, usage);
    t.kind = ObjectKind::kTable;
    t.table = ctx.governor.RequireTable(db, table, "DESCRIBE", "GRANT");
    t.id = t.table->id;
    t.name = t.table->QualifiedName();
  }
  return t;
}

// May `who` grant `p` on `target` under `policy`?
bool CanGrant(const Subject& who, const Policy& policy, const Target& target, const PrivilegeSpec& p) {
  if (who.admin) return true;
  switch (target.kind) {
    case ObjectKind::kSystem:
    case ObjectKind::kRole:
    case ObjectKind::kUser:
    case ObjectKind::kGroup:
    case ObjectKind::kTag: return false;
    case ObjectKind::kDataFilter: {
      TableAccess a = Evaluate(policy, who, *target.table, target.table->database_id);
      return a.owner;
    }
    case ObjectKind::kApplication:
    case ObjectKind::kDatabase:
    case ObjectKind::kTable: break;
  }
  for (auto& g : policy.grants) {
    if (!who.Is(g.grantee) || !g.grant_option || !SameObject(g, target)) continue;
    if (g.privilege == "ALL") return true;
    if (g.privilege != p.privilege) continue;
    if (!g.columns) return true;
    if (!p.columns || p.except != g.columns_except) continue;
    // Column grants: (a, b) may grant a subset of its columns; EXCEPT (x) may grant
    // EXCEPT (a superset of x).
    const auto& inner = g.columns_except ? *g.columns : *p.columns;
    const auto& outer = g.columns_except ? *p.columns : *g.columns;
    bool covered = std::all_of(inner.begin(), inner.end(), [&](const std::string& c) {
      return std::find(outer.begin(), outer.end(), c) != outer.end();
    });
    if (covered) return true;
  }
  return false;
}

// Inside a policy change: removes grants whose grantor lost the grant option.
void Cascade(StatementContext& ctx) {
  // A grant made by someone who no longer holds it with grant option goes too.
  identity::Directory dir(ctx.store());
  for (int round = 0; round < 100; round++) {
    auto policy = ctx.LoadPolicy();
    std::vector<int64_t> doomed;
    for (auto& g : policy->grants) {
      if (g.granted_by == "tarn") continue;
      auto principal = dir.Lookup(g.granted_by, ctx.principal().issuer);
      identity::Principal p;  // a grantor gone from the directory: the name only
      p.user = g.granted_by;
      if (principal) p = *principal;
      Subject grantor = MakeSubject(p, *policy);
      Target t;
      t.kind = g.object_kind;
      t.id = g.object_id;
      t.name = g.object_name;
      if (g.object_kind == ObjectKind::kDataFilter) {
        auto f = policy->filters.find(g.object_name);
        if (f != policy->filters.end()) t.table = ctx.catalog().FindTableById(f->second.table_id);
        if (!t.table) {
          doomed.push_back(g.id);
          continue;
        }
      }
      Policy without = *policy;  // a grant cannot justify itself
      without.grants.erase(std::remove_if(without.grants.begin(), without.grants.end(),
                                          [&](const Grant& x) { return x.id == g.id; }),
                           without.grants.end());
      if (!CanGrant(grantor, without, t, {g.privilege, g.columns, g.columns_except})) doomed.push_back(g.id);
    }
    if (doomed.empty()) return;
    for (auto id : doomed) ctx.store().Execute("DELETE FROM grants WHERE id = ?", {id});
  }
}

// GRANT ADMIN TO USER u / REVOKE ADMIN FROM USER u (the reader at ADMIN).
void GrantAdmin(StatementContext& ctx, bool grant, const char* usage, const char* to) {
  TokenReader& r = ctx.reader;
  r.AcceptWord("ADMIN");
  r.ExpectWord(to, usage);
  Grantee g = ReadGrantee(r, usage);
  r.ExpectEnd(usage);
  ctx.RequireAdmin(grant ? "GRANT ADMIN" : "REVOKE ADMIN");
  if (g.kind != GranteeKind::kUser) throw Error::InvalidArgument("ADMIN is granted to users only");
  if (!grant && g.name == ctx.me) throw Error::InvalidArgument("you cannot revoke your own ADMIN");
  identity::Directory dir(ctx.store());
  if (!dir.FindUser(g.name)) throw Error::NotFound("user {} does not exist", g.name);
  dir.SetAdmin(g.name, grant);
  ctx.Change([] {});
  ctx.out.status = fmt::format("{} {} administrator", g.name, grant ? "is now an" : "is no longer an");
}

// GRANT ROLE r TO USER|GROUP g / REVOKE ROLE r FROM ... (the reader at ROLE).
void GrantRole(StatementContext& ctx, bool grant, const char* usage, const char* to) {
  TokenReader& r = ctx.reader;
  r.AcceptWord("ROLE");
  std::string role = identity::CheckPrincipalName(r.Identifier(usage), "role");
  r.ExpectWord(to, usage);
  Grantee g = ReadGrantee(r, usage);
  r.ExpectEnd(usage);
  ctx.RequireAdmin(grant ? "GRANT ROLE" : "REVOKE ROLE");
  if (!ctx.policy().roles.count(role))
    throw Error::NotFound("role {} does not exist (CREATE ROLE creates it)", role);
  if (g.kind == GranteeKind::kRole) throw Error::InvalidArgument("roles are granted to users and groups");
  ctx.Change([&] {
    ctx.store().Execute("DELETE FROM role_members WHERE role = ? AND member_kind = ? AND member = ?",
                        {role, std::string(GranteeKindName(g.kind)), g.name});
    if (grant) {
      ctx.store().Execute("INSERT INTO role_members (role, member_kind, member) VALUES (?, ?, ?)",
                          {role, std::string(GranteeKindName(g.kind)), g.name});
    }
  });
  ctx.out.status = fmt::format("{} role {} {} {}", grant ? "granted" : "revoked", role, grant ? "to" : "from",
                               g.ToString());
}

// kInvalidArgument unless every privilege can be granted on what `target` is.
void CheckPrivilegeKinds(const std::vector<PrivilegeSpec>& privileges, const Target& target) {
  const std::set<std::string>* valid = nullptr;
  std::set<std::string> filter_privs = {"SELECT"}, tag_privs = {"SELECT", "DESCRIBE"};
  switch (target.kind) {
    case ObjectKind::kSystem: valid = &kSystemPrivileges; break;
    case ObjectKind::kDatabase: valid = &kDatabasePrivileges; break;
    case ObjectKind::kTable: valid = &kTablePrivileges; break;
    case ObjectKind::kDataFilter: valid = &filter_privs; break;
    case ObjectKind::kTag: valid = &tag_privs; break;
    case ObjectKind::kApplication: valid = &kApplicationPrivileges; break;
    case ObjectKind::kRole: valid = &kRolePrivileges; break;
    case ObjectKind::kUser:
    case ObjectKind::kGroup: valid = &kPrincipalPrivileges; break;
  }
  for (auto& p : privileges) {
    if (!valid->count(p.privilege)) {
      std::string list;
      for (auto& v : *valid) list += (list.empty() ? "" : ", ") + v;
      throw Error::InvalidArgument(
          "{} cannot be granted on {}: use one of {}", p.privilege,
          target.kind == ObjectKind::kSystem ? "the system (no ON clause)" : ObjectKindName(target.kind),
          list);
    }
  }
}

// Adds one grant per privilege, if the caller may grant each.
void GrantPrivileges(StatementContext& ctx, const std::vector<PrivilegeSpec>& privileges,
                     const Target& target, const Grantee& grantee, bool with_option) {
  // The right first, then the names it covers: a caller without the right
  // learns nothing about which columns or roles exist.
  for (auto& p : privileges) {
    if (!CanGrant(ctx.subject(), ctx.policy(), target, p)) {
      throw Denied(fmt::format("you may not grant {} on {}: grant only what you hold WITH GRANT OPTION",
                               p.privilege, target.kind == ObjectKind::kSystem ? "the system" : target.name));
    }
    if (p.columns && target.table) ctx.RequireColumns(*target.table, *p.columns);
  }
  if (grantee.kind == GranteeKind::kRole && !ctx.policy().roles.count(grantee.name)) {
    throw Error::NotFound("role {} does not exist (CREATE ROLE creates it)", grantee.name);
  }
  ctx.Change([&] {
    for (auto& p : privileges) {
      ctx.store().Execute(
          "INSERT INTO grants (grantee_kind, grantee, object_kind, object_id, object_name, tag_values, "
          "privilege, "
          "columns_json, columns_except, grant_option, granted_by, created_at) VALUES (?, ?, ?, ?, ?, ?, "
          "?, ?, ?, "
          "?, ?, ?)",
          {std::string(GranteeKindName(grantee.kind)), grantee.name, std::string(ObjectKindName(target.kind)),
           target.id, target.name,
           target.tag_values.empty() ? store::Param(nullptr) : store::Param(Json(target.tag_values)),
           p.privilege, p.columns ? store::Param(Json(*p.columns)) : store::Param(nullptr),
           int64_t{p.except ? 1 : 0}, int64_t{with_option ? 1 : 0}, ctx.me, NowUtc()});
    }
  });
  ctx.out.status =
      fmt::format("granted {} privilege{}", privileges.size(), privileges.size() == 1 ? "" : "s");
}

// Removes (or, `option_only`, takes the grant option from) the grants on `target` to
// `grantee` with these privileges that the caller made, or may manage as owner or
// administrator; then the grants that depended on them.
void RevokePrivileges(StatementContext& ctx, const std::vector<PrivilegeSpec>& privileges,
                      const Target& target, const Grantee& grantee, bool option_only) {
  bool manager = ctx.subject().admin ||
                 (target.table && target.kind == ObjectKind::kTable && ctx.Access(*target.table).owner) ||
                 (target.kind == ObjectKind::kDatabase &&
                  EvaluateDatabase(ctx.policy(), ctx.subject(), target.id).owner);
  int64_t removed = 0;
  ctx.Change([&] {
    for (auto& g : ctx.policy().grants) {
      if (!(g.grantee == grantee) || !SameObject(g, target)) continue;
      if (target.kind == ObjectKind::kTag && g.tag_values != target.tag_values) continue;
      bool match = std::any_of(privileges.begin(), privileges.end(), [&](const PrivilegeSpec& p) {
        return p.privilege == "ALL" || p.privilege == g.privilege;
      });
      if (!match) continue;
      if (!manager && g.granted_by != ctx.me) continue;
      if (option_only) {
        removed += ctx.store().Execute("UPDATE grants SET grant_option = 0 WHERE id = ?", {g.id});
      } else {
        removed += ctx.store().Execute("DELETE FROM grants WHERE id = ?", {g.id});
      }
    }
    if (removed == 0) {
      throw Error::NotFound("{} holds no such grant{} on {}", grantee.ToString(),
                            manager ? "" : " made by you",
                            target.kind == ObjectKind::kSystem ? "the system" : target.name);
    }
    Cascade(ctx);
  });
  ctx.out.status = fmt::format("revoked {} grant{}", removed, removed == 1 ? "" : "s");
}

// GRANT or REVOKE, the reader past the first word.
bool GrantOrRevoke(StatementContext& ctx, bool grant) {
  TokenReader& r = ctx.reader;
  const char* usage = grant ? kGrantUsage : kRevokeUsage;
  const char* to = grant ? "TO" : "FROM";
  if (r.PeekWord("ADMIN") && r.PeekWord(to, 1)) {
    GrantAdmin(ctx, grant, usage, to);
    return true;
  }
  if (r.PeekWord("ROLE") && !r.PeekWord(to, 1)) {
    GrantRole(ctx, grant, usage, to);
    return true;
  }
  bool option_only = !grant && r.AcceptWords({"GRANT", "OPTION", "FOR"});
  auto privileges = ReadPrivileges(r, usage);
  Target target;
  if (r.AcceptWord("ON")) {
    target = ReadTarget(ctx, usage);
  }
  r.ExpectWord(to, usage);
  Grantee grantee = ReadGrantee(r, usage);
  bool with_option = grant && r.AcceptWords({"WITH", "GRANT", "OPTION"});
  r.ExpectEnd(usage);
  CheckPrivilegeKinds(privileges, target);
  if (grant) {
    GrantPrivileges(ctx, privileges, target, grantee, with_option);
  } else {
    RevokePrivileges(ctx, privileges, target, grantee, option_only);
  }
  return true;
}

// Whether the caller sees grant `g` in SHOW GRANTS: administrators see all; anyone
// else their own grants, those they made and the grants on what they own.
bool GrantVisible(StatementContext& ctx, const Grant& g) {
  bool mine = ctx.subject().Is(g.grantee) || g.granted_by == ctx.principal().user;
  if (ctx.subject().admin || mine) return true;
  if (g.object_kind == ObjectKind::kTable) {
    auto t = ctx.catalog().FindTableById(g.object_id);
    return t && ctx.Access(*t).owner;
  }
  if (g.object_kind == ObjectKind::kDatabase) {
    return EvaluateDatabase(ctx.policy(), ctx.subject(), g.object_id).owner;
  }
  return false;
}

}  // namespace

bool ExecuteGrant(StatementContext& ctx) {
  return GrantOrRevoke(ctx, true);
}

bool ExecuteRevoke(StatementContext& ctx) {
  return GrantOrRevoke(ctx, false);
}

bool ExecuteShowGrants(StatementContext& ctx) {
  TokenReader& r = ctx.reader;
  const char* usage = "SHOW GRANTS [ON DATABASE db | ON TABLE db.table] [TO USER|GROUP|ROLE name]";
  std::optional<Target> on;
  std::optional<Grantee> to;
  if (r.AcceptWord("ON")) on = ReadTarget(ctx, usage);
  if (r.AcceptWord("TO")) to = ReadGrantee(r, usage);
  r.ExpectEnd(usage);
  StatementOutput& out = ctx.out;
  out.names = {"grantee", "privilege",    "object_kind", "object",
               "columns", "grant_option", "granted_by",  "statement"};
  for (auto& g : ctx.policy().grants) {
    if (on && (g.object_kind != on->kind || g.object_id != on->id)) continue;
    if (to && !(g.grantee == *to)) continue;
    if (!GrantVisible(ctx, g)) continue;
    std::string object = g.object_name;
    if (g.object_kind == ObjectKind::kTable) {
      auto t = ctx.catalog().FindTableById(g.object_id);
      if (!t) continue;
      object = t->QualifiedName();
    }
    if (g.object_kind == ObjectKind::kTag) object += " IN ('" + Joined(g.tag_values) + "')";
    std::string cols = g.columns ? (g.columns_except ? "EXCEPT (" : "(") + Joined(*g.columns) + ")" : "";
    out.rows.push_back({Text(g.grantee.ToString()), Text(g.privilege), Text(ObjectKindName(g.object_kind)),
                        Text(object), cols.empty() ? duckdb::Value(duckdb::LogicalType::VARCHAR) : Text(cols),
                        duckdb::Value::BOOLEAN(g.grant_option), Text(g.granted_by), Text(g.Describe())});
  }
  return true;
}

}  // namespace tarn::governance
