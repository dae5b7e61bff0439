// Mergeable distinct-count sketches, so that an approximate distinct count can be
// computed part by part on several nodes and combined (docs/scale-out.md).
//
// The sketch is exactly the state of DuckDB's approx_count_distinct (its HyperLogLog:
// one register per hash bucket, each the largest run of zeros seen there), as a BLOB:
//   kSketchFunction(x)        aggregate: the sketch of x's non-NULL values;
//   kSketchMergeFunction(s)   aggregate: the union of sketches (register-wise maximum);
//   kSketchCountFunction(s)   scalar: its estimate, a BIGINT.
// Registers merge by maximum, so count(merge(sketch of each part)) equals
// approx_count_distinct over all the rows, whatever the division into parts: a split
// run gives the figure of a local one. Values hash as DuckDB hashes them, so parts
// must hold x with one type (a temporary table's files do). A BLOB that is not a
// sketch is an error naming the function.
#pragma once

namespace duckdb {
class DatabaseInstance;
}

namespace tarn::engine {

inline constexpr const char* kSketchFunction = "tarn_distinct_sketch";
inline constexpr const char* kSketchMergeFunction = "tarn_distinct_sketch_merge";
inline constexpr const char* kSketchCountFunction = "tarn_distinct_sketch_count";

// Adds the three functions to `db`'s system catalog.
void RegisterSketchFunctions(duckdb::DatabaseInstance& db);

}  // namespace tarn::engine
