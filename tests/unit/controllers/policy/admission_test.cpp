// The admission objects that enforce a freeze (controllers/policy/admission.h), as named
// table cases: named and selector bindings, names at the 253-character limit, owner
// references with and without the owner's UID, the wiring of the parameter (the
// ErrorBudgetPolicy) into the denial message, and the applied-hash that avoids rewrites.
// What the API server does with these objects is the e2e tests' (tests/e2e/test_slo_freeze*).
#include "controllers/policy/admission.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "controllers/policy/freeze.h"

namespace relops::policy {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

bool isDnsSubdomain(const std::string& name) {
  static const std::regex kSubdomain(
      "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
  return name.size() <= 253 && std::regex_match(name, kSubdomain);
}

LabelSelector tierOne() {
  LabelSelector selector;
  selector.matchLabels = {{"tier", "1"}};
  return selector;
}

TEST(FreezeBindings, NamedAndBySelector) {
  struct Case {
    const char* name;
    json binding;
    std::string bindingName;
    json resourceRules;
    json objectSelector;  // null: none
  };
  const Case cases[] = {
      {"named: one rule per resource, sorted, with the names",
       freezeBinding("shop", "tier1", {"StatefulSet/db", "Deployment/web", "Deployment/api"}),
       "relops.dev-freeze.shop.tier1", json::parse(R"([
         {"apiGroups":["apps"],"apiVersions":["v1"],"resources":["deployments"],
          "operations":["UPDATE"],"resourceNames":["web","api"]},
         {"apiGroups":["apps"],"apiVersions":["v1"],"resources":["statefulsets"],
          "operations":["UPDATE"],"resourceNames":["db"]}])"),
       json()},
      {"named: a DaemonSet, and an entry without a kind is left out",
       freezeBinding("shop", "tier1", {"DaemonSet/agent", "no-slash"}),
       "relops.dev-freeze.shop.tier1",
       json::parse(R"([{"apiGroups":["apps"],"apiVersions":["v1"],"resources":["daemonsets"],
                        "operations":["UPDATE"],"resourceNames":["agent"]}])"),
       json()},
      {"by selector: every workload resource, filtered by the workloadSelector",
       freezeSelectorBinding("shop", "tier1", tierOne()), "relops.dev-freeze.shop.tier1.selector",
       json::parse(R"([{"apiGroups":["apps"],"apiVersions":["v1"],
                        "resources":["deployments","statefulsets","daemonsets"],
                        "operations":["UPDATE"]},
                       {"apiGroups":["argoproj.io"],"apiVersions":["v1alpha1"],
                        "resources":["rollouts"],"operations":["UPDATE"]}])"),
       json::parse(R"({"matchLabels":{"tier":"1"}})")},
      {"rollouts: the Argo Rollouts the workloadSelector selects",
       freezeRolloutBinding("shop", "tier1", tierOne()), "relops.dev-freeze.shop.tier1.rollouts",
       json::parse(R"([{"apiGroups":["argoproj.io"],"apiVersions":["v1alpha1"],
                        "resources":["rollouts"],"operations":["UPDATE"]}])"),
       json::parse(R"({"matchLabels":{"tier":"1"}})")},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.binding["apiVersion"], "admissionregistration.k8s.io/v1");
    EXPECT_EQ(c.binding["kind"], "ValidatingAdmissionPolicyBinding");
    EXPECT_EQ(c.binding["metadata"]["name"], c.bindingName);
    EXPECT_EQ(c.binding["metadata"]["labels"]["app.kubernetes.io/managed-by"], "relops");
    EXPECT_EQ(c.binding["metadata"]["labels"][kPolicyNamespaceLabel], "shop");
    EXPECT_EQ(c.binding["metadata"]["labels"][kPolicyHashLabel], policyLabelValue("shop", "tier1"));
    EXPECT_EQ(c.binding["metadata"]["annotations"][kPolicyNameAnnotation], "tier1");
    const json& spec = c.binding["spec"];
    EXPECT_EQ(spec["policyName"], kFreezeAdmissionPolicy);
    EXPECT_EQ(spec["validationActions"], json({"Deny"}));
    EXPECT_EQ(spec["matchResources"]["resourceRules"], c.resourceRules);
    EXPECT_EQ(spec["matchResources"]["namespaceSelector"],
              json::parse(R"({"matchLabels":{"kubernetes.io/metadata.name":"shop"}})"));
    if (c.objectSelector.is_null()) {
      EXPECT_FALSE(spec["matchResources"].contains("objectSelector"));
    } else {
      EXPECT_EQ(spec["matchResources"]["objectSelector"], c.objectSelector);
    }
  }
}

TEST(FreezeBindings, NamesAreBoundedAt253) {
  struct Case {
    const char* name;
    std::string namespace_;
    std::string policy;
    FreezeBindingKind kind;
    size_t length;  // of the binding's name
  };
  const std::string longest(253, 'p');
  const Case cases[] = {
      {"short names are kept as they read", "shop", "tier1", FreezeBindingKind::kNamed, 28},
      {"just fits", std::string(63, 'n'), std::string(253 - 18 - 63 - 1, 'p'),
       FreezeBindingKind::kNamed, 253},
      {"one over: cut and hashed", std::string(63, 'n'), std::string(253 - 18 - 63, 'p'),
       FreezeBindingKind::kNamed, 253},
      {"longest policy name, named", std::string(63, 'n'), longest, FreezeBindingKind::kNamed, 253},
      {"longest policy name, by selector", std::string(63, 'n'), longest,
       FreezeBindingKind::kBySelector, 253},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string name = freezeBindingName(c.namespace_, c.policy, c.kind);
    EXPECT_EQ(name.size(), c.length) << name;
    EXPECT_TRUE(isDnsSubdomain(name)) << name;
    const json binding = c.kind == FreezeBindingKind::kNamed
                             ? freezeBinding(c.namespace_, c.policy, {"Deployment/web"})
                             : freezeSelectorBinding(c.namespace_, c.policy, tierOne());
    EXPECT_EQ(binding["metadata"]["name"], name);
    // The parameter is found by the full name, whatever the binding is called.
    EXPECT_EQ(binding["spec"]["paramRef"]["name"], c.policy);
    EXPECT_EQ(binding["metadata"]["annotations"][kPolicyNameAnnotation], c.policy);
  }
  // Two policies whose names differ only after the cut get different bindings.
  EXPECT_NE(freezeBindingName("shop", longest + "a"), freezeBindingName("shop", longest + "b"));
}

TEST(AdmissionObjects, OwnerReferencesWhenTheOwnerIsKnown) {
  struct Case {
    const char* name;
    json object;
    json owners;  // null: none
  };
  const Case cases[] = {
      {"admission policy owned by the CRD", freezeAdmissionPolicy("crd-uid"),
       json::parse(R"([{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
                        "name":"errorbudgetpolicies.relops.dev","uid":"crd-uid",
                        "controller":true}])")},
      {"admission policy without the CRD's UID", freezeAdmissionPolicy(), json()},
      {"named binding owned by the admission policy",
       freezeBinding("shop", "tier1", {"Deployment/web"}, "vap-uid"),
       json::parse(R"([{"apiVersion":"admissionregistration.k8s.io/v1",
                        "kind":"ValidatingAdmissionPolicy","name":"relops.dev-freeze",
                        "uid":"vap-uid","controller":true}])")},
      {"selector binding owned by the admission policy",
       freezeSelectorBinding("shop", "tier1", tierOne(), "vap-uid"),
       json::parse(R"([{"apiVersion":"admissionregistration.k8s.io/v1",
                        "kind":"ValidatingAdmissionPolicy","name":"relops.dev-freeze",
                        "uid":"vap-uid","controller":true}])")},
      {"named binding without the admission policy's UID",
       freezeBinding("shop", "tier1", {"Deployment/web"}), json()},
      {"selector binding without the admission policy's UID",
       freezeSelectorBinding("shop", "tier1", tierOne()), json()},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    if (c.owners.is_null()) {
      EXPECT_FALSE(c.object["metadata"].contains("ownerReferences"));
    } else {
      // No blockOwnerDeletion: deleting the owner never waits on what it owns.
      EXPECT_EQ(c.object["metadata"]["ownerReferences"], c.owners);
    }
  }
}

// The denial message, a CEL concatenation of string literals and references, evaluated
// here for one freeze: enough CEL to follow `'literal' + params.x + variables.y`.
std::string evaluateConcatenation(std::string expression,
                                  const std::map<std::string, std::string>& values,
                                  const std::string& budgetRemaining) {
  const std::string conditional =
      "(has(variables.freeze.budgetRemaining) ? variables.freeze.budgetRemaining + '% left' : "
      "'no data')";
  const auto at = expression.find(conditional);
  if (at == std::string::npos) return "<no budgetRemaining conditional>";
  expression.replace(
      at, conditional.size(),
      "'" + (budgetRemaining.empty() ? "no data" : budgetRemaining + "% left") + "'");
  std::string out;
  for (size_t i = 0; i < expression.size();) {
    const char c = expression[i];
    if (c == '\'') {
      const auto end = expression.find('\'', i + 1);
      out += expression.substr(i + 1, end - i - 1);
      i = end + 1;
    } else if (std::isalpha(static_cast<unsigned char>(c))) {
      size_t end = i;
      while (end < expression.size() &&
             (std::isalnum(static_cast<unsigned char>(expression[end])) || expression[end] == '.' ||
              expression[end] == '_')) {
        ++end;
      }
      const auto value = values.find(expression.substr(i, end - i));
      out += value == values.end() ? "<" + expression.substr(i, end - i) + ">" : value->second;
      i = end;
    } else {
      ++i;  // spaces and +
    }
  }
  return out;
}

TEST(FreezeAdmissionPolicy, TheParameterIsThePolicyAndTheMessageReadsLikeFreezeMessage) {
  const json admission = freezeAdmissionPolicy();
  EXPECT_EQ(admission["metadata"]["name"], kFreezeAdmissionPolicy);
  EXPECT_EQ(admission["spec"]["paramKind"],
            json::parse(R"({"apiVersion":"relops.dev/v1alpha1","kind":"ErrorBudgetPolicy"})"));
  EXPECT_EQ(admission["spec"]["failurePolicy"], "Fail");
  // A binding's paramRef names its policy in its namespace; a policy deleted under a
  // binding lets changes through rather than denying everything.
  const json paramRef = freezeBinding("shop", "tier1", {"Deployment/web"})["spec"]["paramRef"];
  EXPECT_EQ(
      paramRef,
      json::parse(R"({"name":"tier1","namespace":"shop","parameterNotFoundAction":"Allow"})"));
  // The freeze the message names comes from the parameter's live status.
  std::string freezes;
  for (const json& variable : admission["spec"]["variables"]) {
    if (variable["name"] == "freezes") freezes = variable["expression"];
  }
  EXPECT_THAT(freezes, HasSubstr("params.status.activeFreezes"));

  ErrorBudgetPolicy policy;
  policy.metadata.name = "tier1";
  policy.metadata.namespace_ = "shop";
  struct Case {
    const char* name;
    ActiveFreeze freeze;
  };
  const Case cases[] = {
      {"with a budget", {"checkout", "exhausted", "2026-03-01T12:00:00Z", "-2.5", {}}},
      {"without data", {"checkout", "exhausted", "2026-03-01T12:00:00Z", "", {}}},
  };
  const std::string message = admission["spec"]["validations"][0]["messageExpression"];
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::map<std::string, std::string> values = {
        {"params.metadata.namespace", policy.metadata.namespace_},
        {"params.metadata.name", policy.metadata.name},
        {"variables.freeze.slo", c.freeze.slo},
        {"variables.freeze.rule", c.freeze.rule}};
    EXPECT_EQ(evaluateConcatenation(message, values, c.freeze.budgetRemaining),
              freezeMessage(policy, c.freeze));
  }
}

TEST(AppliedHash, AnObjectIsReappliedOnlyWhenWhatRelopsAppliesChanged) {
  const json desired = stampAppliedHash(freezeBinding("shop", "tier1", {"Deployment/web"}, "u1"));
  json defaulted = desired;  // as the API server returns it: defaults filled in
  defaulted["spec"]["matchResources"]["matchPolicy"] = "Equivalent";
  defaulted["metadata"]["uid"] = "binding-uid";
  struct Case {
    const char* name;
    std::optional<json> applied;
    bool asIs;
  };
  const std::vector<Case> cases = {
      {"nothing applied yet", std::nullopt, false},
      {"applied as is, with the server's defaults", defaulted, true},
      {"another workload frozen since",
       stampAppliedHash(freezeBinding("shop", "tier1", {"Deployment/api"}, "u1")), false},
      {"applied before it had an owner",
       stampAppliedHash(freezeBinding("shop", "tier1", {"Deployment/web"})), false},
      {"not applied by relops", freezeBinding("shop", "tier1", {"Deployment/web"}, "u1"), false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(appliedAsIs(c.applied ? &*c.applied : nullptr, desired), c.asIs);
  }
}

}  // namespace
}  // namespace relops::policy
