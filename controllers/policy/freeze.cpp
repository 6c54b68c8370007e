#include "controllers/policy/freeze.h"

#include <algorithm>
#include <set>

namespace relops::policy {

bool budgetRuleHolds(const PolicyRule& rule, bool heldBefore,
                     std::optional<double> remainingPercent) {
  if (!rule.budgetRemainingBelow) return false;
  if (!remainingPercent) return heldBefore;
  const double threshold = rule.budgetRemainingBelow->value();
  if (*remainingPercent < threshold) return true;
  return heldBefore && *remainingPercent <= threshold + rule.hysteresis.value();
}

FreezeDecision decideFreezes(const ErrorBudgetPolicy& policy,
                             const std::vector<SloBudgetInput>& slos, TimePoint now,
                             const std::map<std::string, TimePoint>& missingBefore) {
  FreezeDecision decision;
  std::map<std::string, const ActiveFreeze*> previous;
  for (const ActiveFreeze& freeze : policy.status.activeFreezes) previous[freeze.slo] = &freeze;

  std::vector<const SloBudgetInput*> selected;
  std::set<std::string> present;
  for (const SloBudgetInput& slo : slos) {
    present.insert(slo.name);
    if (policy.spec.sloSelector.matches(slo.labels)) selected.push_back(&slo);
  }
  std::sort(selected.begin(), selected.end(),
            [](const SloBudgetInput* a, const SloBudgetInput* b) { return a->name < b->name; });

  for (const SloBudgetInput* slo : selected) {
    const auto before = previous.find(slo->name);
    const bool frozenBefore = before != previous.end();
    const PolicyRule* holding = nullptr;
    for (const PolicyRule& rule : policy.spec.rules) {
      bool fires = false;
      if (rule.budgetRemainingBelow) {
        // A freeze rule sticks through its hysteresis band; a notification rule fires on
        // the threshold alone (the controller deduplicates its Events).
        fires = budgetRuleHolds(rule, rule.freeze && frozenBefore, slo->remainingPercent);
      } else if (rule.burnRateAbove && rule.burnRateWindow) {
        const auto rate = slo->burnRates.find(rule.burnRateWindow->canonical());
        fires = rate != slo->burnRates.end() && rate->second > rule.burnRateAbove->value();
      }
      if (!fires) continue;
      decision.firing.push_back({slo->name, rule.name});
      if (rule.freeze && holding == nullptr) holding = &rule;
    }
    const std::string remaining =
        slo->remainingPercent ? formatDecimal(*slo->remainingPercent, 1) : "";
    if (holding != nullptr) {
      ActiveFreeze freeze;
      freeze.slo = slo->name;
      freeze.rule = holding->name;
      freeze.since = frozenBefore ? before->second->since : formatRfc3339(now);
      freeze.budgetRemaining =
          remaining.empty() && frozenBefore ? before->second->budgetRemaining : remaining;
      freeze.workloads = slo->workloads;
      std::sort(freeze.workloads.begin(), freeze.workloads.end());
      if (freeze.workloads.size() > kMaxNamedWorkloads && policy.spec.workloadSelector) {
        // Too many to name: the binding freezes by the policy's workloadSelector instead,
        // and only the indicator's target (which the selector may not select) is named.
        freeze.bySelector = true;
        freeze.workloads.clear();
        if (!slo->target.empty()) freeze.workloads.push_back(slo->target);
      }
      if (!frozenBefore) {
        decision.events.push_back(
            {"Warning", "Frozen", slo->name,
             "Error budget of SLO " + slo->name + " is at " + remaining + "% (rule " +
                 holding->name +
                 "): pod-template changes of its workloads are frozen until it "
                 "is above " +
                 formatDecimal(holding->budgetRemainingBelow->value() + holding->hysteresis.value(),
                               1) +
                 "%"});
      }
      decision.activeFreezes.push_back(std::move(freeze));
    } else if (frozenBefore) {
      decision.events.push_back({"Normal", "Thawed", slo->name,
                                 "Error budget of SLO " + slo->name + " recovered to " + remaining +
                                     "%: the freeze is lifted"});
    }
    previous.erase(slo->name);
  }
  // Frozen before, but gone: held through kMissingSloGrace, so a delete and recreate does
  // not thaw it in between (the recreated SLO has no ledger yet: no data, which holds too).
  for (const auto& [name, freeze] : previous) {
    if (present.contains(name)) continue;
    const auto missed = missingBefore.find(name);
    const TimePoint since = missed != missingBefore.end() ? missed->second : now;
    if (now - since < kMissingSloGrace) {
      decision.missing[name] = since;
      const auto left =
          std::chrono::duration_cast<std::chrono::seconds>(kMissingSloGrace - (now - since));
      if (!decision.recheckAfter || left < *decision.recheckAfter) decision.recheckAfter = left;
      ActiveFreeze held = *freeze;
      held.missingSince = formatRfc3339(since);
      decision.activeFreezes.push_back(std::move(held));
      continue;
    }
    decision.events.push_back({"Normal", "Thawed", name,
                               "SLO " + name + " has been gone for " +
                                   std::to_string(kMissingSloGrace.count()) +
                                   " minutes: the freeze is lifted"});
  }
  // Frozen before, but no longer selected.
  for (const auto& [name, freeze] : previous) {
    if (!present.contains(name)) continue;
    decision.events.push_back({"Normal", "Thawed", name,
                               "SLO " + name +
                                   " is no longer selected by the policy: the freeze "
                                   "is lifted"});
  }
  std::sort(decision.activeFreezes.begin(), decision.activeFreezes.end(),
            [](const ActiveFreeze& a, const ActiveFreeze& b) { return a.slo < b.slo; });
  return decision;
}

std::string freezeMessage(const ErrorBudgetPolicy& policy, const ActiveFreeze& freeze) {
  return "change freeze: the error budget of ServiceLevelObjective " + policy.metadata.namespace_ +
         "/" + freeze.slo + " is spent (" +
         (freeze.budgetRemaining.empty() ? "no data" : freeze.budgetRemaining + "% left") +
         ", ErrorBudgetPolicy " + policy.metadata.name + ", rule " + freeze.rule +
         "). Changes to the pod template are denied until the budget recovers; scaling is "
         "allowed. For a P0 or security fix, annotate the object with " +
         std::string(kExemptAnnotation) + ": \"<ticket or reason>\" (needs permission to " +
         std::string(kExemptVerb) + " errorbudgetpolicies.relops.dev in this namespace).";
}

std::map<std::string, TimePoint> missingSinceOf(const PolicyStatus& status) {
  std::map<std::string, TimePoint> missing;
  for (const ActiveFreeze& freeze : status.activeFreezes) {
    if (freeze.missingSince.empty()) continue;
    if (const auto since = parseRfc3339(freeze.missingSince, "missingSince")) {
      missing[freeze.slo] = *since;
    }
  }
  return missing;
}

}  // namespace relops::policy
