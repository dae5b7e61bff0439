// Which columns of each step the SQL that reads it uses: an over-approximation from
// the generated SQL text, so that a step computed once into a temporary table keeps
// only the columns its readers need. Internal to src/quality.
//
// A reader uses a column of a CTE it reads when the column's name appears in the
// reader's SQL as a word or a quoted name (case-insensitively), and every column the
// reader itself must pass on when it selects `*` (a `*` that is not `count(*)` or a
// product). Over-approximating is safe: a column kept that no one reads costs only
// its writing.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace tarn::quality {

struct ColumnNeed {
  bool all = false;
  std::set<std::string> columns;  // lower case; meaningful when !all
  void Add(const ColumnNeed& other);
};

struct DemandNode {
  std::string sql;                   // the CTE's query
  std::set<size_t> deps;             // CTEs it reads (lower indices)
  std::vector<std::string> columns;  // its result's columns
  std::string op;                    // the step type that made it (filter, derive, ...)
  std::string step;                  // the step's name
};

// Whether `sql` selects `*` somewhere (SELECT *, x.*, * EXCLUDE ...).
bool SelectsStar(const std::string& sql);

// What `sql`, reading a relation with `columns`, needs of them, given that its own
// result is needed as `own` (when it passes columns on with `*`).
ColumnNeed NeedOf(const std::string& sql, const std::vector<std::string>& columns, const ColumnNeed& own);

// The need of every node, from statements that read nodes directly: `statements`
// pairs a statement's SQL with the nodes it reads; `skip` lists (reader, read) edges
// to leave out (a reader that recomputes what it reads instead).
std::vector<ColumnNeed> ColumnDemand(const std::vector<DemandNode>& nodes,
                                     const std::vector<std::pair<std::string, std::set<size_t>>>& statements,
                                     const std::set<std::pair<size_t, size_t>>& skip = {});

// How the temporary tables of `materialized` nodes are narrowed.
struct Narrowing {
  std::set<std::pair<size_t, size_t>> recompute;     // (reader, read): the reader recomputes it
  std::map<size_t, std::vector<std::string>> kept;   // a temporary table's columns, when not all
  std::map<size_t, std::string> notes;               // by node: what explain says of it
};

// Keeps in each temporary table only the columns its readers use. A filter that would
// need every column of a wide step, which its other readers (two or more) use at most
// half of, recomputes the step instead of reading it: a filter's rows are few, and
// writing a column of every row costs about as much as computing the step once
// (bench/results/recon-53000000-analysis-20261205.md). Only for a step computed from
// unmaterialized steps, so that recomputing it reads nothing narrowed.
Narrowing Narrow(const std::vector<DemandNode>& nodes,
                 const std::vector<std::pair<std::string, std::set<size_t>>>& statements,
                 const std::set<size_t>& materialized);

}  // namespace tarn::quality
