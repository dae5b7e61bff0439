// Partitioned runs on the test Slurm cluster: a query and a reconciliation split by key
// into map, bucket and merge stages (job arrays) give the local result; the shuffle
// files go with the run, after a failure too.
#include <gmock/gmock.h>
#include <duckdb.hpp>

#include <unistd.h>

#include <filesystem>
#include <map>

#include "common/util.h"
#include "slurm_jobs_fixture.h"

namespace tarn::testing {
namespace {

using ::testing::HasSubstr;

class SlurmPartitionTest : public SlurmJobsTest {
 protected:
  void SetUp() override {
    SlurmJobsTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    json split = {
        {"name", "split"},
        {"executor", {{"type", "slurm"}, {"partition", "debug"}, {"max_nodes", 3}, {"buckets", 4}}}};
    auto created = Call("POST", "/v1/applications", admin_, split.dump());
    ASSERT_EQ(created.status, 201) << created.body;
    EXPECT_EQ(Json(created)["executor"]["buckets"], 4);
    ASSERT_EQ(Sql(admin_, "GRANT SUBMIT ON APPLICATION split TO GROUP analysts").status, 200);
  }
};

// Per customer: the governed orders (EU rows, emails masked) joined to customers.
constexpr const char* kByCustomer =
    "SELECT o.customer, c.segment, count(*) AS orders, sum(o.amount) AS amount, min(o.email) AS first_email "
    "FROM sales.orders o JOIN sales.customers c ON o.customer = c.customer GROUP BY ALL ORDER BY o.customer";

TEST_F(SlurmPartitionTest, AQuerySplitByItsDeclaredKeyGivesTheLocalResult) {
  // Rows removed by a delete file: each map task of a part of the files applies its own.
  ASSERT_EQ(Sql(admin_,
                "ALTER TABLE sales.orders SET TBLPROPERTIES ('write_mode' = 'merge-on-read');"
                "DELETE FROM sales.orders WHERE id % 11 = 0")
                .status,
            200);
  auto local = SubmitOk(ana_, kByCustomer, "here");
  auto split = SubmitJob(
      "split", {{"type", "sql"},
                {"script", kByCustomer},
                {"partition_by", {{"sales.orders", "customer"}, {"sales.customers", {"customer"}}}}});
  ASSERT_EQ(WaitEnded(local, "here")["state"], "SUCCESS");
  auto run = WaitEnded(split, "split", std::chrono::seconds(120));
  auto log = Log(split, "split");
  ASSERT_EQ(run["state"], "SUCCESS") << run.dump() << log;
  auto expected = Result(local, "here"), got = Result(split, "split");
  ASSERT_EQ(expected["rows"].size(), 10u);
  EXPECT_EQ(got["rows"], expected["rows"]);  // in the query's order, too
  EXPECT_EQ(got["columns"], expected["columns"]);
  for (auto& row : got["rows"])
    EXPECT_THAT(row["first_email"].get<std::string>(), ::testing::StartsWith("***@"));
  // Map (sales.orders' files in 3 parts, one per node, and sales.customers) and
  // buckets (4) were job arrays; a merge ended it.
  EXPECT_THAT(log, HasSubstr("statement 1: split by key into 4 buckets"));
  EXPECT_THAT(
      log, ::testing::ContainsRegex("statement 1 map: Slurm job [0-9]+ submitted with sbatch \\(4 tasks\\)"));
  EXPECT_THAT(log, ::testing::ContainsRegex("task t1.m0 ended on n[1-3]: 10 rows"));  // customers, whole
  EXPECT_THAT(log, ::testing::ContainsRegex(
                       "statement 1 buckets: Slurm job [0-9]+ submitted with sbatch \\(4 tasks\\)"));
  EXPECT_THAT(
      log, ::testing::ContainsRegex("statement 1: [0-9.]+ (bytes|MiB) shuffled \\(on the nodes' disks\\)"));
  EXPECT_THAT(log,
              ::testing::ContainsRegex("statement 1 map: 4 tasks ended in [0-9]+ ms \\(slowest task [0-9]+ "
                                       "ms\\); read [0-9.]+ (bytes|MiB), wrote [0-9.]+ (bytes|MiB)"));
  EXPECT_THAT(log, ::testing::ContainsRegex("task t1.b3 ended on n[1-3]"));
  EXPECT_THAT(log, ::testing::ContainsRegex("task t1.merge ended on n[1-3]: 10 rows"));
  EXPECT_TRUE(ScratchEmpty());
  // One run, one audit record of ana's governed read.
  auto audit =
      Json(Sql(admin_, "SELECT user_name, resources FROM system.audit WHERE origin->>'job_run_id' = '" +
                           split + "' AND event = 'statement'"));
  ASSERT_EQ(audit["rows"].size(), 1u) << audit.dump();
  EXPECT_THAT(audit["rows"][0][1].dump(), HasSubstr("DATA FILTER eu"));
}

TEST_F(SlurmPartitionTest, AReconciliationOfTwoTablesIsSplitByItsKeysWithTheLocalResult) {
  ASSERT_EQ(
      Sql(admin_,
          "CREATE DATABASE fin; GRANT CREATE_TABLE ON DATABASE fin TO GROUP analysts;"
          "CREATE TABLE sales.orders_b AS SELECT id, region, email, CASE WHEN id % 97 = 0 THEN amount + 1 "
          "ELSE amount END AS amount, customer FROM sales.orders WHERE id % 101 <> 0;"
          "INSERT INTO sales.orders_b VALUES (9001, 'EU', 'x@example.com', 1, 1), (9001, 'EU', "
          "'y@example.com', 2, 1);"
          "GRANT SELECT ON TABLE sales.orders_b TO GROUP analysts")
          .status,
      200);
  auto pipeline = [](const std::string& target) {
    return json{{"type", "reconciliation"},
                {"pipeline",
                 "inputs:\n  left: {table: sales.orders_b}\n  right: {table: sales.orders}\nsteps:\n"
                 "  - name: rec\n    compare: {left: left, right: right, keys: [id], order_by: {left: email, "
                 "right: email}, columns: {amount: {}, email: {}}}\n"
                 "  - name: save\n    output: {input: rec.breaks, table: fin." +
                     target + "}\nsummary: rec.summary\n"}};
  };
  auto local = SubmitJob("here", pipeline("local_breaks")),
       split = SubmitJob("split", pipeline("split_breaks"));
  ASSERT_EQ(WaitEnded(local, "here")["state"], "SUCCESS");
  auto run = WaitEnded(split, "split", std::chrono::seconds(120));
  auto log = Log(split, "split");
  ASSERT_EQ(run["state"], "SUCCESS") << run.dump() << log;
  auto expected = Result(local, "here");
  EXPECT_EQ(Result(split, "split")["rows"], expected["rows"]);
  EXPECT_GE(expected["rows"].size(), 3u) << expected.dump();  // matched, breaks, one-sided
  EXPECT_THAT(log, HasSubstr("split by key into 4 buckets"));
  // The compared rows became the temporary table as the buckets wrote them.
  EXPECT_THAT(log, HasSubstr("the 4 buckets' results are its rows (no merge)"));
  // The same breaks, row for row.
  auto differ =
      Json(Sql(ana_,
               "SELECT count(*) FROM ((SELECT * FROM fin.split_breaks EXCEPT ALL SELECT * FROM "
               "fin.local_breaks) UNION ALL (SELECT * FROM fin.local_breaks EXCEPT ALL SELECT * FROM "
               "fin.split_breaks))"));
  EXPECT_EQ(differ["rows"][0][0], 0) << differ.dump();
  auto breaks = Json(Sql(ana_, "SELECT count(*) FROM fin.split_breaks"));
  EXPECT_GT(breaks["rows"][0][0].get<int64_t>(), 0);
  EXPECT_TRUE(ScratchEmpty());
}

// A reconciliation as the reference workload builds it: a renamed side, a left join on
// the key, a lookup of a small table, derived columns and a filter, read by two outputs.
TEST_F(SlurmPartitionTest, AJoinAndWhatIsMadeRowForRowFromItAreSplitAlongTheChainWithTheLocalResult) {
  ASSERT_EQ(
      Sql(admin_,
          "CREATE DATABASE fin; GRANT CREATE_TABLE ON DATABASE fin TO GROUP analysts;"
          "CREATE TABLE sales.pay AS SELECT id AS order_id, amount - (id % 5 = 0)::INT AS paid FROM "
          "sales.orders WHERE id % 7 <> 0;"
          "CREATE TABLE sales.rates AS SELECT * FROM (VALUES ('EU', 1.10), ('US', 1.00)) v(region, rate);"
          "GRANT SELECT ON TABLE sales.pay TO GROUP analysts; GRANT SELECT ON TABLE sales.rates TO GROUP "
          "analysts")
          .status,
      200);
  auto pipeline = [](const std::string& target) {
    return json{
        {"type", "reconciliation"},
        {"pipeline",
         "inputs:\n  o: {table: sales.orders}\n  p: {table: sales.pay}\n  fx: {table: sales.rates}\nsteps:\n"
         "  - name: pr\n    rename: {input: p, columns: {order_id: id}}\n"
         "  - name: j\n    join: {left: o, right: pr, on: [id], type: left}\n"
         "  - name: rated\n    lookup: {input: j, from: fx, keys: [region], return: [rate]}\n"
         "  - name: dv\n    derive:\n      columns:\n        gap: amount - COALESCE(paid, 0)\n        usd: "
         "amount * rate\n"
         "  - name: m\n    filter: {where: gap <> 0}\n"
         "  - name: by_customer\n    aggregate: {input: m, group_by: [customer], values: {n: COUNT(), usd: "
         "SUM(usd)}}\n"
         "  - name: o1\n    output: {input: by_customer, table: fin." +
             target +
             "_sums}\n"
             "  - name: o2\n    output: {input: m, table: fin." +
             target +
             "_gaps}\n"
             // Orders never paid: the same two tables split by the same keys again.
             "  - name: unpaid\n    join: {left: o, right: p, on: [{id: order_id}], type: anti}\n"
             "  - name: unpaid_n\n    aggregate: {input: unpaid, values: {n: COUNT()}}\n"
             "  - name: o3\n    output: {input: unpaid, table: fin." +
             target +
             "_unpaid}\n"
             "  - name: o4\n    output: {input: unpaid_n, table: fin." +
             target +
             "_unpaid_n}\n"
             // A lookup of the combination: computed in the server (small), read on the nodes.
             "  - name: flagged\n    lookup: {input: m, from: by_customer, keys: [customer], return: [n]}\n"
             "  - name: o5\n    output: {input: flagged, table: fin." +
             target +
             "_flagged}\n"
             // A second aggregate of m: its partials and by_customer's are one statement.
             "  - name: by_region\n    aggregate: {input: m, group_by: [region], values: {n: COUNT(), top: "
             "MAX(gap)}}\n"
             "  - name: o6\n    output: {input: by_region, table: fin." +
             target + "_regions}\n"}};
  };
  auto local = SubmitJob("here", pipeline("local")), split = SubmitJob("split", pipeline("split"));
  ASSERT_EQ(WaitEnded(local, "here")["state"], "SUCCESS") << Log(local, "here");
  auto run = WaitEnded(split, "split", std::chrono::seconds(120));
  auto log = Log(split, "split");
  ASSERT_EQ(run["state"], "SUCCESS") << run.dump() << log;
  EXPECT_THAT(log, HasSubstr("materialize m"));
  EXPECT_THAT(log, HasSubstr("split by key into 4 buckets"));
  // The second statement split by the same keys (unpaid) was computed in m's bucket
  // tasks, over the same shuffle: no map and no bucket stage of its own.
  EXPECT_THAT(log, ::testing::ContainsRegex("statement [0-9]+ buckets: statement [0-9]+ computed in the same "
                                            "tasks, over the same shuffle"))
      << log;
  EXPECT_THAT(log, ::testing::ContainsRegex("statement [0-9]+: computed in the buckets of statement [0-9]+, "
                                            "over the same shuffle"))
      << log;
  EXPECT_THAT(log, ::testing::Not(HasSubstr("map tasks reuse an earlier statement's shuffle files"))) << log;
  EXPECT_THAT(log, ::testing::Not(HasSubstr(": 0 bytes shuffled"))) << log;  // it wrote none: no such line
  // The aggregates over the split temporary tables: partial aggregates part by part of
  // their files (no shuffle), combined by the next statement.
  EXPECT_THAT(log, HasSubstr("by_customer, by_region part by part of their input (then combined)")) << log;
  EXPECT_THAT(log,
              ::testing::ContainsRegex("statement [0-9]+: split into 4 parts of __tarn_temp.p_m's files"))
      << log;
  EXPECT_THAT(log, ::testing::ContainsRegex("split into [0-9]+ parts of __tarn_temp.p_unpaid's files"))
      << log;
  EXPECT_THAT(log, HasSubstr("runs on the server: it reads only small results, not worth a Slurm job"))
      << log;
  // ... into the run's scratch, where the nodes read it for `flagged`.
  EXPECT_THAT(log, ::testing::Not(HasSubstr("which only the server can read"))) << log;
  for (auto* t : {"gaps", "sums", "unpaid", "unpaid_n", "flagged", "regions"}) {
    auto differ =
        Json(Sql(ana_, fmt::format("SELECT count(*) FROM ((FROM fin.split_{0} EXCEPT ALL FROM fin.local_{0}) "
                                   "UNION ALL (FROM fin.local_{0} EXCEPT ALL FROM fin.split_{0}))",
                                   t)));
    EXPECT_EQ(differ["rows"][0][0], 0) << t << differ.dump();
  }
  auto gaps = Json(
      Sql(ana_, "SELECT count(*), count(paid), count(*) FILTER (email LIKE '***@%') FROM fin.split_gaps"));
  EXPECT_GT(gaps["rows"][0][0].get<int64_t>(), 100)
      << gaps.dump();  // unpaid (id % 7 = 0) and short (id % 5 = 0)
  EXPECT_GT(gaps["rows"][0][1].get<int64_t>(), 0);
  EXPECT_EQ(gaps["rows"][0][2], gaps["rows"][0][0]);  // ana's mask held on the nodes
  EXPECT_TRUE(ScratchEmpty());
  // The output tables of large data were computed and written by the nodes, part by
  // part of the temporary table they are made from row for row, with the table's
  // Parquet field ids; those of the combinations in the server.
  auto section = [&](const std::string& from) {
    auto at = log.find(from);
    return at == std::string::npos ? "" : log.substr(at, log.find(" ended:", at) - at);
  };
  for (auto* t : {"gaps with m", "flagged with flagged"})
    EXPECT_THAT(section(fmt::format("create fin.split_{}", t)),
                HasSubstr("split into 4 parts of __tarn_temp.p_m's"))
        << log;
  EXPECT_THAT(section("create fin.split_unpaid with"),
              HasSubstr("split into 4 parts of __tarn_temp.p_unpaid's"));
  EXPECT_THAT(section("create fin.split_sums with"), ::testing::Not(HasSubstr("Slurm job")));
  size_t files = 0;
  duckdb::DuckDB db(nullptr);
  duckdb::Connection conn(db);
  for (auto& e : std::filesystem::recursive_directory_iterator(dir_.path() / "lake" / "warehouse" / "fin")) {
    if (e.path().extension() != ".parquet" ||
        !e.path().parent_path().filename().string().starts_with("split_gaps-"))
      continue;
    files++;
    auto ids = conn.Query("SELECT count(field_id) FROM parquet_schema('" + e.path().string() + "')");
    ASSERT_FALSE(ids->HasError()) << ids->GetError();
    EXPECT_GT(ids->GetValue(0, 0).GetValue<int64_t>(), 3) << e.path();
  }
  EXPECT_EQ(files, 4u);  // one a part
}

// Nodes whose file service cannot be reached (its process runs, its port answers
// nothing): the map tasks that wrote there run again on another node, the buckets
// fetch from that one, and the result is the local one.
TEST_F(SlurmPartitionTest, ShuffleFilesLostWithTheirNodesServiceAreWrittenAgainOnAnotherNode) {
  if (NodeRoot("n1").empty()) GTEST_SKIP() << "the test cluster runs no node file services";
  namespace fs = std::filesystem;
  struct Restore {  // the services' own files again, however the test ends
    std::map<fs::path, std::string> saved;
    ~Restore() {  // and without what the run left on n1 and n2
      for (auto& [file, text] : saved) {
        WriteFileAtomic(file, text, 0644);
        std::error_code ec;
        for (auto& e : fs::directory_iterator(file.parent_path() / "files", ec)) fs::remove_all(e.path(), ec);
      }
    }
  } restore;
  for (auto node : {"n1", "n2"}) {
    fs::path file = NodeRoot(node) / "service.json";
    restore.saved[file] = ReadTextFile(file);
    WriteFileAtomic(
        file,
        json{{"url", "https://127.0.0.1:1"}, {"sha256", std::string(64, '0')}, {"pid", getpid()}}.dump(),
        0644);
  }
  auto local = SubmitOk(ana_, kByCustomer, "here");
  auto split = SubmitJob(
      "split", {{"type", "sql"}, {"script", kByCustomer}, {"partition_by", {{"sales.orders", "customer"}}}});
  ASSERT_EQ(WaitEnded(local, "here")["state"], "SUCCESS");
  auto run = WaitEnded(split, "split", std::chrono::seconds(180));
  auto log = Log(split, "split");
  ASSERT_EQ(run["state"], "SUCCESS") << run.dump() << log;
  EXPECT_EQ(Result(split, "split")["rows"], Result(local, "here")["rows"]);
  // Sales.orders' 3 parts: n3 takes at most 2 of them (2 CPUs), so at least one went
  // to n1 or n2 and was lost.
  EXPECT_THAT(log, ::testing::ContainsRegex(
                       "statement 1 buckets: the shuffle files of [1-3] map task\\(s\\) were lost "
                       "with their node: they run again"));
  EXPECT_THAT(log, ::testing::ContainsRegex("statement 1 map \\(again\\): Slurm jobs? [0-9,]+ submitted"));
  EXPECT_THAT(log, ::testing::ContainsRegex("task t1.m[0-2] ended on n3"));
  // What n1 and n2 wrote could not be removed through their services; n3 holds nothing.
  EXPECT_THAT(log, HasSubstr("left on their node"));
  auto left = NodeFiles();
  EXPECT_FALSE(left.empty());
  for (auto& dir : left) EXPECT_THAT(dir.string(), ::testing::Not(HasSubstr("/n3/"))) << dir;
}

TEST_F(SlurmPartitionTest, ASplitQueryThatFailsInItsBucketsFailsTheRunAndLeavesNoShuffleFiles) {
  auto id = SubmitJob("split", {{"type", "sql"},
                                {"script",
                                 "SELECT customer, sum(CAST(region || 'x' AS INTEGER)) FROM sales.orders "
                                 "GROUP BY customer"},
                                {"partition_by", {{"sales.orders", "customer"}}}});
  auto run = WaitEnded(id, "split", std::chrono::seconds(120));
  EXPECT_EQ(run["state"], "FAILED");
  EXPECT_THAT(run["state_details"].get<std::string>(), HasSubstr("Could not convert string 'EUx' to INT32"));
  EXPECT_THAT(Log(id, "split"), HasSubstr("shuffled"));  // it failed after the map stage
  EXPECT_TRUE(ScratchEmpty());
  // A key of a table the statement does not read is the submitter's error.
  id = SubmitJob("split", {{"type", "sql"},
                           {"script", "SELECT count(*) FROM sales.orders"},
                           {"partition_by", {{"sales.customers", "customer"}}}});
  run = WaitEnded(id, "split");
  EXPECT_EQ(run["state"], "FAILED");
  EXPECT_THAT(run["state_details"].get<std::string>(),
              HasSubstr("statement 1 is split by the key of sales.customers, which it does not read"));
}

TEST_F(SlurmPartitionTest, AValidationOnTheClusterGivesTheLocalFiguresWithItsTemporaryTablesOnTheNodes) {
  ASSERT_EQ(
      Sql(admin_,
          "CREATE DATABASE quality; GRANT ALL ON DATABASE quality TO GROUP analysts;"
          "CREATE TABLE sales.orders_v AS SELECT id, customer, CASE WHEN id % 97 = 0 THEN amount + 1 ELSE "
          "amount END AS amount FROM sales.orders WHERE id % 101 <> 0 AND region = 'EU';"
          // Duplicated keys in the target: each bucket counts its own.
          "INSERT INTO sales.orders_v SELECT id, customer, amount FROM sales.orders WHERE id % 50 = 0 AND "
          "region = 'EU';"
          "GRANT SELECT ON TABLE sales.orders_v TO GROUP analysts")
          .status,
      200);
  auto spec = [](const std::string& name) {
    return json{
        {"type", "validation"},
        {"spec", "name: " + name +
                     "\nsource: sales.orders\ntarget: sales.orders_v\nkeys: id\ncolumns: {amount: {}, "
                     "customer: {}}\nthresholds: [missing >= 0]\n"}};
  };
  auto local = SubmitJob("here", spec("v_here"));  // first: it creates quality.validation_results
  ASSERT_EQ(WaitEnded(local, "here")["state"], "SUCCESS") << Log(local, "here");
  auto far = SubmitJob("far", spec("v_far"));
  auto run = WaitEnded(far, "far", std::chrono::seconds(120));
  auto log = Log(far, "far");
  ASSERT_EQ(run["state"], "SUCCESS") << run.dump() << log;
  auto metrics = [&](const std::string& id, const std::string& app) {
    auto m = Json(Call("GET", "/v1/applications/" + app + "/jobruns/" + id + "/files/metrics.json", ana_));
    for (auto k : {"run_id", "name", "mismatch_table", "duration_ms", "started_at", "ended_at"}) m.erase(k);
    return m;
  };
  auto expected = metrics(local, "here"), got = metrics(far, "far");
  EXPECT_EQ(got["missing"], expected["missing"]);
  EXPECT_EQ(got["changed"], expected["changed"]);
  EXPECT_EQ(got["columns"], expected["columns"]);
  EXPECT_GT(expected["missing"].get<int64_t>(), 0)
      << expected.dump();  // the filter: only EU rows are missing
  EXPECT_GT(expected["changed"].get<int64_t>(), 0);
  // The diff was one join split by key (no bucket checksums first), its rows the buckets' files.
  EXPECT_THAT(log, HasSubstr("CREATE TEMP TABLE v_diff"));
  EXPECT_THAT(log, HasSubstr("split by key into 3 buckets"));  // the far application's 3 nodes
  EXPECT_THAT(log, HasSubstr("the 3 buckets' results are its rows (no merge)"));
  EXPECT_EQ(got["duplicate_keys"], expected["duplicate_keys"]);
  EXPECT_EQ(got["rows_with_duplicate_keys"], expected["rows_with_duplicate_keys"]);
  EXPECT_GT(expected["duplicate_keys"]["target"].get<int64_t>(), 0) << expected.dump();
  EXPECT_EQ(got["griffin"], expected["griffin"]);
  // Each side's profile: partial figures part by part of its files (distinct counts as
  // sketches), combined to the local figures.
  EXPECT_EQ(got["profiles"], expected["profiles"]);
  EXPECT_EQ(got["null_keys"], expected["null_keys"]);
  EXPECT_EQ(got["source"], expected["source"]);
  EXPECT_FALSE(expected["profiles"].empty()) << expected.dump();
  EXPECT_THAT(log, HasSubstr("CREATE TEMP TABLE v_profile_source"));
  EXPECT_THAT(log, HasSubstr("split into 3 parts of sales.orders's files")) << log;
  // The queries combining the parts' and buckets' few rows ran in the server.
  EXPECT_THAT(log,
              ::testing::ContainsRegex("runs on the server: it reads only small results(.|\n)*runs on the "
                                       "server: it reads only small results"))
      << log;
  // Its temporary tables stayed in the lake for the nodes: the statements reading them ran there too.
  EXPECT_THAT(log, ::testing::Not(HasSubstr("reads the temporary table"))) << log;
  EXPECT_TRUE(ScratchEmpty());
}

}  // namespace
}  // namespace tarn::testing
