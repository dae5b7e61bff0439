// QueryOffload: runs the queries of a run somewhere other than this server's engine
// (the nodes of a Slurm cluster, see scale/slurm_executor.h). The session still
// checks, resolves and verifies each query as its caller (Governor: the pre-bind
// check, the governed scans, the plan check), audits it and hands its rows to the
// handler; only reading the files and computing the result happen elsewhere, from
// exactly the statement and governed scans planned here.
//
// Thread-safety: called by the thread that runs the session.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "governance/governance.h"

namespace tarn::session {

// How one statement of a run may be split by key (docs/scale-out.md, "Partitioned
// runs"): every row of each named table goes to the bucket its key hashes to, and the
// statement computed bucket by bucket, its results concatenated, gives the same rows
// as the statement over the whole tables. Who declares it vouches for that (a join or
// grouping on the key; tables it does not name are read whole by every bucket). The
// statement's top-level ORDER BY and LIMIT apply to the concatenation.
struct Partitioning {
  // A table as the statement names it (db.table, any case) -> its key columns.
  std::map<std::string, std::vector<std::string>> keys;
  int64_t buckets = 0;  // 0: the executor chooses
  // Instead of keys: a table (db.table) or temporary table the statement reads, whose
  // files are dealt into parts, the statement computed over each part's rows alone and
  // the results concatenated. Who declares it vouches that the concatenation is what it
  // wants: rows made row for row, or partial aggregates a later statement combines.
  std::string parts_of;
  // Instead: the statement reads only small results (combinations of partial ones): it
  // runs in this server, not as a Slurm job, its temporary table still where the nodes
  // read (QueryOffload::SharedFile).
  bool here = false;
};

// One query, planned for running elsewhere.
struct PlannedQuery {
  size_t index = 0;                  // its place in the run's script
  std::string sql;                   // the statement as governance rewrote it
  governance::PlannedReads reads;    // what its table names resolve to, and the files they read
  std::vector<std::string> columns;  // the names of its result's columns
  // Its Partitioning, the tables named as `reads.scans` keys them; empty: one task.
  std::map<std::string, std::vector<std::string>> partition_keys;
  int64_t buckets = 0;
  std::string parts_key;  // Partitioning::parts_of as `reads.scans` keys it ("": none)
  // A split table's governed reads divided by its files (Governor::PlannedParts), so
  // that several map tasks share it, or the parts of parts_key: (key of
  // partition_keys or parts_key, at most N parts); empty for one that cannot be
  // divided. Set with partition_keys or parts_key; valid during Run only.
  std::function<std::vector<governance::PlannedReads>(const std::string& key, size_t parts)> parts_of;
  // The rows are a table's data files (Session::WriteOnNodes): the tasks that write
  // them give their columns these Parquet field ids (by name).
  std::vector<std::pair<std::string, int64_t>> field_ids;
  // The caller takes the rows as several files (OffloadedResult::parts): a split query
  // needs no merge then, unless it has a top-level ORDER BY or LIMIT.
  bool parts_ok = false;
  // Later statements of the script split by the same keys, planned ahead of their
  // turn as the same caller (each with its parts_of already divided into
  // QueryOffload::MapParts() parts): the offload may compute them in this query's
  // bucket tasks, over the same shuffle, and answer them from that when their turn
  // comes with the same plan (Fingerprint).
  std::vector<PlannedQuery> with;
};

// What makes two plans of a query the same computation: its SQL, what its tables
// resolve to and the files they read, its columns, split and field ids.
std::string Fingerprint(const PlannedQuery& query);

// Where an offloaded query's rows are.
struct OffloadedResult {
  std::filesystem::path file;  // a Parquet file of the rows, inside the lake
  int64_t rows = 0;
  // With PlannedQuery::parts_ok: the rows are these files together (`file` unused).
  std::vector<std::filesystem::path> parts;
};

class QueryOffload {
 public:
  virtual ~QueryOffload() = default;
  // Runs `query` to its end; `stopped` is polled, and once it says true the work is
  // stopped and kCancelled thrown. Throws what made the query fail (as tarn::Error).
  virtual OffloadedResult Run(const PlannedQuery& query, const std::function<bool()>& stopped) = 0;
  // A query that must run on this server instead (it reads what only the server can:
  // `why`); the offload may note it in the run's log.
  virtual void RunsHere(const PlannedQuery& query, const std::string& why) = 0;
  // Whether a query declared splittable may be split (false: every query is one
  // task), for a planner choosing between a plan that splits well and one that needs
  // no split (a validation's diff).
  virtual bool MaySplit() const { return true; }
  // Into how many parts a split table's files are divided for its map tasks.
  virtual size_t MapParts() const { return 1; }
  // Where a file called `name` that this server computes for the run's later
  // statements (a temporary table) goes so that the nodes can read it ("": nowhere).
  virtual std::filesystem::path SharedFile(const std::string& name) { return {}; }
};

}  // namespace tarn::session
