// Which statements of a pipeline may be split by key on a cluster (quality/lineage.h):
// a join or compare of relations made row for row from two tables, on keys that are
// those tables' columns unchanged and of one type, and what is made row for row from
// it; never when something in the statement would see one bucket's rows only.
#include <gmock/gmock.h>

#include "governance/governance_fixture.h"
#include "quality/pipeline.h"
#include "quality/runner_probe.h"

namespace tarn::testing {
namespace {

using Keys = std::map<std::string, std::vector<std::string>>;

class LineageTest : public GovernanceTest {
 protected:
  void SetUp() override {
    GovernanceTest::SetUp();
    Exec(*admin_,
         "CREATE TABLE d.l AS SELECT i AS id, 'A' || (i % 3) AS acct, i * 1.5 AS amount, 'EUR' AS ccy FROM "
         "range(10) r(i);"
         "CREATE TABLE d.r AS SELECT i AS txn, i * 1.5 AS r_amount FROM range(2, 12) r(i);"
         "CREATE TABLE d.w AS SELECT CAST(i AS INTEGER) AS id, i AS r_amount FROM range(10) r(i);"
         "CREATE TABLE d.fx AS SELECT 'EUR' AS ccy, 1.1 AS rate");
  }

  // The split keys of the statement that materializes step `step` ({} if none such).
  Keys SplitOf(const std::string& yaml, const std::string& step) {
    quality::RunnerProbe probe(*runner_, session::Instance::LocalCaller().principal, audit::Origin{"test"});
    auto compiled = quality::Compile(*quality::ParsePipeline(yaml, "recon.yaml"), probe);
    for (auto& s : compiled.statements) {
      if (s.kind == quality::CompiledStatement::kMaterialize && s.step == step) return s.partition_keys;
    }
    ADD_FAILURE() << "no temporary table for " << step << " in\n" << compiled.Script();
    return {};
  }

  // A chain from two tables to `m`, which two outputs read (so it is materialized):
  // `head` steps first, then `join` of l with the relation called `right`.
  static std::string Chain(const std::string& head, const std::string& right,
                           const std::string& join_type = "left", const std::string& lookup_from = "fx") {
    return "inputs:\n  l: {table: d.l}\n  r: {table: d.r}\n  w: {table: d.w}\n  fx: {table: d.fx}\nsteps:\n" +
           head + "  - name: j\n    join: {left: l, right: " + right + ", on: [id], type: " + join_type +
           "}\n"
           "  - name: rated\n    lookup: {input: j, from: " +
           lookup_from +
           ", keys: [ccy], return: [rate]}\n"
           "  - name: dv\n    derive: {columns: {usd: amount * rate}}\n"
           "  - name: m\n    filter: {where: usd > 0}\n"
           "  - name: by_acct\n    aggregate: {input: m, group_by: [acct], values: {n: COUNT()}}\n"
           "  - name: o1\n    output: {input: by_acct, table: d.o1}\n"
           "  - name: o2\n    output: {input: m, table: d.o2}\n";
  }
  static constexpr const char* kRenamed =
      "  - name: rs\n    select: {input: r, columns: [{txn: id}, r_amount]}\n";
};

TEST_F(LineageTest, AJoinOfTwoTablesAndWhatIsMadeRowForRowFromItAreSplitByTheTablesKeys) {
  // The right key is d.r's txn under another name.
  EXPECT_EQ(SplitOf(Chain(kRenamed, "rs"), "m"), (Keys{{"d.l", {"id"}}, {"d.r", {"txn"}}}));
  EXPECT_EQ(SplitOf(Chain(kRenamed, "rs", "anti"), "m"), (Keys{{"d.l", {"id"}}, {"d.r", {"txn"}}}));
  EXPECT_EQ(SplitOf(Chain(kRenamed, "rs", "full"), "m"), (Keys{{"d.l", {"id"}}, {"d.r", {"txn"}}}));
}

TEST_F(LineageTest, KeysThatDoNotHashAlikeOrAreNotATablesColumnsAreNotSplit) {
  // d.w's id is an INTEGER, d.l's a BIGINT: only keys of one type are split (the text
  // the keys hash as need not agree across types: 1.5 and 1.50).
  EXPECT_EQ(SplitOf(Chain("", "w"), "m"), Keys{});
  // A key computed from the table's, not the table's column.
  EXPECT_EQ(SplitOf(Chain("  - name: rs\n    derive: {input: r, columns: {id: txn + 0}}\n", "rs"), "m"),
            Keys{});
  // A table joined with itself: one table cannot be split two ways.
  EXPECT_EQ(
      SplitOf(Chain("  - name: rs\n    select: {input: l, columns: [id, {amount: r_amount}]}\n", "rs"), "m"),
      Keys{});
}

TEST_F(LineageTest, NothingInTheStatementMaySeeOneBucketsRowsOnly) {
  // The lookup reads a relation of the split table whole: in a bucket it would see that
  // bucket's rows only.
  EXPECT_EQ(
      SplitOf(Chain(kRenamed + std::string("  - name: lfx\n    select: {input: l, columns: [ccy, {amount: "
                                           "rate}]}\n"),
                    "rs", "left", "lfx"),
              "m"),
      Keys{});
  // The renamed side is itself a temporary table (a third output reads it): the
  // statement reads it whole, so the split would pair one bucket of l with all of it.
  EXPECT_EQ(SplitOf(Chain(kRenamed, "rs") + "  - name: o3\n    output: {input: rs, table: d.o3}\n", "m"),
            Keys{});
}

TEST_F(LineageTest, ACompareOfTwoTablesIsSplitAndItsPartsFollow) {
  auto spec = [](const std::string& more) {
    return "inputs:\n  l: {table: d.l}\n  r: {table: d.r}\nsteps:\n  - name: rs\n    rename: {input: r, "
           "columns: "
           "{txn: id, r_amount: amount}}\n  - name: rec\n    compare: {left: l, right: rs, keys: [id], "
           "columns: "
           "{amount: {}}" +
           more +
           "}\n  - name: o1\n    output: {input: rec.breaks, table: d.o1}\n  - name: o2\n    output: {input: "
           "rec.breaks, table: d.o2}\n";
  };
  EXPECT_EQ(SplitOf(spec(""), "rec"), (Keys{{"d.l", {"id"}}, {"d.r", {"txn"}}}));
  EXPECT_EQ(SplitOf(spec(", null_keys_match: true"), "rec"), Keys{});
}

}  // namespace
}  // namespace tarn::testing
