#include "controllers/policy/freeze.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace relops::policy {
namespace {

using ::testing::HasSubstr;

const TimePoint kNow = *parseRfc3339("2026-03-01T12:00:00Z", "t");

PolicyRule freezeRule(const char* below, const char* hysteresis) {
  PolicyRule rule;
  rule.name = "exhausted";
  rule.budgetRemainingBelow = *Percent::parse(below, "f");
  rule.hysteresis = *Percent::parse(hysteresis, "f");
  rule.freeze = true;
  return rule;
}

// Freeze below the threshold; thaw only above threshold + hysteresis; no data keeps
// whatever held before.
TEST(BudgetRuleHolds, HasHysteresis) {
  const PolicyRule rule = freezeRule("0", "5");
  struct Case {
    const char* name;
    bool before;
    std::optional<double> remaining;
    bool after;
  };
  const Case cases[] = {
      {"healthy stays thawed", false, 40.0, false},
      {"exactly at threshold does not freeze", false, 0.0, false},
      {"spent freezes", false, -0.1, true},
      {"overspent freezes", false, -250.0, true},
      {"still spent stays frozen", true, -3.0, true},
      {"inside the band stays frozen", true, 4.9, true},
      {"at the band's edge stays frozen", true, 5.0, true},
      {"above the band thaws", true, 5.1, false},
      {"inside the band does not freeze a thawed SLO", false, 3.0, false},
      {"no data keeps frozen", true, std::nullopt, true},
      {"no data keeps thawed", false, std::nullopt, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(budgetRuleHolds(rule, c.before, c.remaining), c.after) << c.name;
  }
}

TEST(BudgetRuleHolds, FlappingBudgetDoesNotFlapTheFreeze) {
  const PolicyRule rule = freezeRule("10", "5");
  bool frozen = false;
  int transitions = 0;
  for (double remaining : {12.0, 9.0, 11.0, 9.5, 14.0, 9.9, 15.0, 16.0, 14.0}) {
    const bool next = budgetRuleHolds(rule, frozen, remaining);
    transitions += next != frozen;
    frozen = next;
  }
  EXPECT_EQ(transitions, 2);  // frozen at 9, thawed at 16
  EXPECT_FALSE(frozen);
}

ErrorBudgetPolicy policy() {
  ErrorBudgetPolicy p;
  p.metadata.name = "tier1";
  p.metadata.namespace_ = "shop";
  p.spec.sloSelector.matchLabels = {{"tier", "1"}};
  PolicyRule low;
  low.name = "low";
  low.budgetRemainingBelow = *Percent::parse("25", "f");
  p.spec.rules.push_back(low);
  p.spec.rules.push_back(freezeRule("0", "5"));
  PolicyRule burn;
  burn.name = "fast-burn";
  burn.burnRateAbove = *Percent::parse("14.4", "f");
  burn.burnRateWindow = *Duration::parse("1h", "f");
  p.spec.rules.push_back(burn);
  return p;
}

TEST(DecideFreezes, FreezesSpentSlosItSelects) {
  const std::vector<SloBudgetInput> slos = {
      {"checkout", {{"tier", "1"}}, -12.34, {{"1h", 20.0}}, {"Deployment/checkout"}},
      {"cart", {{"tier", "1"}}, 60.0, {}, {"Deployment/cart"}},
      {"blog", {{"tier", "3"}}, -100.0, {}, {"Deployment/blog"}},
  };
  const FreezeDecision decision = decideFreezes(policy(), slos, kNow);
  ASSERT_EQ(decision.activeFreezes.size(), 1u);
  const ActiveFreeze& freeze = decision.activeFreezes[0];
  EXPECT_EQ(freeze.slo, "checkout");
  EXPECT_EQ(freeze.rule, "exhausted");
  EXPECT_EQ(freeze.since, "2026-03-01T12:00:00Z");
  EXPECT_EQ(freeze.budgetRemaining, "-12.3");
  EXPECT_EQ(freeze.workloads, std::vector<std::string>{"Deployment/checkout"});
  ASSERT_EQ(decision.events.size(), 1u);
  EXPECT_EQ(decision.events[0].reason, "Frozen");
  EXPECT_EQ(decision.events[0].type, "Warning");
  EXPECT_EQ(decision.firing,
            (std::vector<FiringRule>{
                {"checkout", "low"}, {"checkout", "exhausted"}, {"checkout", "fast-burn"}}));
}

TEST(DecideFreezes, KeepsSinceWhileFrozenAndThawsAboveTheBand) {
  ErrorBudgetPolicy p = policy();
  p.status.activeFreezes = {{"checkout", "exhausted", "2026-02-28T08:00:00Z", "-1", {}}};
  auto decision = decideFreezes(p, {{"checkout", {{"tier", "1"}}, 3.0, {}, {}}}, kNow);
  ASSERT_EQ(decision.activeFreezes.size(), 1u);
  EXPECT_EQ(decision.activeFreezes[0].since, "2026-02-28T08:00:00Z");
  EXPECT_TRUE(decision.events.empty());

  decision = decideFreezes(p, {{"checkout", {{"tier", "1"}}, 5.5, {}, {}}}, kNow);
  EXPECT_TRUE(decision.activeFreezes.empty());
  ASSERT_EQ(decision.events.size(), 1u);
  EXPECT_EQ(decision.events[0].reason, "Thawed");
}

TEST(DecideFreezes, NoDataKeepsTheFreezeAndItsNumbers) {
  ErrorBudgetPolicy p = policy();
  p.status.activeFreezes = {{"checkout", "exhausted", "2026-02-28T08:00:00Z", "-1", {}}};
  const auto decision =
      decideFreezes(p, {{"checkout", {{"tier", "1"}}, std::nullopt, {}, {}}}, kNow);
  ASSERT_EQ(decision.activeFreezes.size(), 1u);
  EXPECT_EQ(decision.activeFreezes[0].budgetRemaining, "-1");
}

TEST(DecideFreezes, ThawsSlosNoLongerSelectedAtOnce) {
  ErrorBudgetPolicy p = policy();
  p.status.activeFreezes = {{"checkout", "exhausted", "2026-02-28T08:00:00Z", "-1", {}}};
  const auto decision = decideFreezes(p, {{"checkout", {{"tier", "2"}}, -50.0, {}, {}}}, kNow);
  EXPECT_TRUE(decision.activeFreezes.empty());
  ASSERT_EQ(decision.events.size(), 1u);
  EXPECT_EQ(decision.events[0].reason, "Thawed");
  EXPECT_TRUE(decision.missing.empty());
  EXPECT_FALSE(decision.recheckAfter);
}

// A frozen SLO deleted and recreated (Argo CD replace, CRD reinstall, restore) must not
// thaw in between: a gone SLO keeps its freeze for kMissingSloGrace after it was first
// missed, and its recreation (no ledger yet: no data) keeps it after that.
TEST(DecideFreezes, GoneSlosKeepTheirFreezeThroughTheGrace) {
  using std::chrono::minutes;
  using std::chrono::seconds;
  ErrorBudgetPolicy p = policy();
  p.status.activeFreezes = {
      {"deleted", "exhausted", "2026-02-28T08:00:00Z", "-1", {"Deployment/web"}}};
  struct Case {
    const char* name;
    std::map<std::string, TimePoint> missingBefore;
    bool held;
    std::optional<seconds> recheckAfter;
  };
  const std::vector<Case> cases = {
      {"just gone", {}, true, seconds(300)},
      {"gone 4m59s", {{"deleted", kNow - seconds(299)}}, true, seconds(1)},
      {"gone 5m", {{"deleted", kNow - minutes(5)}}, false, std::nullopt},
      {"gone an hour", {{"deleted", kNow - minutes(60)}}, false, std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const auto decision = decideFreezes(p, {}, kNow, c.missingBefore);
    EXPECT_EQ(decision.recheckAfter, c.recheckAfter);
    if (c.held) {
      ASSERT_EQ(decision.activeFreezes.size(), 1u);
      EXPECT_EQ(decision.activeFreezes[0].since, "2026-02-28T08:00:00Z");
      EXPECT_EQ(decision.activeFreezes[0].workloads, std::vector<std::string>{"Deployment/web"});
      EXPECT_TRUE(decision.events.empty());
      ASSERT_TRUE(decision.missing.contains("deleted"));
      EXPECT_EQ(decision.missing.at("deleted"),
                c.missingBefore.empty() ? kNow : c.missingBefore.at("deleted"));
    } else {
      EXPECT_TRUE(decision.activeFreezes.empty());
      ASSERT_EQ(decision.events.size(), 1u);
      EXPECT_EQ(decision.events[0].reason, "Thawed");
      EXPECT_TRUE(decision.missing.empty());
    }
  }
  // Recreated within the grace, with no ledger yet (no data): the freeze holds and the
  // grace is over.
  const auto recreated =
      decideFreezes(p, {{"deleted", {{"tier", "1"}}, std::nullopt, {}, {"Deployment/web"}}}, kNow,
                    {{"deleted", kNow - minutes(1)}});
  ASSERT_EQ(recreated.activeFreezes.size(), 1u);
  EXPECT_EQ(recreated.activeFreezes[0].budgetRemaining, "-1");
  EXPECT_TRUE(recreated.missing.empty());
  EXPECT_TRUE(recreated.events.empty());
}

TEST(FreezeMessage, NamesTheSloTheBudgetAndTheWayOut) {
  const ErrorBudgetPolicy p = policy();
  const std::string message =
      freezeMessage(p, {"checkout", "exhausted", "2026-02-28T08:00:00Z", "-12.3", {}});
  EXPECT_THAT(message, HasSubstr("ServiceLevelObjective shop/checkout"));
  EXPECT_THAT(message, HasSubstr("-12.3% left"));
  EXPECT_THAT(message, HasSubstr("relops.dev/freeze-exempt"));
  EXPECT_THAT(message, HasSubstr("scaling is allowed"));
}

TEST(LabelSelector, MatchesLikeMetav1) {
  LabelSelector selector;
  EXPECT_TRUE(selector.matches({}));
  selector.matchLabels = {{"tier", "1"}};
  selector.matchExpressions = {{"env", "In", {"prod", "staging"}}, {"legacy", "DoesNotExist", {}}};
  EXPECT_TRUE(selector.matches({{"tier", "1"}, {"env", "prod"}}));
  EXPECT_FALSE(selector.matches({{"tier", "1"}, {"env", "dev"}}));
  EXPECT_FALSE(selector.matches({{"tier", "1"}, {"env", "prod"}, {"legacy", "y"}}));
  EXPECT_FALSE(selector.matches({{"env", "prod"}}));
  selector.matchExpressions = {{"env", "NotIn", {"dev"}}, {"team", "Exists", {}}};
  EXPECT_TRUE(selector.matches({{"tier", "1"}, {"team", "a"}}));
  EXPECT_FALSE(selector.matches({{"tier", "1"}, {"env", "dev"}, {"team", "a"}}));
}

}  // namespace
}  // namespace relops::policy
