// The compiler's plan of a script: what is computed once into a temporary table and
// how narrowly, and on a run that may split, what each statement is split by and
// whether it runs in the server (docs/scale-out.md, decisions 0029, 0031-0033).
#include "common/util.h"
#include "quality/compilation.h"

namespace tarn::quality {

void Compilation::Create(size_t i, const std::set<size_t>& m, std::set<size_t>& created) {
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

bool Compilation::Large(const Reached& r, const std::set<size_t>& m) const {
  for (size_t c : r.computed)
    if (ctes_[c].input) return true;
  for (size_t t : r.Read(m))
    if (big_.count(t)) return true;
  return false;
}

void Compilation::FindBig(const std::set<size_t>& m) {
  big_.clear();
  for (size_t j : m) {
    std::set<size_t> others = m;
    others.erase(j);
    if (ctes_[j].partial_of == kNone && Large(Reach({j}, others), m)) big_.insert(j);
  }
}

bool Compilation::OffloadOutputs(std::set<size_t>& m) {
  FindBig(m);
  bool changed = false;
  for (auto& st : pending_) {
    if (st.kind != CompiledStatement::kOutput || TableOutput(st) || !Large(Reach(st.from, m), m)) continue;
    for (size_t i : st.from)
      if (!ctes_[i].input && !m.count(i)) m.insert(i), for_output_.insert(i), changed = true;
  }
  return changed;
}

void Compilation::SplitWrite(CompiledStatement& out, const Pending& st, const Reached& reach,
                             const std::set<size_t>& m) const {
  if (st.from.size() != 1) return;
  size_t in = *st.from.begin();
  if (!m.count(in)) out.partition_keys = lineage_.SplitOf(in, reach.computed, Deps());
  if (out.partition_keys.empty()) out.parts_of = PartsOf(in, {}, reach, m);
}

std::string Compilation::PartsOf(size_t i, const Reached& reach, const std::set<size_t>& m) const {
  if (ctes_[i].partial_of == kNone) return "";
  return PartsOf(ctes_[i].partial_of, {i}, reach, m);
}

std::string Compilation::PartsOf(size_t in, std::set<size_t> chain, const Reached& reach,
                                 const std::set<size_t>& m) const {
  while (!m.count(in) && ctes_[in].row_of != kNone) {
    chain.insert(in);
    in = ctes_[in].row_of;
  }
  if (m.count(in)) return reach.computed == chain ? ctes_[in].bare : "";
  chain.insert(in);
  return reach.computed == chain && ctes_[in].input ? ctes_[in].table : "";
}

void Compilation::MergePartials(std::set<size_t>& m) {
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

void Compilation::Merge(size_t t, const std::vector<size_t>& members, std::set<size_t>& m) {
  size_t u = ctes_.size();
  std::string bare = ctes_[t].bare + "__partials", steps, all;
  // What the partials read of the table: those columns only are scanned, once.
  std::vector<std::pair<std::string, std::set<size_t>>> readers;
  for (size_t i : members) readers.push_back({"SELECT * FROM " + ctes_[i].name, {i}});
  ColumnNeed need = ColumnDemand(DemandNodes(), readers)[t];
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
    partial.sql = "SELECT " + back + " FROM " + QuoteName(bare) + fmt::format(" WHERE \"__of\" = {}", k + 1);
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

void Compilation::Narrow(const std::set<size_t>& m) {
  std::vector<std::pair<std::string, std::set<size_t>>> statements;
  for (auto& st : pending_) statements.push_back({st.head + "\n" + st.query + st.tail, st.from});
  auto n = quality::Narrow(DemandNodes(), statements, m);
  inline_ = n.recompute;
  kept_ = n.kept;
  for (auto& [i, note] : n.notes) narrowed_[ctes_[i].step] = note;
}

std::vector<DemandNode> Compilation::DemandNodes() const {
  std::vector<DemandNode> nodes;
  for (auto& c : ctes_) nodes.push_back({c.sql, c.deps, c.columns, c.op, c.step});
  return nodes;
}

}  // namespace tarn::quality
