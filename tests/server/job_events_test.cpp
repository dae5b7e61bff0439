// GET /v1/events over real HTTP: Server-Sent Events of run and application state
// changes, filtered to what the caller may see, replayed from Last-Event-ID.
#include <gmock/gmock.h>

#include <future>
#include <sstream>

#include "jobs_fixture.h"

namespace tarn::testing {
namespace {

using ::testing::HasSubstr;

struct SseEvent {
  int64_t id = 0;
  std::string type;
  json data;
};

// The events of an SSE body (comments and retry lines skipped).
std::vector<SseEvent> ParseSse(const std::string& body) {
  std::vector<SseEvent> out;
  std::istringstream in(body);
  SseEvent e;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) {
      if (!e.type.empty()) out.push_back(e);
      e = {};
    } else if (line.rfind("id: ", 0) == 0) {
      e.id = std::stoll(line.substr(4));
    } else if (line.rfind("event: ", 0) == 0) {
      e.type = line.substr(7);
    } else if (line.rfind("data: ", 0) == 0) {
      e.data = json::parse(line.substr(6));
    }
  }
  return out;
}

class JobEventsTest : public JobsFixture {
 protected:
  // Opens a stream for `seconds` on another thread; its body arrives when it ends.
  std::future<server::ClientResponse> Listen(const std::string& token, const std::string& query) {
    auto f = std::async(std::launch::async,
                        [this, token, query] { return Call("GET", "/v1/events?" + query, token); });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // subscribed before anything happens
    return f;
  }
  // The states the events give for run `id`, in order.
  static std::vector<std::string> States(const std::vector<SseEvent>& events, const std::string& id) {
    std::vector<std::string> out;
    for (auto& e : events) {
      if (e.type == "job_run" && e.data["job_run_id"] == id) out.push_back(e.data["state"]);
    }
    return out;
  }
};

TEST_F(JobEventsTest, RunStateChangesStreamToTheirSubmitterAndManagersOnly) {
  auto ana_stream = Listen(ana_, "max_seconds=3");
  auto admin_stream = Listen(admin_, "max_seconds=3");
  ASSERT_EQ(
      Call("POST", "/v1/users", admin_, json{{"name", "eve"}, {"password", "eve-secret-123"}}.dump()).status,
      201);
  auto eve = Login("eve", "eve-secret-123");
  auto eve_stream = Listen(eve, "max_seconds=2");
  auto mine = SubmitOk(ana_, "SELECT 1");
  auto admins = SubmitOk(admin_, "SELECT 2");
  WaitFor(ana_, mine, "SUCCESS");
  WaitFor(admin_, admins, "SUCCESS");
  auto r = ana_stream.get();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.headers["content-type"], HasSubstr("text/event-stream"));
  EXPECT_EQ(r.headers["connection"], "close");  // the stream ends with the connection
  EXPECT_THAT(r.body, HasSubstr("retry: 1000"));
  auto seen = ParseSse(r.body);
  EXPECT_EQ(States(seen, mine), (std::vector<std::string>{"QUEUED", "RUNNING", "SUCCESS"}));
  EXPECT_TRUE(States(seen, admins).empty());  // not hers
  for (size_t i = 1; i < seen.size(); i++) EXPECT_GT(seen[i].id, seen[i - 1].id);
  auto all = ParseSse(admin_stream.get().body);
  EXPECT_EQ(States(all, mine).size(), 3u);
  EXPECT_EQ(States(all, admins).size(), 3u);
  EXPECT_TRUE(ParseSse(eve_stream.get().body).empty());
}

TEST_F(JobEventsTest, ApplicationChangesAndAReplayFromLastEventId) {
  auto stream = Listen(admin_, "max_seconds=2&types=application");
  auto app = Call("POST", "/v1/applications", admin_, json{{"name", "evented"}}.dump());
  ASSERT_EQ(app.status, 201);
  std::string a = Json(app)["id"];
  ASSERT_EQ(Call("POST", "/v1/applications/" + a + "/stop", admin_).status, 200);
  auto events = ParseSse(stream.get().body);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data["action"], "created");
  EXPECT_EQ(events[1].data["state"], "STOPPED");
  // ana may not see the application: its events are not hers.
  auto hers = Call("GET", "/v1/events?after=0&max_seconds=1&types=application", ana_);
  EXPECT_TRUE(ParseSse(hers.body).empty()) << hers.body;
  // Reconnecting with the last id seen replays only what came after it.
  auto replay = Call("GET", "/v1/events?max_seconds=1&types=application", admin_, "",
                     {{"Last-Event-ID", std::to_string(events[0].id)}});
  auto again = ParseSse(replay.body);
  ASSERT_EQ(again.size(), 1u) << replay.body;
  EXPECT_EQ(again[0].id, events[1].id);
  // Bad parameters are 400.
  EXPECT_EQ(Call("GET", "/v1/events?types=everything", admin_).status, 400);
  EXPECT_EQ(Call("GET", "/v1/events", admin_, "", {{"Last-Event-ID", "x1"}}).status, 400);
  EXPECT_EQ(Call("GET", "/v1/events").status, 401);
}

}  // namespace
}  // namespace tarn::testing
