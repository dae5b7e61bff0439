#include "engine/sql_text.h"

#include <strings.h>
#include <cctype>
#include <cstring>

#include "common/error.h"

namespace tarn::engine {

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

bool TokenReader::PeekWord(const char* word, size_t ahead) const {
  size_t p = pos_ + ahead;
  return p < tokens_.size() && tokens_[p].kind == Token::kWord &&
         strcasecmp(tokens_[p].text.c_str(), word) == 0;
}

bool TokenReader::AcceptWord(const char* word) {
  if (!PeekWord(word)) return false;
  pos_++;
  return true;
}

bool TokenReader::AcceptWords(std::initializer_list<const char*> words) {
  size_t k = 0;
  for (auto w : words) {
    if (!PeekWord(w, k++)) return false;
  }
  pos_ += words.size();
  return true;
}

bool TokenReader::PeekSymbol(char c) const {
  return !AtEnd() && tokens_[pos_].kind == Token::kSymbol && tokens_[pos_].text[0] == c;
}

bool TokenReader::AcceptSymbol(char c) {
  if (!PeekSymbol(c)) return false;
  pos_++;
  return true;
}

void TokenReader::ExpectSymbol(char c, const char* usage) {
  if (!AcceptSymbol(c)) Fail(usage);
}

void TokenReader::ExpectWord(const char* word, const char* usage) {
  if (!AcceptWord(word)) Fail(usage);
}

std::string TokenReader::Identifier(const char* usage) {
  if (AtEnd() || (tokens_[pos_].kind != Token::kWord && tokens_[pos_].kind != Token::kQuotedIdent))
    Fail(usage);
  return tokens_[pos_++].text;
}

void TokenReader::QualifiedName(std::string& db, std::string& table, const char* usage) {
  db = Identifier(usage);
  if (!AcceptSymbol('.')) {
    throw Error::InvalidArgument("table name '{}' needs its database: write database.{}", db, db);
  }
  table = Identifier(usage);
}

std::string TokenReader::String(const char* usage) {
  if (AtEnd() || tokens_[pos_].kind != Token::kString) Fail(usage);
  return tokens_[pos_++].text;
}

std::string TokenReader::Literal(const char* usage) {
  if (AtEnd() || (tokens_[pos_].kind != Token::kString && tokens_[pos_].kind != Token::kNumber)) Fail(usage);
  return tokens_[pos_++].text;
}

std::string TokenReader::Rest() const {
  return AtEnd() ? std::string() : text_->substr(tokens_[pos_].begin);
}

std::string TokenReader::TextUntil(std::initializer_list<const char*> stop_words) {
  if (AtEnd()) return {};
  size_t begin = tokens_[pos_].begin, end = text_->size();
  int depth = 0;
  while (!AtEnd()) {
    const Token& t = tokens_[pos_];
    if (t.kind == Token::kSymbol && t.text[0] == '(') depth++;
    if (t.kind == Token::kSymbol && t.text[0] == ')') depth--;
    if (depth == 0 && t.kind == Token::kWord) {
      bool stop = false;
      for (auto w : stop_words) stop = stop || strcasecmp(t.text.c_str(), w) == 0;
      if (stop) {
        end = t.begin;
        break;
      }
    }
    pos_++;
  }
  return Trim(text_->substr(begin, end - begin));
}

void TokenReader::ExpectEnd(const char* usage) {
  if (!AtEnd()) Fail(usage);
}

void TokenReader::Fail(const char* usage) const {
  std::string near = AtEnd() ? "end of statement" : "'" + tokens_[pos_].text + "'";
  throw Error::InvalidArgument("syntax error near {}: expected {}", near, usage);
}

std::string SpellTimeTravel(const std::string& sql) {
  // Most statements have no such clause: a case-blind search, without a copy, decides.
  if (strcasestr(sql.c_str(), "snapshot") == nullptr) return sql;
  std::vector<Token> tokens;
  try {
    tokens = Tokenize(sql);
  } catch (const Error&) {
    return sql;  // the parser says what is wrong with it
  }
  auto word = [&](size_t i, const char* w) {
    return i < tokens.size() && tokens[i].kind == Token::kWord && strcasecmp(tokens[i].text.c_str(), w) == 0;
  };
  auto symbol = [&](size_t i, char c) {
    return i < tokens.size() && tokens[i].kind == Token::kSymbol && tokens[i].text[0] == c;
  };
  std::string out;
  size_t copied = 0;
  for (size_t i = 0; i + 4 < tokens.size(); i++) {
    if (word(i, "AT") && symbol(i + 1, '(') && word(i + 2, "SNAPSHOT") && symbol(i + 3, '=') &&
        symbol(i + 4, '>')) {
      out += sql.substr(copied, tokens[i + 2].begin - copied) + "VERSION";
      copied = tokens[i + 2].end;
    }
  }
  return out + sql.substr(copied);
}

}  // namespace tarn::engine
