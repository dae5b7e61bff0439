// Which columns a reader's SQL uses: words and quoted names, and everything it passes
// on through a `*` — never fewer than it uses.
#include "quality/column_demand.h"

#include <gtest/gtest.h>

namespace tarn::quality {
namespace {

TEST(ColumnDemandTest, StarsAreSelectionsNotCountsOrProducts) {
  EXPECT_TRUE(SelectsStar("SELECT * FROM \"p_x\""));
  EXPECT_TRUE(SelectsStar("SELECT *, (\"a\" * 2) AS \"b\" FROM \"p_x\""));
  EXPECT_TRUE(SelectsStar("SELECT i.* FROM \"p_x\" i"));
  EXPECT_TRUE(SelectsStar("SELECT * EXCLUDE (\"a\") FROM \"p_x\""));
  EXPECT_FALSE(SelectsStar("SELECT \"g\", count(*) AS \"n\" FROM \"p_x\" GROUP BY ALL"));
  EXPECT_FALSE(SelectsStar("SELECT (\"a\" * 2) AS \"b\", (sum(\"c\") * 0.5) AS \"d\", (3 * \"e\") FROM \"p_x\""));
  EXPECT_FALSE(SelectsStar("SELECT '*' AS \"star\", \"a*b\" FROM \"p_x\""));
}

TEST(ColumnDemandTest, NeedsPropagateFromStatementsThroughStars) {
  // 0: a table (a, b, c, d); 1: SELECT *, derived e; 2: an aggregate of 1; 3: a filter of 1.
  std::vector<DemandNode> nodes = {
      {"SELECT * FROM \"t\"", {}, {"a", "b", "c", "d"}, "", "t"},
      {"SELECT *, (\"a\" + 1) AS \"e\" FROM \"p_0\"", {0}, {"a", "b", "c", "d", "e"}, "derive", "x"},
      {"SELECT b, sum(\"e\") AS \"s\" FROM \"p_1\" GROUP BY b", {1}, {"b", "s"}, "aggregate", "y"},
      {"SELECT * FROM \"p_1\" WHERE \"c\" > 0", {1}, {"a", "b", "c", "d", "e"}, "filter", "z"},
  };
  // Statements read 2 whole, and of 3 only column d.
  std::vector<std::pair<std::string, std::set<size_t>>> statements = {{"SELECT * FROM \"p_2\"", {2}},
                                                                      {"SELECT \"d\" FROM \"p_3\"", {3}}};
  auto need = ColumnDemand(nodes, statements);
  EXPECT_TRUE(need[2].all);
  EXPECT_EQ(need[3].columns, (std::set<std::string>{"d"}));
  // 1 gives 2 what it names (b unquoted, e) and 3 what 3 passes on (d) and names (c).
  EXPECT_EQ(need[1].columns, (std::set<std::string>{"b", "c", "d", "e"}));
  // 1 names a and passes b, c, d on: all of 0's columns.
  EXPECT_TRUE(need[0].all);
  // Without the edge 3 -> 1, 1 is needed only for b and e.
  auto skipped = ColumnDemand(nodes, statements, {{3, 1}});
  EXPECT_EQ(skipped[1].columns, (std::set<std::string>{"b", "e"}));
}

}  // namespace
}  // namespace tarn::quality
