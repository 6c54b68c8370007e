#include "controllers/policy/policy_decide.h"

#include <algorithm>

#include "controllers/common/conditions.h"

namespace relops::policy {

using nlohmann::json;

namespace {

// The Ready message: how many SLOs are selected and frozen, and the frozen ones a freeze
// cannot cover.
std::string readyMessage(size_t selected, const std::vector<ActiveFreeze>& freezes) {
  std::vector<std::string> uncovered;
  for (const ActiveFreeze& freeze : freezes) {
    if (freeze.workloads.empty() && !freeze.bySelector) uncovered.push_back(freeze.slo);
  }
  std::string message =
      std::to_string(selected) + " SLO(s) selected, " + std::to_string(freezes.size()) + " frozen";
  if (!uncovered.empty()) {
    message += "; nothing to freeze for " + uncovered.front() +
               (uncovered.size() > 1 ? " and others" : "") +
               ": it has no workload indicator and the policy has no workloadSelector";
  }
  return message;
}

void setFrozenCondition(json& status, const std::vector<ActiveFreeze>& freezes, int64_t generation,
                        std::chrono::system_clock::time_point now) {
  if (freezes.empty()) {
    common::setStatusCondition(status, "Frozen", "False", "NoFreeze", "no selected SLO is frozen",
                               generation, now);
    return;
  }
  std::string names;
  for (const ActiveFreeze& freeze : freezes) names += (names.empty() ? "" : ", ") + freeze.slo;
  common::setStatusCondition(status, "Frozen", "True", "BudgetSpent",
                             "pod-template changes are denied for the workloads of: " + names,
                             generation, now);
}

// What status remembers of the rules that fire: the first kMaxFiringRules, in order.
std::vector<FiringRule> remembered(const FiringSet& firing) {
  std::vector<FiringRule> out;
  for (const auto& [slo, rule] : firing) {
    if (out.size() == kMaxFiringRules) break;
    out.push_back({slo, rule});
  }
  return out;
}

// Events for the non-freeze rules that fire now and did not before (a freeze has its
// own Frozen Event).
// Only what status remembers is announced, so an Event is never repeated.
void announceNewlyFiring(const ErrorBudgetPolicy& policy, const std::vector<FiringRule>& firingNow,
                         const FiringSet& firingBefore, std::vector<PolicyEvent>& events) {
  for (const FiringRule& firing : firingNow) {
    if (firingBefore.contains({firing.slo, firing.rule})) continue;
    const std::string& slo = firing.slo;
    const std::string& ruleName = firing.rule;
    const auto rule = std::find_if(policy.spec.rules.begin(), policy.spec.rules.end(),
                                   [&](const PolicyRule& r) { return r.name == ruleName; });
    if (rule == policy.spec.rules.end() || rule->freeze) continue;
    events.push_back({rule->severity == "Normal" ? "Normal" : "Warning",
                      rule->budgetRemainingBelow ? "BudgetBelowThreshold" : "BurnRateHigh", slo,
                      "SLO " + slo + ": rule " + ruleName +
                          (rule->budgetRemainingBelow
                               ? " (error budget below " + rule->budgetRemainingBelow->text() + "%)"
                               : " (burn rate above " + rule->burnRateAbove->text() + "x)")});
  }
}

}  // namespace

FiringSet firingOf(const json& storedStatus) {
  FiringSet firing;
  if (!storedStatus.is_object()) return firing;
  for (const json& item : storedStatus.value("firingRules", json::array())) {
    if (!item.is_object()) continue;
    firing.insert({item.value("slo", ""), item.value("rule", "")});
  }
  return firing;
}

PolicyDecision decidePolicy(const ErrorBudgetPolicy& policy,
                            const std::vector<SloBudgetInput>& slos, const json& storedStatus,
                            const std::string& namespace_,
                            std::chrono::system_clock::time_point now) {
  PolicyDecision decision;
  decision.status = storedStatus.is_object() ? storedStatus : json::object();
  json& status = decision.status;
  const int64_t generation = policy.metadata.generation;

  const FreezeDecision freezes = decideFreezes(
      policy, slos, std::chrono::floor<std::chrono::seconds>(now), missingSinceOf(policy.status));
  decision.recheckAfter = freezes.recheckAfter;
  for (const FiringRule& rule : freezes.firing) decision.firing.insert({rule.slo, rule.rule});
  PolicyStatus next;
  next.frozenCount = static_cast<int32_t>(freezes.activeFreezes.size());
  next.activeFreezes = freezes.activeFreezes;
  next.firingRules = remembered(decision.firing);
  const json computed = policyStatusJson(next);
  status["frozenCount"] = computed["frozenCount"];
  for (const char* list : {"activeFreezes", "firingRules"}) {
    if (computed.contains(list)) {
      status[list] = computed[list];
    } else {
      status.erase(list);
    }
  }
  setFrozenCondition(status, freezes.activeFreezes, generation, now);

  const auto selected =
      static_cast<size_t>(std::count_if(slos.begin(), slos.end(), [&](const SloBudgetInput& slo) {
        return policy.spec.sloSelector.matches(slo.labels);
      }));
  // A policy that selects nothing protects nothing: say so once, when it starts to. The
  // stored Ready reason remembers that it was said.
  const json conditions = status.value("conditions", json::array());
  const json* ready = common::findCondition(conditions, "Ready");
  const bool selectedNoneBefore =
      ready != nullptr && ready->value("reason", "") == kReasonNoSLOSelected;
  common::markReady(status, generation, selected == 0 ? kReasonNoSLOSelected : "Evaluated",
                    readyMessage(selected, freezes.activeFreezes), now);

  for (const ActiveFreeze& freeze : freezes.activeFreezes) {
    decision.freezeBySelector = decision.freezeBySelector || freeze.bySelector;
    decision.frozenWorkloads.insert(decision.frozenWorkloads.end(), freeze.workloads.begin(),
                                    freeze.workloads.end());
  }
  std::sort(decision.frozenWorkloads.begin(), decision.frozenWorkloads.end());
  decision.frozenWorkloads.erase(
      std::unique(decision.frozenWorkloads.begin(), decision.frozenWorkloads.end()),
      decision.frozenWorkloads.end());

  if (selected == 0 && !selectedNoneBefore) {
    decision.events.push_back({"Warning", std::string(kReasonNoSLOSelected), "",
                               "the sloSelector matches no ServiceLevelObjective in namespace " +
                                   namespace_ + ", so this policy can neither warn nor freeze"});
  }
  decision.events.insert(decision.events.end(), freezes.events.begin(), freezes.events.end());
  announceNewlyFiring(policy, next.firingRules, firingOf(storedStatus), decision.events);
  return decision;
}

void markFreezeNotEnforced(PolicyDecision& decision, const json& storedStatus,
                           const std::string& error, int64_t generation,
                           std::chrono::system_clock::time_point now) {
  const std::string message =
      "the freeze binding could not be applied, so the API server does "
      "not enforce the freeze: " +
      error;
  common::setStatusCondition(decision.status, "Frozen", "False", kReasonFreezeNotEnforced, message,
                             generation, now);
  std::erase_if(decision.events, [](const PolicyEvent& event) { return event.reason == "Frozen"; });
  const json conditions =
      storedStatus.is_object() ? storedStatus.value("conditions", json::array()) : json::array();
  const json* frozen = common::findCondition(conditions, "Frozen");
  if (frozen == nullptr || frozen->value("reason", "") != kReasonFreezeNotEnforced) {
    decision.events.push_back({"Warning", std::string(kReasonFreezeNotEnforced), "", message});
  }
}

}  // namespace relops::policy
