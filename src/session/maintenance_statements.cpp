// OPTIMIZE and EXPIRE SNAPSHOTS: maintenance of managed tables (catalog.h,
// Catalog::Optimize and Catalog::ExpireSnapshots). Both need ALTER on the table;
// OPTIMIZE ... WHERE also needs to read all of it (which files hold matching rows
// says something about the rows).
#include <duckdb/parser/expression/columnref_expression.hpp>
#include <duckdb/parser/parsed_expression_iterator.hpp>
#include <duckdb/parser/query_node/select_node.hpp>
#include <duckdb/parser/result_modifier.hpp>

#include "common/error.h"
#include "session/statements.h"

namespace tarn::session {

namespace {

constexpr const char* kOptimizeUsage = "OPTIMIZE db.table [WHERE condition] [ORDER BY column, ...]";

// A column of `table` named bare (kNotFound otherwise).
std::string TableColumn(const duckdb::ParsedExpression& e, const catalog::TableInfo& table) {
  auto& ref = e.Cast<duckdb::ColumnRefExpression>();
  if (ref.IsQualified())
    throw Error::InvalidArgument("name columns of {} without a table: {}", table.name, kOptimizeUsage);
  std::string name = duckdb::StringUtil::Lower(ref.GetColumnName());
  for (auto& c : table.schema) {
    if (c.name == name) return name;
  }
  throw Error::NotFound("column {} does not exist in {}", name.substr(0, 64), table.QualifiedName());
}

// OPTIMIZE's WHERE picks files by their rows and runs nothing else: columns of the
// table, constants, comparisons, AND/OR/NOT, IN, IS [NOT] NULL, BETWEEN and casts.
void CheckCondition(const duckdb::ParsedExpression& e, const catalog::TableInfo& table) {
  using C = duckdb::ExpressionClass;
  using T = duckdb::ExpressionType;
  bool ok = false;
  switch (e.GetExpressionClass()) {
    case C::COLUMN_REF:
      TableColumn(e, table);
      ok = true;
      break;
    case C::CONSTANT:
    case C::COMPARISON:
    case C::CONJUNCTION:
    case C::BETWEEN:
    case C::CAST: ok = true; break;
    case C::OPERATOR:
      ok = e.type == T::OPERATOR_NOT || e.type == T::OPERATOR_IS_NULL || e.type == T::OPERATOR_IS_NOT_NULL ||
           e.type == T::COMPARE_IN || e.type == T::COMPARE_NOT_IN;
      break;
    default: break;
  }
  if (!ok) {
    throw Error::Unsupported(
        "OPTIMIZE ... WHERE takes conditions on the table's columns (comparisons, AND, OR, NOT, IN, IS NULL, "
        "BETWEEN), not {}",
        e.ToString().substr(0, 80));
  }
  duckdb::ParsedExpressionIterator::EnumerateChildren(
      e, [&](const duckdb::ParsedExpression& child) { CheckCondition(child, table); });
}

// Reads [WHERE ...] [ORDER BY ...] into `options`.
void ReadOptimizeClauses(const std::string& text, const catalog::TableInfo& table,
                         catalog::Catalog::OptimizeOptions& options) {
  if (text.empty()) return;
  auto parsed = engine::Parse("SELECT * FROM __tarn_optimize " + text);
  auto* select = parsed.size() == 1 && parsed[0]->type == duckdb::StatementType::SELECT_STATEMENT
                     ? &parsed[0]->Cast<duckdb::SelectStatement>()
                     : nullptr;
  if (!select || select->node->type != duckdb::QueryNodeType::SELECT_NODE)
    throw Error::InvalidArgument("{}", kOptimizeUsage);
  auto& node = select->node->Cast<duckdb::SelectNode>();
  if (!node.groups.group_expressions.empty() || node.having || node.qualify || node.sample)
    throw Error::InvalidArgument("{}", kOptimizeUsage);
  if (node.where_clause) {
    CheckCondition(*node.where_clause, table);
    options.where = node.where_clause->ToString();
  }
  for (auto& modifier : node.modifiers) {
    if (modifier->type != duckdb::ResultModifierType::ORDER_MODIFIER)
      throw Error::InvalidArgument("{}", kOptimizeUsage);
    for (auto& order : modifier->Cast<duckdb::OrderModifier>().orders) {
      if (order.expression->GetExpressionClass() != duckdb::ExpressionClass::COLUMN_REF ||
          order.type == duckdb::OrderType::DESCENDING) {
        throw Error::InvalidArgument("OPTIMIZE ... ORDER BY takes column names (ascending): {}",
                                     kOptimizeUsage);
      }
      options.order_by.push_back(TableColumn(*order.expression, table));
    }
  }
}

}  // namespace

void Optimize(const TarnStatement& st, StatementContext& ctx) {
  auto t = ctx.governor.RequireTable(st.database, st.table, "ALTER", "OPTIMIZE");
  catalog::Catalog::OptimizeOptions options;
  options.target_bytes = catalog::TargetFileSize(t);
  ReadOptimizeClauses(st.query, t, options);
  if (!options.where.empty()) ctx.governor.RequireFullRead(st.database, st.table, "OPTIMIZE ... WHERE");
  auto r = ctx.catalog.Optimize(t, options);
  if (!r.snapshot)
    return ctx.handler.OnStatus(fmt::format("{} is compact: nothing to rewrite", t.QualifiedName()));
  ctx.handler.OnStatus(fmt::format("optimized {}: {} rewritten into {} ({}; snapshot {})", t.QualifiedName(),
                                   Plural(r.files_rewritten, "file", "files"), r.files_written,
                                   Plural(r.rows, "row", "rows"), r.snapshot->id));
}

void ExpireSnapshots(const TarnStatement& st, StatementContext& ctx) {
  auto t = ctx.governor.RequireTable(st.database, st.table, "ALTER", "EXPIRE SNAPSHOTS");
  auto r = ctx.catalog.ExpireSnapshots(t, catalog::TimeBefore(st.older_than), st.retain_last);
  ctx.handler.OnStatus(fmt::format("expired {} of {}: {} removed",
                                   Plural(r.snapshots, "snapshot", "snapshots"), t.QualifiedName(),
                                   Plural(r.files, "file", "files")));
}

}  // namespace tarn::session
