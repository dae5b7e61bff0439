// The function allow-list (src/governance/functions.cpp): every function DuckDB
// registers is classified on purpose, the docs are generated from the list, and
// queries may call only what it allows, checked before binding and on the plan.
#include <duckdb/parser/expression/constant_expression.hpp>
#include <duckdb/parser/expression/function_expression.hpp>
#include <duckdb/parser/parsed_expression_iterator.hpp>
#include <duckdb/parser/query_node/select_node.hpp>
#include <duckdb/parser/statement/select_statement.hpp>

#include <fstream>
#include <map>
#include <sstream>

#include "engine/engine.h"
#include "governance/functions.h"
#include "governance/governance_fixture.h"
#include "governance/internal.h"

using ::testing::HasSubstr;

namespace tarn::testing {
namespace {

using governance::Classify;
using governance::FunctionKind;
using governance::FunctionUse;

struct Registered {
  std::string name, type, macro;
};

// What the engine registers, read internally (users may never call duckdb_functions).
std::vector<Registered> RegisteredFunctions() {
  engine::Engine engine({});
  auto conn = engine.Connect();
  auto trusted = conn->Trusted();
  auto result = conn->Run(
      "SELECT DISTINCT function_name, function_type, coalesce(macro_definition, '') FROM duckdb_functions() "
      "ORDER BY 1, 2");
  std::vector<Registered> out;
  for (duckdb::idx_t i = 0; i < result->RowCount(); i++) {
    out.push_back({result->GetValue(0, i).ToString(), result->GetValue(1, i).ToString(),
                   result->GetValue(2, i).ToString()});
  }
  return out;
}

FunctionKind KindOf(const std::string& type) {
  if (type == "table" || type == "table_macro") return FunctionKind::kTable;
  if (type == "pragma") return FunctionKind::kPragma;
  return FunctionKind::kExpression;  // scalar, aggregate, macro
}

bool Listed(FunctionKind kind, const std::string& name) {
  for (auto& g : governance::FunctionGroups()) {
    if (g.kind != kind) continue;
    for (auto& n : g.names) {
      if (n == name) return true;
    }
  }
  return false;
}

TEST(FunctionListTest, EveryRegisteredFunctionIsClassifiedOnPurpose) {
  auto registered = RegisteredFunctions();
  ASSERT_GT(registered.size(), 500u);  // the engine's whole surface, not an empty read
  std::vector<std::string> unclassified;
  for (auto& f : registered) {
    if (!Listed(KindOf(f.type), f.name)) unclassified.push_back(f.type + " " + f.name);
  }
  EXPECT_TRUE(unclassified.empty())
      << "DuckDB registers functions src/governance/functions.cpp does not classify; allow or deny each on "
         "purpose:\n"
      << ::testing::PrintToString(unclassified);
}

TEST(FunctionListTest, EveryListedFunctionExists) {
  std::set<std::pair<FunctionKind, std::string>> registered;
  for (auto& f : RegisteredFunctions()) registered.insert({KindOf(f.type), f.name});
  for (auto& g : governance::FunctionGroups()) {
    if (!g.registered) continue;
    for (auto& n : g.names) {
      EXPECT_TRUE(registered.count({g.kind, n}))
          << n << " is listed in \"" << g.reason << "\" but the engine has no such function (a typo?)";
    }
  }
}

TEST(FunctionListTest, NoNameIsListedTwice) {
  std::map<std::pair<FunctionKind, std::string>, int> seen;
  for (auto& g : governance::FunctionGroups()) {
    for (auto& n : g.names) {
      int& count = seen[std::make_pair(g.kind, n)];
      EXPECT_EQ(++count, 1) << n << " is classified twice";
    }
  }
}

// Every function an allowed macro's body calls is allowed itself (or engine-only):
// a macro expands while binding, before the plan check sees it.
TEST(FunctionListTest, AllowedMacrosCallOnlyAllowedFunctions) {
  int macros = 0;
  for (auto& f : RegisteredFunctions()) {
    if (f.type != "macro" || Classify(FunctionKind::kExpression, f.name) != FunctionUse::kAllowed) continue;
    macros++;
    auto statements = engine::Parse("SELECT " + f.macro);
    auto& node = statements.at(0)->Cast<duckdb::SelectStatement>().node->Cast<duckdb::SelectNode>();
    std::function<void(duckdb::ParsedExpression&)> walk = [&](duckdb::ParsedExpression& e) {
      if (e.GetExpressionClass() == duckdb::ExpressionClass::FUNCTION) {
        auto& call = e.Cast<duckdb::FunctionExpression>();
        EXPECT_TRUE(governance::MayRun(FunctionKind::kExpression, call.function_name))
            << "allowed macro " << f.name << " calls " << call.function_name;
        if (governance::TakesAggregateName(call.function_name) && call.children.size() >= 2) {
          auto& name = call.children[1]->Cast<duckdb::ConstantExpression>().value;
          EXPECT_TRUE(governance::MayCall(FunctionKind::kExpression, name.ToString())) << f.name;
        }
      }
      EXPECT_NE(e.GetExpressionClass(), duckdb::ExpressionClass::SUBQUERY) << "macro " << f.name;
      duckdb::ParsedExpressionIterator::EnumerateChildren(e, walk);
    };
    for (auto& e : node.select_list) walk(*e);
  }
  EXPECT_GT(macros, 50);
}

TEST(FunctionListTest, DocsAreGeneratedFromTheList) {
  std::ifstream in(std::string(TARN_SOURCE_DIR) + "/docs/functions.md");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), governance::FunctionsMarkdown())
      << "docs/functions.md is stale: run `tarn functions > docs/functions.md`";
}

TEST(FunctionListTest, WhatReadsSettingsFilesOrSqlIsNeverAllowed) {
  for (auto name : {"current_setting", "getvariable", "json_serialize_plan", "json_serialize_sql",
                    "json_deserialize_sql", "version", "stats", "nextval", "setseed", "write_log"}) {
    EXPECT_FALSE(governance::MayRun(FunctionKind::kExpression, name)) << name;
  }
  for (auto name : {"query", "query_table", "read_text", "read_blob", "glob", "duckdb_settings",
                    "json_execute_serialized_sql", "parquet_metadata", "sniff_csv", "summary"}) {
    EXPECT_FALSE(governance::MayRun(FunctionKind::kTable, name)) << name;
  }
  EXPECT_EQ(Classify(FunctionKind::kTable, "read_parquet"), FunctionUse::kPlanOnly);
  EXPECT_EQ(Classify(FunctionKind::kExpression, "no_such_function"), FunctionUse::kDenied);
  EXPECT_EQ(Classify(FunctionKind::kExpression, "LOWER"), FunctionUse::kAllowed);
}

class FunctionQueryTest : public GovernanceTest {
 protected:
  void SetUp() override {
    GovernanceTest::SetUp();
    Exec(*admin_, "GRANT SELECT ON TABLE d.t TO USER ana");
    ana_ = As("ana");
  }
  void ExpectUnavailable(const std::string& sql, const std::string& function) {
    auto e = ExpectError(*ana_, sql);
    EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied) << sql << ": " << e.what();
    EXPECT_THAT(std::string(e.what()), HasSubstr("access denied: function " + function + " is not available"))
        << sql;
  }
  std::unique_ptr<RunAs> ana_;
};

TEST_F(FunctionQueryTest, FunctionsThatBindTheirOwnSqlAreRefusedBeforeBinding) {
  ExpectUnavailable("SELECT json_serialize_plan('SELECT * FROM d.t', optimize := true)",
                    "json_serialize_plan");
  ExpectUnavailable("SELECT json_serialize_sql('SELECT 1')", "json_serialize_sql");
  ExpectUnavailable("SELECT current_setting('temp_directory')", "current_setting");
  ExpectUnavailable("SELECT id FROM d.t WHERE length(current_setting('threads')) > 0", "current_setting");
  ExpectUnavailable("SELECT version()", "version");
  ExpectUnavailable("SELECT * FROM duckdb_settings()", "duckdb_settings");
  ExpectUnavailable("SELECT * FROM read_text('/etc/passwd')", "read_text");
  ExpectUnavailable("SELECT sum(id) OVER (ORDER BY getvariable('x')) FROM d.t", "getvariable");
  ExpectUnavailable("SELECT current_setting('threads') OVER () FROM d.t", "current_setting");
  ExpectUnavailable("SELECT no_such_function(1)", "no_such_function");
}

TEST_F(FunctionQueryTest, AggregatesNamedByStringMustBeAllowed) {
  EXPECT_EQ(Scalar(*ana_, "SELECT list_aggr([1, 2, 3], 'sum')"), "6");
  EXPECT_EQ(Scalar(*ana_, "SELECT list_sum([1, 2, 3])"), "6");  // a macro over list_aggr
  auto e = ExpectError(*ana_, "SELECT list_aggr(['SELECT 1'], 'json_serialize_plan')");
  EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied);
  e = ExpectError(*ana_, "SELECT list_aggr([1], lower('SUM'))");
  EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied);
}

TEST_F(FunctionQueryTest, OrdinaryFunctionsStillWork) {
  EXPECT_EQ(Scalar(*ana_,
                   "SELECT string_agg(upper(region), ',' ORDER BY id) FROM d.t WHERE id <= 2 AND email LIKE "
                   "'%x%'"),
            "EU,EU");
  EXPECT_EQ(Scalar(*ana_,
                   "SELECT max(rn) FROM (SELECT row_number() OVER (PARTITION BY region ORDER BY id) rn "
                   "FROM d.t)"),
            "2");
  EXPECT_EQ(Scalar(*ana_, "SELECT count(*) FROM (SELECT unnest(range(3)))"), "3");
  EXPECT_EQ(Scalar(*ana_, "SELECT count(*) FROM range(5)"), "5");
  EXPECT_EQ(Scalar(*ana_, "SELECT date_trunc('month', DATE '2026-12-02')::VARCHAR"), "2026-12-01");
  EXPECT_EQ(Scalar(*ana_, "SELECT 'ABC' COLLATE nocase = 'abc'"), "true");
}

// A CTE's name is in scope only where it is defined: elsewhere a bare name is an
// engine object, refused before binding like any other bare name.
TEST_F(FunctionQueryTest, CteNamesAreScoped) {
  for (auto sql : {"SELECT * FROM (WITH duckdb_settings AS (SELECT 1 AS a) SELECT * FROM duckdb_settings) s, "
                   "duckdb_settings",
                   "WITH duckdb_settings AS (SELECT * FROM duckdb_settings) SELECT * FROM duckdb_settings",
                   "SELECT (WITH pg_settings AS (SELECT 1) SELECT 1), * FROM pg_settings"}) {
    auto e = ExpectError(*ana_, sql);
    EXPECT_EQ(e.code(), ErrorCode::kNotFound) << sql << ": " << e.what();
    EXPECT_THAT(std::string(e.what()), HasSubstr("name tables as database.table")) << sql;
  }
  EXPECT_EQ(Scalar(*ana_, "WITH a AS (SELECT 1 AS x), b AS (SELECT x + 1 AS y FROM a) SELECT y FROM b"), "2");
  EXPECT_EQ(Scalar(*ana_,
                   "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) "
                   "SELECT max(n) FROM r"),
            "3");
}

// Expressions DuckDB evaluates while binding, outside the select list: the AT clause
// of a table (evaluated before the table is even looked up; its cast error once
// quoted current_setting's value: it must be a literal now) and PIVOT's IN list.
TEST_F(FunctionQueryTest, ExpressionsBoundEarlyAreCheckedToo) {
  auto e = ExpectError(
      *ana_, "SELECT count(*) FROM d.t AT (TIMESTAMP => current_setting('temp_directory')::TIMESTAMP)");
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
  EXPECT_THAT(std::string(e.what()), HasSubstr("AT takes a literal"));
  EXPECT_THAT(std::string(e.what()), ::testing::Not(HasSubstr(dir_.path().string())));
  e = ExpectError(*ana_, "SELECT count(*) FROM d.t AT (VERSION => 99999)");
  EXPECT_EQ(e.code(), ErrorCode::kNotFound) << e.what();
  e = ExpectError(*ana_, "SELECT * FROM d.t PIVOT (sum(amount) FOR region IN (current_setting('threads')))");
  EXPECT_THAT(std::string(e.what()), ::testing::Not(HasSubstr(dir_.path().string())));
}

// The bound plan is checked against the same list, whatever the parsed tree said.
TEST(FunctionPlanTest, DeniedFunctionsInAPlanAreRefused) {
  engine::Engine engine({});
  auto conn = engine.Connect();
  for (auto sql : {"SELECT setseed(x / 10) FROM range(3) t(x)", "SELECT * FROM duckdb_settings()"}) {
    auto plan = conn->raw().ExtractPlan(sql);
    try {
      governance::CheckPlan(*plan, {}, "");
      ADD_FAILURE() << sql << " passed the plan check";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied) << sql;
      EXPECT_THAT(std::string(e.what()), HasSubstr("is not available")) << sql;
    }
  }
  auto ok = conn->raw().ExtractPlan("SELECT list_sum([1, 2]), lower('A'), count(*) FROM range(3)");
  EXPECT_NO_THROW(governance::CheckPlan(*ok, {}, ""));
}

}  // namespace
}  // namespace tarn::testing
