// Attacks on governance: a principal who may read only part of the lake tries every
// way we know to read, infer or change more. Each test is one attempt; each asserts
// the refusal (or the safe result) AND that no planted secret reaches the caller,
// in rows, column names, status lines, error messages or HTTP bodies.
//
// The lake (planted by PlantLake, as the local administrator):
//   d.t        id, region, amount, email, ssn: EU rows 1-2, hidden US rows 3-4 whose
//              emails are SECRET-ROW-733x and amounts 424242.42 / 313131.31; ssn
//              values ssn-...; email masked as ***@domain (raw: mask-secret-...).
//   d.payroll, hr.salaries   never granted (payroll-secret-808x).
//   d.contacts id, region, email, amount: email and amount masked unless region =
//              'EU'; the US row's email is SECRET-ROW-9001, its amount 424242.42.
//   d.ext      external table over lake/public (granted); lake/raw/secret.* are
//              unregistered files holding FILE-SECRET-5150.
// Principals: ana (analysts: data filter eu = EXCLUDING (ssn) ROW FILTER region =
// 'EU', SELECT on d.contacts and d.ext, CREATE_TABLE on sandbox), wes (writers:
// filter eu plus INSERT, DELETE on d.t), sam (support: filter eu, exempt from the
// email mask).
//
// The holes this suite first found (writes checked before the cast to the table's
// types, stats() and EXPLAIN statistics of hidden rows, an external issuer naming a
// built-in user, tokens surviving a password change within the same second, data
// filters on hidden tables) are closed; their tests now enforce the fix.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "identity/jwt.h"
#include "jwt_forge.h"
#include "server/server_fixture.h"
#include "session/instance.h"
#include "sql_helpers.h"
#include "test_util.h"

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

namespace tarn::testing {
namespace {

using json = nlohmann::json;

// --- what must never be seen -------------------------------------------------------

// Distinctive fragments of every protected value. Prefixes of 8 bytes or less are
// used where DuckDB truncates (string statistics keep 8 bytes).
const std::vector<std::string> kSecrets = {
    "SECRET-R",   // hidden rows' emails (d.t rows 3-4, d.contacts row 2)
    "424242",     // hidden row amount
    "313131",     // hidden row amount
    "ssn-",       // the hidden column ssn, every row
    "mask-sec",   // raw values of the masked column email
    "FILE-SEC",   // unregistered lake files
    "payroll-s",  // tables never granted
    "root:",      // /etc/passwd
};

void ExpectClean(const std::string& text, const std::string& context) {
  for (auto& s : kSecrets) {
    EXPECT_EQ(text.find(s), std::string::npos)
        << "protected value '" << s << "' leaked by " << context << ":\n"
        << text;
  }
}

std::string Flatten(const Rows& rows) {
  std::string out;
  for (auto& r : rows) {
    for (auto& v : r) out += v + "|";
    out += "\n";
  }
  return out;
}

// Everything a statement gave back: rows (also those streamed before a failure),
// column names, status lines, or the error.
struct Attempt {
  bool ok = false;
  Rows rows;
  std::vector<std::string> names;
  std::vector<std::string> statuses;
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  std::string Text() const {
    std::string out = ok ? "ok\n" : std::string(ErrorCodeName(code)) + ": " + message + "\n";
    for (auto& n : names) out += n + ",";
    out += "\n" + Flatten(rows);
    for (auto& s : statuses) out += s + "\n";
    return out;
  }
};

Attempt Try(RunAs& s, const std::string& sql) {
  Attempt a;
  Collect c;
  try {
    s.Execute(sql, c);
    a.ok = true;
  } catch (const Error& e) {
    a.code = e.code();
    a.message = e.what();
  }
  a.rows = c.rows;
  a.names = c.names;
  a.statuses = c.statuses;
  return a;
}

bool OneOf(ErrorCode code, std::initializer_list<ErrorCode> codes) {
  for (auto c : codes) {
    if (c == code) return true;
  }
  return false;
}

// Expects `sql` to be refused with one of `codes` and to give nothing protected away.
// `worded`: a kPermissionDenied message must start "access denied".
Attempt ExpectRefused(RunAs& s, const std::string& sql,
                      std::initializer_list<ErrorCode> codes = {ErrorCode::kPermissionDenied},
                      bool worded = true) {
  SCOPED_TRACE(sql);
  Attempt a = Try(s, sql);
  EXPECT_FALSE(a.ok) << "expected a refusal, got:\n" << a.Text();
  if (!a.ok) {
    EXPECT_TRUE(OneOf(a.code, codes)) << a.Text();
    if (worded && a.code == ErrorCode::kPermissionDenied) {
      EXPECT_THAT(a.message, ::testing::StartsWith("access denied"));
    }
  }
  EXPECT_TRUE(a.rows.empty()) << a.Text();
  ExpectClean(a.Text(), sql);
  return a;
}

// Expects `sql` to succeed and to give nothing protected away; returns its rows.
Rows ExpectSafeRows(RunAs& s, const std::string& sql) {
  SCOPED_TRACE(sql);
  Attempt a = Try(s, sql);
  EXPECT_TRUE(a.ok) << a.Text();
  ExpectClean(a.Text(), sql);
  return a.rows;
}

// An oracle attempt: `sql` must succeed with exactly `rows`, as if the hidden rows
// did not exist (an error would itself tell that a hidden row matched), and nothing
// protected may show.
void ExpectOracleShut(RunAs& s, const std::string& sql, const Rows& rows) {
  SCOPED_TRACE(sql);
  Attempt a = Try(s, sql);
  EXPECT_TRUE(a.ok) << a.Text();
  EXPECT_EQ(a.rows, rows) << a.Text();
  ExpectClean(a.Text(), sql);
}

const Rows kAnaSeesEu = {{"1", "EU", "100.50", "***@corp.example"},
                         {"2", "EU", "200.25", "***@corp.example"}};

// --- the planted lake ---------------------------------------------------------------

constexpr const char* kPlantSql =
    "CREATE DATABASE d; CREATE DATABASE hr; CREATE DATABASE sandbox;"
    "CREATE TABLE d.t (id BIGINT, region VARCHAR, amount DECIMAL(12,2), email VARCHAR, ssn VARCHAR);"
    "INSERT INTO d.t VALUES (1, 'EU', 100.50, 'mask-secret-alice@corp.example', 'ssn-999-88-7777'),"
    "  (2, 'EU', 200.25, 'mask-secret-bob@corp.example', 'ssn-222-22-2222'),"
    "  (3, 'US', 424242.42, 'SECRET-ROW-7331@hidden.example', 'ssn-333-33-3333'),"
    "  (4, 'US', 313131.31, 'SECRET-ROW-7332@hidden.example', 'ssn-444-44-4444');"
    "CREATE TABLE d.payroll AS SELECT 1 AS id, 'payroll-secret-8080' AS note;"
    "CREATE TABLE hr.salaries AS SELECT 1 AS id, 'payroll-secret-8081' AS note;"
    "CREATE TABLE d.contacts AS SELECT * FROM (VALUES (1, 'EU', 'eu-contact@corp.example', 10.00),"
    "  (2, 'US', 'SECRET-ROW-9001@hidden.example', 424242.42)) v(id, region, email, amount);"
    "CREATE EXTERNAL TABLE d.ext LOCATION 'public' FORMAT parquet;"
    "CREATE DATA FILTER eu ON d.t EXCLUDING (ssn) ROW FILTER region = 'EU';"
    "GRANT SELECT ON DATA FILTER eu TO GROUP analysts;"
    "GRANT SELECT ON DATA FILTER eu TO GROUP writers;"
    "GRANT INSERT, DELETE ON TABLE d.t TO GROUP writers;"
    "GRANT SELECT ON DATA FILTER eu TO GROUP support;"
    "ALTER TABLE d.t ALTER COLUMN email SET MASK regexp_replace(email, '^[^@]*', '***') EXEMPT GROUP support;"
    "ALTER TABLE d.contacts ALTER COLUMN email SET MASK CASE WHEN region = 'EU' THEN email ELSE 'redacted' "
    "END;"
    "ALTER TABLE d.contacts ALTER COLUMN amount SET MASK CASE WHEN region = 'EU' THEN amount ELSE 0 END;"
    "GRANT SELECT ON TABLE d.contacts TO GROUP analysts;"
    "GRANT SELECT ON TABLE d.ext TO GROUP analysts;"
    "GRANT CREATE_TABLE ON DATABASE sandbox TO GROUP analysts";

void RunRaw(session::Instance& inst, const std::string& sql) {
  inst.engine().Connect()->Run(sql);
}

void PlantLake(session::Instance& inst) {
  auto lake = inst.lake().root();
  fs::create_directories(lake / "raw");
  fs::create_directories(lake / "public");
  RunRaw(inst, "COPY (SELECT 'FILE-SECRET-5150' AS s, 7 AS n) TO " +
                   engine::QuoteString((lake / "raw/secret.parquet").string()));
  RunRaw(inst, "COPY (SELECT 'FILE-SECRET-5150' AS s, 7 AS n) TO " +
                   engine::QuoteString((lake / "raw/secret.csv").string()) + " (HEADER)");
  RunRaw(inst, "COPY (SELECT 'FILE-SECRET-5150' AS s, 7 AS n) TO " +
                   engine::QuoteString((lake / "raw/secret.json").string()));
  RunRaw(inst, "COPY (SELECT 'public-value' AS s, 1 AS n) TO " +
                   engine::QuoteString((lake / "public/p1.parquet").string()));
  session::Runner runner(inst, session::RunnerOptions{});
  Collect c;
  RunAs(runner, session::Instance::LocalCaller().principal).Execute(kPlantSql, c);
}

// Every regular file below `dir` whose name ends with `suffix`.
std::vector<fs::path> FilesUnder(const fs::path& dir, const std::string& suffix) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file() && it->path().string().ends_with(suffix)) out.push_back(it->path());
  }
  return out;
}

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

// --- sessions on a planted lake --------------------------------------------------------

class SecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.data_dir = dir_.path();
    options_.threads = 2;
    session::Instance::Init(options_);
    instance_ = std::make_unique<session::Instance>(options_);
    runner_ = std::make_unique<session::Runner>(*instance_, session::RunnerOptions{});
    PlantLake(*instance_);
    lake_ = instance_->lake().root();
    admin_ = std::make_unique<RunAs>(*runner_, session::Instance::LocalCaller().principal);
    ana_ = As("ana", {"analysts"});
    wes_ = As("wes", {"writers"});
    sam_ = As("sam", {"support"});
  }

  std::unique_ptr<RunAs> As(const std::string& user, std::vector<std::string> groups) {
    return std::make_unique<RunAs>(*runner_, identity::Principal{user, std::move(groups), "local", false});
  }

  // A setting as the engine has it (read over a connection without a resolver).
  std::string Setting(const std::string& name) {
    auto r = instance_->engine().Connect()->Run("SELECT current_setting(" + engine::QuoteString(name) +
                                                ")::VARCHAR");
    return r->GetValue(0, 0).ToString();
  }

  // What a table's files hold, read raw by a connection without governance.
  std::string StoredRows(const std::string& table) {
    auto admin = admin_->Borrow();
    auto info =
        admin->catalog().FindTable(table.substr(0, table.find('.')), table.substr(table.find('.') + 1));
    std::string list;
    for (auto& f : admin->catalog().FilesToScan(*info))
      list += (list.empty() ? "" : ", ") + engine::QuoteString(f);
    return instance_->engine().Connect()->Run("SELECT * FROM read_parquet([" + list + "])")->ToString();
  }
  // The administrator's view of a table, as text.
  std::string AdminRows(const std::string& table) {
    return Flatten(Query(*admin_, "SELECT * FROM " + table));
  }
  std::string AdminCount(const std::string& table) {
    return Scalar(*admin_, "SELECT count(*) FROM " + table);
  }
  bool AdminFinds(const std::string& db, const std::string& table) {
    return admin_->Borrow()->catalog().FindTable(db, table).has_value();
  }
  fs::path PayrollFile() {
    auto files = FilesUnder(lake_ / "warehouse" / "d", ".parquet");
    for (auto& f : files) {
      if (f.string().find("payroll") != std::string::npos) return f;
    }
    ADD_FAILURE() << "no parquet file of d.payroll under the warehouse";
    return {};
  }
  // A parquet file outside the lake with d.ext's schema and a secret in it.
  fs::path OutsideSecretParquet() {
    auto staged = lake_ / "staging.parquet";
    RunRaw(*instance_,
           "COPY (SELECT 'FILE-SECRET-5150' AS s, 7 AS n) TO " + engine::QuoteString(staged.string()));
    auto out = outside_.path() / "secret.parquet";
    fs::rename(staged, out);
    return out;
  }

  TempDir dir_, outside_;
  session::InstanceOptions options_;
  std::unique_ptr<session::Instance> instance_;
  fs::path lake_;
  std::unique_ptr<session::Runner> runner_;
  std::unique_ptr<RunAs> admin_, ana_, wes_, sam_;
};

TEST_F(SecurityTest, FixtureGivesAnaOnlyEuRowsWithMaskedEmailsAndNoSsn) {
  // The baseline every attack is measured against.
  Attempt a = Try(*ana_, "SELECT * FROM d.t ORDER BY id");
  ASSERT_TRUE(a.ok) << a.Text();
  EXPECT_EQ(a.names, (std::vector<std::string>{"id", "region", "amount", "email"}));
  EXPECT_EQ(a.rows, kAnaSeesEu);
  ExpectClean(a.Text(), "the baseline query");
  // ... while the secrets are really in the table's files.
  std::string stored = StoredRows("d.t");
  EXPECT_THAT(stored, HasSubstr("SECRET-ROW-7331"));
  EXPECT_THAT(stored, HasSubstr("424242.42"));
  EXPECT_THAT(stored, HasSubstr("ssn-999-88-7777"));
  EXPECT_THAT(stored, HasSubstr("mask-secret-alice"));
  // The mask applies to the administrator too (not exempt); sam is exempt.
  EXPECT_THAT(AdminRows("d.t"), Not(HasSubstr("mask-sec")));
  EXPECT_THAT(Flatten(Query(*sam_, "SELECT email FROM d.t")), HasSubstr("mask-secret-alice"));
}

// --- file access -------------------------------------------------------------------------

TEST_F(SecurityTest, ReadParquetOfAnUnregisteredLakeFileIsRefused) {
  ExpectRefused(*ana_, "SELECT * FROM read_parquet('raw/secret.parquet')");
  ExpectRefused(*ana_, "SELECT * FROM read_parquet(" +
                           engine::QuoteString((lake_ / "raw/secret.parquet").string()) + ")");
  ExpectRefused(*ana_, "SELECT * FROM parquet_scan('raw/*.parquet')");
  ExpectRefused(*ana_, "SELECT * FROM read_parquet(['public/p1.parquet', 'raw/secret.parquet'])");
}

TEST_F(SecurityTest, ReadCsvOfEtcPasswdIsRefused) {
  ExpectRefused(*ana_, "SELECT * FROM read_csv('/etc/passwd')");
  ExpectRefused(*ana_, "SELECT * FROM read_csv_auto('/etc/passwd', header = false)");
  ExpectRefused(*ana_, "SELECT * FROM read_csv('raw/secret.csv')");
  // Even the administrator has no file readers: the lake is reached through tables.
  ExpectRefused(*admin_, "SELECT * FROM read_csv('/etc/passwd')");
}

TEST_F(SecurityTest, ReadJsonOfTheAuditTrailIsRefused) {
  // The audit directory is one the engine may open (for system.audit), and the
  // administrator's statements there carry the secrets.
  auto segments = FilesUnder(dir_.path() / "audit", ".jsonl");
  ASSERT_FALSE(segments.empty());
  std::string trail;
  for (auto& f : segments) trail += ReadAll(f);
  ASSERT_THAT(trail, HasSubstr("payroll-secret-8080"));
  for (auto& f : segments) {
    ExpectRefused(*ana_, "SELECT * FROM read_json(" + engine::QuoteString(f.string()) + ")");
    ExpectRefused(*ana_, "SELECT * FROM read_ndjson_auto(" + engine::QuoteString(f.string()) + ")");
  }
  ExpectRefused(*ana_, "SELECT * FROM read_json('raw/secret.json')");
}

TEST_F(SecurityTest, ReadTextAndReadBlobAreRefusedAsTablesAndAsScalars) {
  for (std::string f : {"read_text", "read_blob"}) {
    ExpectRefused(*ana_, "SELECT * FROM " + f + "('/etc/passwd')");
    ExpectRefused(*ana_, "SELECT * FROM " + f + "('raw/secret.csv')");
    ExpectRefused(*ana_, "SELECT " + f + "('/etc/passwd')",
                  {ErrorCode::kPermissionDenied, ErrorCode::kInvalidArgument, ErrorCode::kNotFound});
  }
}

TEST_F(SecurityTest, GlobIsRefused) {
  ExpectRefused(*ana_, "SELECT * FROM glob('raw/*')");
  ExpectRefused(*ana_, "SELECT * FROM glob('/etc/*')");
  ExpectRefused(*ana_, "SELECT * FROM glob('warehouse/**')");
}

TEST_F(SecurityTest, SniffCsvIsRefused) {
  ExpectRefused(*ana_, "SELECT * FROM sniff_csv('/etc/passwd')");
  ExpectRefused(*ana_, "SELECT * FROM sniff_csv('raw/secret.csv')");
}

TEST_F(SecurityTest, ParquetMetadataAndSchemaAreRefused) {
  for (std::string f :
       {"parquet_metadata", "parquet_schema", "parquet_file_metadata", "parquet_kv_metadata"}) {
    ExpectRefused(*ana_, "SELECT * FROM " + f + "('raw/secret.parquet')");
    ExpectRefused(*ana_, "SELECT * FROM " + f + "(" + engine::QuoteString(PayrollFile().string()) + ")");
  }
}

TEST_F(SecurityTest, WarehouseFilesOfAHiddenTableCannotBeReadDirectly) {
  fs::path file = PayrollFile();
  ASSERT_FALSE(file.empty());
  std::string rel = fs::relative(file, lake_).string();
  ExpectRefused(*ana_, "SELECT * FROM read_parquet(" + engine::QuoteString(file.string()) + ")");
  ExpectRefused(*ana_, "SELECT * FROM read_parquet(" + engine::QuoteString(rel) + ")");
  ExpectRefused(*ana_, "SELECT * FROM read_parquet('warehouse/d/*/*/*.parquet')");
  ExpectRefused(*ana_, "SELECT * FROM " + engine::QuoteIdent(file.string()),
                {ErrorCode::kNotFound, ErrorCode::kPermissionDenied});
}

TEST_F(SecurityTest, FileReaderInsideTheFilesOfAGrantedTableIsRefused) {
  // The plan check allows the files of d.t's governed scan; naming one of them
  // directly would read it raw (no row filter, no mask, ssn included).
  auto files = FilesUnder(lake_ / "warehouse" / "d", ".parquet");
  std::string tfile;
  for (auto& f : files) {
    if (f.string().find("/t-") != std::string::npos) tfile = f.string();
  }
  ASSERT_FALSE(tfile.empty());
  ExpectRefused(*ana_, "SELECT * FROM read_parquet(" + engine::QuoteString(tfile) + ")");
  ExpectRefused(*ana_, "SELECT * FROM d.t, read_parquet(" + engine::QuoteString(tfile) + ") r");
}

TEST_F(SecurityTest, PathStringInFromIsNeverATable) {
  for (std::string path : {(lake_ / "raw/secret.parquet").string(), std::string("/etc/passwd"),
                           (lake_ / "raw/secret.csv").string(), PayrollFile().string()}) {
    ExpectRefused(*ana_, "SELECT * FROM '" + path + "'", {ErrorCode::kNotFound});
  }
}

TEST_F(SecurityTest, FromFirstWithALakePathIsNeverATable) {
  ExpectRefused(*ana_, "FROM 'raw/secret.parquet'", {ErrorCode::kNotFound});
  ExpectRefused(*ana_, "FROM 'raw/secret.csv' SELECT *", {ErrorCode::kNotFound});
  ExpectRefused(*ana_, "FROM 'raw/*.parquet'", {ErrorCode::kNotFound});
  // The administrator, too, names tables, not files.
  ExpectRefused(*admin_, "FROM 'raw/secret.parquet'", {ErrorCode::kNotFound});
}

TEST_F(SecurityTest, FileReadersHiddenInSubqueriesCtesAndJoinsAreRefused) {
  for (std::string sql : {
           "SELECT (SELECT s FROM read_parquet('raw/secret.parquet'))",
           "SELECT * FROM d.t WHERE email IN (SELECT s FROM read_parquet('raw/secret.parquet'))",
           "WITH x AS (SELECT * FROM read_csv('/etc/passwd')) SELECT * FROM x",
           "SELECT * FROM d.t, LATERAL (SELECT * FROM read_parquet('raw/secret.parquet'))",
           "SELECT * FROM d.t UNION ALL SELECT 1, s, 1, s FROM read_parquet('raw/secret.parquet')",
           "SELECT * FROM d.t WHERE EXISTS (SELECT 1 FROM read_text('/etc/passwd'))",
           "SELECT * FROM (VALUES ((SELECT content FROM read_text('/etc/passwd'))))",
           "SELECT list(x) FROM unnest((SELECT list(s) FROM read_parquet('raw/secret.parquet'))) u(x)",
       }) {
    ExpectRefused(*ana_, sql);
  }
}

TEST_F(SecurityTest, FileReadersUnderOtherSpellingsAreRefused) {
  for (std::string sql :
       {"SELECT * FROM main.read_csv('/etc/passwd')", "SELECT * FROM \"read_csv\"('/etc/passwd')",
        "SELECT * FROM READ_CSV('/etc/passwd')", "SELECT * FROM system.main.read_csv('/etc/passwd')",
        "SELECT * FROM read_csv(['/etc/passwd'])", "SELECT * FROM read_csv('/etc/pass' || 'wd')",
        "SELECT * FROM read_json_objects('/etc/passwd')"}) {
    ExpectRefused(*ana_, sql, {ErrorCode::kPermissionDenied, ErrorCode::kNotFound});
  }
}

// --- path tricks -------------------------------------------------------------------------

TEST_F(SecurityTest, DotDotPathsAreRefused) {
  ExpectRefused(*ana_, "SELECT * FROM read_csv('raw/../../../../../etc/passwd')");
  ExpectRefused(*ana_, "SELECT * FROM read_parquet('public/../warehouse/d/*/*/*.parquet')");
  // CREATE EXTERNAL TABLE: a non-administrator is refused outright...
  ExpectRefused(*ana_, "CREATE EXTERNAL TABLE sandbox.x LOCATION '../../../etc/passwd' FORMAT csv");
  // ... and an administrator's location may not climb out of the lake either.
  ExpectRefused(*admin_, "CREATE EXTERNAL TABLE sandbox.x LOCATION 'raw/../../../../etc/passwd' FORMAT csv",
                {ErrorCode::kInvalidArgument, ErrorCode::kPermissionDenied});
  ExpectRefused(*admin_, "CREATE EXTERNAL TABLE sandbox.y LOCATION 'public/../warehouse/d' FORMAT parquet",
                {ErrorCode::kInvalidArgument, ErrorCode::kPermissionDenied});
  EXPECT_FALSE(AdminFinds("sandbox", "x"));
  EXPECT_FALSE(AdminFinds("sandbox", "y"));
}

TEST_F(SecurityTest, AbsolutePathsAreRefused) {
  ExpectRefused(*ana_, "CREATE EXTERNAL TABLE sandbox.x LOCATION '/etc/passwd' FORMAT csv");
  for (std::string loc : {std::string("/etc/passwd"), (lake_ / "raw/secret.parquet").string(),
                          std::string("~/x.csv"), std::string("//etc/passwd")}) {
    ExpectRefused(*admin_, "CREATE EXTERNAL TABLE sandbox.x LOCATION " + engine::QuoteString(loc),
                  {ErrorCode::kInvalidArgument, ErrorCode::kPermissionDenied});
  }
  EXPECT_FALSE(AdminFinds("sandbox", "x"));
}

TEST_F(SecurityTest, UrlSchemesAreRefused) {
  ExpectRefused(*ana_, "SELECT * FROM read_csv('file:///etc/passwd')");
  ExpectRefused(*ana_, "SELECT * FROM read_parquet('https://example.invalid/x.parquet')");
  ExpectRefused(*ana_, "SELECT * FROM 'file:///etc/passwd'", {ErrorCode::kNotFound});
  ExpectRefused(*ana_, "SELECT * FROM 's3://bucket/x.parquet'", {ErrorCode::kNotFound});
  ExpectRefused(*ana_, "CREATE EXTERNAL TABLE sandbox.x LOCATION 'file:///etc/passwd' FORMAT csv");
  for (std::string loc :
       {"file:///etc/passwd", "s3://bucket/x.parquet", "https://example.invalid/x.csv", "raw/x://y.csv"}) {
    ExpectRefused(*admin_,
                  "CREATE EXTERNAL TABLE sandbox.x LOCATION " + engine::QuoteString(loc) + " FORMAT csv",
                  {ErrorCode::kInvalidArgument, ErrorCode::kPermissionDenied});
  }
  EXPECT_FALSE(AdminFinds("sandbox", "x"));
}

TEST_F(SecurityTest, NonAdminCannotRegisterASymlinkPointingOutsideTheLake) {
  fs::create_symlink("/etc/passwd", lake_ / "raw/passwd.csv");
  fs::create_symlink(OutsideSecretParquet(), lake_ / "raw/out.parquet");
  fs::create_directory_symlink(outside_.path(), lake_ / "raw/outdir");
  ExpectRefused(*ana_, "CREATE EXTERNAL TABLE sandbox.pw LOCATION 'raw/passwd.csv' FORMAT csv");
  ExpectRefused(*ana_, "CREATE EXTERNAL TABLE sandbox.out LOCATION 'raw/out.parquet'");
  ExpectRefused(*ana_, "CREATE EXTERNAL TABLE sandbox.outdir LOCATION 'raw/outdir' FORMAT parquet");
  EXPECT_FALSE(AdminFinds("sandbox", "pw"));
  EXPECT_FALSE(AdminFinds("sandbox", "out"));
  EXPECT_FALSE(AdminFinds("sandbox", "outdir"));
}

TEST_F(SecurityTest, NonAdminCannotRegisterASymlinkIntoTheWarehouse) {
  fs::create_directory_symlink(lake_ / "warehouse", lake_ / "raw/wh");
  fs::create_symlink(PayrollFile(), lake_ / "raw/payroll.parquet");
  ExpectRefused(*ana_, "CREATE EXTERNAL TABLE sandbox.wh LOCATION 'raw/wh/d' FORMAT parquet");
  ExpectRefused(*ana_, "CREATE EXTERNAL TABLE sandbox.pay LOCATION 'raw/payroll.parquet'");
  ExpectRefused(*ana_, "CREATE EXTERNAL TABLE sandbox.wh2 LOCATION 'raw/wh/**/*.parquet'");
  EXPECT_FALSE(AdminFinds("sandbox", "wh"));
  EXPECT_FALSE(AdminFinds("sandbox", "pay"));
  EXPECT_FALSE(AdminFinds("sandbox", "wh2"));
}

TEST_F(SecurityTest, EvenAnAdministratorCannotRegisterSymlinksThatEscape) {
  fs::create_symlink("/etc/passwd", lake_ / "raw/passwd.csv");
  fs::create_symlink(PayrollFile(), lake_ / "raw/payroll.parquet");
  fs::create_directory_symlink(lake_ / "warehouse", lake_ / "raw/wh");
  // The lake's own refusal ("location ... resolves outside the lake"), not governance's.
  auto codes = {ErrorCode::kPermissionDenied, ErrorCode::kInvalidArgument};
  ExpectRefused(*admin_, "CREATE EXTERNAL TABLE sandbox.pw LOCATION 'raw/passwd.csv' FORMAT csv", codes,
                false);
  ExpectRefused(*admin_, "CREATE EXTERNAL TABLE sandbox.pay LOCATION 'raw/payroll.parquet'", codes, false);
  ExpectRefused(*admin_, "CREATE EXTERNAL TABLE sandbox.wh LOCATION 'raw/wh' FORMAT parquet", codes, false);
  EXPECT_FALSE(AdminFinds("sandbox", "pw"));
  EXPECT_FALSE(AdminFinds("sandbox", "pay"));
  EXPECT_FALSE(AdminFinds("sandbox", "wh"));
}

TEST_F(SecurityTest, SymlinkPlantedInARegisteredFolderIsNotRead) {
  // d.ext (granted to ana) reads whatever lies in lake/public at query time.
  EXPECT_EQ(ExpectSafeRows(*ana_, "SELECT s FROM d.ext"), (Rows{{"public-value"}}));
  fs::create_symlink(OutsideSecretParquet(), lake_ / "public/zz-outside.parquet");
  fs::create_symlink(PayrollFile(), lake_ / "public/zz-payroll.parquet");
  Attempt a = Try(*ana_, "SELECT s FROM d.ext");
  ExpectClean(a.Text(), "a query over a folder with planted symlinks");
  if (a.ok) {
    EXPECT_EQ(a.rows, (Rows{{"public-value"}}));
  } else {
    EXPECT_TRUE(OneOf(a.code, {ErrorCode::kPermissionDenied, ErrorCode::kInvalidArgument})) << a.Text();
  }
}

TEST_F(SecurityTest, WarehouseLocationsAreRefused) {
  ExpectRefused(*ana_, "CREATE EXTERNAL TABLE sandbox.w LOCATION 'warehouse/d' FORMAT parquet");
  for (std::string loc : {"warehouse/d", "warehouse", "./warehouse/d", "warehouse/**/*.parquet"}) {
    ExpectRefused(*admin_,
                  "CREATE EXTERNAL TABLE sandbox.w LOCATION " + engine::QuoteString(loc) + " FORMAT parquet",
                  {ErrorCode::kInvalidArgument, ErrorCode::kPermissionDenied});
  }
  EXPECT_FALSE(AdminFinds("sandbox", "w"));
}

// --- metadata leakage -----------------------------------------------------------------------

TEST_F(SecurityTest, InformationSchemaTablesListsOnlyGrantedTables) {
  Rows rows =
      ExpectSafeRows(*ana_, "SELECT table_schema, table_name FROM information_schema.tables ORDER BY ALL");
  EXPECT_EQ(rows, (Rows{{"d", "contacts"}, {"d", "ext"}, {"d", "t"}}));
  Rows schemata = ExpectSafeRows(*ana_, "SELECT schema_name FROM information_schema.schemata ORDER BY ALL");
  EXPECT_EQ(schemata, (Rows{{"d"}, {"sandbox"}}));
  EXPECT_EQ(ExpectSafeRows(*ana_, "SHOW DATABASES"), (Rows{{"d"}, {"sandbox"}}));
  std::string tables = Flatten(ExpectSafeRows(*ana_, "SHOW TABLES"));
  EXPECT_THAT(tables, Not(HasSubstr("payroll")));
  EXPECT_THAT(tables, Not(HasSubstr("salaries")));
}

TEST_F(SecurityTest, InformationSchemaColumnsShowsOnlyReadableColumns) {
  Rows rows = ExpectSafeRows(
      *ana_,
      "SELECT column_name FROM information_schema.columns WHERE table_name = 't' ORDER BY ordinal_position");
  EXPECT_EQ(rows, (Rows{{"id"}, {"region"}, {"amount"}, {"email"}}));
  std::string all = Flatten(ExpectSafeRows(*ana_, "SELECT * FROM information_schema.columns"));
  EXPECT_THAT(all, Not(HasSubstr("ssn")));
  EXPECT_THAT(all, Not(HasSubstr("payroll")));
  EXPECT_THAT(all, Not(HasSubstr("note")));
}

TEST_F(SecurityTest, DuckdbTablesIsRefusedInEveryForm) {
  ExpectRefused(*ana_, "SELECT * FROM duckdb_tables()");
  ExpectRefused(*ana_, "SELECT * FROM duckdb_columns()");
  ExpectRefused(*ana_, "SELECT * FROM duckdb_tables", {ErrorCode::kNotFound});
  ExpectRefused(*ana_, "SELECT * FROM main.duckdb_tables", {ErrorCode::kNotFound});
  ExpectRefused(*ana_, "SELECT * FROM pg_catalog.pg_tables", {ErrorCode::kNotFound});
  ExpectRefused(*ana_, "SELECT * FROM pg_tables", {ErrorCode::kNotFound});
  ExpectRefused(*ana_, "SELECT (SELECT count(*) FROM duckdb_tables())");
}

TEST_F(SecurityTest, DuckdbSettingsIsRefused) {
  ExpectRefused(*ana_, "SELECT * FROM duckdb_settings()");
  ExpectRefused(*ana_, "SELECT * FROM duckdb_settings", {ErrorCode::kNotFound});
  ExpectRefused(*ana_, "SELECT * FROM pg_catalog.pg_settings", {ErrorCode::kNotFound});
  ExpectRefused(*ana_, "SELECT current_setting('allowed_directories')");
  ExpectRefused(*ana_, "SELECT current_setting('temp_directory')");
}

TEST_F(SecurityTest, DuckdbSecretsIsRefused) {
  ExpectRefused(*ana_, "SELECT * FROM duckdb_secrets()");
  ExpectRefused(*ana_, "SELECT * FROM which_secret('s3://bucket/x', 's3')");
}

TEST_F(SecurityTest, DuckdbFunctionsAndOtherEngineCatalogsAreRefused) {
  for (std::string f : {"duckdb_functions", "duckdb_views", "duckdb_databases", "duckdb_extensions",
                        "duckdb_memory", "duckdb_temporary_files", "duckdb_logs", "duckdb_schemas"}) {
    ExpectRefused(*ana_, "SELECT * FROM " + f + "()");
  }
}

TEST_F(SecurityTest, PragmaTableInfoIsRefusedInEveryForm) {
  ExpectRefused(*ana_, "SELECT * FROM pragma_table_info('d.payroll')");
  ExpectRefused(*ana_, "SELECT * FROM pragma_table_info('d.t')");
  ExpectRefused(*ana_, "SELECT * FROM pragma_storage_info('d.t')");
  ExpectRefused(*ana_, "PRAGMA table_info('d.t')");
  ExpectRefused(*ana_, "CALL pragma_table_info('d.payroll')");
  ExpectRefused(*ana_, "PRAGMA show_tables");
}

TEST_F(SecurityTest, ShowAllTablesAndDuckdbShowFormsAreRefused) {
  ExpectRefused(*ana_, "SHOW ALL TABLES", {ErrorCode::kUnsupported, ErrorCode::kPermissionDenied});
  ExpectRefused(*ana_, "SHOW d.payroll",
                {ErrorCode::kUnsupported, ErrorCode::kPermissionDenied, ErrorCode::kNotFound});
  ExpectRefused(*ana_, "SUMMARIZE d.payroll",
                {ErrorCode::kUnsupported, ErrorCode::kPermissionDenied, ErrorCode::kNotFound});
  ExpectRefused(*ana_, "DESCRIBE SELECT * FROM d.payroll", {ErrorCode::kNotFound});
  ExpectRefused(*ana_, "SELECT * FROM (SHOW ALL TABLES)",
                {ErrorCode::kUnsupported, ErrorCode::kPermissionDenied, ErrorCode::kInvalidArgument});
}

TEST_F(SecurityTest, DescribeOfAHiddenTableIsExactlyLikeAMissingOne) {
  Attempt hidden = ExpectRefused(*ana_, "DESCRIBE d.payroll", {ErrorCode::kNotFound});
  Attempt missing = ExpectRefused(*ana_, "DESCRIBE d.nopayroll", {ErrorCode::kNotFound});
  EXPECT_EQ(hidden.message, ReplaceAll(missing.message, "nopayroll", "payroll"));
  Attempt db_hidden = ExpectRefused(*ana_, "DESCRIBE hr.salaries", {ErrorCode::kNotFound});
  Attempt db_missing = ExpectRefused(*ana_, "DESCRIBE hx.salaries", {ErrorCode::kNotFound});
  EXPECT_EQ(db_hidden.message, ReplaceAll(db_missing.message, "hx.", "hr."));
}

TEST_F(SecurityTest, EveryStatementReportsAHiddenTableExactlyLikeAMissingOne) {
  for (std::string form : {"SELECT * FROM {}", "SELECT count(*) FROM {}", "DESCRIBE {}", "SHOW SNAPSHOTS {}",
                           "SHOW GRANTS ON TABLE {}", "GRANT SELECT ON TABLE {} TO USER ana",
                           "REVOKE SELECT ON TABLE {} FROM USER ana", "INSERT INTO {} VALUES (1, 'x')",
                           "INSERT OVERWRITE {} SELECT 1, 'x'", "DROP TABLE {}",
                           "ALTER TABLE {} ALTER COLUMN note SET MASK 'x'", "ALTER TABLE {} SET TAG k = 'v'",
                           "CREATE DATA FILTER f ON {} ROW FILTER id = 1", "SHOW DATA FILTERS ON {}",
                           "EXPLAIN ACCESS SELECT * FROM {}", "CREATE TABLE sandbox.c AS SELECT * FROM {}"}) {
    SCOPED_TRACE(form);
    Attempt hidden = Try(*ana_, ReplaceAll(form, "{}", "d.payroll"));
    Attempt missing = Try(*ana_, ReplaceAll(form, "{}", "d.nopayroll"));
    EXPECT_FALSE(hidden.ok);
    EXPECT_EQ(hidden.code, missing.code) << hidden.Text() << missing.Text();
    EXPECT_EQ(hidden.message, ReplaceAll(missing.message, "nopayroll", "payroll"));
    ExpectClean(hidden.Text(), form);
  }
  // DROP TABLE IF EXISTS answers the same status line for both.
  Attempt hidden = Try(*ana_, "DROP TABLE IF EXISTS d.payroll");
  Attempt missing = Try(*ana_, "DROP TABLE IF EXISTS d.nopayroll");
  EXPECT_EQ(hidden.ok, missing.ok);
  EXPECT_EQ(hidden.code, missing.code);
  EXPECT_EQ(hidden.Text(), ReplaceAll(missing.Text(), "nopayroll", "payroll"));
  EXPECT_TRUE(AdminFinds("d", "payroll"));
  EXPECT_FALSE(AdminFinds("sandbox", "c"));
}

TEST_F(SecurityTest, HiddenDatabaseIsExactlyLikeAMissingOne) {
  for (std::string form :
       {"SHOW TABLES IN {}", "SELECT * FROM {}.salaries", "GRANT SELECT ON DATABASE {} TO USER ana",
        "SHOW GRANTS ON DATABASE {}", "CREATE TABLE {}.z (a INTEGER)", "DROP DATABASE {}"}) {
    SCOPED_TRACE(form);
    Attempt hidden = Try(*ana_, ReplaceAll(form, "{}", "hr"));
    Attempt missing = Try(*ana_, ReplaceAll(form, "{}", "hx"));
    EXPECT_FALSE(hidden.ok);
    EXPECT_EQ(hidden.code, missing.code) << hidden.Text() << missing.Text();
    EXPECT_EQ(hidden.message, ReplaceAll(missing.message, "hx", "hr"));
    ExpectClean(hidden.Text(), form);
  }
  EXPECT_EQ(AdminCount("hr.salaries"), "1");
}

TEST_F(SecurityTest, HiddenColumnIsNotFoundAndNeverSuggested) {
  Attempt hidden =
      ExpectRefused(*ana_, "SELECT ssn FROM d.t", {ErrorCode::kInvalidArgument, ErrorCode::kNotFound});
  Attempt missing =
      ExpectRefused(*ana_, "SELECT szz FROM d.t", {ErrorCode::kInvalidArgument, ErrorCode::kNotFound});
  EXPECT_EQ(hidden.code, missing.code);
  EXPECT_THAT(hidden.message, HasSubstr("not found"));
  EXPECT_THAT(hidden.message, Not(HasSubstr("access denied")));
  // Names close to the hidden one must not make the binder suggest it.
  for (std::string near : {"ssm", "ss", "sn", "s_sn", "snn", "t.ssm", "SSM", "\"sSm2\""}) {
    Attempt a = ExpectRefused(*ana_, "SELECT " + near + " FROM d.t t",
                              {ErrorCode::kInvalidArgument, ErrorCode::kNotFound});
    EXPECT_THAT(a.message, Not(HasSubstr("ssn"))) << near;
  }
  for (std::string sql : {"SELECT t.ssn FROM d.t t", "SELECT * FROM d.t WHERE ssn IS NOT NULL",
                          "SELECT * FROM d.t ORDER BY ssn", "SELECT count(DISTINCT ssn) FROM d.t",
                          "SELECT error(ssn) FROM d.t", "SELECT * FROM d.t a JOIN d.t b USING (ssn)"}) {
    ExpectRefused(*ana_, sql, {ErrorCode::kInvalidArgument, ErrorCode::kNotFound});
  }
  // Star expansions and COLUMNS() see only the readable columns.
  Attempt star = Try(*ana_, "SELECT COLUMNS('.*') FROM d.t");
  ASSERT_TRUE(star.ok) << star.Text();
  EXPECT_EQ(star.names, (std::vector<std::string>{"id", "region", "amount", "email"}));
  ExpectClean(star.Text(), "COLUMNS('.*')");
  ExpectRefused(*ana_, "SELECT COLUMNS('ss.*') FROM d.t",
                {ErrorCode::kInvalidArgument, ErrorCode::kNotFound});
  EXPECT_EQ(ExpectSafeRows(*ana_, "SELECT t FROM d.t t WHERE id = 1"),
            (Rows{{"{'id': 1, 'region': EU, 'amount': 100.50, 'email': ***@corp.example}"}}));
}

TEST_F(SecurityTest, TheRawScanInsideTheGovernedScanIsNotReachable) {
  for (std::string sql : {"SELECT __tarn_raw.ssn FROM d.t", "SELECT __tarn_raw.* FROM d.t",
                          "SELECT * FROM d.t, __tarn_raw", "SELECT d.t.__tarn_raw FROM d.t"}) {
    ExpectRefused(*ana_, sql, {ErrorCode::kInvalidArgument, ErrorCode::kNotFound});
  }
}

TEST_F(SecurityTest, EngineAndInternalSchemasAreNotReachable) {
  for (std::string sql :
       {"SELECT * FROM __tarn_system.audit", "SELECT * FROM __tarn_information_schema.columns",
        "SELECT * FROM memory.main.t", "SELECT * FROM temp.main.t", "SELECT * FROM main.t",
        "SELECT * FROM system.main.duckdb_tables", "SELECT * FROM tarn.d.payroll",
        "SELECT * FROM information_schema.views", "SELECT * FROM system.salaries"}) {
    ExpectRefused(*ana_, sql, {ErrorCode::kNotFound, ErrorCode::kPermissionDenied});
  }
}

TEST_F(SecurityTest, AuditTrailNeedsTheAuditPrivilege) {
  // The trail holds the administrator's statements, secrets included.
  EXPECT_THAT(Flatten(Query(*admin_, "SELECT statement FROM system.audit")),
              HasSubstr("payroll-secret-8080"));
  for (std::string sql : {"SELECT statement FROM system.audit", "SELECT * FROM SYSTEM.AUDIT",
                          "SELECT * FROM \"system\".\"audit\"", "SELECT count(*) FROM system.audit",
                          "WITH a AS (SELECT * FROM system.audit) SELECT * FROM a",
                          "EXPLAIN ACCESS SELECT * FROM system.audit"}) {
    ExpectRefused(*ana_, sql);
  }
}

TEST_F(SecurityTest, DescribeShowsNoStatisticsUnderARowFilter) {
  // DESCRIBE's min/max come from Parquet footers, i.e. from every row.
  EXPECT_THAT(Flatten(Query(*admin_, "DESCRIBE d.t")), HasSubstr("424242.42"));
  Attempt a = Try(*ana_, "DESCRIBE d.t");
  ASSERT_TRUE(a.ok) << a.Text();
  ASSERT_EQ(a.rows.size(), 4u) << a.Text();  // no ssn
  for (auto& r : a.rows) {
    ASSERT_EQ(r.size(), 6u);
    EXPECT_EQ(r[3], "NULL") << r[0];
    EXPECT_EQ(r[4], "NULL") << r[0];
    EXPECT_EQ(r[5], "NULL") << r[0];
  }
  ExpectClean(a.Text(), "DESCRIBE d.t");
  // Snapshot row counts would tell how many rows are hidden.
  ExpectRefused(*ana_, "SHOW SNAPSHOTS d.t");
}

TEST_F(SecurityTest, ExplainAndExplainAnalyzeShowNoHiddenValues) {
  // A plan's estimates and operator row counts come from every row in the files, so
  // EXPLAIN is refused on a row-filtered or masked table...
  for (std::string sql : {"EXPLAIN SELECT * FROM d.t WHERE amount > 1",
                          "EXPLAIN ANALYZE SELECT * FROM d.t WHERE amount > 1 ORDER BY amount DESC LIMIT 1",
                          "EXPLAIN ANALYZE SELECT a.id FROM d.t a JOIN d.t b ON a.amount = b.amount",
                          "EXPLAIN ANALYZE SELECT max(email), max(amount) FROM d.t",
                          "EXPLAIN SELECT * FROM d.ext, d.contacts"}) {
    Attempt a = ExpectRefused(*ana_, sql);
    EXPECT_THAT(a.message, HasSubstr("EXPLAIN ACCESS")) << sql;
  }
  // ... and works on what she reads in full.
  std::string plan = Flatten(ExpectSafeRows(*ana_, "EXPLAIN ANALYZE SELECT * FROM d.ext"));
  EXPECT_THAT(plan, HasSubstr("PARQUET"));
  EXPECT_THAT(plan, Not(HasSubstr("payroll")));
}

// stats() reports the statistics the optimizer propagated for an expression. For a
// column guarded by a row filter (CASE WHEN region = 'EU' THEN col END) DuckDB
// merges the raw column's statistics, i.e. the Parquet min/max over ALL rows,
// hidden ones included (strings keep an 8-byte prefix). So stats() is refused.
TEST_F(SecurityTest, StatsFunctionDoesNotRevealValuesOfHiddenRows) {
  const std::string sql = "SELECT stats(email), stats(region), stats(id), stats(amount) FROM d.t";
  Attempt sam = ExpectRefused(*sam_, sql);  // sam reads EU rows with raw emails
  Attempt ana = ExpectRefused(*ana_, "SELECT stats(region) FROM d.t");
  ExpectRefused(*ana_, "SELECT STATS(x) FROM (SELECT region AS x FROM d.t)");
  for (const Attempt* a : {&sam, &ana}) {
    EXPECT_THAT(a->Text(), Not(HasSubstr("SECRET-R")));
    EXPECT_THAT(a->Text(), Not(HasSubstr("Max: US")));
    EXPECT_THAT(a->Text(), Not(HasSubstr("424242")));
    EXPECT_THAT(a->Text(), Not(HasSubstr("ssn-")));
  }
}

// The optimizer replaces a filter that propagated statistics prove false by an
// empty result. For a conditionally masked column those statistics are the raw
// column's, so the shape of EXPLAIN's plan answers "is the largest masked value
// above X?", and a binary search recovers it even without stats().
TEST_F(SecurityTest, ExplainPlanShapeDoesNotRevealStatisticsOfMaskedValues) {
  // For ana both filters select nothing (her only unmasked amount is 10.00); were
  // EXPLAIN allowed, EMPTY_RESULT vs FILTER would bound the hidden maximum.
  Attempt above = ExpectRefused(*ana_, "EXPLAIN SELECT count(*) FROM d.contacts WHERE amount > 500000");
  Attempt below = ExpectRefused(*ana_, "EXPLAIN SELECT count(*) FROM d.contacts WHERE amount > 400000");
  EXPECT_EQ(above.message, below.message);
  EXPECT_THAT(above.Text(), Not(HasSubstr("EMPTY_RESULT")));
}

// SHOW SNAPSHOTS refuses row counts to a row-filtered reader; EXPLAIN's cardinality
// estimates are computed from the Parquet row counts of every row.
TEST_F(SecurityTest, ExplainEstimatesDoNotRevealHowManyRowsAreHidden) {
  Collect c;
  admin_->Execute(
      "CREATE TABLE d.big AS SELECT i AS id, CASE WHEN i < 2 THEN 'EU' ELSE 'US' END AS region "
      "FROM range(100000) r(i);"
      "CREATE DATA FILTER bigeu ON d.big ROW FILTER region = 'EU'; GRANT SELECT ON DATA FILTER bigeu TO "
      "GROUP analysts",
      c);
  EXPECT_EQ(ExpectSafeRows(*ana_, "SELECT count(*) FROM d.big"), (Rows{{"2"}}));
  ExpectRefused(*ana_, "SHOW SNAPSHOTS d.big");
  Attempt a = ExpectRefused(*ana_, "EXPLAIN SELECT * FROM d.big");
  EXPECT_THAT(a.Text(), Not(HasSubstr("100,000")));
  EXPECT_THAT(a.Text(), Not(HasSubstr("~")));
  // The administrator reads every row: the estimate is hers to see.
  EXPECT_THAT(Flatten(Query(*admin_, "EXPLAIN SELECT * FROM d.big")), HasSubstr("rows"));
}

// --- CTE / view / macro shadowing -----------------------------------------------------------

TEST_F(SecurityTest, CteNamedLikeATableDoesNotShadowIt) {
  EXPECT_EQ(ExpectSafeRows(*ana_, "WITH t AS (SELECT 'x' AS ssn) SELECT * FROM d.t ORDER BY id"), kAnaSeesEu);
  EXPECT_EQ(ExpectSafeRows(*ana_, "WITH sales_orders AS (SELECT 7 AS x) SELECT * FROM sales_orders"),
            (Rows{{"7"}}));
  // A CTE named like a hidden table is only the CTE; the table stays hidden.
  EXPECT_EQ(ExpectSafeRows(*ana_, "WITH payroll AS (SELECT 1 AS x) SELECT * FROM payroll"), (Rows{{"1"}}));
  ExpectRefused(*ana_, "WITH payroll AS (SELECT 1 AS x) SELECT * FROM d.payroll", {ErrorCode::kNotFound});
  ExpectRefused(*ana_, "WITH \"d.payroll\" AS (SELECT 1 AS x) SELECT * FROM d.payroll",
                {ErrorCode::kNotFound});
  EXPECT_EQ(ExpectSafeRows(*ana_,
                           "WITH RECURSIVE payroll AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM payroll "
                           "WHERE n < 3) SELECT * FROM payroll ORDER BY n"),
            (Rows{{"1"}, {"2"}, {"3"}}));
}

TEST_F(SecurityTest, CteNamedLikeADuckdbViewReadsOnlyTheCte) {
  for (std::string view :
       {"duckdb_tables", "duckdb_settings", "pg_tables", "duckdb_secrets", "pg_settings"}) {
    EXPECT_EQ(ExpectSafeRows(*ana_, "WITH " + view + " AS (SELECT 42 AS x) SELECT * FROM " + view),
              (Rows{{"42"}}))
        << view;
  }
}

TEST_F(SecurityTest, CteNameDoesNotLeakOutOfItsScopeToADuckdbView) {
  // The CTE is visible only inside the subquery; the second reference binds to
  // DuckDB's own view of the same name.
  for (std::string view :
       {"duckdb_tables", "pg_tables", "duckdb_settings", "duckdb_columns", "pg_settings", "duckdb_views"}) {
    Attempt a = ExpectRefused(
        *ana_,
        "SELECT * FROM (WITH " + view + " AS (SELECT 1 AS x) SELECT * FROM " + view + ") a, " + view + " b",
        {ErrorCode::kPermissionDenied, ErrorCode::kNotFound});
    EXPECT_THAT(a.message, Not(HasSubstr("payroll")));
    EXPECT_THAT(a.message, Not(HasSubstr("salaries")));
  }
  ExpectRefused(*ana_,
                "SELECT (SELECT count(*) FROM duckdb_tables) FROM (WITH duckdb_tables AS (SELECT 1 AS x) "
                "SELECT * FROM duckdb_tables)",
                {ErrorCode::kPermissionDenied, ErrorCode::kNotFound});
}

TEST_F(SecurityTest, CreateViewIsRefused) {
  for (auto* s : {ana_.get(), admin_.get()}) {
    ExpectRefused(*s, "CREATE VIEW d.v AS SELECT * FROM d.payroll");
    ExpectRefused(*s, "CREATE TEMP VIEW v AS SELECT * FROM d.t");
    ExpectRefused(*s, "CREATE OR REPLACE VIEW sandbox.v AS SELECT * FROM d.t");
  }
  ExpectRefused(*ana_, "SELECT * FROM d.v", {ErrorCode::kNotFound});
  ExpectRefused(*ana_, "SELECT * FROM v", {ErrorCode::kNotFound});
}

TEST_F(SecurityTest, CreateMacroAndTempMacroAreRefused) {
  for (auto* s : {ana_.get(), admin_.get()}) {
    ExpectRefused(*s, "CREATE MACRO m(x) AS x");
    ExpectRefused(*s, "CREATE TEMP MACRO m(x) AS x");
    ExpectRefused(*s, "CREATE MACRO tm() AS TABLE SELECT * FROM d.payroll");
    ExpectRefused(*s, "CREATE OR REPLACE TEMP MACRO read_parquet(x) AS TABLE SELECT 1");
    ExpectRefused(*s, "CREATE FUNCTION f(x) AS x + 1");
  }
  // Not on the function allow-list, whether or not a macro of that name existed.
  ExpectRefused(*ana_, "SELECT m(1)", {ErrorCode::kPermissionDenied});
  ExpectRefused(*ana_, "SELECT * FROM tm()");
}

TEST_F(SecurityTest, BuiltInTableMacrosAreRefused) {
  ExpectRefused(*ana_, "SELECT * FROM histogram(d.t, amount)");
  ExpectRefused(*ana_, "SELECT * FROM histogram_values(d.payroll, id)");
  ExpectRefused(*ana_, "SELECT * FROM duckdb_logs_parsed('x')");
}

// --- dynamic SQL ------------------------------------------------------------------------------

TEST_F(SecurityTest, QueryTableFunctionIsRefused) {
  ExpectRefused(*ana_, "SELECT * FROM query('SELECT * FROM d.payroll')");
  ExpectRefused(*ana_, "SELECT * FROM query('SELECT * FROM read_csv(''/etc/passwd'')')");
  ExpectRefused(*ana_, "SELECT query('SELECT 1')",
                {ErrorCode::kPermissionDenied, ErrorCode::kInvalidArgument, ErrorCode::kNotFound});
  ExpectRefused(*ana_, "SELECT * FROM d.t WHERE id IN (SELECT id FROM query('SELECT 3 AS id'))");
}

TEST_F(SecurityTest, QueryTableIsRefused) {
  ExpectRefused(*ana_, "SELECT * FROM query_table('d.payroll')");
  ExpectRefused(*ana_, "SELECT * FROM query_table(['d.t', 'd.payroll'])");
  ExpectRefused(*ana_, "SELECT * FROM query_table('raw/secret.parquet')");
}

TEST_F(SecurityTest, JsonExecuteSerializedSqlIsRefused) {
  ExpectRefused(*ana_, "SELECT json_execute_serialized_sql(json_serialize_sql('SELECT * FROM d.payroll'))",
                {ErrorCode::kPermissionDenied, ErrorCode::kInvalidArgument});
  ExpectRefused(*ana_,
                "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT * FROM d.payroll'))");
  ExpectRefused(*ana_, "PRAGMA json_execute_serialized_sql(json_serialize_sql('SELECT * FROM d.payroll'))");
  // Serializing SQL (or plans: json_serialize_plan binds and optimizes) is not on the
  // function allow-list either.
  ExpectRefused(*ana_, "SELECT json_serialize_sql('SELECT note FROM d.payroll') IS NOT NULL");
  ExpectRefused(*ana_, "SELECT json_serialize_plan('SELECT note FROM d.payroll', optimize := true)");
}

TEST_F(SecurityTest, PrepareAndExecuteAreRefused) {
  ExpectRefused(*ana_, "PREPARE p AS SELECT * FROM d.payroll");
  ExpectRefused(*ana_, "EXECUTE p");
  ExpectRefused(*ana_, "PREPARE q AS SELECT * FROM d.t WHERE id = ?");
  ExpectRefused(*ana_, "SELECT * FROM d.t WHERE id = ?");
  ExpectRefused(*ana_, "SELECT * FROM d.t WHERE id = $1");
  ExpectRefused(*ana_, "DEALLOCATE p");
}

TEST_F(SecurityTest, VariablesAreRefused) {
  ExpectRefused(*ana_, "SET VARIABLE x = (SELECT note FROM d.payroll)");
  ExpectRefused(*ana_, "SET VARIABLE x = 'd.payroll'");
  ExpectRefused(*ana_, "SELECT getvariable('x')");
  ExpectRefused(*ana_, "SELECT * FROM query_table(getvariable('x'))");
  ExpectRefused(*ana_, "RESET VARIABLE x", {ErrorCode::kPermissionDenied, ErrorCode::kInvalidArgument});
}

// --- configuration changes ---------------------------------------------------------------

TEST_F(SecurityTest, SetEnableExternalAccessIsRefusedAndTheSettingStays) {
  ExpectRefused(*ana_, "SET enable_external_access = true");
  ExpectRefused(*ana_, "SET GLOBAL enable_external_access = true");
  ExpectRefused(*admin_, "SET enable_external_access = true");
  EXPECT_EQ(Setting("enable_external_access"), "false");
  ExpectRefused(*ana_, "SELECT * FROM read_csv('/etc/passwd')");
}

TEST_F(SecurityTest, SetAllowedDirectoriesIsRefused) {
  std::string before = Setting("allowed_directories");
  ExpectRefused(*ana_, "SET allowed_directories = ['/']");
  ExpectRefused(*ana_, "SET GLOBAL allowed_directories = ['/etc/']");
  ExpectRefused(*ana_, "SET allowed_paths = ['/etc/passwd']");
  ExpectRefused(*ana_, "SET lock_configuration = false");
  EXPECT_EQ(Setting("allowed_directories"), before);
  EXPECT_EQ(Setting("lock_configuration"), "true");
}

TEST_F(SecurityTest, ResetIsRefused) {
  ExpectRefused(*ana_, "RESET enable_external_access");
  ExpectRefused(*ana_, "RESET allowed_directories");
  ExpectRefused(*ana_, "RESET lock_configuration");
  ExpectRefused(*ana_, "RESET ALL", {ErrorCode::kPermissionDenied, ErrorCode::kInvalidArgument});
  EXPECT_EQ(Setting("enable_external_access"), "false");
  EXPECT_EQ(Setting("lock_configuration"), "true");
}

TEST_F(SecurityTest, PragmaIsRefused) {
  for (std::string sql : {"PRAGMA enable_profiling", "PRAGMA enable_external_access", "PRAGMA version",
                          "PRAGMA database_list", "PRAGMA functions", "PRAGMA import_database('/tmp')",
                          "PRAGMA disable_optimizer", "PRAGMA memory_limit = '1TB'"}) {
    ExpectRefused(*ana_, sql);
  }
}

TEST_F(SecurityTest, SetSearchPathAndUseAreRefused) {
  ExpectRefused(*ana_, "SET search_path = 'main,pg_catalog'");
  ExpectRefused(*ana_, "SET schema = 'd'");
  ExpectRefused(*ana_, "USE memory");
  ExpectRefused(*ana_, "USE d");
  // Unqualified names still resolve to nothing.
  ExpectRefused(*ana_, "SELECT * FROM payroll", {ErrorCode::kNotFound});
}

TEST_F(SecurityTest, AttachAndDetachAreRefused) {
  ExpectRefused(*ana_, "ATTACH ':memory:' AS m");
  ExpectRefused(*ana_, "ATTACH " + engine::QuoteString((dir_.path() / "metadata.sqlite").string()) +
                           " AS meta (TYPE sqlite)");
  ExpectRefused(*ana_, "ATTACH " + engine::QuoteString((lake_ / "raw/x.db").string()) + " AS x");
  ExpectRefused(*ana_, "DETACH memory");
  EXPECT_FALSE(fs::exists(lake_ / "raw/x.db"));
}

TEST_F(SecurityTest, InstallAndLoadAreRefused) {
  for (std::string sql :
       {"INSTALL httpfs", "LOAD httpfs", "FORCE INSTALL sqlite", "LOAD 'raw/evil.duckdb_extension'",
        "INSTALL httpfs FROM 'http://127.0.0.1:1/'", "UPDATE EXTENSIONS"}) {
    ExpectRefused(*ana_, sql, {ErrorCode::kPermissionDenied, ErrorCode::kInvalidArgument});
  }
}

TEST_F(SecurityTest, CreateSecretIsRefused) {
  ExpectRefused(*ana_, "CREATE SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')");
  ExpectRefused(*ana_, "CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')");
  ExpectRefused(*ana_, "DROP SECRET s");
  ExpectRefused(*admin_, "CREATE SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')");
}

TEST_F(SecurityTest, CopyToIsRefusedAndWritesNothing) {
  auto target = lake_ / "raw" / "leak.csv";
  auto outside = outside_.path() / "leak.csv";
  for (auto& f : {target, outside}) {
    ExpectRefused(*ana_, "COPY (SELECT * FROM d.t) TO " + engine::QuoteString(f.string()));
    ExpectRefused(*ana_, "COPY d.t TO " + engine::QuoteString(f.string()) + " (FORMAT csv)");
    ExpectRefused(*admin_, "COPY d.payroll TO " + engine::QuoteString(f.string()));
    EXPECT_FALSE(fs::exists(f)) << f;
  }
  ExpectRefused(*ana_, "COPY d.t FROM " + engine::QuoteString((lake_ / "raw/secret.csv").string()));
  EXPECT_EQ(AdminCount("d.t"), "4");
}

TEST_F(SecurityTest, ExportDatabaseIsRefusedAndWritesNothing) {
  auto target = outside_.path() / "export";
  auto inside = lake_ / "raw" / "export";
  ExpectRefused(*ana_, "EXPORT DATABASE " + engine::QuoteString(target.string()));
  ExpectRefused(*ana_, "EXPORT DATABASE " + engine::QuoteString(inside.string()) + " (FORMAT parquet)");
  ExpectRefused(*admin_, "EXPORT DATABASE " + engine::QuoteString(inside.string()));
  EXPECT_FALSE(fs::exists(target));
  EXPECT_FALSE(fs::exists(inside));
}

TEST_F(SecurityTest, ImportDatabaseIsRefused) {
  auto dir = lake_ / "raw" / "import";
  fs::create_directories(dir);
  WriteFile(dir / "schema.sql", "CREATE TABLE pwned AS SELECT 1;");
  WriteFile(dir / "load.sql", "");
  ExpectRefused(*ana_, "IMPORT DATABASE " + engine::QuoteString(dir.string()));
  ExpectRefused(*admin_, "IMPORT DATABASE " + engine::QuoteString(dir.string()));
  ExpectRefused(*ana_, "SELECT * FROM pwned", {ErrorCode::kNotFound});
}

TEST_F(SecurityTest, OtherEngineStatementsAreRefused) {
  for (std::string sql : {"CHECKPOINT", "FORCE CHECKPOINT", "VACUUM", "ANALYZE", "BEGIN TRANSACTION",
                          "UPDATE d.t SET region = 'EU'", "DELETE FROM d.t WHERE region = 'US'",
                          "TRUNCATE d.t", "ALTER TABLE d.t RENAME TO u", "COMMENT ON TABLE d.t IS 'x'",
                          "CREATE SEQUENCE s", "CREATE TYPE e AS ENUM ('a')", "CREATE INDEX i ON d.t (id)",
                          "CALL checkpoint()", "EXPLAIN COPY d.t TO 'x.csv'"}) {
    ExpectRefused(*ana_, sql,
                  {ErrorCode::kPermissionDenied, ErrorCode::kUnsupported, ErrorCode::kInvalidArgument});
  }
  EXPECT_EQ(AdminCount("d.t"), "4");
  EXPECT_THAT(AdminRows("d.t"), HasSubstr("US"));
}

// --- error oracles --------------------------------------------------------------------------

TEST_F(SecurityTest, ErrorFunctionKeyedOnHiddenRowsNeverFires) {
  for (
      std::string sql :
      {"SELECT id FROM d.t WHERE CASE WHEN region <> 'EU' THEN error('leak ' || amount || email) END IS NULL "
       "ORDER BY id",
       "SELECT id FROM d.t WHERE CASE WHEN region IS DISTINCT FROM 'EU' THEN error('leak ' || amount) END IS "
       "NULL ORDER BY id",
       "SELECT id FROM d.t WHERE CASE WHEN amount > 300000 THEN error('leak ' || amount) ELSE true END "
       "ORDER BY id",
       "SELECT id FROM d.t ORDER BY CASE WHEN region = 'US' THEN error('leak ' || email) END, id",
       "SELECT id FROM d.t GROUP BY id HAVING max(CASE WHEN email LIKE 'SECRET%' THEN error(email) END) IS "
       "NULL ORDER BY id"}) {
    ExpectOracleShut(*ana_, sql, {{"1"}, {"2"}});
  }
}

// Governed plans are rewritten before optimization (guard_pushdown.cpp): safe
// comparisons on guarded columns are pushed into the row filter (rule A), and the
// per-cell guards are dropped when every predicate in the plan is safe (rule B).
// Each attack below aims at one rewrite; all must run as if nothing were hidden:
// the right rows, no error (an error would itself tell a hidden row exists).
TEST_F(SecurityTest, GuardRewritesKeepErrorOraclesShut) {
  struct Case {
    const char* sql;
    Rows rows;
  };
  const std::vector<Case> cases = {
      // Rule B: only safe filters; the error sits in an aggregate, ORDER BY, a projection.
      {"SELECT sum(CASE WHEN amount > 300000 THEN error('boom') ELSE 1 END) FROM d.t WHERE id > 0", {{"2"}}},
      {"SELECT id FROM d.t WHERE id > 0 OR region IS NULL ORDER BY CASE WHEN amount > 300000 THEN "
       "error('boom') END, id",
       {{"1"}, {"2"}}},
      {"SELECT count(CASE WHEN b.amount > 300000 THEN error('boom') END) FROM d.t a JOIN d.t b ON a.id = "
       "b.id",
       {{"0"}}},
      {"SELECT count(*) FROM d.t a LEFT JOIN d.contacts c ON a.id = c.id WHERE c.amount IS NULL OR "
       "c.amount < 1000000",
       {{"2"}}},
      // Rule A: a safe conjunct next to an unsafe one; guards stay for the unsafe one.
      {"SELECT id FROM d.t WHERE amount > 100 AND (CASE WHEN amount > 300000 THEN error('boom') ELSE true "
       "END) "
       "ORDER BY id",
       {{"1"}, {"2"}}},
      {"SELECT id FROM d.t WHERE region IN ('EU', 'US') AND (CASE WHEN region = 'US' THEN error('boom') ELSE "
       "true END) ORDER BY id",
       {{"1"}, {"2"}}},
      // An unsafe condition split off a join's ON clause.
      {"SELECT count(*) FROM d.t a JOIN d.t b ON a.id = b.id AND (CASE WHEN b.amount > 300000 THEN "
       "error('boom') ELSE true END)",
       {{"2"}}},
      // Safe filters on guarded and masked columns see what ana sees, not the raw values.
      {"SELECT id FROM d.t WHERE amount > 150 ORDER BY id", {{"2"}}},
      {"SELECT count(*) FROM d.t WHERE amount > 400000 OR region = 'US'", {{"0"}}},
      {"SELECT count(*) FROM d.t WHERE email = 'mask-secret-alice@corp.example'", {{"0"}}},
      {"SELECT count(*) FROM d.t WHERE email = '***@corp.example'", {{"2"}}},
      {"SELECT count(*) FROM d.contacts WHERE amount > 400000", {{"0"}}},
  };
  for (auto& c : cases) {
    SCOPED_TRACE(c.sql);
    EXPECT_EQ(ExpectSafeRows(*ana_, c.sql), c.rows);
  }
  // The mark that tells governed filters from user filters cannot be forged.
  ExpectRefused(*ana_, "SELECT __tarn_guard(true)");
  ExpectRefused(*ana_, "SELECT CASE WHEN __TARN_GUARD(region = 'EU') THEN amount END FROM d.t");
  ExpectRefused(*ana_, "SELECT id FROM d.t WHERE main.__tarn_guard(region = 'US')");
}

// A row filter DuckDB cannot push into the Parquet reader (a regular expression,
// OR across columns) is evaluated in a filter operator, where the optimizer may
// order a user's predicate before it: only the per-cell guards keep the cast below
// from failing on (and naming) a hidden row's value. Rule B must keep them here.
TEST_F(SecurityTest, GuardsHoldWhenTheRowFilterStaysAboveTheScan) {
  Collect c;
  admin_->Execute(
      "CREATE TABLE d.w (id BIGINT, region VARCHAR, code VARCHAR);"
      "INSERT INTO d.w VALUES (1, 'EU', '12'), (2, 'EU', '34'), (3, 'US', 'SECRET-CODE-77');"
      "CREATE DATA FILTER w_eu ON d.w ROW FILTER regexp_matches(region, '^E[U]$') OR id > 1000;"
      "GRANT SELECT ON DATA FILTER w_eu TO GROUP analysts",
      c);
  EXPECT_EQ(ExpectSafeRows(*ana_, "SELECT id FROM d.w WHERE CAST(code AS INTEGER) > 0 ORDER BY id"),
            (Rows{{"1"}, {"2"}}));
  EXPECT_EQ(ExpectSafeRows(*ana_, "SELECT sum(CAST(code AS INTEGER)) FROM d.w WHERE id > 0"), (Rows{{"46"}}));
  EXPECT_EQ(ExpectSafeRows(*ana_,
                           "SELECT count(*) FROM d.w a JOIN d.w b ON a.id = b.id WHERE "
                           "CAST(a.code AS INTEGER) < 100"),
            (Rows{{"2"}}));
  // A "bare" column that is an expression below: a filter on it is pushed down as
  // that expression, so it does not count as safe.
  EXPECT_EQ(ExpectSafeRows(*ana_,
                           "SELECT id FROM (SELECT id, CAST(code AS INTEGER) AS n FROM d.w) WHERE n > 0 "
                           "ORDER BY id"),
            (Rows{{"1"}, {"2"}}));
  EXPECT_EQ(ExpectSafeRows(*ana_,
                           "SELECT n FROM (SELECT CAST(code AS INTEGER) AS n FROM d.w GROUP BY ALL) "
                           "WHERE n < 20"),
            (Rows{{"12"}}));
  Attempt a = Try(*ana_, "SELECT id FROM d.w WHERE code = 'SECRET-CODE-77' OR CAST(code AS INTEGER) = 12");
  EXPECT_TRUE(a.ok) << a.Text();
  EXPECT_EQ(a.rows, (Rows{{"1"}}));
  EXPECT_THAT(a.Text(), Not(HasSubstr("SECRET-CODE")));
}

TEST_F(SecurityTest, CastOfAHiddenRowStringToIntegerNeverFires) {
  ExpectOracleShut(*ana_,
                   "SELECT id FROM d.t WHERE CAST(CASE WHEN region <> 'EU' THEN email ELSE '0' END AS "
                   "INTEGER) = 0 ORDER BY id",
                   {{"1"}, {"2"}});
  ExpectOracleShut(*ana_, "SELECT id FROM d.t WHERE region = 'US' AND CAST(email AS INTEGER) = 1", {});
  ExpectOracleShut(*ana_, "SELECT CAST(region AS INTEGER) FROM d.t WHERE region <> 'EU'", {});
  // Casting a visible masked value fails with the masked text only.
  Attempt a = Try(*ana_, "SELECT CAST(email AS INTEGER) FROM d.t");
  EXPECT_FALSE(a.ok);
  ExpectClean(a.Text(), "CAST(email AS INTEGER)");
}

TEST_F(SecurityTest, DivisionByZeroKeyedOnHiddenRowsNeverFires) {
  ExpectOracleShut(*ana_, "SELECT id, 1 // (CASE WHEN region <> 'EU' THEN 0 ELSE 1 END) FROM d.t ORDER BY id",
                   {{"1", "1"}, {"2", "1"}});
  ExpectOracleShut(*ana_,
                   "SELECT id FROM d.t WHERE 1 % (CASE WHEN amount > 300000 THEN 0 ELSE 1 END) = 0 "
                   "ORDER BY id",
                   {{"1"}, {"2"}});
  ExpectOracleShut(
      *ana_,
      "SELECT id FROM d.t WHERE CAST(1 AS DECIMAL(4,0)) / (CASE WHEN region = 'US' THEN 0 ELSE 1 END) = 1 "
      "ORDER BY id",
      {{"1"}, {"2"}});
}

TEST_F(SecurityTest, ReciprocalOfTheDistanceToAHiddenValueNeverBlowsUp) {
  // 1 / (amount - v) divides by zero exactly on the hidden row whose amount is v.
  Attempt a = Try(*ana_, "SELECT id, 1 / (amount - 424242.42) AS r FROM d.t ORDER BY id");
  if (a.ok) {
    ASSERT_EQ(a.rows.size(), 2u) << a.Text();
    EXPECT_EQ(a.rows[0][0], "1");
    EXPECT_EQ(a.rows[1][0], "2");
    ExpectClean(Flatten(a.rows), "the reciprocal oracle");
  } else {
    // The message may quote the query (which names the value), never a row.
    EXPECT_THAT(a.message, Not(HasSubstr("SECRET-R")));
    EXPECT_THAT(a.message, Not(HasSubstr("313131")));
  }
  Attempt b =
      Try(*ana_, "SELECT count(*) FROM d.t WHERE 1 // CAST(amount * 100 - 31313131 AS BIGINT) IS NOT NULL");
  if (b.ok) {
    EXPECT_EQ(b.rows, (Rows{{"2"}}));
  }
  EXPECT_THAT(b.Text(), Not(HasSubstr("SECRET-R")));
  EXPECT_THAT(b.Text(), Not(HasSubstr("424242")));
}

TEST_F(SecurityTest, AggregatesCountOnlyAdmittedRows) {
  EXPECT_EQ(
      ExpectSafeRows(*ana_, "SELECT count(*), sum(amount), max(amount), count(DISTINCT region) FROM d.t"),
      (Rows{{"2", "300.75", "200.25", "1"}}));
  EXPECT_EQ(ExpectSafeRows(*ana_, "SELECT region, count(*) FROM d.t GROUP BY ALL"), (Rows{{"EU", "2"}}));
  EXPECT_EQ(ExpectSafeRows(*ana_, "SELECT count(*) FROM d.t WHERE region IS NULL OR region <> 'EU'"),
            (Rows{{"0"}}));
}

// --- writes outside a row filter -------------------------------------------------------------

TEST_F(SecurityTest, InsertOfARowOutsideTheWritersFilterIsRefusedAndWritesNothing) {
  auto snapshots = Query(*admin_, "SHOW SNAPSHOTS d.t").size();
  Attempt a = ExpectRefused(*wes_, "INSERT INTO d.t VALUES (9, 'US', 1.00, 'wes-us-row@x.example', 'w-9')");
  EXPECT_THAT(a.message, Not(HasSubstr("wes-us-row")));
  ExpectRefused(*wes_, "INSERT INTO d.t SELECT 10, NULL, 1.00, 'x', 'y'");
  ExpectRefused(*wes_, "INSERT INTO d.t SELECT 11, 'eu', 1.00, 'x', 'y'");
  EXPECT_EQ(AdminCount("d.t"), "4");
  EXPECT_EQ(Query(*admin_, "SHOW SNAPSHOTS d.t").size(), snapshots);
  // A row inside the filter is fine: the refusal was about the row.
  Collect c;
  wes_->Execute("INSERT INTO d.t VALUES (12, 'EU', 1.00, 'x@corp.example', 'w-12')", c);
  EXPECT_EQ(AdminCount("d.t"), "5");
}

TEST_F(SecurityTest, InsertMixingAdmittedAndHiddenRowsWritesNothing) {
  ExpectRefused(*wes_,
                "INSERT INTO d.t VALUES (20, 'EU', 1.00, 'a@corp.example', 'w-20'), (21, 'US', 2.00, "
                "'b@corp.example', 'w-21')");
  ExpectRefused(*wes_,
                "INSERT INTO d.t SELECT i, CASE WHEN i = 5 THEN 'US' ELSE 'EU' END, 1, 'x', 'y' "
                "FROM range(10) r(i)");
  EXPECT_EQ(AdminCount("d.t"), "4");
  EXPECT_EQ(Scalar(*admin_, "SELECT count(*) FROM d.t WHERE id >= 20 OR id < 1"), "0");
}

TEST_F(SecurityTest, InsertOverwriteByARowFilteredWriterIsRefused) {
  ExpectRefused(*wes_, "INSERT OVERWRITE d.t SELECT 1, 'EU', 1.00, 'x@corp.example', 'w-1'");
  ExpectRefused(*wes_, "INSERT OVERWRITE TABLE d.t SELECT * FROM (VALUES (1, 'EU', 1.00, 'x', 'y')) v");
  ExpectRefused(*wes_, "INSERT OVERWRITE d.t SELECT 1, 'EU', 1.00, 'x', 'y' WHERE false");
  EXPECT_EQ(AdminCount("d.t"), "4");
  EXPECT_THAT(StoredRows("d.t"), HasSubstr("SECRET-ROW-7331"));  // the hidden rows survive
}

// The write guard must judge the rows as stored, after the cast to the table's
// types: 99.6 < 100, but CAST(99.6 AS BIGINT) = 100; 'eu' COLLATE NOCASE = 'EU',
// but the stored VARCHAR is 'eu'.
TEST_F(SecurityTest, InsertedRowsAreCheckedAgainstTheFilterAsStored) {
  Collect c;
  admin_->Execute(
      "CREATE TABLE d.quota (id BIGINT, owner VARCHAR); INSERT INTO d.quota VALUES (1, 'a'), (500, 'hidden');"
      "CREATE DATA FILTER low ON d.quota ROW FILTER id < 100; GRANT SELECT ON DATA FILTER low TO GROUP "
      "writers;"
      "GRANT INSERT ON TABLE d.quota TO GROUP writers",
      c);
  ExpectRefused(*wes_, "INSERT INTO d.quota VALUES (100, 'wes')");  // the plain case is refused
  const std::string rounding = "INSERT INTO d.quota VALUES (99.6, 'wes')";
  const std::string collation =
      "INSERT INTO d.t SELECT 13, 'eu' COLLATE NOCASE, 1.00, 'x@corp.example', 'w-13'";
  Attempt r = Try(*wes_, rounding);
  Attempt k = Try(*wes_, collation);
  std::string quota = Flatten(Query(*admin_, "SELECT id FROM d.quota ORDER BY id"));
  std::string regions = Flatten(Query(*admin_, "SELECT DISTINCT region FROM d.t ORDER BY region"));
  EXPECT_EQ(r.code, ErrorCode::kPermissionDenied) << r.Text();
  EXPECT_EQ(k.code, ErrorCode::kPermissionDenied) << k.Text();
  EXPECT_EQ(quota, "1|\n500|\n");
  EXPECT_EQ(regions, "EU|\nUS|\n");
}

TEST_F(SecurityTest, InsertWithoutTheInsertPrivilegeIsRefused) {
  ExpectRefused(*ana_, "INSERT INTO d.t VALUES (30, 'EU', 1.00, 'x', 'y')");
  ExpectRefused(*ana_, "INSERT OVERWRITE d.t SELECT 30, 'EU', 1.00, 'x', 'y'");
  ExpectRefused(*ana_, "INSERT INTO d.payroll VALUES (2, 'x')", {ErrorCode::kNotFound});
  ExpectRefused(*ana_, "INSERT INTO d.contacts SELECT * FROM d.contacts");
  ExpectRefused(*ana_, "DROP TABLE d.t");
  EXPECT_EQ(AdminCount("d.t"), "4");
  EXPECT_EQ(AdminCount("d.contacts"), "2");
}

TEST_F(SecurityTest, CreateTableAsFromAMaskedColumnKeepsTheMask) {
  Collect c;
  ana_->Execute("CREATE TABLE sandbox.copy AS SELECT * FROM d.t", c);
  ana_->Execute("CREATE TABLE sandbox.emails AS SELECT email, upper(email) AS u FROM d.t", c);
  // What the new tables hold, read by the administrator (no mask, no filter applies).
  std::string copy = AdminRows("sandbox.copy");
  std::string emails = AdminRows("sandbox.emails");
  ExpectClean(copy, "the table ana created");
  ExpectClean(emails, "the table ana created");
  EXPECT_EQ(Query(*admin_, "SELECT * FROM sandbox.copy ORDER BY id"), kAnaSeesEu);
  EXPECT_EQ(Scalar(*admin_, "SELECT string_agg(DISTINCT email) FROM sandbox.emails"), "***@corp.example");
  EXPECT_EQ(Query(*admin_, "DESCRIBE sandbox.copy").size(), 4u);  // no ssn column either
}

TEST_F(SecurityTest, DataFiltersOnHiddenTablesAreReportedLikeMissingOnes) {
  Collect c;
  admin_->Execute("CREATE DATA FILTER salaries_over_200k ON hr.salaries ROW FILTER id > 0", c);
  for (std::string form :
       {"GRANT SELECT ON DATA FILTER {} TO USER ana", "REVOKE SELECT ON DATA FILTER {} FROM USER ana",
        "DROP DATA FILTER {}", "SHOW GRANTS ON DATA FILTER {}"}) {
    SCOPED_TRACE(form);
    Attempt hidden = Try(*ana_, ReplaceAll(form, "{}", "salaries_over_200k"));
    Attempt missing = Try(*ana_, ReplaceAll(form, "{}", "salaries_over_300k"));
    ExpectClean(hidden.Text(), form);
    EXPECT_FALSE(hidden.ok);
    EXPECT_EQ(hidden.code, missing.code);
    EXPECT_EQ(hidden.message, ReplaceAll(missing.message, "300k", "200k"));
  }
  EXPECT_THAT(Flatten(ExpectSafeRows(*ana_, "SHOW DATA FILTERS")), Not(HasSubstr("salaries")));
}

// Database and table names form one namespace: a principal allowed to CREATE_TABLE
// in a database learns, on a clash, that a name is taken (as in other lake
// catalogs; docs/GOVERNANCE.md says so). It learns nothing else, and the hidden
// table is untouched.
TEST_F(SecurityTest, CreateTableOverAHiddenNameRevealsOnlyThatTheNameIsTaken) {
  Collect c;
  admin_->Execute(
      "CREATE TABLE sandbox.layoff_plans (a INTEGER); INSERT INTO sandbox.layoff_plans VALUES (7)", c);
  Attempt hidden =
      ExpectRefused(*ana_, "CREATE TABLE sandbox.layoff_plans (a INTEGER)", {ErrorCode::kAlreadyExists});
  EXPECT_THAT(hidden.message, Not(HasSubstr("INTEGER")));
  Attempt ctas =
      ExpectRefused(*ana_, "CREATE TABLE sandbox.layoff_plans AS SELECT 1 AS a", {ErrorCode::kAlreadyExists});
  Attempt fresh = Try(*ana_, "CREATE TABLE sandbox.hiring_plans (a INTEGER)");
  EXPECT_TRUE(fresh.ok) << fresh.Text();
  ExpectRefused(*ana_, "SELECT * FROM sandbox.layoff_plans", {ErrorCode::kNotFound});
  ExpectRefused(*ana_, "INSERT INTO sandbox.layoff_plans VALUES (1)", {ErrorCode::kNotFound});
  EXPECT_EQ(AdminRows("sandbox.layoff_plans"), "7|\n");
}

// --- identifier injection ------------------------------------------------------------------

TEST_F(SecurityTest, TableNamesWithSqlInThemAreJustMissingTables) {
  for (std::string sql :
       {"SELECT * FROM \"sales.orders; DROP TABLE x\"", "SELECT * FROM d.\"t; DROP TABLE d.t\"",
        "SELECT * FROM \"d\".\"t; DROP TABLE d.t --\"", "SELECT * FROM d.\"payroll\"\"--\"",
        "DESCRIBE d.\"t; DROP TABLE d.t\"", "SELECT * FROM \"d.payroll\""}) {
    ExpectRefused(*ana_, sql, {ErrorCode::kNotFound, ErrorCode::kInvalidArgument});
  }
  EXPECT_EQ(AdminCount("d.t"), "4");
  EXPECT_TRUE(AdminFinds("d", "payroll"));
}

TEST_F(SecurityTest, QuotedIdentifiersWithDotsAndQuotesResolveSafely) {
  EXPECT_EQ(ExpectSafeRows(*ana_, "SELECT * FROM \"d\".\"t\" ORDER BY id"), kAnaSeesEu);
  EXPECT_EQ(ExpectSafeRows(*ana_, "SELECT * FROM \"D\".\"T\" ORDER BY id"), kAnaSeesEu);
  for (std::string sql : {"SELECT * FROM \"d\".\"t\"\".\"\"ssn\"", "SELECT * FROM \"d.t\"",
                          "SELECT * FROM d.\"t.ssn\"", "SELECT * FROM \"d\"\".\"\"payroll\"",
                          "SELECT \"t\".\"ssn\" FROM d.t", "SELECT \"ssn\"\"\" FROM d.t"}) {
    ExpectRefused(*ana_, sql, {ErrorCode::kNotFound, ErrorCode::kInvalidArgument});
  }
  ExpectRefused(*ana_, "CREATE TABLE sandbox.\"a.b\" (x INTEGER)", {ErrorCode::kInvalidArgument});
  ExpectRefused(*ana_, "CREATE TABLE sandbox.\"a\"\"; DROP TABLE d.t; --\" (x INTEGER)",
                {ErrorCode::kInvalidArgument});
  ExpectRefused(*ana_, "CREATE TABLE \"sandbox.x\" (x INTEGER)", {ErrorCode::kInvalidArgument});
  EXPECT_EQ(AdminCount("d.t"), "4");
}

TEST_F(SecurityTest, GrantWithInjectedNamesIsRefusedAsInvalid) {
  auto grants = Query(*admin_, "SHOW GRANTS").size();
  for (std::string sql : {"GRANT SELECT ON TABLE d.t TO USER \"x; DROP\"",
                          "GRANT SELECT ON TABLE d.t TO USER \"x'; DROP TABLE grants; --\"",
                          "GRANT SELECT ON TABLE d.t TO GROUP \"analysts\"\" OR 1=1\"",
                          "GRANT SELECT ON TABLE d.t TO ROLE \"r; DELETE FROM grants\"",
                          "GRANT SELECT (\"id; DROP\") ON TABLE d.t TO USER ana",
                          "REVOKE SELECT ON TABLE d.t FROM USER \"x; DROP\"",
                          "GRANT SELECT ON TABLE \"d.t; DROP TABLE d.t\" TO USER ana"}) {
    ExpectRefused(*admin_, sql, {ErrorCode::kInvalidArgument, ErrorCode::kNotFound});
  }
  EXPECT_EQ(Query(*admin_, "SHOW GRANTS").size(), grants);
  EXPECT_EQ(AdminCount("d.t"), "4");
  // ana's own attempt is refused as well, and gives her nothing.
  ExpectRefused(*ana_, "GRANT SELECT ON TABLE d.t TO USER \"ana\"\" OR 1=1\"",
                {ErrorCode::kInvalidArgument, ErrorCode::kPermissionDenied});
  EXPECT_EQ(ExpectSafeRows(*ana_, "SELECT * FROM d.t ORDER BY id"), kAnaSeesEu);
}

TEST_F(SecurityTest, PolicyExpressionsCannotBeInjected) {
  auto filters = Query(*admin_, "SHOW DATA FILTERS").size();
  for (std::string sql : {"CREATE DATA FILTER inj1 ON d.t ROW FILTER region = 'EU') OR (1=1",
                          "CREATE DATA FILTER inj2 ON d.t ROW FILTER region = 'EU', true",
                          "CREATE DATA FILTER inj3 ON d.t ROW FILTER true) UNION (SELECT 1",
                          "CREATE DATA FILTER inj4 ON d.t ROW FILTER id IN (SELECT id FROM d.payroll)",
                          "CREATE DATA FILTER inj5 ON d.t ROW FILTER length(read_text('/etc/passwd')) > 0",
                          "CREATE DATA FILTER \"inj6; DROP\" ON d.t ROW FILTER true"}) {
    ExpectRefused(*admin_, sql, {ErrorCode::kInvalidArgument, ErrorCode::kPermissionDenied});
  }
  EXPECT_EQ(Query(*admin_, "SHOW DATA FILTERS").size(), filters);
  EXPECT_TRUE(AdminFinds("d", "payroll"));
  for (std::string sql : {"ALTER TABLE d.t ALTER COLUMN email SET MASK (SELECT note FROM d.payroll)",
                          "ALTER TABLE d.t ALTER COLUMN email SET MASK email, ssn",
                          "ALTER TABLE d.t ALTER COLUMN email SET MASK getvariable('x')"}) {
    ExpectRefused(*admin_, sql, {ErrorCode::kInvalidArgument, ErrorCode::kPermissionDenied});
  }
  EXPECT_EQ(ExpectSafeRows(*ana_, "SELECT * FROM d.t ORDER BY id"), kAnaSeesEu);
}

TEST_F(SecurityTest, PrivilegeEscalationThroughGovernanceStatementsIsRefused) {
  for (std::string sql : {"GRANT SELECT ON TABLE d.t TO USER ana", "GRANT ADMIN TO USER ana",
                          "GRANT SELECT ON DATA FILTER eu TO USER ana WITH GRANT OPTION",
                          "GRANT AUDIT TO USER ana", "ALTER TABLE d.t ALTER COLUMN email DROP MASK",
                          "ALTER TABLE d.t ALTER COLUMN email SET MASK email EXEMPT USER ana",
                          "CREATE DATA FILTER mine ON d.t ROW FILTER true", "DROP DATA FILTER eu",
                          "EXPLAIN ACCESS FOR USER admin SELECT * FROM d.payroll", "CREATE ROLE boss",
                          "GRANT ROLE boss TO USER ana"}) {
    ExpectRefused(*ana_, sql, {ErrorCode::kPermissionDenied, ErrorCode::kNotFound});
  }
  EXPECT_EQ(ExpectSafeRows(*ana_, "SELECT * FROM d.t ORDER BY id"), kAnaSeesEu);
}

// --- masks --------------------------------------------------------------------------------------

TEST_F(SecurityTest, GroupByAMaskedColumnGroupsMaskedValues) {
  EXPECT_EQ(ExpectSafeRows(*ana_, "SELECT email, count(*) FROM d.t GROUP BY email"),
            (Rows{{"***@corp.example", "2"}}));
  EXPECT_EQ(ExpectSafeRows(*ana_, "SELECT count(DISTINCT email), approx_count_distinct(email) FROM d.t"),
            (Rows{{"1", "1"}}));
  EXPECT_EQ(
      ExpectSafeRows(*ana_, "SELECT email FROM d.t GROUP BY GROUPING SETS ((email), ()) ORDER BY email"),
      (Rows{{"***@corp.example"}, {"NULL"}}));
}

TEST_F(SecurityTest, OrderByAMaskedColumnShowsOnlyMaskedValues) {
  Rows rows =
      ExpectSafeRows(*ana_, "SELECT email, row_number() OVER (ORDER BY email) FROM d.t ORDER BY email");
  ASSERT_EQ(rows.size(), 2u);
  for (auto& r : rows) EXPECT_EQ(r[0], "***@corp.example");
  ExpectSafeRows(*ana_, "SELECT id FROM d.t ORDER BY email DESC, id");
  ExpectSafeRows(*ana_, "SELECT id, lag(email) OVER (ORDER BY email) FROM d.t");
}

TEST_F(SecurityTest, MinMaxOfAMaskedColumnAreMasked) {
  EXPECT_EQ(ExpectSafeRows(*ana_,
                           "SELECT min(email), max(email), arg_max(email, email), first(email ORDER BY "
                           "email) FROM d.t"),
            (Rows{{"***@corp.example", "***@corp.example", "***@corp.example", "***@corp.example"}}));
  ExpectSafeRows(*ana_, "SELECT list(email), string_agg(email, ','), histogram(email) FROM d.t");
  ExpectSafeRows(*ana_, "SUMMARIZE SELECT * FROM d.t");
  ExpectSafeRows(*ana_, "SUMMARIZE d.t");
}

TEST_F(SecurityTest, JoinOnAMaskedColumnNeverMatchesRawValues) {
  // Guesses of the raw emails (the attacker knows candidates) must not match.
  EXPECT_EQ(ExpectSafeRows(*ana_,
                           "SELECT count(*) FROM d.t a JOIN (VALUES ('mask-secret-alice@corp.example'), "
                           "('mask-secret-bob@corp.example')) v(e) ON a.email = v.e"),
            (Rows{{"0"}}));
  EXPECT_EQ(ExpectSafeRows(*ana_, "SELECT count(*) FROM d.t WHERE email LIKE 'mask-sec%'"), (Rows{{"0"}}));
  EXPECT_EQ(ExpectSafeRows(
                *ana_, "SELECT count(*) FROM d.t WHERE md5(email) = md5('mask-secret-alice@corp.example')"),
            (Rows{{"0"}}));
  EXPECT_EQ(ExpectSafeRows(*ana_, "SELECT count(*) FROM d.t a JOIN d.t b ON a.email = b.email"),
            (Rows{{"4"}}));
  EXPECT_EQ(ExpectSafeRows(*ana_, "SELECT bool_and(md5(email) = md5('***@corp.example')) FROM d.t"),
            (Rows{{"true"}}));
}

TEST_F(SecurityTest, ConditionallyMaskedColumnShowsNoRawValueOfMaskedRows) {
  // d.contacts: all rows readable, email and amount masked except where region = 'EU'.
  EXPECT_EQ(ExpectSafeRows(*ana_, "SELECT id, email, amount FROM d.contacts ORDER BY id"),
            (Rows{{"1", "eu-contact@corp.example", "10.00"}, {"2", "redacted", "0.00"}}));
  EXPECT_EQ(ExpectSafeRows(*ana_, "SELECT max(amount), sum(amount) FROM d.contacts"),
            (Rows{{"10.00", "10.00"}}));
  EXPECT_EQ(ExpectSafeRows(*ana_, "SELECT count(*) FROM d.contacts WHERE email LIKE 'SECRET%'"),
            (Rows{{"0"}}));
  ExpectSafeRows(*ana_, "SELECT max(email), min(email), list(email ORDER BY email) FROM d.contacts");
  Attempt a = Try(*ana_, "SELECT CAST(email AS INTEGER) FROM d.contacts WHERE id = 2");
  EXPECT_FALSE(a.ok);
  ExpectClean(a.Text(), "CAST of a conditionally masked value");
}

// The mask CASE WHEN region = 'EU' THEN email ELSE 'redacted' END has the raw
// column in a branch; its propagated statistics include the raw column's.
TEST_F(SecurityTest, StatsFunctionDoesNotRevealRawValuesOfAMaskedColumn) {
  ExpectRefused(*ana_, "SELECT stats(email), stats(amount) FROM d.contacts");
  ExpectRefused(*ana_, "SELECT main.stats(amount) FROM d.contacts");
}

// --- HTTP: tokens, limits, metadata -------------------------------------------------------------

constexpr const char* kIdpIssuer = "https://idp.security-test.example";
constexpr const char* kIdpAudience = "tarn-security";

const identity::SigningKey& IdpKey() {
  static const identity::SigningKey key =
      identity::SigningKey::Generate(identity::JwtAlgorithm::kRS256, "idp-1");
  return key;
}

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json IdpClaims(const std::string& user, json groups) {
  int64_t now = Now();
  return {{"iss", kIdpIssuer}, {"aud", kIdpAudience}, {"sub", user},     {"groups", std::move(groups)},
          {"iat", now},        {"nbf", now},          {"exp", now + 600}};
}

std::string Unsigned(const json& header, const json& claims) {
  return identity::Base64UrlEncode(header.dump()) + "." + identity::Base64UrlEncode(claims.dump());
}

// The SubjectPublicKeyInfo PEM of an RSA JWK: what an attacker makes of the JWKS.
std::string PublicPemOfJwk(const json& jwk) {
  PkeyPtr pkey = RsaPublicFromJwk(jwk);
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PUBKEY(bio.get(), pkey.get()) != 1) throw std::runtime_error("test: no PEM");
  return BioText(bio.get());
}

class HttpSecurityTest : public ServerTest {
 protected:
  void Configure(server::ServerConfig& config) override {
    config.statement_timeout_s = 2;
    config.max_result_rows = 1000;
    config.max_result_bytes = 1 << 20;  // a result keeps at most 1 MiB of encoded rows
    json jwks = {{"keys", json::array({IdpKey().PublicJwk()})}};
    auto file = dir_.path() / "idp-jwks.json";
    WriteFile(file, jwks.dump());
    server::TrustedIssuerConfig idp;
    idp.issuer = kIdpIssuer;
    idp.audience = kIdpAudience;
    idp.jwks_file = file.string();
    config.trusted_issuers.push_back(idp);
    // The lake is planted before the server starts, through a local session.
    session::Instance setup(options_);
    PlantLake(setup);
  }
  void SetUp() override {
    ServerTest::SetUp();
    admin_ = Login("admin", kAdminPassword);
    ana_ = Login("ana", kAnaPassword);
    ASSERT_FALSE(admin_.empty());
    ASSERT_FALSE(ana_.empty());
  }

  // The attack queries every forged token tries.
  static std::vector<std::string> Probes() {
    return {"SELECT * FROM d.payroll", "SELECT * FROM d.t ORDER BY id", "SELECT statement FROM system.audit"};
  }

  // A refused token: 401 for every probe, with a body that carries no data.
  void ExpectTokenRefused(const std::string& token, const std::string& what) {
    SCOPED_TRACE(what);
    for (auto& sql : Probes()) {
      auto r = Sql(token, sql);
      EXPECT_EQ(r.status, 401) << sql << " -> " << r.body;
      EXPECT_THAT(r.body, Not(HasSubstr("\"rows\""))) << sql;
      ExpectClean(r.body, what + ": " + sql);
    }
    auto w = Call("GET", "/v1/databases", token);
    EXPECT_EQ(w.status, 401) << w.body;
    EXPECT_THAT(w.body, Not(HasSubstr("\"hr\"")));
  }

  // ana's real token with its payload replaced by `claims`.
  std::string Retoken(const std::string& token, const std::function<void(json&)>& edit) {
    auto parts = Parts(token);
    json claims = DecodePart(parts[1]);
    edit(claims);
    return parts[0] + "." + identity::Base64UrlEncode(claims.dump()) + "." + parts[2];
  }

  std::string admin_, ana_;
};

TEST_F(HttpSecurityTest, AnaOverHttpSeesOnlyWhatTheSessionShows) {
  auto r = Sql(ana_, "SELECT * FROM d.t ORDER BY id");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = Json(r);
  EXPECT_EQ(j["row_count"], 2);
  EXPECT_EQ(j["rows"][0][3], "***@corp.example");
  ExpectClean(r.body, "ana's query over HTTP");
  for (auto& sql : Probes()) {
    if (sql.find("d.t") != std::string::npos) continue;
    auto refused = Sql(ana_, sql);
    EXPECT_TRUE(refused.status == 403 || refused.status == 404) << sql << " -> " << refused.body;
    ExpectClean(refused.body, sql);
  }
}

TEST_F(HttpSecurityTest, AlgNoneTokenIsRefused) {
  auto parts = Parts(ana_);
  json claims = DecodePart(parts[1]);
  json admin_claims = claims;
  admin_claims["sub"] = "admin";
  for (const json& header : {json{{"alg", "none"}}, json{{"alg", "none"}, {"typ", "JWT"}},
                             json{{"alg", "NONE"}, {"typ", "JWT"}, {"kid", DecodePart(parts[0])["kid"]}}}) {
    ExpectTokenRefused(Unsigned(header, admin_claims) + ".", "alg none, sub admin, " + header.dump());
    ExpectTokenRefused(Unsigned(header, admin_claims) + "." + parts[2], "alg none with the old signature");
    ExpectTokenRefused(Unsigned(header, claims) + ".", "alg none, sub ana");
  }
}

TEST_F(HttpSecurityTest, Hs256SignedWithThePublicKeyIsRefused) {
  auto r = Call("GET", "/.well-known/jwks.json");
  ASSERT_EQ(r.status, 200) << r.body;
  json jwk = Json(r)["keys"][0];
  std::string pem = PublicPemOfJwk(jwk);
  json claims = DecodePart(Parts(ana_)[1]);
  claims["sub"] = "admin";
  for (const std::string& secret :
       {pem, pem.substr(0, pem.find_last_not_of('\n') + 1), jwk.dump(), jwk["n"].get<std::string>()}) {
    for (const json& header : {json{{"alg", "HS256"}, {"typ", "JWT"}, {"kid", jwk["kid"]}},
                               json{{"alg", "HS256"}, {"typ", "JWT"}}}) {
      std::string input = Unsigned(header, claims);
      ExpectTokenRefused(input + "." + identity::Base64UrlEncode(HmacSha256(secret, input)),
                         "HS256 keyed with the public key " + header.dump());
    }
  }
}

TEST_F(HttpSecurityTest, ExpiredTokenIsRefused) {
  // Control: the trusted issuer's fresh token for ana works and shows EU rows only.
  auto ok = Sql(IdpKey().Sign(IdpClaims("maria", {"analysts"})), "SELECT count(*) FROM d.t");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Json(ok)["rows"][0][0], 2);
  json claims = IdpClaims("maria", {"analysts"});
  claims["iat"] = Now() - 7200;
  claims["nbf"] = Now() - 7200;
  claims["exp"] = Now() - 3600;
  ExpectTokenRefused(IdpKey().Sign(claims), "expired an hour ago");
  claims["exp"] = Now() - 120;  // beyond the 60 s leeway
  ExpectTokenRefused(IdpKey().Sign(claims), "expired two minutes ago");
  // An expired built-in token re-dated by hand breaks its signature.
  ExpectTokenRefused(Retoken(ana_, [](json& c) { c["exp"] = Now() + 86400 * 365; }), "exp pushed out");
}

TEST_F(HttpSecurityTest, WrongIssuerIsRefused) {
  json claims = IdpClaims("maria", {"analysts"});
  claims["iss"] = "https://evil.example.test";
  ExpectTokenRefused(IdpKey().Sign(claims), "an issuer nobody trusts");
  // The trusted issuer's key may not mint tokens in the server's own name.
  claims = IdpClaims("admin", json::array());
  claims["iss"] = service_->issuer();
  claims["aud"] = "tarn";
  ExpectTokenRefused(IdpKey().Sign(claims), "the IdP key claiming the built-in issuer");
  ExpectTokenRefused(Retoken(ana_, [](json& c) { c["iss"] = kIdpIssuer; }), "built-in token re-issued");
}

TEST_F(HttpSecurityTest, WrongAudienceIsRefused) {
  json claims = IdpClaims("maria", {"analysts"});
  claims["aud"] = "some-other-service";
  ExpectTokenRefused(IdpKey().Sign(claims), "another audience");
  claims["aud"] = json::array({"some-other-service"});
  ExpectTokenRefused(IdpKey().Sign(claims), "another audience (array)");
  claims.erase("aud");
  ExpectTokenRefused(IdpKey().Sign(claims), "no audience");
  claims["aud"] = "tarn";  // the built-in audience, not this issuer's
  ExpectTokenRefused(IdpKey().Sign(claims), "the built-in audience on an IdP token");
}

TEST_F(HttpSecurityTest, TokenOfADeletedUserIsRefused) {
  auto r = Call(
      "POST", "/v1/users", admin_,
      json{{"name", "temp"}, {"password", "temp-secret-123"}, {"groups", json::array({"analysts"})}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  std::string temp = Login("temp", "temp-secret-123");
  auto ok = Sql(temp, "SELECT count(*) FROM d.t");
  ASSERT_EQ(ok.status, 200) << ok.body;
  ASSERT_EQ(Call("DELETE", "/v1/users/temp", admin_).status, 200);
  ExpectTokenRefused(temp, "the token of a removed user");
  // A namesake created later does not revive the old token.
  r = Call("POST", "/v1/users", admin_, json{{"name", "temp"}, {"password", "other-secret-456"}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  ExpectTokenRefused(temp, "the token of a removed user's namesake");
}

TEST_F(HttpSecurityTest, TamperedPayloadGrantingAdminIsRefused) {
  ExpectTokenRefused(Retoken(ana_, [](json& c) { c["sub"] = "admin"; }), "sub changed to admin");
  ExpectTokenRefused(Retoken(ana_, [](json& c) { c["admin"] = true; }), "admin: true added");
  ExpectTokenRefused(Retoken(ana_,
                             [](json& c) {
                               c["groups"] = json::array({"analysts", "admins"});
                             }),
                     "groups widened");
  // Two payloads, one signature; trailing garbage; a fourth segment.
  auto parts = Parts(ana_);
  json admin_claims = DecodePart(parts[1]);
  admin_claims["sub"] = "admin";
  ExpectTokenRefused(ana_ + "." + identity::Base64UrlEncode(admin_claims.dump()), "a fourth segment");
  ExpectTokenRefused(
      parts[0] + "." + identity::Base64UrlEncode(admin_claims.dump()) + parts[1] + "." + parts[2],
      "payloads concatenated");
  // The untampered token still works: the refusals were about the tampering.
  EXPECT_EQ(Sql(ana_, "SELECT 1").status, 200);
}

// A trusted issuer names its own people; it should not be able to name the local
// bootstrap administrator and inherit what `admin` owns (grants are by name only).
TEST_F(HttpSecurityTest, ExternalUserNamedLikeTheLocalAdminGetsNoOwnerGrants) {
  std::string token = IdpKey().Sign(IdpClaims("admin", json::array()));
  auto who = Call("GET", "/v1/whoami", token);
  EXPECT_EQ(who.status, 401) << who.body;
  auto r = Sql(token, "SELECT note FROM d.payroll");
  EXPECT_EQ(r.status, 401) << r.body;
  ExpectClean(r.body, "an external admin namesake");
  // Case does not make another name: built-in names are case-insensitive.
  r = Sql(IdpKey().Sign(IdpClaims("ADMIN", json::array())), "SELECT note FROM d.payroll");
  EXPECT_EQ(r.status, 401) << r.body;
  ExpectClean(r.body, "an external ADMIN namesake");
  // A name no built-in user has is the issuer's to use.
  EXPECT_EQ(Call("GET", "/v1/whoami", IdpKey().Sign(IdpClaims("outside-person", json::array()))).status, 200);
}

// Limits per principal (SET LIMIT ... FOR USER|GROUP|ROLE): the user's own setting
// wins, else the most generous of its groups and roles, else the server's [limits].
TEST_F(HttpSecurityTest, PerPrincipalLimitsStopRunawaysAndCapResults) {
  for (const char* sql :
       {"SET LIMIT statement_timeout = '1s' FOR GROUP analysts",
        "SET LIMIT result_rows = 5 FOR GROUP analysts", "SET LIMIT result_rows = 3 FOR USER ana",
        "SET LIMIT result_bytes = '2KB' FOR GROUP analysts",
        "SET LIMIT concurrent_statements = 1 FOR GROUP analysts"}) {
    auto r = Sql(admin_, sql);
    ASSERT_EQ(r.status, 200) << sql << " -> " << r.body;
  }
  // Only administrators set limits; nobody lifts their own.
  auto self = Sql(ana_, "SET LIMIT statement_timeout = '1h' FOR USER ana");
  EXPECT_EQ(self.status, 403) << self.body;
  auto shown = Json(Sql(ana_, "SHOW LIMITS"));
  EXPECT_EQ(shown["rows"][0], json::array({"statement_timeout", 1, "GROUP analysts"})) << shown.dump();
  EXPECT_EQ(shown["rows"][1], json::array({"result_rows", 3, "USER ana"})) << shown.dump();

  // The runaway is stopped after ana's 1 s, not the server's 2 s.
  auto start = std::chrono::steady_clock::now();
  auto r = Sql(ana_, "SELECT count(*) FROM range(10000000000000) r(i) WHERE i % 3 = 1");
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_THAT(Json(r)["error"]["message"].get<std::string>(), HasSubstr("longer than 1 s"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
  // Rows: capped at 3 whatever the request asks; bytes: the rows sent stay within
  // 2 KB (a row that would cross it is not sent), and a Parquet result above is refused.
  auto rows = Json(Sql(ana_, "SELECT * FROM range(10)", {{"limit", 1000}}));
  EXPECT_EQ(rows["rows"].size(), 3u) << rows.dump();
  EXPECT_EQ(rows["truncated"], true);
  auto big = Sql(ana_, "SELECT repeat('x', 1500) AS s FROM range(2)");
  ASSERT_EQ(big.status, 200) << big.body.substr(0, 200);
  EXPECT_EQ(Json(big)["rows"].size(), 1u);
  EXPECT_EQ(Json(big)["truncated"], true);
  EXPECT_LT(big.body.size(), 2500u);
  auto parquet =
      Sql(ana_, "SELECT repeat(md5(i::VARCHAR), 100) AS s FROM range(100) r(i)", {{"format", "parquet"}});
  EXPECT_EQ(parquet.status, 429) << parquet.body.substr(0, 200);
  // Concurrency: one statement at a time for analysts.
  auto slow = Sql(ana_, "SELECT count(*) FROM range(10000000000000) r(i) WHERE i % 5 = 1",
                  {{"async", true}, {"query_id", "slow-one"}});
  ASSERT_EQ(slow.status, 202) << slow.body;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto second = Sql(ana_, "SELECT 'second' AS s");
  EXPECT_EQ(second.status, 429) << second.body;
  EXPECT_THAT(second.body, HasSubstr("GROUP analysts"));
  // The refusal is audited like any statement.
  auto audited = Json(
      Sql(admin_, "SELECT outcome, reason FROM system.audit WHERE statement = 'SELECT ''second'' AS s'"));
  ASSERT_EQ(audited["rows"].size(), 1u) << audited.dump();
  EXPECT_EQ(audited["rows"][0][0], "limit");
  EXPECT_THAT(audited["rows"][0][1].get<std::string>(), HasSubstr("your limit"));
  // The administrator is not held by analysts' limits (the server's apply).
  auto admin_rows = Json(Sql(admin_, "SELECT * FROM range(10)"));
  EXPECT_EQ(admin_rows["rows"].size(), 10u);
  // RESET: the server's defaults are back.
  for (const char* sql :
       {"RESET LIMIT result_rows FOR USER ana", "RESET LIMIT result_rows FOR GROUP analysts"}) {
    ASSERT_EQ(Sql(admin_, sql).status, 200) << sql;
  }
  auto pending = [&] {
    auto state = Json(Call("GET", "/v1/queries/slow-one", ana_)).value("state", "");
    return state == "queued" || state == "running";
  };
  for (int i = 0; i < 50 && pending(); i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(Json(Sql(ana_, "SELECT * FROM range(10)"))["rows"].size(), 10u);
  // Bad settings are explained.
  auto bad = Sql(admin_, "SET LIMIT result_bytes = 'lots' FOR GROUP analysts");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("64MB"));
  bad = Sql(admin_, "SET LIMIT memory_hog = 1 FOR GROUP analysts");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("unknown limit"));
}

// A memory limit is a pool: an engine of that size of its own, for the principals
// the setting decides for (here ana alone). Their statements together cannot take
// more, and nobody else's are affected.
TEST_F(HttpSecurityTest, PerPrincipalMemoryLimitStopsAHungryStatementOnly) {
  // About 100 MB of string state that cannot spill.
  const std::string hungry = "SELECT length(string_agg(md5(i::VARCHAR), ',')) AS n FROM range(3000000) r(i)";
  // It takes about 2 s on a busy 2-core machine: past this fixture's 2 s timeout.
  ASSERT_EQ(Sql(admin_,
                "SET LIMIT statement_timeout = '120s' FOR USER admin; SET LIMIT statement_timeout = "
                "'120s' FOR USER ana")
                .status,
            200);
  ASSERT_EQ(Sql(admin_, "SET LIMIT memory = '48MB' FOR USER ana").status, 200);
  auto r = Sql(ana_, hungry);
  EXPECT_EQ(r.status, 429) << r.body.substr(0, 300);
  EXPECT_THAT(r.body, HasSubstr("out of memory"));
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
  // Within the limit ana works as before, and others are not held by it.
  auto small = Sql(ana_, "SELECT count(*) FROM d.t");
  EXPECT_EQ(small.status, 200) << small.body;
  EXPECT_EQ(Json(small)["rows"][0][0], 2);
  auto admin = Sql(admin_, hungry);
  EXPECT_EQ(admin.status, 200) << admin.body.substr(0, 300);
  EXPECT_EQ(Json(admin)["rows"][0][0], 3000000 * 33 - 1);
  // Lifted, the same statement runs for ana too.
  ASSERT_EQ(Sql(admin_, "RESET LIMIT memory FOR USER ana").status, 200);
  EXPECT_EQ(Sql(ana_, hungry).status, 200);
  auto shown = Json(Sql(ana_, "SHOW LIMITS"));
  EXPECT_EQ(shown["rows"][4], json::array({"memory", nullptr, "server default"})) << shown.dump();
}

TEST_F(HttpSecurityTest, RunawayStatementIsStoppedAndTheServerStaysHealthy) {
  auto start = std::chrono::steady_clock::now();
  auto r = Sql(ana_, "SELECT count(*) FROM range(10000000000000) r(i) WHERE i % 3 = 1");
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_THAT(Json(r)["error"]["message"].get<std::string>(), HasSubstr("longer than 2 s"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  ExpectClean(r.body, "the runaway statement");
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
  // A cross join of a governed table with a huge range is stopped the same way.
  r = Sql(ana_, "SELECT count(*) FROM d.t, range(10000000000000) r(i) WHERE i % 7 = amount");
  EXPECT_EQ(r.status, 429) << r.body;
  ExpectClean(r.body, "the runaway join");
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
  auto after = Sql(ana_, "SELECT count(*) FROM d.t");
  EXPECT_EQ(after.status, 200) << after.body;
}

TEST_F(HttpSecurityTest, HugeResultIsPagedAndCutOnlyAtACapThatItNames) {
  // Pages of 10 under the caller's own cap of 25: 10 + 10 + 5, the last one says why it ends.
  auto r = Sql(ana_, "SELECT i FROM range(10000000000000) r(i)", {{"limit", 10}, {"max_rows", 25}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = Json(r);
  EXPECT_EQ(j["row_count"], 10);
  EXPECT_EQ(j["total_rows"], 25);
  EXPECT_EQ(j["truncated"], true);
  ASSERT_TRUE(j.contains("next_uri")) << j.dump();
  std::vector<int64_t> seen;
  for (auto& row : j["rows"]) seen.push_back(row[0]);
  while (j.contains("next_uri")) {
    auto page = Call("GET", j["next_uri"], ana_);
    ASSERT_EQ(page.status, 200) << page.body;
    j = Json(page);
    for (auto& row : j["rows"]) seen.push_back(row[0]);
  }
  ASSERT_EQ(seen.size(), 25u);
  for (int64_t i = 0; i < 25; i++) EXPECT_EQ(seen[i], i);
  EXPECT_EQ(j["truncated"], true);
  EXPECT_THAT(j["truncated_reason"].get<std::string>(), HasSubstr("max_rows 25"));
  // Without a cap of the caller's, the server's max_result_bytes (1 MiB here) ends it, and says so.
  r = Sql(ana_, "SELECT i FROM range(10000000000000) r(i)");
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 200);
  j = Json(r);
  EXPECT_EQ(j["row_count"], 1000);
  EXPECT_EQ(j["truncated"], true);
  int64_t total = j["total_rows"];
  EXPECT_GT(total, 50000);
  auto last = Call("GET", fmt::format("/v1/queries/{}/results/{}", j["query_id"].get<std::string>(), (total - 1) / 1000), ana_);
  ASSERT_EQ(last.status, 200) << last.body.substr(0, 200);
  EXPECT_FALSE(Json(last).contains("next_uri"));
  EXPECT_THAT(Json(last)["truncated_reason"].get<std::string>(), HasSubstr("max_result_bytes"));
  // Nobody else reads the pages, not even an administrator.
  EXPECT_EQ(Call("GET", fmt::format("/v1/queries/{}/results/1", j["query_id"].get<std::string>()), admin_).status, 404);
  r = Sql(ana_, "SELECT i FROM range(10000000000000) r(i)", {{"limit", 1000000}});
  EXPECT_EQ(r.status, 400) << r.body;  // pages beyond max_result_rows
  r = Sql(ana_, "SELECT i FROM range(10000000000000) r(i)", {{"format", "csv"}, {"limit", 5}, {"max_rows", 7}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["x-tarn-truncated"], "true");
  EXPECT_EQ(r.body, "i\n0\n1\n2\n3\n4\n");
  auto next = Call("GET", r.headers["x-tarn-next-uri"], ana_);
  ASSERT_EQ(next.status, 200) << next.body;
  EXPECT_EQ(next.body, "5\n6\n");
  EXPECT_THAT(next.headers["x-tarn-truncated-reason"], HasSubstr("max_rows 7"));
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
}

TEST_F(HttpSecurityTest, RunawayParquetResultIsStoppedAndLeavesNoFile) {
  auto r =
      Sql(ana_, "SELECT i FROM range(10000000000000) r(i) WHERE i % 1000000007 = 0", {{"format", "parquet"}});
  EXPECT_EQ(r.status, 429) << r.body.substr(0, 200);
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
  auto leftovers = FilesUnder(instance_->temp_dir(), ".parquet");
  EXPECT_TRUE(leftovers.empty()) << leftovers.front();
}

TEST_F(HttpSecurityTest, AnotherPrincipalsQueryResultCannotBeFetchedOrCancelled) {
  auto r = Sql(admin_, "SELECT note FROM d.payroll", {{"async", true}, {"query_id", "payroll-q"}});
  ASSERT_EQ(r.status, 202) << r.body;
  for (int i = 0; i < 100; i++) {
    if (Call("GET", "/v1/queries/payroll-q", admin_).headers["x-tarn-query-state"] == "finished") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_THAT(Call("GET", "/v1/queries/payroll-q", admin_).body, HasSubstr("payroll-secret-8080"));
  std::string idp_maria = IdpKey().Sign(IdpClaims("maria", {"analysts"}));
  for (auto& [who, token] :
       std::vector<std::pair<std::string, std::string>>{{"ana", ana_}, {"idp maria", idp_maria}}) {
    SCOPED_TRACE(who);
    auto got = Call("GET", "/v1/queries/payroll-q", token);
    auto none = Call("GET", "/v1/queries/payroll-x", token);
    EXPECT_EQ(got.status, 404) << got.body;
    json g = Json(got), n = Json(none);
    g["error"].erase("request_id");
    n["error"].erase("request_id");
    EXPECT_EQ(g.dump(), ReplaceAll(n.dump(), "payroll-x", "payroll-q"));
    ExpectClean(got.body, "another principal's query result");
    auto del = Call("DELETE", "/v1/queries/payroll-q", token);
    EXPECT_EQ(del.status, 404) << del.body;
    ExpectClean(del.body, "cancelling another principal's query");
  }
  // The same id is free for ana: ids are per principal and say nothing about others'.
  r = Sql(ana_, "SELECT 1", {{"query_id", "payroll-q"}});
  EXPECT_EQ(r.status, 200) << r.body;
  ExpectClean(r.body, "ana reusing the id");
}

// A built-in token is void if issued up to the user's creation or last password
// change, to the millisecond: a token obtained with a stolen password just before
// the reset (the same second, even) dies with the reset, and one issued to a removed
// user does not work for a namesake created right after.
TEST_F(HttpSecurityTest, TokenIssuedJustBeforeAPasswordResetOrRemovalDies) {
  ASSERT_EQ(
      Call("POST", "/v1/users", admin_,
           json{{"name", "victim"}, {"password", "stolen-secret-1"}, {"groups", json::array({"analysts"})}}
               .dump())
          .status,
      201);
  for (int attempt = 1; attempt <= 3; attempt++) {
    SCOPED_TRACE(attempt);
    std::string stolen = Login("victim", "stolen-secret-" + std::to_string(attempt));  // the attacker's
    ASSERT_EQ(Sql(stolen, "SELECT 1").status, 200);
    auto reset = Call("PUT", "/v1/users/victim/password", admin_,
                      json{{"password", "stolen-secret-" + std::to_string(attempt + 1)}}.dump());
    ASSERT_EQ(reset.status, 200) << reset.body;
    ExpectTokenRefused(stolen, "a token from just before a password reset");
  }
  for (int attempt = 1; attempt <= 3; attempt++) {
    SCOPED_TRACE(attempt);
    std::string name = "gone" + std::to_string(attempt);
    ASSERT_EQ(
        Call("POST", "/v1/users", admin_, json{{"name", name}, {"password", "old-secret-123"}}.dump()).status,
        201);
    std::string old = Login(name, "old-secret-123");
    ASSERT_EQ(Call("DELETE", "/v1/users/" + name, admin_).status, 200);
    ASSERT_EQ(
        Call("POST", "/v1/users", admin_, json{{"name", name}, {"password", "new-secret-456"}}.dump()).status,
        201);
    ExpectTokenRefused(old, "a removed user's token, namesake re-created at once");
    // The namesake's own fresh token works.
    EXPECT_EQ(Call("GET", "/v1/whoami", Login(name, "new-secret-456")).status, 200);
  }
}

TEST_F(HttpSecurityTest, CatalogRoutesReportHiddenTablesLikeMissingOnes) {
  auto hidden = Call("GET", "/v1/databases/d/tables/payroll", ana_);
  auto missing = Call("GET", "/v1/databases/d/tables/nopayroll", ana_);
  EXPECT_EQ(hidden.status, 404) << hidden.body;
  EXPECT_EQ(missing.status, 404) << missing.body;
  json h = Json(hidden), m = Json(missing);
  h["error"].erase("request_id");
  m["error"].erase("request_id");
  EXPECT_EQ(h.dump(), ReplaceAll(m.dump(), "nopayroll", "payroll"));
  ExpectClean(hidden.body, "the hidden table route");
  auto db_hidden = Call("GET", "/v1/databases/hr/tables", ana_);
  auto db_missing = Call("GET", "/v1/databases/hx/tables", ana_);
  EXPECT_EQ(db_hidden.status, db_missing.status);
  auto list = Call("GET", "/v1/databases", ana_);
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_THAT(list.body, Not(HasSubstr("\"hr\"")));
  auto t = Call("GET", "/v1/databases/d/tables/t", ana_);
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_THAT(t.body, Not(HasSubstr("ssn")));
  ExpectClean(t.body, "the table route");
  // Injected names in the path are just names.
  auto inj = Call("GET", "/v1/databases/d/tables/t%3B%20DROP%20TABLE%20d.t", ana_);
  EXPECT_TRUE(inj.status == 404 || inj.status == 400) << inj.body;
  ExpectClean(inj.body, "an injected route");
  EXPECT_EQ(Json(Sql(admin_, "SELECT count(*) FROM d.t"))["rows"][0][0], 4);
}

}  // namespace
}  // namespace tarn::testing
