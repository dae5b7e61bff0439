// The expression language: a tokenizer, a precedence-climbing parser that writes SQL
// as it goes, and the function list (expr_functions.cpp).
#include "quality/expr.h"

#include <cctype>

#include "common/error.h"
#include "engine/sketch.h"
#include "quality/expr_functions.h"

namespace tarn::quality {

namespace {

struct Tok {
  enum Kind { kEnd, kNumber, kString, kName, kColumn, kSymbol } kind = kEnd;
  std::string text;  // numbers as written; strings and [columns] without their quotes; symbols
  size_t at = 0;     // 0-based offset in the formula
};

class Parser {
 public:
  Parser(const std::string& formula, const std::vector<std::string>& columns, ExprMode mode,
         const std::string& what, const WindowSpec* window, std::set<std::string>* used,
         AggregateParts* parts)
      : src_(formula), columns_(columns), what_(what), used_(used), parts_(parts), ctx_{mode, window, false} {
    Lex();
  }

  std::string Compile() {
    if (toks_.size() == 1) Fail(0, "the formula is empty");
    std::string sql = Or();
    if (Peek().kind != Tok::kEnd) Fail(Peek().at, "unexpected '" + Peek().text + "'");
    return sql;
  }

 private:
  [[noreturn]] void Fail(size_t at, const std::string& why) const {
    throw Error::InvalidArgument("{}: {} (at character {} of the formula)", what_, why, at + 1);
  }

  void Lex() {
    size_t i = 0;
    while (i < src_.size()) {
      unsigned char c = static_cast<unsigned char>(src_[i]);
      if (std::isspace(c)) {
        i++;
      } else if (std::isdigit(c) || (c == '.' && i + 1 < src_.size() && std::isdigit(src_[i + 1]))) {
        size_t b = i;
        while (i < src_.size() && std::isdigit(static_cast<unsigned char>(src_[i]))) i++;
        if (i < src_.size() && src_[i] == '.') {
          i++;
          while (i < src_.size() && std::isdigit(static_cast<unsigned char>(src_[i]))) i++;
        }
        if (i < src_.size() && (src_[i] == 'e' || src_[i] == 'E')) {
          size_t e = i + 1;
          if (e < src_.size() && (src_[e] == '+' || src_[e] == '-')) e++;
          if (e < src_.size() && std::isdigit(static_cast<unsigned char>(src_[e]))) {
            i = e;
            while (i < src_.size() && std::isdigit(static_cast<unsigned char>(src_[i]))) i++;
          }
        }
        toks_.push_back({Tok::kNumber, src_.substr(b, i - b), b});
      } else if (c == '"' || c == '\'') {
        size_t b = i++;
        std::string text;
        while (true) {
          if (i >= src_.size()) Fail(b, "a text in quotes is not closed");
          if (src_[i] == static_cast<char>(c)) {
            if (i + 1 < src_.size() && src_[i + 1] == static_cast<char>(c)) {  // "" inside "..."
              text += src_[i];
              i += 2;
              continue;
            }
            i++;
            break;
          }
          text += src_[i++];
        }
        toks_.push_back({Tok::kString, text, b});
      } else if (c == '[') {
        size_t b = i++;
        size_t close = src_.find(']', i);
        if (close == std::string::npos) Fail(b, "a [column name] is not closed");
        toks_.push_back({Tok::kColumn, src_.substr(i, close - i), b});
        i = close + 1;
      } else if (std::isalpha(c) || c == '_') {
        size_t b = i;
        while (i < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[i])) || src_[i] == '_')) i++;
        toks_.push_back({Tok::kName, src_.substr(b, i - b), b});
      } else {
        static const char* kTwo[] = {"<>", "<=", ">=", "!="};
        std::string sym(1, static_cast<char>(c));
        for (auto* two : kTwo) {
          if (src_.compare(i, 2, two) == 0) sym = two;
        }
        if (std::string("+-*/^&=<>(),%").find(static_cast<char>(c)) == std::string::npos)
          Fail(i, fmt::format("unexpected character '{}'", static_cast<char>(c)));
        toks_.push_back({Tok::kSymbol, sym == "!=" ? "<>" : sym, i});
        i += sym.size();
      }
    }
    toks_.push_back({Tok::kEnd, "the end", src_.size()});
  }

  const Tok& Peek() const { return toks_[pos_]; }
  bool IsWord(const Tok& t, const char* word) const {
    if (t.kind != Tok::kName || t.text.size() != std::char_traits<char>::length(word)) return false;
    for (size_t i = 0; i < t.text.size(); i++) {
      if (std::toupper(static_cast<unsigned char>(t.text[i])) != word[i]) return false;
    }
    return true;
  }
  bool AcceptWord(const char* word) {
    if (!IsWord(Peek(), word)) return false;
    pos_++;
    return true;
  }
  bool AcceptSymbol(const char* sym) {
    if (Peek().kind != Tok::kSymbol || Peek().text != sym) return false;
    pos_++;
    return true;
  }
  void Expect(const char* sym, const char* usage) {
    if (!AcceptSymbol(sym))
      Fail(Peek().at, fmt::format("expected '{}' {}, found '{}'", sym, usage, Peek().text));
  }

  // or := and (OR and)*;  and := not (AND not)*;  not := NOT not | cmp
  // Formulas nest at most 200 deep (a deeper one would exhaust the stack).
  struct Depth {
    Parser& p;
    explicit Depth(Parser& parser) : p(parser) {
      if (++p.depth_ > 200) p.Fail(p.Peek().at, "the formula nests deeper than 200 levels");
    }
    ~Depth() { p.depth_--; }
  };

  std::string Or() {
    Depth depth(*this);
    std::string left = And();
    while (AcceptWord("OR")) left = "(" + left + " OR " + And() + ")";
    return left;
  }
  std::string And() {
    std::string left = Not();
    while (AcceptWord("AND")) left = "(" + left + " AND " + Not() + ")";
    return left;
  }
  std::string Not() {
    Depth depth(*this);
    if (AcceptWord("NOT")) return "(NOT " + Not() + ")";
    return Compare();
  }
  // cmp := concat (op concat)?
  std::string Compare() {
    std::string left = Concat();
    for (const char* op : {"=", "<>", "<=", ">=", "<", ">"}) {
      if (AcceptSymbol(op)) return "(" + left + " " + op + " " + Concat() + ")";
    }
    return left;
  }
  std::string Concat() {
    std::string left = Sum();
    while (AcceptSymbol("&")) left = "concat(" + left + ", " + Sum() + ")";
    return left;
  }
  std::string Sum() {
    std::string left = Product();
    while (true) {
      if (AcceptSymbol("+")) {
        left = "(" + left + " + " + Product() + ")";
      } else if (AcceptSymbol("-")) {
        left = "(" + left + " - " + Product() + ")";
      } else {
        return left;
      }
    }
  }
  std::string Product() {
    std::string left = Power();
    while (true) {
      if (AcceptSymbol("*")) {
        left = "(" + left + " * " + Power() + ")";
      } else if (AcceptSymbol("/")) {
        left = "(" + left + " / nullif(" + Power() + ", 0))";  // x / 0 is blank (IFERROR catches it)
      } else {
        return left;
      }
    }
  }
  std::string Power() {
    Depth depth(*this);
    std::string base = Unary();
    if (AcceptSymbol("^")) return "power(" + base + ", " + Power() + ")";
    return base;
  }
  std::string Unary() {
    Depth depth(*this);
    if (AcceptSymbol("-")) return "(- " + Unary() + ")";
    if (AcceptSymbol("+")) return Unary();
    std::string v = Primary();
    while (AcceptSymbol("%")) v = "(" + v + " / 100.0)";
    return v;
  }
  std::string Primary() {
    Tok t = Peek();
    switch (t.kind) {
      case Tok::kNumber: pos_++; return t.text;
      case Tok::kString: pos_++; return StringLiteral(t.text);
      case Tok::kColumn: pos_++; return Column(t);
      case Tok::kSymbol:
        if (AcceptSymbol("(")) {
          std::string inner = Or();
          Expect(")", "to close '('");
          return "(" + inner + ")";
        }
        Fail(t.at, "unexpected '" + t.text + "'");
      case Tok::kEnd: Fail(t.at, "the formula ends too early");
      case Tok::kName: break;
    }
    pos_++;
    if (AcceptSymbol("(")) return Call(t);
    if (IsWord(t, "TRUE")) return "TRUE";
    if (IsWord(t, "FALSE")) return "FALSE";
    if (IsWord(t, "NULL")) return "NULL";
    return Column(t);
  }

  std::string Column(const Tok& t) {
    std::string why;
    if (const std::string* c = MatchColumn(columns_, t.text, why)) return Use(*c);
    Fail(t.at, why);
  }

  std::string Use(const std::string& column) {
    if (used_) used_->insert(column);
    return QuoteName(column);
  }

  std::string Call(const Tok& name) {
    std::vector<std::string> args;
    std::vector<Arg> raw;
    const FunctionDef* def = FindFunction(name.text, ctx_.mode);
    if (!def)
      Fail(name.at, fmt::format("no function {} here (docs/reconciliation.md lists them)", name.text));
    bool was_inside = ctx_.inside_aggregate;
    if (def->kind != FunctionKind::kRow) {
      if (was_inside) Fail(name.at, fmt::format("{} cannot be used inside another aggregate", def->name));
      ctx_.inside_aggregate = true;
    }
    if (!AcceptSymbol(")")) {
      do {
        size_t at = Peek().at;
        const Tok& first = Peek();
        bool literal = (first.kind == Tok::kString || first.kind == Tok::kNumber) &&
                       (toks_[pos_ + 1].kind == Tok::kSymbol &&
                        (toks_[pos_ + 1].text == "," || toks_[pos_ + 1].text == ")"));
        std::string text = first.text;
        args.push_back(Or());
        raw.push_back({literal ? std::optional<std::string>(text) : std::nullopt, at});
      } while (AcceptSymbol(","));
      Expect(")", fmt::format("to close {}(", def->name).c_str());
    }
    ctx_.inside_aggregate = was_inside;
    if (args.size() < def->min_args || args.size() > def->max_args) {
      std::string want = def->min_args == def->max_args ? std::to_string(def->min_args)
                         : def->max_args == kMany       ? fmt::format("{} or more", def->min_args)
                                                  : fmt::format("{} to {}", def->min_args, def->max_args);
      Fail(name.at, fmt::format("{} takes {} argument{}, not {} ({})", def->name, want,
                                def->max_args == 1 ? "" : "s", args.size(), def->usage));
    }
    try {
      std::string sql = def->emit(args, raw, ctx_);
      if (parts_ && ctx_.mode == ExprMode::kAggregate && def->kind == FunctionKind::kAggregate)
        return parts_->Split(def->name, sql);
      return sql;
    } catch (const Error& e) {
      Fail(name.at, fmt::format("{}: {}", def->name, e.what()));
    }
  }

  const std::string& src_;
  const std::vector<std::string>& columns_;
  const std::string& what_;
  std::set<std::string>* used_;
  AggregateParts* parts_;
  CallContext ctx_;
  std::vector<Tok> toks_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

std::string QuoteName(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string StringLiteral(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

const std::string* MatchColumn(const std::vector<std::string>& columns, const std::string& name,
                               std::string& why) {
  for (auto& c : columns) {
    if (c == name) return &c;
  }
  const std::string* found = nullptr;
  int matches = 0;
  for (auto& c : columns) {
    if (c.size() == name.size() && std::equal(c.begin(), c.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      found = &c;
      matches++;
    }
  }
  if (matches == 1) return found;
  std::string list;
  for (size_t i = 0; i < columns.size() && i < 30; i++) list += (i ? ", " : "") + columns[i];
  if (columns.size() > 30) list += ", ...";
  why = matches > 1 ? fmt::format("column '{}' is ambiguous: write it with its exact case", name)
                    : fmt::format("no column '{}' (columns: {})", name.substr(0, 128), list);
  return nullptr;
}

std::string CompileExpr(const std::string& formula, const std::vector<std::string>& columns, ExprMode mode,
                        const std::string& what, const WindowSpec* window, std::set<std::string>* used,
                        AggregateParts* parts) {
  if (formula.size() > 20000)
    throw Error::InvalidArgument("{}: the formula is longer than 20000 characters", what);
  return Parser(formula, columns, mode, what, window, used, parts).Compile();
}

std::string AggregateParts::Add(const std::string& sql) {
  std::string name = "__p" + std::to_string(partial.size());
  partial.push_back(sql + " AS " + QuoteName(name));
  return QuoteName(name);
}

std::string AggregateParts::Stored(size_t i, const std::string& type) const {
  const std::string& p = partial.at(i);
  if (type != "HUGEINT" && type != "UHUGEINT") return p;
  auto as = p.rfind(" AS ");
  return "CAST(" + p.substr(0, as) + " AS DECIMAL(38,0))" + p.substr(as);
}

std::string AggregateParts::Split(const std::string& name, const std::string& sql) {
  auto starts = [&](const char* prefix) { return name.rfind(prefix, 0) == 0; };
  if (name == "SUM" || starts("SUMIF")) return "sum(" + Add(sql) + ")";
  if (name == "MIN" || starts("MINIFS")) return "min(" + Add(sql) + ")";
  if (name == "MAX" || starts("MAXIFS")) return "max(" + Add(sql) + ")";
  if (name == "COUNT" || name == "COUNTA" || starts("COUNTIF"))
    return "CAST(coalesce(sum(" + Add(sql) + "), 0) AS BIGINT)";
  // A distinct count estimate: each part's sketch, merged (engine/sketch.h): the
  // figure approx_count_distinct gives over all the rows.
  if (name == "APPROX_COUNT_DISTINCT" && sql.rfind("approx_count_distinct(", 0) == 0)
    return fmt::format("{}({}({}))", engine::kSketchCountFunction, engine::kSketchMergeFunction,
                       Add(std::string(engine::kSketchFunction) + "(" + sql.substr(22)));
  if ((name == "AVERAGE" || name == "AVG" || starts("AVERAGEIF")) && sql.rfind("avg(", 0) == 0) {
    std::string total = Add("sum(" + sql.substr(4)), count = Add("count(" + sql.substr(4));
    return "(CAST(sum(" + total + ") AS DOUBLE) / nullif(sum(" + count + "), 0))";
  }
  ok = false;
  return sql;
}

}  // namespace tarn::quality
