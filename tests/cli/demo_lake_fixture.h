// A CLI test suite over a demo lake (`tarn demo-data --rows 5000`), built once per
// suite: building it for each test would dominate the suite's time.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "test_util.h"

namespace tarn::testing {

class DemoLakeSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    auto r = RunTarn({"demo-data", "-d", dir_->path(), "--rows", "5000"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() { dir_.reset(); }
  static std::string D() { return dir_->path().string(); }
  static inline std::unique_ptr<TempDir> dir_;
};

}  // namespace tarn::testing
