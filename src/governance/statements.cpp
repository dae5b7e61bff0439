// The governance statements: GRANT, REVOKE, data filters, masks, tags, roles,
// SHOW GRANTS / DATA FILTERS / TAGS / ROLES and EXPLAIN ACCESS.
#include <duckdb/parser/expression/constant_expression.hpp>
#include <duckdb/parser/query_node/select_node.hpp>
#include <duckdb/parser/statement/insert_statement.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "common/error.h"
#include "common/util.h"
#include "engine/sql_text.h"
#include "governance/governance.h"
#include "governance/internal.h"
#include "identity/directory.h"

namespace tarn::governance {

namespace {

using engine::TokenReader;

constexpr const char* kGrantUsage =
    "GRANT privilege[, ...] ON DATABASE db | TABLE db.table | DATA FILTER f | TAG key IN ('v', ...) TO "
    "USER|GROUP|ROLE "
    "name [WITH GRANT OPTION]";
constexpr const char* kRevokeUsage =
    "REVOKE privilege[, ...] ON DATABASE db | TABLE db.table | DATA FILTER f | TAG key IN ('v', ...) FROM "
    "USER|GROUP|ROLE name";
constexpr const char* kFilterUsage =
    "CREATE DATA FILTER name ON db.table [COLUMNS (a, b) | EXCLUDING (c)] [ROW FILTER <expression>]";
constexpr const char* kAlterUsage =
    "ALTER TABLE db.table [ALTER COLUMN c] SET TAG key = 'value' | UNSET TAG key, or ALTER TABLE db.table "
    "ALTER "
    "COLUMN c SET MASK <expression> [EXEMPT USER|GROUP|ROLE name, ...] | DROP MASK";

constexpr const char* kSetLimitUsage =
    "SET LIMIT statement_timeout | result_rows | result_bytes | concurrent_statements | memory = value FOR "
    "USER|GROUP|ROLE name";
constexpr const char* kResetLimitUsage =
    "RESET LIMIT statement_timeout | result_rows | result_bytes | concurrent_statements | memory FOR "
    "USER|GROUP|ROLE name";
constexpr int64_t kMinMemory = 16 << 20;

std::string LimitName(const std::string& raw) {
  std::string name = duckdb::StringUtil::Lower(raw);
  if (std::find(kLimitNames.begin(), kLimitNames.end(), name) == kLimitNames.end()) {
    throw Error::InvalidArgument(
        "unknown limit '{}': use statement_timeout, result_rows, result_bytes, concurrent_statements or "
        "memory",
        raw.substr(0, 64));
  }
  return name;
}

// A positive number, with a unit where the limit has one: statement_timeout in
// seconds ('90', '30s', '5m', '2h'), result_bytes and memory in bytes ('1000000',
// '64MB', '1GB'; memory at least 16 MiB); see `most` below for the upper bounds.
int64_t ParseLimitValue(const std::string& name, const std::string& text) {
  std::string t = duckdb::StringUtil::Lower(duckdb::StringUtil::Replace(text, " ", ""));
  size_t digits = 0;
  while (digits < t.size() && std::isdigit(static_cast<unsigned char>(t[digits]))) digits++;
  std::string unit = t.substr(digits);
  std::map<std::string, int64_t> units = {{"", 1}};
  if (name == "statement_timeout") units = {{"", 1}, {"s", 1}, {"m", 60}, {"h", 3600}};
  bool bytes = name == "result_bytes" || name == "memory";
  if (bytes) {
    units = {{"", 1},       {"b", 1},         {"kb", 1000},    {"mb", 1000000}, {"gb", 1000000000},
             {"kib", 1024}, {"mib", 1 << 20}, {"gib", 1 << 30}};
  }
  auto u = units.find(unit);
  if (digits == 0 || digits > 12 || u == units.end()) {
    throw Error::InvalidArgument("invalid value '{}' for {}: use a positive whole number{}",
                                 text.substr(0, 64), name,
                                 name == "statement_timeout" ? " of seconds, or with s, m or h ('30s', '5m')"
                                 : bytes                     ? " of bytes, or with KB, MB or GB ('64MB')"
                                                             : "");
  }
  // At most 30 days for a timeout (it becomes nanoseconds on the server's clock) and
  // 2^53 for the rest (exact in JSON): anything larger is a typo, not a limit.
  const int64_t most = name == "statement_timeout" ? int64_t{30} * 24 * 3600 : int64_t{1} << 53;
  int64_t number = std::stoll(t.substr(0, digits));  // at most 12 digits: fits
  if (number > most / u->second) {
    throw Error::InvalidArgument("'{}' for {} is too large: at most {}{}", text.substr(0, 64), name, most,
                                 name == "statement_timeout" ? " seconds (30 days)"
                                 : bytes                     ? " bytes"
                                                             : "");
  }
  int64_t value = number * u->second;
  if (value <= 0) throw Error::InvalidArgument("{} must be positive", name);
  if (name == "memory" && value < kMinMemory) throw Error::InvalidArgument("memory must be at least 16MiB");
  return value;
}

const std::set<std::string> kTablePrivileges = {"SELECT", "INSERT", "DELETE", "DESCRIBE",
                                                "ALTER",  "DROP",   "ALL"};
const std::set<std::string> kDatabasePrivileges = {"CREATE_TABLE", "DESCRIBE", "ALTER", "DROP", "ALL"};
const std::set<std::string> kSystemPrivileges = {"AUDIT", "CREATE_DATABASE"};

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string Name(TokenReader& r, const char* what, const char* usage) {
  return catalog::CheckName(r.Identifier(usage), what);
}

std::vector<std::string> NameList(TokenReader& r, const char* usage) {
  std::vector<std::string> out;
  r.ExpectSymbol('(', usage);
  do {
    out.push_back(catalog::CheckName(r.Identifier(usage), "column"));
  } while (r.AcceptSymbol(','));
  r.ExpectSymbol(')', usage);
  return out;
}

Grantee ReadGrantee(TokenReader& r, const char* usage) {
  Grantee g;
  if (r.AcceptWord("USER")) {
    g.kind = GranteeKind::kUser;
  } else if (r.AcceptWord("GROUP")) {
    g.kind = GranteeKind::kGroup;
  } else if (r.AcceptWord("ROLE")) {
    g.kind = GranteeKind::kRole;
  } else {
    r.Fail(usage);
  }
  g.name = identity::CheckPrincipalName(r.Identifier(usage), GranteeKindName(g.kind));
  return g;
}

std::vector<PrivilegeSpec> ReadPrivileges(TokenReader& r, const char* usage) {
  std::vector<PrivilegeSpec> out;
  do {
    PrivilegeSpec p;
    p.privilege = Upper(r.Identifier(usage));
    if (p.privilege == "ALL") r.AcceptWord("PRIVILEGES");
    if (p.privilege == "SELECT") {
      if (r.AcceptWord("EXCEPT")) {
        p.except = true;
        p.columns = NameList(r, usage);
      } else if (r.PeekSymbol('(')) {
        p.columns = NameList(r, usage);
      }
    }
    out.push_back(std::move(p));
  } while (r.AcceptSymbol(','));
  return out;
}

std::string Json(const std::vector<std::string>& v) {
  return nlohmann::json(v).dump();
}

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

duckdb::Value Text(const std::string& s) {
  return duckdb::Value(s);
}

}  // namespace

std::pair<const DataFilter*, std::optional<catalog::TableInfo>> Governor::FindFilter(
    const std::string& name) {
  auto it = policy_->filters.find(name);
  std::optional<catalog::TableInfo> table;
  if (it != policy_->filters.end()) table = catalog_.FindTableById(it->second.table_id);
  if (it == policy_->filters.end() || !FilterVisible(name, it->second, table)) {
    throw Error::NotFound("data filter {} does not exist", name);
  }
  return {&it->second, table};
}

bool Governor::FilterVisible(const std::string& name, const DataFilter& filter,
                             const std::optional<catalog::TableInfo>& table) {
  if (subject_.admin) return true;
  if (!table) return false;
  bool granted = std::any_of(policy_->grants.begin(), policy_->grants.end(), [&](const Grant& g) {
    return g.object_kind == ObjectKind::kDataFilter && g.object_name == name && subject_.Is(g.grantee);
  });
  return granted || filter.created_by == principal_.user || Access(*table).owner;
}

Target Governor::ReadTarget(engine::TokenReader& r, const char* usage) {
  Target t;
  if (r.AcceptWord("DATABASE")) {
    t.kind = ObjectKind::kDatabase;
    t.name = Name(r, "database", usage);
    RequireDatabase(t.name, "", "");
    t.id = *catalog_.FindDatabase(t.name);
  } else if (r.AcceptWords({"DATA", "FILTER"})) {
    t.kind = ObjectKind::kDataFilter;
    t.name = Name(r, "data filter", usage);
    auto [filter, table] = FindFilter(t.name);
    if (!table) throw Error::NotFound("the table of data filter {} no longer exists", t.name);
    t.id = filter->id;
    t.table = table;
  } else if (r.AcceptWord("TAG")) {
    t.kind = ObjectKind::kTag;
    t.name = Name(r, "tag", usage);
    // Only administrators manage grants on tags: decided before the tag is looked up.
    if (!subject_.admin) throw Denied("grants on tags are managed by data-lake administrators");
    auto it = policy_->tags.find(t.name);
    if (it == policy_->tags.end())
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
    t.table = RequireTable(db, table, "DESCRIBE", "GRANT");
    t.id = t.table->id;
    t.name = t.table->QualifiedName();
  }
  return t;
}

bool Governor::CanGrant(const Subject& who, const Policy& policy, const Target& target,
                        const PrivilegeSpec& p) {
  if (who.admin) return true;
  switch (target.kind) {
    case ObjectKind::kSystem:
    case ObjectKind::kTag: return false;
    case ObjectKind::kDataFilter: {
      TableAccess a = Evaluate(policy, who, *target.table, target.table->database_id);
      return a.owner;
    }
    case ObjectKind::kDatabase:
    case ObjectKind::kTable: break;
  }
  for (auto& g : policy.grants) {
    if (!who.Is(g.grantee) || !g.grant_option || g.object_kind != target.kind || g.object_id != target.id)
      continue;
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

void Governor::Cascade() {
  // A grant made by someone who no longer holds it with grant option goes too.
  identity::Directory dir(store_);
  for (int round = 0; round < 100; round++) {
    auto policy = policy_store_.Load();
    std::vector<int64_t> doomed;
    for (auto& g : policy->grants) {
      if (g.granted_by == "tarn") continue;
      auto principal = dir.Lookup(g.granted_by, principal_.issuer);
      identity::Principal p =
          principal ? *principal : identity::Principal{g.granted_by, {}, "", false, false, 0};
      Subject grantor = MakeSubject(p, *policy);
      Target t;
      t.kind = g.object_kind;
      t.id = g.object_id;
      t.name = g.object_name;
      if (g.object_kind == ObjectKind::kDataFilter) {
        auto f = policy->filters.find(g.object_name);
        if (f != policy->filters.end()) t.table = catalog_.FindTableById(f->second.table_id);
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
    for (auto id : doomed) store_.Execute("DELETE FROM grants WHERE id = ?", {id});
  }
}

std::optional<StatementOutput> Governor::Execute(const std::string& text) {
  if (!policy_) BeginStatement();
  TokenReader r(text);
  StatementOutput out;
  const std::string me = principal_.user;
  auto change = [&](const std::function<void()>& body) {
    policy_store_.Change(me, text, body);
    out.policy_change = true;
    policy_ = cache_.Current();
    subject_ = MakeSubject(principal_, *policy_);
  };
  auto require_admin = [&](const char* what) {
    if (!subject_.admin) throw Denied(fmt::format("{} is for data-lake administrators", what));
  };
  auto require_owner = [&](const catalog::TableInfo& t, const char* what) {
    if (!Access(t).owner) {
      throw Denied(fmt::format("{} on {} is for its owner or an administrator", what, t.QualifiedName()));
    }
  };

  bool grant = r.PeekWord("GRANT");
  if (grant || r.PeekWord("REVOKE")) {
    r.AcceptWord(grant ? "GRANT" : "REVOKE");
    const char* usage = grant ? kGrantUsage : kRevokeUsage;
    const char* to = grant ? "TO" : "FROM";
    if (r.PeekWord("ADMIN") && r.PeekWord(to, 1)) {
      r.AcceptWord("ADMIN");
      r.ExpectWord(to, usage);
      Grantee g = ReadGrantee(r, usage);
      r.ExpectEnd(usage);
      require_admin(grant ? "GRANT ADMIN" : "REVOKE ADMIN");
      if (g.kind != GranteeKind::kUser) throw Error::InvalidArgument("ADMIN is granted to users only");
      if (!grant && g.name == me) throw Error::InvalidArgument("you cannot revoke your own ADMIN");
      identity::Directory dir(store_);
      if (!dir.FindUser(g.name)) throw Error::NotFound("user {} does not exist", g.name);
      dir.SetAdmin(g.name, grant);
      change([] {});
      out.status = fmt::format("{} {} administrator", g.name, grant ? "is now an" : "is no longer an");
      return out;
    }
    if (r.PeekWord("ROLE") && !r.PeekWord(to, 1)) {
      r.AcceptWord("ROLE");
      std::string role = identity::CheckPrincipalName(r.Identifier(usage), "role");
      r.ExpectWord(to, usage);
      Grantee g = ReadGrantee(r, usage);
      r.ExpectEnd(usage);
      require_admin(grant ? "GRANT ROLE" : "REVOKE ROLE");
      if (!policy_->roles.count(role))
        throw Error::NotFound("role {} does not exist (CREATE ROLE creates it)", role);
      if (g.kind == GranteeKind::kRole) throw Error::InvalidArgument("roles are granted to users and groups");
      change([&] {
        store_.Execute("DELETE FROM role_members WHERE role = ? AND member_kind = ? AND member = ?",
                       {role, std::string(GranteeKindName(g.kind)), g.name});
        if (grant) {
          store_.Execute("INSERT INTO role_members (role, member_kind, member) VALUES (?, ?, ?)",
                         {role, std::string(GranteeKindName(g.kind)), g.name});
        }
      });
      out.status = fmt::format("{} role {} {} {}", grant ? "granted" : "revoked", role, grant ? "to" : "from",
                               g.ToString());
      return out;
    }
    bool option_only = !grant && r.AcceptWords({"GRANT", "OPTION", "FOR"});
    auto privileges = ReadPrivileges(r, usage);
    Target target;
    if (r.AcceptWord("ON")) {
      target = ReadTarget(r, usage);
    }
    r.ExpectWord(to, usage);
    Grantee grantee = ReadGrantee(r, usage);
    bool with_option = grant && r.AcceptWords({"WITH", "GRANT", "OPTION"});
    r.ExpectEnd(usage);
    const std::set<std::string>* valid = nullptr;
    std::set<std::string> filter_privs = {"SELECT"}, tag_privs = {"SELECT", "DESCRIBE"};
    switch (target.kind) {
      case ObjectKind::kSystem: valid = &kSystemPrivileges; break;
      case ObjectKind::kDatabase: valid = &kDatabasePrivileges; break;
      case ObjectKind::kTable: valid = &kTablePrivileges; break;
      case ObjectKind::kDataFilter: valid = &filter_privs; break;
      case ObjectKind::kTag: valid = &tag_privs; break;
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
    if (grant) {
      // The right first, then the names it covers: a caller without the right
      // learns nothing about which columns or roles exist.
      for (auto& p : privileges) {
        if (!CanGrant(subject_, *policy_, target, p)) {
          throw Denied(fmt::format("you may not grant {} on {}: grant only what you hold WITH GRANT OPTION",
                                   p.privilege,
                                   target.kind == ObjectKind::kSystem ? "the system" : target.name));
        }
        if (p.columns && target.table) RequireColumns(*target.table, *p.columns);
      }
      if (grantee.kind == GranteeKind::kRole && !policy_->roles.count(grantee.name)) {
        throw Error::NotFound("role {} does not exist (CREATE ROLE creates it)", grantee.name);
      }
      change([&] {
        for (auto& p : privileges) {
          store_.Execute(
              "INSERT INTO grants (grantee_kind, grantee, object_kind, object_id, object_name, tag_values, "
              "privilege, "
              "columns_json, columns_except, grant_option, granted_by, created_at) VALUES (?, ?, ?, ?, ?, ?, "
              "?, ?, ?, "
              "?, ?, ?)",
              {std::string(GranteeKindName(grantee.kind)), grantee.name,
               std::string(ObjectKindName(target.kind)), target.id, target.name,
               target.tag_values.empty() ? store::Param(nullptr) : store::Param(Json(target.tag_values)),
               p.privilege, p.columns ? store::Param(Json(*p.columns)) : store::Param(nullptr),
               int64_t{p.except ? 1 : 0}, int64_t{with_option ? 1 : 0}, me, NowUtc()});
        }
      });
      out.status =
          fmt::format("granted {} privilege{}", privileges.size(), privileges.size() == 1 ? "" : "s");
      return out;
    }
    // REVOKE: rows on this object for this grantee with these privileges, that the
    // caller granted (or may manage as owner or administrator).
    bool manager =
        subject_.admin ||
        (target.table && target.kind == ObjectKind::kTable && Access(*target.table).owner) ||
        (target.kind == ObjectKind::kDatabase && EvaluateDatabase(*policy_, subject_, target.id).owner);
    int64_t removed = 0;
    change([&] {
      for (auto& g : policy_->grants) {
        if (!(g.grantee == grantee) || g.object_kind != target.kind || g.object_id != target.id) continue;
        if (target.kind == ObjectKind::kTag && g.tag_values != target.tag_values) continue;
        bool match = std::any_of(privileges.begin(), privileges.end(), [&](const PrivilegeSpec& p) {
          return p.privilege == "ALL" || p.privilege == g.privilege;
        });
        if (!match) continue;
        if (!manager && g.granted_by != me) continue;
        if (option_only) {
          removed += store_.Execute("UPDATE grants SET grant_option = 0 WHERE id = ?", {g.id});
        } else {
          removed += store_.Execute("DELETE FROM grants WHERE id = ?", {g.id});
        }
      }
      if (removed == 0) {
        throw Error::NotFound("{} holds no such grant{} on {}", grantee.ToString(),
                              manager ? "" : " made by you",
                              target.kind == ObjectKind::kSystem ? "the system" : target.name);
      }
      Cascade();
    });
    out.status = fmt::format("revoked {} grant{}", removed, removed == 1 ? "" : "s");
    return out;
  }

  if (r.AcceptWords({"CREATE", "DATA", "FILTER"})) {
    std::string name = Name(r, "data filter", kFilterUsage);
    r.ExpectWord("ON", kFilterUsage);
    std::string db, tname;
    r.QualifiedName(db, tname, kFilterUsage);
    auto table = RequireTable(db, tname, "DESCRIBE", "CREATE DATA FILTER");
    require_owner(table, "CREATE DATA FILTER");
    std::optional<std::vector<std::string>> columns;
    bool excluding = false;
    if (r.AcceptWord("COLUMNS")) {
      columns = NameList(r, kFilterUsage);
    } else if (r.AcceptWord("EXCLUDING")) {
      excluding = true;
      columns = NameList(r, kFilterUsage);
    }
    std::string row_filter;
    if (r.AcceptWords({"ROW", "FILTER"})) {
      row_filter = r.Rest();
      if (row_filter.empty()) r.Fail(kFilterUsage);
    } else {
      r.ExpectEnd(kFilterUsage);
    }
    if (columns) RequireColumns(table, *columns);
    if (!row_filter.empty()) TryExpression(table, row_filter, "the row filter", true);
    if (policy_->filters.count(name)) throw Error::AlreadyExists("data filter {} already exists", name);
    change([&] {
      store_.Execute(
          "INSERT INTO data_filters (name, table_id, columns_json, columns_except, row_filter, created_by, "
          "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
          {name, table.id, columns ? store::Param(Json(*columns)) : store::Param(nullptr),
           int64_t{excluding ? 1 : 0}, row_filter.empty() ? store::Param(nullptr) : store::Param(row_filter),
           me, NowUtc()});
    });
    out.status = fmt::format("created data filter {} on {}", name, table.QualifiedName());
    return out;
  }
  if (r.AcceptWords({"DROP", "DATA", "FILTER"})) {
    bool if_exists = r.AcceptWords({"IF", "EXISTS"});
    std::string name = Name(r, "data filter", "DROP DATA FILTER [IF EXISTS] name");
    r.ExpectEnd("DROP DATA FILTER [IF EXISTS] name");
    const DataFilter* filter = nullptr;
    std::optional<catalog::TableInfo> table;
    try {
      std::tie(filter, table) = FindFilter(name);
    } catch (const Error& e) {
      if (!if_exists || e.code() != ErrorCode::kNotFound) throw;
      out.status = "data filter " + name + " does not exist";
      return out;
    }
    if (!subject_.admin && filter->created_by != me && !(table && Access(*table).owner)) {
      throw Denied("DROP DATA FILTER is for its creator, the table's owner or an administrator");
    }
    change([&] {
      store_.Execute("DELETE FROM grants WHERE object_kind = 'data_filter' AND object_name = ?", {name});
      store_.Execute("DELETE FROM data_filters WHERE name = ?", {name});
    });
    out.status = "dropped data filter " + name;
    return out;
  }

  if (r.AcceptWords({"CREATE", "TAG"})) {
    const char* usage = "CREATE TAG key VALUES ('v1', 'v2', ...)";
    std::string key = Name(r, "tag", usage);
    r.ExpectWord("VALUES", usage);
    r.ExpectSymbol('(', usage);
    std::vector<std::string> values;
    do {
      values.push_back(r.String(usage));
    } while (r.AcceptSymbol(','));
    r.ExpectSymbol(')', usage);
    r.ExpectEnd(usage);
    require_admin("CREATE TAG");
    if (policy_->tags.count(key)) throw Error::AlreadyExists("tag {} already exists", key);
    change([&] {
      store_.Execute("INSERT INTO tags (tag_key, allowed_values, created_by, created_at) VALUES (?, ?, ?, ?)",
                     {key, Json(values), me, NowUtc()});
    });
    out.status = fmt::format("created tag {} with {} values", key, values.size());
    return out;
  }
  if (r.AcceptWords({"DROP", "TAG"})) {
    std::string key = Name(r, "tag", "DROP TAG key");
    r.ExpectEnd("DROP TAG key");
    require_admin("DROP TAG");
    if (!policy_->tags.count(key)) throw Error::NotFound("tag {} does not exist", key);
    change([&] {
      store_.Execute("DELETE FROM grants WHERE object_kind = 'tag' AND object_name = ?", {key});
      store_.Execute("DELETE FROM tag_assignments WHERE tag_key = ?", {key});
      store_.Execute("DELETE FROM tags WHERE tag_key = ?", {key});
    });
    out.status = "dropped tag " + key;
    return out;
  }
  if (r.AcceptWords({"CREATE", "ROLE"}) || r.AcceptWords({"DROP", "ROLE"})) {
    bool create = Upper(engine::Tokenize(text)[0].text) == "CREATE";
    std::string role = identity::CheckPrincipalName(r.Identifier("CREATE ROLE name"), "role");
    r.ExpectEnd(create ? "CREATE ROLE name" : "DROP ROLE name");
    require_admin(create ? "CREATE ROLE" : "DROP ROLE");
    if (create == (policy_->roles.count(role) > 0)) {
      if (create) throw Error::AlreadyExists("role {} already exists", role);
      throw Error::NotFound("role {} does not exist", role);
    }
    change([&] {
      if (create) {
        store_.Execute("INSERT INTO roles (name, created_by, created_at) VALUES (?, ?, ?)",
                       {role, me, NowUtc()});
      } else {
        store_.Execute("DELETE FROM grants WHERE grantee_kind = 'ROLE' AND grantee = ?", {role});
        store_.Execute("DELETE FROM role_members WHERE role = ?", {role});
        store_.Execute("DELETE FROM roles WHERE name = ?", {role});
      }
    });
    out.status = (create ? "created role " : "dropped role ") + role;
    return out;
  }

  if (r.PeekWord("ALTER") && r.PeekWord("TABLE", 1)) {
    TokenReader probe = r;
    probe.AcceptWords({"ALTER", "TABLE"});
    std::string db, tname;
    try {
      probe.QualifiedName(db, tname, kAlterUsage);
    } catch (const Error&) {
      return std::nullopt;
    }
    std::string column;
    if (probe.AcceptWords({"ALTER", "COLUMN"})) column = Name(probe, "column", kAlterUsage);
    bool set_tag = probe.PeekWord("SET") && probe.PeekWord("TAG", 1);
    bool unset_tag = probe.PeekWord("UNSET") && probe.PeekWord("TAG", 1);
    bool set_mask = !column.empty() && probe.PeekWord("SET") && probe.PeekWord("MASK", 1);
    bool drop_mask = !column.empty() && probe.PeekWord("DROP") && probe.PeekWord("MASK", 1);
    if (!set_tag && !unset_tag && !set_mask && !drop_mask) return std::nullopt;
    r = probe;
    auto table = RequireTable(db, tname, "DESCRIBE", "ALTER TABLE");
    // The right first (ALTER to tag, ownership to mask), then the column.
    if ((set_tag || unset_tag) && !Access(table).privileges.count("ALTER")) {
      throw Denied(fmt::format("tagging {} needs ALTER on it", table.QualifiedName()));
    }
    if (set_mask || drop_mask) require_owner(table, "setting a column mask");
    if (!column.empty()) RequireColumns(table, {column});
    std::string where = column.empty() ? table.QualifiedName() : table.QualifiedName() + "." + column;
    if (set_tag || unset_tag) {
      r.AcceptWord(set_tag ? "SET" : "UNSET");
      r.AcceptWord("TAG");
      std::string key = Name(r, "tag", kAlterUsage);
      std::string value;
      if (set_tag) {
        r.ExpectSymbol('=', kAlterUsage);
        value = r.String(kAlterUsage);
      }
      r.ExpectEnd(kAlterUsage);
      auto tag = policy_->tags.find(key);
      if (tag == policy_->tags.end())
        throw Error::NotFound("tag {} does not exist (CREATE TAG creates it)", key);
      if (set_tag && std::find(tag->second.begin(), tag->second.end(), value) == tag->second.end()) {
        throw Error::InvalidArgument("'{}' is not a value of tag {} (allowed: {})", value, key,
                                     Joined(tag->second));
      }
      change([&] {
        store_.Execute("DELETE FROM tag_assignments WHERE table_id = ? AND column_name = ? AND tag_key = ?",
                       {table.id, column, key});
        if (set_tag) {
          store_.Execute(
              "INSERT INTO tag_assignments (table_id, column_name, tag_key, tag_value) VALUES (?, ?, ?, ?)",
              {table.id, column, key, value});
        }
      });
      out.status = set_tag ? fmt::format("tagged {} with {} = '{}'", where, key, value)
                           : fmt::format("removed tag {} from {}", key, where);
      return out;
    }
    if (drop_mask) {
      r.AcceptWords({"DROP", "MASK"});
      r.ExpectEnd(kAlterUsage);
      int64_t n = 0;
      change([&] {
        n = store_.Execute("DELETE FROM column_masks WHERE table_id = ? AND column_name = ?",
                           {table.id, column});
      });
      if (n == 0) throw Error::NotFound("{} has no mask", where);
      out.status = "dropped the mask of " + where;
      return out;
    }
    r.AcceptWords({"SET", "MASK"});
    std::string expression = r.TextUntil({"EXEMPT"});
    if (expression.empty()) r.Fail(kAlterUsage);
    nlohmann::json exempt = nlohmann::json::array();
    if (r.AcceptWord("EXEMPT")) {
      do {
        Grantee g = ReadGrantee(r, kAlterUsage);
        exempt.push_back({{"kind", GranteeKindName(g.kind)}, {"name", g.name}});
      } while (r.AcceptSymbol(','));
    }
    r.ExpectEnd(kAlterUsage);
    TryExpression(table, expression, "the column mask", false);
    change([&] {
      store_.Execute("DELETE FROM column_masks WHERE table_id = ? AND column_name = ?", {table.id, column});
      store_.Execute(
          "INSERT INTO column_masks (table_id, column_name, expression, exempt_json, created_by, created_at) "
          "VALUES "
          "(?, ?, ?, ?, ?, ?)",
          {table.id, column, expression, exempt.dump(), me, NowUtc()});
    });
    out.status = "set the mask of " + where;
    return out;
  }

  if (r.AcceptWords({"SHOW", "GRANTS"})) return ShowGrants(r);
  if (r.AcceptWords({"SHOW", "DATA", "FILTERS"})) {
    std::optional<catalog::TableInfo> on;
    if (r.AcceptWord("ON")) {
      std::string db, t;
      r.AcceptWord("TABLE");
      r.QualifiedName(db, t, "SHOW DATA FILTERS [ON db.table]");
      on = RequireTable(db, t, "DESCRIBE", "SHOW DATA FILTERS");
    }
    r.ExpectEnd("SHOW DATA FILTERS [ON db.table]");
    out.names = {"name", "table", "columns", "row_filter", "created_by"};
    for (auto& [name, f] : policy_->filters) {
      if (on && f.table_id != on->id) continue;
      auto table = catalog_.FindTableById(f.table_id);
      if (!table) continue;
      if (!FilterVisible(name, f, table)) continue;
      std::string cols =
          f.columns ? (f.columns_except ? "EXCLUDING (" : "(") + Joined(*f.columns) + ")" : "*";
      out.rows.push_back(
          {Text(name), Text(table->QualifiedName()), Text(cols),
           f.row_filter.empty() ? duckdb::Value(duckdb::LogicalType::VARCHAR) : Text(f.row_filter),
           Text(f.created_by)});
    }
    return out;
  }
  if (r.AcceptWords({"SHOW", "TAGS"})) {
    r.ExpectEnd("SHOW TAGS");
    out.names = {"tag", "values"};
    if (subject_.admin) {
      for (auto& [k, v] : policy_->tags) out.rows.push_back({Text(k), Text(Joined(v))});
      return out;
    }
    // Everyone else sees a tag as far as they see what carries it: the values on
    // tables and columns visible to them, and those their own grants name.
    std::map<std::string, std::set<std::string>> seen;
    for (auto& a : policy_->tag_assignments) {
      auto table = catalog_.FindTableById(a.table_id);
      if (!table) continue;
      auto access = Access(*table);
      if (!access.visible) continue;
      if (!a.column.empty() && !access.describe_all && !access.ReadableColumns().count(a.column)) continue;
      seen[a.key].insert(a.value);
    }
    for (auto& g : policy_->grants) {
      if (g.object_kind != ObjectKind::kTag || !subject_.Is(g.grantee)) continue;
      seen[g.object_name].insert(g.tag_values.begin(), g.tag_values.end());
    }
    for (auto& [k, values] : seen) {
      out.rows.push_back({Text(k), Text(Joined(std::vector<std::string>(values.begin(), values.end())))});
    }
    return out;
  }
  if (r.PeekWord("SET") || r.PeekWord("RESET")) {
    bool set = r.AcceptWord("SET");
    if (!set) r.AcceptWord("RESET");
    if (r.AcceptWord("LIMIT")) {
      const char* usage = set ? kSetLimitUsage : kResetLimitUsage;
      std::string name = LimitName(r.Identifier(usage));
      int64_t value = 0;
      if (set) {
        r.ExpectSymbol('=', usage);
        value = ParseLimitValue(name, r.Literal(usage));
      }
      r.ExpectWord("FOR", usage);
      Grantee g = ReadGrantee(r, usage);
      r.ExpectEnd(usage);
      require_admin(set ? "SET LIMIT" : "RESET LIMIT");
      change([&] {
        store_.Execute("DELETE FROM principal_limits WHERE grantee_kind = ? AND grantee = ? AND name = ?",
                       {std::string(GranteeKindName(g.kind)), g.name, name});
        if (set) {
          store_.Execute(
              "INSERT INTO principal_limits (grantee_kind, grantee, name, value) VALUES (?, ?, ?, ?)",
              {std::string(GranteeKindName(g.kind)), g.name, name, value});
        }
      });
      out.status = set ? fmt::format("{} = {} for {}", name, value, g.ToString())
                       : fmt::format("{} reset for {}", name, g.ToString());
      return out;
    }
    return std::nullopt;  // DuckDB's SET / RESET: refused by the caller
  }
  if (r.AcceptWords({"SHOW", "LIMITS"})) {
    const char* usage = "SHOW LIMITS [FOR USER name]";
    Subject who = subject_;
    if (r.AcceptWords({"FOR", "USER"})) {
      std::string user = identity::CheckPrincipalName(r.Identifier(usage), "user");
      if (user != principal_.user) {
        require_admin("SHOW LIMITS FOR another user");
        who = SubjectOf(user);
      }
    }
    r.ExpectEnd(usage);
    out.names = {"limit", "value", "decided_by"};
    auto limits = EffectiveLimits(*policy_, who);
    for (auto& name : kLimitNames) {
      auto it = limits.values.find(name);
      if (it == limits.values.end()) {
        out.rows.push_back({Text(name), duckdb::Value(duckdb::LogicalType::BIGINT), Text("server default")});
      } else {
        out.rows.push_back({Text(name), duckdb::Value::BIGINT(it->second.value), Text(it->second.source)});
      }
    }
    if (subject_.admin && who.principal.user == principal_.user) {  // and every setting
      for (auto& l : policy_->limits) {
        out.rows.push_back(
            {Text(l.name), duckdb::Value::BIGINT(l.value), Text("set for " + l.grantee.ToString())});
      }
    }
    return out;
  }
  if (r.AcceptWords({"SHOW", "ROLES"})) {
    r.ExpectEnd("SHOW ROLES");
    out.names = {"role", "members"};
    for (auto& [role, members] : policy_->roles) {
      if (!subject_.admin && !subject_.Is({GranteeKind::kRole, role})) continue;
      std::vector<std::string> m;
      for (auto& g : members) m.push_back(g.ToString());
      out.rows.push_back({Text(role), Text(Joined(m))});
    }
    return out;
  }
  if (r.AcceptWords({"EXPLAIN", "ACCESS"})) {
    std::optional<std::string> for_user;
    if (r.AcceptWords({"FOR", "USER"})) {
      for_user = identity::CheckPrincipalName(r.Identifier("EXPLAIN ACCESS FOR USER name <query>"), "user");
    }
    return ExplainAccess(r.Rest(), for_user);
  }
  return std::nullopt;
}

void Governor::RequireColumns(const catalog::TableInfo& table, const std::vector<std::string>& columns) {
  auto access = Access(table);
  auto readable = access.ReadableColumns();
  for (auto& c : columns) {
    bool exists = std::any_of(table.schema.begin(), table.schema.end(),
                              [&](const catalog::Column& col) { return col.name == c; });
    // A column the caller may not see reads as missing.
    if (!exists || (!access.describe_all && !readable.count(c))) {
      throw Error::NotFound("column {} does not exist in {}", c, table.QualifiedName());
    }
  }
}

void Governor::TryExpression(const catalog::TableInfo& table, const std::string& expression, const char* what,
                             bool as_filter) {
  std::set<std::string> all;
  for (auto& c : table.schema) all.insert(c.name);
  auto e = ParsePolicyExpression(expression, all, what);
  BindSubject(e, subject_);
  auto node = duckdb::make_uniq<duckdb::SelectNode>();
  node->from_table = catalog::ScanRef(table, {});
  if (as_filter) {
    node->select_list.push_back(duckdb::make_uniq<duckdb::ConstantExpression>(duckdb::Value::INTEGER(1)));
    node->where_clause = std::move(e);
  } else {
    node->select_list.push_back(std::move(e));
  }
  auto statement = duckdb::make_uniq<duckdb::SelectStatement>();
  statement->node = std::move(node);
  std::vector<std::string> names;
  std::vector<duckdb::LogicalType> types;
  try {
    auto trusted = catalog_.internal_connection().Trusted();
    catalog_.internal_connection().Describe(std::move(statement), names, types);
  } catch (const Error& err) {
    throw Error::InvalidArgument("{} does not work on {}: {}", what, table.QualifiedName(), err.what());
  }
}

StatementOutput Governor::ShowGrants(engine::TokenReader& r) {
  const char* usage = "SHOW GRANTS [ON DATABASE db | ON TABLE db.table] [TO USER|GROUP|ROLE name]";
  std::optional<Target> on;
  std::optional<Grantee> to;
  if (r.AcceptWord("ON")) on = ReadTarget(r, usage);
  if (r.AcceptWord("TO")) to = ReadGrantee(r, usage);
  r.ExpectEnd(usage);
  StatementOutput out;
  out.names = {"grantee", "privilege",    "object_kind", "object",
               "columns", "grant_option", "granted_by",  "statement"};
  for (auto& g : policy_->grants) {
    if (on && (g.object_kind != on->kind || g.object_id != on->id)) continue;
    if (to && !(g.grantee == *to)) continue;
    // Non-administrators see their own grants and the grants on what they own.
    bool mine = subject_.Is(g.grantee) || g.granted_by == principal_.user;
    if (!subject_.admin && !mine) {
      bool owns = false;
      if (g.object_kind == ObjectKind::kTable) {
        auto t = catalog_.FindTableById(g.object_id);
        owns = t && Access(*t).owner;
      } else if (g.object_kind == ObjectKind::kDatabase) {
        owns = EvaluateDatabase(*policy_, subject_, g.object_id).owner;
      }
      if (!owns) continue;
    }
    std::string object = g.object_name;
    if (g.object_kind == ObjectKind::kTable) {
      auto t = catalog_.FindTableById(g.object_id);
      if (!t) continue;
      object = t->QualifiedName();
    }
    if (g.object_kind == ObjectKind::kTag) object += " IN ('" + Joined(g.tag_values) + "')";
    std::string cols = g.columns ? (g.columns_except ? "EXCEPT (" : "(") + Joined(*g.columns) + ")" : "";
    out.rows.push_back({Text(g.grantee.ToString()), Text(g.privilege), Text(ObjectKindName(g.object_kind)),
                        Text(object), cols.empty() ? duckdb::Value(duckdb::LogicalType::VARCHAR) : Text(cols),
                        duckdb::Value::BOOLEAN(g.grant_option), Text(g.granted_by), Text(g.Describe())});
  }
  return out;
}

Subject Governor::SubjectOf(const std::string& user) {
  identity::Directory dir(store_);
  auto p = dir.Lookup(user, principal_.issuer);
  if (!p) throw Error::NotFound("user {} does not exist", user);
  return MakeSubject(*p, *policy_);
}

StatementOutput Governor::ExplainAccess(const std::string& sql, const std::optional<std::string>& for_user) {
  if (sql.empty()) throw Error::InvalidArgument("EXPLAIN ACCESS needs a query: EXPLAIN ACCESS SELECT ...");
  Subject subject = subject_;
  if (for_user) {
    if (!subject_.admin) throw Denied("EXPLAIN ACCESS FOR USER is for data-lake administrators");
    subject = SubjectOf(*for_user);
  }
  auto statements = engine::Parse(sql);
  if (statements.size() != 1) throw Error::InvalidArgument("EXPLAIN ACCESS takes one statement");
  duckdb::unique_ptr<duckdb::SelectStatement> query;
  std::optional<catalog::TableInfo> write_target;
  if (statements[0]->type == duckdb::StatementType::SELECT_STATEMENT) {
    query = duckdb::unique_ptr_cast<duckdb::SQLStatement, duckdb::SelectStatement>(std::move(statements[0]));
  } else if (statements[0]->type == duckdb::StatementType::INSERT_STATEMENT) {
    auto& insert = statements[0]->Cast<duckdb::InsertStatement>();
    if (!insert.select_statement)
      throw Error::InvalidArgument("EXPLAIN ACCESS INSERT needs INSERT INTO db.t SELECT ...");
    auto info = catalog_.FindTable(insert.schema.empty() ? "main" : insert.schema, insert.table);
    explain_subject_ = subject;
    if (!info || !Access(*info).visible) {
      explain_subject_.reset();
      throw Error::NotFound("table {}.{} does not exist", insert.schema, insert.table);
    }
    write_target = info;
    query = std::move(insert.select_statement);
  } else {
    throw Error::InvalidArgument("EXPLAIN ACCESS explains a query or an INSERT");
  }
  explain_mode_ = true;
  explain_subject_ = subject;
  std::vector<std::string> names;
  std::vector<duckdb::LogicalType> types;
  try {
    CheckQueryTree(*query, subject);
    resources_.clear();
    catalog_.internal_connection().DescribeStructure(std::move(query), names, types);
  } catch (const Error& e) {
    Error explained = Explain(e);
    explain_mode_ = false;
    explain_subject_.reset();
    throw explained;
  }
  StatementOutput out;
  out.names = {"table", "column", "access", "decision", "reason", "row_filter", "mask"};
  auto null = duckdb::Value(duckdb::LogicalType::VARCHAR);
  for (auto& res : resources_) {
    auto scan = scans_.find(res.table);
    if (scan == scans_.end()) continue;
    auto& s = *scan->second;
    std::set<std::string> cols = res.columns;
    if (cols.empty()) cols = s.exposed;
    std::string filters;
    if (!s.access.ReadsAllRows()) {
      for (auto& t : s.access.reads) {
        if (!t.row_filter.empty()) filters += (filters.empty() ? "" : " OR ") + ("(" + t.row_filter + ")");
      }
    }
    auto readable = s.access.ReadableColumns();
    for (auto& c : s.table.schema) {
      if (!cols.count(c.name)) continue;
      bool allowed = readable.count(c.name) > 0;
      std::string reason = allowed
                               ? s.access.ColumnSource(c.name)
                               : (s.access.reads.empty() ? "no SELECT grant covers the table"
                                                         : "no grant or data filter includes this column");
      std::string mask;
      auto m = s.access.masks.find(c.name);
      if (m != s.access.masks.end()) mask = m->second->expression;
      auto ex = s.access.exempt_masks.find(c.name);
      if (ex != s.access.exempt_masks.end()) mask = "not masked: " + ex->second;
      out.rows.push_back({Text(res.table), Text(c.name), Text("read"), Text(allowed ? "allowed" : "denied"),
                          Text(reason), allowed && !filters.empty() ? Text(filters) : null,
                          allowed && !mask.empty() ? Text(mask) : null});
    }
  }
  if (write_target) {
    auto a = Access(*write_target);
    bool allowed = a.privileges.count("INSERT") > 0;
    out.rows.push_back({Text(write_target->QualifiedName()), Text("*"), Text("write"),
                        Text(allowed ? "allowed" : "denied"),
                        Text(allowed ? a.privileges["INSERT"] : "no INSERT grant"), null, null});
  }
  explain_mode_ = false;
  explain_subject_.reset();
  return out;
}

}  // namespace tarn::governance
