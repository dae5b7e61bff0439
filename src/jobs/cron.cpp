#include "jobs/cron.h"

#include <unicode/basictz.h>
#include <unicode/timezone.h>
#include <unicode/tztrans.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace tarn::jobs {

struct CronSchedule::Zone {
  std::unique_ptr<icu::BasicTimeZone> tz;
};

namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;

constexpr size_t kMaxExpressionLength = 256;
constexpr int64_t kMsPerMinute = 60'000;
constexpr int64_t kMinutesPerDay = 24 * 60;
constexpr int64_t kHorizonMinutes = 5 * 366 * kMinutesPerDay;
constexpr int64_t kMinAfterMs = -62'135'596'800'000;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxAfterMs = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z

constexpr std::array<std::string_view, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kDayNames = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

// One of the five fields: its name in messages, its range and its value names
// (names[i] stands for min + i).
struct FieldSpec {
  std::string_view name;
  int min;
  int max;
  std::span<const std::string_view> names;
};

constexpr std::array<FieldSpec, 5> kFieldSpecs = {{
    {"minute", 0, 59, {}},
    {"hour", 0, 23, {}},
    {"day-of-month", 1, 31, {}},
    {"month", 1, 12, kMonthNames},
    {"day-of-week", 0, 7, kDayNames},
}};

constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kMacros = {{
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
}};

// `text` with control and non-ASCII bytes shown as \xNN, for error messages.
std::string Printable(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out;
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}  // ASCII only, whatever the locale
bool IsAlpha(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
char AsciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) { return AsciiLower(x) == AsciiLower(y); });
}

template <typename... Args>
Error FieldError(const FieldSpec& spec, fmt::format_string<Args...> format, Args&&... args) {
  return Error::InvalidArgument("cron: {} field: {}", spec.name,
                                fmt::format(format, std::forward<Args>(args)...));
}

// Parses an unsigned decimal number, saturating at a value above every range.
std::optional<int> ParseNumber(std::string_view token) {
  if (token.empty()) return std::nullopt;
  int value = 0;
  for (char c : token) {
    if (!IsDigit(c)) return std::nullopt;
    value = std::min(value * 10 + (c - '0'), 1'000'000);
  }
  return value;
}

int ParseName(std::string_view token, const FieldSpec& spec) {
  for (size_t i = 0; i < spec.names.size(); ++i) {
    if (EqualsIgnoringCase(spec.names[i], token)) return spec.min + static_cast<int>(i);
  }
  throw FieldError(spec, "unknown name '{}' (expected {}-{})", Printable(token), spec.names.front(),
                   spec.names.back());
}

// One value of an item: a number in the field's range or, where the field has
// names, a name.
int ParseValue(std::string_view token, std::string_view item, const FieldSpec& spec) {
  if (token.empty()) throw FieldError(spec, "missing value in '{}'", Printable(item));
  if (!spec.names.empty() && IsAlpha(token.front())) return ParseName(token, spec);
  const std::optional<int> value = ParseNumber(token);
  if (!value) {
    throw FieldError(spec, "'{}' is not a number (expected {}-{})", Printable(token), spec.min, spec.max);
  }
  if (*value < spec.min || *value > spec.max) {
    throw FieldError(spec, "{} is out of range {}-{}", token, spec.min, spec.max);
  }
  return *value;
}

int ParseStep(std::string_view token, std::string_view item, const FieldSpec& spec) {
  if (token.empty()) throw FieldError(spec, "missing step in '{}'", Printable(item));
  const std::optional<int> step = ParseNumber(token);
  const int max_step = spec.max - spec.min + 1;
  if (!step) throw FieldError(spec, "step '{}' is not a number", Printable(token));
  if (*step < 1 || *step > max_step) {
    throw FieldError(spec, "step {} is out of range 1-{}", token, max_step);
  }
  return *step;
}

// One list item: `*`, `N`, `A-B`, `*/S`, `A-B/S` or `A/S`, as a bit set.
uint64_t ParseItem(std::string_view item, const FieldSpec& spec) {
  const size_t slash = item.find('/');
  const std::string_view base = item.substr(0, slash);
  const int step = slash == std::string_view::npos ? 1 : ParseStep(item.substr(slash + 1), item, spec);
  int low = spec.min;
  int high = spec.max;
  if (base != "*") {
    const size_t dash = base.find('-');
    low = ParseValue(base.substr(0, dash), item, spec);
    if (dash != std::string_view::npos) {
      high = ParseValue(base.substr(dash + 1), item, spec);
      if (high < low) {
        throw FieldError(spec, "range {} is reversed (the start must not be after the end)", base);
      }
    } else if (slash == std::string_view::npos) {
      high = low;
    }
  }
  uint64_t bits = 0;
  for (int v = low; v <= high; v += step) bits |= uint64_t{1} << v;
  return bits;
}

// A whole field: a comma-separated list of items, as a bit set.
uint64_t ParseField(std::string_view field, const FieldSpec& spec) {
  for (char c : field) {
    if (!IsDigit(c) && !IsAlpha(c) && c != '*' && c != ',' && c != '-' && c != '/') {
      throw FieldError(spec, "unexpected character '{}' in '{}'", Printable({&c, 1}), Printable(field));
    }
  }
  uint64_t bits = 0;
  size_t begin = 0;
  while (true) {
    const size_t comma = field.find(',', begin);
    const std::string_view item = field.substr(begin, comma - begin);
    if (item.empty()) throw FieldError(spec, "empty list item in '{}'", field);
    bits |= ParseItem(item, spec);
    if (comma == std::string_view::npos) return bits;
    begin = comma + 1;
  }
}

std::vector<std::string_view> SplitBlanks(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (true) {
    const size_t begin = text.find_first_not_of(" \t", pos);
    if (begin == std::string_view::npos) return parts;
    const size_t end = std::min(text.find_first_of(" \t", begin), text.size());
    parts.push_back(text.substr(begin, end - begin));
    pos = end;
  }
}

std::string_view ExpandMacro(std::string_view macro, size_t part_count) {
  if (part_count == 1) {
    for (const auto& [name, expansion] : kMacros) {
      if (EqualsIgnoringCase(name, macro)) return expansion;
    }
  }
  throw Error::InvalidArgument(
      "cron: unknown macro '{}' (expected one of @yearly, @annually, @monthly, @weekly, @daily, "
      "@midnight, @hourly, alone)",
      Printable(macro));
}

CronSchedule::Fields ParseExpression(std::string_view expression) {
  if (expression.size() > kMaxExpressionLength) {
    throw Error::InvalidArgument("cron: expression is {} characters long; at most {} are allowed",
                                 expression.size(), kMaxExpressionLength);
  }
  std::vector<std::string_view> parts = SplitBlanks(expression);
  if (parts.empty()) throw Error::InvalidArgument("cron: expression is empty");
  if (parts.front().front() == '@') parts = SplitBlanks(ExpandMacro(parts.front(), parts.size()));
  if (parts.size() != kFieldSpecs.size()) {
    throw Error::InvalidArgument(
        "cron: expected 5 fields (minute hour day-of-month month day-of-week), got {} in '{}'", parts.size(),
        Printable(expression));
  }
  std::array<uint64_t, 5> bits{};
  for (size_t i = 0; i < parts.size(); ++i) bits[i] = ParseField(parts[i], kFieldSpecs[i]);
  return {bits[0],
          static_cast<uint32_t>(bits[1]),
          static_cast<uint32_t>(bits[2]),
          static_cast<uint32_t>(bits[3]),
          static_cast<uint32_t>((bits[4] | (bits[4] >> 7)) & 0x7f),  // 7 is Sunday
          parts[2].front() == '*',
          parts[4].front() == '*'};
}

std::unique_ptr<icu::BasicTimeZone> LoadZone(const std::string& id) {
  std::unique_ptr<icu::TimeZone> zone(icu::TimeZone::createTimeZone(icu::UnicodeString::fromUTF8(id)));
  icu::UnicodeString found;
  icu::UnicodeString unknown;
  if (zone == nullptr || zone->getID(found) == icu::TimeZone::getUnknown().getID(unknown)) {
    throw Error::InvalidArgument("timezone: unknown time zone '{}'", Printable(id));
  }
  auto* basic = dynamic_cast<icu::BasicTimeZone*>(zone.get());
  if (basic == nullptr) throw Error::InvalidArgument("timezone: unsupported time zone '{}'", Printable(id));
  zone.release();
  return std::unique_ptr<icu::BasicTimeZone>(basic);
}

std::unique_ptr<icu::BasicTimeZone> CloneZone(const icu::BasicTimeZone& zone) {
  std::unique_ptr<icu::BasicTimeZone> copy(zone.clone());
  if (copy == nullptr) throw Error::Internal("cron: could not copy an ICU time zone");
  return copy;
}

int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Conversions between UTC instants and local wall-clock minutes (minutes since
// 1970-01-01T00:00 local) on a private copy of the zone.
class ZoneClock {
 public:
  explicit ZoneClock(const icu::BasicTimeZone& zone) : zone_(CloneZone(zone)) {}

  int64_t LocalMs(int64_t utc_ms) const {
    int32_t raw = 0;
    int32_t dst = 0;
    UErrorCode status = U_ZERO_ERROR;
    zone_->getOffset(static_cast<UDate>(utc_ms), false, raw, dst, status);
    Check(status);
    return utc_ms + raw + dst;
  }

  int64_t LocalMinute(int64_t utc_ms) const { return FloorDiv(LocalMs(utc_ms), kMsPerMinute); }

  // The instant of a local minute. A repeated local minute is its first
  // occurrence; one skipped by a gap is the first instant after the gap.
  int64_t ToUtc(int64_t local_minute) const {
    const int64_t local_ms = local_minute * kMsPerMinute;
    int32_t raw = 0;
    int32_t dst = 0;
    UErrorCode status = U_ZERO_ERROR;
    zone_->getOffsetFromLocal(static_cast<UDate>(local_ms), UCAL_TZ_LOCAL_FORMER, UCAL_TZ_LOCAL_FORMER, raw,
                              dst, status);
    Check(status);
    const int64_t utc_ms = local_ms - raw - dst;
    if (LocalMs(utc_ms) == local_ms) return utc_ms;
    // In a gap, the offset from before the transition puts utc_ms just after it.
    icu::TimeZoneTransition transition;
    if (!zone_->getPreviousTransition(static_cast<UDate>(utc_ms), true, transition)) {
      throw Error::Internal("cron: no time zone transition before a skipped local time");
    }
    return static_cast<int64_t>(transition.getTime());
  }

 private:
  static void Check(UErrorCode status) {
    if (U_FAILURE(status)) throw Error::Internal("cron: ICU time zone error: {}", u_errorName(status));
  }

  std::unique_ptr<icu::BasicTimeZone> zone_;
};

// The lowest set bit of `bits` at or above `from`, or -1.
int NextBit(uint64_t bits, unsigned from) {
  if (from >= 64) return -1;
  const uint64_t rest = bits & (~uint64_t{0} << from);
  return rest == 0 ? -1 : std::countr_zero(rest);
}

bool DayMatches(const CronSchedule::Fields& f, const year_month_day& date) {
  const bool dom = (f.days_of_month >> static_cast<unsigned>(date.day())) & 1;
  const bool dow = (f.days_of_week >> std::chrono::weekday(sys_days(date)).c_encoding()) & 1;
  return (f.dom_star || f.dow_star) ? (dom && dow) : (dom || dow);
}

int64_t StartOfMonth(std::chrono::year year, unsigned month) {
  return sys_days(year / std::chrono::month(month) / 1).time_since_epoch().count() * kMinutesPerDay;
}

// The first local minute at or after `local` (and at most `limit`) that matches
// the fields, skipping whole months, days and hours that cannot match.
std::optional<int64_t> NextLocalMatch(const CronSchedule::Fields& f, int64_t local, int64_t limit) {
  while (local <= limit) {
    const int64_t day = FloorDiv(local, kMinutesPerDay);
    const year_month_day date{sys_days(days(day))};
    const auto month = static_cast<unsigned>(date.month());
    const int next_month = NextBit(f.months, month);
    if (next_month < 0) {
      local = StartOfMonth(date.year() + std::chrono::years(1),
                           static_cast<unsigned>(std::countr_zero(f.months)));
      continue;
    }
    if (static_cast<unsigned>(next_month) != month) {
      local = StartOfMonth(date.year(), static_cast<unsigned>(next_month));
      continue;
    }
    const int64_t next_day = (day + 1) * kMinutesPerDay;
    if (!DayMatches(f, date)) {
      local = next_day;
      continue;
    }
    const int64_t minute_of_day = local - day * kMinutesPerDay;
    const int hour = NextBit(f.hours, static_cast<unsigned>(minute_of_day / 60));
    if (hour < 0) {
      local = next_day;
      continue;
    }
    const int64_t hour_start = day * kMinutesPerDay + hour * 60;
    const int minute = NextBit(f.minutes, static_cast<unsigned>(std::max<int64_t>(local - hour_start, 0)));
    if (minute < 0) {
      local = hour_start + 60;
      continue;
    }
    return hour_start + minute;
  }
  return std::nullopt;
}

}  // namespace

CronSchedule::CronSchedule(std::string expression, std::string timezone, Fields fields,
                           std::unique_ptr<Zone> zone)
    : expression_(std::move(expression)),
      timezone_(std::move(timezone)),
      fields_(fields),
      zone_(std::move(zone)) {}

CronSchedule::CronSchedule(const CronSchedule& other)
    : expression_(other.expression_),
      timezone_(other.timezone_),
      fields_(other.fields_),
      zone_(std::make_unique<Zone>(Zone{CloneZone(*other.zone_->tz)})) {}

CronSchedule& CronSchedule::operator=(const CronSchedule& other) {
  if (this != &other) *this = CronSchedule(other);
  return *this;
}

CronSchedule::CronSchedule(CronSchedule&&) noexcept = default;
CronSchedule& CronSchedule::operator=(CronSchedule&&) noexcept = default;
CronSchedule::~CronSchedule() = default;

CronSchedule CronSchedule::Parse(const std::string& expression, const std::string& timezone) {
  const Fields fields = ParseExpression(expression);
  auto zone = std::make_unique<Zone>(Zone{LoadZone(timezone)});
  return CronSchedule(expression, timezone, fields, std::move(zone));
}

std::optional<int64_t> CronSchedule::NextAfter(int64_t after_ms) const {
  if (after_ms < kMinAfterMs || after_ms > kMaxAfterMs) {
    throw Error::InvalidArgument("cron: time {} ms is outside the supported years 0001-9999", after_ms);
  }
  const ZoneClock clock(*zone_->tz);
  const int64_t start = clock.LocalMinute(after_ms);
  const int64_t limit = start + kHorizonMinutes;
  int64_t local = start + 1;
  while (const std::optional<int64_t> match = NextLocalMatch(fields_, local, limit)) {
    const int64_t utc_ms = clock.ToUtc(*match);
    if (utc_ms > after_ms) return utc_ms;
    local = *match + 1;  // the first occurrence of a repeated minute has passed
  }
  return std::nullopt;
}

}  // namespace tarn::jobs
