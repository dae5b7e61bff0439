// The pre-bind check: what a query may name before DuckDB binds anything.
//
// Binding alone can touch files (read_csv sniffs them) and run SQL (query(),
// PRAGMA expansion), so the parsed tree is checked first; the optimized plan is
// checked again afterwards (plan_check.cpp). Allow-lists, not deny-lists.
#include <duckdb/parser/expression/cast_expression.hpp>
#include <duckdb/parser/expression/columnref_expression.hpp>
#include <duckdb/parser/expression/constant_expression.hpp>
#include <duckdb/parser/expression/function_expression.hpp>
#include <duckdb/parser/expression/subquery_expression.hpp>
#include <duckdb/parser/expression/window_expression.hpp>
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
#include "governance/functions.h"
#include "governance/internal.h"

namespace tarn::governance {

namespace {

using duckdb::ExpressionClass;
using duckdb::ParsedExpression;
using duckdb::QueryNode;
using duckdb::TableRef;

// Schemas a query may not name: DuckDB's own catalogs.
const std::set<std::string> kEngineSchemas = {"main", "temp",   "pg_catalog",        "memory",
                                              "tarn", "system", "information_schema"};

std::string Short(const std::string& s) {
  return s.size() > 80 ? s.substr(0, 80) + "..." : s;
}

catalog::TimeTravel ReadTimeTravel(duckdb::AtClause& clause);

class Walker {
 public:
  Walker(const Subject& subject, const std::set<std::string>* temp_tables)
      : subject_(subject), temp_tables_(temp_tables) {}

  // A CTE name is in scope in the query that defines it and in the CTEs after it
  // (in its own body only when recursive), never outside: a bare name anywhere
  // else is not a CTE, whatever another scope called one.
  void Node(QueryNode& node) {
    auto outer = ctes_;
    for (auto& kv : node.cte_map.map) {
      for (auto& k : kv.second->key_targets) Expr(k);
      Node(*kv.second->query->node);
      ctes_.insert(duckdb::StringUtil::Lower(kv.first));
    }
    Body(node);
    ctes_ = std::move(outer);
  }

  void Body(QueryNode& node) {
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
        for (auto& k : r.key_targets) Expr(k);
        Node(*r.left);
        Node(*r.right);
        break;
      }
      case duckdb::QueryNodeType::CTE_NODE: {
        auto& c = node.Cast<duckdb::CTENode>();
        Node(*c.query);
        ctes_.insert(duckdb::StringUtil::Lower(c.ctename));
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
        if (!f.catalog.empty() || !f.schema.empty() || !MayCall(FunctionKind::kTable, f.function_name)) {
          throw Denied(NotAvailable(f.function_name) +
                       ": queries read catalog tables (database.table), not files or engine internals");
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
          for (auto& entry : col.entries) Expr(entry.expr);
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
    if (t.at_clause) return TimeTravel(t, schema, name);
    bool temp = temp_tables_ && temp_tables_->count(name);
    if ((schema.empty() && !ctes_.count(name) && temp) || (schema == "temp" && temp)) {
      t.schema_name = kTempSchema;  // the run's temporary table (Governor::Resolve serves it)
      return;
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

  // db.t AT (...): DuckDB would ignore the clause for a table it does not hold, so
  // it becomes a name only Governor::Resolve serves (kAtSchema).
  void TimeTravel(duckdb::BaseTableRef& t, const std::string& schema, const std::string& name) {
    if (schema.empty() || schema == "information_schema" || schema == "system" || schema == "temp" ||
        kEngineSchemas.count(schema) || schema.starts_with("__tarn")) {
      throw Error::InvalidArgument("AT (...) reads a managed table as it was: name it as database.table");
    }
    std::string db, table;
    try {
      db = catalog::CheckName(schema, "database");
      table = catalog::CheckName(name, "table");
    } catch (const Error&) {
      throw Error::NotFound("{}", NoSuchTable(schema, name));
    }
    auto at = ReadTimeTravel(*t.at_clause);
    t.at_clause.reset();
    t.schema_name = kAtSchema;
    t.table_name = EncodeTimeTravel(db, table, at);
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
        // The parser itself names some functions main.x (list and struct literals).
        bool plain = f.catalog.empty() && (f.schema.empty() || duckdb::StringUtil::Lower(f.schema) == "main");
        if (!plain) throw Denied(NotAvailable(f.schema + "." + f.function_name));
        Function(f.function_name, f.children);
        break;
      }
      case ExpressionClass::WINDOW: {
        auto& w = e->Cast<duckdb::WindowExpression>();
        if (!w.catalog.empty() || !w.schema.empty())
          throw Denied(NotAvailable(w.schema + "." + w.function_name));
        Function(w.function_name, w.children);
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
  // Every function must be on the allow-list; one that binds an aggregate named by
  // a string (list_aggr(l, 'sum')) only with a constant name on it.
  void Function(const std::string& name, duckdb::vector<duckdb::unique_ptr<ParsedExpression>>& args) {
    if (!MayCall(FunctionKind::kExpression, name)) throw Denied(NotAvailable(name));
    if (!TakesAggregateName(name)) return;
    bool ok = args.size() >= 2 && args[1]->GetExpressionClass() == ExpressionClass::CONSTANT;
    if (ok) {
      auto& v = args[1]->Cast<duckdb::ConstantExpression>().value;
      ok = v.type().id() == duckdb::LogicalTypeId::VARCHAR && !v.IsNull() &&
           MayCall(FunctionKind::kExpression, v.GetValue<std::string>());
    }
    if (!ok) throw Denied(fmt::format("{}() takes the name of an allowed aggregate in quotes", Short(name)));
  }

  const Subject& subject_;
  const std::set<std::string>* temp_tables_;
  std::set<std::string> ctes_;
};

// AT (SNAPSHOT => n) or AT (TIMESTAMP => 'text' | TIMESTAMP 'text'): literals only.
catalog::TimeTravel ReadTimeTravel(duckdb::AtClause& clause) {
  constexpr const char* kUsage = "AT (SNAPSHOT => 3) or AT (TIMESTAMP => '2026-12-01 09:00:00')";
  std::string unit = duckdb::StringUtil::Lower(clause.Unit());
  const ParsedExpression* e = clause.ExpressionMutable().get();
  if (e && e->GetExpressionClass() == ExpressionClass::CAST)
    e = e->Cast<duckdb::CastExpression>().child.get();
  if (!e || e->GetExpressionClass() != ExpressionClass::CONSTANT)
    throw Error::InvalidArgument("AT takes a literal: {}", kUsage);
  return catalog::TimeTravel::Parse(unit, e->Cast<duckdb::ConstantExpression>().value);
}

}  // namespace

std::string EncodeTimeTravel(const std::string& database, const std::string& table,
                             const catalog::TimeTravel& at) {
  return fmt::format("{}.{}@{}", database, table,
                     at.snapshot ? "snapshot=" + std::to_string(*at.snapshot) : "timestamp=" + at.timestamp);
}

catalog::TimeTravel DecodeTimeTravel(const std::string& encoded, std::string& database, std::string& table) {
  auto at_sign = encoded.find('@');
  auto dot = encoded.find('.');
  if (at_sign == std::string::npos || dot == std::string::npos || dot > at_sign)
    throw Error::NotFound("table {} does not exist", Short(encoded));
  database = encoded.substr(0, dot);
  table = encoded.substr(dot + 1, at_sign - dot - 1);
  std::string spec = encoded.substr(at_sign + 1);
  catalog::TimeTravel at;
  if (spec.starts_with("snapshot=")) {
    at.snapshot = std::stoll(spec.substr(9));
  } else if (spec.starts_with("timestamp=")) {
    at.timestamp = duckdb::StringUtil::Upper(spec.substr(10));  // Resolve lower-cases names
  } else {
    throw Error::NotFound("table {} does not exist", Short(encoded));
  }
  return at;
}

Error Denied(const std::string& what) {
  return Error::PermissionDenied("access denied: {}", what);
}

void CheckQueryTree(duckdb::SelectStatement& query, const Subject& subject,
                    const std::set<std::string>* temp_tables) {
  Walker w(subject, temp_tables);
  w.Node(*query.node);
}

}  // namespace tarn::governance
