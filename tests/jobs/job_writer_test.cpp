// JobWriter on both metadata backends: concurrent changes share commits, a change
// that throws fails alone, values come back, and a store that cannot be opened fails
// every change with its error.
#include "jobs/job_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "common/error.h"
#include "test_util.h"

namespace tarn::jobs {
namespace {

using tarn::testing::TempDir;
using tarn::testing::TestMetastore;
using ::testing::HasSubstr;

class JobWriterTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    metastore_ = std::make_unique<TestMetastore>(GetParam(), dir_.path());
    TARN_REQUIRE_METASTORE(*metastore_);
    meta_ = store::MetaStore::Open(metastore_->location());
    location_ = metastore_->location();
  }
  std::unique_ptr<store::MetaStore> Open() { return store::MetaStore::Open(location_); }
  int64_t Runs() { return meta_->Query("SELECT count(*) FROM job_runs")[0].Int(0); }

  TempDir dir_;
  std::unique_ptr<TestMetastore> metastore_;
  std::unique_ptr<store::MetaStore> meta_;
  std::string location_;
};

JobSpec Spec(const std::string& script) {
  JobSpec spec;
  spec.script = script;
  spec.job = {{"type", "sql"}, {"script", script}};
  return spec;
}

identity::Principal Ana() {
  return {"ana", {"analysts"}, "https://tarn.test", false, false, 1700000000000};
}

TEST_P(JobWriterTest, ChangesWaitingTogetherCommitTogetherAndAFailingOneFailsAlone) {
  JobWriter writer([this] { return Open(); });
  // The first change holds the writer while the others arrive: they form one group.
  std::thread holder(
      [&] { writer.Do([](JobStore&) { std::this_thread::sleep_for(std::chrono::milliseconds(300)); }); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::vector<std::thread> callers;
  std::atomic<int> ok = 0, failed = 0;
  for (int i = 0; i < 20; i++) {
    callers.emplace_back([&, i] {
      try {
        bool created = false;
        auto run = writer.Do([&](JobStore& s) {
          if (i == 7) {
            s.Submit("default", Spec("SELECT 'undone'"), Ana(), created);
            throw Error::Conflict("change {} refuses", i);
          }
          return s.Submit("default", Spec("SELECT " + std::to_string(i)), Ana(), created);
        });
        EXPECT_EQ(run.state, RunState::kQueued);
        EXPECT_EQ(run.script(), "SELECT " + std::to_string(i));
        ok++;
      } catch (const Error& e) {
        EXPECT_EQ(i, 7);
        EXPECT_THAT(e.what(), HasSubstr("change 7 refuses"));
        failed++;
      }
    });
  }
  for (auto& t : callers) t.join();
  holder.join();
  EXPECT_EQ(ok.load(), 19);
  EXPECT_EQ(failed.load(), 1);
  // The 19 are durable and visible to another connection; the refused one left nothing.
  EXPECT_EQ(Runs(), 19);
  EXPECT_TRUE(meta_->Query("SELECT 1 FROM job_runs WHERE job_json LIKE '%undone%'").empty());
  auto [groups, changes] = writer.Counts();
  EXPECT_EQ(changes, 21u);
  EXPECT_LE(groups, 3u) << "the 20 changes that waited together should share a commit";
}

TEST_P(JobWriterTest, AStoreThatCannotBeOpenedFailsEveryChangeWithItsError) {
  JobWriter writer([]() -> std::unique_ptr<store::MetaStore> { throw Error::Io("the store is away"); });
  try {
    writer.Do([](JobStore&) {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIo);
    EXPECT_THAT(e.what(), HasSubstr("the store is away"));
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, JobWriterTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tarn::jobs
