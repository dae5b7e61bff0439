// What Livy statement code asks for: SQL as it is; in Spark-language sessions only
// sparkmagic's probes and its exact %%sql cells (as sparkmagic's sqlquery.py writes
// them), parsed strictly — anything else is unsupported, never evaluated.
#include "livy/code.h"

#include <gtest/gtest.h>

#include <vector>

namespace tarn::livy {
namespace {

using Action = Code::Action;

std::string PySparkCell(const std::string& query, const std::string& limit,
                        const std::string& context = "spark") {
  return "import sys\nfor yQeKOYBsFgLWWGWZJu3y in " + context + ".sql(u\"\"\"" + query +
         " \"\"\").toJSON(use_unicode=(sys.version_info.major > 2))" + limit +
         ": print(yQeKOYBsFgLWWGWZJu3y)";
}

TEST(LivyCodeTest, SqlSessionsRunTheCodeAsSql) {
  auto c = Interpret(Kind::kSql, "SELECT 1; SELECT 2");
  EXPECT_EQ(c.action, Action::kSql);
  EXPECT_EQ(c.sql, "SELECT 1; SELECT 2");
  EXPECT_EQ(Interpret(Kind::kShared, "spark").action, Action::kSql);  // SQL there, even this
}

TEST(LivyCodeTest, SparkmagicsProbesAreAnswered) {
  for (auto kind : {Kind::kPySpark, Kind::kSpark}) {
    for (const char* probe : {"spark", "sqlContext", "  spark\n"}) {
      auto c = Interpret(kind, probe);
      EXPECT_EQ(c.action, Action::kProbe) << probe;
    }
  }
  EXPECT_EQ(Interpret(Kind::kPySpark, "sc").action, Action::kUnsupported);
}

TEST(LivyCodeTest, ThePySparkSqlCellIsParsedInEachOfItsForms) {
  auto take = Interpret(Kind::kPySpark, PySparkCell("SELECT * FROM d.t", ".take(2500)"));
  EXPECT_EQ(take.action, Action::kJsonLines);
  EXPECT_EQ(take.sql, "SELECT * FROM d.t");  // sparkmagic's added space removed
  EXPECT_EQ(take.take, 2500);
  EXPECT_FALSE(take.sample);

  auto sample = Interpret(Kind::kPySpark, PySparkCell("SELECT 1", ".sample(False, 0.1).take(10)"));
  EXPECT_EQ(sample.action, Action::kJsonLines);
  EXPECT_DOUBLE_EQ(*sample.sample, 0.1);
  EXPECT_EQ(sample.take, 10);

  auto collect = Interpret(Kind::kPySpark, PySparkCell("SELECT 1", ".collect()", "sqlContext"));
  EXPECT_EQ(collect.action, Action::kJsonLines);
  EXPECT_FALSE(collect.take);

  // Older sparkmagic releases: toJSON() and toJSON(use_unicode=True).
  std::string old = "import sys\nfor v in spark.sql(u\"\"\"SELECT 2 \"\"\").toJSON().take(5): print(v)";
  EXPECT_EQ(Interpret(Kind::kPySpark, old).sql, "SELECT 2");
  std::string unicode =
      "import sys\nfor v in spark.sql(u\"\"\"SELECT 3 \"\"\").toJSON(use_unicode=True).take(5): print(v)";
  EXPECT_EQ(Interpret(Kind::kPySpark, unicode).sql, "SELECT 3");
}

TEST(LivyCodeTest, AQueryMayHoldQuotesAndNewlines) {
  std::string q = "SELECT 'a\"\"\"b' AS x,\n  \"col\" FROM d.t";
  auto c = Interpret(Kind::kPySpark, PySparkCell(q, ".take(1)"));
  EXPECT_EQ(c.action, Action::kJsonLines);
  EXPECT_EQ(c.sql, q);
}

TEST(LivyCodeTest, TheScalaSqlCellIsParsed) {
  auto c = Interpret(Kind::kSpark, "spark.sql(\"\"\"SELECT 1\"\"\").toJSON.take(2500).foreach(println)");
  EXPECT_EQ(c.action, Action::kJsonLines);
  EXPECT_EQ(c.sql, "SELECT 1");
  EXPECT_EQ(c.take, 2500);
  auto s =
      Interpret(Kind::kSpark,
                "sqlContext.sql(\"\"\"SELECT 2\"\"\").toJSON.sample(false, 0.5).collect.foreach(println)");
  EXPECT_EQ(s.action, Action::kJsonLines);
  EXPECT_DOUBLE_EQ(*s.sample, 0.5);
  EXPECT_FALSE(s.take);
}

TEST(LivyCodeTest, AnythingElseIsUnsupportedNeverRun) {
  for (const std::string& code : std::vector<std::string>{
           std::string("1 + 1"),
           std::string("import os; os.system('id')"),
           // The cell with something appended or prepended.
           PySparkCell("SELECT 1", ".take(10)") + "\nimport os",
           "x = 1\n" + PySparkCell("SELECT 1", ".take(10)"),
           // Another print target, context or method.
           "import sys\nfor v in spark.sql(u\"\"\"SELECT 1 \"\"\").toJSON().take(5): print(w)",
           "import sys\nfor v in sc.sql(u\"\"\"SELECT 1 \"\"\").toJSON().take(5): print(v)",
           PySparkCell("SELECT 1", ".take(-1)"),
           PySparkCell("SELECT 1", ".sample(False, 2).take(5)"),
           PySparkCell("SELECT 1", ".sample(False, 0.1)"),
           PySparkCell("SELECT 1", ".take(5).collect()"),
       }) {
    EXPECT_EQ(Interpret(Kind::kPySpark, code).action, Action::kUnsupported) << code;
  }
  EXPECT_EQ(Interpret(Kind::kSpark, "spark.sql(\"\"\"SELECT 1\"\"\").collect()").action,
            Action::kUnsupported);
}

TEST(LivyCodeTest, KindsHaveLivysNamesAndAliases) {
  EXPECT_EQ(ParseKind("sql"), Kind::kSql);
  EXPECT_EQ(ParseKind("shared"), Kind::kShared);
  EXPECT_EQ(ParseKind("scala"), Kind::kSpark);
  EXPECT_EQ(ParseKind("python"), Kind::kPySpark);
  EXPECT_FALSE(ParseKind("sparkr"));
  EXPECT_FALSE(ParseKind("SQL"));
  EXPECT_STREQ(KindName(Kind::kPySpark), "pyspark");
}

}  // namespace
}  // namespace tarn::livy
