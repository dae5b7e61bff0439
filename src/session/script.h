// Splitting SQL scripts into statements and reading Tarn's own statement forms.
//
// SplitStatements cuts a script at top-level semicolons, respecting quotes
// ('...', E'...', "..."), dollar quoting ($tag$...$tag$) and comments. The
// Tokens of a statement are what ParseTarnStatement looks at to recognise the
// statements DuckDB lacks; everything else goes to DuckDB's parser.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lake/lake.h"

namespace tarn::session {

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

// A statement only Tarn understands.
struct TarnStatement {
  enum Kind {
    kCreateDatabase,
    kDropDatabase,
    kCreateExternalTable,
    kInsertOverwrite,
    kShowDatabases,
    kShowTables,
    kDescribe,
    kShowSnapshots,
  } kind;
  std::string database;
  std::string table;
  bool if_not_exists = false;  // IF NOT EXISTS / IF EXISTS
  bool cascade = false;
  std::string location;
  std::optional<lake::Format> format;
  std::vector<std::string> partition_columns;
  std::string query;  // INSERT OVERWRITE: the SELECT text
};

// The Tarn statement `statement` is, or nullopt if it is not one of Tarn's forms
// (then it is DuckDB SQL). Throws kInvalidArgument with a usage hint when it starts
// like a Tarn statement but is malformed.
std::optional<TarnStatement> ParseTarnStatement(const std::string& statement);

}  // namespace tarn::session
