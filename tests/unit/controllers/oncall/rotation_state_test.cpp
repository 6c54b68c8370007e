// The member-change rule (rotation_state.h): editing the members keeps the
// person on call on call; removing them passes the turn to the next member of
// the old order; re-anchoring restarts the order.
#include "controllers/oncall/rotation_state.h"

#include <gtest/gtest.h>

#include "tests/unit/controllers/oncall/rotation_builder.h"

namespace relops::oncall {
namespace {

using testing::at;
using testing::RotationBuilder;

constexpr const char* kStart = "2026-01-05T09:00:00";

Spec specWith(std::vector<std::string> members) {
  return RotationBuilder("UTC")
      .people({"a", "b", "c", "d"})
      .layer("primary", std::move(members), kStart, "1w")
      .spec();
}

// The status a controller would have written for `spec` with `offset`.
Status statusFor(const Spec& spec, int64_t offset) {
  Status status;
  LayerStatus layer;
  layer.name = spec.layers[0].name;
  layer.rotation = rotationPosition(spec.layers[0], offset);
  status.layers.push_back(layer);
  return status;
}

std::string whoAt(const Spec& spec, const Status& observed, Instant now, Instant t) {
  auto anchored = Schedule::compile(spec);
  EXPECT_TRUE(anchored.ok());
  auto schedule = Schedule::compile(spec, carryRotation(spec, *anchored, observed, now));
  EXPECT_TRUE(schedule.ok());
  return schedule->shiftAt(t).participant;
}

// Turn 7 (2026-02-23..03-02) belongs to members[7 mod 3] = b in [a, b, c].
const Instant kNow = at("2026-02-25T12:00:00Z");
const Instant kNextWeek = at("2026-03-04T12:00:00Z");
const Instant kWeekAfter = at("2026-03-11T12:00:00Z");

TEST(RotationState, WithoutHistoryTheOrderStartsAtTheAnchor) {
  const Spec spec = specWith({"a", "b", "c"});
  EXPECT_EQ(whoAt(spec, Status{}, kNow, kNow), "b");
}

TEST(RotationState, MemberAddedKeepsTheCurrentPersonOnCall) {
  const Status observed = statusFor(specWith({"a", "b", "c"}), 0);
  const Spec edited = specWith({"a", "b", "c", "d"});
  // Naively, turn 7 of four members would be members[3] = d.
  EXPECT_EQ(whoAt(edited, Status{}, kNow, kNow), "d");
  EXPECT_EQ(whoAt(edited, observed, kNow, kNow), "b");
  // Then the order continues from b in the new list: c, d, a, ...
  EXPECT_EQ(whoAt(edited, observed, kNow, kNextWeek), "c");
  EXPECT_EQ(whoAt(edited, observed, kNow, kWeekAfter), "d");
}

TEST(RotationState, OtherMemberRemovedKeepsTheCurrentPersonOnCall) {
  const Status observed = statusFor(specWith({"a", "b", "c"}), 0);
  const Spec edited = specWith({"b", "c"});
  EXPECT_EQ(whoAt(edited, observed, kNow, kNow), "b");
  EXPECT_EQ(whoAt(edited, observed, kNow, kNextWeek), "c");
}

TEST(RotationState, CurrentPersonRemovedPassesToTheNextInTheOldOrder) {
  const Status observed = statusFor(specWith({"a", "b", "c"}), 0);
  const Spec edited = specWith({"a", "c"});
  EXPECT_EQ(whoAt(edited, observed, kNow, kNow), "c");
  EXPECT_EQ(whoAt(edited, observed, kNow, kNextWeek), "a");
}

TEST(RotationState, CarriedOffsetSurvivesLaterReconciles) {
  const Spec edited = specWith({"a", "b", "c", "d"});
  auto anchored = Schedule::compile(edited);
  ASSERT_TRUE(anchored.ok());
  const std::vector<int64_t> offsets =
      carryRotation(edited, *anchored, statusFor(specWith({"a", "b", "c"}), 0), kNow);
  // The next reconcile sees the status written with the new offset: unchanged.
  const Status written = statusFor(edited, offsets[0]);
  EXPECT_EQ(carryRotation(edited, *anchored, written, kNextWeek), offsets);
  EXPECT_EQ(whoAt(edited, written, kNextWeek, kNextWeek), "c");
}

TEST(RotationState, ChangingTheAnchorRestartsTheOrder) {
  const Status observed = statusFor(specWith({"a", "b", "c"}), 2);
  const Spec reanchored = RotationBuilder("UTC")
                              .people({"a", "b", "c", "d"})
                              .layer("primary", {"a", "b", "c"}, "2026-02-23T09:00:00", "1w")
                              .spec();
  EXPECT_EQ(whoAt(reanchored, observed, kNow, kNow), "a");
}

TEST(RotationState, LayerNotStartedYetHasNothingToKeep) {
  const Status observed = statusFor(specWith({"a", "b", "c"}), 0);
  const Spec edited = specWith({"c", "d"});
  const Instant before = at("2026-01-01T00:00:00Z");
  auto anchored = Schedule::compile(edited);
  ASSERT_TRUE(anchored.ok());
  EXPECT_EQ(carryRotation(edited, *anchored, observed, before), std::vector<int64_t>{0});
}

}  // namespace
}  // namespace relops::oncall
