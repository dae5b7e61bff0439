#include "common/util.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace tarn
