// Prometheus rules for an SLO: recording rules for the error ratio over each alert
// window and over the SLO window, multi-window multi-burn-rate alerts, and an
// absent-metric alert. Pure: the same function serves the reconciler and
// `relops generate`, and its output is byte-for-byte deterministic (golden files).
//
// Anchors: the SRE Workbook, "Alerting on SLOs" (recommendation 6, multiwindow
// multi-burn-rate alerts); Sloth internal/prometheus/{recording_rules,alert_rules}.go
// (recording names `slo:sli_error:ratio_rate<window>`, one series per window, alert =
// short AND long over factor × error budget); Pyrra slo/rules.go (sorted, deduplicated
// windows; `expr > (factor * (1-target)) and ...`; absent alert on the total series).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "controllers/slo/slo_types.h"
#include "operator/base/result.h"

namespace relops::slo {

// Recording names follow Prometheus's level:metric:operations convention (and Sloth's
// `slo:sli_error:ratio_rate5m`) under relops's own level, so they never collide with
// series a Sloth or Pyrra installation records next to them.
inline constexpr std::string_view kErrorRatioRecordPrefix = "relops_slo:sli_error:ratio_rate";
inline constexpr std::string_view kTotalRecordPrefix = "relops_slo:sli_total:increase";
inline constexpr std::string_view kBurnRateAlert = "SLOBurnRateHigh";
inline constexpr std::string_view kAbsentAlert = "SLOMetricAbsent";

struct Rule {
  std::string record;  // exactly one of record and alert
  std::string alert;
  std::string expr;
  std::optional<std::string> forDuration;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
};

struct RuleGroup {
  std::string name;
  std::vector<Rule> rules;
};

// One burn-rate row resolved for an SLO: factor = budgetPercent/100 × window / longWindow
// (Sloth's windows GetSpeed*), threshold = factor × (1 − objective).
struct AlertWindow {
  BurnRateWindow row;
  double factor = 0;
  std::string factorText;  // rounded to 6 decimals, as written into PromQL
  double threshold = 0;
};

struct GeneratedRules {
  std::vector<RuleGroup> groups;  // empty for a workload SLO: relops computes it itself
  std::vector<AlertWindow> alertWindows;
  std::vector<std::string> warnings;  // rows left out, alerts that can never fire
};

// The burn rate at which `budgetPercent` of the budget of `sloWindow` is spent within
// `longWindow`. 2% over 1h is 14.4 for 30d, 13.44 for 28d, 3.36 for 7d, 43.2 for 90d.
double burnRateFactor(const Percent& budgetPercent, const Duration& sloWindow,
                      const Duration& longWindow);

// The SLO's burn-rate rows with their factors. Rows whose long window is longer than the
// SLO window are left out (the budget of the whole window would be spent before the
// alert could tell), with a warning.
std::vector<AlertWindow> resolveAlertWindows(const SloSpec& spec,
                                             std::vector<std::string>* warnings);

// Every distinct alert window (short and long) in ascending order, as Pyrra's
// burnratesFromWindows.
std::vector<Duration> recordedWindows(const std::vector<AlertWindow>& windows);

std::string errorRatioRecordName(const Duration& range);
std::string totalRecordName(const Duration& range);

// The error ratio (bad / total events) over `range`, straight from the user's selectors.
// Empty for a workload indicator.
std::string errorRatioExpr(const SloSpec& spec, const Duration& range);

// `{namespace="…",slo="…"}`: what selects this SLO's recorded series.
std::string recordedSeriesMatchers(const ServiceLevelObjective& slo);

base::Result<GeneratedRules> generateRules(const ServiceLevelObjective& slo);

// The label every indicator selector is confined by (prometheus-operator's
// enforcedNamespaceLabel): a tenant's SLO reads only its own namespace's series.
inline constexpr std::string_view kNamespaceLabel = "namespace";

// A copy of `slo` whose indicator selectors all carry namespace="<its namespace>", any
// namespace matcher written in the spec replaced. Applied before rules are generated and
// before Prometheus is asked anything; left out only when the operator runs with
// --slo-namespace-label=false (single-tenant clusters).
ServiceLevelObjective confinedToNamespace(const ServiceLevelObjective& slo);

// Instant queries the status updater runs against Prometheus; all read recorded series.
struct StatusQueries {
  std::string errorRatio;   // over the SLO window
  std::string totalEvents;  // over the SLO window; 0 means no traffic (no data, not 100%)
  std::map<std::string, std::string> errorRatioByWindow;  // canonical window → query
  // Every series above in one instant query, {__name__=~"…|…",namespace="…",slo="…"}: what
  // a refresh asks (statusReading() in status_reading.h reads the answer).
  std::string combined;
};
StatusQueries statusQueries(const ServiceLevelObjective& slo);
// The same for alert windows already resolved (generateRules()'s), so a reconcile derives
// them once.
StatusQueries statusQueries(const ServiceLevelObjective& slo,
                            const std::vector<AlertWindow>& alertWindows);

// A calendar period's SLI and traffic, asked by their own range: no recording rule can hold
// a range that grows through the period. Straight from the (confined) selectors, per group;
// periodReading() in status_reading.h reads the answers.
struct PeriodQueries {
  std::string errorRatio;
  std::string totalEvents;
};
PeriodQueries periodQueries(const ServiceLevelObjective& slo, std::chrono::seconds range);

}  // namespace relops::slo
