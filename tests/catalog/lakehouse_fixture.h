// A lake for the catalog and lakehouse-table tests (history, DELETE, UPDATE, MERGE):
// every test runs against SQLite and against PostgreSQL, as the local administrator.
// The parameter is the backend ("sqlite", "postgresql"), with "_mor" for suites
// that also run with merge-on-read row changes (WriteMode).
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "session/instance.h"
#include "session/runner.h"
#include "sql_helpers.h"
#include "test_util.h"

namespace tarn::testing {

class LakehouseTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    metastore_ = std::make_unique<TestMetastore>(Backend(), dir_.path());
    TARN_REQUIRE_METASTORE(*metastore_);
    options_.data_dir = dir_.path();
    options_.metastore = Backend() == "sqlite" ? "" : metastore_->location();
    options_.threads = 2;
    session::Instance::Init(options_);
    instance_ = std::make_unique<session::Instance>(options_);
    runner_ = std::make_unique<session::Runner>(*instance_, session::RunnerOptions{});
    admin_ = std::make_unique<RunAs>(*runner_, session::Instance::LocalCaller().principal);
  }

  std::string Backend() const { return GetParam().substr(0, GetParam().find('_')); }
  bool MergeOnRead() const { return GetParam().ends_with("_mor"); }
  // Gives `table` the suite's write mode.
  void UseWriteMode(const std::string& table) {
    if (MergeOnRead()) Exec("ALTER TABLE " + table + " SET TBLPROPERTIES ('write_mode' = 'merge-on-read')");
  }

  void Exec(const std::string& sql) {
    Collect c;
    admin_->Execute(sql, c);
  }
  // Every row of `sql` as "a|b|...;" lines, for one-line comparisons.
  std::string All(const std::string& sql) {
    std::string out;
    for (auto& row : Query(*admin_, sql)) {
      for (size_t i = 0; i < row.size(); i++) out += (i ? "|" : "") + row[i];
      out += ";";
    }
    return out;
  }
  std::string One(const std::string& sql) { return Scalar(*admin_, sql); }
  // The status line of a statement.
  std::string Status(const std::string& sql) {
    Collect c;
    admin_->Execute(sql, c);
    return c.statuses.empty() ? "" : c.statuses.back();
  }
  size_t WarehouseFiles() {
    size_t n = 0;
    std::error_code ec;
    auto root = instance_->lake().root() / "warehouse";
    if (!std::filesystem::exists(root)) return 0;
    for (auto& e : std::filesystem::recursive_directory_iterator(root, ec)) n += e.is_regular_file();
    return n;
  }

  TempDir dir_;
  std::unique_ptr<TestMetastore> metastore_;
  session::InstanceOptions options_;
  std::unique_ptr<session::Instance> instance_;
  std::unique_ptr<session::Runner> runner_;
  std::unique_ptr<RunAs> admin_;
};

// The backends, and with merge-on-read row changes.
inline auto AllWriteModes() {
  return ::testing::Values("sqlite", "postgresql", "sqlite_mor", "postgresql_mor");
}

}  // namespace tarn::testing
