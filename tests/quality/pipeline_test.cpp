// Reconciliation pipelines compiled against a real lake and run through the Runner:
// compare finds planted breaks, lookups and pivots give spreadsheet answers, checks
// fail naming keys, and the spec's errors say where.
#include <fmt/format.h>
#include <gmock/gmock.h>

#include "governance/governance_fixture.h"
#include "quality/pipeline.h"
#include "quality/runner_probe.h"

namespace tarn::testing {
namespace {

using ::testing::HasSubstr;

class PipelineTest : public GovernanceTest {
 protected:
  void SetUp() override {
    GovernanceTest::SetUp();
    // A ledger and a bank statement: TX3 is missing from the bank, TX4's amount and
    // TX5's date differ (TX2's by a day, within tolerance; TX1's amount by 0.004, within
    // tolerance), TX6 appears twice in the bank, FEE1 is bank-only.
    Exec(*admin_,
         "CREATE TABLE d.ledger AS SELECT * FROM (VALUES ('TX1', 100.00, DATE '2024-01-01', 'EUR'), ('TX2', "
         "50.00, "
         "DATE '2024-01-02', 'EUR'), ('TX3', 75.00, DATE '2024-01-03', 'USD'), ('TX4', 20.00, DATE "
         "'2024-01-04', "
         "'EUR'), ('TX5', 30.00, DATE '2024-01-05', 'GBP'), ('TX6', 60.00, DATE '2024-01-06', 'EUR')) v(ref, "
         "amount, "
         "posted, ccy);"
         "CREATE TABLE d.bank AS SELECT * FROM (VALUES (1, 'TX1', 100.004, DATE '2024-01-01', 'EUR'), (2, "
         "'TX2', "
         "50.00, DATE '2024-01-03', 'EUR'), (3, 'TX4', 21.00, DATE '2024-01-04', 'EUR'), (4, 'TX5', 30.00, "
         "DATE "
         "'2024-01-09', 'GBP'), (5, 'TX6', 60.00, DATE '2024-01-06', 'EUR'), (6, 'TX6', 60.00, DATE "
         "'2024-01-06', "
         "'EUR'), (7, 'FEE1', -2.50, DATE '2024-01-07', 'EUR')) v(line, ref, amount, value_date, ccy);"
         "CREATE TABLE d.fx AS SELECT * FROM (VALUES ('EUR', 1.08), ('GBP', 1.27), ('EUR', 9.99)) v(ccy, "
         "rate)");
  }
  quality::CompiledPipeline Compile(const std::string& yaml, const identity::Principal& who) {
    quality::RunnerProbe probe(*runner_, who, audit::Origin{"test"});
    return quality::Compile(*quality::ParsePipeline(yaml, "recon.yaml"), probe);
  }
  quality::CompiledPipeline Compile(const std::string& yaml, bool split_aggregates = false) {
    quality::RunnerProbe probe(*runner_, session::Instance::LocalCaller().principal, audit::Origin{"test"});
    return quality::Compile(*quality::ParsePipeline(yaml, "recon.yaml"), probe, split_aggregates);
  }

  // `yaml` compiled as a local run and as a run that may split, with an output of each
  // of `steps` (tables d.one_<step> and d.two_<step>); both scripts run.
  std::pair<quality::CompiledPipeline, quality::CompiledPipeline> CompileBoth(
      const std::string& yaml, const std::vector<std::string>& steps) {
    auto outputs = [&](const std::string& prefix) {
      std::string out;
      for (auto& step : steps)
        out += fmt::format("  - {{name: o_{1}, output: {{input: {1}, table: d.{0}_{1}}}}}\n", prefix, step);
      return out;
    };
    auto one = Compile(yaml + outputs("one"));
    auto two = Compile(yaml + outputs("two"), true);
    Exec(*admin_, one.Script());
    Exec(*admin_, two.Script());
    return {std::move(one), std::move(two)};
  }
  // "<step> by parts of <table>" for each statement split by parts.
  static std::vector<std::string> ByParts(const quality::CompiledPipeline& c) {
    std::vector<std::string> out;
    for (auto& st : c.statements) {
      if (!st.parts_of.empty()) out.push_back(st.step + " by parts of " + st.parts_of);
    }
    return out;
  }
  // d.two_<step> has the rows and column types of d.one_<step>.
  void ExpectSameTables(const std::vector<std::string>& steps) {
    for (auto& step : steps) {
      SCOPED_TRACE(step);
      EXPECT_EQ(All(*admin_, fmt::format("SELECT * FROM d.two_{} ORDER BY ALL", step)),
                All(*admin_, fmt::format("SELECT * FROM d.one_{} ORDER BY ALL", step)));
      auto types = [&](const char* prefix) {
        return All(*admin_, fmt::format("SELECT column_name, data_type FROM information_schema.columns WHERE "
                                        "table_name = '{}_{}' ORDER BY ordinal_position",
                                        prefix, step));
      };
      EXPECT_EQ(types("two"), types("one"));
    }
  }
};

constexpr const char* kRecon = R"(name: bank
inputs:
  ledger: {table: d.ledger}
  bank: {table: d.bank}
steps:
  - name: rec
    compare:
      left: ledger
      right: bank
      keys: [ref]
      order_by: {right: line}
      columns:
        amount: {tolerance: 0.005}
        posted: {right: value_date, tolerance_days: 1, reason: date}
        ccy: {ignore_case: true}
  - name: save
    output: {input: rec.breaks, table: d.breaks}
  - name: save_all
    output: {input: rec, table: d.rec_all}
)";

TEST_F(PipelineTest, CompareFindsEachPlantedBreakWithItsReason) {
  auto c = Compile(kRecon);
  std::string summary = All(*admin_, c.Script());  // the rows of its last statement
  EXPECT_EQ(
      All(*admin_, "SELECT ref, diff_type, coalesce(reason, '') FROM d.rec_all ORDER BY ref, diff_type"),
      "FEE1|right_only||\nTX1|matched||\nTX2|matched||\nTX3|left_only||\nTX4|break|amount|\n"
      "TX5|break|date|\nTX6|break|duplicate|\nTX6|matched||\n");
  EXPECT_EQ(
      All(*admin_, "SELECT ref, amount_left, amount_right, amount_diff FROM d.breaks WHERE ref = 'TX4'"),
      "TX4|20.00|21.000|1.000|\n");
  // The run's result: rows and amounts per status and reason.
  ASSERT_FALSE(c.statements.empty());
  EXPECT_EQ(c.statements.back().kind, quality::CompiledStatement::kSummary);
  EXPECT_EQ(summary,
            "break|amount|1|1.000|\nbreak|date|1|0.000|\nbreak|duplicate|1|60.000|\nleft_only||1|75.000|\n"
            "matched||3|0.004|\nright_only||1|2.500|\n");
  // The compare feeds three statements (two outputs and the summary): it is computed
  // once, into a temporary table of the run, before the first of them.
  EXPECT_THAT(c.Explain(), HasSubstr("step rec (compare, line 6): materialized"));
  ASSERT_EQ(c.statements.size(), 4u);
  EXPECT_EQ(c.statements[0].kind, quality::CompiledStatement::kMaterialize);
  EXPECT_THAT(c.statements[0].sql, ::testing::StartsWith("CREATE TEMP TABLE \"p_rec\" AS"));
  for (size_t i = 1; i < 4; i++)
    EXPECT_THAT(c.statements[i].sql, ::testing::Not(HasSubstr("FULL JOIN"))) << i;
}

// A step is computed once however it is reached: here the compare feeds a part two
// outputs read (materialized) and the summary, so the compare itself is materialized
// too rather than computed by both.
TEST_F(PipelineTest, EachSharedStepIsComputedOnce) {
  auto c = Compile(R"(inputs:
  ledger: {table: d.ledger}
  bank: {table: d.bank}
steps:
  - name: rec
    compare: {left: ledger, right: bank, keys: [ref], columns: {amount: {}}}
  - name: a
    output: {input: rec.breaks, table: d.a}
  - name: b
    output: {input: rec.breaks, table: d.b}
)");
  size_t joins = 0;
  for (auto& st : c.statements) {
    for (size_t at = 0; (at = st.sql.find("FULL JOIN", at)) != std::string::npos; at++) joins++;
  }
  EXPECT_EQ(joins, 1u) << c.Script();
  std::string summary = All(*admin_, c.Script());
  // Without a tolerance TX1's 0.004 is a break too; TX6's second bank line is a duplicate.
  EXPECT_THAT(summary, HasSubstr("break|amount|2|"));
  EXPECT_EQ(All(*admin_, "SELECT ref FROM d.a ORDER BY ref"), "TX1|\nTX4|\nTX6|\n");
  EXPECT_EQ(All(*admin_, "SELECT ref FROM d.b ORDER BY ref"), "TX1|\nTX4|\nTX6|\n");
}

// A wide step several aggregates read is kept with only the columns they use; a
// filter that would need all of them recomputes the step; the answers are those of
// the step kept whole.
TEST_F(PipelineTest, ASharedStepIsKeptWithOnlyTheColumnsItsReadersUse) {
  const char* yaml = R"(inputs:
  ledger: {table: d.ledger}
steps:
  - name: wide
    derive:
      columns: {a: amount * 2, b: amount * 3, c: UPPER(ccy), d: YEAR(posted), e: amount - 1, f: LEN(ref)}
  - name: by_ccy
    aggregate: {input: wide, group_by: [ccy], values: {n: COUNT(), s: SUM(a)}}
  - name: by_year
    aggregate: {input: wide, group_by: [d], values: {n: COUNT()}}
  - name: big
    filter: {input: wide, where: amount > 50}
  - {name: o1, output: {input: by_ccy, table: d.o1}}
  - {name: o2, output: {input: by_year, table: d.o2}}
  - {name: o3, output: {input: big, table: d.o3}}
)";
  auto c = Compile(yaml);
  std::string explain = c.Explain();
  EXPECT_THAT(explain, HasSubstr("step wide (derive, line 4): materialized: computed once into a temporary "
                                 "table that later statements read (3 of 10 columns); big recomputes it"))
      << explain;
  EXPECT_THAT(c.statements.front().sql, HasSubstr("SELECT \"ccy\", \"a\", \"d\" FROM \"p_wide\""))
      << c.Script();
  Exec(*admin_, c.Script());
  EXPECT_EQ(All(*admin_, "SELECT ccy, n, s FROM d.o1 ORDER BY ccy"),
            "EUR|4|460.00|\nGBP|1|60.00|\nUSD|1|150.00|\n");
  EXPECT_EQ(All(*admin_, "SELECT d, n FROM d.o2"), "2024|6|\n");
  EXPECT_EQ(All(*admin_, "SELECT ref, c, f FROM d.o3 ORDER BY ref"), "TX1|EUR|3|\nTX3|USD|3|\nTX6|EUR|3|\n");
  // A reader that uses every column keeps the step whole.
  auto whole = Compile(std::string(yaml) + "  - {name: o4, output: {input: wide, table: d.o4}}\n");
  EXPECT_THAT(whole.Explain(), ::testing::Not(HasSubstr("of 10 columns"))) << whole.Explain();
}

// For an offload that may split: an aggregate over a temporary table becomes partial
// aggregates in a statement of their own, split by the parts of that table's files,
// and their combination, with the one-step answers and column types; an aggregate with
// a distinct count stays one statement.
TEST_F(PipelineTest, SplitAggregatesArePartialsByPartsThenTheirCombinationWithTheSameAnswers) {
  std::string yaml = R"(inputs:
  ledger: {table: d.ledger}
steps:
  - name: wide
    derive: {columns: {a: amount * 2, n: LEN(ref)}}
  - name: by_ccy
    aggregate:
      input: wide
      group_by: [ccy]
      values: {n: COUNT(), s: SUM(a), big: COUNTIF(amount > 50), avg: AVERAGE(amount), first: MIN(posted), len: SUM(n), refs: APPROX_COUNT_DISTINCT(ref)}
  - name: all
    aggregate: {input: wide, values: {n: COUNT(), top: MAX(amount)}}
  - name: distinct
    aggregate: {input: wide, values: {ccys: COUNT_DISTINCT(ccy)}}
)";
  auto [one, two] = CompileBoth(yaml, {"by_ccy", "all", "distinct", "wide"});
  // The partials of one table are one statement, which reads each part once; the
  // output of wide, row for row of its temporary table, is written part by part too.
  EXPECT_EQ(ByParts(two),
            (std::vector<std::string>{"by_ccy, all by parts of p_wide", "o_wide by parts of p_wide"}))
      << two.Script();
  EXPECT_TRUE(ByParts(one).empty());
  EXPECT_THAT(two.Script(), HasSubstr("by_ccy, all part by part of their input (then combined)"));
  EXPECT_THAT(two.Script(),
              HasSubstr("WITH \"p_wide\" AS MATERIALIZED (SELECT \"ref\", \"amount\", \"posted\", "
                        "\"ccy\", \"a\", \"n\" FROM temp.\"p_wide\")"));
  ExpectSameTables({"by_ccy", "all", "distinct"});
  EXPECT_THAT(
      All(*admin_, "SELECT data_type FROM information_schema.columns WHERE table_name = 'two_by_ccy'"),
      HasSubstr("BIGINT"));
  EXPECT_EQ(All(*admin_, "SELECT ccy, n, s, big, refs FROM d.two_by_ccy ORDER BY ccy"),
            "EUR|4|460.00|2|4|\nGBP|1|60.00|0|1|\nUSD|1|150.00|1|1|\n");
  // The distinct estimate is merged from sketches (engine/sketch.h).
  EXPECT_THAT(two.Script(), HasSubstr("tarn_distinct_sketch_count(tarn_distinct_sketch_merge("));
}

// Pivots, top rows and dedupes are computed part by part too, then once more over
// the parts' results; through filters and selects back to the temporary table
// (distinct: a select of a filter of wide).
TEST_F(PipelineTest, PivotsTopRowsAndDedupesSplitByPartsWithTheSameAnswers) {
  std::string yaml = R"(inputs:
  ledger: {table: d.ledger}
steps:
  - name: wide
    derive: {columns: {a: amount * 2, mo: MONTH(posted)}}
  - name: pv
    pivot: {input: wide, index: [mo], columns: ccy, column_values: [EUR, GBP, USD], values: a, aggregate: avg, fill: 0}
  - name: pvc
    pivot: {input: wide, columns: ccy, column_values: [EUR, USD], aggregate: count}
  - name: pvt
    pivot: {input: wide, index: [mo], columns: ccy, column_values: [EUR], values: a, totals: true}
  - name: top
    sort: {input: wide, by: [amount desc, ref], limit: 2}
  - name: big
    filter: {input: wide, where: amount > 25}
  - name: narrow
    select: {input: wide, columns: [ccy, posted, amount]}
  - name: last
    dedupe: {keys: [ccy], order_by: [posted desc]}
  - name: mixed
    dedupe: {input: narrow, keys: [ccy], order_by: [amount desc, posted]}
  - name: kinds
    select: {input: big, columns: [ccy, mo]}
  - name: distinct
    dedupe: {input: kinds}
  - name: all_sorted
    sort: {input: wide, by: [ref]}
)";
  std::vector<std::string> steps = {"pv",    "pvc",      "pvt",        "top", "last",
                                    "mixed", "distinct", "all_sorted", "wide"};
  auto [one, two] = CompileBoth(yaml, steps);
  // Not split: a pivot with totals (grouping sets), a sort without a limit.
  EXPECT_EQ(ByParts(two),
            (std::vector<std::string>{"pv, pvc, top, distinct by parts of p_wide",
                                      "last, mixed by parts of p_narrow", "o_wide by parts of p_wide"}))
      << two.Script();
  EXPECT_THAT(two.Script(), HasSubstr("last, mixed part by part of their input (then combined)"));
  ExpectSameTables(steps);
  // The answers themselves: EUR's latest row, the top two amounts, the EUR/USD counts.
  EXPECT_EQ(All(*admin_, "SELECT ccy, posted FROM d.two_last ORDER BY ccy"),
            "EUR|2024-01-06|\nGBP|2024-01-05|\nUSD|2024-01-03|\n");
  EXPECT_EQ(All(*admin_, "SELECT ref FROM d.two_top ORDER BY amount DESC"), "TX1|\nTX3|\n");
  EXPECT_EQ(All(*admin_, "SELECT EUR, USD FROM d.two_pvc"), "4|1|\n");
}

// On an offload, an output table that would be computed from a lake table or a large
// temporary table is computed and written on the nodes (Session::WriteOnNodes): split
// by key (j), by the parts of the table its rows come from row for row (wide,
// ledger), else one task (kinds: a distinct count); an output of a combination, and a
// temporary table of one (total, read twice), are computed in the server.
TEST_F(PipelineTest, OnAnOffloadOutputsComputedFromLargeTablesAreComputedOnTheNodes) {
  std::string yaml = R"(inputs:
  ledger: {table: d.ledger}
  bank: {table: d.bank}
steps:
  - name: j
    join: {left: ledger, right: bank, on: [ref], type: left}
  - name: wide
    derive: {input: ledger, columns: {a: amount * 2}}
  - name: kinds
    aggregate: {input: wide, group_by: [ccy], values: {refs: COUNT_DISTINCT(ref)}}
  - name: total
    aggregate: {input: wide, values: {s: SUM(a)}}
  - name: twice
    derive: {input: total, columns: {s2: s * 2}}
)";
  auto [one, two] = CompileBoth(yaml, {"j", "wide", "kinds", "total", "twice", "ledger"});
  using Kind = quality::CompiledStatement::Kind;
  auto made = [](const quality::CompiledPipeline& c, Kind kind = quality::CompiledStatement::kMaterialize) {
    std::vector<std::string> out;
    for (auto& st : c.statements) {
      if (st.kind != kind) continue;
      std::string keys;
      for (auto& [table, k] : st.partition_keys) keys += " " + table + ":" + k.at(0);
      out.push_back(st.step + keys + (st.parts_of.empty() ? "" : " parts of " + st.parts_of) +
                    (st.here ? " here" : ""));
    }
    return out;
  };
  EXPECT_EQ(made(one), (std::vector<std::string>{"wide", "total"})) << one.Script();
  EXPECT_EQ(made(two), (std::vector<std::string>{"wide", "total parts of p_wide", "total here"}))
      << two.Script();
  auto outputs = quality::CompiledStatement::kOutput;
  EXPECT_EQ(made(one, outputs),
            (std::vector<std::string>{"o_j", "o_wide", "o_kinds", "o_total", "o_twice", "o_ledger"}));
  EXPECT_EQ(made(two, outputs),
            (std::vector<std::string>{"o_j d.bank:ref d.ledger:ref", "o_wide parts of p_wide", "o_kinds",
                                      "o_total here", "o_twice here", "o_ledger parts of d.ledger"}))
      << two.Script();
  EXPECT_THAT(two.Script(), ::testing::Not(HasSubstr("computed on the nodes for its output")));
  ExpectSameTables({"j", "wide", "kinds", "total", "twice", "ledger"});
  EXPECT_EQ(All(*admin_, "SELECT count(*) FROM d.two_j"), "7|\n");
}

TEST_F(PipelineTest, LookupDeriveAggregatePivotGiveSpreadsheetAnswers) {
  auto c = Compile(R"(inputs:
  ledger: {table: d.ledger}
  fx: {table: d.fx}
steps:
  - name: rated
    lookup: {from: fx, keys: [ccy], return: [rate], if_not_found: 1, order_by: rate}
  - name: usd
    derive:
      columns:
        usd: ROUND(amount * rate, 2)
        band: IF(usd >= 60, "big", "small")
  - name: by_band
    aggregate: {group_by: [band], values: {n: COUNT(), total: SUM(usd), eur: COUNTIF(ccy = "EUR")}}
  - name: pv
    pivot: {input: usd, index: [band], columns: ccy, values: usd, fill: 0, totals: true}
  - name: out1
    output: {input: by_band, table: d.by_band}
  - name: out2
    output: {input: pv, table: d.pv}
)");
  Exec(*admin_, c.Script());
  // EUR has two rates: the first along order_by (1.08) is found; USD has none: 1.
  // usd: TX1 108.00, TX2 54.00, TX3 75.00, TX4 21.60, TX5 38.10, TX6 64.80 (big: >= 60).
  EXPECT_EQ(All(*admin_, "SELECT band, n, total, eur FROM d.by_band ORDER BY band"),
            "big|3|247.80|2|\nsmall|3|113.70|2|\n");
  EXPECT_EQ(
      All(*admin_, "SELECT coalesce(band, 'TOTAL'), EUR, GBP, USD, Total FROM d.pv"),
      "big|172.80|0.00|75.00|247.80|\nsmall|75.60|38.10|0.00|113.70|\nTOTAL|248.40|38.10|75.00|361.50|\n");
}

TEST_F(PipelineTest, ChecksFailNamingTheFirstDuplicateKeyAndWriteNothing) {
  auto c = Compile(R"(inputs:
  ledger: {table: d.ledger}
  fx: {table: d.fx}
steps:
  - name: j
    join: {left: ledger, right: fx, on: [ccy], type: left, validate: m:1}
  - name: out
    output: {table: d.joined}
)");
  auto e = CatchError([&] { Exec(*admin_, c.Script()); });
  EXPECT_THAT(e.what(), HasSubstr("step 'j': validate m:1 (right): key ccy=EUR appears 2 times"));
  EXPECT_THAT(CatchError([&] { Exec(*admin_, "SELECT * FROM d.joined"); }).what(), HasSubstr("d.joined"));
}

TEST_F(PipelineTest, APipelineOverATableTheSubmitterCannotReadDoesNotCompile) {
  identity::Directory d(*store_);
  auto ana = *d.Lookup("ana", "test");
  auto e = CatchError([&] { Compile(kRecon, ana); });
  EXPECT_TRUE(e.code() == ErrorCode::kPermissionDenied || e.code() == ErrorCode::kNotFound) << e.what();
  EXPECT_THAT(All(*admin_, "SELECT count(*) FROM system.audit WHERE user_name = 'ana' AND outcome <> 'ok'"),
              ::testing::Not("0|\n"));
}

TEST_F(PipelineTest, SpecErrorsNameTheLineStepAndField) {
  struct Case {
    std::string yaml, says;
  } cases[] = {
      {"inputs: {a: {table: d.ledger}}\nsteps:\n  - name: x\n    filter: {where: 'amount >'}\n",
       "recon.yaml: step 'x' (filter) line 4, field 'where': the formula ends too early"},
      {"inputs: {a: {table: d.ledger}}\nsteps:\n  - name: x\n    filter: {wher: 'amount > 1'}\n",
       "step 'x' (filter) line 4: unknown field 'wher'"},
      {"inputs: {a: {table: d.ledger}}\nsteps:\n  - name: x\n    frobnicate: {}\n",
       "line 4, field 'frobnicate': no step type"},
      {"inputs: {a: {table: d.ledger}}\nsteps:\n  - name: x\n    sort: {input: nope, by: [amount]}\n",
       "field 'input': names no input or earlier step: 'nope'"},
      {"inputs: {a: {table: d.ledger}}\nsteps:\n  - name: x\n    derive: {columns: {y: 'amonut * 2'}}\n",
       "field 'columns.y': no column 'amonut'"},
      {"inputs: {a: {table: d.ledger}}\nsteps:\n  - name: a\n    filter: {where: TRUE}\n",
       "the name is used twice"},
      {"inputs: {a: {table: d.ledger}}\nsteps:\n  - name: x\n    filter: {where: [1, 2\n",
       "recon.yaml line 5: not valid YAML"},
  };
  for (auto& c : cases) {
    auto e = CatchError([&] { Compile(c.yaml); });
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << c.yaml << e.what();
    EXPECT_THAT(e.what(), HasSubstr(c.says)) << c.yaml;
  }
}

}  // namespace
}  // namespace tarn::testing
