// Internals of validation (quality/validation.h): the parsed spec.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "quality/compare.h"
#include "quality/compiler.h"
#include "quality/pg_source.h"
#include "quality/validation.h"

namespace tarn::quality {

// A source or target: a lake table, optionally filtered.
struct ValidationSide {
  std::string table;  // "db"."t", checked and quoted
  std::string name;   // db.t as written
  std::string where;  // one SQL boolean expression, re-printed by DuckDB's parser; "" for none
  // A table in PostgreSQL through this connection (quality/external.h), "" for a lake
  // table; `table` is then "schema"."table" and `name` connection:schema.table.
  std::string connection;
};

// A compared column: its name on each side and how values compare.
struct ValidationColumn {
  std::string source, target;
  std::string abs_tolerance = "0", rel_tolerance = "0", days_tolerance = "0";  // SQL number literals
  bool trim = false, ignore_case = false;
  std::string compare_as;                          // "", text, number or date: both sides cast to it first
  Spec spec{YAML::Node(YAML::NodeType::Map), ""};  // its options, for errors that name the line
};

// A row rule: a SQL boolean expression each row of `on` must hold (NULL fails).
struct ValidationRule {
  std::string name, expr;
  std::string on = "both";  // source, target or both
};

// `metric op value`, e.g. matched_fraction >= 0.9999.
struct ValidationThreshold {
  std::string text, metric, op;
  double value = 0;
  int line = 0;
};

struct ValidationSpec {
  Spec root{YAML::Node(), ""};  // the whole document; root.where() names the spec's file
  std::string name;
  ValidationSide source, target;
  std::vector<std::pair<std::string, std::string>> keys;  // source column, target column
  bool columns_given = false;
  std::vector<ValidationColumn> columns;  // when given; else every shared column is compared
  std::vector<std::string> exclude;       // left out of the default columns
  bool null_equals_null = true, nan_equals_nan = true;
  bool profile = true;         // profile every compared column (else only keys and completeness)
  bool key_uniqueness = true;  // count duplicate keys on each side (a GROUP BY on the key per side)
  std::vector<std::string> completeness;  // columns that must not be NULL (source names)
  std::vector<ValidationRule> rules;
  std::vector<ValidationThreshold> thresholds;
  std::string mismatch_table;  // "db"."t"
  std::string mismatch_name;   // db.t
  int samples = 20;            // differing records per kind in the metrics JSON
};

// The other side of a validation against a table in PostgreSQL (docs/validation.md,
// "Across systems"; validation_external.cpp). Records fall into segments by the MD5 of
// their key's text (NULL read as ''), computed alike in PostgreSQL and DuckDB; a
// segment's checksum is its record count and the sum of its records' MD5s. Segments
// whose checksums differ are split until they are small, and only their records are
// read into the run as the temporary table __ext_rows; the lake side is compared over
// the same segments (__ext_segments). Counts and profiles of the external side are
// computed there (__ext_profile, __ext_keys).
struct ExternalPlan {
  bool source = true;                   // the external side is the source
  std::string connection, table, name;  // table: "schema"."table"; name as the spec writes it
  std::string pg_key, pg_record;        // the segment key's and the record's text, in PostgreSQL
  std::string lake_key, lake_record;    // the same over the lake side's columns, in DuckDB
  std::string lake_rel;                 // the lake side: SELECT ... FROM table [WHERE ...]
  // Records always read and compared ("": none): those with a NULL (or NaN) where the
  // options make such values differ even from themselves, which checksums cannot see.
  std::string pg_always, lake_always;
  std::vector<std::pair<std::string, std::string>> transfer;  // __ext_rows: column, DuckDB type
  std::vector<std::pair<std::string, std::string>> remote;    // staged table, its PostgreSQL query
};
// What PlanValidation asks of external tables.
class ExternalTables {
 public:
  virtual ~ExternalTables() = default;
  // The columns of `side`'s table (side.connection is set); kNotFound as for a lake table.
  virtual std::vector<PgColumn> Describe(const ValidationSide& side) = 0;
};
// A value's text for segment checksums: equal values give equal text in either system
// (integers and decimals as digits without trailing zeros, floats shortest-exact,
// timestamps as epoch microseconds, dates ISO). Values that still print differently
// only cost a transfer: their segments differ, so their records are compared.
std::string LakeValueText(const std::string& quoted, const std::string& duck_type);
std::string PgValueText(const std::string& quoted, const PgColumn& column);
// The segment key's text (NULL as '') and the record's text (NULL distinct), from
// value texts, in PostgreSQL or DuckDB.
std::string SegmentKeyText(const std::vector<std::string>& texts, bool pg);
std::string RecordText(const std::vector<std::string>& texts, bool pg);

// The column of `columns` called `name` (exactly, else case-insensitively), or null.
const Column* FindColumn(const std::vector<Column>& columns, const std::string& name);

// SQL of a validation's rows (validation_rows.cpp).
struct ProfiledColumn {
  std::string source, target;
  CompareColumn::Kind kind;
};
// One side's profile: count(*) AS rows, then per column i n<i>, d<i>, min<i>, max<i>
// (numbers: sum<i>, mean<i>; text: minlen<i>, maxlen<i>, meanlen<i>), and null_keys.
// `pg`: in PostgreSQL's dialect (exact distinct counts, text ordered by bytes).
std::string ProfileSql(const std::string& rel, const std::vector<ProfiledColumn>& columns,
                       const std::vector<std::pair<std::string, std::string>>& keys, bool source, bool pg);
// The same figures in two steps, for a profile split by the parts of a side's files
// (DuckDB only): `partial`, the partial figures over `rel` as Parquet keeps them, and
// `combined`, their combination over the table `partials`, cast to the one-step
// types. `describe` gives a query's columns.
struct ProfileParts {
  std::string partial, combined;
};
ProfileParts ProfileInParts(const std::string& rel, const std::string& partials,
                            const std::vector<ProfiledColumn>& columns,
                            const std::vector<std::pair<std::string, std::string>>& keys, bool source,
                            const std::function<std::vector<Column>(const std::string& query)>& describe);
// One side's duplicate_keys and rows_with_duplicate_keys (either dialect).
std::string DuplicatesSql(const std::string& rel,
                          const std::vector<std::pair<std::string, std::string>>& keys, bool source);
// Without keys: the query of v_diff over __s and __t (records whose counts differ,
// __ns and __nt), and the accuracy query over it.
std::pair<std::string, std::string> MultisetDiffSql(const std::vector<CompareColumn>& columns,
                                                    bool null_equals_null);
// The mismatch rows over v_diff (diff_type, the keys, changed_columns, <c>_source and
// <c>_target), their columns and their order.
struct RowsShape {
  std::vector<std::pair<std::string, std::string>> keys;  // source, target names
  std::vector<CompareColumn> columns;                     // left, right: source, target names
};
std::string MismatchesSql(const RowsShape& rows);
std::vector<std::string> MismatchColumns(const RowsShape& rows);
std::string MismatchOrder(const RowsShape& rows);

// Bucket checksums (validation_sql.cpp). A side: its relation, and its key and
// compared values as SQL expressions in one order, cast so both sides hash alike.
struct BucketSide {
  std::string rel;
  std::vector<std::string> keys, values;
};
// The type both sides of a column are cast to before hashing ("" when they agree).
std::string CanonicalType(const std::string& source_type, const std::string& target_type,
                          CompareColumn::Kind kind);
// The bucket of a record: hash of its key expressions, modulo the bucket count.
std::string BucketOf(const std::vector<std::string>& keys);
// A query of the buckets whose record count or sum of record hashes differ (__b).
std::string ChangedBucketsSql(const BucketSide& source, const BucketSide& target);

// CTEs __rs and __rt: the records of `left` and `right` left once records equal in
// every one of `columns` (source, target names; keys included) are paired off, so
// that records sharing a key pair up with an equal record first.
struct ExactColumn {
  std::string source, target;
  bool nulls_equal = true;  // NULL pairs with NULL
  bool nans_equal = true;   // NaN pairs with NaN (a floating column)
};
std::string ExactPairsRemoved(const std::string& left, const std::string& right,
                              const std::vector<ExactColumn>& columns);

// Apache Griffin's accuracy as its batch rule computes it, over `with`'s __s and __t
// (bucketed: over the records of differing buckets the diff kept): a source record is
// missed when no target record equals it on every `rule` column (source, target
// names) read as text with NULL as '', unless all its rule values are NULL.
// `total`: a scalar subquery of the source's record count.
std::string GriffinSql(const std::string& with, const std::vector<std::pair<std::string, std::string>>& rule,
                       bool bucketed, const std::string& total);

// A compared column as planned: the comparison and both sides' types.
struct ComparedColumn {
  CompareColumn c;  // c.left / c.right: the source / target names
  std::string source_type, target_type;
  std::string compare_as;  // the spec's: both sides cast before comparing
};
// "number", "date" or "text".
const char* CompareKindName(CompareColumn::Kind kind);
// Spec column `w` as compared between `source` and `target`: its kind from both types
// (or its compare_as) and its options. Fails `where` (the column's entry, or the root
// when the columns were not `given`) when the types do not compare alike, or an option
// does not fit the kind, or a tolerance has no keys to pair records by (`keyed`).
ComparedColumn PlanCompared(const ValidationColumn& w, const Column& source, const Column& target,
                            const Spec& where, bool given, bool keyed);
// What a plan found, for its shape (ValidationPlan::shape, validation_metrics.cpp).
struct ShapeFacts {
  const std::vector<std::pair<std::string, std::string>>& keys;  // source, target names
  const std::vector<ComparedColumn>& columns;
  std::vector<ProfiledColumn> profiled;
  const std::vector<std::pair<std::string, std::string>>& complete;
  const std::vector<std::string>& only_in_source;
  const std::vector<std::string>& only_in_target;
  const std::vector<nlohmann::json>& type_changes;
  bool bucketed;
};
nlohmann::json ValidationShape(const ValidationSpec& spec, const ShapeFacts& facts);
// Every metric name a threshold may use for a plan's shape (validation_metrics.cpp).
std::set<std::string> ValidationMetricNames(const nlohmann::json& shape);
// Refuses (kInvalidArgument, naming the spec's line) a threshold on a metric `shape` has not.
void CheckThresholdMetrics(const ValidationSpec& spec, const nlohmann::json& shape);
// The accuracy query over v_diff: missing, extra, changed, and per compared column i
// unequal<i>, null_diff<i>, within<i> (numbers and dates: max_abs_diff<i>).
std::string AccuracySql(const std::vector<CompareColumn>& columns);
// Whether the submitter sees database `database` (SHOW TABLES FROM it works).
bool DatabaseExists(SchemaProbe& probe, const std::string& database);
// The thresholds of `metrics` that failed, as "missing == 0 (is 12)".
std::vector<std::string> FailedChecks(const nlohmann::json& metrics);

}  // namespace tarn::quality
