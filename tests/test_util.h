// Helpers shared by Tarn's tests: temporary directories, running the tarn binary,
// and the metadata stores (SQLite file, or a fresh database on the test PostgreSQL
// server named by $TARN_TEST_PG_URL, which scripts/test starts).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.h"

namespace tarn::testing {

// Runs `fn` and returns the tarn::Error it throws; fails the test if it throws nothing.
template <typename Fn>
Error CatchError(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected a tarn::Error";
  return Error(ErrorCode::kInternal, "<no error thrown>");
}

// A directory that exists for the object's lifetime.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& p) const { return path_ / p; }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out, err;
};

// Runs build/tarn with `args`, feeding `input` on stdin; extra environment in `env`.
CommandResult RunTarn(const std::vector<std::string>& args, const std::string& input = "",
                      const std::map<std::string, std::string>& env = {});

// Runs `program` (a path) with `args` the same way.
CommandResult RunProgram(const std::string& program, const std::vector<std::string>& args,
                         const std::string& input = "", const std::map<std::string, std::string>& env = {});

// Starts build/tarn without waiting; returns its pid (stdout/stderr to /dev/null).
int SpawnTarn(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {});

// A metadata store location for one test: "sqlite" gives a file in `dir`;
// "postgresql" creates a fresh database on the test server (dropped by the
// returned guard). Returns "" for postgresql when no server is configured.
class TestMetastore {
 public:
  TestMetastore(const std::string& backend, const std::filesystem::path& dir);
  ~TestMetastore();
  TestMetastore(const TestMetastore&) = delete;
  TestMetastore& operator=(const TestMetastore&) = delete;
  const std::string& location() const { return location_; }
  bool available() const { return !location_.empty(); }

 private:
  std::string admin_url_, database_, location_;
};

// True when tests must not skip for want of PostgreSQL (CI, or scripts/test).
bool PostgresRequired();

// In a fixture's SetUp: fails (CI, scripts/test) or skips (a developer's run without
// a server) when the TestMetastore `m` has no database.
#define TARN_REQUIRE_METASTORE(m)                                                             \
  do {                                                                                        \
    if (!(m).available()) {                                                                   \
      if (::tarn::testing::PostgresRequired())                                                \
        FAIL() << "PostgreSQL tests are required but "                                        \
                  "TARN_TEST_PG_URL is not set";                                              \
      GTEST_SKIP() << "no PostgreSQL test server (set TARN_TEST_PG_URL or run scripts/test)"; \
    }                                                                                         \
  } while (0)

// Runs `sql` (statements separated by ';') on the PostgreSQL database at `url`;
// throws std::runtime_error with the server's message.
void PgExec(const std::string& url, const std::string& sql);

// A TCP port on 127.0.0.1 that was free a moment ago.
uint16_t FreePort();

// Writes `text` to `path`, creating folders.
void WriteFile(const std::filesystem::path& path, const std::string& text);

}  // namespace tarn::testing
