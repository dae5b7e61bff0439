// Encryption at rest of managed tables: the files cannot be read without the key,
// Tarn reads and changes them as any table, keys rotate for new files, and the key
// never reaches the audit trail or an error.
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "catalog/lakehouse_fixture.h"

using ::testing::HasSubstr;
using ::testing::Not;

namespace tarn::testing {
namespace {

class Encryption : public LakehouseTest {
 protected:
  std::vector<lake::DataFile> Files(const std::string& table = "t") {
    auto lease = admin_->Borrow();
    auto& cat = lease->catalog();
    return cat.SnapshotFiles(*cat.GetTable("d", table).snapshot_id);
  }
  static std::string Bytes(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // Whether DuckDB alone (no key given) can read the file.
  static bool ReadableWithoutKey(const std::filesystem::path& p) {
    duckdb::DuckDB db(nullptr);
    duckdb::Connection c(db);
    return !c.Query("SELECT count(*) FROM read_parquet('" + p.string() + "')")->HasError();
  }
  std::string KeyringText() { return Bytes(dir_.path() / "table-keys" / "tables.json"); }
  std::string Summary(const std::string& t = "d.t") {
    return One("SELECT count(*) || '/' || sum(id) || '/' || count(DISTINCT s) FROM " + t);
  }
};

TEST_P(Encryption, FilesOfAnEncryptedTableCannotBeReadWithoutTheKey) {
  Exec(
      "CREATE DATABASE d; CREATE TABLE d.t WITH (encrypted = true) AS SELECT range AS id, 'secret-value-' || "
      "range AS s "
      "FROM range(1000); CREATE TABLE d.plain AS SELECT range AS id, 'secret-value-' || range AS s FROM "
      "range(1000)");
  EXPECT_EQ(Summary(), "1000/499500/1000");
  auto files = Files();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_FALSE(files[0].key_id.empty());
  auto path = instance_->lake().Absolute(files[0].path);
  EXPECT_FALSE(ReadableWithoutKey(path));
  EXPECT_EQ(Bytes(path).find("secret-value-"), std::string::npos);
  // The plain table, for contrast: readable, values in the clear.
  auto plain = instance_->lake().Absolute(Files("plain")[0].path);
  EXPECT_TRUE(ReadableWithoutKey(plain));
  EXPECT_NE(Bytes(plain).find("secret-value-"), std::string::npos);
  EXPECT_EQ(Query(*admin_, "SHOW TBLPROPERTIES d.t")[2][1], "true");
  // The keyring is private to the owner.
  struct stat st {};
  ASSERT_EQ(::stat((dir_.path() / "table-keys" / "tables.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir_.path() / "table-keys").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_P(Encryption, AnEncryptedTableIsChangedCompactedAndReadBackInTimeLikeAnyOther) {
  Exec(
      "CREATE DATABASE d; CREATE TABLE d.t WITH (encrypted = true, write_mode = 'merge-on-read') AS SELECT "
      "range AS "
      "id, 's' || range AS s FROM range(500); INSERT INTO d.t SELECT range, 's' || range FROM range(500, "
      "1000)");
  auto before = Query(*admin_, "SHOW HISTORY d.t")[0][0];
  Exec("DELETE FROM d.t WHERE id % 10 = 0; UPDATE d.t SET s = 'x' WHERE id % 10 = 1");
  Exec(
      "MERGE INTO d.t x USING (SELECT 2 AS id UNION ALL SELECT 5000) m ON x.id = m.id WHEN MATCHED THEN "
      "DELETE "
      "WHEN NOT MATCHED THEN INSERT VALUES (m.id, 'new')");
  EXPECT_EQ(One("SELECT count(*) || '/' || count(*) FILTER (WHERE s = 'x') FROM d.t"), "900/100");
  Exec("ALTER TABLE d.t UNSET TBLPROPERTIES ('write_mode'); UPDATE d.t SET s = 'y' WHERE id = 3");
  Exec("OPTIMIZE d.t");
  for (auto& f : Files()) {
    EXPECT_FALSE(f.key_id.empty()) << f.path;
    EXPECT_FALSE(ReadableWithoutKey(instance_->lake().Absolute(f.path)));
  }
  EXPECT_EQ(One("SELECT count(*) || '/' || count(*) FILTER (WHERE s = 'x') || '/' || max(id) FROM d.t"),
            "900/100/5000");
  EXPECT_EQ(One("SELECT count(*) FROM d.t AT (SNAPSHOT => " + before + ")"), "1000");
  // A restarted instance reads the keyring from the data directory.
  runner_.reset();
  admin_.reset();
  instance_ = std::make_unique<session::Instance>(options_);
  runner_ = std::make_unique<session::Runner>(*instance_, session::RunnerOptions{});
  admin_ = std::make_unique<RunAs>(*runner_, session::Instance::LocalCaller().principal);
  EXPECT_EQ(One("SELECT count(*) FROM d.t WHERE s = 'y'"), "1");
}

TEST_P(Encryption, AnEvolvedPartitionedTableStaysEncryptedAndReadable) {
  Exec(
      "CREATE DATABASE d; CREATE TABLE d.t WITH (encrypted = true) AS SELECT range AS id, 's' || range AS s "
      "FROM "
      "range(100)");
  Exec("ALTER TABLE d.t ADD COLUMN g INTEGER; ALTER TABLE d.t RENAME COLUMN s TO label");
  Exec(
      "ALTER TABLE d.t SET PARTITIONED BY (g); INSERT INTO d.t SELECT range, 'p', range % 4 FROM range(100, "
      "200)");
  auto files = Files();
  EXPECT_EQ(files.size(), 5u);  // the first file and one per g
  for (auto& f : files) {
    EXPECT_FALSE(f.key_id.empty()) << f.path;
    EXPECT_GT(f.row_count, 0) << f.path;
    EXPECT_FALSE(ReadableWithoutKey(instance_->lake().Absolute(f.path))) << f.path;
  }
  EXPECT_EQ(
      One("SELECT count(*) || '/' || sum(id) || '/' || count(g) || '/' || count(DISTINCT label) FROM d.t"),
      "200/19900/100/101");
}

TEST_P(Encryption, RotationEncryptsNewFilesWithANewKeyAndOldOnesStayReadable) {
  Exec(
      "CREATE DATABASE d; CREATE TABLE d.t WITH (encrypted = true) AS SELECT range AS id, 's' || range AS s "
      "FROM "
      "range(100)");
  std::string first = Files()[0].key_id;
  std::string second = instance_->keyring().Rotate();
  EXPECT_NE(first, second);
  Exec("INSERT INTO d.t SELECT range, 's' || range FROM range(100, 200)");
  std::set<std::string> keys;
  for (auto& f : Files()) keys.insert(f.key_id);
  EXPECT_EQ(keys, (std::set<std::string>{first, second}));
  EXPECT_EQ(Summary(), "200/19900/200");
  // Files under both keys are changed in place and by merge-on-read.
  Exec("DELETE FROM d.t WHERE id IN (1, 101)");
  Exec(
      "ALTER TABLE d.t SET TBLPROPERTIES ('write_mode' = 'merge-on-read'); DELETE FROM d.t WHERE id IN (2, "
      "102)");
  EXPECT_EQ(Summary(), "196/19694/196");
  auto listed = instance_->keyring().List();
  ASSERT_EQ(listed.size(), 2u);
  // A key that is gone: its files cannot be read, and the error names the key's id only.
  auto text = KeyringText();
  runner_.reset();
  admin_.reset();
  std::filesystem::remove(dir_.path() / "table-keys" / "tables.json");
  instance_ = std::make_unique<session::Instance>(options_);
  runner_ = std::make_unique<session::Runner>(*instance_, session::RunnerOptions{});
  admin_ = std::make_unique<RunAs>(*runner_, session::Instance::LocalCaller().principal);
  auto e = ExpectError(*admin_, "SELECT count(*) FROM d.t");
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  EXPECT_THAT(e.what(), HasSubstr("the key k"));
  // No key's material is in an error or in the audit trail.
  auto keyring = nlohmann::json::parse(text);
  for (auto& [id, k] : keyring["keys"].items()) {
    std::string material = k["key"];
    EXPECT_THAT(e.what(), Not(HasSubstr(material)));
    for (auto& entry : std::filesystem::recursive_directory_iterator(instance_->audit_dir())) {
      if (entry.is_regular_file()) {
        EXPECT_EQ(Bytes(entry.path()).find(material), std::string::npos);
      }
    }
  }
}

TEST_P(Encryption, AnOperatorKeyFileEncryptsEveryNewTableAndNeverLandsInTheDataDirectory) {
  auto key_file = dir_.path() / "operator.key";
  std::string key = "MDEyMzQ1Njc4OTExMjM0NTAxMjM0NTY3ODkxMTIzNDU=";
  std::ofstream(key_file) << key << "\n";
  runner_.reset();
  admin_.reset();
  options_.table_key_file = key_file.string();
  options_.encrypt_tables = true;
  instance_ = std::make_unique<session::Instance>(options_);
  runner_ = std::make_unique<session::Runner>(*instance_, session::RunnerOptions{});
  admin_ = std::make_unique<RunAs>(*runner_, session::Instance::LocalCaller().principal);
  Exec("CREATE DATABASE d; CREATE TABLE d.t AS SELECT range AS id, 's' || range AS s FROM range(10)");
  auto files = Files();
  EXPECT_EQ(files[0].key_id.substr(0, 4), "ext-");
  EXPECT_FALSE(ReadableWithoutKey(instance_->lake().Absolute(files[0].path)));
  EXPECT_EQ(Summary(), "10/45/10");
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "table-keys" / "tables.json"));
  EXPECT_EQ(CatchError([&] { instance_->keyring().Rotate(); }).code(), ErrorCode::kInvalidArgument);
  // WITH (encrypted = false) opts a table out; a bad key file stops the instance with a clear error.
  Exec("CREATE TABLE d.p WITH (encrypted = false) AS SELECT 1 AS id");
  EXPECT_TRUE(Files("p")[0].key_id.empty());
  std::ofstream(key_file) << "too short\n";
  auto e = CatchError([&] { session::Instance again(options_); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(e.what(), HasSubstr("does not hold a 256-bit key"));
  EXPECT_EQ(ExpectError(*admin_, "CREATE TABLE d.q WITH (encrypted = maybe) AS SELECT 1 AS id").code(),
            ErrorCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Backends, Encryption, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tarn::testing
