// Job runs on the slurm executor: a real server on PostgreSQL, workers started by the
// test Slurm cluster (scripts/lib/slurm.sh) as `tarn worker`, over real HTTP.
#include <gmock/gmock.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <future>
#include <sstream>

#include "jobs/job_store.h"
#include "scale/credential.h"
#include "scale/slurm.h"
#include "server/config.h"
#include "slurm_jobs_fixture.h"
#include "store/store.h"

namespace tarn::testing {
namespace {

using ::testing::HasSubstr;

TEST_F(SlurmJobsTest, AGovernedQueryOnTheClusterGivesTheLocalResult) {
  auto local = SubmitOk(ana_, kQuery, "here");
  auto far = SubmitOk(ana_, kQuery, "far");
  ASSERT_EQ(WaitEnded(local, "here")["state"], "SUCCESS");
  auto run = WaitEnded(far, "far");
  ASSERT_EQ(run["state"], "SUCCESS") << run.dump() << Log(far, "far");
  auto expected = Result(local, "here"), got = Result(far, "far");
  EXPECT_EQ(got["rows"], expected["rows"]);
  EXPECT_EQ(got["columns"], expected["columns"]);
  ASSERT_EQ(expected["rows"].size(), 3u);
  // Only EU rows (1167 of 2600), emails masked: the node computed the governed scan.
  int64_t orders = 0;
  for (auto& row : got["rows"]) {
    orders += row["orders"].get<int64_t>();
    EXPECT_THAT(row["first_email"].get<std::string>(), ::testing::StartsWith("***@"));
  }
  EXPECT_EQ(orders, 666 + 500);
  auto log = Log(far, "far");
  EXPECT_THAT(log, HasSubstr("statement 1: Slurm job "));
  EXPECT_THAT(log, ::testing::ContainsRegex("task t1 ended on n[1-3]: 3 rows"));
  auto job = SlurmJob(log);
  auto jobs = slurm_.Jobs(job);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].state, "COMPLETED");
  EXPECT_TRUE(ScratchEmpty());  // the run's private folder went with it
  // The audit names ana's read with the filter and the mask, as for a local run.
  auto audit =
      Json(Sql(admin_, "SELECT user_name, resources FROM system.audit WHERE origin->>'job_run_id' = '" + far +
                           "' AND event = 'statement'"));
  ASSERT_EQ(audit["rows"].size(), 1u) << audit.dump();
  EXPECT_EQ(audit["rows"][0][0], "ana");
  EXPECT_THAT(audit["rows"][0][1].dump(), HasSubstr("DATA FILTER eu"));
  EXPECT_THAT(audit["rows"][0][1].dump(), HasSubstr("\"masks\":[\"email\"]"));
}

TEST_F(SlurmJobsTest, AReconciliationOnTheClusterGivesTheLocalResult) {
  ASSERT_EQ(Sql(admin_, "CREATE DATABASE fin; GRANT CREATE_TABLE ON DATABASE fin TO GROUP analysts").status,
            200);
  auto pipeline = [](const std::string& target) {
    return json{{"type", "reconciliation"},
                {"pipeline",
                 "inputs:\n  left: {table: sales.orders}\n  right: {table: sales.orders}\nsteps:\n"
                 "  - name: rec\n    compare: {left: left, right: right, keys: [id], columns: {amount: {}}}\n"
                 "  - name: save\n    output: {input: rec.breaks, table: fin." +
                     target + "}\n"}};
  };
  auto submit = [&](const std::string& app, const std::string& target) {
    auto r =
        Call("POST", "/v1/applications/" + app + "/jobruns", ana_, json{{"job", pipeline(target)}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return Json(r)["job_run_id"].get<std::string>();
  };
  auto local = submit("here", "local_breaks"), far = submit("far", "far_breaks");
  ASSERT_EQ(WaitEnded(local, "here")["state"], "SUCCESS");
  auto run = WaitEnded(far, "far");
  ASSERT_EQ(run["state"], "SUCCESS") << run.dump() << Log(far, "far");
  EXPECT_EQ(Result(far, "far")["rows"], Result(local, "here")["rows"]);
  auto count = [&](const std::string& t) {
    return Json(Sql(ana_, "SELECT count(*) FROM fin." + t))["rows"][0][0].get<int64_t>();
  };
  EXPECT_EQ(count("far_breaks"), count("local_breaks"));
  EXPECT_THAT(Log(far, "far"), HasSubstr("Slurm job "));
  EXPECT_TRUE(ScratchEmpty());
}

TEST_F(SlurmJobsTest, CancelStopsTheSlurmJobAndRemovesTheScratchFolder) {
  auto id = SubmitOk(ana_, std::string(kLong), "far");
  std::string job = WaitSlurmRunning(id, "far");
  ASSERT_FALSE(job.empty());
  // The run's details follow Slurm's view of it.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  json run;
  while (std::chrono::steady_clock::now() < until) {
    run = Run(ana_, id, "far");
    if (run["state_details"].get<std::string>().find("RUNNING on n") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_THAT(run["state_details"].get<std::string>(), HasSubstr("Slurm job " + job + " RUNNING on n"));
  ASSERT_EQ(Call("DELETE", "/v1/applications/far/jobruns/" + id, ana_).status, 200);
  run = WaitEnded(id, "far", std::chrono::seconds(30));
  EXPECT_EQ(run["state"], "CANCELLED");
  until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < until && !slurm_.Jobs(job).at(0).Ended())
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(slurm_.Jobs(job).at(0).state, "CANCELLED");
  EXPECT_TRUE(ScratchEmpty());
}

TEST_F(SlurmJobsTest, ATaskCredentialServesOnlyItsOwnTaskAndExpires) {
  auto id = SubmitOk(ana_, std::string(kLong), "far");
  std::filesystem::path file;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < until) {
    std::error_code ec;
    for (auto& d : std::filesystem::directory_iterator(Scratch(), ec))
      if (std::filesystem::exists(d.path() / "t1" / "credential")) file = d.path() / "t1" / "credential";
    if (!file.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(file.empty());
  EXPECT_EQ(std::filesystem::status(file).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::ifstream in(file);
  std::string credential((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto get = [&](const std::string& task, const std::string& authorization) {
    return server::Fetch("GET", base_ + "/v1/worker/tasks/" + id + "/" + task,
                         {{"Authorization", authorization}}, "", client_);
  };
  auto own = get("t1", "Task " + credential);
  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_THAT(Json(own)["sql"].get<std::string>(), HasSubstr("range"));
  EXPECT_EQ(get("t2", "Task " + credential).status, 401);
  EXPECT_THAT(get("t2", "Task " + credential).body, HasSubstr("missing or invalid credentials"));
  EXPECT_EQ(get("t1", "Bearer " + ana_).status, 401);  // a user's token is no task credential
  EXPECT_EQ(get("t1", "").status, 401);
  // Signed with the server's own key, for this very task, but expired.
  auto meta = store::MetaStore::Open(pg_->location());
  scale::TaskSigner signer(scale::TaskSigningKey(*meta));
  auto expired = signer.Sign({id, "t1", 1, "ana", "", "", tarn::jobs::NowMs() - 1});
  EXPECT_EQ(get("t1", "Task " + expired).status, 401);
  // A report with another task's credential is refused and changes nothing.
  auto other = signer.Sign({id, "t2", 1, "ana", "", "", tarn::jobs::NowMs() + 60000});
  auto report = server::Fetch("POST", base_ + "/v1/worker/tasks/" + id + "/t1/report",
                              {{"Authorization", "Task " + other}, {"Content-Type", "application/json"}},
                              R"({"ok": true, "rows": 0})", client_);
  EXPECT_EQ(report.status, 401);
  ASSERT_EQ(Call("DELETE", "/v1/applications/far/jobruns/" + id, ana_).status, 200);
  EXPECT_EQ(WaitEnded(id, "far", std::chrono::seconds(30))["state"], "CANCELLED");
  EXPECT_EQ(get("t1", "Task " + credential).status, 404);  // the task ended with the run
}

TEST_F(SlurmJobsTest, AQueryThatFailsOnTheNodeFailsTheRunWithItsError) {
  auto id = SubmitOk(ana_, "SELECT CAST(region || 'x' AS INTEGER) FROM sales.orders", "far");
  auto run = WaitEnded(id, "far");
  EXPECT_EQ(run["state"], "FAILED");
  EXPECT_THAT(run["state_details"].get<std::string>(), HasSubstr("Could not convert string 'EUx' to INT32"));
  EXPECT_TRUE(ScratchEmpty());
}

TEST_F(SlurmJobsTest, WhatOnlyTheServerCanReadRunsThereAndSaysSo) {
  auto id = SubmitOk(ana_, "SELECT count(*) AS n FROM information_schema.tables", "far");
  auto run = WaitEnded(id, "far");
  EXPECT_EQ(run["state"], "SUCCESS") << run.dump();
  EXPECT_THAT(Log(id, "far"),
              HasSubstr("statement 1 runs on the server: this query reads information_schema.tables"));
  // That was the statement's own: the next query of ana's (on the same pooled session) runs on a node.
  auto next = SubmitOk(ana_, kQuery, "far");
  ASSERT_EQ(WaitEnded(next, "far")["state"], "SUCCESS");
  EXPECT_THAT(Log(next, "far"), ::testing::ContainsRegex("task t1 ended on n[1-3]"));
}

// A write's rows are computed and written on a node, governed as the caller's (ana's
// row filter and mask held there), an append too.
TEST_F(SlurmJobsTest, AWriteIsComputedAndWrittenOnANodeGovernedAsTheCaller) {
  ASSERT_EQ(Sql(admin_, "CREATE DATABASE w; GRANT CREATE_TABLE ON DATABASE w TO GROUP analysts").status, 200);
  auto id = SubmitOk(ana_,
                     "CREATE TABLE w.eu AS SELECT id, email, amount FROM sales.orders; "
                     "INSERT INTO w.eu SELECT 0, 'none', 0",
                     "far");
  auto run = WaitEnded(id, "far");
  auto log = Log(id, "far");
  ASSERT_EQ(run["state"], "SUCCESS") << run.dump() << log;
  EXPECT_THAT(log, HasSubstr("statement 1: Slurm job ")) << log;
  EXPECT_THAT(log, ::testing::ContainsRegex("task t1 ended on n[1-3]: 1166 rows")) << log;
  EXPECT_THAT(log, HasSubstr("statement 2: Slurm job ")) << log;
  EXPECT_THAT(log, ::testing::ContainsRegex("task t[0-9]+ ended on n[1-3]: 1 rows")) << log;
  auto rows = Json(Sql(ana_,
                       "SELECT count(*), count(*) FILTER (email LIKE '***@%'), count(*) FILTER (id = 0) "
                       "FROM w.eu"));
  EXPECT_EQ(rows["rows"][0], json::array({1167, 1166, 1})) << rows.dump();
}

// Server-Sent Events of a body: (event type, data) pairs.
std::vector<std::pair<std::string, json>> Events(const std::string& body) {
  std::vector<std::pair<std::string, json>> out;
  std::istringstream in(body);
  std::string type;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("event: ", 0) == 0) type = line.substr(7);
    if (line.rfind("data: ", 0) == 0 && !type.empty()) out.emplace_back(type, json::parse(line.substr(6)));
  }
  return out;
}

TEST_F(SlurmJobsTest, ANodeDrainIsAnEventAnAuditRecordAndAMetric) {
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the watcher has had its first look
  auto stream = std::async(std::launch::async,
                           [this] { return Call("GET", "/v1/events?max_seconds=6&types=node", admin_); });
  auto anas =
      std::async(std::launch::async, [this] { return Call("GET", "/v1/events?max_seconds=6", ana_); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  slurm_.Drain("n3", "disk replaced");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  slurm_.Resume("n3");
  auto events = Events(stream.get().body);
  std::vector<json> n3;
  for (auto& [type, data] : events)
    if (type == "node" && data["node"] == "n3") n3.push_back(data);
  ASSERT_GE(n3.size(), 2u) << stream.get().body;
  EXPECT_THAT(n3[0]["state"].get<std::string>(), HasSubstr("DRAIN"));
  EXPECT_EQ(n3[0]["reason"], "disk replaced");
  bool back = false;  // a later change out of the drain
  for (size_t i = 1; i < n3.size(); i++)
    back = back || (n3[i]["previous_state"].get<std::string>().find("DRAIN") != std::string::npos &&
                    n3[i]["state"].get<std::string>().find("DRAIN") == std::string::npos);
  EXPECT_TRUE(back) << stream.get().body;
  EXPECT_THAT(anas.get().body, ::testing::Not(HasSubstr("\"node\"")));  // administrators only
  auto audit = Json(Sql(admin_,
                        "SELECT statement_type, (details->>'reason') FROM system.audit WHERE event = "
                        "'node_state' AND (details->>'node') = 'n3' ORDER BY seq"));
  ASSERT_GE(audit["rows"].size(), 2u) << audit.dump();
  EXPECT_EQ(audit["rows"][0][0], "DRAIN");
  EXPECT_EQ(audit["rows"][0][1], "disk replaced");
  bool resumed = false;
  for (auto& row : audit["rows"]) resumed = resumed || row[0] == "RESUME";
  EXPECT_TRUE(resumed) << audit.dump();
  auto metrics = Call("GET", "/metrics", admin_).body;
  EXPECT_THAT(metrics, HasSubstr("tarn_slurm_nodes_drained "));
  EXPECT_THAT(metrics, ::testing::ContainsRegex("tarn_slurm_node_changes_total [1-9]"));
}

// The pids of processes whose command line holds `text`.
std::vector<int> ProcessesWith(const std::string& text) {
  std::vector<int> out;
  for (auto& e : std::filesystem::directory_iterator("/proc")) {
    auto name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream f(e.path() / "cmdline");
    std::string cmd((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    if (cmd.find(text) != std::string::npos && std::stoi(name) != getpid()) out.push_back(std::stoi(name));
  }
  return out;
}

TEST_F(SlurmJobsTest, ARunSurvivesItsNodeKilledUnderItWithTheSameResult) {
  // Long enough (a few seconds) to be killed while it runs.
  const std::string heavy =
      "SELECT o.region, count(*) AS n, sum((o.id * r.i) % 97) AS s FROM sales.orders o, range(300000) r(i) "
      "GROUP BY o.region ORDER BY o.region";
  auto local = SubmitOk(ana_, heavy, "here");
  auto id = Json(Submit(ana_, heavy, "far", {{"retry_policy", {{"max_attempts", 2}}}}))["job_run_id"]
                .get<std::string>();
  std::string node, job;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < until && node.empty()) {
    std::string details = Run(ana_, id, "far")["state_details"];
    if (auto at = details.find(" RUNNING on "); at != std::string::npos) {
      node = details.substr(at + 12);
      job = details.substr(10, details.find(' ', 10) - 10);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(node.empty());
  // The node dies: its slurmd, the job's step daemon and the worker, all at once.
  std::filesystem::path root = std::getenv("TARN_TEST_SLURM_ROOT");
  std::ifstream pidfile(root / "run" / ("slurmd-" + node + ".pid"));
  int slurmd = 0;
  pidfile >> slurmd;
  ASSERT_GT(slurmd, 0);
  kill(slurmd, SIGKILL);
  for (int pid : ProcessesWith("slurmstepd: [" + job + ".")) kill(pid, SIGKILL);
  for (int pid : ProcessesWith("--run " + id + " ")) kill(pid, SIGKILL);
  auto run = WaitEnded(id, "far", std::chrono::seconds(150));
  // The node comes back for the tests after this one.
  ASSERT_EQ(std::system(("/usr/sbin/slurmd -N " + node + " </dev/null >/dev/null 2>&1").c_str()), 0);
  EXPECT_EQ(run["state"], "SUCCESS") << run.dump() << Log(id, "far");
  EXPECT_EQ(run["attempt"], 1);  // the task moved; the run was not started again
  ASSERT_EQ(WaitEnded(local, "here")["state"], "SUCCESS");
  EXPECT_EQ(Result(id, "far")["rows"], Result(local, "here")["rows"]);
  EXPECT_TRUE(ScratchEmpty());
  until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < until && !slurm_.Node(node).Has("IDLE"))
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(slurm_.Node(node).Has("IDLE")) << slurm_.Node(node).state;
}

// Without PostgreSQL the slurm executor is refused with the reason (no cluster needed).
class SlurmOnSqliteTest : public ServerTest {};

TEST_F(SlurmOnSqliteTest, AnApplicationOnTheSlurmExecutorNeedsPostgreSQL) {
  auto admin = Login("admin", kAdminPassword);
  auto r = Call("POST", "/v1/applications", admin, R"({"name": "far", "executor": {"type": "slurm"}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("the slurm executor needs the PostgreSQL metadata store"));
  EXPECT_EQ(Call("GET", "/v1/applications/far", admin).status, 404);
}

// [slurm] settings load from the config file; bad ones are refused naming the setting.
TEST(SlurmConfig, SettingsLoadAndBadOnesAreRefusedByName) {
  TempDir dir;
  auto file = dir.path() / "server.toml";
  WriteFile(file,
            "[slurm]\nworker_url = \"https://tarn.internal:8998\"\nworker_program = \"/usr/bin/tarn\"\n"
            "node_poll = \"10s\"\nscale_idle = \"2m\"\nrest_socket = \"/run/slurmrestd/tarn.socket\"\n"
            "node_scratch = \"/local/tarn/%n\"\n");
  auto c = server::LoadConfig(file);
  EXPECT_EQ(c.slurm_worker_url, "https://tarn.internal:8998");
  EXPECT_EQ(c.slurm_worker_program, "/usr/bin/tarn");
  EXPECT_EQ(c.slurm_node_poll_ms, 10000);
  EXPECT_EQ(c.slurm_scale_idle_ms, 120000);
  EXPECT_EQ(c.slurm_rest_socket, "/run/slurmrestd/tarn.socket");
  EXPECT_EQ(c.slurm_node_scratch, "/local/tarn/%n");
  for (auto [text, named] :
       {std::pair<std::string, std::string>{"colour = 1", "slurm.colour"},
        {"worker_url = \"ftp://x\"", "slurm.worker_url"},
        {"worker_program = \"tarn\"", "slurm.worker_program"},
        {"node_poll = \"0s\"", "slurm.node_poll"},
        {"scale_idle = \"soon\"", "slurm.scale_idle"},
        {"scale_idle = \"200h\"", "slurm.scale_idle must be 1s to 7d"},
        {"rest_socket = \"tarn.socket\"", "slurm.rest_socket must be the absolute path"},
        {"rest_socket = 5", "slurm.rest_socket"},
        {"node_scratch = \"local/%n\"", "slurm.node_scratch must be an absolute path"}}) {
    WriteFile(file, "[slurm]\n" + text + "\n");
    try {
      server::LoadConfig(file);
      ADD_FAILURE() << text << " was accepted";
    } catch (const Error& e) {
      EXPECT_THAT(std::string(e.what()), HasSubstr(named)) << text;
    }
  }
}

}  // namespace
}  // namespace tarn::testing
