// The bound-plan check: what the optimized plan of a statement may touch.
#include <duckdb/common/multi_file/multi_file_list.hpp>
#include <duckdb/common/multi_file/multi_file_states.hpp>
#include <duckdb/planner/expression/bound_aggregate_expression.hpp>
#include <duckdb/planner/expression/bound_function_expression.hpp>
#include <duckdb/planner/expression/bound_window_expression.hpp>
#include <duckdb/planner/expression_iterator.hpp>
#include <duckdb/planner/logical_operator_visitor.hpp>
#include <duckdb/planner/operator/logical_copy_to_file.hpp>
#include <duckdb/planner/operator/logical_get.hpp>

#include "common/error.h"
#include "governance/functions.h"
#include "governance/internal.h"

namespace tarn::governance {

namespace {

using duckdb::LogicalOperatorType;

bool AllowedOperator(LogicalOperatorType t) {
  switch (t) {
    case LogicalOperatorType::LOGICAL_PROJECTION:
    case LogicalOperatorType::LOGICAL_FILTER:
    case LogicalOperatorType::LOGICAL_AGGREGATE_AND_GROUP_BY:
    case LogicalOperatorType::LOGICAL_WINDOW:
    case LogicalOperatorType::LOGICAL_UNNEST:
    case LogicalOperatorType::LOGICAL_LIMIT:
    case LogicalOperatorType::LOGICAL_ORDER_BY:
    case LogicalOperatorType::LOGICAL_TOP_N:
    case LogicalOperatorType::LOGICAL_DISTINCT:
    case LogicalOperatorType::LOGICAL_SAMPLE:
    case LogicalOperatorType::LOGICAL_PIVOT:
    case LogicalOperatorType::LOGICAL_GET:
    case LogicalOperatorType::LOGICAL_CHUNK_GET:
    case LogicalOperatorType::LOGICAL_DELIM_GET:
    case LogicalOperatorType::LOGICAL_EXPRESSION_GET:
    case LogicalOperatorType::LOGICAL_DUMMY_SCAN:
    case LogicalOperatorType::LOGICAL_EMPTY_RESULT:
    case LogicalOperatorType::LOGICAL_CTE_REF:
    case LogicalOperatorType::LOGICAL_JOIN:
    case LogicalOperatorType::LOGICAL_DELIM_JOIN:
    case LogicalOperatorType::LOGICAL_COMPARISON_JOIN:
    case LogicalOperatorType::LOGICAL_ANY_JOIN:
    case LogicalOperatorType::LOGICAL_CROSS_PRODUCT:
    case LogicalOperatorType::LOGICAL_POSITIONAL_JOIN:
    case LogicalOperatorType::LOGICAL_ASOF_JOIN:
    case LogicalOperatorType::LOGICAL_DEPENDENT_JOIN:
    case LogicalOperatorType::LOGICAL_UNION:
    case LogicalOperatorType::LOGICAL_EXCEPT:
    case LogicalOperatorType::LOGICAL_INTERSECT:
    case LogicalOperatorType::LOGICAL_RECURSIVE_CTE:
    case LogicalOperatorType::LOGICAL_MATERIALIZED_CTE:
    case LogicalOperatorType::LOGICAL_EXPLAIN:
    case LogicalOperatorType::LOGICAL_COPY_TO_FILE: return true;
    default: return false;
  }
}

// Every string inside `v` (lists included).
void Strings(const duckdb::Value& v, std::vector<std::string>& out) {
  if (v.IsNull()) return;
  if (v.type().id() == duckdb::LogicalTypeId::LIST) {
    for (auto& child : duckdb::ListValue::GetChildren(v)) Strings(child, out);
  } else if (v.type().id() == duckdb::LogicalTypeId::VARCHAR) {
    out.push_back(v.GetValue<std::string>());
  }
}

class PlanChecker {
 public:
  PlanChecker(const std::map<std::string, std::string>& files, const std::string& copy_target)
      : files_(files), copy_target_(copy_target) {}

  void Visit(duckdb::LogicalOperator& op) {
    if (!AllowedOperator(op.type)) {
      throw Denied(fmt::format("the statement would run {}, which Tarn does not allow",
                               duckdb::LogicalOperatorToString(op.type)));
    }
    if (op.type == LogicalOperatorType::LOGICAL_GET) Get(op.Cast<duckdb::LogicalGet>());
    if (op.type == LogicalOperatorType::LOGICAL_COPY_TO_FILE) {
      auto& copy = op.Cast<duckdb::LogicalCopyToFile>();
      if (copy_target_.empty() || copy.file_path != copy_target_) {
        throw Denied("the statement would write a file");
      }
    }
    duckdb::LogicalOperatorVisitor::EnumerateExpressions(
        op, [&](duckdb::unique_ptr<duckdb::Expression>* e) { Expr(**e); });
    for (auto& child : op.children) Visit(*child);
  }

  std::map<std::string, std::set<std::string>> columns;

 private:
  void Get(duckdb::LogicalGet& get) {
    // Allowed table functions read only their arguments; the engine-only ones are
    // the file readers of governed scans, checked against their tables' files.
    auto use = Classify(FunctionKind::kTable, get.function.name);
    if (use == FunctionUse::kAllowed) return;
    if (use != FunctionUse::kPlanOnly) {
      throw Denied(NotAvailable(get.function.name) + ": queries read catalog tables only");
    }
    // The files the scan will open: its bind data's list (also set on the copies
    // the optimizer makes, e.g. late materialization), else its parameters.
    std::vector<std::string> paths;
    auto* multi = dynamic_cast<duckdb::MultiFileBindData*>(get.bind_data.get());
    if (multi && multi->file_list) {
      for (auto& f : multi->file_list->GetPaths()) paths.push_back(f.path);
    } else {
      for (auto& p : get.parameters) Strings(p, paths);
    }
    if (paths.empty()) throw Denied("the statement would read files");
    std::string table;
    for (auto& p : paths) {
      auto it = files_.find(p);
      if (it == files_.end()) throw Denied("the statement would read files outside the tables it names");
      if (!table.empty() && table != it->second) throw Denied("one scan reads files of two tables");
      table = it->second;
    }
    auto& cols = columns[table];
    for (auto& id : get.GetColumnIds()) {
      if (id.IsRowIdColumn() || id.GetPrimaryIndex() >= get.names.size()) continue;
      auto name = duckdb::StringUtil::Lower(get.names[id.GetPrimaryIndex()]);
      if (!name.starts_with("__tarn_")) cols.insert(name);  // not Tarn's own (a delete file's positions)
    }
  }

  void Expr(duckdb::Expression& e) {
    switch (e.GetExpressionClass()) {
      case duckdb::ExpressionClass::BOUND_FUNCTION:
        Function(e.Cast<duckdb::BoundFunctionExpression>().function.name);
        break;
      case duckdb::ExpressionClass::BOUND_AGGREGATE:
        Function(e.Cast<duckdb::BoundAggregateExpression>().function.name);
        break;
      case duckdb::ExpressionClass::BOUND_WINDOW: {
        auto& w = e.Cast<duckdb::BoundWindowExpression>();
        if (w.aggregate) Function(w.aggregate->name);
        break;
      }
      default: break;
    }
    duckdb::ExpressionIterator::EnumerateChildren(e, [&](duckdb::Expression& child) { Expr(child); });
  }

  static void Function(const std::string& name) {
    if (!MayRun(FunctionKind::kExpression, name)) throw Denied(NotAvailable(name));
  }

  const std::map<std::string, std::string>& files_;
  const std::string& copy_target_;
};

}  // namespace

std::map<std::string, std::set<std::string>> CheckPlan(duckdb::LogicalOperator& plan,
                                                       const std::map<std::string, std::string>& files,
                                                       const std::string& copy_target) {
  PlanChecker checker(files, copy_target);
  checker.Visit(plan);
  return std::move(checker.columns);
}

}  // namespace tarn::governance
