#include "session/script.h"

#include <strings.h>
#include <cctype>

#include "common/error.h"

namespace tarn::session {

namespace {

bool IsWordStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
}

// Reads a quoted text whose opening quote ends just before `i`: a doubled quote
// stands for itself and, with `backslash`, \x for x. Appends the text to `out` and
// returns the index after the closing quote, or npos if there is none.
size_t ReadQuoted(const std::string& s, size_t i, char quote, bool backslash, std::string& out) {
  while (i < s.size()) {
    if (backslash && s[i] == '\\' && i + 1 < s.size()) {
      out += s[i + 1];
      i += 2;
    } else if (s[i] == quote) {
      if (i + 1 < s.size() && s[i + 1] == quote) {
        out += quote;
        i += 2;
      } else {
        return i + 1;
      }
    } else {
      out += s[i++];
    }
  }
  return std::string::npos;
}

// Scans a script; calls on_token for each token and on_semicolon at each top-level ';'.
template <typename OnToken, typename OnSemicolon>
void Scan(const std::string& s, OnToken on_token, OnSemicolon on_semicolon) {
  size_t i = 0, n = s.size();
  while (i < n) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      i++;
    } else if (c == '-' && i + 1 < n && s[i + 1] == '-') {
      while (i < n && s[i] != '\n') i++;
    } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
      size_t close = s.find("*/", i + 2);
      if (close == std::string::npos) throw Error::InvalidArgument("syntax error: unterminated /* comment");
      i = close + 2;
    } else if (c == '\'' || ((c == 'E' || c == 'e') && i + 1 < n && s[i + 1] == '\'')) {
      bool escapes = c != '\'';
      size_t start = i;
      std::string text;
      i = ReadQuoted(s, i + (escapes ? 2 : 1), '\'', escapes, text);
      if (i == std::string::npos) throw Error::InvalidArgument("syntax error: unterminated string literal");
      on_token(Token{Token::kString, text, start, i});
    } else if (c == '"') {
      size_t start = i;
      std::string text;
      i = ReadQuoted(s, i + 1, '"', false, text);
      if (i == std::string::npos)
        throw Error::InvalidArgument("syntax error: unterminated quoted identifier");
      on_token(Token{Token::kQuotedIdent, text, start, i});
    } else if (c == '$' && i + 1 < n && (s[i + 1] == '$' || IsWordStart(s[i + 1]))) {
      size_t tag_end = i + 1;
      while (tag_end < n && s[tag_end] != '$' && IsWordChar(s[tag_end])) tag_end++;
      if (tag_end < n && s[tag_end] == '$') {
        std::string tag = s.substr(i, tag_end - i + 1);
        size_t close = s.find(tag, tag_end + 1);
        if (close == std::string::npos)
          throw Error::InvalidArgument("syntax error: unterminated {} string", tag);
        on_token(Token{Token::kString, s.substr(tag_end + 1, close - tag_end - 1), i, close + tag.size()});
        i = close + tag.size();
      } else {
        on_token(Token{Token::kSymbol, "$", i, i + 1});
        i++;
      }
    } else if (IsWordStart(c)) {
      size_t start = i;
      while (i < n && IsWordChar(s[i])) i++;
      on_token(Token{Token::kWord, s.substr(start, i - start), start, i});
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t start = i;
      while (i < n && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '.')) i++;
      on_token(Token{Token::kNumber, s.substr(start, i - start), start, i});
    } else if (c == ';') {
      on_semicolon(i);
      i++;
    } else {
      on_token(Token{Token::kSymbol, std::string(1, c), i, i + 1});
      i++;
    }
  }
}

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) b++;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) e--;
  return s.substr(b, e - b);
}

// A cursor over a statement's tokens.
class Reader {
 public:
  Reader(const std::string& text, std::vector<Token> tokens) : text_(&text), tokens_(std::move(tokens)) {}

  bool AtEnd() const { return pos_ >= tokens_.size(); }
  bool PeekWord(const char* word, size_t ahead = 0) const {
    size_t p = pos_ + ahead;
    return p < tokens_.size() && tokens_[p].kind == Token::kWord &&
           strcasecmp(tokens_[p].text.c_str(), word) == 0;
  }
  bool AcceptWord(const char* word) {
    if (!PeekWord(word)) return false;
    pos_++;
    return true;
  }
  bool AcceptWords(std::initializer_list<const char*> words) {
    size_t k = 0;
    for (auto w : words) {
      if (!PeekWord(w, k++)) return false;
    }
    pos_ += words.size();
    return true;
  }
  bool AcceptSymbol(char c) {
    if (AtEnd() || tokens_[pos_].kind != Token::kSymbol || tokens_[pos_].text[0] != c) return false;
    pos_++;
    return true;
  }
  void ExpectSymbol(char c, const char* usage) {
    if (!AcceptSymbol(c)) Fail(usage);
  }
  std::string Identifier(const char* usage) {
    if (AtEnd() || (tokens_[pos_].kind != Token::kWord && tokens_[pos_].kind != Token::kQuotedIdent))
      Fail(usage);
    return tokens_[pos_++].text;
  }
  // database.table
  void QualifiedName(std::string& db, std::string& table, const char* usage) {
    db = Identifier(usage);
    if (!AcceptSymbol('.')) {
      throw Error::InvalidArgument("table name '{}' needs its database: write database.{}", db, db);
    }
    table = Identifier(usage);
  }
  std::string String(const char* usage) {
    if (AtEnd() || tokens_[pos_].kind != Token::kString) Fail(usage);
    return tokens_[pos_++].text;
  }
  // The statement text from the current token to the end.
  std::string Rest() const { return AtEnd() ? std::string() : text_->substr(tokens_[pos_].begin); }
  void ExpectEnd(const char* usage) {
    if (!AtEnd()) Fail(usage);
  }
  [[noreturn]] void Fail(const char* usage) const {
    std::string near = AtEnd() ? "end of statement" : "'" + tokens_[pos_].text + "'";
    throw Error::InvalidArgument("syntax error near {}: expected {}", near, usage);
  }

 private:
  const std::string* text_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

constexpr const char* kCreateExternalUsage =
    "CREATE EXTERNAL TABLE [IF NOT EXISTS] db.table LOCATION 'path/in/lake' [FORMAT parquet|csv|json] "
    "[PARTITIONED BY (col, ...)]";

}  // namespace

std::vector<std::string> SplitStatements(const std::string& script) {
  std::vector<std::string> out;
  size_t start = 0;
  auto flush = [&](size_t end) {
    std::string s = Trim(script.substr(start, end - start));
    if (!s.empty() && !Tokenize(s).empty()) out.push_back(s);
    start = end + 1;
  };
  Scan(
      script, [](const Token&) {}, flush);
  flush(script.size());
  return out;
}

std::vector<Token> Tokenize(const std::string& statement) {
  std::vector<Token> tokens;
  Scan(
      statement, [&](const Token& t) { tokens.push_back(t); },
      [&](size_t at) {
        tokens.push_back(Token{Token::kSymbol, ";", at, at + 1});
      });
  return tokens;
}

std::optional<TarnStatement> ParseTarnStatement(const std::string& statement) {
  Reader r(statement, Tokenize(statement));
  TarnStatement st{};
  if (r.AcceptWords({"CREATE", "DATABASE"})) {
    st.kind = TarnStatement::kCreateDatabase;
    st.if_not_exists = r.AcceptWords({"IF", "NOT", "EXISTS"});
    st.database = r.Identifier("CREATE DATABASE [IF NOT EXISTS] name");
    r.ExpectEnd("CREATE DATABASE [IF NOT EXISTS] name");
    return st;
  }
  if (r.AcceptWords({"DROP", "DATABASE"})) {
    st.kind = TarnStatement::kDropDatabase;
    st.if_not_exists = r.AcceptWords({"IF", "EXISTS"});
    st.database = r.Identifier("DROP DATABASE [IF EXISTS] name [CASCADE]");
    st.cascade = r.AcceptWord("CASCADE");
    r.ExpectEnd("DROP DATABASE [IF EXISTS] name [CASCADE]");
    return st;
  }
  if (r.AcceptWords({"CREATE", "EXTERNAL", "TABLE"})) {
    st.kind = TarnStatement::kCreateExternalTable;
    st.if_not_exists = r.AcceptWords({"IF", "NOT", "EXISTS"});
    r.QualifiedName(st.database, st.table, kCreateExternalUsage);
    bool have_location = false;
    while (!r.AtEnd()) {
      if (r.AcceptWord("LOCATION")) {
        st.location = r.String(kCreateExternalUsage);
        have_location = true;
      } else if (r.AcceptWord("FORMAT")) {
        st.format = lake::ParseFormat(r.Identifier(kCreateExternalUsage));
      } else if (r.AcceptWords({"PARTITIONED", "BY"})) {
        r.ExpectSymbol('(', kCreateExternalUsage);
        do {
          st.partition_columns.push_back(r.Identifier(kCreateExternalUsage));
        } while (r.AcceptSymbol(','));
        r.ExpectSymbol(')', kCreateExternalUsage);
      } else {
        r.Fail(kCreateExternalUsage);
      }
    }
    if (!have_location)
      throw Error::InvalidArgument("CREATE EXTERNAL TABLE needs LOCATION: {}", kCreateExternalUsage);
    return st;
  }
  if (r.AcceptWords({"INSERT", "OVERWRITE"})) {
    st.kind = TarnStatement::kInsertOverwrite;
    r.AcceptWord("TABLE");
    r.QualifiedName(st.database, st.table, "INSERT OVERWRITE [TABLE] db.table SELECT ...");
    st.query = r.Rest();
    if (st.query.empty())
      throw Error::InvalidArgument("INSERT OVERWRITE needs a query: INSERT OVERWRITE db.table SELECT ...");
    return st;
  }
  if (r.AcceptWords({"SHOW", "DATABASES"}) || r.AcceptWords({"SHOW", "SCHEMAS"})) {
    st.kind = TarnStatement::kShowDatabases;
    r.ExpectEnd("SHOW DATABASES");
    return st;
  }
  if (r.AcceptWords({"SHOW", "TABLES"})) {
    st.kind = TarnStatement::kShowTables;
    if (r.AcceptWord("IN") || r.AcceptWord("FROM")) st.database = r.Identifier("SHOW TABLES [IN database]");
    r.ExpectEnd("SHOW TABLES [IN database]");
    return st;
  }
  if (r.AcceptWords({"SHOW", "SNAPSHOTS"})) {
    st.kind = TarnStatement::kShowSnapshots;
    if (!r.AcceptWord("FOR")) r.AcceptWord("OF");
    r.QualifiedName(st.database, st.table, "SHOW SNAPSHOTS db.table");
    r.ExpectEnd("SHOW SNAPSHOTS db.table");
    return st;
  }
  if (r.PeekWord("DESCRIBE") || r.PeekWord("DESC")) {
    // DESCRIBE SELECT ... stays DuckDB's; DESCRIBE [TABLE] db.t is the catalog's.
    Reader probe = r;
    probe.AcceptWord("DESCRIBE") || probe.AcceptWord("DESC");
    if (probe.PeekWord("SELECT") || probe.PeekWord("WITH") || probe.PeekWord("FROM") ||
        probe.AcceptSymbol('(')) {
      return std::nullopt;
    }
    r = probe;
    st.kind = TarnStatement::kDescribe;
    r.AcceptWord("TABLE");
    r.QualifiedName(st.database, st.table, "DESCRIBE db.table");
    r.ExpectEnd("DESCRIBE db.table");
    return st;
  }
  if (r.PeekWord("SHOW")) {
    throw Error::Unsupported(
        "unknown SHOW statement: use SHOW DATABASES, SHOW TABLES [IN db] or SHOW SNAPSHOTS db.table");
  }
  return std::nullopt;
}

}  // namespace tarn::session
