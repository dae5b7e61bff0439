#include "livy/completion.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "common/error.h"

namespace tarn::livy {

namespace {

const char* const kKeywords[] = {"SELECT", "FROM",   "WHERE", "GROUP BY", "ORDER BY", "HAVING", "LIMIT",
                                 "JOIN",   "ON",     "AND",   "OR",       "NOT",      "AS",     "DISTINCT",
                                 "WITH",   "INSERT", "INTO",  "VALUES",   "CREATE",   "TABLE",  "SHOW"};

bool NameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  if (prefix.size() > s.size()) return false;
  for (size_t i = 0; i < prefix.size(); i++) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  }
  return true;
}

std::vector<std::string> Split(const std::string& word) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t dot; (dot = word.find('.', start)) != std::string::npos; start = dot + 1)
    parts.push_back(word.substr(start, dot - start));
  parts.push_back(word.substr(start));
  return parts;
}

}  // namespace

std::vector<std::string> CompleteNames(session::Runner& runner, const identity::Principal& principal,
                                       const std::string& code, int64_t cursor) {
  size_t end = static_cast<size_t>(std::clamp<int64_t>(cursor, 0, static_cast<int64_t>(code.size())));
  size_t begin = end;
  while (begin > 0 && NameChar(code[begin - 1])) begin--;
  auto parts = Split(code.substr(begin, end - begin));
  auto lease = runner.Borrow({principal, audit::Origin{"livy"}});
  auto& gov = lease->governor();
  std::set<std::string> out;
  auto columns = [&](const std::string& db, const std::string& table, const std::string& prefix,
                     const std::string& qualifier) {
    try {
      for (auto& c : gov.VisibleTable(db, table).schema) {
        if (StartsWith(c.name, prefix)) out.insert(qualifier + c.name);
      }
    } catch (const Error&) {
      // Not a table the principal may see: nothing to offer.
    }
  };
  if (parts.size() == 1) {
    for (auto& k : kKeywords) {
      if (StartsWith(k, parts[0])) out.insert(k);
    }
    for (auto& d : gov.VisibleDatabases()) {
      if (StartsWith(d, parts[0])) out.insert(d);
    }
    // Columns of the tables the code names.
    for (size_t i = 0; i < code.size();) {
      if (!NameChar(code[i])) {
        i++;
        continue;
      }
      size_t j = i;
      while (j < code.size() && NameChar(code[j])) j++;
      auto name = Split(code.substr(i, j - i));
      if (name.size() == 2 && !name[0].empty() && !name[1].empty() && (i != begin || j != end))
        columns(name[0], name[1], parts[0], "");
      i = j;
    }
  } else if (parts.size() == 2) {
    try {
      for (auto& t : gov.VisibleTables(parts[0])) {
        if (StartsWith(t.name, parts[1])) out.insert(parts[0] + "." + t.name);
      }
    } catch (const Error&) {
      // A database the principal may not see: nothing to offer.
    }
  } else if (parts.size() == 3) {
    columns(parts[0], parts[1], parts[2], parts[0] + "." + parts[1] + ".");
  }
  std::vector<std::string> list(out.begin(), out.end());
  if (list.size() > 100) list.resize(100);
  return list;
}

}  // namespace tarn::livy
