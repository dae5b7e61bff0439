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
};

struct CompareSpec {
  std::string left, right;                                // the SQL relations (CTE names) compared
  std::vector<std::pair<std::string, std::string>> keys;  // left column, right column
  std::vector<CompareColumn> columns;
  std::string order_left, order_right;  // SQL ORDER BY lists pairing duplicates ("" : any order)
  bool null_keys_match = false;
};

// The comparison as one SQL query.
std::string CompareSql(const CompareSpec& spec);

// The kind of a compared column from DuckDB's name of its type.
CompareColumn::Kind CompareKind(const std::string& type);

}  // namespace tarn::quality
