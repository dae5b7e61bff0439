// Schedules over real HTTP, on an injected clock: fire times in a time zone, runs
// submitted as the schedule's creator, overlap skip and queue, missed fires after
// downtime (one fire, then from now), a revoke honoured at fire time, bad input.
#include <gmock/gmock.h>

#include <atomic>
#include <ctime>
#include <future>

#include "jobs_fixture.h"

namespace tarn::testing {
namespace {

using ::testing::HasSubstr;

// Milliseconds of a UTC time "YYYY-MM-DDTHH:MM:SSZ".
int64_t At(const std::string& iso) {
  std::tm tm{};
  strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

class JobSchedulesTest : public JobsFixture {
 protected:
  void Configure(server::ServerConfig& config) override {
    config.job_clock = [this] { return now_.load(); };
    config.job_schedule_poll_ms = 20;
  }
  server::ClientResponse Create(const std::string& token, json body, const std::string& app = "default") {
    return Call("POST", "/v1/applications/" + app + "/schedules", token, body.dump());
  }
  static json Body(const std::string& cron, const std::string& script, json extra = json::object()) {
    json b = {{"cron", cron}, {"job", {{"type", "sql"}, {"script", script}}}};
    for (auto& [k, val] : extra.items()) b[k] = val;
    return b;
  }
  json Schedule(const std::string& token, const std::string& id) {
    return Json(Call("GET", "/v1/applications/default/schedules/" + id, token));
  }
  // Sets the clock and waits until the scheduler has fired what is due (the
  // schedule's next fire is after now).
  json Advance(const std::string& token, const std::string& id, const std::string& iso) {
    now_ = At(iso);
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    json s;
    while (std::chrono::steady_clock::now() < until) {
      s = Schedule(token, id);
      if (s["next_fire_at"].is_null() || s["next_fire_at"].get<std::string>() > iso) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "schedule " << id << " did not fire at " << iso << ": " << s.dump();
    return s;
  }
  std::vector<json> RunsOf(const std::string& token, const std::string& schedule) {
    std::vector<json> out;
    auto list = Json(Call("GET", "/v1/applications/default/jobruns", token));
    for (auto& r : list["job_runs"]) {
      if (r["schedule_id"] == schedule) out.push_back(r);
    }
    return out;
  }

  std::atomic<int64_t> now_{At("2026-12-04T10:02:00Z")};
};

TEST_F(JobSchedulesTest, FiresOnItsCronInItsTimeZoneAsItsCreator) {
  auto r = Create(ana_, Body("0 9 * * MON-FRI", "SELECT 42 AS answer",
                             {{"timezone", "Europe/Paris"}, {"name", "morning"}}));
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = Json(r)["schedule_id"];
  // Friday 2026-12-04 10:02 UTC is 11:02 in Paris: the next 09:00 there is Monday's, 08:00 UTC.
  EXPECT_EQ(Json(r)["next_fire_at"], "2026-12-07T08:00:00.000Z");
  EXPECT_TRUE(RunsOf(ana_, id).empty());
  auto s = Advance(ana_, id, "2026-12-07T08:00:00Z");
  EXPECT_EQ(s["next_fire_at"], "2026-12-08T08:00:00.000Z");
  auto runs = RunsOf(ana_, id);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0]["created_by"], "ana");
  EXPECT_EQ(s["last_job_run_id"], runs[0]["job_run_id"]);
  auto done = WaitFor(ana_, runs[0]["job_run_id"], "SUCCESS");
  EXPECT_EQ(done["result"]["rows"], 1);
  // Others do not see it; deleting it stops it.
  ASSERT_EQ(
      Call("POST", "/v1/users", admin_, json{{"name", "eve"}, {"password", "eve-secret-123"}}.dump()).status,
      201);
  auto eve = Login("eve", "eve-secret-123");
  EXPECT_EQ(Call("GET", "/v1/applications/default/schedules/" + id, eve).status, 404);
  EXPECT_TRUE(Json(Call("GET", "/v1/applications/default/schedules", eve))["schedules"].empty());
  EXPECT_EQ(Json(Call("GET", "/v1/applications/default/schedules", admin_))["schedules"].size(), 1u);
  ASSERT_EQ(Call("DELETE", "/v1/applications/default/schedules/" + id, ana_).status, 200);
  EXPECT_EQ(Call("GET", "/v1/applications/default/schedules/" + id, ana_).status, 404);
}

TEST_F(JobSchedulesTest, OverlapSkipLetsAFirePassWhileTheLastRunRunsAndQueueDoesNot) {
  auto skip = Json(Create(ana_, Body("*/5 * * * *", kLong)))["schedule_id"].get<std::string>();
  auto queue = Json(Create(ana_, Body("*/5 * * * *", kLong, {{"overlap", "queue"}})))["schedule_id"]
                   .get<std::string>();
  Advance(ana_, skip, "2026-12-04T10:05:00Z");
  Advance(ana_, queue, "2026-12-04T10:05:00Z");
  ASSERT_EQ(RunsOf(ana_, skip).size(), 1u);
  ASSERT_EQ(RunsOf(ana_, queue).size(), 1u);
  WaitFor(ana_, RunsOf(ana_, skip)[0]["job_run_id"], "RUNNING");
  Advance(ana_, skip, "2026-12-04T10:10:00Z");
  Advance(ana_, queue, "2026-12-04T10:10:00Z");
  EXPECT_EQ(RunsOf(ana_, skip).size(), 1u);  // skipped: its run still runs
  EXPECT_EQ(Schedule(ana_, skip)["last_fire_at"], "2026-12-04T10:10:00.000Z");
  EXPECT_EQ(RunsOf(ana_, queue).size(), 2u);
  for (auto& id : {skip, queue}) {
    for (auto& run : RunsOf(ana_, id))
      Call("DELETE", "/v1/applications/default/jobruns/" + run["job_run_id"].get<std::string>(), ana_);
  }
}

TEST_F(JobSchedulesTest, AfterDowntimeMissedFiresFireOnceAndARevokeIsHonoured) {
  auto app = Call("POST", "/v1/applications", admin_, json{{"name", "reports"}}.dump());
  std::string a = Json(app)["id"];
  ASSERT_EQ(Sql(admin_, "GRANT SUBMIT ON APPLICATION reports TO USER ana").status, 200);
  auto events = std::async(std::launch::async,
                           [&] { return Call("GET", "/v1/events?max_seconds=3&types=schedule", ana_); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // subscribed before the fires
  auto created = Create(ana_, Body("*/5 * * * *", "SELECT 1"), a);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = Json(created)["schedule_id"];
  auto get = [&] { return Json(Call("GET", "/v1/applications/" + a + "/schedules/" + id, ana_)); };
  // Down from 10:02 to 11:07: thirteen fire times passed (10:05 ... 11:05); it fires
  // once, for 10:05, and lets the twelve others pass.
  now_ = At("2026-12-04T11:07:00Z");
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (get()["last_fire_at"].is_null() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto s = get();
  EXPECT_EQ(s["last_fire_at"], "2026-12-04T11:07:00.000Z");
  EXPECT_EQ(s["next_fire_at"], "2026-12-04T11:10:00.000Z");
  auto runs = Json(Call("GET", "/v1/applications/" + a + "/jobruns", ana_))["job_runs"];
  EXPECT_EQ(runs.size(), 1u);
  // SUBMIT revoked: the next fire submits nothing.
  ASSERT_EQ(Sql(admin_, "REVOKE SUBMIT ON APPLICATION reports FROM USER ana").status, 200);
  now_ = At("2026-12-04T11:10:00Z");
  until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Json(Call("GET", "/v1/applications/" + a + "/schedules/" + id, admin_))["last_fire_at"] !=
             "2026-12-04T11:10:00.000Z" &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(Json(Call("GET", "/v1/applications/" + a + "/jobruns", admin_))["job_runs"].size(), 1u);
  auto body = events.get().body;
  EXPECT_THAT(body, HasSubstr("\"missed\":12"));
  EXPECT_THAT(body, HasSubstr("\"outcome\":\"submitted\""));
  EXPECT_THAT(body, HasSubstr("refused: its creator may no longer submit to the application"));
}

TEST_F(JobSchedulesTest, BadSchedulesAre400NamingTheFieldAndCreateNothing) {
  auto bad = [&](json body, const std::string& says) {
    auto r = Create(ana_, body);
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    EXPECT_THAT(r.body, HasSubstr(says)) << body;
  };
  bad(Body("61 * * * *", "SELECT 1"), "field 'cron'");
  bad(Body("* * * *", "SELECT 1"), "field 'cron'");
  bad(Body("0 9 * * *", "SELECT 1", {{"timezone", "Mars/Olympus"}}), "field 'timezone'");
  bad(Body("0 9 * * *", "SELECT 1", {{"overlap", "maybe"}}), "field 'overlap'");
  bad(Body("0 9 * * *", "SELECT 1", {{"colour", "red"}}), "unknown field 'colour'");
  bad(Body("0 9 * * *", "SELECT 1", {{"client_token", "a"}}), "client_token");
  bad({{"job", {{"type", "sql"}, {"script", "SELECT 1"}}}}, "field 'cron' is required");
  // A role ana may not assume (or that does not exist) is refused alike.
  EXPECT_EQ(Create(ana_, Body("0 9 * * *", "SELECT 1", {{"execution_role", "nobody"}})).status, 403);
  EXPECT_TRUE(Json(Call("GET", "/v1/applications/default/schedules", admin_))["schedules"].empty());
}

}  // namespace
}  // namespace tarn::testing
