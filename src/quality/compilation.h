// Compilation: the state of one pipeline's compilation (compiler.cpp): its relations
// as common table expressions, the statements that read them, and the choices of what
// is computed once into a temporary table, what a run on a cluster splits and where
// each statement runs (compiler_plan.cpp). Internal to src/quality.
//
// Thread-safety: one compilation is used by one thread.
#pragma once

#include <fmt/format.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "quality/column_demand.h"
#include "quality/compiler.h"
#include "quality/expr_functions.h"
#include "quality/lineage.h"

namespace tarn::quality {

class Compilation {
 public:
  Compilation(const Pipeline& p, SchemaProbe& probe, bool split_aggregates)
      : p_(p), probe_(probe), split_aggregates_(split_aggregates) {}

  struct Cte {
    std::string name;  // quoted
    std::string bare;  // unquoted: the temporary table's name when materialized
    std::string sql;
    std::set<size_t> deps;  // the CTEs it reads directly
    std::string step;
    bool input = false;  // a table as it is: never worth materializing
    std::string op;      // the step type that made it
    std::vector<std::string> columns;
    std::string table;           // an input that is a table: its name (db.table)
    size_t partial_of = kNone;   // partial aggregates: the CTE whose parts they are of
    size_t row_of = kNone;       // the CTE it is made row for row from (RowWise)
    std::vector<size_t> merged;  // MergePartials: the partial aggregates it computes together
  };
  static constexpr size_t kNone = static_cast<size_t>(-1);  // no such CTE
  struct Pending {
    CompiledStatement::Kind kind;
    std::string step, head, query, note;
    std::set<size_t> from;
    std::string tail;
  };

  // The WITH clause of the CTEs `needs`, then `select`.
  std::string With(const std::set<size_t>& needs, const std::string& select) const {
    std::string out;
    for (size_t i : needs)
      out += (out.empty() ? "WITH " : ",\n     ") + ctes_[i].name + " AS (" + ctes_[i].sql + ")";
    return out.empty() ? select : out + "\n" + select;
  }
  static std::set<size_t> Needs(const std::vector<const Relation*>& from) {
    std::set<size_t> needs;
    for (auto* r : from) needs.insert(r->needs.begin(), r->needs.end());
    return needs;
  }
  static std::set<size_t> Direct(const std::vector<const Relation*>& from) {
    std::set<size_t> out;
    for (auto* r : from) out.insert(r->index);
    return out;
  }
  // The CTEs a statement reading `from` computes: everything upstream, stopping at
  // the materialized ones (which it reads as temporary tables; included, not
  // expanded) — unless it reaches one through an edge of inline_, which recomputes it.
  struct Reached {
    std::set<size_t> seen;      // computed or read
    std::set<size_t> computed;  // its common table expressions
    std::set<size_t> Read(const std::set<size_t>& materialized) const {
      std::set<size_t> out;
      for (size_t i : seen) {
        if (materialized.count(i) && !computed.count(i)) out.insert(i);
      }
      return out;
    }
  };
  Reached Reach(const std::set<size_t>& from, const std::set<size_t>& materialized) const {
    Reached r;
    std::vector<std::pair<size_t, bool>> todo;
    for (size_t i : from) todo.push_back({i, false});
    while (!todo.empty()) {
      auto [i, recompute] = todo.back();
      todo.pop_back();
      r.seen.insert(i);
      if ((materialized.count(i) && !recompute) || !r.computed.insert(i).second) continue;
      for (size_t d : ctes_[i].deps) todo.push_back({d, inline_.count({i, d}) > 0});
    }
    return r;
  }

  const Relation& AddRelation(const std::string& name, const std::string& sql,
                              const std::vector<const Relation*>& from, bool input = false,
                              const std::string& table = "") {
    std::string bare = "p_" + name;
    for (size_t at; (at = bare.find('.')) != std::string::npos;) bare.replace(at, 1, "__");
    Relation r;
    r.cte = QuoteName(bare);
    r.table = table;
    r.needs = Needs(from);
    r.index = ctes_.size();
    ctes_.push_back({.name = r.cte,
                     .bare = bare,
                     .sql = sql,
                     .deps = Direct(from),
                     .step = current_step_,
                     .input = input,
                     .op = current_op_,
                     .columns = {},
                     .table = table,
                     .partial_of = kNone,
                     .row_of = kNone,
                     .merged = {}});
    r.needs.insert(r.index);
    r.columns = probe_.Describe(With(r.needs, "SELECT * FROM " + r.cte + " LIMIT 0"));
    for (auto& c : r.columns) ctes_.back().columns.push_back(c.name);
    if (!table.empty()) lineage_.Table(r.index, table, r.columns);
    relations_[name] = r;
    return relations_[name];
  }

  const Relation* Lookup(const std::string& name) const {
    auto it = relations_.find(name);
    return it == relations_.end() ? nullptr : &it->second;
  }

  void Statement(CompiledStatement::Kind kind, const std::string& head, const std::string& query,
                 const std::vector<const Relation*>& from, const std::string& note,
                 const std::string& tail = "") {
    pending_.push_back({kind, current_step_, head, query, note, Direct(from), tail});
  }

  // Chooses what to materialize: from the last CTE to the first, one that two or more
  // statements compute (counting the materialized ones after it as tables) is computed
  // once into a temporary table. Then renders the statements, each preceded by the
  // CREATE TEMP TABLE of what it is the first to need.
  void Finish() {
    std::set<size_t> m;  // partial aggregates are their own statement, split by parts
    for (size_t i = 0; i < ctes_.size(); i++)
      if (ctes_[i].partial_of != kNone) m.insert(i);
    // What each statement, then each step chosen for a temporary table, computes: it
    // changes only when a step is chosen.
    auto reaches = [&] {
      std::vector<Reached> out;
      for (auto& st : pending_) out.push_back(Reach(st.from, m));
      for (size_t j : m) {
        std::set<size_t> others = m;
        others.erase(j);
        out.push_back(Reach({j}, others));  // what its CREATE TEMP TABLE computes
      }
      return out;
    };
    auto reach = reaches();
    for (size_t i = ctes_.size(); i-- > 0;) {
      if (ctes_[i].input) continue;
      size_t uses = 0;
      for (auto& r : reach) uses += r.seen.count(i);
      if (uses < 2) continue;
      m.insert(i);
      reach = reaches();
    }
    if (split_aggregates_ && OffloadOutputs(m)) reach = reaches();
    Narrow(m);
    if (split_aggregates_) MergePartials(m);
    reach = reaches();
    FindBig(m);
    std::set<size_t> created;
    for (size_t k = 0; k < pending_.size(); k++) {
      auto& st = pending_[k];
      for (size_t i : reach[k].Read(m)) Create(i, m, created);
      bool here = split_aggregates_ && !Large(reach[k], m);
      out_.statements.push_back(
          {st.kind, st.step, Render(st.head, st.query, reach[k].computed) + st.tail, st.note, {}, "", here});
      if (split_aggregates_ && !here && TableOutput(st)) SplitWrite(out_.statements.back(), st, reach[k], m);
    }
    for (auto& step : out_.steps) {
      size_t uses = 0;
      bool materialized = false;
      for (size_t i = 0; i < ctes_.size(); i++) {
        for (size_t j : ctes_[i].merged)
          materialized = materialized || (m.count(i) && ctes_[j].step == step.name);
        if (ctes_[i].step != step.name) continue;
        materialized = materialized || m.count(i);
      }
      // Statements that compute it: outputs, checks and the temporary tables' own.
      for (auto& r : reach) {
        uses += std::any_of(r.computed.begin(), r.computed.end(),
                            [&](size_t i) { return ctes_[i].step == step.name && !m.count(i); });
      }
      if (materialized)
        step.materialized = "materialized: computed once into a temporary table that later statements read" +
                            narrowed_[step.name];
      else if (uses == 0)
        step.materialized = "not used by any output: not run";
      else if (uses > 1)
        step.materialized = fmt::format("fused into each of the {} statements that use it", uses);
    }
  }

  const Pipeline& p_;
  SchemaProbe& probe_;
  std::map<std::string, Relation> relations_;
  std::vector<Cte> ctes_;
  std::vector<Pending> pending_;
  std::string current_step_;
  std::string current_op_;
  std::string previous_;  // the name of the last relation a step made
  CompiledPipeline out_;
  Lineage lineage_;
  bool split_aggregates_;
  std::set<size_t> big_;         // FindBig
  std::set<size_t> for_output_;  // OffloadOutputs

 private:
  std::string Render(const std::string& head, const std::string& query, const std::set<size_t>& with) const {
    std::string body = With(with, query);
    return head.empty() ? body : head + "\n" + body;
  }
  std::map<size_t, std::set<size_t>> Deps() const {
    std::map<size_t, std::set<size_t>> out;
    for (size_t i = 0; i < ctes_.size(); i++) out[i] = ctes_[i].deps;
    return out;
  }
  void Create(size_t i, const std::set<size_t>& m, std::set<size_t>& created);
  // Partial aggregates split by the parts of one temporary table, when there are
  // several (a reconciliation's aggregates and pivots of its matched rows): one
  // statement computes them all, in one Slurm stage that reads each part once instead
  // of one stage each, their rows told apart by "__of" and their columns by a prefix;
  // each partial is then taken from it by the statement that combines it.
  void MergePartials(std::set<size_t>& m);
  void Merge(size_t t, const std::vector<size_t>& members, std::set<size_t>& m);
  // Whether a statement that computes and reads `r` works on large data: it computes
  // from a lake table or reads a big temporary table (big_).
  bool Large(const Reached& r, const std::set<size_t>& m) const;
  // big_: the temporary tables of `m` made from a lake table or from a big one, and
  // not of partial results (in index order: a table's inputs come first).
  void FindBig(const std::set<size_t>& m);
  // On an offload, a file output (COPY) that computes from large data would do that
  // work in the server, which writes the run's files: its input becomes a temporary
  // table computed on the nodes (split where it may be). Outputs of small results
  // (combinations) stay; table outputs are computed and written on the nodes
  // (SplitWrite).
  bool OffloadOutputs(std::set<size_t>& m);
  // A table output: the session writes it on the nodes (Session::WriteOnNodes).
  static bool TableOutput(const Pending& st) {
    return st.kind == CompiledStatement::kOutput && !st.head.starts_with("COPY");
  }
  // An output of large data, computed and written on the nodes: split as its input's
  // rows may be, by key or by the parts of what they are made from row for row; else
  // one task.
  void SplitWrite(CompiledStatement& out, const Pending& st, const Reached& reach,
                  const std::set<size_t>& m) const;
  // What the statement computing partial aggregates `i` may be split by the parts of
  // (PartsOf below, from its input).
  std::string PartsOf(size_t i, const Reached& reach, const std::set<size_t>& m) const;
  // What a statement that computes `chain` and `in` may be split by the parts of: the
  // temporary table or input table `in` is made row for row from (filters, derives,
  // selects: computed part by part), when it computes nothing else.
  std::string PartsOf(size_t in, std::set<size_t> chain, const Reached& reach,
                      const std::set<size_t>& m) const;
  // Keeps in each temporary table only the columns its readers use, and lets a wide
  // step's filters recompute it (column_demand.h).
  void Narrow(const std::set<size_t>& m);
  // The CTEs as the column-demand analysis sees them (column_demand.h).
  std::vector<DemandNode> DemandNodes() const;
  std::set<std::pair<size_t, size_t>> inline_;       // (reader, read): the reader recomputes what it reads
  std::map<size_t, std::vector<std::string>> kept_;  // a temporary table's columns, when not all
  std::map<std::string, std::string> narrowed_;      // by step: how its temporary table was narrowed
  std::map<size_t, std::string> merged_scan_;        // MergePartials: the columns it reads of its table
};

}  // namespace tarn::quality
