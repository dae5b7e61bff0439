#include "quality/column_demand.h"
#include "common/util.h"

#include <cctype>

namespace tarn::quality {
namespace {

// Every word and quoted name of `sql`, lower case.
std::set<std::string> Names(const std::string& sql) {
  std::set<std::string> out;
  for (size_t i = 0; i < sql.size();) {
    char c = sql[i];
    if (c == '"') {
      std::string name;
      for (i++; i < sql.size(); i++) {
        if (sql[i] == '"' && i + 1 < sql.size() && sql[i + 1] == '"') {
          name += '"';
          i++;
        } else if (sql[i] == '"') {
          break;
        } else {
          name += sql[i];
        }
      }
      out.insert(AsciiLower(name));
      i++;
    } else if (c == '\'') {  // a literal: skip it
      for (i++; i < sql.size() && !(sql[i] == '\'' && (i + 1 >= sql.size() || sql[i + 1] != '\'')); i++) {
        if (sql[i] == '\'') i++;
      }
      i++;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = i;
      while (i < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '_')) i++;
      out.insert(AsciiLower(sql.substr(start, i - start)));
    } else {
      i++;
    }
  }
  return out;
}

}  // namespace

void ColumnNeed::Add(const ColumnNeed& other) {
  if (all) return;
  if (other.all) {
    all = true;
    columns.clear();
    return;
  }
  columns.insert(other.columns.begin(), other.columns.end());
}

bool SelectsStar(const std::string& sql) {
  bool in_literal = false, in_name = false;
  for (size_t i = 0; i < sql.size(); i++) {
    char c = sql[i];
    if (c == '\'' && !in_name) in_literal = !in_literal;
    if (c == '"' && !in_literal) in_name = !in_name;
    if (c != '*' || in_literal || in_name) continue;
    size_t p = i, n = i + 1;
    while (p > 0 && sql[p - 1] == ' ') p--;
    while (n < sql.size() && sql[n] == ' ') n++;
    char before = p > 0 ? sql[p - 1] : '\0';
    char after = n < sql.size() ? sql[n] : '\0';
    if (before == '(' && after == ')') continue;  // count(*)
    bool operand_before = before == '"' || before == ')' || std::isdigit(static_cast<unsigned char>(before));
    if (operand_before) continue;  // a product
    return true;
  }
  return false;
}

ColumnNeed NeedOf(const std::string& sql, const std::vector<std::string>& columns, const ColumnNeed& own) {
  ColumnNeed need;
  bool star = SelectsStar(sql);
  if (star && own.all) {
    need.all = true;
    return need;
  }
  auto names = Names(sql);
  for (auto& c : columns) {
    std::string lower = AsciiLower(c);
    if (names.count(lower) || (star && own.columns.count(lower))) need.columns.insert(lower);
  }
  if (need.columns.size() == columns.size()) {
    need.all = true;
    need.columns.clear();
  }
  return need;
}

std::vector<ColumnNeed> ColumnDemand(const std::vector<DemandNode>& nodes,
                                     const std::vector<std::pair<std::string, std::set<size_t>>>& statements,
                                     const std::set<std::pair<size_t, size_t>>& skip) {
  std::vector<ColumnNeed> need(nodes.size());
  ColumnNeed everything;
  everything.all = true;
  for (auto& [sql, reads] : statements) {
    for (size_t d : reads) need[d].Add(NeedOf(sql, nodes[d].columns, everything));
  }
  // Readers come after what they read: from the last node back, each node's need is
  // whole before it is passed on.
  for (size_t k = nodes.size(); k-- > 0;) {
    for (size_t d : nodes[k].deps) {
      if (skip.count({k, d})) continue;
      need[d].Add(NeedOf(nodes[k].sql, nodes[d].columns, need[k]));
    }
  }
  return need;
}

Narrowing Narrow(const std::vector<DemandNode>& nodes,
                 const std::vector<std::pair<std::string, std::set<size_t>>>& statements,
                 const std::set<size_t>& materialized) {
  Narrowing out;
  auto need = ColumnDemand(nodes, statements);
  for (size_t i : materialized) {
    if (!need[i].all) continue;
    std::set<std::pair<size_t, size_t>> skip;
    size_t others = 0;
    for (auto& [sql, reads] : statements) others += reads.count(i);
    for (size_t k = i + 1; k < nodes.size(); k++) {
      if (!nodes[k].deps.count(i)) continue;
      bool filter = nodes[k].op == "filter" && nodes[k].deps.size() == 1 && SelectsStar(nodes[k].sql);
      if (filter) skip.insert({k, i});
      others += !filter;
    }
    // Upstream of i: nothing materialized.
    std::set<size_t> upstream;
    std::vector<size_t> todo(nodes[i].deps.begin(), nodes[i].deps.end());
    bool plain = true;
    while (!todo.empty()) {
      size_t u = todo.back();
      todo.pop_back();
      if (!upstream.insert(u).second) continue;
      plain = plain && !materialized.count(u);
      todo.insert(todo.end(), nodes[u].deps.begin(), nodes[u].deps.end());
    }
    if (skip.empty() || others < 2 || !plain) continue;
    auto narrower = ColumnDemand(nodes, statements, skip);
    if (narrower[i].all || narrower[i].columns.size() * 2 > nodes[i].columns.size()) continue;
    std::string names;
    for (auto& edge : skip) {
      out.recompute.insert(edge);
      names += (names.empty() ? "" : ", ") + nodes[edge.first].step;
    }
    need = narrower;
    out.notes[i] =
        "; " + names + (skip.size() > 1 ? " recompute" : " recomputes") + " it rather than widen it";
  }
  for (size_t i : materialized) {
    if (need[i].all) continue;
    std::vector<std::string> keep;
    for (auto& c : nodes[i].columns) {
      if (need[i].columns.count(AsciiLower(c))) keep.push_back(c);
    }
    if (keep.empty()) keep.push_back(nodes[i].columns.front());
    out.notes[i] = " (" + std::to_string(keep.size()) + " of " + std::to_string(nodes[i].columns.size()) +
                   " columns)" + out.notes[i];
    out.kept[i] = std::move(keep);
  }
  return out;
}

}  // namespace tarn::quality
