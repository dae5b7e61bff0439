// `tarn upload` and file outputs against a real server: a CSV up into a table, a
// pipeline's workbook down from its job run, the workbook up again into the lake.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "files/files.h"
#include "server/server_fixture.h"

using ::testing::HasSubstr;

namespace tarn::testing {
namespace {

class UploadCliTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ana_ = Login("ana", kAnaPassword);
    auto admin = Login("admin", kAdminPassword);
    ASSERT_EQ(Sql(admin, "CREATE DATABASE fin; GRANT CREATE_TABLE ON DATABASE fin TO USER ana").status, 200);
  }
  CommandResult Tarn(std::vector<std::string> args) {
    return RunTarn(args, "", {{"XDG_CONFIG_HOME", config_.path().string()}, {"TARN_TOKEN", ana_}});
  }
  TempDir config_, work_;
  std::string ana_;
};

TEST_F(UploadCliTest, AFileGoesUpAndAPipelinesWorkbookComesDown) {
  std::ofstream(work_ / "rates.csv") << "currency,rate\nEUR,1.08\nGBP,1.27\nJPY,0.0067\n";
  auto up = Tarn({"upload", (work_ / "rates.csv").string(), "fin.rates", "--server", base_, "--json",
                  "--type", "rate=DECIMAL(10,4)"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  auto j = nlohmann::json::parse(up.out);
  EXPECT_EQ(j["rows_written"], 3);
  EXPECT_EQ(j["mode"], "create");
  auto again = Tarn({"upload", (work_ / "rates.csv").string(), "fin.rates", "--server", base_});
  EXPECT_EQ(again.exit_code, 4) << again.err;
  EXPECT_THAT(again.err, HasSubstr("add --append or --replace"));

  std::ofstream(work_ / "export.yaml") << "inputs:\n  r: {table: fin.rates}\nsteps:\n"
                                          "  - name: strong\n    filter: {where: rate > 1}\n"
                                          "  - name: out\n    output: {file: rates.xlsx, sheet: Strong}\n";
  auto run = Tarn({"recon", "run", (work_ / "export.yaml").string(), "--server", base_, "--wait", "--out",
                   (work_ / "got").string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto xlsx = work_ / "got" / "rates.xlsx";
  ASSERT_TRUE(std::filesystem::exists(xlsx)) << run.err << run.out;
  EXPECT_EQ(files::XlsxSheetNames(xlsx), std::vector<std::string>{"Strong"});
  auto back = Tarn({"upload", xlsx.string(), "fin.strong", "--server", base_, "--sheet", "Strong"});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  auto rows = Json(Sql(ana_, "SELECT currency, rate FROM fin.strong ORDER BY 1"));
  EXPECT_EQ(rows["rows"], nlohmann::json::parse(R"([["EUR", 1.08], ["GBP", 1.27]])")) << rows.dump();

  // A pipeline with a file input on the server: the CLI uploads the file for the run.
  std::ofstream(work_ / "got" / "join.yaml") << "inputs:\n  r: {table: fin.rates}\n  w: {file: rates.xlsx, sheet: Strong}\n"
                                                "steps:\n  - name: both\n    join: {left: r, right: w, on: [currency], type: semi}\n"
                                                "  - name: out\n    output: {table: fin.both}\n";
  auto joined = Tarn({"recon", "run", (work_ / "got" / "join.yaml").string(), "--server", base_, "--wait"});
  ASSERT_EQ(joined.exit_code, 0) << joined.err;
  EXPECT_THAT(joined.err, HasSubstr("uploaded rates.xlsx for input w"));
  EXPECT_EQ(Json(Sql(ana_, "SELECT count(*) FROM fin.both"))["rows"], nlohmann::json::parse("[[2]]"));
}

TEST_F(UploadCliTest, BadUploadsAreOneLineErrors) {
  std::ofstream(work_ / "bad.csv") << "a\n1\nlots\n";
  auto r = Tarn({"upload", (work_ / "bad.csv").string(), "fin.bad", "--server", base_, "--type", "a=INTEGER"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("bad.csv: CSV Error on Line: 3"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  r = Tarn({"upload", (work_ / "bad.csv").string(), "nodot", "--server", base_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("'nodot' is not database.table"));
  r = Tarn({"upload", (work_ / "missing.csv").string(), "fin.x", "--server", base_});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("no file"));
  r = Tarn({"upload", (work_ / "bad.csv").string(), "fin.x", "--server", base_, "--type", "a=INT; DROP"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("is not a type Tarn reads files as"));
  EXPECT_EQ(Sql(ana_, "SELECT * FROM fin.bad").status, 404);
}

}  // namespace
}  // namespace tarn::testing
