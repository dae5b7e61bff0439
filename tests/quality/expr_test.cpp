// The expression language: formulas compiled and evaluated by a real DuckDB over a
// small table, compared with what a spreadsheet gives; and the refusals.
#include <gmock/gmock.h>

#include "common/error.h"
#include "engine/engine.h"
#include "quality/expr.h"
#include "test_util.h"

namespace tarn::quality {
namespace {

using tarn::testing::TempDir;
using ::testing::HasSubstr;

class ExprTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine::EngineOptions options;
    options.threads = 1;
    options.temp_directory = dir_.path();
    options.allowed_directories = {dir_.path()};
    engine_ = std::make_unique<engine::Engine>(options);
    conn_ = engine_->Connect();
  }
  // The formula's value over one row: amount -1234.567, qty 3, name '  Ada  Lovelace ',
  // posted 2024-01-31, shipped 2024-03-04, note NULL, zero 0.
  std::string Eval(const std::string& formula, ExprMode mode = ExprMode::kRow) {
    std::vector<std::string> cols = {"amount",  "qty",  "name", "posted",
                                     "shipped", "note", "zero", "Posted Date"};
    std::string sql = CompileExpr(formula, cols, mode, "test");
    auto r = conn_->Run(
        "SELECT CAST((" + sql +
        ") AS VARCHAR) FROM (VALUES (-1234.567, 3, '  Ada  Lovelace ', DATE '2024-01-31', DATE '2024-03-04', "
        "CAST(NULL AS VARCHAR), 0, DATE '2023-12-25')) t(amount, qty, name, posted, shipped, note, zero, "
        "\"Posted "
        "Date\")");
    auto v = r->GetValue(0, 0);
    return v.IsNull() ? "NULL" : v.ToString();
  }
  Error Refused(const std::string& formula, ExprMode mode = ExprMode::kRow) {
    SCOPED_TRACE(formula);
    return tarn::testing::CatchError([&] {
      CompileExpr(formula, {"amount", "Amount2", "amountx"}, mode, "step 's', field 'f'");
    });
  }
  TempDir dir_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<engine::EngineConnection> conn_;
};

TEST_F(ExprTest, ArithmeticAndLogicFollowTheSpreadsheet) {
  EXPECT_EQ(Eval("1 + 2 * 3 ^ 2"), "19.0");
  EXPECT_EQ(Eval("-2 ^ 2"), "4.0");  // unary minus binds first, as in a spreadsheet
  EXPECT_EQ(Eval("qty / zero"), "NULL");
  EXPECT_EQ(Eval("IFERROR(qty / zero, -1)"), "-1.0");
  EXPECT_EQ(Eval("50%"), "0.5");
  EXPECT_EQ(Eval("IF(amount < 0, \"debit\", \"credit\")"), "debit");
  EXPECT_EQ(Eval("IF(amount > 0, 1)"), "NULL");
  EXPECT_EQ(Eval("IFS(qty > 5, \"many\", qty > 2, \"some\", TRUE, \"few\")"), "some");
  EXPECT_EQ(Eval("AND(qty > 1, amount < 0) AND NOT qty = 4 OR FALSE"), "true");
  EXPECT_EQ(Eval("ISBLANK(note)"), "true");
  EXPECT_EQ(Eval("qty <> 3"), "false");
  EXPECT_EQ(Eval("MOD(-7, 3)"), "2.0");
  EXPECT_EQ(Eval("SUM(qty, IF(FALSE, 1), 4)"), "7");  // blanks count as 0
  EXPECT_EQ(Eval("MAX(qty, 10, zero)"), "10");
}

TEST_F(ExprTest, RoundingMatchesTheSpreadsheet) {
  EXPECT_EQ(Eval("ROUND(2.5, 0)"), "3");
  EXPECT_EQ(Eval("ROUND(-2.5, 0)"), "-3");
  EXPECT_EQ(Eval("ROUND(amount, 2)"), "-1234.57");
  EXPECT_EQ(Eval("ROUNDUP(1.1, 0)"), "2.0");  // not 3: 1.1 * 10^0 has no binary noise to round up
  EXPECT_EQ(Eval("ROUNDUP(-1.21, 1)"), "-1.3");
  EXPECT_EQ(Eval("ROUNDDOWN(1.99, 1)"), "1.9");
  EXPECT_EQ(Eval("ROUNDDOWN(amount, 0)"), "-1234.0");
  EXPECT_EQ(Eval("ABS(amount)"), "1234.567");
  EXPECT_EQ(Eval("INT(-1.5)"), "-2");
}

TEST_F(ExprTest, TextFunctions) {
  EXPECT_EQ(Eval("TRIM(name)"), "Ada Lovelace");
  EXPECT_EQ(Eval("LEFT(TRIM(name), 3) & \"-\" & RIGHT(\"ABCDE\", 2)"), "Ada-DE");
  EXPECT_EQ(Eval("MID(\"ABCDE\", 2, 3)"), "BCD");
  EXPECT_EQ(Eval("LEN(TRIM(name))"), "12");
  EXPECT_EQ(Eval("UPPER(\"ab\") & LOWER('CD') & CONCAT(\"x\", note, 1)"), "ABcdx1");
  EXPECT_EQ(Eval("SUBSTITUTE(\"a-b-c\", \"-\", \"/\")"), "a/b/c");
  EXPECT_EQ(Eval("VALUE(\" 12.5 \") + 1"), "13.5");
  EXPECT_EQ(Eval("VALUE(\"twelve\")"), "NULL");
  EXPECT_EQ(Eval("TEXT(1234567.891, \"#,##0.00\")"), "1,234,567.89");
  EXPECT_EQ(Eval("TEXT(0.256, \"0.0%\")"), "25.6%");
  EXPECT_EQ(Eval("TEXT(posted, \"dd/mm/yyyy\")"), "31/01/2024");
  EXPECT_EQ(Eval("\"say \"\"hi\"\"\""), "say \"hi\"");
}

TEST_F(ExprTest, DateFunctions) {
  EXPECT_EQ(Eval("DATE(2024, 2, 29)"), "2024-02-29");
  EXPECT_EQ(Eval("YEAR(posted) * 100 + MONTH(posted)"), "202401");
  EXPECT_EQ(Eval("DAY(shipped)"), "4");
  EXPECT_EQ(Eval("EOMONTH(posted, 1)"), "2024-02-29");
  EXPECT_EQ(Eval("EOMONTH(posted, -2)"), "2023-11-30");
  EXPECT_EQ(Eval("EDATE(posted, 1)"), "2024-02-29");
  EXPECT_EQ(Eval("DATEDIF(posted, shipped, \"D\")"), "33");
  EXPECT_EQ(Eval("DATEDIF(posted, shipped, \"M\")"), "1");
  EXPECT_EQ(Eval("DATEDIF([Posted Date], shipped, \"Y\")"), "0");
  // 2024-01-31 (Wed) to 2024-03-04 (Mon): 24 weekdays, both ends counted.
  EXPECT_EQ(Eval("NETWORKDAYS(posted, shipped)"), "24");
  EXPECT_EQ(Eval("NETWORKDAYS(shipped, posted)"), "-24");
  EXPECT_EQ(Eval("NETWORKDAYS(DATE(2024, 3, 2), DATE(2024, 3, 3))"), "0");  // a weekend
  EXPECT_EQ(Eval("WEEKDAY(posted)"), "4");                                  // Wednesday, Sunday = 1
  EXPECT_EQ(Eval("WEEKDAY(posted, 2)"), "3");
  EXPECT_EQ(Eval("WEEKDAY(posted, 3)"), "2");
}

TEST_F(ExprTest, ColumnsAreMatchedExactlyOrByCaseAndQuoted) {
  EXPECT_EQ(CompileExpr("AMOUNT + amount2", {"amount", "Amount2"}, ExprMode::kRow, "x"),
            "(\"amount\" + \"Amount2\")");
  EXPECT_EQ(CompileExpr("[we\"ird]", {"we\"ird"}, ExprMode::kRow, "x"), "\"we\"\"ird\"");
  std::set<std::string> used;
  CompileExpr("IF(amount > 0, Amount2, 0)", {"amount", "Amount2"}, ExprMode::kRow, "x", nullptr, &used);
  EXPECT_EQ(used, (std::set<std::string>{"amount", "Amount2"}));
}

TEST_F(ExprTest, BadFormulasAreRefusedSayingWhereAndWhy) {
  struct Case {
    std::string formula, says;
  } cases[] = {
      {"amount +", "the formula ends too early"},
      {"amonut * 2", "no column 'amonut' (columns: amount, Amount2, amountx)"},
      {"AMOUNT2 + amount2X", "no column 'amount2X'"},
      {"SUMX(amount)", "no function SUMX here"},
      {"ROUND(amount, 1, 2)", "ROUND takes 1 to 2 arguments, not 3"},
      {"IF(amount > 1", "expected ')' to close IF("},
      {"\"open", "a text in quotes is not closed"},
      {"amount; DROP TABLE x", "unexpected character ';'"},
      {"read_csv('/etc/passwd')", "no function read_csv here"},
      {"TEXT(amount, amount)", "the format must be written as a literal"},
      {"TEXT(amount, \"%s\")", "is not one of the number formats"},
      {"DATEDIF(amount, amount, \"W\")", "the unit must be"},
      {"SUM(amount)", "takes"},  // fine in a row: SUM over columns; see below
      {"", "the formula is empty"},
      {std::string(300, '(') + "1" + std::string(300, ')'), "nests deeper than 200"},
  };
  for (auto& c : cases) {
    if (c.formula == "SUM(amount)") continue;
    auto e = Refused(c.formula);
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << c.formula;
    EXPECT_THAT(e.what(), HasSubstr(c.says)) << c.formula;
    EXPECT_THAT(e.what(), HasSubstr("step 's', field 'f': ")) << c.formula;
    EXPECT_THAT(e.what(), HasSubstr("(at character ")) << c.formula;
  }
  // Aggregates only where rows are grouped; window functions only in window steps.
  EXPECT_THAT(Refused("COUNTIF(amount > 1)").what(), HasSubstr("no function COUNTIF here"));
  EXPECT_THAT(Refused("RANK()", ExprMode::kAggregate).what(), HasSubstr("no function RANK here"));
  EXPECT_THAT(Refused("SUM(SUM(amount))", ExprMode::kAggregate).what(),
              HasSubstr("SUM cannot be used inside another aggregate"));
  EXPECT_THAT(Refused("RANK()", ExprMode::kWindow).what(), HasSubstr("needs the step's order_by"));
}

TEST_F(ExprTest, AggregatesCompileToFilteredAggregates) {
  std::vector<std::string> cols = {"amount", "ccy"};
  EXPECT_EQ(CompileExpr("SUMIFS(amount, ccy = \"EUR\", amount > 0)", cols, ExprMode::kAggregate, "x"),
            "sum(\"amount\") FILTER (WHERE ((\"ccy\" = 'EUR') AND (\"amount\" > 0)))");
  EXPECT_EQ(CompileExpr("COUNTIF(amount > 1000)", cols, ExprMode::kAggregate, "x"),
            "count(*) FILTER (WHERE ((\"amount\" > 1000)))");
  EXPECT_EQ(CompileExpr("ROUND(SUM(amount) / COUNT(), 2)", cols, ExprMode::kAggregate, "x"),
            "round((sum(\"amount\") / nullif(count(*), 0)), CAST(2 AS INTEGER))");
  WindowSpec w{"\"ccy\"", "\"amount\" DESC"};
  EXPECT_EQ(CompileExpr("RANK()", cols, ExprMode::kWindow, "x", &w),
            "rank() OVER (PARTITION BY \"ccy\" ORDER BY \"amount\" DESC)");
  EXPECT_EQ(CompileExpr("amount - LAG(amount)", cols, ExprMode::kWindow, "x", &w),
            "(\"amount\" - lag(\"amount\", CAST(1 AS BIGINT)) OVER (PARTITION BY \"ccy\" ORDER BY \"amount\" "
            "DESC))");
  EXPECT_EQ(CompileExpr("SUM(amount)", cols, ExprMode::kWindow, "x", &w),
            "sum(\"amount\") OVER (PARTITION BY \"ccy\")");
}

// In two steps (AggregateParts): partial aggregates per part (here: rows split by
// k % 3), then their combination, equal the one-step aggregate (an approximate
// distinct count by merged sketches, engine/sketch.h); an exact distinct count cannot
// be split.
TEST_F(ExprTest, AggregatesSplitIntoPartialsThatCombineToTheOneStepValue) {
  std::vector<std::string> cols = {"k", "amount", "ccy"};
  const char* data =
      "(SELECT i AS k, CASE WHEN i % 7 = 0 THEN NULL ELSE (i * 37) % 101 - 50 END AS amount, "
      "CASE WHEN i % 2 = 0 THEN 'EUR' ELSE 'USD' END AS ccy FROM range(200) t(i))";
  for (std::string formula :
       {"SUM(amount)", "COUNT()", "COUNT(amount)", "COUNTIF(amount > 0)", "MIN(amount)",
        "MAXIFS(amount, ccy = \"EUR\")", "ROUND(AVERAGE(amount), 6)",
        "ROUND(AVERAGEIF(amount, ccy = \"USD\"), 6)", "ROUND(100.0 * SUMIF(amount, amount > 0) / COUNT(), 3)",
        "MAX(amount) - MIN(amount)", "APPROX_COUNT_DISTINCT(amount)",
        "APPROX_COUNT_DISTINCT(ccy) + COUNT()"}) {
    SCOPED_TRACE(formula);
    AggregateParts parts;
    std::string one = CompileExpr(formula, cols, ExprMode::kAggregate, "x");
    std::string combined = CompileExpr(formula, cols, ExprMode::kAggregate, "x", nullptr, nullptr, &parts);
    ASSERT_TRUE(parts.ok);
    ASSERT_FALSE(parts.partial.empty());
    std::string partial;
    for (auto& p : parts.partial) partial += ", " + p;
    auto whole = conn_->Run("SELECT CAST((" + one + ") AS VARCHAR) FROM " + data);
    auto split = conn_->Run("SELECT CAST((" + combined + ") AS VARCHAR) FROM (SELECT k % 3 AS part" +
                            partial + " FROM " + data + " GROUP BY k % 3)");
    EXPECT_EQ(split->GetValue(0, 0).ToString(), whole->GetValue(0, 0).ToString());
  }
  AggregateParts parts;
  CompileExpr("SUM(amount) / COUNT_DISTINCT(ccy)", cols, ExprMode::kAggregate, "x", nullptr, nullptr, &parts);
  EXPECT_FALSE(parts.ok);
}

}  // namespace
}  // namespace tarn::quality
