// The OnCallRotation reconciler against the in-memory context (tests/support/fake_context.h):
// what it writes and records, and when it looks again, for a given cache and clock. What the
// API server does with those writes is the e2e tests' (tests/e2e/test_oncall_*.py).
#include "controllers/oncall/oncall_reconciler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controllers/common/object_trim.h"
#include "operator/runtime/log.h"
#include "tests/support/fake_context.h"
#include "tests/support/metric_sample.h"
#include "tests/unit/controllers/oncall/rotation_builder.h"

namespace relops::oncall {
namespace {

using testing::at;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
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

// relops_oncall_load_hours splits each participant's hours in status.load into business
// hours, weekday off-hours and weekends, which add up to the hours; relops_oncall_balance_score
// is status.balance.score as a fraction. A deleted rotation's series go.
TEST_F(OnCallReconcilerTest, ExportsTheLoadByCategoryAndTheBalance) {
  addRotation(dailyAliceThenBob());
  reconcile();

  const nlohmann::json load = status()["load"]["participants"];
  ASSERT_EQ(load.size(), 2u);
  for (const nlohmann::json& person : load) {
    const std::string participant = person["participant"];
    auto hours = [&](const char* category) {
      return relops::testing::sample(context_.metrics, "relops_oncall_load_hours",
                                     {{"namespace", "team-a"},
                                      {"name", "payments"},
                                      {"participant", participant},
                                      {"category", category}})
          .value_or(-1);
    };
    const double business = hours("business");
    const double offHours = hours("off_hours");
    const double weekend = hours("weekend");
    // A daily turn from 09:00 holds a working day's 8 business hours and its evening.
    EXPECT_GT(business, 0) << participant;
    EXPECT_GT(offHours, 0) << participant;
    EXPECT_GT(weekend, 0) << participant;
    EXPECT_NEAR(business + offHours + weekend, std::stod(person["hours"].get<std::string>()), 1e-9)
        << participant;
    EXPECT_NEAR(offHours + weekend, std::stod(person["offHours"].get<std::string>()), 1e-9);
    EXPECT_NEAR(weekend, std::stod(person["weekendHours"].get<std::string>()), 1e-9);
  }
  EXPECT_EQ(relops::testing::seriesCount(context_.metrics, "relops_oncall_load_hours"), 6u);
  const auto score = relops::testing::sample(context_.metrics, "relops_oncall_balance_score",
                                             {{"namespace", "team-a"}, {"name", "payments"}});
  ASSERT_TRUE(score.has_value());
  EXPECT_NEAR(*score, std::stod(status()["balance"]["score"].get<std::string>()) / 100, 1e-9);
  EXPECT_GT(*score, 0.5);  // two people alternating days carry about the same

  ASSERT_TRUE(context_.fakeClient.remove(kOnCallRotations, kKey).ok());
  reconcile();
  EXPECT_EQ(relops::testing::seriesCount(context_.metrics, "relops_oncall_load_hours"), 0u);
  EXPECT_EQ(relops::testing::seriesCount(context_.metrics, "relops_oncall_balance_score"), 0u);
}

TEST_F(OnCallReconcilerTest, ADeletedRotationIsDone) {
  EXPECT_EQ(reconcile().kind(), runtime::ReconcileResult::Kind::kDone);
  EXPECT_THAT(context_.fakeClient.actions("patch"), IsEmpty());
}

// With AlertmanagerConfig served: the rotation's routing child.
class OnCallRoutingTest : public OnCallReconcilerTest {
 protected:
  OnCallRoutingTest()
      : routed_(context_,
                OnCallReconciler::Options{std::nullopt, RoutingOutput::kAlertmanagerConfig}) {}

  static nlohmann::json routedSpec() {
    nlohmann::json spec = dailyAliceThenBob();
    auto hook = [](const std::string& who) {
      return nlohmann::json{{"webhookConfigs", {{{"url", "http://127.0.0.1:9/" + who}}}}};
    };
    nlohmann::json alice = hook("alice");
    alice["participant"] = "alice";
    nlohmann::json bob = hook("bob");
    bob["participant"] = "bob";
    spec["routing"] = {{"receivers", {alice, bob}}, {"fallback", hook("team")}};
    return spec;
  }
  runtime::ReconcileResult reconcileRouted() {
    return routed_.reconcile(kKey, runtime::discardLogger());
  }
  std::optional<nlohmann::json> child() const {
    return context_.fakeClient.object(kAlertmanagerConfigs, {"team-a", "relops-oncall-payments"});
  }
  size_t childWrites() const {
    return context_.fakeClient.actions("patch", kAlertmanagerConfigs).size();
  }

  OnCallReconciler routed_;
};

TEST_F(OnCallRoutingTest, AppliesTheRouteToWhoeverIsOnCallThenWritesTheStatus) {
  addRotation(routedSpec());

  reconcileRouted();

  ASSERT_TRUE(child());
  EXPECT_EQ((*child())["spec"]["route"]["receiver"], "participant-alice");
  EXPECT_EQ(status()["routing"]["receiver"], "participant-alice");
  EXPECT_EQ(status()["routing"]["alertmanagerConfig"], "relops-oncall-payments");
  // The child goes first: the status never says alerts go somewhere they do not yet.
  const auto patches = context_.fakeClient.actions("patch");
  ASSERT_GE(patches.size(), 2U);
  EXPECT_EQ(patches[0].resource.resource, "alertmanagerconfigs");
}

TEST_F(OnCallRoutingTest, RewritesTheChildAtTheHandoffAndNotBetween) {
  addRotation(routedSpec());
  reconcileRouted();
  const size_t writes = childWrites();
  context_.fakeClock.advance(std::chrono::hours(5));
  reconcileRouted();
  EXPECT_EQ(childWrites(), writes);  // idle: nothing written

  context_.fakeClock.advance(std::chrono::hours(18));  // Tuesday 09:00: bob
  reconcileRouted();

  EXPECT_EQ(childWrites(), writes + 1);
  EXPECT_EQ((*child())["spec"]["route"]["receiver"], "participant-bob");
  EXPECT_EQ(status()["routing"]["participant"], "bob");
}

TEST_F(OnCallRoutingTest, ARejectedChildIsStalledWithTheServersMessage) {
  addRotation(routedSpec());
  context_.fakeClient.failNext(
      "patch", kAlertmanagerConfigs,
      base::Error(base::ErrorKind::kInvalid, "spec.receivers[0].webhookConfigs[0].url: Invalid"));

  const runtime::ReconcileResult result = reconcileRouted();

  EXPECT_EQ(result.kind(), runtime::ReconcileResult::Kind::kRequeueAfter);
  const nlohmann::json written = status();
  bool stalled = false;
  for (const auto& condition : written["conditions"]) {
    if (condition["type"] == "Stalled") {
      stalled = condition["status"] == "True" && condition["reason"] == "RoutingRejected";
      EXPECT_THAT(condition["message"].get<std::string>(),
                  ::testing::HasSubstr("webhookConfigs[0].url: Invalid"));
    }
  }
  EXPECT_TRUE(stalled) << status().dump();
  EXPECT_FALSE(status().contains("routing"));
  EXPECT_THAT(context_.events.reasons(), ElementsAre("RoutingRejected"));
}

TEST_F(OnCallRoutingTest, ATransientFailureIsRetriedWithoutAStatus) {
  addRotation(routedSpec());
  context_.fakeClient.failNext("patch", kAlertmanagerConfigs,
                               base::Error(base::ErrorKind::kTransient, "connection reset"));

  EXPECT_EQ(reconcileRouted().kind(), runtime::ReconcileResult::Kind::kError);
  EXPECT_EQ(statusWrites(), 0U);
}

TEST_F(OnCallRoutingTest, WithoutTheKindServedTheRotationSaysSo) {
  addRotation(routedSpec());

  reconcile();  // the reconciler of a cluster without AlertmanagerConfig

  EXPECT_FALSE(child());
  const nlohmann::json written = status();
  bool unavailable = false;
  for (const auto& condition : written["conditions"]) {
    if (condition["type"] == "Routed") unavailable = condition["reason"] == "RoutingUnavailable";
  }
  EXPECT_TRUE(unavailable) << status().dump();
}

TEST_F(OnCallRoutingTest, AStalledRotationKeepsItsChildSoItsAlertsStillGoSomewhere) {
  addRotation(routedSpec());
  reconcileRouted();
  ASSERT_TRUE(child());

  nlohmann::json rotation = *context_.fakeClient.object(kOnCallRotations, kKey);
  rotation["spec"]["timeZone"] = "Mars/Olympus_Mons";
  ASSERT_TRUE(context_.fakeClient.update(kOnCallRotations, rotation).ok());
  reconcileRouted();

  ASSERT_TRUE(child());
  EXPECT_EQ((*child())["spec"]["route"]["receiver"], "participant-alice");
  EXPECT_TRUE(context_.fakeClient.actions("delete", kAlertmanagerConfigs).empty());
}

TEST_F(OnCallRoutingTest, RoutingRemovedFromTheSpecDeletesTheChild) {
  addRotation(routedSpec());
  reconcileRouted();
  ASSERT_TRUE(child());

  nlohmann::json rotation = *context_.fakeClient.object(kOnCallRotations, kKey);
  rotation["spec"].erase("routing");
  ASSERT_TRUE(context_.fakeClient.update(kOnCallRotations, rotation).ok());
  const runtime::ReconcileResult result = reconcileRouted();
  EXPECT_NE(result.kind(), runtime::ReconcileResult::Kind::kError)
      << (result.kind() == runtime::ReconcileResult::Kind::kError ? result.errorValue().message()
                                                                  : "");

  EXPECT_FALSE(child());
  // The status relops applies has no routing (the fake merges an apply; the API server's
  // server-side apply drops the fields relops no longer sends).
  const auto patches = context_.fakeClient.actions("patch", kOnCallRotations);
  ASSERT_FALSE(patches.empty());
  const nlohmann::json applied = nlohmann::json::parse(patches.back().body);
  EXPECT_EQ(patches.back().subresource, "status");
  EXPECT_FALSE(applied["status"].contains("routing")) << applied.dump();
}

// Without AlertmanagerConfig: the same routing as an Alertmanager configuration fragment in a
// ConfigMap, cached as its digest like the SLO rules' ConfigMaps.
class OnCallConfigMapRoutingTest : public OnCallRoutingTest {
 protected:
  OnCallConfigMapRoutingTest()
      : fragmentRouted_(context_,
                        OnCallReconciler::Options{std::nullopt, RoutingOutput::kConfigMap}) {
    context_.setTransform(kube::resources::kConfigMaps, common::keepChildEssentials);
  }
  runtime::ReconcileResult reconcileFragment() {
    return fragmentRouted_.reconcile(kKey, runtime::discardLogger());
  }
  std::optional<nlohmann::json> configMap() const {
    return context_.fakeClient.object(kube::resources::kConfigMaps,
                                      {"team-a", "relops-oncall-payments"});
  }
  size_t configMapWrites() const {
    return context_.fakeClient.actions("patch", kube::resources::kConfigMaps).size();
  }
  OnCallReconciler fragmentRouted_;
};

TEST_F(OnCallConfigMapRoutingTest, WritesTheFragmentForWhoeverIsOnCallAndRewritesItAtTheHandoff) {
  addRotation(routedSpec());

  reconcileFragment();

  ASSERT_TRUE(configMap());
  EXPECT_FALSE(child());
  const std::string fragment = (*configMap())["data"]["payments.alertmanager.yaml"];
  EXPECT_THAT(fragment, HasSubstr("receiver: team-a/relops-oncall-payments/participant-alice"));
  EXPECT_EQ(status()["routing"]["configMap"], "relops-oncall-payments");
  EXPECT_FALSE(status()["routing"].contains("alertmanagerConfig"));
  const size_t writes = configMapWrites();
  context_.fakeClock.advance(std::chrono::hours(5));
  reconcileFragment();
  EXPECT_EQ(configMapWrites(), writes);  // idle: the cached digest says it is written

  context_.fakeClock.advance(std::chrono::hours(18));  // Tuesday 09:00: bob
  reconcileFragment();

  EXPECT_EQ(configMapWrites(), writes + 1);
  EXPECT_THAT(std::string((*configMap())["data"]["payments.alertmanager.yaml"]),
              HasSubstr("receiver: team-a/relops-oncall-payments/participant-bob"));
}

TEST_F(OnCallConfigMapRoutingTest, AReceiverWithoutAFileFormIsStalledAndWritesNothing) {
  nlohmann::json spec = routedSpec();
  spec["routing"]["fallback"] = nlohmann::json::parse(R"({"snsConfigs": [{
      "topicARN": "arn:aws:sns:eu-west-1:1:pages",
      "sigv4": {"accessKey": {"name": "aws", "key": "id"}}}]})");
  addRotation(spec);

  reconcileFragment();

  EXPECT_FALSE(configMap());
  bool notPortable = false;
  const nlohmann::json written = status();
  for (const auto& condition : written["conditions"]) {
    if (condition["type"] == "Stalled") {
      notPortable = condition["status"] == "True" && condition["reason"] == "ReceiverNotPortable";
      EXPECT_THAT(condition["message"].get<std::string>(), HasSubstr("snsConfigs"));
    }
  }
  EXPECT_TRUE(notPortable) << status().dump();
  EXPECT_THAT(context_.events.reasons(), ElementsAre("ReceiverNotPortable"));
}

TEST_F(OnCallConfigMapRoutingTest, RoutingRemovedFromTheSpecDeletesTheConfigMap) {
  addRotation(routedSpec());
  reconcileFragment();
  ASSERT_TRUE(configMap());

  nlohmann::json rotation = *context_.fakeClient.object(kOnCallRotations, kKey);
  rotation["spec"].erase("routing");
  ASSERT_TRUE(context_.fakeClient.update(kOnCallRotations, rotation).ok());
  reconcileFragment();

  EXPECT_FALSE(configMap());
}

// Records what would go to Alertmanager; fails while `down` is set.
class RecordingAlertmanager final : public AlertmanagerApi {
 public:
  base::Result<void> postAlerts(const nlohmann::json& alerts) override {
    if (down) return base::Error(base::ErrorKind::kTransient, "connection refused");
    posts.push_back(alerts);
    return {};
  }
  base::Result<std::vector<alertmanager::Silence>> listSilences(
      const std::vector<alertmanager::SilenceMatcher>&, size_t) override {
    return std::vector<alertmanager::Silence>{};
  }
  base::Result<std::string> createSilence(const alertmanager::Silence&) override {
    return base::Error(base::ErrorKind::kBadRequest, "rotations make no silences");
  }
  base::Result<void> expireSilence(const std::string&) override { return {}; }
  std::vector<nlohmann::json> posts;
  bool down = false;
};

class OnCallNoticeTest : public OnCallRoutingTest {
 protected:
  OnCallNoticeTest()
      : notifying_(context_,
                   OnCallReconciler::Options{std::nullopt, RoutingOutput::kAlertmanagerConfig,
                                             &alertmanager_}) {}
  runtime::ReconcileResult reconcileNotifying() {
    return notifying_.reconcile(kKey, runtime::discardLogger());
  }
  RecordingAlertmanager alertmanager_;
  OnCallReconciler notifying_;
};

TEST_F(OnCallNoticeTest, RequeuesAtTheLeadTimeAndPostsTheStartingNotice) {
  addRotation(routedSpec());  // 10:00 Monday: alice until Tuesday 09:00
  const runtime::ReconcileResult first = reconcileNotifying();
  EXPECT_TRUE(alertmanager_.posts.empty());
  ASSERT_EQ(first.kind(), runtime::ReconcileResult::Kind::kRequeueAfter);
  EXPECT_EQ(first.delay(), std::chrono::hours(14));  // local midnight comes first

  context_.fakeClock.advance(std::chrono::hours(14));
  const runtime::ReconcileResult midnight = reconcileNotifying();
  EXPECT_EQ(midnight.delay(), std::chrono::minutes(8 * 60 + 45));  // 08:45, the notice

  context_.fakeClock.advance(std::chrono::minutes(8 * 60 + 45));
  const runtime::ReconcileResult notice = reconcileNotifying();
  ASSERT_EQ(alertmanager_.posts.size(), 1U);
  EXPECT_EQ(alertmanager_.posts[0][0]["labels"]["alertname"], "OnCallShiftStarting");
  EXPECT_EQ(alertmanager_.posts[0][0]["labels"]["relops_notice_receiver"], "participant-bob");
  EXPECT_EQ(notice.delay(), std::chrono::minutes(15));  // the handoff
}

TEST_F(OnCallNoticeTest, AnUnreachableAlertmanagerIsRetriedAfterTheStatus) {
  addRotation(routedSpec());
  context_.fakeClock.advance(std::chrono::hours(22) + std::chrono::minutes(50));  // 08:50
  alertmanager_.down = true;

  EXPECT_EQ(reconcileNotifying().kind(), runtime::ReconcileResult::Kind::kError);
  EXPECT_EQ(status()["routing"]["receiver"], "participant-alice");

  alertmanager_.down = false;
  reconcileNotifying();
  ASSERT_EQ(alertmanager_.posts.size(), 1U);
}

}  // namespace
}  // namespace relops::oncall
