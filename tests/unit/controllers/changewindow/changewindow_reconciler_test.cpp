// The ChangeWindow reconciler against the in-memory context (tests/support/fake_context.h):
// the binding before the start, status and one Event at the start instant, a requeue at
// exactly the end, the binding gone after it. What the API server does with the objects is
// the e2e test's (tests/e2e/test_change_window.py).
#include "controllers/changewindow/changewindow_reconciler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controllers/changewindow/admission.h"
#include "operator/runtime/log.h"
#include "tests/support/fake_context.h"
#include "tests/support/metric_sample.h"

namespace relops::changewindow {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class ChangeWindowReconcilerTest : public ::testing::Test {
 protected:
  ChangeWindowReconcilerTest()
      : context_(std::chrono::system_clock::time_point(
            *common::parseRfc3339("2026-06-01T09:50:00Z", "now"))),
        reconciler_(context_) {
    context_.fakeClient.enableStatusSubresource(kChangeWindows);
    context_.fakeClient.add(kube::resources::kCustomResourceDefinitions,
                            {{"apiVersion", "apiextensions.k8s.io/v1"},
                             {"kind", "CustomResourceDefinition"},
                             {"metadata", {{"name", kChangeWindowCrd}}}});
    context_.fakeClient.add(kChangeWindows,
                            {{"apiVersion", "relops.dev/v1alpha1"},
                             {"kind", "ChangeWindow"},
                             {"metadata", {{"name", "release"}, {"namespace", "shop"}}},
                             {"spec",
                              {{"type", "Freeze"},
                               {"start", "2026-06-01T10:00:00Z"},
                               {"end", "2026-06-01T10:30:00Z"},
                               {"reason", "quarter close"}}}});
    context_.fakeClient.add(kube::resources::kDeployments,
                            {{"apiVersion", "apps/v1"},
                             {"kind", "Deployment"},
                             {"metadata", {{"name", "web"}, {"namespace", "shop"}}}});
  }
  runtime::ReconcileResult reconcile() {
    return reconciler_.reconcile(kKey, runtime::discardLogger());
  }
  json status() const {
    return context_.fakeClient.object(kChangeWindows, kKey)->value("status", json());
  }
  bool bound() const {
    return context_.fakeClient
        .object(kAdmissionBindings, {"", windowBindingName("shop", "release")})
        .has_value();
  }

  const kube::ObjectKey kKey{"shop", "release"};
  relops::testing::FakeContext context_;
  ChangeWindowReconciler reconciler_;
};

TEST_F(ChangeWindowReconcilerTest, BindsAheadStartsAtTheInstantAndUnbindsAtTheEnd) {
  // Ten minutes before: nothing bound, look again five minutes before the start.
  runtime::ReconcileResult result = reconcile();
  EXPECT_EQ(result.kind(), runtime::ReconcileResult::Kind::kRequeueAfter);
  EXPECT_EQ(result.delay(), std::chrono::minutes(5));
  EXPECT_FALSE(bound());
  EXPECT_EQ(status()["active"], false);
  EXPECT_EQ(status()["nextStart"], "2026-06-01T10:00:00Z");
  EXPECT_EQ(status()["selected"]["names"], json({"Deployment/web"}));

  // Five minutes before: bound (the admission policy owns it), still inactive.
  context_.fakeClock.advance(std::chrono::minutes(5));
  result = reconcile();
  EXPECT_EQ(result.delay(), std::chrono::minutes(5));
  ASSERT_TRUE(bound());
  EXPECT_EQ(status()["active"], false);
  const auto policy = context_.fakeClient.object(kAdmissionPolicies, {"", kWindowAdmissionPolicy});
  ASSERT_TRUE(policy.has_value());
  EXPECT_EQ((*policy)["metadata"]["ownerReferences"][0]["name"], kChangeWindowCrd);
  EXPECT_THAT(context_.events.reasons(), IsEmpty());

  // The start instant: active, one Event, requeue at exactly the end.
  context_.fakeClock.advance(std::chrono::minutes(5));
  result = reconcile();
  EXPECT_EQ(result.delay(), std::chrono::minutes(30));
  EXPECT_EQ(status()["active"], true);
  EXPECT_EQ(status()["currentWindow"]["end"], "2026-06-01T10:30:00Z");
  EXPECT_THAT(context_.events.reasons(), ElementsAre("WindowStarted"));

  // The end: inactive, WindowEnded, the binding gone, nothing further.
  context_.fakeClock.advance(std::chrono::minutes(30));
  result = reconcile();
  EXPECT_EQ(result.kind(), runtime::ReconcileResult::Kind::kDone);
  EXPECT_EQ(status()["active"], false);
  EXPECT_FALSE(bound());
  EXPECT_THAT(context_.events.reasons(), ElementsAre("WindowStarted", "WindowEnded"));
}

// relops_changewindow_active follows status.active; the next start is a timestamp gauge; both
// go with the window.
TEST_F(ChangeWindowReconcilerTest, MetricsFollowTheWindow) {
  const std::vector<std::pair<std::string, std::string>> labels = {
      {"namespace", "shop"}, {"name", "release"}, {"type", "Freeze"}};
  auto active = [&] {
    return relops::testing::sample(context_.metrics, "relops_changewindow_active", labels);
  };
  auto nextStart = [&] {
    return relops::testing::sample(context_.metrics,
                                   "relops_changewindow_next_start_timestamp_seconds", labels);
  };
  reconcile();
  EXPECT_EQ(active(), 0.0);
  EXPECT_EQ(nextStart(), 1780308000.0);  // 2026-06-01T10:00:00Z
  context_.fakeClock.advance(std::chrono::minutes(10));
  reconcile();
  EXPECT_EQ(active(), 1.0);
  EXPECT_EQ(nextStart(), std::nullopt);  // an absolute window has no next one
  ASSERT_TRUE(context_.fakeClient.remove(kChangeWindows, kKey).ok());
  reconcile();
  EXPECT_EQ(relops::testing::seriesCount(context_.metrics, "relops_changewindow_active"), 0u);
}

TEST_F(ChangeWindowReconcilerTest, ADeletedWindowLeavesNoBinding) {
  context_.fakeClock.advance(std::chrono::minutes(15));
  reconcile();
  ASSERT_TRUE(bound());
  ASSERT_TRUE(context_.fakeClient.remove(kChangeWindows, kKey).ok());
  EXPECT_EQ(reconcile().kind(), runtime::ReconcileResult::Kind::kDone);
  EXPECT_FALSE(bound());
}

}  // namespace
}  // namespace relops::changewindow
