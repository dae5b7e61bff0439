// Task credentials: signed per task, accepted only for that task before expiry.
#include "scale/credential.h"

#include <gtest/gtest.h>

#include "store/store.h"
#include "test_util.h"

namespace tarn::scale {
namespace {

using tarn::testing::CatchError;

const std::string kKey(32, 'k');

TaskClaims Claims() {
  return {"run-1", "map-0", 1, "ana", "https://issuer.example", "analyst", 2000};
}

void ExpectInvalid(const TaskSigner& signer, const std::string& credential, const std::string& run,
                   const std::string& task, int64_t now) {
  auto e = CatchError([&] { signer.Verify(credential, run, task, now); });
  EXPECT_EQ(e.code(), ErrorCode::kUnauthenticated);
  EXPECT_STREQ(e.what(), "invalid task credential");
}

TEST(TaskCredential, VerifiesForItsTaskBeforeExpiry) {
  TaskSigner signer(kKey);
  auto credential = signer.Sign(Claims());
  EXPECT_EQ(credential.rfind("tt1.", 0), 0u);
  auto c = signer.Verify(credential, "run-1", "map-0", 1999);
  EXPECT_EQ(c.user, "ana");
  EXPECT_EQ(c.issuer, "https://issuer.example");
  EXPECT_EQ(c.role, "analyst");
  EXPECT_EQ(c.attempt, 1);
}

TEST(TaskCredential, IsRefusedForAnotherTaskOrRun) {
  TaskSigner signer(kKey);
  auto credential = signer.Sign(Claims());
  ExpectInvalid(signer, credential, "run-1", "map-1", 1000);
  ExpectInvalid(signer, credential, "run-2", "map-0", 1000);
}

TEST(TaskCredential, IsRefusedAtAndAfterExpiry) {
  TaskSigner signer(kKey);
  auto credential = signer.Sign(Claims());
  ExpectInvalid(signer, credential, "run-1", "map-0", 2000);
  ExpectInvalid(signer, credential, "run-1", "map-0", 999999);
}

TEST(TaskCredential, IsRefusedWhenChangedOrSignedByAnotherKey) {
  TaskSigner signer(kKey);
  auto credential = signer.Sign(Claims());
  // Claims swapped for others (another user) with the old signature kept.
  auto other = Claims();
  other.user = "root";
  auto forged = TaskSigner(kKey).Sign(other);
  std::string spliced = forged.substr(0, forged.rfind('.')) + credential.substr(credential.rfind('.'));
  ExpectInvalid(signer, spliced, "run-1", "map-0", 1000);
  ExpectInvalid(TaskSigner(std::string(32, 'x')), credential, "run-1", "map-0", 1000);
  for (const std::string& junk : {std::string(""), std::string("tt1."), std::string("tt1.a.b"),
                                  std::string("Bearer x"), credential + "x", std::string(5000, 'a')}) {
    ExpectInvalid(signer, junk, "run-1", "map-0", 1000);
  }
}

TEST(TaskCredential, TheSigningKeyIsMadeOnceAndKeptInTheStore) {
  tarn::testing::TempDir dir;
  auto meta = store::MetaStore::Open((dir / "m.sqlite").string());
  auto key = TaskSigningKey(*meta);
  EXPECT_EQ(key.size(), 32u);
  EXPECT_EQ(TaskSigningKey(*meta), key);
  auto other = store::MetaStore::Open((dir / "n.sqlite").string());
  EXPECT_NE(TaskSigningKey(*other), key);
}

}  // namespace
}  // namespace tarn::scale
