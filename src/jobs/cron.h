// CronSchedule: a 5-field cron expression evaluated in an IANA time zone.
//
// Syntax is standard Vixie cron: "minute hour day-of-month month day-of-week",
// fields separated by spaces or tabs (leading and trailing blanks are ignored).
//   minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or JAN-DEC,
//   day-of-week 0-7 or SUN-SAT (0 and 7 are both Sunday). Names are 3 letters,
//   case-insensitive, and may be used wherever a number may (also in ranges).
// Each field is a comma-separated list of items; an item is `*`, `N`, `A-B`,
// `*/S`, `A-B/S` or `A/S` (A to the field's maximum, by S). Steps are 1 to the
// size of the field's range. Macros (case-insensitive): @yearly and @annually
// ("0 0 1 1 *"), @monthly ("0 0 1 * *"), @weekly ("0 0 * * 0"), @daily and
// @midnight ("0 0 * * *"), @hourly ("0 * * * *"); @reboot is not supported.
// Day rule (Vixie): when both day-of-month and day-of-week are restricted (neither
// field starts with `*`), a day matches if EITHER matches; otherwise both must.
// So "0 0 1,15 * MON" fires on the 1st, the 15th and every Monday, while
// "0 0 */2 * MON" fires only on Mondays that fall on an odd day of the month.
//
// Time: fire times are whole minutes of local wall-clock time in the schedule's
// zone (ICU time zone data). Daylight-saving and other offset changes:
//   - A local time that does not exist (spring-forward gap, e.g. 02:30 on the last
//     Sunday of March in Europe/Paris) fires once, at the first instant after the
//     gap (03:00 local in that example). Several matching times inside one gap
//     still fire only once, and not again at 03:00 if 03:00 itself matches.
//   - A local time that occurs twice (fall-back, e.g. 02:30 on the last Sunday of
//     October in Europe/Paris) fires once, at its first occurrence. So during the
//     repeated hour "*/15 * * * *" does not fire again: in Europe/Paris on
//     2024-10-27 it fires at 00:45Z (02:45 CEST) and next at 02:00Z (03:00 CET).
// Fire times are therefore a strictly increasing sequence of instants. (With a
// historical offset that is not a whole number of minutes, e.g. local mean time
// before ~1900, a fire time is a whole local minute but not a whole UTC minute.)
//
// Errors: Parse throws tarn::Error with kInvalidArgument and one message naming
// what is wrong, e.g. "cron: minute field: 61 is out of range 0-59" or
// "timezone: unknown time zone 'Mars/Base'". Expressions longer than 256
// characters are rejected. NextAfter throws kInvalidArgument for an `after_ms`
// outside years 0001-9999.
//
// Thread-safety: a CronSchedule is immutable after Parse; const methods may be
// called from several threads at once (each NextAfter call works on its own
// copy of the ICU time zone).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace tarn::jobs {

class CronSchedule {
 public:
  // The sets of values a schedule matches, one bit per value (bit v set = value v
  // matches). Day-of-week uses bits 0-6 (Sunday = 0; 7 is folded into 0).
  struct Fields {
    uint64_t minutes = 0;        // bits 0-59
    uint32_t hours = 0;          // bits 0-23
    uint32_t days_of_month = 0;  // bits 1-31
    uint32_t months = 0;         // bits 1-12
    uint32_t days_of_week = 0;   // bits 0-6
    bool dom_star = false;       // day-of-month field starts with '*'
    bool dow_star = false;       // day-of-week field starts with '*'
  };

  // Parses a 5-field cron expression (or a macro) evaluated in IANA time zone
  // `timezone` (e.g. "UTC", "Europe/Paris"). Throws tarn::Error (kInvalidArgument)
  // naming the field, the value and the allowed range, or the unknown zone.
  static CronSchedule Parse(const std::string& expression, const std::string& timezone);

  // The first fire time strictly after `after_ms` (ms since the Unix epoch, UTC),
  // in ms since the epoch. std::nullopt if there is none within 5*366 days of
  // `after_ms` (e.g. "0 0 30 2 *", or "0 0 29 2 *" across the non-leap 2100).
  std::optional<int64_t> NextAfter(int64_t after_ms) const;

  const std::string& expression() const { return expression_; }
  const std::string& timezone() const { return timezone_; }
  const Fields& fields() const { return fields_; }

  CronSchedule(const CronSchedule& other);
  CronSchedule& operator=(const CronSchedule& other);
  CronSchedule(CronSchedule&&) noexcept;
  CronSchedule& operator=(CronSchedule&&) noexcept;
  ~CronSchedule();

 private:
  struct Zone;  // the ICU time zone, defined in cron.cpp

  CronSchedule(std::string expression, std::string timezone, Fields fields, std::unique_ptr<Zone> zone);

  std::string expression_;
  std::string timezone_;
  Fields fields_;
  std::unique_ptr<Zone> zone_;  // never null
};

}  // namespace tarn::jobs
