// Internals of src/governance shared between its files.
#pragma once

#include <duckdb.hpp>
#include <duckdb/parser/parsed_expression.hpp>
#include <duckdb/parser/statement/select_statement.hpp>
#include <duckdb/planner/logical_operator.hpp>

#include <map>
#include <set>
#include <string>

#include "catalog/catalog.h"
#include "governance/governance.h"
#include "governance/policy.h"

#include <optional>
#include <vector>

namespace tarn::governance {

// Names Tarn serves itself; the pre-bind check renames information_schema.x and
// system.audit to these so that they reach Governor::Resolve.
inline constexpr const char* kInformationSchema = "__tarn_information_schema";
inline constexpr const char* kSystemSchema = "__tarn_system";
// The schema the pre-bind check gives a name that is one of the run's temporary tables.
inline constexpr const char* kTempSchema = "__tarn_temp";
// "table db.t does not exist (...)": what a caller is told of a table it may not know.
std::string NoSuchTable(const std::string& db, const std::string& table);
// The schema the pre-bind check gives `db.t AT (...)`, with the table named by
// EncodeTimeTravel: one name per (table, point in time), so a statement may read a
// table now and as it was.
inline constexpr const char* kAtSchema = "__tarn_at";
std::string EncodeTimeTravel(const std::string& database, const std::string& table,
                             const catalog::TimeTravel& at);
// Reverses EncodeTimeTravel (kNotFound for a name it did not make).
catalog::TimeTravel DecodeTimeTravel(const std::string& encoded, std::string& database, std::string& table);

// --- policy expressions (row filters, masks) ----------------------------------
// Parses an administrator's expression: exactly one expression over `columns`,
// literals, ordinary functions, current_user and is_member('group'); no
// subqueries, no other tables, no denied function. Throws kInvalidArgument.
duckdb::unique_ptr<duckdb::ParsedExpression> ParsePolicyExpression(const std::string& text,
                                                                   const std::set<std::string>& columns,
                                                                   const char* what);
// Replaces current_user / current_user() / is_member('g') by the subject's values.
void BindSubject(duckdb::unique_ptr<duckdb::ParsedExpression>& expr, const Subject& subject);

// --- scans -----------------------------------------------------------------------
// The rows `access` lets the subject read: the OR of its read terms' row filters,
// current_user and is_member bound. Only for an access that does not read every row.
duckdb::unique_ptr<duckdb::ParsedExpression> RowFilter(const catalog::TableInfo& table,
                                                       const TableAccess& access, const Subject& subject);
// SELECT <each exposed column, masked and guarded> FROM raw WHERE <any read term's
// row filter>, aliased as the table. `raw_columns` (EXPLAIN ACCESS) exposes
// `exposed` unfiltered and unmasked instead.
duckdb::unique_ptr<duckdb::TableRef> GovernedScan(const catalog::TableInfo& table,
                                                  duckdb::unique_ptr<duckdb::TableRef> raw,
                                                  const TableAccess& access, const Subject& subject,
                                                  const std::set<std::string>& exposed, bool raw_columns);
// Rewrites a bound plan before DuckDB optimizes it: pushes safe user predicates on
// guarded columns into the governed filter, drops guards no predicate could need,
// and strips the kGuardFunction marks (guard_pushdown.cpp states the rules).
void PrepareGovernedPlan(duckdb::LogicalOperator& plan);
// True if the governed scan of `exposed` is the raw table: every row, no mask, no
// guarded cell. Only then may a plan's statistics (EXPLAIN) be shown.
bool Transparent(const TableAccess& access, const std::set<std::string>& exposed);

// --- checks ----------------------------------------------------------------------
// The pre-bind walk of a query: table functions on the allow-list only, catalog
// names only (renaming information_schema / system), no denied scalar function;
// substitutes current_user and is_member for the subject. Throws
// kPermissionDenied or kNotFound.
// A bare name (or temp.name) that is in `temp_tables` (lower case) names that
// temporary table of the run.
void CheckQueryTree(duckdb::SelectStatement& query, const Subject& subject,
                    const std::set<std::string>* temp_tables = nullptr);

// The optimized plan may read only `files` (absolute path -> db.table) and
// harmless table functions, and write only `copy_target`. Returns, per table, the
// columns its scans read. Throws kPermissionDenied.
std::map<std::string, std::set<std::string>> CheckPlan(duckdb::LogicalOperator& plan,
                                                       const std::map<std::string, std::string>& files,
                                                       const std::string& copy_target);

// One table a statement reads, as resolved for it (pinned for the statement).
struct Governor::Scan {
  catalog::TableInfo table;
  TableAccess access;
  std::set<std::string> exposed;  // the columns its governed scan has
  bool transparent = false;       // see Transparent()
  duckdb::unique_ptr<duckdb::TableRef> ref;
  std::shared_ptr<const catalog::Catalog::TableScan> files;  // what `ref` reads (PlannedParts)
};

}  // namespace tarn::governance
