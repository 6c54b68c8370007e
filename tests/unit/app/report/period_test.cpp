// `--period` and `--from/--to` as a table: months, quarters, ISO weeks (53-week years, the
// week that starts in the previous year), and what is refused.
#include "app/report/period.h"

#include <gtest/gtest.h>

namespace relops::report {
namespace {

TimePoint at(const char* text) { return common::parseRfc3339(text, "t").value(); }

struct PeriodCase {
  const char* name;
  const char* text;
  const char* from;  // nullptr: refused
  const char* to;
  const char* label;
};

class PeriodTable : public testing::TestWithParam<PeriodCase> {};

TEST_P(PeriodTable, Parses) {
  const PeriodCase& c = GetParam();
  auto period = parsePeriod(c.text);
  if (!c.from) {
    ASSERT_FALSE(period.ok()) << c.text;
    EXPECT_NE(period.error().message().find(c.text), std::string::npos);
    return;
  }
  ASSERT_TRUE(period.ok()) << period.error().describe();
  EXPECT_EQ(common::formatRfc3339(period->from), c.from);
  EXPECT_EQ(common::formatRfc3339(period->to), c.to);
  EXPECT_EQ(period->label, c.label);
}

INSTANTIATE_TEST_SUITE_P(
    Periods, PeriodTable,
    testing::Values(
        PeriodCase{"November", "2026-11", "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z",
                   "2026-11"},
        PeriodCase{"December", "2026-12", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z",
                   "2026-12"},
        PeriodCase{"LeapFebruary", "2028-02", "2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z",
                   "2028-02"},
        PeriodCase{"Q1", "2026-Q1", "2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z", "2026-Q1"},
        PeriodCase{"Q4", "2026-Q4", "2026-10-01T00:00:00Z", "2027-01-01T00:00:00Z", "2026-Q4"},
        PeriodCase{"LowercaseQuarter", "2026-q2", "2026-04-01T00:00:00Z", "2026-07-01T00:00:00Z",
                   "2026-Q2"},
        PeriodCase{"Week48", "2026-W48", "2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z",
                   "2026-W48"},
        // 2026-01-01 is a Thursday: week 1 starts on Monday 2025-12-29.
        PeriodCase{"Week1StartsInDecember", "2026-W01", "2025-12-29T00:00:00Z",
                   "2026-01-05T00:00:00Z", "2026-W01"},
        // 2026 has 53 ISO weeks (it starts on a Thursday); 2027 has 52.
        PeriodCase{"Week53", "2026-W53", "2026-12-28T00:00:00Z", "2027-01-04T00:00:00Z",
                   "2026-W53"},
        PeriodCase{"NoWeek53", "2027-W53", nullptr, nullptr, nullptr},
        PeriodCase{"Week0", "2026-W00", nullptr, nullptr, nullptr},
        PeriodCase{"Month13", "2026-13", nullptr, nullptr, nullptr},
        PeriodCase{"Month0", "2026-00", nullptr, nullptr, nullptr},
        PeriodCase{"Q5", "2026-Q5", nullptr, nullptr, nullptr},
        PeriodCase{"Day", "2026-11-03", nullptr, nullptr, nullptr},
        PeriodCase{"Words", "last-month", nullptr, nullptr, nullptr},
        PeriodCase{"Empty", "", nullptr, nullptr, nullptr}),
    [](const testing::TestParamInfo<PeriodCase>& p) { return std::string(p.param.name); });

TEST(PeriodBounds, DatesAndRfc3339) {
  EXPECT_EQ(parseBound("2026-11-03", "--from").value(), at("2026-11-03T00:00:00Z"));
  EXPECT_EQ(parseBound("2026-11-03T10:30:00Z", "--from").value(), at("2026-11-03T10:30:00Z"));
  EXPECT_FALSE(parseBound("2026-02-30", "--to").ok());
  EXPECT_FALSE(parseBound("tomorrow", "--to").ok());
  EXPECT_NE(parseBound("x", "--to").error().message().find("--to"), std::string::npos);
}

TEST(PeriodBounds, Between) {
  auto days = periodBetween(at("2026-11-03T00:00:00Z"), at("2026-11-17T00:00:00Z"));
  ASSERT_TRUE(days.ok());
  EXPECT_EQ(days->label, "2026-11-03..2026-11-17");
  auto times = periodBetween(at("2026-11-03T10:00:00Z"), at("2026-11-03T12:00:00Z"));
  ASSERT_TRUE(times.ok());
  EXPECT_EQ(times->label, "2026-11-03T10:00:00Z..2026-11-03T12:00:00Z");
  EXPECT_FALSE(periodBetween(at("2026-11-03T00:00:00Z"), at("2026-11-03T00:00:00Z")).ok());
  EXPECT_FALSE(periodBetween(at("2026-11-04T00:00:00Z"), at("2026-11-03T00:00:00Z")).ok());
  EXPECT_FALSE(periodBetween(at("2025-01-01T00:00:00Z"), at("2026-12-01T00:00:00Z")).ok());
}

TEST(PeriodBounds, MonthContainingNow) {
  const Period month = monthContaining(at("2026-12-07T02:55:00Z"));
  EXPECT_EQ(month, (Period{at("2026-12-01T00:00:00Z"), at("2027-01-01T00:00:00Z"), "2026-12"}));
}

}  // namespace
}  // namespace relops::report
