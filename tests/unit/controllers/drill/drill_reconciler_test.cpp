// The DRDrill reconciler against the in-memory context (tests/support/fake_context.h): the
// status it writes, the runs it creates, the Events it records and when it looks again, for a
// given cache and clock. What the API server and the Job controller do with those writes is
// the e2e tests' (tests/e2e/test_drill_*.py).
#include "controllers/drill/drill_reconciler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operator/runtime/log.h"
#include "tests/support/fake_context.h"
#include "tests/support/metric_sample.h"
#include "tests/unit/controllers/drill/drill_objects.h"

namespace relops::drill {
namespace {

using nlohmann::json;
using testing::at;
using testing::drillObject;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::jobDrillSpec;
using testing::kDrill;
using testing::kNamespace;
using testing::runObject;

class DrillReconcilerTest : public ::testing::Test {
 protected:
  // The drill is created at 13:58:00; its first slot is 14:00:00.
  DrillReconcilerTest() : context_(at("2026-03-10T13:58:00Z")), reconciler_(context_) {
    context_.fakeClient.enableStatusSubresource(kDRDrills);
    context_.fakeClient.enableStatusSubresource(kDRDrillRuns);
  }

  json addDrill(const json& spec = jobDrillSpec()) {
    return context_.fakeClient.add(kDRDrills, drillObject(spec));
  }
  runtime::ReconcileResult reconcile() {
    return reconciler_.reconcile(kKey, runtime::discardLogger());
  }
  json status() const {
    return context_.fakeClient.object(kDRDrills, kKey)->value("status", json());
  }
  std::vector<json> runs() const { return context_.fakeClient.objects(kDRDrillRuns, kNamespace); }
  // Reconciles at 13:58 (status only), then at the 14:00 slot.
  runtime::ReconcileResult reconcileUntilTheFirstSlot() {
    const runtime::ReconcileResult first = reconcile();
    EXPECT_EQ(first.kind(), runtime::ReconcileResult::Kind::kRequeueAfter);
    context_.fakeClock.advance(first.delay());
    return reconcile();
  }

  // Gives the first run the status of a finished run that took 42 s, a minute later.
  void finishTheFirstRun(Verdict verdict, bool objectivesMet) {
    const json run = runs()[0];
    const kube::ObjectKey runKey{kNamespace, run["metadata"]["name"]};
    RunStatus finished;
    finished.phase = verdict == Verdict::kPass ? Phase::kSucceeded : Phase::kFailed;
    finished.verdict = verdict;
    finished.startTime = at("2026-03-10T14:00:00Z");
    finished.recoveryTime = at("2026-03-10T14:00:42Z");
    finished.completionTime = at("2026-03-10T14:00:42Z");
    finished.rtoSeconds = 42;
    finished.objectivesMet = objectivesMet;
    kube::WriteOptions toStatus;
    toStatus.subresource = "status";
    ASSERT_TRUE(context_.fakeClient
                    .patch(kDRDrillRuns, runKey, kube::PatchType::kMerge,
                           json{{"status", toJson(finished)}}.dump(), toStatus)
                    .ok());
    context_.fakeClock.advance(std::chrono::minutes(1));
  }

  const kube::ObjectKey kKey{kNamespace, kDrill};
  relops::testing::FakeContext context_;
  DrillReconciler reconciler_;
};

TEST_F(DrillReconcilerTest, BeforeItsFirstSlotItWritesTheScheduleAndRequeuesAtTheSlot) {
  addDrill();

  const runtime::ReconcileResult result = reconcile();

  EXPECT_THAT(runs(), IsEmpty());
  EXPECT_EQ(status()["nextScheduleTime"], "2026-03-10T14:00:00Z");
  ASSERT_EQ(result.kind(), runtime::ReconcileResult::Kind::kRequeueAfter);
  EXPECT_EQ(result.delay(), std::chrono::minutes(2));
  EXPECT_THAT(context_.events.reasons(), IsEmpty());
}

TEST_F(DrillReconcilerTest, AtTheScheduledInstantItCreatesTheRunAndRequeuesAtTheNextSlot) {
  const json drill = addDrill();

  const runtime::ReconcileResult result = reconcileUntilTheFirstSlot();

  ASSERT_EQ(runs().size(), 1u);
  const json run = runs()[0];
  EXPECT_EQ(run["metadata"]["name"], scheduledRunName(kDrill, at("2026-03-10T14:00:00Z")));
  EXPECT_EQ(run["metadata"]["labels"][std::string(kDrillLabel)], kDrill);
  const json owner = run["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["kind"], "DRDrill");
  EXPECT_EQ(owner["uid"], drill["metadata"]["uid"]);
  EXPECT_EQ(owner["controller"], true);
  EXPECT_EQ(run["spec"]["scheduledTime"], "2026-03-10T14:00:00Z");
  // A job drill's run has nothing to clean up: no finalizer.
  EXPECT_FALSE(run["metadata"].contains("finalizers"));
  EXPECT_EQ(status()["nextScheduleTime"], "2026-03-10T14:05:00Z");
  ASSERT_EQ(result.kind(), runtime::ReconcileResult::Kind::kRequeueAfter);
  EXPECT_EQ(result.delay(), std::chrono::minutes(5));
  EXPECT_THAT(context_.events.reasons(), ElementsAre("Started"));
  EXPECT_EQ(context_.events.events()[0].regarding.name, kDrill);
}

TEST_F(DrillReconcilerTest, AFailedStatusWriteCreatesNoRunAndRecordsNothing) {
  addDrill();
  const runtime::ReconcileResult first = reconcile();
  context_.fakeClock.advance(first.delay());
  context_.fakeClient.failNext("patch", kDRDrills,
                               base::Error(base::ErrorKind::kTransient, "etcd is slow"));

  const runtime::ReconcileResult result = reconcile();

  EXPECT_EQ(result.kind(), runtime::ReconcileResult::Kind::kError);
  EXPECT_THAT(runs(), IsEmpty());
  EXPECT_EQ(status()["nextScheduleTime"], "2026-03-10T14:00:00Z");
  EXPECT_THAT(context_.events.reasons(), IsEmpty());
}

TEST_F(DrillReconcilerTest, AFinishedRunIsAnnouncedOnce) {
  addDrill();
  reconcileUntilTheFirstSlot();
  finishTheFirstRun(Verdict::kPass, true);
  context_.events.clear();

  reconcile();
  reconcile();

  EXPECT_THAT(context_.events.reasons(), ElementsAre("Succeeded"));
  EXPECT_EQ(status()["lastRun"]["verdict"], "Pass");
  EXPECT_EQ(status()["lastRun"]["rtoSeconds"], 42);
}

// The series of the last finished run: its verdict (one series, the others removed), whether
// it met the objectives, and the objectives of the spec; all go with the drill.
TEST_F(DrillReconcilerTest, ExportsTheLastVerdictAndTheObjectives) {
  const auto value = [&](const char* name) {
    return relops::testing::sample(context_.metrics, name,
                                   {{"namespace", kNamespace}, {"name", kDrill}});
  };
  const auto verdict = [&](const char* result) {
    return relops::testing::sample(
        context_.metrics, "relops_drdrill_last_result",
        {{"namespace", kNamespace}, {"name", kDrill}, {"result", result}});
  };
  addDrill();
  reconcileUntilTheFirstSlot();
  // The spec's objective (jobDrillSpec: rto 5m, no rpo) before any run finished.
  EXPECT_EQ(value("relops_drdrill_rto_objective_seconds"), 300.0);
  EXPECT_EQ(value("relops_drdrill_rpo_objective_seconds"), std::nullopt);
  EXPECT_EQ(relops::testing::seriesCount(context_.metrics, "relops_drdrill_last_result"), 0u);

  finishTheFirstRun(Verdict::kFail, false);
  reconcile();
  EXPECT_EQ(verdict("Fail"), 1.0);
  EXPECT_EQ(verdict("Pass"), std::nullopt);
  EXPECT_EQ(value("relops_drdrill_objectives_met"), 0.0);
  EXPECT_EQ(value("relops_drdrill_rto_seconds"), 42.0);

  ASSERT_TRUE(context_.fakeClient.remove(kDRDrills, kKey).ok());
  reconcile();
  for (const char* name : {"relops_drdrill_last_result", "relops_drdrill_objectives_met",
                           "relops_drdrill_rto_objective_seconds", "relops_drdrill_rto_seconds"}) {
    EXPECT_EQ(relops::testing::seriesCount(context_.metrics, name), 0u) << name;
  }
}

TEST_F(DrillReconcilerTest, ARunNameTakenByAnObjectItDoesNotControlIsLeftAloneWithAWarning) {
  const json drill = addDrill();
  const json foreign =
      context_.fakeClient.add(kDRDrillRuns, runObject(drill, at("2026-03-10T14:00:00Z"), "other"));

  reconcileUntilTheFirstSlot();

  ASSERT_EQ(runs().size(), 1u);
  EXPECT_EQ(runs()[0], foreign);
  EXPECT_THAT(context_.events.reasons(), ElementsAre("RunNameTaken", "Started"));
}

TEST_F(DrillReconcilerTest, ADeletedDrillIsDone) {
  EXPECT_EQ(reconcile().kind(), runtime::ReconcileResult::Kind::kDone);
  EXPECT_THAT(context_.fakeClient.actions("patch"), IsEmpty());
}

}  // namespace
}  // namespace relops::drill
