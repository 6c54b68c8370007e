// The ErrorBudgetPolicy reconciler against the in-memory context (tests/support/
// fake_context.h): what it writes, applies, deletes and records for a given cache. The
// FakeClient approximates server-side apply by a merge patch and runs no admission; what the
// API server does with the objects is the e2e tests' (tests/e2e/test_slo_freeze*.py).
#include "controllers/policy/policy_reconciler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controllers/policy/admission.h"
#include "operator/runtime/log.h"
#include "tests/support/fake_context.h"
#include "tests/support/metric_sample.h"

namespace relops::policy {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class PolicyReconcilerTest : public ::testing::Test {
 protected:
  PolicyReconcilerTest()
      : context_(std::chrono::system_clock::time_point(
            *common::parseRfc3339("2026-03-02T10:00:00Z", "now"))),
        reconciler_(context_) {
    context_.fakeClient.enableStatusSubresource(kErrorBudgetPolicies);
    context_.fakeClient.enableStatusSubresource(kServiceLevelObjectives);
    context_.fakeClient.add(kube::resources::kCustomResourceDefinitions,
                            {{"apiVersion", "apiextensions.k8s.io/v1"},
                             {"kind", "CustomResourceDefinition"},
                             {"metadata", {{"name", kErrorBudgetPolicyCrd}}}});
    context_.fakeClient.add(kErrorBudgetPolicies,
                            {{"apiVersion", "relops.dev/v1alpha1"},
                             {"kind", "ErrorBudgetPolicy"},
                             {"metadata", {{"name", "tier1"}, {"namespace", "shop"}}},
                             {"spec",
                              {{"sloSelector", {{"matchLabels", {{"tier", "1"}}}}},
                               {"rules", json::array({{{"name", "exhausted"},
                                                       {"budgetRemainingBelow", "0"},
                                                       {"hysteresis", "5"},
                                                       {"freeze", true}}})}}}});
    context_.fakeClient.add(
        kServiceLevelObjectives,
        {{"apiVersion", "relops.dev/v1alpha1"},
         {"kind", "ServiceLevelObjective"},
         {"metadata", {{"name", "checkout"}, {"namespace", "shop"}, {"labels", {{"tier", "1"}}}}},
         {"spec",
          {{"service", "checkout"},
           {"objective", "99.9"},
           {"indicator", {{"workload", {{"kind", "Deployment"}, {"name", "web"}}}}}}}});
  }

  // The SLO's status as the SLO controller writes it.
  void setBudgetRemaining(const std::string& percent) {
    ASSERT_TRUE(context_.fakeClient
                    .patch(kServiceLevelObjectives, {"shop", "checkout"}, kube::PatchType::kMerge,
                           json{{"status",
                                 {{"errorBudget", {{"remaining", percent}, {"consumed", "0"}}},
                                  {"burnRates", json::array({{{"window", "1h"}, {"rate", "2"}}})}}}}
                               .dump(),
                           {.subresource = "status"})
                    .ok());
  }
  runtime::ReconcileResult reconcile() {
    return reconciler_.reconcile(kKey, runtime::discardLogger());
  }
  json status() const {
    return context_.fakeClient.object(kErrorBudgetPolicies, kKey)->value("status", json());
  }
  std::optional<json> binding() const {
    return context_.fakeClient.object(kAdmissionBindings, {"", freezeBindingName("shop", "tier1")});
  }
  // The status of the last status write, as sent.
  json lastStatusWrite() const {
    json last;
    for (const auto& action : context_.fakeClient.actions("patch", kErrorBudgetPolicies)) {
      if (action.subresource == "status") last = json::parse(action.body)["status"];
    }
    return last;
  }
  // Every call that changes something, on any resource.
  size_t writes() const {
    size_t count = 0;
    for (const char* verb : {"create", "update", "patch", "delete"}) {
      count += context_.fakeClient.actions(verb).size();
    }
    return count;
  }

  const kube::ObjectKey kKey{"shop", "tier1"};
  relops::testing::FakeContext context_;
  PolicyReconciler reconciler_;
};

TEST_F(PolicyReconcilerTest, ASpentBudgetFreezesTheWorkloadWithOneEvent) {
  setBudgetRemaining("-2.5");

  const runtime::ReconcileResult result = reconcile();

  EXPECT_EQ(result.kind(), runtime::ReconcileResult::Kind::kDone);
  const json written = status();
  EXPECT_EQ(written["frozenCount"], 1);
  ASSERT_EQ(written["activeFreezes"].size(), 1u);
  EXPECT_EQ(written["activeFreezes"][0]["slo"], "checkout");
  EXPECT_EQ(written["activeFreezes"][0]["budgetRemaining"], "-2.5");
  EXPECT_EQ(written["activeFreezes"][0]["workloads"], json({"Deployment/web"}));
  // The binding names the frozen workload, and is owned by the admission policy, itself
  // owned by the CRD.
  const std::optional<json> applied = binding();
  ASSERT_TRUE(applied.has_value());
  const json& rules = (*applied)["spec"]["matchResources"]["resourceRules"];
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0]["resources"], json({"deployments"}));
  EXPECT_EQ(rules[0]["resourceNames"], json({"web"}));
  const std::optional<json> admission =
      context_.fakeClient.object(kAdmissionPolicies, {"", kFreezeAdmissionPolicy});
  ASSERT_TRUE(admission.has_value());
  EXPECT_EQ((*applied)["metadata"]["ownerReferences"][0]["uid"], (*admission)["metadata"]["uid"]);
  EXPECT_EQ((*admission)["metadata"]["ownerReferences"][0]["name"], kErrorBudgetPolicyCrd);
  ASSERT_THAT(context_.events.reasons(), ElementsAre("Frozen"));
  EXPECT_EQ(context_.events.events()[0].regarding.name, "tier1");
}

TEST_F(PolicyReconcilerTest, ASecondReconcileWithNothingChangedWritesAndRecordsNothing) {
  setBudgetRemaining("-2.5");
  reconcile();
  const size_t before = writes();
  context_.events.clear();
  context_.fakeClock.advance(std::chrono::minutes(5));

  const runtime::ReconcileResult result = reconcile();

  EXPECT_EQ(result.kind(), runtime::ReconcileResult::Kind::kDone);
  EXPECT_EQ(writes(), before);
  EXPECT_THAT(context_.events.reasons(), IsEmpty());
}

// The memory that an Event was sent is in status, not in the process: a new reconciler (a
// restart of relops) does not send it again.
TEST_F(PolicyReconcilerTest, ARestartDoesNotRepeatTheEvent) {
  setBudgetRemaining("-2.5");
  reconcile();
  context_.events.clear();
  const size_t before = writes();

  PolicyReconciler restarted(context_);
  restarted.reconcile(kKey, runtime::discardLogger());

  EXPECT_EQ(writes(), before);
  EXPECT_THAT(context_.events.reasons(), IsEmpty());
}

TEST_F(PolicyReconcilerTest, ARecoveredBudgetThawsAndDeletesTheBinding) {
  setBudgetRemaining("-2.5");
  reconcile();
  ASSERT_TRUE(binding().has_value());
  context_.events.clear();
  setBudgetRemaining("40");

  const runtime::ReconcileResult result = reconcile();

  EXPECT_EQ(result.kind(), runtime::ReconcileResult::Kind::kDone);
  EXPECT_FALSE(binding().has_value());
  // The FakeClient merges an apply, so a field the status no longer has stays in its store:
  // what was sent is what a real server-side apply would leave.
  const json sent = lastStatusWrite();
  EXPECT_EQ(sent["frozenCount"], 0);
  EXPECT_FALSE(sent.contains("activeFreezes"));
  EXPECT_THAT(context_.events.reasons(), ElementsAre("Thawed"));
}

TEST_F(PolicyReconcilerTest, AFailedStatusWriteRecordsNoEventAndIsRetried) {
  setBudgetRemaining("-2.5");
  context_.fakeClient.failNext("patch", kErrorBudgetPolicies,
                               base::Error(base::ErrorKind::kTransient, "etcd is slow"));

  const runtime::ReconcileResult result = reconcile();

  EXPECT_EQ(result.kind(), runtime::ReconcileResult::Kind::kError);
  EXPECT_THAT(context_.events.reasons(), IsEmpty());
  EXPECT_FALSE(status().contains("activeFreezes"));

  // The retry decides again, and the Event goes with the status that shows it.
  reconcile();
  EXPECT_THAT(context_.events.reasons(), ElementsAre("Frozen"));
}

TEST_F(PolicyReconcilerTest, ADeletedPolicyLeavesNoBinding) {
  setBudgetRemaining("-2.5");
  reconcile();
  ASSERT_TRUE(binding().has_value());
  ASSERT_TRUE(context_.fakeClient.remove(kErrorBudgetPolicies, kKey).ok());

  EXPECT_EQ(reconcile().kind(), runtime::ReconcileResult::Kind::kDone);
  EXPECT_FALSE(binding().has_value());
}

// relops_freeze_active is 1 per SLO and rule the written status lists as frozen: it appears
// with the freeze, not before the status shows it, and goes with the thaw and the policy.
TEST_F(PolicyReconcilerTest, FreezeActiveFollowsTheStatus) {
  auto active = [&] {
    return relops::testing::sample(
        context_.metrics, "relops_freeze_active",
        {{"namespace", "shop"}, {"name", "tier1"}, {"slo", "checkout"}, {"rule", "exhausted"}});
  };
  setBudgetRemaining("40");
  reconcile();
  EXPECT_EQ(relops::testing::seriesCount(context_.metrics, "relops_freeze_active"), 0u);

  setBudgetRemaining("-2.5");
  context_.fakeClient.failNext("patch", kErrorBudgetPolicies,
                               base::Error(base::ErrorKind::kTransient, "etcd is slow"));
  reconcile();
  EXPECT_EQ(active(), std::nullopt);  // the status does not show the freeze yet
  reconcile();
  EXPECT_EQ(active(), 1.0);
  EXPECT_EQ(relops::testing::seriesCount(context_.metrics, "relops_freeze_active"), 1u);

  setBudgetRemaining("40");
  reconcile();
  EXPECT_EQ(active(), std::nullopt);

  setBudgetRemaining("-2.5");
  reconcile();
  ASSERT_EQ(active(), 1.0);
  ASSERT_TRUE(context_.fakeClient.remove(kErrorBudgetPolicies, kKey).ok());
  reconcile();
  EXPECT_EQ(relops::testing::seriesCount(context_.metrics, "relops_freeze_active"), 0u);
}

}  // namespace
}  // namespace relops::policy
