// Livy's /batches over real HTTP: a batch is a job run of a SQL file from the lake's
// scripts/ folder, its settings map onto the run's, and what a SQL batch cannot honour
// is a 400 that names the field and submits nothing.
#include <gmock/gmock.h>

#include <filesystem>
#include <fstream>

#include "livy_fixture.h"

namespace tarn::testing {
namespace {

using ::testing::HasSubstr;

// A batch is a job run of a SQL file from the lake's scripts/ folder: the jobs API and
// GET /batches see the same work, in Livy's shapes and states.
TEST_F(LivyTest, ABatchRunsASqlFileAsAJobRun) {
  auto root = instance_->lake().root();
  std::filesystem::create_directories(root / "scripts");
  std::ofstream(root / "scripts" / "report.sql") << "SELECT count(*) AS n FROM d.t;\n";
  auto r = Call("POST", "/batches", ana_, R"({"file": "scripts/report.sql", "name": "nightly"})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto b = Json(r);
  int64_t id = b["id"];
  EXPECT_EQ(r.headers["location"], "/batches/" + std::to_string(id));
  EXPECT_EQ(b["owner"], "ana");
  EXPECT_EQ(b["name"], "nightly");
  std::string run_id = b["appId"];
  // The same work through the jobs API.
  auto run = WaitFor(ana_, run_id, "SUCCESS");
  EXPECT_EQ(run["job"]["script_location"], "scripts/report.sql");
  EXPECT_EQ(Json(Call("GET", "/batches/" + std::to_string(id) + "/state", ana_)),
            json({{"id", id}, {"state", "success"}}));
  auto log = Json(Call("GET", "/batches/" + std::to_string(id) + "/log?from=0&size=1000", ana_));
  EXPECT_EQ(log["id"], id);
  EXPECT_EQ(log["from"], 0);
  EXPECT_EQ(log["total"].get<size_t>(), log["log"].size());
  EXPECT_THAT(log["log"].dump(), HasSubstr("SUCCESS"));
  auto list = Json(Call("GET", "/batches", ana_));
  EXPECT_EQ(list["total"], 1);
  EXPECT_EQ(list["sessions"][0]["id"], id);
  // A long batch deleted is a cancelled run: killed.
  std::ofstream(root / "scripts" / "long.sql") << kLong << ";\n";
  auto longb = Json(Call("POST", "/batches", ana_, R"({"file": "scripts/long.sql"})"));
  std::string long_run = longb["appId"];
  WaitFor(ana_, long_run, "RUNNING");
  auto del = Call("DELETE", "/batches/" + std::to_string(longb["id"].get<int64_t>()), ana_);
  EXPECT_EQ(Json(del), json({{"msg", "deleted"}}));
  WaitFor(ana_, long_run, "CANCELLED");
  EXPECT_EQ(Json(Call("GET", "/batches/" + std::to_string(longb["id"].get<int64_t>()), ana_))["state"],
            "killed");
  // Others' batches read as missing; bad bodies are 400s that submit nothing.
  EXPECT_EQ(Call("GET", "/batches/" + std::to_string(id), admin_).status, 200);  // administrators see all
  EXPECT_EQ(Json(Call("GET", "/batches", admin_))["total"], 2);
  auto missing = Call("GET", "/batches/999", ana_);
  EXPECT_EQ(missing.status, 404);
  for (std::string bad : {R"({})", R"({"file": "scripts/none.sql"})", R"({"file": "../secret.sql"})",
                          R"({"file": "scripts/report.sql", "args": ["x"]})",
                          R"({"file": "scripts/report.sql", "className": "Main"})",
                          R"({"file": "scripts/report.sql", "colour": "red"})"}) {
    auto refused = Call("POST", "/batches", ana_, bad);
    EXPECT_EQ(refused.status, 400) << bad << " " << refused.body;
    EXPECT_TRUE(Json(refused).contains("msg")) << bad;
  }
  EXPECT_EQ(Json(Call("GET", "/batches", ana_))["total"], 2);
}

// driverMemory/driverCores (or their spark.driver.* conf keys) set the run's capacity,
// conf tarn.* its timeout and attempts, queue its application; proxyUser makes the
// submitter the owner and the other the proxyUser. The log pages as Livy's does.
TEST_F(LivyTest, ABatchsSettingsBecomeTheJobRunsAndOthersAreRefused) {
  auto root = instance_->lake().root();
  std::filesystem::create_directories(root / "scripts");
  {
    std::ofstream f(root / "scripts" / "steps.sql");
    for (int i = 0; i < 4; i++) f << "SELECT " << i << ";\n";
  }
  auto r = Call("POST", "/batches", ana_,
                R"({"file": "scripts/steps.sql", "driverMemory": "512m",
                    "conf": {"spark.driver.cores": "2", "tarn.max_attempts": "3", "tarn.timeout_minutes": "7"}})");
  ASSERT_EQ(r.status, 201) << r.body;
  int64_t id = Json(r)["id"];
  auto run = WaitFor(ana_, Json(r)["appId"], "SUCCESS");
  EXPECT_EQ(run["capacity"], json({{"memory", 512 << 20}, {"threads", 2}}));
  EXPECT_EQ(run["retry_policy"]["max_attempts"], 3);
  EXPECT_EQ(run["timeout_minutes"], 7);
  // The log pages: the last `size` lines by default, or `size` from `from`.
  std::string url = "/batches/" + std::to_string(id);
  auto all = Json(Call("GET", url + "/log?from=0&size=-1", ana_));
  int64_t total = all["total"];
  ASSERT_GT(total, 4) << all.dump();
  ASSERT_EQ(all["log"].size(), static_cast<size_t>(total));
  auto page = Json(Call("GET", url + "/log?from=1&size=2", ana_));
  EXPECT_EQ(page["from"], 1);
  EXPECT_EQ(page["total"], total);
  EXPECT_EQ(page["log"], json({all["log"][1], all["log"][2]}));
  auto tail = Json(Call("GET", url + "/log?size=1", ana_));
  EXPECT_EQ(tail["from"], total - 1);
  EXPECT_EQ(tail["log"], json({all["log"][total - 1]}));
  EXPECT_EQ(Json(Call("GET", url, ana_))["log"].back(), all["log"][total - 1]);

  // queue names the application; one ana may not submit to reads as one that does not exist.
  ASSERT_EQ(Call("POST", "/v1/applications", admin_, json{{"name", "nightly"}}.dump()).status, 201);
  auto closed = Call("POST", "/batches", ana_, R"({"file": "scripts/steps.sql", "queue": "nightly"})");
  auto none = Call("POST", "/batches", ana_, R"({"file": "scripts/steps.sql", "queue": "nowhere"})");
  EXPECT_EQ(closed.status, 400);
  auto masked = [this](const server::ClientResponse& res, const std::string& name) {
    std::string m = Json(res)["msg"];
    return m.find(name) == std::string::npos ? m : m.replace(m.find(name), name.size(), "<app>");
  };
  EXPECT_EQ(masked(closed, "nightly"), masked(none, "nowhere"));
  EXPECT_THAT(masked(none, "nowhere"), HasSubstr("field 'queue': no application '<app>'"));
  ASSERT_EQ(Sql(admin_, "GRANT SUBMIT ON APPLICATION nightly TO USER ana").status, 200);
  auto queued = Call("POST", "/batches", ana_, R"({"file": "scripts/steps.sql", "queue": "nightly"})");
  ASSERT_EQ(queued.status, 201) << queued.body;
  auto in_app = Json(Call("GET", "/v1/applications/nightly/jobruns", ana_));
  EXPECT_THAT(in_app.dump(), HasSubstr(Json(queued)["appId"].get<std::string>()));

  // proxyUser: the submitter owns the batch, the run is the other's.
  ASSERT_EQ(Call("POST", "/v1/users", admin_, R"({"name": "bea", "password": "bea-secret-12"})").status, 201);
  ASSERT_EQ(Sql(admin_, "GRANT IMPERSONATE ON USER ana TO USER bea").status, 200);
  std::string bea = Login("bea", "bea-secret-12");
  auto proxied = Call("POST", "/batches", bea, R"({"file": "scripts/steps.sql", "proxyUser": "ana"})");
  ASSERT_EQ(proxied.status, 201) << proxied.body;
  EXPECT_EQ(Json(proxied)["owner"], "bea");
  EXPECT_EQ(Json(proxied)["proxyUser"], "ana");

  // What a SQL batch cannot honour is refused, naming the field, and submits nothing.
  int64_t before = Json(Call("GET", "/batches", admin_))["total"];
  for (auto [bad, named] : std::vector<std::pair<std::string, std::string>>{
           {R"({"file": "scripts/steps.sql", "conf": {"spark.executor.instances": "4"}})",
            "spark.executor.instances"},
           {R"({"file": "scripts/steps.sql", "conf": {"tarn.max_attempts": "many"}})", "tarn.max_attempts"},
           {R"({"file": "scripts/steps.sql", "conf": {"tarn.max_attempts": "99"}})", "max_attempts"},
           {R"({"file": "scripts/steps.sql", "conf": {"spark.driver.memory": 4}})", "conf"},
           {R"({"file": "scripts/steps.sql", "driverMemory": "lots"})", "driverMemory"},
           {R"({"file": "scripts/steps.sql", "driverMemory": "1k"})", "memory"},
           {R"({"file": "scripts/steps.sql", "driverCores": 0})", "threads"},
           {R"({"file": "scripts/steps.sql", "executorMemory": "1g"})", "executorMemory"},
           {R"({"file": "scripts/steps.sql", "numExecutors": 2})", "numExecutors"},
           {R"({"file": "scripts/steps.sql", "files": ["a.txt"]})", "files"},
           {R"({"file": "scripts/steps.sql", "queue": 3})", "queue"}}) {
    auto refused = Call("POST", "/batches", ana_, bad);
    EXPECT_EQ(refused.status, 400) << bad << " " << refused.body;
    EXPECT_THAT(Json(refused)["msg"].get<std::string>(), HasSubstr(named)) << bad;
  }
  EXPECT_EQ(Json(Call("GET", "/batches", admin_))["total"], before);
}

}  // namespace
}  // namespace tarn::testing
