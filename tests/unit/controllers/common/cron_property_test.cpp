// Property tests of the cron engine on random expressions around DST changes
// in several zones. The oracle is a brute-force sweep written independently of
// the engine's search: every local civil minute of the window that matches is
// mapped to an instant with date::time_zone::to_sys(choose::earliest) (a skipped
// time goes to the jump, a repeated one to its first occurrence), and the set
// of those instants must be exactly what next() walks through. latest() and
// count() must agree with the same set.
#include <date/tz.h>
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "controllers/common/cron.h"

namespace relops::common {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;

struct Window {
  const char* zone;
  const char* localStart;  // a day before a change, local
};

// Three days around a DST change (or none) in each zone.
const std::vector<Window> kWindows = {
    {"America/New_York", "2026-03-07"},
    {"America/New_York", "2026-10-31"},
    {"Europe/Berlin", "2026-03-28"},
    {"Europe/Berlin", "2026-10-24"},
    {"Australia/Lord_Howe", "2026-10-03"},
    {"Australia/Sydney", "2026-04-04"},
    {"America/Santiago", "2026-09-05"},
    {"Asia/Kolkata", "2026-02-27"},
    {"UTC", "2028-02-28"},
};

// A random field item: *, N, N-M, with an optional step; sometimes a list.
std::string randomField(std::mt19937& rng, int min, int max, int busy) {
  std::uniform_int_distribution<int> kind(0, 9);
  std::uniform_int_distribution<int> value(min, max);
  auto item = [&]() -> std::string {
    switch (kind(rng) % 5) {
      case 0:
        return "*";
      case 1: {
        std::uniform_int_distribution<int> step(2, std::max(2, (max - min) / 2));
        return "*/" + std::to_string(step(rng));
      }
      case 2: {
        int a = value(rng);
        int b = value(rng);
        if (a > b) std::swap(a, b);
        return std::to_string(a) + "-" + std::to_string(b);
      }
      case 3: {
        int a = value(rng);
        int b = value(rng);
        if (a > b) std::swap(a, b);
        std::uniform_int_distribution<int> step(1, 4);
        return std::to_string(a) + "-" + std::to_string(b) + "/" + std::to_string(step(rng));
      }
      default:
        return std::to_string(value(rng));
    }
  };
  std::string field = item();
  // Busy fields (minutes) stay dense enough to fire inside a three-day window.
  if (busy > 0 && field != "*" && kind(rng) < 4) field += "," + item();
  return field;
}

std::string randomExpression(std::mt19937& rng) {
  std::uniform_int_distribution<int> coin(0, 3);
  const std::string minute = randomField(rng, 0, 59, 1);
  const std::string hour = coin(rng) == 0 ? std::string("*") : randomField(rng, 0, 23, 1);
  const std::string dom = coin(rng) < 3 ? std::string("*") : randomField(rng, 1, 31, 0);
  const std::string dow = coin(rng) < 3 ? std::string("*") : randomField(rng, 0, 7, 0);
  return minute + " " + hour + " " + dom + " * " + dow;
}

class CronProperties : public ::testing::TestWithParam<Window> {};

TEST_P(CronProperties, NextWalksExactlyTheBruteForceFireSet) {
  const Window& window = GetParam();
  const date::time_zone* zone = date::locate_zone(window.zone);
  date::local_days startDay;
  std::istringstream in(window.localStart);
  in >> date::parse("%Y-%m-%d", startDay);
  ASSERT_FALSE(in.fail());
  const date::local_seconds localFrom{startDay.time_since_epoch()};
  const date::local_seconds localTo = localFrom + days(3);

  std::mt19937 rng(20260308u + static_cast<unsigned>(std::string(window.zone).size()) +
                   static_cast<unsigned>(std::string(window.localStart)[6]));
  int checked = 0;
  for (int i = 0; i < 60; ++i) {
    const std::string text = randomExpression(rng);
    auto schedule = CronSchedule::compile(text, window.zone);
    if (!schedule.ok()) continue;  // e.g. a day-of-month no month has
    ++checked;
    // The oracle.
    std::set<Instant> oracle;
    for (date::local_seconds t = localFrom; t < localTo; t += minutes(1)) {
      if (!schedule->expression().matches(LocalTime(t.time_since_epoch()))) continue;
      oracle.insert(Instant(zone->to_sys(t, date::choose::earliest).time_since_epoch()));
    }
    const Instant from(zone->to_sys(localFrom, date::choose::earliest).time_since_epoch());
    // Stop short of the window's last hour: past it the oracle knows nothing.
    const Instant to(zone->to_sys(localTo - hours(2), date::choose::earliest).time_since_epoch());
    std::vector<Instant> walked;
    for (auto fire = schedule->next(from - std::chrono::seconds(1)); fire && *fire < to;
         fire = schedule->next(*fire)) {
      walked.push_back(*fire);
    }
    std::vector<Instant> expected;
    for (Instant t : oracle) {
      if (t >= from && t < to) expected.push_back(t);
    }
    ASSERT_EQ(walked, expected) << text << " in " << window.zone;

    // next() from an arbitrary second lands on the first oracle fire after it.
    std::uniform_int_distribution<int64_t> offset(0, (to - from).count() - 1);
    for (int probe = 0; probe < 20; ++probe) {
      const Instant at = from + std::chrono::seconds(offset(rng));
      const auto it = oracle.upper_bound(at);
      const auto fire = schedule->next(at);
      if (it == oracle.end() || *it >= to) continue;
      ASSERT_TRUE(fire.has_value()) << text;
      EXPECT_EQ(*fire, *it) << text << " after " << date::format("%FT%TZ", at);
      // latest() over (from, at] is the last oracle fire at or before `at`.
      const auto last = schedule->latest(from, at);
      auto up = oracle.upper_bound(at);
      if (up == oracle.begin() || *std::prev(up) <= from) {
        EXPECT_FALSE(last.has_value()) << text;
      } else {
        ASSERT_TRUE(last.has_value()) << text;
        EXPECT_EQ(*last, *std::prev(up)) << text;
      }
      // count() is the size of the oracle slice (from, at].
      const int64_t n = std::distance(oracle.upper_bound(from), oracle.upper_bound(at));
      EXPECT_EQ(schedule->count(from, at, 100000), n) << text;
    }
  }
  EXPECT_GT(checked, 40);
}

INSTANTIATE_TEST_SUITE_P(Zones, CronProperties, ::testing::ValuesIn(kWindows),
                         [](const auto& param) {
                           std::string name =
                               std::string(param.param.zone) + "_" + param.param.localStart;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(CronProperties, EveryFireIsStrictlyLaterAndOnAWholeMinute) {
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    const std::string text = randomExpression(rng);
    auto schedule = CronSchedule::compile(text, "America/New_York");
    if (!schedule.ok()) continue;
    Instant t(std::chrono::seconds(1767225600 + 37 * i * 3613));  // 2026 onwards
    for (int k = 0; k < 30; ++k) {
      const auto fire = schedule->next(t);
      ASSERT_TRUE(fire) << text;
      ASSERT_GT(*fire, t) << text;
      // Every fire is a whole minute (New York's offsets are whole hours).
      ASSERT_EQ(fire->time_since_epoch().count() % 60, 0) << text;
      t = *fire;
    }
  }
}

}  // namespace
}  // namespace relops::common
