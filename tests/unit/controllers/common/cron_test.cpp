// Table tests of the cron engine: every field form, names, macros, errors that
// name the field and position, Vixie day-of-month/day-of-week semantics, month
// ends, leap years, and DST days in several zones.
#include "controllers/common/cron.h"

#include <date/date.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace relops::common {
namespace {

using ::testing::HasSubstr;

Instant utc(const std::string& text) {
  std::istringstream in(text);
  date::sys_seconds t;
  in >> date::parse("%Y-%m-%dT%H:%M:%SZ", t);
  EXPECT_FALSE(in.fail()) << text;
  return Instant(t.time_since_epoch());
}

std::string iso(Instant t) {
  return date::format("%Y-%m-%dT%H:%M:%SZ", date::sys_seconds(t.time_since_epoch()));
}

// The next `n` fires after `from`, as UTC strings.
std::vector<std::string> fires(const std::string& expression, const std::string& zone,
                               const std::string& from, int n) {
  auto schedule = CronSchedule::compile(expression, zone);
  EXPECT_TRUE(schedule.ok()) << (schedule.ok() ? "" : schedule.error().message());
  std::vector<std::string> out;
  if (!schedule.ok()) return out;
  Instant t = utc(from);
  for (int i = 0; i < n; ++i) {
    const auto fire = schedule->next(t);
    if (!fire) break;
    out.push_back(iso(*fire));
    t = *fire;
  }
  return out;
}

struct FireCase {
  const char* name;
  const char* expression;
  const char* zone;
  const char* from;
  std::vector<std::string> want;
};

class CronFires : public ::testing::TestWithParam<FireCase> {};

TEST_P(CronFires, NextFireTimes) {
  const FireCase& c = GetParam();
  EXPECT_EQ(fires(c.expression, c.zone, c.from, static_cast<int>(c.want.size())), c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Fields, CronFires,
    ::testing::Values(
        FireCase{"every_minute",
                 "* * * * *",
                 "UTC",
                 "2026-01-01T00:00:30Z",
                 {"2026-01-01T00:01:00Z", "2026-01-01T00:02:00Z"}},
        FireCase{"single_values",
                 "30 2 * * *",
                 "UTC",
                 "2026-01-01T00:00:00Z",
                 {"2026-01-01T02:30:00Z", "2026-01-02T02:30:00Z"}},
        FireCase{"step_over_star",
                 "*/20 * * * *",
                 "UTC",
                 "2026-01-01T00:00:00Z",
                 {"2026-01-01T00:20:00Z", "2026-01-01T00:40:00Z", "2026-01-01T01:00:00Z"}},
        FireCase{"range_with_step",
                 "10-30/7 0 * * *",
                 "UTC",
                 "2026-01-01T00:00:00Z",
                 {"2026-01-01T00:10:00Z", "2026-01-01T00:17:00Z", "2026-01-01T00:24:00Z",
                  "2026-01-02T00:10:00Z"}},
        FireCase{"value_with_step_runs_to_max",
                 "50/5 0 * * *",
                 "UTC",
                 "2026-01-01T00:00:00Z",
                 {"2026-01-01T00:50:00Z", "2026-01-01T00:55:00Z", "2026-01-02T00:50:00Z"}},
        FireCase{"list",
                 "0 1,13,22 * * *",
                 "UTC",
                 "2026-01-01T00:00:00Z",
                 {"2026-01-01T01:00:00Z", "2026-01-01T13:00:00Z", "2026-01-01T22:00:00Z",
                  "2026-01-02T01:00:00Z"}},
        FireCase{"list_of_ranges",
                 "0 0 1-2,15 * *",
                 "UTC",
                 "2026-01-01T00:00:00Z",
                 {"2026-01-02T00:00:00Z", "2026-01-15T00:00:00Z", "2026-02-01T00:00:00Z"}},
        FireCase{"month_names",
                 "0 0 1 jan,Jul *",
                 "UTC",
                 "2026-01-01T00:00:00Z",
                 {"2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z"}},
        FireCase{"day_names_range",
                 "0 9 * * MON-FRI",
                 "UTC",
                 "2026-01-02T10:00:00Z",
                 {"2026-01-05T09:00:00Z", "2026-01-06T09:00:00Z", "2026-01-07T09:00:00Z",
                  "2026-01-08T09:00:00Z", "2026-01-09T09:00:00Z", "2026-01-12T09:00:00Z"}},
        FireCase{"sunday_is_0_and_7",
                 "0 0 * * 7",
                 "UTC",
                 "2026-01-01T00:00:00Z",
                 {"2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"}},
        FireCase{"weekend_range_to_7",
                 "0 0 * * 5-7",
                 "UTC",
                 "2026-01-01T00:00:00Z",
                 {"2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z",
                  "2026-01-09T00:00:00Z"}},
        FireCase{"yearly",
                 "@yearly",
                 "UTC",
                 "2026-03-01T00:00:00Z",
                 {"2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"}},
        FireCase{"annually", "@annually", "UTC", "2026-03-01T00:00:00Z", {"2027-01-01T00:00:00Z"}},
        FireCase{"monthly",
                 "@monthly",
                 "UTC",
                 "2026-01-31T00:00:00Z",
                 {"2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"}},
        FireCase{"weekly",
                 "@weekly",
                 "UTC",
                 "2026-01-01T00:00:00Z",
                 {"2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"}},
        FireCase{"daily", "@daily", "UTC", "2026-01-01T00:00:00Z", {"2026-01-02T00:00:00Z"}},
        FireCase{"midnight", "@midnight", "UTC", "2026-01-01T12:00:00Z", {"2026-01-02T00:00:00Z"}},
        FireCase{"hourly",
                 "@hourly",
                 "UTC",
                 "2026-01-01T00:00:00Z",
                 {"2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z"}},
        FireCase{"surrounding_spaces",
                 "  0  0 * *   * ",
                 "UTC",
                 "2026-01-01T00:00:00Z",
                 {"2026-01-02T00:00:00Z"}}),
    [](const auto& param) { return std::string(param.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Days, CronFires,
    ::testing::Values(
        // Vixie cron: both restricted means either one.
        FireCase{"dom_or_dow",
                 "0 0 13 * FRI",
                 "UTC",
                 "2026-02-01T00:00:00Z",
                 {"2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z", "2026-02-20T00:00:00Z",
                  "2026-02-27T00:00:00Z", "2026-03-06T00:00:00Z", "2026-03-13T00:00:00Z"}},
        // One unrestricted: only the other counts.
        FireCase{"dom_only",
                 "0 0 13 * *",
                 "UTC",
                 "2026-02-01T00:00:00Z",
                 {"2026-02-13T00:00:00Z", "2026-03-13T00:00:00Z"}},
        FireCase{"dow_only",
                 "0 0 * * FRI",
                 "UTC",
                 "2026-02-01T00:00:00Z",
                 {"2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z"}},
        // A full range is a restriction (only `*` is not): OR with Monday is every day.
        FireCase{"full_range_is_restricted",
                 "0 0 1-31 * MON",
                 "UTC",
                 "2026-03-01T00:00:00Z",
                 {"2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z"}},
        FireCase{"stepped_star_is_restricted",
                 "0 0 */10 * MON",
                 "UTC",
                 "2026-03-01T00:00:00Z",
                 {"2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z", "2026-03-11T00:00:00Z",
                  "2026-03-16T00:00:00Z", "2026-03-21T00:00:00Z"}},
        // Month ends: the 31st skips short months.
        FireCase{"thirty_first",
                 "0 0 31 * *",
                 "UTC",
                 "2026-01-01T00:00:00Z",
                 {"2026-01-31T00:00:00Z", "2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z",
                  "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z"}},
        FireCase{"thirtieth_skips_february",
                 "0 0 30 * *",
                 "UTC",
                 "2026-01-15T00:00:00Z",
                 {"2026-01-30T00:00:00Z", "2026-03-30T00:00:00Z"}},
        // Leap years: 29 February, and 2100 is not one.
        FireCase{"leap_day",
                 "0 0 29 2 *",
                 "UTC",
                 "2026-01-01T00:00:00Z",
                 {"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}},
        FireCase{"leap_day_skips_2100",
                 "0 0 29 2 *",
                 "UTC",
                 "2097-01-01T00:00:00Z",
                 {"2104-02-29T00:00:00Z"}},
        FireCase{"leap_day_or_monday",
                 "0 0 29 2 MON",
                 "UTC",
                 "2028-02-27T00:00:00Z",
                 {"2028-02-28T00:00:00Z", "2028-02-29T00:00:00Z", "2029-02-05T00:00:00Z"}}),
    [](const auto& param) { return std::string(param.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Zones, CronFires,
    ::testing::Values(
        FireCase{"berlin_winter",
                 "30 2 * * *",
                 "Europe/Berlin",
                 "2026-01-10T00:00:00Z",
                 {"2026-01-10T01:30:00Z"}},
        // Spring forward, New York, 8 March 2026: 02:00-02:59 does not exist.
        // 02:30 runs once, at 03:00 EDT, the first valid instant.
        FireCase{"new_york_spring_0230",
                 "30 2 * * *",
                 "America/New_York",
                 "2026-03-07T12:00:00Z",
                 {"2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z"}},
        // Every skipped quarter collapses into the one fire at 03:00.
        FireCase{"new_york_spring_quarters",
                 "*/15 * * * *",
                 "America/New_York",
                 "2026-03-08T06:40:00Z",
                 {"2026-03-08T06:45:00Z", "2026-03-08T07:00:00Z", "2026-03-08T07:15:00Z"}},
        // Hourly: 01:00 EST then 03:00 EDT, an hour apart in absolute time.
        FireCase{"new_york_spring_hourly",
                 "0 * * * *",
                 "America/New_York",
                 "2026-03-08T05:30:00Z",
                 {"2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z"}},
        // Fall back, 1 November 2026: 01:00-01:59 happens twice; 01:30 runs once,
        // at its first occurrence (EDT).
        FireCase{"new_york_fall_0130",
                 "30 1 * * *",
                 "America/New_York",
                 "2026-10-31T12:00:00Z",
                 {"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}},
        // Hourly: 01:00 EDT, then 02:00 EST two hours later, no second 01:00.
        FireCase{"new_york_fall_hourly",
                 "0 * * * *",
                 "America/New_York",
                 "2026-11-01T04:30:00Z",
                 {"2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z", "2026-11-01T08:00:00Z"}},
        // Starting inside the repeated hour's second pass: the next fire is 02:00 EST.
        FireCase{"new_york_fall_from_second_pass",
                 "*/20 * * * *",
                 "America/New_York",
                 "2026-11-01T06:10:00Z",
                 {"2026-11-01T07:00:00Z"}},
        // Europe/Berlin jumps at 02:00 local on 29 March 2026.
        FireCase{"berlin_spring",
                 "30 2 * * *",
                 "Europe/Berlin",
                 "2026-03-28T12:00:00Z",
                 {"2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}},
        FireCase{"berlin_fall",
                 "30 2 * * *",
                 "Europe/Berlin",
                 "2026-10-24T12:00:00Z",
                 {"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}},
        // Southern hemisphere: Sydney springs forward at 02:00 on 4 October 2026.
        FireCase{"sydney_spring",
                 "30 2 * * *",
                 "Australia/Sydney",
                 "2026-10-03T00:00:00Z",
                 {"2026-10-03T16:00:00Z", "2026-10-04T15:30:00Z"}},
        // Lord Howe moves by half an hour: 02:00-02:29 is skipped.
        FireCase{"lord_howe_half_hour",
                 "15 2 * * *",
                 "Australia/Lord_Howe",
                 "2026-10-03T00:00:00Z",
                 {"2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"}},
        // Midnight itself skipped (Santiago springs forward at 24:00 on 5 Sep 2026).
        FireCase{"santiago_midnight_skipped",
                 "0 0 * * *",
                 "America/Santiago",
                 "2026-09-05T12:00:00Z",
                 {"2026-09-06T04:00:00Z", "2026-09-07T03:00:00Z"}},
        FireCase{"kolkata_no_dst",
                 "0 9 * * *",
                 "Asia/Kolkata",
                 "2026-01-01T00:00:00Z",
                 {"2026-01-01T03:30:00Z"}}),
    [](const auto& param) { return std::string(param.param.name); });

struct ErrorCase {
  const char* name;
  const char* expression;
  const char* message;
};

class CronErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(CronErrors, NameTheFieldAndPosition) {
  const ErrorCase& c = GetParam();
  auto parsed = CronExpression::parse(c.expression);
  ASSERT_FALSE(parsed.ok()) << c.expression;
  EXPECT_EQ(parsed.error().kind(), base::ErrorKind::kConfig);
  EXPECT_THAT(parsed.error().message(), HasSubstr(c.message));
}

INSTANTIATE_TEST_SUITE_P(
    Parse, CronErrors,
    ::testing::Values(
        ErrorCase{"empty", "  ", "the schedule is empty"},
        ErrorCase{"four_fields", "0 0 * *", "want 5 fields"},
        ErrorCase{"six_fields", "0 0 0 * * *", "want 5 fields (minute hour day-of-month"},
        ErrorCase{"tz_prefix", "TZ=UTC 0 0 * * *", "TZ= and CRON_TZ= prefixes are not supported"},
        ErrorCase{"cron_tz_prefix", "CRON_TZ=Europe/Berlin 0 0 * * *",
                  "position 1: TZ= and CRON_TZ="},
        ErrorCase{"reboot", "@reboot", "\"@reboot\" is not a supported macro"},
        ErrorCase{"every", "@every 5m", "is not a supported macro"},
        ErrorCase{"minute_range", "61 * * * *",
                  "minute field (1st) at position 1: 61 is out of range 0-59"},
        ErrorCase{"hour_range", "0 24 * * *",
                  "hour field (2nd) at position 3: 24 is out of range 0-23"},
        ErrorCase{"day_zero", "0 0 0 * *",
                  "day-of-month field (3rd) at position 5: 0 is out of range 1-31"},
        ErrorCase{"month_13", "0 0 1 13 *", "month field (4th) at position 7: 13 is out"},
        ErrorCase{"dow_8", "0 0 * * 8", "day-of-week field (5th) at position 9: 8 is out"},
        ErrorCase{"bad_day_name", "0 0 * * MON,FUNDAY",
                  "day-of-week field (5th) at position 13: \"FUNDAY\" is not a day name"},
        ErrorCase{"bad_month_name", "0 0 1 JANUARY *", "\"JANUARY\" is not a month name"},
        ErrorCase{"name_in_minutes", "MON * * * *", "\"MON\" is not a number (0-59)"},
        ErrorCase{"reversed_range", "0 0 * * 5-2",
                  "day-of-week field (5th) at position 9: range 5-2 ends before it starts"},
        ErrorCase{"step_zero", "*/0 * * * *", "minute field (1st) at position 3: step must"},
        ErrorCase{"step_text", "*/x * * * *", "step \"x\" is not a positive number"},
        ErrorCase{"empty_list_item", "0 1,,2 * * *",
                  "hour field (2nd) at position 5: an empty item in the list"},
        ErrorCase{"question_mark", "0 0 ? * MON",
                  "day-of-month field (3rd) at position 5: unexpected character '?'"},
        ErrorCase{"last_day", "0 0 L * *", "\"L\" is not a number (1-31)"},
        ErrorCase{"never_fires", "0 0 30 2 *", "day-of-month 30 never occurs in the chosen months"},
        ErrorCase{"position_after_spaces", "  0  99 * * *",
                  "hour field (2nd) at position 6: 99 is out of range"}),
    [](const auto& param) { return std::string(param.param.name); });

TEST(CronSchedule, UnknownZoneIsAConfigError) {
  auto schedule = CronSchedule::compile("0 0 * * *", "Mars/Olympus_Mons");
  ASSERT_FALSE(schedule.ok());
  EXPECT_EQ(schedule.error().kind(), base::ErrorKind::kConfig);
  EXPECT_THAT(schedule.error().message(), HasSubstr("unknown time zone \"Mars/Olympus_Mons\""));
}

TEST(CronSchedule, ThirtyFirstOrFridayInFebruaryStillFires) {
  // Day-of-week opens other days, so 31 February is no reason to refuse.
  EXPECT_EQ(fires("0 0 31 2 FRI", "UTC", "2026-02-01T00:00:00Z", 1),
            std::vector<std::string>{"2026-02-06T00:00:00Z"});
}

TEST(CronSchedule, LatestAndCountStepThroughIrregularIntervals) {
  auto schedule = CronSchedule::compile("0 0 31 * *", "UTC");
  ASSERT_TRUE(schedule.ok());
  // Fires on 31 Jan, 31 Mar, 31 May: intervals of 59 and 61 days.
  EXPECT_EQ(schedule->count(utc("2026-01-01T00:00:00Z"), utc("2026-06-01T00:00:00Z"), 100), 3);
  EXPECT_EQ(schedule->count(utc("2026-01-01T00:00:00Z"), utc("2026-06-01T00:00:00Z"), 2), 2);
  EXPECT_EQ(iso(*schedule->latest(utc("2026-01-01T00:00:00Z"), utc("2026-06-01T00:00:00Z"))),
            "2026-05-31T00:00:00Z");
  // The bound `at` is inclusive, `notBefore` exclusive.
  EXPECT_EQ(iso(*schedule->latest(utc("2026-01-01T00:00:00Z"), utc("2026-03-31T00:00:00Z"))),
            "2026-03-31T00:00:00Z");
  EXPECT_FALSE(schedule->latest(utc("2026-03-31T00:00:00Z"), utc("2026-05-30T00:00:00Z")));
}

TEST(CronSchedule, LatestOfAMinuteScheduleAfterAYearDoesNotWalkTheYear) {
  auto schedule = CronSchedule::compile("* * * * *", "Europe/Berlin");
  ASSERT_TRUE(schedule.ok());
  EXPECT_EQ(iso(*schedule->latest(utc("2025-01-01T00:00:00Z"), utc("2026-01-01T12:34:56Z"))),
            "2026-01-01T12:34:00Z");
  EXPECT_EQ(schedule->count(utc("2025-01-01T00:00:00Z"), utc("2026-01-01T00:00:00Z"), 101), 101);
}

TEST(CronSchedule, FormatsInTheZone) {
  auto schedule = CronSchedule::compile("30 2 * * *", "America/New_York");
  ASSERT_TRUE(schedule.ok());
  EXPECT_EQ(schedule->formatLocal(utc("2026-03-08T07:00:00Z")), "2026-03-08 03:00 EDT");
}

}  // namespace
}  // namespace relops::common
