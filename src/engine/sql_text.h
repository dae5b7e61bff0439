// SQL text: splitting scripts into statements and reading tokens.
//
// SplitStatements cuts a script at top-level semicolons, respecting quotes
// ('...', E'...', "..."), dollar quoting ($tag$...$tag$) and comments. Tokenize
// returns a statement's tokens; TokenReader walks them to recognise the statement
// forms DuckDB's parser lacks (Tarn's catalog and governance statements).
//
// Thread-safety: pure functions; a TokenReader is used by one thread.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

namespace tarn::engine {

struct Token {
  enum Kind { kWord, kQuotedIdent, kString, kNumber, kSymbol } kind;
  std::string text;  // words as written; quoted identifiers and strings unquoted
  size_t begin = 0;  // byte offsets into the statement text
  size_t end = 0;
};

// Statements of a script, each trimmed, without its terminating ';'. Empty
// statements are dropped. Throws kInvalidArgument for an unterminated quote or comment.
std::vector<std::string> SplitStatements(const std::string& script);

// The tokens of one statement (comments and white space dropped).
std::vector<Token> Tokenize(const std::string& statement);

// `sql` with every time-travel clause AT (SNAPSHOT => ...) spelt AT (VERSION => ...),
// the only unit names besides TIMESTAMP that DuckDB's grammar knows.
std::string SpellTimeTravel(const std::string& sql);

// A cursor over a statement's tokens. Words compare case-insensitively. The
// failing methods throw kInvalidArgument "syntax error near X: expected <usage>".
class TokenReader {
 public:
  explicit TokenReader(const std::string& text) : text_(&text), tokens_(Tokenize(text)) {}

  bool AtEnd() const { return pos_ >= tokens_.size(); }
  bool PeekWord(const char* word, size_t ahead = 0) const;
  bool AcceptWord(const char* word);
  // All of `words` in order, or nothing consumed.
  bool AcceptWords(std::initializer_list<const char*> words);
  bool PeekSymbol(char c) const;
  bool AcceptSymbol(char c);
  void ExpectSymbol(char c, const char* usage);
  void ExpectWord(const char* word, const char* usage);
  // A bare or quoted identifier, as written.
  std::string Identifier(const char* usage);
  // database.table
  void QualifiedName(std::string& db, std::string& table, const char* usage);
  std::string String(const char* usage);
  // A number or a string, as text.
  std::string Literal(const char* usage);
  // The statement text from the current token to the end.
  std::string Rest() const;
  // The text from the current token up to (not including) the first top-level
  // occurrence of one of `stop_words` (outside parentheses), consuming it; stops at
  // the end otherwise.
  std::string TextUntil(std::initializer_list<const char*> stop_words);
  void ExpectEnd(const char* usage);
  [[noreturn]] void Fail(const char* usage) const;

 private:
  const std::string* text_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

}  // namespace tarn::engine
