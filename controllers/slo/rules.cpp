#include "controllers/slo/rules.h"

#include <algorithm>
#include <cmath>

namespace relops::slo {
namespace {

std::string joinLabels(const std::vector<std::string>& labels) {
  std::string text;
  for (size_t i = 0; i < labels.size(); ++i) text += (i > 0 ? ", " : "") + labels[i];
  return text;
}

// `sum by (a, b) (fn(selector[range]))`; plain `sum(...)` without grouping.
std::string aggregate(std::string_view fn, const Selector& selector,
                      const std::vector<std::string>& grouping, const Duration& range) {
  const std::string inner =
      std::string(fn) + "(" + selector.promql() + "[" + range.canonical() + "])";
  if (grouping.empty()) return "sum(" + inner + ")";
  return "sum by (" + joinLabels(grouping) + ") (" + inner + ")";
}

// `part` over `total`, where a missing `part` series counts as 0: a service that never
// failed may have no errors series at all, and `or 0 * total` keeps the ratio defined
// per group (Pyrra's generic rules use `or vector(0)`, which loses the grouping labels).
std::string ratioOf(const std::string& part, const std::string& total) {
  return "(" + part + " or 0 * " + total + ") / " + total;
}

std::string sloRef(const ServiceLevelObjective& slo) {
  return slo.metadata.namespace_ + "/" + slo.metadata.name;
}

std::map<std::string, std::string> seriesLabels(const ServiceLevelObjective& slo) {
  return {{"namespace", slo.metadata.namespace_}, {"slo", slo.metadata.name}};
}

std::map<std::string, std::string> alertLabels(const ServiceLevelObjective& slo,
                                               const std::string& severity) {
  std::map<std::string, std::string> labels = slo.spec.alerting.labels;
  labels["namespace"] = slo.metadata.namespace_;
  labels["slo"] = slo.metadata.name;
  labels["service"] = slo.spec.service;
  labels["severity"] = severity;
  // onCallRef resolves in the SLO's namespace: the label names the rotation there, so a
  // route cannot confuse it with another namespace's rotation of the same name.
  if (slo.spec.onCallRef) {
    labels["oncall_rotation"] = slo.metadata.namespace_ + "/" + *slo.spec.onCallRef;
  }
  return labels;
}

std::string budgetPercentOfObjective(const SloSpec& spec) {
  // 100 − objective, exact: "99.9" → "0.1".
  return formatDecimal(std::stod(spec.objective.complementFractionText()) * 100, 6);
}

const Selector& totalSelector(const SloSpec& spec) {
  if (const auto* ratio = std::get_if<RatioIndicator>(&spec.indicator)) return ratio->total;
  return std::get<LatencyIndicator>(spec.indicator).total;
}

const std::vector<std::string>& grouping(const SloSpec& spec) {
  if (const auto* ratio = std::get_if<RatioIndicator>(&spec.indicator)) return ratio->grouping;
  return std::get<LatencyIndicator>(spec.indicator).grouping;
}

Rule burnRateAlert(const ServiceLevelObjective& slo, const AlertWindow& window) {
  const std::string matchers = recordedSeriesMatchers(slo);
  const std::string threshold =
      "(" + window.factorText + " * " + slo.spec.objective.complementFractionText() + ")";
  Rule rule;
  rule.alert = std::string(kBurnRateAlert);
  // Both windows must burn (SRE Workbook: the long window for significance, the short one
  // so the alert resets soon after the burn stops); `and` matches on the slo, namespace
  // and grouping labels both recorded series share.
  rule.expr = errorRatioRecordName(window.row.longWindow) + matchers + " > " + threshold + " and " +
              errorRatioRecordName(window.row.shortWindow) + matchers + " > " + threshold;
  if (window.row.forDuration) rule.forDuration = window.row.forDuration->canonical();
  rule.labels = alertLabels(slo, window.row.severity);
  // Pyrra propagates the windows as labels, so routes and silences can tell rows apart.
  rule.labels["long"] = window.row.longWindow.canonical();
  rule.labels["short"] = window.row.shortWindow.canonical();
  const std::string budget = budgetPercentOfObjective(slo.spec);
  rule.annotations["summary"] = "SLO " + sloRef(slo) + " (service " + slo.spec.service +
                                ") is burning its error budget " + window.factorText +
                                " times too fast";
  rule.annotations["description"] =
      "The error ratio over the last " + window.row.longWindow.canonical() + " and " +
      window.row.shortWindow.canonical() + " is above " + window.factorText + " x " + budget +
      "%: at this rate " + window.row.budgetPercent.text() + "% of the " + slo.spec.windowText() +
      " error budget is spent within " + window.row.longWindow.canonical() +
      ". Objective: " + slo.spec.objective.text() + "% over " + slo.spec.windowDescription() + ".";
  if (!slo.spec.alerting.runbookURL.empty()) {
    rule.annotations["runbook_url"] = slo.spec.alerting.runbookURL;
  }
  return rule;
}

Rule absentAlert(const ServiceLevelObjective& slo, const std::vector<AlertWindow>& windows) {
  const Selector& total = totalSelector(slo.spec);
  Rule rule;
  rule.alert = std::string(kAbsentAlert);
  // Pyrra's absent alert: without the total series there is no SLI, and burn-rate alerts
  // stay silent however bad things are.
  rule.expr = "absent(" + total.promql() + ")";
  rule.forDuration = slo.spec.alerting.absentFor->canonical();
  rule.labels = alertLabels(slo, windows.empty() ? "critical" : windows.front().row.severity);
  rule.annotations["summary"] =
      "SLO " + sloRef(slo) + " (service " + slo.spec.service + ") has no data";
  rule.annotations["description"] =
      "No series matches " + total.promql() + " for " + slo.spec.alerting.absentFor->canonical() +
      ": the SLI cannot be computed and burn-rate alerts cannot fire.";
  if (!slo.spec.alerting.runbookURL.empty()) {
    rule.annotations["runbook_url"] = slo.spec.alerting.runbookURL;
  }
  return rule;
}

}  // namespace

double burnRateFactor(const Percent& budgetPercent, const Duration& sloWindow,
                      const Duration& longWindow) {
  // Integers until the one division: exact for every table in the Workbook.
  const double numerator =
      static_cast<double>(budgetPercent.micros()) * static_cast<double>(sloWindow.seconds());
  const double denominator = 1e8 * static_cast<double>(longWindow.seconds());
  return numerator / denominator;
}

std::vector<AlertWindow> resolveAlertWindows(const SloSpec& spec,
                                             std::vector<std::string>* warnings) {
  std::vector<AlertWindow> windows;
  const double budget = std::stod(spec.objective.complementFractionText());
  for (const BurnRateWindow& row : spec.alerting.burnRateWindows) {
    if (row.longWindow > spec.window) {
      if (warnings != nullptr) {
        warnings->push_back("burn-rate window " + row.name + " is left out: its long window " +
                            row.longWindow.canonical() + " is longer than the SLO window " +
                            spec.window.canonical());
      }
      continue;
    }
    AlertWindow window;
    window.row = row;
    window.factor = burnRateFactor(row.budgetPercent, spec.window, row.longWindow);
    window.factorText = formatDecimal(window.factor, 6);
    window.threshold = std::stod(window.factorText) * budget;
    if (window.threshold >= 1.0 && warnings != nullptr) {
      warnings->push_back("burn-rate alert " + row.name + " can never fire: its threshold " +
                          window.factorText + " x " + formatDecimal(budget, 8) +
                          " is an error ratio of 1 or more");
    }
    windows.push_back(std::move(window));
  }
  return windows;
}

std::vector<Duration> recordedWindows(const std::vector<AlertWindow>& windows) {
  std::vector<Duration> ranges;
  for (const AlertWindow& window : windows) {
    ranges.push_back(Duration::fromSeconds(window.row.shortWindow.value()));
    ranges.push_back(Duration::fromSeconds(window.row.longWindow.value()));
  }
  std::sort(ranges.begin(), ranges.end());
  ranges.erase(std::unique(ranges.begin(), ranges.end()), ranges.end());
  return ranges;
}

std::string errorRatioRecordName(const Duration& range) {
  return std::string(kErrorRatioRecordPrefix) + range.canonical();
}

std::string totalRecordName(const Duration& range) {
  return std::string(kTotalRecordPrefix) + range.canonical();
}

std::string errorRatioExpr(const SloSpec& spec, const Duration& range) {
  if (const auto* ratio = std::get_if<RatioIndicator>(&spec.indicator)) {
    const std::string total = aggregate("rate", ratio->total, ratio->grouping, range);
    if (ratio->errors) {
      return ratioOf(aggregate("rate", *ratio->errors, ratio->grouping, range), total);
    }
    // Sloth's events SLI with a good query: 1 − good/total.
    return "1 - (" + ratioOf(aggregate("rate", *ratio->good, ratio->grouping, range), total) + ")";
  }
  if (const auto* latency = std::get_if<LatencyIndicator>(&spec.indicator)) {
    // Requests within le are good (Sloth's latency example: 1 − bucket{le}/count; Pyrra's
    // latency indicator is the same ratio written as (total − success)/total).
    const Selector bucket = latency->bucket.withMatcher({"le", "=", latency->le});
    const std::string total = aggregate("rate", latency->total, latency->grouping, range);
    return "1 - (" + ratioOf(aggregate("rate", bucket, latency->grouping, range), total) + ")";
  }
  return "";
}

std::string recordedSeriesMatchers(const ServiceLevelObjective& slo) {
  return "{namespace=\"" + slo.metadata.namespace_ + "\",slo=\"" + slo.metadata.name + "\"}";
}

base::Result<GeneratedRules> generateRules(const ServiceLevelObjective& slo) {
  GeneratedRules generated;
  if (slo.isWorkload()) return generated;  // no PromQL: relops counts timeslices itself

  const SloSpec& spec = slo.spec;
  generated.alertWindows = resolveAlertWindows(spec, &generated.warnings);
  RuleGroup group;
  group.name = "relops-slo-" + slo.metadata.namespace_ + "-" + slo.metadata.name;
  for (const Duration& range : recordedWindows(generated.alertWindows)) {
    if (!spec.calendar && range == spec.window) continue;  // recorded below with the SLO window
    group.rules.push_back(Rule{
        errorRatioRecordName(range), "", errorRatioExpr(spec, range), {}, seriesLabels(slo), {}});
  }
  // Over the whole SLO window: the SLI and the budget in status. Ratio of rates, not an
  // average of 5m ratios (Sloth's period rule), so busy hours weigh what they should. A
  // calendar period has no fixed range to record: relops asks for it by its own range
  // (periodQueries()).
  if (!spec.calendar) {
    const Duration window = Duration::fromSeconds(spec.window.value());
    group.rules.push_back(Rule{
        errorRatioRecordName(window), "", errorRatioExpr(spec, window), {}, seriesLabels(slo), {}});
    group.rules.push_back(Rule{totalRecordName(window),
                               "",
                               aggregate("increase", totalSelector(spec), grouping(spec), window),
                               {},
                               seriesLabels(slo),
                               {}});
  }

  if (spec.alerting.enabled) {
    for (const AlertWindow& alertWindow : generated.alertWindows) {
      group.rules.push_back(burnRateAlert(slo, alertWindow));
    }
    if (spec.alerting.absentFor) group.rules.push_back(absentAlert(slo, generated.alertWindows));
  }
  generated.groups.push_back(std::move(group));
  return generated;
}

ServiceLevelObjective confinedToNamespace(const ServiceLevelObjective& slo) {
  ServiceLevelObjective confined = slo;
  auto confine = [&](Selector& selector) {
    selector = selector.withEnforcedMatcher(kNamespaceLabel, slo.metadata.namespace_);
  };
  if (auto* ratio = std::get_if<RatioIndicator>(&confined.spec.indicator)) {
    if (ratio->errors) confine(*ratio->errors);
    if (ratio->good) confine(*ratio->good);
    confine(ratio->total);
  } else if (auto* latency = std::get_if<LatencyIndicator>(&confined.spec.indicator)) {
    confine(latency->bucket);
    confine(latency->total);
  }
  return confined;
}

StatusQueries statusQueries(const ServiceLevelObjective& slo) {
  return statusQueries(slo, resolveAlertWindows(slo.spec, nullptr));
}

StatusQueries statusQueries(const ServiceLevelObjective& slo,
                            const std::vector<AlertWindow>& alertWindows) {
  StatusQueries queries;
  if (slo.isWorkload()) return queries;
  const std::string matchers = recordedSeriesMatchers(slo);
  std::string names;
  if (!slo.spec.calendar) {
    const Duration window = Duration::fromSeconds(slo.spec.window.value());
    queries.errorRatio = errorRatioRecordName(window) + matchers;
    queries.totalEvents = totalRecordName(window) + matchers;
    names = errorRatioRecordName(window) + "|" + totalRecordName(window);
  }
  for (const Duration& range : recordedWindows(alertWindows)) {
    queries.errorRatioByWindow[range.canonical()] = errorRatioRecordName(range) + matchers;
    names += (names.empty() ? "" : "|") + errorRatioRecordName(range);
  }
  queries.combined = "{__name__=~\"" + names + "\"," + matchers.substr(1);
  return queries;
}

PeriodQueries periodQueries(const ServiceLevelObjective& slo, std::chrono::seconds range) {
  PeriodQueries queries;
  if (slo.isWorkload()) return queries;
  const Duration window = Duration::fromSeconds(std::max(range, std::chrono::seconds(60)));
  queries.errorRatio = errorRatioExpr(slo.spec, window);
  queries.totalEvents = aggregate("increase", totalSelector(slo.spec), grouping(slo.spec), window);
  return queries;
}

}  // namespace relops::slo
