#include "session/script.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace tarn::session {
namespace {

using Statements = std::vector<std::string>;

using tarn::testing::CatchError;

ErrorCode SplitError(const std::string& script) {
  return CatchError([&] { SplitStatements(script); }).code();
}

// The statement, which must be a Tarn statement.
TarnStatement Parsed(const std::string& sql) {
  auto st = ParseTarnStatement(sql);
  if (!st) {
    ADD_FAILURE() << "not recognised as a Tarn statement: " << sql;
    return TarnStatement{};
  }
  return *st;
}

Error ParseError(const std::string& sql) {
  return CatchError([&] { ParseTarnStatement(sql); });
}

// --- SplitStatements -------------------------------------------------------------------

TEST(SplitStatements, SplitsOnSemicolons) {
  EXPECT_EQ(SplitStatements("SELECT 1; SELECT 2;"), (Statements{"SELECT 1", "SELECT 2"}));
}

TEST(SplitStatements, KeepsALastStatementWithoutSemicolon) {
  EXPECT_EQ(SplitStatements("SELECT 1;\nSELECT 2"), (Statements{"SELECT 1", "SELECT 2"}));
}

TEST(SplitStatements, TrimsWhiteSpace) {
  EXPECT_EQ(SplitStatements("  \n\tSELECT 1  \n;\n  SELECT  2 \n"), (Statements{"SELECT 1", "SELECT  2"}));
}

TEST(SplitStatements, DropsEmptyStatements) {
  EXPECT_EQ(SplitStatements(";; SELECT 1;;  ;\n;"), (Statements{"SELECT 1"}));
  EXPECT_TRUE(SplitStatements("").empty());
  EXPECT_TRUE(SplitStatements("  ;  ").empty());
}

TEST(SplitStatements, DropsStatementsThatAreOnlyComments) {
  EXPECT_EQ(SplitStatements("-- header\n; SELECT 1; /* trailer */"), (Statements{"SELECT 1"}));
}

TEST(SplitStatements, DoesNotSplitInsideAString) {
  EXPECT_EQ(SplitStatements("SELECT 'a;b'; SELECT 2"), (Statements{"SELECT 'a;b'", "SELECT 2"}));
}

TEST(SplitStatements, DoesNotSplitInsideAStringWithDoubledQuotes) {
  EXPECT_EQ(SplitStatements("SELECT 'it''s; fine'; SELECT 2"),
            (Statements{"SELECT 'it''s; fine'", "SELECT 2"}));
}

TEST(SplitStatements, DoesNotSplitInsideAnEscapeString) {
  EXPECT_EQ(SplitStatements("SELECT E'it\\'s; fine'; SELECT 2"),
            (Statements{"SELECT E'it\\'s; fine'", "SELECT 2"}));
  EXPECT_EQ(SplitStatements("SELECT e'\\\\'; SELECT 2"), (Statements{"SELECT e'\\\\'", "SELECT 2"}));
}

TEST(SplitStatements, BackslashEndsAPlainString) {
  // Outside E'...' a backslash is an ordinary character, so the string ends at the second quote.
  EXPECT_EQ(SplitStatements("SELECT 'a\\'; SELECT 2"), (Statements{"SELECT 'a\\'", "SELECT 2"}));
}

TEST(SplitStatements, DoesNotSplitInsideAQuotedIdentifier) {
  EXPECT_EQ(SplitStatements("SELECT 1 AS \"a;b\"\"c\"; SELECT 2"),
            (Statements{"SELECT 1 AS \"a;b\"\"c\"", "SELECT 2"}));
}

TEST(SplitStatements, DoesNotSplitInsideDollarQuotes) {
  EXPECT_EQ(SplitStatements("SELECT $fn$ a; 'b; $x$ $fn$; SELECT 2"),
            (Statements{"SELECT $fn$ a; 'b; $x$ $fn$", "SELECT 2"}));
  EXPECT_EQ(SplitStatements("SELECT $$a;b$$; SELECT 2"), (Statements{"SELECT $$a;b$$", "SELECT 2"}));
}

TEST(SplitStatements, DoesNotSplitInsideALineComment) {
  EXPECT_EQ(SplitStatements("SELECT 1 -- not; here\n; SELECT 2"),
            (Statements{"SELECT 1 -- not; here", "SELECT 2"}));
}

TEST(SplitStatements, DoesNotSplitInsideABlockComment) {
  EXPECT_EQ(SplitStatements("SELECT /* a; b */ 1; SELECT 2"),
            (Statements{"SELECT /* a; b */ 1", "SELECT 2"}));
}

TEST(SplitStatements, QuotesInsideCommentsDoNotOpenStrings) {
  EXPECT_EQ(SplitStatements("SELECT 1 -- don't\n; /* it's */ SELECT 2"),
            (Statements{"SELECT 1 -- don't", "/* it's */ SELECT 2"}));
}

TEST(SplitStatements, ALineCommentAtTheEndNeedsNoNewline) {
  EXPECT_EQ(SplitStatements("SELECT 1 -- done"), (Statements{"SELECT 1 -- done"}));
}

TEST(SplitStatements, UnterminatedStringIsInvalidArgument) {
  EXPECT_EQ(SplitError("SELECT 'abc; SELECT 2"), ErrorCode::kInvalidArgument);
}

TEST(SplitStatements, UnterminatedEscapeStringIsInvalidArgument) {
  EXPECT_EQ(SplitError("SELECT E'abc\\'"), ErrorCode::kInvalidArgument);
}

TEST(SplitStatements, UnterminatedQuotedIdentifierIsInvalidArgument) {
  EXPECT_EQ(SplitError("SELECT 1 AS \"abc"), ErrorCode::kInvalidArgument);
}

TEST(SplitStatements, UnterminatedBlockCommentIsInvalidArgument) {
  EXPECT_EQ(SplitError("SELECT 1; /* never closed"), ErrorCode::kInvalidArgument);
}

TEST(SplitStatements, UnterminatedDollarQuoteIsInvalidArgument) {
  EXPECT_EQ(SplitError("SELECT $tag$ abc $other$"), ErrorCode::kInvalidArgument);
}

// --- Tokenize ----------------------------------------------------------------------------

TEST(Tokenize, ClassifiesTokens) {
  auto tokens = Tokenize("SELECT \"My Col\", 'it''s', 42, x.y");
  std::vector<std::pair<Token::Kind, std::string>> got;
  for (auto& t : tokens) got.emplace_back(t.kind, t.text);
  std::vector<std::pair<Token::Kind, std::string>> want = {
      {Token::kWord, "SELECT"}, {Token::kQuotedIdent, "My Col"},
      {Token::kSymbol, ","},    {Token::kString, "it's"},
      {Token::kSymbol, ","},    {Token::kNumber, "42"},
      {Token::kSymbol, ","},    {Token::kWord, "x"},
      {Token::kSymbol, "."},    {Token::kWord, "y"}};
  EXPECT_EQ(got, want);
}

TEST(Tokenize, RecordsByteOffsets) {
  std::string sql = "SELECT  'ab' , foo";
  auto tokens = Tokenize(sql);
  ASSERT_EQ(tokens.size(), 4u);
  EXPECT_EQ(sql.substr(tokens[1].begin, tokens[1].end - tokens[1].begin), "'ab'");
  EXPECT_EQ(sql.substr(tokens[3].begin, tokens[3].end - tokens[3].begin), "foo");
}

TEST(Tokenize, DropsCommentsAndWhiteSpace) {
  auto tokens = Tokenize("  a -- one\n /* two */ b ");
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens[0].text, "a");
  EXPECT_EQ(tokens[1].text, "b");
}

TEST(Tokenize, UnquotesEscapeAndDollarStrings) {
  auto tokens = Tokenize("E'a\\'b' $q$c'd$q$ \"x\"\"y\"");
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(tokens[0].kind, Token::kString);
  EXPECT_EQ(tokens[0].text, "a'b");
  EXPECT_EQ(tokens[1].kind, Token::kString);
  EXPECT_EQ(tokens[1].text, "c'd");
  EXPECT_EQ(tokens[2].kind, Token::kQuotedIdent);
  EXPECT_EQ(tokens[2].text, "x\"y");
}

TEST(Tokenize, WordsKeepTheirCase) {
  auto tokens = Tokenize("SeLeCt");
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].text, "SeLeCt");
}

TEST(Tokenize, PositionalParameterIsASymbolAndANumber) {
  auto tokens = Tokenize("$1");
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens[0].kind, Token::kSymbol);
  EXPECT_EQ(tokens[1].kind, Token::kNumber);
}

// --- ParseTarnStatement: databases --------------------------------------------------------

TEST(ParseTarnStatement, CreateDatabase) {
  auto st = Parsed("CREATE DATABASE sales");
  EXPECT_EQ(st.kind, TarnStatement::kCreateDatabase);
  EXPECT_EQ(st.database, "sales");
  EXPECT_FALSE(st.if_not_exists);
}

TEST(ParseTarnStatement, CreateDatabaseIfNotExists) {
  auto st = Parsed("CREATE DATABASE IF NOT EXISTS sales");
  EXPECT_EQ(st.kind, TarnStatement::kCreateDatabase);
  EXPECT_EQ(st.database, "sales");
  EXPECT_TRUE(st.if_not_exists);
}

TEST(ParseTarnStatement, KeywordsAreCaseInsensitive) {
  auto st = Parsed("create Database if NOT exists Sales");
  EXPECT_EQ(st.kind, TarnStatement::kCreateDatabase);
  EXPECT_EQ(st.database, "Sales");
  EXPECT_TRUE(st.if_not_exists);
}

TEST(ParseTarnStatement, QuotedDatabaseName) {
  EXPECT_EQ(Parsed("CREATE DATABASE \"my \"\"db\"\"\"").database, "my \"db\"");
}

TEST(ParseTarnStatement, DropDatabase) {
  auto st = Parsed("DROP DATABASE sales");
  EXPECT_EQ(st.kind, TarnStatement::kDropDatabase);
  EXPECT_EQ(st.database, "sales");
  EXPECT_FALSE(st.if_not_exists);
  EXPECT_FALSE(st.cascade);
}

TEST(ParseTarnStatement, DropDatabaseIfExistsCascade) {
  auto st = Parsed("drop database if exists sales cascade");
  EXPECT_EQ(st.kind, TarnStatement::kDropDatabase);
  EXPECT_EQ(st.database, "sales");
  EXPECT_TRUE(st.if_not_exists);
  EXPECT_TRUE(st.cascade);
}

TEST(ParseTarnStatement, CreateDatabaseWithTrailingJunkIsInvalidArgument) {
  EXPECT_EQ(ParseError("CREATE DATABASE sales extra").code(), ErrorCode::kInvalidArgument);
}

TEST(ParseTarnStatement, DropDatabaseWithTrailingJunkIsInvalidArgument) {
  EXPECT_EQ(ParseError("DROP DATABASE sales CASCADE now").code(), ErrorCode::kInvalidArgument);
}

TEST(ParseTarnStatement, CreateDatabaseWithoutNameIsInvalidArgument) {
  EXPECT_EQ(ParseError("CREATE DATABASE").code(), ErrorCode::kInvalidArgument);
}

// --- ParseTarnStatement: external tables --------------------------------------------------

TEST(ParseTarnStatement, CreateExternalTable) {
  auto st = Parsed("CREATE EXTERNAL TABLE sales.orders LOCATION 'raw/orders'");
  EXPECT_EQ(st.kind, TarnStatement::kCreateExternalTable);
  EXPECT_EQ(st.database, "sales");
  EXPECT_EQ(st.table, "orders");
  EXPECT_EQ(st.location, "raw/orders");
  EXPECT_FALSE(st.format.has_value());
  EXPECT_TRUE(st.partition_columns.empty());
  EXPECT_FALSE(st.if_not_exists);
}

TEST(ParseTarnStatement, CreateExternalTableWithEveryClause) {
  auto st = Parsed(
      "CREATE EXTERNAL TABLE IF NOT EXISTS sales.orders LOCATION 'raw/orders/**/*.csv' FORMAT csv "
      "PARTITIONED BY (year, month)");
  EXPECT_EQ(st.kind, TarnStatement::kCreateExternalTable);
  EXPECT_TRUE(st.if_not_exists);
  EXPECT_EQ(st.location, "raw/orders/**/*.csv");
  EXPECT_EQ(st.format, lake::Format::kCsv);
  EXPECT_EQ(st.partition_columns, (std::vector<std::string>{"year", "month"}));
}

TEST(ParseTarnStatement, CreateExternalTableClausesInAnyOrder) {
  auto st = Parsed("create external table d.t partitioned by (p) format JSON location 'x/y'");
  EXPECT_EQ(st.kind, TarnStatement::kCreateExternalTable);
  EXPECT_EQ(st.location, "x/y");
  EXPECT_EQ(st.format, lake::Format::kJson);
  EXPECT_EQ(st.partition_columns, (std::vector<std::string>{"p"}));
}

TEST(ParseTarnStatement, CreateExternalTableWithQuotedNames) {
  auto st =
      Parsed("CREATE EXTERNAL TABLE \"My DB\".\"my table\" LOCATION 'it''s' PARTITIONED BY (\"Col A\")");
  EXPECT_EQ(st.database, "My DB");
  EXPECT_EQ(st.table, "my table");
  EXPECT_EQ(st.location, "it's");
  EXPECT_EQ(st.partition_columns, (std::vector<std::string>{"Col A"}));
}

TEST(ParseTarnStatement, CreateExternalTableWithoutLocationIsInvalidArgument) {
  auto e = ParseError("CREATE EXTERNAL TABLE d.t FORMAT csv");
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(std::string(e.what()).find("LOCATION"), std::string::npos) << e.what();
}

TEST(ParseTarnStatement, CreateExternalTableWithUnqualifiedNameIsInvalidArgument) {
  auto e = ParseError("CREATE EXTERNAL TABLE orders LOCATION 'x'");
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(std::string(e.what()).find("database."), std::string::npos) << e.what();
}

TEST(ParseTarnStatement, CreateExternalTableWithUnknownFormatIsInvalidArgument) {
  EXPECT_EQ(ParseError("CREATE EXTERNAL TABLE d.t LOCATION 'x' FORMAT xml").code(),
            ErrorCode::kInvalidArgument);
}

TEST(ParseTarnStatement, CreateExternalTableWithTrailingJunkIsInvalidArgument) {
  EXPECT_EQ(ParseError("CREATE EXTERNAL TABLE d.t LOCATION 'x' COMPRESSION gzip").code(),
            ErrorCode::kInvalidArgument);
}

TEST(ParseTarnStatement, CreateExternalTableWithUnquotedLocationIsInvalidArgument) {
  EXPECT_EQ(ParseError("CREATE EXTERNAL TABLE d.t LOCATION raw").code(), ErrorCode::kInvalidArgument);
}

TEST(ParseTarnStatement, CreateExternalTablePartitionedByWithoutParenthesesIsInvalidArgument) {
  EXPECT_EQ(ParseError("CREATE EXTERNAL TABLE d.t LOCATION 'x' PARTITIONED BY a").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ParseError("CREATE EXTERNAL TABLE d.t LOCATION 'x' PARTITIONED BY (a, b").code(),
            ErrorCode::kInvalidArgument);
}

// --- ParseTarnStatement: INSERT OVERWRITE -------------------------------------------------

TEST(ParseTarnStatement, InsertOverwriteKeepsTheQueryTextExactly) {
  std::string query = "SELECT a,  'x;y' AS \"Q\"\n  FROM src -- note\n WHERE b = 1";
  auto st = Parsed("INSERT OVERWRITE sales.orders " + query);
  EXPECT_EQ(st.kind, TarnStatement::kInsertOverwrite);
  EXPECT_EQ(st.database, "sales");
  EXPECT_EQ(st.table, "orders");
  EXPECT_EQ(st.query, query);
}

TEST(ParseTarnStatement, InsertOverwriteTable) {
  auto st = Parsed("insert overwrite table sales.orders WITH x AS (SELECT 1) SELECT * FROM x");
  EXPECT_EQ(st.kind, TarnStatement::kInsertOverwrite);
  EXPECT_EQ(st.table, "orders");
  EXPECT_EQ(st.query, "WITH x AS (SELECT 1) SELECT * FROM x");
}

TEST(ParseTarnStatement, InsertOverwriteWithoutQueryIsInvalidArgument) {
  EXPECT_EQ(ParseError("INSERT OVERWRITE sales.orders").code(), ErrorCode::kInvalidArgument);
}

TEST(ParseTarnStatement, InsertOverwriteWithUnqualifiedNameIsInvalidArgument) {
  auto e = ParseError("INSERT OVERWRITE orders SELECT 1");
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(std::string(e.what()).find("database."), std::string::npos) << e.what();
}

// --- ParseTarnStatement: SHOW and DESCRIBE ------------------------------------------------

TEST(ParseTarnStatement, ShowDatabases) {
  EXPECT_EQ(Parsed("SHOW DATABASES").kind, TarnStatement::kShowDatabases);
  EXPECT_EQ(Parsed("show databases").kind, TarnStatement::kShowDatabases);
}

TEST(ParseTarnStatement, ShowTables) {
  auto st = Parsed("SHOW TABLES");
  EXPECT_EQ(st.kind, TarnStatement::kShowTables);
  EXPECT_EQ(st.database, "");
}

TEST(ParseTarnStatement, ShowTablesInDatabase) {
  auto st = Parsed("show tables in sales");
  EXPECT_EQ(st.kind, TarnStatement::kShowTables);
  EXPECT_EQ(st.database, "sales");
}

TEST(ParseTarnStatement, ShowTablesWithTrailingJunkIsInvalidArgument) {
  EXPECT_EQ(ParseError("SHOW TABLES IN sales extra").code(), ErrorCode::kInvalidArgument);
}

TEST(ParseTarnStatement, Describe) {
  auto st = Parsed("DESCRIBE sales.orders");
  EXPECT_EQ(st.kind, TarnStatement::kDescribe);
  EXPECT_EQ(st.database, "sales");
  EXPECT_EQ(st.table, "orders");
}

TEST(ParseTarnStatement, DescribeTable) {
  auto st = Parsed("describe table \"Sales\".\"Orders\"");
  EXPECT_EQ(st.kind, TarnStatement::kDescribe);
  EXPECT_EQ(st.database, "Sales");
  EXPECT_EQ(st.table, "Orders");
}

TEST(ParseTarnStatement, DescribeUnqualifiedTableIsInvalidArgument) {
  EXPECT_EQ(ParseError("DESCRIBE orders").code(), ErrorCode::kInvalidArgument);
}

TEST(ParseTarnStatement, ShowSnapshots) {
  auto st = Parsed("SHOW SNAPSHOTS sales.orders");
  EXPECT_EQ(st.kind, TarnStatement::kShowSnapshots);
  EXPECT_EQ(st.database, "sales");
  EXPECT_EQ(st.table, "orders");
}

TEST(ParseTarnStatement, ShowSnapshotsWithoutTableIsInvalidArgument) {
  EXPECT_EQ(ParseError("SHOW SNAPSHOTS").code(), ErrorCode::kInvalidArgument);
}

TEST(ParseTarnStatement, UnknownShowIsUnsupported) {
  EXPECT_EQ(ParseError("SHOW FUNCTIONS").code(), ErrorCode::kUnsupported);
  EXPECT_EQ(ParseError("show all").code(), ErrorCode::kUnsupported);
}

// --- ParseTarnStatement: DuckDB's statements ----------------------------------------------

TEST(ParseTarnStatement, SelectIsNotATarnStatement) {
  EXPECT_FALSE(ParseTarnStatement("SELECT * FROM sales.orders").has_value());
}

TEST(ParseTarnStatement, DescribeSelectIsNotATarnStatement) {
  EXPECT_FALSE(ParseTarnStatement("DESCRIBE SELECT 1").has_value());
  EXPECT_FALSE(ParseTarnStatement("describe with x AS (SELECT 1) SELECT * FROM x").has_value());
  EXPECT_FALSE(ParseTarnStatement("DESCRIBE FROM sales.orders").has_value());
  EXPECT_FALSE(ParseTarnStatement("DESCRIBE (SELECT 1)").has_value());
}

TEST(ParseTarnStatement, CreateTableIsNotATarnStatement) {
  EXPECT_FALSE(ParseTarnStatement("CREATE TABLE sales.orders AS SELECT 1").has_value());
}

TEST(ParseTarnStatement, InsertIntoIsNotATarnStatement) {
  EXPECT_FALSE(ParseTarnStatement("INSERT INTO sales.orders SELECT 1").has_value());
}

TEST(ParseTarnStatement, EmptyStatementIsNotATarnStatement) {
  EXPECT_FALSE(ParseTarnStatement("").has_value());
}

TEST(ParseTarnStatement, LeadingCommentIsSkipped) {
  EXPECT_EQ(Parsed("-- make it\nCREATE DATABASE sales").kind, TarnStatement::kCreateDatabase);
}

}  // namespace
}  // namespace tarn::session
