// The Runner: one run path with limits, deadlines, caps, a registry and sticky stops.
#include "session/runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "governance/governance_fixture.h"

using ::testing::HasSubstr;

namespace tarn::testing {
namespace {

// Collects rows and lets a test act at statement boundaries.
class Recorder : public Collect {
 public:
  void OnStatementBegin(const session::StatementStart& s) override { begun.push_back(s.index); }
  void OnStatementEnd(const session::StatementEnd& e) override {
    ended.push_back(e.index);
    types.push_back(e.type);
    if (after_statement) after_statement(e);
  }
  std::vector<size_t> begun, ended;
  std::vector<std::string> types;
  std::function<void(const session::StatementEnd&)> after_statement;
};

class RunnerTest : public GovernanceTest {
 protected:
  void SetUp() override {
    GovernanceTest::SetUp();
    runner_ = std::make_unique<session::Runner>(*instance_, session::RunnerOptions{});
    identity::Directory d(*store_);
    ana_ = *d.Lookup("ana", "local");
    bob_ = *d.Lookup("bob", "local");
    Exec(*admin_, "GRANT SELECT ON d.t TO GROUP analysts");
  }
  session::RunRequest As(const identity::Principal& p, const std::string& sql, const std::string& id = "") {
    session::RunRequest r;
    r.principal = p;
    r.origin = "test";
    r.origin.run_id = id;
    r.sql = sql;
    return r;
  }
  // The audit outcomes of statements whose text contains `marker`, oldest first.
  std::string Outcomes(const std::string& marker) {
    return All(*admin_, "SELECT outcome FROM system.audit WHERE event = 'statement' AND statement LIKE '%" +
                            marker + "%' AND statement NOT LIKE '%system.audit%' ORDER BY seq");
  }
  std::unique_ptr<session::Runner> runner_;
  identity::Principal ana_, bob_;
};

TEST_F(RunnerTest, TheAuditRecordsHowLongAStatementTook) {
  Collect c;
  runner_->Run(As(ana_, "SELECT count(*) AS marker_slow FROM range(30000000) r(i) WHERE i % 7 = 3"), c)
      .ThrowIfFailed();
  runner_->Run(As(ana_, "SELECT 1 AS marker_fast"), c).ThrowIfFailed();
  double slow = std::stod(Scalar(*admin_,
                                 "SELECT duration_ms FROM system.audit WHERE statement LIKE '%marker_slow%' "
                                 "AND statement NOT LIKE '%system.audit%'"));
  double fast = std::stod(Scalar(*admin_,
                                 "SELECT duration_ms FROM system.audit WHERE statement LIKE '%marker_fast%' "
                                 "AND statement NOT LIKE '%system.audit%'"));
  EXPECT_GT(slow, 5.0);
  EXPECT_GT(slow, fast);
}

TEST_F(RunnerTest, ACancelBetweenStatementsSticks) {
  Recorder rec;
  std::string id;
  // The cancel arrives after the first statement ended and before the second began.
  rec.after_statement = [&](const session::StatementEnd& e) {
    if (e.index == 0) runner_->Cancel(ana_, "between");
  };
  auto r = runner_->Run(
      As(ana_, "SELECT 1 AS marker_a; SELECT 2 AS marker_b; SELECT 3 AS marker_c", "between"), rec);
  EXPECT_EQ(r.state, session::RunState::kCancelled);
  ASSERT_TRUE(r.error.has_value());
  EXPECT_EQ(r.error->code(), ErrorCode::kCancelled);
  EXPECT_EQ(r.statements, 1u);
  EXPECT_EQ(rec.begun, std::vector<size_t>({0}));  // the second never began
  EXPECT_EQ(Outcomes("marker_a"), "ok|\n");
  EXPECT_EQ(Outcomes("marker_b"), "cancelled|\n");  // audited as cancelled, never run
  EXPECT_EQ(Outcomes("marker_c"), "");
  // The pooled session is not left stopped: the next run works.
  Recorder next;
  auto again = runner_->Run(As(ana_, "SELECT count(*) FROM d.t"), next);
  EXPECT_EQ(again.state, session::RunState::kFinished);
  EXPECT_EQ(next.rows, Rows({{"4"}}));
}

TEST_F(RunnerTest, ACancelFromAnotherThreadStopsTheRunningStatement) {
  std::thread canceller([&] {
    auto running = [&] {
      auto runs = runner_->List(ana_);
      return !runs.empty() && runs[0].state == session::RunState::kRunning;
    };
    for (int i = 0; i < 500 && !running(); i++) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(runner_->Cancel(ana_, "slow"), session::RunState::kRunning);
  });
  Recorder rec;
  auto start = std::chrono::steady_clock::now();
  auto r =
      runner_->Run(As(ana_, "SELECT count(*) FROM range(10000000000000) r(i) WHERE i % 3 = 1", "slow"), rec);
  canceller.join();
  EXPECT_EQ(r.state, session::RunState::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(runner_->Find(ana_, "slow").state, session::RunState::kCancelled);
}

TEST_F(RunnerTest, RunsBelongToTheirPrincipalAdministratorsSeeAll) {
  Recorder rec;
  runner_->Run(As(ana_, "SELECT 1", "mine"), rec);
  EXPECT_EQ(runner_->Find(ana_, "mine").user, "ana");
  // Bob learns nothing: the same answer as for a run that never was.
  auto e1 = CatchError([&] { runner_->Find(bob_, "mine"); });
  auto e2 = CatchError([&] { runner_->Find(bob_, "never"); });
  EXPECT_EQ(e1.code(), ErrorCode::kNotFound);
  EXPECT_EQ(std::string(e1.what()), fmt::format("query {} does not exist", "mine"));
  EXPECT_EQ(CatchError([&] { runner_->Cancel(bob_, "mine"); }).code(), ErrorCode::kNotFound);
  EXPECT_EQ(std::string(e2.what()), "query never does not exist");
  EXPECT_TRUE(runner_->List(bob_, true).empty());
  auto admin = session::Instance::LocalCaller().principal;
  EXPECT_EQ(runner_->Find(admin, "mine").user, "ana");
  EXPECT_EQ(runner_->List(admin, true).size(), 1u);
  // Bob may use the same id for his own run.
  EXPECT_EQ(runner_->Run(As(bob_, "SELECT 1", "mine"), rec).state, session::RunState::kFinished);
  EXPECT_EQ(CatchError([&] { runner_->Run(As(ana_, "SELECT 1", "mine"), rec); }).code(),
            ErrorCode::kAlreadyExists);
}

TEST_F(RunnerTest, DeadlinesAreTheUsersLimitAndEndAsTimeouts) {
  Exec(*admin_, "SET LIMIT statement_timeout = '1s' FOR USER ana");
  Recorder rec;
  auto start = std::chrono::steady_clock::now();
  auto r = runner_->Run(
      As(ana_, "SELECT count(*) AS marker_t FROM range(10000000000000) r(i) WHERE i % 3 = 1"), rec);
  EXPECT_EQ(r.state, session::RunState::kTimedOut);
  EXPECT_EQ(r.error->code(), ErrorCode::kResourceExhausted);
  EXPECT_THAT(r.error->what(), HasSubstr("ran longer than 1 s"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(Outcomes("marker_t"), "timeout|\n");
  // Each statement has its own deadline: two short ones in a row both finish.
  EXPECT_EQ(runner_->Run(As(ana_, "SELECT 1; SELECT 2"), rec).state, session::RunState::kFinished);
}

TEST_F(RunnerTest, CapsCutTheResultAndSayWhich) {
  Exec(*admin_, "SET LIMIT result_rows = 5 FOR GROUP analysts");
  Recorder rec;
  auto r = runner_->Run(As(ana_, "SELECT i AS marker_cap FROM range(100) r(i)"), rec);
  EXPECT_EQ(r.state, session::RunState::kFinished);
  EXPECT_EQ(rec.rows.size(), 5u);
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(r.truncated_reason, "result_rows 5 (GROUP analysts)");
  // The caller's own, tighter cap wins; a result under every cap is not truncated.
  auto req = As(ana_, "SELECT i FROM range(100) r(i)");
  req.caps.max_rows = 2;
  r = runner_->Run(req, rec);
  EXPECT_EQ(rec.rows.size(), 2u);
  EXPECT_EQ(r.truncated_reason, "max_rows 2");
  r = runner_->Run(As(ana_, "SELECT i FROM range(5) r(i)"), rec);
  EXPECT_FALSE(r.truncated);
  // Bytes: values of 10 bytes each under a cap of 25 bytes: two rows.
  req = As(ana_, "SELECT repeat('x', 10) FROM range(10)");
  req.caps.max_bytes = 25;
  r = runner_->Run(req, rec);
  EXPECT_EQ(rec.rows.size(), 2u);
  EXPECT_EQ(r.truncated_reason, "max_bytes 25");
}

TEST_F(RunnerTest, ConcurrentStatementsBeyondTheLimitAreRefusedAndAudited) {
  Exec(*admin_, "SET LIMIT concurrent_statements = 1 FOR USER ana");
  std::thread slow([&] {
    Recorder rec;
    runner_->Run(As(ana_, "SELECT count(*) FROM range(10000000000000) r(i) WHERE i % 3 = 1", "slow"), rec);
  });
  // Admission counts running runs: wait until the slow one runs (not merely queued).
  auto running = [&] {
    auto runs = runner_->List(ana_);
    return !runs.empty() && runs[0].state == session::RunState::kRunning;
  };
  for (int i = 0; i < 500 && !running(); i++) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  Recorder rec;
  auto r = runner_->Run(As(ana_, "SELECT 'marker_refused'"), rec);
  EXPECT_EQ(r.state, session::RunState::kRefused);
  EXPECT_THAT(r.error->what(), HasSubstr("your limit (USER ana)"));
  runner_->CancelAll();
  slow.join();
  EXPECT_EQ(Outcomes("marker_refused"), "limit|\n");
}

// A run with an assumed role has that role's grants only (not the user's own, not its
// groups'), keeps the user as current_user, and needs the role to be held.
TEST_F(RunnerTest, AnAssumedRoleGivesOnlyThatRolesGrants) {
  Exec(*admin_,
       "CREATE TABLE d.reports AS SELECT 1 AS id; CREATE ROLE reporting; "
       "GRANT SELECT ON d.reports TO ROLE reporting; GRANT ROLE reporting TO USER ana");
  auto run = [&](const identity::Principal& p, const std::string& role, const std::string& sql) {
    auto r = As(p, sql);
    r.role = role;
    Collect c;
    auto result = runner_->Run(r, c);
    if (result.error) return std::string("error: ") + result.error->what();
    std::string out;
    for (auto& row : c.rows) out += row.at(0) + "|";
    return out;
  };
  // Without the role: her group's table and the role's, both.
  EXPECT_EQ(run(ana_, "", "SELECT count(*) FROM d.t"), "4|");
  EXPECT_EQ(run(ana_, "", "SELECT id FROM d.reports"), "1|");
  // As the role: the role's table only, still as ana.
  EXPECT_EQ(run(ana_, "reporting", "SELECT id FROM d.reports"), "1|");
  EXPECT_EQ(run(ana_, "REPORTING", "SELECT current_user"), "ana|");
  EXPECT_THAT(run(ana_, "reporting", "SELECT count(*) FROM d.t"), HasSubstr("does not exist"));
  // A role one does not hold (or that does not exist) is refused alike, and audited.
  EXPECT_THAT(run(bob_, "reporting", "SELECT 1 AS marker_role"), HasSubstr("cannot assume role reporting"));
  EXPECT_THAT(run(bob_, "nosuchrole", "SELECT 1"), HasSubstr("cannot assume role nosuchrole"));
  // An administrator assuming a role is no administrator for that run.
  Exec(*admin_, "GRANT ADMIN TO USER dora; GRANT ROLE reporting TO USER dora");
  identity::Directory d(*store_);
  auto admin = *d.Lookup("dora", "local");
  ASSERT_TRUE(admin.admin);
  EXPECT_EQ(run(admin, "", "SELECT count(*) FROM d.t"), "4|");
  EXPECT_THAT(run(admin, "reporting", "SELECT count(*) FROM d.t"), HasSubstr("does not exist"));
}

}  // namespace
}  // namespace tarn::testing
