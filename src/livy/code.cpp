#include "livy/code.h"

#include <cctype>
#include <charconv>
#include <string_view>

namespace tarn::livy {

namespace {

// A cursor over code that matches it piece by piece; any mismatch fails the whole.
class Reader {
 public:
  explicit Reader(std::string_view text) : rest_(text) {}
  bool Literal(std::string_view s) {
    if (rest_.substr(0, s.size()) != s) return false;
    rest_.remove_prefix(s.size());
    return true;
  }
  // A Python/Scala identifier: a letter or '_', then letters, digits or '_'.
  bool Identifier(std::string& out) {
    size_t n = 0;
    while (n < rest_.size() && (std::isalnum(static_cast<unsigned char>(rest_[n])) || rest_[n] == '_')) n++;
    if (n == 0 || std::isdigit(static_cast<unsigned char>(rest_[0]))) return false;
    out = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return true;
  }
  bool Integer(int64_t& out) {
    size_t n = rest_.size() && rest_[0] == '-' ? 1 : 0;
    while (n < rest_.size() && std::isdigit(static_cast<unsigned char>(rest_[n]))) n++;
    auto r = std::from_chars(rest_.data(), rest_.data() + n, out);
    if (r.ec != std::errc() || r.ptr != rest_.data() + n) return false;
    rest_.remove_prefix(n);
    return true;
  }
  // A fraction such as 0.1 (digits, one optional point, digits), within (0, 1].
  bool Fraction(double& out) {
    size_t n = 0;
    while (n < rest_.size() && (std::isdigit(static_cast<unsigned char>(rest_[n])) || rest_[n] == '.')) n++;
    std::string text(rest_.substr(0, n));
    if (text.empty() || text.find('.') != text.rfind('.')) return false;
    try {
      out = std::stod(text);
    } catch (...) {
      return false;
    }
    if (!(out > 0 && out <= 1)) return false;
    rest_.remove_prefix(n);
    return true;
  }
  bool AtEnd() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

bool IsContext(const std::string& name) {
  return name == "spark" || name == "sqlContext";
}

// `[.sample(<f>, r)](.take(N)|<collect>)`: how many rows, sampled how.
bool ReadLimit(Reader& r, const char* no, const char* collect, Code& out) {
  if (r.Literal(".sample(")) {
    double fraction = 0;
    if (!r.Literal(no) || !r.Literal(", ") || !r.Fraction(fraction) || !r.Literal(")")) return false;
    out.sample = fraction;
  }
  if (r.Literal(".take(")) {
    int64_t n = 0;
    if (!r.Integer(n) || n < 0 || !r.Literal(")")) return false;
    out.take = n;
    return true;
  }
  return r.Literal(collect);
}

// The query between `open` and the last `close` of `code`, after `head`.
bool SplitQuery(std::string_view code, std::string_view open, std::string_view close, std::string& query,
                std::string_view& tail) {
  if (code.substr(0, open.size()) != open) return false;
  auto end = code.rfind(close);
  if (end == std::string_view::npos || end < open.size()) return false;
  query = code.substr(open.size(), end - open.size());
  tail = code.substr(end + close.size());
  return true;
}

// sparkmagic's pyspark %%sql cell:
//   import sys\nfor V in C.sql(u"""Q """).toJSON(use_unicode=...)[.sample(False, r)].take(N): print(V)
// (or .collect()); older releases write toJSON() or toJSON(use_unicode=True).
bool PySparkCell(const std::string& code, Code& out) {
  Reader head(code);
  std::string var, context;
  if (!head.Literal("import sys\nfor ") || !head.Identifier(var) || !head.Literal(" in ") ||
      !head.Identifier(context) || !IsContext(context)) {
    return false;
  }
  std::string prefix = "import sys\nfor " + var + " in " + context + ".sql(u\"\"\"";
  std::string query;
  std::string_view tail;
  if (!SplitQuery(code, prefix, "\"\"\").toJSON(", query, tail)) return false;
  Reader r(tail);
  if (!r.Literal("use_unicode=(sys.version_info.major > 2))") && !r.Literal("use_unicode=True)") &&
      !r.Literal(")")) {
    return false;
  }
  if (!ReadLimit(r, "False", ".collect()", out)) return false;
  if (!r.Literal(": print(" + var + ")") || !r.AtEnd()) return false;
  if (!query.empty() && query.back() == ' ') query.pop_back();  // sparkmagic adds one space
  out.sql = std::move(query);
  out.action = Code::Action::kJsonLines;
  return true;
}

// sparkmagic's Scala %%sql cell:
//   C.sql("""Q""").toJSON[.sample(false, r)].take(N).foreach(println)   (or .collect)
bool ScalaCell(const std::string& code, Code& out) {
  Reader head(code);
  std::string context;
  if (!head.Identifier(context) || !IsContext(context)) return false;
  std::string query;
  std::string_view tail;
  if (!SplitQuery(code, context + ".sql(\"\"\"", "\"\"\").toJSON", query, tail)) return false;
  Reader r(tail);
  if (!ReadLimit(r, "false", ".collect", out)) return false;
  if (!r.Literal(".foreach(println)") || !r.AtEnd()) return false;
  out.sql = std::move(query);
  out.action = Code::Action::kJsonLines;
  return true;
}

std::string Trimmed(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

std::optional<Kind> ParseKind(const std::string& name) {
  if (name == "sql") return Kind::kSql;
  if (name == "shared") return Kind::kShared;
  if (name == "spark" || name == "scala") return Kind::kSpark;
  if (name == "pyspark" || name == "python") return Kind::kPySpark;
  return std::nullopt;
}

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kSql: return "sql";
    case Kind::kShared: return "shared";
    case Kind::kSpark: return "spark";
    case Kind::kPySpark: return "pyspark";
  }
  return "sql";
}

Code Interpret(Kind kind, const std::string& code) {
  Code out;
  if (kind == Kind::kSql || kind == Kind::kShared) {
    out.action = Code::Action::kSql;
    out.sql = code;
    return out;
  }
  std::string trimmed = Trimmed(code);
  if (IsContext(trimmed)) {
    out.action = Code::Action::kProbe;
    out.probe = trimmed;
    return out;
  }
  if (kind == Kind::kPySpark ? PySparkCell(code, out) : ScalaCell(code, out)) return out;
  return Code{};
}

}  // namespace tarn::livy
