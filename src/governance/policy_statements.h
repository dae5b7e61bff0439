// Internals of the governance statements (GRANT, REVOKE, data filters, masks, tags,
// roles, limits, SHOW ..., EXPLAIN ACCESS): the table Governor::Execute() walks, the
// context a statement's handler runs in, and the parsing helpers the families share.
//
// Each family lives in its own file (grants.cpp, data_filters.cpp, tags.cpp,
// masks.cpp, roles.cpp, limits.cpp, explain_access.cpp) and declares its handlers
// below. A new family adds its file, declares its handlers here and adds one entry
// per statement to the table in policy_statements.cpp; Execute() itself never changes.
#pragma once

#include <duckdb.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "catalog/catalog.h"
#include "engine/sql_text.h"
#include "governance/governance.h"
#include "governance/policy.h"
#include "identity/principal.h"

namespace tarn::governance {

// --- usage strings (the text of a syntax error) -------------------------------------
inline constexpr const char* kGrantUsage =
    "GRANT privilege[, ...] ON DATABASE db | TABLE db.table | DATA FILTER f | TAG key IN ('v', ...) | "
    "APPLICATION app | ROLE r TO "
    "USER|GROUP|ROLE "
    "name [WITH GRANT OPTION]";
inline constexpr const char* kRevokeUsage =
    "REVOKE privilege[, ...] ON DATABASE db | TABLE db.table | DATA FILTER f | TAG key IN ('v', ...) | "
    "APPLICATION app | ROLE r FROM "
    "USER|GROUP|ROLE name";
inline constexpr const char* kFilterUsage =
    "CREATE DATA FILTER name ON db.table [COLUMNS (a, b) | EXCLUDING (c)] [ROW FILTER <expression>]";
inline constexpr const char* kAlterUsage =
    "ALTER TABLE db.table [ALTER COLUMN c] SET TAG key = 'value' | UNSET TAG key, or ALTER TABLE db.table "
    "ALTER "
    "COLUMN c SET MASK <expression> [EXEMPT USER|GROUP|ROLE name, ...] | DROP MASK";
inline constexpr const char* kSetLimitUsage =
    "SET LIMIT statement_timeout | result_rows | result_bytes | concurrent_statements | memory = value FOR "
    "USER|GROUP|ROLE name";
inline constexpr const char* kResetLimitUsage =
    "RESET LIMIT statement_timeout | result_rows | result_bytes | concurrent_statements | memory FOR "
    "USER|GROUP|ROLE name";

// --- what the statements name ---------------------------------------------------------
// One privilege of a GRANT / REVOKE.
struct PrivilegeSpec {
  std::string privilege;
  std::optional<std::vector<std::string>> columns;
  bool except = false;
};

// What a GRANT or REVOKE names.
struct Target {
  ObjectKind kind = ObjectKind::kSystem;
  int64_t id = 0;
  std::string name;
  std::vector<std::string> tag_values;
  std::optional<catalog::TableInfo> table;  // kTable, and kDataFilter's table
};

// The table (and column) an ALTER TABLE statement of Tarn's names.
struct AlterTarget {
  std::string db;
  std::string table;
  std::string column;  // empty: the table itself
};

// --- the context -------------------------------------------------------------------------
// What a handler works with during one Governor::Execute() call: the statement, its
// reader and output, and the governor's policy, caller and checks. It is the
// families' one door to the Governor's internals (a friend of Governor).
struct StatementContext {
  StatementContext(Governor& governor, engine::TokenReader& reader, const std::string& text);

  Governor& governor;           // its public checks: RequireTable, RequireDatabase, ...
  engine::TokenReader& reader;  // past the table entry's leading words
  const std::string& text;      // the whole statement, as policy changes record it
  const std::string me;         // the caller's user name
  StatementOutput out;          // what Execute() returns if the handler takes the statement

  // The caller's policy snapshot and subject. Change() replaces both: a reference
  // into either does not survive a Change() (read them again after it).
  const Policy& policy() const;
  const Subject& subject() const;
  const identity::Principal& principal() const;
  catalog::Catalog& catalog() const;
  store::MetaStore& store() const;

  // Runs `body` as one policy change (one transaction, a new policy version recorded
  // for the caller with `text`), marks `out` as a policy change and reloads the
  // policy and the caller's subject. Whatever `body` throws rolls the change back.
  void Change(const std::function<void()>& body);
  // The stored policy as of now, uncached: inside Change(), with the change's writes.
  std::shared_ptr<const Policy> LoadPolicy() const;
  // kPermissionDenied "<what> is for data-lake administrators" unless the caller is one.
  void RequireAdmin(const char* what) const;
  // kPermissionDenied "<what> on db.t is for its owner or an administrator" unless
  // the caller owns `table`.
  void RequireOwner(const catalog::TableInfo& table, const char* what) const;

  // The Governor's checks (see governance.h).
  TableAccess Access(const catalog::TableInfo& table) const;
  void RequireColumns(const catalog::TableInfo& table, const std::vector<std::string>& columns) const;
  void TryExpression(const catalog::TableInfo& table, const std::string& expression, const char* what,
                     bool as_filter) const;
  Subject SubjectOf(const std::string& user) const;
  StatementOutput ExplainAccess(const std::string& query, const std::optional<std::string>& for_user) const;
};

// --- the table ---------------------------------------------------------------------------
// Runs one statement whose leading words matched. Either takes the statement (fills
// ctx.out, or throws tarn::Error) and returns true, or finds it is not its own and
// returns false before it changed anything; the walk then tries the next entry.
using StatementHandler = bool (*)(StatementContext& ctx);

// One entry of the table Execute() walks in order: a statement that starts with
// `words` (case-insensitive) goes to `run`, with the reader past them.
struct PolicyStatement {
  std::vector<const char*> words;
  StatementHandler run = nullptr;
};

// grants.cpp: GRANT / REVOKE (privileges, ADMIN, roles), SHOW GRANTS.
bool ExecuteGrant(StatementContext& ctx);
bool ExecuteRevoke(StatementContext& ctx);
bool ExecuteShowGrants(StatementContext& ctx);
// data_filters.cpp: CREATE / DROP DATA FILTER, SHOW DATA FILTERS.
bool ExecuteCreateDataFilter(StatementContext& ctx);
bool ExecuteDropDataFilter(StatementContext& ctx);
bool ExecuteShowDataFilters(StatementContext& ctx);
// tags.cpp: CREATE / DROP TAG, ALTER TABLE ... SET / UNSET TAG, SHOW TAGS.
bool ExecuteCreateTag(StatementContext& ctx);
bool ExecuteDropTag(StatementContext& ctx);
bool ExecuteAlterTableTag(StatementContext& ctx);
bool ExecuteShowTags(StatementContext& ctx);
// masks.cpp: ALTER TABLE ... ALTER COLUMN c SET / DROP MASK.
bool ExecuteAlterColumnMask(StatementContext& ctx);
// roles.cpp: CREATE / DROP ROLE, SHOW ROLES.
bool ExecuteCreateRole(StatementContext& ctx);
bool ExecuteDropRole(StatementContext& ctx);
bool ExecuteShowRoles(StatementContext& ctx);
// limits.cpp: SET / RESET LIMIT, SHOW LIMITS.
bool ExecuteSetLimit(StatementContext& ctx);
bool ExecuteResetLimit(StatementContext& ctx);
bool ExecuteShowLimits(StatementContext& ctx);
// explain_access.cpp: EXPLAIN ACCESS.
bool ExecuteExplainAccess(StatementContext& ctx);

// --- shared by the families ------------------------------------------------------------
// The data filter `name` and its table, or kNotFound if it does not exist or is
// hidden from the caller (the two read alike). Administrators also get filters whose
// table was dropped (table nullopt). Visible: to administrators, the table's owner,
// the filter's creator and those granted it. The pointer is valid until the next
// Change(). (data_filters.cpp)
std::pair<const DataFilter*, std::optional<catalog::TableInfo>> FindFilter(StatementContext& ctx,
                                                                           const std::string& name);

// After ALTER TABLE: db.table [ALTER COLUMN c]. nullopt, throwing nothing, if no
// qualified name follows (DuckDB's ALTER TABLE then); a bad column name throws.
std::optional<AlterTarget> ReadAlterTarget(engine::TokenReader& r);

// A checked name of a `what` (catalog::CheckName); a syntax error shows `usage`.
std::string Name(engine::TokenReader& r, const char* what, const char* usage);
// (a, b, ...): checked column names.
std::vector<std::string> NameList(engine::TokenReader& r, const char* usage);
// USER|GROUP|ROLE name.
Grantee ReadGrantee(engine::TokenReader& r, const char* usage);
// privilege[, ...], where SELECT may carry (columns) or EXCEPT (columns) and ALL
// may be followed by PRIVILEGES.
std::vector<PrivilegeSpec> ReadPrivileges(engine::TokenReader& r, const char* usage);
// A JSON array of the strings, as the metadata store keeps lists.
std::string Json(const std::vector<std::string>& v);
// "a, b, c".
std::string Joined(const std::vector<std::string>& v);
// A VARCHAR value.
duckdb::Value Text(const std::string& s);
// ASCII upper case.
std::string Upper(std::string s);

}  // namespace tarn::governance
