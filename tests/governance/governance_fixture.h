// The lake most governance tests start from: database d with table d.t (id,
// region, amount, email, ssn; row 3 is a US row holding SECRET-SSN-3 and
// 424242.42), users ana, bob, carl, dora and groups analysts, emea, engineers.
#pragma once

#include <gmock/gmock.h>

#include <memory>
#include <string>

#include "identity/directory.h"
#include "session/instance.h"
#include "sql_helpers.h"
#include "test_util.h"

namespace tarn::testing {

class GovernanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    session::Instance::Init({dir_.path(), "", "", 1});
    instance_ = std::make_unique<session::Instance>(session::InstanceOptions{dir_.path(), "", "", 1});
    runner_ = std::make_unique<session::Runner>(*instance_, session::RunnerOptions{});
    admin_ = std::make_unique<RunAs>(*runner_, session::Instance::LocalCaller().principal);
    store_ = instance_->OpenMetastore();
    identity::Directory d(*store_);
    for (auto g : {"analysts", "emea", "engineers"}) d.AddGroup(g);
    for (auto u : {"ana", "bob", "carl", "dora"})
      d.AddUser(u, "password-123", identity::UserKind::kPerson, false);
    d.AddMember("analysts", "ana");
    d.AddMember("emea", "ana");
    d.AddMember("engineers", "bob");
    Exec(*admin_,
         "CREATE DATABASE d; "
         "CREATE TABLE d.t AS SELECT * FROM (VALUES (1, 'EU', 10.0, 'a@x.eu', 'ssn-1'), (2, 'EU', 20.0, "
         "'b@x.eu', 'ssn-2'), (3, 'US', 424242.42, 'c@x.us', 'SECRET-SSN-3'), (4, 'APAC', 40.0, 'd@x.ap', "
         "'ssn-4')) v(id, region, amount, email, ssn)");
  }

  // A directory user, with the groups the directory gives it, running statements
  // through the Runner as every front end does.
  std::unique_ptr<RunAs> As(const std::string& user) {
    identity::Directory d(*store_);
    auto p = d.Lookup(user, "test");
    EXPECT_TRUE(p.has_value());
    return std::make_unique<RunAs>(*runner_, *p);
  }

  template <class Caller>
  static void Exec(Caller& s, const std::string& sql) {
    Collect c;
    s.Execute(sql, c);
  }
  template <class Caller>
  static std::string All(Caller& s, const std::string& sql) {
    std::string out;
    for (auto& row : Query(s, sql)) {
      for (auto& v : row) out += v + "|";
      out += "\n";
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<session::Instance> instance_;
  std::unique_ptr<session::Runner> runner_;
  std::unique_ptr<RunAs> admin_;
  std::unique_ptr<store::MetaStore> store_;
};

}  // namespace tarn::testing
