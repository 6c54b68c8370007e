#include "controllers/oncall/load.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/controllers/oncall/rotation_builder.h"

namespace relops::oncall {
namespace {

using std::chrono::hours;
using testing::at;
using testing::RotationBuilder;

const ParticipantLoad& find(const std::vector<ParticipantLoad>& load, const std::string& who) {
  for (const ParticipantLoad& entry : load) {
    if (entry.participant == who) return entry;
  }
  ADD_FAILURE() << "no load for " << who;
  return load.front();
}

TEST(Load, HoursOffHoursAndWeekendsInLocalTime) {
  // One person all week in Berlin: Monday 2026-01-05 00:00 CET to the next Monday.
  auto schedule = Schedule::compile(RotationBuilder("Europe/Berlin")
                                        .people({"a"})
                                        .layer("l", {"a"}, "2026-01-01T00:00:00", "1w")
                                        .spec());
  ASSERT_TRUE(schedule.ok());
  const auto load = computeLoad(*schedule, at("2026-01-04T23:00:00Z"), at("2026-01-11T23:00:00Z"));
  const ParticipantLoad& a = find(load, "a");
  EXPECT_EQ(a.onCall, hours(168));
  EXPECT_EQ(a.offHours, hours(168 - 5 * 8));  // outside 09-17 on weekdays
  EXPECT_EQ(a.weekend, hours(48));
}

TEST(Load, WorkingHoursFollowTheLocalClockAcrossDst) {
  // New York, the week of the March change: still 5 x 8 working hours.
  auto schedule = Schedule::compile(RotationBuilder("America/New_York")
                                        .people({"a"})
                                        .layer("l", {"a"}, "2026-01-01T00:00:00", "1d")
                                        .spec());
  ASSERT_TRUE(schedule.ok());
  const auto load = computeLoad(*schedule, at("2026-03-07T05:00:00Z"), at("2026-03-14T04:00:00Z"));
  EXPECT_EQ(find(load, "a").onCall, hours(167));
  EXPECT_EQ(find(load, "a").onCall - find(load, "a").offHours, hours(40));
  EXPECT_EQ(find(load, "a").weekend, hours(47));  // Saturday 24 h + Sunday 23 h
}

TEST(Balance, GrafanaPairwiseMinOverMax) {
  const Spec spec = RotationBuilder("UTC")
                        .people({"a", "b", "c", "x"})
                        .layer("l", {"a", "b", "c"}, "2026-01-01T00:00:00", "1d")
                        .fairness("4w", "25")
                        .spec();
  const std::vector<ParticipantLoad> load = {
      {"a", hours(10)}, {"b", hours(20)}, {"c", hours(40)}, {"x", hours(99)}};
  const Balance balance = computeBalance(spec, load);
  // Pairs: 10/20, 10/40, 20/40 -> (0.5 + 0.25 + 0.5) / 3. x is in no layer.
  EXPECT_NEAR(balance.score, 1.25 / 3, 1e-9);
  EXPECT_NEAR(balance.meanHours, 70.0 / 3, 1e-9);
  // Mean 23.3 h; 25 % above is 29.2 h: c carries more than their share.
  EXPECT_THAT(balance.overloaded, ::testing::ElementsAre("c"));
  EXPECT_EQ(formatPercent(balance.score), "41.7");
}

TEST(Balance, EqualLoadsScoreOneAndNobodyIsOverloaded) {
  const Spec spec = RotationBuilder("UTC")
                        .people({"a", "b"})
                        .layer("l", {"a", "b"}, "2026-01-01T00:00:00", "1d")
                        .spec();
  const Balance balance = computeBalance(spec, {{"a", hours(12)}, {"b", hours(12)}});
  EXPECT_DOUBLE_EQ(balance.score, 1.0);
  EXPECT_TRUE(balance.overloaded.empty());
  const Balance idle = computeBalance(spec, {{"a", hours(0)}, {"b", hours(0)}});
  EXPECT_DOUBLE_EQ(idle.score, 1.0);
}

TEST(Load, Formatting) {
  EXPECT_EQ(formatHours(hours(168)), "168.0");
  EXPECT_EQ(formatHours(std::chrono::minutes(90)), "1.5");
  EXPECT_EQ(formatHours(std::chrono::minutes(20)), "0.3");
  EXPECT_EQ(formatPercent(0.875), "87.5");
  EXPECT_EQ(formatPercent(1.0), "100.0");
}

}  // namespace
}  // namespace relops::oncall
