#include "session/script.h"

#include "common/error.h"

namespace tarn::session {

namespace {

constexpr const char* kCreateExternalUsage =
    "CREATE EXTERNAL TABLE [IF NOT EXISTS] db.table LOCATION 'path/in/lake' [FORMAT parquet|csv|json] "
    "[PARTITIONED BY (col, ...)]";

constexpr const char* kCloneUsage =
    "CREATE TABLE [IF NOT EXISTS] db.table CLONE db.source [AT (SNAPSHOT => n | TIMESTAMP => 'time')]";
constexpr const char* kRollbackUsage = "ROLLBACK TABLE db.table TO SNAPSHOT n";
constexpr const char* kOptimizeUsage = "OPTIMIZE db.table [WHERE condition] [ORDER BY column, ...]";
constexpr const char* kExpireUsage = "EXPIRE SNAPSHOTS db.table OLDER THAN '7 days' [RETAIN LAST n]";
constexpr const char* kPropertiesUsage =
    "ALTER TABLE db.table SET TBLPROPERTIES ('key' = 'value', ...) | UNSET TBLPROPERTIES ('key', ...)";

constexpr const char* kAlterColumnsUsage =
    "ALTER TABLE db.table ADD COLUMN [IF NOT EXISTS] name type | RENAME COLUMN name TO new_name | DROP "
    "COLUMN "
    "[IF EXISTS] name | ALTER COLUMN name TYPE wider_type | SET PARTITIONED BY (column, ...) | SET "
    "PARTITIONED "
    "BY NONE";

// After ALTER TABLE db.table: a change of its columns or partitioning; false if the
// statement is none of those (left to the other forms).
bool ReadSchemaChange(engine::TokenReader& r, catalog::SchemaChange& change) {
  using K = catalog::SchemaChange;
  const char* usage = kAlterColumnsUsage;
  if (r.AcceptWord("ADD")) {
    change.kind = K::kAddColumn;
    r.AcceptWord("COLUMN");
    change.if_exists = r.AcceptWords({"IF", "NOT", "EXISTS"});
    change.column = r.Identifier(usage);
    change.type = r.Rest();
    if (change.type.empty()) throw Error::InvalidArgument("ADD COLUMN needs a type: {}", usage);
    for (const char* word :
         {" NOT NULL", " DEFAULT ", " PRIMARY ", " UNIQUE", " CHECK", " REFERENCES", " GENERATED"}) {
      if (duckdb::StringUtil::Upper(" " + change.type + " ").find(word) != std::string::npos) {
        throw Error::InvalidArgument(
            "an added column is NULL in the rows already there: ADD COLUMN takes a name and a type only ({})",
            usage);
      }
    }
    return true;
  }
  if (r.AcceptWord("RENAME")) {
    if (r.PeekWord("TO"))
      throw Error::InvalidArgument(
          "renaming a table is not supported: CREATE TABLE new CLONE old, then DROP TABLE old");
    change.kind = K::kRenameColumn;
    r.AcceptWord("COLUMN");
    change.column = r.Identifier(usage);
    r.ExpectWord("TO", usage);
    change.new_name = r.Identifier(usage);
    r.ExpectEnd(usage);
    return true;
  }
  if (r.AcceptWord("DROP")) {
    change.kind = K::kDropColumn;
    r.AcceptWord("COLUMN");
    change.if_exists = r.AcceptWords({"IF", "EXISTS"});
    change.column = r.Identifier(usage);
    r.ExpectEnd(usage);
    return true;
  }
  if (r.AcceptWord("ALTER")) {
    change.kind = K::kWidenColumn;
    r.AcceptWord("COLUMN");
    change.column = r.Identifier(usage);
    if (r.AcceptWord("SET")) r.ExpectWord("DATA", usage);
    r.ExpectWord("TYPE", usage);
    change.type = r.TextUntil({"USING", "COLLATE"});
    if (!r.AtEnd())
      throw Error::InvalidArgument("ALTER COLUMN ... TYPE takes a type only (no USING): {}", usage);
    if (change.type.empty()) throw Error::InvalidArgument("ALTER COLUMN needs a type: {}", usage);
    return true;
  }
  if (r.PeekWord("SET") && r.PeekWord("PARTITIONED", 1)) {
    r.AcceptWords({"SET", "PARTITIONED"});
    change.kind = K::kPartitionBy;
    r.ExpectWord("BY", usage);
    if (!r.AcceptWord("NONE")) {
      r.ExpectSymbol('(', usage);
      if (!r.PeekSymbol(')')) {
        do {
          change.partition_by.push_back(r.Identifier(usage));
        } while (r.AcceptSymbol(','));
      }
      r.ExpectSymbol(')', usage);
    }
    r.ExpectEnd(usage);
    return true;
  }
  return false;
}

// After ALTER TABLE db.table: SET TBLPROPERTIES (...) or UNSET TBLPROPERTIES (...).
void ReadProperties(engine::TokenReader& r, TarnStatement& st) {
  bool set = r.AcceptWord("SET");
  if (!set) r.ExpectWord("UNSET", kPropertiesUsage);
  r.ExpectWord("TBLPROPERTIES", kPropertiesUsage);
  r.ExpectSymbol('(', kPropertiesUsage);
  do {
    std::string key = duckdb::StringUtil::Lower(r.String(kPropertiesUsage));
    std::optional<std::string> value;
    if (set) {
      r.ExpectSymbol('=', kPropertiesUsage);
      value = r.String(kPropertiesUsage);
    }
    st.properties[key] = value;
  } while (r.AcceptSymbol(','));
  r.ExpectSymbol(')', kPropertiesUsage);
  r.ExpectEnd(kPropertiesUsage);
}

// AT ( SNAPSHOT => n ) or AT ( TIMESTAMP => 'time' ), after the word AT.
catalog::TimeTravel ReadAt(engine::TokenReader& r, const char* usage) {
  r.ExpectSymbol('(', usage);
  std::string unit = r.Identifier(usage);
  r.ExpectSymbol('=', usage);
  r.ExpectSymbol('>', usage);
  std::string value = r.Literal(usage);
  r.ExpectSymbol(')', usage);
  return catalog::TimeTravel::Parse(unit, duckdb::Value(value));
}

}  // namespace

std::optional<CreateWith> TakeCreateWith(const std::string& statement) {
  auto tokens = engine::Tokenize(statement);
  size_t i = 0;
  auto word = [&](const char* w) {
    bool ok = i < tokens.size() && tokens[i].kind == Token::kWord &&
              duckdb::StringUtil::CIEquals(tokens[i].text, w);
    if (ok) i++;
    return ok;
  };
  auto symbol = [&](char c) {
    bool ok = i < tokens.size() && tokens[i].kind == Token::kSymbol && tokens[i].text == std::string(1, c);
    if (ok) i++;
    return ok;
  };
  if (!word("CREATE")) return std::nullopt;
  if (word("OR") && !word("REPLACE")) return std::nullopt;
  if (!word("TEMP")) word("TEMPORARY");
  if (!word("TABLE")) return std::nullopt;
  if (word("IF") && !(word("NOT") && word("EXISTS"))) return std::nullopt;
  do {  // the name, qualified or not
    if (i >= tokens.size() || (tokens[i].kind != Token::kWord && tokens[i].kind != Token::kQuotedIdent))
      return std::nullopt;
    i++;
  } while (symbol('.'));
  if (symbol('(')) {  // the column list
    for (int depth = 1; depth > 0; i++) {
      if (i >= tokens.size()) return std::nullopt;
      if (tokens[i].kind == Token::kSymbol)
        depth += tokens[i].text == "(" ? 1 : tokens[i].text == ")" ? -1 : 0;
    }
  }
  size_t begin = i;
  if (!word("WITH") || !symbol('(')) return std::nullopt;
  const char* usage =
      "CREATE TABLE db.table [(columns)] WITH (encrypted = true, write_mode = 'merge-on-read') ...";
  CreateWith out;
  do {
    if (i + 2 >= tokens.size() || tokens[i + 1].text != "=")
      throw Error::InvalidArgument("syntax error in WITH (...): expected {}", usage);
    std::string key = duckdb::StringUtil::Lower(tokens[i].text);
    auto& v = tokens[i + 2];
    out.properties[key] = v.kind == Token::kWord ? duckdb::StringUtil::Lower(v.text) : v.text;
    i += 3;
  } while (symbol(','));
  if (!symbol(')')) throw Error::InvalidArgument("syntax error in WITH (...): expected {}", usage);
  size_t end = tokens[i - 1].end;
  out.statement = statement.substr(0, tokens[begin].begin) + statement.substr(end);
  return out;
}

std::optional<TarnStatement> ParseTarnStatement(const std::string& statement) {
  engine::TokenReader r(statement);
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
  if (r.PeekWord("CREATE") && r.PeekWord("TABLE", 1)) {
    // CREATE TABLE ... CLONE is Tarn's; every other CREATE TABLE is DuckDB's.
    engine::TokenReader probe = r;
    probe.AcceptWords({"CREATE", "TABLE"});
    st.if_not_exists = probe.AcceptWords({"IF", "NOT", "EXISTS"});
    try {
      probe.QualifiedName(st.database, st.table, kCloneUsage);
    } catch (const Error&) {
      return std::nullopt;
    }
    if (!probe.AcceptWord("CLONE")) return std::nullopt;
    st.kind = TarnStatement::kClone;
    probe.QualifiedName(st.source_database, st.source_table, kCloneUsage);
    if (probe.AcceptWord("AT")) st.at = ReadAt(probe, kCloneUsage);
    probe.ExpectEnd(kCloneUsage);
    return st;
  }
  if (r.PeekWord("ALTER") && r.PeekWord("TABLE", 1)) {
    // ALTER TABLE ... SET / UNSET TBLPROPERTIES is Tarn's; other ALTER TABLE forms are not.
    engine::TokenReader probe = r;
    probe.AcceptWords({"ALTER", "TABLE"});
    try {
      probe.QualifiedName(st.database, st.table, kPropertiesUsage);
    } catch (const Error&) {
      return std::nullopt;
    }
    if (ReadSchemaChange(probe, st.schema_change)) {
      st.kind = TarnStatement::kAlterSchema;
      return st;
    }
    if (!probe.PeekWord("TBLPROPERTIES", 1)) return std::nullopt;
    st.kind = TarnStatement::kSetProperties;
    ReadProperties(probe, st);
    return st;
  }
  if (r.AcceptWords({"SHOW", "TBLPROPERTIES"})) {
    st.kind = TarnStatement::kShowProperties;
    r.QualifiedName(st.database, st.table, "SHOW TBLPROPERTIES db.table");
    r.ExpectEnd("SHOW TBLPROPERTIES db.table");
    return st;
  }
  if (r.AcceptWord("OPTIMIZE")) {
    st.kind = TarnStatement::kOptimize;
    r.AcceptWord("TABLE");
    r.QualifiedName(st.database, st.table, kOptimizeUsage);
    st.query = r.Rest();  // [WHERE ...] [ORDER BY ...], read by the engine's parser
    return st;
  }
  if (r.AcceptWords({"EXPIRE", "SNAPSHOTS"})) {
    st.kind = TarnStatement::kExpireSnapshots;
    if (!r.AcceptWord("FOR")) r.AcceptWord("OF");
    r.QualifiedName(st.database, st.table, kExpireUsage);
    r.ExpectWord("OLDER", kExpireUsage);
    r.ExpectWord("THAN", kExpireUsage);
    st.older_than = r.String(kExpireUsage);
    if (r.AcceptWord("RETAIN")) {
      r.ExpectWord("LAST", kExpireUsage);
      try {
        st.retain_last = std::stoll(r.Literal(kExpireUsage));
      } catch (const std::exception&) {
        st.retain_last = 0;
      }
      if (st.retain_last < 1)
        throw Error::InvalidArgument("RETAIN LAST takes a number >= 1: {}", kExpireUsage);
    }
    r.ExpectEnd(kExpireUsage);
    return st;
  }
  if (r.AcceptWords({"ROLLBACK", "TABLE"})) {
    st.kind = TarnStatement::kRollback;
    r.QualifiedName(st.database, st.table, kRollbackUsage);
    r.ExpectWord("TO", kRollbackUsage);
    if (r.AcceptWord("TIMESTAMP")) {
      st.at = catalog::TimeTravel::Parse("timestamp", duckdb::Value(r.String(kRollbackUsage)));
    } else {
      r.ExpectWord("SNAPSHOT", kRollbackUsage);
      st.at = catalog::TimeTravel::Parse("snapshot", duckdb::Value(r.Literal(kRollbackUsage)));
    }
    r.ExpectEnd(kRollbackUsage);
    return st;
  }
  if (r.AcceptWords({"SHOW", "HISTORY"})) {
    st.kind = TarnStatement::kShowHistory;
    if (!r.AcceptWord("FOR")) r.AcceptWord("OF");
    r.QualifiedName(st.database, st.table, "SHOW HISTORY db.table");
    r.ExpectEnd("SHOW HISTORY db.table");
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
    engine::TokenReader probe = r;
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
        "unknown SHOW statement: use SHOW DATABASES, SHOW TABLES [IN db], SHOW HISTORY db.table, SHOW "
        "SNAPSHOTS db.table or SHOW TBLPROPERTIES db.table");
  }
  return std::nullopt;
}

}  // namespace tarn::session
