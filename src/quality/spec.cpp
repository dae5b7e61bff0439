// A pipeline spec's fields as the steps read them (compiler.h, Spec): typed access
// that fails naming the spec's line and field, and the names a spec may use.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "common/error.h"
#include "quality/compiler.h"
#include "quality/expr_functions.h"

namespace tarn::quality {

// 1-64 of letters, digits and '_', not starting with a digit: an input, step, database
// or table name.
bool IsName(const std::string& s) {
  if (s.empty() || s.size() > 64 || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

YAML::Node LoadSpec(const std::string& text, const std::string& source, size_t max_bytes) {
  if (text.size() > max_bytes)
    throw Error::InvalidArgument("{}: the spec is larger than {} MiB", source, max_bytes >> 20);
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw Error::InvalidArgument("{} line {}: not valid YAML: {}", source, e.mark.line + 1, e.msg);
  }
}

// --- Spec ----------------------------------------------------------------------

int Spec::Line(const std::string& field) const {
  if (!field.empty() && node_.IsMap() && node_[field]) return node_[field].Mark().line + 1;
  return node_.Mark().line + 1;
}

void Spec::Fail(const std::string& field, const std::string& why) const {
  int line = Line(field);
  throw Error::InvalidArgument("{}{}{}: {}", where_, line > 0 ? fmt::format(" line {}", line) : "",
                               field.empty() ? "" : ", field '" + field + "'", why);
}

void Spec::OnlyFields(const std::set<std::string>& known) const {
  if (!node_.IsMap()) Fail("", "expected a map of options");
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
    if (!known.count(key)) {
      std::string list;
      for (auto& k : known) list += (list.empty() ? "" : ", ") + k;
      Fail("", fmt::format("unknown field '{}' (known: {})", key.substr(0, 64), list));
    }
  }
}

std::string Spec::Text(const std::string& field, const std::string& fallback, bool required) const {
  if (!Has(field)) {
    if (required) Fail(field, "is required");
    return fallback;
  }
  if (!node_[field].IsScalar()) Fail(field, "must be a single value");
  std::string v = node_[field].Scalar();
  if (v.size() > 20000) Fail(field, "is longer than 20000 characters");
  return v;
}

bool Spec::Bool(const std::string& field, bool fallback) const {
  if (!Has(field)) return fallback;
  std::string v = Text(field);
  if (v == "true" || v == "yes") return true;
  if (v == "false" || v == "no") return false;
  Fail(field, "must be true or false");
}

std::string Spec::Choice(const std::string& field, const std::vector<std::string>& allowed,
                         const std::string& fallback) const {
  std::string v = Text(field, fallback);
  if (std::find(allowed.begin(), allowed.end(), v) != allowed.end()) return v;
  std::string list;
  for (auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  Fail(field, fmt::format("must be one of {} (not '{}')", list, v.substr(0, 64)));
}

std::vector<std::string> Spec::List(const std::string& field, bool required) const {
  std::vector<std::string> out;
  if (!Has(field)) {
    if (required) Fail(field, "is required");
    return out;
  }
  const YAML::Node& n = node_[field];
  if (n.IsScalar()) return {n.Scalar()};
  if (!n.IsSequence()) Fail(field, "must be a list");
  for (auto item : n) {
    if (!item.IsScalar()) Fail(field, "must be a list of names or formulas");
    out.push_back(item.Scalar());
  }
  if (required && out.empty()) Fail(field, "must not be empty");
  return out;
}

std::vector<std::pair<std::string, std::string>> Spec::Pairs(const std::string& field, bool required) const {
  std::vector<std::pair<std::string, std::string>> out;
  if (!Has(field)) {
    if (required) Fail(field, "is required");
    return out;
  }
  const YAML::Node& n = node_[field];
  if (n.IsScalar()) {
    out.emplace_back(n.Scalar(), n.Scalar());
  } else if (n.IsSequence()) {
    // Names, or one-entry maps {a: b} among them.
    for (auto item : n) {
      if (item.IsScalar()) {
        out.emplace_back(item.Scalar(), item.Scalar());
      } else if (item.IsMap() && item.size() == 1 && item.begin()->first.IsScalar() &&
                 item.begin()->second.IsScalar()) {
        out.emplace_back(item.begin()->first.Scalar(), item.begin()->second.Scalar());
      } else {
        Fail(field, "must list names, or {name: other_name} pairs");
      }
    }
  } else if (n.IsMap()) {
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (!it->first.IsScalar() || !it->second.IsScalar()) Fail(field, "must map names to names or formulas");
      out.emplace_back(it->first.Scalar(), it->second.Scalar());
    }
  } else {
    Fail(field, "must be a list or a map");
  }
  if (required && out.empty()) Fail(field, "must not be empty");
  return out;
}

Spec Spec::Child(const std::string& field) const {
  if (!Has(field) || !node_[field].IsMap()) Fail(field, "must be a map of options");
  return Spec(node_[field], where_ + ", field '" + field + "'");
}

std::string Spec::Table(const std::string& field) const {
  std::string table = Text(field, "", true);
  auto dot = table.find('.');
  if (dot == std::string::npos || !IsName(table.substr(0, dot)) || !IsName(table.substr(dot + 1)))
    Fail(field, "must name a table as database.table");
  return QuoteName(table.substr(0, dot)) + "." + QuoteName(table.substr(dot + 1));
}

std::string Spec::Literal(const std::string& field) const {
  std::string v = Text(field, "", true);
  const YAML::Node& n = node_[field];
  bool quoted = n.Tag() == "!";  // written in quotes: always text
  if (!quoted && (v == "true" || v == "false")) return v == "true" ? "TRUE" : "FALSE";
  if (!quoted && (v == "null" || v == "~")) return "NULL";
  bool number = !quoted && !v.empty() && v.size() < 40;
  size_t i = (v[0] == '-' || v[0] == '+') ? 1 : 0;
  bool digits = false, dot = false;
  for (; number && i < v.size(); i++) {
    if (std::isdigit(static_cast<unsigned char>(v[i]))) {
      digits = true;
    } else if (v[i] == '.' && !dot) {
      dot = true;
    } else {
      number = false;
    }
  }
  return number && digits ? v : StringLiteral(v);
}

}  // namespace tarn::quality
