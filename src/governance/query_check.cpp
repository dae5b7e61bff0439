// The pre-bind check: what a query may name before DuckDB binds anything.
//
// Binding alone can touch files (read_csv sniffs them) and run SQL (query(),
// PRAGMA expansion), so the parsed tree is checked first; the optimized plan is
// checked again afterwards (plan_check.cpp). Allow-lists, not deny-lists.
#include <duckdb/parser/expression/columnref_expression.hpp>
#include <duckdb/parser/expression/function_expression.hpp>
#include <duckdb/parser/expression/subquery_expression.hpp>
#include <duckdb/parser/parsed_expression_iterator.hpp>
#include <duckdb/parser/query_node/cte_node.hpp>
#include <duckdb/parser/query_node/recursive_cte_node.hpp>
#include <duckdb/parser/query_node/select_node.hpp>
#include <duckdb/parser/query_node/set_operation_node.hpp>
#include <duckdb/parser/tableref/basetableref.hpp>
#include <duckdb/parser/tableref/expressionlistref.hpp>
#include <duckdb/parser/tableref/joinref.hpp>
#include <duckdb/parser/tableref/pivotref.hpp>
#include <duckdb/parser/tableref/showref.hpp>
#include <duckdb/parser/tableref/subqueryref.hpp>
#include <duckdb/parser/tableref/table_function_ref.hpp>

#include "common/error.h"
#include "governance/internal.h"

namespace tarn::governance {

namespace {

using duckdb::ExpressionClass;
using duckdb::ParsedExpression;
using duckdb::QueryNode;
using duckdb::TableRef;

// Table functions that read nothing but their arguments.
const std::set<std::string> kAllowedTableFunctions = {"range", "generate_series", "unnest", "json_each",
                                                      "json_tree"};

// Schemas a query may not name: DuckDB's own catalogs.
const std::set<std::string> kEngineSchemas = {"main", "temp",   "pg_catalog",        "memory",
                                              "tarn", "system", "information_schema"};

std::string Short(const std::string& s) {
  return s.size() > 80 ? s.substr(0, 80) + "..." : s;
}

class Walker {
 public:
  Walker(const Subject& subject) : subject_(subject) {}

  void Node(QueryNode& node) {
    for (auto& kv : node.cte_map.map) ctes_.insert(duckdb::StringUtil::Lower(kv.first));
    for (auto& kv : node.cte_map.map) Node(*kv.second->query->node);
    switch (node.type) {
      case duckdb::QueryNodeType::SELECT_NODE: {
        auto& s = node.Cast<duckdb::SelectNode>();
        for (auto& e : s.select_list) Expr(e);
        for (auto& e : s.groups.group_expressions) Expr(e);
        if (s.where_clause) Expr(s.where_clause);
        if (s.having) Expr(s.having);
        if (s.qualify) Expr(s.qualify);
        if (s.from_table) Ref(s.from_table);
        break;
      }
      case duckdb::QueryNodeType::SET_OPERATION_NODE: {
        auto& s = node.Cast<duckdb::SetOperationNode>();
        Node(*s.left);
        Node(*s.right);
        break;
      }
      case duckdb::QueryNodeType::RECURSIVE_CTE_NODE: {
        auto& r = node.Cast<duckdb::RecursiveCTENode>();
        ctes_.insert(duckdb::StringUtil::Lower(r.ctename));
        Node(*r.left);
        Node(*r.right);
        break;
      }
      case duckdb::QueryNodeType::CTE_NODE: {
        auto& c = node.Cast<duckdb::CTENode>();
        ctes_.insert(duckdb::StringUtil::Lower(c.ctename));
        Node(*c.query);
        Node(*c.child);
        break;
      }
      default: throw Denied("this kind of query is not supported");
    }
    duckdb::ParsedExpressionIterator::EnumerateQueryNodeModifiers(
        node, [&](duckdb::unique_ptr<ParsedExpression>& e) { Expr(e); });
  }

  void Ref(duckdb::unique_ptr<TableRef>& ref) {
    switch (ref->type) {
      case duckdb::TableReferenceType::BASE_TABLE: return BaseTable(ref->Cast<duckdb::BaseTableRef>());
      case duckdb::TableReferenceType::TABLE_FUNCTION: {
        auto& tf = ref->Cast<duckdb::TableFunctionRef>();
        if (tf.function->GetExpressionClass() != ExpressionClass::FUNCTION)
          throw Denied("this table function");
        auto& f = tf.function->Cast<duckdb::FunctionExpression>();
        std::string name = duckdb::StringUtil::Lower(f.function_name);
        if (!f.catalog.empty() || !f.schema.empty() || !kAllowedTableFunctions.count(name)) {
          throw Denied(
              fmt::format("{}() may not be used: queries read catalog tables (database.table), not "
                          "files or engine internals",
                          Short(f.function_name)));
        }
        for (auto& c : f.children) Expr(c);
        if (tf.subquery) Node(*tf.subquery->node);
        return;
      }
      case duckdb::TableReferenceType::SUBQUERY:
        return Node(*ref->Cast<duckdb::SubqueryRef>().subquery->node);
      case duckdb::TableReferenceType::JOIN: {
        auto& j = ref->Cast<duckdb::JoinRef>();
        Ref(j.left);
        Ref(j.right);
        if (j.condition) Expr(j.condition);
        return;
      }
      case duckdb::TableReferenceType::EXPRESSION_LIST: {
        for (auto& row : ref->Cast<duckdb::ExpressionListRef>().values) {
          for (auto& e : row) Expr(e);
        }
        return;
      }
      case duckdb::TableReferenceType::PIVOT: {
        auto& p = ref->Cast<duckdb::PivotRef>();
        Ref(p.source);
        for (auto& a : p.aggregates) Expr(a);
        for (auto& col : p.pivots) {
          for (auto& e : col.pivot_expressions) Expr(e);
          if (col.subquery) Node(*col.subquery);
        }
        return;
      }
      case duckdb::TableReferenceType::SHOW_REF: {
        auto& s = ref->Cast<duckdb::ShowRef>();
        if (!s.query) {
          throw Denied(
              "DuckDB's SHOW and DESCRIBE of engine objects are not available: use SHOW TABLES or "
              "DESCRIBE db.table");
        }
        return Node(*s.query);
      }
      case duckdb::TableReferenceType::EMPTY_FROM: return;
      default: throw Denied("this kind of FROM item is not supported");
    }
  }

  void BaseTable(duckdb::BaseTableRef& t) {
    std::string schema = duckdb::StringUtil::Lower(t.schema_name);
    std::string name = duckdb::StringUtil::Lower(t.table_name);
    if (!t.catalog_name.empty()) {
      throw Error::NotFound("table '{}' does not exist: name tables as database.table", Short(t.ToString()));
    }
    if (schema.empty()) {
      if (ctes_.count(name)) return;
      throw Error::NotFound(
          "table '{}' does not exist: name tables as database.table (SHOW DATABASES lists them)",
          Short(t.table_name));
    }
    if (schema == "information_schema") {
      t.schema_name = kInformationSchema;
      return;
    }
    if (schema == "system") {
      t.schema_name = kSystemSchema;
      return;
    }
    if (kEngineSchemas.count(schema) || schema.starts_with("__tarn")) {
      throw Error::NotFound("database {} does not exist (SHOW DATABASES lists them)", Short(t.schema_name));
    }
  }

  void Expr(duckdb::unique_ptr<ParsedExpression>& e) {
    if (!e) return;
    BindSubject(e, subject_);
    switch (e->GetExpressionClass()) {
      case ExpressionClass::SUBQUERY: {
        auto& s = e->Cast<duckdb::SubqueryExpression>();
        if (s.child) Expr(s.child);
        Node(*s.subquery->node);
        return;
      }
      case ExpressionClass::FUNCTION: {
        auto& f = e->Cast<duckdb::FunctionExpression>();
        if ((!f.catalog.empty() || !f.schema.empty()) && duckdb::StringUtil::Lower(f.schema) != "main") {
          throw Denied(fmt::format("{}.{}() may not be used", Short(f.schema), Short(f.function_name)));
        }
        if (IsDeniedFunction(f.function_name)) {
          throw Denied(fmt::format("{}() may not be used in queries", Short(f.function_name)));
        }
        break;
      }
      case ExpressionClass::PARAMETER:
        throw Denied("prepared-statement parameters are not supported: put the values in the query");
      default: break;
    }
    duckdb::ParsedExpressionIterator::EnumerateChildren(
        *e, [&](duckdb::unique_ptr<ParsedExpression>& child) { Expr(child); });
  }

 private:
  const Subject& subject_;
  std::set<std::string> ctes_;
};

}  // namespace

Error Denied(const std::string& what) {
  return Error::PermissionDenied("access denied: {}", what);
}

bool IsDeniedFunction(const std::string& raw) {
  static const std::set<std::string> kDenied = {"current_setting",
                                                "getvariable",
                                                "setvariable",
                                                "set_variable",
                                                "nextval",
                                                "currval",
                                                "json_execute_serialized_sql",
                                                "query",
                                                "query_table",
                                                "read_text",
                                                "read_blob",
                                                "glob",
                                                "current_schemas",
                                                "current_database",
                                                "current_catalog",
                                                "pg_get_viewdef",
                                                "pg_get_constraintdef",
                                                "has_any_column_privilege",
                                                "has_column_privilege",
                                                "has_database_privilege",
                                                "has_foreign_data_wrapper_privilege",
                                                "has_function_privilege",
                                                "has_language_privilege",
                                                "has_schema_privilege",
                                                "has_sequence_privilege",
                                                "has_server_privilege",
                                                "has_table_privilege",
                                                "has_tablespace_privilege",
                                                "pg_typeof",
                                                "txid_current",
                                                "sqlsmith",
                                                "enable_logging",
                                                "disable_logging",
                                                "truncate_duckdb_logs",
                                                "checkpoint",
                                                "force_checkpoint",
                                                "stats"};
  std::string name = duckdb::StringUtil::Lower(raw);
  return kDenied.count(name) || name.starts_with("duckdb_") || name.starts_with("__tarn") ||
         name.starts_with("pragma_") || name.starts_with("read_") || name.starts_with("parquet_") ||
         name.starts_with("sniff_");
}

void CheckQueryTree(duckdb::SelectStatement& query, const Subject& subject) {
  Walker w(subject);
  w.Node(*query.node);
}

}  // namespace tarn::governance
