#include "identity/authenticator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/error.h"
#include "store/store.h"
#include "test_util.h"

namespace tarn::identity {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kIssuer = "https://tarn.test";

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = store::MetaStore::Open((dir_.path() / "meta.sqlite").string());
    Directory d(*store_);
    d.AddUser("ana", "password-123", UserKind::kPerson, false);
    d.AddUser("etl", "service-secret-456", UserKind::kService, false);
    d.AddGroup("analysts");
    d.AddMember("analysts", "ana");
    keys_ = std::make_unique<KeyManager>(dir_.path() / "keys");
    audit_ = std::make_unique<audit::AuditLog>(dir_.path() / "audit");
    AuthenticatorOptions options;
    options.issuer = kIssuer;
    auth_ = std::make_unique<Authenticator>(*keys_, *audit_, options);
  }

  Principal Password(const std::string& name, std::string_view secret, UserKind kind = UserKind::kPerson) {
    Directory d(*store_);
    return auth_->Password(d, name, secret, kind, audit::Origin{"pg"});
  }
  ErrorCode Refusal(const std::string& name, std::string_view secret, UserKind kind = UserKind::kPerson) {
    try {
      Password(name, secret, kind);
    } catch (const Error& e) {
      return e.code();
    }
    ADD_FAILURE() << "login of " << name << " was accepted";
    return ErrorCode::kInternal;
  }
  // Every line of the audit trail.
  std::string Trail() {
    audit_.reset();  // closes the log: what it wrote is on disk
    std::string all;
    for (auto& e : fs::directory_iterator(dir_.path() / "audit")) {
      std::ifstream in(e.path());
      std::stringstream ss;
      ss << in.rdbuf();
      all += ss.str();
    }
    return all;
  }

  tarn::testing::TempDir dir_;
  std::unique_ptr<store::MetaStore> store_;
  std::unique_ptr<KeyManager> keys_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<Authenticator> auth_;
};

TEST_F(AuthenticatorTest, APasswordLoginGivesTheUserWithTheirGroupsAndIsAudited) {
  auto p = Password("ana", "password-123");
  EXPECT_EQ(p.user, "ana");
  EXPECT_EQ(p.groups, (std::vector<std::string>{"analysts"}));
  EXPECT_EQ(p.issuer, kIssuer);
  EXPECT_FALSE(p.service);
  auto etl = Password("etl", "service-secret-456", UserKind::kService);
  EXPECT_TRUE(etl.service);
  auto trail = Trail();
  EXPECT_THAT(trail, HasSubstr("\"event\":\"login\""));
  EXPECT_THAT(trail, HasSubstr("\"kind\":\"pg\""));
  EXPECT_THAT(trail, Not(HasSubstr("password-123")));
  EXPECT_THAT(trail, Not(HasSubstr("service-secret-456")));
}

TEST_F(AuthenticatorTest, RefusedLoginsAreAlikeAndAuditedWithoutTheSecret) {
  EXPECT_EQ(Refusal("ana", "wrong-password"), ErrorCode::kUnauthenticated);
  EXPECT_EQ(Refusal("nobody", "password-123"), ErrorCode::kUnauthenticated);
  // A person's password is not a service's secret, nor the other way round.
  EXPECT_EQ(Refusal("ana", "password-123", UserKind::kService), ErrorCode::kUnauthenticated);
  EXPECT_EQ(Refusal("etl", "service-secret-456", UserKind::kPerson), ErrorCode::kUnauthenticated);
  EXPECT_EQ(Refusal("", "x"), ErrorCode::kInvalidArgument);
  auto trail = Trail();
  size_t denied = 0;
  for (size_t at = 0; (at = trail.find("\"outcome\":\"denied\"", at)) != std::string::npos; at++) denied++;
  EXPECT_EQ(denied, 4u);
  EXPECT_THAT(trail, Not(HasSubstr("wrong-password")));
  EXPECT_THAT(trail, Not(HasSubstr("password-123")));
}

TEST(BasicCredentialsTest, DecodesTheSchemeCaseInsensitivelyAndRefusesWhatIsNotBasic) {
  // "ana:pa:ss" -- the secret may hold a colon; the id may not.
  auto c = BasicCredentials("Basic YW5hOnBhOnNz", false);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->first, "ana");
  EXPECT_EQ(c->second, "pa:ss");
  EXPECT_TRUE(BasicCredentials("basic YW5hOnBhOnNz", false));
  EXPECT_FALSE(BasicCredentials("Bearer YW5hOnBhOnNz", false));
  EXPECT_FALSE(BasicCredentials("Basic YW5h", false));         // "ana": no colon
  EXPECT_FALSE(BasicCredentials("Basic YW5hOnBhOnN", false));  // not base64 length
  EXPECT_FALSE(BasicCredentials("Basic !!!!", false));
  EXPECT_FALSE(BasicCredentials("Basic " + std::string(8192, 'A'), false));
  // client_secret_basic: form-encoded inside ("my%20app:s%2Bt" -> "my app", "s+t").
  auto form = BasicCredentials("Basic bXklMjBhcHA6cyUyQnQ=", true);
  ASSERT_TRUE(form);
  EXPECT_EQ(form->first, "my app");
  EXPECT_EQ(form->second, "s+t");
}

}  // namespace
}  // namespace tarn::identity
