// The pipeline compiler's core: parsing the spec, the relations and their common
// table expressions, and the script and explain text.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "common/error.h"
#include "common/util.h"
#include "quality/column_demand.h"
#include "quality/compiler.h"
#include "quality/expr_functions.h"
#include "quality/lineage.h"

namespace tarn::quality {

// --- Relation ------------------------------------------------------------------

std::vector<std::string> Relation::Names() const {
  std::vector<std::string> out;
  for (auto& c : columns) out.push_back(c.name);
  return out;
}

std::string Relation::Find(const std::string& name, const Spec& spec, const std::string& field) const {
  std::string why;
  auto names = Names();
  if (const std::string* c = MatchColumn(names, name, why)) return *c;
  spec.Fail(field, why);
}

std::string ColumnList(const std::vector<std::string>& names, const std::string& alias) {
  std::string out;
  for (auto& n : names) out += (out.empty() ? "" : ", ") + (alias.empty() ? "" : alias + ".") + QuoteName(n);
  return out;
}

// --- Pipeline --------------------------------------------------------------------

namespace {

struct ParsedStep {
  std::string name;
  std::string op;
  int line = 0;
  YAML::Node options;
};

const StepType* FindType(const std::string& op) {
  for (auto& t : StepTypeList()) {
    if (op == t->name()) return t.get();
  }
  return nullptr;
}

}  // namespace

class Pipeline {
 public:
  std::string source;
  std::string name;
  std::vector<std::pair<std::string, Spec>> inputs;
  std::vector<ParsedStep> steps;
  std::string summary;  // the step whose rows are the run's result ("": the last compare's summary)
};

std::shared_ptr<const Pipeline> ParsePipeline(const std::string& text, const std::string& source) {
  YAML::Node root = LoadSpec(text, source, 4 << 20);
  auto p = std::make_shared<Pipeline>();
  p->source = source;
  Spec top(root, source);
  top.OnlyFields({"name", "description", "inputs", "steps", "summary"});
  p->name = top.Text("name", "pipeline");
  p->summary = top.Text("summary");
  std::set<std::string> names;
  if (!top.Has("inputs") || !root["inputs"].IsMap() || root["inputs"].size() == 0)
    top.Fail("inputs", "must map at least one name to a table (inputs: {ledger: {table: finance.ledger}})");
  for (auto it = root["inputs"].begin(); it != root["inputs"].end(); ++it) {
    std::string name = it->first.Scalar();
    Spec in(it->second, fmt::format("{}: input '{}'", source, name));
    if (!IsName(name) || name.find("__") != std::string::npos)
      in.Fail("", "an input's name is letters, digits and single '_' (at most 64)");
    if (!names.insert(name).second) in.Fail("", "the name is used twice");
    p->inputs.emplace_back(name, in);
  }
  if (!top.Has("steps") || !root["steps"].IsSequence() || root["steps"].size() == 0)
    top.Fail("steps", "must be a list of at least one step");
  if (root["steps"].size() > 500) top.Fail("steps", "a pipeline has at most 500 steps");
  for (auto node : root["steps"]) {
    Spec s(node, source + ": a step");
    if (!node.IsMap()) s.Fail("", "a step is a map: {name: ..., <type>: {options}}");
    ParsedStep step;
    step.line = node.Mark().line + 1;
    step.name = s.Text("name", "", true);
    Spec named(node, fmt::format("{}: step '{}'", source, step.name.substr(0, 64)));
    if (!IsName(step.name) || step.name.find("__") != std::string::npos)
      named.Fail("name", "a step's name is letters, digits and single '_' (at most 64)");
    if (!names.insert(step.name).second) named.Fail("name", "the name is used twice");
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string key = it->first.Scalar();
      if (key == "name" || key == "description") continue;
      if (!step.op.empty())
        named.Fail(key, fmt::format("a step does one thing: it already is a {}", step.op));
      if (!FindType(key)) {
        std::string list;
        for (auto& t : StepTypes()) list += (list.empty() ? "" : ", ") + t;
        named.Fail(key, fmt::format("no step type '{}' (types: {})", key.substr(0, 64), list));
      }
      step.op = key;
      step.options = it->second;
    }
    if (step.op.empty()) named.Fail("", "says no step type (filter:, derive:, lookup:, ...)");
    p->steps.push_back(std::move(step));
  }
  if (!p->summary.empty() && !names.count(p->summary.substr(0, p->summary.find('.'))))
    top.Fail("summary", "names no step (a step, or a part of one such as rec.summary)");
  return p;
}

// --- Compilation -------------------------------------------------------------------

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
  void Create(size_t i, const std::set<size_t>& m, std::set<size_t>& created) {
    if (created.count(i)) return;
    std::set<size_t> inner = m;
    inner.erase(i);
    Reached reach = Reach({i}, inner);
    for (size_t j : reach.Read(inner)) Create(j, m, created);
    created.insert(i);
    std::string select = "*";
    if (auto it = kept_.find(i); it != kept_.end()) {
      select.clear();
      for (auto& c : it->second) select += (select.empty() ? "" : ", ") + QuoteName(c);
    }
    std::string sql = Render("CREATE TEMP TABLE " + ctes_[i].name + " AS",
                             "SELECT " + select + " FROM " + ctes_[i].name, reach.computed);
    std::string parts = PartsOf(i, reach, m);
    if (!ctes_[i].merged.empty()) {  // the table it reads a part of, once: its CTE of the same name
      size_t t = ctes_[i].partial_of;
      parts = ctes_[t].bare;
      sql.replace(sql.find("WITH ") + 5, 0,
                  ctes_[t].name + " AS MATERIALIZED (SELECT " + merged_scan_[i] + " FROM temp." +
                      ctes_[t].name + "),\n     ");
    }
    out_.statements.push_back({CompiledStatement::kMaterialize, ctes_[i].step, sql,
                               ctes_[i].partial_of == kNone
                                   ? fmt::format("materialize {} ({})", ctes_[i].bare.substr(2),
                                                 for_output_.count(i) ? "computed on the nodes for its output"
                                                                      : "read by several statements")
                                   : fmt::format("{} part by part of {} input (then combined)", ctes_[i].step,
                                                 ctes_[i].merged.empty() ? "its" : "their"),
                               lineage_.SplitOf(i, reach.computed, Deps()), parts,
                               split_aggregates_ && !Large(reach, m)});
  }
  // Partial aggregates split by the parts of one temporary table, when there are
  // several (a reconciliation's aggregates and pivots of its matched rows): one
  // statement computes them all, in one Slurm stage that reads each part once instead
  // of one stage each, their rows told apart by "__of" and their columns by a prefix;
  // each partial is then taken from it by the statement that combines it.
  void MergePartials(std::set<size_t>& m) {
    std::map<size_t, std::vector<size_t>> by_table;
    for (size_t i : m) {
      if (ctes_[i].partial_of == kNone) continue;
      std::set<size_t> others = m;
      others.erase(i);
      Reached r = Reach({i}, others);
      auto read = r.Read(others);
      if (read.size() == 1 && PartsOf(i, r, m) == ctes_[*read.begin()].bare)
        by_table[*read.begin()].push_back(i);
    }
    for (auto& [t, members] : by_table)
      if (members.size() > 1) Merge(t, members, m);
  }
  void Merge(size_t t, const std::vector<size_t>& members, std::set<size_t>& m) {
    size_t u = ctes_.size();
    std::string bare = ctes_[t].bare + "__partials", steps, all;
    // What the partials read of the table: those columns only are scanned, once.
    std::vector<DemandNode> nodes;
    for (auto& c : ctes_) nodes.push_back({c.sql, c.deps, c.columns, c.op, c.step});
    std::vector<std::pair<std::string, std::set<size_t>>> readers;
    for (size_t i : members) readers.push_back({"SELECT * FROM " + ctes_[i].name, {i}});
    ColumnNeed need = ColumnDemand(nodes, readers)[t];
    std::string scan;
    auto kept = kept_.count(t) ? kept_[t] : ctes_[t].columns;
    for (auto& c : kept)
      if (need.all || need.columns.count(AsciiLower(c))) scan += (scan.empty() ? "" : ", ") + QuoteName(c);
    for (size_t k = 0; k < members.size(); k++) {
      Cte own = ctes_[members[k]];  // the partial as it computes, under a name of its own
      own.bare += "__own";
      own.name = QuoteName(own.bare);
      std::string cols = fmt::format("{} AS \"__of\"", k + 1), back;
      for (auto& c : own.columns) {
        std::string as = QuoteName(fmt::format("__{}_{}", k + 1, c));
        cols += ", " + QuoteName(c) + " AS " + as;
        back += (back.empty() ? "" : ", ") + as + " AS " + QuoteName(c);
      }
      all += (all.empty() ? "" : " UNION ALL BY NAME ") + ("SELECT " + cols + " FROM " + own.name);
      steps += (steps.empty() ? "" : ", ") + own.step;
      ctes_.push_back(own);
      auto& partial = ctes_[members[k]];  // now read from the statement of them all
      partial.sql =
          "SELECT " + back + " FROM " + QuoteName(bare) + fmt::format(" WHERE \"__of\" = {}", k + 1);
      m.erase(members[k]);
    }
    std::set<size_t> deps;
    for (size_t i = u; i < ctes_.size(); i++) deps.insert(i);
    Cte merged;
    merged.name = QuoteName(bare);
    merged.bare = bare;
    merged.sql = "SELECT * FROM (" + all + ")";
    merged.deps = deps;
    merged.step = steps;
    merged.partial_of = t;
    merged.merged = members;
    ctes_.push_back(merged);
    for (size_t i : members) ctes_[i].deps = {ctes_.size() - 1};
    merged_scan_[ctes_.size() - 1] = scan.empty() ? "*" : scan;
    m.insert(ctes_.size() - 1);
  }
  // Whether a statement that computes and reads `r` works on large data: it computes
  // from a lake table or reads a big temporary table (big_).
  bool Large(const Reached& r, const std::set<size_t>& m) const {
    for (size_t c : r.computed)
      if (ctes_[c].input) return true;
    for (size_t t : r.Read(m))
      if (big_.count(t)) return true;
    return false;
  }
  // big_: the temporary tables of `m` made from a lake table or from a big one, and
  // not of partial results (in index order: a table's inputs come first).
  void FindBig(const std::set<size_t>& m) {
    big_.clear();
    for (size_t j : m) {
      std::set<size_t> others = m;
      others.erase(j);
      if (ctes_[j].partial_of == kNone && Large(Reach({j}, others), m)) big_.insert(j);
    }
  }
  // On an offload, a file output (COPY) that computes from large data would do that
  // work in the server, which writes the run's files: its input becomes a temporary
  // table computed on the nodes (split where it may be). Outputs of small results
  // (combinations) stay; table outputs are computed and written on the nodes
  // (SplitWrite).
  bool OffloadOutputs(std::set<size_t>& m) {
    FindBig(m);
    bool changed = false;
    for (auto& st : pending_) {
      if (st.kind != CompiledStatement::kOutput || TableOutput(st) || !Large(Reach(st.from, m), m)) continue;
      for (size_t i : st.from)
        if (!ctes_[i].input && !m.count(i)) m.insert(i), for_output_.insert(i), changed = true;
    }
    return changed;
  }
  // A table output: the session writes it on the nodes (Session::WriteOnNodes).
  static bool TableOutput(const Pending& st) {
    return st.kind == CompiledStatement::kOutput && !st.head.starts_with("COPY");
  }
  // An output of large data, computed and written on the nodes: split as its input's
  // rows may be, by key or by the parts of what they are made from row for row; else
  // one task.
  void SplitWrite(CompiledStatement& out, const Pending& st, const Reached& reach,
                  const std::set<size_t>& m) const {
    if (st.from.size() != 1) return;
    size_t in = *st.from.begin();
    if (!m.count(in)) out.partition_keys = lineage_.SplitOf(in, reach.computed, Deps());
    if (out.partition_keys.empty()) out.parts_of = PartsOf(in, {}, reach, m);
  }
  // What the statement computing partial aggregates `i` may be split by the parts of
  // (PartsOf below, from its input).
  std::string PartsOf(size_t i, const Reached& reach, const std::set<size_t>& m) const {
    if (ctes_[i].partial_of == kNone) return "";
    return PartsOf(ctes_[i].partial_of, {i}, reach, m);
  }
  // What a statement that computes `chain` and `in` may be split by the parts of: the
  // temporary table or input table `in` is made row for row from (filters, derives,
  // selects: computed part by part), when it computes nothing else.
  std::string PartsOf(size_t in, std::set<size_t> chain, const Reached& reach,
                      const std::set<size_t>& m) const {
    while (!m.count(in) && ctes_[in].row_of != kNone) {
      chain.insert(in);
      in = ctes_[in].row_of;
    }
    if (m.count(in)) return reach.computed == chain ? ctes_[in].bare : "";
    chain.insert(in);
    return reach.computed == chain && ctes_[in].input ? ctes_[in].table : "";
  }
  // Keeps in each temporary table only the columns its readers use, and lets a wide
  // step's filters recompute it (column_demand.h).
  void Narrow(const std::set<size_t>& m) {
    std::vector<DemandNode> nodes;
    for (auto& c : ctes_) nodes.push_back({c.sql, c.deps, c.columns, c.op, c.step});
    std::vector<std::pair<std::string, std::set<size_t>>> statements;
    for (auto& st : pending_) statements.push_back({st.head + "\n" + st.query + st.tail, st.from});
    auto n = quality::Narrow(nodes, statements, m);
    inline_ = n.recompute;
    kept_ = n.kept;
    for (auto& [i, note] : n.notes) narrowed_[ctes_[i].step] = note;
  }
  std::set<std::pair<size_t, size_t>> inline_;       // (reader, read): the reader recomputes what it reads
  std::map<size_t, std::vector<std::string>> kept_;  // a temporary table's columns, when not all
  std::map<std::string, std::string> narrowed_;      // by step: how its temporary table was narrowed
  std::map<size_t, std::string> merged_scan_;        // MergePartials: the columns it reads of its table
};

const Relation& StepContext::Input(const std::string& field, bool fallback_previous) {
  std::string name = spec_.Text(field);
  if (name.empty()) {
    if (!fallback_previous || c_.previous_.empty())
      spec_.Fail(field, "is required: name an input or an earlier step");
    name = c_.previous_;
  }
  return Named(name, field);
}

const Relation& StepContext::Named(const std::string& name, const std::string& field) {
  const Relation* r = c_.Lookup(name);
  if (!r) spec_.Fail(field, fmt::format("names no input or earlier step: '{}'", name.substr(0, 64)));
  return *r;
}

const Relation& StepContext::Add(const std::string& sql, const std::vector<const Relation*>& from,
                                 const std::string& part) {
  std::string full = part.empty() ? name_ : name_ + "." + part;
  const Relation& r = c_.AddRelation(full, sql, from);
  if (part.empty()) {
    c_.previous_ = full;
    c_.out_.steps.push_back({name_, op_, line_, sql, r.columns, ""});
  }
  return r;
}

void StepContext::RowWise(const Relation& out, const Relation& in,
                          const std::map<std::string, std::string>& same) {
  c_.lineage_.RowWise(out.index, in.index, same);
  c_.ctes_[out.index].row_of = in.index;
}

void StepContext::OnKeys(const Relation& out, const Relation& left, const std::vector<std::string>& lk,
                         const Relation& right, const std::vector<std::string>& rk) {
  c_.lineage_.OnKeys(out.index, left.index, lk, left.columns, right.index, rk, right.columns);
}

std::map<std::string, std::string> StepContext::AllBut(const Relation& in,
                                                       const std::set<std::string>& except) {
  std::map<std::string, std::string> same;
  for (auto& c : in.columns) {
    if (!except.count(c.name)) same[c.name] = c.name;
  }
  return same;
}

void StepContext::Check(const std::string& sql, const std::vector<const Relation*>& from,
                        const std::string& note) {
  c_.Statement(CompiledStatement::kCheck, "", sql, from, note);
}

void StepContext::Output(const std::string& head, const std::string& query,
                         const std::vector<const Relation*>& from, const std::string& note,
                         const std::string& tail) {
  c_.Statement(CompiledStatement::kOutput, head, query, from, note, tail);
}

std::string StepContext::Expr(const std::string& formula, const std::vector<std::string>& columns,
                              ExprMode mode, const std::string& field, const WindowSpec* window,
                              std::set<std::string>* used, AggregateParts* parts) const {
  int line = spec_.Line(field);
  return CompileExpr(
      formula, columns, mode,
      fmt::format("{}{}, field '{}'", spec_.where(), line > 0 ? fmt::format(" line {}", line) : "", field),
      window, used, parts);
}

bool StepContext::SplitsAggregates() const {
  return c_.split_aggregates_;
}

const Relation& StepContext::AddPartial(const std::string& sql, const Relation& in) {
  const Relation& r = Add(sql, {&in}, "partial");
  c_.ctes_[r.index].partial_of = in.index;
  return r;
}

const Relation& StepContext::AddByParts(const std::function<std::string(const std::string& from)>& sql,
                                        const Relation& in) {
  if (!SplitsAggregates()) return Add(sql(in.cte), {&in});
  const Relation& partial = AddPartial(sql(in.cte), in);
  return Add(sql(partial.cte), {&partial});
}

bool StepContext::TableExists(const std::string& table) {
  try {
    c_.probe_.Describe("SELECT * FROM " + table + " LIMIT 0");
    return true;
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kNotFound) return false;
    throw;
  }
}

std::vector<Column> StepContext::Describe(const std::string& query,
                                          const std::vector<const Relation*>& from) {
  return c_.probe_.Describe(c_.With(Compilation::Needs(from), "SELECT * FROM (" + query + ") LIMIT 0"));
}

std::vector<std::string> StepContext::Values(const std::string& query,
                                             const std::vector<const Relation*>& from, size_t limit) {
  return c_.probe_.Values(c_.With(Compilation::Needs(from), query), limit);
}

std::vector<FileInputSpec> FileInputs(const Pipeline& p) {
  std::vector<FileInputSpec> out;
  for (auto& [name, spec] : p.inputs) {
    if (spec.Has("file")) out.push_back(ReadFileInput(name, spec));
  }
  return out;
}

CompiledPipeline Compile(const Pipeline& p, SchemaProbe& probe, bool split_aggregates) {
  Compilation c(p, probe, split_aggregates);
  c.out_.name = p.name;
  for (auto& [name, spec] : p.inputs) {
    c.current_step_ = name;
    if (!spec.Has("file")) {
      spec.OnlyFields({"table", "description"});
      c.AddRelation(name, "SELECT * FROM " + spec.Table("table"), {}, true, spec.Text("table"));
      continue;
    }
    FileInputSpec file = ReadFileInput(name, spec);
    c.AddRelation(name, "SELECT * FROM " + QuoteName(file.table), {}, true);
    c.out_.files.push_back(std::move(file));
  }
  c.previous_ = p.inputs.front().first;  // the first step reads the first input unless it says
  for (auto& step : p.steps) {
    c.current_step_ = step.name;
    c.current_op_ = step.op;
    const StepType* type = FindType(step.op);
    Spec spec(step.options, fmt::format("{}: step '{}' ({})", p.source, step.name, step.op));
    auto fields = type->fields();
    spec.OnlyFields(fields);
    StepContext ctx(c, spec, step.name, step.op, step.line);
    type->Compile(ctx);
  }
  // The run's result: the summary step's rows, else the last compare's summary, else nothing.
  std::string summary = p.summary;
  if (summary.empty()) {
    for (auto& s : p.steps) {
      if (s.op == "compare") summary = s.name + ".summary";
    }
  }
  if (!summary.empty() && !c.Lookup(summary))
    Spec(YAML::Node(), p.source).Fail("summary", fmt::format("'{}' names no step or part of one", summary));
  if (const Relation* r = summary.empty() ? nullptr : c.Lookup(summary)) {
    c.current_step_ = summary;
    c.Statement(CompiledStatement::kSummary, "", "SELECT * FROM " + r->cte, {r},
                "the run's result: " + summary);
  }
  c.Finish();
  return c.out_;
}

}  // namespace tarn::quality
