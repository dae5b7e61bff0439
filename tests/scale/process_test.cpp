// RunProgram: argument vectors, exit codes, output and timeouts.
#include "scale/process.h"
#include "scale/slurm.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace tarn::scale {
namespace {

using tarn::testing::CatchError;

TEST(RunProgram, PassesArgumentsUnchangedWithoutAShell) {
  auto r = RunProgram({"printf", "%s|", "a b", "$(id)", "'q'"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "a b|$(id)|'q'|");
}

TEST(RunProgram, ReportsExitCodesAndStandardError) {
  auto r = RunProgram({"sh", "-c", "echo oops >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "oops\n");
  auto e = CatchError([] { RunProgramChecked({"sh", "-c", "echo first >&2; echo second >&2; exit 4"}); });
  EXPECT_EQ(e.code(), ErrorCode::kIo);
  EXPECT_STREQ(e.what(), "sh failed (exit 4): first");
}

TEST(RunProgram, KillsAProgramPastItsTimeout) {
  auto started = std::chrono::steady_clock::now();
  auto e = CatchError([] { RunProgram({"sleep", "30"}, std::chrono::milliseconds(200)); });
  EXPECT_EQ(e.code(), ErrorCode::kIo);
  EXPECT_STREQ(e.what(), "sleep did not finish within 200 ms");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST(RunProgram, AMissingProgramIsAnIoError) {
  auto e = CatchError([] { RunProgram({"/nonexistent/tarn-program"}); });
  EXPECT_EQ(e.code(), ErrorCode::kIo);
  EXPECT_NE(std::string(e.what()).find("cannot run /nonexistent/tarn-program"), std::string::npos);
}

TEST(ShellQuote, KeepsEveryCharacterInOneWord) {
  auto r = RunProgram({"sh", "-c", "printf %s " + ShellQuote("it's $(x) `y` \"z\"")});
  EXPECT_EQ(r.out, "it's $(x) `y` \"z\"");
}

}  // namespace
}  // namespace tarn::scale
