// Files over HTTP: POST .../tables/{table}/upload makes or extends a managed table
// from a file in the body, under the caller's grants; a reconciliation job run keeps
// the files its pipeline writes, listed and downloaded from .../jobruns/{run}/files.
#include <gmock/gmock.h>

#include <fstream>

#include "files/files.h"
#include "jobs_fixture.h"

namespace tarn::testing {
namespace {

using ::testing::HasSubstr;

class UploadTest : public JobsFixture {
 protected:
  void SetUp() override {
    JobsFixture::SetUp();
    ASSERT_EQ(
        Sql(admin_,
            "CREATE DATABASE fin; CREATE TABLE fin.ledger AS SELECT 'T' || i AS ref, "
            "CAST(i * 10 AS DECIMAL(10,2)) AS amount FROM range(1, 4) r(i); "
            "GRANT SELECT ON TABLE fin.ledger TO USER ana; GRANT CREATE_TABLE ON DATABASE fin TO USER ana")
            .status,
        200);
    ASSERT_EQ(Call("POST", "/v1/users", admin_, json{{"name", "bob"}, {"password", "bob-secret-123"}}.dump())
                  .status,
              201);
    bob_ = Login("bob", "bob-secret-123");
  }
  std::string bob_;
  server::ClientResponse Upload(const std::string& token, const std::string& table, const std::string& query,
                                const std::string& body) {
    auto dot = table.find('.');
    return Call(
        "POST",
        "/v1/databases/" + table.substr(0, dot) + "/tables/" + table.substr(dot + 1) + "/upload" + query,
        token, body, {{"Content-Type", "application/octet-stream"}});
  }
};

TEST_F(UploadTest, AFileInTheBodyBecomesATableOrAddsToOne) {
  std::string csv = "ref,amount,value_date\nT1,10.00,2024-05-01\nT2,21.00,2024-05-02\n";
  auto r = Upload(ana_, "fin.bank", "?filename=bank.csv&types=amount:DECIMAL(10%2C2)", csv);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Json(r)["rows_written"], 2);
  auto rows =
      Json(Sql(ana_, "SELECT ref, amount, typeof(amount), typeof(value_date) FROM fin.bank ORDER BY 1"));
  EXPECT_EQ(
      rows["rows"],
      json::parse(R"J([["T1", 10.0, "DECIMAL(10,2)", "DATE"], ["T2", 21.0, "DECIMAL(10,2)", "DATE"]])J"))
      << rows.dump();
  r = Upload(ana_, "fin.bank", "?format=csv&mode=append", csv);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(Sql(ana_, "SELECT count(*) FROM fin.bank"))["rows"], json::parse("[[4]]"));
  // Again without a mode: it exists.
  EXPECT_EQ(Upload(ana_, "fin.bank", "?format=csv", csv).status, 409);
}

TEST_F(UploadTest, BadUploadsAreRefusedAndWriteNothing) {
  auto r = Upload(ana_, "fin.x", "", "a\n1\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("say the file's format"));
  r = Upload(ana_, "fin.x", "?format=xlsx", "not a workbook");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("is not an .xlsx workbook"));
  r = Upload(ana_, "fin.x", "?format=csv&types=a:INTEGER", "a\n1\nlots\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("lots"));
  r = Upload(ana_, "fin.x", "?format=csv&mode=merge", "a\n1\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Sql(admin_, "SELECT * FROM fin.x").status, 404);
  // No INSERT on a table she may read; no table at all where she may not create.
  EXPECT_EQ(Upload(ana_, "fin.ledger", "?format=csv&mode=append", "ref,amount\nT9,1\n").status, 403);
  EXPECT_EQ(Json(Sql(admin_, "SELECT count(*) FROM fin.ledger"))["rows"], json::parse("[[3]]"));
  EXPECT_EQ(Upload(bob_, "fin.y", "?format=csv", "a\n1\n").status, 404);
  EXPECT_EQ(Upload("", "fin.y", "?format=csv", "a\n1\n").status, 401);
}

TEST_F(UploadTest, AJobRunKeepsThePipelinesFilesForItsSubmitter) {
  std::string yaml =
      "inputs:\n  ledger: {table: fin.ledger}\nsteps:\n"
      "  - name: big\n    filter: {where: amount >= 20}\n"
      "  - name: book\n    output: {file: report.xlsx, sheet: Big}\n"
      "  - name: flat\n    output: {input: ledger, file: ledger.csv}\n";
  json body = {{"job", {{"type", "reconciliation"}, {"pipeline", yaml}}}};
  auto r = Call("POST", "/v1/applications/default/jobruns", ana_, body.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = Json(r)["job_run_id"];
  WaitFor(ana_, id, "SUCCESS");
  std::string base = "/v1/applications/default/jobruns/" + id + "/files";
  auto list = Json(Call("GET", base, ana_));
  ASSERT_EQ(list["files"].size(), 2u) << list.dump();
  EXPECT_EQ(list["files"][0]["name"], "ledger.csv");
  EXPECT_EQ(list["files"][1]["name"], "report.xlsx");
  auto csv = Call("GET", base + "/ledger.csv", ana_);
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.body, "ref,amount\nT1,10.00\nT2,20.00\nT3,30.00\n");
  auto xlsx = Call("GET", base + "/report.xlsx", ana_);
  ASSERT_EQ(xlsx.status, 200);
  auto local = dir_ / "report.xlsx";
  std::ofstream(local, std::ios::binary) << xlsx.body;
  EXPECT_EQ(files::XlsxSheetNames(local), std::vector<std::string>{"Big"});
  auto sheet = dir_ / "big.csv";
  files::XlsxToCsv(local, {}, sheet);
  std::ifstream in(sheet);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "\"ref\",\"amount\"\n\"T2\",\"20\"\n\"T3\",\"30\"\n");
  // Others see no such run; names that leave the folder are missing files.
  EXPECT_EQ(Call("GET", base + "/report.xlsx", bob_).status, 404);
  EXPECT_EQ(Call("GET", base + "/..%2F..%2Fmetadata.sqlite", ana_).status, 404);
  EXPECT_EQ(Call("GET", base + "/.hidden", ana_).status, 404);
}

// A server run's file input is an upload of the submitter's, named in job.files.
TEST_F(UploadTest, AServerPipelineReadsItsSubmittersUploads) {
  auto up = Call("POST", "/v1/uploads?filename=bank.csv", ana_, "ref,amount\nT1,10.00\nT2,99.00\n",
                 {{"Content-Type", "application/octet-stream"}});
  ASSERT_EQ(up.status, 201) << up.body;
  std::string id = Json(up)["upload_id"];
  EXPECT_EQ(Json(up)["bytes"], 29);
  std::string yaml =
      "inputs:\n  ledger: {table: fin.ledger}\n  bank: {file: bank.csv, types: {amount: \"DECIMAL(10,2)\"}}\n"
      "steps:\n  - name: rec\n    compare: {left: ledger, right: bank, keys: [ref], columns: {amount: {}}}\n"
      "  - name: save\n    output: {input: rec.breaks, table: fin.up_breaks}\n";
  auto submit = [&](const std::string& token, json files) {
    json body = {{"job", {{"type", "reconciliation"}, {"pipeline", yaml}, {"files", files}}}};
    return Call("POST", "/v1/applications/default/jobruns", token, body.dump());
  };
  auto r = submit(ana_, {{"bank", id}});
  ASSERT_EQ(r.status, 201) << r.body;
  WaitFor(ana_, Json(r)["job_run_id"], "SUCCESS");
  auto breaks = Json(Sql(ana_, "SELECT ref, reason FROM fin.up_breaks ORDER BY ref"));
  EXPECT_EQ(breaks["rows"], json::parse(R"([["T2", "amount"]])")) << breaks.dump();
  // Without the upload, with an input the pipeline lacks: refused at submission.
  EXPECT_EQ(submit(ana_, json::object()).status, 400);
  EXPECT_THAT(submit(ana_, {{"bank", id}, {"other", id}}).body, HasSubstr("no file input 'other'"));
  // Someone else's upload reads as missing: the run fails, nothing is written.
  ASSERT_EQ(
      Sql(admin_,
          "GRANT SELECT ON TABLE fin.ledger TO USER bob; GRANT CREATE_TABLE ON DATABASE fin TO USER bob")
          .status,
      200);
  yaml.replace(yaml.find("fin.up_breaks"), 13, "fin.bob_breaks");
  r = submit(bob_, {{"bank", id}});
  ASSERT_EQ(r.status, 201) << r.body;
  auto run = WaitFor(bob_, Json(r)["job_run_id"], "FAILED");
  EXPECT_THAT(run["state_details"].get<std::string>(), HasSubstr("upload " + id + " does not exist"));
  EXPECT_EQ(Sql(admin_, "SELECT * FROM fin.bob_breaks").status, 404);
  // Upload names are checked.
  EXPECT_EQ(
      Call("POST", "/v1/uploads?filename=../x.csv", ana_, "a\n1\n", {{"Content-Type", "text/csv"}}).status,
      400);
  EXPECT_EQ(Call("POST", "/v1/uploads?filename=x.exe", ana_, "a\n1\n", {{"Content-Type", "text/csv"}}).status,
            400);
}

TEST_F(UploadTest, AServerPipelineCannotReadFilesOfTheServer) {
  std::string yaml =
      "inputs:\n  x: {file: /etc/passwd, format: csv}\nsteps:\n  - name: o\n    output: {table: fin.pw}\n";
  json body = {{"job", {{"type", "reconciliation"}, {"pipeline", yaml}}}};
  auto r = Call("POST", "/v1/applications/default/jobruns", ana_, body.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("reads a file (/etc/passwd), which a server run cannot"));
}

}  // namespace
}  // namespace tarn::testing
