// .xlsx in and out: workbooks written part by part here (as other spreadsheet
// programs write them) are read into CSV; workbooks XlsxWorkbook writes read back the
// same through DuckDB.
#include "files/files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zip.h>

#include <fstream>
#include <sstream>

#include "test_util.h"

using ::testing::HasSubstr;

namespace tarn::testing {
namespace {

const char* kContentTypes =
    R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>)";

std::string Workbook(const std::string& sheets, bool date1904 = false) {
  return std::string(R"(<?xml version="1.0" encoding="UTF-8"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"
 xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">)") +
         (date1904 ? R"(<workbookPr date1904="1"/>)" : "") + "<sheets>" + sheets + "</sheets></workbook>";
}

std::string Rels(int sheets) {
  std::string out = R"(<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">)";
  for (int i = 1; i <= sheets; i++)
    out += "<Relationship Id=\"rId" + std::to_string(i) +
           "\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" "
           "Target=\"worksheets/sheet" + std::to_string(i) + ".xml\"/>";
  return out + "</Relationships>";
}

// Styles: 0 general, 1 built-in date (14), 2 custom date-time, 3 custom number with a colour.
const char* kStyles = R"(<?xml version="1.0"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy\-mm\-dd\ hh:mm"/><numFmt numFmtId="165" formatCode="[Red]#,##0.00"/></numFmts>
<cellStyleXfs count="1"><xf numFmtId="14"/></cellStyleXfs>
<cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/><xf numFmtId="165"/></cellXfs>
</styleSheet>)";

std::string Sheet(const std::string& rows, const std::string& dimension = "") {
  return std::string(R"(<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">)") +
         (dimension.empty() ? "" : "<dimension ref=\"" + dimension + "\"/>") + "<sheetData>" + rows +
         "</sheetData></worksheet>";
}

// Writes a zip with these parts.
void WriteZip(const std::filesystem::path& path, const std::map<std::string, std::string>& parts) {
  int error = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  ASSERT_NE(z, nullptr);
  for (auto& [name, text] : parts) {
    zip_source_t* src = zip_source_buffer(z, text.data(), text.size(), 0);
    ASSERT_GE(zip_file_add(z, name.c_str(), src, ZIP_FL_OVERWRITE), 0);
  }
  ASSERT_EQ(zip_close(z), 0);
}

std::string ReadText(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class XlsxTest : public ::testing::Test {
 protected:
  // A workbook of two sheets, "Ledger" and "Notes", its parts as a spreadsheet writes them.
  std::filesystem::path Ledger(bool date1904 = false) {
    auto path = dir_ / "ledger.xlsx";
    std::string shared = R"(<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<si><t>id</t></si><si><t>name</t></si><si><t>posted</t></si><si><t>amount</t></si>
<si><r><t>Acme </t></r><r><rPr><b/></rPr><t>"Ltd", UK</t></r><rPh><t>IGNORED</t></rPh></si>
<si><t>at</t></si><si><t>ok</t></si></sst>)";
    // Row 1 header; row 2 a rich shared text, a date (45292 = 2024-01-01); row 4 (row 3
    // is empty) an inline string, an error cell, a number in a coloured format, a
    // date-time; row 5 a boolean and a cell without a reference.
    std::string rows =
        R"(<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c><c r="E1" t="s"><v>5</v></c><c r="F1" t="s"><v>6</v></c></row>)"
        R"(<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="s"><v>4</v></c><c r="C2" s="1"><v>45292</v></c><c r="D2" s="3"><v>10.5</v></c></row>)"
        R"(<row r="3"></row>)"
        R"(<row r="4"><c r="A4"><v>2</v></c><c r="B4" t="inlineStr"><is><t>Beta</t></is></c><c r="C4" t="e"><v>#N/A</v></c><c r="D4" s="3"><v>-3.25</v></c><c r="E4" s="2"><v>45292.5</v></c></row>)"
        R"(<row r="5"><c r="A5"><v>3</v></c><c><v>7</v></c><c r="F5" t="b"><v>1</v></c></row>)";
    WriteZip(path, {{"[Content_Types].xml", kContentTypes},
                    {"xl/workbook.xml", Workbook(R"(<sheet name="Ledger" sheetId="1" r:id="rId1"/><sheet name="Notes" sheetId="2" r:id="rId2"/>)", date1904)},
                    {"xl/_rels/workbook.xml.rels", Rels(2)},
                    {"xl/sharedStrings.xml", shared},
                    {"xl/styles.xml", kStyles},
                    {"xl/worksheets/sheet1.xml", Sheet(rows, "A1:F5")},
                    {"xl/worksheets/sheet2.xml", Sheet(R"(<row r="2"><c r="B2" t="inlineStr"><is><t>note</t></is></c><c r="C2"><v>1</v></c></row><row r="3"><c r="B3" t="inlineStr"><is><t>x</t></is></c><c r="C3"><v>2</v></c></row>)")}});
    return path;
  }
  // A sheet and range of Ledger() as CSV (its first row the header).
  std::string SheetCsv(const std::string& sheet, const std::string& range) {
    return ToCsv(Ledger(), {sheet, range, {}});
  }
  std::string ToCsv(const std::filesystem::path& xlsx, files::ReadOptions options = {}) {
    files::XlsxToCsv(xlsx, options, dir_ / "out.csv");
    return ReadText(dir_ / "out.csv");
  }
  // Rows of a query over DuckDB, one line each, values separated by '|'.
  std::string Query(const std::string& sql) {
    duckdb::DuckDB db(nullptr);
    duckdb::Connection con(db);
    auto r = con.Query(sql);
    EXPECT_FALSE(r->HasError()) << r->GetError();
    std::string out;
    for (auto& row : *r) {
      for (duckdb::idx_t c = 0; c < r->ColumnCount(); c++)
        out += (c ? "|" : "") + row.GetValue<duckdb::Value>(c).ToString();
      out += "\n";
    }
    return out;
  }
  TempDir dir_;
};

TEST_F(XlsxTest, ASheetReadsWithTextDatesBooleansAndBlanks) {
  EXPECT_EQ(ToCsv(Ledger()),
            "\"id\",\"name\",\"posted\",\"amount\",\"at\",\"ok\"\n"
            "\"1\",\"Acme \"\"Ltd\"\", UK\",\"2024-01-01\",\"10.5\",,\n"
            "\"2\",\"Beta\",,\"-3.25\",\"2024-01-01 12:00:00\",\n"
            "\"3\",\"7\",,,,\"true\"\n");
}

TEST_F(XlsxTest, The1904DateSystemIsHonoured) {
  // Serial 45292 counts from 1904-01-01 there: 2028-01-02.
  EXPECT_THAT(ToCsv(Ledger(true)), HasSubstr("\"2028-01-02\""));
}

TEST_F(XlsxTest, ASheetIsChosenByNameAndARangeCutsItsCells) {
  EXPECT_EQ(SheetCsv("Notes", ""), "\"note\",\"1\"\n\"x\",\"2\"\n");
  EXPECT_EQ(SheetCsv("Ledger", "B1:C2"), "\"name\",\"posted\"\n\"Acme \"\"Ltd\"\", UK\",\"2024-01-01\"\n");
  EXPECT_EQ(SheetCsv("Ledger", "A4:B"), "\"2\",\"Beta\"\n\"3\",\"7\"\n");
}

TEST_F(XlsxTest, MistakesAreNamed) {
  auto xlsx = Ledger();
  auto e = CatchError([&] { ToCsv(xlsx, {"March", "", {}}); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(e.what(), HasSubstr("no sheet 'March'; its sheets: 'Ledger', 'Notes'"));
  e = CatchError([&] { ToCsv(xlsx, {"", "1A:B", {}}); });
  EXPECT_THAT(e.what(), HasSubstr("range '1A:B' is not a cell range"));
  e = CatchError([&] { ToCsv(xlsx, {"Ledger", "A10:B20", {}}); });
  EXPECT_THAT(e.what(), HasSubstr("has no values in range A10:B20"));
  std::ofstream(dir_ / "fake.xlsx") << "id,name\n1,a\n";
  e = CatchError([&] { ToCsv(dir_ / "fake.xlsx"); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(e.what(), HasSubstr("fake.xlsx is not an .xlsx workbook"));
  WriteZip(dir_ / "broken.xlsx", {{"xl/workbook.xml", "<workbook><sheets><sheet name=\"S\" r:id=\"rId1\"/>"}});
  e = CatchError([&] { ToCsv(dir_ / "broken.xlsx"); });
  EXPECT_THAT(e.what(), HasSubstr("is not valid XML"));
}

TEST_F(XlsxTest, AValueRightOfTheHeaderIsRefusedNotDropped) {
  auto path = dir_ / "wide.xlsx";
  WriteZip(path, {{"xl/workbook.xml", Workbook(R"(<sheet name="S" sheetId="1" r:id="rId1"/>)")},
                  {"xl/_rels/workbook.xml.rels", Rels(1)},
                  {"xl/worksheets/sheet1.xml",
                   Sheet(R"(<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row><row r="2"><c r="A2"><v>1</v></c><c r="C2"><v>9</v></c></row>)")}});
  auto e = CatchError([&] { ToCsv(path); });
  EXPECT_THAT(e.what(), HasSubstr("row 2 has a value in column C outside the table's columns"));
  // With a range that includes it, the column gets a name.
  EXPECT_EQ(ToCsv(path, {"", "A1:C", {}}), "\"a\",\"column_B\",\"column_C\"\n\"1\",,\"9\"\n");
}

TEST_F(XlsxTest, WrittenWorkbooksReadBackTheSame) {
  duckdb::DuckDB db(nullptr);
  duckdb::Connection con(db);
  auto result = con.Query(
      "SELECT i AS id, 'name \"' || i || '\", x' AS name, DATE '2024-03-01' + i::INTEGER AS posted, "
      "TIMESTAMP '2024-03-01 08:30:00' + INTERVAL (i) HOUR AS at, i * 1.25 AS amount, i % 2 = 0 AS even, "
      "CASE WHEN i = 2 THEN NULL ELSE i END AS maybe FROM range(1, 4) t(i)");
  ASSERT_FALSE(result->HasError()) << result->GetError();
  auto path = dir_ / "out.xlsx";
  {
    files::XlsxWorkbook book(path);
    book.AddSheet("Data", result->names, result->types);
    while (auto chunk = result->Fetch()) book.Append(*chunk);
    book.AddSheet("Empty", {"only"}, {duckdb::LogicalType::VARCHAR});
    EXPECT_FALSE(std::filesystem::exists(path)) << "nothing is there before Close";
    book.Close();
  }
  EXPECT_EQ(files::XlsxSheetNames(path), (std::vector<std::string>{"Data", "Empty"}));
  auto csv = dir_ / "data.csv";
  files::XlsxToCsv(path, {"Data", "", {}}, csv);
  EXPECT_EQ(Query("SELECT * FROM read_csv('" + csv.string() + "', header = true)"),
            "1|name \"1\", x|2024-03-02|2024-03-01 09:30:00|1.25|false|1\n"
            "2|name \"2\", x|2024-03-03|2024-03-01 10:30:00|2.5|true|NULL\n"
            "3|name \"3\", x|2024-03-04|2024-03-01 11:30:00|3.75|false|3\n");
  // The header row is bold and frozen.
  int error = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY, &error);
  ASSERT_NE(z, nullptr);
  zip_stat_t st;
  ASSERT_EQ(zip_stat(z, "xl/worksheets/sheet1.xml", 0, &st), 0);
  std::string sheet(st.size, '\0');
  zip_file_t* f = zip_fopen(z, "xl/worksheets/sheet1.xml", 0);
  zip_fread(f, sheet.data(), st.size);
  zip_fclose(f);
  ASSERT_EQ(zip_stat(z, "xl/styles.xml", 0, &st), 0);
  std::string styles(st.size, '\0');
  f = zip_fopen(z, "xl/styles.xml", 0);
  zip_fread(f, styles.data(), st.size);
  zip_fclose(f);
  zip_discard(z);
  EXPECT_THAT(sheet, HasSubstr("state=\"frozen\""));
  EXPECT_THAT(styles, HasSubstr("<b/>"));
}

TEST_F(XlsxTest, WhatASheetCannotHoldIsRefused) {
  files::XlsxWorkbook book(dir_ / "bad.xlsx");
  auto e = CatchError([&] { book.AddSheet("a/b", {"x"}, {duckdb::LogicalType::VARCHAR}); });
  EXPECT_THAT(e.what(), HasSubstr("cannot name an .xlsx sheet"));
  book.AddSheet("Data", {"x"}, {duckdb::LogicalType::VARCHAR});
  e = CatchError([&] { book.AddSheet("DATA", {"x"}, {duckdb::LogicalType::VARCHAR}); });
  EXPECT_THAT(e.what(), HasSubstr("has a sheet 'DATA' already"));
  duckdb::DataChunk chunk;
  chunk.Initialize(duckdb::Allocator::DefaultAllocator(), {duckdb::LogicalType::VARCHAR});
  chunk.SetValue(0, 0, duckdb::Value(std::string(40000, 'x')));
  chunk.SetCardinality(1);
  e = CatchError([&] { book.Append(chunk); });
  EXPECT_THAT(e.what(), HasSubstr("more than an .xlsx cell holds"));
}

}  // namespace
}  // namespace tarn::testing
