// ErrorBudgetPolicy (relops.dev/v1alpha1) as C++ values; crds/
// relops.dev_errorbudgetpolicies.yaml is the source of truth.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "controllers/policy/vocabulary.h"
#include "operator/base/result.h"

namespace relops::policy {

inline constexpr std::string_view kApiVersion = "relops.dev/v1alpha1";
inline constexpr std::string_view kPolicyKind = "ErrorBudgetPolicy";
// How many workloads a freeze lists by name (status, binding); a larger selection is frozen
// by the policy's workloadSelector instead.
inline constexpr size_t kMaxNamedWorkloads = 64;
// How many firing (SLO, rule) pairs status remembers (status.firingRules, the CRD's
// maxItems): a pair beyond it is neither remembered nor announced.
inline constexpr size_t kMaxFiringRules = 256;

struct PolicyRule {
  std::string name;
  std::optional<Percent> budgetRemainingBelow;  // percent of the budget; exactly one of these
  std::optional<Percent> burnRateAbove;         // a factor, with burnRateWindow
  std::optional<Duration> burnRateWindow;
  Percent hysteresis;  // percentage points of budget, default "5"
  bool freeze = false;
  std::string severity = "Warning";  // Event type
};

struct PolicySpec {
  LabelSelector sloSelector;
  std::optional<LabelSelector> workloadSelector;
  std::vector<PolicyRule> rules;
};

struct ActiveFreeze {
  std::string slo;
  std::string rule;
  std::string since;  // RFC 3339
  std::string budgetRemaining;
  std::vector<std::string> workloads;  // kind/name
  // More than kMaxNamedWorkloads selected: everything the workloadSelector selects is
  // frozen (by label), and `workloads` lists only the workload indicator's target.
  bool bySelector = false;
  // RFC 3339: when the SLO was first found gone ("" while it exists). Its freeze is held
  // through kMissingSloGrace from then, across restarts of relops.
  std::string missingSince = {};
  friend bool operator==(const ActiveFreeze&, const ActiveFreeze&) = default;
};

// One rule of the policy that fires for one SLO.
struct FiringRule {
  std::string slo;
  std::string rule;
  friend bool operator==(const FiringRule&, const FiringRule&) = default;
  friend auto operator<=>(const FiringRule&, const FiringRule&) = default;
};

struct PolicyStatus {
  std::optional<int64_t> observedGeneration;
  std::vector<Condition> conditions;
  int32_t frozenCount = 0;
  std::vector<ActiveFreeze> activeFreezes;
  // The (SLO, rule) pairs that fired at the last evaluation, sorted, at most
  // kMaxFiringRules: a rule's Event is sent when it starts firing, once, restarts included.
  std::vector<FiringRule> firingRules;
  friend bool operator==(const PolicyStatus&, const PolicyStatus&) = default;
};

struct ErrorBudgetPolicy {
  ObjectMeta metadata;
  PolicySpec spec;
  PolicyStatus status;
};

base::Result<ErrorBudgetPolicy> parsePolicy(const nlohmann::json& object);
base::Result<PolicySpec> parsePolicySpec(const nlohmann::json& spec);
nlohmann::json policyJson(const ErrorBudgetPolicy& policy);
nlohmann::json policySpecJson(const PolicySpec& spec);
nlohmann::json policyStatusJson(const PolicyStatus& status);

}  // namespace relops::policy
