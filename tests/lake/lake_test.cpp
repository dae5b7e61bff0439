#include "lake/lake.h"

#include <gtest/gtest.h>
#include <duckdb/parser/statement/select_statement.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "engine/engine.h"
#include "lake/data_writer.h"
#include "test_util.h"

namespace tarn::lake {
namespace {

namespace fs = std::filesystem;
using tarn::testing::TempDir;
using tarn::testing::WriteFile;

using tarn::testing::CatchError;

class LakeTest : public ::testing::Test {
 protected:
  LakeTest() : lake_(root_.path()) {}

  // Absolute paths of `relative` paths under the root, for comparing with ListFiles.
  std::vector<fs::path> Paths(const std::vector<std::string>& relative) {
    std::vector<fs::path> out;
    for (auto& r : relative) out.push_back(root_.path() / r);
    return out;
  }
  ErrorCode CheckCode(const std::string& location) {
    return CatchError([&] { lake_.CheckLocation(location); }).code();
  }
  // data/: a.csv b.csv ab.csv sub/d.csv c.parquet notes.txt plus hidden files and folders.
  void MakeDataFolder() {
    for (const char* f :
         {"data/a.csv", "data/b.csv", "data/ab.csv", "data/sub/d.csv", "data/c.parquet", "data/notes.txt",
          "data/.hidden.csv", "data/_SUCCESS", "data/_tmp/x.csv", "data/.dir/y.csv", "data/sub/_z.csv"}) {
      WriteFile(root_ / f, "x\n1\n");
    }
  }

  TempDir root_;
  TempDir outside_;
  Lake lake_;
};

// --- CheckLocation -------------------------------------------------------------------

TEST_F(LakeTest, RootIsMadeCanonical) {
  fs::create_directories(root_ / "inner");
  Lake lake(root_ / "inner" / "..");
  EXPECT_EQ(lake.root(), root_.path());
}

TEST_F(LakeTest, MissingRootIsNotFound) {
  EXPECT_EQ(CatchError([&] { Lake lake(root_ / "missing"); }).code(), ErrorCode::kNotFound);
}

TEST_F(LakeTest, CheckLocationAcceptsARelativePath) {
  EXPECT_EQ(lake_.CheckLocation("a/b"), "a/b");
  EXPECT_EQ(lake_.CheckLocation("file.csv"), "file.csv");
}

TEST_F(LakeTest, CheckLocationAcceptsAPathThatDoesNotExistYet) {
  EXPECT_EQ(lake_.CheckLocation("not/there/yet"), "not/there/yet");
}

TEST_F(LakeTest, CheckLocationAcceptsGlobs) {
  EXPECT_EQ(lake_.CheckLocation("data/**/*.parquet"), "data/**/*.parquet");
}

TEST_F(LakeTest, CheckLocationNormalizesDotsAndSlashes) {
  EXPECT_EQ(lake_.CheckLocation("a/./b/"), "a/b");
  EXPECT_EQ(lake_.CheckLocation("./a//b"), "a/b");
}

TEST_F(LakeTest, CheckLocationRejectsEmpty) {
  EXPECT_EQ(CheckCode(""), ErrorCode::kInvalidArgument);
}

TEST_F(LakeTest, CheckLocationRejectsTheRootItself) {
  EXPECT_EQ(CheckCode("."), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckCode("./"), ErrorCode::kInvalidArgument);
}

TEST_F(LakeTest, CheckLocationRejectsAbsolutePaths) {
  EXPECT_EQ(CheckCode("/etc/passwd"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckCode("~/data"), ErrorCode::kInvalidArgument);
}

TEST_F(LakeTest, CheckLocationRejectsDotDot) {
  EXPECT_EQ(CheckCode(".."), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckCode("../x"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckCode("a/../b"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckCode("a/.."), ErrorCode::kInvalidArgument);
}

TEST_F(LakeTest, CheckLocationRejectsBackslash) {
  EXPECT_EQ(CheckCode("a\\b"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckCode("..\\x"), ErrorCode::kInvalidArgument);
}

TEST_F(LakeTest, CheckLocationRejectsControlCharacters) {
  EXPECT_EQ(CheckCode("a\nb"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckCode("a\tb"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckCode(std::string("a\0b", 3)), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckCode("a\x7f"), ErrorCode::kInvalidArgument);
}

TEST_F(LakeTest, CheckLocationRejectsUrls) {
  EXPECT_EQ(CheckCode("s3://bucket/data"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckCode("https://example.com/x.csv"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckCode("file:///etc/passwd"), ErrorCode::kInvalidArgument);
}

TEST_F(LakeTest, CheckLocationRejectsTheWarehouse) {
  EXPECT_EQ(CheckCode("warehouse"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckCode("warehouse/sales/t-1"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckCode("./warehouse/sales"), ErrorCode::kInvalidArgument);
}

TEST_F(LakeTest, CheckLocationAcceptsNamesThatOnlyStartLikeWarehouse) {
  EXPECT_EQ(lake_.CheckLocation("warehouses/x"), "warehouses/x");
}

TEST_F(LakeTest, CheckLocationRejectsOverlongLocations) {
  EXPECT_EQ(CheckCode(std::string(1025, 'a')), ErrorCode::kInvalidArgument);
}

TEST_F(LakeTest, CheckLocationRejectsASymlinkToOutsideTheLake) {
  WriteFile(outside_ / "secret.csv", "s\n1\n");
  fs::create_directory_symlink(outside_.path(), root_ / "escape");
  EXPECT_EQ(CheckCode("escape"), ErrorCode::kPermissionDenied);
  EXPECT_EQ(CheckCode("escape/secret.csv"), ErrorCode::kPermissionDenied);
  EXPECT_EQ(CheckCode("escape/*.csv"), ErrorCode::kPermissionDenied);
}

TEST_F(LakeTest, CheckLocationRejectsASymlinkedFileToOutsideTheLake) {
  WriteFile(outside_ / "secret.csv", "s\n1\n");
  fs::create_directories(root_ / "data");
  fs::create_symlink(outside_ / "secret.csv", root_ / "data" / "link.csv");
  EXPECT_EQ(CheckCode("data/link.csv"), ErrorCode::kPermissionDenied);
}

TEST_F(LakeTest, CheckLocationRejectsADanglingSymlink) {
  fs::create_symlink(outside_ / "gone", root_ / "dangling");
  EXPECT_EQ(CheckCode("dangling"), ErrorCode::kPermissionDenied);
}

TEST_F(LakeTest, CheckLocationAcceptsASymlinkThatStaysInsideTheLake) {
  fs::create_directories(root_ / "real");
  fs::create_directory_symlink(root_ / "real", root_ / "alias");
  EXPECT_EQ(lake_.CheckLocation("alias/x.csv"), "alias/x.csv");
}

// --- ListFiles -----------------------------------------------------------------------

TEST_F(LakeTest, ListFilesOfASingleFile) {
  MakeDataFolder();
  EXPECT_EQ(lake_.ListFiles("data/a.csv", Format::kCsv), Paths({"data/a.csv"}));
}

TEST_F(LakeTest, ListFilesOfAFolderGivesFilesOfTheFormatAtAnyDepthSorted) {
  MakeDataFolder();
  EXPECT_EQ(lake_.ListFiles("data", Format::kCsv),
            Paths({"data/a.csv", "data/ab.csv", "data/b.csv", "data/sub/d.csv"}));
}

TEST_F(LakeTest, ListFilesOfAFolderSkipsOtherFormats) {
  MakeDataFolder();
  EXPECT_EQ(lake_.ListFiles("data", Format::kParquet), Paths({"data/c.parquet"}));
}

TEST_F(LakeTest, ListFilesSkipsNamesStartingWithDotOrUnderscore) {
  MakeDataFolder();
  for (auto& p : lake_.ListFiles("data", Format::kCsv)) {
    std::string rel = lake_.Relative(p);
    EXPECT_EQ(rel.find("/."), std::string::npos) << rel;
    EXPECT_EQ(rel.find("/_"), std::string::npos) << rel;
  }
  EXPECT_EQ(lake_.ListFiles("data/**/*.csv", Format::kCsv).size(), 4u);
}

TEST_F(LakeTest, ListFilesRecognisesCompressedAndAlternativeExtensions) {
  WriteFile(root_ / "logs/a.csv.gz", "x");
  WriteFile(root_ / "logs/b.tsv", "x");
  WriteFile(root_ / "logs/c.jsonl", "x");
  WriteFile(root_ / "logs/d.ndjson.zst", "x");
  EXPECT_EQ(lake_.ListFiles("logs", Format::kCsv), Paths({"logs/a.csv.gz", "logs/b.tsv"}));
  EXPECT_EQ(lake_.ListFiles("logs", Format::kJson), Paths({"logs/c.jsonl", "logs/d.ndjson.zst"}));
}

TEST_F(LakeTest, ListFilesExtensionsAreCaseInsensitive) {
  WriteFile(root_ / "up/A.CSV", "x");
  EXPECT_EQ(lake_.ListFiles("up", Format::kCsv), Paths({"up/A.CSV"}));
}

TEST_F(LakeTest, ListFilesStarMatchesWithinOneFolder) {
  MakeDataFolder();
  EXPECT_EQ(lake_.ListFiles("data/*.csv", Format::kCsv), Paths({"data/a.csv", "data/ab.csv", "data/b.csv"}));
}

TEST_F(LakeTest, ListFilesDoubleStarMatchesAnyDepth) {
  MakeDataFolder();
  WriteFile(root_ / "data/sub/deeper/e.csv", "x");
  EXPECT_EQ(lake_.ListFiles("data/**/*.csv", Format::kCsv),
            Paths({"data/a.csv", "data/ab.csv", "data/b.csv", "data/sub/d.csv", "data/sub/deeper/e.csv"}));
}

TEST_F(LakeTest, ListFilesQuestionMarkMatchesOneCharacter) {
  MakeDataFolder();
  EXPECT_EQ(lake_.ListFiles("data/?.csv", Format::kCsv), Paths({"data/a.csv", "data/b.csv"}));
}

TEST_F(LakeTest, ListFilesGlobInAFolderName) {
  WriteFile(root_ / "events/year=2023/a.parquet", "x");
  WriteFile(root_ / "events/year=2024/b.parquet", "x");
  WriteFile(root_ / "events/other/c.parquet", "x");
  EXPECT_EQ(lake_.ListFiles("events/year=*/*.parquet", Format::kParquet),
            Paths({"events/year=2023/a.parquet", "events/year=2024/b.parquet"}));
}

TEST_F(LakeTest, ListFilesOfAMissingPathIsNotFound) {
  EXPECT_EQ(CatchError([&] { lake_.ListFiles("missing", Format::kCsv); }).code(), ErrorCode::kNotFound);
  EXPECT_EQ(CatchError([&] { lake_.ListFiles("missing/*.csv", Format::kCsv); }).code(), ErrorCode::kNotFound);
}

TEST_F(LakeTest, ListFilesOfAGlobMatchingNothingIsNotFound) {
  MakeDataFolder();
  EXPECT_EQ(CatchError([&] { lake_.ListFiles("data/*.json", Format::kJson); }).code(), ErrorCode::kNotFound);
}

TEST_F(LakeTest, ListFilesOfAFolderWithoutFilesOfTheFormatIsNotFound) {
  MakeDataFolder();
  EXPECT_EQ(CatchError([&] { lake_.ListFiles("data", Format::kJson); }).code(), ErrorCode::kNotFound);
}

TEST_F(LakeTest, ListFilesOfAFolderWithOnlyHiddenFilesIsNotFound) {
  WriteFile(root_ / "quiet/_part.csv", "x");
  WriteFile(root_ / "quiet/.part.csv", "x");
  EXPECT_EQ(CatchError([&] { lake_.ListFiles("quiet", Format::kCsv); }).code(), ErrorCode::kNotFound);
}

TEST_F(LakeTest, ListFilesRefusesAFileSymlinkToOutsideInAFolder) {
  MakeDataFolder();
  WriteFile(outside_ / "secret.csv", "s\n1\n");
  fs::create_symlink(outside_ / "secret.csv", root_ / "data" / "evil.csv");
  EXPECT_EQ(CatchError([&] { lake_.ListFiles("data", Format::kCsv); }).code(), ErrorCode::kPermissionDenied);
}

TEST_F(LakeTest, ListFilesRefusesAFileSymlinkToOutsideMatchedByAGlob) {
  MakeDataFolder();
  WriteFile(outside_ / "secret.csv", "s\n1\n");
  fs::create_symlink(outside_ / "secret.csv", root_ / "data" / "evil.csv");
  EXPECT_EQ(CatchError([&] { lake_.ListFiles("data/*.csv", Format::kCsv); }).code(),
            ErrorCode::kPermissionDenied);
}

TEST_F(LakeTest, ListFilesRefusesASingleFileSymlinkToOutside) {
  WriteFile(outside_ / "secret.csv", "s\n1\n");
  fs::create_symlink(outside_ / "secret.csv", root_ / "evil.csv");
  EXPECT_EQ(CatchError([&] { lake_.ListFiles("evil.csv", Format::kCsv); }).code(),
            ErrorCode::kPermissionDenied);
}

TEST_F(LakeTest, ListFilesRefusesAFolderSymlinkToOutside) {
  WriteFile(outside_ / "secret.csv", "s\n1\n");
  fs::create_directory_symlink(outside_.path(), root_ / "escape");
  EXPECT_EQ(CatchError([&] { lake_.ListFiles("escape", Format::kCsv); }).code(),
            ErrorCode::kPermissionDenied);
}

TEST_F(LakeTest, ListFilesAcceptsAFileSymlinkInsideTheLake) {
  WriteFile(root_ / "real/a.csv", "x");
  fs::create_directories(root_ / "links");
  fs::create_symlink(root_ / "real/a.csv", root_ / "links/a.csv");
  EXPECT_EQ(lake_.ListFiles("links", Format::kCsv), Paths({"links/a.csv"}));
}

// --- GuessFormat ---------------------------------------------------------------------

TEST_F(LakeTest, GuessFormatOfParquetFiles) {
  WriteFile(root_ / "p/a.parquet", "x");
  WriteFile(root_ / "p/b.parquet", "x");
  EXPECT_EQ(lake_.GuessFormat("p"), Format::kParquet);
}

TEST_F(LakeTest, GuessFormatOfCsvFiles) {
  WriteFile(root_ / "c/a.csv", "x");
  WriteFile(root_ / "c/b.tsv.gz", "x");
  EXPECT_EQ(lake_.GuessFormat("c"), Format::kCsv);
}

TEST_F(LakeTest, GuessFormatOfJsonFiles) {
  WriteFile(root_ / "j/a.json", "x");
  WriteFile(root_ / "j/b.ndjson", "x");
  EXPECT_EQ(lake_.GuessFormat("j/*"), Format::kJson);
}

TEST_F(LakeTest, GuessFormatOfASingleFile) {
  WriteFile(root_ / "one.json", "x");
  EXPECT_EQ(lake_.GuessFormat("one.json"), Format::kJson);
}

TEST_F(LakeTest, GuessFormatIgnoresHiddenFiles) {
  WriteFile(root_ / "p/a.parquet", "x");
  WriteFile(root_ / "p/_SUCCESS", "");
  WriteFile(root_ / "p/.a.parquet.crc", "");
  EXPECT_EQ(lake_.GuessFormat("p"), Format::kParquet);
}

TEST_F(LakeTest, GuessFormatOfMixedFolderIsInvalidArgument) {
  WriteFile(root_ / "mixed/a.csv", "x");
  WriteFile(root_ / "mixed/b.parquet", "x");
  EXPECT_EQ(CatchError([&] { lake_.GuessFormat("mixed"); }).code(), ErrorCode::kInvalidArgument);
}

TEST_F(LakeTest, GuessFormatOfMixedGlobIsInvalidArgument) {
  WriteFile(root_ / "mixed/a.json", "x");
  WriteFile(root_ / "mixed/b.csv", "x");
  EXPECT_EQ(CatchError([&] { lake_.GuessFormat("mixed/*"); }).code(), ErrorCode::kInvalidArgument);
}

TEST_F(LakeTest, GuessFormatOfUnknownExtensionIsInvalidArgument) {
  WriteFile(root_ / "odd/a.dat", "x");
  EXPECT_EQ(CatchError([&] { lake_.GuessFormat("odd/a.dat"); }).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CatchError([&] { lake_.GuessFormat("odd"); }).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CatchError([&] { lake_.GuessFormat("odd/*"); }).code(), ErrorCode::kInvalidArgument);
}

TEST_F(LakeTest, GuessFormatOfAGlobIgnoresFilesOfUnknownExtension) {
  WriteFile(root_ / "odd/a.csv", "x");
  WriteFile(root_ / "odd/b.dat", "x");
  EXPECT_EQ(lake_.GuessFormat("odd/*"), Format::kCsv);
  EXPECT_EQ(lake_.ListFiles("odd/*", Format::kCsv), Paths({"odd/a.csv"}));
}

TEST_F(LakeTest, GuessFormatPassesOnPermissionDenied) {
  WriteFile(outside_ / "secret.csv", "s\n1\n");
  fs::create_symlink(outside_ / "secret.csv", root_ / "evil.csv");
  EXPECT_EQ(CatchError([&] { lake_.GuessFormat("evil.csv"); }).code(), ErrorCode::kPermissionDenied);
}

TEST(FormatNames, ParseFormatIsCaseInsensitiveAndRoundTrips) {
  for (Format f : {Format::kParquet, Format::kCsv, Format::kJson}) {
    EXPECT_EQ(ParseFormat(FormatName(f)), f);
  }
  EXPECT_EQ(ParseFormat("PARQUET"), Format::kParquet);
  EXPECT_EQ(ParseFormat("Csv"), Format::kCsv);
}

TEST(FormatNames, ParseFormatRejectsUnknownNames) {
  EXPECT_EQ(CatchError([] { ParseFormat("xml"); }).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CatchError([] { ParseFormat(""); }).code(), ErrorCode::kInvalidArgument);
}

// --- paths ---------------------------------------------------------------------------

TEST_F(LakeTest, ManagedTableDirIsUnderWarehouse) {
  EXPECT_EQ(lake_.ManagedTableDir("sales", "orders", 7), "warehouse/sales/orders-7");
}

TEST_F(LakeTest, RelativeAndAbsoluteAreInverse) {
  fs::path abs = lake_.Absolute("a/b.csv");
  EXPECT_EQ(abs, root_.path() / "a/b.csv");
  EXPECT_EQ(lake_.Relative(abs), "a/b.csv");
}

// --- CollectGarbage --------------------------------------------------------------------

class GarbageTest : public LakeTest {
 protected:
  void Make(const std::string& relative, bool old) {
    WriteFile(root_ / relative, "data");
    if (old) fs::last_write_time(root_ / relative, now_ - std::chrono::hours(2));
  }
  std::vector<std::string> Collect(const std::set<std::string>& live) {
    return lake_.CollectGarbage(live, now_ - std::chrono::hours(1));
  }
  bool Exists(const std::string& relative) { return fs::exists(fs::symlink_status(root_ / relative)); }

  fs::file_time_type now_ = fs::file_time_type::clock::now();
};

TEST_F(GarbageTest, RemovesOldUnreferencedFiles) {
  Make("warehouse/db/t-1/c1/dead.parquet", true);
  Make("warehouse/db/t-1/c1/live.parquet", true);
  EXPECT_EQ(Collect({"warehouse/db/t-1/c1/live.parquet"}),
            (std::vector<std::string>{"warehouse/db/t-1/c1/dead.parquet"}));
  EXPECT_FALSE(Exists("warehouse/db/t-1/c1/dead.parquet"));
}

TEST_F(GarbageTest, KeepsLiveFiles) {
  Make("warehouse/db/t-1/c1/live.parquet", true);
  EXPECT_TRUE(Collect({"warehouse/db/t-1/c1/live.parquet"}).empty());
  EXPECT_TRUE(Exists("warehouse/db/t-1/c1/live.parquet"));
}

TEST_F(GarbageTest, KeepsYoungUnreferencedFiles) {
  Make("warehouse/db/t-1/c2/young.parquet", false);
  EXPECT_TRUE(Collect({}).empty());
  EXPECT_TRUE(Exists("warehouse/db/t-1/c2/young.parquet"));
}

TEST_F(GarbageTest, NeverTouchesFilesOutsideTheWarehouse) {
  Make("external/old.parquet", true);
  Make("warehouse-not/old.parquet", true);
  Make("old.parquet", true);
  EXPECT_TRUE(Collect({}).empty());
  EXPECT_TRUE(Exists("external/old.parquet"));
  EXPECT_TRUE(Exists("warehouse-not/old.parquet"));
  EXPECT_TRUE(Exists("old.parquet"));
}

TEST_F(GarbageTest, RemovesFoldersLeftEmpty) {
  Make("warehouse/db/t-1/c1/live.parquet", true);
  Make("warehouse/db/t-2/c9/dead.parquet", true);
  fs::create_directories(root_ / "warehouse/db/t-3/empty/nested");
  Collect({"warehouse/db/t-1/c1/live.parquet"});
  EXPECT_FALSE(Exists("warehouse/db/t-2"));
  EXPECT_FALSE(Exists("warehouse/db/t-3"));
  EXPECT_TRUE(Exists("warehouse/db/t-1/c1"));
  EXPECT_TRUE(Exists("warehouse"));
}

TEST_F(GarbageTest, KeepsFoldersWithYoungFiles) {
  Make("warehouse/db/t-1/c1/dead.parquet", true);
  Make("warehouse/db/t-1/c2/young.parquet", false);
  Collect({});
  EXPECT_FALSE(Exists("warehouse/db/t-1/c1"));
  EXPECT_TRUE(Exists("warehouse/db/t-1/c2/young.parquet"));
}

TEST_F(GarbageTest, LeavesSymlinksAndTheirTargetsAlone) {
  Make("warehouse/db/t-1/c1/live.parquet", true);
  WriteFile(outside_ / "precious.parquet", "keep me");
  fs::last_write_time(outside_ / "precious.parquet", now_ - std::chrono::hours(2));
  fs::create_symlink(outside_ / "precious.parquet", root_ / "warehouse/db/t-1/c1/link.parquet");
  fs::create_directory_symlink(outside_.path(), root_ / "warehouse/db/dirlink");
  EXPECT_TRUE(Collect({"warehouse/db/t-1/c1/live.parquet"}).empty());
  EXPECT_TRUE(fs::exists(outside_ / "precious.parquet"));
  EXPECT_TRUE(Exists("warehouse/db/t-1/c1/link.parquet"));
}

TEST_F(GarbageTest, WithoutAWarehouseDoesNothing) {
  Make("external/old.parquet", true);
  EXPECT_TRUE(Collect({}).empty());
  EXPECT_TRUE(Exists("external/old.parquet"));
}

// --- data files: CollectStats, WriteParquet ---------------------------------------

class DataTest : public LakeTest {
 protected:
  void SetUp() override {
    fs::create_directories(root_ / "tmp");
    engine::EngineOptions options;
    options.threads = 2;
    options.allowed_directories = {root_.path()};
    options.temp_directory = root_ / "tmp";
    engine_ = std::make_unique<engine::Engine>(options);
    conn_ = engine_->Connect();
  }
  // Writes the rows of `select` to `relative` (under the root) with DuckDB; returns its absolute path.
  std::string WriteData(const std::string& relative, const std::string& select) {
    fs::path file = root_ / relative;
    fs::create_directories(file.parent_path());
    conn_->Run("COPY (" + select + ") TO " + engine::QuoteString(file.string()) + " (FORMAT parquet)");
    return file.string();
  }
  duckdb::unique_ptr<duckdb::SelectStatement> Select(const std::string& sql) {
    auto statements = engine::Parse(sql);
    return duckdb::unique_ptr_cast<duckdb::SQLStatement, duckdb::SelectStatement>(
        std::move(statements.at(0)));
  }

  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<engine::EngineConnection> conn_;
};

TEST_F(DataTest, CollectStatsGivesMinMaxAndNullCountPerColumnOverFiles) {
  std::vector<std::string> files = {
      WriteData("s/1.parquet", "SELECT * FROM (VALUES (3, 'pear'), (5, NULL)) t(n, s)"),
      WriteData("s/2.parquet", "SELECT * FROM (VALUES (1, 'apple'), (4, NULL), (NULL, 'zebra')) t(n, s)")};
  auto stats = CollectStats(*conn_, files, {{"n", "INTEGER"}, {"s", "VARCHAR"}});
  auto& cols = stats.at("columns");
  EXPECT_EQ(cols.at("n").at("min"), "1");
  EXPECT_EQ(cols.at("n").at("max"), "5");
  EXPECT_EQ(cols.at("n").at("null_count"), 1);
  EXPECT_EQ(cols.at("s").at("min"), "apple");
  EXPECT_EQ(cols.at("s").at("max"), "zebra");
  EXPECT_EQ(cols.at("s").at("null_count"), 2);
}

TEST_F(DataTest, CollectStatsComparesNumbersAsNumbers) {
  std::vector<std::string> files = {WriteData("n/1.parquet", "SELECT 9::INTEGER AS n, -5::BIGINT AS neg"),
                                    WriteData("n/2.parquet", "SELECT 10::INTEGER AS n, 3::BIGINT AS neg")};
  auto stats = CollectStats(*conn_, files, {{"n", "INTEGER"}, {"neg", "BIGINT"}});
  EXPECT_EQ(stats["columns"]["n"]["min"], "9");
  EXPECT_EQ(stats["columns"]["n"]["max"], "10");
  EXPECT_EQ(stats["columns"]["neg"]["min"], "-5");
  EXPECT_EQ(stats["columns"]["neg"]["max"], "3");
}

TEST_F(DataTest, CollectStatsComparesDecimalsAsNumbers) {
  std::vector<std::string> files = {WriteData("d/1.parquet", "SELECT 9.50::DECIMAL(18,2) AS price"),
                                    WriteData("d/2.parquet", "SELECT 10.25::DECIMAL(18,2) AS price")};
  auto stats = CollectStats(*conn_, files, {{"price", "DECIMAL(18,2)"}});
  EXPECT_EQ(stats["columns"]["price"]["min"], "9.50");
  EXPECT_EQ(stats["columns"]["price"]["max"], "10.25");
}

TEST_F(DataTest, CollectStatsComparesDatesAsDates) {
  std::vector<std::string> files = {WriteData("t/1.parquet", "SELECT DATE '2024-01-02' AS day"),
                                    WriteData("t/2.parquet", "SELECT DATE '2023-12-31' AS day")};
  auto stats = CollectStats(*conn_, files, {{"day", "DATE"}});
  EXPECT_EQ(stats["columns"]["day"]["min"], "2023-12-31");
  EXPECT_EQ(stats["columns"]["day"]["max"], "2024-01-02");
}

TEST_F(DataTest, CollectStatsLeavesOutColumnsNotInTheSchema) {
  std::vector<std::string> files = {WriteData("x/1.parquet", "SELECT 1 AS a, 2 AS b")};
  auto stats = CollectStats(*conn_, files, {{"a", "INTEGER"}});
  EXPECT_TRUE(stats["columns"].contains("a"));
  EXPECT_FALSE(stats["columns"].contains("b"));
}

TEST_F(DataTest, CollectStatsOfNoFilesHasNoColumns) {
  auto stats = CollectStats(*conn_, {}, {{"a", "INTEGER"}});
  ASSERT_TRUE(stats.contains("columns"));
  EXPECT_TRUE(stats["columns"].empty());
}

TEST_F(DataTest, CollectStatsOfAnAllNullColumnHasOnlyTheNullCount) {
  std::vector<std::string> files = {WriteData("z/1.parquet", "SELECT NULL::DOUBLE AS d FROM range(3)")};
  auto stats = CollectStats(*conn_, files, {{"d", "DOUBLE"}});
  EXPECT_FALSE(stats["columns"]["d"].contains("min"));
  EXPECT_FALSE(stats["columns"]["d"].contains("max"));
  EXPECT_EQ(stats["columns"]["d"]["null_count"], 3);
}

TEST_F(DataTest, WriteParquetWritesAFileCastToTheSchema) {
  auto file = WriteParquet(lake_, *conn_, Select("SELECT i, 'v' || i FROM range(4) t(i)"),
                           {{"id", "INTEGER"}, {"label", "VARCHAR"}}, "warehouse/db/t-1/c1");
  EXPECT_EQ(file.row_count, 4);
  EXPECT_GT(file.byte_size, 0);
  EXPECT_TRUE(file.path.starts_with("warehouse/db/t-1/c1/")) << file.path;
  EXPECT_TRUE(file.path.ends_with(".parquet")) << file.path;
  auto result = conn_->Run("SELECT typeof(id), label FROM read_parquet(" +
                           engine::QuoteString(lake_.Absolute(file.path).string()) + ") ORDER BY id");
  ASSERT_EQ(result->RowCount(), 4u);
  EXPECT_EQ(result->GetValue(0, 0).ToString(), "INTEGER");
  EXPECT_EQ(result->GetValue(1, 3).ToString(), "v3");
}

TEST_F(DataTest, WriteParquetWritesANewFileEachTime) {
  auto a = WriteParquet(lake_, *conn_, Select("SELECT 1"), {{"x", "INTEGER"}}, "w");
  auto b = WriteParquet(lake_, *conn_, Select("SELECT 1"), {{"x", "INTEGER"}}, "w");
  EXPECT_NE(a.path, b.path);
}

TEST_F(DataTest, WriteParquetWithTheWrongColumnCountIsInvalidArgumentAndWritesNothing) {
  auto e = CatchError([&] {
    WriteParquet(lake_, *conn_, Select("SELECT 1, 2"), {{"x", "INTEGER"}}, "warehouse/db/t-9/c1");
  });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(root_ / "warehouse/db/t-9"));
}

TEST_F(DataTest, WriteParquetThatFailsToCastLeavesNoFile) {
  auto e = CatchError([&] {
    WriteParquet(lake_, *conn_, Select("SELECT 'not a number'"), {{"x", "INTEGER"}}, "w/fail");
  });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(fs::is_empty(root_ / "w/fail"));
}

// Files written elsewhere (the nodes of a split run) are moved into the table's folder
// with their rows counted, the empty ones dropped, the table's field ids kept; a file of
// other columns, or a writer that fails, leaves nothing behind.
TEST_F(DataTest, WriteParquetWithMovesInTheFilesAnotherWriterWrote) {
  std::vector<Column> schema = {{"id", "INTEGER", 1, "c1"}, {"label", "VARCHAR", 2}};
  fs::create_directories(root_ / "scratch");
  auto write = [&](bool wrong) -> ParquetWrite {
    return
        [&, wrong](duckdb::unique_ptr<duckdb::SelectStatement> query, const engine::ParquetOptions& options) {
          std::vector<fs::path> out = {root_ / "scratch/a.parquet", root_ / "scratch/b.parquet"};
          engine::WriteParquetFile(*conn_, std::move(query->node), out[0], options);
          std::string empty =
              wrong ? "SELECT 1 AS other" : "SELECT CAST(NULL AS INTEGER) AS c1, 'x' AS label WHERE false";
          engine::WriteParquetFile(*conn_, std::move(Select(empty)->node), out[1],
                                   wrong ? engine::ParquetOptions{} : options);
          return out;
        };
  };
  auto files = WriteParquetWith(lake_, *conn_, Select("SELECT i, 'v' || i FROM range(5) t(i)"), schema,
                                "warehouse/db/t-3", write(false));
  ASSERT_EQ(files.size(), 1u);  // the empty one is gone
  EXPECT_EQ(files[0].row_count, 5);
  EXPECT_TRUE(files[0].path.starts_with("warehouse/db/t-3/")) << files[0].path;
  EXPECT_TRUE(fs::is_empty(root_ / "scratch"));
  auto abs = engine::QuoteString(lake_.Absolute(files[0].path).string());
  EXPECT_EQ(conn_->Run("SELECT count(field_id) FROM parquet_schema(" + abs + ")")->GetValue(0, 0).ToString(),
            "2");
  EXPECT_EQ(conn_->Run("SELECT sum(c1) FROM read_parquet(" + abs + ")")->GetValue(0, 0).ToString(), "10");
  auto e = CatchError([&] {
    WriteParquetWith(lake_, *conn_, Select("SELECT 1, 'a'"), schema, "warehouse/db/t-4", write(true));
  });
  EXPECT_EQ(e.code(), ErrorCode::kInternal);
  EXPECT_NE(std::string(e.what()).find("has the columns (other), not the table's (c1, label)"),
            std::string::npos)
      << e.what();
  EXPECT_TRUE(fs::is_empty(root_ / "warehouse/db/t-4"));
  EXPECT_TRUE(fs::is_empty(root_ / "scratch"));
}

}  // namespace
}  // namespace tarn::lake

namespace tarn::lake {
namespace {

TEST_F(LakeTest, ASymlinkIntoTheWarehouseIsRefused) {
  WriteFile(root_ / "warehouse/d/t-1/x.parquet", "PAR1");
  fs::create_directory_symlink(root_ / "warehouse", root_ / "wh");
  EXPECT_EQ(CheckCode("wh/d"), ErrorCode::kPermissionDenied);
  fs::create_directories(root_ / "raw");
  fs::create_symlink(root_ / "warehouse/d/t-1/x.parquet", root_ / "raw/x.parquet");
  EXPECT_EQ(CatchError([&] { lake_.ListFiles("raw", Format::kParquet); }).code(),
            ErrorCode::kPermissionDenied);
}

TEST_F(LakeTest, GlobsTakeOnlyFilesOfTheFormat) {
  MakeDataFolder();
  auto files = lake_.ListFiles("data/*", Format::kCsv);
  EXPECT_EQ(files, Paths({"data/a.csv", "data/ab.csv", "data/b.csv"}));
}

}  // namespace
}  // namespace tarn::lake
