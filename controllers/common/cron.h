// The cron engine of DRDrill schedules and ChangeWindow windows: 5-field expressions
// evaluated in an IANA time zone with Howard Hinnant's date/tz. Pure: every function takes
// the instants it works on; nothing reads a clock.
//
// Syntax (Kubernetes CronJob's, which is robfig/cron's standard parser):
// - five fields: minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or
//   JAN-DEC, day-of-week 0-7 or SUN-SAT (0 and 7 are Sunday); names are
//   case-insensitive;
// - each field is a comma list of `*`, `N`, `N-M`, with an optional `/step`;
//   `N/step` means `N-max/step` (as in Kubernetes, cronie and croniter);
// - macros @yearly (@annually), @monthly, @weekly, @daily (@midnight), @hourly;
// - a TZ= or CRON_TZ= prefix is rejected, as Kubernetes does: the zone is a
//   field of its own.
// Day-of-month and day-of-week (Vixie cron): when both are restricted, a day
// matches if either matches; when one is `*`, only the other counts. A field
// counts as unrestricted only when it is exactly `*` (Kubernetes and croniter;
// Vixie cron also treats `*/2` as unrestricted for this rule).
//
// Time zones, with the rules OnCallRotation uses (controllers/oncall/schedule.h):
// - a local time skipped by a spring-forward jump fires once, at the first
//   valid instant after it (the jump itself): 02:30 on 8 March 2026 in New
//   York fires at 03:00 EDT; several skipped times collapse into that one fire;
// - a local time repeated by a fall-back jump fires once, at its first
//   occurrence (croniter fires it twice; see the README).
#pragma once

#include <bitset>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "controllers/common/civil_time.h"
#include "operator/base/result.h"

namespace relops::common {

using Instant = std::chrono::sys_seconds;
using LocalTime = std::chrono::local_seconds;

class CronExpression {
 public:
  // Errors are kConfig and name the field and the 1-based character position:
  // `day-of-week field (5th) at position 11: "FUNDAY" is not a day name (SUN-SAT)`.
  static base::Result<CronExpression> parse(std::string_view text);

  const std::string& text() const { return text_; }
  // Whether the local civil minute containing `local` matches.
  bool matches(LocalTime local) const;
  // The first matching local minute at or after `from` (rounded up to a
  // minute), searching no later than `limit`.
  std::optional<LocalTime> nextLocal(LocalTime from, LocalTime limit) const;

 private:
  bool dayMatches(int dayOfMonth, int dayOfWeek) const;

  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> daysOfMonth_;  // 1-31
  std::bitset<13> months_;       // 1-12
  std::bitset<7> daysOfWeek_;    // 0 = Sunday
  bool dayOfMonthRestricted_ = false;
  bool dayOfWeekRestricted_ = false;
};

// An expression bound to a time zone.
class CronSchedule {
 public:
  // How far next() searches: a 29 February schedule fires at least every
  // eight years (2096 -> 2104).
  static constexpr int kSearchYears = 9;

  // Fails (kConfig) on a bad expression or an unknown zone.
  static base::Result<CronSchedule> compile(std::string_view expression, std::string_view timeZone);

  const CronExpression& expression() const { return expression_; }
  const std::string& timeZone() const { return zone_.name(); }

  // The first fire strictly after `after`; absent when none within kSearchYears.
  std::optional<Instant> next(Instant after) const;
  // The latest fire in (notBefore, at], if any.
  std::optional<Instant> latest(Instant notBefore, Instant at) const;
  // How many fires lie in (after, at], counting no further than `cap`.
  int64_t count(Instant after, Instant at, int64_t cap) const;

  // "2026-03-08 03:00 EDT"
  std::string formatLocal(Instant t) const;

 private:
  CronSchedule(CronExpression expression, common::TimeZone zone)
      : expression_(std::move(expression)), zone_(std::move(zone)) {}
  Instant resolve(LocalTime local) const;
  LocalTime toLocal(Instant t) const;

  CronExpression expression_;
  common::TimeZone zone_;
};

}  // namespace relops::common
