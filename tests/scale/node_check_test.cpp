// tarn node check: what it measures, and an unhealthy node named with its reason.
#include "scale/node_check.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace tarn::scale {
namespace {

using tarn::testing::RunTarn;
using tarn::testing::TempDir;

const CheckOutcome* Find(const NodeHealth& h, const std::string& name) {
  for (auto& c : h.checks)
    if (c.name == name) return &c;
  return nullptr;
}

TEST(NodeCheck, AUsableMachineIsHealthyAndSaysWhatItMeasured) {
  TempDir dir;
  std::filesystem::create_directories(dir / "lake");
  auto h = CheckNode({dir.path(), dir / "lake", 1 << 20, 10, 1 << 20});
  EXPECT_TRUE(h.healthy()) << h.Reason();
  ASSERT_EQ(h.checks.size(), 4u);
  EXPECT_GT(Find(h, "temp")->figures["free_bytes"].get<int64_t>(), 1 << 20);
  EXPECT_GT(Find(h, "memory")->figures["available_bytes"].get<int64_t>(), 1 << 20);
  EXPECT_NE(Find(h, "engine")->detail.find("Parquet round trip of 100000 rows"), std::string::npos);
  EXPECT_EQ(h.Reason(), "");
  // The engine test leaves nothing behind.
  EXPECT_TRUE(std::filesystem::is_empty(dir.path() / "lake"));
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path())) files += e.path().filename() != "lake";
  EXPECT_EQ(files, 0);
}

TEST(NodeCheck, ATempFolderThatIsNotADirectoryFailsAndSkipsTheEngineTest) {
  TempDir dir;
  tarn::testing::WriteFile(dir / "tmp", "not a folder");
  auto h = CheckNode({dir / "tmp", std::nullopt, 1, 1, 1});
  EXPECT_FALSE(h.healthy());
  EXPECT_EQ(h.Reason(), (dir / "tmp").string() + " is not a directory");
  EXPECT_EQ(Find(h, "engine"), nullptr);
}

TEST(NodeCheck, TooLittleSpaceOrMemoryIsNamedWithTheFigures) {
  TempDir dir;
  int64_t huge = int64_t{1} << 60;
  auto h = CheckNode({dir.path(), std::nullopt, huge, 1, huge});
  EXPECT_FALSE(h.healthy());
  EXPECT_FALSE(Find(h, "temp")->ok);
  EXPECT_FALSE(Find(h, "memory")->ok);
  EXPECT_NE(h.Reason().find("free (needs 1048576.0 TiB)"), std::string::npos) << h.Reason();
  EXPECT_NE(h.Reason().find("memory: "), std::string::npos) << h.Reason();
  EXPECT_NE(h.Reason().find("; "), std::string::npos);
}

TEST(NodeCheck, AMissingLakeIsUnhealthy) {
  TempDir dir;
  auto h = CheckNode({dir.path(), dir / "no-lake", 1, 1, 1});
  EXPECT_FALSE(h.healthy());
  EXPECT_EQ(h.Reason(), "lake " + (dir / "no-lake").string() + " is not a reachable directory");
}

TEST(NodeCheckCommand, ExitsZeroWhenHealthyAndOneWhenNotWithJson) {
  TempDir dir;
  auto ok =
      RunTarn({"node", "check", "--temp-dir", dir.path().string(), "--min-free-space", "1MiB", "--json"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  auto j = nlohmann::json::parse(ok.out);
  EXPECT_TRUE(j["healthy"].get<bool>());
  EXPECT_EQ(j["checks"].size(), 3u);
  auto bad = RunTarn({"node", "check", "--temp-dir", dir.path().string(), "--lake", (dir / "gone").string()});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("FAIL  lake: lake "), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("unhealthy"), std::string::npos);
}

TEST(NodeCheckCommand, BadOptionsAreRefusedWithWhatToGive) {
  auto size = RunTarn({"node", "check", "--min-free-space", "lots"});
  EXPECT_EQ(size.exit_code, 2);
  EXPECT_NE(size.err.find("--min-free-space takes a size such as 512MiB or 2GB, not 'lots'"),
            std::string::npos)
      << size.err;
  auto drain = RunTarn({"node", "check", "--drain"}, "", {{"SLURMD_NODENAME", ""}});
  EXPECT_EQ(drain.exit_code, 2);
  EXPECT_NE(drain.err.find("--drain needs the node's Slurm name"), std::string::npos) << drain.err;
}

// `tarn node serve`: a scratch root that is not an absolute path, an address that is
// not HOST:PORT, and a missing --scratch are refused before anything listens.
TEST(NodeServeCommand, BadOptionsAreRefusedWithWhatToGive) {
  auto relative = RunTarn({"node", "serve", "--scratch", "local/tarn"});
  EXPECT_EQ(relative.exit_code, 2);
  EXPECT_NE(relative.err.find("the node scratch 'local/tarn' is not an absolute path"), std::string::npos)
      << relative.err;
  auto listen = RunTarn({"node", "serve", "--scratch", "/tmp/tarn-node-x", "--listen", "8996"});
  EXPECT_EQ(listen.exit_code, 2);
  EXPECT_NE(listen.err.find("expected HOST:PORT"), std::string::npos) << listen.err;
  auto port = RunTarn({"node", "serve", "--scratch", "/tmp/tarn-node-x", "--listen", "0.0.0.0:99999"});
  EXPECT_EQ(port.exit_code, 2);
  EXPECT_NE(port.err.find("the port must be 0-65535"), std::string::npos) << port.err;
  auto missing = RunTarn({"node", "serve"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("--scratch"), std::string::npos) << missing.err;
  EXPECT_FALSE(std::filesystem::exists("/tmp/tarn-node-x"));
}

}  // namespace
}  // namespace tarn::scale
