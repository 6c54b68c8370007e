// The ServiceLevelObjective reconciler against the in-memory context and a Prometheus double:
// what it applies, writes, records and exports, and when it looks again. The rules' meaning
// and the numbers Prometheus computes are the e2e tests' (tests/e2e/test_slo_*.py).
#include "controllers/slo/slo_reconciler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "controllers/common/object_trim.h"
#include "controllers/common/rfc3339.h"
#include "controllers/slo/rule_output.h"
#include "controllers/slo/rules.h"
#include "operator/alertmanager/alertmanager_api.h"
#include "operator/runtime/log.h"
#include "tests/support/fake_context.h"
#include "tests/unit/controllers/slo/fake_prometheus.h"
#include "tests/unit/controllers/slo/slo_builder.h"

namespace relops::slo {
namespace {

using ::testing::ElementsAre;
using testing::FakePrometheus;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::SloBuilder;

const auto kStart = std::chrono::sys_days(std::chrono::March / 2 / 2026) + std::chrono::hours(10);

class SloReconcilerTest : public ::testing::Test {
 protected:
  SloReconcilerTest() : context_(kStart) {
    context_.fakeClient.enableStatusSubresource(kServiceLevelObjectives);
    // What SloReconciler::add() sets on the manager.
    context_.setTransform(kConfigMaps, common::keepChildEssentials);
    context_.setTransform(kDeployments, common::keepWorkloadEssentials);
  }

  // A reconciler writing ConfigMap rules; with Prometheus when `live`.
  SloReconciler& reconciler(bool live) {
    SloControllerOptions options;
    options.output = RuleOutput::kConfigMap;
    options.refreshInterval = std::chrono::seconds(60);
    if (live) options.prometheus = prometheus_;
    reconciler_ = std::make_unique<SloReconciler>(context_, std::move(options));
    return *reconciler_;
  }
  void addSlo(const nlohmann::json& object) {
    context_.fakeClient.add(kServiceLevelObjectives, object);
  }
  runtime::ReconcileResult reconcile() {
    return reconciler_->reconcile(kKey, runtime::discardLogger());
  }
  nlohmann::json status() const {
    return context_.fakeClient.object(kServiceLevelObjectives, kKey)
        ->value("status", nlohmann::json());
  }
  std::string condition(const std::string& type, const std::string& field = "status") const {
    const nlohmann::json written = status();
    for (const auto& condition : written.value("conditions", nlohmann::json::array())) {
      if (condition["type"] == type) return condition.value(field, "");
    }
    return "";
  }
  size_t writes() const {
    return context_.fakeClient.actions("patch").size() +
           context_.fakeClient.actions("create").size();
  }

  const kube::ObjectKey kKey{"shop", "checkout"};
  relops::testing::FakeContext context_;
  std::shared_ptr<FakePrometheus> prometheus_ = std::make_shared<FakePrometheus>();
  std::unique_ptr<SloReconciler> reconciler_;
};

TEST_F(SloReconcilerTest, RulesOnlyAppliesTheRuleFileAndIsDone) {
  reconciler(false);
  addSlo(SloBuilder().window("30d").json());

  const runtime::ReconcileResult result = reconcile();

  EXPECT_EQ(result.kind(), runtime::ReconcileResult::Kind::kDone);
  const auto ruleFiles = context_.fakeClient.objects(kConfigMaps, "shop");
  ASSERT_EQ(ruleFiles.size(), 1u);
  EXPECT_EQ(ruleFiles[0]["metadata"]["ownerReferences"][0]["name"], "checkout");
  EXPECT_EQ(condition("Ready"), "True");
  EXPECT_THAT(condition("Ready", "message"), HasSubstr("ConfigMap"));
}

TEST_F(SloReconcilerTest, ASecondPassWithNothingChangedWritesNothing) {
  reconciler(false);
  addSlo(SloBuilder().window("30d").json());
  reconcile();
  const size_t before = writes();
  context_.fakeClock.advance(std::chrono::minutes(3));

  reconcile();

  EXPECT_EQ(writes(), before);
  EXPECT_THAT(context_.events.reasons(), IsEmpty());
}

// The pass an owned child's event starts, before the cache shows the first pass's writes:
// it decides the same rule file and the same status from the same versions, and sends
// neither again (nor the Events of a transition already announced).
TEST_F(SloReconcilerTest, APassBeforeTheCacheShowsItsWritesWritesNothingAgain) {
  reconciler(false);
  addSlo(SloBuilder().window("30d").json());
  context_.holdCache();
  reconcile();
  const size_t before = writes();
  const size_t events = context_.events.reasons().size();
  ASSERT_EQ(before, 2u);  // the rule file and the status

  reconcile();

  EXPECT_EQ(writes(), before);
  EXPECT_EQ(context_.events.reasons().size(), events);
  // Once the cache shows the writes, a change is written again as usual.
  context_.releaseCache();
  ASSERT_TRUE(context_.fakeClient
                  .patch(kServiceLevelObjectives, kKey, kube::PatchType::kMerge,
                         R"({"spec":{"window":"7d"}})")
                  .ok());
  const size_t afterChange = writes();
  reconcile();
  EXPECT_EQ(writes(), afterChange + 2);  // the new rule file and the new status
}

TEST_F(SloReconcilerTest, LiveNumbersGoToStatusAndTheNextRefreshIsWithinTheInterval) {
  reconciler(true);
  addSlo(SloBuilder().window("30d").json());
  prometheus_->answer([](const std::string& expr) -> base::Result<std::vector<PromSample>> {
    if (expr.find("__name__=~") == std::string::npos) return std::vector<PromSample>{};
    const auto at = std::chrono::system_clock::time_point(kStart);
    const std::map<std::string, std::string> labels = {{"namespace", "shop"}, {"slo", "checkout"}};
    auto named = [&](const std::string& name) {
      auto result = labels;
      result["__name__"] = name;
      return result;
    };
    // Half of a 99.9% budget spent over the window.
    return std::vector<PromSample>{{named("relops_slo:sli_error:ratio_rate4w2d"), 0.0005, at},
                                   {named("relops_slo:sli_total:increase4w2d"), 1e6, at}};
  });

  const runtime::ReconcileResult result = reconcile();

  ASSERT_EQ(result.kind(), runtime::ReconcileResult::Kind::kRequeueAfter);
  EXPECT_GT(result.delay(), std::chrono::seconds(0));
  EXPECT_LE(result.delay(), std::chrono::seconds(60));
  EXPECT_EQ(status()["errorBudget"]["remaining"], "50");
  // One validation of the SLO's own expression, then the one combined status query.
  ASSERT_EQ(prometheus_->queries().size(), 2u);
  EXPECT_EQ(prometheus_->queries()[1],
            statusQueries(*parseSlo(SloBuilder().window("30d").json())).combined);
  const std::string metrics = context_.metrics.exposition();
  EXPECT_THAT(metrics, HasSubstr("relops_slo_error_budget_remaining"));
}

TEST_F(SloReconcilerTest, ACalendarPeriodIsAskedByItsRangeAndAnEndedOneReadAtItsEnd) {
  reconciler(true);
  addSlo(SloBuilder().window("month").json());
  prometheus_->answer([](const std::string& expr) -> base::Result<std::vector<PromSample>> {
    if (expr.find("__name__=~") != std::string::npos) return std::vector<PromSample>{};
    const double value = expr.find("increase(") != std::string::npos ? 1e6 : 0.0005;
    return std::vector<PromSample>{{{}, value, std::chrono::system_clock::time_point(kStart)}};
  });
  // A pass on 2 March; then it is 1 April, 10:00 UTC.
  reconcile();
  EXPECT_EQ(status()["period"]["label"], "2026-03");
  context_.fakeClock.advance(std::chrono::days(30));
  const size_t before = prometheus_->queries().size();

  const runtime::ReconcileResult result = reconcile();

  ASSERT_EQ(result.kind(), runtime::ReconcileResult::Kind::kRequeueAfter);
  EXPECT_LE(result.delay(), std::chrono::seconds(60));
  const std::vector<std::string> all = prometheus_->queries();
  const std::vector<std::string> queries(all.begin() + static_cast<std::ptrdiff_t>(before),
                                         all.end());
  // The burn-rate series, April's two range queries (10h since 1 April), March's two at its
  // end (31 days, 1 April 00:00 UTC).
  ASSERT_EQ(queries.size(), 5u);
  using ::testing::AllOf;
  using ::testing::Contains;
  EXPECT_THAT(queries, Contains(AllOf(HasSubstr("sum(rate("), HasSubstr("[10h]"))));
  EXPECT_THAT(queries, Contains(AllOf(HasSubstr("sum(increase("), HasSubstr("[10h]"))));
  EXPECT_THAT(queries, Contains(AllOf(HasSubstr("sum(rate("), HasSubstr("[4w3d]"),
                                      ::testing::EndsWith(" @1775001600"))));
  EXPECT_THAT(queries, Contains(AllOf(HasSubstr("sum(increase("), HasSubstr("[4w3d]"),
                                      ::testing::EndsWith(" @1775001600"))));
  EXPECT_EQ(status()["period"]["label"], "2026-04");
  ASSERT_EQ(status()["periodHistory"].size(), 1u);
  EXPECT_EQ(status()["periodHistory"][0]["result"], "Met");
  EXPECT_EQ(status()["periodHistory"][0]["budgetConsumed"], "50");
  EXPECT_THAT(context_.events.reasons(), ElementsAre("PeriodClosed"));
  const std::string metrics = context_.metrics.exposition();
  EXPECT_THAT(
      metrics,
      HasSubstr("relops_slo_period_budget_remaining{name=\"checkout\",namespace=\"shop\"} 0.5"));
  EXPECT_THAT(metrics,
              HasSubstr("relops_slo_objective{name=\"checkout\",namespace=\"shop\"} 0.999"));

  // Closed once: the next pass asks only for the month so far.
  reconcile();
  EXPECT_EQ(prometheus_->queries().size(), before + 5u + 3u);
  EXPECT_EQ(status()["periodHistory"].size(), 1u);
  EXPECT_THAT(context_.events.reasons(), ElementsAre("PeriodClosed"));
}

TEST_F(SloReconcilerTest, AnExpressionPrometheusRejectsStallsWithoutAskingAgain) {
  reconciler(true);
  addSlo(SloBuilder().window("30d").json());
  prometheus_->answer([](const std::string&) -> base::Result<std::vector<PromSample>> {
    return base::Error(base::ErrorKind::kBadRequest, "parse error: unexpected character");
  });

  const runtime::ReconcileResult result = reconcile();
  reconcile();

  EXPECT_EQ(result.kind(), runtime::ReconcileResult::Kind::kDone);
  EXPECT_EQ(condition("Ready", "reason"), "InvalidQuery");
  EXPECT_THAT(condition("Ready", "message"), HasSubstr("unexpected character"));
  EXPECT_EQ(prometheus_->queries().size(), 1u);  // once per generation
}

TEST_F(SloReconcilerTest, AWorkloadSloCountsMinutesAndLooksAgainAfterTheMinute) {
  reconciler(false);
  addSlo(SloBuilder().window("7d").workload("Deployment", "web").json());
  context_.fakeClient.add(
      kDeployments,
      {{"apiVersion", "apps/v1"},
       {"kind", "Deployment"},
       {"metadata", {{"name", "web"}, {"namespace", "shop"}}},
       {"status",
        {{"conditions", {{{"type", "Available"}, {"status", "True"}}}}, {"readyReplicas", 1}}}});

  const runtime::ReconcileResult result = reconcile();

  ASSERT_EQ(result.kind(), runtime::ReconcileResult::Kind::kRequeueAfter);
  EXPECT_EQ(result.delay(), std::chrono::minutes(1) + std::chrono::seconds(1));
  EXPECT_TRUE(status().contains("workload")) << status().dump();
}

TEST_F(SloReconcilerTest, ASpecRelopsCannotUseIsStalledWithOneEvent) {
  reconciler(false);
  addSlo(SloBuilder().window("30d").objective("100").json());

  const runtime::ReconcileResult result = reconcile();

  EXPECT_EQ(result.kind(), runtime::ReconcileResult::Kind::kDone);
  EXPECT_EQ(condition("Stalled"), "True");
  EXPECT_THAT(context_.events.reasons(), ElementsAre("InvalidSpec"));
  EXPECT_THAT(context_.fakeClient.objects(kConfigMaps, "shop"), IsEmpty());
}

TEST_F(SloReconcilerTest, ADeletedSloForgetsItsSeries) {
  reconciler(false);
  EXPECT_EQ(reconcile().kind(), runtime::ReconcileResult::Kind::kDone);
  EXPECT_THAT(context_.fakeClient.actions("patch"), IsEmpty());
}

}  // namespace
}  // namespace relops::slo

namespace relops::slo {
namespace {

// Alertmanager's silences in memory, with its filter (equality matchers of the silence).
class FakeAlertmanager final : public alertmanager::AlertmanagerApi {
 public:
  base::Result<void> postAlerts(const nlohmann::json&) override { return {}; }
  base::Result<std::vector<alertmanager::Silence>> listSilences(
      const std::vector<alertmanager::SilenceMatcher>& filter, size_t limit) override {
    ++lists;
    std::vector<alertmanager::Silence> found;
    for (const alertmanager::Silence& silence : silences) {
      bool all = true;
      for (const auto& wanted : filter) {
        all = all && std::find(silence.matchers.begin(), silence.matchers.end(), wanted) !=
                         silence.matchers.end();
      }
      if (all && found.size() < limit) found.push_back(silence);
    }
    return found;
  }
  base::Result<std::string> createSilence(const alertmanager::Silence& silence) override {
    alertmanager::Silence made = silence;
    made.id = "s" + std::to_string(silences.size() + 1);
    made.state = "pending";
    silences.push_back(made);
    return made.id;
  }
  base::Result<void> expireSilence(const std::string& id) override {
    for (alertmanager::Silence& silence : silences) {
      if (silence.id == id) silence.state = "expired";
    }
    return {};
  }
  std::vector<alertmanager::Silence> live() const {
    std::vector<alertmanager::Silence> result;
    for (const auto& silence : silences) {
      if (silence.state != "expired") result.push_back(silence);
    }
    return result;
  }
  std::vector<alertmanager::Silence> silences;
  int lists = 0;
};

class SloMaintenanceTest : public SloReconcilerTest {
 protected:
  SloReconciler& maintenanceReconciler() {
    SloControllerOptions options;
    options.output = RuleOutput::kConfigMap;
    options.maintenanceWindows = true;
    options.alertmanager = &alertmanager_;
    reconciler_ = std::make_unique<SloReconciler>(context_, std::move(options));
    return *reconciler_;
  }
  void addWindow(const std::string& name, std::chrono::sys_seconds start,
                 std::chrono::sys_seconds end) {
    context_.fakeClient.add(kSloChangeWindows,
                            {{"apiVersion", "relops.dev/v1alpha1"},
                             {"kind", "ChangeWindow"},
                             {"metadata", {{"name", name}, {"namespace", "shop"}}},
                             {"spec",
                              {{"type", "Maintenance"},
                               {"start", common::formatRfc3339(start)},
                               {"end", common::formatRfc3339(end)},
                               {"reason", "upgrade"},
                               {"sloSelector", {{"matchLabels", {{"tier", "db"}}}}}}}});
  }
  static nlohmann::json labelled(nlohmann::json slo) {
    slo["metadata"]["labels"] = {{"tier", "db"}};
    return slo;
  }
  const std::chrono::sys_seconds kNow = std::chrono::floor<std::chrono::seconds>(kStart);
  FakeAlertmanager alertmanager_;
};

TEST_F(SloMaintenanceTest, AnUpcomingWindowIsSilencedAheadWithItsBoundsOnceAcrossRestarts) {
  maintenanceReconciler();
  addSlo(labelled(SloBuilder().window("30d").json()));
  addWindow("db", kNow + std::chrono::minutes(30), kNow + std::chrono::minutes(60));

  const runtime::ReconcileResult result = reconcile();

  ASSERT_EQ(alertmanager_.live().size(), 1u);
  const alertmanager::Silence silence = alertmanager_.live()[0];  // a copy: live() is a temporary
  EXPECT_EQ(silence.startsAt, kNow + std::chrono::minutes(30));
  EXPECT_EQ(silence.endsAt, kNow + std::chrono::minutes(60));
  EXPECT_EQ(silence.createdBy, "relops");
  EXPECT_THAT(silence.comment, HasSubstr("ChangeWindow shop/db: upgrade"));
  EXPECT_EQ(silence.matchers, (std::vector<alertmanager::SilenceMatcher>{
                                  {"namespace", "shop", false, true},
                                  {"slo", "checkout", false, true},
                                  {"alertname", "SLOBurnRateHigh|SLOMetricAbsent", true, true}}));
  // Status shows the window and the silence.
  EXPECT_EQ(status()["maintenance"],
            (nlohmann::json{{"active", false}, {"windows", {"db"}}, {"silenceIDs", {"s1"}}}))
      << status().dump();
  // Looked at again at the start.
  ASSERT_EQ(result.kind(), runtime::ReconcileResult::Kind::kRequeueAfter);
  EXPECT_EQ(result.delay(), std::chrono::minutes(30));

  maintenanceReconciler();  // a restart: the silence is found, not made twice
  reconcile();
  EXPECT_EQ(alertmanager_.silences.size(), 1u);
}

TEST_F(SloMaintenanceTest, AWindowDeletedOrNotSelectingExpiresItsSilence) {
  maintenanceReconciler();
  addSlo(labelled(SloBuilder().window("30d").json()));
  addWindow("db", kNow + std::chrono::minutes(5), kNow + std::chrono::minutes(60));
  reconcile();
  ASSERT_EQ(alertmanager_.live().size(), 1u);

  ASSERT_TRUE(context_.fakeClient.remove(kSloChangeWindows, {"shop", "db"}).ok());
  reconcile();
  EXPECT_THAT(alertmanager_.live(), IsEmpty());
  // Nothing left to do: the next passes do not list Alertmanager again.
  const int lists = alertmanager_.lists;
  reconcile();
  EXPECT_EQ(alertmanager_.lists, lists);
}

TEST_F(SloMaintenanceTest, AFarWindowIsNotSilencedYetAndAnUnselectedSloNever) {
  maintenanceReconciler();
  addSlo(SloBuilder().window("30d").json());  // no tier=db label
  addWindow("db", kNow + std::chrono::minutes(5), kNow + std::chrono::minutes(60));
  reconcile();
  EXPECT_THAT(alertmanager_.silences, IsEmpty());
}

TEST_F(SloMaintenanceTest, ExcludedMinutesAreUnknownNotBad) {
  maintenanceReconciler();
  nlohmann::json slo = labelled(SloBuilder().window("7d").workload("Deployment", "web").json());
  slo["spec"]["maintenance"] = {{"excludeFromBudget", true}};
  addSlo(slo);
  // No Deployment: every minute is bad, except the window's.
  addWindow("db", kNow, kNow + std::chrono::minutes(2));
  reconcile();
  for (int minute = 1; minute <= 3; ++minute) {
    context_.fakeClock.advance(std::chrono::minutes(1));
    reconcile();
  }
  const nlohmann::json workload = status()["workload"];
  EXPECT_EQ(workload.value("unknownMinutes", -1), 2) << workload.dump();
  EXPECT_EQ(workload.value("badMinutes", -1), 1) << workload.dump();
}

}  // namespace
}  // namespace relops::slo
