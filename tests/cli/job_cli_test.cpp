// `tarn app` and `tarn job` against a real server: submit and wait with exit codes
// that follow the run's final state, the log, cancel, usage errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "server/server_fixture.h"

using ::testing::HasSubstr;

namespace tarn::testing {
namespace {

class JobCliTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ana_ = Login("ana", kAnaPassword);
    admin_ = Login("admin", kAdminPassword);
  }
  CommandResult Tarn(std::vector<std::string> args, const std::string& token) {
    args.insert(args.begin() + 2, {"--server", base_});
    return RunTarn(args, "", {{"XDG_CONFIG_HOME", config_.path().string()}, {"TARN_TOKEN", token}});
  }
  static std::string Trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }

  TempDir config_;
  std::string ana_, admin_;
};

TEST_F(JobCliTest, SubmitWaitExitsWithTheRunsFinalState) {
  auto ok = Tarn({"job", "submit", "--sql", "SELECT 1; SELECT 2", "--wait"}, ana_);
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  std::string id = Trim(ok.out);
  EXPECT_EQ(id.rfind("jr-", 0), 0u) << ok.out;
  EXPECT_THAT(ok.err, HasSubstr("job run " + id + ": SUCCESS"));
  auto failed = Tarn({"job", "submit", "--sql", "SELECT * FROM d.nope", "--wait"}, ana_);
  EXPECT_EQ(failed.exit_code, 1) << failed.err;
  EXPECT_THAT(failed.err, HasSubstr("FAILED (table"));
  // The log of the first run, as lines of time, kind and message.
  auto logs = Tarn({"job", "logs", id}, ana_);
  ASSERT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_THAT(logs.out, HasSubstr("\tstate\tSUCCESS\n"));
  EXPECT_THAT(logs.out, HasSubstr("\tstatement\tstatement 2 of 2 started: SELECT 2\n"));
  auto list = Tarn({"job", "list", "--state", "SUCCESS"}, ana_);
  EXPECT_THAT(list.out, HasSubstr(id + "\tSUCCESS"));
  EXPECT_THAT(list.out, ::testing::Not(HasSubstr("FAILED")));
}

TEST_F(JobCliTest, CancelEndsAWaitWithExit6) {
  auto r = Tarn({"job", "submit", "--sql", "SELECT count(*) FROM range(10000000000000) r(i) WHERE i % 7 = 3"},
                ana_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string id = Trim(r.out);
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto c = Tarn({"job", "cancel", id}, ana_);
    EXPECT_EQ(c.exit_code, 0) << c.err;
  });
  auto follow = Tarn({"job", "logs", "--follow", id}, ana_);
  canceller.join();
  EXPECT_EQ(follow.exit_code, 6) << follow.err;
  EXPECT_THAT(follow.out, HasSubstr("CANCELLING: cancelled by ana"));
  EXPECT_THAT(follow.err, HasSubstr("CANCELLED"));
}

TEST_F(JobCliTest, ApplicationsAndBadInput) {
  auto created = Tarn({"app", "create", "nightly", "--max-concurrent-runs", "2"}, admin_);
  ASSERT_EQ(created.exit_code, 0) << created.err;
  auto list = Tarn({"app", "list"}, admin_);
  EXPECT_THAT(list.out, HasSubstr("\tnightly\tSTARTED\t2\t"));
  EXPECT_EQ(Tarn({"app", "create", "mine"}, ana_).exit_code, 5);  // needs CREATE APPLICATION
  EXPECT_EQ(Tarn({"app", "create", "nightly"}, admin_).exit_code, 4);
  auto none = Tarn({"job", "submit"}, ana_);
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_THAT(none.err, HasSubstr("--sql SQL or --file FILE"));
  EXPECT_EQ(Tarn({"job", "get", "../../v1/users"}, ana_).exit_code, 2);
  EXPECT_EQ(Tarn({"job", "get", "jr-missing"}, ana_).exit_code, 3);
  EXPECT_EQ(Tarn({"job", "submit", "--sql", "SELECT 1", "--app", "nightly"}, ana_).exit_code, 3);
  auto usage = Tarn({"job", "frobnicate"}, ana_);
  EXPECT_EQ(usage.exit_code, 2);
  // The executor: Slurm options only with --executor slurm; slurm needs PostgreSQL (this server has SQLite).
  auto stray = Tarn({"app", "create", "far", "--partition", "debug"}, admin_);
  EXPECT_EQ(stray.exit_code, 2);
  EXPECT_THAT(stray.err, HasSubstr("go with --executor slurm"));
  auto buckets = Tarn({"app", "create", "far", "--buckets", "8"}, admin_);
  EXPECT_EQ(buckets.exit_code, 2);
  EXPECT_THAT(buckets.err, HasSubstr("--buckets go with --executor slurm"));
  EXPECT_EQ(Tarn({"app", "create", "far", "--executor", "slurm", "--buckets", "0"}, admin_).exit_code, 2);
  auto sqlite = Tarn({"app", "create", "far", "--executor", "slurm", "--partition", "debug"}, admin_);
  EXPECT_EQ(sqlite.exit_code, 2);
  EXPECT_THAT(sqlite.err, HasSubstr("the slurm executor needs the PostgreSQL metadata store"));
  auto local = Tarn({"app", "create", "here", "--executor", "local", "--json"}, admin_);
  ASSERT_EQ(local.exit_code, 0) << local.err;
  EXPECT_EQ(nlohmann::json::parse(local.out)["executor"], (nlohmann::json{{"type", "local"}}));
}

TEST_F(JobCliTest, AnApplicationIsUpdatedStoppedStartedAndDeletedAndARunTakesARole) {
  ASSERT_EQ(Tarn({"app", "create", "nightly"}, admin_).exit_code, 0);
  auto updated = Tarn({"app", "update", "nightly", "--max-concurrent-runs", "3", "--json"}, admin_);
  ASSERT_EQ(updated.exit_code, 0) << updated.err;
  auto app = nlohmann::json::parse(updated.out);
  EXPECT_EQ(app["max_concurrent_runs"], 3);
  EXPECT_EQ(app["queue_timeout_minutes"], 360);  // untouched: not given
  auto capped =
      Tarn({"app", "update", "nightly", "--max-memory", "8GB", "--max-threads", "4", "--json"}, admin_);
  ASSERT_EQ(capped.exit_code, 0) << capped.err;
  EXPECT_EQ(nlohmann::json::parse(capped.out)["maximum_capacity"],
            nlohmann::json::parse(R"({"memory": 8000000000, "threads": 4})"));
  EXPECT_EQ(Tarn({"app", "update", "nightly", "--max-memory", "lots"}, admin_).exit_code, 2);
  auto nothing = Tarn({"app", "update", "nightly"}, admin_);
  EXPECT_EQ(nothing.exit_code, 2);
  EXPECT_THAT(nothing.err, HasSubstr("nothing to change"));
  auto stopped = Tarn({"app", "stop", "nightly"}, admin_);
  ASSERT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_THAT(stopped.err, HasSubstr("application nightly: STOPPED"));
  EXPECT_EQ(Tarn({"job", "submit", "--sql", "SELECT 1", "--app", "nightly"}, admin_).exit_code, 4);
  ASSERT_EQ(Tarn({"app", "start", "nightly"}, admin_).exit_code, 0);
  EXPECT_EQ(Tarn({"job", "submit", "--sql", "SELECT 1", "--app", "nightly", "--wait"}, admin_).exit_code, 0);
  // ana holds nothing on it: it reads as missing to her.
  EXPECT_EQ(Tarn({"app", "stop", "nightly"}, ana_).exit_code, 3);
  ASSERT_EQ(Tarn({"app", "delete", "nightly"}, admin_).exit_code, 0);
  EXPECT_EQ(Tarn({"app", "get", "nightly"}, admin_).exit_code, 3);
  // --role: refused without ASSUME, the role's grants with it.
  auto sql = [&](const std::string& s) { return Tarn({"sql", s}, admin_).exit_code; };
  ASSERT_EQ(sql("CREATE ROLE reporting"), 0);
  ASSERT_EQ(sql("CREATE DATABASE rep"), 0);
  ASSERT_EQ(sql("CREATE TABLE rep.kept AS SELECT 7 AS seven"), 0);
  ASSERT_EQ(sql("GRANT SELECT ON TABLE rep.kept TO ROLE reporting"), 0);
  std::vector<std::string> as_role = {"job",    "submit",    "--sql", "SELECT * FROM rep.kept",
                                      "--role", "reporting", "--wait"};
  EXPECT_EQ(Tarn(as_role, ana_).exit_code, 5);
  ASSERT_EQ(sql("GRANT ASSUME ON ROLE reporting TO USER ana"), 0);
  auto ran = Tarn(as_role, ana_);
  EXPECT_EQ(ran.exit_code, 0) << ran.err;
}

TEST_F(JobCliTest, AResultIsReadAsJsonCsvOrAParquetFileAndSchedulesAreManaged) {
  auto ran = Tarn({"job", "submit", "--sql", "SELECT 2 AS two, 'b' AS bee", "--wait"}, ana_);
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  std::string id = Trim(ran.out);
  auto j = Tarn({"job", "result", id, "--json"}, ana_);
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_EQ(nlohmann::json::parse(j.out)["rows"], nlohmann::json::parse(R"([{"two": 2, "bee": "b"}])"));
  EXPECT_EQ(Tarn({"job", "result", id, "--format", "csv"}, ana_).out, "two,bee\n2,b\n");
  TempDir out;
  auto file = (out.path() / "r.parquet").string();
  auto p = Tarn({"job", "result", id, "--format", "parquet", "--output", file}, ana_);
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_THAT(p.err, HasSubstr("bytes to " + file));
  EXPECT_EQ(Tarn({"job", "result", id, "--format", "parquet"}, ana_).exit_code, 2);  // binary: needs --output
  // Schedules: create, list, get, delete; a bad cron is a usage error naming the field.
  auto created = Tarn({"schedule", "create", "--cron", "0 6 * * MON-FRI", "--timezone", "Europe/Oslo",
                       "--sql", "SELECT 1", "--name", "morning"},
                      ana_);
  ASSERT_EQ(created.exit_code, 0) << created.err;
  std::string sch = Trim(created.out);
  EXPECT_THAT(created.err, HasSubstr("created schedule " + sch + ": next fire 20"));
  auto list = Tarn({"schedule", "list"}, ana_);
  EXPECT_THAT(list.out, HasSubstr(sch + "\tmorning\t0 6 * * MON-FRI\tEurope/Oslo\tskip"));
  auto bad = Tarn({"schedule", "create", "--cron", "0 25 * * *", "--sql", "SELECT 1"}, ana_);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("cron"));
  ASSERT_EQ(Tarn({"schedule", "delete", sch}, ana_).exit_code, 0);
  EXPECT_EQ(Tarn({"schedule", "get", sch}, ana_).exit_code, 3);
}

}  // namespace
}  // namespace tarn::testing
