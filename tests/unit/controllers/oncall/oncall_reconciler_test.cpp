// The OnCallRotation reconciler against the in-memory context (tests/support/fake_context.h):
// what it writes and records, and when it looks again, for a given cache and clock. What the
// API server does with those writes is the e2e tests' (tests/e2e/test_oncall_*.py).
#include "controllers/oncall/oncall_reconciler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operator/runtime/log.h"
#include "tests/support/fake_context.h"
#include "tests/unit/controllers/oncall/rotation_builder.h"

namespace relops::oncall {
namespace {

using testing::at;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::RotationBuilder;

class OnCallReconcilerTest : public ::testing::Test {
 protected:
  OnCallReconcilerTest() : context_(at("2026-03-02T10:00:00Z")), reconciler_(context_) {
    context_.fakeClient.enableStatusSubresource(kOnCallRotations);
  }

  void addRotation(const nlohmann::json& spec) {
    context_.fakeClient.add(kOnCallRotations,
                            {{"apiVersion", "relops.dev/v1alpha1"},
                             {"kind", "OnCallRotation"},
                             {"metadata", {{"name", "payments"}, {"namespace", "team-a"}}},
                             {"spec", spec}});
  }
  runtime::ReconcileResult reconcile() {
    return reconciler_.reconcile(kKey, runtime::discardLogger());
  }
  nlohmann::json status() const {
    return context_.fakeClient.object(kOnCallRotations, kKey)->value("status", nlohmann::json());
  }
  size_t statusWrites() const {
    size_t writes = 0;
    for (const auto& action : context_.fakeClient.actions("patch", kOnCallRotations)) {
      if (action.subresource == "status") ++writes;
    }
    return writes;
  }

  const kube::ObjectKey kKey{"team-a", "payments"};
  relops::testing::FakeContext context_;
  OnCallReconciler reconciler_;
};

// Daily turns from Monday 09:00 UTC: alice until Tuesday 09:00, then bob.
nlohmann::json dailyAliceThenBob() {
  return RotationBuilder("UTC")
      .people({"alice", "bob"})
      .layer("primary", {"alice", "bob"}, "2026-03-02T09:00:00", "1d")
      .json();
}

TEST_F(OnCallReconcilerTest, WritesWhoIsOnCallAndRequeuesAtTheHandoff) {
  addRotation(dailyAliceThenBob());

  const runtime::ReconcileResult result = reconcile();

  EXPECT_EQ(status()["onCall"]["participant"], "alice");
  ASSERT_EQ(result.kind(), runtime::ReconcileResult::Kind::kRequeueAfter);
  // The horizon moves at the local midnight, before the handoff at 09:00.
  EXPECT_EQ(result.delay(), std::chrono::hours(14));
  EXPECT_THAT(context_.events.reasons(), IsEmpty());
}

TEST_F(OnCallReconcilerTest, HandsOffAtTheInstantWithOneEventAfterTheStatus) {
  addRotation(dailyAliceThenBob());
  reconcile();
  context_.fakeClock.advance(std::chrono::hours(23));

  reconcile();

  EXPECT_EQ(status()["onCall"]["participant"], "bob");
  ASSERT_THAT(context_.events.reasons(), ElementsAre("Handoff"));
  EXPECT_EQ(context_.events.events()[0].note, "Handoff from alice to bob (primary)");
  EXPECT_EQ(context_.events.events()[0].regarding.name, "payments");
}

TEST_F(OnCallReconcilerTest, AReconcileThatChangesNothingWritesNothing) {
  addRotation(dailyAliceThenBob());
  reconcile();
  const size_t writes = statusWrites();
  context_.fakeClock.advance(std::chrono::minutes(5));

  reconcile();

  EXPECT_EQ(statusWrites(), writes);
  EXPECT_THAT(context_.events.reasons(), IsEmpty());
}

TEST_F(OnCallReconcilerTest, AnInvalidZoneStallsWithoutRequeue) {
  addRotation(RotationBuilder("Mars/Olympus_Mons")
                  .people({"alice"})
                  .layer("primary", {"alice"}, "2026-03-02T09:00:00", "1d")
                  .json());

  const runtime::ReconcileResult result = reconcile();

  EXPECT_EQ(result.kind(), runtime::ReconcileResult::Kind::kDone);
  const nlohmann::json written = status();
  bool stalled = false;
  for (const auto& condition : written["conditions"]) {
    if (condition["type"] == "Stalled") stalled = condition["status"] == "True";
  }
  EXPECT_TRUE(stalled) << written.dump();
  EXPECT_THAT(context_.events.reasons(), ElementsAre("UnknownTimeZone"));
}

TEST_F(OnCallReconcilerTest, AFailedStatusWriteRecordsNothingAndIsRetried) {
  addRotation(dailyAliceThenBob());
  context_.fakeClient.failNext("patch", kOnCallRotations,
                               base::Error(base::ErrorKind::kTransient, "etcd is slow"));

  const runtime::ReconcileResult result = reconcile();

  EXPECT_EQ(result.kind(), runtime::ReconcileResult::Kind::kError);
  EXPECT_THAT(context_.events.reasons(), IsEmpty());
}

TEST_F(OnCallReconcilerTest, ADeletedRotationIsDone) {
  EXPECT_EQ(reconcile().kind(), runtime::ReconcileResult::Kind::kDone);
  EXPECT_THAT(context_.fakeClient.actions("patch"), IsEmpty());
}

}  // namespace
}  // namespace relops::oncall
