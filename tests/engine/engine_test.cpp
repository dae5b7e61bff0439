#include "engine/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <duckdb/parser/query_node/select_node.hpp>
#include <duckdb/parser/statement/select_statement.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "engine/result_writer.h"
#include "engine/table_resolver.h"
#include "test_util.h"

namespace tarn::engine {
namespace {

namespace fs = std::filesystem;
using tarn::testing::TempDir;
using tarn::testing::WriteFile;

using tarn::testing::CatchError;

// The FROM clause of `sql` (a simple SELECT) as a TableRef.
duckdb::unique_ptr<duckdb::TableRef> FromClauseOf(const std::string& sql) {
  auto statements = Parse(sql);
  auto& select = statements.at(0)->Cast<duckdb::SelectStatement>();
  return select.node->Cast<duckdb::SelectNode>().from_table->Copy();
}

// The query node of a SELECT.
duckdb::unique_ptr<duckdb::QueryNode> QueryNodeOf(const std::string& sql) {
  auto statements = Parse(sql);
  return std::move(statements.at(0)->Cast<duckdb::SelectStatement>().node);
}

// Resolves every name to range(3) and records what it was asked.
class RangeResolver : public TableResolver {
 public:
  duckdb::unique_ptr<duckdb::TableRef> Resolve(const std::string& schema, const std::string& table) override {
    calls.push_back(schema + "." + table);
    return FromClauseOf("SELECT * FROM range(3)");
  }
  void Reset() override { resets++; }
  std::vector<std::string> calls;
  int resets = 0;
};

// Fails every name with a fixed error.
class FailingResolver : public TableResolver {
 public:
  explicit FailingResolver(Error error) : error_(std::move(error)) {}
  duckdb::unique_ptr<duckdb::TableRef> Resolve(const std::string&, const std::string&) override {
    throw error_;
  }

 private:
  Error error_;
};

class EngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    fs::create_directories(dir_->path() / "tmp");
    EngineOptions options;
    options.threads = 2;
    options.memory_limit = "1GB";
    options.allowed_directories = {dir_->path()};
    options.temp_directory = dir_->path() / "tmp";
    engine_ = new Engine(options);
  }
  static void TearDownTestSuite() {
    delete engine_;
    engine_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override { conn_ = engine_->Connect(); }

  // The result of `sql` written by a writer of `format`.
  std::string Render(const std::string& sql, OutputFormat format, size_t max_rows = 1000) {
    auto result = conn_->Run(sql);
    std::ostringstream out;
    auto writer = MakeResultWriter(format, out, TableLayout{max_rows});
    WriteResult(*result, *writer);
    return out.str();
  }

  // The one JSON line `sql` produces, parsed.
  nlohmann::json JsonRow(const std::string& sql) {
    std::string text = Render(sql, OutputFormat::kJson);
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
    return nlohmann::json::parse(text);
  }

  static TempDir* dir_;
  static Engine* engine_;
  std::unique_ptr<EngineConnection> conn_;
};

TempDir* EngineTest::dir_ = nullptr;
Engine* EngineTest::engine_ = nullptr;

// --- running queries ----------------------------------------------------------

TEST_F(EngineTest, QueryReturnsItsRows) {
  auto result = conn_->Run("SELECT i, i * 2 AS twice FROM range(3) t(i) ORDER BY i");
  ASSERT_EQ(result->RowCount(), 3u);
  ASSERT_EQ(result->ColumnCount(), 2u);
  EXPECT_EQ(result->names[1], "twice");
  EXPECT_EQ(result->GetValue(0, 2).GetValue<int64_t>(), 2);
  EXPECT_EQ(result->GetValue(1, 2).GetValue<int64_t>(), 4);
}

TEST_F(EngineTest, ParsedStatementRunsAndStreams) {
  auto statements = Parse("SELECT 42 AS answer");
  ASSERT_EQ(statements.size(), 1u);
  auto result = conn_->Stream(std::move(statements[0]));
  auto chunk = result->Fetch();
  ASSERT_TRUE(chunk);
  ASSERT_EQ(chunk->size(), 1u);
  EXPECT_EQ(chunk->GetValue(0, 0).GetValue<int32_t>(), 42);
}

TEST_F(EngineTest, ParseSplitsIntoStatements) {
  EXPECT_EQ(Parse("SELECT 1; SELECT 2").size(), 2u);
}

TEST_F(EngineTest, ParseOfBadSqlThrowsInvalidArgument) {
  auto e = CatchError([] { Parse("SELEC 1 FROM"); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(std::string(e.what()).find("syntax error"), std::string::npos) << e.what();
}

TEST_F(EngineTest, RunOfBadSqlThrowsInvalidArgument) {
  EXPECT_EQ(CatchError([&] { conn_->Run("SELECT FROM WHERE"); }).code(), ErrorCode::kInvalidArgument);
}

TEST_F(EngineTest, ConversionFailureIsInvalidArgument) {
  EXPECT_EQ(CatchError([&] { conn_->Run("SELECT CAST('abc' AS INTEGER)"); }).code(),
            ErrorCode::kInvalidArgument);
}

TEST_F(EngineTest, UnknownTableWithoutResolverIsNotFound) {
  EXPECT_EQ(CatchError([&] { conn_->Run("SELECT * FROM no_such_table"); }).code(), ErrorCode::kNotFound);
}

TEST_F(EngineTest, DescribeReportsNamesAndTypesWithoutRunning) {
  std::vector<std::string> names;
  std::vector<duckdb::LogicalType> types;
  conn_->Describe(std::move(Parse("SELECT 1::INTEGER AS a, 'x' AS b")[0]), names, types);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(types.size(), 2u);
  EXPECT_EQ(types[0].id(), duckdb::LogicalTypeId::INTEGER);
  EXPECT_EQ(types[1].id(), duckdb::LogicalTypeId::VARCHAR);
}

TEST_F(EngineTest, DescribeOfUnknownTableIsNotFound) {
  std::vector<std::string> names;
  std::vector<duckdb::LogicalType> types;
  auto e = CatchError([&] { conn_->Describe(std::move(Parse("SELECT * FROM nowhere")[0]), names, types); });
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
}

// --- the sandbox ----------------------------------------------------------------

TEST_F(EngineTest, ReadingAFileInsideAnAllowedDirectoryWorks) {
  fs::path file = dir_->path() / "inside.csv";
  WriteFile(file, "a,b\n1,2\n");
  auto result = conn_->Run("SELECT b FROM read_csv(" + QuoteString(file.string()) + ")");
  ASSERT_EQ(result->RowCount(), 1u);
  EXPECT_EQ(result->GetValue(0, 0).GetValue<int64_t>(), 2);
}

TEST_F(EngineTest, ReadingEtcPasswdIsRefusedWithoutLeakingIt) {
  auto e = CatchError([&] { conn_->Run("SELECT * FROM read_csv('/etc/passwd')"); });
  EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied) << e.what();
  EXPECT_EQ(std::string(e.what()).find("root:"), std::string::npos) << e.what();
}

TEST_F(EngineTest, ReadingAFileOutsideTheAllowedDirectoriesIsRefusedWithoutLeakingIt) {
  TempDir outside;
  fs::path file = outside / "secret.csv";
  WriteFile(file, "secret_marker_4711,x\n");
  auto e = CatchError([&] { conn_->Run("SELECT * FROM read_csv(" + QuoteString(file.string()) + ")"); });
  EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied) << e.what();
  EXPECT_EQ(std::string(e.what()).find("secret_marker_4711"), std::string::npos) << e.what();
}

TEST_F(EngineTest, AllowedDirectoryPrefixDoesNotAllowASiblingWithALongerName) {
  // <dir>-evil starts with <dir> but is not inside it.
  fs::path sibling = dir_->path().string() + "-evil";
  fs::create_directories(sibling);
  WriteFile(sibling / "x.csv", "a\n1\n");
  auto e = CatchError(
      [&] { conn_->Run("SELECT * FROM read_csv(" + QuoteString((sibling / "x.csv").string()) + ")"); });
  fs::remove_all(sibling);
  EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied) << e.what();
}

TEST_F(EngineTest, WritingOutsideTheAllowedDirectoriesIsRefused) {
  TempDir outside;
  fs::path file = outside / "out.csv";
  auto e =
      CatchError([&] { conn_->Run("COPY (SELECT 1) TO " + QuoteString(file.string()) + " (FORMAT csv)"); });
  EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied) << e.what();
  EXPECT_FALSE(fs::exists(file));
}

TEST_F(EngineTest, StringLiteralInFromIsNotReadAsAFile) {
  fs::path file = dir_->path() / "literal.parquet";
  conn_->Run("COPY (SELECT 7 AS x) TO " + QuoteString(file.string()) + " (FORMAT parquet)");
  // The file is readable through read_parquet, so a failure below is the missing replacement scan.
  ASSERT_EQ(conn_->Run("SELECT x FROM read_parquet(" + QuoteString(file.string()) + ")")->RowCount(), 1u);
  auto e = CatchError([&] { conn_->Run("SELECT * FROM " + QuoteString(file.string())); });
  EXPECT_EQ(e.code(), ErrorCode::kNotFound) << e.what();
}

TEST_F(EngineTest, StringLiteralInFromGoesToTheResolverNotToTheFile) {
  fs::path file = dir_->path() / "literal2.parquet";
  conn_->Run("COPY (SELECT 7 AS x) TO " + QuoteString(file.string()) + " (FORMAT parquet)");
  auto resolver = std::make_shared<RangeResolver>();
  conn_->SetTableResolver(resolver);
  auto result = conn_->Run("SELECT * FROM " + QuoteString(file.string()));
  EXPECT_EQ(result->RowCount(), 3u);  // range(3), not the file's one row
  EXPECT_EQ(resolver->calls, (std::vector<std::string>{"." + file.string()}));
}

TEST_F(EngineTest, InstallingAnExtensionFails) {
  auto e = CatchError([&] { conn_->Run("INSTALL httpfs"); });
  EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied) << e.what();
}

TEST_F(EngineTest, LoadingAnExtensionFails) {
  auto e = CatchError([&] { conn_->Run("LOAD httpfs"); });
  EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied) << e.what();
}

TEST_F(EngineTest, ChangingASettingFailsBecauseTheConfigurationIsLocked) {
  auto e = CatchError([&] { conn_->Run("SET enable_external_access = true"); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
  EXPECT_NE(std::string(e.what()).find("lock"), std::string::npos) << e.what();
  auto check = conn_->Run("SELECT current_setting('enable_external_access')");
  EXPECT_FALSE(check->GetValue(0, 0).GetValue<bool>());
}

TEST_F(EngineTest, ChangingTheAllowedDirectoriesFails) {
  auto e = CatchError([&] { conn_->Run("SET allowed_directories = ['/']"); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
  EXPECT_EQ(CatchError([&] { conn_->Run("SELECT * FROM read_csv('/etc/passwd')"); }).code(),
            ErrorCode::kPermissionDenied);
}

// --- cancelling -----------------------------------------------------------------

TEST_F(EngineTest, CancelFromAnotherThreadStopsALongQuery) {
  std::atomic<bool> done{false};
  std::optional<Error> error;
  bool finished_normally = false;
  std::thread worker([&] {
    try {
      conn_->Run("SELECT count(*) FROM range(10000000000000) t1");
      finished_normally = true;
    } catch (const Error& e) {
      error = e;
    }
    done = true;
  });
  auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // Cancel until the query notices (a cancel before it starts would be lost).
  while (!done && std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
    conn_->Cancel();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!done) {
    // The query cannot be stopped, so the thread cannot be joined: fail loudly instead of hanging.
    std::fprintf(stderr, "FAILED: Cancel() did not stop the query within 10 seconds\n");
    std::_Exit(1);
  }
  worker.join();
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(finished_normally);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code(), ErrorCode::kCancelled) << error->what();
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST_F(EngineTest, ConnectionWorksAfterACancelledQuery) {
  std::atomic<bool> done{false};
  std::thread worker([&] {
    try {
      conn_->Run("SELECT count(*) FROM range(10000000000000) t1");
    } catch (const Error&) {
    }
    done = true;
  });
  auto start = std::chrono::steady_clock::now();
  while (!done && std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    conn_->Cancel();
  }
  if (!done) {
    std::fprintf(stderr, "FAILED: Cancel() did not stop the query within 10 seconds\n");
    std::_Exit(1);
  }
  worker.join();
  EXPECT_EQ(conn_->Run("SELECT 1")->RowCount(), 1u);
}

// --- ToError --------------------------------------------------------------------

TEST(ToError, MapsDuckDbErrorTypesToCodes) {
  using duckdb::ExceptionType;
  const std::pair<ExceptionType, ErrorCode> cases[] = {
      {ExceptionType::PARSER, ErrorCode::kInvalidArgument},
      {ExceptionType::CATALOG, ErrorCode::kNotFound},
      {ExceptionType::BINDER, ErrorCode::kInvalidArgument},
      {ExceptionType::CONVERSION, ErrorCode::kInvalidArgument},
      {ExceptionType::INVALID_INPUT, ErrorCode::kInvalidArgument},
      {ExceptionType::OUT_OF_RANGE, ErrorCode::kInvalidArgument},
      {ExceptionType::DIVIDE_BY_ZERO, ErrorCode::kInvalidArgument},
      {ExceptionType::CONSTRAINT, ErrorCode::kInvalidArgument},
      {ExceptionType::PERMISSION, ErrorCode::kPermissionDenied},
      {ExceptionType::INTERRUPT, ErrorCode::kCancelled},
      {ExceptionType::OUT_OF_MEMORY, ErrorCode::kResourceExhausted},
      {ExceptionType::IO, ErrorCode::kIo},
      {ExceptionType::HTTP, ErrorCode::kIo},
      {ExceptionType::NOT_IMPLEMENTED, ErrorCode::kUnsupported},
      {ExceptionType::TRANSACTION, ErrorCode::kConflict},
      {ExceptionType::INTERNAL, ErrorCode::kInternal},
      {ExceptionType::FATAL, ErrorCode::kInternal},
  };
  for (auto& [type, code] : cases) {
    Error e = ToError(duckdb::ErrorData(type, "boom"));
    EXPECT_EQ(e.code(), code) << duckdb::Exception::ExceptionTypeToString(type);
  }
}

TEST(ToError, KeepsTheMessage) {
  Error e = ToError(duckdb::ErrorData(duckdb::ExceptionType::CATALOG, "Table with name x does not exist"));
  EXPECT_NE(std::string(e.what()).find("Table with name x does not exist"), std::string::npos) << e.what();
}

TEST(ToError, ParserErrorsSaySyntaxError) {
  Error e = ToError(duckdb::ErrorData(duckdb::ExceptionType::PARSER, "unexpected token"));
  EXPECT_EQ(std::string(e.what()), "syntax error: unexpected token");
  Error already = ToError(duckdb::ErrorData(duckdb::ExceptionType::PARSER, "syntax error at or near x"));
  EXPECT_EQ(std::string(already.what()), "syntax error at or near x");
}

TEST(ToError, ConvertsAThrownDuckDbException) {
  try {
    throw duckdb::PermissionException("no access to %s", "x");
  } catch (const std::exception& ex) {
    Error e = ToError(duckdb::ErrorData(ex));
    EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied);
    EXPECT_NE(std::string(e.what()).find("no access to x"), std::string::npos) << e.what();
  }
}

// --- result writers ---------------------------------------------------------------

TEST(ParseOutputFormat, AcceptsTheThreeTextFormats) {
  EXPECT_EQ(ParseOutputFormat("table"), OutputFormat::kTable);
  EXPECT_EQ(ParseOutputFormat("csv"), OutputFormat::kCsv);
  EXPECT_EQ(ParseOutputFormat("json"), OutputFormat::kJson);
}

TEST(ParseOutputFormat, RejectsOtherNamesWithInvalidArgument) {
  EXPECT_EQ(CatchError([] { ParseOutputFormat("xml"); }).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CatchError([] { ParseOutputFormat("CSV "); }).code(), ErrorCode::kInvalidArgument);
}

TEST(ValueText, NullIsTheWordNull) {
  EXPECT_EQ(ValueText(duckdb::Value()), "NULL");
  EXPECT_EQ(ValueText(duckdb::Value::INTEGER(5)), "5");
}

TEST_F(EngineTest, WriteResultReturnsTheRowCount) {
  auto result = conn_->Run("SELECT * FROM range(5000)");
  std::ostringstream out;
  auto writer = MakeResultWriter(OutputFormat::kCsv, out);
  EXPECT_EQ(WriteResult(*result, *writer), 5000u);
}

TEST_F(EngineTest, CsvHasAHeaderAndOneLinePerRow) {
  EXPECT_EQ(Render("SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, 'y' ORDER BY a", OutputFormat::kCsv),
            "a,b\n1,x\n2,y\n");
}

TEST_F(EngineTest, CsvQuotesCommasQuotesAndNewlines) {
  EXPECT_EQ(
      Render("SELECT 'a,b' AS c1, 'say \"hi\"' AS c2, 'one' || chr(10) || 'two' AS c3", OutputFormat::kCsv),
      "c1,c2,c3\n\"a,b\",\"say \"\"hi\"\"\",\"one\ntwo\"\n");
}

TEST_F(EngineTest, CsvQuotesHeaderNamesThatNeedIt) {
  EXPECT_EQ(Render("SELECT 1 AS \"x,y\"", OutputFormat::kCsv), "\"x,y\"\n1\n");
}

TEST_F(EngineTest, CsvWritesNullAsAnEmptyFieldAndEmptyStringQuoted) {
  EXPECT_EQ(Render("SELECT NULL::VARCHAR AS n, '' AS e, 1 AS one", OutputFormat::kCsv), "n,e,one\n,\"\",1\n");
}

TEST_F(EngineTest, JsonWritesOneObjectPerLine) {
  std::string text = Render("SELECT i FROM range(3) t(i) ORDER BY i", OutputFormat::kJson);
  EXPECT_EQ(text, "{\"i\":0}\n{\"i\":1}\n{\"i\":2}\n");
}

TEST_F(EngineTest, JsonWritesNumbersAsNumbers) {
  auto row =
      JsonRow("SELECT 42 AS i, -7::BIGINT AS b, 2.5::DOUBLE AS d, 1.25::FLOAT AS f, 300::HUGEINT AS h");
  EXPECT_TRUE(row["i"].is_number_integer());
  EXPECT_EQ(row["i"], 42);
  EXPECT_EQ(row["b"], -7);
  EXPECT_TRUE(row["d"].is_number_float());
  EXPECT_DOUBLE_EQ(row["d"].get<double>(), 2.5);
  EXPECT_DOUBLE_EQ(row["f"].get<double>(), 1.25);
  EXPECT_EQ(row["h"], 300);
}

TEST_F(EngineTest, JsonWritesDecimalAsANumber) {
  auto row = JsonRow("SELECT 12.34::DECIMAL(10,2) AS price, -0.5::DECIMAL(4,1) AS neg");
  ASSERT_TRUE(row["price"].is_number()) << row.dump();
  EXPECT_DOUBLE_EQ(row["price"].get<double>(), 12.34);
  ASSERT_TRUE(row["neg"].is_number()) << row.dump();
  EXPECT_DOUBLE_EQ(row["neg"].get<double>(), -0.5);
}

TEST_F(EngineTest, JsonWritesNullAsNull) {
  auto row = JsonRow("SELECT NULL::INTEGER AS n, NULL::VARCHAR AS s");
  EXPECT_TRUE(row["n"].is_null());
  EXPECT_TRUE(row["s"].is_null());
}

TEST_F(EngineTest, JsonWritesBooleansAsBooleans) {
  auto row = JsonRow("SELECT true AS t, false AS f");
  EXPECT_EQ(row["t"], true);
  EXPECT_EQ(row["f"], false);
}

TEST_F(EngineTest, JsonEscapesStrings) {
  auto row = JsonRow("SELECT 'a\"b\\c' || chr(10) || chr(9) || 'end' AS s, '42' AS numeric_text");
  EXPECT_EQ(row["s"], "a\"b\\c\n\tend");
  EXPECT_TRUE(row["numeric_text"].is_string());
}

TEST_F(EngineTest, JsonEscapesColumnNames) {
  auto row = JsonRow("SELECT 1 AS \"we\"\"ird\"");
  EXPECT_EQ(row["we\"ird"], 1);
}

TEST_F(EngineTest, JsonWritesNonFiniteDoublesAsStrings) {
  auto row = JsonRow("SELECT 'inf'::DOUBLE AS d, 'nan'::DOUBLE AS n");
  EXPECT_TRUE(row["d"].is_string()) << row.dump();
  EXPECT_TRUE(row["n"].is_string()) << row.dump();
}

TEST_F(EngineTest, TablePrinterShowsHeaderTypesRowsAndCount) {
  std::string text = Render("SELECT 1 AS id, 'apple' AS name", OutputFormat::kTable);
  EXPECT_NE(text.find("| id"), std::string::npos) << text;
  EXPECT_NE(text.find("name"), std::string::npos) << text;
  EXPECT_NE(text.find("INTEGER"), std::string::npos) << text;
  EXPECT_NE(text.find("apple"), std::string::npos) << text;
  EXPECT_TRUE(text.ends_with("(1 row)\n")) << text;
}

TEST_F(EngineTest, TablePrinterCountsPluralRows) {
  std::string text = Render("SELECT * FROM range(2)", OutputFormat::kTable);
  EXPECT_TRUE(text.ends_with("(2 rows)\n")) << text;
  std::string empty = Render("SELECT * FROM range(0)", OutputFormat::kTable);
  EXPECT_TRUE(empty.ends_with("(0 rows)\n")) << empty;
}

TEST_F(EngineTest, TablePrinterTruncatesAtMaxRowsAndSaysHowManyWereShown) {
  std::string text = Render("SELECT 'row' || i AS v FROM range(10) t(i) ORDER BY i", OutputFormat::kTable, 3);
  EXPECT_NE(text.find("row2"), std::string::npos) << text;
  EXPECT_EQ(text.find("row3"), std::string::npos) << text;
  EXPECT_NE(text.find("(10 rows, 3 shown"), std::string::npos) << text;
  // header line + type line + 3 data lines
  size_t lines = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines += line.starts_with("|");
  EXPECT_EQ(lines, 5u) << text;
}

TEST_F(EngineTest, TablePrinterShowsNullAsNull) {
  std::string text = Render("SELECT NULL::VARCHAR AS s", OutputFormat::kTable);
  EXPECT_NE(text.find("NULL"), std::string::npos) << text;
}

TEST_F(EngineTest, TablePrinterAlignsColumns) {
  std::string text =
      Render("SELECT 'a' AS s UNION ALL SELECT 'longer value' ORDER BY s", OutputFormat::kTable);
  std::istringstream in(text);
  std::vector<size_t> widths;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("|") || line.starts_with("+")) widths.push_back(line.size());
  }
  ASSERT_FALSE(widths.empty());
  for (size_t w : widths) EXPECT_EQ(w, widths[0]) << text;
}

// --- WriteParquetFile, quoting ------------------------------------------------------

TEST_F(EngineTest, WriteParquetFileWritesRowsThatReadBack) {
  fs::path file = dir_->path() / "written.parquet";
  int64_t rows = WriteParquetFile(*conn_, QueryNodeOf("SELECT i, 'v' || i AS s FROM range(5) t(i)"), file);
  EXPECT_EQ(rows, 5);
  ASSERT_TRUE(fs::exists(file));
  auto result = conn_->Run("SELECT i, s FROM read_parquet(" + QuoteString(file.string()) + ") ORDER BY i");
  ASSERT_EQ(result->RowCount(), 5u);
  for (int i = 0; i < 5; i++) {
    EXPECT_EQ(result->GetValue(0, i).GetValue<int64_t>(), i);
    EXPECT_EQ(result->GetValue(1, i).ToString(), fmt::format("v{}", i));
  }
}

TEST_F(EngineTest, WriteParquetFileOfNoRowsReturnsZero) {
  fs::path file = dir_->path() / "empty.parquet";
  EXPECT_EQ(WriteParquetFile(*conn_, QueryNodeOf("SELECT 1 AS x WHERE false"), file), 0);
}

TEST_F(EngineTest, WriteParquetFileHandlesAPathWithAQuote) {
  fs::path file = dir_->path() / "it's.parquet";
  EXPECT_EQ(WriteParquetFile(*conn_, QueryNodeOf("SELECT 1 AS x"), file), 1);
  EXPECT_TRUE(fs::exists(file));
}

TEST_F(EngineTest, WriteParquetFileOutsideTheAllowedDirectoriesIsRefused) {
  TempDir outside;
  fs::path file = outside / "x.parquet";
  auto e = CatchError([&] { WriteParquetFile(*conn_, QueryNodeOf("SELECT 1 AS x"), file); });
  EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied) << e.what();
  EXPECT_FALSE(fs::exists(file));
}

TEST(Quote, QuoteIdentDoublesDoubleQuotes) {
  EXPECT_EQ(QuoteIdent("plain"), "\"plain\"");
  EXPECT_EQ(QuoteIdent("a\"b"), "\"a\"\"b\"");
}

TEST(Quote, QuoteStringDoublesSingleQuotes) {
  EXPECT_EQ(QuoteString("plain"), "'plain'");
  EXPECT_EQ(QuoteString("it's"), "'it''s'");
  EXPECT_EQ(QuoteString(""), "''");
}

TEST_F(EngineTest, QuotedValuesRoundTripThroughDuckDb) {
  std::string text = "x'); DROP TABLE t; --\"";
  std::string name = "col \"q\"";
  auto result = conn_->Run("SELECT " + QuoteString(text) + " AS " + QuoteIdent(name));
  EXPECT_EQ(result->names[0], name);
  EXPECT_EQ(result->GetValue(0, 0).ToString(), text);
}

// --- table resolvers ----------------------------------------------------------------

TEST_F(EngineTest, ResolverIsConsultedForUnknownNames) {
  auto resolver = std::make_shared<RangeResolver>();
  conn_->SetTableResolver(resolver);
  auto result = conn_->Run("SELECT count(*) FROM sales.orders");
  EXPECT_EQ(result->GetValue(0, 0).GetValue<int64_t>(), 3);
  EXPECT_EQ(resolver->calls, (std::vector<std::string>{"sales.orders"}));
}

TEST_F(EngineTest, ResolverGetsAnEmptySchemaForAnUnqualifiedName) {
  auto resolver = std::make_shared<RangeResolver>();
  conn_->SetTableResolver(resolver);
  conn_->Run("SELECT * FROM orders");
  EXPECT_EQ(resolver->calls, (std::vector<std::string>{".orders"}));
}

TEST_F(EngineTest, ResolverIsNotAskedForNamesDuckDbKnows) {
  conn_->Run("CREATE TEMP TABLE local_t AS SELECT 1 AS x");
  auto resolver = std::make_shared<RangeResolver>();
  conn_->SetTableResolver(resolver);
  EXPECT_EQ(conn_->Run("SELECT * FROM local_t")->RowCount(), 1u);
  EXPECT_TRUE(resolver->calls.empty());
}

TEST_F(EngineTest, ResolverIsResetWhenAStatementStarts) {
  auto resolver = std::make_shared<RangeResolver>();
  conn_->SetTableResolver(resolver);
  int before = resolver->resets;
  conn_->Run("SELECT 1");
  conn_->Run("SELECT 2");
  EXPECT_GE(resolver->resets - before, 2);
}

TEST_F(EngineTest, ResolverOfOneConnectionIsNotUsedByAnother) {
  auto resolver = std::make_shared<RangeResolver>();
  conn_->SetTableResolver(resolver);
  auto other = engine_->Connect();
  EXPECT_EQ(CatchError([&] { other->Run("SELECT * FROM sales.orders"); }).code(), ErrorCode::kNotFound);
  EXPECT_TRUE(resolver->calls.empty());
}

TEST_F(EngineTest, ClearingTheResolverMakesNamesUnknownAgain) {
  auto resolver = std::make_shared<RangeResolver>();
  conn_->SetTableResolver(resolver);
  conn_->SetTableResolver(nullptr);
  EXPECT_EQ(CatchError([&] { conn_->Run("SELECT * FROM sales.orders"); }).code(), ErrorCode::kNotFound);
  EXPECT_TRUE(resolver->calls.empty());
}

TEST_F(EngineTest, NotFoundFromTheResolverSurfacesAsNotFound) {
  conn_->SetTableResolver(
      std::make_shared<FailingResolver>(Error::NotFound("table sales.nope does not exist")));
  auto e = CatchError([&] { conn_->Run("SELECT * FROM sales.nope"); });
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  EXPECT_NE(std::string(e.what()).find("table sales.nope does not exist"), std::string::npos) << e.what();
}

TEST_F(EngineTest, PermissionDeniedFromTheResolverSurfacesAsPermissionDenied) {
  conn_->SetTableResolver(std::make_shared<FailingResolver>(Error::PermissionDenied("not yours")));
  EXPECT_EQ(CatchError([&] { conn_->Run("SELECT * FROM sales.secret"); }).code(),
            ErrorCode::kPermissionDenied);
}

TEST_F(EngineTest, InvalidArgumentFromTheResolverSurfacesAsInvalidArgument) {
  conn_->SetTableResolver(std::make_shared<FailingResolver>(Error::InvalidArgument("bad name")));
  EXPECT_EQ(CatchError([&] { conn_->Run("SELECT * FROM sales.bad"); }).code(), ErrorCode::kInvalidArgument);
}

TEST_F(EngineTest, ThreePartNameIsInvalidArgument) {
  auto resolver = std::make_shared<RangeResolver>();
  conn_->SetTableResolver(resolver);
  auto e = CatchError([&] { conn_->Run("SELECT * FROM lake.sales.orders"); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
  EXPECT_NE(std::string(e.what()).find("database.table"), std::string::npos) << e.what();
  EXPECT_TRUE(resolver->calls.empty());
}

TEST_F(EngineTest, ResolverIsUsedByStreamAndDescribe) {
  conn_->SetTableResolver(std::make_shared<RangeResolver>());
  std::vector<std::string> names;
  std::vector<duckdb::LogicalType> types;
  conn_->Describe(std::move(Parse("SELECT * FROM sales.orders")[0]), names, types);
  EXPECT_EQ(names, (std::vector<std::string>{"range"}));
  auto result = conn_->Stream(std::move(Parse("SELECT * FROM sales.orders")[0]));
  std::ostringstream out;
  auto writer = MakeResultWriter(OutputFormat::kCsv, out);
  EXPECT_EQ(WriteResult(*result, *writer), 3u);
}

// --- distinct-count sketches (engine/sketch.h) ----------------------------------

// The merged sketches of any division of the rows count what approx_count_distinct
// counts over all of them, per group too, for text and numbers, NULLs left out.
TEST_F(EngineTest, MergedSketchesOfPartsCountWhatApproxCountDistinctCounts) {
  auto result = conn_->Run(
      "WITH t AS (SELECT i % 7 AS g, i % 5 AS part, CASE WHEN i % 11 = 0 THEN NULL ELSE 'v' || (i % 40000) "
      "END "
      "AS s, (i * 7919) % 100003 AS n FROM range(300000) r(i)), "
      "parts AS (SELECT g, part, tarn_distinct_sketch(s) AS ss, tarn_distinct_sketch(n) AS ns FROM t GROUP "
      "BY "
      "g, part), "
      "merged AS (SELECT g, tarn_distinct_sketch_count(tarn_distinct_sketch_merge(ss)) AS s, "
      "tarn_distinct_sketch_count(tarn_distinct_sketch_merge(ns)) AS n FROM parts GROUP BY g), "
      "one AS (SELECT g, approx_count_distinct(s) AS s, approx_count_distinct(n) AS n FROM t GROUP BY g) "
      "SELECT count(*), count(*) FILTER (WHERE merged.s = one.s AND merged.n = one.n), min(one.s), "
      "max(one.n) "
      "FROM merged JOIN one USING (g)");
  EXPECT_EQ(result->GetValue(0, 0).GetValue<int64_t>(), 7);
  EXPECT_EQ(result->GetValue(1, 0).GetValue<int64_t>(), 7);
  // Estimates near the truth (about 40000 texts, 42857 numbers per group).
  EXPECT_GT(result->GetValue(2, 0).GetValue<int64_t>(), 20000);
  EXPECT_LT(result->GetValue(3, 0).GetValue<int64_t>(), 80000);
  auto whole = conn_->Run(
      "SELECT tarn_distinct_sketch_count(tarn_distinct_sketch(i % 1000)) = approx_count_distinct(i % 1000), "
      "tarn_distinct_sketch_count(tarn_distinct_sketch(NULL::INTEGER)) FROM range(5000) r(i)");
  EXPECT_TRUE(whole->GetValue(0, 0).GetValue<bool>());
  EXPECT_EQ(whole->GetValue(1, 0).GetValue<int64_t>(), 0);
}

// A BLOB that is not a sketch is a clear error, never read beyond its bytes.
TEST_F(EngineTest, ABlobThatIsNotASketchIsAnError) {
  for (const char* sql : {"SELECT tarn_distinct_sketch_count('abc'::BLOB)",
                          "SELECT tarn_distinct_sketch_count(from_hex(repeat('FF', 64)))",
                          "SELECT tarn_distinct_sketch_merge(b) FROM (VALUES ('xyz'::BLOB)) v(b)"}) {
    SCOPED_TRACE(sql);
    auto e = CatchError([&] { conn_->Run(sql); });
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e.what(), ::testing::HasSubstr("not a distinct-count sketch"));
  }
}

}  // namespace
}  // namespace tarn::engine
