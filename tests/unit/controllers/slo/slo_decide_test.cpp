// Table tests of decideSlo: conditions, Events on transitions only, rounding that keeps a
// steady SLO from being written, no data, invalid queries and workload ledgers.
#include "controllers/slo/slo_decide.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "controllers/slo/prometheus.h"
#include "slo_builder.h"

namespace relops::slo {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;
using testing::SloBuilder;

const TimePoint kNow =
    std::chrono::sys_days(std::chrono::year(2026) / 3 / 1) + std::chrono::hours(12);

std::string condition(const json& status, const std::string& type, const std::string& field) {
  for (const json& c : status.value("conditions", json::array())) {
    if (c.value("type", "") == type) return c.value(field, "");
  }
  return "";
}

Duration minutes(int count) { return Duration::fromSeconds(std::chrono::minutes(count)); }
Duration hours(int count) { return Duration::fromSeconds(std::chrono::hours(count)); }

SloObserved prometheusObserved(double errorRatio, double total,
                               std::vector<std::pair<Duration, double>> windows = {}) {
  SloObserved observed;
  observed.generation = 2;
  observed.rulesTarget = "ConfigMap shop/relops-slo-checkout";
  observed.prometheusConfigured = true;
  PrometheusReading reading;
  reading.errorRatio = errorRatio;
  reading.totalEvents = total;
  reading.errorRatios = std::move(windows);
  reading.evaluatedAt = kNow - std::chrono::seconds(20);
  observed.prometheus = reading;
  return observed;
}

TEST(SloDecide, BudgetFromPrometheusIsRoundedAndReady) {
  const auto slo = SloBuilder().objective("99.9").window("28d").build();
  const SloDecision decision = decideSlo(slo, prometheusObserved(0.0004, 1e6), kNow);
  EXPECT_EQ(decision.status["sli"], "99.96");
  EXPECT_EQ(decision.status["errorBudget"]["remaining"], "60");
  EXPECT_EQ(decision.status["errorBudget"]["consumed"], "40");
  EXPECT_EQ(decision.status["evaluationTime"], "2026-03-01T11:59:40Z");
  EXPECT_EQ(condition(decision.status, "Ready", "status"), "True");
  EXPECT_EQ(condition(decision.status, "Ready", "reason"), "BudgetEvaluated");
  EXPECT_EQ(condition(decision.status, "BudgetExhausted", "status"), "False");
  EXPECT_TRUE(decision.statusChanged);
  EXPECT_THAT(decision.events, IsEmpty());
  ASSERT_TRUE(decision.budget);
  EXPECT_NEAR(decision.budget->remaining, 0.6, 1e-9);
}

TEST(SloDecide, SteadyNumbersDoNotCauseAWrite) {
  const auto slo = SloBuilder().objective("99.9").window("28d").build();
  const SloDecision first = decideSlo(slo, prometheusObserved(0.0004, 1e6), kNow);
  // A minute later Prometheus has moved in the fourth decimal of the budget only.
  SloObserved later = prometheusObserved(0.000400001, 1.0001e6);
  later.status = first.status;
  later.prometheus->evaluatedAt = kNow + std::chrono::seconds(40);
  const SloDecision second = decideSlo(slo, later, kNow + std::chrono::minutes(1));
  EXPECT_FALSE(second.statusChanged);
  EXPECT_EQ(second.status["evaluationTime"], first.status["evaluationTime"]);
}

TEST(SloDecide, ExhaustionAndRecoveryAreEventsOnceEach) {
  const auto slo = SloBuilder().objective("99.9").window("28d").build();
  const SloDecision healthy = decideSlo(slo, prometheusObserved(0.0005, 1e6), kNow);
  SloObserved spent = prometheusObserved(0.0015, 1e6);
  spent.status = healthy.status;
  const SloDecision exhausted = decideSlo(slo, spent, kNow + std::chrono::minutes(1));
  EXPECT_EQ(exhausted.status["errorBudget"]["remaining"], "-50");
  EXPECT_EQ(condition(exhausted.status, "BudgetExhausted", "status"), "True");
  EXPECT_THAT(exhausted.events, ElementsAre(Field(&SloEvent::reason, "BudgetExhausted")));

  SloObserved stillSpent = prometheusObserved(0.0016, 1e6);
  stillSpent.status = exhausted.status;
  EXPECT_THAT(decideSlo(slo, stillSpent, kNow + std::chrono::minutes(2)).events, IsEmpty());

  SloObserved recovered = prometheusObserved(0.0002, 1e6);
  recovered.status = exhausted.status;
  const SloDecision back = decideSlo(slo, recovered, kNow + std::chrono::minutes(3));
  EXPECT_THAT(back.events, ElementsAre(Field(&SloEvent::reason, "BudgetRecovered")));
}

TEST(SloDecide, BurnRateHighNeedsTheLongAndTheShortWindow) {
  const auto slo = SloBuilder().objective("99.9").window("28d").build();
  // 28d page row: 13.44x over 1h and 5m, threshold 0.01344.
  const SloDecision burning = decideSlo(
      slo, prometheusObserved(0.0005, 1e6, {{minutes(5), 0.02}, {hours(1), 0.015}}), kNow);
  EXPECT_EQ(condition(burning.status, "BurnRateHigh", "status"), "True");
  EXPECT_THAT(burning.events, ElementsAre(Field(&SloEvent::reason, "BurnRateHigh")));
  EXPECT_EQ(burning.status["burnRates"][0]["window"], "5m");
  EXPECT_EQ(burning.status["burnRates"][0]["rate"], "20");

  const SloDecision onlyShort = decideSlo(
      slo, prometheusObserved(0.0005, 1e6, {{minutes(5), 0.02}, {hours(1), 0.001}}), kNow);
  EXPECT_EQ(condition(onlyShort.status, "BurnRateHigh", "status"), "False");
}

TEST(SloDecide, ZeroTrafficIsNoDataWaitingThenStalled) {
  const auto slo = SloBuilder().build();
  const SloDecision waiting = decideSlo(slo, prometheusObserved(0, 0), kNow);
  EXPECT_EQ(condition(waiting.status, "Ready", "status"), "Unknown");
  EXPECT_EQ(condition(waiting.status, "Reconciling", "reason"), "WaitingForData");
  EXPECT_FALSE(waiting.budget);

  SloObserved later = prometheusObserved(0, 0);
  later.status = waiting.status;
  later.noDataGrace = std::chrono::minutes(10);
  EXPECT_EQ(
      condition(decideSlo(slo, later, kNow + std::chrono::minutes(5)).status, "Stalled", "status"),
      "");
  const SloDecision stalled = decideSlo(slo, later, kNow + std::chrono::minutes(11));
  EXPECT_EQ(condition(stalled.status, "Stalled", "reason"), "NoData");
  EXPECT_THAT(stalled.events, ElementsAre(Field(&SloEvent::reason, "NoData")));

  // Still no data: stays stalled, no second Event.
  SloObserved again = prometheusObserved(0, 0);
  again.status = stalled.status;
  const SloDecision still = decideSlo(slo, again, kNow + std::chrono::minutes(12));
  EXPECT_EQ(condition(still.status, "Stalled", "reason"), "NoData");
  EXPECT_THAT(still.events, IsEmpty());
  EXPECT_FALSE(still.statusChanged);
}

TEST(SloDecide, InvalidQueryStallsWithPrometheussMessage) {
  const auto slo = SloBuilder().build();
  SloObserved observed = prometheusObserved(0, 0);
  observed.invalidQuery = "the server answered HTTP 400: invalid regular expression";
  const SloDecision decision = decideSlo(slo, observed, kNow);
  EXPECT_EQ(condition(decision.status, "Stalled", "reason"), "InvalidQuery");
  EXPECT_THAT(condition(decision.status, "Stalled", "message"),
              ::testing::HasSubstr("invalid regular expression"));
  EXPECT_EQ(condition(decision.status, "Ready", "status"), "False");
}

TEST(SloDecide, UnreachablePrometheusIsRetryingNotStalled) {
  const auto slo = SloBuilder().build();
  SloObserved observed = prometheusObserved(0, 0);
  observed.prometheus->unavailable = "connection refused";
  const SloDecision decision = decideSlo(slo, observed, kNow);
  EXPECT_EQ(condition(decision.status, "Ready", "reason"), "PrometheusUnavailable");
  EXPECT_EQ(condition(decision.status, "Stalled", "status"), "");
}

TEST(SloDecide, RulesOnlyWithoutPrometheus) {
  const auto slo = SloBuilder().build();
  SloObserved observed;
  observed.generation = 1;
  observed.rulesTarget = "PrometheusRule shop/relops-slo-checkout";
  const SloDecision decision = decideSlo(slo, observed, kNow);
  EXPECT_EQ(condition(decision.status, "Ready", "reason"), "RulesApplied");
  EXPECT_EQ(decision.status["observedGeneration"], 1);
  EXPECT_FALSE(decision.status.contains("sli"));
}

TEST(SloDecide, RulesThatCannotAlertAreAWarningOnce) {
  const auto slo = SloBuilder().build();
  const std::string warning = "burn-rate alert page-fast can never fire: its threshold 14.4 x 0.1";
  for (SloObserved observed : {prometheusObserved(0.0004, 1e6), SloObserved{}}) {
    observed.generation = 3;
    observed.rulesTarget = "PrometheusRule shop/relops-slo-checkout";
    observed.ruleWarnings = {warning};
    const SloDecision first = decideSlo(slo, observed, kNow);
    EXPECT_EQ(condition(first.status, "Ready", "status"), "True");
    EXPECT_THAT(condition(first.status, "Ready", "message"), ::testing::HasSubstr(warning));
    const auto warned = std::count_if(first.events.begin(), first.events.end(), [](auto& e) {
      return e.type == "Warning" && e.reason == "IneffectiveAlerts";
    });
    EXPECT_EQ(warned, 1);

    observed.status = first.status;  // the next reconcile, or after a restart
    const SloDecision again = decideSlo(slo, observed, kNow + std::chrono::minutes(1));
    for (const auto& event : again.events) EXPECT_NE(event.reason, "IneffectiveAlerts");
  }
}

TEST(SloDecide, WorkloadLedgerIsWrittenWithItsNumbersOrOnAStateChange) {
  const auto slo = SloBuilder().objective("90").window("1h").workload("Deployment", "cart").build();
  auto observed = [](int good, int bad, SliceState state) {
    SloObserved o;
    o.generation = 1;
    WorkloadReading reading;
    reading.reference = "Deployment/cart";
    reading.state = state;
    reading.totals = {good, bad, 0};
    reading.ledger.goodMinutes = good;
    reading.ledger.badMinutes = bad;
    reading.ledger.lastObservedState = std::string(toString(state));
    reading.ledger.lastObservedTime = formatRfc3339(kNow);
    o.workload = reading;
    return o;
  };
  const SloDecision first = decideSlo(slo, observed(30, 3, SliceState::kGood), kNow);
  // Budget: 10% of 60 minutes = 6; 3 bad minutes spent half of it.
  EXPECT_EQ(first.status["errorBudget"]["remaining"], "50");
  EXPECT_EQ(first.status["workload"]["badMinutes"], 3);
  EXPECT_TRUE(first.statusChanged);

  // One more good minute: SLI 31/34 rounds differently, so it is written.
  SloObserved next = observed(31, 3, SliceState::kGood);
  next.status = first.status;
  EXPECT_TRUE(decideSlo(slo, next, kNow + std::chrono::minutes(1)).statusChanged);

  // Nothing shown changes (a window full of good minutes): no write.
  const auto steady =
      SloBuilder().objective("90").window("1h").workload("Deployment", "cart").build();
  SloObserved full = observed(60, 0, SliceState::kGood);
  const SloDecision fullFirst = decideSlo(steady, full, kNow);
  SloObserved fullLater = observed(60, 0, SliceState::kGood);
  fullLater.status = fullFirst.status;
  fullLater.workload->ledger.lastObservedTime = formatRfc3339(kNow + std::chrono::minutes(1));
  EXPECT_FALSE(decideSlo(steady, fullLater, kNow + std::chrono::minutes(1)).statusChanged);

  // relops restarted after a gap it did not observe: unknown minutes move no number, but
  // the gap is shown at once.
  SloObserved gap = observed(60, 0, SliceState::kGood);
  gap.status = fullFirst.status;
  gap.workload->totals.unknown = 30;
  gap.workload->ledger.unknownMinutes = 30;
  const SloDecision gapDecision = decideSlo(steady, gap, kNow + std::chrono::minutes(31));
  EXPECT_TRUE(gapDecision.statusChanged);
  EXPECT_EQ(gapDecision.status["workload"]["unknownMinutes"], 30);

  // The workload goes bad: written even before the numbers move.
  SloObserved turned = observed(60, 0, SliceState::kBad);
  turned.status = fullFirst.status;
  EXPECT_TRUE(decideSlo(steady, turned, kNow + std::chrono::minutes(1)).statusChanged);
}

// A ledger without a good or bad minute (a recreated SLO, a window of unknown time) is no
// data: the budget last shown is removed rather than kept or read as full, so a policy
// keeps its freeze (budgetRuleHolds on no data).
TEST(SloDecide, WorkloadLedgerWithoutMinutesIsNoData) {
  const auto slo = SloBuilder().objective("90").window("1h").workload("Deployment", "cart").build();
  struct Case {
    const char* name;
    json status;
    SliceTotals totals;
    bool changed;
  };
  const json shown = {{"sli", "40"}, {"errorBudget", {{"remaining", "-500"}, {"consumed", "600"}}}};
  const std::vector<Case> cases = {
      {"recreated, never written", json(), {0, 0, 0}, true},
      {"numbers shown, ledger all unknown", shown, {0, 0, 45}, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    SloObserved observed;
    observed.generation = 1;
    observed.status = c.status;
    WorkloadReading reading;
    reading.reference = "Deployment/cart";
    reading.state = SliceState::kBad;
    reading.totals = c.totals;
    reading.ledger.unknownMinutes = c.totals.unknown;
    reading.ledger.lastObservedState = "Bad";
    reading.ledger.lastObservedTime = formatRfc3339(kNow);
    observed.workload = reading;
    const SloDecision decision = decideSlo(slo, observed, kNow);
    EXPECT_FALSE(decision.budget);
    EXPECT_FALSE(decision.status.contains("errorBudget"));
    EXPECT_FALSE(decision.status.contains("sli"));
    EXPECT_EQ(decision.statusChanged, c.changed);
    EXPECT_EQ(condition(decision.status, "Reconciling", "reason"), "WaitingForData");
  }
}

TEST(SloDecide, MissingWorkloadIsStalledAndCountsBadTime) {
  const auto slo = SloBuilder().objective("90").window("1h").workload("Deployment", "gone").build();
  SloObserved observed;
  observed.generation = 1;
  WorkloadReading reading;
  reading.reference = "Deployment/gone";
  reading.found = false;
  reading.state = SliceState::kBad;
  reading.totals = {0, 2, 0};
  observed.workload = reading;
  const SloDecision decision = decideSlo(slo, observed, kNow);
  EXPECT_EQ(condition(decision.status, "Stalled", "reason"), "WorkloadNotFound");
  EXPECT_EQ(decision.status["errorBudget"]["remaining"], "66.7");
}

TEST(PrometheusResponse, VectorScalarAndErrors) {
  const json vector = json::parse(R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{"__name__":"relops_slo:sli_error:ratio_rate5m","slo":"a"},"value":[1767225600.5,"0.25"]},
      {"metric":{},"value":[1767225600,"NaN"]}]}})");
  auto samples = parseQueryResponse(vector);
  ASSERT_TRUE(samples.ok()) << samples.error().message();
  ASSERT_EQ(samples->size(), 2u);
  EXPECT_EQ((*samples)[0].labels.at("slo"), "a");
  EXPECT_DOUBLE_EQ((*samples)[0].value, 0.25);
  EXPECT_TRUE(std::isnan((*samples)[1].value));

  auto scalar = parseQueryResponse(
      json::parse(R"({"status":"success","data":{"resultType":"scalar","result":[1,"3"]}})"));
  ASSERT_TRUE(scalar.ok());
  EXPECT_DOUBLE_EQ((*scalar)[0].value, 3);

  auto matrix = parseQueryResponse(
      json::parse(R"({"status":"success","data":{"resultType":"matrix","result":[]}})"));
  EXPECT_FALSE(matrix.ok());
  auto bad = parseQueryResponse(json::parse(R"({"status":"success","data":{"resultType":"vector",
      "result":[{"metric":{},"value":[1,"x"]}]}})"));
  EXPECT_FALSE(bad.ok());
}

// onCallRef names a rotation in the SLO's own namespace: found, the condition says where
// alerts route; missing, a condition with its reason and one Warning, not a silent copy.
TEST(SloDecide, OnCallRefResolvesInTheSlosNamespace) {
  const ServiceLevelObjective slo = SloBuilder().onCall("payments-primary").build();
  struct Case {
    const char* name;
    std::optional<bool> found;
    const char* status;
    const char* reason;
  };
  const Case cases[] = {
      {"found", true, "True", "OnCallRotationFound"},
      {"missing", false, "False", "OnCallRotationNotFound"},
  };
  for (const Case& c : cases) {
    SloObserved observed = prometheusObserved(0.0001, 1000);
    observed.onCallRotationFound = c.found;
    const SloDecision first = decideSlo(slo, observed, kNow);
    EXPECT_EQ(condition(first.status, "OnCallRotationResolved", "status"), c.status) << c.name;
    EXPECT_EQ(condition(first.status, "OnCallRotationResolved", "reason"), c.reason) << c.name;
    const auto warnings = std::count_if(first.events.begin(), first.events.end(), [](auto& e) {
      return e.reason == "OnCallRotationNotFound" && e.type == "Warning";
    });
    EXPECT_EQ(warnings, *c.found ? 0 : 1) << c.name;
    if (!*c.found) {
      EXPECT_THAT(condition(first.status, "OnCallRotationResolved", "message"),
                  ::testing::HasSubstr("shop/payments-primary does not exist"));
    }
    // The next refresh sees the same: no second Warning.
    observed.status = first.status;
    const SloDecision second = decideSlo(slo, observed, kNow + std::chrono::minutes(1));
    EXPECT_THAT(second.events, IsEmpty()) << c.name;
  }
  // Without an onCallRef there is no such condition.
  const SloDecision none = decideSlo(SloBuilder().build(), prometheusObserved(0.0001, 1000), kNow);
  EXPECT_EQ(condition(none.status, "OnCallRotationResolved", "status"), "");
}

}  // namespace
}  // namespace relops::slo
