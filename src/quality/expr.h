// The pipeline expression language (docs/reconciliation.md, "Expressions"): the
// formulas of `derive`, `filter`, `aggregate` and `window` steps, written the way a
// spreadsheet formula is (`IF(amount > 1000, "large", "small")`, `LEFT(ref, 4) & "-"
// & YEAR(posted)`), compiled to DuckDB SQL.
//
// The language is not SQL and never passes through as SQL: a formula is tokenized and
// parsed here, every column it names must be a column of the step's input, every
// function must be on this file's list, and the SQL is written from the parse tree
// with every name quoted and every literal rendered by us. So a formula can compute,
// but never reach a table, a file or a setting — and the statements built from it still
// run governed, as their submitter, like any other.
//
// Thread-safety: pure functions.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace tarn::quality {

// Where a formula appears, which decides the functions it may call.
enum class ExprMode {
  kRow,        // derive, filter: row functions only
  kAggregate,  // aggregate values: aggregate functions (SUM, COUNTIF, ...) over row formulas
  kWindow,     // window columns: RANK, RUNNING_SUM, LAG, ... over row formulas
};

// The window a kWindow formula's window functions run over: SQL of the PARTITION BY
// and ORDER BY lists (either may be empty; functions that need an order refuse an empty one).
struct WindowSpec {
  std::string partition_by;
  std::string order_by;
};

// An aggregate formula computed in two steps, for a step split by the parts of its
// input (docs/scale-out.md, "What is split"): each part's partial aggregates, then
// their combination. With it, CompileExpr in kAggregate mode turns each aggregate call
// into its combination over partial columns it adds here: SUM, SUMIF(S), MIN(IFS),
// MAX(IFS) combine by the same aggregate, COUNT, COUNTA, COUNTIF(S) by a sum, AVERAGE
// and its IF forms by a sum over a count. Any other aggregate (distinct counts) makes
// the formula not splittable (`ok` false).
struct AggregateParts {
  std::vector<std::string> partial;  // "<aggregate> AS \"__pN\"", over the step's input
  bool ok = true;
  // The combination of the call `name` whose one-step SQL is `sql`.
  std::string Split(const std::string& name, const std::string& sql);
  // partial[i] as a Parquet file keeps it, its result being of `type`: a 128-bit
  // integer sum as DECIMAL(38,0) (Parquet would hold it as a DOUBLE).
  std::string Stored(size_t i, const std::string& type) const;

 private:
  std::string Add(const std::string& sql);
};

// Compiles `formula` over a step input with `columns` (names as they are; a formula
// names them bare, `amount`, or in brackets, `[Posted Date]`; case does not matter
// unless two columns differ only by case). Returns a SQL expression. `window` is
// needed in kWindow mode. Throws kInvalidArgument "<what>: <why> (at character N of
// the formula)" for a syntax error, an unknown column or function, or a function
// called with the wrong arguments.
// `used`, if given, receives the columns the formula names.
// `parts`, in kAggregate mode: the formula in two steps (AggregateParts).
std::string CompileExpr(const std::string& formula, const std::vector<std::string>& columns, ExprMode mode,
                        const std::string& what, const WindowSpec* window = nullptr,
                        std::set<std::string>* used = nullptr, AggregateParts* parts = nullptr);

// The column of `columns` that `name` names: itself, else the one column equal to it
// but for case. Null when there is none, or two: then `why` says so ("no column 'x'
// (columns: a, b, ...)", "column 'x' is ambiguous: ..."), for the caller to place.
const std::string* MatchColumn(const std::vector<std::string>& columns, const std::string& name,
                               std::string& why);

// One line per function: "NAME(args) — what it does", for `tarn recon functions` and the docs.
std::vector<std::string> ExprFunctionList();

}  // namespace tarn::quality
