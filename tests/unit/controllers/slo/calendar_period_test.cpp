// Calendar SLO periods: boundaries at local midnight in several zones, month lengths
// (February, leap years, 31-day months), ISO weeks, quarters, and DST months, whose
// periods are an hour shorter or longer than their days.
#include "controllers/slo/calendar_period.h"

#include <gtest/gtest.h>

#include <string>

namespace relops::slo {
namespace {

using std::chrono::hours;

TimePoint at(const std::string& text) { return *parseRfc3339(text, "test"); }

struct PeriodCase {
  std::string name;
  CalendarUnit unit;
  std::string zone;
  std::string instant;
  std::string label;
  std::string start;
  std::string end;
  int64_t lengthHours;
};

class PeriodTable : public ::testing::TestWithParam<PeriodCase> {};

TEST_P(PeriodTable, HoldsTheInstant) {
  const PeriodCase& c = GetParam();
  auto window = CalendarWindow::make(c.unit, c.zone);
  ASSERT_TRUE(window.ok()) << window.error().message();
  const Period period = window->periodAt(at(c.instant));
  EXPECT_EQ(period.label, c.label);
  EXPECT_EQ(formatRfc3339(period.start), c.start);
  EXPECT_EQ(formatRfc3339(period.end), c.end);
  EXPECT_EQ(std::chrono::duration_cast<hours>(period.length()).count(), c.lengthHours);
  EXPECT_LE(period.start, at(c.instant));
  EXPECT_LT(at(c.instant), period.end);
}

INSTANTIATE_TEST_SUITE_P(
    Calendar, PeriodTable,
    ::testing::Values(
        PeriodCase{"FebruaryUtc", CalendarUnit::kMonth, "UTC", "2026-02-14T12:00:00Z", "2026-02",
                   "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", 28 * 24},
        PeriodCase{"LeapFebruary", CalendarUnit::kMonth, "UTC", "2028-02-29T23:59:59Z", "2028-02",
                   "2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z", 29 * 24},
        PeriodCase{"ThirtyOneDays", CalendarUnit::kMonth, "UTC", "2026-12-31T23:59:59Z", "2026-12",
                   "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z", 31 * 24},
        PeriodCase{"FirstInstant", CalendarUnit::kMonth, "UTC", "2026-12-01T00:00:00Z", "2026-12",
                   "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z", 31 * 24},
        // Berlin: UTC+1 in winter; 2026-11-30T23:30Z is already December there.
        PeriodCase{"BerlinAheadOfUtc", CalendarUnit::kMonth, "Europe/Berlin",
                   "2026-11-30T23:30:00Z", "2026-12", "2026-11-30T23:00:00Z",
                   "2026-12-31T23:00:00Z", 31 * 24},
        // March 2026 in New York: DST starts on the 8th, the month is an hour short.
        PeriodCase{"NewYorkSpringForward", CalendarUnit::kMonth, "America/New_York",
                   "2026-03-15T12:00:00Z", "2026-03", "2026-03-01T05:00:00Z",
                   "2026-04-01T04:00:00Z", 31 * 24 - 1},
        // October 2026 in Berlin: DST ends on the 25th, the month is an hour long.
        PeriodCase{"BerlinFallBack", CalendarUnit::kMonth, "Europe/Berlin", "2026-10-25T12:00:00Z",
                   "2026-10", "2026-09-30T22:00:00Z", "2026-10-31T23:00:00Z", 31 * 24 + 1},
        // Sydney: DST (UTC+11) starts in October, ends in April; the month ends in summer.
        PeriodCase{"SydneySouthernSummer", CalendarUnit::kMonth, "Australia/Sydney",
                   "2026-10-10T00:00:00Z", "2026-10", "2026-09-30T14:00:00Z",
                   "2026-10-31T13:00:00Z", 31 * 24 - 1},
        // Kathmandu, UTC+5:45: boundaries off the hour.
        PeriodCase{"KathmanduQuarterHour", CalendarUnit::kMonth, "Asia/Kathmandu",
                   "2026-12-07T00:00:00Z", "2026-12", "2026-11-30T18:15:00Z",
                   "2026-12-31T18:15:00Z", 31 * 24},
        PeriodCase{"QuarterFour", CalendarUnit::kQuarter, "UTC", "2026-12-07T00:00:00Z", "2026-Q4",
                   "2026-10-01T00:00:00Z", "2027-01-01T00:00:00Z", 92 * 24},
        PeriodCase{"QuarterOneLeap", CalendarUnit::kQuarter, "UTC", "2028-01-01T00:00:00Z",
                   "2028-Q1", "2028-01-01T00:00:00Z", "2028-04-01T00:00:00Z", 91 * 24},
        PeriodCase{"QuarterWithDst", CalendarUnit::kQuarter, "America/New_York",
                   "2026-02-01T00:00:00Z", "2026-Q1", "2026-01-01T05:00:00Z",
                   "2026-04-01T04:00:00Z", 90 * 24 - 1},
        // ISO weeks: Monday to Monday; 2026-12-07 is a Monday.
        PeriodCase{"WeekMonday", CalendarUnit::kWeek, "UTC", "2026-12-07T00:00:00Z", "2026-W50",
                   "2026-12-07T00:00:00Z", "2026-12-14T00:00:00Z", 7 * 24},
        PeriodCase{"WeekSundayNight", CalendarUnit::kWeek, "UTC", "2026-12-06T23:59:59Z",
                   "2026-W49", "2026-11-30T00:00:00Z", "2026-12-07T00:00:00Z", 7 * 24},
        // 2027-01-01 is a Friday: it belongs to the last ISO week of 2026.
        PeriodCase{"WeekAcrossTheYear", CalendarUnit::kWeek, "UTC", "2027-01-01T12:00:00Z",
                   "2026-W53", "2026-12-28T00:00:00Z", "2027-01-04T00:00:00Z", 7 * 24},
        PeriodCase{"WeekWithFallBack", CalendarUnit::kWeek, "Europe/Berlin", "2026-10-25T12:00:00Z",
                   "2026-W43", "2026-10-18T22:00:00Z", "2026-10-25T23:00:00Z", 7 * 24 + 1}),
    [](const ::testing::TestParamInfo<PeriodCase>& param) { return param.param.name; });

// Paraguay sprang forward at local midnight on Sunday 2023-10-01: the 00:00 that starts
// October did not exist there, and the month starts at the jump (01:00 local, 04:00Z).
TEST(CalendarWindow, MidnightSkippedByDstStartsAtTheJump) {
  auto window = CalendarWindow::make(CalendarUnit::kMonth, "America/Asuncion");
  ASSERT_TRUE(window.ok());
  const Period october = window->periodAt(at("2023-10-15T12:00:00Z"));
  EXPECT_EQ(october.label, "2023-10");
  EXPECT_EQ(formatRfc3339(october.start), "2023-10-01T04:00:00Z");
  EXPECT_EQ(std::chrono::duration_cast<hours>(october.length()).count(), 31 * 24 - 1);
  const Period september = window->previous(october);
  EXPECT_EQ(september.label, "2023-09");
  EXPECT_EQ(september.end, october.start);
  EXPECT_EQ(window->periodAt(at("2023-10-01T03:59:59Z")), september);
  EXPECT_EQ(window->periodAt(at("2023-10-01T04:00:00Z")), october);
}

TEST(CalendarWindow, PeriodsTileTime) {
  for (const CalendarUnit unit :
       {CalendarUnit::kWeek, CalendarUnit::kMonth, CalendarUnit::kQuarter}) {
    for (const std::string zone : {"UTC", "Europe/Berlin", "America/New_York",
                                   "Australia/Lord_Howe", "Asia/Kathmandu", "America/Santiago"}) {
      auto window = CalendarWindow::make(unit, zone);
      ASSERT_TRUE(window.ok()) << zone;
      Period period = window->periodAt(at("2026-01-01T00:00:00Z"));
      for (int i = 0; i < 60; ++i) {
        const Period next = window->next(period);
        ASSERT_EQ(next.start, period.end) << zone << " " << period.label;
        ASSERT_NE(next.label, period.label) << zone;
        ASSERT_EQ(window->periodAt(next.start - std::chrono::seconds(1)), period) << zone;
        ASSERT_EQ(window->previous(next), period) << zone;
        period = next;
      }
    }
  }
}

TEST(CalendarWindow, LocalDate) {
  auto window = CalendarWindow::make(CalendarUnit::kMonth, "Pacific/Auckland");
  ASSERT_TRUE(window.ok());
  EXPECT_EQ(window->localDate(at("2026-12-06T12:00:00Z")), "2026-12-07");
}

TEST(CalendarWindow, UnknownZoneIsAConfigError) {
  auto window = CalendarWindow::make(CalendarUnit::kMonth, "Mars/Olympus_Mons");
  ASSERT_FALSE(window.ok());
  EXPECT_NE(window.error().message().find("unknown time zone"), std::string::npos);
}

TEST(CalendarWindow, NominalLengthsAreTheFactorsBase) {
  EXPECT_EQ(nominalLength(CalendarUnit::kWeek).canonical(), "1w");
  EXPECT_EQ(nominalLength(CalendarUnit::kMonth).seconds(), 30 * 86400);
  EXPECT_EQ(nominalLength(CalendarUnit::kQuarter).seconds(), 90 * 86400);
  EXPECT_EQ(parseCalendarUnit("month"), CalendarUnit::kMonth);
  EXPECT_EQ(parseCalendarUnit("28d"), std::nullopt);
}

}  // namespace
}  // namespace relops::slo
