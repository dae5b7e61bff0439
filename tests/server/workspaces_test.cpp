// The studio's workspaces over real HTTP (src/server/workspaces.h): revisions with
// optimistic concurrency, sharing that never shows a workspace to anyone else until
// shared and never lets a reader write, bad input refused with nothing written; and
// the built front end's files served from an allow-list.
#include <gmock/gmock.h>

#include <filesystem>
#include <fstream>

#include "server/static_assets.h"
#include "server_fixture.h"

namespace tarn::testing {
namespace {

using ::testing::HasSubstr;

class WorkspacesTest : public ServerTest {
 protected:
  void Configure(server::ServerConfig& config) override {
    namespace fs = std::filesystem;
    fs::path studio = fs::path(dir_.path()) / "studio";
    fs::create_directories(studio / "assets");
    std::ofstream(studio / "index.html") << "<!DOCTYPE html><html><head><title>t</title></head></html>";
    std::ofstream(studio / "assets" / "app-abc123.js") << "console.log('studio');";
    std::ofstream(studio / "assets" / "notes.txt") << "not served";
    std::ofstream(fs::path(dir_.path()) / "secret.js") << "outside";
    config.studio_assets = studio;
  }
  void SetUp() override {
    ServerTest::SetUp();
    auto admin = cli::LocalAdmin(options_);
    admin->AddUser("bob", "bob-secret-123", identity::UserKind::kPerson, {});
    ana_ = Login("ana", kAnaPassword);
    bob_ = Login("bob", "bob-secret-123");
  }
  server::ClientResponse Send(const std::string& method, const std::string& path, const std::string& token,
                              const nlohmann::json& body = nullptr) {
    return Call(method, path, token, body.is_null() ? "" : body.dump());
  }
  std::string Create(const std::string& token, nlohmann::json cells) {
    auto r = Send("POST", "/v1/workspaces", token, {{"name", "EU revenue"}, {"cells", cells}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? Json(r)["id"].get<std::string>() : "";
  }
  std::string ana_, bob_;
};

const nlohmann::json kCells = nlohmann::json::parse(R"([
  {"kind": "markdown", "source": "# Revenue"},
  {"kind": "sql", "source": "SELECT 1 AS x", "chart": {"type": "bar", "x": "x", "y": ["x"], "bins": 20}}
])");

TEST_F(WorkspacesTest, EverySaveIsARevisionAndAStaleSaveIsRefusedWithNothingWritten) {
  std::string id = Create(ana_, kCells);
  auto got = Json(Send("GET", "/v1/workspaces/" + id, ana_));
  EXPECT_EQ(got["revision"], 1);
  EXPECT_EQ(got["access"], "owner");
  EXPECT_EQ(got["cells"], kCells);

  nlohmann::json changed = {{"kind", "sql"}, {"source", "SELECT 2 AS y"}};
  auto saved = Send("PUT", "/v1/workspaces/" + id, ana_,
                    {{"name", "EU revenue v2"}, {"cells", {changed}}, {"base_revision", 1}});
  ASSERT_EQ(saved.status, 200) << saved.body;
  EXPECT_EQ(Json(saved)["revision"], 2);

  auto stale = Send("PUT", "/v1/workspaces/" + id, ana_,
                    {{"name", "lost"}, {"cells", nlohmann::json::array()}, {"base_revision", 1}});
  EXPECT_EQ(stale.status, 409) << stale.body;
  EXPECT_THAT(stale.body, HasSubstr("revision 2 now"));
  auto now = Json(Send("GET", "/v1/workspaces/" + id, ana_));
  EXPECT_EQ(now["revision"], 2);
  EXPECT_EQ(now["name"], "EU revenue v2");
  EXPECT_EQ(now["cells"], nlohmann::json::array({changed}));

  auto revisions = Json(Send("GET", "/v1/workspaces/" + id + "/revisions", ana_))["revisions"];
  ASSERT_EQ(revisions.size(), 2u);
  EXPECT_EQ(revisions[0]["revision"], 2);
  EXPECT_EQ(revisions[1]["author"], "ana");
  auto first = Json(Send("GET", "/v1/workspaces/" + id + "/revisions/1", ana_));
  EXPECT_EQ(first["cells"], kCells);
  EXPECT_EQ(first["name"], "EU revenue");
  EXPECT_EQ(Send("GET", "/v1/workspaces/" + id + "/revisions/9", ana_).status, 404);
  EXPECT_EQ(Send("GET", "/v1/workspaces/" + id + "/revisions/x1", ana_).status, 400);
}

TEST_F(WorkspacesTest, AWorkspaceIsInvisibleUntilSharedAndAReaderCannotWrite) {
  std::string id = Create(ana_, kCells);
  // To bob it reads exactly as a workspace that does not exist.
  auto hidden = Send("GET", "/v1/workspaces/" + id, bob_);
  auto missing = Send("GET", "/v1/workspaces/ws-0000000000000000", bob_);
  EXPECT_EQ(hidden.status, 404);
  EXPECT_EQ(missing.status, 404);
  std::string a = Json(hidden)["error"]["message"], b = Json(missing)["error"]["message"];
  EXPECT_EQ(a.replace(a.find(id), id.size(), "ID"), b.replace(b.find("ws-0000000000000000"), 19, "ID"));
  for (auto [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"PUT", "/v1/workspaces/" + id},
                                                        {"DELETE", "/v1/workspaces/" + id},
                                                        {"GET", "/v1/workspaces/" + id + "/revisions"},
                                                        {"PUT", "/v1/workspaces/" + id + "/shares"}}) {
    nlohmann::json body = {{"name", "x"},
                           {"cells", nlohmann::json::array()},
                           {"base_revision", 1},
                           {"shares", nlohmann::json::array()}};
    EXPECT_EQ(Send(method, path, bob_, body).status, 404) << method << " " << path;
  }
  EXPECT_TRUE(Json(Send("GET", "/v1/workspaces", bob_))["workspaces"].empty());

  auto shared = Send("PUT", "/v1/workspaces/" + id + "/shares", ana_,
                     {{"shares", {{{"kind", "user"}, {"name", "bob"}, {"access", "read"}}}}});
  ASSERT_EQ(shared.status, 200) << shared.body;
  auto list = Json(Send("GET", "/v1/workspaces", bob_))["workspaces"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["access"], "read");
  auto as_reader = Json(Send("GET", "/v1/workspaces/" + id, bob_));
  EXPECT_EQ(as_reader["cells"], kCells);
  EXPECT_FALSE(as_reader.contains("shares"));  // only the owner sees who else has it
  auto write = Send("PUT", "/v1/workspaces/" + id, bob_,
                    {{"name", "bob's"}, {"cells", nlohmann::json::array()}, {"base_revision", 1}});
  EXPECT_EQ(write.status, 403) << write.body;
  EXPECT_EQ(
      Send("PUT", "/v1/workspaces/" + id + "/shares", bob_, {{"shares", nlohmann::json::array()}}).status,
      403);
  EXPECT_EQ(Send("DELETE", "/v1/workspaces/" + id, bob_).status, 403);
  EXPECT_EQ(Json(Send("GET", "/v1/workspaces/" + id, ana_))["revision"], 1);

  // An edit share to a group lets its members save; dropping every share hides it again.
  Send("PUT", "/v1/workspaces/" + id + "/shares", ana_,
       {{"shares", {{{"kind", "group"}, {"name", "analysts"}, {"access", "edit"}}}}});
  EXPECT_EQ(Send("GET", "/v1/workspaces/" + id, bob_).status, 404);
  std::string other = Create(bob_, nlohmann::json::array());
  EXPECT_EQ(Send("GET", "/v1/workspaces/" + other, ana_).status, 404);
  Send("PUT", "/v1/workspaces/" + other + "/shares", bob_,
       {{"shares", {{{"kind", "group"}, {"name", "analysts"}, {"access", "edit"}}}}});
  auto saved = Send("PUT", "/v1/workspaces/" + other, ana_,
                    {{"name", "ana edits"}, {"cells", kCells}, {"base_revision", 1}});
  EXPECT_EQ(saved.status, 200) << saved.body;
  EXPECT_EQ(Json(Send("GET", "/v1/workspaces/" + other + "/revisions", bob_))["revisions"][0]["author"],
            "ana");

  EXPECT_EQ(Send("DELETE", "/v1/workspaces/" + id, ana_).status, 200);
  EXPECT_EQ(Send("GET", "/v1/workspaces/" + id, ana_).status, 404);
  EXPECT_EQ(Send("GET", "/v1/workspaces/" + id + "/revisions/1", ana_).status, 404);
}

TEST_F(WorkspacesTest, BadInputIsRefusedNamingTheFieldAndWritesNothing) {
  std::string id = Create(ana_, kCells);
  auto many = nlohmann::json::array();
  for (int i = 0; i < 501; ++i) many.push_back({{"kind", "sql"}, {"source", ""}});
  std::vector<std::pair<nlohmann::json, std::string>> bad = {
      {{{"name", "x"}, {"cells", "SELECT 1"}, {"base_revision", 1}}, "cells: expected an array"},
      {{{"name", "x"}, {"cells", {{{"kind", "python"}}}}, {"base_revision", 1}}, "cells[0].kind"},
      {{{"name", "x"}, {"cells", {{{"kind", "sql"}, {"html", "<b>"}}}}, {"base_revision", 1}},
       "unknown field 'html'"},
      {{{"name", "x"},
        {"cells", {{{"kind", "markdown"}, {"chart", {{"type", "bar"}}}}}},
        {"base_revision", 1}},
       "only SQL cells have charts"},
      {{{"name", "x"}, {"cells", {{{"kind", "sql"}, {"chart", {{"type", "pie"}}}}}}, {"base_revision", 1}},
       "cells[0].chart.type"},
      {{{"name", "x"},
        {"cells", {{{"kind", "sql"}, {"source", std::string(300 * 1024, 'x')}}}},
        {"base_revision", 1}},
       "cells[0].source: longer than"},
      {{{"name", "x"}, {"cells", many}, {"base_revision", 1}}, "at most 500 cells"},
      {{{"name", ""}, {"cells", nlohmann::json::array()}, {"base_revision", 1}}, "name: must not be empty"},
      {{{"name", "a\nb"}, {"cells", nlohmann::json::array()}, {"base_revision", 1}}, "control characters"},
      {{{"name", "x"}, {"cells", nlohmann::json::array()}}, "base_revision"},
  };
  for (const auto& [body, why] : bad) {
    auto r = Send("PUT", "/v1/workspaces/" + id, ana_, body);
    EXPECT_EQ(r.status, 400) << why << ": " << r.body;
    EXPECT_THAT(r.body, HasSubstr(why));
  }
  EXPECT_EQ(Call("PUT", "/v1/workspaces/" + id, ana_, "[1,2]").status, 400);
  auto share = Send("PUT", "/v1/workspaces/" + id + "/shares", ana_,
                    {{"shares", {{{"kind", "role"}, {"name", "r"}}}}});
  EXPECT_EQ(share.status, 400);
  EXPECT_THAT(share.body, HasSubstr("shares[0].kind"));
  auto twice = Send("PUT", "/v1/workspaces/" + id + "/shares", ana_,
                    {{"shares", {{{"kind", "user"}, {"name", "bob"}}, {{"kind", "user"}, {"name", "bob"}}}}});
  EXPECT_EQ(twice.status, 400);
  EXPECT_EQ(Send("POST", "/v1/workspaces", ana_, {{"name", "y"}, {"cells", {{{"kind", "r"}}}}}).status, 400);

  auto now = Json(Send("GET", "/v1/workspaces/" + id, ana_));
  EXPECT_EQ(now["revision"], 1);
  EXPECT_EQ(now["cells"], kCells);
  EXPECT_TRUE(now["shares"].empty());
  EXPECT_EQ(Json(Send("GET", "/v1/workspaces", ana_))["workspaces"].size(), 1u);
  EXPECT_EQ(Send("GET", "/v1/workspaces", "").status, 401);
}

TEST_F(WorkspacesTest, TheStudioServesOnlyTheFilesOfItsBuild) {
  auto page = Call("GET", "/studio/");
  EXPECT_EQ(page.status, 302);  // no session: to the sign-in
  EXPECT_EQ(page.headers["location"], "/studio/login");
  auto js = Call("GET", "/studio/assets/app-abc123.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "console.log('studio');");
  EXPECT_THAT(js.headers["content-type"], HasSubstr("text/javascript"));
  EXPECT_THAT(js.headers["cache-control"], HasSubstr("immutable"));
  EXPECT_EQ(js.headers["x-content-type-options"], "nosniff");
  for (std::string path :
       {"/studio/assets/notes.txt", "/studio/assets/..%2F..%2Fsecret.js", "/studio/assets/%2e%2e%2fsecret.js",
        "/studio/assets/app-ABC123.js", "/studio/index.html"})
    EXPECT_EQ(Call("GET", path).status, 404) << path;
}

TEST(StaticAssetsTest, AFolderWithoutAnIndexIsEmptyAndUnknownExtensionsAreLeftOut) {
  TempDir dir;
  namespace fs = std::filesystem;
  EXPECT_TRUE(server::StaticAssets::Load(fs::path(dir.path()) / "nowhere").empty());
  fs::create_directories(fs::path(dir.path()) / "assets");
  std::ofstream(fs::path(dir.path()) / "index.html") << "<html></html>";
  std::ofstream(fs::path(dir.path()) / "assets" / "a.css") << "body{}";
  std::ofstream(fs::path(dir.path()) / "assets" / "a.map") << "{}";
  auto assets = server::StaticAssets::Load(dir.path());
  EXPECT_FALSE(assets.empty());
  ASSERT_NE(assets.Find("a.css"), nullptr);
  EXPECT_EQ(assets.Find("a.css")->content_type, "text/css; charset=utf-8");
  EXPECT_EQ(assets.Find("a.map"), nullptr);
  EXPECT_EQ(assets.Find("../index.html"), nullptr);
}

}  // namespace
}  // namespace tarn::testing
