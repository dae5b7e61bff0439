// The governance statements' dispatch: the table Governor::Execute() walks, the
// StatementContext its handlers run in, and what the statement families share (the
// parsing helpers and the Governor's checks they call).
#include "governance/policy_statements.h"

#include <duckdb/parser/expression/constant_expression.hpp>
#include <duckdb/parser/query_node/select_node.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "common/error.h"
#include "governance/internal.h"
#include "identity/directory.h"

namespace tarn::governance {

namespace {

using engine::TokenReader;

// The governance statements, in the order Execute() tries them. Entries with the
// same leading words (ALTER TABLE) are tried in turn until one takes the statement.
const PolicyStatement kPolicyStatements[] = {
    {{"GRANT"}, ExecuteGrant},
    {{"REVOKE"}, ExecuteRevoke},
    {{"CREATE", "DATA", "FILTER"}, ExecuteCreateDataFilter},
    {{"DROP", "DATA", "FILTER"}, ExecuteDropDataFilter},
    {{"CREATE", "TAG"}, ExecuteCreateTag},
    {{"DROP", "TAG"}, ExecuteDropTag},
    {{"CREATE", "ROLE"}, ExecuteCreateRole},
    {{"DROP", "ROLE"}, ExecuteDropRole},
    {{"ALTER", "TABLE"}, ExecuteAlterTableTag},
    {{"ALTER", "TABLE"}, ExecuteAlterColumnMask},
    {{"SHOW", "GRANTS"}, ExecuteShowGrants},
    {{"SHOW", "DATA", "FILTERS"}, ExecuteShowDataFilters},
    {{"SHOW", "TAGS"}, ExecuteShowTags},
    {{"SET", "LIMIT"}, ExecuteSetLimit},
    {{"RESET", "LIMIT"}, ExecuteResetLimit},
    {{"SHOW", "LIMITS"}, ExecuteShowLimits},
    {{"SHOW", "ROLES"}, ExecuteShowRoles},
    {{"EXPLAIN", "ACCESS"}, ExecuteExplainAccess},
};

// All of `words` in order; on a mismatch `r` is left part-way (callers use a copy).
bool AcceptAll(TokenReader& r, const std::vector<const char*>& words) {
  for (const char* word : words) {
    if (!r.AcceptWord(word)) return false;
  }
  return true;
}

}  // namespace

std::optional<StatementOutput> Governor::Execute(const std::string& text) {
  if (!policy_) BeginStatement();
  const TokenReader start(text);
  for (const PolicyStatement& statement : kPolicyStatements) {
    TokenReader reader = start;
    if (!AcceptAll(reader, statement.words)) continue;
    StatementContext ctx(*this, reader, text);
    if (statement.run(ctx)) return std::move(ctx.out);
  }
  return std::nullopt;  // not a governance statement (DuckDB's SET, ALTER TABLE, ...)
}

// --- StatementContext ----------------------------------------------------------------------

StatementContext::StatementContext(Governor& governor, engine::TokenReader& reader, const std::string& text)
    : governor(governor), reader(reader), text(text), me(governor.principal_.user) {}

const Policy& StatementContext::policy() const {
  return *governor.policy_;
}

const Subject& StatementContext::subject() const {
  return governor.subject_;
}

const identity::Principal& StatementContext::principal() const {
  return governor.principal_;
}

catalog::Catalog& StatementContext::catalog() const {
  return governor.catalog_;
}

store::MetaStore& StatementContext::store() const {
  return governor.store_;
}

void StatementContext::Change(const std::function<void()>& body) {
  governor.policy_store_.Change(me, text, body);
  out.policy_change = true;
  governor.policy_ = NarrowForRole(governor.cache_.Current(), governor.principal_);
  governor.subject_ = MakeSubject(governor.principal_, *governor.policy_);
}

std::shared_ptr<const Policy> StatementContext::LoadPolicy() const {
  return governor.policy_store_.Load();
}

void StatementContext::RequireAdmin(const char* what) const {
  if (!governor.subject_.admin) throw Denied(fmt::format("{} is for data-lake administrators", what));
}

void StatementContext::RequireOwner(const catalog::TableInfo& table, const char* what) const {
  if (!governor.Access(table).owner) {
    throw Denied(fmt::format("{} on {} is for its owner or an administrator", what, table.QualifiedName()));
  }
}

TableAccess StatementContext::Access(const catalog::TableInfo& table) const {
  return governor.Access(table);
}

void StatementContext::RequireColumns(const catalog::TableInfo& table,
                                      const std::vector<std::string>& columns) const {
  governor.RequireColumns(table, columns);
}

void StatementContext::TryExpression(const catalog::TableInfo& table, const std::string& expression,
                                     const char* what, bool as_filter) const {
  governor.TryExpression(table, expression, what, as_filter);
}

Subject StatementContext::SubjectOf(const std::string& user) const {
  return governor.SubjectOf(user);
}

StatementOutput StatementContext::ExplainAccess(const std::string& query,
                                                const std::optional<std::string>& for_user) const {
  return governor.ExplainAccess(query, for_user);
}

// --- the Governor's checks the statements use ------------------------------------------------

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

Subject Governor::SubjectOf(const std::string& user) {
  identity::Directory dir(store_);
  auto p = dir.Lookup(user, principal_.issuer);
  if (!p) throw Error::NotFound("user {} does not exist", user);
  return MakeSubject(*p, *policy_);
}

// --- parsing helpers -----------------------------------------------------------------------------

std::optional<AlterTarget> ReadAlterTarget(TokenReader& r) {
  AlterTarget target;
  try {
    r.QualifiedName(target.db, target.table, kAlterUsage);
  } catch (const Error&) {
    return std::nullopt;
  }
  if (r.AcceptWords({"ALTER", "COLUMN"})) target.column = Name(r, "column", kAlterUsage);
  return target;
}

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
    // CREATE DATABASE, CREATE TABLE, CREATE APPLICATION: the spelled-out CREATE_x.
    for (const char* what : {"DATABASE", "TABLE", "APPLICATION"}) {
      if (p.privilege == "CREATE" && r.AcceptWord(what)) p.privilege += std::string("_") + what;
    }
    if (p.privilege == "MANAGE" && r.AcceptWord("LIVY")) p.privilege = "MANAGE_LIVY";  // every Livy session
    if (p.privilege == "SELECT" || p.privilege == "UPDATE") {
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

}  // namespace tarn::governance
