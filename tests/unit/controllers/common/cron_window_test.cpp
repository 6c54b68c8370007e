// Windows with a duration opened by a cron schedule (cron_window.h): named table cases across
// DST changes, month ends and overlapping windows, and a property test against a brute-force
// oracle (every matching local minute mapped with choose::earliest, each opening a window of
// the duration, overlapping or touching windows merged) on random expressions and durations
// around the DST changes of several zones.
#include "controllers/common/cron_window.h"

#include <date/date.h>
#include <date/tz.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace relops::common {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

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

std::string show(const std::optional<TimeWindow>& window) {
  return window ? iso(window->start) + "/" + iso(window->end) : "none";
}

CronWindows windows(const std::string& expression, const std::string& zone,
                    std::chrono::seconds duration) {
  auto schedule = CronSchedule::compile(expression, zone);
  EXPECT_TRUE(schedule.ok()) << expression;
  return CronWindows(std::move(*schedule), duration);
}

struct WindowCase {
  const char* name;
  const char* expression;
  const char* zone;
  std::chrono::seconds duration;
  const char* at;
  std::string active;  // "start/end" or "none"
  std::string next;
};

class CronWindowCases : public ::testing::TestWithParam<WindowCase> {};

TEST_P(CronWindowCases, ActiveAndNext) {
  const WindowCase& c = GetParam();
  const CronWindows w = windows(c.expression, c.zone, c.duration);
  EXPECT_EQ(show(w.activeAt(utc(c.at))), c.active);
  EXPECT_EQ(show(w.nextAfter(utc(c.at))), c.next);
}

INSTANTIATE_TEST_SUITE_P(
    Table, CronWindowCases,
    ::testing::Values(
        // 01:30 EST opens; the duration is elapsed time, so it closes at 04:30 EDT.
        WindowCase{"SpringForwardElapsedDuration", "30 1 * * *", "America/New_York", hours(2),
                   "2026-03-08T07:00:00Z", "2026-03-08T06:30:00Z/2026-03-08T08:30:00Z",
                   "2026-03-09T05:30:00Z/2026-03-09T07:30:00Z"},
        WindowCase{"ClosesAtItsEndExclusive", "30 1 * * *", "America/New_York", hours(2),
                   "2026-03-08T08:30:00Z", "none", "2026-03-09T05:30:00Z/2026-03-09T07:30:00Z"},
        // 02:30 does not exist on 8 March: the window opens at the jump (03:00 EDT).
        WindowCase{"SkippedTimeOpensAtTheJump", "30 2 8 3 *", "America/New_York", hours(1),
                   "2026-03-08T07:30:00Z", "2026-03-08T07:00:00Z/2026-03-08T08:00:00Z",
                   "2027-03-08T07:30:00Z/2027-03-08T08:30:00Z"},
        // 01:30 happens twice on 1 November: one window, from the first.
        WindowCase{"RepeatedTimeOpensOnce", "30 1 1 11 *", "America/New_York", hours(1),
                   "2026-11-01T06:45:00Z", "none", "2027-11-01T05:30:00Z/2027-11-01T06:30:00Z"},
        WindowCase{"RepeatedTimeFirstOccurrence", "30 1 1 11 *", "America/New_York", hours(1),
                   "2026-11-01T05:45:00Z", "2026-11-01T05:30:00Z/2026-11-01T06:30:00Z",
                   "2027-11-01T05:30:00Z/2027-11-01T06:30:00Z"},
        // Berlin's autumn night: a 3h window from 01:00 CEST lasts until 03:00 CET.
        WindowCase{"FallBackElapsedDuration", "0 1 25 10 *", "Europe/Berlin", hours(3),
                   "2026-10-25T01:30:00Z", "2026-10-24T23:00:00Z/2026-10-25T02:00:00Z",
                   "2027-10-24T23:00:00Z/2027-10-25T02:00:00Z"},
        // The 31st: April has none, so the next window is May's, across the month end.
        WindowCase{"MonthEndSkipsShortMonths", "0 20 31 * *", "UTC", hours(6),
                   "2026-04-01T00:00:00Z", "2026-03-31T20:00:00Z/2026-04-01T02:00:00Z",
                   "2026-05-31T20:00:00Z/2026-06-01T02:00:00Z"},
        WindowCase{"AcrossTheYearEnd", "0 22 31 12 *", "UTC", hours(4), "2027-01-01T01:59:59Z",
                   "2026-12-31T22:00:00Z/2027-01-01T02:00:00Z",
                   "2027-12-31T22:00:00Z/2028-01-01T02:00:00Z"},
        WindowCase{"LeapDay", "0 0 29 2 *", "UTC", days(1), "2028-02-29T12:00:00Z",
                   "2028-02-29T00:00:00Z/2028-03-01T00:00:00Z",
                   "2032-02-29T00:00:00Z/2032-03-01T00:00:00Z"},
        // 08-11 and 10-13 overlap: one window 08-13.
        WindowCase{"OverlappingWindowsMerge", "0 8,10 * * *", "UTC", hours(3),
                   "2026-06-01T12:00:00Z", "2026-06-01T08:00:00Z/2026-06-01T13:00:00Z",
                   "2026-06-02T08:00:00Z/2026-06-02T13:00:00Z"},
        WindowCase{"OverlappingFromTheFirst", "0 8,10 * * *", "UTC", hours(3),
                   "2026-06-01T09:00:00Z", "2026-06-01T08:00:00Z/2026-06-01T13:00:00Z",
                   "2026-06-02T08:00:00Z/2026-06-02T13:00:00Z"},
        // 08-10 and 10-12 touch: no gap, one window.
        WindowCase{"TouchingWindowsMerge", "0 8,10 * * *", "UTC", hours(2), "2026-06-01T10:00:00Z",
                   "2026-06-01T08:00:00Z/2026-06-01T12:00:00Z",
                   "2026-06-02T08:00:00Z/2026-06-02T12:00:00Z"},
        WindowCase{"GapBetweenWindows", "0 8,10 * * *", "UTC", minutes(90), "2026-06-01T09:45:00Z",
                   "none", "2026-06-01T10:00:00Z/2026-06-01T11:30:00Z"},
        // Weekend freeze: Friday 18:00 for 62h, through Monday 08:00 (Berlin, CEST).
        WindowCase{"WeekendFreeze", "0 18 * * FRI", "Europe/Berlin", hours(62),
                   "2026-06-07T10:00:00Z", "2026-06-05T16:00:00Z/2026-06-08T06:00:00Z",
                   "2026-06-12T16:00:00Z/2026-06-15T06:00:00Z"}),
    [](const auto& param) { return std::string(param.param.name); });

TEST(CronWindows, AnEndlessRunReportsTheEndKnownSoFar) {
  // Every minute for an hour each: never closes; the end is a bounded look ahead.
  const CronWindows w = windows("* * * * *", "UTC", hours(1));
  const Instant at = utc("2026-06-01T12:00:30Z");
  const auto open = w.activeAt(at);
  ASSERT_TRUE(open.has_value());
  EXPECT_LE(open->start, at);
  EXPECT_GT(open->end, at + hours(1));
  EXPECT_LE(open->end, at + hours(CronWindows::kMaxChainedWindows + 1));
}

// The property test: three days around a DST change (or none), random expressions and
// durations; the oracle's merged windows must be what activeAt and nextAfter report.
struct Zone {
  const char* zone;
  const char* localStart;
};

const std::vector<Zone> kZones = {
    {"America/New_York", "2026-03-07"},
    {"America/New_York", "2026-10-31"},
    {"Europe/Berlin", "2026-03-28"},
    {"Europe/Berlin", "2026-10-24"},
    {"Australia/Lord_Howe", "2026-10-03"},
    {"America/Santiago", "2026-09-05"},
    {"UTC", "2028-02-27"},
    {"UTC", "2026-04-29"},
};

std::string randomList(std::mt19937& rng, int min, int max, int maxItems) {
  std::uniform_int_distribution<int> value(min, max);
  std::uniform_int_distribution<int> count(1, maxItems);
  std::set<int> items;
  for (int i = count(rng); i > 0; --i) items.insert(value(rng));
  std::string out;
  for (int item : items) out += (out.empty() ? "" : ",") + std::to_string(item);
  return out;
}

std::string randomExpression(std::mt19937& rng) {
  std::uniform_int_distribution<int> coin(0, 3);
  const std::string minute = coin(rng) == 0 ? "*/20" : randomList(rng, 0, 59, 2);
  const std::string hour = coin(rng) == 0 ? "*" : randomList(rng, 0, 23, 4);
  const std::string dom = coin(rng) < 3 ? "*" : randomList(rng, 1, 31, 8);
  return minute + " " + hour + " " + dom + " * *";
}

class CronWindowProperties : public ::testing::TestWithParam<Zone> {};

TEST_P(CronWindowProperties, MatchTheBruteForceMergedWindows) {
  const Zone& z = GetParam();
  const date::time_zone* zone = date::locate_zone(z.zone);
  date::local_days startDay;
  std::istringstream in(z.localStart);
  in >> date::parse("%Y-%m-%d", startDay);
  ASSERT_FALSE(in.fail());
  // The oracle sees two days either side of the three days probed.
  const date::local_seconds oracleFrom{(startDay - days(2)).time_since_epoch()};
  const date::local_seconds oracleTo{(startDay + days(5)).time_since_epoch()};
  const Instant low(zone->to_sys(oracleFrom, date::choose::earliest).time_since_epoch());
  const Instant high(zone->to_sys(oracleTo, date::choose::earliest).time_since_epoch());
  const Instant probeFrom = low + days(2);
  const Instant probeTo = high - days(2);
  const std::vector<std::chrono::seconds> durations = {minutes(1),   minutes(17), hours(1),
                                                       minutes(150), hours(7),    hours(30)};

  std::mt19937 rng(19u + static_cast<unsigned>(std::string(z.zone).size()) +
                   static_cast<unsigned>(std::string(z.localStart)[6]));
  std::uniform_int_distribution<size_t> pickDuration(0, durations.size() - 1);
  int compared = 0;
  for (int i = 0; i < 20; ++i) {
    const std::string text = randomExpression(rng);
    const std::chrono::seconds duration = durations[pickDuration(rng)];
    auto schedule = CronSchedule::compile(text, z.zone);
    if (!schedule.ok()) continue;
    std::set<Instant> fires;
    for (date::local_seconds t = oracleFrom; t < oracleTo; t += minutes(1)) {
      if (!schedule->expression().matches(LocalTime(t.time_since_epoch()))) continue;
      fires.insert(Instant(zone->to_sys(t, date::choose::earliest).time_since_epoch()));
    }
    std::vector<TimeWindow> merged;
    for (Instant fire : fires) {
      if (!merged.empty() && fire <= merged.back().end) {
        merged.back().end = fire + duration;
      } else {
        merged.push_back({fire, fire + duration});
      }
    }
    // A merged window the oracle saw whole: inside its range, not cut by it.
    auto whole = [&](const TimeWindow& w) { return w.start > low + duration && w.end < high; };
    const CronWindows engine(std::move(*schedule), duration);
    std::uniform_int_distribution<int64_t> offset(0, (probeTo - probeFrom).count() - 1);
    for (int probe = 0; probe < 25; ++probe) {
      const Instant at = probeFrom + seconds(offset(rng));
      const auto containing = std::find_if(merged.begin(), merged.end(), [&](const TimeWindow& w) {
        return w.start <= at && at < w.end;
      });
      const auto active = engine.activeAt(at);
      const std::string where =
          text + " for " + std::to_string(duration.count()) + "s in " + z.zone + " at " + iso(at);
      ASSERT_EQ(active.has_value(), containing != merged.end()) << where;
      if (active && whole(*containing)) {
        EXPECT_EQ(*active, *containing) << where;
      }
      const auto following = std::find_if(merged.begin(), merged.end(),
                                          [&](const TimeWindow& w) { return w.start > at; });
      if (following != merged.end() && whole(*following)) {
        const auto next = engine.nextAfter(at);
        ASSERT_TRUE(next.has_value()) << where;
        EXPECT_EQ(*next, *following) << where;
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 100);
}

INSTANTIATE_TEST_SUITE_P(Zones, CronWindowProperties, ::testing::ValuesIn(kZones),
                         [](const auto& param) {
                           std::string name =
                               std::string(param.param.zone) + "_" + param.param.localStart;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace relops::common
