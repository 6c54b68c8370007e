// The DRDrillRun reconciler against the in-memory context (tests/support/fake_context.h): the
// status it writes, the children it creates, the Events it records and when it looks again,
// for a given cache and clock. What the API server and the Job controller do with those writes
// is the e2e tests' (tests/e2e/test_drill_*.py, test_tenant_drills.py).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controllers/drill/drill_reconciler.h"
#include "operator/runtime/log.h"
#include "tests/support/fake_context.h"
#include "tests/unit/controllers/drill/drill_objects.h"

namespace relops::drill {
namespace {

using nlohmann::json;
using testing::at;
using testing::drillObject;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::jobDrillSpec;
using testing::kNamespace;
using testing::runObject;

class RunReconcilerTest : public ::testing::Test {
 protected:
  // The run of the 14:00 slot, reconciled from 14:00:00.
  RunReconcilerTest() : context_(at("2026-03-10T14:00:00Z")), reconciler_(context_, RunOptions{}) {
    context_.fakeClient.enableStatusSubresource(kDRDrills);
    context_.fakeClient.enableStatusSubresource(kDRDrillRuns);
    drill_ = context_.fakeClient.add(kDRDrills, drillObject(jobDrillSpec()));
  }

  // Adds the run; `ownerUid` overrides the drill's UID in its controller reference.
  void addRun(const std::string& ownerUid = "") {
    run_ = context_.fakeClient.add(kDRDrillRuns,
                                   runObject(drill_, at("2026-03-10T14:00:00Z"), ownerUid));
    key_ = {kNamespace, run_["metadata"]["name"]};
    jobKey_ = {kNamespace, jobNameFor(key_.name)};
  }
  runtime::ReconcileResult reconcile() {
    return reconciler_.reconcile(key_, runtime::discardLogger());
  }
  json status() const {
    return context_.fakeClient.object(kDRDrillRuns, key_)->value("status", json());
  }
  std::optional<json> job() const {
    return context_.fakeClient.object(kube::resources::kJobs, jobKey_);
  }
  size_t statusWrites() const {
    size_t writes = 0;
    for (const auto& action : context_.fakeClient.actions("patch", kDRDrillRuns)) {
      if (action.subresource == "status") ++writes;
    }
    return writes;
  }
  // A Job under the run's Job name that the run does not own.
  void addForeignJob() {
    context_.fakeClient.add(kube::resources::kJobs,
                            {{"apiVersion", "batch/v1"},
                             {"kind", "Job"},
                             {"metadata", {{"name", jobKey_.name}, {"namespace", kNamespace}}},
                             {"spec", {{"template", {{"spec", {{"restartPolicy", "Never"}}}}}}}});
  }

  relops::testing::FakeContext context_;
  RunReconciler reconciler_;
  json drill_;
  json run_;
  kube::ObjectKey key_;
  kube::ObjectKey jobKey_;
};

TEST_F(RunReconcilerTest, ARunItsDrillDoesNotControlIsNotExecuted) {
  addRun("uid-of-another-drill");

  const runtime::ReconcileResult result = reconcile();

  EXPECT_EQ(result.kind(), runtime::ReconcileResult::Kind::kDone);
  EXPECT_TRUE(status().is_null()) << status().dump();
  EXPECT_EQ(statusWrites(), 0u);
  EXPECT_EQ(job(), std::nullopt);
  EXPECT_THAT(context_.events.reasons(), IsEmpty());
}

TEST_F(RunReconcilerTest, AJobRunCreatesItsJobOwnedByTheRunAndShowsRunning) {
  addRun();

  const runtime::ReconcileResult result = reconcile();

  ASSERT_TRUE(job());
  const json owner = (*job())["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["kind"], "DRDrillRun");
  EXPECT_EQ(owner["name"], key_.name);
  EXPECT_EQ(owner["uid"], run_["metadata"]["uid"]);
  EXPECT_EQ(owner["controller"], true);
  EXPECT_EQ(status()["phase"], "Running");
  EXPECT_EQ(status()["job"]["name"], jobKey_.name);
  EXPECT_EQ(status()["startTime"], "2026-03-10T14:00:00Z");
  // Woken by the Job's watch events; otherwise looked at again by the deadline (runTimeout 1h).
  ASSERT_EQ(result.kind(), runtime::ReconcileResult::Kind::kRequeueAfter);
  EXPECT_EQ(result.delay(), std::chrono::hours(1));
  EXPECT_THAT(context_.events.reasons(), IsEmpty());
}

TEST_F(RunReconcilerTest, AFinishedJobWritesTheVerdict) {
  addRun();
  reconcile();
  context_.fakeClock.advance(std::chrono::seconds(42));
  const json complete = {
      {"status",
       {{"completionTime", "2026-03-10T14:00:42Z"},
        {"conditions", json::array({{{"type", "Complete"}, {"status", "True"}}})}}}};
  ASSERT_TRUE(context_.fakeClient
                  .patch(kube::resources::kJobs, jobKey_, kube::PatchType::kMerge, complete.dump())
                  .ok());

  const runtime::ReconcileResult result = reconcile();

  EXPECT_EQ(status()["verdict"], "Pass");
  EXPECT_EQ(status()["phase"], "Succeeded");
  EXPECT_EQ(status()["rtoSeconds"], 42);
  EXPECT_EQ(status()["objectivesMet"], true);
  EXPECT_EQ(result.kind(), runtime::ReconcileResult::Kind::kDone);
  // The Job stays as evidence until the run goes (owner reference).
  EXPECT_TRUE(job());
}

TEST_F(RunReconcilerTest, AJobItDoesNotControlEndsTheRunInErrorWithOneWarning) {
  addRun();
  addForeignJob();
  const json foreignJob = *job();

  reconcile();
  reconcile();

  EXPECT_EQ(status()["verdict"], "Error");
  EXPECT_EQ(status()["reason"], "JobConflict");
  EXPECT_THAT(context_.events.reasons(), ElementsAre("JobConflict"));
  EXPECT_EQ(context_.events.events()[0].type, runtime::EventType::kWarning);
  EXPECT_EQ(context_.events.events()[0].regarding.name, key_.name);
  EXPECT_EQ(*job(), foreignJob);
}

TEST_F(RunReconcilerTest, AFailedStatusWriteRecordsNothing) {
  addRun();
  addForeignJob();
  context_.fakeClient.failNext("patch", kDRDrillRuns,
                               base::Error(base::ErrorKind::kTransient, "etcd is slow"));

  const runtime::ReconcileResult result = reconcile();

  EXPECT_EQ(result.kind(), runtime::ReconcileResult::Kind::kError);
  EXPECT_TRUE(status().is_null()) << status().dump();
  EXPECT_THAT(context_.events.reasons(), IsEmpty());
}

TEST_F(RunReconcilerTest, AFailedStatusWriteCreatesNoJob) {
  addRun();
  context_.fakeClient.failNext("patch", kDRDrillRuns,
                               base::Error(base::ErrorKind::kTransient, "etcd is slow"));

  EXPECT_EQ(reconcile().kind(), runtime::ReconcileResult::Kind::kError);
  EXPECT_EQ(job(), std::nullopt);
}

TEST_F(RunReconcilerTest, ADeletedRunIsDone) {
  key_ = {kNamespace, "gone"};
  EXPECT_EQ(reconcile().kind(), runtime::ReconcileResult::Kind::kDone);
  EXPECT_THAT(context_.fakeClient.actions("patch"), IsEmpty());
}

}  // namespace
}  // namespace relops::drill
