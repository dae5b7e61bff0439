// The functions of the expression language and the SQL each becomes.
#include "quality/expr_functions.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "common/error.h"

namespace tarn::quality {

namespace {

using Args = std::vector<std::string>;
using Raw = std::vector<Arg>;

std::string Join(const Args& a, const std::string& sep, size_t from = 0) {
  std::string out;
  for (size_t i = from; i < a.size(); i++) out += (i > from ? sep : "") + a[i];
  return out;
}

// "(c1 AND c2 ...)" of args[from...].
std::string AllOf(const Args& a, size_t from) {
  return "(" + Join(a, " AND ", from) + ")";
}

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// The literal text of argument i, or kInvalidArgument saying what it must be.
std::string Literal(const Raw& raw, size_t i, const char* what) {
  if (i >= raw.size() || !raw[i].literal)
    throw Error::InvalidArgument("{} must be written as a literal", what);
  return *raw[i].literal;
}

// Rounding away from zero (up) or toward zero (down) at `digits`; the inner round
// drops binary noise (1.1 * 10 is 11.000000000000002) before ceil/floor.
std::string RoundTo(const Args& a, const char* op) {
  std::string digits = a.size() > 1 ? a[1] : "0";
  std::string p = "power(10, " + digits + ")";
  return fmt::format("(sign({0}) * {1}(round(abs({0}) * {2}, 9)) / {2})", a[0], op, p);
}

// A spreadsheet number or date format as SQL text: yyyy-mm-dd style for dates,
// 0 / 0.00 / #,##0.00 / 0% for numbers.
std::string TextFormat(const std::string& value, const std::string& format) {
  std::string f = format;
  std::string lower = f;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.find_first_of("ydh") != std::string::npos || lower.find("mm") != std::string::npos) {
    std::string out;
    for (size_t i = 0; i < lower.size();) {
      auto starts = [&](const char* t) {
        return lower.compare(i, std::char_traits<char>::length(t), t) == 0;
      };
      if (starts("yyyy")) {
        out += "%Y", i += 4;
      } else if (starts("yy")) {
        out += "%y", i += 2;
      } else if (starts("mmmm")) {
        out += "%B", i += 4;
      } else if (starts("mmm")) {
        out += "%b", i += 3;
      } else if (starts("mm")) {
        // minutes after hours, months otherwise (as the spreadsheet reads it)
        out += (out.size() >= 2 && out.compare(out.size() - 2, 2, "%H") == 0) ||
                       (out.size() >= 3 && out.compare(out.size() - 3, 3, "%H:") == 0)
                   ? "%M"
                   : "%m";
        i += 2;
      } else if (starts("dd")) {
        out += "%d", i += 2;
      } else if (starts("hh")) {
        out += "%H", i += 2;
      } else if (starts("ss")) {
        out += "%S", i += 2;
      } else if (std::string(" -/.:,_T").find(f[i]) != std::string::npos) {
        out += f[i++];
      } else {
        throw Error::InvalidArgument(
            "format \"{}\" has '{}', which is not a date part (yyyy, mm, dd, hh, ss)", format,
            f.substr(i, 1));
      }
    }
    return fmt::format("strftime({}, {})", value, StringLiteral(out));
  }
  bool percent = !f.empty() && f.back() == '%';
  if (percent) f.pop_back();
  bool thousands = f.find(',') != std::string::npos;
  size_t dot = f.find('.');
  size_t decimals = dot == std::string::npos ? 0 : f.size() - dot - 1;
  std::string body = f;
  body.erase(std::remove_if(body.begin(), body.end(), [](char c) { return c == ',' || c == '.'; }),
             body.end());
  if (body.empty() || body.find_first_not_of("0#") != std::string::npos || decimals > 10)
    throw Error::InvalidArgument(
        "format \"{}\" is not one of the number formats (0, 0.00, #,##0.00, 0%) or date formats (yyyy-mm-dd)",
        format);
  std::string v = percent ? "(" + value + " * 100)" : value;
  std::string text =
      fmt::format("format('{{:{}.{}f}}', CAST({} AS DOUBLE))", thousands ? "," : "", decimals, v);
  return percent ? "concat(" + text + ", '%')" : text;
}

// Weekdays (Mon-Fri) from the Monday 1970-01-05 up to, not including, `d`.
std::string WeekdaysBefore(const std::string& d) {
  std::string n = "(CAST(" + d + " AS DATE) - DATE '1970-01-05')";
  return fmt::format("(5 * floor({0} / 7) + least((({0} % 7) + 7) % 7, 5))", n);
}

std::string Over(const CallContext& ctx, bool ordered) {
  const WindowSpec* w = ctx.window;
  if (ordered && (!w || w->order_by.empty()))
    throw Error::InvalidArgument("needs the step's order_by (it counts along an order)");
  std::string over;
  if (w && !w->partition_by.empty()) over += "PARTITION BY " + w->partition_by;
  if (ordered) over += (over.empty() ? "" : " ") + std::string("ORDER BY ") + w->order_by;
  return " OVER (" + over + ")";
}

// Functions by kind. Row functions work in every mode; aggregates in kAggregate (and,
// as partition totals, in kWindow); window functions in kWindow.
const std::vector<FunctionDef>& Functions() {
  using K = FunctionKind;
  static const std::vector<FunctionDef> kAll = {
      // Logic
      {"IF", K::kRow, 2, 3, "IF(condition, then, else) — else is blank when left out",
       [](const Args& a, const Raw&, const CallContext&) {
         return fmt::format("(CASE WHEN {} THEN {} ELSE {} END)", a[0], a[1], a.size() > 2 ? a[2] : "NULL");
       }},
      {"IFS", K::kRow, 2, kMany,
       "IFS(condition1, value1, condition2, value2, ...) — the first true one's value",
       [](const Args& a, const Raw&, const CallContext&) {
         if (a.size() % 2) throw Error::InvalidArgument("takes pairs of condition and value");
         std::string out = "(CASE";
         for (size_t i = 0; i < a.size(); i += 2) out += " WHEN " + a[i] + " THEN " + a[i + 1];
         return out + " END)";
       }},
      {"IFERROR", K::kRow, 2, 2,
       "IFERROR(value, fallback) — fallback where value has none (x/0, VALUE of a non-number)",
       [](const Args& a, const Raw&, const CallContext&) {
         return fmt::format("coalesce({}, {})", a[0], a[1]);
       }},
      {"AND", K::kRow, 1, kMany, "AND(a, b, ...) — all true (also: a AND b)",
       [](const Args& a, const Raw&, const CallContext&) { return AllOf(a, 0); }},
      {"OR", K::kRow, 1, kMany, "OR(a, b, ...) — any true (also: a OR b)",
       [](const Args& a, const Raw&, const CallContext&) { return fmt::format("({})", Join(a, " OR ")); }},
      {"NOT", K::kRow, 1, 1, "NOT(a) — the opposite (also: NOT a)",
       [](const Args& a, const Raw&, const CallContext&) { return fmt::format("(NOT {})", a[0]); }},
      {"ISBLANK", K::kRow, 1, 1, "ISBLANK(value) — true when the value is blank (NULL)",
       [](const Args& a, const Raw&, const CallContext&) { return fmt::format("({} IS NULL)", a[0]); }},
      {"COALESCE", K::kRow, 1, kMany, "COALESCE(a, b, ...) — the first value that is not blank",
       [](const Args& a, const Raw&, const CallContext&) {
         return fmt::format("coalesce({})", Join(a, ", "));
       }},
      // Numbers
      {"ROUND", K::kRow, 1, 2, "ROUND(number, digits) — half away from zero",
       [](const Args& a, const Raw&, const CallContext&) {
         return fmt::format("round({}, CAST({} AS INTEGER))", a[0], a.size() > 1 ? a[1] : "0");
       }},
      {"ROUNDUP", K::kRow, 1, 2, "ROUNDUP(number, digits) — away from zero",
       [](const Args& a, const Raw&, const CallContext&) { return RoundTo(a, "ceil"); }},
      {"ROUNDDOWN", K::kRow, 1, 2, "ROUNDDOWN(number, digits) — toward zero",
       [](const Args& a, const Raw&, const CallContext&) { return RoundTo(a, "floor"); }},
      {"ABS", K::kRow, 1, 1, "ABS(number)",
       [](const Args& a, const Raw&, const CallContext&) { return fmt::format("abs({})", a[0]); }},
      {"INT", K::kRow, 1, 1, "INT(number) — rounded down to a whole number",
       [](const Args& a, const Raw&, const CallContext&) { return fmt::format("floor({})", a[0]); }},
      {"MOD", K::kRow, 2, 2, "MOD(number, divisor) — the remainder, with the divisor's sign",
       [](const Args& a, const Raw&, const CallContext&) {
         return fmt::format("({0} - {1} * floor({0} / nullif({1}, 0)))", a[0], a[1]);
       }},
      {"POWER", K::kRow, 2, 2, "POWER(number, power) (also: number ^ power)",
       [](const Args& a, const Raw&, const CallContext&) {
         return fmt::format("power({}, {})", a[0], a[1]);
       }},
      {"SQRT", K::kRow, 1, 1, "SQRT(number)",
       [](const Args& a, const Raw&, const CallContext&) { return fmt::format("sqrt({})", a[0]); }},
      {"VALUE", K::kRow, 1, 1, "VALUE(text) — the number a text holds (blank if it holds none)",
       [](const Args& a, const Raw&, const CallContext&) {
         return fmt::format("TRY_CAST(trim(CAST({} AS VARCHAR)) AS DOUBLE)", a[0]);
       }},
      // Text
      {"LEFT", K::kRow, 1, 2, "LEFT(text, count) — the first count characters (1 when left out)",
       [](const Args& a, const Raw&, const CallContext&) {
         return fmt::format("left(CAST({} AS VARCHAR), CAST({} AS BIGINT))", a[0], a.size() > 1 ? a[1] : "1");
       }},
      {"RIGHT", K::kRow, 1, 2, "RIGHT(text, count) — the last count characters (1 when left out)",
       [](const Args& a, const Raw&, const CallContext&) {
         return fmt::format("right(CAST({} AS VARCHAR), CAST({} AS BIGINT))", a[0],
                            a.size() > 1 ? a[1] : "1");
       }},
      {"MID", K::kRow, 3, 3, "MID(text, start, count) — count characters from start (1 is the first)",
       [](const Args& a, const Raw&, const CallContext&) {
         return fmt::format("substring(CAST({} AS VARCHAR), CAST({} AS BIGINT), CAST({} AS BIGINT))", a[0],
                            a[1], a[2]);
       }},
      {"LEN", K::kRow, 1, 1, "LEN(text) — its length in characters",
       [](const Args& a, const Raw&, const CallContext&) {
         return fmt::format("length(CAST({} AS VARCHAR))", a[0]);
       }},
      {"CONCAT", K::kRow, 1, kMany, "CONCAT(a, b, ...) — joined as text, blanks as empty (also: a & b)",
       [](const Args& a, const Raw&, const CallContext&) {
         return fmt::format("concat({})", Join(a, ", "));
       }},
      {"TRIM", K::kRow, 1, 1, "TRIM(text) — without leading, trailing and repeated spaces",
       [](const Args& a, const Raw&, const CallContext&) {
         return fmt::format("regexp_replace(trim(CAST({} AS VARCHAR)), ' {{2,}}', ' ', 'g')", a[0]);
       }},
      {"UPPER", K::kRow, 1, 1, "UPPER(text)",
       [](const Args& a, const Raw&, const CallContext&) {
         return fmt::format("upper(CAST({} AS VARCHAR))", a[0]);
       }},
      {"LOWER", K::kRow, 1, 1, "LOWER(text)",
       [](const Args& a, const Raw&, const CallContext&) {
         return fmt::format("lower(CAST({} AS VARCHAR))", a[0]);
       }},
      {"SUBSTITUTE", K::kRow, 3, 3, "SUBSTITUTE(text, old, new) — every old replaced by new",
       [](const Args& a, const Raw&, const CallContext&) {
         return fmt::format("replace(CAST({} AS VARCHAR), {}, {})", a[0], a[1], a[2]);
       }},
      {"TEXT", K::kRow, 2, 2, "TEXT(value, \"format\") — 0.00, #,##0.00, 0%, yyyy-mm-dd, dd/mm/yyyy hh:mm",
       [](const Args& a, const Raw& raw, const CallContext&) {
         return TextFormat(a[0], Literal(raw, 1, "the format"));
       }},
      // Dates
      {"DATE", K::kRow, 3, 3, "DATE(year, month, day)",
       [](const Args& a, const Raw&, const CallContext&) {
         return fmt::format("make_date(CAST({} AS BIGINT), CAST({} AS BIGINT), CAST({} AS BIGINT))", a[0],
                            a[1], a[2]);
       }},
      {"YEAR", K::kRow, 1, 1, "YEAR(date)",
       [](const Args& a, const Raw&, const CallContext&) { return fmt::format("year({})", a[0]); }},
      {"MONTH", K::kRow, 1, 1, "MONTH(date)",
       [](const Args& a, const Raw&, const CallContext&) { return fmt::format("month({})", a[0]); }},
      {"DAY", K::kRow, 1, 1, "DAY(date)",
       [](const Args& a, const Raw&, const CallContext&) { return fmt::format("day({})", a[0]); }},
      {"QUARTER", K::kRow, 1, 1, "QUARTER(date) — 1 to 4",
       [](const Args& a, const Raw&, const CallContext&) { return fmt::format("quarter({})", a[0]); }},
      {"EOMONTH", K::kRow, 2, 2, "EOMONTH(date, months) — the last day of the month months away",
       [](const Args& a, const Raw&, const CallContext&) {
         return fmt::format("last_day(CAST(CAST({} AS DATE) + to_months(CAST({} AS INTEGER)) AS DATE))", a[0],
                            a[1]);
       }},
      {"EDATE", K::kRow, 2, 2, "EDATE(date, months) — the same day months away (or that month's last)",
       [](const Args& a, const Raw&, const CallContext&) {
         return fmt::format("CAST(CAST({} AS DATE) + to_months(CAST({} AS INTEGER)) AS DATE)", a[0], a[1]);
       }},
      {"DATEDIF", K::kRow, 3, 3, "DATEDIF(start, end, \"D\" | \"M\" | \"Y\") — whole days, months or years",
       [](const Args& a, const Raw& raw, const CallContext&) {
         std::string unit = Upper(Literal(raw, 2, "the unit"));
         const char* part = unit == "D" ? "day" : unit == "M" ? "month" : unit == "Y" ? "year" : nullptr;
         if (!part) throw Error::InvalidArgument("the unit must be \"D\", \"M\" or \"Y\"");
         return fmt::format("date_sub('{}', CAST({} AS DATE), CAST({} AS DATE))", part, a[0], a[1]);
       }},
      {"NETWORKDAYS", K::kRow, 2, 2,
       "NETWORKDAYS(start, end) — Monday-to-Friday days from start to end, both counted",
       [](const Args& a, const Raw&, const CallContext&) {
         return fmt::format(
             "CAST(CASE WHEN CAST({0} AS DATE) <= CAST({1} AS DATE) THEN {2} - {3} ELSE -({4} - {5}) END AS "
             "BIGINT)",
             a[0], a[1], WeekdaysBefore("CAST(" + a[1] + " AS DATE) + 1"), WeekdaysBefore(a[0]),
             WeekdaysBefore("CAST(" + a[0] + " AS DATE) + 1"), WeekdaysBefore(a[1]));
       }},
      {"WEEKDAY", K::kRow, 1, 2,
       "WEEKDAY(date, type) — type 1: Sunday 1..Saturday 7; 2: Monday 1..7; 3: Monday 0..6",
       [](const Args& a, const Raw& raw, const CallContext&) {
         std::string type = a.size() > 1 ? Literal(raw, 1, "the type") : "1";
         if (type == "1") return fmt::format("(dayofweek({}) + 1)", a[0]);
         if (type == "2") return fmt::format("isodow({})", a[0]);
         if (type == "3") return fmt::format("(isodow({}) - 1)", a[0]);
         throw Error::InvalidArgument("the type must be 1, 2 or 3");
       }},
  };
  return kAll;
}

// Functions named like a row function but meaning an aggregate in kAggregate mode
// (SUM of a column) or a partition total in kWindow mode.
const std::vector<FunctionDef>& Aggregates() {
  using K = FunctionKind;
  auto agg = [](const char* sql, bool filtered) {
    return [sql, filtered](const Args& a, const Raw&, const CallContext& ctx) {
      std::string call = fmt::format("{}({})", sql, a.empty() ? "*" : a[0]);
      if (filtered) call += " FILTER (WHERE " + AllOf(a, 1) + ")";
      return ctx.mode == ExprMode::kWindow ? call + Over(ctx, false) : call;
    };
  };
  auto count_if = [](const Args& a, const Raw&, const CallContext& ctx) {
    std::string call = "count(*) FILTER (WHERE " + AllOf(a, 0) + ")";
    return ctx.mode == ExprMode::kWindow ? call + Over(ctx, false) : call;
  };
  static const std::vector<FunctionDef> kAll = {
      {"SUM", K::kAggregate, 1, 1, "SUM(value) — the group's total", agg("sum", false)},
      {"AVERAGE", K::kAggregate, 1, 1, "AVERAGE(value) — the group's mean (blanks left out)",
       agg("avg", false)},
      {"AVG", K::kAggregate, 1, 1, "AVG(value) — as AVERAGE", agg("avg", false)},
      {"MIN", K::kAggregate, 1, 1, "MIN(value) — the group's smallest", agg("min", false)},
      {"MAX", K::kAggregate, 1, 1, "MAX(value) — the group's largest", agg("max", false)},
      {"COUNT", K::kAggregate, 0, 1, "COUNT() — rows; COUNT(value) — rows where value is not blank",
       agg("count", false)},
      {"COUNTA", K::kAggregate, 1, 1, "COUNTA(value) — as COUNT(value)", agg("count", false)},
      {"COUNT_DISTINCT", K::kAggregate, 1, 1, "COUNT_DISTINCT(value) — distinct values that are not blank",
       [](const Args& a, const Raw&, const CallContext& ctx) {
         std::string call = "count(DISTINCT " + a[0] + ")";
         return ctx.mode == ExprMode::kWindow ? call + Over(ctx, false) : call;
       }},
      {"APPROX_COUNT_DISTINCT", K::kAggregate, 1, 1,
       "APPROX_COUNT_DISTINCT(value) — a fast estimate of COUNT_DISTINCT (HyperLogLog, within a few percent)",
       [](const Args& a, const Raw&, const CallContext& ctx) {
         std::string call = "approx_count_distinct(" + a[0] + ")";
         return ctx.mode == ExprMode::kWindow ? call + Over(ctx, false) : call;
       }},
      {"COUNTIF", K::kAggregate, 1, 1, "COUNTIF(condition) — rows where it holds", count_if},
      {"COUNTIFS", K::kAggregate, 1, kMany, "COUNTIFS(condition1, condition2, ...) — rows where all hold",
       count_if},
      {"SUMIF", K::kAggregate, 2, 2, "SUMIF(value, condition) — total over rows where it holds",
       agg("sum", true)},
      {"SUMIFS", K::kAggregate, 2, kMany, "SUMIFS(value, condition1, ...) — total over rows where all hold",
       agg("sum", true)},
      {"AVERAGEIF", K::kAggregate, 2, 2, "AVERAGEIF(value, condition)", agg("avg", true)},
      {"AVERAGEIFS", K::kAggregate, 2, kMany, "AVERAGEIFS(value, condition1, ...)", agg("avg", true)},
      {"MINIFS", K::kAggregate, 2, kMany, "MINIFS(value, condition1, ...)", agg("min", true)},
      {"MAXIFS", K::kAggregate, 2, kMany, "MAXIFS(value, condition1, ...)", agg("max", true)},
  };
  return kAll;
}

// Row-mode SUM/MIN/MAX over columns, as a spreadsheet SUM(A2, B2, C2) is.
const std::vector<FunctionDef>& RowTotals() {
  using K = FunctionKind;
  static const std::vector<FunctionDef> kAll = {
      {"SUM", K::kRow, 1, kMany, "SUM(a, b, ...) in derive/filter — the total of the values, blanks as 0",
       [](const Args& a, const Raw&, const CallContext&) {
         std::string out = "(";
         for (size_t i = 0; i < a.size(); i++) out += (i ? " + " : "") + ("coalesce(" + a[i] + ", 0)");
         return out + ")";
       }},
      {"MIN", K::kRow, 1, kMany, "MIN(a, b, ...) in derive/filter — the smallest value that is not blank",
       [](const Args& a, const Raw&, const CallContext&) { return fmt::format("least({})", Join(a, ", ")); }},
      {"MAX", K::kRow, 1, kMany, "MAX(a, b, ...) in derive/filter — the largest value that is not blank",
       [](const Args& a, const Raw&, const CallContext&) {
         return fmt::format("greatest({})", Join(a, ", "));
       }},
  };
  return kAll;
}

const std::vector<FunctionDef>& WindowFunctions() {
  using K = FunctionKind;
  auto ranking = [](const char* sql) {
    return [sql](const Args&, const Raw&, const CallContext& ctx) {
      return std::string(sql) + "()" + Over(ctx, true);
    };
  };
  auto shift = [](const char* sql) {
    return [sql](const Args& a, const Raw&, const CallContext& ctx) {
      return fmt::format("{}({}, CAST({} AS BIGINT){}){}", sql, a[0], a.size() > 1 ? a[1] : "1",
                         a.size() > 2 ? ", " + a[2] : "", Over(ctx, true));
    };
  };
  static const std::vector<FunctionDef> kAll = {
      {"RANK", K::kWindow, 0, 0, "RANK() — 1 for the first along order_by, ties share a rank",
       ranking("rank")},
      {"DENSE_RANK", K::kWindow, 0, 0, "DENSE_RANK() — as RANK, without gaps after ties",
       ranking("dense_rank")},
      {"ROW_NUMBER", K::kWindow, 0, 0, "ROW_NUMBER() — 1, 2, 3 ... along order_by", ranking("row_number")},
      {"RUNNING_SUM", K::kWindow, 1, 1,
       "RUNNING_SUM(value) — the total so far along order_by (ties together)",
       [](const Args& a, const Raw&, const CallContext& ctx) {
         return "sum(" + a[0] + ")" + Over(ctx, true);
       }},
      {"RUNNING_COUNT", K::kWindow, 0, 0, "RUNNING_COUNT() — rows so far along order_by",
       [](const Args&, const Raw&, const CallContext& ctx) { return "count(*)" + Over(ctx, true); }},
      {"LAG", K::kWindow, 1, 3, "LAG(value, rows, default) — the value rows before (1 when left out)",
       shift("lag")},
      {"LEAD", K::kWindow, 1, 3, "LEAD(value, rows, default) — the value rows after", shift("lead")},
  };
  return kAll;
}

const FunctionDef* Find(const std::vector<FunctionDef>& list, const std::string& upper) {
  for (auto& f : list) {
    if (upper == f.name) return &f;
  }
  return nullptr;
}

}  // namespace

const FunctionDef* FindFunction(const std::string& name, ExprMode mode) {
  std::string upper = Upper(name);
  if (mode != ExprMode::kRow) {
    if (auto* f = Find(Aggregates(), upper)) return f;
  }
  if (mode == ExprMode::kWindow) {
    if (auto* f = Find(WindowFunctions(), upper)) return f;
  }
  if (auto* f = Find(RowTotals(), upper)) return f;
  return Find(Functions(), upper);
}

std::vector<std::string> ExprFunctionList() {
  std::vector<std::string> out;
  for (auto* list : {&Functions(), &RowTotals(), &Aggregates(), &WindowFunctions()}) {
    for (auto& f : *list) out.push_back(f.usage);
  }
  return out;
}

}  // namespace tarn::quality
