#include "quality/lineage.h"
#include "common/util.h"

#include <algorithm>

namespace tarn::quality {

namespace {

const Column* Named(const std::vector<Column>& columns, const std::string& name) {
  for (auto& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace

const Lineage::Node* Lineage::Find(size_t i) const {
  auto it = nodes_.find(i);
  return it == nodes_.end() ? nullptr : &it->second;
}

void Lineage::Table(size_t i, const std::string& table, const std::vector<Column>& columns) {
  Node& n = nodes_[i];
  n.table = n.base = table;
  for (auto& c : columns) n.columns[c.name] = c.name;
  n.path = {i};
}

void Lineage::RowWise(size_t out, size_t in, const std::map<std::string, std::string>& same) {
  const Node* from = Find(in);
  if (!from || (from->base.empty() && from->split.empty())) return;
  Node n;
  n.base = from->base;
  for (auto& [name, source] : same) {
    if (auto it = from->columns.find(source); it != from->columns.end()) n.columns[name] = it->second;
  }
  n.path = from->path;
  n.path.insert(out);
  n.inputs = {in};
  n.split = from->split;
  nodes_[out] = std::move(n);
}

void Lineage::OnKeys(size_t out, size_t left, const std::vector<std::string>& lk,
                     const std::vector<Column>& left_columns, size_t right,
                     const std::vector<std::string>& rk, const std::vector<Column>& right_columns) {
  const Node *l = Find(left), *r = Find(right);
  if (!l || !r || l->base.empty() || r->base.empty() || AsciiLower(l->base) == AsciiLower(r->base) ||
      lk.empty() || lk.size() != rk.size())
    return;
  Node n;
  for (size_t k = 0; k < lk.size(); k++) {
    auto lc = l->columns.find(lk[k]), rc = r->columns.find(rk[k]);
    const Column *lt = Named(left_columns, lk[k]), *rt = Named(right_columns, rk[k]);
    // Keys of one type print alike, so they hash alike (scale/partition_plan.h).
    if (lc == l->columns.end() || rc == r->columns.end() || !lt || !rt || lt->type != rt->type) return;
    n.split[l->base].push_back(lc->second);
    n.split[r->base].push_back(rc->second);
  }
  n.path = l->path;
  n.path.insert(r->path.begin(), r->path.end());
  n.path.insert(out);
  n.inputs = {left, right};
  nodes_[out] = std::move(n);
}

Lineage::Keys Lineage::SplitOf(size_t i, const std::set<size_t>& computed,
                               const std::map<size_t, std::set<size_t>>& deps) const {
  const Node* n = Find(i);
  if (!n || n->split.empty()) return {};
  for (size_t p : n->path) {
    if (!computed.count(p)) return {};  // read from a temporary table: whole, in every bucket
  }
  std::set<std::string> split;
  for (auto& [table, keys] : n->split) split.insert(AsciiLower(table));
  for (size_t x : computed) {
    auto d = deps.find(x);
    if (n->path.count(x)) {
      const Node* on = Find(x);
      if (d == deps.end()) continue;
      for (size_t y : d->second) {
        if (n->path.count(y) && !on->inputs.count(y)) return {};  // reads one bucket's rows whole
      }
      continue;
    }
    const Node* other = Find(x);
    if (other && !other->table.empty() && split.count(AsciiLower(other->table)))
      return {};  // a split table read apart
    if (d == deps.end()) continue;
    for (size_t y : d->second) {
      if (n->path.count(y)) return {};  // reads a relation of one bucket's rows
    }
  }
  return n->split;
}

}  // namespace tarn::quality
