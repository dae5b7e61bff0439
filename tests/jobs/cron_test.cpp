// CronSchedule: every syntax form, every rejection (the message names the field),
// the Vixie day-of-month/day-of-week rule, macros, leap days, time zones, both DST
// transitions and strictly-after semantics. Expected instants come from calendar
// facts written by hand as ISO-8601 UTC strings, never from the code under test.
#include "jobs/cron.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"

namespace tarn::jobs {
namespace {

using ::testing::HasSubstr;

// "2024-03-31T01:00:00Z" (optionally with ".mmm" before the Z) -> ms since the epoch.
int64_t Ms(const std::string& iso) {
  std::tm tm{};
  const char* rest = strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  EXPECT_NE(rest, nullptr) << iso;
  int64_t millis = 0;
  if (rest != nullptr && *rest == '.') {
    millis = std::stoi(std::string(rest + 1, 3));
    rest += 4;
  }
  EXPECT_STREQ(rest, "Z") << iso;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + millis;
}

// ms since the epoch -> "2024-03-31T01:00:00Z", with ".mmm" if not a whole second.
std::string Iso(int64_t ms) {
  const time_t seconds = static_cast<time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[40];
  strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buffer;
  if (ms % 1000 != 0) out += "." + std::to_string((ms % 1000 + 1000) % 1000);
  return out + "Z";
}

// The next fire time after `after_iso`, as an ISO string, or "none".
std::string Next(const CronSchedule& schedule, const std::string& after_iso) {
  const std::optional<int64_t> next = schedule.NextAfter(Ms(after_iso));
  return next ? Iso(*next) : "none";
}

std::string Next(const std::string& expression, const std::string& after_iso,
                 const std::string& timezone = "UTC") {
  return Next(CronSchedule::Parse(expression, timezone), after_iso);
}

// The first `count` fire times after `after_iso`, each fed back as the next `after`.
std::vector<std::string> Chain(const std::string& expression, const std::string& timezone,
                               const std::string& after_iso, int count) {
  const CronSchedule schedule = CronSchedule::Parse(expression, timezone);
  std::vector<std::string> out;
  int64_t after = Ms(after_iso);
  for (int i = 0; i < count; ++i) {
    const std::optional<int64_t> next = schedule.NextAfter(after);
    if (!next) break;
    out.push_back(Iso(*next));
    after = *next;
  }
  return out;
}

// The message of the kInvalidArgument error that parsing throws ("" if none).
std::string ParseError(const std::string& expression, const std::string& timezone = "UTC") {
  try {
    CronSchedule::Parse(expression, timezone);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for '" << expression << "' in " << timezone;
  return "";
}

uint64_t Bits(std::initializer_list<int> values) {
  uint64_t bits = 0;
  for (int v : values) bits |= uint64_t{1} << v;
  return bits;
}

TEST(CronTest, HelpersRoundTrip) {
  EXPECT_EQ(Ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(Ms("2024-01-01T00:00:00Z"), 1704067200000);
  EXPECT_EQ(Iso(1704067200000), "2024-01-01T00:00:00Z");
  EXPECT_EQ(Iso(Ms("2024-01-01T00:00:00.250Z")), "2024-01-01T00:00:00.250Z");
}

TEST(CronTest, Star) {
  EXPECT_EQ(Next("* * * * *", "2024-01-01T00:00:00Z"), "2024-01-01T00:01:00Z");
  EXPECT_EQ(Next("* * * * *", "2024-01-01T00:00:30Z"), "2024-01-01T00:01:00Z");
  EXPECT_EQ(Next("* * * * *", "2024-01-01T00:00:59.999Z"), "2024-01-01T00:01:00Z");
}

TEST(CronTest, Number) {
  EXPECT_EQ(Next("5 * * * *", "2024-01-01T10:04:59.999Z"), "2024-01-01T10:05:00Z");
  EXPECT_EQ(Next("5 * * * *", "2024-01-01T10:05:00Z"), "2024-01-01T11:05:00Z");
  EXPECT_EQ(Next("0 7 * * *", "2024-01-01T08:00:00Z"), "2024-01-02T07:00:00Z");
  EXPECT_EQ(Next("07 007 * * *", "2024-01-01T08:00:00Z"), "2024-01-02T07:07:00Z");
}

TEST(CronTest, Range) {
  EXPECT_EQ(CronSchedule::Parse("10-12 * * * *", "UTC").fields().minutes, Bits({10, 11, 12}));
  EXPECT_EQ(Next("10-12 * * * *", "2024-01-01T10:11:00Z"), "2024-01-01T10:12:00Z");
  EXPECT_EQ(Next("10-12 * * * *", "2024-01-01T10:12:00Z"), "2024-01-01T11:10:00Z");
  EXPECT_EQ(CronSchedule::Parse("* 5-5 * * *", "UTC").fields().hours, Bits({5}));
}

TEST(CronTest, Steps) {
  EXPECT_EQ(CronSchedule::Parse("*/15 * * * *", "UTC").fields().minutes, Bits({0, 15, 30, 45}));
  EXPECT_EQ(Next("*/15 * * * *", "2024-01-01T10:46:00Z"), "2024-01-01T11:00:00Z");
  EXPECT_EQ(CronSchedule::Parse("10-30/10 * * * *", "UTC").fields().minutes, Bits({10, 20, 30}));
  EXPECT_EQ(CronSchedule::Parse("10-35/10 * * * *", "UTC").fields().minutes, Bits({10, 20, 30}));
  EXPECT_EQ(CronSchedule::Parse("50/5 * * * *", "UTC").fields().minutes, Bits({50, 55}));
  EXPECT_EQ(CronSchedule::Parse("0 20/2 * * *", "UTC").fields().hours, Bits({20, 22}));
  EXPECT_EQ(CronSchedule::Parse("0 0 */10 * *", "UTC").fields().days_of_month, Bits({1, 11, 21, 31}));
  EXPECT_EQ(CronSchedule::Parse("0 0 1 */3 *", "UTC").fields().months, Bits({1, 4, 7, 10}));
  EXPECT_EQ(CronSchedule::Parse("*/60 * * * *", "UTC").fields().minutes, Bits({0}));
  // Day-of-week runs 0-7, so 1/2 reaches 7 (Sunday) and */2 is 0,2,4,6.
  EXPECT_EQ(CronSchedule::Parse("0 0 * * 1/2", "UTC").fields().days_of_week, Bits({0, 1, 3, 5}));
  EXPECT_EQ(CronSchedule::Parse("0 0 * * */2", "UTC").fields().days_of_week, Bits({0, 2, 4, 6}));
  // Every 20 minutes from 5 past, in hours 9 to 17 stepping by 4.
  EXPECT_EQ(Chain("5-59/20 9-17/4 * * *", "UTC", "2024-01-01T00:00:00Z", 4),
            (std::vector<std::string>{"2024-01-01T09:05:00Z", "2024-01-01T09:25:00Z", "2024-01-01T09:45:00Z",
                                      "2024-01-01T13:05:00Z"}));
}

TEST(CronTest, Lists) {
  EXPECT_EQ(CronSchedule::Parse("1,5,10-12,58-59 * * * *", "UTC").fields().minutes,
            Bits({1, 5, 10, 11, 12, 58, 59}));
  EXPECT_EQ(CronSchedule::Parse("0,*/20,7 * * * *", "UTC").fields().minutes, Bits({0, 7, 20, 40}));
  EXPECT_EQ(
      Chain("0 6,18 * * *", "UTC", "2024-01-01T12:00:00Z", 3),
      (std::vector<std::string>{"2024-01-01T18:00:00Z", "2024-01-02T06:00:00Z", "2024-01-02T18:00:00Z"}));
}

TEST(CronTest, BlanksBetweenFields) {
  EXPECT_EQ(CronSchedule::Parse("  5\t4 *  * *\t", "UTC").fields().hours, Bits({4}));
  EXPECT_EQ(Next(" 5\t4 * * * ", "2024-01-01T00:00:00Z"), "2024-01-01T04:05:00Z");
}

TEST(CronTest, MonthNames) {
  const CronSchedule s = CronSchedule::Parse("0 0 1 JAN,jul,Oct-dec *", "UTC");
  EXPECT_EQ(s.fields().months, Bits({1, 7, 10, 11, 12}));
  EXPECT_EQ(Next(s, "2024-01-01T00:00:00Z"), "2024-07-01T00:00:00Z");
  EXPECT_EQ(Next("0 0 1 feb-MAR/1 *", "2024-01-01T00:00:00Z"), "2024-02-01T00:00:00Z");
  EXPECT_EQ(CronSchedule::Parse("0 0 1 jan/5 *", "UTC").fields().months, Bits({1, 6, 11}));
}

TEST(CronTest, DayNames) {
  // 2024-01-01 is a Monday.
  const CronSchedule s = CronSchedule::Parse("0 9 * * mon-FRI", "UTC");
  EXPECT_EQ(s.fields().days_of_week, Bits({1, 2, 3, 4, 5}));
  EXPECT_EQ(Next(s, "2024-01-05T09:00:00Z"), "2024-01-08T09:00:00Z");  // Friday -> Monday
  EXPECT_EQ(CronSchedule::Parse("0 0 * * Sun,sat", "UTC").fields().days_of_week, Bits({0, 6}));
  EXPECT_EQ(Next("0 0 * * SAT", "2024-01-01T00:00:00Z"), "2024-01-06T00:00:00Z");
}

TEST(CronTest, SevenIsSunday) {
  EXPECT_EQ(CronSchedule::Parse("0 0 * * 7", "UTC").fields().days_of_week, Bits({0}));
  EXPECT_EQ(CronSchedule::Parse("0 0 * * 5-7", "UTC").fields().days_of_week, Bits({0, 5, 6}));
  EXPECT_EQ(CronSchedule::Parse("0 0 * * 0-7", "UTC").fields().days_of_week, Bits({0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(Next("0 0 * * 7", "2024-01-01T00:00:00Z"), "2024-01-07T00:00:00Z");
  EXPECT_EQ(Next("0 0 * * 0", "2024-01-01T00:00:00Z"), "2024-01-07T00:00:00Z");
}

TEST(CronTest, Macros) {
  const std::vector<std::pair<std::string, std::string>> macros = {
      {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"}, {" @DAILY ", "0 0 * * *"},
  };
  for (const auto& [macro, expansion] : macros) {
    const CronSchedule::Fields a = CronSchedule::Parse(macro, "UTC").fields();
    const CronSchedule::Fields b = CronSchedule::Parse(expansion, "UTC").fields();
    EXPECT_EQ(a.minutes, b.minutes) << macro;
    EXPECT_EQ(a.hours, b.hours) << macro;
    EXPECT_EQ(a.days_of_month, b.days_of_month) << macro;
    EXPECT_EQ(a.months, b.months) << macro;
    EXPECT_EQ(a.days_of_week, b.days_of_week) << macro;
    EXPECT_EQ(a.dom_star, b.dom_star) << macro;
    EXPECT_EQ(a.dow_star, b.dow_star) << macro;
  }
  EXPECT_EQ(Next("@yearly", "2024-05-05T00:00:00Z"), "2025-01-01T00:00:00Z");
  EXPECT_EQ(Next("@annually", "2024-05-05T00:00:00Z"), "2025-01-01T00:00:00Z");
  EXPECT_EQ(Next("@monthly", "2024-01-31T12:00:00Z"), "2024-02-01T00:00:00Z");
  EXPECT_EQ(Next("@weekly", "2024-01-01T00:00:00Z"), "2024-01-07T00:00:00Z");  // Mon -> Sun
  EXPECT_EQ(Next("@daily", "2024-01-01T00:00:00Z"), "2024-01-02T00:00:00Z");
  EXPECT_EQ(Next("@midnight", "2024-01-01T23:59:00Z"), "2024-01-02T00:00:00Z");
  EXPECT_EQ(Next("@hourly", "2024-01-01T10:00:00Z"), "2024-01-01T11:00:00Z");
  EXPECT_EQ(CronSchedule::Parse("@Hourly", "UTC").expression(), "@Hourly");
}

TEST(CronTest, VixieEitherDayMatchesWhenBothRestricted) {
  // The 13th or any Friday. January 2024: Fridays are the 5th, 12th, 19th; the 13th is a Saturday.
  EXPECT_EQ(Chain("0 0 13 * FRI", "UTC", "2024-01-01T00:00:00Z", 4),
            (std::vector<std::string>{"2024-01-05T00:00:00Z", "2024-01-12T00:00:00Z", "2024-01-13T00:00:00Z",
                                      "2024-01-19T00:00:00Z"}));
  // The 1st or the 15th, or any Monday (Jan 2024 Mondays: 1, 8, 15, 22, 29).
  EXPECT_EQ(Chain("0 0 1,15 * 1", "UTC", "2024-01-01T00:00:00Z", 5),
            (std::vector<std::string>{"2024-01-08T00:00:00Z", "2024-01-15T00:00:00Z", "2024-01-22T00:00:00Z",
                                      "2024-01-29T00:00:00Z", "2024-02-01T00:00:00Z"}));
}

TEST(CronTest, VixieBothMustMatchWhenOneStartsWithStar) {
  // */2 starts with '*': odd days that are Mondays (Jan 2024: 1, 15, 29; Feb: 5, 19).
  EXPECT_EQ(
      Chain("0 0 */2 * MON", "UTC", "2024-01-01T00:00:00Z", 3),
      (std::vector<std::string>{"2024-01-15T00:00:00Z", "2024-01-29T00:00:00Z", "2024-02-05T00:00:00Z"}));
  // A day-of-week starting with '*' leaves only the day-of-month: the 13th.
  EXPECT_EQ(Next("0 0 13 * */1", "2024-01-01T00:00:00Z"), "2024-01-13T00:00:00Z");
  EXPECT_EQ(Next("0 0 1 * *", "2024-01-01T00:00:00Z"), "2024-02-01T00:00:00Z");
  EXPECT_EQ(Next("0 0 * * MON", "2024-01-01T00:00:00Z"), "2024-01-08T00:00:00Z");
  // A day-of-month starting with '*' ("*/1") leaves only the day-of-week: Fridays.
  EXPECT_EQ(Chain("0 0 */1 * FRI", "UTC", "2024-09-01T00:00:00Z", 1),
            (std::vector<std::string>{"2024-09-06T00:00:00Z"}));
}

TEST(CronTest, LeapDay) {
  EXPECT_EQ(Next("0 0 29 2 *", "2023-01-01T00:00:00Z"), "2024-02-29T00:00:00Z");
  EXPECT_EQ(Next("0 0 29 2 *", "2024-02-29T00:00:00Z"), "2028-02-29T00:00:00Z");
  EXPECT_EQ(Next("0 0 29 2 *", "2024-03-01T00:00:00Z"), "2028-02-29T00:00:00Z");
  // 2100 is not a leap year: the next Feb 29 after 2096 is in 2104, past the 5-year horizon.
  EXPECT_EQ(Next("0 0 29 2 *", "2096-03-01T00:00:00Z"), "none");
  EXPECT_EQ(Next("0 0 28 2 *", "2099-03-01T00:00:00Z"), "2100-02-28T00:00:00Z");
}

TEST(CronTest, ImpossibleDatesNeverFire) {
  EXPECT_EQ(Next("0 0 30 2 *", "2024-01-01T00:00:00Z"), "none");
  EXPECT_EQ(Next("0 0 31 4,6,9,11 *", "2024-01-01T00:00:00Z"), "none");
  EXPECT_EQ(Next("0 0 30 2 *", "2024-01-01T00:00:00Z", "Asia/Kolkata"), "none");
  // With the day-of-week restricted too, the OR rule makes it fire on Mondays.
  EXPECT_EQ(Next("0 0 30 2 MON", "2024-01-01T00:00:00Z"), "2024-02-05T00:00:00Z");
}

TEST(CronTest, ThirtyFirstSkipsShortMonths) {
  EXPECT_EQ(
      Chain("0 12 31 * *", "UTC", "2024-01-31T12:00:00Z", 3),
      (std::vector<std::string>{"2024-03-31T12:00:00Z", "2024-05-31T12:00:00Z", "2024-07-31T12:00:00Z"}));
}

TEST(CronTest, YearRollover) {
  EXPECT_EQ(Next("0 0 1 1 *", "2024-12-31T23:59:00Z"), "2025-01-01T00:00:00Z");
  EXPECT_EQ(Next("59 23 31 12 *", "2024-12-31T23:59:00Z"), "2025-12-31T23:59:00Z");
  EXPECT_EQ(Next("* * * * *", "2024-12-31T23:59:00Z"), "2025-01-01T00:00:00Z");
  EXPECT_EQ(Next("0 0 * 1 *", "2024-02-01T00:00:00Z"), "2025-01-01T00:00:00Z");
  EXPECT_EQ(Next("0 0 1 1 *", "2024-06-01T00:00:00Z", "Asia/Kolkata"), "2024-12-31T18:30:00Z");
  EXPECT_EQ(Next("0 0 1 1 *", "2024-06-01T00:00:00Z", "America/New_York"), "2025-01-01T05:00:00Z");
}

TEST(CronTest, StrictlyAfter) {
  EXPECT_EQ(Next("30 10 * * *", "2024-01-01T10:29:59.999Z"), "2024-01-01T10:30:00Z");
  EXPECT_EQ(Next("30 10 * * *", "2024-01-01T10:30:00Z"), "2024-01-02T10:30:00Z");
  EXPECT_EQ(Next("30 10 * * *", "2024-01-01T10:30:00.001Z"), "2024-01-02T10:30:00Z");
  EXPECT_EQ(Next("30 10 * * *", "2023-12-31T23:00:00Z", "Asia/Kolkata"), "2024-01-01T05:00:00Z");
  EXPECT_EQ(Next("30 10 * * *", "2024-01-01T04:59:00Z", "Asia/Kolkata"), "2024-01-01T05:00:00Z");
  EXPECT_EQ(Next("30 10 * * *", "2024-01-01T05:00:00Z", "Asia/Kolkata"), "2024-01-02T05:00:00Z");
}

TEST(CronTest, ChainOfThousandIsStrictlyIncreasing) {
  const CronSchedule s = CronSchedule::Parse("*/7 * * * *", "UTC");
  const int64_t start = Ms("2024-02-28T22:00:00Z");
  int64_t after = start;
  for (int i = 0; i < 1000; ++i) {
    const std::optional<int64_t> next = s.NextAfter(after);
    ASSERT_TRUE(next.has_value());
    ASSERT_GT(*next, after);
    ASSERT_EQ(*next % 60000, 0);
    const int64_t minute = (*next / 60000) % 60;
    ASSERT_EQ(minute % 7, 0) << Iso(*next);
    // Minutes 0,7,...,56 then 0 again: steps of 7 minutes, or 4 across the hour.
    ASSERT_EQ(*next - after, (minute == 0 && i > 0) ? 4 * 60000 : 7 * 60000) << Iso(*next);
    after = *next;
  }
  // 9 fires an hour (:00 to :56). 22:07-22:56 on Feb 28 are 8, then 110 full hours
  // (23:00 Feb 28 through 12:56 Mar 4, across the leap day) are 990, then 13:00 and 13:07.
  EXPECT_EQ(Iso(after), "2024-03-04T13:07:00Z");
}

TEST(CronTest, NewYork) {
  // EST (UTC-5) in January, EDT (UTC-4) in July.
  EXPECT_EQ(Next("0 9 * * *", "2024-01-15T00:00:00Z", "America/New_York"), "2024-01-15T14:00:00Z");
  EXPECT_EQ(Next("0 9 * * *", "2024-07-15T00:00:00Z", "America/New_York"), "2024-07-15T13:00:00Z");
  // 21:00 Monday local is already Tuesday in UTC.
  EXPECT_EQ(Next("0 21 * * MON", "2024-01-01T00:00:00Z", "America/New_York"), "2024-01-02T02:00:00Z");
}

TEST(CronTest, Paris) {
  // CET (UTC+1) in January, CEST (UTC+2) in July.
  EXPECT_EQ(Next("0 12 * * *", "2024-01-15T00:00:00Z", "Europe/Paris"), "2024-01-15T11:00:00Z");
  EXPECT_EQ(Next("0 12 * * *", "2024-07-15T00:00:00Z", "Europe/Paris"), "2024-07-15T10:00:00Z");
}

TEST(CronTest, KolkataHalfHourOffset) {
  // IST is UTC+05:30 all year.
  EXPECT_EQ(Next("0 9 * * *", "2024-01-15T00:00:00Z", "Asia/Kolkata"), "2024-01-15T03:30:00Z");
  EXPECT_EQ(Next("0 0 * * *", "2024-01-15T00:00:00Z", "Asia/Kolkata"), "2024-01-15T18:30:00Z");
  // Monday 2024-01-15 00:00 IST is Sunday 18:30 UTC: day-of-week is judged locally.
  EXPECT_EQ(Next("0 0 * * MON", "2024-01-10T00:00:00Z", "Asia/Kolkata"), "2024-01-14T18:30:00Z");
  EXPECT_EQ(Next("*/45 * * * *", "2024-01-15T00:00:00Z", "Asia/Kolkata"), "2024-01-15T00:15:00Z");
}

TEST(CronTest, SpringForwardGapFiresOnceAfterTheGap) {
  // Europe/Paris, Sunday 2024-03-31: at 01:00Z local clocks jump from 02:00 CET to 03:00 CEST.
  EXPECT_EQ(Chain("30 2 * * *", "Europe/Paris", "2024-03-30T00:00:00Z", 3),
            (std::vector<std::string>{"2024-03-30T01:30:00Z",     // 02:30 CET
                                      "2024-03-31T01:00:00Z",     // 02:30 missing: 03:00 CEST
                                      "2024-04-01T00:30:00Z"}));  // 02:30 CEST
  // 02:00, 02:15, 02:30, 02:45 and 03:00 local all land on 01:00Z: one fire.
  EXPECT_EQ(Chain("*/15 * * * *", "Europe/Paris", "2024-03-31T00:30:00Z", 4),
            (std::vector<std::string>{"2024-03-31T00:45:00Z", "2024-03-31T01:00:00Z", "2024-03-31T01:15:00Z",
                                      "2024-03-31T01:30:00Z"}));
  // A time just after the gap is unaffected.
  EXPECT_EQ(Next("0 3 * * *", "2024-03-30T12:00:00Z", "Europe/Paris"), "2024-03-31T01:00:00Z");
  // Asking from inside the skipped hour's UTC instant onwards moves past it.
  EXPECT_EQ(Next("30 2 * * *", "2024-03-31T01:00:00Z", "Europe/Paris"), "2024-04-01T00:30:00Z");
  // Pacific/Apia skipped Friday 2011-12-30 entirely: Thursday 23:59:59 (UTC-10) was followed by
  // Saturday 00:00 (UTC+14) at 2011-12-30T10:00Z. Noon on the skipped day fires at that instant.
  EXPECT_EQ(
      Chain("0 12 * * *", "Pacific/Apia", "2011-12-29T12:00:00Z", 3),
      (std::vector<std::string>{"2011-12-29T22:00:00Z", "2011-12-30T10:00:00Z", "2011-12-30T22:00:00Z"}));
  // America/New_York, Sunday 2024-03-10: at 07:00Z clocks jump from 02:00 EST to 03:00 EDT.
  EXPECT_EQ(Chain("30 2 * * *", "America/New_York", "2024-03-09T12:00:00Z", 2),
            (std::vector<std::string>{"2024-03-10T07:00:00Z", "2024-03-11T06:30:00Z"}));
}

TEST(CronTest, FallBackRepeatFiresOnceAtFirstOccurrence) {
  // Europe/Paris, Sunday 2024-10-27: at 01:00Z clocks go back from 03:00 CEST to 02:00 CET,
  // so 02:30 local is 00:30Z (CEST) and again 01:30Z (CET).
  EXPECT_EQ(Chain("30 2 * * *", "Europe/Paris", "2024-10-26T12:00:00Z", 2),
            (std::vector<std::string>{"2024-10-27T00:30:00Z", "2024-10-28T01:30:00Z"}));
  // From inside the second pass of 02:xx, the next 02:30 is the next day's.
  EXPECT_EQ(Next("30 2 * * *", "2024-10-27T01:10:00Z", "Europe/Paris"), "2024-10-28T01:30:00Z");
  // Half-hourly: the repeated hour (01:00Z-01:59Z, 02:00-02:59 CET) does not fire again.
  EXPECT_EQ(Chain("*/30 * * * *", "Europe/Paris", "2024-10-26T23:45:00Z", 4),
            (std::vector<std::string>{"2024-10-27T00:00:00Z", "2024-10-27T00:30:00Z", "2024-10-27T02:00:00Z",
                                      "2024-10-27T02:30:00Z"}));
  EXPECT_EQ(Next("*/15 * * * *", "2024-10-27T00:45:00Z", "Europe/Paris"), "2024-10-27T02:00:00Z");
  // America/New_York, Sunday 2024-11-03: at 06:00Z clocks go back from 02:00 EDT to 01:00 EST.
  EXPECT_EQ(Chain("30 1 * * *", "America/New_York", "2024-11-02T12:00:00Z", 2),
            (std::vector<std::string>{"2024-11-03T05:30:00Z", "2024-11-04T06:30:00Z"}));
}

TEST(CronTest, FastAcrossLongSearches) {
  const CronSchedule impossible = CronSchedule::Parse("0 0 30 2 *", "Europe/Paris");
  const CronSchedule leap = CronSchedule::Parse("59 23 29 2 *", "America/New_York");
  const auto begin = std::chrono::steady_clock::now();
  for (int i = 0; i < 200; ++i) {
    EXPECT_FALSE(impossible.NextAfter(Ms("2024-03-01T00:00:00Z") + i * 60000).has_value());
    EXPECT_TRUE(leap.NextAfter(Ms("2024-03-01T05:00:00Z") + i * 60000).has_value());
  }
  // Minute-by-minute stepping would visit ~2.6 million minutes per call.
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(10));
  // 2024-03-01T00:00Z is still Feb 29 (19:00 EST) in New York.
  EXPECT_EQ(Next(leap, "2024-03-01T00:00:00Z"), "2024-03-01T04:59:00Z");
  EXPECT_EQ(Next(leap, "2024-03-01T05:00:00Z"), "2028-03-01T04:59:00Z");
}

TEST(CronTest, ConcurrentConstCallsAgree) {
  const CronSchedule s = CronSchedule::Parse("*/7 2 * * *", "Europe/Paris");
  const std::vector<std::string> expected = Chain("*/7 2 * * *", "Europe/Paris", "2024-03-25T00:00:00Z", 200);
  std::vector<std::vector<std::string>> results(4);
  std::vector<std::thread> threads;
  for (auto& result : results) {
    threads.emplace_back([&s, &result] {
      int64_t after = Ms("2024-03-25T00:00:00Z");
      for (int i = 0; i < 200; ++i) {
        after = *s.NextAfter(after);
        result.push_back(Iso(after));
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& result : results) EXPECT_EQ(result, expected);
}

TEST(CronTest, CopiesAndAccessors) {
  const CronSchedule original = CronSchedule::Parse("0 9 * * *", "Asia/Kolkata");
  CronSchedule copy = original;
  EXPECT_EQ(copy.expression(), "0 9 * * *");
  EXPECT_EQ(copy.timezone(), "Asia/Kolkata");
  EXPECT_EQ(Next(copy, "2024-01-15T00:00:00Z"), "2024-01-15T03:30:00Z");
  copy = CronSchedule::Parse("0 9 * * *", "UTC");
  EXPECT_EQ(Next(copy, "2024-01-15T00:00:00Z"), "2024-01-15T09:00:00Z");
  EXPECT_EQ(Next(original, "2024-01-15T00:00:00Z"), "2024-01-15T03:30:00Z");
  const CronSchedule moved = std::move(copy);
  EXPECT_EQ(moved.timezone(), "UTC");
}

TEST(CronTest, RejectsOutOfRangeValuesNamingTheField) {
  EXPECT_EQ(ParseError("61 * * * *"), "cron: minute field: 61 is out of range 0-59");
  EXPECT_EQ(ParseError("* 24 * * *"), "cron: hour field: 24 is out of range 0-23");
  EXPECT_EQ(ParseError("* * 0 * *"), "cron: day-of-month field: 0 is out of range 1-31");
  EXPECT_EQ(ParseError("* * 32 * *"), "cron: day-of-month field: 32 is out of range 1-31");
  EXPECT_EQ(ParseError("* * * 0 *"), "cron: month field: 0 is out of range 1-12");
  EXPECT_EQ(ParseError("* * * 13 *"), "cron: month field: 13 is out of range 1-12");
  EXPECT_EQ(ParseError("* * * * 8"), "cron: day-of-week field: 8 is out of range 0-7");
  EXPECT_EQ(ParseError("99999999999999999999 * * * *"),
            "cron: minute field: 99999999999999999999 is out of range 0-59");
  EXPECT_EQ(ParseError("0-60 * * * *"), "cron: minute field: 60 is out of range 0-59");
}

TEST(CronTest, RejectsWrongFieldCount) {
  EXPECT_THAT(ParseError("* * * *"), HasSubstr("expected 5 fields"));
  EXPECT_THAT(ParseError("* * * * * *"), HasSubstr("expected 5 fields"));
  EXPECT_THAT(ParseError("* * * * * *"), HasSubstr("got 6"));
  EXPECT_EQ(ParseError(""), "cron: expression is empty");
  EXPECT_EQ(ParseError(" \t "), "cron: expression is empty");
}

TEST(CronTest, RejectsEmptyListItems) {
  EXPECT_EQ(ParseError("1,,2 * * * *"), "cron: minute field: empty list item in '1,,2'");
  EXPECT_EQ(ParseError("* 1,2, * * *"), "cron: hour field: empty list item in '1,2,'");
  EXPECT_EQ(ParseError("* * ,1 * *"), "cron: day-of-month field: empty list item in ',1'");
  EXPECT_EQ(ParseError("* * * , *"), "cron: month field: empty list item in ','");
}

TEST(CronTest, RejectsReversedRanges) {
  EXPECT_THAT(ParseError("* * * * 5-1"), HasSubstr("day-of-week field: range 5-1 is reversed"));
  EXPECT_THAT(ParseError("30-10 * * * *"), HasSubstr("minute field: range 30-10 is reversed"));
  EXPECT_THAT(ParseError("* * * DEC-JAN *"), HasSubstr("month field: range DEC-JAN is reversed"));
}

TEST(CronTest, RejectsBadSteps) {
  EXPECT_EQ(ParseError("*/0 * * * *"), "cron: minute field: step 0 is out of range 1-60");
  EXPECT_EQ(ParseError("* 1-5/0 * * *"), "cron: hour field: step 0 is out of range 1-24");
  EXPECT_EQ(ParseError("* * * */13 *"), "cron: month field: step 13 is out of range 1-12");
  EXPECT_EQ(ParseError("*/ * * * *"), "cron: minute field: missing step in '*/'");
  EXPECT_EQ(ParseError("* * */x * *"), "cron: day-of-month field: step 'x' is not a number");
  EXPECT_EQ(ParseError("*/2/3 * * * *"), "cron: minute field: step '2/3' is not a number");
}

TEST(CronTest, RejectsGarbage) {
  EXPECT_EQ(ParseError("* * * * 1#2"), "cron: day-of-week field: unexpected character '#' in '1#2'");
  EXPECT_EQ(ParseError("5? * * * *"), "cron: minute field: unexpected character '?' in '5?'");
  EXPECT_EQ(ParseError("* * 1.5 * *"), "cron: day-of-month field: unexpected character '.' in '1.5'");
  EXPECT_EQ(ParseError("* \x01 * * *"), "cron: hour field: unexpected character '\\x01' in '\\x01'");
  EXPECT_EQ(ParseError("* * L * *"), "cron: day-of-month field: 'L' is not a number (expected 1-31)");
  EXPECT_EQ(ParseError("MON * * * *"), "cron: minute field: 'MON' is not a number (expected 0-59)");
  EXPECT_EQ(ParseError("* * * FOO *"), "cron: month field: unknown name 'FOO' (expected JAN-DEC)");
  EXPECT_EQ(ParseError("* * * * JAN"), "cron: day-of-week field: unknown name 'JAN' (expected SUN-SAT)");
  EXPECT_EQ(ParseError("* * * * MONDAY"),
            "cron: day-of-week field: unknown name 'MONDAY' (expected SUN-SAT)");
  EXPECT_EQ(ParseError("* * * 1a *"), "cron: month field: '1a' is not a number (expected 1-12)");
  EXPECT_EQ(ParseError("1- * * * *"), "cron: minute field: missing value in '1-'");
  EXPECT_EQ(ParseError("-1 * * * *"), "cron: minute field: missing value in '-1'");
  EXPECT_EQ(ParseError("1-2-3 * * * *"), "cron: minute field: '2-3' is not a number (expected 0-59)");
  EXPECT_EQ(ParseError("** * * * *"), "cron: minute field: '**' is not a number (expected 0-59)");
  EXPECT_EQ(ParseError("*-5 * * * *"), "cron: minute field: '*' is not a number (expected 0-59)");
}

TEST(CronTest, RejectsOverlyLongInput) {
  // 9 characters of fields, then a 247-character day-of-week list: exactly 256 is fine.
  std::string list = "1";
  for (int i = 0; i < 123; ++i) list += ",1";
  const std::string longest = "0 0 1 1  " + list;
  ASSERT_EQ(longest.size(), 256u);
  EXPECT_EQ(CronSchedule::Parse(longest, "UTC").fields().days_of_week, Bits({1}));
  EXPECT_EQ(ParseError(longest + ","), "cron: expression is 257 characters long; at most 256 are allowed");
  EXPECT_THAT(ParseError(std::string(10000, '*')), HasSubstr("at most 256"));
}

TEST(CronTest, RejectsUnknownMacros) {
  EXPECT_THAT(ParseError("@reboot"), HasSubstr("cron: unknown macro '@reboot'"));
  EXPECT_THAT(ParseError("@"), HasSubstr("cron: unknown macro '@'"));
  EXPECT_THAT(ParseError("@daily 5"), HasSubstr("cron: unknown macro '@daily'"));
  EXPECT_THAT(ParseError("@daily5"), HasSubstr("cron: unknown macro '@daily5'"));
}

TEST(CronTest, RejectsUnknownTimeZones) {
  EXPECT_EQ(ParseError("* * * * *", "Mars/Base"), "timezone: unknown time zone 'Mars/Base'");
  EXPECT_EQ(ParseError("* * * * *", ""), "timezone: unknown time zone ''");
  EXPECT_EQ(ParseError("* * * * *", "Etc/Unknown"), "timezone: unknown time zone 'Etc/Unknown'");
  EXPECT_EQ(ParseError("* * * * *", "Europe/Paris "), "timezone: unknown time zone 'Europe/Paris '");
  // The expression is checked first.
  EXPECT_THAT(ParseError("61 * * * *", "Mars/Base"), HasSubstr("minute field"));
}

TEST(CronTest, RejectsTimesOutsideSupportedYears) {
  const CronSchedule s = CronSchedule::Parse("* * * * *", "UTC");
  try {
    s.NextAfter(INT64_MAX);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("supported years"));
  }
  EXPECT_THROW(s.NextAfter(INT64_MIN), Error);
  EXPECT_EQ(Next(s, "9999-12-31T23:58:00Z"), "9999-12-31T23:59:00Z");
  EXPECT_EQ(Next(s, "1969-12-31T23:59:00Z"), "1970-01-01T00:00:00Z");
}

}  // namespace
}  // namespace tarn::jobs
