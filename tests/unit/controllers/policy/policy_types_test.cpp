#include "controllers/policy/policy_types.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "controllers/common/yaml_json.h"

namespace relops::policy {
namespace {

using common::parseYamlDocuments;
using ::testing::HasSubstr;

nlohmann::json examplePolicy() {
  std::ifstream in(std::string(RELOPS_CRD_EXAMPLES_DIR) + "/errorbudgetpolicy-freeze.yaml");
  std::stringstream text;
  text << in.rdbuf();
  return parseYamlDocuments(text.str())->front();
}

TEST(PolicyTypes, ParsesTheExampleWithDefaults) {
  auto policy = parsePolicy(examplePolicy());
  ASSERT_TRUE(policy) << policy.error().describe();
  ASSERT_EQ(policy->spec.rules.size(), 3u);
  EXPECT_TRUE(policy->spec.rules[1].freeze);
  EXPECT_EQ(policy->spec.rules[0].hysteresis.text(), "5");
  EXPECT_EQ(policy->spec.rules[0].severity, "Normal");
  EXPECT_EQ(policy->spec.rules[2].burnRateWindow->canonical(), "1h");
}

TEST(PolicyTypes, RoundTrips) {
  auto policy = parsePolicy(examplePolicy());
  ASSERT_TRUE(policy);
  policy->status.frozenCount = 1;
  policy->status.activeFreezes = {
      {"checkout", "budget-exhausted", "2026-03-01T12:00:00Z", "-3.2", {"Deployment/checkout"}},
      {"search", "budget-exhausted", "2026-03-01T12:00:00Z", "-1", {}, true},
      {"gone",
       "budget-exhausted",
       "2026-03-01T11:00:00Z",
       "-4",
       {},
       false,
       "2026-03-01T12:01:00Z"}};
  policy->status.firingRules = {{"checkout", "budget-exhausted"}, {"checkout", "budget-low"}};
  policy->status.frozenCount = 2;
  const nlohmann::json json = policyJson(*policy);
  auto again = parsePolicy(json);
  ASSERT_TRUE(again) << again.error().describe();
  EXPECT_EQ(policyJson(*again), json);
  EXPECT_EQ(again->status, policy->status);
}

TEST(PolicyTypes, RejectsInvalidRulesNamingTheField) {
  struct Case {
    const char* name;
    const char* rule;
    const char* message;
  };
  const Case cases[] = {
      {"neither threshold", R"({"name": "a"})", "spec.rules[0]: a rule needs exactly one of"},
      {"both thresholds",
       R"({"name": "a", "budgetRemainingBelow": "0", "burnRateAbove": "2", "burnRateWindow": "1h"})",
       "exactly one of budgetRemainingBelow or burnRateAbove"},
      {"burn rate without window", R"({"name": "a", "burnRateAbove": "2"})",
       "burnRateAbove needs burnRateWindow"},
      {"freeze on burn rate",
       R"({"name": "a", "burnRateAbove": "2", "burnRateWindow": "1h", "freeze": true})",
       "freeze needs budgetRemainingBelow"},
      {"threshold out of range", R"({"name": "a", "budgetRemainingBelow": "100"})",
       "spec.rules[0].budgetRemainingBelow"},
      {"hysteresis too large", R"({"name": "a", "budgetRemainingBelow": "0", "hysteresis": "60"})",
       "spec.rules[0].hysteresis"},
      {"burn rate zero", R"({"name": "a", "burnRateAbove": "0", "burnRateWindow": "1h"})",
       "spec.rules[0].burnRateAbove"},
  };
  for (const Case& c : cases) {
    nlohmann::json object = examplePolicy();
    object["spec"]["rules"] = nlohmann::json::array({nlohmann::json::parse(c.rule)});
    auto policy = parsePolicy(object);
    ASSERT_FALSE(policy) << c.name;
    EXPECT_THAT(policy.error().message(), HasSubstr(c.message)) << c.name;
  }
  nlohmann::json object = examplePolicy();
  object["spec"]["workloadSelector"] = nlohmann::json::object();
  EXPECT_THAT(parsePolicy(object).error().message(), HasSubstr("spec.workloadSelector"));
  object = examplePolicy();
  object["spec"]["sloSelector"]["matchExpressions"] = {{{"key", "tier"}, {"operator", "In"}}};
  EXPECT_THAT(parsePolicy(object).error().message(), HasSubstr("need a non-empty values list"));
}

}  // namespace
}  // namespace relops::policy
