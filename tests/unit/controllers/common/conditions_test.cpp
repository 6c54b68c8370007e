#include "controllers/common/conditions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace relops::common {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::chrono::system_clock::time_point t0() {
  return std::chrono::sys_days{std::chrono::year{2026} / 1 / 2} + 3h + 4min + 5s + 678ms;
}

TEST(ConditionTime, Rfc3339UtcWholeSeconds) {
  EXPECT_EQ(formatConditionTime(t0()), "2026-01-02T03:04:05Z");
  EXPECT_EQ(formatConditionTime(std::chrono::system_clock::time_point{}), "1970-01-01T00:00:00Z");
}

TEST(SetCondition, AddsANewConditionStampedNow) {
  json conditions;  // null: becomes an array
  EXPECT_TRUE(
      setCondition(conditions, makeCondition("Ready", "True", "Reconciled", "ok", 2), t0()));
  EXPECT_EQ(conditions, json::parse(R"([{"type":"Ready","status":"True","observedGeneration":2,
      "lastTransitionTime":"2026-01-02T03:04:05Z","reason":"Reconciled","message":"ok"}])"));
  EXPECT_TRUE(validateCondition(conditions[0]).ok());
}

TEST(SetCondition, OnAWholeStatusObject) {
  json status = {{"sli", "99.9"}};  // no conditions yet
  EXPECT_TRUE(setStatusCondition(status, "Frozen", "False", "NoFreeze", "none", 4, t0()));
  EXPECT_FALSE(setStatusCondition(status, "Frozen", "False", "NoFreeze", "none", 4, t0() + 1h));
  ASSERT_EQ(status["conditions"].size(), 1u);
  EXPECT_EQ(status["conditions"][0]["lastTransitionTime"], "2026-01-02T03:04:05Z");
  EXPECT_EQ(status["conditions"][0]["observedGeneration"], 4);
  EXPECT_EQ(status["sli"], "99.9");
}

TEST(SetCondition, TransitionTimeChangesOnlyWithStatus) {
  json conditions = json::array();
  setCondition(conditions, makeCondition("Ready", "False", "Waiting", "a", 1), t0());

  // Same everything later: no change, no new time.
  EXPECT_FALSE(
      setCondition(conditions, makeCondition("Ready", "False", "Waiting", "a", 1), t0() + 1h));
  // Reason, message, generation change: changed, but the transition time stays.
  EXPECT_TRUE(
      setCondition(conditions, makeCondition("Ready", "False", "Blocked", "b", 2), t0() + 2h));
  EXPECT_EQ(conditions[0]["lastTransitionTime"], "2026-01-02T03:04:05Z");
  EXPECT_EQ(conditions[0]["reason"], "Blocked");
  EXPECT_EQ(conditions[0]["message"], "b");
  EXPECT_EQ(conditions[0]["observedGeneration"], 2);
  // Status change: new transition time.
  EXPECT_TRUE(
      setCondition(conditions, makeCondition("Ready", "True", "Blocked", "b", 2), t0() + 3h));
  EXPECT_EQ(conditions[0]["lastTransitionTime"], "2026-01-02T06:04:05Z");
}

TEST(SetCondition, HonoursAnExplicitTransitionTime) {
  json conditions = json::array();
  json condition = makeCondition("Ready", "True", "Restored", "", 1);
  condition["lastTransitionTime"] = "2025-12-31T23:59:59Z";
  setCondition(conditions, condition, t0());
  EXPECT_EQ(conditions[0]["lastTransitionTime"], "2025-12-31T23:59:59Z");
}

TEST(SetCondition, KeepsInsertionOrderAndUpdatesInPlace) {
  json conditions = json::array();
  setCondition(conditions, makeCondition("Ready", "Unknown", "Starting", "", 1), t0());
  setCondition(conditions, makeCondition("BudgetExhausted", "False", "WithinBudget", "", 1), t0());
  setCondition(conditions, makeCondition("relops.dev/Frozen", "False", "NotFrozen", "", 1), t0());
  setCondition(conditions, makeCondition("Ready", "True", "Reconciled", "", 1), t0() + 1s);
  ASSERT_EQ(conditions.size(), 3u);
  EXPECT_EQ(conditions[0]["type"], "Ready");
  EXPECT_EQ(conditions[0]["status"], "True");
  EXPECT_EQ(conditions[1]["type"], "BudgetExhausted");
  EXPECT_EQ(conditions[2]["type"], "relops.dev/Frozen");
}

TEST(SetCondition, CutsOverlongMessagesAtACharacterBoundary) {
  json conditions = json::array();
  std::string message(kMaxConditionMessageBytes - 1, 'x');
  message += "\xC3\xA9 and more";  // a two-byte character straddling the limit
  setCondition(conditions, makeCondition("Ready", "False", "Failed", message, 1), t0());
  const std::string stored = conditions[0]["message"];
  EXPECT_EQ(stored, std::string(kMaxConditionMessageBytes - 1, 'x'));
  EXPECT_TRUE(validateCondition(conditions[0]).ok());
  // The same overlong message again is no change.
  EXPECT_FALSE(
      setCondition(conditions, makeCondition("Ready", "False", "Failed", message, 1), t0() + 1s));
}

TEST(Conditions, FindIsTrueIsFalseRemove) {
  json conditions = json::array();
  setCondition(conditions, makeCondition("Ready", "True", "Ok", "", 1), t0());
  setCondition(conditions, makeCondition("Stalled", "False", "Ok", "", 1), t0());
  ASSERT_NE(findCondition(conditions, "Ready"), nullptr);
  EXPECT_EQ((*findCondition(conditions, "Ready"))["reason"], "Ok");
  EXPECT_EQ(findCondition(conditions, "Missing"), nullptr);
  EXPECT_EQ(findCondition(json(), "Ready"), nullptr);
  EXPECT_TRUE(isTrue(conditions, "Ready"));
  EXPECT_FALSE(isFalse(conditions, "Ready"));
  EXPECT_TRUE(isFalse(conditions, "Stalled"));
  EXPECT_FALSE(isTrue(conditions, "Missing"));
  EXPECT_FALSE(isFalse(conditions, "Missing"));
  EXPECT_TRUE(removeCondition(conditions, "Ready"));
  EXPECT_FALSE(removeCondition(conditions, "Ready"));
  EXPECT_EQ(conditions.size(), 1u);
}

TEST(ConditionValidation, Reasons) {
  for (const char* good :
       {"Ready", "A", "ReconcileFailed", "Budget_Exhausted", "a1", "Foo:Bar", "Foo,Bar_"}) {
    EXPECT_TRUE(isValidConditionReason(good)) << good;
  }
  for (const char* bad : {"", "1Bad", "has space", "Ends:", "Ends,", "dash-ed", "dot.ted"}) {
    EXPECT_FALSE(isValidConditionReason(bad)) << bad;
  }
  EXPECT_FALSE(isValidConditionReason(std::string(1025, 'A')));
}

TEST(ConditionValidation, TypesAndWholeConditions) {
  EXPECT_TRUE(isValidConditionType("Ready"));
  EXPECT_TRUE(isValidConditionType("relops.dev/BudgetExhausted"));
  EXPECT_FALSE(isValidConditionType(""));
  EXPECT_FALSE(isValidConditionType("Bad Type"));
  EXPECT_FALSE(isValidConditionType("UPPER.dev/X"));

  json condition = makeCondition("Ready", "True", "Ok", "", 0);
  condition["lastTransitionTime"] = "2026-01-02T03:04:05Z";
  EXPECT_TRUE(validateCondition(condition).ok());
  auto broken = [&](const char* key, json value) {
    json copy = condition;
    copy[key] = std::move(value);
    return validateCondition(copy);
  };
  EXPECT_FALSE(broken("status", "Yes").ok());
  EXPECT_FALSE(broken("reason", "not valid").ok());
  EXPECT_FALSE(broken("observedGeneration", -1).ok());
  EXPECT_FALSE(broken("lastTransitionTime", "yesterday").ok());
  EXPECT_FALSE(broken("message", 5).ok());
  const auto error = broken("reason", "");
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.error().kind(), base::ErrorKind::kInternal);
  EXPECT_THAT(error.error().message(), ::testing::HasSubstr("reason"));
}

TEST(StatusChanged, DeepComparisonIgnoringOmitEmptyDifferences) {
  const json status = json::parse(R"({"observedGeneration":3,"sli":0.999,
      "conditions":[{"type":"Ready","status":"True"}],"window":{"days":28}})");
  EXPECT_FALSE(statusChanged(status, status));
  EXPECT_FALSE(statusChanged(json::parse(R"({"a":1,"b":2})"), json::parse(R"({"b":2,"a":1})")));
  EXPECT_FALSE(statusChanged(json::parse(R"({"a":1})"), json::parse(R"({"a":1.0})")));
  EXPECT_FALSE(statusChanged(json::parse(R"({"a":1})"),
                             json::parse(R"({"a":1,"b":null,"c":[],"d":{},"e":{"f":null}})")));
  EXPECT_FALSE(statusChanged(json(), json::object()));

  json changed = status;
  changed["conditions"][0]["status"] = "False";
  EXPECT_TRUE(statusChanged(status, changed));
  changed = status;
  changed["sli"] = 0.998;
  EXPECT_TRUE(statusChanged(status, changed));
  changed = status;
  changed["conditions"].push_back(json::object({{"type", "Stalled"}}));
  EXPECT_TRUE(statusChanged(status, changed));
  EXPECT_TRUE(statusChanged(json::parse(R"({"a":[1,2]})"), json::parse(R"({"a":[2,1]})")));
}

TEST(KStatus, ReconcilingThenReady) {
  json status;
  markReconciling(status, 1, "Progressing", "applying rules", t0());
  EXPECT_EQ(status["observedGeneration"], 1);
  EXPECT_EQ((*findCondition(status["conditions"], kConditionReady))["status"], "Unknown");
  EXPECT_TRUE(isTrue(status["conditions"], kConditionReconciling));
  EXPECT_EQ(findCondition(status["conditions"], kConditionStalled), nullptr);

  markReady(status, 1, "Reconciled", "rules applied", t0() + 1min);
  EXPECT_TRUE(isTrue(status["conditions"], kConditionReady));
  EXPECT_EQ(findCondition(status["conditions"], kConditionReconciling), nullptr);
  const json* ready = findCondition(status["conditions"], kConditionReady);
  EXPECT_EQ((*ready)["lastTransitionTime"], "2026-01-02T03:05:05Z");
  EXPECT_EQ((*ready)["observedGeneration"], 1);
  for (const json& condition : status["conditions"]) {
    EXPECT_TRUE(validateCondition(condition).ok()) << condition.dump();
  }

  // The same outcome again writes nothing.
  json again = status;
  markReady(again, 1, "Reconciled", "rules applied", t0() + 1h);
  EXPECT_FALSE(statusChanged(status, again));
  // A new generation is a change, but not a transition.
  markReady(again, 2, "Reconciled", "rules applied", t0() + 2h);
  EXPECT_TRUE(statusChanged(status, again));
  EXPECT_EQ(again["observedGeneration"], 2);
  EXPECT_EQ((*findCondition(again["conditions"], kConditionReady))["lastTransitionTime"],
            "2026-01-02T03:05:05Z");
}

TEST(KStatus, StalledKeepsReadyFalseAndDropsReconciling) {
  json status;
  markReconciling(status, 4, "Progressing", "", t0());
  markStalled(status, 4, "InvalidReference", "deployment web not found", t0() + 1s);
  const json& conditions = status["conditions"];
  EXPECT_TRUE(isTrue(conditions, kConditionStalled));
  EXPECT_TRUE(isFalse(conditions, kConditionReady));
  EXPECT_EQ((*findCondition(conditions, kConditionReady))["reason"], "InvalidReference");
  EXPECT_EQ((*findCondition(conditions, kConditionReady))["message"], "deployment web not found");
  EXPECT_EQ(findCondition(conditions, kConditionReconciling), nullptr);

  // Fixed spec: ready again, Stalled gone.
  markReady(status, 5, "Reconciled", "", t0() + 2s);
  EXPECT_EQ(findCondition(status["conditions"], kConditionStalled), nullptr);
  EXPECT_TRUE(isTrue(status["conditions"], kConditionReady));
}

TEST(KStatus, RetryingIsNotReadyButStillReconciling) {
  json status = json::parse(R"({"sli":"0.99"})");
  markRetrying(status, 2, "PrometheusUnavailable", "connection refused", t0());
  EXPECT_EQ(status["sli"], "0.99");  // other status fields are left alone
  EXPECT_TRUE(isFalse(status["conditions"], kConditionReady));
  EXPECT_TRUE(isTrue(status["conditions"], kConditionReconciling));
}

TEST(TypedConditions, TransitionTimeMovesOnlyWhenTheStatusChangesAndOrderIsKept) {
  const std::chrono::sys_seconds t0{std::chrono::sys_days(std::chrono::March / 1 / 2026)};
  std::vector<Condition> conditions;
  setCondition(conditions, "Ready", "True", "Scheduled", "ok", 1, t0);
  setCondition(conditions, "Covered", "True", "FullyCovered", "ok", 1, t0);
  setCondition(conditions, "Ready", "True", "Scheduled", "still ok", 2, t0 + 1h);
  ASSERT_EQ(conditions.size(), 2u);
  EXPECT_EQ(conditions[0].type, "Ready");
  EXPECT_EQ(conditions[0].message, "still ok");
  EXPECT_EQ(conditions[0].observedGeneration, 2);
  EXPECT_EQ(conditions[0].lastTransitionTime, "2026-03-01T00:00:00Z");

  setCondition(conditions, "Ready", "False", "InvalidSpec", "bad", 3, t0 + 2h);
  EXPECT_EQ(conditions[0].lastTransitionTime, "2026-03-01T02:00:00Z");
  removeCondition(conditions, "Covered");
  ASSERT_EQ(conditions.size(), 1u);
  EXPECT_EQ(conditions[0].reason, "InvalidSpec");
}

}  // namespace
}  // namespace relops::common
