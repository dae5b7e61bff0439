// PrepareGovernedPlan: makes governed scans cheaper without making them weaker.
//
// A governed scan binds to  P: PROJECTION [CASE WHEN g(c) THEN x END, ...]
//                           G: FILTER g(f)      (g = kGuardFunction, the marker)
//                                 <the table's files>
// The per-cell CASE guards keep a user predicate that DuckDB's optimizer pushes
// below the row filter from seeing a hidden row's value (error() and cast
// oracles). They cost: a predicate on a guarded column cannot reach the Parquet
// reader, and each guard is evaluated per row. Two rewrites recover that where it
// is provably safe; then the markers are stripped.
//
// A. Safe predicates. A conjunct of a user filter directly above P of the form
//    `<guarded column> <comparison> <constant>` (or IN (<constants>)) on a guard
//    CASE WHEN ... THEN x END implies `x <comparison> <constant>`; that comparison
//    is added to G, where DuckDB pushes it into the scan. Evaluating it on a hidden
//    row cannot fail or be observed (a comparison of a bare column with a
//    row-independent value of the same type), and it only removes rows the user's
//    filter removes anyway.
// B. No unsafe predicates. If the plan has no operator but projections,
//    aggregates, ORDER BY, LIMIT, TOP N, scans, governed filters, user filters
//    made only of safe predicates (comparisons of bare columns and row-independent
//    values, IN lists, IS [NOT] NULL, and AND / OR of those) and joins whose
//    conditions are such comparisons (no set operation, window or subquery), then
//    nothing DuckDB could push below G can fail or be observed, and every other
//    expression only sees rows that passed G;
//    so a guard whose condition is G's own is the identity and is replaced by its
//    value. (Otherwise rule A applies.)
#include <duckdb/planner/expression/bound_case_expression.hpp>
#include <duckdb/planner/expression/bound_cast_expression.hpp>
#include <duckdb/planner/expression/bound_columnref_expression.hpp>
#include <duckdb/planner/expression/bound_comparison_expression.hpp>
#include <duckdb/planner/expression/bound_conjunction_expression.hpp>
#include <duckdb/planner/expression/bound_constant_expression.hpp>
#include <duckdb/planner/expression/bound_function_expression.hpp>
#include <duckdb/planner/expression/bound_operator_expression.hpp>
#include <duckdb/planner/expression_iterator.hpp>
#include <duckdb/planner/logical_operator_visitor.hpp>
#include <duckdb/planner/operator/logical_aggregate.hpp>
#include <duckdb/planner/operator/logical_comparison_join.hpp>
#include <duckdb/planner/operator/logical_projection.hpp>

#include <set>
#include <utility>

#include "governance/internal.h"

namespace tarn::governance {

namespace {

using duckdb::Expression;
using duckdb::ExpressionClass;
using duckdb::ExpressionType;
using duckdb::LogicalOperator;
using duckdb::LogicalOperatorType;

bool IsGuard(const Expression& e) {
  return e.GetExpressionClass() == ExpressionClass::BOUND_FUNCTION &&
         e.Cast<duckdb::BoundFunctionExpression>().function.name == engine::kGuardFunction;
}

bool HasGuard(const Expression& e) {
  bool found = IsGuard(e);
  duckdb::ExpressionIterator::EnumerateChildren(
      e, [&](const Expression& child) { found = found || HasGuard(child); });
  return found;
}

// G: a filter made by GovernedScan (its one condition is marked).
bool IsGovernedFilter(const LogicalOperator& op) {
  return op.type == LogicalOperatorType::LOGICAL_FILTER && op.expressions.size() == 1 &&
         IsGuard(*op.expressions[0]);
}

// P over G.
bool IsGovernedProjection(const LogicalOperator& op) {
  return op.type == LogicalOperatorType::LOGICAL_PROJECTION && op.children.size() == 1 &&
         IsGovernedFilter(*op.children[0]);
}

// The guard CASE WHEN g(...) THEN <value> END, or null.
const duckdb::BoundCaseExpression* GuardCase(const Expression& e) {
  if (e.GetExpressionClass() != ExpressionClass::BOUND_CASE) return nullptr;
  auto& c = e.Cast<duckdb::BoundCaseExpression>();
  if (c.case_checks.size() != 1 || !IsGuard(*c.case_checks[0].when_expr)) return nullptr;
  // ELSE NULL, as bound: the constant, maybe cast to the result type.
  const Expression* otherwise = c.else_expr.get();
  if (otherwise->GetExpressionClass() == ExpressionClass::BOUND_CAST) {
    otherwise = otherwise->Cast<duckdb::BoundCastExpression>().child.get();
  }
  if (otherwise->GetExpressionClass() != ExpressionClass::BOUND_CONSTANT ||
      !otherwise->Cast<duckdb::BoundConstantExpression>().value.IsNull()) {
    return nullptr;
  }
  return &c;
}

// The bare column x a reference to output `ref` of P stands for when P guards it
// (CASE WHEN g(...) THEN x END), or null.
const Expression* GuardedColumn(const duckdb::LogicalProjection& p, const Expression& ref) {
  if (ref.GetExpressionClass() != ExpressionClass::BOUND_COLUMN_REF) return nullptr;
  auto& col = ref.Cast<duckdb::BoundColumnRefExpression>();
  if (col.depth != 0 || col.binding.table_index != p.table_index ||
      col.binding.column_index >= p.expressions.size()) {
    return nullptr;
  }
  auto* guard = GuardCase(*p.expressions[col.binding.column_index]);
  if (!guard) return nullptr;
  auto& value = *guard->case_checks[0].then_expr;
  if (value.GetExpressionClass() != ExpressionClass::BOUND_COLUMN_REF ||
      value.return_type != ref.return_type) {
    return nullptr;
  }
  return &value;
}

bool IsComparison(ExpressionType t) {
  switch (t) {
    case ExpressionType::COMPARE_EQUAL:
    case ExpressionType::COMPARE_NOTEQUAL:
    case ExpressionType::COMPARE_LESSTHAN:
    case ExpressionType::COMPARE_GREATERTHAN:
    case ExpressionType::COMPARE_LESSTHANOREQUALTO:
    case ExpressionType::COMPARE_GREATERTHANOREQUALTO: return true;
    default: return false;
  }
}

// Rule A for one conjunct of a user filter above P: the comparison it implies on
// the raw column, or null.
duckdb::unique_ptr<Expression> ImpliedOnRaw(const duckdb::LogicalProjection& p, const Expression& e) {
  if (e.GetExpressionClass() == ExpressionClass::BOUND_COMPARISON && IsComparison(e.type)) {
    auto& cmp = e.Cast<duckdb::BoundComparisonExpression>();
    if (auto* x = GuardedColumn(p, *cmp.left); x && cmp.right->IsFoldable()) {
      return duckdb::make_uniq<duckdb::BoundComparisonExpression>(e.type, x->Copy(), cmp.right->Copy());
    }
    if (auto* x = GuardedColumn(p, *cmp.right); x && cmp.left->IsFoldable()) {
      return duckdb::make_uniq<duckdb::BoundComparisonExpression>(e.type, cmp.left->Copy(), x->Copy());
    }
    return nullptr;
  }
  if (e.GetExpressionClass() == ExpressionClass::BOUND_OPERATOR && e.type == ExpressionType::COMPARE_IN) {
    auto& in = e.Cast<duckdb::BoundOperatorExpression>();
    auto* x = in.children.empty() ? nullptr : GuardedColumn(p, *in.children[0]);
    if (!x) return nullptr;
    auto out = duckdb::make_uniq<duckdb::BoundOperatorExpression>(ExpressionType::COMPARE_IN, e.return_type);
    out->children.push_back(x->Copy());
    for (size_t i = 1; i < in.children.size(); i++) {
      if (!in.children[i]->IsFoldable()) return nullptr;
      out->children.push_back(in.children[i]->Copy());
    }
    return out;
  }
  return nullptr;
}

void Conjuncts(const Expression& e, std::vector<const Expression*>& out) {
  if (e.GetExpressionClass() == ExpressionClass::BOUND_CONJUNCTION &&
      e.type == ExpressionType::CONJUNCTION_AND) {
    for (auto& child : e.Cast<duckdb::BoundConjunctionExpression>().children) Conjuncts(*child, out);
  } else {
    out.push_back(&e);
  }
}

void PushSafePredicates(LogicalOperator& op) {
  for (auto& child : op.children) PushSafePredicates(*child);
  if (op.type != LogicalOperatorType::LOGICAL_FILTER || IsGovernedFilter(op) || op.children.size() != 1 ||
      !IsGovernedProjection(*op.children[0])) {
    return;
  }
  auto& p = op.children[0]->Cast<duckdb::LogicalProjection>();
  auto& g = *p.children[0];
  std::vector<const Expression*> conjuncts;
  for (auto& e : op.expressions) Conjuncts(*e, conjuncts);
  for (auto* c : conjuncts) {
    if (auto implied = ImpliedOnRaw(p, *c)) g.expressions.push_back(std::move(implied));
  }
}

// Outputs of operators below that are computed (an expression, not a column as
// stored): a filter on one would be pushed below as that expression, so it is not
// a bare column however it reads where it stands.
using Computed = std::set<std::pair<duckdb::idx_t, duckdb::idx_t>>;

bool IsBareColumn(const Expression& e, const Computed& computed) {
  if (e.GetExpressionClass() != ExpressionClass::BOUND_COLUMN_REF) return false;
  auto& ref = e.Cast<duckdb::BoundColumnRefExpression>();
  return ref.depth == 0 && !computed.count({ref.binding.table_index, ref.binding.column_index});
}

// A bare column or a row-independent value.
bool IsOperand(const Expression& e, const Computed& computed) {
  return IsBareColumn(e, computed) || e.IsFoldable();
}

// Collects the computed outputs of `op` and everything below it. A governed
// projection's guarded bare columns count as bare (rule B turns them into the
// column); its masked columns are computed.
void CollectComputed(const LogicalOperator& op, Computed& computed) {
  for (auto& child : op.children) CollectComputed(*child, computed);
  auto output = [&](duckdb::idx_t table, duckdb::idx_t column, const Expression& e) {
    const Expression* value = &e;
    if (IsGovernedProjection(op)) {
      if (auto* guard = GuardCase(e)) value = guard->case_checks[0].then_expr.get();
    }
    if (!IsOperand(*value, computed)) computed.insert({table, column});
  };
  if (op.type == LogicalOperatorType::LOGICAL_PROJECTION) {
    auto& p = op.Cast<duckdb::LogicalProjection>();
    for (duckdb::idx_t i = 0; i < p.expressions.size(); i++) output(p.table_index, i, *p.expressions[i]);
  } else if (op.type == LogicalOperatorType::LOGICAL_AGGREGATE_AND_GROUP_BY) {
    auto& a = op.Cast<duckdb::LogicalAggregate>();
    for (duckdb::idx_t i = 0; i < a.groups.size(); i++) output(a.group_index, i, *a.groups[i]);
    for (duckdb::idx_t i = 0; i < a.expressions.size(); i++) computed.insert({a.aggregate_index, i});
    for (duckdb::idx_t i = 0; i < a.grouping_functions.size(); i++) computed.insert({a.groupings_index, i});
  }
}

// A predicate that cannot fail or be observed on any row: AND / OR of comparisons
// of bare columns and row-independent values, IN lists of a bare column and such
// values, and IS [NOT] NULL of a bare column. (A bare column is one as stored, not
// the output of an expression below, see Computed.)
bool IsSafePredicate(const Expression& e, const Computed& computed) {
  switch (e.GetExpressionClass()) {
    case ExpressionClass::BOUND_CONJUNCTION: {
      for (auto& child : e.Cast<duckdb::BoundConjunctionExpression>().children) {
        if (!IsSafePredicate(*child, computed)) return false;
      }
      return true;
    }
    case ExpressionClass::BOUND_COMPARISON: {
      auto& cmp = e.Cast<duckdb::BoundComparisonExpression>();
      return IsComparison(e.type) && IsOperand(*cmp.left, computed) && IsOperand(*cmp.right, computed);
    }
    case ExpressionClass::BOUND_OPERATOR: {
      auto& op = e.Cast<duckdb::BoundOperatorExpression>();
      if (op.children.empty() || !IsBareColumn(*op.children[0], computed)) return false;
      if (e.type == ExpressionType::OPERATOR_IS_NULL || e.type == ExpressionType::OPERATOR_IS_NOT_NULL) {
        return op.children.size() == 1;
      }
      if (e.type != ExpressionType::COMPARE_IN && e.type != ExpressionType::COMPARE_NOT_IN) return false;
      for (size_t i = 1; i < op.children.size(); i++) {
        if (!op.children[i]->IsFoldable()) return false;
      }
      return true;
    }
    default: return false;
  }
}

// Rule B's condition: nothing in the plan that DuckDB could push below a governed
// filter could fail or be observed.
bool NoPredicates(const LogicalOperator& op, const Computed& computed) {
  switch (op.type) {
    case LogicalOperatorType::LOGICAL_PROJECTION:
    case LogicalOperatorType::LOGICAL_AGGREGATE_AND_GROUP_BY:
    case LogicalOperatorType::LOGICAL_ORDER_BY:
    case LogicalOperatorType::LOGICAL_LIMIT:
    case LogicalOperatorType::LOGICAL_TOP_N:
    case LogicalOperatorType::LOGICAL_GET: break;
    case LogicalOperatorType::LOGICAL_CROSS_PRODUCT: break;
    case LogicalOperatorType::LOGICAL_COMPARISON_JOIN: {
      // Join conditions are comparisons of bare columns; what the binder split off
      // a join condition became a filter, checked as one.
      auto& join = op.Cast<duckdb::LogicalComparisonJoin>();
      switch (join.join_type) {
        case duckdb::JoinType::INNER:
        case duckdb::JoinType::LEFT:
        case duckdb::JoinType::RIGHT:
        case duckdb::JoinType::OUTER:
        case duckdb::JoinType::SEMI:
        case duckdb::JoinType::ANTI: break;
        default: return false;
      }
      if (join.predicate || !join.duplicate_eliminated_columns.empty() || !op.expressions.empty())
        return false;
      for (auto& cond : join.conditions) {
        if (!IsComparison(cond.comparison) || !IsOperand(*cond.left, computed) ||
            !IsOperand(*cond.right, computed)) {
          return false;
        }
      }
      break;
    }
    case LogicalOperatorType::LOGICAL_FILTER:
      if (IsGovernedFilter(op)) break;
      for (auto& e : op.expressions) {
        if (!IsSafePredicate(*e, computed)) return false;
      }
      break;
    default: return false;
  }
  for (auto& child : op.children) {
    if (!NoPredicates(*child, computed)) return false;
  }
  return true;
}

void DropRedundantGuards(LogicalOperator& op) {
  for (auto& child : op.children) DropRedundantGuards(*child);
  if (!IsGovernedProjection(op)) return;
  auto& condition = *op.children[0]->expressions[0];
  for (auto& e : op.expressions) {
    auto* guard = GuardCase(*e);
    if (guard && Expression::Equals(*guard->case_checks[0].when_expr, condition)) {
      auto value = guard->case_checks[0].then_expr->Copy();
      value->alias = e->alias;
      e = std::move(value);
    }
  }
}

void Strip(duckdb::unique_ptr<Expression>& e) {
  while (IsGuard(*e)) e = std::move(e->Cast<duckdb::BoundFunctionExpression>().children[0]);
  duckdb::ExpressionIterator::EnumerateChildren(*e,
                                                [](duckdb::unique_ptr<Expression>& child) { Strip(child); });
}

void StripMarks(LogicalOperator& op) {
  for (auto& child : op.children) StripMarks(*child);
  duckdb::LogicalOperatorVisitor::EnumerateExpressions(op, [](duckdb::unique_ptr<Expression>* e) {
    if (HasGuard(**e)) Strip(*e);
  });
}

}  // namespace

void PrepareGovernedPlan(LogicalOperator& plan) {
  Computed computed;
  CollectComputed(plan, computed);
  if (NoPredicates(plan, computed)) {
    DropRedundantGuards(plan);
  } else {
    PushSafePredicates(plan);
  }
  StripMarks(plan);
}

}  // namespace tarn::governance
