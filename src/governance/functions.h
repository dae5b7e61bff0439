// Functions: the one list of what a query may call.
//
// Every function DuckDB registers (scalar, aggregate, macro, table function, table
// macro, pragma) is classified here, once, with the reason:
//   kAllowed  a user may name it, and it may appear in the bound plan;
//   kPlanOnly a user may not name it, but Tarn's own rewrites or DuckDB's optimizer
//             put it in plans (the file readers of governed scans, compression);
//   kDenied   never: it reads settings or files, runs or serializes SQL or plans, or
//             exposes the engine's internals.
// Anything not on the list is denied (deny by default). The pre-bind check
// (query_check.cpp) uses MayCall on the parsed tree; the plan check
// (plan_check.cpp) uses MayRun on the bound plan. tests/governance/functions_test
// enumerates duckdb_functions() and fails on any function not classified here, so
// an engine upgrade cannot widen the surface silently; docs/functions.md is
// generated from this list (`tarn functions`).
//
// Thread-safety: immutable after first use.
#pragma once

#include <string>
#include <vector>

namespace tarn::governance {

// Where a function is named: in an expression (scalar, aggregate, macro, window),
// in FROM (table function, table macro) or as a PRAGMA.
enum class FunctionKind { kExpression, kTable, kPragma };
enum class FunctionUse { kAllowed, kPlanOnly, kDenied };

struct FunctionGroup {
  FunctionKind kind;
  FunctionUse use;
  const char* reason;  // why the group is allowed or denied, for the docs
  bool registered;     // false: names the parser or binder handles itself, not in duckdb_functions()
  std::vector<std::string> names;
};

// Every group, in documentation order.
const std::vector<FunctionGroup>& FunctionGroups();

// The classification of `name` (any case); kDenied if it is not listed.
FunctionUse Classify(FunctionKind kind, const std::string& name);

// May a user name this function? May it appear in a bound plan?
inline bool MayCall(FunctionKind kind, const std::string& name) {
  return Classify(kind, name) == FunctionUse::kAllowed;
}
inline bool MayRun(FunctionKind kind, const std::string& name) {
  return Classify(kind, name) != FunctionUse::kDenied;
}

// Functions that take the name of an aggregate as a string and bind it themselves
// (list_aggr(l, 'sum')): a call is allowed only with a constant allowed aggregate.
bool TakesAggregateName(const std::string& name);

// The refusal: "access denied: function X is not available".
std::string NotAvailable(const std::string& name);

// docs/functions.md, rendered from FunctionGroups(); and the same as JSON lines.
std::string FunctionsMarkdown();
std::string FunctionsJson();

}  // namespace tarn::governance
