// The ServiceLevelObjective's status as C++ values, and its reader: written by the SLO
// controller, read by the kinds that act on an SLO's budget (ErrorBudgetPolicy). crds/
// relops.dev_servicelevelobjectives.yaml is the source of truth for the shape.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "controllers/common/json_fields.h"
#include "operator/base/result.h"

namespace relops::common {

// Where ServiceLevelObjectives live in the API, for the kinds that watch them. Built into
// the caller's kube::ResourceRef (`serviceLevelObjectives<kube::ResourceRef>()`): this folder
// does not reach the Kubernetes client, so it names the coordinates, not the type.
template <typename ResourceRef>
ResourceRef serviceLevelObjectives() {
  return ResourceRef{"relops.dev", "v1alpha1", "servicelevelobjectives", "ServiceLevelObjective",
                     true};
}

struct BurnRateStatus {
  std::string window;
  std::string rate;
  friend bool operator==(const BurnRateStatus&, const BurnRateStatus&) = default;
};

struct ErrorBudgetStatus {
  std::string remaining;  // percent of the budget, may be negative
  std::string consumed;
  friend bool operator==(const ErrorBudgetStatus&, const ErrorBudgetStatus&) = default;
};

// Timeslice accounting of a workload SLI (controllers/slo/timeslices.h), persisted in status.
struct WorkloadStatus {
  int64_t goodMinutes = 0;
  int64_t badMinutes = 0;
  int64_t unknownMinutes = 0;
  std::string ledgerStart;
  std::string lastObservedTime;
  std::string lastObservedState;  // Good, Bad, Unknown
  std::string ledger;
  // The workload's metadata.resourceVersion when last observed: unchanged after an
  // operator restart, the workload cannot have changed state in between.
  std::string workloadResourceVersion;
  friend bool operator==(const WorkloadStatus&, const WorkloadStatus&) = default;
};

struct SloStatus {
  std::optional<int64_t> observedGeneration;
  std::vector<Condition> conditions;
  std::optional<std::string> sli;
  std::optional<ErrorBudgetStatus> errorBudget;
  std::vector<BurnRateStatus> burnRates;
  std::optional<std::string> evaluationTime;
  std::optional<WorkloadStatus> workload;
  friend bool operator==(const SloStatus&, const SloStatus&) = default;

  // The error budget left, in percent of the budget (negative once overspent); nullopt when
  // the status has no number (no data yet, or not a decimal).
  std::optional<double> budgetRemainingPercent() const;
  // Canonical window ("1h") → burn rate, for the windows whose rate is a number.
  std::map<std::string, double> burnRatesByWindow() const;
};

// Errors are kConfig and name the field path ("status.burnRates[0].window").
base::Result<SloStatus> parseSloStatus(const nlohmann::json& status);
nlohmann::json sloStatusJson(const SloStatus& status);

}  // namespace relops::common
