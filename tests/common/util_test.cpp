#include "common/util.h"

#include "common/error.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <regex>
#include <set>

namespace tarn {
namespace {

TEST(RandomHex, HasTwoHexDigitsPerByte) {
  EXPECT_TRUE(std::regex_match(RandomHex(), std::regex("[0-9a-f]{32}")));
  EXPECT_TRUE(std::regex_match(RandomHex(4), std::regex("[0-9a-f]{8}")));
}

TEST(RandomHex, DiffersBetweenCalls) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; i++) ids.insert(RandomHex());
  EXPECT_EQ(ids.size(), 100u);
}

TEST(NowUtc, IsIso8601InUtc) {
  EXPECT_TRUE(std::regex_match(NowUtc(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"))) << NowUtc();
}

TEST(WriteFileAtomic, ReplacesContentWithTheGivenMode) {
  testing::TempDir dir;
  auto file = dir / "secret.json";
  WriteFileAtomic(file, "first", 0644);
  WriteFileAtomic(file, "second", 0600);
  EXPECT_EQ(ReadTextFile(file), "second");
  struct stat st {};
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(dir / "secret.json.tmp"));
}

TEST(WriteFileAtomic, UnwritablePlaceIsAnIoError) {
  EXPECT_EQ(testing::CatchError([] { WriteFileAtomic("/nonexistent-dir/x", "x", 0600); }).code(),
            ErrorCode::kIo);
}

TEST(ReadTextFile, MissingFileIsAnIoErrorNamingIt) {
  auto e = testing::CatchError([] { ReadTextFile("/nonexistent-dir/x.json"); });
  EXPECT_EQ(e.code(), ErrorCode::kIo);
  EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.json"), std::string::npos);
}

}  // namespace
}  // namespace tarn
