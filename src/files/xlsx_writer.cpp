// Writing .xlsx workbooks with libxlsxwriter in constant-memory mode: each sheet's
// rows go to a temporary file as they come; workbook_close zips the parts.
#include <xlsxwriter.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "common/error.h"
#include "files/files.h"

#include <duckdb/common/types/time.hpp>

namespace tarn::files {

struct XlsxWorkbook::State {
  std::filesystem::path path, partial;
  lxw_workbook* book = nullptr;
  lxw_worksheet* sheet = nullptr;
  lxw_format* header = nullptr;
  lxw_format* date = nullptr;
  lxw_format* timestamp = nullptr;
  std::string sheet_name;
  std::vector<duckdb::LogicalType> types;
  std::set<std::string> names;  // sheet names, lower case (Excel compares them so)
  int64_t rows = 0;
};

namespace {

constexpr size_t kMaxCellText = 32767;

void Check(lxw_error error, const std::string& what) {
  if (error != LXW_NO_ERROR)
    throw Error::Io("cannot write the .xlsx workbook ({}): {}", what, lxw_strerror(error));
}

double ColumnWidth(const std::string& name, const duckdb::LogicalType& type) {
  double width = static_cast<double>(name.size()) + 3;
  switch (type.id()) {
    case duckdb::LogicalTypeId::DATE: return std::max(width, 12.0);
    case duckdb::LogicalTypeId::TIMESTAMP:
    case duckdb::LogicalTypeId::TIMESTAMP_TZ: return std::max(width, 20.0);
    default: return std::clamp(width, 10.0, 60.0);
  }
}

lxw_datetime ToDatetime(const duckdb::timestamp_t ts) {
  duckdb::date_t d;
  duckdb::dtime_t t;
  duckdb::Timestamp::Convert(ts, d, t);
  int32_t year, month, day, hour, minute, second, micros;
  duckdb::Date::Convert(d, year, month, day);
  duckdb::Time::Convert(t, hour, minute, second, micros);
  return lxw_datetime{year, month, day, hour, minute, second + micros / 1e6};
}

}  // namespace

XlsxWorkbook::XlsxWorkbook(const std::filesystem::path& path) : state_(std::make_unique<State>()) {
  state_->path = path;
  state_->partial = path.string() + ".partial";
  lxw_workbook_options options{};
  options.constant_memory = LXW_TRUE;
  options.use_zip64 = LXW_TRUE;
  state_->book = workbook_new_opt(state_->partial.c_str(), &options);
  if (!state_->book) throw Error::Io("cannot create the .xlsx workbook {}", path.filename().string());
  state_->header = workbook_add_format(state_->book);
  format_set_bold(state_->header);
  format_set_bg_color(state_->header, 0xDDEBF7);
  format_set_bottom(state_->header, LXW_BORDER_THIN);
  state_->date = workbook_add_format(state_->book);
  format_set_num_format(state_->date, "yyyy-mm-dd");
  state_->timestamp = workbook_add_format(state_->book);
  format_set_num_format(state_->timestamp, "yyyy-mm-dd hh:mm:ss");
}

XlsxWorkbook::~XlsxWorkbook() {
  if (state_->book) lxw_workbook_free(state_->book);
  std::error_code ec;
  std::filesystem::remove(state_->partial, ec);
}

void XlsxWorkbook::AddSheet(const std::string& name, const std::vector<std::string>& columns,
                            const std::vector<duckdb::LogicalType>& types) {
  if (name.empty() || name.size() > 31 || name.find_first_of("[]:*?/\\") != std::string::npos ||
      name.front() == '\'')
    throw Error::InvalidArgument(
        "'{}' cannot name an .xlsx sheet: at most 31 characters, none of []:*?/\\ and not starting with '",
        name.substr(0, 64));
  if (!state_->names.insert(duckdb::StringUtil::Lower(name)).second)
    throw Error::InvalidArgument("the workbook {} has a sheet '{}' already", state_->path.filename().string(),
                                 name);
  if (columns.size() > 16384)
    throw Error::InvalidArgument("sheet '{}' would have more than 16,384 columns", name);
  state_->sheet = workbook_add_worksheet(state_->book, name.c_str());
  if (!state_->sheet) throw Error::InvalidArgument("'{}' cannot name an .xlsx sheet", name);
  state_->sheet_name = name;
  state_->types = types;
  state_->rows = 0;
  for (size_t c = 0; c < columns.size(); c++) {
    auto col = static_cast<lxw_col_t>(c);
    lxw_format* format = nullptr;
    if (types[c].id() == duckdb::LogicalTypeId::DATE) format = state_->date;
    if (types[c].id() == duckdb::LogicalTypeId::TIMESTAMP ||
        types[c].id() == duckdb::LogicalTypeId::TIMESTAMP_TZ)
      format = state_->timestamp;
    Check(worksheet_set_column(state_->sheet, col, col, ColumnWidth(columns[c], types[c]), format),
          "columns");
    Check(worksheet_write_string(state_->sheet, 0, col, columns[c].c_str(), state_->header), "header");
  }
  worksheet_freeze_panes(state_->sheet, 1, 0);
}

void XlsxWorkbook::Append(duckdb::DataChunk& chunk) {
  if (!state_->sheet) throw Error::Internal("XlsxWorkbook::Append before AddSheet");
  auto& s = *state_;
  if (s.rows + static_cast<int64_t>(chunk.size()) > kMaxRows) {
    throw Error::ResourceExhausted(
        "sheet '{}' would have more than {} rows, the most an .xlsx sheet holds: write CSV or Parquet, or "
        "filter or aggregate first",
        s.sheet_name, kMaxRows);
  }
  for (duckdb::idx_t r = 0; r < chunk.size(); r++) {
    auto row = static_cast<lxw_row_t>(++s.rows);
    for (duckdb::idx_t c = 0; c < chunk.ColumnCount(); c++) {
      duckdb::Value v = chunk.GetValue(c, r);
      if (v.IsNull()) continue;
      auto col = static_cast<lxw_col_t>(c);
      lxw_error e = LXW_NO_ERROR;
      const auto& type = s.types[c];
      if (type.id() == duckdb::LogicalTypeId::BOOLEAN) {
        e = worksheet_write_boolean(s.sheet, row, col, v.GetValue<bool>(), nullptr);
      } else if (type.id() == duckdb::LogicalTypeId::DATE) {
        auto dt =
            ToDatetime(duckdb::Timestamp::FromDatetime(v.GetValue<duckdb::date_t>(), duckdb::dtime_t(0)));
        e = worksheet_write_datetime(s.sheet, row, col, &dt, s.date);
      } else if (type.id() == duckdb::LogicalTypeId::TIMESTAMP ||
                 type.id() == duckdb::LogicalTypeId::TIMESTAMP_TZ) {
        auto dt = ToDatetime(v.GetValue<duckdb::timestamp_t>());
        e = worksheet_write_datetime(s.sheet, row, col, &dt, s.timestamp);
      } else if (type.IsNumeric() && (type.id() != duckdb::LogicalTypeId::HUGEINT &&
                                      type.id() != duckdb::LogicalTypeId::UHUGEINT)) {
        double d = v.GetValue<double>();
        // A number Excel cannot hold exactly (above 2^53, or not finite) stays text.
        bool exact =
            std::isfinite(d) &&
            (type.id() == duckdb::LogicalTypeId::DOUBLE || type.id() == duckdb::LogicalTypeId::FLOAT ||
             type.id() == duckdb::LogicalTypeId::DECIMAL || std::fabs(d) < 9007199254740992.0);
        e = exact ? worksheet_write_number(s.sheet, row, col, d, nullptr)
                  : worksheet_write_string(s.sheet, row, col, v.ToString().c_str(), nullptr);
      } else {
        std::string text = v.ToString();
        if (text.size() > kMaxCellText) {
          throw Error::InvalidArgument(
              "sheet '{}' row {}: a value of column {} has {} characters, more than an .xlsx cell holds "
              "({}): "
              "write CSV or Parquet",
              s.sheet_name, s.rows, c + 1, text.size(), kMaxCellText);
        }
        e = worksheet_write_string(s.sheet, row, col, text.c_str(), nullptr);
      }
      Check(e, "sheet " + s.sheet_name);
    }
  }
}

void XlsxWorkbook::Close() {
  lxw_error error = workbook_close(state_->book);  // frees the workbook, whatever it returns
  state_->book = nullptr;
  Check(error, state_->path.filename().string());
  std::error_code ec;
  std::filesystem::rename(state_->partial, state_->path, ec);
  if (ec) throw Error::Io("cannot write {}: {}", state_->path.string(), ec.message());
}

void ParquetToXlsx(const std::filesystem::path& parquet, const std::filesystem::path& xlsx,
                   const std::string& sheet) {
  // A private in-memory engine that reads only the file the server just wrote.
  duckdb::DuckDB db(nullptr);
  duckdb::Connection con(db);
  std::string path = parquet.string();
  std::string quoted;
  for (char c : path) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  auto result = con.SendQuery("SELECT * FROM read_parquet('" + quoted + "')");
  if (result->HasError()) throw Error::Io("cannot read the result for .xlsx: {}", result->GetError());
  XlsxWorkbook book(xlsx);
  book.AddSheet(sheet, result->names, result->types);
  while (auto chunk = result->Fetch()) {
    if (chunk->size() == 0) break;
    book.Append(*chunk);
  }
  if (result->HasError()) throw Error::Io("cannot read the result for .xlsx: {}", result->GetError());
  book.Close();
}

}  // namespace tarn::files
