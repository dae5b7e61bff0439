#include "governance/policy.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "common/error.h"
#include "common/util.h"

namespace tarn::governance {

namespace {

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string JoinQuoted(const std::vector<std::string>& values) {
  std::string out;
  for (auto& v : values) out += (out.empty() ? "'" : ", '") + v + "'";
  return out;
}

GranteeKind ParseKind(const std::string& s) {
  if (s == "USER") return GranteeKind::kUser;
  if (s == "GROUP") return GranteeKind::kGroup;
  if (s == "ROLE") return GranteeKind::kRole;
  throw Error::Internal("unknown grantee kind '{}' in the metadata store", s);
}

ObjectKind ParseObjectKind(const std::string& s) {
  for (auto k : {ObjectKind::kSystem, ObjectKind::kDatabase, ObjectKind::kTable, ObjectKind::kDataFilter,
                 ObjectKind::kTag, ObjectKind::kApplication, ObjectKind::kRole, ObjectKind::kUser,
                 ObjectKind::kGroup}) {
    if (s == ObjectKindName(k)) return k;
  }
  throw Error::Internal("unknown object kind '{}' in the metadata store", s);
}

std::vector<std::string> JsonList(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  for (auto& v : nlohmann::json::parse(text)) out.push_back(v.get<std::string>());
  return out;
}

bool Holds(const std::string& held, const std::string& wanted) {
  return held == wanted || held == "ALL";
}

}  // namespace

const char* GranteeKindName(GranteeKind k) {
  switch (k) {
    case GranteeKind::kUser: return "USER";
    case GranteeKind::kGroup: return "GROUP";
    case GranteeKind::kRole: return "ROLE";
  }
  return "?";
}

std::string Grantee::ToString() const {
  return std::string(GranteeKindName(kind)) + " " + name;
}

const char* ObjectKindName(ObjectKind k) {
  switch (k) {
    case ObjectKind::kSystem: return "system";
    case ObjectKind::kDatabase: return "database";
    case ObjectKind::kTable: return "table";
    case ObjectKind::kDataFilter: return "data_filter";
    case ObjectKind::kTag: return "tag";
    case ObjectKind::kApplication: return "application";
    case ObjectKind::kRole: return "role";
    case ObjectKind::kUser: return "user";
    case ObjectKind::kGroup: return "group";
  }
  return "?";
}

std::string Grant::Describe() const {
  std::string priv = privilege;
  if (columns) priv += (columns_except ? " EXCEPT (" : " (") + JoinNames(*columns) + ")";
  std::string on;
  switch (object_kind) {
    case ObjectKind::kSystem: on = ""; break;
    case ObjectKind::kDatabase: on = " ON DATABASE " + object_name; break;
    case ObjectKind::kTable: on = " ON TABLE " + object_name; break;
    case ObjectKind::kDataFilter: on = " ON DATA FILTER " + object_name; break;
    case ObjectKind::kTag: on = " ON TAG " + object_name + " IN (" + JoinQuoted(tag_values) + ")"; break;
    case ObjectKind::kApplication: on = " ON APPLICATION " + object_name; break;
    case ObjectKind::kRole: on = " ON ROLE " + object_name; break;
    case ObjectKind::kUser: on = " ON USER " + object_name; break;
    case ObjectKind::kGroup: on = " ON GROUP " + object_name; break;
  }
  return "GRANT " + priv + on + " TO " + grantee.ToString() + (grant_option ? " WITH GRANT OPTION" : "");
}

std::vector<std::string> Subject::Roles() const {
  std::vector<std::string> out;
  for (auto& g : grantees) {
    if (g.kind == GranteeKind::kRole) out.push_back(g.name);
  }
  return out;
}

Subject MakeSubject(const identity::Principal& principal, const Policy& policy) {
  Subject s;
  s.principal = principal;
  s.admin = principal.admin;
  s.grantees.insert({GranteeKind::kUser, principal.user});
  for (auto& g : principal.groups) s.grantees.insert({GranteeKind::kGroup, g});
  for (auto& [role, members] : policy.roles) {
    for (auto& m : members) {
      if (s.grantees.count(m)) {
        s.grantees.insert({GranteeKind::kRole, role});
        break;
      }
    }
  }
  if (!principal.role.empty()) {
    std::string name = principal.role;
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    Grantee role{GranteeKind::kRole, name};
    if (!MayAssume(policy, s, name)) {
      throw Error::PermissionDenied(
          "access denied: you cannot assume role {}: you are not a member and hold no ASSUME on it",
          name.substr(0, 64));
    }
    s.grantees = {role};
    s.admin = false;
  }
  return s;
}

std::set<std::string> TableAccess::ReadableColumns() const {
  std::set<std::string> out;
  for (auto& r : reads) out.insert(r.columns.begin(), r.columns.end());
  return out;
}

bool TableAccess::ReadsAllRows() const {
  for (auto& r : reads) {
    if (r.row_filter.empty()) return true;
  }
  return false;
}

std::string TableAccess::ColumnSource(const std::string& column) const {
  for (auto& r : reads) {
    if (r.columns.count(column)) return r.source;
  }
  return "";
}

std::string EffectiveTag(const Policy& policy, int64_t table_id, const std::string& column,
                         const std::string& key) {
  std::string table_value;
  for (auto& a : policy.tag_assignments) {
    if (a.table_id != table_id || a.key != key) continue;
    if (!column.empty() && a.column == column) return a.value;
    if (a.column.empty()) table_value = a.value;
  }
  return table_value;
}

TableAccess Evaluate(const Policy& policy, const Subject& subject, const catalog::TableInfo& table,
                     int64_t database_id) {
  TableAccess a;
  std::set<std::string> all;
  for (auto& c : table.schema) all.insert(c.name);
  auto columns_of = [&](const std::optional<std::vector<std::string>>& cols, bool except) {
    if (!cols) return all;
    std::set<std::string> listed(cols->begin(), cols->end());
    std::set<std::string> out;
    for (auto& c : all) {
      if (listed.count(c) != static_cast<size_t>(except ? 0 : 1)) continue;
      out.insert(c);
    }
    return out;
  };
  auto grant_privilege = [&](const std::string& priv, const std::string& source) {
    if (!a.privileges.count(priv)) a.privileges[priv] = source;
  };
  if (subject.admin) {
    a.visible = a.describe_all = a.owner = true;
    a.describe_source = a.owner_source = "data-lake administrator";
    a.reads.push_back({"", all, "data-lake administrator"});
    for (auto p : {"INSERT", "DELETE", "ALTER", "DROP"}) grant_privilege(p, "data-lake administrator");
    for (auto& c : all) a.updates.emplace(c, "data-lake administrator");
  }
  for (auto& g : policy.grants) {
    if (!subject.Is(g.grantee)) continue;
    std::string source = g.Describe();
    if (g.object_kind == ObjectKind::kTable && g.object_id == table.id) {
      a.visible = true;
      if (g.privilege == "ALL" && g.grant_option && !a.owner) {
        a.owner = true;
        a.owner_source = source;
      }
      if (Holds(g.privilege, "SELECT")) {
        a.reads.push_back({"", g.privilege == "ALL" ? all : columns_of(g.columns, g.columns_except), source});
      }
      if (g.privilege != "SELECT" && !a.describe_all) {
        a.describe_all = true;
        a.describe_source = source;
      }
      for (auto p : {"INSERT", "DELETE", "ALTER", "DROP"}) {
        if (Holds(g.privilege, p)) grant_privilege(p, source);
      }
      if (Holds(g.privilege, "UPDATE")) {
        for (auto& c : g.privilege == "ALL" ? all : columns_of(g.columns, g.columns_except))
          a.updates.emplace(c, source);
      }
    } else if (g.object_kind == ObjectKind::kDatabase && g.object_id == database_id) {
      if (Holds(g.privilege, "DESCRIBE") || g.privilege == "ALTER") {
        a.visible = true;
        if (!a.describe_all) {
          a.describe_all = true;
          a.describe_source = source;
        }
      }
      if (Holds(g.privilege, "DROP")) {
        a.visible = true;
        grant_privilege("DROP", source);
      }
    } else if (g.object_kind == ObjectKind::kDataFilter) {
      auto it = policy.filters.find(g.object_name);
      if (it == policy.filters.end() || it->second.table_id != table.id || g.privilege != "SELECT") continue;
      const DataFilter& f = it->second;
      a.visible = true;
      a.reads.push_back({f.row_filter, columns_of(f.columns, f.columns_except),
                         "DATA FILTER " + f.name + " (" + source + ")"});
    } else if (g.object_kind == ObjectKind::kTag) {
      std::set<std::string> cols;
      for (auto& c : all) {
        std::string v = EffectiveTag(policy, table.id, c, g.object_name);
        if (!v.empty() && std::find(g.tag_values.begin(), g.tag_values.end(), v) != g.tag_values.end()) {
          cols.insert(c);
        }
      }
      if (cols.empty()) continue;
      a.visible = true;
      if (Holds(g.privilege, "SELECT")) a.reads.push_back({"", cols, source});
      if (g.privilege == "DESCRIBE" && !a.describe_all) {
        a.describe_all = true;
        a.describe_source = source;
      }
    }
  }
  if (a.describe_all) a.visible = true;
  for (auto& m : policy.masks) {
    if (m.table_id != table.id) continue;
    std::string exempt;
    for (auto& e : m.exempt) {
      if (subject.Is(e)) {
        exempt = "exempt as " + e.ToString();
        break;
      }
    }
    if (exempt.empty()) {
      a.masks[m.column] = &m;
    } else {
      a.exempt_masks[m.column] = exempt;
    }
  }
  return a;
}

DatabaseAccess EvaluateDatabase(const Policy& policy, const Subject& subject, int64_t database_id) {
  DatabaseAccess d;
  if (subject.admin) {
    d.visible = d.owner = true;
    for (auto p : {"CREATE_TABLE", "DESCRIBE", "ALTER", "DROP"}) d.privileges[p] = "data-lake administrator";
  }
  for (auto& g : policy.grants) {
    if (!subject.Is(g.grantee) || g.object_kind != ObjectKind::kDatabase || g.object_id != database_id)
      continue;
    d.visible = true;
    if (g.privilege == "ALL" && g.grant_option) d.owner = true;
    for (auto p : {"CREATE_TABLE", "DESCRIBE", "ALTER", "DROP"}) {
      if (Holds(g.privilege, p) && !d.privileges.count(p)) d.privileges[p] = g.Describe();
    }
  }
  return d;
}

const std::vector<std::string> kLimitNames = {"statement_timeout", "result_rows", "result_bytes",
                                              "concurrent_statements", "memory"};

std::optional<int64_t> Limits::Get(const std::string& name) const {
  auto it = values.find(name);
  if (it == values.end()) return std::nullopt;
  return it->second.value;
}

Limits EffectiveLimits(const Policy& policy, const Subject& subject) {
  Limits out;
  std::set<std::string> by_user;
  for (auto& l : policy.limits) {
    if (l.grantee.kind != GranteeKind::kUser || !subject.Is(l.grantee)) continue;
    out.values[l.name] = {l.value, l.grantee.ToString()};
    by_user.insert(l.name);
  }
  for (auto& l : policy.limits) {
    if (l.grantee.kind == GranteeKind::kUser || by_user.count(l.name) || !subject.Is(l.grantee)) continue;
    auto it = out.values.find(l.name);
    if (it == out.values.end() || l.value > it->second.value)
      out.values[l.name] = {l.value, l.grantee.ToString()};
  }
  return out;
}

namespace {}  // namespace

PolicyScope ParseScope(const std::string& entry) {
  std::vector<std::string> words;
  std::string word;
  for (char c : entry + " ") {
    if (c == ' ' || c == '\t') {
      if (!word.empty()) words.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  auto bad = [&] {
    return Error::InvalidArgument(
        "execution_policy entry '{}' is not 'PRIVILEGE [ON TABLE db.t | DATABASE db | DATA FILTER f | TAG k "
        "| "
        "APPLICATION a]'",
        entry.substr(0, 200));
  };
  PolicyScope scope;
  if (words.empty()) throw bad();
  scope.privilege = words[0];
  std::transform(scope.privilege.begin(), scope.privilege.end(), scope.privilege.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  if (words.size() == 1) return scope;
  if (AsciiLower(words[1]) != "on") throw bad();
  std::vector<std::string> rest(words.begin() + 2, words.end());
  if (rest.size() == 1) {
    scope.kind = ObjectKind::kTable;
  } else if (rest.size() == 2 && AsciiLower(rest[0]) == "table") {
    scope.kind = ObjectKind::kTable;
  } else if (rest.size() == 2 && AsciiLower(rest[0]) == "database") {
    scope.kind = ObjectKind::kDatabase;
  } else if (rest.size() == 2 && AsciiLower(rest[0]) == "tag") {
    scope.kind = ObjectKind::kTag;
  } else if (rest.size() == 2 && AsciiLower(rest[0]) == "application") {
    scope.kind = ObjectKind::kApplication;
  } else if (rest.size() == 3 && AsciiLower(rest[0]) == "data" && AsciiLower(rest[1]) == "filter") {
    scope.kind = ObjectKind::kDataFilter;
  } else {
    throw bad();
  }
  scope.name = scope.kind == ObjectKind::kApplication ? rest.back() : AsciiLower(rest.back());
  for (unsigned char c : scope.name) {
    if (!std::isalnum(c) && c != '_' && c != '.' && c != '-') throw bad();
  }
  if (scope.name.empty() || (scope.kind == ObjectKind::kTable && scope.name.find('.') == std::string::npos))
    throw bad();
  return scope;
}

std::shared_ptr<const Policy> NarrowForRole(std::shared_ptr<const Policy> policy,
                                            const identity::Principal& principal) {
  if (principal.execution_policy.empty() || principal.role.empty()) return policy;
  std::vector<PolicyScope> scopes;
  for (auto& e : principal.execution_policy) scopes.push_back(ParseScope(e));
  Grantee role{GranteeKind::kRole, AsciiLower(principal.role)};
  auto out = std::make_shared<Policy>(*policy);
  out->grants.clear();
  for (auto& g : policy->grants) {
    if (!(g.grantee == role)) {
      out->grants.push_back(g);
      continue;
    }
    for (auto& scope : scopes) {
      bool same = g.object_kind == scope.kind &&
                  (g.object_kind == ObjectKind::kApplication ? g.object_name == scope.name
                                                             : AsciiLower(g.object_name) == scope.name);
      if (!same) continue;
      Grant narrowed = g;
      if (scope.privilege != "ALL") {
        if (g.privilege != scope.privilege && g.privilege != "ALL") continue;
        narrowed.privilege = scope.privilege;
      }
      narrowed.grant_option = false;
      out->grants.push_back(narrowed);
    }
  }
  return out;
}

bool HoldsOnApplication(const Policy& policy, const Subject& subject, const std::string& application,
                        const std::string& privilege) {
  if (subject.admin) return true;
  for (auto& g : policy.grants) {
    if (g.object_kind != ObjectKind::kApplication || g.object_name != application || !subject.Is(g.grantee))
      continue;
    if (Holds(g.privilege, privilege) || (privilege == "SUBMIT" && g.privilege == "MANAGE")) return true;
  }
  return false;
}

bool MayAssume(const Policy& policy, const Subject& subject, const std::string& role) {
  if (subject.Is({GranteeKind::kRole, role})) return true;
  for (auto& g : policy.grants) {
    if (g.object_kind == ObjectKind::kRole && g.object_name == role && g.privilege == "ASSUME" &&
        subject.Is(g.grantee)) {
      return true;
    }
  }
  return false;
}

bool MayImpersonate(const Policy& policy, const Subject& subject, const std::string& user,
                    const std::vector<std::string>& groups) {
  if (subject.admin) return true;
  for (auto& g : policy.grants) {
    if (g.privilege != "IMPERSONATE" || !subject.Is(g.grantee)) continue;
    if (g.object_kind == ObjectKind::kUser && g.object_name == user) return true;
    if (g.object_kind == ObjectKind::kGroup &&
        std::find(groups.begin(), groups.end(), g.object_name) != groups.end())
      return true;
  }
  return false;
}

std::string SystemPrivilege(const Policy& policy, const Subject& subject, const std::string& privilege) {
  if (subject.admin) return "data-lake administrator";
  for (auto& g : policy.grants) {
    if (g.object_kind == ObjectKind::kSystem && g.privilege == privilege && subject.Is(g.grantee)) {
      return g.Describe();
    }
  }
  return "";
}

// --- store ---------------------------------------------------------------------

void PolicyStore::GrantOwnership(const std::string& user, ObjectKind kind, int64_t id,
                                 const std::string& name) {
  Change(user, "owner of " + name, [&] {
    store_.Execute(
        "INSERT INTO grants (grantee_kind, grantee, object_kind, object_id, object_name, privilege, "
        "grant_option, granted_by, created_at) VALUES ('USER', ?, ?, ?, ?, 'ALL', 1, 'tarn', ?)",
        {user, std::string(ObjectKindName(kind)), id, name, NowUtc()});
  });
}

void PolicyStore::ForgetNamed(const std::string& by, ObjectKind kind, const std::string& name) {
  Change(by, std::string("forget ") + ObjectKindName(kind) + " " + name, [&] {
    store_.Execute("DELETE FROM grants WHERE object_kind = ? AND object_name = ?",
                   {std::string(ObjectKindName(kind)), name});
  });
}

int64_t PolicyStore::Version() {
  auto rows = store_.Query("SELECT max(version) FROM policy_changes");
  return rows.empty() ? 0 : rows[0].Int(0);
}

std::shared_ptr<const Policy> PolicyStore::Load() {
  auto p = std::make_shared<Policy>();
  // One read transaction would be ideal; the version read last makes a concurrent
  // change visible as a newer version on the next statement at worst.
  for (auto& r : store_.Query(
           "SELECT id, grantee_kind, grantee, object_kind, object_id, object_name, tag_values, privilege, "
           "columns_json, columns_except, grant_option, granted_by FROM grants ORDER BY id")) {
    Grant g;
    g.id = r.Int(0);
    g.grantee = {ParseKind(r.Str(1)), r.Str(2)};
    g.object_kind = ParseObjectKind(r.Str(3));
    g.object_id = r.Int(4);
    g.object_name = r.Str(5);
    g.tag_values = JsonList(r.Str(6));
    g.privilege = r.Str(7);
    if (!r.IsNull(8)) g.columns = JsonList(r.Str(8));
    g.columns_except = r.Int(9) != 0;
    g.grant_option = r.Int(10) != 0;
    g.granted_by = r.Str(11);
    p->grants.push_back(std::move(g));
  }
  for (auto& r : store_.Query("SELECT id, name, table_id, columns_json, columns_except, row_filter, "
                              "created_by FROM data_filters")) {
    DataFilter f;
    f.id = r.Int(0);
    f.name = r.Str(1);
    f.table_id = r.Int(2);
    if (!r.IsNull(3)) f.columns = JsonList(r.Str(3));
    f.columns_except = r.Int(4) != 0;
    f.row_filter = r.Str(5);
    f.created_by = r.Str(6);
    p->filters[f.name] = std::move(f);
  }
  for (auto& r : store_.Query(
           "SELECT table_id, column_name, expression, exempt_json, created_by FROM column_masks ORDER BY "
           "table_id, column_name")) {
    ColumnMask m;
    m.table_id = r.Int(0);
    m.column = r.Str(1);
    m.expression = r.Str(2);
    for (auto& e : nlohmann::json::parse(r.Str(3))) {
      m.exempt.push_back({ParseKind(e.at("kind").get<std::string>()), e.at("name").get<std::string>()});
    }
    m.created_by = r.Str(4);
    p->masks.push_back(std::move(m));
  }
  for (auto& r : store_.Query("SELECT tag_key, allowed_values FROM tags"))
    p->tags[r.Str(0)] = JsonList(r.Str(1));
  for (auto& r : store_.Query("SELECT table_id, column_name, tag_key, tag_value FROM tag_assignments")) {
    p->tag_assignments.push_back({r.Int(0), r.Str(1), r.Str(2), r.Str(3)});
  }
  for (auto& r : store_.Query("SELECT name FROM roles")) p->roles[r.Str(0)];
  for (auto& r : store_.Query("SELECT role, member_kind, member FROM role_members")) {
    p->roles[r.Str(0)].insert({ParseKind(r.Str(1)), r.Str(2)});
  }
  for (auto& r : store_.Query("SELECT grantee_kind, grantee, name, value FROM principal_limits")) {
    p->limits.push_back({{ParseKind(r.Str(0)), r.Str(1)}, r.Str(2), r.Int(3)});
  }
  p->version = Version();
  return p;
}

void PolicyStore::Change(const std::string& by, const std::string& statement,
                         const std::function<void()>& body) {
  store_.Transaction([&] {
    body();
    RecordChange(by, statement);
  });
}

void PolicyStore::RecordChange(const std::string& by, const std::string& statement) {
  store_.Execute("INSERT INTO policy_changes (changed_by, statement, changed_at) VALUES (?, ?, ?)",
                 {by, statement.substr(0, 4000), NowUtc()});
}

std::shared_ptr<const Policy> PolicyCache::Current() {
  int64_t v = store_.Version();
  if (!policy_ || policy_->version != v) policy_ = store_.Load();
  return policy_;
}

}  // namespace tarn::governance
