// Reading a sheet of an .xlsx workbook (Office Open XML, ECMA-376 part 1): the
// workbook lists sheets (xl/workbook.xml) and finds their parts through its
// relationships (xl/_rels/workbook.xml.rels); texts are shared (xl/sharedStrings.xml);
// a cell's style (xl/styles.xml, cellXfs) names its number format, which alone tells
// a date from a number.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>

#include "common/error.h"
#include "files/files.h"
#include "files/xml_zip.h"

namespace tarn::files {
namespace {

struct SheetRef {
  std::string name;
  std::string rel_id;
};

class WorkbookHandler : public XmlHandler {
 public:
  std::vector<SheetRef> sheets;
  bool date1904 = false;
  void Start(std::string_view name, const char** a) override {
    if (name == "sheet") {
      const char* n = Attribute(a, "name");
      const char* id = Attribute(a, "id");
      if (n && id) sheets.push_back({n, id});
    } else if (name == "workbookPr") {
      const char* d = Attribute(a, "date1904");
      date1904 = d && (std::string_view(d) == "1" || std::string_view(d) == "true");
    }
  }
  void End(std::string_view) override {}
  void Text(std::string_view) override {}
};

class RelsHandler : public XmlHandler {
 public:
  std::map<std::string, std::string> targets;
  void Start(std::string_view name, const char** a) override {
    const char* id = Attribute(a, "Id");
    const char* target = Attribute(a, "Target");
    if (name == "Relationship" && id && target) targets[id] = target;
  }
  void End(std::string_view) override {}
  void Text(std::string_view) override {}
};

// Shared strings: each <si> is the text of its <t> elements, phonetic runs left out.
class SharedStringsHandler : public XmlHandler {
 public:
  std::vector<std::string> strings;
  void Start(std::string_view name, const char**) override {
    if (name == "si") strings.emplace_back();
    if (name == "t") in_t_ = true;
    if (name == "rPh") in_phonetic_ = true;
  }
  void End(std::string_view name) override {
    if (name == "t") in_t_ = false;
    if (name == "rPh") in_phonetic_ = false;
  }
  void Text(std::string_view text) override {
    if (in_t_ && !in_phonetic_ && !strings.empty()) strings.back() += text;
  }

 private:
  bool in_t_ = false, in_phonetic_ = false;
};

enum class NumberKind { kNumber, kDate, kTime };

// Whether a number format shows a date or time: its letters outside quotes, brackets
// and escapes (the colours and conditions of "[Red][<0]0.00" are no date).
NumberKind KindOfFormatCode(const std::string& code) {
  bool date = false, time = false, minutes = false;
  for (size_t i = 0; i < code.size(); i++) {
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(code[i])));
    if (c == '"') {
      while (++i < code.size() && code[i] != '"') {
      }
    } else if (c == '[') {
      size_t end = code.find(']', i);
      std::string inner = code.substr(i + 1, end == std::string::npos ? std::string::npos : end - i - 1);
      if (inner == "h" || inner == "hh" || inner == "mm" || inner == "ss" || inner == "m" || inner == "s")
        time = true;  // elapsed time
      i = end == std::string::npos ? code.size() : end;
    } else if (c == '\\' || c == '_' || c == '*') {
      i++;
    } else if (c == 'y' || c == 'd') {
      date = true;
    } else if (c == 'h' || c == 's') {
      time = true;
    } else if (c == 'm') {
      minutes = true;
    }
  }
  if (date) return NumberKind::kDate;
  if (time || minutes) return NumberKind::kTime;
  return NumberKind::kNumber;
}

NumberKind KindOfBuiltinFormat(int id) {
  if ((id >= 14 && id <= 17) || id == 22 || (id >= 27 && id <= 36) || (id >= 50 && id <= 58))
    return NumberKind::kDate;
  if ((id >= 18 && id <= 21) || (id >= 45 && id <= 47)) return NumberKind::kTime;
  return NumberKind::kNumber;
}

class StylesHandler : public XmlHandler {
 public:
  std::vector<NumberKind> kinds;  // by cell style index (cellXfs)
  void Start(std::string_view name, const char** a) override {
    if (name == "numFmt") {
      const char* id = Attribute(a, "numFmtId");
      const char* code = Attribute(a, "formatCode");
      if (id && code) custom_[std::atoi(id)] = KindOfFormatCode(code);
    } else if (name == "cellXfs") {
      in_cell_xfs_ = true;
    } else if (name == "xf" && in_cell_xfs_) {
      const char* id = Attribute(a, "numFmtId");
      int n = id ? std::atoi(id) : 0;
      auto it = custom_.find(n);
      kinds.push_back(it != custom_.end() ? it->second : KindOfBuiltinFormat(n));
    }
  }
  void End(std::string_view name) override {
    if (name == "cellXfs") in_cell_xfs_ = false;
  }
  void Text(std::string_view) override {}

 private:
  std::map<int, NumberKind> custom_;
  bool in_cell_xfs_ = false;
};

// A cell reference "BC12" as 0-based column and 1-based row (row 0: none given).
struct CellRef {
  int64_t col = 0;
  int64_t row = 0;
};

std::optional<CellRef> ParseRef(std::string_view ref) {
  CellRef out;
  size_t i = 0;
  int64_t col = 0;
  while (i < ref.size() && std::isalpha(static_cast<unsigned char>(ref[i]))) {
    col = col * 26 + (std::toupper(static_cast<unsigned char>(ref[i])) - 'A' + 1);
    if (col > 16384) return std::nullopt;
    i++;
  }
  if (i == 0) return std::nullopt;
  out.col = col - 1;
  for (; i < ref.size(); i++) {
    if (!std::isdigit(static_cast<unsigned char>(ref[i])) || out.row > 1048576) return std::nullopt;
    out.row = out.row * 10 + (ref[i] - '0');
  }
  return out;
}

// The cells a range names; rows and columns unset where the range leaves them open.
struct Area {
  std::optional<int64_t> first_col, last_col;
  int64_t first_row = 1, last_row = INT64_MAX;
};

Area ParseRange(const std::string& range) {
  Area area;
  if (range.empty()) return area;
  auto colon = range.find(':');
  auto bad = [&] {
    return Error::InvalidArgument("range '{}' is not a cell range such as A1:F200, B3:D or A2", range.substr(0, 40));
  };
  auto first = ParseRef(std::string_view(range).substr(0, colon));
  if (!first) throw bad();
  area.first_col = first->col;
  area.first_row = first->row ? first->row : 1;
  if (colon != std::string::npos) {
    auto last = ParseRef(std::string_view(range).substr(colon + 1));
    if (!last || last->col < first->col || (last->row && last->row < area.first_row)) throw bad();
    area.last_col = last->col;
    if (last->row) area.last_row = last->row;
  }
  return area;
}

// Days since 1970-01-01 as Y-M-D (H. Hinnant's civil_from_days).
std::string IsoDate(int64_t days) {
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  int64_t doe = days - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", static_cast<long long>(y + (m <= 2)),
                static_cast<long long>(m), static_cast<long long>(d));
  return buf;
}

// An Excel date serial (days since 1899-12-30, with the 1900 system's phantom
// 29 February; or since 1904-01-01) as ISO text.
std::string SerialToText(double serial, NumberKind kind, bool date1904) {
  double whole = std::floor(serial);
  int64_t seconds = std::llround((serial - whole) * 86400.0);
  int64_t days = static_cast<int64_t>(whole);
  if (seconds >= 86400) days++, seconds -= 86400;
  char clock[64];
  std::snprintf(clock, sizeof clock, "%02lld:%02lld:%02lld", static_cast<long long>(seconds / 3600),
                static_cast<long long>(seconds / 60 % 60), static_cast<long long>(seconds % 60));
  if (kind == NumberKind::kTime && days == 0) return clock;
  int64_t epoch_days = date1904 ? days - 24107 : (days < 61 ? days - 25568 : days - 25569);
  std::string date = IsoDate(epoch_days);
  return seconds ? date + " " + clock : date;
}

// Streams a worksheet's cells to CSV.
class SheetHandler : public XmlHandler {
 public:
  SheetHandler(const std::vector<std::string>& strings, const std::vector<NumberKind>& kinds, bool date1904,
               Area area, std::ofstream& out, std::string sheet)
      : strings_(strings), kinds_(kinds), date1904_(date1904), area_(area), out_(out), sheet_(std::move(sheet)) {}

  int64_t rows_written = 0;
  bool header_written = false;

  void Start(std::string_view name, const char** a) override {
    if (name == "dimension" && !area_.last_col) {
      if (const char* ref = Attribute(a, "ref")) {
        std::string r(ref);
        auto colon = r.find(':');
        if (auto last = ParseRef(colon == std::string::npos ? r : r.substr(colon + 1))) dimension_last_ = last->col;
      }
    } else if (name == "row") {
      const char* r = Attribute(a, "r");
      row_ = r ? std::atoll(r) : row_ + 1;
      next_col_ = 0;
      cells_.clear();
    } else if (name == "c") {
      const char* r = Attribute(a, "r");
      auto ref = r ? ParseRef(r) : std::nullopt;
      col_ = ref ? ref->col : next_col_;
      next_col_ = col_ + 1;
      const char* t = Attribute(a, "t");
      type_ = t ? t : "n";
      const char* s = Attribute(a, "s");
      style_ = s ? std::atoi(s) : 0;
      value_.clear();
    } else if (name == "v" || name == "t") {
      in_value_ = true;
    } else if (name == "rPh") {
      in_phonetic_ = true;
    }
  }

  void End(std::string_view name) override {
    if (name == "v" || name == "t") in_value_ = false;
    if (name == "rPh") in_phonetic_ = false;
    if (name == "c") EndCell();
    if (name == "row") EndRow();
  }

  void Text(std::string_view text) override {
    if (in_value_ && !in_phonetic_) value_ += text;
  }

 private:
  void EndCell() {
    std::string text;
    if (type_ == "s") {
      size_t i = static_cast<size_t>(std::atoll(value_.c_str()));
      if (value_.empty() || i >= strings_.size())
        throw Error::InvalidArgument("sheet '{}': a cell names shared text {} that the workbook lacks", sheet_, value_);
      text = strings_[i];
    } else if (type_ == "b") {
      text = value_ == "1" ? "true" : "false";
    } else if (type_ == "e") {
      return;  // #N/A, #DIV/0!: no value
    } else if (type_ == "n" && !value_.empty()) {
      NumberKind kind = style_ >= 0 && static_cast<size_t>(style_) < kinds_.size() ? kinds_[style_] : NumberKind::kNumber;
      text = kind == NumberKind::kNumber ? value_ : SerialToText(std::strtod(value_.c_str(), nullptr), kind, date1904_);
    } else {
      text = value_;  // str, inlineStr, d (ISO already)
    }
    if (!text.empty()) cells_[col_] = std::move(text);
  }

  void EndRow() {
    if (row_ < area_.first_row || row_ > area_.last_row) return;
    if (area_.first_col || area_.last_col) {
      for (auto it = cells_.begin(); it != cells_.end();) {
        bool inside = it->first >= area_.first_col.value_or(0) && it->first <= area_.last_col.value_or(INT64_MAX);
        it = inside ? std::next(it) : cells_.erase(it);
      }
    }
    if (cells_.empty()) return;  // rows with no value are left out
    if (!header_written) return WriteHeader();
    auto last = cells_.rbegin()->first;
    if (cells_.begin()->first < first_col_ || last > last_col_) {
      throw Error::InvalidArgument(
          "sheet '{}': row {} has a value in column {} outside the table's columns (from its header row): "
          "name a range such as A1:F100",
          sheet_, row_, ColumnName(cells_.begin()->first < first_col_ ? cells_.begin()->first : last));
    }
    WriteFields([&](int64_t c) -> const std::string* {
      auto it = cells_.find(c);
      return it == cells_.end() ? nullptr : &it->second;
    });
    rows_written++;
  }

  void WriteHeader() {
    first_col_ = area_.first_col.value_or(cells_.begin()->first);
    last_col_ = area_.last_col.value_or(std::max(cells_.rbegin()->first, dimension_last_));
    std::vector<std::string> names;
    WriteFields([&](int64_t c) -> const std::string* {
      auto it = cells_.find(c);
      if (it != cells_.end()) return &it->second;
      names.push_back("column_" + ColumnName(c));
      return &names.back();
    });
    header_written = true;
  }

  template <typename Get>
  void WriteFields(Get get) {
    std::string line;
    for (int64_t c = first_col_; c <= last_col_; c++) {
      if (c > first_col_) line += ',';
      if (const std::string* v = get(c)) {
        line += '"';
        for (char ch : *v) {
          if (ch == '"') line += '"';
          line += ch;
        }
        line += '"';
      }
    }
    line += '\n';
    out_ << line;
  }

  static std::string ColumnName(int64_t col) {
    std::string out;
    for (int64_t c = col + 1; c > 0; c = (c - 1) / 26) out.insert(out.begin(), static_cast<char>('A' + (c - 1) % 26));
    return out;
  }

  const std::vector<std::string>& strings_;
  const std::vector<NumberKind>& kinds_;
  bool date1904_;
  Area area_;
  std::ofstream& out_;
  std::string sheet_;
  int64_t dimension_last_ = 0;
  int64_t row_ = 0, col_ = 0, next_col_ = 0, first_col_ = 0, last_col_ = 0;
  int style_ = 0;
  std::string type_, value_;
  bool in_value_ = false, in_phonetic_ = false;
  std::map<int64_t, std::string> cells_;
};

WorkbookHandler ReadWorkbook(const ZipArchive& zip) {
  WorkbookHandler workbook;
  zip.ParseXml("xl/workbook.xml", workbook, 64 << 20);
  return workbook;
}

}  // namespace

std::vector<std::string> XlsxSheetNames(const std::filesystem::path& xlsx) {
  ZipArchive zip(xlsx);
  std::vector<std::string> names;
  for (auto& s : ReadWorkbook(zip).sheets) names.push_back(s.name);
  return names;
}

int64_t XlsxToCsv(const std::filesystem::path& xlsx, const ReadOptions& options, const std::filesystem::path& csv) {
  ZipArchive zip(xlsx);
  auto workbook = ReadWorkbook(zip);
  if (workbook.sheets.empty()) throw Error::InvalidArgument("{} has no sheets", xlsx.filename().string());
  const SheetRef* sheet = &workbook.sheets.front();
  if (!options.sheet.empty()) {
    sheet = nullptr;
    std::string names;
    for (auto& s : workbook.sheets) {
      if (s.name == options.sheet) sheet = &s;
      names += (names.empty() ? "'" : ", '") + s.name + "'";
    }
    if (!sheet)
      throw Error::InvalidArgument("{} has no sheet '{}'; its sheets: {}", xlsx.filename().string(),
                                   options.sheet.substr(0, 64), names);
  }
  RelsHandler rels;
  zip.ParseXml("xl/_rels/workbook.xml.rels", rels, 64 << 20);
  auto target = rels.targets.find(sheet->rel_id);
  if (target == rels.targets.end())
    throw Error::InvalidArgument("{}: sheet '{}' has no part", xlsx.filename().string(), sheet->name);
  std::string part = target->second.starts_with("/") ? target->second.substr(1) : "xl/" + target->second;
  SharedStringsHandler strings;
  if (zip.Has("xl/sharedStrings.xml")) zip.ParseXml("xl/sharedStrings.xml", strings);
  StylesHandler styles;
  if (zip.Has("xl/styles.xml")) zip.ParseXml("xl/styles.xml", styles, 64 << 20);
  Area area = ParseRange(options.range);

  std::ofstream out(csv, std::ios::binary | std::ios::trunc);
  if (!out) throw Error::Io("cannot write {}", csv.string());
  SheetHandler handler(strings.strings, styles.kinds, workbook.date1904, area, out, sheet->name);
  zip.ParseXml(part, handler);
  if (!handler.header_written)
    throw Error::InvalidArgument("sheet '{}' of {} has no values{}", sheet->name, xlsx.filename().string(),
                                 options.range.empty() ? "" : " in range " + options.range);
  out.close();
  if (!out) throw Error::Io("cannot write {}", csv.string());
  return handler.rows_written;
}

}  // namespace tarn::files
