// Table tests of the schedule engine: DST lengths, skipped and repeated local
// times, restrictions, overrides and layer precedence, anchors in the past and
// the future. Times are written in UTC so the expectations do not depend on
// the code under test.
#include "controllers/oncall/schedule.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controllers/common/rfc3339.h"
#include "tests/unit/controllers/oncall/rotation_builder.h"

namespace relops::oncall {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using testing::at;
using testing::RotationBuilder;

Schedule compile(const RotationBuilder& builder) {
  auto schedule = Schedule::compile(builder.spec());
  EXPECT_TRUE(schedule.ok()) << (schedule.ok() ? "" : schedule.error().describe());
  return std::move(schedule).value();
}

std::string who(const Schedule& schedule, const std::string& time) {
  return schedule.shiftAt(at(time)).participant;
}

struct ShiftLengthCase {
  std::string name;
  std::string zone;
  std::string start;  // local anchor
  std::string turn;
  std::string shiftStart;  // UTC, a handoff instant
  std::string shiftEnd;    // UTC, the next one
};

class ShiftLength : public ::testing::TestWithParam<ShiftLengthCase> {};

TEST_P(ShiftLength, HandoffsFallWhereTheWallClockSays) {
  const ShiftLengthCase& c = GetParam();
  const Schedule schedule = compile(
      RotationBuilder(c.zone).people({"a", "b"}).layer("primary", {"a", "b"}, c.start, c.turn));
  const OpenShift shift = schedule.shiftAt(at(c.shiftStart) + minutes(1));
  ASSERT_TRUE(shift.start && shift.end);
  EXPECT_EQ(common::formatRfc3339(*shift.start), c.shiftStart);
  EXPECT_EQ(common::formatRfc3339(*shift.end), c.shiftEnd);
}

INSTANTIATE_TEST_SUITE_P(
    Dst, ShiftLength,
    ::testing::Values(
        // A daily 09:00 New York rotation: 23 h across the March change...
        ShiftLengthCase{"NewYorkMarchIs23Hours", "America/New_York", "2026-01-01T09:00:00", "1d",
                        "2026-03-07T14:00:00Z", "2026-03-08T13:00:00Z"},
        // ... and 25 h across the November one.
        ShiftLengthCase{"NewYorkNovemberIs25Hours", "America/New_York", "2026-01-01T09:00:00", "1d",
                        "2026-10-31T13:00:00Z", "2026-11-01T14:00:00Z"},
        ShiftLengthCase{"NewYorkOrdinaryDayIs24Hours", "America/New_York", "2026-01-01T09:00:00",
                        "1d", "2026-06-10T13:00:00Z", "2026-06-11T13:00:00Z"},
        // A weekly turn spanning the change is 167 h.
        ShiftLengthCase{"NewYorkWeekAcrossMarchIs167Hours", "America/New_York",
                        "2026-01-05T09:00:00", "1w", "2026-03-02T14:00:00Z",
                        "2026-03-09T13:00:00Z"},
        // Skipped: 02:30 does not exist on 8 March in New York; the handoff
        // moves to the jump (03:00 EDT = 07:00Z), so the turns around it are
        // 23.5 h each.
        ShiftLengthCase{"SkippedTimeMovesToTheJump", "America/New_York", "2026-01-01T02:30:00",
                        "1d", "2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z"},
        ShiftLengthCase{"TurnAfterSkippedTime", "America/New_York", "2026-01-01T02:30:00", "1d",
                        "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"},
        // Repeated: 01:30 happens twice on 1 November; the first (EDT) wins.
        ShiftLengthCase{"RepeatedTimeUsesFirstOccurrence", "America/New_York",
                        "2026-01-01T01:30:00", "1d", "2026-10-31T05:30:00Z",
                        "2026-11-01T05:30:00Z"},
        ShiftLengthCase{"TurnAfterRepeatedTimeIs25Hours", "America/New_York", "2026-01-01T01:30:00",
                        "1d", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"},
        // Berlin skips 02:00-03:00 on 29 March 2026.
        ShiftLengthCase{"BerlinSkipped", "Europe/Berlin", "2026-01-01T02:15:00", "1d",
                        "2026-03-29T01:00:00Z", "2026-03-30T00:15:00Z"},
        // Lord Howe moves back by 30 minutes at 02:00 on 5 April 2026: 24.5 h.
        ShiftLengthCase{"LordHoweHalfHourBack", "Australia/Lord_Howe", "2026-01-01T09:00:00", "1d",
                        "2026-04-03T22:00:00Z", "2026-04-04T22:30:00Z"},
        // Hour turns advance in absolute time: 12 h later is 12 h later,
        // whatever the wall clock says (20:00 EST + 12 h = 09:00 EDT).
        ShiftLengthCase{"HourTurnsAreAbsolute", "America/New_York", "2026-03-07T20:00:00", "12h",
                        "2026-03-08T01:00:00Z", "2026-03-08T13:00:00Z"},
        // Kolkata has no DST: every day is 24 h.
        ShiftLengthCase{"KolkataNoDst", "Asia/Kolkata", "2026-01-01T10:00:00", "1d",
                        "2026-03-08T04:30:00Z", "2026-03-09T04:30:00Z"}),
    [](const auto& caseInfo) { return caseInfo.param.name; });

TEST(Schedule, UnknownTimeZoneIsAConfigError) {
  auto spec = RotationBuilder("Mars/Olympus_Mons")
                  .people({"a"})
                  .layer("l", {"a"}, "2026-01-01T09:00:00", "1d")
                  .spec();
  auto schedule = Schedule::compile(spec);
  ASSERT_FALSE(schedule.ok());
  EXPECT_EQ(schedule.error().kind(), base::ErrorKind::kConfig);
  EXPECT_THAT(schedule.error().message(), ::testing::HasSubstr("spec.timeZone"));
}

TEST(Schedule, RotationOrderFollowsMembers) {
  const Schedule schedule =
      compile(RotationBuilder("UTC")
                  .people({"a", "b", "c"})
                  .layer("primary", {"a", "b", "c"}, "2026-01-05T09:00:00", "1w"));
  EXPECT_EQ(who(schedule, "2026-01-05T09:00:00Z"), "a");
  EXPECT_EQ(who(schedule, "2026-01-12T08:59:59Z"), "a");
  EXPECT_EQ(who(schedule, "2026-01-12T09:00:00Z"), "b");
  EXPECT_EQ(who(schedule, "2026-01-19T09:00:00Z"), "c");
  EXPECT_EQ(who(schedule, "2026-01-26T09:00:00Z"), "a");
}

TEST(Schedule, AnchorInThePastCountsTurnsFromIt) {
  const Schedule schedule =
      compile(RotationBuilder("UTC")
                  .people({"a", "b", "c"})
                  .layer("primary", {"a", "b", "c"}, "2020-01-01T00:00:00", "1d"));
  // 2026-01-01 is 2192 days after 2020-01-01; 2192 mod 3 = 2.
  EXPECT_EQ(who(schedule, "2026-01-01T12:00:00Z"), "c");
  EXPECT_EQ(who(schedule, "2026-01-02T12:00:00Z"), "a");
}

TEST(Schedule, AnchorInTheFutureLeavesAGapUntilTheLayerStarts) {
  const Schedule schedule = compile(RotationBuilder("Europe/Berlin")
                                        .people({"a", "b"})
                                        .layer("primary", {"a", "b"}, "2026-06-01T09:00:00", "1d"));
  EXPECT_EQ(who(schedule, "2026-05-31T12:00:00Z"), "");
  const OpenShift gap = schedule.shiftAt(at("2026-05-31T12:00:00Z"));
  ASSERT_TRUE(gap.end);
  EXPECT_EQ(common::formatRfc3339(*gap.end), "2026-06-01T07:00:00Z");  // 09:00 CEST
  EXPECT_FALSE(gap.start);  // nobody, as far back as the engine looks
  EXPECT_EQ(who(schedule, "2026-06-01T07:00:00Z"), "a");
  EXPECT_EQ(schedule.turnAt(0, at("2026-05-01T00:00:00Z")).index, -32);
}

TEST(Schedule, LaterLayerWinsWhereItIsInEffect) {
  const Schedule schedule = compile(RotationBuilder("UTC")
                                        .people({"a", "b", "w"})
                                        .layer("primary", {"a", "b"}, "2026-01-05T09:00:00", "1w")
                                        .layer("weekend", {"w"}, "2026-01-03T00:00:00", "1d")
                                        .restrict({"Sat", "Sun"}));
  EXPECT_EQ(who(schedule, "2026-01-09T12:00:00Z"), "a");  // Friday
  EXPECT_EQ(who(schedule, "2026-01-10T12:00:00Z"), "w");  // Saturday
  EXPECT_EQ(who(schedule, "2026-01-12T00:00:00Z"), "a");  // Monday 00:00, before the handoff
  EXPECT_EQ(schedule.shiftAt(at("2026-01-10T12:00:00Z")).layer, "weekend");
}

TEST(Schedule, OvernightRestrictionRunsIntoTheNextDay) {
  const Schedule schedule = compile(RotationBuilder("America/New_York")
                                        .people({"a", "b"})
                                        .layer("nights", {"a", "b"}, "2026-01-05T18:00:00", "1w")
                                        .restrict({"Fri"}, "18:00", "09:00"));
  // Friday 9 January 18:00 EST (23:00Z) to Saturday 09:00 EST (14:00Z).
  const std::vector<Shift> shifts =
      schedule.shifts(at("2026-01-05T00:00:00Z"), at("2026-01-12T00:00:00Z"));
  ASSERT_EQ(shifts.size(), 1u);
  EXPECT_EQ(common::formatRfc3339(shifts[0].start), "2026-01-09T23:00:00Z");
  EXPECT_EQ(common::formatRfc3339(shifts[0].end), "2026-01-10T14:00:00Z");
  EXPECT_EQ(shifts[0].participant, "a");
}

TEST(Schedule, RestrictionsMaskWithoutPausingTheOrder) {
  // Daily turns, in effect on weekdays only: Monday's person is the one whose
  // turn Monday is, not the one after Friday's.
  const Schedule schedule = compile(RotationBuilder("UTC")
                                        .people({"a", "b", "c"})
                                        .layer("day", {"a", "b", "c"}, "2026-01-05T00:00:00", "1d")
                                        .restrict({"Mon", "Tue", "Wed", "Thu", "Fri"}));
  EXPECT_EQ(who(schedule, "2026-01-09T12:00:00Z"), "b");  // Friday: turn 4
  EXPECT_EQ(who(schedule, "2026-01-10T12:00:00Z"), "");   // Saturday: masked
  EXPECT_FALSE(schedule.turnAt(0, at("2026-01-10T12:00:00Z")).active);
  // Monday is turn 7, members[7 mod 3] = b again; a paused order would give c.
  EXPECT_EQ(schedule.turnAt(0, at("2026-01-12T12:00:00Z")).index, 7);
  EXPECT_EQ(who(schedule, "2026-01-12T12:00:00Z"), "b");
}

TEST(Schedule, OverrideAcrossAHandoff) {
  const Schedule schedule = compile(RotationBuilder("America/New_York")
                                        .people({"a", "b", "x"})
                                        .layer("primary", {"a", "b"}, "2026-01-05T09:00:00", "1d")
                                        .cover("x", "2026-01-06T06:00:00", "2026-01-06T12:00:00"));
  const std::vector<Shift> shifts =
      schedule.shifts(at("2026-01-06T00:00:00Z"), at("2026-01-07T00:00:00Z"));
  ASSERT_EQ(shifts.size(), 3u);
  EXPECT_EQ(shifts[0],
            (Shift{at("2026-01-06T00:00:00Z"), at("2026-01-06T11:00:00Z"), "a", "primary"}));
  EXPECT_EQ(shifts[1], (Shift{at("2026-01-06T11:00:00Z"), at("2026-01-06T17:00:00Z"), "x",
                              std::string(kOverrideLayer)}));
  EXPECT_EQ(shifts[2],
            (Shift{at("2026-01-06T17:00:00Z"), at("2026-01-07T00:00:00Z"), "b", "primary"}));
  // The handoff a -> b at 09:00 is hidden; the next handoffs are a -> x and x -> b.
  const auto first = schedule.nextHandoff(at("2026-01-06T00:00:00Z"));
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, (Handoff{at("2026-01-06T11:00:00Z"), "a", "x"}));
  const auto second = schedule.nextHandoff(first->time);
  ASSERT_TRUE(second);
  EXPECT_EQ(*second, (Handoff{at("2026-01-06T17:00:00Z"), "x", "b"}));
}

TEST(Schedule, OverrideWithOffsetAndLaterOverrideWins) {
  const Schedule schedule =
      compile(RotationBuilder("UTC")
                  .people({"a", "x", "y"})
                  .layer("primary", {"a"}, "2026-01-01T00:00:00", "1w")
                  .cover("x", "2026-01-06T10:00:00+01:00", "2026-01-06T14:00:00+01:00")
                  .cover("y", "2026-01-06T10:00:00Z", "2026-01-06T11:00:00Z"));
  EXPECT_EQ(who(schedule, "2026-01-06T09:30:00Z"), "x");
  EXPECT_EQ(who(schedule, "2026-01-06T10:30:00Z"), "y");
  EXPECT_EQ(who(schedule, "2026-01-06T12:30:00Z"), "x");
  EXPECT_EQ(who(schedule, "2026-01-06T13:30:00Z"), "a");
}

TEST(Schedule, SameMemberTurnsMergeIntoOneShift) {
  const Schedule schedule = compile(
      RotationBuilder("UTC").people({"solo"}).layer("only", {"solo"}, "2026-01-01T00:00:00", "1h"));
  const std::vector<Shift> shifts =
      schedule.shifts(at("2026-02-01T00:00:00Z"), at("2026-03-01T00:00:00Z"));
  ASSERT_EQ(shifts.size(), 1u);
  EXPECT_FALSE(schedule.nextHandoff(at("2026-02-01T00:00:00Z")));
}

TEST(Schedule, GapsAreWhereNoLayerIsInEffect) {
  const Schedule schedule = compile(RotationBuilder("UTC")
                                        .people({"a"})
                                        .layer("day", {"a"}, "2026-01-01T00:00:00", "1d")
                                        .restrict({}, "08:00", "20:00"));
  const std::vector<Interval> gaps =
      schedule.gaps(at("2026-01-05T00:00:00Z"), at("2026-01-06T00:00:00Z"));
  ASSERT_EQ(gaps.size(), 2u);
  EXPECT_EQ(gaps[0], (Interval{at("2026-01-05T00:00:00Z"), at("2026-01-05T08:00:00Z")}));
  EXPECT_EQ(gaps[1], (Interval{at("2026-01-05T20:00:00Z"), at("2026-01-06T00:00:00Z")}));
  const auto handoff = schedule.nextHandoff(at("2026-01-05T12:00:00Z"));
  ASSERT_TRUE(handoff);
  EXPECT_EQ(*handoff, (Handoff{at("2026-01-05T20:00:00Z"), "a", ""}));
}

TEST(Schedule, NextChangeSeesRestrictionAndOverrideEdges) {
  const Schedule schedule =
      compile(RotationBuilder("UTC")
                  .people({"a", "b"})
                  .layer("day", {"a", "b"}, "2026-01-01T00:00:00", "1w")
                  .restrict({}, "08:00", "20:00")
                  .cover("b", "2026-01-05T09:00:00Z", "2026-01-05T10:00:00Z"));
  EXPECT_EQ(schedule.nextChange(at("2026-01-05T07:00:00Z")), at("2026-01-05T08:00:00Z"));
  EXPECT_EQ(schedule.nextChange(at("2026-01-05T08:00:00Z")), at("2026-01-05T09:00:00Z"));
  EXPECT_EQ(schedule.nextChange(at("2026-01-05T09:00:00Z")), at("2026-01-05T10:00:00Z"));
  EXPECT_EQ(schedule.nextChange(at("2026-01-05T10:00:00Z")), at("2026-01-05T20:00:00Z"));
}

TEST(Schedule, LocalDayHelpersAcrossDst) {
  const Schedule schedule = compile(RotationBuilder("America/New_York")
                                        .people({"a"})
                                        .layer("l", {"a"}, "2026-01-01T00:00:00", "1d"));
  EXPECT_EQ(schedule.startOfLocalDay(at("2026-03-08T12:00:00Z")), at("2026-03-08T05:00:00Z"));
  EXPECT_EQ(schedule.nextLocalMidnight(at("2026-03-08T12:00:00Z")), at("2026-03-09T04:00:00Z"));
  EXPECT_EQ(schedule.formatLocal(at("2026-03-08T12:00:00Z")), "2026-03-08 08:00 EDT");
}

}  // namespace
}  // namespace relops::oncall
