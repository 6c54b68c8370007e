#include "controllers/slo/rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controllers/common/object_trim.h"
#include "controllers/slo/rule_output.h"
#include "slo_builder.h"

namespace relops::slo {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::SloBuilder;

// factor = budgetPercent/100 × SLO window / long window (Sloth's GetSpeed*). The SRE
// Workbook's table (2% in 1h, 5% in 6h, 10% in 3d) gives 14.4, 6 and 1 for its 30-day
// month. The windows stay where the Workbook puts them — they set detection and reset
// time, which do not depend on the SLO period — so the factors scale with the SLO window:
// a 7d SLO has a quarter of the budget, so 2% of it goes in an hour at a quarter the rate.
TEST(BurnRateFactor, ScalesWithTheSloWindow) {
  struct Case {
    const char* window;
    std::vector<std::string> factors;  // page-fast, page-slow, ticket-fast, ticket-slow
  };
  const Case cases[] = {
      {"30d", {"14.4", "6", "3", "1"}},
      {"28d", {"13.44", "5.6", "2.8", "0.933333"}},
      {"4w", {"13.44", "5.6", "2.8", "0.933333"}},
      {"7d", {"3.36", "1.4", "0.7", "0.233333"}},
      {"90d", {"43.2", "18", "9", "3"}},
  };
  for (const Case& c : cases) {
    const auto slo = SloBuilder().window(c.window).build();
    std::vector<std::string> warnings;
    std::vector<std::string> factors;
    for (const AlertWindow& window : resolveAlertWindows(slo.spec, &warnings)) {
      factors.push_back(window.factorText);
    }
    EXPECT_EQ(factors, c.factors) << c.window;
    EXPECT_TRUE(warnings.empty()) << c.window;
  }
}

TEST(BurnRateFactor, IsExactForTheWorkbookTable) {
  const auto budget = *Percent::parse("2", "f");
  EXPECT_DOUBLE_EQ(
      burnRateFactor(budget, *Duration::parse("30d", "f"), *Duration::parse("1h", "f")), 14.4);
  EXPECT_DOUBLE_EQ(burnRateFactor(*Percent::parse("10", "f"), *Duration::parse("30d", "f"),
                                  *Duration::parse("3d", "f")),
                   1.0);
}

TEST(AlertWindows, LeavesOutRowsLongerThanTheSloWindow) {
  const auto slo = SloBuilder().window("2d").build();
  std::vector<std::string> warnings;
  const auto windows = resolveAlertWindows(slo.spec, &warnings);
  ASSERT_EQ(windows.size(), 3u);
  EXPECT_EQ(windows.back().row.name, "ticket-fast");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(
      warnings[0],
      HasSubstr("ticket-slow is left out: its long window 3d is longer than the SLO window 2d"));
}

TEST(AlertWindows, WarnsWhenAThresholdCanNeverBeReached) {
  // 90d at 97%: 43.2 × 0.03 = 1.296, an error ratio no service can exceed.
  const auto slo = SloBuilder().window("90d").objective("97").build();
  std::vector<std::string> warnings;
  resolveAlertWindows(slo.spec, &warnings);
  ASSERT_FALSE(warnings.empty());
  EXPECT_THAT(warnings[0], HasSubstr("page-fast can never fire"));
}

TEST(RecordedWindows, AreSortedAndDeduplicated) {
  const auto slo = SloBuilder().build();
  std::vector<std::string> names;
  for (const Duration& range : recordedWindows(resolveAlertWindows(slo.spec, nullptr))) {
    names.push_back(range.canonical());
  }
  EXPECT_THAT(names, ElementsAre("5m", "30m", "1h", "2h", "6h", "1d", "3d"));
}

TEST(ErrorRatioExpr, PerIndicator) {
  const Duration fiveMinutes = *Duration::parse("5m", "f");
  struct Case {
    const char* name;
    SloBuilder builder;
    const char* expr;
  };
  const Case cases[] = {
      {"ratio errors", SloBuilder().ratioErrors("errs_total{a=\"b\"}", "reqs_total{a=\"b\"}"),
       R"((sum(rate(errs_total{a="b"}[5m])) or 0 * sum(rate(reqs_total{a="b"}[5m]))) / sum(rate(reqs_total{a="b"}[5m])))"},
      {"ratio good grouped",
       SloBuilder().ratioGood("ok_total", "reqs_total").grouping({"route", "method"}),
       "1 - ((sum by (route, method) (rate(ok_total[5m])) or 0 * sum by (route, method) "
       "(rate(reqs_total[5m]))) / sum by (route, method) (rate(reqs_total[5m])))"},
      {"latency",
       SloBuilder().latency("d_seconds_bucket{job=\"x\"}", "0.25", "d_seconds_count{job=\"x\"}"),
       R"(1 - ((sum(rate(d_seconds_bucket{job="x",le="0.25"}[5m])) or 0 * sum(rate(d_seconds_count{job="x"}[5m]))) / sum(rate(d_seconds_count{job="x"}[5m]))))"},
      {"workload", SloBuilder().workload("Deployment", "web"), ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(errorRatioExpr(c.builder.build().spec, fiveMinutes), c.expr) << c.name;
  }
}

TEST(GenerateRules, RecordsEveryWindowThenAlertsThenAbsent) {
  const auto generated = generateRules(SloBuilder().build());
  ASSERT_TRUE(generated);
  ASSERT_EQ(generated->groups.size(), 1u);
  const RuleGroup& group = generated->groups[0];
  EXPECT_EQ(group.name, "relops-slo-shop-checkout");
  std::vector<std::string> names;
  for (const Rule& rule : group.rules)
    names.push_back(rule.record.empty() ? rule.alert : rule.record);
  EXPECT_THAT(names,
              ElementsAre("relops_slo:sli_error:ratio_rate5m", "relops_slo:sli_error:ratio_rate30m",
                          "relops_slo:sli_error:ratio_rate1h", "relops_slo:sli_error:ratio_rate2h",
                          "relops_slo:sli_error:ratio_rate6h", "relops_slo:sli_error:ratio_rate1d",
                          "relops_slo:sli_error:ratio_rate3d", "relops_slo:sli_error:ratio_rate4w",
                          "relops_slo:sli_total:increase4w", "SLOBurnRateHigh", "SLOBurnRateHigh",
                          "SLOBurnRateHigh", "SLOBurnRateHigh", "SLOMetricAbsent"));
  const Rule& pageFast = group.rules[9];
  EXPECT_EQ(
      pageFast.expr,
      R"(relops_slo:sli_error:ratio_rate1h{namespace="shop",slo="checkout"} > (13.44 * 0.001) and )"
      R"(relops_slo:sli_error:ratio_rate5m{namespace="shop",slo="checkout"} > (13.44 * 0.001))");
  EXPECT_EQ(pageFast.labels.at("severity"), "critical");
  EXPECT_EQ(pageFast.labels.at("long"), "1h");
  EXPECT_EQ(pageFast.labels.at("short"), "5m");
  EXPECT_EQ(pageFast.labels.at("service"), "checkout");
  EXPECT_FALSE(pageFast.forDuration);
  const Rule& absent = group.rules.back();
  EXPECT_EQ(absent.expr, R"(absent(http_requests_total{job="checkout"}))");
  EXPECT_EQ(absent.forDuration, "10m");
}

TEST(GenerateRules, RoutingLabelsAndAnnotations) {
  const auto generated = generateRules(SloBuilder()
                                           .onCall("payments-primary")
                                           .alerting("runbookURL", "https://runbooks.example/x")
                                           .alerting("labels", {{"team", "payments"}})
                                           .build());
  const Rule& alert = generated->groups[0].rules.back();
  // onCallRef resolves in the SLO's namespace: the label says which rotation, there.
  EXPECT_EQ(alert.labels.at("oncall_rotation"), "shop/payments-primary");
  EXPECT_EQ(alert.labels.at("team"), "payments");
  EXPECT_EQ(alert.annotations.at("runbook_url"), "https://runbooks.example/x");
  EXPECT_THAT(alert.annotations.at("summary"), HasSubstr("shop/checkout"));
}

TEST(GenerateRules, AlertingDisabledKeepsRecordings) {
  const auto generated = generateRules(SloBuilder().alerting("enabled", false).build());
  for (const Rule& rule : generated->groups[0].rules) EXPECT_TRUE(rule.alert.empty()) << rule.alert;
  EXPECT_EQ(generated->groups[0].rules.size(), 9u);
}

TEST(GenerateRules, EmptyAbsentForTurnsTheAbsentAlertOff) {
  const auto generated = generateRules(SloBuilder().alerting("absentFor", "").build());
  EXPECT_EQ(generated->groups[0].rules.back().alert, "SLOBurnRateHigh");
}

TEST(GenerateRules, WorkloadSloGeneratesNothing) {
  const auto generated = generateRules(SloBuilder().workload("StatefulSet", "db").build());
  ASSERT_TRUE(generated);
  EXPECT_TRUE(generated->groups.empty());
  EXPECT_TRUE(statusQueries(SloBuilder().workload("StatefulSet", "db").build()).errorRatio.empty());
}

TEST(GenerateRules, SloWindowEqualToAnAlertWindowIsRecordedOnce) {
  const auto generated = generateRules(SloBuilder().window("1d").build());
  int count = 0;
  for (const Rule& rule : generated->groups[0].rules)
    count += rule.record == "relops_slo:sli_error:ratio_rate1d";
  EXPECT_EQ(count, 1);
}

TEST(StatusQueries, ReadTheRecordedSeries) {
  const auto queries = statusQueries(SloBuilder().window("30d").build());
  EXPECT_EQ(queries.errorRatio,
            R"(relops_slo:sli_error:ratio_rate4w2d{namespace="shop",slo="checkout"})");
  EXPECT_EQ(queries.totalEvents,
            R"(relops_slo:sli_total:increase4w2d{namespace="shop",slo="checkout"})");
  EXPECT_EQ(queries.errorRatioByWindow.size(), 7u);
  EXPECT_EQ(queries.errorRatioByWindow.at("1h"),
            R"(relops_slo:sli_error:ratio_rate1h{namespace="shop",slo="checkout"})");
}

TEST(RuleOutput, PrometheusRuleIsOwnedByTheSlo) {
  const auto slo = SloBuilder().uid("1234").build();
  const auto object = prometheusRuleJson(slo, *generateRules(slo), {{{"role", "alert-rules"}}});
  ASSERT_TRUE(object);
  EXPECT_EQ((*object)["metadata"]["name"], "relops-slo-checkout");
  EXPECT_EQ((*object)["metadata"]["labels"]["role"], "alert-rules");
  EXPECT_EQ((*object)["metadata"]["ownerReferences"][0]["uid"], "1234");
  EXPECT_EQ((*object)["metadata"]["ownerReferences"][0]["kind"], "ServiceLevelObjective");
  const auto withoutUid =
      prometheusRuleJson(SloBuilder().build(), *generateRules(SloBuilder().build()));
  EXPECT_FALSE((*withoutUid)["metadata"].contains("ownerReferences"));
}

TEST(RuleOutput, ConfigMapHoldsTheRuleFile) {
  const auto slo = SloBuilder().build();
  const auto object = ruleConfigMapJson(slo, *generateRules(slo));
  ASSERT_TRUE(object);
  const std::string file = (*object)["data"]["checkout.rules.yaml"];
  EXPECT_THAT(file, HasSubstr("groups:\n  - name: relops-slo-shop-checkout\n"));
}

TEST(RuleOutput, IsDeterministic) {
  const auto slo = SloBuilder().onCall("x").alerting("labels", {{"b", "1"}, {"a", "2"}}).build();
  EXPECT_EQ(prometheusRuleJson(slo, *generateRules(slo))->dump(),
            prometheusRuleJson(slo, *generateRules(slo))->dump());
}

// Rule children are cached in a reduced form; "up to date" must still see every
// change relops would write, and nothing the API server adds.
TEST(ChildCache, KeepsIdentityAndADigestAndJudgesChangesAsTheFullObjectWould) {
  const auto slo = SloBuilder().uid("u-1").build();
  const GeneratedRules generated = *generateRules(slo);
  const nlohmann::json desired =
      nlohmann::json::parse(prometheusRuleJson(slo, generated, {{{"team", "a"}}})->dump());

  nlohmann::json live = desired;  // as the API server returns it
  live["metadata"]["resourceVersion"] = "42";
  live["metadata"]["uid"] = "child-uid";
  live["metadata"]["managedFields"] = nlohmann::json::array({{{"manager", "relops"}}});
  live["metadata"]["labels"]["added-by-someone"] = "x";
  live["metadata"]["annotations"] = {{"note", "kept out of the cache"}};
  nlohmann::json cached = live;
  common::keepChildEssentials(cached);
  EXPECT_FALSE(cached.contains("spec"));
  EXPECT_FALSE(cached["metadata"].contains("managedFields"));
  EXPECT_FALSE(cached["metadata"].contains("annotations"));
  EXPECT_EQ(cached["metadata"]["resourceVersion"], "42");
  EXPECT_EQ(cached["metadata"]["ownerReferences"], desired["metadata"]["ownerReferences"]);
  EXPECT_LT(cached.dump().size(), live.dump().size() / 4);
  EXPECT_TRUE(common::childUpToDate(&cached, desired));
  EXPECT_FALSE(common::childUpToDate(nullptr, desired));

  nlohmann::json ruleChanged = desired;  // e.g. the objective changed
  ruleChanged["spec"]["groups"][0]["rules"][0]["expr"] = "vector(1)";
  EXPECT_FALSE(common::childUpToDate(&cached, ruleChanged));

  nlohmann::json editedByHand = live;  // someone edited the child: relops puts it back
  editedByHand["spec"]["groups"][0]["rules"].erase(0);
  common::keepChildEssentials(editedByHand);
  EXPECT_FALSE(common::childUpToDate(&editedByHand, desired));

  nlohmann::json labelLost = live;
  labelLost["metadata"]["labels"].erase("team");
  common::keepChildEssentials(labelLost);
  EXPECT_FALSE(common::childUpToDate(&labelLost, desired));

  nlohmann::json ownerLost = live;
  ownerLost["metadata"].erase("ownerReferences");
  common::keepChildEssentials(ownerLost);
  EXPECT_FALSE(common::childUpToDate(&ownerLost, desired));

  const nlohmann::json configMap = nlohmann::json::parse(ruleConfigMapJson(slo, generated)->dump());
  nlohmann::json cachedConfigMap = configMap;
  common::keepChildEssentials(cachedConfigMap);
  EXPECT_FALSE(cachedConfigMap.contains("data"));
  EXPECT_TRUE(common::childUpToDate(&cachedConfigMap, configMap));
  EXPECT_FALSE(common::childUpToDate(&cachedConfigMap, desired));
}

// The reconciler applies the child as nlohmann::json; converting by value must give what
// parsing the ordered text gives, to the byte of the request body.
TEST(RuleOutput, ConvertsToJsonAsItsTextParses) {
  const auto slo = SloBuilder().uid("1234").grouping({"route"}).build();
  for (const auto& child : {prometheusRuleJson(slo, *generateRules(slo)),
                            ruleConfigMapJson(slo, *generateRules(slo))}) {
    ASSERT_TRUE(child);
    const nlohmann::json converted(*child);
    const nlohmann::json parsed = nlohmann::json::parse(child->dump());
    EXPECT_EQ(converted, parsed);
    EXPECT_EQ(converted.dump(), parsed.dump());
  }
}

}  // namespace
}  // namespace relops::slo
