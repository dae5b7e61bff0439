// A query split by key: its map, bucket and merge tasks, run here by the worker's own
// ExecuteTask on real Parquet files, give the rows the whole query gives.
#include "scale/partition_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <duckdb.hpp>
#include <set>

#include "common/error.h"
#include "scale/node_scratch.h"
#include "scale/worker.h"
#include "test_util.h"

namespace tarn::scale {
namespace {

using tarn::testing::TempDir;
namespace fs = std::filesystem;

class PartitionPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    duckdb::DuckDB db(nullptr);
    duckdb::Connection c(db);
    fs::create_directories(dir_ / "data");
    auto copy = [&](const std::string& query, const std::string& file,
                    const std::string& table) -> std::string {
      auto path = (dir_ / "data" / file).string();
      auto r = c.Query("COPY (" + query + ") TO '" + path + "' (FORMAT parquet)");
      EXPECT_FALSE(r->HasError()) << r->GetError();
      files_[path] = table;
      return path;
    };
    // Orders in three files (some without a customer), customers, and a lookup
    // table that is read whole by every bucket.
    std::vector<std::string> orders;
    for (int f = 0; f < 3; f++) {
      orders.push_back(copy(fmt::format("SELECT i AS id, CASE WHEN i % 17 = 0 THEN NULL ELSE i % 10 END AS "
                                        "customer, (i * 7) % 100 AS amount FROM range({}, {}) t(i)",
                                        f * 1000, f * 1000 + 1000),
                            fmt::format("orders{}.parquet", f), "db.orders"));
    }
    auto customers = copy("SELECT i AS customer, 'segment-' || (i % 3) AS segment FROM range(0, 12) t(i)",
                          "customers.parquet", "db.customers");
    auto regions = copy("SELECT 'segment-' || i AS segment, 'region ' || i AS region FROM range(0, 3) t(i)",
                        "regions.parquet", "db.regions");
    std::string list;
    for (auto& o : orders) list += (list.empty() ? "'" : ", '") + o + "'";
    orders_ = orders;
    scans_ = {{"db.orders", "read_parquet([" + list + "]) AS o"},
              {"db.customers", "read_parquet('" + customers + "') AS c"},
              {"db.regions", "read_parquet('" + regions + "') AS r"}};
  }

  session::PlannedQuery Query(const std::string& sql, std::vector<std::string> columns) {
    session::PlannedQuery q;
    q.sql = sql;
    q.reads.scans = scans_;
    q.reads.files = files_;
    q.columns = std::move(columns);
    q.partition_keys = {{"db.orders", {"customer"}}, {"db.customers", {"customer"}}};
    return q;
  }

  // Runs `task` as a worker would; fails the test if it does not report ok.
  void Execute(const PlannedTask& task) {
    auto body = task.body;
    body["memory"] = int64_t{256} << 20;
    body["threads"] = 1;
    auto report = ExecuteTask(body);
    ASSERT_TRUE(report["ok"].get<bool>()) << task.name << ": " << report.dump();
    // What it read (its Parquet inputs) and wrote (its Parquet output), for the stage's log line.
    EXPECT_GT(report["read_bytes"].get<int64_t>(), 0) << task.name;
    EXPECT_GT(report["written_bytes"].get<int64_t>(), 0) << task.name;
  }

  // The rows of a Parquet file, in order, as text.
  std::vector<std::string> Rows(const fs::path& file) {
    duckdb::DuckDB db(nullptr);
    duckdb::Connection c(db);
    auto r = c.Query("SELECT * FROM read_parquet('" + file.string() + "')");
    EXPECT_FALSE(r->HasError()) << r->GetError();
    std::vector<std::string> out;
    for (size_t i = 0; i < r->RowCount(); i++) {
      std::string row;
      for (size_t j = 0; j < r->ColumnCount(); j++) row += r->GetValue(j, i).ToString() + "|";
      out.push_back(row);
    }
    return out;
  }

  // The query unsplit (one task) and split into `buckets`: both results.
  std::pair<std::vector<std::string>, std::vector<std::string>> Both(const session::PlannedQuery& q,
                                                                     int64_t buckets, size_t map_parts = 1) {
    PlannedTask whole{"whole",
                      {{"sql", q.sql},
                       {"scans", q.reads.scans},
                       {"files", nlohmann::json::array()},
                       {"output", (dir_ / "whole" / "result.parquet").string()}}};
    for (auto& [path, table] : q.reads.files)
      whole.body["files"].push_back({{"path", path}, {"table", table}});
    fs::create_directories(dir_ / "whole");
    Execute(whole);
    PartitionPlan plan(q, buckets, dir_ / "scratch", "t1", map_parts);
    for (auto& t : plan.MapTasks()) fs::create_directories(dir_ / "scratch" / t.name), Execute(t);
    EXPECT_GT(plan.ShuffleBytes(), 0);
    auto bucket_tasks = plan.BucketTasks();
    EXPECT_EQ(bucket_tasks.size(), static_cast<size_t>(buckets));
    for (auto& t : bucket_tasks) fs::create_directories(dir_ / "scratch" / t.name), Execute(t);
    auto merge = plan.MergeTask();
    fs::create_directories(dir_ / "scratch" / merge.name);
    Execute(merge);
    return {Rows(dir_ / "whole" / "result.parquet"), Rows(merge.body["output"].get<std::string>())};
  }

  TempDir dir_;
  std::map<std::string, std::string> scans_, files_;
  std::vector<std::string> orders_;  // db.orders' three files
};

// A task's engine spills on the node's local disk ($TMPDIR), not beside its output on
// the shared filesystem, and leaves nothing there; a local disk it cannot use fails the
// task, naming it.
TEST_F(PartitionPlanTest, ATaskSpillsOnTheNodesLocalDiskAndLeavesNothingThere) {
  auto local = dir_ / "local", out = dir_ / "task";
  fs::create_directories(local);
  fs::create_directories(out);
  const char* was = std::getenv("TMPDIR");
  std::string saved = was ? was : "";
  auto files = nlohmann::json::array();
  for (auto& [path, table] : files_) files.push_back({{"path", path}, {"table", table}});
  nlohmann::json body{{"sql", "SELECT id, amount FROM db.orders ORDER BY amount, id DESC"},
                      {"scans", scans_},
                      {"files", files},
                      {"output", (out / "result.parquet").string()},
                      {"memory", int64_t{64} << 20},
                      {"threads", 1}};
  setenv("TMPDIR", local.c_str(), 1);
  auto report = ExecuteTask(body);
  EXPECT_TRUE(report["ok"].get<bool>()) << report.dump();
  EXPECT_EQ(report["rows"], 3000);
  EXPECT_TRUE(fs::is_empty(local));
  EXPECT_EQ(std::distance(fs::directory_iterator(out), fs::directory_iterator()), 1);  // result.parquet alone
  setenv("TMPDIR", orders_.front().c_str(), 1);                                        // a file, not a folder
  report = ExecuteTask(body);
  EXPECT_FALSE(report["ok"].get<bool>()) << report.dump();
  EXPECT_EQ(report["error"]["code"], "io_error");
  EXPECT_NE(report["error"]["message"].get<std::string>().find("spill folder"), std::string::npos)
      << report.dump();
  if (was)
    setenv("TMPDIR", saved.c_str(), 1);
  else
    unsetenv("TMPDIR");
}

// Map tasks whose node runs a file service write their shuffle on the node's scratch
// (not in the run's shared scratch) and report the files; the bucket tasks fetch them
// (here: copied when the capability opens the folder, as the service does) and give
// the whole query's rows. A file that cannot be fetched fails its bucket, naming the
// folder lost.
TEST_F(PartitionPlanTest, MapOutputsOnANodesDiskAreFetchedByTheBucketsWithTheSameResult) {
  auto node = dir_ / "n7";
  fs::create_directories(node / "files");
  WriteNodeService(node, {"https://127.0.0.1:1", std::string(64, 'a'), getpid()});
  setenv("SLURMD_NODENAME", "n7", 1);
  auto q = Query(
      "SELECT o.customer, c.segment, count(*) AS n, sum(o.amount) AS total FROM db.orders o JOIN "
      "db.customers c ON o.customer = c.customer GROUP BY ALL ORDER BY o.customer",
      {"customer", "segment", "n", "total"});
  PlannedTask whole{"whole",
                    {{"sql", q.sql},
                     {"scans", q.reads.scans},
                     {"files", nlohmann::json::array()},
                     {"output", (dir_ / "whole.parquet").string()}}};
  for (auto& [path, table] : q.reads.files) whole.body["files"].push_back({{"path", path}, {"table", table}});
  Execute(whole);
  auto run = [](PlannedTask t, const FetchInput& fetch = {}) {
    t.body["memory"] = int64_t{256} << 20;
    t.body["threads"] = 1;
    t.body["run"] = "jr-1";
    t.body["attempt"] = 1;
    t.body["task"] = t.name;
    return ExecuteTask(t.body, fetch);
  };
  PartitionPlan plan(q, 4, dir_ / "scratch", "t1", 2);
  for (auto& t : plan.MapTasks()) {
    t.body["node_scratch"] = (dir_ / "%n").string();
    auto report = run(t);
    ASSERT_TRUE(report["ok"].get<bool>()) << report.dump();
    ASSERT_TRUE(report.contains("node_files")) << report.dump();
    EXPECT_EQ(report["node_files"]["url"], "https://127.0.0.1:1");
    EXPECT_EQ(report["node_files"]["dir"], "jr-1.1." + t.name);
    plan.SetNodeFiles(*plan.MapNamed(t.name), report["node_files"]);
    EXPECT_FALSE(fs::exists(plan.MapOutput(*plan.MapNamed(t.name))));  // nothing on the shared scratch
  }
  EXPECT_GT(plan.ShuffleBytes(), 0);
  int fetched = 0;
  FetchInput copy = [&](const nlohmann::json& from, const fs::path& to) {
    fs::path folder = node / "files" / from.at("dir").get<std::string>();
    if (!Opens(folder, from.at("capability").get<std::string>())) throw Error::NotFound("no such files");
    fs::copy_file(folder / from.at("file").get<std::string>(), to);
    fetched++;
  };
  auto buckets = plan.BucketTasks();
  for (auto& t : buckets) {
    fs::create_directories(dir_ / "scratch" / t.name);
    auto report = run(t, copy);
    ASSERT_TRUE(report["ok"].get<bool>()) << report.dump();
  }
  EXPECT_GT(fetched, 0);
  auto merge = plan.MergeTask();
  fs::create_directories(dir_ / "scratch" / merge.name);
  Execute(merge);
  EXPECT_EQ(Rows(merge.body["output"].get<std::string>()), Rows(dir_ / "whole.parquet"));
  // On the node that wrote them, the files are read where they are: nothing is fetched.
  auto here = buckets[1];
  here.body["node_scratch"] = (dir_ / "%n").string();
  auto read_here = run(here, [](const nlohmann::json&, const fs::path&) { throw Error::Io("not fetched"); });
  EXPECT_TRUE(read_here["ok"].get<bool>()) << read_here.dump();
  EXPECT_FALSE(read_here.contains("fetched_bytes"));
  // A capability that does not open the folder, or a node that cannot be reached: lost.
  auto bad = buckets[0];
  ASSERT_TRUE(bad.body.contains("fetch"));
  std::string dir = bad.body["fetch"][0]["dir"];
  bad.body["fetch"][0]["capability"] = std::string(64, '0');
  auto report = run(bad, copy);
  EXPECT_FALSE(report["ok"].get<bool>());
  EXPECT_EQ(report["lost"], nlohmann::json::array({dir})) << report.dump();
  EXPECT_THAT(report["error"]["message"].get<std::string>(),
              ::testing::HasSubstr(
                  "cannot fetch the shuffle files of 1 task folder(s) from their nodes: no such files"));
  // Without a function to fetch with, a task reading other nodes' files is malformed.
  report = run(buckets[0]);
  EXPECT_EQ(report["error"]["code"], "invalid_argument") << report.dump();
  // A map task on a node whose service is gone writes on the shared scratch.
  WriteNodeService(node, {"https://127.0.0.1:1", std::string(64, 'a'), 999999999});
  auto map = plan.MapTasks()[0];
  map.body["node_scratch"] = (dir_ / "%n").string();
  report = run(map);
  EXPECT_FALSE(report.contains("node_files")) << report.dump();
  EXPECT_TRUE(fs::exists(map.body["output"].get<std::string>()));
  unsetenv("SLURMD_NODENAME");
}

// A later statement over the same map outputs computed in the bucket tasks of an
// earlier one ("also"): each bucket's task writes both results, and the later one's
// buckets together are its whole rows.
TEST_F(PartitionPlanTest, ALaterStatementOverTheSameShuffleIsComputedInTheSameBucketTasks) {
  auto q = Query(
      "SELECT o.customer, c.segment, count(*) AS n FROM db.orders o JOIN db.customers c ON o.customer = "
      "c.customer GROUP BY ALL",
      {"customer", "segment", "n"});
  auto later = Query(
      "SELECT c.customer, c.segment FROM db.customers c ANTI JOIN db.orders o ON o.customer = c.customer",
      {"customer", "segment"});
  PlannedTask whole{"whole",
                    {{"sql", later.sql},
                     {"scans", later.reads.scans},
                     {"files", nlohmann::json::array()},
                     {"output", (dir_ / "later.parquet").string()}}};
  for (auto& [path, table] : later.reads.files)
    whole.body["files"].push_back({{"path", path}, {"table", table}});
  Execute(whole);
  PartitionPlan plan(q, 4, dir_ / "scratch", "t1");
  for (auto& t : plan.MapTasks()) Execute(t);
  PartitionPlan with(later, 4, dir_ / "scratch", "t1.w2");
  ASSERT_EQ(with.Maps(), plan.Maps());
  for (size_t m = 0; m < with.Maps(); m++) {
    ASSERT_EQ(with.MapIdentity(m), plan.MapIdentity(m));
    with.ReuseMap(m, plan.MapOutput(m));
  }
  auto buckets = plan.BucketTasks();
  auto also = with.BucketTasks();
  ASSERT_EQ(also.size(), buckets.size());
  for (size_t b = 0; b < buckets.size(); b++) {
    buckets[b].body["also"].push_back(also[b].body);
    auto body = buckets[b].body;
    body["memory"] = int64_t{256} << 20;
    body["threads"] = 1;
    auto report = ExecuteTask(body);
    ASSERT_TRUE(report["ok"].get<bool>()) << report.dump();
    ASSERT_EQ(report["also"].size(), 1u);
    EXPECT_GE(report["also"][0]["rows"].get<int64_t>(), 0);
  }
  std::vector<std::string> split;
  for (auto& part : with.BucketResults()) {
    auto rows = Rows(part);
    split.insert(split.end(), rows.begin(), rows.end());
  }
  auto expected = Rows(dir_ / "later.parquet");
  std::sort(split.begin(), split.end());
  std::sort(expected.begin(), expected.end());
  ASSERT_FALSE(expected.empty());  // customers 10 and 11 have no orders
  EXPECT_EQ(split, expected);
}

TEST_F(PartitionPlanTest, AJoinGroupedByItsKeyGivesTheWholeQuerysRowsInItsOrder) {
  // 16 buckets for 10 customer values: most buckets of orders are empty.
  auto q = Query(
      "SELECT o.customer, c.segment, r.region, count(*) AS n, sum(o.amount) AS total FROM db.orders o JOIN "
      "db.customers c ON o.customer = c.customer JOIN db.regions r ON r.segment = c.segment GROUP BY ALL "
      "ORDER BY o.customer DESC LIMIT 7",
      {"customer", "segment", "region", "n", "total"});
  auto [whole, split] = Both(q, 16);
  ASSERT_EQ(whole.size(), 7u);
  EXPECT_EQ(split, whole);
}

TEST_F(PartitionPlanTest, AnOuterJoinKeepsRowsWithoutAPartnerAndNullKeysOnce) {
  auto q = Query(
      "SELECT coalesce(o.id, -1) AS n_id, coalesce(o.customer, c.customer) AS customer, c.segment FROM "
      "db.orders o FULL OUTER JOIN db.customers c ON o.customer = c.customer ORDER BY n_id, customer",
      {"n_id", "customer", "segment"});
  auto [whole, split] = Both(q, 3);
  ASSERT_EQ(whole.size(), 3000u + 2u);  // customers 10 and 11 have no orders
  EXPECT_EQ(split, whole);
}

TEST_F(PartitionPlanTest, TheMapTaskTagsRowsWithTheirKeysHashAndOnlyAQueryIsSplit) {
  auto q = Query("SELECT * FROM db.orders o JOIN db.customers c USING (customer)", {});
  PartitionPlan plan(q, 8, dir_ / "scratch", "t2");
  auto maps = plan.MapTasks();
  ASSERT_EQ(maps.size(), 2u);
  EXPECT_EQ(maps[0].name, "t2.m0");
  EXPECT_NE(
      maps[0].body["sql"].get<std::string>().find("hash(coalesce(CAST(\"customer\" AS VARCHAR), '')) % 8"),
      std::string::npos)
      << maps[0].body.dump();
  EXPECT_EQ(maps[0].body["partition_by"], "__tarn_bucket");
  // The shuffle files are zstd (about half snappy's bytes over the shared filesystem).
  Execute(maps[0]);
  duckdb::DuckDB db(nullptr);
  duckdb::Connection c(db);
  auto codecs = c.Query("SELECT DISTINCT compression FROM parquet_metadata('" + plan.MapOutput(0).string() +
                        "/*/*.parquet')");
  ASSERT_FALSE(codecs->HasError()) << codecs->GetError();
  ASSERT_EQ(codecs->RowCount(), 1u);
  EXPECT_EQ(codecs->GetValue(0, 0).ToString(), "ZSTD");
  q.sql = "DELETE FROM db.orders";
  EXPECT_THROW(PartitionPlan(q, 8, dir_ / "scratch", "t3"), Error);
  q.sql = "SELECT 1; SELECT 2";
  EXPECT_THROW(PartitionPlan(q, 8, dir_ / "scratch", "t3"), Error);
}

TEST_F(PartitionPlanTest, ATableOfSeveralFilesIsMappedByPartsOfItsFilesWithTheSameResult) {
  auto q = Query(
      "SELECT o.customer, c.segment, count(*) AS n, sum(o.amount) AS total FROM db.orders o JOIN "
      "db.customers c "
      "ON o.customer = c.customer GROUP BY ALL ORDER BY o.customer",
      {"customer", "segment", "n", "total"});
  // As the Governor divides a table by its files: each part its files' scan, same alias.
  size_t asked = 0;
  q.parts_of = [&](const std::string& key, size_t parts) {
    asked = parts;
    std::vector<governance::PlannedReads> out;
    if (key != "db.orders") return out;
    for (auto& f : orders_) out.push_back({{{key, "read_parquet('" + f + "') AS o"}}, {{f, key}}});
    return out;
  };
  PartitionPlan plan(q, 5, dir_ / "scratch", "t4", 3);
  EXPECT_EQ(asked, 3u);
  auto maps = plan.MapTasks();
  ASSERT_EQ(maps.size(), 4u);  // db.customers whole, three parts of db.orders
  for (size_t m = 1; m < 4; m++) {
    ASSERT_EQ(maps[m].body["files"].size(), 1u) << maps[m].body.dump();  // a task may read only its part
    EXPECT_EQ(maps[m].body["files"][0]["path"], orders_[m - 1]);
  }
  auto [whole, split] = Both(q, 5, 3);
  ASSERT_EQ(whole.size(), 10u);
  EXPECT_EQ(split, whole);
}

// Split by the parts of a table: no map stage; each bucket task reads its part of the
// table's files (every other table whole), and the parts' partial aggregates combined
// give the whole query's.
TEST_F(PartitionPlanTest, ATableSplitByThePartsOfItsFilesHasNoMapAndItsPartialsCombineToTheWhole) {
  auto q = Query(
      "SELECT c.segment, count(*) AS n, CAST(sum(o.amount) AS DECIMAL(38,0)) AS total, min(o.id) AS first "
      "FROM db.orders o JOIN db.customers c ON o.customer = c.customer GROUP BY c.segment",
      {"segment", "n", "total", "first"});
  q.partition_keys.clear();
  q.parts_key = "db.orders";
  q.parts_of = [&](const std::string& key, size_t parts) {
    std::vector<governance::PlannedReads> out;
    for (size_t p = 0; p < std::min(parts, orders_.size()); p++)
      out.push_back({{{key, "read_parquet('" + orders_[p] + "') AS o"}}, {{orders_[p], key}}});
    return out;
  };
  PartitionPlan plan(q, 8, dir_ / "scratch", "t5");
  EXPECT_EQ(plan.Maps(), 0u);
  EXPECT_TRUE(plan.MapTasks().empty());
  ASSERT_EQ(plan.buckets(), 3);  // one part per file, however many buckets were asked
  auto tasks = plan.BucketTasks();
  ASSERT_EQ(tasks.size(), 3u);
  for (size_t b = 0; b < 3; b++) {
    std::set<std::string> files;
    for (auto& f : tasks[b].body["files"]) files.insert(f["path"].get<std::string>());
    EXPECT_TRUE(files.count(orders_[b])) << tasks[b].body.dump();
    EXPECT_FALSE(files.count(orders_[(b + 1) % 3])) << tasks[b].body.dump();  // only its own part
    EXPECT_EQ(files.size(), 3u);  // its part, customers and regions (whole)
    fs::create_directories(dir_ / "scratch" / tasks[b].name);
    Execute(tasks[b]);
  }
  // The combination, as a pipeline's next statement makes it, over the parts' results.
  duckdb::DuckDB db(nullptr);
  duckdb::Connection c(db);
  std::string parts;
  for (auto& r : plan.BucketResults()) parts += (parts.empty() ? "'" : ", '") + r.string() + "'";
  auto combined = c.Query(
      "SELECT segment, CAST(sum(n) AS BIGINT) AS n, CAST(sum(total) AS HUGEINT) AS total, min(first) AS "
      "first "
      "FROM "
      "read_parquet([" +
      parts + "]) GROUP BY segment ORDER BY segment");
  ASSERT_FALSE(combined->HasError()) << combined->GetError();
  std::string whole_sql =
      "SELECT c.segment AS segment, count(*) AS n, sum(o.amount) AS total, min(o.id) AS first FROM "
      "read_parquet([";
  for (size_t i = 0; i < orders_.size(); i++) whole_sql += (i ? ", '" : "'") + orders_[i] + "'";
  whole_sql += "]) o JOIN read_parquet('" + (dir_ / "data" / "customers.parquet").string() +
               "') c ON o.customer = c.customer GROUP BY c.segment ORDER BY c.segment";
  auto whole = c.Query(whole_sql);
  ASSERT_FALSE(whole->HasError()) << whole->GetError();
  EXPECT_EQ(combined->ToString(), whole->ToString());
  EXPECT_EQ(whole->RowCount(), 3u);
  q.partition_keys = {{"db.customers", {"customer"}}};
  EXPECT_THROW(PartitionPlan(q, 8, dir_ / "scratch", "t6"), Error);  // keys or parts, not both
}

TEST_F(PartitionPlanTest, ASecondStatementReusesTheShuffleFilesOfMapTasksThatReadAndHashAlike) {
  auto q = Query(
      "SELECT o.customer, c.segment, count(*) AS n FROM db.orders o JOIN db.customers c ON o.customer = "
      "c.customer GROUP BY ALL ORDER BY o.customer",
      {"customer", "segment", "n"});
  auto [whole, first] = Both(q, 4);  // plan t1 wrote its map tasks' files
  ASSERT_EQ(first, whole);
  PartitionPlan earlier(q, 4, dir_ / "scratch", "t1");
  PartitionPlan again(q, 4, dir_ / "scratch", "t5");
  ASSERT_EQ(again.Maps(), 2u);
  for (size_t m = 0; m < again.Maps(); m++) {
    ASSERT_EQ(again.MapIdentity(m), earlier.MapIdentity(m));
    again.ReuseMap(m, earlier.MapOutput(m));
  }
  EXPECT_TRUE(again.MapTasks().empty());
  EXPECT_EQ(again.ShuffleBytes(), 0);  // nothing written anew
  for (auto& t : again.BucketTasks()) fs::create_directories(dir_ / "scratch" / t.name), Execute(t);
  auto merge = again.MergeTask();
  fs::create_directories(dir_ / "scratch" / merge.name);
  Execute(merge);
  EXPECT_EQ(Rows(merge.body["output"].get<std::string>()), whole);
  // Other buckets, or another key, hash otherwise: not the same map task.
  EXPECT_NE(PartitionPlan(q, 5, dir_ / "scratch", "t6").MapIdentity(0), earlier.MapIdentity(0));
  q.partition_keys["db.customers"] = {"segment"};
  EXPECT_NE(PartitionPlan(q, 4, dir_ / "scratch", "t7").MapIdentity(0), earlier.MapIdentity(0));
}

TEST(ChooseBuckets, FollowsTheInputsSizeAgainstTaskMemoryWithinBounds) {
  EXPECT_EQ(ChooseBuckets(0, int64_t{1} << 30, 3), 3);
  EXPECT_EQ(ChooseBuckets(int64_t{10} << 30, int64_t{1} << 30, 3), 60);
  EXPECT_EQ(ChooseBuckets(int64_t{1} << 30, int64_t{4} << 30, 1), 2);  // ceil(6/4)
  EXPECT_EQ(ChooseBuckets(int64_t{1} << 50, int64_t{1} << 30, 1), 4096);
  EXPECT_EQ(ChooseBuckets(-5, 0, 0), 1);
}

}  // namespace
}  // namespace tarn::scale
