// Splitting SQL scripts into statements and reading Tarn's own statement forms.
//
// SplitStatements cuts a script at top-level semicolons, respecting quotes
// ('...', E'...', "..."), dollar quoting ($tag$...$tag$) and comments. The
// Tokens of a statement are what ParseTarnStatement looks at to recognise the
// statements DuckDB lacks; everything else goes to DuckDB's parser.
//
// Thread-safety: pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "engine/sql_text.h"
#include "lake/lake.h"

namespace tarn::session {

using engine::SplitStatements;
using engine::Token;
using engine::Tokenize;

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
    kShowHistory,
    kRollback,
    kClone,
    kSetProperties,
    kShowProperties,
    kOptimize,
    kExpireSnapshots,
    kAlterSchema,
  } kind;
  std::string database;
  std::string table;
  bool if_not_exists = false;  // IF NOT EXISTS / IF EXISTS
  bool cascade = false;
  std::string location;
  std::optional<lake::Format> format;
  std::vector<std::string> partition_columns;
  std::string query;  // INSERT OVERWRITE: the SELECT text
  // CLONE: the source table and the point in time (nullopt: now); ROLLBACK: `at`'s snapshot.
  std::string source_database, source_table;
  std::optional<catalog::TimeTravel> at;
  // ALTER TABLE ... SET / UNSET TBLPROPERTIES: key -> value (nullopt: unset).
  std::map<std::string, std::optional<std::string>> properties;
  // ALTER TABLE ... ADD / RENAME / DROP / ALTER COLUMN, SET PARTITIONED BY.
  catalog::SchemaChange schema_change = {};
  // EXPIRE SNAPSHOTS: OLDER THAN (as given) and RETAIN LAST.
  std::string older_than;
  int64_t retain_last = 1;
};

// CREATE TABLE ... WITH (key = value, ...), which DuckDB's parser refuses: the
// statement without its WITH clause and the table properties it gives (keys lower
// case; true/false and strings as written), or nullopt if it has none.
struct CreateWith {
  std::string statement;
  std::map<std::string, std::string> properties;
};
std::optional<CreateWith> TakeCreateWith(const std::string& statement);

// The Tarn statement `statement` is, or nullopt if it is not one of Tarn's forms
// (then it is DuckDB SQL). Throws kInvalidArgument with a usage hint when it starts
// like a Tarn statement but is malformed.
std::optional<TarnStatement> ParseTarnStatement(const std::string& statement);

}  // namespace tarn::session
