// EXPLAIN ACCESS [FOR USER u] <query>: which tables, columns, row filters and masks a
// query would read and why, without running it.
#include <duckdb/parser/statement/insert_statement.hpp>

#include "common/error.h"
#include "engine/engine.h"
#include "governance/internal.h"
#include "governance/policy_statements.h"
#include "identity/directory.h"

namespace tarn::governance {

bool ExecuteExplainAccess(StatementContext& ctx) {
  engine::TokenReader& r = ctx.reader;
  std::optional<std::string> for_user;
  if (r.AcceptWords({"FOR", "USER"})) {
    for_user = identity::CheckPrincipalName(r.Identifier("EXPLAIN ACCESS FOR USER name <query>"), "user");
  }
  ctx.out = ctx.ExplainAccess(r.Rest(), for_user);
  return true;
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
