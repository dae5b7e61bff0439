// Each step type over a small real lake, compiled as the administrator and run
// through the Runner: the rows it gives, its edge cases (nulls, duplicates, empty
// inputs, type mismatches) and its refusals.
#include <gmock/gmock.h>

#include "governance/governance_fixture.h"
#include "quality/pipeline.h"
#include "quality/runner_probe.h"

namespace tarn::testing {
namespace {

using ::testing::HasSubstr;

class StepsTest : public GovernanceTest {
 protected:
  void SetUp() override {
    GovernanceTest::SetUp();
    Exec(*admin_,
         "CREATE TABLE d.sales AS SELECT * FROM (VALUES (1, 'EU', 'A', 10.0, DATE '2024-01-05'), (2, 'EU', "
         "'B', "
         "20.0, DATE '2024-01-20'), (3, 'US', 'A', 5.0, DATE '2024-02-01'), (4, 'US', NULL, 7.0, DATE "
         "'2024-02-03'), (5, 'EU', 'A', 10.0, DATE '2024-03-01')) v(id, region, product, amount, day);"
         "CREATE TABLE d.prices AS SELECT * FROM (VALUES ('A', DATE '2024-01-01', 1.0), ('A', DATE "
         "'2024-02-01', "
         "2.0), ('B', DATE '2024-01-01', 3.0), (NULL, DATE '2024-01-01', 9.0)) v(product, since, price);"
         "CREATE TABLE d.none AS SELECT * FROM d.sales WHERE false");
  }
  // Compiles `steps` over inputs sales, prices and none, outputs the last step to
  // d.out and returns its rows ordered by `order`.
  std::string Rows(const std::string& steps, const std::string& order = "ALL") {
    std::string yaml =
        "inputs:\n  sales: {table: d.sales}\n  prices: {table: d.prices}\n  none: {table: d.none}\nsteps:\n" +
        steps + "  - name: out\n    output: {table: d.out}\n";
    Exec(*admin_, "DROP TABLE IF EXISTS d.out");
    quality::RunnerProbe probe(*runner_, session::Instance::LocalCaller().principal, audit::Origin{"test"});
    auto c = quality::Compile(*quality::ParsePipeline(yaml, "p.yaml"), probe);
    Exec(*admin_, c.Script());
    return All(*admin_, "SELECT * FROM d.out ORDER BY " + order);
  }
  std::string Error(const std::string& steps) {
    return CatchError([&] { Rows(steps); }).what();
  }
};

TEST_F(StepsTest, FilterSortAndSelect) {
  EXPECT_EQ(Rows("  - name: f\n    filter: {where: 'region = \"EU\" AND amount >= 10'}\n"
                 "  - name: s\n    sort: {by: [amount desc, id], limit: 2}\n"
                 "  - name: k\n    select: {columns: {id: n, amount: amt}}\n",
                 "amt DESC, n"),
            "2|20.0|\n1|10.0|\n");
  EXPECT_EQ(Rows("  - name: k\n    select: {exclude: [region, product, amount, day]}\n"),
            "1|\n2|\n3|\n4|\n5|\n");
  EXPECT_EQ(Rows("  - name: r\n    rename: {columns: {id: sale_id}}\n  - name: k\n    select: {columns: "
                 "[sale_id]}\n"),
            "1|\n2|\n3|\n4|\n5|\n");
  EXPECT_THAT(Error("  - name: k\n    select: {columns: [nope]}\n"),
              HasSubstr("field 'columns': no column 'nope'"));
}

TEST_F(StepsTest, DedupeKeepsFirstOrLastAndShowsTheDuplicates) {
  EXPECT_EQ(Rows("  - name: d\n    dedupe: {keys: [region], order_by: [day]}\n  - name: k\n    select: "
                 "{columns: [id]}\n"),
            "1|\n3|\n");
  EXPECT_EQ(Rows("  - name: d\n    dedupe: {keys: [region], keep: last, order_by: [day]}\n"
                 "  - name: k\n    select: {columns: [id]}\n"),
            "4|\n5|\n");
  EXPECT_EQ(Rows("  - name: d\n    dedupe: {keys: [region], order_by: [day]}\n"
                 "  - name: k\n    select: {input: d.duplicates, columns: [id]}\n"),
            "2|\n4|\n5|\n");
  EXPECT_EQ(Rows("  - name: k\n    select: {columns: [region, amount]}\n  - name: d\n    dedupe: {}\n"),
            "EU|10.0|\nEU|20.0|\nUS|5.0|\nUS|7.0|\n");
  // Blank order values come last, either way; mixed directions take the window path.
  const char* ids = "  - name: k\n    select: {columns: [id]}\n";
  EXPECT_EQ(Rows(std::string("  - name: d\n    dedupe: {keys: [region], order_by: [product, day]}\n") + ids),
            "1|\n3|\n");
  EXPECT_EQ(
      Rows(std::string("  - name: d\n    dedupe: {keys: [region], keep: last, order_by: [product, day]}\n") +
           ids),
      "2|\n3|\n");
  EXPECT_EQ(
      Rows(std::string("  - name: d\n    dedupe: {keys: [region], order_by: [product desc, day]}\n") + ids),
      "2|\n3|\n");
  EXPECT_THAT(Error("  - name: d\n    dedupe: {keys: [region], keep: last}\n"),
              HasSubstr("keep: last needs order_by"));
}

TEST_F(StepsTest, UnionAggregateAndWindow) {
  EXPECT_EQ(
      Rows(
          "  - name: u\n    union: {inputs: [sales, sales, none]}\n"
          "  - name: a\n    aggregate: {group_by: [region], values: {n: COUNT(), big: 'COUNTIF(amount > 6)', "
          "products: COUNT_DISTINCT(product), avg: 'ROUND(AVERAGE(amount), 2)', first: MIN(day)}}\n"),
      "EU|6|6|2|13.33|2024-01-05|\nUS|4|2|1|6.0|2024-02-01|\n");
  EXPECT_EQ(
      Rows("  - name: w\n    window: {partition_by: [region], order_by: [day], columns: {rk: RANK(), run: "
           "RUNNING_SUM(amount), prev: 'LAG(amount, 1, 0)', share: 'amount / SUM(amount)'}}\n"
           "  - name: k\n    select: {columns: [id, rk, run, prev, share]}\n"),
      "1|1|10.0|0.0|0.25|\n2|2|30.0|10.0|0.5|\n3|1|5.0|0.0|0.4166666666666667|\n4|2|12.0|5.0|"
      "0.5833333333333334|\n5|3|40.0|20.0|0.25|\n");
}

TEST_F(StepsTest, JoinTypesAndValidation) {
  const char* keep = "  - name: k\n    select: {columns: [id]}\n";
  EXPECT_EQ(
      Rows(std::string("  - name: j\n    join: {left: sales, right: prices, on: [product], type: semi}\n") +
           keep),
      "1|\n2|\n3|\n5|\n");
  EXPECT_EQ(
      Rows(std::string("  - name: j\n    join: {left: sales, right: prices, on: [product], type: anti}\n") +
           keep),
      "4|\n");  // a NULL key never matches
  EXPECT_EQ(
      Rows("  - name: j\n    join: {left: sales, right: prices, on: [product], type: full}\n"
           "  - name: k\n    select: {columns: [id, product, price]}\n",
           "id NULLS LAST, price"),
      "1|A|1.0|\n1|A|2.0|\n2|B|3.0|\n3|A|1.0|\n3|A|2.0|\n4|NULL|NULL|\n5|A|1.0|\n5|A|2.0|\nNULL|NULL|9.0|\n");
  EXPECT_THAT(Error("  - name: j\n    join: {left: sales, right: prices, on: [product], validate: 1:1}\n"),
              HasSubstr("step 'j': validate 1:1 (left): key product=A appears 3 times"));
  EXPECT_THAT(Error("  - name: j\n    join: {left: sales, right: prices, on: [product], type: sideways}\n"),
              HasSubstr("field 'type': must be one of inner, left, right, full, semi, anti"));
}

TEST_F(StepsTest, LookupExactAsOfDuplicatesAndNullKeys) {
  const char* keep = "  - name: k\n    select: {columns: [id, price]}\n";
  // As of the sale's day: the price in force (the latest 'since' on or before it).
  EXPECT_EQ(
      Rows(std::string(
               "  - name: l\n    lookup: {from: prices, keys: [product, {day: since}], return: [price], "
               "match: exact_or_next_smaller, if_not_found: 0}\n") +
           keep),
      "1|1.0|\n2|3.0|\n3|2.0|\n4|0.0|\n5|2.0|\n");
  // Exact on product: the first or last along `since`; a NULL key matches only when asked.
  EXPECT_EQ(
      Rows(std::string("  - name: l\n    lookup: {from: prices, keys: [product], return: [price], order_by: "
                       "since, on_duplicate: last}\n") +
           keep),
      "1|2.0|\n2|3.0|\n3|2.0|\n4|NULL|\n5|2.0|\n");
  EXPECT_EQ(
      Rows(std::string("  - name: l\n    lookup: {from: prices, keys: [product], return: [price], order_by: "
                       "since, null_keys_match: true}\n") +
           keep),
      "1|1.0|\n2|3.0|\n3|1.0|\n4|9.0|\n5|1.0|\n");
  EXPECT_THAT(
      Error(
          "  - name: l\n    lookup: {from: prices, keys: [product], return: [price], on_duplicate: error}\n"),
      HasSubstr("step 'l': on_duplicate: error: key product=A appears 2 times"));
  EXPECT_THAT(Error("  - name: l\n    lookup: {from: prices, keys: [product], return: [product]}\n"),
              HasSubstr("the input already has a column 'product'"));
}

TEST_F(StepsTest, PivotAndUnpivot) {
  EXPECT_EQ(
      Rows("  - name: p\n    pivot: {index: [region], columns: product, values: amount, aggregate: count, "
           "fill: 0}\n"),
      "EU|2|1|\nUS|1|0|\n");  // product NULL makes no column
  EXPECT_EQ(Rows("  - name: p\n    pivot: {index: [region], columns: product, values: amount}\n"
                 "  - name: u\n    unpivot: {exclude: [region], name: product, value: total}\n"),
            "EU|A|20.0|\nEU|B|20.0|\nUS|A|5.0|\n");  // the blank US/B cell is not a row
  EXPECT_EQ(Rows("  - name: p\n    pivot: {index: [region], columns: product, column_values: [B, Z], values: "
                 "amount, fill: 0}\n"),
            "EU|20.0|0.0|\nUS|0.0|0.0|\n");  // the columns asked for, in that order
  EXPECT_THAT(
      Error("  - name: p\n    pivot: {index: [region], columns: id, values: amount, max_columns: 3}\n"),
      HasSubstr("'id' has more than 3 distinct values"));
}

TEST_F(StepsTest, EmptyInputsAndTypeMismatches) {
  EXPECT_EQ(Rows("  - name: c\n    compare: {left: none, right: none, keys: [id], columns: {amount: {}}}\n"),
            "");
  EXPECT_EQ(Rows("  - name: a\n    aggregate: {input: none, values: {n: COUNT(), total: SUM(amount)}}\n"),
            "0|NULL|\n");
  EXPECT_THAT(
      Error("  - name: c\n    compare: {left: sales, right: prices, keys: [product], columns: {region: "
            "{right: price, tolerance: 1}}}\n"),
      HasSubstr("'region' is VARCHAR, not a number"));
  EXPECT_THAT(Error("  - name: f\n    filter: {where: 'region + 1 > 2'}\n"), HasSubstr("region"));
}

}  // namespace
}  // namespace tarn::testing
