// Several writers and readers on one table for a minute (TARN_CONCURRENCY_SECONDS
// overrides): transfers between accounts (UPDATE), new empty accounts (INSERT,
// MERGE) and removal of empty ones (DELETE) commit concurrently, while the table's
// write mode switches between copy-on-write and merge-on-read; every reader must
// see the total balance intact (no partial commit) and the final table must be
// exactly what the committed statements made it.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <regex>
#include <thread>

#include "catalog/lakehouse_fixture.h"

namespace tarn::testing {
namespace {

using Concurrency = LakehouseTest;

constexpr int kAccounts = 1000;
constexpr int64_t kTotal = kAccounts * 100;

// The N of "... N rows ..." in a status line.
int64_t RowsIn(const std::string& status) {
  std::smatch m;
  if (!std::regex_search(status, m, std::regex("(\\d+) rows?"))) return -1;
  return std::stoll(m[1]);
}

TEST_P(Concurrency, WritersAndReadersForAMinuteLoseAndDuplicateNothing) {
  int seconds =
      std::getenv("TARN_CONCURRENCY_SECONDS") ? std::atoi(std::getenv("TARN_CONCURRENCY_SECONDS")) : 60;
  Exec(
      "CREATE DATABASE d; CREATE TABLE d.acct AS SELECT range AS id, 100::BIGINT AS bal, NULL::INTEGER AS "
      "tag "
      "FROM range(" +
      std::to_string(kAccounts) + ")");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  std::atomic<int64_t> inserted{0}, deleted{0}, transfers{0}, conflicts{0}, reads{0}, bad{0},
      next_id{1000000};
  std::atomic<int> errors{0};
  auto run = [&](const std::string& sql, std::string* status) {
    Collect c;
    try {
      admin_->Execute(sql, c);
      if (status) *status = c.statuses.empty() ? "" : c.statuses.back();
      return true;
    } catch (const Error& e) {
      if (e.code() == ErrorCode::kConflict) {
        conflicts++;
      } else {
        errors++;
        ADD_FAILURE() << sql << ": " << e.what();
      }
      return false;
    }
  };
  std::vector<std::thread> threads;
  for (unsigned w = 1; w <= 2; w++) {
    threads.emplace_back([&, w] {  // transfers: the total never changes; two writers rewrite the same files
      std::mt19937 rng(w);
      while (std::chrono::steady_clock::now() < deadline) {
        int a = static_cast<int>(rng() % kAccounts), b = static_cast<int>(rng() % kAccounts),
            k = 1 + rng() % 50;
        if (a == b) continue;
        if (run(fmt::format("UPDATE d.acct SET bal = bal + CASE WHEN id = {} THEN -{} ELSE {} END WHERE id "
                            "IN ({}, {})",
                            a, k, k, a, b),
                nullptr))
          transfers++;
      }
    });
  }
  threads.emplace_back([&] {  // new empty accounts, by INSERT and by MERGE
    int i = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      int64_t id = next_id++;
      std::string status;
      bool merge = i++ % 2;
      std::string sql = merge ? fmt::format(
                                    "MERGE INTO d.acct x USING (SELECT {} AS id) s ON x.id = s.id "
                                    "WHEN NOT MATCHED THEN INSERT VALUES (s.id, 0, 7)",
                                    id)
                              : fmt::format("INSERT INTO d.acct SELECT {}, 0, 7", id);
      if (run(sql, &status)) inserted++;
    }
  });
  threads.emplace_back([&] {  // removal of the empty new accounts
    while (std::chrono::steady_clock::now() < deadline) {
      std::string status;
      if (run("DELETE FROM d.acct WHERE id >= 1000000 AND bal = 0", &status)) deleted += RowsIn(status);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  threads.emplace_back([&] {  // row changes alternate between rewriting files and writing delete files,
    // while the third column is widened once and renamed back and forth under the writers
    for (int i = 0; std::chrono::steady_clock::now() < deadline; i++) {
      run(fmt::format("ALTER TABLE d.acct SET TBLPROPERTIES ('write_mode' = '{}')",
                      i % 2 ? "copy-on-write" : "merge-on-read"),
          nullptr);
      if (i == 1) run("ALTER TABLE d.acct ALTER COLUMN tag2 TYPE BIGINT", nullptr);
      run(i % 2 ? "ALTER TABLE d.acct RENAME COLUMN tag2 TO tag"
                : "ALTER TABLE d.acct RENAME COLUMN tag TO tag2",
          nullptr);
      std::this_thread::sleep_for(std::chrono::seconds(2));
    }
  });
  for (int r = 0; r < 2; r++) {
    threads.emplace_back([&] {  // readers: the total is intact in every snapshot they see
      while (std::chrono::steady_clock::now() < deadline) {
        auto rows = Query(*admin_, "SELECT sum(bal), count(*) - count(DISTINCT id) FROM d.acct");
        if (rows.at(0).at(0) != std::to_string(kTotal) || rows[0][1] != "0") {
          bad++;
          ADD_FAILURE() << "a reader saw sum " << rows[0][0] << ", duplicates " << rows[0][1];
        }
        reads++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(One("SELECT sum(bal) FROM d.acct"), std::to_string(kTotal));
  EXPECT_EQ(One("SELECT count(*) FROM d.acct"), std::to_string(kAccounts + inserted - deleted));
  EXPECT_EQ(One("SELECT count(DISTINCT id) FROM d.acct WHERE id < 1000000"), std::to_string(kAccounts));
  // Rows written under every name and type of the third column kept its value.
  std::string tag = Query(*admin_, "DESCRIBE d.acct").at(2).at(0);
  EXPECT_EQ(One("SELECT count(*) FROM d.acct WHERE (id >= 1000000) <> (" + tag + " IS NOT DISTINCT FROM 7)"),
            "0");
  EXPECT_GT(transfers.load(), 0);
  EXPECT_GT(inserted.load(), 0);
  EXPECT_GT(reads.load(), 0);
  std::printf("%d s: %lld transfers, %lld inserts, %lld deleted, %lld conflicts (not applied), %lld reads\n",
              seconds, static_cast<long long>(transfers.load()), static_cast<long long>(inserted.load()),
              static_cast<long long>(deleted.load()), static_cast<long long>(conflicts.load()),
              static_cast<long long>(reads.load()));
}

INSTANTIATE_TEST_SUITE_P(Backends, Concurrency, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tarn::testing
