// Policy: who may do what to which database, table, column, row and cell.
//
// The policy is the set of grants, roles, data filters, column masks and tags in
// the metadata store. It is versioned: every change is one transaction that also
// appends a row to policy_changes, so a session can tell with one query whether the
// snapshot it holds is still current (see PolicyCache).
//
// Deny by default: a subject holds exactly what grants to it (directly, through a
// group, or through a role granted to it or to one of its groups) give, plus
// everything for a data-lake administrator. Evaluate() turns the policy into a
// TableAccess for one subject and one table; docs/GOVERNANCE.md states the rules.
//
// Thread-safety: a Policy is immutable once loaded and may be shared; PolicyStore
// uses one MetaStore (one thread at a time).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "identity/principal.h"
#include "store/store.h"

namespace tarn::governance {

enum class GranteeKind { kUser, kGroup, kRole };
const char* GranteeKindName(GranteeKind k);  // USER, GROUP, ROLE

struct Grantee {
  GranteeKind kind = GranteeKind::kUser;
  std::string name;
  std::string ToString() const;  // "GROUP analysts"
  bool operator<(const Grantee& o) const { return std::tie(kind, name) < std::tie(o.kind, o.name); }
  bool operator==(const Grantee& o) const { return kind == o.kind && name == o.name; }
};

// What a grant is on.
enum class ObjectKind { kSystem, kDatabase, kTable, kDataFilter, kTag, kApplication, kRole, kUser, kGroup };
// system, database, table, data_filter, tag, application, role, user, group
const char* ObjectKindName(ObjectKind k);

struct Grant {
  int64_t id = 0;
  Grantee grantee;
  ObjectKind object_kind = ObjectKind::kTable;
  int64_t object_id = 0;                // database / table / data filter id; 0 otherwise
  std::string object_name;              // database, db.table, filter name or tag key (as named when
                                        // granted); an application's id; a role's name
  std::vector<std::string> tag_values;  // ON TAG k IN (...)
  std::string privilege;                // SELECT, INSERT, ..., ALL, AUDIT, CREATE_DATABASE
  std::optional<std::vector<std::string>> columns;  // column-level SELECT
  bool columns_except = false;                      // SELECT EXCEPT (...)
  bool grant_option = false;
  std::string granted_by;
  // The statement that would make this grant, for SHOW GRANTS and EXPLAIN ACCESS.
  std::string Describe() const;
};

struct DataFilter {
  int64_t id = 0;
  std::string name;
  int64_t table_id = 0;
  std::optional<std::vector<std::string>> columns;  // nullopt: every column
  bool columns_except = false;                      // EXCLUDING (...)
  std::string row_filter;                           // empty: every row
  std::string created_by;
};

struct ColumnMask {
  int64_t table_id = 0;
  std::string column;
  std::string expression;
  std::vector<Grantee> exempt;
  std::string created_by;
};

struct TagAssignment {
  int64_t table_id = 0;
  std::string column;  // empty: the table itself
  std::string key;
  std::string value;
};

// A resource limit set for a user, group or role (SET LIMIT ... FOR ...).
struct LimitSetting {
  Grantee grantee;
  std::string name;  // one of kLimitNames
  int64_t value = 0;
};

// The limits Tarn knows: statement_timeout (seconds), result_rows, result_bytes,
// concurrent_statements, memory (bytes).
extern const std::vector<std::string> kLimitNames;

// One principal's effective limits: for each name, the value set for the user if
// any, else the largest set for one of its groups or roles; nullopt means the
// server's default applies. `source` says which setting decided ("GROUP analysts").
struct Limits {
  struct Value {
    int64_t value = 0;
    std::string source;
  };
  std::map<std::string, Value> values;  // by limit name
  std::optional<int64_t> Get(const std::string& name) const;
};

struct Policy {
  int64_t version = 0;
  std::vector<Grant> grants;
  std::map<std::string, DataFilter> filters;  // by name
  std::vector<ColumnMask> masks;
  std::map<std::string, std::vector<std::string>> tags;  // key -> allowed values
  std::vector<TagAssignment> tag_assignments;
  std::map<std::string, std::set<Grantee>> roles;  // role -> members (users, groups)
  std::vector<LimitSetting> limits;
};

// Who is asking, with everything they are a member of.
struct Subject {
  identity::Principal principal;
  std::set<Grantee> grantees;  // USER u, GROUP g..., ROLE r...
  bool admin = false;
  bool Is(const Grantee& g) const { return grantees.count(g) > 0; }
  bool IsMember(const std::string& group) const { return Is({GranteeKind::kGroup, group}); }
  std::vector<std::string> Roles() const;
};
// The subject of `principal`: its user, groups and the roles they hold; with an
// assumed role (principal.role) only that role, and never an administrator (kPermissionDenied
// if the principal neither holds the role nor has ASSUME on it).
Subject MakeSubject(const identity::Principal& principal, const Policy& policy);

// One way a subject may read a table: rows admitted by `row_filter` (empty: all),
// cells of `columns`. `source` says which grant or filter gave it.
struct ReadTerm {
  std::string row_filter;
  std::set<std::string> columns;
  std::string source;
};

// What one subject may do with one table.
struct TableAccess {
  bool visible = false;       // may know the table exists
  bool describe_all = false;  // may see every column's name and type
  std::string describe_source;
  std::vector<ReadTerm> reads;                    // empty: may not read
  std::map<std::string, std::string> privileges;  // INSERT, DELETE, ALTER, DROP -> deciding grant
  std::map<std::string, std::string> updates;     // column the subject may UPDATE -> deciding grant
  bool owner = false;                             // ALL WITH GRANT OPTION (or admin)
  std::string owner_source;
  std::map<std::string, const ColumnMask*> masks;   // column -> mask that applies to the subject
  std::map<std::string, std::string> exempt_masks;  // column -> why the subject is exempt

  // Columns the subject may read (the union over reads).
  std::set<std::string> ReadableColumns() const;
  // True if some read term covers every row (no row filter).
  bool ReadsAllRows() const;
  // The grant deciding that `column` is readable (first term covering it), or "".
  std::string ColumnSource(const std::string& column) const;
};

TableAccess Evaluate(const Policy& policy, const Subject& subject, const catalog::TableInfo& table,
                     int64_t database_id);
// Database-level: "visible" if any grant on the database or one of its tables
// (resolved through `tables_in_db`) reaches the subject.
struct DatabaseAccess {
  bool visible = false;
  std::map<std::string, std::string> privileges;  // CREATE_TABLE, DESCRIBE, ALTER, DROP -> source
  bool owner = false;
};
DatabaseAccess EvaluateDatabase(const Policy& policy, const Subject& subject, int64_t database_id);
// A system privilege (AUDIT, CREATE_DATABASE): the deciding grant, or "" if none.
// One entry of an execution_policy: a privilege on an object (or on the system).
struct PolicyScope {
  std::string privilege;  // upper case
  ObjectKind kind = ObjectKind::kSystem;
  std::string name;  // lower case; "" for the system
};
// Parses "PRIVILEGE [ON TABLE db.t | DATABASE db | DATA FILTER f | TAG k | APPLICATION a]"
// (`ON db.t` is a table); kInvalidArgument quoting the entry.
PolicyScope ParseScope(const std::string& entry);
// A limit's value: statement_timeout in seconds ('90', '30s', '5m', '2h'),
// result_bytes and memory in bytes ('1000000', '64MB', '1GB'; memory at least 16 MiB),
// the others plain positive numbers; kInvalidArgument naming `name` otherwise.
int64_t ParseLimitValue(const std::string& name, const std::string& text);
// `policy` with the grants to `principal.role` cut to what principal.execution_policy
// names: a grant stays if an entry names its object and privilege (an ALL grant
// becomes the entry's privilege); nothing is added. `policy` itself if there is no
// execution policy.
std::shared_ptr<const Policy> NarrowForRole(std::shared_ptr<const Policy> policy,
                                            const identity::Principal& principal);

// Whether `subject` holds `privilege` (SUBMIT or MANAGE) on the job application with
// id `application`: administrators always; MANAGE and ALL cover SUBMIT.
bool HoldsOnApplication(const Policy& policy, const Subject& subject, const std::string& application,
                        const std::string& privilege);
// Whether `subject` may run as role `role`: a member of it, or a holder of ASSUME on it.
bool MayAssume(const Policy& policy, const Subject& subject, const std::string& role);
// Whether `subject` may act as the built-in user `user` (a member of `groups`): an
// administrator, or a holder of IMPERSONATE ON USER user or ON GROUP g, g one of them.
bool MayImpersonate(const Policy& policy, const Subject& subject, const std::string& user,
                    const std::vector<std::string>& groups);

std::string SystemPrivilege(const Policy& policy, const Subject& subject, const std::string& privilege);
// The subject's effective limits (see Limits).
Limits EffectiveLimits(const Policy& policy, const Subject& subject);

// The effective value of tag `key` on a column: its own, else the table's, else "".
std::string EffectiveTag(const Policy& policy, int64_t table_id, const std::string& column,
                         const std::string& key);

// Reads and changes the policy in the metadata store.
class PolicyStore {
 public:
  explicit PolicyStore(store::MetaStore& store) : store_(store) {}
  store::MetaStore& store() { return store_; }

  // The current version (0 before the first change).
  int64_t Version();
  // Loads everything (a snapshot at one version).
  std::shared_ptr<const Policy> Load();
  // Runs `body` in one transaction with a new policy version recorded for `by`.
  void Change(const std::string& by, const std::string& statement, const std::function<void()>& body);
  // Records a new policy version, inside a transaction the caller holds.
  void RecordChange(const std::string& by, const std::string& statement);
  // `user` owns what they created: ALL on it WITH GRANT OPTION (granted by "tarn").
  void GrantOwnership(const std::string& user, ObjectKind kind, int64_t id, const std::string& name);
  // Removes every grant on an application or role that is gone (by name), as `by`.
  void ForgetNamed(const std::string& by, ObjectKind kind, const std::string& name);

 private:
  store::MetaStore& store_;
};

// Holds the newest policy snapshot; reloads only when the version moved.
class PolicyCache {
 public:
  explicit PolicyCache(PolicyStore& store) : store_(store) {}
  std::shared_ptr<const Policy> Current();

 private:
  PolicyStore& store_;
  std::shared_ptr<const Policy> policy_;
};

}  // namespace tarn::governance
