#include "controllers/policy/policy_decide.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "controllers/common/conditions.h"

namespace relops::policy {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

const auto kNow = std::chrono::system_clock::time_point(*parseRfc3339("2026-03-01T12:00:00Z", "t"));

ErrorBudgetPolicy policy() {
  ErrorBudgetPolicy p;
  p.metadata.name = "tier1";
  p.metadata.namespace_ = "shop";
  p.metadata.generation = 3;
  p.spec.sloSelector.matchLabels = {{"tier", "1"}};
  PolicyRule low;
  low.name = "low";
  low.budgetRemainingBelow = *Percent::parse("25", "f");
  low.hysteresis = *Percent::parse("5", "f");
  p.spec.rules.push_back(low);
  PolicyRule freeze;
  freeze.name = "exhausted";
  freeze.budgetRemainingBelow = *Percent::parse("0", "f");
  freeze.hysteresis = *Percent::parse("5", "f");
  freeze.freeze = true;
  p.spec.rules.push_back(freeze);
  return p;
}

// The policy as the next reconcile reads it: with the status the last decision stored.
ErrorBudgetPolicy withStatus(const ErrorBudgetPolicy& p, const json& status) {
  json object = policyJson(p);
  object["status"] = status;
  auto parsed = parsePolicy(object);
  EXPECT_TRUE(parsed.ok()) << parsed.error().message();
  return *parsed;
}

const json& condition(const PolicyDecision& decision, const char* type) {
  static const json kMissing = json::object();
  const json* found = common::findCondition(decision.status["conditions"], type);
  return found != nullptr ? *found : kMissing;
}

std::vector<std::string> reasons(const PolicyDecision& decision) {
  std::vector<std::string> out;
  for (const PolicyEvent& event : decision.events) out.push_back(event.reason);
  return out;
}

SloBudgetInput slo(const char* name, const char* tier, std::optional<double> remaining,
                   std::vector<std::string> workloads) {
  return {name, {{"tier", tier}}, remaining, {}, std::move(workloads)};
}

TEST(PolicyDecide, SelectingNothingIsReadyWithItsReasonAndOneWarning) {
  const ErrorBudgetPolicy p = policy();
  const std::vector<SloBudgetInput> none = {slo("blog", "3", -50.0, {"Deployment/blog"})};
  const PolicyDecision first = decidePolicy(p, none, json(), "shop", kNow);
  EXPECT_EQ(condition(first, "Ready")["status"], "True");
  EXPECT_EQ(condition(first, "Ready")["reason"], "NoSLOSelected");
  EXPECT_EQ(condition(first, "Ready")["message"], "0 SLO(s) selected, 0 frozen");
  EXPECT_EQ(condition(first, "Ready")["observedGeneration"], 3);
  EXPECT_EQ(first.status["observedGeneration"], 3);
  ASSERT_EQ(reasons(first), std::vector<std::string>{"NoSLOSelected"});
  EXPECT_EQ(first.events[0].type, "Warning");
  EXPECT_THAT(first.events[0].message, HasSubstr("namespace shop"));
  EXPECT_TRUE(first.frozenWorkloads.empty());

  // The stored reason remembers the Warning: not again, also after a restart.
  const PolicyDecision again =
      decidePolicy(withStatus(p, first.status), none, first.status, "shop", kNow);
  EXPECT_TRUE(again.events.empty());
  EXPECT_FALSE(common::statusChanged(first.status, again.status));

  // Selecting again clears it; selecting nothing once more warns once more.
  const std::vector<SloBudgetInput> one = {slo("cart", "1", 60.0, {"Deployment/cart"})};
  const PolicyDecision some =
      decidePolicy(withStatus(p, again.status), one, again.status, "shop", kNow);
  EXPECT_EQ(condition(some, "Ready")["reason"], "Evaluated");
  EXPECT_EQ(condition(some, "Ready")["message"], "1 SLO(s) selected, 0 frozen");
  EXPECT_TRUE(some.events.empty());
  const PolicyDecision lost =
      decidePolicy(withStatus(p, some.status), {}, some.status, "shop", kNow);
  EXPECT_EQ(reasons(lost), std::vector<std::string>{"NoSLOSelected"});
}

TEST(PolicyDecide, SpentBudgetsFreezeTheirWorkloadsOnceEach) {
  const ErrorBudgetPolicy p = policy();
  const std::vector<SloBudgetInput> slos = {
      slo("checkout", "1", -12.0, {"Deployment/web", "StatefulSet/db"}),
      slo("search", "1", -3.0, {"Deployment/web"}),
      slo("cart", "1", 60.0, {"Deployment/cart"}),
  };
  const PolicyDecision decision = decidePolicy(p, slos, json(), "shop", kNow);
  EXPECT_EQ(decision.status["frozenCount"], 2);
  ASSERT_EQ(decision.status["activeFreezes"].size(), 2u);
  EXPECT_EQ(decision.status["activeFreezes"][0]["slo"], "checkout");
  EXPECT_EQ(decision.status["activeFreezes"][0]["since"], "2026-03-01T12:00:00Z");
  EXPECT_EQ(decision.frozenWorkloads,
            (std::vector<std::string>{"Deployment/web", "StatefulSet/db"}));
  EXPECT_EQ(condition(decision, "Frozen")["status"], "True");
  EXPECT_EQ(condition(decision, "Frozen")["reason"], "BudgetSpent");
  EXPECT_THAT(condition(decision, "Frozen")["message"].get<std::string>(),
              HasSubstr("checkout, search"));
  EXPECT_EQ(condition(decision, "Ready")["message"], "3 SLO(s) selected, 2 frozen");
  // Two freezes; the "low" rule fires for both too, and is announced once each.
  EXPECT_EQ(reasons(decision), (std::vector<std::string>{"Frozen", "Frozen", "BudgetBelowThreshold",
                                                         "BudgetBelowThreshold"}));
}

TEST(PolicyDecide, AFreezeWithNothingToCoverSaysSo) {
  const PolicyDecision decision =
      decidePolicy(policy(), {slo("latency", "1", -1.0, {})}, json(), "shop", kNow);
  EXPECT_EQ(decision.status["frozenCount"], 1);
  EXPECT_TRUE(decision.frozenWorkloads.empty());
  EXPECT_THAT(condition(decision, "Ready")["message"].get<std::string>(),
              HasSubstr("nothing to freeze for latency: it has no workload indicator"));
}

TEST(PolicyDecide, FiringRulesAreAnnouncedWhenTheyStart) {
  const ErrorBudgetPolicy p = policy();
  const std::vector<SloBudgetInput> low = {slo("cart", "1", 20.0, {"Deployment/cart"})};
  const PolicyDecision first = decidePolicy(p, low, json(), "shop", kNow);
  ASSERT_EQ(reasons(first), std::vector<std::string>{"BudgetBelowThreshold"});
  EXPECT_EQ(first.events[0].type, "Warning");
  EXPECT_THAT(first.events[0].message, HasSubstr("SLO cart: rule low (error budget below 25%)"));
  EXPECT_EQ(first.firing, (FiringSet{{"cart", "low"}}));

  const PolicyDecision still = decidePolicy(p, low, first.status, "shop", kNow);
  EXPECT_TRUE(still.events.empty());

  const PolicyDecision recovered =
      decidePolicy(p, {slo("cart", "1", 80.0, {})}, still.status, "shop", kNow);
  EXPECT_TRUE(recovered.firing.empty());
  const PolicyDecision again = decidePolicy(p, low, recovered.status, "shop", kNow);
  EXPECT_EQ(reasons(again), std::vector<std::string>{"BudgetBelowThreshold"});
}

// What fires is remembered in status (firingRules), not in the process: a stored status
// that remembers a rule is not announced again, whoever decides next.
TEST(PolicyDecide, TheFiringMemoryIsTheStoredStatus) {
  const ErrorBudgetPolicy p = policy();
  const std::vector<SloBudgetInput> low = {slo("cart", "1", 20.0, {"Deployment/cart"})};
  const PolicyDecision first = decidePolicy(p, low, json(), "shop", kNow);
  EXPECT_EQ(first.status["firingRules"], json::parse(R"([{"slo":"cart","rule":"low"}])"));
  EXPECT_EQ(firingOf(first.status), (FiringSet{{"cart", "low"}}));

  // The status as read back after a restart.
  const json stored = json::parse(first.status.dump());
  EXPECT_TRUE(decidePolicy(p, low, stored, "shop", kNow).events.empty());

  const PolicyDecision recovered =
      decidePolicy(p, {slo("cart", "1", 80.0, {})}, stored, "shop", kNow);
  EXPECT_FALSE(recovered.status.contains("firingRules"));
}

TEST(PolicyDecide, TheFiringMemoryIsBoundedAndAnnouncesOnlyWhatItRemembers) {
  const ErrorBudgetPolicy p = policy();
  std::vector<SloBudgetInput> many;
  for (size_t i = 0; i < kMaxFiringRules + 10; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "slo-%04zu", i);
    many.push_back(slo(name, "1", 20.0, {}));
  }
  const PolicyDecision first = decidePolicy(p, many, json(), "shop", kNow);
  EXPECT_EQ(first.firing.size(), kMaxFiringRules + 10);
  EXPECT_EQ(first.status["firingRules"].size(), kMaxFiringRules);
  EXPECT_EQ(reasons(first).size(), kMaxFiringRules);
  EXPECT_TRUE(decidePolicy(p, many, first.status, "shop", kNow).events.empty());
}

// A frozen SLO that is gone keeps its freeze through the grace, measured from the instant
// status remembers (missingSince), so a restart does not start the grace again.
TEST(PolicyDecide, TheGraceOfAGoneSloIsMeasuredFromStatus) {
  const ErrorBudgetPolicy p = policy();
  const PolicyDecision frozen =
      decidePolicy(p, {slo("checkout", "1", -5.0, {"Deployment/web"})}, json(), "shop", kNow);
  const PolicyDecision gone =
      decidePolicy(withStatus(p, frozen.status), {}, frozen.status, "shop", kNow);
  ASSERT_EQ(gone.status["activeFreezes"].size(), 1u);
  EXPECT_EQ(gone.status["activeFreezes"][0]["missingSince"], "2026-03-01T12:00:00Z");
  EXPECT_EQ(gone.recheckAfter, std::chrono::seconds(300));
  EXPECT_EQ(reasons(gone), std::vector<std::string>{"NoSLOSelected"});  // no Thawed

  const auto later = kNow + std::chrono::minutes(4);
  const PolicyDecision still =
      decidePolicy(withStatus(p, gone.status), {}, gone.status, "shop", later);
  EXPECT_EQ(still.status["activeFreezes"][0]["missingSince"], "2026-03-01T12:00:00Z");
  EXPECT_EQ(still.recheckAfter, std::chrono::seconds(60));

  const PolicyDecision over = decidePolicy(withStatus(p, still.status), {}, still.status, "shop",
                                           kNow + std::chrono::minutes(5));
  EXPECT_FALSE(over.status.contains("activeFreezes"));
  EXPECT_EQ(reasons(over), std::vector<std::string>{"Thawed"});

  // Back within the grace: the freeze holds and no longer says it is missing.
  const PolicyDecision back = decidePolicy(withStatus(p, still.status),
                                           {slo("checkout", "1", std::nullopt, {"Deployment/web"})},
                                           still.status, "shop", later);
  ASSERT_EQ(back.status["activeFreezes"].size(), 1u);
  EXPECT_FALSE(back.status["activeFreezes"][0].contains("missingSince"));
}

TEST(PolicyDecide, ThawClearsTheFreezeAndSaysSo) {
  const ErrorBudgetPolicy p = policy();
  const PolicyDecision frozen =
      decidePolicy(p, {slo("checkout", "1", -5.0, {"Deployment/web"})}, json(), "shop", kNow);
  ASSERT_EQ(frozen.status["frozenCount"], 1);
  // Back above threshold + hysteresis.
  const PolicyDecision thawed =
      decidePolicy(withStatus(p, frozen.status), {slo("checkout", "1", 30.0, {"Deployment/web"})},
                   frozen.status, "shop", kNow);
  EXPECT_EQ(thawed.status["frozenCount"], 0);
  EXPECT_FALSE(thawed.status.contains("activeFreezes"));
  EXPECT_TRUE(thawed.frozenWorkloads.empty());
  EXPECT_EQ(condition(thawed, "Frozen")["status"], "False");
  EXPECT_EQ(condition(thawed, "Frozen")["reason"], "NoFreeze");
  EXPECT_EQ(reasons(thawed), std::vector<std::string>{"Thawed"});
}

TEST(PolicyDecide, KeepsWhatItDoesNotOwnInTheStoredStatus) {
  json stored = {{"somethingElse", "kept"}};
  const PolicyDecision decision =
      decidePolicy(policy(), {slo("cart", "1", 60.0, {})}, stored, "shop", kNow);
  EXPECT_EQ(decision.status["somethingElse"], "kept");
}

}  // namespace
}  // namespace relops::policy
