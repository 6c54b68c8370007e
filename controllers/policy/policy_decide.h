// The ErrorBudgetPolicy controller's pure decision (DESIGN.md: gather, decide, act). The
// reconciler gathers each SLO's budget as its status shows it and hands it to
// decidePolicy(); it applies the admission objects for the returned workloads, writes the
// returned status only when it changed, records the returned Events, then deletes the
// bindings no longer needed. What it must remember between calls is in the status it
// writes: the rules that fire (firingRules), and since when a frozen SLO is gone
// (activeFreezes[].missingSince), so a restart of relops neither repeats an Event nor
// restarts a grace.
//
// Conditions (kstatus):
//   Ready   True once evaluated. Reason Evaluated, or NoSLOSelected when the sloSelector
//           matches nothing (such a policy can neither warn nor freeze); the message
//           counts the selected and frozen SLOs.
//   Frozen  True while any selected SLO is frozen (reason BudgetSpent, naming them) and its
//           binding is applied; False with reason FreezeNotEnforced (and one Warning
//           Event) when the binding could not be applied, so status never claims a
//           freeze the API server does not enforce.
// Events: Frozen and Thawed (decideFreezes), NoSLOSelected once when the policy starts
// to select nothing, BudgetBelowThreshold or BurnRateHigh once when a non-freeze rule
// starts to fire.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "controllers/policy/freeze.h"
#include "controllers/policy/policy_types.h"

namespace relops::policy {

inline constexpr std::string_view kReasonNoSLOSelected = "NoSLOSelected";
inline constexpr std::string_view kReasonFreezeNotEnforced = "FreezeNotEnforced";

// (SLO, rule) pairs that fire.
using FiringSet = std::set<std::pair<std::string, std::string>>;

struct PolicyDecision {
  nlohmann::json status;                     // the stored status with this evaluation
  std::vector<std::string> frozenWorkloads;  // kind/name, sorted, unique
  // Some freeze covers more than kMaxNamedWorkloads: freeze what the policy's
  // workloadSelector selects, by label.
  bool freezeBySelector = false;
  std::vector<PolicyEvent> events;  // in the order to record them
  FiringSet firing;                 // every (SLO, rule) that fires now
  // When the grace of a frozen SLO that is gone ends (kMissingSloGrace): look again then.
  std::optional<std::chrono::seconds> recheckAfter;
};

// The (SLO, rule) pairs a stored status (null or an object) remembers as firing.
FiringSet firingOf(const nlohmann::json& storedStatus);

// `storedStatus` is the policy's status as stored (null or an object): a rule that fires is
// announced when it is not in its firingRules. The grace of a gone SLO is measured from
// the missingSince of its freeze in `policy.status`.
PolicyDecision decidePolicy(const ErrorBudgetPolicy& policy,
                            const std::vector<SloBudgetInput>& slos,
                            const nlohmann::json& storedStatus, const std::string& namespace_,
                            std::chrono::system_clock::time_point now);

// The binding of a decided freeze could not be applied (`error`): Frozen becomes False with
// reason FreezeNotEnforced, the Frozen Events are dropped, and one Warning Event is added
// when the condition was not already saying so.
void markFreezeNotEnforced(PolicyDecision& decision, const nlohmann::json& storedStatus,
                           const std::string& error, int64_t generation,
                           std::chrono::system_clock::time_point now);

}  // namespace relops::policy
