#include "common/error.h"

#include <gtest/gtest.h>

#include <set>

namespace tarn {
namespace {

const ErrorCode kAll[] = {
    ErrorCode::kInvalidArgument,   ErrorCode::kNotFound,         ErrorCode::kAlreadyExists,
    ErrorCode::kConflict,          ErrorCode::kPermissionDenied, ErrorCode::kUnsupported,
    ErrorCode::kResourceExhausted, ErrorCode::kCancelled,        ErrorCode::kIo,
    ErrorCode::kInternal};

TEST(Error, FactoriesFormatTheMessageAndKeepTheCode) {
  Error e = Error::NotFound("table {}.{} does not exist", "sales", "x");
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  EXPECT_STREQ(e.what(), "table sales.x does not exist");
}

TEST(Error, EveryCodeHasADistinctNameAndAFailingExitCode) {
  std::set<std::string_view> names;
  for (auto code : kAll) {
    EXPECT_TRUE(names.insert(ErrorCodeName(code)).second) << ErrorCodeName(code);
    EXPECT_NE(ExitCodeFor(code), 0) << ErrorCodeName(code);
  }
}

TEST(Error, UserMistakesAndMissingThingsExitDifferently) {
  EXPECT_EQ(ExitCodeFor(ErrorCode::kInvalidArgument), 2);
  EXPECT_EQ(ExitCodeFor(ErrorCode::kNotFound), 3);
  EXPECT_NE(ExitCodeFor(ErrorCode::kConflict), ExitCodeFor(ErrorCode::kInvalidArgument));
}

}  // namespace
}  // namespace tarn
