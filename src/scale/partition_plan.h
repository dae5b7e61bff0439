// PartitionPlan: the stages of a query split by key (session::Partitioning), as the
// task bodies `tarn worker` runs (docs/scale-out.md, "Partitioned runs"):
//
//   map     one task per split table, or per part of its files when it has several
//           (Governor::PlannedParts): its governed scan, each row tagged with
//           hash(key) % N, written as Parquet files by bucket (the shuffle);
//   bucket  one task per bucket: the statement itself, each split table read from
//           that bucket's files, every other table whole;
//   merge   one task: the buckets' results concatenated, with the statement's
//           top-level ORDER BY / LIMIT.
//
// A query split by the parts of a table (PlannedQuery::parts_key) has no map stage:
// bucket b reads part b of that table's files (query.parts_of), every other table
// whole.
//
// Every file lives in the run's scratch folder `dir`; a task may read only the files
// its body lists (the worker's PlannedResolver checks the plan against them).
//
// Thread-safety: a plan is used by one thread.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "session/offload.h"

namespace duckdb {
class OrderModifier;
class QueryNode;
}  // namespace duckdb

namespace tarn::scale {

// Keys hash as text with NULL read as '' (hash(coalesce(CAST(k AS VARCHAR), ''))): equal
// keys of different integer widths land in one bucket, and so do NULL and '' (which
// Griffin's rule pairs).
//
// A task of a stage: its name (unique within the run) and its body, without the
// fields the executor adds (run, task, attempt, memory, threads).
struct PlannedTask {
  std::string name;
  nlohmann::json body;
};

// The buckets for `input_bytes` of Parquet read by tasks of `task_memory` bytes: a
// bucket's share, about 3x its Parquet size once decoded, should take at most half a
// task's memory, so N = ceil(6 * input_bytes / task_memory); at least `at_least`
// (the nodes the run may use), at most 4096.
int64_t ChooseBuckets(int64_t input_bytes, int64_t task_memory, int64_t at_least);

class PartitionPlan {
 public:
  // `query.partition_keys` names the split tables (or `query.parts_key` the table
  // split by parts, into at most `buckets`); `prefix` starts each task's name;
  // `map_parts`: at most so many map tasks per split table (query.parts_of divides
  // it by its files). kInvalidArgument if the statement is not one query, or a key
  // column is not a plain name.
  PartitionPlan(const session::PlannedQuery& query, int64_t buckets, std::filesystem::path dir,
                std::string prefix, size_t map_parts = 1);

  int64_t buckets() const { return buckets_; }
  // The map tasks: each a part of a split table, hashed into buckets.
  size_t Maps() const { return maps_.size(); }
  // What map task `m` reads and writes: its scan, its files, its key columns and the
  // buckets. Two map tasks of one run with the same identity write the same rows.
  std::string MapIdentity(size_t m) const;
  // Map task `m`'s files are those an earlier map task of the run wrote into `dir`
  // (or on a node, as `node_files` say): it is not run again.
  void ReuseMap(size_t m, std::filesystem::path dir, nlohmann::json node_files = nullptr);
  // Map task `m` wrote its files on its node, as its report's "node_files" say
  // (node_scratch.h, with "node": the Slurm node's name); kInternal if malformed.
  void SetNodeFiles(size_t m, nlohmann::json node_files);
  // Where on a node map task `m`'s files are (null: in MapOutput(m)).
  const nlohmann::json& NodeFiles(size_t m) const { return maps_.at(m).node_files; }
  // Map task `m` runs again (its files were lost with their node).
  void Forget(size_t m);
  // Where map task `m`'s files are (its own folder, or the one it reuses).
  std::filesystem::path MapOutput(size_t m) const;
  // The map tasks to run (not those reused).
  std::vector<PlannedTask> MapTasks() const;
  // The index of the map task named `name`, if it is one of this plan's.
  std::optional<size_t> MapNamed(const std::string& name) const;
  // After the map stage: reads which bucket files the maps wrote. A bucket reading
  // files on nodes lists them under "fetch" (worker.h), each named by its place in
  // MapOutput(m) (where it would be on the shared filesystem) in the scans.
  std::vector<PlannedTask> BucketTasks() const;
  PlannedTask MergeTask() const;
  // Whether the buckets' results need the merge task (a top-level ORDER BY or LIMIT),
  // or are the query's rows as they are, together.
  bool NeedsMerge() const { return needs_merge_; }
  std::vector<std::filesystem::path> BucketResults() const;
  // Bytes the map stage wrote (the shuffle), once it ran; reused files not counted.
  int64_t ShuffleBytes() const;

 private:
  void OrderByResult(const duckdb::QueryNode& node, duckdb::OrderModifier& order) const;
  std::vector<PlannedTask> PartTasks() const;
  // Bucket task `b`, reading `scans` and the `files` they open.
  PlannedTask BucketTask(int64_t b, const std::map<std::string, std::string>& scans,
                         const std::map<std::string, std::string>& files,
                         nlohmann::json fetch = nlohmann::json::array()) const;
  std::filesystem::path MapDir(size_t i) const;
  std::filesystem::path BucketResult(int64_t b) const;

  session::PlannedQuery query_;
  int64_t buckets_;
  std::filesystem::path dir_;
  std::string prefix_;
  std::vector<std::string> split_;  // the split tables' scan keys
  struct Map {
    size_t table;                    // in split_
    governance::PlannedReads reads;  // its scan (of the table's key) and files
    std::filesystem::path reused;    // an earlier map task's folder, or empty
    nlohmann::json node_files;       // its files on a node (node_scratch.h), or null
  };
  std::vector<Map> maps_;                        // the map tasks
  std::vector<governance::PlannedReads> parts_;  // split by parts: each bucket's part
  std::string bucket_sql_;                       // the statement without its top-level ORDER BY / LIMIT
  std::string merge_sql_;                        // SELECT * FROM the parts, with them
  bool needs_merge_ = false;
};

}  // namespace tarn::scale
