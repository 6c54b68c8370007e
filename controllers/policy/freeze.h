// The change-freeze decision of an ErrorBudgetPolicy (SRE Workbook, "Example Error
// Budget Policy": while the budget is spent, releases other than P0 and security fixes
// stop). Pure: the freeze controller gathers each selected SLO's numbers, calls
// decideFreezes, creates the admission binding of every frozen SLO, deletes the others,
// writes the returned status, and emits the returned events.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "controllers/policy/policy_types.h"
#include "controllers/policy/vocabulary.h"

namespace relops::policy {

// Hysteresis of one budget rule, in percent of the budget: it starts to hold when the
// remaining budget falls below the threshold, and lets go only once it is above
// threshold + hysteresis, so a budget hovering at the threshold does not flap. Without
// data (std::nullopt) the previous state holds: no data is not a recovery.
bool budgetRuleHolds(const PolicyRule& rule, bool heldBefore,
                     std::optional<double> remainingPercent);

// What the freeze controller knows about one SLO of the namespace.
struct SloBudgetInput {
  std::string name;
  std::map<std::string, std::string> labels;
  std::optional<double> remainingPercent;   // percent of the budget; nullopt: no data
  std::map<std::string, double> burnRates;  // canonical window ("1h") → burn rate
  std::vector<std::string> workloads;       // kind/name of what a freeze covers
  // kind/name of the workload indicator's target; "" for none (initialised, so the
  // aggregate initialisations that predate it need not name it).
  std::string target = {};
};

struct PolicyEvent {
  std::string type;    // Normal or Warning
  std::string reason;  // Frozen, Thawed, BudgetBelowThreshold, BurnRateHigh
  std::string slo;
  std::string message;
  friend bool operator==(const PolicyEvent&, const PolicyEvent&) = default;
};

// How long a frozen SLO that has disappeared keeps its freeze: a delete and recreate (an
// Argo CD replace, a CRD reinstall, a restore) must not thaw it in between. The same
// tolerance as the workload ledger's (TimesliceLedger::kDefaultMaxGap).
inline constexpr std::chrono::minutes kMissingSloGrace{5};

struct FreezeDecision {
  std::vector<ActiveFreeze> activeFreezes;  // sorted by SLO; `since` kept while frozen
  std::vector<PolicyEvent> events;          // freeze and thaw transitions only
  // Every (SLO, rule) that fires now, freeze rules included: the controller turns the new
  // ones into Events and conditions (deduplicated against what it saw before).
  std::vector<FiringRule> firing;
  // Frozen SLOs that are gone but still within kMissingSloGrace, with the instant they
  // were first missed: pass back as `missingBefore` next time.
  std::map<std::string, TimePoint> missing;
  // When the earliest of those graces ends: look again then.
  std::optional<std::chrono::seconds> recheckAfter;
};

// `previous` is the policy's current status.activeFreezes. SLOs the policy no longer
// selects thaw; SLOs that are gone thaw once kMissingSloGrace has passed since they were
// first missed (`missingBefore`, what the previous call returned as `missing`; the held
// freeze carries it as missingSince, so status remembers it: missingSinceOf()).
FreezeDecision decideFreezes(const ErrorBudgetPolicy& policy,
                             const std::vector<SloBudgetInput>& slos, TimePoint now,
                             const std::map<std::string, TimePoint>& missingBefore = {});

// The denial message of the admission policy: names the SLO, its remaining budget and
// the way out.
std::string freezeMessage(const ErrorBudgetPolicy& policy, const ActiveFreeze& freeze);

// The `missingBefore` a status remembers: the missingSince of its active freezes.
std::map<std::string, TimePoint> missingSinceOf(const PolicyStatus& status);

}  // namespace relops::policy
