// Lineage: where the rows of a pipeline's relations come from, so that a statement can
// be split by key on a cluster (docs/scale-out.md, "What is split").
//
// A relation made row for row from another (filter, derive, select, rename, lookup)
// keeps its source's lineage: the table its rows come from one for one and which of
// its columns are that table's, unchanged. A join or compare of two such relations on
// keys that are unchanged columns of two different tables, of one type on both sides,
// pairs rows only within a key: it, and what is made row for row from it, may be
// computed bucket by bucket, each table's rows sent to the bucket their key hashes to.
// Whether a statement may be split is decided on what it computes (SplitOf): every
// relation between the tables and the split one must be computed in it (not read from
// a temporary table), and nothing else in it may read them, nor they one another but
// row for row (it would see one bucket's rows only).
//
// Thread-safety: used by one compilation.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "quality/pipeline.h"

namespace tarn::quality {

class Lineage {
 public:
  using Keys = std::map<std::string, std::vector<std::string>>;  // db.table -> its key columns

  // Relation `i` is table `table` (db.table) as it is, with `columns`.
  void Table(size_t i, const std::string& table, const std::vector<Column>& columns);
  // Relation `out` is made row for row from `in`; `same` maps out's columns that are
  // in's unchanged to in's names.
  void RowWise(size_t out, size_t in, const std::map<std::string, std::string>& same);
  // Relation `out` pairs rows of `left` and `right` only where `lk` equals `rk`
  // (`left_columns`, `right_columns`: their columns, for the types).
  void OnKeys(size_t out, size_t left, const std::vector<std::string>& lk,
              const std::vector<Column>& left_columns, size_t right, const std::vector<std::string>& rk,
              const std::vector<Column>& right_columns);

  // The keys the statement that computes relation `i` may be split by, when it computes
  // the relations `computed` (`deps`: each relation's direct inputs); empty if none.
  Keys SplitOf(size_t i, const std::set<size_t>& computed,
               const std::map<size_t, std::set<size_t>>& deps) const;

 private:
  struct Node {
    std::string table;                           // a table as it is: its name
    std::string base;                            // the table its rows come from one for one
    std::map<std::string, std::string> columns;  // its columns that are base's unchanged
    std::set<size_t> path;                       // the relations from the tables to it
    std::set<size_t> inputs;                     // those of path it reads row for row
    Keys split;                                  // what it may be split by
  };
  const Node* Find(size_t i) const;
  std::map<size_t, Node> nodes_;
};

}  // namespace tarn::quality
