// The compare operator: reconciles two datasets on keys into matched rows, rows only
// on one side, and breaks with their reasons. Built once here; the `compare` step
// of reconciliation pipelines and validation runs both use it.
//
// Rows pair up by key in order (order_left / order_right among rows with one key):
// the first left row with the first right row, and so on. A paired row whose compared
// columns differ beyond their tolerances is a `break` whose `reason` lists them (in
// the order the columns are given, comma-separated); a row left without a partner is
// `left_only` / `right_only` when the other side has no row with its key, else a
// `break` with reason `duplicate`.
//
// The result has the keys, `diff_type` (matched | break | left_only | right_only),
// `reason`, and for each compared column <name>_left, <name>_right and, for numbers
// and dates, <name>_diff (right - left; days for dates).
#pragma once

#include <string>
#include <vector>

namespace tarn::quality {

struct CompareColumn {
  std::string left, right;  // column names on each side
  std::string name;         // base of the result's column names
  std::string reason;       // the reason a difference gives
  enum Kind { kNumber, kDate, kOther } kind = kOther;
  std::string abs_tolerance = "0";  // SQL literals
  std::string rel_tolerance = "0";
  std::string days_tolerance = "0";
  bool ignore_case = false;
  bool trim = false;
  bool floating = false;  // FLOAT or DOUBLE: NaN can occur
};

struct CompareSpec {
  std::string left, right;                                // the SQL relations (CTE names) compared
  std::vector<std::pair<std::string, std::string>> keys;  // left column, right column
  std::vector<CompareColumn> columns;
  std::string order_left, order_right;  // SQL ORDER BY lists pairing duplicates ("" : any order)
  bool null_keys_match = false;
  // Values: NULL on both sides is equal (else a difference); NaN on both sides is equal.
  bool null_equals_null = true;
  bool nan_equals_nan = true;
  // A row without a partner is left_only / right_only even when the other side has
  // rows with its key (no `duplicate` break): validation counts it missing / extra.
  bool one_sided_duplicates = false;
  // Adds <name>_unequal (BOOLEAN) per compared column: the pair differs in it.
  bool unequal_flags = false;
};

// The comparison as one SQL query.
std::string CompareSql(const CompareSpec& spec);

// The kind of a compared column from DuckDB's name of its type.
CompareColumn::Kind CompareKind(const std::string& type);
// Whether DuckDB's type name is FLOAT or DOUBLE.
bool IsFloating(const std::string& type);
// The SQL condition that the pair `l`, `r` of column `c` differs beyond its tolerances
// (the definition docs/reconciliation.md and docs/validation.md give).
std::string CompareDiffers(const CompareColumn& c, const std::string& l, const std::string& r,
                           bool null_equals_null = true, bool nan_equals_nan = true);

}  // namespace tarn::quality
