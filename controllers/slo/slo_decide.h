// The ServiceLevelObjective controller's pure decision (DESIGN.md: gather, decide, act).
// The reconciler applies the rules child, reads Prometheus or advances the workload
// ledger, and hands what it saw to decideSlo(); it writes the returned status only when
// it changed, records the returned Events and exports the budget as metrics.
//
// Conditions (kstatus):
//   Ready            True once the rules are applied and, with Prometheus or a workload
//                    indicator, the budget is known.
//   Reconciling      True while waiting for Prometheus's first evaluation of the rules.
//   Stalled          True when Prometheus rejects the SLO's query, returns no data for
//                    longer than the grace period, or the workload does not exist.
//   BudgetExhausted  True when no error budget is left (remaining <= 0).
//   BurnRateHigh     True while a burn-rate row fires (long AND short window above its
//                    threshold), as the generated alert does.
//   OnCallRotationResolved  with an onCallRef only: True when the OnCallRotation exists in
//                    the SLO's own namespace (alerts carry oncall_rotation=<ns>/<name>),
//                    False (OnCallRotationNotFound, one Warning) when it does not — the
//                    label is then left out rather than routed to a rotation of that name
//                    elsewhere.
// Events, only on transitions: BudgetExhausted, BudgetRecovered, BurnRateHigh, and the
// reason of a new Stalled condition; PeriodClosed when a calendar period ends.
//
// Histories, bounded (constants below), oldest first:
//   periodHistory  calendar windows: each closed period's result (Met, Missed, NoData),
//                  SLI, budget consumed and, for workload SLOs, bad minutes.
//   burnEpisodes   each BurnRateHigh or BudgetExhausted episode: start, end (absent while
//                  it lasts), the peak burn rate seen, the budget left at its start and the
//                  budget spent during it (time to recover = end − start).
//   budgetTrail    the budget left by local date, one entry per date on which it changed
//                  (no write for a steady day); a calendar period's trail starts with it.
//
// Write avoidance: numbers are rounded (budget.h) and evaluationTime moves only when they
// change, so a steady SLO is not written every refresh. A workload SLO's ledger is
// written with its numbers, when the workload changes state, or when a gap of unknown
// minutes is added. A ledger without a good or bad minute is no data: the budget last
// shown is removed, never read as full.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "controllers/common/event.h"
#include "controllers/slo/budget.h"
#include "controllers/slo/calendar_period.h"
#include "controllers/slo/slo_types.h"
#include "controllers/slo/timeslices.h"
#include "controllers/slo/vocabulary.h"

namespace relops::slo {

inline constexpr std::string_view kConditionBudgetExhausted = "BudgetExhausted";
inline constexpr std::string_view kConditionBurnRateHigh = "BurnRateHigh";
inline constexpr std::string_view kConditionOnCallRotationResolved = "OnCallRotationResolved";
inline constexpr std::string_view kReasonOnCallRotationFound = "OnCallRotationFound";
inline constexpr std::string_view kReasonOnCallRotationNotFound = "OnCallRotationNotFound";
inline constexpr std::string_view kReasonBudgetEvaluated = "BudgetEvaluated";
inline constexpr std::string_view kReasonRulesApplied = "RulesApplied";
inline constexpr std::string_view kReasonWaitingForData = "WaitingForData";
inline constexpr std::string_view kReasonNoData = "NoData";
inline constexpr std::string_view kReasonInvalidQuery = "InvalidQuery";
inline constexpr std::string_view kReasonPrometheusUnavailable = "PrometheusUnavailable";
inline constexpr std::string_view kReasonWorkloadNotFound = "WorkloadNotFound";
inline constexpr std::string_view kReasonInvalidSpec = "InvalidSpec";
inline constexpr std::string_view kEventBudgetExhausted = "BudgetExhausted";
inline constexpr std::string_view kEventBudgetRecovered = "BudgetRecovered";
inline constexpr std::string_view kEventBurnRateHigh = "BurnRateHigh";
// A calendar period ended: Normal when its objective was met, Warning when missed or unknown.
inline constexpr std::string_view kEventPeriodClosed = "PeriodClosed";
// Bounds of the histories kept in status.
inline constexpr size_t kMaxPeriodHistory = 12;
inline constexpr size_t kMaxBurnEpisodes = 20;
inline constexpr size_t kMaxBudgetTrail = 92;
// Burn-rate rows that were left out or can never fire (Warning, once).
inline constexpr std::string_view kEventIneffectiveAlerts = "IneffectiveAlerts";

// One refresh from Prometheus: the recorded series of this SLO (statusQueries()).
struct PrometheusReading {
  std::optional<std::string> unavailable;  // the query failed (network, 5xx): the message
  std::optional<double> errorRatio;        // over the SLO window; nullopt: no data
  std::optional<double> totalEvents;       // over the SLO window
  std::vector<std::pair<Duration, double>> errorRatios;  // per recorded alert window
  std::optional<TimePoint> evaluatedAt;
};

// A calendar period that ended since the status last showed it, read at its end.
struct ClosedPeriod {
  Period period;
  std::optional<Budget> budget;       // nullopt: no data over the period
  std::optional<int64_t> badMinutes;  // workload SLOs
};

// The workload indicator after advancing the ledger to now.
struct WorkloadReading {
  std::string reference;  // "Deployment/web"
  bool found = true;
  SliceState state = SliceState::kUnknown;
  SliceTotals totals;
  WorkloadStatus ledger;                     // what to persist with the status
  std::optional<std::string> ledgerProblem;  // the stored ledger was unreadable: started afresh
};

struct SloObserved {
  int64_t generation = 0;
  nlohmann::json status;    // .status as stored; null when never written
  std::string rulesTarget;  // "PrometheusRule shop/relops-slo-x"; "" for a workload SLO
  std::vector<std::string> ruleWarnings;
  // Prometheus rejected the SLO's own error-ratio expression: its message.
  std::optional<std::string> invalidQuery;
  bool prometheusConfigured = false;
  std::optional<PrometheusReading> prometheus;
  std::optional<WorkloadReading> workload;
  // With an onCallRef: whether that OnCallRotation exists in the SLO's namespace.
  std::optional<bool> onCallRotationFound;
  // Maintenance windows that select the SLO (status.maintenance); absent: none, and no
  // silences kept.
  struct Maintenance {
    bool active = false;
    std::vector<std::string> windows;     // at most kMaxMaintenanceWindows
    std::vector<std::string> silenceIds;  // at most kMaxMaintenanceWindows
  };
  std::optional<Maintenance> maintenance;
  // Calendar windows: the period that holds now, and the one to close (the status shows
  // a period that has ended and is not yet in periodHistory).
  std::optional<Period> period;
  std::optional<ClosedPeriod> closedPeriod;
  // How long "no data" is waiting for Prometheus's first rule evaluation, not a fault.
  std::chrono::seconds noDataGrace{600};
};

using SloEvent = common::Event;

struct SloDecision {
  nlohmann::json status;  // the whole status to write
  bool statusChanged = false;
  std::vector<SloEvent> events;
  std::optional<Budget> budget;  // for relops_slo_* metrics; nullopt: no data
  std::vector<std::pair<std::string, double>> burnRates;  // canonical window → rate
};

SloDecision decideSlo(const ServiceLevelObjective& slo, const SloObserved& observed, TimePoint now);

// The period the stored status shows, if it has ended by `now` and is not yet in
// periodHistory: what the reconciler reads at its end for decideSlo() to close. A status of
// another window (the spec changed from month to week) closes nothing.
std::optional<Period> periodToClose(const CalendarWindow& calendar, const nlohmann::json& status,
                                    TimePoint now);

// A spec the API server accepted but relops cannot use (Stalled, one Event).
SloDecision decideInvalidSlo(int64_t generation, const nlohmann::json& status,
                             std::string_view message, TimePoint now);

}  // namespace relops::slo
