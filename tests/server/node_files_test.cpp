// The node file service (`tarn node serve`) over real HTTPS: a folder's files go only
// to the holder of its capability, over the certificate the fetcher pins; nothing
// outside a folder is served; folders are removed on request and when old.
#include "server/node_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "common/error.h"
#include "common/util.h"
#include "scale/node_scratch.h"
#include "server/http_client.h"
#include "test_util.h"

namespace tarn::server {
namespace {

using tarn::testing::TempDir;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

class NodeFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "n1";
    // A folder left by a run long gone, and one of a run still going.
    fs::create_directories(root_ / "files" / "old.1.t1.m0");
    fs::last_write_time(root_ / "files" / "old.1.t1.m0",
                        fs::file_time_type::clock::now() - std::chrono::hours(48));
    folder_ = root_ / "files" / "jr-1.1.t1.m0";
    fs::create_directories(folder_ / "out" / "__tarn_bucket=2");
    WriteFileAtomic(folder_ / "out" / "__tarn_bucket=2" / "part0.parquet", "rows of bucket 2", 0600);
    capability_ = scale::SealFolder(folder_);
    NodeFileServiceOptions options;
    options.root = root_;
    options.host = "127.0.0.1";
    options.advertise = "127.0.0.1";
    service_ = std::make_unique<NodeFileService>(options);
    service_->Start();
  }

  nlohmann::json From(const std::string& file) {
    return {{"url", service_->url()},
            {"sha256", service_->sha256()},
            {"dir", folder_.filename().string()},
            {"capability", capability_},
            {"file", file}};
  }
  // The error FetchNodeFile throws for `from` (none: "").
  std::string FetchError(const nlohmann::json& from) {
    try {
      FetchNodeFile(from, dir_ / "copy");
      return "";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kIo);
      return e.what();
    }
  }

  TempDir dir_;
  fs::path root_, folder_;
  std::string capability_;
  std::unique_ptr<NodeFileService> service_;
};

TEST_F(NodeFilesTest, TheServiceSaysWhereItListensAndKeepsItsKeyPrivate) {
  auto service = scale::ReadNodeService(root_);
  ASSERT_TRUE(service.has_value());
  EXPECT_EQ(service->url, service_->url());
  EXPECT_THAT(service->url, ::testing::StartsWith("https://127.0.0.1:"));
  EXPECT_EQ(service->sha256.size(), 64u);
  EXPECT_EQ(service->pid, getpid());
  EXPECT_EQ(fs::status(root_ / "node.key").permissions(), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(fs::status(root_).permissions(), fs::perms::owner_all);
  // The old folder was swept at start; the running one kept.
  EXPECT_FALSE(fs::exists(root_ / "files" / "old.1.t1.m0"));
  EXPECT_TRUE(fs::exists(folder_));
  service_->Shutdown();
  EXPECT_FALSE(scale::ReadNodeService(root_).has_value());  // no service: map tasks use the shared scratch
}

TEST_F(NodeFilesTest, AFileGoesToTheHolderOfItsFoldersCapabilityOverThePinnedCertificate) {
  EXPECT_EQ(FetchError(From("out/__tarn_bucket=2/part0.parquet")), "");
  EXPECT_EQ(ReadTextFile(dir_ / "copy"), "rows of bucket 2");
  fs::remove(dir_ / "copy");
  // Into a file, a body is not held to max_response_bytes (it is never in memory).
  ClientOptions options;
  options.pinned_sha256 = service_->sha256();
  options.max_response_bytes = 4;
  options.body_file = dir_ / "whole";
  auto r = Fetch("GET",
                 service_->url() + "/v1/node/files/jr-1.1.t1.m0?file=out%2F__tarn_bucket%3D2%2Fpart0.parquet",
                 {{"Authorization", "Capability " + capability_}}, "", options);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(ReadTextFile(dir_ / "whole"), "rows of bucket 2");
  // Another capability, another folder, a missing file: the same 404.
  auto other = From("out/__tarn_bucket=2/part0.parquet");
  other["capability"] = std::string(64, 'f');
  EXPECT_THAT(FetchError(other), HasSubstr("answered 404"));
  auto missing = From("out/__tarn_bucket=3/part0.parquet");
  EXPECT_THAT(FetchError(missing), HasSubstr("answered 404"));
  auto elsewhere = From("out/__tarn_bucket=2/part0.parquet");
  elsewhere["dir"] = "jr-2.1.t1.m0";
  EXPECT_THAT(FetchError(elsewhere), HasSubstr("answered 404"));
  // A certificate other than the pinned one: refused before anything is asked.
  auto pinned = From("out/__tarn_bucket=2/part0.parquet");
  pinned["sha256"] = std::string(64, '0');
  EXPECT_THAT(FetchError(pinned), HasSubstr("cannot reach"));
  EXPECT_FALSE(fs::exists(dir_ / "copy"));
}

TEST_F(NodeFilesTest, NothingOutsideAFolderIsServed) {
  fs::create_symlink(root_ / "node.key", folder_ / "key");
  for (auto file : {"../../node.key", "key", "/etc/passwd", "out/../.capability", ".capability",
                    ".capability/..", "", "out"}) {
    EXPECT_THAT(FetchError(From(file)), HasSubstr("answered 404")) << file;
  }
  ClientOptions options;
  options.pinned_sha256 = service_->sha256();
  auto r = Fetch("GET", service_->url() + "/v1/node/files/..?file=node.key",
                 {{"Authorization", "Capability " + capability_}}, "", options);
  EXPECT_EQ(r.status, 404);
  r = Fetch("GET", service_->url() + "/v1/node/files/jr-1.1.t1.m0?file=key", {}, "", options);
  EXPECT_EQ(r.status, 404);  // no capability at all
  EXPECT_THAT(r.body, HasSubstr("no such files"));
}

TEST_F(NodeFilesTest, AFolderIsRemovedByItsCapabilityOnly) {
  nlohmann::json node = From("");
  node.erase("file");
  auto wrong = node;
  wrong["capability"] = std::string(64, '1');
  EXPECT_NO_THROW(RemoveNodeFiles(wrong));  // as if gone: 404
  EXPECT_TRUE(fs::exists(folder_));
  RemoveNodeFiles(node);
  EXPECT_FALSE(fs::exists(folder_));
  EXPECT_NO_THROW(RemoveNodeFiles(node));
  service_->Shutdown();
  try {
    RemoveNodeFiles(node);
    ADD_FAILURE() << "a node that cannot be reached";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIo);
  }
}

TEST(NodeScratch, NamesArePlainAndTheRootAbsolute) {
  EXPECT_EQ(scale::NodeScratchRoot("/local/%n/tarn", "n1"), fs::path("/local/n1/tarn"));
  EXPECT_EQ(scale::NodeScratchRoot("/local/tarn", ""), fs::path("/local/tarn"));
  EXPECT_THROW(scale::NodeScratchRoot("/local/%n", "../x"), Error);
  EXPECT_THROW(scale::NodeScratchRoot("/local/%n", ""), Error);
  EXPECT_THROW(scale::NodeScratchRoot("local/tarn", "n1"), Error);
  EXPECT_TRUE(scale::IsScratchFile("out/__tarn_bucket=3/part0.parquet"));
  for (auto bad : {"", "/x", "a//b", "a/../b", "..", "a/", "a b", "a\\b"})
    EXPECT_FALSE(scale::IsScratchFile(bad)) << bad;
}

}  // namespace
}  // namespace tarn::server
