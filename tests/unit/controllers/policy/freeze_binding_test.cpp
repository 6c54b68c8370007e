// What enforces a freeze: binding names and labels that are always valid, the exemption
// that needs the `exempt` permission (CEL authorizer), freezes by label selector when more
// workloads are selected than a binding lists by name, and a failed apply that shows as
// Frozen=False instead of a freeze nobody enforces.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "controllers/common/bounded_names.h"
#include "controllers/common/conditions.h"
#include "controllers/policy/admission.h"
#include "controllers/policy/freeze.h"
#include "controllers/policy/policy_decide.h"
#include "operator/base/digest.h"

namespace relops::policy {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

const auto kNow = std::chrono::system_clock::time_point(*parseRfc3339("2026-03-01T12:00:00Z", "t"));

bool isDnsSubdomain(const std::string& name) {
  static const std::regex kSubdomain(
      "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
  return name.size() <= 253 && std::regex_match(name, kSubdomain);
}

bool isLabelValue(const std::string& value) {
  static const std::regex kValue("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$");
  return value.size() <= 63 && std::regex_match(value, kValue);
}

TEST(BoundedNames, CutsAtAnAlphanumericAndSuffixesTheHash) {
  struct Case {
    const char* name;
    std::string input;
    size_t max;
    size_t expectedLength;
  };
  const Case cases[] = {
      {"fits", "relops.dev-freeze.shop.tier1", 253, 28},
      {"long", "a" + std::string(300, 'b'), 253, 253},
      {"cut before a dot", std::string(187, 'a') + "." + std::string(100, 'b'), 253, 252},
      {"cut before a dash", std::string(187, 'a') + "-" + std::string(100, 'b'), 253, 252},
  };
  for (const Case& c : cases) {
    const std::string bounded = boundedName(c.input, c.input, c.max);
    EXPECT_EQ(bounded.size(), c.expectedLength) << c.name;
    EXPECT_TRUE(isDnsSubdomain(bounded)) << c.name << ": " << bounded;
  }
}

TEST(FreezeBindingName, IsReadableWhenItFitsAndAlwaysValid) {
  EXPECT_EQ(freezeBindingName("shop", "tier1"), "relops.dev-freeze.shop.tier1");
  EXPECT_EQ(freezeBindingName("shop", "tier1", FreezeBindingKind::kBySelector),
            "relops.dev-freeze.shop.tier1.selector");
  const std::string ns(63, 'n');
  const std::string longA = std::string(252, 'p') + "a";
  const std::string longB = std::string(252, 'p') + "b";
  for (FreezeBindingKind kind : {FreezeBindingKind::kNamed, FreezeBindingKind::kBySelector}) {
    const std::string a = freezeBindingName(ns, longA, kind);
    EXPECT_TRUE(isDnsSubdomain(a)) << a;
    EXPECT_NE(a, freezeBindingName(ns, longB, kind));
  }
  EXPECT_NE(freezeBindingName(ns, longA, FreezeBindingKind::kNamed),
            freezeBindingName(ns, longA, FreezeBindingKind::kBySelector));
}

TEST(FreezeBinding, LabelsAreValidAndTheFullNameIsAnAnnotation) {
  const std::string policy = std::string(200, 'x') + ".y-" + std::string(50, 'z');
  const json binding = freezeBinding("team-a", policy, {"Deployment/web", "StatefulSet/db"});
  for (const auto& [key, value] : binding["metadata"]["labels"].items()) {
    EXPECT_TRUE(isLabelValue(value.get<std::string>())) << key << "=" << value;
  }
  EXPECT_EQ(binding["metadata"]["labels"][kPolicyHashLabel], policyLabelValue("team-a", policy));
  EXPECT_EQ(binding["metadata"]["annotations"][kPolicyNameAnnotation], policy);
  EXPECT_TRUE(isDnsSubdomain(binding["metadata"]["name"].get<std::string>()));
  EXPECT_EQ(binding["spec"]["paramRef"]["name"], policy);
  EXPECT_EQ(binding["spec"]["matchResources"]["namespaceSelector"]["matchLabels"]
                   ["kubernetes.io/metadata.name"],
            "team-a");
  const json& rules = binding["spec"]["matchResources"]["resourceRules"];
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0]["resourceNames"], json({"web"}));
  EXPECT_EQ(rules[1]["resourceNames"], json({"db"}));
}

TEST(FreezeSelectorBinding, UsesTheWorkloadSelectorAsObjectSelector) {
  LabelSelector selector;
  selector.matchLabels = {{"tier", "1"}};
  selector.matchExpressions = {{"track", "NotIn", {"canary"}}};
  const json binding = freezeSelectorBinding("team-a", "tier1", selector);
  EXPECT_EQ(binding["metadata"]["name"], "relops.dev-freeze.team-a.tier1.selector");
  const json& match = binding["spec"]["matchResources"];
  EXPECT_EQ(match["objectSelector"], json::parse(R"({"matchLabels":{"tier":"1"},"matchExpressions":[
                {"key":"track","operator":"NotIn","values":["canary"]}]})"));
  ASSERT_EQ(match["resourceRules"].size(), 2u);  // apps and argoproj.io
  EXPECT_FALSE(match["resourceRules"][0].contains("resourceNames"));
  EXPECT_FALSE(match["resourceRules"][1].contains("resourceNames"));
  EXPECT_EQ(match["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"], "team-a");
}

// Every binding is owned by the admission policy it binds: deleting relops.dev-freeze (by
// hand, or with relops gone) garbage-collects every freeze binding.
TEST(FreezeBinding, IsOwnedByTheAdmissionPolicy) {
  LabelSelector selector;
  selector.matchLabels = {{"tier", "1"}};
  struct Case {
    const char* name;
    json binding;
  };
  const std::vector<Case> cases = {
      {"named", freezeBinding("shop", "tier1", {"Deployment/web"}, "vap-uid")},
      {"by selector", freezeSelectorBinding("shop", "tier1", selector, "vap-uid")},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const json& owners = c.binding["metadata"]["ownerReferences"];
    ASSERT_EQ(owners.size(), 1u);
    EXPECT_EQ(owners[0]["apiVersion"], "admissionregistration.k8s.io/v1");
    EXPECT_EQ(owners[0]["kind"], "ValidatingAdmissionPolicy");
    EXPECT_EQ(owners[0]["name"], kFreezeAdmissionPolicy);
    EXPECT_EQ(owners[0]["name"], c.binding["spec"]["policyName"]);
    EXPECT_EQ(owners[0]["uid"], "vap-uid");
    EXPECT_EQ(owners[0]["controller"], true);
    // Deleting the owner must never wait for its bindings.
    EXPECT_FALSE(owners[0].contains("blockOwnerDeletion"));
  }
  EXPECT_FALSE(
      freezeBinding("shop", "tier1", {"Deployment/web"})["metadata"].contains("ownerReferences"));
}

TEST(FreezeAdmissionPolicy, ExemptionNeedsTheFixedAnnotationAndTheExemptVerb) {
  const json policy = freezeAdmissionPolicy();
  std::string exempt;
  std::string freezes;
  for (const json& variable : policy["spec"]["variables"]) {
    if (variable["name"] == "exempt") exempt = variable["expression"];
    if (variable["name"] == "freezes") freezes = variable["expression"];
  }
  EXPECT_THAT(exempt, HasSubstr("'relops.dev/freeze-exempt' in object.metadata.annotations"));
  EXPECT_THAT(exempt, HasSubstr("authorizer.group('relops.dev').resource('errorbudgetpolicies')"
                                ".namespace(object.metadata.namespace).check('exempt').allowed()"));
  // Nothing the tenant writes chooses the key any more.
  EXPECT_THAT(policy.dump(), Not(HasSubstr("params.spec.exemptAnnotation")));
  EXPECT_THAT(freezes, HasSubstr("f.bySelector"));
  const json& validation = policy["spec"]["validations"][0];
  EXPECT_THAT(validation["expression"].get<std::string>(), HasSubstr("variables.exempt"));
  EXPECT_THAT(validation["messageExpression"].get<std::string>(),
              HasSubstr("needs permission to exempt errorbudgetpolicies.relops.dev"));
}

ErrorBudgetPolicy selectingPolicy() {
  ErrorBudgetPolicy p;
  p.metadata.name = "tier1";
  p.metadata.namespace_ = "shop";
  p.metadata.generation = 2;
  p.spec.sloSelector.matchLabels = {{"tier", "1"}};
  p.spec.workloadSelector = LabelSelector{{{"tier", "1"}}, {}};
  PolicyRule freeze;
  freeze.name = "exhausted";
  freeze.budgetRemainingBelow = *Percent::parse("0", "f");
  freeze.hysteresis = *Percent::parse("5", "f");
  freeze.freeze = true;
  p.spec.rules.push_back(freeze);
  return p;
}

TEST(DecideFreezes, MoreWorkloadsThanABindingNamesFreezeBySelector) {
  struct Case {
    const char* name;
    size_t selected;
    bool bySelector;
  };
  const Case cases[] = {{"64 are named", 64, false}, {"65 go by selector", 65, true}};
  for (const Case& c : cases) {
    std::vector<std::string> workloads;
    for (size_t i = 0; i < c.selected; ++i) workloads.push_back("Deployment/w" + std::to_string(i));
    SloBudgetInput slo{"web", {{"tier", "1"}}, -5.0, {}, workloads, "Deployment/w0"};
    const PolicyDecision decision = decidePolicy(selectingPolicy(), {slo}, json(), "shop", kNow);
    ASSERT_EQ(decision.status["activeFreezes"].size(), 1u) << c.name;
    const json& freeze = decision.status["activeFreezes"][0];
    EXPECT_EQ(decision.freezeBySelector, c.bySelector) << c.name;
    EXPECT_EQ(freeze.value("bySelector", false), c.bySelector) << c.name;
    // Never silently cut: either every workload is named, or the selector covers them.
    if (c.bySelector) {
      EXPECT_EQ(freeze["workloads"], json({"Deployment/w0"})) << c.name;
      EXPECT_EQ(decision.frozenWorkloads, std::vector<std::string>{"Deployment/w0"});
    } else {
      EXPECT_EQ(freeze["workloads"].size(), c.selected) << c.name;
    }
  }
}

TEST(MarkFreezeNotEnforced, FrozenIsFalseWithAReasonAndOneWarning) {
  const SloBudgetInput slo{"web", {{"tier", "1"}}, -5.0, {}, {"Deployment/web"}, "Deployment/web"};
  PolicyDecision first = decidePolicy(selectingPolicy(), {slo}, json(), "shop", kNow);
  markFreezeNotEnforced(first, json(), "apply freeze binding: 422 name too long", 2, kNow);
  const json* frozen = common::findCondition(first.status["conditions"], "Frozen");
  ASSERT_NE(frozen, nullptr);
  EXPECT_EQ((*frozen)["status"], "False");
  EXPECT_EQ((*frozen)["reason"], "FreezeNotEnforced");
  EXPECT_THAT((*frozen)["message"].get<std::string>(), HasSubstr("422 name too long"));
  std::vector<std::string> reasons;
  for (const PolicyEvent& event : first.events) reasons.push_back(event.reason);
  EXPECT_EQ(reasons, std::vector<std::string>{"FreezeNotEnforced"});
  EXPECT_EQ(first.events[0].type, "Warning");

  // Still failing at the next reconcile: no second Warning.
  PolicyDecision again = decidePolicy(selectingPolicy(), {slo}, first.status, "shop", kNow);
  markFreezeNotEnforced(again, first.status, "apply freeze binding: 422 name too long", 2, kNow);
  EXPECT_TRUE(again.events.empty());
}

TEST(PolicyTypes, TheExemptionKeyIsFixed) {
  json object = {{"apiVersion", "relops.dev/v1alpha1"},
                 {"kind", "ErrorBudgetPolicy"},
                 {"metadata", {{"name", "p"}, {"namespace", "shop"}}},
                 {"spec",
                  {{"sloSelector", {{"matchLabels", {{"tier", "1"}}}}},
                   {"rules", json::array({{{"name", "r"}, {"budgetRemainingBelow", "0"}}})}}}};
  EXPECT_TRUE(parsePolicy(object));
  object["spec"]["exemptAnnotation"] = "relops.dev/freeze-exempt";
  EXPECT_TRUE(parsePolicy(object));
  object["spec"]["exemptAnnotation"] = "deployment.kubernetes.io/revision";
  auto refused = parsePolicy(object);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message(), HasSubstr("fixed to relops.dev/freeze-exempt"));
}

}  // namespace
}  // namespace relops::policy
