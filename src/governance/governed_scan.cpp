// Policy expressions and the governed scan built from them.
#include <duckdb/parser/expression/case_expression.hpp>
#include <duckdb/parser/expression/columnref_expression.hpp>
#include <duckdb/parser/expression/conjunction_expression.hpp>
#include <duckdb/parser/expression/constant_expression.hpp>
#include <duckdb/parser/expression/function_expression.hpp>
#include <duckdb/parser/parsed_expression_iterator.hpp>
#include <duckdb/parser/parser.hpp>
#include <duckdb/parser/query_node/select_node.hpp>
#include <duckdb/parser/tableref/subqueryref.hpp>

#include "common/error.h"
#include "governance/functions.h"
#include "governance/internal.h"

namespace tarn::governance {

namespace {

using duckdb::ExpressionClass;
using duckdb::ParsedExpression;

bool IsCurrentUser(const ParsedExpression& e) {
  if (e.GetExpressionClass() == ExpressionClass::COLUMN_REF) {
    auto& c = e.Cast<duckdb::ColumnRefExpression>();
    return c.column_names.size() == 1 && duckdb::StringUtil::Lower(c.column_names[0]) == "current_user";
  }
  if (e.GetExpressionClass() == ExpressionClass::FUNCTION) {
    auto& f = e.Cast<duckdb::FunctionExpression>();
    return f.children.empty() && duckdb::StringUtil::Lower(f.function_name) == "current_user";
  }
  return false;
}

// is_member('g'): the group name, or nullopt if `e` is not a call of it.
std::optional<std::string> IsMemberCall(const ParsedExpression& e) {
  if (e.GetExpressionClass() != ExpressionClass::FUNCTION) return std::nullopt;
  auto& f = e.Cast<duckdb::FunctionExpression>();
  if (duckdb::StringUtil::Lower(f.function_name) != "is_member") return std::nullopt;
  if (f.children.size() != 1 || f.children[0]->GetExpressionClass() != ExpressionClass::CONSTANT) {
    throw Error::InvalidArgument("is_member takes one group name in quotes: is_member('analysts')");
  }
  auto& v = f.children[0]->Cast<duckdb::ConstantExpression>().value;
  if (v.IsNull() || v.type().id() != duckdb::LogicalTypeId::VARCHAR) {
    throw Error::InvalidArgument("is_member takes one group name in quotes: is_member('analysts')");
  }
  return duckdb::StringUtil::Lower(v.GetValue<std::string>());
}

void CheckPolicyNode(const ParsedExpression& e, const std::set<std::string>& columns, const char* what) {
  if (IsCurrentUser(e) || IsMemberCall(e)) return;
  switch (e.GetExpressionClass()) {
    case ExpressionClass::COLUMN_REF: {
      auto& c = e.Cast<duckdb::ColumnRefExpression>();
      std::string name = duckdb::StringUtil::Lower(c.column_names.back());
      if (c.column_names.size() != 1 || !columns.count(name)) {
        throw Error::InvalidArgument("{} refers to '{}', which is not a column of the table", what,
                                     c.ToString());
      }
      return;
    }
    case ExpressionClass::SUBQUERY:
      throw Error::InvalidArgument("{} may not contain a subquery: use columns of the table only", what);
    case ExpressionClass::PARAMETER:
    case ExpressionClass::DEFAULT:
    case ExpressionClass::STAR: throw Error::InvalidArgument("{} may not contain '{}'", what, e.ToString());
    case ExpressionClass::FUNCTION: {
      auto& f = e.Cast<duckdb::FunctionExpression>();
      std::string fn = duckdb::StringUtil::Lower(f.function_name);
      bool subject = fn == "is_member" || fn == "current_user";  // replaced by BindSubject
      if (!f.catalog.empty() || !f.schema.empty() ||
          (!subject && !MayCall(FunctionKind::kExpression, f.function_name))) {
        throw Error::InvalidArgument("{} may not call {}()", what, f.function_name);
      }
      break;
    }
    case ExpressionClass::WINDOW: throw Error::InvalidArgument("{} may not use window functions", what);
    default: break;
  }
  duckdb::ParsedExpressionIterator::EnumerateChildren(
      e, [&](const ParsedExpression& child) { CheckPolicyNode(child, columns, what); });
}

duckdb::unique_ptr<ParsedExpression> Bound(const std::string& text, const std::set<std::string>& columns,
                                           const Subject& subject, const char* what) {
  auto e = ParsePolicyExpression(text, columns, what);
  BindSubject(e, subject);
  return e;
}

duckdb::unique_ptr<ParsedExpression> AnyOf(std::vector<duckdb::unique_ptr<ParsedExpression>> terms) {
  if (terms.size() == 1) return std::move(terms[0]);
  return duckdb::make_uniq<duckdb::ConjunctionExpression>(duckdb::ExpressionType::CONJUNCTION_OR,
                                                          std::move(terms));
}

// kGuardFunction(e): marks a governed scan's row condition so that PrepareGovernedPlan
// can find it in the bound plan (and strip the mark).
duckdb::unique_ptr<ParsedExpression> Marked(duckdb::unique_ptr<ParsedExpression> e) {
  duckdb::vector<duckdb::unique_ptr<ParsedExpression>> args;
  args.push_back(std::move(e));
  return duckdb::make_uniq<duckdb::FunctionExpression>(engine::kGuardFunction, std::move(args));
}

}  // namespace

duckdb::unique_ptr<ParsedExpression> ParsePolicyExpression(const std::string& text,
                                                           const std::set<std::string>& columns,
                                                           const char* what) {
  duckdb::vector<duckdb::unique_ptr<ParsedExpression>> list;
  try {
    list = duckdb::Parser::ParseExpressionList(text);
  } catch (const std::exception& e) {
    throw Error::InvalidArgument("{} is not a valid SQL expression: {}", what,
                                 duckdb::ErrorData(e).RawMessage());
  }
  if (list.size() != 1) throw Error::InvalidArgument("{} must be exactly one SQL expression", what);
  CheckPolicyNode(*list[0], columns, what);
  return std::move(list[0]);
}

void BindSubject(duckdb::unique_ptr<ParsedExpression>& expr, const Subject& subject) {
  // The constant keeps the call's name: "current_user AS u" is still column u, and a
  // bare current_user is column current_user, not 'ana'.
  auto replace = [&](duckdb::Value value) {
    std::string name = expr->GetAlias().empty() ? expr->ToString() : expr->GetAlias();
    expr = duckdb::make_uniq<duckdb::ConstantExpression>(std::move(value));
    expr->SetAlias(std::move(name));
  };
  if (IsCurrentUser(*expr)) return replace(duckdb::Value(subject.principal.user));
  if (auto group = IsMemberCall(*expr)) return replace(duckdb::Value::BOOLEAN(subject.IsMember(*group)));
  duckdb::ParsedExpressionIterator::EnumerateChildren(
      *expr, [&](duckdb::unique_ptr<ParsedExpression>& child) { BindSubject(child, subject); });
}

bool Transparent(const TableAccess& access, const std::set<std::string>& exposed) {
  if (!access.ReadsAllRows()) return false;
  for (auto& col : exposed) {
    if (access.masks.count(col)) return false;
    bool unguarded = false;
    for (auto& term : access.reads)
      unguarded = unguarded || (term.columns.count(col) && term.row_filter.empty());
    if (!unguarded) return false;
  }
  return true;
}

duckdb::unique_ptr<ParsedExpression> RowFilter(const catalog::TableInfo& table, const TableAccess& access,
                                               const Subject& subject) {
  std::set<std::string> all, filters;
  for (auto& c : table.schema) all.insert(c.name);
  for (auto& term : access.reads) filters.insert(term.row_filter);
  std::vector<duckdb::unique_ptr<ParsedExpression>> conds;
  for (auto& f : filters) conds.push_back(Bound(f, all, subject, "the row filter"));
  return AnyOf(std::move(conds));
}

duckdb::unique_ptr<duckdb::TableRef> GovernedScan(const catalog::TableInfo& table,
                                                  duckdb::unique_ptr<duckdb::TableRef> raw,
                                                  const TableAccess& access, const Subject& subject,
                                                  const std::set<std::string>& exposed, bool raw_columns) {
  std::set<std::string> all;
  for (auto& c : table.schema) all.insert(c.name);
  auto node = duckdb::make_uniq<duckdb::SelectNode>();
  raw->alias = "__tarn_raw";
  node->from_table = std::move(raw);
  bool all_rows = access.ReadsAllRows();
  for (auto& col : table.schema) {
    if (!exposed.count(col.name)) continue;
    duckdb::unique_ptr<ParsedExpression> e = duckdb::make_uniq<duckdb::ColumnRefExpression>(col.name);
    if (!raw_columns) {
      auto mask = access.masks.find(col.name);
      if (mask != access.masks.end()) e = Bound(mask->second->expression, all, subject, "the column mask");
      // A cell shows only if a read term admitting its row includes its column.
      std::set<std::string> guards;
      for (auto& term : access.reads) {
        if (term.columns.count(col.name)) guards.insert(term.row_filter);
      }
      if (!guards.count("")) {
        std::vector<duckdb::unique_ptr<ParsedExpression>> conds;
        for (auto& g : guards) conds.push_back(Bound(g, all, subject, "the row filter"));
        auto c = duckdb::make_uniq<duckdb::CaseExpression>();
        duckdb::CaseCheck check;
        check.when_expr = Marked(
            conds.empty() ? duckdb::make_uniq<duckdb::ConstantExpression>(duckdb::Value::BOOLEAN(false))
                          : AnyOf(std::move(conds)));
        check.then_expr = std::move(e);
        c->case_checks.push_back(std::move(check));
        c->else_expr = duckdb::make_uniq<duckdb::ConstantExpression>(duckdb::Value());
        e = std::move(c);
      }
    }
    e->alias = col.name;
    node->select_list.push_back(std::move(e));
  }
  if (!raw_columns && !all_rows) node->where_clause = Marked(RowFilter(table, access, subject));
  auto statement = duckdb::make_uniq<duckdb::SelectStatement>();
  statement->node = std::move(node);
  return duckdb::make_uniq<duckdb::SubqueryRef>(std::move(statement), table.name);
}

}  // namespace tarn::governance
