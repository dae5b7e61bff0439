// Row-level changes of managed tables: DELETE and UPDATE.
//
// Each becomes a governed query over the table as the caller sees it (its rows
// under the caller's row filter, its unmasked readable columns) that names the
// rows to change by their place in the snapshot's files, written to a Parquet file
// of the run; the catalog then rewrites the files holding those rows and commits
// (catalog.h, Catalog::ChangeRows).
#include <duckdb/parser/expression/case_expression.hpp>
#include <duckdb/parser/expression/cast_expression.hpp>
#include <duckdb/parser/expression/columnref_expression.hpp>
#include <duckdb/parser/expression/comparison_expression.hpp>
#include <duckdb/parser/expression/conjunction_expression.hpp>
#include <duckdb/parser/expression/constant_expression.hpp>
#include <duckdb/parser/expression/function_expression.hpp>
#include <duckdb/parser/expression/operator_expression.hpp>
#include <duckdb/parser/query_node/select_node.hpp>
#include <duckdb/parser/statement/delete_statement.hpp>
#include <duckdb/parser/statement/merge_into_statement.hpp>
#include <duckdb/parser/statement/update_statement.hpp>
#include <duckdb/parser/tableref/basetableref.hpp>
#include <duckdb/parser/tableref/joinref.hpp>
#include <duckdb/parser/tableref/subqueryref.hpp>

#include "common/error.h"
#include "common/util.h"
#include "session/statements.h"

namespace tarn::session {

namespace {

using duckdb::ParsedExpression;
using Statement = duckdb::unique_ptr<duckdb::SQLStatement>;

duckdb::BaseTableRef& Target(duckdb::unique_ptr<duckdb::TableRef>& ref, const char* what) {
  if (!ref || ref->type != duckdb::TableReferenceType::BASE_TABLE)
    throw Error::InvalidArgument("{} names one table: {} db.table ...", what, what);
  auto& t = ref->Cast<duckdb::BaseTableRef>();
  if (t.schema_name.empty() || t.schema_name == DEFAULT_SCHEMA)
    throw Error::InvalidArgument("table name '{}' needs its database: write database.{}", t.table_name,
                                 t.table_name);
  if (!t.catalog_name.empty() || t.at_clause)
    throw Error::InvalidArgument("{} changes a table as it is now", what);
  return t;
}

duckdb::unique_ptr<ParsedExpression> Constant(duckdb::Value v) {
  return duckdb::make_uniq<duckdb::ConstantExpression>(std::move(v));
}

duckdb::unique_ptr<ParsedExpression> Cast(const std::string& type, duckdb::unique_ptr<ParsedExpression> e) {
  return duckdb::make_uniq<duckdb::CastExpression>(duckdb::TransformStringToLogicalType(type), std::move(e));
}

// The type of `column` of `table` (kNotFound if it has none of that name).
std::string ColumnType(const catalog::TableInfo& table, const std::string& column) {
  for (auto& c : table.schema) {
    if (c.name == column) return c.type;
  }
  throw Error::NotFound("column {} does not exist in {}", column, table.QualifiedName());
}

// Removes a file of the run when the statement is done with it, however it ends.
struct RemoveOnExit {
  std::filesystem::path path;
  ~RemoveOnExit() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
};

duckdb::unique_ptr<ParsedExpression> Column(const char* name) {
  return duckdb::make_uniq<duckdb::ColumnRefExpression>(name);
}

// FROM target [CROSS JOIN other ...].
duckdb::unique_ptr<duckdb::TableRef> Joined(duckdb::unique_ptr<duckdb::TableRef> target,
                                            std::vector<duckdb::unique_ptr<duckdb::TableRef>> others) {
  for (auto& o : others) {
    auto join = duckdb::make_uniq<duckdb::JoinRef>(duckdb::JoinRefType::CROSS);
    join->left = std::move(target);
    join->right = std::move(o);
    target = std::move(join);
  }
  return target;
}

// Runs the picking query (its FROM holds `target`, which names the table) and
// commits the change it describes.
void RunRowChange(StatementContext& ctx, const catalog::TableInfo& table,
                  duckdb::unique_ptr<duckdb::SelectNode> node, duckdb::BaseTableRef& target,
                  const std::string& operation, const std::vector<std::string>& set_columns,
                  bool flagged = false) {
  auto select = duckdb::make_uniq<duckdb::SelectStatement>();
  select->node = std::move(node);
  ctx.governor.CheckQuery(*select);
  target.schema_name = governance::kRowChangeSchema;  // now only the row change's scan serves it
  target.table_name = table.name;
  auto changes = ctx.session.TempTablePath("row-change-" + RandomHex(8));
  RemoveOnExit remove{changes};
  Drain quiet;
  ctx.session.RunQuery(std::move(select), quiet, &changes, ctx.outcome);
  ctx.outcome.rows = -1;
  auto& picked = ctx.governor.row_change_target();
  auto r = ctx.catalog.ChangeRows(picked.table, picked.files,
                                  {operation, changes, set_columns, flagged, picked.row_check});
  int64_t rows = r.rows_removed + r.rows_updated + r.rows_inserted;
  ctx.governor.RecordRowsChanged(table, rows);
  ctx.outcome.rows_written = rows;
  bool changed = r.snapshot.id != picked.table.snapshot_id.value_or(0);
  std::string snapshot = changed ? fmt::format(" (snapshot {})", r.snapshot.id) : "";
  if (operation == "merge") {
    return ctx.handler.OnStatus(fmt::format("merged into {}: {} updated, {} deleted, {} inserted{}",
                                            table.QualifiedName(), Plural(r.rows_updated, "row", "rows"),
                                            r.rows_removed, r.rows_inserted, snapshot));
  }
  ctx.handler.OnStatus(fmt::format("{} {} of {}{}", operation == "delete" ? "deleted" : "updated",
                                   Plural(rows, "row", "rows"), table.QualifiedName(), snapshot));
}

}  // namespace

void DeleteRows(Statement& statement, StatementContext& ctx) {
  auto& del = statement->Cast<duckdb::DeleteStatement>();
  if (!del.returning_list.empty() || !del.cte_map.map.empty())
    throw Error::Unsupported(
        "DELETE supports DELETE FROM db.table [USING ...] [WHERE ...] (no RETURNING or WITH)");
  auto& t = Target(del.table, "DELETE FROM");
  governance::Governor::RowChange change{true, {}, false, "DELETE"};
  auto table =
      ctx.governor.BeginRowChange(t.schema_name, t.table_name, change, {del.condition.get()}, t.alias);
  auto node = duckdb::make_uniq<duckdb::SelectNode>();
  node->modifiers.push_back(duckdb::make_uniq<duckdb::DistinctModifier>());  // USING may match a row twice
  node->select_list.push_back(Column("__tarn_file"));
  node->select_list.push_back(Column("__tarn_row"));
  node->from_table = Joined(std::move(del.table), std::move(del.using_clauses));
  node->where_clause = std::move(del.condition);
  RunRowChange(ctx, table, std::move(node), t, "delete", {});
}

void UpdateRows(Statement& statement, StatementContext& ctx) {
  auto& upd = statement->Cast<duckdb::UpdateStatement>();
  if (!upd.returning_list.empty() || !upd.cte_map.map.empty())
    throw Error::Unsupported(
        "UPDATE supports UPDATE db.table SET ... [FROM ...] [WHERE ...] (no RETURNING or WITH)");
  auto& t = Target(upd.table, "UPDATE");
  auto& set = *upd.set_info;
  std::vector<std::string> columns;
  std::vector<const ParsedExpression*> used = {set.condition.get()};
  for (size_t i = 0; i < set.columns.size(); i++) {
    std::string c = catalog::CheckName(set.columns[i], "column");
    if (std::find(columns.begin(), columns.end(), c) != columns.end())
      throw Error::InvalidArgument("UPDATE sets column {} twice", c);
    if (set.expressions[i]->GetExpressionClass() == duckdb::ExpressionClass::DEFAULT)
      throw Error::Unsupported("lake tables have no column defaults: SET {} = <expression>", c);
    columns.push_back(c);
    used.push_back(set.expressions[i].get());
  }
  governance::Governor::RowChange change{false, columns, false, "UPDATE"};
  auto table = ctx.governor.BeginRowChange(t.schema_name, t.table_name, change, used, t.alias);
  auto node = duckdb::make_uniq<duckdb::SelectNode>();
  node->select_list.push_back(Column("__tarn_file"));
  node->select_list.push_back(Column("__tarn_row"));
  for (size_t i = 0; i < columns.size(); i++) {
    auto cast = Cast(ColumnType(table, columns[i]), std::move(set.expressions[i]));
    cast->alias = columns[i];
    node->select_list.push_back(std::move(cast));
  }
  std::vector<duckdb::unique_ptr<duckdb::TableRef>> from;
  if (upd.from_table) from.push_back(std::move(upd.from_table));
  node->from_table = Joined(std::move(upd.table), std::move(from));
  node->where_clause = std::move(set.condition);
  RunRowChange(ctx, table, std::move(node), t, "update", columns);
}

namespace {

using duckdb::MergeActionType;

duckdb::unique_ptr<ParsedExpression> And(duckdb::unique_ptr<ParsedExpression> a,
                                         duckdb::unique_ptr<ParsedExpression> b) {
  if (!b) return a;
  return duckdb::make_uniq<duckdb::ConjunctionExpression>(duckdb::ExpressionType::CONJUNCTION_AND,
                                                          std::move(a), std::move(b));
}

// One WHEN clause of a MERGE, numbered from 1 in the order it is tried.
struct MergeClause {
  bool matched;
  duckdb::MergeIntoAction* action;
};

// MERGE INTO db.t [x] USING src [s] ON cond WHEN [NOT] MATCHED [AND c] THEN UPDATE SET
// ... | DELETE | INSERT [(cols)] VALUES (...) | DO NOTHING | ERROR. The picking query
// is: FROM src LEFT JOIN target ON cond, each source row with its target row (if
// any) and the number of the first clause that applies to it (`action`); it yields
// the target row's place, whether it is deleted or inserted, the new values of the
// union of the SET columns and the inserted row.
class MergePlan {
 public:
  MergePlan(duckdb::MergeIntoStatement& m, const catalog::TableInfo& table, std::string target)
      : table_(table), target_(std::move(target)) {
    for (auto when : {duckdb::MergeActionCondition::WHEN_MATCHED,
                      duckdb::MergeActionCondition::WHEN_NOT_MATCHED_BY_TARGET}) {
      auto it = m.actions.find(when);
      if (it == m.actions.end()) continue;
      for (auto& a : it->second)
        clauses_.push_back({when == duckdb::MergeActionCondition::WHEN_MATCHED, a.get()});
    }
  }

  // SELECT ... FROM (the inner query) WHERE action chosen and not DO NOTHING.
  duckdb::unique_ptr<duckdb::SelectNode> Build(duckdb::unique_ptr<duckdb::TableRef> from,
                                               const std::vector<std::string>& set_columns) {
    auto inner = duckdb::make_uniq<duckdb::SelectNode>();
    inner->from_table = std::move(from);
    inner->select_list.push_back(Named(Ours("__tarn_file"), "__tarn_file"));
    inner->select_list.push_back(Named(Ours("__tarn_row"), "__tarn_row"));
    inner->select_list.push_back(Named(Action(), "__tarn_action"));
    std::vector<int> deletes, inserts, nothing;
    for (size_t i = 0; i < clauses_.size(); i++) {
      int n = static_cast<int>(i + 1);
      auto& a = *clauses_[i].action;
      if (a.action_type == MergeActionType::MERGE_DELETE) deletes.push_back(n);
      if (a.action_type == MergeActionType::MERGE_DO_NOTHING) nothing.push_back(n);
      if (a.action_type == MergeActionType::MERGE_UPDATE) {
        for (size_t k = 0; k < a.update_info->columns.size(); k++) {
          auto c = catalog::CheckName(a.update_info->columns[k], "column");
          inner->select_list.push_back(
              Named(When(n, Cast(ColumnType(table_, c), a.update_info->expressions[k]->Copy())),
                    fmt::format("__tarn_u{}_{}", n, c)));
          updates_[c].push_back(n);
        }
      }
      if (a.action_type == MergeActionType::MERGE_INSERT) {
        inserts.push_back(n);
        for (size_t k = 0; k < table_.schema.size(); k++) {
          auto& col = table_.schema[k];
          auto e = InsertValue(a, col.name, k);
          inner->select_list.push_back(
              Named(When(n, Cast(col.type, std::move(e))), fmt::format("__tarn_i{}_{}", n, col.name)));
        }
      }
    }
    for (auto& c : set_columns) inner->select_list.push_back(Named(Ours(c), "__tarn_cur_" + c));

    auto outer = duckdb::make_uniq<duckdb::SelectNode>();
    auto sub = duckdb::make_uniq<duckdb::SelectStatement>();
    sub->node = std::move(inner);
    outer->from_table = duckdb::make_uniq<duckdb::SubqueryRef>(std::move(sub), "__tarn_merge");
    outer->select_list.push_back(Column("__tarn_file"));
    outer->select_list.push_back(Column("__tarn_row"));
    outer->select_list.push_back(Named(In(deletes), "__tarn_delete"));
    outer->select_list.push_back(Named(In(inserts), "__tarn_insert"));
    for (auto& c : set_columns) {
      auto pick = duckdb::make_uniq<duckdb::CaseExpression>();
      for (int n : updates_[c]) {
        duckdb::CaseCheck check;
        check.when_expr = Is(n);
        check.then_expr = Column(fmt::format("__tarn_u{}_{}", n, c).c_str());
        pick->case_checks.push_back(std::move(check));
      }
      pick->else_expr = Column(("__tarn_cur_" + c).c_str());
      outer->select_list.push_back(Named(std::move(pick), c));
    }
    for (auto& col : table_.schema) {
      auto pick = duckdb::make_uniq<duckdb::CaseExpression>();
      for (int n : inserts) {
        duckdb::CaseCheck check;
        check.when_expr = Is(n);
        check.then_expr = Column(fmt::format("__tarn_i{}_{}", n, col.name).c_str());
        pick->case_checks.push_back(std::move(check));
      }
      pick->else_expr = Cast(col.type, Constant(duckdb::Value()));
      outer->select_list.push_back(
          Named(inserts.empty() ? Cast(col.type, Constant(duckdb::Value())) : std::move(pick),
                "__tarn_ins_" + col.name));
    }
    nothing.push_back(0);
    outer->where_clause =
        duckdb::make_uniq<duckdb::OperatorExpression>(duckdb::ExpressionType::OPERATOR_NOT, In(nothing));
    return outer;
  }

 private:
  static duckdb::unique_ptr<ParsedExpression> Named(duckdb::unique_ptr<ParsedExpression> e,
                                                    const std::string& name) {
    e->alias = name;
    return e;
  }
  duckdb::unique_ptr<ParsedExpression> Ours(const std::string& column) const {
    return duckdb::make_uniq<duckdb::ColumnRefExpression>(column, target_);
  }
  duckdb::unique_ptr<ParsedExpression> Matched() const {
    return duckdb::make_uniq<duckdb::OperatorExpression>(duckdb::ExpressionType::OPERATOR_IS_NOT_NULL,
                                                         Ours("__tarn_row"));
  }
  // The number of the first clause that applies, 0 if none; ERROR clauses fail.
  duckdb::unique_ptr<ParsedExpression> Action() const {
    auto c = duckdb::make_uniq<duckdb::CaseExpression>();
    for (size_t i = 0; i < clauses_.size(); i++) {
      auto& a = *clauses_[i].action;
      auto matched = Matched();
      if (!clauses_[i].matched)
        matched = duckdb::make_uniq<duckdb::OperatorExpression>(duckdb::ExpressionType::OPERATOR_NOT,
                                                                std::move(matched));
      duckdb::CaseCheck check;
      check.when_expr = And(std::move(matched), a.condition ? a.condition->Copy() : nullptr);
      if (a.action_type == MergeActionType::MERGE_ERROR) {
        duckdb::vector<duckdb::unique_ptr<ParsedExpression>> args;
        args.push_back(
            Constant(duckdb::Value("MERGE: a row met a WHEN ... THEN ERROR clause; nothing was changed")));
        check.then_expr =
            Cast("INTEGER", duckdb::make_uniq<duckdb::FunctionExpression>("error", std::move(args)));
      } else {
        check.then_expr = Constant(duckdb::Value::INTEGER(static_cast<int32_t>(i + 1)));
      }
      c->case_checks.push_back(std::move(check));
    }
    c->else_expr = Constant(duckdb::Value::INTEGER(0));
    return c;
  }
  // CASE WHEN <action of this row> = n THEN e END: e is evaluated only for rows that take clause n.
  duckdb::unique_ptr<ParsedExpression> When(int n, duckdb::unique_ptr<ParsedExpression> e) const {
    auto c = duckdb::make_uniq<duckdb::CaseExpression>();
    duckdb::CaseCheck check;
    check.when_expr = duckdb::make_uniq<duckdb::ComparisonExpression>(
        duckdb::ExpressionType::COMPARE_EQUAL, Action(), Constant(duckdb::Value::INTEGER(n)));
    check.then_expr = std::move(e);
    c->case_checks.push_back(std::move(check));
    c->else_expr = Constant(duckdb::Value());
    return c;
  }
  static duckdb::unique_ptr<ParsedExpression> Is(int n) {
    return duckdb::make_uniq<duckdb::ComparisonExpression>(
        duckdb::ExpressionType::COMPARE_EQUAL, Column("__tarn_action"), Constant(duckdb::Value::INTEGER(n)));
  }
  static duckdb::unique_ptr<ParsedExpression> In(const std::vector<int>& ns) {
    if (ns.empty()) return Constant(duckdb::Value::BOOLEAN(false));
    auto in = duckdb::make_uniq<duckdb::OperatorExpression>(duckdb::ExpressionType::COMPARE_IN,
                                                            Column("__tarn_action"));
    for (int n : ns) in->children.push_back(Constant(duckdb::Value::INTEGER(n)));
    return in;
  }
  // The value clause `a` inserts into `column` (the k'th of the table): by position
  // without a column list, else by name (NULL for a column it does not list).
  duckdb::unique_ptr<ParsedExpression> InsertValue(duckdb::MergeIntoAction& a, const std::string& column,
                                                   size_t k) const {
    if (a.insert_columns.empty()) return a.expressions[k]->Copy();
    for (size_t i = 0; i < a.insert_columns.size(); i++) {
      if (catalog::CheckName(a.insert_columns[i], "column") == column) return a.expressions[i]->Copy();
    }
    return Constant(duckdb::Value());
  }

  const catalog::TableInfo& table_;
  std::string target_;
  std::vector<MergeClause> clauses_;
  std::map<std::string, std::vector<int>> updates_;  // SET column -> the clauses that set it
};

}  // namespace

void MergeRows(Statement& statement, StatementContext& ctx) {
  auto& m = statement->Cast<duckdb::MergeIntoStatement>();
  if (!m.returning_list.empty() || !m.cte_map.map.empty())
    throw Error::Unsupported(
        "MERGE supports MERGE INTO db.table USING ... ON ... WHEN ... (no RETURNING or WITH)");
  if (!m.using_columns.empty() || !m.join_condition)
    throw Error::Unsupported(
        "MERGE joins with ON <condition>: MERGE INTO db.t x USING src s ON x.id = s.id ...");
  if (m.actions.count(duckdb::MergeActionCondition::WHEN_NOT_MATCHED_BY_SOURCE))
    throw Error::Unsupported(
        "WHEN NOT MATCHED BY SOURCE is not supported: DELETE ... WHERE NOT EXISTS does that");
  auto& t = Target(m.target, "MERGE INTO");
  governance::Governor::RowChange change{false, {}, false, "MERGE"};
  std::vector<const ParsedExpression*> used = {m.join_condition.get()};
  size_t columns = 0;
  for (auto& [when, actions] : m.actions) {
    for (auto& a : actions) {
      used.push_back(a->condition.get());
      switch (a->action_type) {
        case MergeActionType::MERGE_DELETE: change.removes = true; break;
        case MergeActionType::MERGE_UPDATE:
          if (!a->update_info) throw Error::Unsupported("MERGE ... THEN UPDATE needs SET col = expr, ...");
          for (size_t i = 0; i < a->update_info->columns.size(); i++) {
            auto c = catalog::CheckName(a->update_info->columns[i], "column");
            if (std::find(change.set_columns.begin(), change.set_columns.end(), c) ==
                change.set_columns.end())
              change.set_columns.push_back(c);
            if (a->update_info->expressions[i]->GetExpressionClass() == duckdb::ExpressionClass::DEFAULT)
              throw Error::Unsupported("lake tables have no column defaults: SET {} = <expression>", c);
            used.push_back(a->update_info->expressions[i].get());
          }
          break;
        case MergeActionType::MERGE_INSERT:
          if (a->default_values || a->expressions.empty() ||
              a->column_order != duckdb::InsertColumnOrder::INSERT_BY_POSITION)
            throw Error::Unsupported(
                "MERGE ... THEN INSERT needs VALUES (...), optionally with a column list");
          change.inserts = true;
          for (auto& e : a->expressions) used.push_back(e.get());
          break;
        default: break;
      }
    }
  }
  auto table = ctx.governor.BeginRowChange(t.schema_name, t.table_name, change, used, t.alias);
  for (auto& [when, actions] : m.actions) {
    for (auto& a : actions) {
      if (a->action_type != MergeActionType::MERGE_INSERT) continue;
      columns = a->insert_columns.empty() ? table.schema.size() : a->insert_columns.size();
      if (a->expressions.size() != columns)
        throw Error::InvalidArgument("MERGE ... THEN INSERT has {} values for {} columns",
                                     a->expressions.size(), columns);
    }
  }
  auto join = duckdb::make_uniq<duckdb::JoinRef>(duckdb::JoinRefType::REGULAR);
  join->type = duckdb::JoinType::LEFT;
  join->left = std::move(m.source);
  join->right = std::move(m.target);
  join->condition = std::move(m.join_condition);
  MergePlan plan(m, table, t.alias.empty() ? table.name : t.alias);
  auto node = plan.Build(std::move(join), change.set_columns);
  RunRowChange(ctx, table, std::move(node), t, "merge", change.set_columns, true);
}

}  // namespace tarn::session
