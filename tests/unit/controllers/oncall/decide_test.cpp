// Table tests on decide(): what status to write, which events, when to
// requeue — and, as important, when to do nothing (an idle rotation must not
// cause writes or repeat events).
#include "controllers/oncall/decide.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/controllers/oncall/rotation_builder.h"

namespace relops::oncall {
namespace {

using testing::at;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::RotationBuilder;

// Daily handoffs at 09:00 New York: a, b, c from Monday 2026-01-05.
RotationBuilder daily() {
  return RotationBuilder("America/New_York")
      .people({"a", "b", "c"})
      .layer("primary", {"a", "b", "c"}, "2026-01-05T09:00:00", "1d")
      .horizon("1w")
      .fairness("1w", "50");
}

Desired run(const RotationBuilder& builder, const Desired* previous, const std::string& now,
            int64_t generation = 1) {
  Observed observed{generation, previous ? previous->statusJson : nlohmann::json()};
  return decide(builder.json(), observed, std::chrono::system_clock::time_point(at(now)));
}

const Condition& condition(const Desired& desired, std::string_view type) {
  const Condition* found = desired.status.findCondition(type);
  EXPECT_NE(found, nullptr) << type;
  static const Condition kMissing;
  return found ? *found : kMissing;
}

std::vector<std::string> reasons(const Desired& desired) {
  std::vector<std::string> out;
  for (const Event& event : desired.events) out.push_back(event.reason);
  return out;
}

TEST(Decide, FirstReconcileWritesTheScheduleAndRequeuesAtTheHandoff) {
  const Desired desired = run(daily(), nullptr, "2026-01-06T15:00:00Z");  // Tue 10:00 EST
  EXPECT_TRUE(desired.statusChanged);
  EXPECT_EQ(desired.status.observedGeneration, 1);
  ASSERT_TRUE(desired.status.onCall);
  EXPECT_EQ(desired.status.onCall->participant, "b");
  EXPECT_EQ(desired.status.onCall->since, at("2026-01-06T14:00:00Z"));
  EXPECT_EQ(desired.status.onCall->until, at("2026-01-07T14:00:00Z"));
  ASSERT_TRUE(desired.status.nextHandoff);
  EXPECT_EQ(*desired.status.nextHandoff, (HandoffStatus{at("2026-01-07T14:00:00Z"), "b", "c"}));
  EXPECT_EQ(desired.requeueAt, at("2026-01-07T05:00:00Z"));  // local midnight comes first
  EXPECT_EQ(condition(desired, kConditionReady).status, "True");
  EXPECT_EQ(condition(desired, kConditionReady).reason, kReasonScheduled);
  EXPECT_EQ(condition(desired, kConditionCovered).status, "True");
  EXPECT_EQ(condition(desired, kConditionBalanced).status, "True");
  EXPECT_EQ(desired.status.findCondition(kConditionStalled), nullptr);
  // No Handoff on the first reconcile: nothing was observed to hand off from.
  EXPECT_THAT(desired.events, IsEmpty());
  EXPECT_EQ(desired.status.upcomingShifts.size(), 7u);
  EXPECT_EQ(desired.status.upcomingShifts.front().start, at("2026-01-06T14:00:00Z"));
  ASSERT_EQ(desired.status.layers.size(), 1u);
  EXPECT_EQ(desired.status.layers[0].participant, "b");
  EXPECT_TRUE(desired.status.layers[0].active);
  EXPECT_EQ(desired.status.layers[0].rotation.members, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(desired.statusJson, toJson(desired.status));
}

TEST(Decide, CalendarPathIsPublishedOnlyWhileFeedsAreOn) {
  const std::string path = "/calendars/team-a/daily/" + std::string(64, 'a') + ".ics";
  const auto now = std::chrono::system_clock::time_point(at("2026-01-06T15:00:00Z"));
  Observed observed{1, nlohmann::json(), path};
  const Desired on = decide(daily().json(), observed, now);
  EXPECT_EQ(on.status.calendarPath, path);
  EXPECT_EQ(on.statusJson["calendarPath"], path);
  // Unchanged on the next pass: no write.
  observed.status = on.statusJson;
  EXPECT_FALSE(decide(daily().json(), observed, now).statusChanged);
  // Feeds turned off: the path goes, so no stale URL is shown.
  observed.calendarPath.clear();
  const Desired off = decide(daily().json(), observed, now);
  EXPECT_TRUE(off.statusChanged);
  EXPECT_FALSE(off.statusJson.contains("calendarPath"));
  // A stalled rotation keeps its path (the feed itself answers 404 until it schedules).
  observed.calendarPath = path;
  const Desired stalled = decide(RotationBuilder("Mars/Olympus_Mons")
                                     .people({"a"})
                                     .layer("p", {"a"}, "2026-01-05T09:00:00", "1d")
                                     .json(),
                                 observed, now);
  EXPECT_EQ(stalled.status.calendarPath, path);
}

TEST(Decide, IdleResyncWritesNothingAndEmitsNothing) {
  const Desired first = run(daily(), nullptr, "2026-01-06T15:00:00Z");
  const Desired again = run(daily(), &first, "2026-01-06T18:30:00Z");
  EXPECT_FALSE(again.statusChanged);
  EXPECT_THAT(again.events, IsEmpty());
  EXPECT_EQ(again.requeueAt, first.requeueAt);
}

TEST(Decide, HandoffEventNamesOutgoingAndIncoming) {
  const Desired before = run(daily(), nullptr, "2026-01-07T13:00:00Z");
  EXPECT_EQ(before.requeueAt, at("2026-01-07T14:00:00Z"));
  const Desired after = run(daily(), &before, "2026-01-07T14:00:00Z");
  EXPECT_TRUE(after.statusChanged);
  ASSERT_EQ(after.events.size(), 1u);
  EXPECT_EQ(after.events[0], (Event{"Normal", "Handoff", "Handoff from b to c (primary)"}));
  EXPECT_EQ(after.status.onCall->participant, "c");
  // Conditions whose status did not change keep their transition time.
  EXPECT_EQ(condition(after, kConditionReady).lastTransitionTime,
            condition(before, kConditionReady).lastTransitionTime);
  // And the handoff is not announced twice.
  const Desired resync = run(daily(), &after, "2026-01-07T14:00:05Z");
  EXPECT_THAT(resync.events, IsEmpty());
  EXPECT_FALSE(resync.statusChanged);
}

TEST(Decide, CoverageGapIsAWarningOnceAndCoveredFalse) {
  RotationBuilder business = RotationBuilder("Europe/Berlin")
                                 .people({"a", "b"})
                                 .layer("day", {"a", "b"}, "2026-01-05T08:00:00", "1d")
                                 .restrict({"Mon", "Tue", "Wed", "Thu", "Fri"}, "08:00", "18:00")
                                 .horizon("1w")
                                 .fairness("1w", "100");
  const Desired first = run(business, nullptr, "2026-01-06T10:00:00Z");  // Tue 11:00 CET
  const Condition& covered = condition(first, kConditionCovered);
  EXPECT_EQ(covered.status, "False");
  EXPECT_EQ(covered.reason, kReasonCoverageGap);
  EXPECT_THAT(covered.message, HasSubstr("from 2026-01-06 18:00 CET to 2026-01-07 08:00 CET"));
  ASSERT_FALSE(first.status.gaps.empty());
  EXPECT_EQ(first.status.gaps[0],
            (GapStatus{at("2026-01-06T17:00:00Z"), at("2026-01-07T07:00:00Z")}));
  EXPECT_THAT(reasons(first), ElementsAre("CoverageGap"));
  EXPECT_EQ(first.events[0].type, "Warning");
  EXPECT_EQ(first.requeueAt, at("2026-01-06T17:00:00Z"));

  const Desired resync = run(business, &first, "2026-01-06T12:00:00Z");
  EXPECT_THAT(resync.events, IsEmpty());
  EXPECT_FALSE(resync.statusChanged);

  // Into the gap: a handoff to nobody; the first gap is the same gap, so no
  // second CoverageGap warning.
  const Desired inGap = run(business, &first, "2026-01-06T17:00:00Z");
  EXPECT_THAT(reasons(inGap), ElementsAre("Handoff"));
  EXPECT_EQ(inGap.events[0].message, "Handoff from b to nobody");
  EXPECT_EQ(inGap.status.onCall->participant, "");
  EXPECT_EQ(inGap.status.gaps[0].start, at("2026-01-06T17:00:00Z"));
}

TEST(Decide, UnbalancedWarnsWithWhoCarriesTooMuch) {
  // a takes every weekday, b only the weekends; allowed imbalance 25 %.
  RotationBuilder lopsided = RotationBuilder("UTC")
                                 .people({"a", "b"})
                                 .layer("week", {"a"}, "2026-01-05T00:00:00", "1w")
                                 .layer("weekend", {"b"}, "2026-01-03T00:00:00", "1w")
                                 .restrict({"Sat", "Sun"})
                                 .horizon("4w")
                                 .fairness("4w", "25");
  const Desired first = run(lopsided, nullptr, "2026-02-04T12:00:00Z");
  const Condition& balanced = condition(first, kConditionBalanced);
  EXPECT_EQ(balanced.status, "False");
  EXPECT_EQ(balanced.reason, kReasonOverloaded);
  EXPECT_THAT(balanced.message, HasSubstr("a (960.0 h) carry more than 25% above the mean"));
  ASSERT_TRUE(first.status.balance);
  EXPECT_EQ(first.status.balance->score, "40.0");  // 384 / 960
  EXPECT_THAT(first.status.balance->overloaded, ElementsAre("a"));
  EXPECT_THAT(reasons(first), ElementsAre("Unbalanced"));
  const Desired resync = run(lopsided, &first, "2026-02-04T13:00:00Z");
  EXPECT_THAT(resync.events, IsEmpty());
}

TEST(Decide, UnknownTimeZoneStallsWithoutRequeue) {
  RotationBuilder mars = RotationBuilder("Mars/Olympus_Mons")
                             .people({"a"})
                             .layer("l", {"a"}, "2026-01-01T00:00:00", "1d");
  const Desired desired = run(mars, nullptr, "2026-01-06T15:00:00Z", 4);
  EXPECT_EQ(condition(desired, kConditionStalled).status, "True");
  EXPECT_EQ(condition(desired, kConditionStalled).reason, kReasonUnknownTimeZone);
  EXPECT_EQ(condition(desired, kConditionReady).status, "False");
  EXPECT_EQ(condition(desired, kConditionReady).observedGeneration, 4);
  EXPECT_THAT(condition(desired, kConditionReady).message, HasSubstr("Mars/Olympus_Mons"));
  EXPECT_EQ(condition(desired, kConditionCovered).status, "Unknown");
  EXPECT_FALSE(desired.requeueAt);
  EXPECT_FALSE(desired.status.onCall);
  EXPECT_THAT(reasons(desired), ElementsAre("UnknownTimeZone"));
  const Desired again = run(mars, &desired, "2026-01-06T16:00:00Z", 4);
  EXPECT_FALSE(again.statusChanged);
  EXPECT_THAT(again.events, IsEmpty());
}

TEST(Decide, InvalidSpecStallsNamingTheField) {
  nlohmann::json spec = daily().json();
  spec["layers"][0]["turnLength"] = "fortnight";
  const Desired desired = decide(spec, Observed{2, nullptr},
                                 std::chrono::system_clock::time_point(at("2026-01-06T15:00:00Z")));
  EXPECT_EQ(condition(desired, kConditionStalled).reason, kReasonInvalidSpec);
  EXPECT_THAT(condition(desired, kConditionStalled).message,
              HasSubstr("spec.layers[0].turnLength"));
}

TEST(Decide, RecoveringFromStalledClearsIt) {
  RotationBuilder mars = RotationBuilder("Mars/Olympus_Mons")
                             .people({"a", "b", "c"})
                             .layer("primary", {"a", "b", "c"}, "2026-01-05T09:00:00", "1d");
  const Desired stalled = run(mars, nullptr, "2026-01-06T15:00:00Z", 1);
  const Desired fixed = run(daily(), &stalled, "2026-01-06T15:00:00Z", 2);
  EXPECT_EQ(fixed.status.findCondition(kConditionStalled), nullptr);
  EXPECT_EQ(condition(fixed, kConditionReady).status, "True");
  EXPECT_EQ(condition(fixed, kConditionReady).observedGeneration, 2);
}

TEST(Decide, MemberAddedKeepsTheCurrentPersonThroughDecide) {
  const Desired first = run(daily(), nullptr, "2026-01-06T15:00:00Z");  // b's turn (turn 1)
  RotationBuilder grown = RotationBuilder("America/New_York")
                              .people({"a", "b", "c", "d"})
                              .layer("primary", {"d", "a", "b", "c"}, "2026-01-05T09:00:00", "1d")
                              .horizon("1w")
                              .fairness("1w", "50");
  const Desired edited = run(grown, &first, "2026-01-06T16:00:00Z", 2);
  EXPECT_EQ(edited.status.onCall->participant, "b");
  EXPECT_THAT(edited.events, IsEmpty());
  EXPECT_EQ(edited.status.nextHandoff->to, "c");
  EXPECT_EQ(edited.status.layers[0].rotation.offset, 1);  // turn 1 -> members[2] = b
}

TEST(Decide, OverrideTakesEffectAndExpires) {
  RotationBuilder covered = daily().cover("c", "2026-01-06T12:00:00", "2026-01-06T13:00:00");
  const Desired before = run(covered, nullptr, "2026-01-06T16:00:00Z");
  EXPECT_EQ(before.requeueAt, at("2026-01-06T17:00:00Z"));  // 12:00 EST
  const Desired during = run(covered, &before, "2026-01-06T17:00:00Z");
  EXPECT_EQ(during.status.onCall->participant, "c");
  EXPECT_EQ(during.status.onCall->layer, "override");
  EXPECT_EQ(during.requeueAt, at("2026-01-06T18:00:00Z"));
  EXPECT_EQ(during.events[0].message, "Handoff from b to c (override)");
  const Desired after = run(covered, &during, "2026-01-06T18:00:00Z");
  EXPECT_EQ(after.status.onCall->participant, "b");
  EXPECT_EQ(after.events[0].message, "Handoff from c to b (primary)");
}

TEST(Decide, RequeueIsTheNextChangeForShortTurns) {
  RotationBuilder fast =
      RotationBuilder("UTC").people({"a", "b"}).layer("l", {"a", "b"}, "2026-01-05T09:00:00", "2m");
  const Desired desired = run(fast, nullptr, "2026-01-05T09:03:30Z");
  EXPECT_EQ(desired.requeueAt, at("2026-01-05T09:04:00Z"));
  EXPECT_EQ(desired.status.nextHandoff->time, at("2026-01-05T09:04:00Z"));
}

}  // namespace
}  // namespace relops::oncall

namespace relops::oncall {
namespace {

// Ten layers of two members: the shape of a rotation the schema accepts at its largest horizon
// and look-back.
RotationBuilder tenLayers(const std::string& turn, const std::string& span) {
  RotationBuilder builder = RotationBuilder("UTC").people({"a", "b"});
  for (int i = 0; i < 10; ++i) {
    builder.layer("l" + std::to_string(i), {"a", "b"}, "2026-01-01T00:00:00", turn);
  }
  return builder.horizon(span).fairness(span, "25");
}

struct PiecesCase {
  const char* name;
  RotationBuilder rotation;
  int64_t pieces;
};

// The estimate is a bound on the schedule's size, computed from the spec alone (no schedule).
TEST(SchedulePieces, CountsTurnsAndRestrictionWindowsOverLookBackAndHorizon) {
  RotationBuilder restricted = daily();
  restricted.restrict({"Mon"}, "09:00", "17:00").restrict({"Sat", "Sun"});
  const std::vector<PiecesCase> cases = {
      // 1 week each way plus 2 days: 16 days of daily turns, plus one.
      {"daily", daily(), 17},
      // Each restriction may cut every one of the 17 days: 17 + 2 * 17.
      {"restrictions", restricted, 51},
      // 734 days of minutes in ten layers: 1,056,961 turns each.
      {"minute turns over a year", tenLayers("1m", "366d"), 10'569'610},
      {"daily turns over a year", tenLayers("1d", "52w"), 10 * 731},
  };
  for (const PiecesCase& c : cases) {
    auto spec = parseSpec(c.rotation.json());
    ASSERT_TRUE(spec.ok()) << c.name;
    EXPECT_EQ(schedulePieces(*spec), c.pieces) << c.name;
  }
}

TEST(Decide, ARotationTooLargeToScheduleStallsWithoutComputingIt) {
  const Desired desired = run(tenLayers("1m", "366d"), nullptr, "2026-01-06T15:00:00Z", 3);
  EXPECT_EQ(condition(desired, kConditionStalled).status, "True");
  EXPECT_EQ(condition(desired, kConditionStalled).reason, kReasonTooManyShifts);
  EXPECT_THAT(condition(desired, kConditionReady).message, HasSubstr("10569610"));
  EXPECT_EQ(condition(desired, kConditionReady).observedGeneration, 3);
  EXPECT_FALSE(desired.requeueAt);  // not retried until the spec changes
  EXPECT_FALSE(desired.status.onCall);
  EXPECT_THAT(reasons(desired), ElementsAre("TooManyShifts"));
  const Desired again = run(tenLayers("1m", "366d"), &desired, "2026-01-06T16:00:00Z", 3);
  EXPECT_FALSE(again.statusChanged);
  EXPECT_THAT(again.events, IsEmpty());
}

TEST(Decide, TheLargestDailyRotationIsStillComputed) {
  const Desired desired = run(tenLayers("1d", "52w"), nullptr, "2026-01-06T15:00:00Z");
  EXPECT_EQ(desired.status.findCondition(kConditionStalled), nullptr);
  EXPECT_EQ(condition(desired, kConditionReady).status, "True");
}

// Daily handoffs at 09:00 UTC, a then b, with a gap overnight on the override's day.
nlohmann::json routed() {
  nlohmann::json spec = RotationBuilder("UTC")
                            .people({"a", "b"})
                            .layer("primary", {"a", "b"}, "2026-01-05T09:00:00", "1d")
                            .restrict({}, "08:00", "20:00")
                            .json();
  auto hook = [](const std::string& who) {
    return nlohmann::json{{"webhookConfigs", {{{"url", "http://127.0.0.1:9/" + who}}}}};
  };
  nlohmann::json a = hook("a");
  a["participant"] = "a";
  nlohmann::json b = hook("b");
  b["participant"] = "b";
  spec["routing"] = {{"receivers", {a, b}}, {"fallback", hook("team")}};
  return spec;
}

Desired decideRouted(const nlohmann::json& spec, const std::string& now,
                     const nlohmann::json& previous = nlohmann::json(),
                     std::optional<Observed::RoutingProblem> problem = std::nullopt) {
  Observed observed{1, previous};
  observed.rotation = RotationRef{"team-a", "payments", "uid-1"};
  observed.routingProblem = std::move(problem);
  return decide(spec, observed, std::chrono::system_clock::time_point(at(now)));
}

TEST(DecideRouting, TheReceiverOfWhoeverIsOnCallIsInEffectSinceTheirShiftStarted) {
  const Desired desired = decideRouted(routed(), "2026-01-05T10:00:00Z");
  ASSERT_TRUE(desired.status.routing);
  EXPECT_EQ(*desired.status.routing,
            (RoutingStatus{"participant-a", "a", at("2026-01-05T09:00:00Z"),
                           "relops-oncall-payments", ""}));
  EXPECT_EQ(condition(desired, kConditionRouted).status, "True");
  EXPECT_EQ(condition(desired, kConditionRouted).reason, kReasonReceiverInEffect);
  EXPECT_THAT(condition(desired, kConditionRouted).message,
              HasSubstr("oncall_rotation=\"team-a/payments\" go to a's receiver"));
  ASSERT_TRUE(desired.alertmanagerConfig);
  EXPECT_EQ((*desired.alertmanagerConfig)["spec"]["route"]["receiver"], "participant-a");
  EXPECT_EQ(desired.statusJson["routing"]["receiver"], "participant-a");
}

TEST(DecideRouting, ACoverageGapRoutesToTheFallbackAndTheRequeueLandsOnItsEdges) {
  // 20:00 ends a's restricted turn: nobody until 08:00. The gap's notice is due at 19:45.
  const Desired day = decideRouted(routed(), "2026-01-05T19:00:00Z");
  EXPECT_EQ(day.requeueAt, at("2026-01-05T19:45:00Z"));
  const Desired notice = decideRouted(routed(), "2026-01-05T19:45:00Z", day.statusJson);
  EXPECT_EQ(notice.requeueAt, at("2026-01-05T20:00:00Z"));
  ASSERT_EQ(notice.notices.size(), 1U);
  EXPECT_EQ(notice.notices[0].labels.at("relops_notice_receiver"), "fallback");
  const Desired night = decideRouted(routed(), "2026-01-05T20:00:00Z", day.statusJson);
  ASSERT_TRUE(night.status.routing);
  EXPECT_EQ(night.status.routing->receiver, "fallback");
  EXPECT_EQ(night.status.routing->participant, "");
  EXPECT_EQ(night.status.routing->since, at("2026-01-05T20:00:00Z"));
  EXPECT_EQ((*night.alertmanagerConfig)["spec"]["route"]["receiver"], "fallback");
  EXPECT_EQ(night.requeueAt, at("2026-01-06T00:00:00Z"));  // local midnight, then 08:00
  // 08:00: a's turn (until 09:00) is unmasked again.
  const Desired morning = decideRouted(routed(), "2026-01-06T08:00:00Z", night.statusJson);
  EXPECT_EQ(morning.status.routing->receiver, "participant-a");
  const Desired handoff = decideRouted(routed(), "2026-01-06T09:00:00Z", morning.statusJson);
  EXPECT_EQ(handoff.status.routing->receiver, "participant-b");
}

TEST(DecideRouting, AnIdlePassChangesNeitherStatusNorChild) {
  const Desired first = decideRouted(routed(), "2026-01-05T10:00:00Z");
  const Desired again = decideRouted(routed(), "2026-01-05T11:30:00Z", first.statusJson);
  EXPECT_FALSE(again.statusChanged);
  EXPECT_EQ(*again.alertmanagerConfig, *first.alertmanagerConfig);
}

TEST(DecideRouting, ARejectedChildStallsOnceWithItsReasonAndKeepsTheSchedule) {
  const Observed::RoutingProblem problem{std::string(kReasonRoutingRejected),
                                         "the API server rejects AlertmanagerConfig x: bad url"};
  const Desired stalled = decideRouted(routed(), "2026-01-05T10:00:00Z", nullptr, problem);
  EXPECT_FALSE(stalled.status.routing);
  EXPECT_FALSE(stalled.alertmanagerConfig);
  EXPECT_EQ(condition(stalled, kConditionRouted).status, "False");
  EXPECT_EQ(condition(stalled, kConditionStalled).status, "True");
  EXPECT_EQ(condition(stalled, kConditionStalled).reason, kReasonRoutingRejected);
  EXPECT_EQ(condition(stalled, kConditionReady).status, "False");
  ASSERT_TRUE(stalled.status.onCall);  // who is on call is still known
  EXPECT_EQ(stalled.status.onCall->participant, "a");
  EXPECT_THAT(reasons(stalled), ::testing::Contains(std::string(kReasonRoutingRejected)));
  const Desired again = decideRouted(routed(), "2026-01-05T10:05:00Z", stalled.statusJson, problem);
  EXPECT_THAT(reasons(again), IsEmpty());
  // Fixed: routed again, no longer stalled.
  const Desired fixed = decideRouted(routed(), "2026-01-05T10:10:00Z", again.statusJson);
  EXPECT_EQ(condition(fixed, kConditionRouted).status, "True");
  EXPECT_EQ(fixed.status.findCondition(kConditionStalled), nullptr);
  EXPECT_EQ(condition(fixed, kConditionReady).status, "True");
}

TEST(DecideRouting, WithoutRoutingThereIsNoChildNorRoutedCondition) {
  nlohmann::json spec = routed();
  const Desired first = decideRouted(spec, "2026-01-05T10:00:00Z");
  spec.erase("routing");
  const Desired after = decideRouted(spec, "2026-01-05T10:01:00Z", first.statusJson);
  EXPECT_FALSE(after.alertmanagerConfig);
  EXPECT_FALSE(after.status.routing);
  EXPECT_EQ(after.status.findCondition(kConditionRouted), nullptr);
}

}  // namespace
}  // namespace relops::oncall
