#include "controllers/policy/policy_types.h"

#include <algorithm>
#include <set>

namespace relops::policy {
namespace {

using nlohmann::json;

base::Result<PolicyRule> parseRule(const JsonObject& item) {
  PolicyRule rule;
  RELOPS_ASSIGN(rule.name, item.requiredString("name", 63));
  if (item.has("budgetRemainingBelow") == item.has("burnRateAbove")) {
    return fieldError(item.path(),
                      "a rule needs exactly one of budgetRemainingBelow or burnRateAbove");
  }
  if (item.has("burnRateAbove") != item.has("burnRateWindow")) {
    return fieldError(
        item.path(), "burnRateAbove needs burnRateWindow (and burnRateWindow needs burnRateAbove)");
  }
  std::optional<std::string> text;
  RELOPS_ASSIGN(text, item.optionalString("budgetRemainingBelow", 10));
  if (text) {
    auto percent = Percent::parse(*text, item.child("budgetRemainingBelow"));
    if (!percent || percent->micros() < -100000000 || percent->micros() >= 100000000) {
      return fieldError(item.child("budgetRemainingBelow"),
                        "budgetRemainingBelow must be a percentage of the budget from -100 to "
                        "below 100, as a string such as \"0\" or \"25\"");
    }
    rule.budgetRemainingBelow = *percent;
  }
  RELOPS_ASSIGN(text, item.optionalString("burnRateAbove", 10));
  if (text) {
    auto factor = Percent::parse(*text, item.child("burnRateAbove"));
    if (!factor || factor->micros() <= 0 || factor->micros() > 1000000000) {
      return fieldError(
          item.child("burnRateAbove"),
          "burnRateAbove must be a factor above 0 and at most 1000, as a string such as \"14.4\"");
    }
    rule.burnRateAbove = *factor;
  }
  RELOPS_ASSIGN(text, item.optionalString("burnRateWindow", 5));
  if (text)
    RELOPS_ASSIGN(rule.burnRateWindow, Duration::parse(*text, item.child("burnRateWindow")));
  RELOPS_ASSIGN(text, item.optionalString("hysteresis", 10));
  auto hysteresis = Percent::parse(text.value_or("5"), item.child("hysteresis"));
  if (!hysteresis || hysteresis->micros() < 0 || hysteresis->micros() > 50000000) {
    return fieldError(
        item.child("hysteresis"),
        "hysteresis must be from 0 to 50 percentage points, as a string such as \"5\"");
  }
  rule.hysteresis = *hysteresis;
  std::optional<bool> freeze;
  RELOPS_ASSIGN(freeze, item.optionalBool("freeze"));
  rule.freeze = freeze.value_or(false);
  if (rule.freeze && !rule.budgetRemainingBelow) {
    return fieldError(item.path(),
                      "freeze needs budgetRemainingBelow: a freeze lasts until the "
                      "budget recovers, and a burn rate alone says nothing about the budget left");
  }
  RELOPS_ASSIGN(text, item.optionalString("severity", 16));
  rule.severity = text.value_or("Warning");
  if (rule.severity != "Normal" && rule.severity != "Warning") {
    return fieldError(item.child("severity"), "Unsupported value \"" + rule.severity +
                                                  "\": supported values: Normal, Warning");
  }
  return rule;
}

}  // namespace

base::Result<PolicySpec> parsePolicySpec(const nlohmann::json& specJson) {
  if (!specJson.is_object()) return fieldError("spec", "required: an object");
  JsonObject spec;
  RELOPS_ASSIGN(spec, JsonObject::at(&specJson, "spec"));
  PolicySpec result;
  if (!spec.has("sloSelector")) return fieldError(spec.child("sloSelector"), "required");
  JsonObject selector;
  RELOPS_ASSIGN(selector, JsonObject::at(spec.get("sloSelector"), spec.child("sloSelector")));
  RELOPS_ASSIGN(result.sloSelector, parseLabelSelector(selector));
  if (spec.has("workloadSelector")) {
    RELOPS_ASSIGN(selector,
                  JsonObject::at(spec.get("workloadSelector"), spec.child("workloadSelector")));
    LabelSelector workloads;
    RELOPS_ASSIGN(workloads, parseLabelSelector(selector));
    if (workloads.matchLabels.empty()) {
      return fieldError(selector.path(),
                        "workloadSelector needs at least one matchLabels entry: an "
                        "empty selector would freeze every workload in the namespace");
    }
    result.workloadSelector = std::move(workloads);
  }
  const json* rules = spec.get("rules");
  const std::string path = spec.child("rules");
  if (rules == nullptr || !rules->is_array() || rules->empty()) {
    return fieldError(path, "required: a list of 1 to 8 rules");
  }
  if (rules->size() > 8) return fieldError(path, "must have at most 8 items");
  std::set<std::string> names;
  for (size_t i = 0; i < rules->size(); ++i) {
    JsonObject item;
    RELOPS_ASSIGN(item, JsonObject::at(&(*rules)[i], path + "[" + std::to_string(i) + "]"));
    PolicyRule rule;
    RELOPS_ASSIGN(rule, parseRule(item));
    if (!names.insert(rule.name).second) {
      return fieldError(item.child("name"), "duplicate rule \"" + rule.name + "\"");
    }
    result.rules.push_back(std::move(rule));
  }
  // The key used to be configurable; any key but the fixed one would let a tenant exempt
  // a change with an annotation they set anyway (the CRD refuses it too).
  std::optional<std::string> exempt;
  RELOPS_ASSIGN(exempt, spec.optionalString("exemptAnnotation", 317));
  if (exempt && *exempt != kExemptAnnotation) {
    return fieldError(spec.child("exemptAnnotation"), "the exemption annotation is fixed to " +
                                                          std::string(kExemptAnnotation) +
                                                          "; remove the field");
  }
  return result;
}

base::Result<ErrorBudgetPolicy> parsePolicy(const nlohmann::json& object) {
  if (!object.is_object()) return fieldError("", "not an object");
  if (stringOrEmpty(object, "apiVersion") != kApiVersion ||
      stringOrEmpty(object, "kind") != kPolicyKind) {
    return fieldError("kind", "want " + std::string(kApiVersion) + " " + std::string(kPolicyKind));
  }
  ErrorBudgetPolicy policy;
  RELOPS_ASSIGN(policy.metadata, parseObjectMeta(object));
  const auto spec = object.find("spec");
  if (spec == object.end()) return fieldError("spec", "required");
  RELOPS_ASSIGN(policy.spec, parsePolicySpec(*spec));
  const auto statusIt = object.find("status");
  if (statusIt == object.end() || statusIt->is_null()) return policy;
  JsonObject status;
  RELOPS_ASSIGN(status, JsonObject::at(&*statusIt, "status"));
  RELOPS_ASSIGN(policy.status.observedGeneration, status.optionalInt("observedGeneration"));
  RELOPS_ASSIGN(policy.status.conditions, parseConditions(status));
  std::optional<int64_t> frozen;
  RELOPS_ASSIGN(frozen, status.optionalInt("frozenCount"));
  policy.status.frozenCount = static_cast<int32_t>(frozen.value_or(0));
  if (const json* freezes = status.get("activeFreezes");
      freezes != nullptr && freezes->is_array()) {
    for (size_t i = 0; i < freezes->size(); ++i) {
      JsonObject item;
      RELOPS_ASSIGN(item, JsonObject::at(&(*freezes)[i], status.child("activeFreezes") + "[" +
                                                             std::to_string(i) + "]"));
      ActiveFreeze freeze;
      RELOPS_ASSIGN(freeze.slo, item.requiredString("slo", 253));
      RELOPS_ASSIGN(freeze.rule, item.requiredString("rule", 63));
      RELOPS_ASSIGN(freeze.since, item.requiredString("since", 64));
      std::optional<std::string> remaining;
      RELOPS_ASSIGN(remaining, item.optionalString("budgetRemaining", 16));
      freeze.budgetRemaining = remaining.value_or("");
      RELOPS_ASSIGN(freeze.workloads, item.stringList("workloads", kMaxNamedWorkloads, 300));
      std::optional<bool> bySelector;
      RELOPS_ASSIGN(bySelector, item.optionalBool("bySelector"));
      freeze.bySelector = bySelector.value_or(false);
      std::optional<std::string> missingSince;
      RELOPS_ASSIGN(missingSince, item.optionalString("missingSince", 64));
      freeze.missingSince = missingSince.value_or("");
      policy.status.activeFreezes.push_back(std::move(freeze));
    }
  }
  if (const json* firing = status.get("firingRules"); firing != nullptr && firing->is_array()) {
    for (size_t i = 0; i < firing->size() && i < kMaxFiringRules; ++i) {
      JsonObject item;
      RELOPS_ASSIGN(item, JsonObject::at(&(*firing)[i], status.child("firingRules") + "[" +
                                                            std::to_string(i) + "]"));
      FiringRule rule;
      RELOPS_ASSIGN(rule.slo, item.requiredString("slo", 253));
      RELOPS_ASSIGN(rule.rule, item.requiredString("rule", 63));
      policy.status.firingRules.push_back(std::move(rule));
    }
  }
  return policy;
}

nlohmann::json policySpecJson(const PolicySpec& spec) {
  json out = {{"sloSelector", labelSelectorJson(spec.sloSelector)}};
  if (spec.workloadSelector) out["workloadSelector"] = labelSelectorJson(*spec.workloadSelector);
  json rules = json::array();
  for (const PolicyRule& rule : spec.rules) {
    json item = {{"name", rule.name},
                 {"hysteresis", rule.hysteresis.text()},
                 {"freeze", rule.freeze},
                 {"severity", rule.severity}};
    if (rule.budgetRemainingBelow) item["budgetRemainingBelow"] = rule.budgetRemainingBelow->text();
    if (rule.burnRateAbove) item["burnRateAbove"] = rule.burnRateAbove->text();
    if (rule.burnRateWindow) item["burnRateWindow"] = rule.burnRateWindow->text();
    rules.push_back(std::move(item));
  }
  out["rules"] = std::move(rules);
  return out;
}

nlohmann::json policyStatusJson(const PolicyStatus& status) {
  json out = json::object();
  if (status.observedGeneration) out["observedGeneration"] = *status.observedGeneration;
  if (!status.conditions.empty()) out["conditions"] = conditionsJson(status.conditions);
  out["frozenCount"] = status.frozenCount;
  if (!status.activeFreezes.empty()) {
    json list = json::array();
    for (const ActiveFreeze& freeze : status.activeFreezes) {
      json item = {{"slo", freeze.slo}, {"rule", freeze.rule}, {"since", freeze.since}};
      if (!freeze.budgetRemaining.empty()) item["budgetRemaining"] = freeze.budgetRemaining;
      if (!freeze.workloads.empty()) item["workloads"] = freeze.workloads;
      if (freeze.bySelector) item["bySelector"] = true;
      if (!freeze.missingSince.empty()) item["missingSince"] = freeze.missingSince;
      list.push_back(std::move(item));
    }
    out["activeFreezes"] = std::move(list);
  }
  if (!status.firingRules.empty()) {
    json list = json::array();
    for (const FiringRule& rule : status.firingRules) {
      list.push_back({{"slo", rule.slo}, {"rule", rule.rule}});
    }
    out["firingRules"] = std::move(list);
  }
  return out;
}

nlohmann::json policyJson(const ErrorBudgetPolicy& policy) {
  return {{"apiVersion", kApiVersion},
          {"kind", kPolicyKind},
          {"metadata", objectMetaJson(policy.metadata)},
          {"spec", policySpecJson(policy.spec)},
          {"status", policyStatusJson(policy.status)}};
}

}  // namespace relops::policy
