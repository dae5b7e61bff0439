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
#include <string>
#include <vector>

#include "governance/governance.h"

namespace tarn::session {

// One query, planned for running elsewhere.
struct PlannedQuery {
  size_t index = 0;                  // its place in the run's script
  std::string sql;                   // the statement as governance rewrote it
  governance::PlannedReads reads;    // what its table names resolve to, and the files they read
  std::vector<std::string> columns;  // the names of its result's columns
};

// Where an offloaded query's rows are.
struct OffloadedResult {
  std::filesystem::path file;  // a Parquet file of the rows, inside the lake
  int64_t rows = 0;
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
};

}  // namespace tarn::session
