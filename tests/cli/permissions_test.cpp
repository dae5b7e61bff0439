// What tarn creates in a data directory is private to its user (folders 0700,
// files 0600), and `tarn init` on an existing directory says what others can open
// instead of changing it silently.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "test_util.h"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace tarn::testing {
namespace {

// Permission bits of everything under `root` (itself included) that group or
// others may use.
std::vector<std::string> OpenEntries(const fs::path& root) {
  std::vector<std::string> out;
  auto open = [](fs::perms p) {
    return (p & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none;
  };
  if (open(fs::status(root).permissions())) out.push_back(root.string());
  for (auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_symlink() && open(e.status().permissions())) out.push_back(e.path().string());
  }
  return out;
}

TEST(PermissionsTest, EverythingTarnCreatesIsPrivate) {
  TempDir tmp;
  fs::path data = tmp.path() / "lake-home";
  auto r = RunTarn({"demo-data", "-d", data.string(), "--rows", "1000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunTarn({"sql", "-d", data.string(), "SELECT count(*) FROM sales.orders"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(fs::exists(data / "metadata.sqlite"));
  EXPECT_EQ(fs::status(data / "metadata.sqlite").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(fs::status(data / "lake").permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(OpenEntries(data), std::vector<std::string>{}) << "readable by group or others";
}

TEST(PermissionsTest, InitOnAnOpenDirectorySaysSoAndChangesNothing) {
  TempDir tmp;
  fs::path data = tmp.path() / "shared";
  fs::create_directories(data);
  fs::permissions(data, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec);
  auto r = RunTarn({"init", "-d", data.string(), "--admin-password-stdin"}, "admin-password-1\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("warning: "));
  EXPECT_THAT(r.err, HasSubstr("chmod -R go-rwx"));
  // The directory it found is left as it was; what it created is private.
  EXPECT_NE(fs::status(data).permissions() & fs::perms::others_read, fs::perms::none);
  EXPECT_EQ(fs::status(data / "metadata.sqlite").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(fs::status(data / "lake").permissions() & fs::perms::all, fs::perms::owner_all);
}

TEST(PermissionsTest, InitOnAFreshDirectoryIsQuiet) {
  TempDir tmp;
  auto r =
      RunTarn({"init", "-d", (tmp.path() / "new").string(), "--admin-password-stdin"}, "admin-password-1\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("warning")));
}

}  // namespace
}  // namespace tarn::testing
