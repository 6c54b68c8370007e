#include "controllers/slo/slo_decide.h"

#include <algorithm>
#include <cmath>
#include <exception>

#include "controllers/common/conditions.h"
#include "controllers/slo/rules.h"

namespace relops::slo {

using nlohmann::json;
namespace cs = common::condition_status;

namespace {

std::string conditionStatus(const json& status, std::string_view type) {
  if (!status.is_object() || !status.contains("conditions")) return "";
  const json* condition = common::findCondition(status["conditions"], type);
  return condition == nullptr ? "" : condition->value("status", "");
}

std::string conditionReason(const json& status, std::string_view type) {
  if (!status.is_object() || !status.contains("conditions")) return "";
  const json* condition = common::findCondition(status["conditions"], type);
  return condition == nullptr ? "" : condition->value("reason", "");
}

std::optional<TimePoint> conditionSince(const json& status, std::string_view type) {
  if (!status.is_object() || !status.contains("conditions")) return std::nullopt;
  const json* condition = common::findCondition(status["conditions"], type);
  if (condition == nullptr) return std::nullopt;
  auto time = parseRfc3339(condition->value("lastTransitionTime", ""), "lastTransitionTime");
  if (!time.ok()) return std::nullopt;
  return *time;
}

// The numbers shown: SLI, budget, burn rates. Returns whether any shown value changed.
bool writeNumbers(json& status, const Budget& budget, const std::vector<BurnRateStatus>& rates) {
  const json before = {status.value("sli", json()), status.value("errorBudget", json()),
                       status.value("burnRates", json())};
  status["sli"] = formatSli(budget.sli);
  const ErrorBudgetStatus text = budgetStatus(budget);
  status["errorBudget"] = {{"remaining", text.remaining}, {"consumed", text.consumed}};
  if (rates.empty()) {
    status.erase("burnRates");
  } else {
    json list = json::array();
    for (const BurnRateStatus& rate : rates)
      list.push_back({{"window", rate.window}, {"rate", rate.rate}});
    status["burnRates"] = std::move(list);
  }
  const json after = {status.value("sli", json()), status.value("errorBudget", json()),
                      status.value("burnRates", json())};
  return before != after;
}

std::string percentText(double fraction, int decimals) {
  return formatDecimal(fraction * 100.0, decimals) + "%";
}

std::string budgetSummary(const ServiceLevelObjective& slo, const Budget& budget) {
  return "SLI " + percentText(budget.sli, 3) + " over " + slo.spec.windowDescription() +
         " (objective " + slo.spec.objective.text() +
         "%): " + formatBudgetPercent(budget.remaining) + "% of the error budget left";
}

// Rows of the burn-rate table whose long and short windows both exceed the threshold.
std::vector<std::string> firingRows(const SloSpec& spec,
                                    const std::vector<std::pair<Duration, double>>& ratios) {
  auto ratioAt = [&](const Duration& window) -> std::optional<double> {
    for (const auto& [range, ratio] : ratios) {
      if (range == window) return ratio;
    }
    return std::nullopt;
  };
  std::vector<std::string> firing;
  for (const AlertWindow& window : resolveAlertWindows(spec, nullptr)) {
    const auto longRatio = ratioAt(window.row.longWindow);
    const auto shortRatio = ratioAt(window.row.shortWindow);
    if (longRatio && shortRatio && *longRatio > window.threshold &&
        *shortRatio > window.threshold) {
      firing.push_back(window.row.name + " (" + window.factorText + "x over " +
                       window.row.longWindow.canonical() + " and " +
                       window.row.shortWindow.canonical() + ")");
    }
  }
  return firing;
}

std::string joined(const std::vector<std::string>& parts) {
  std::string text;
  for (const std::string& part : parts) text += (text.empty() ? "" : ", ") + part;
  return text;
}

void addTransitionEvents(const json& before, const json& after, SloDecision& decision) {
  const std::string exhaustedBefore = conditionStatus(before, kConditionBudgetExhausted);
  const std::string exhaustedAfter = conditionStatus(after, kConditionBudgetExhausted);
  const json* exhausted =
      after.contains("conditions")
          ? common::findCondition(after["conditions"], kConditionBudgetExhausted)
          : nullptr;
  if (exhausted != nullptr && exhaustedAfter == cs::kTrue && exhaustedBefore != cs::kTrue) {
    decision.events.push_back(
        {"Warning", std::string(kEventBudgetExhausted), exhausted->value("message", "")});
  }
  if (exhausted != nullptr && exhaustedAfter == cs::kFalse && exhaustedBefore == cs::kTrue) {
    decision.events.push_back(
        {"Normal", std::string(kEventBudgetRecovered), exhausted->value("message", "")});
  }
  const json* burning = after.contains("conditions")
                            ? common::findCondition(after["conditions"], kConditionBurnRateHigh)
                            : nullptr;
  if (burning != nullptr && burning->value("status", "") == cs::kTrue &&
      conditionStatus(before, kConditionBurnRateHigh) != cs::kTrue) {
    decision.events.push_back(
        {"Warning", std::string(kEventBurnRateHigh), burning->value("message", "")});
  }
  const json* stalled = after.contains("conditions")
                            ? common::findCondition(after["conditions"], common::kConditionStalled)
                            : nullptr;
  if (stalled != nullptr && stalled->value("status", "") == cs::kTrue &&
      (conditionStatus(before, common::kConditionStalled) != cs::kTrue ||
       conditionReason(before, common::kConditionStalled) != stalled->value("reason", ""))) {
    decision.events.push_back(
        {"Warning", stalled->value("reason", ""), stalled->value("message", "")});
  }
}

void finish(const json& before, SloDecision& decision) {
  decision.statusChanged = common::statusChanged(before, decision.status);
  addTransitionEvents(before, decision.status, decision);
}

void setBudgetConditions(json& status, const Budget& budget, const std::string& summary,
                         int64_t generation, TimePoint now) {
  if (budget.remaining <= 0) {
    common::setStatusCondition(status, kConditionBudgetExhausted, cs::kTrue, "NoBudgetLeft",
                               "error budget exhausted: " + summary, generation, now);
  } else {
    common::setStatusCondition(status, kConditionBudgetExhausted, cs::kFalse, "BudgetLeft", summary,
                               generation, now);
  }
}

// The length the budget is a share of: the calendar period's own (a 31-day month allows
// more bad minutes than February), else the rolling window.
Duration budgetWindow(const ServiceLevelObjective& slo, const SloObserved& observed) {
  return observed.period ? Duration::fromSeconds(observed.period->length()) : slo.spec.window;
}

json periodJson(const Period& period) {
  return {{"label", period.label},
          {"start", formatRfc3339(period.start)},
          {"end", formatRfc3339(period.end)}};
}

// A closed period joins periodHistory once (its label is the key), with a PeriodClosed Event;
// the status then shows the current period.
void recordPeriod(const ServiceLevelObjective& slo, const SloObserved& observed,
                  SloDecision& decision) {
  json& status = decision.status;
  if (!observed.period) {
    status.erase("period");
    return;
  }
  if (const auto& closed = observed.closedPeriod) {
    json history = status.value("periodHistory", json::array());
    const bool recorded = std::any_of(history.begin(), history.end(), [&](const json& entry) {
      return entry.is_object() && entry.value("label", "") == closed->period.label;
    });
    if (!recorded) {
      json entry = periodJson(closed->period);
      entry["objective"] = slo.spec.objective.text();
      std::string result = "NoData";
      std::string message = "period " + closed->period.label + " closed with no data";
      if (closed->budget) {
        result = closed->budget->consumed <= 1.0 ? "Met" : "Missed";
        entry["sli"] = formatSli(closed->budget->sli);
        entry["budgetConsumed"] = formatBudgetPercent(closed->budget->consumed);
        message = "period " + closed->period.label + " closed: SLI " +
                  percentText(closed->budget->sli, 3) + " against an objective of " +
                  slo.spec.objective.text() + "%: " + result + ", " +
                  formatBudgetPercent(closed->budget->consumed) + "% of the error budget consumed";
      }
      if (closed->badMinutes) {
        entry["badMinutes"] = *closed->badMinutes;
        message += " (" + std::to_string(*closed->badMinutes) + " bad minutes)";
      }
      entry["result"] = result;
      history.push_back(std::move(entry));
      while (history.size() > kMaxPeriodHistory) history.erase(history.begin());
      status["periodHistory"] = std::move(history);
      decision.events.push_back({result == "Met" ? "Normal" : "Warning",
                                 std::string(kEventPeriodClosed), std::move(message)});
    }
  }
  status["period"] = periodJson(*observed.period);
}

std::optional<double> highestBurnRate(const json& status) {
  std::optional<double> highest;
  for (const json& rate : status.value("burnRates", json::array())) {
    if (!rate.is_object() || !rate.value("rate", json()).is_string()) continue;
    try {
      const double value = std::stod(rate.value("rate", ""));
      highest = std::max(highest.value_or(value), value);
    } catch (const std::exception&) {
      continue;
    }
  }
  return highest;
}

double budgetPercentField(const json& episode, std::string_view field, double fallback) {
  try {
    return std::stod(episode.value(std::string(field), ""));
  } catch (const std::exception&) {
    return fallback;
  }
}

// An episode opens when BurnRateHigh or BudgetExhausted turns True and closes when it
// turns False; while it lasts, each refresh with numbers raises its peak and its spend.
void trackEpisodes(SloDecision& decision, TimePoint now) {
  json& status = decision.status;
  json episodes = status.value("burnEpisodes", json::array());
  const std::optional<double> rate = highestBurnRate(status);
  bool changed = false;
  for (const std::string_view type : {kConditionBurnRateHigh, kConditionBudgetExhausted}) {
    const bool active = conditionStatus(status, type) == cs::kTrue;
    json* open = nullptr;
    for (json& episode : episodes) {
      if (episode.is_object() && episode.value("condition", "") == type &&
          !episode.contains("end")) {
        open = &episode;
      }
    }
    if (active && open == nullptr && decision.budget) {
      json episode = {{"condition", std::string(type)},
                      {"start", formatRfc3339(conditionSince(status, type).value_or(now))},
                      {"budgetRemainingAtStart", formatBudgetPercent(decision.budget->remaining)},
                      {"budgetSpent", formatBudgetPercent(0)}};
      if (rate) episode["peakBurnRate"] = formatBurnRate(*rate);
      episodes.push_back(std::move(episode));
      changed = true;
      continue;
    }
    if (open == nullptr) continue;
    const json previous = *open;
    if (decision.budget) {
      const double atStart = budgetPercentField(*open, "budgetRemainingAtStart", 0);
      const double spent = std::max(budgetPercentField(*open, "budgetSpent", 0),
                                    atStart - decision.budget->remaining * 100.0);
      (*open)["budgetSpent"] = formatDecimal(spent, 1);
      if (rate && *rate > budgetPercentField(*open, "peakBurnRate", 0)) {
        (*open)["peakBurnRate"] = formatBurnRate(*rate);
      }
    }
    if (!active) {
      // Ended when the condition turned False; when it is gone (alerting disabled), now.
      const bool present = !conditionStatus(status, type).empty();
      (*open)["end"] = formatRfc3339(present ? conditionSince(status, type).value_or(now) : now);
    }
    changed = changed || previous != *open;
  }
  if (!changed) return;
  // Bounded: the oldest closed episodes go first; open ones stay.
  while (episodes.size() > kMaxBurnEpisodes) {
    auto oldestClosed = std::find_if(episodes.begin(), episodes.end(),
                                     [](const json& episode) { return episode.contains("end"); });
    episodes.erase(oldestClosed == episodes.end() ? episodes.begin() : oldestClosed);
  }
  status["burnEpisodes"] = std::move(episodes);
}

// The budget left by local date: a new entry only when the number changed, so a steady
// budget writes nothing; a calendar period's trail starts at the period.
void updateTrail(const ServiceLevelObjective& slo, const SloObserved& observed,
                 SloDecision& decision, TimePoint now) {
  json& status = decision.status;
  if (!decision.budget) return;
  std::optional<CalendarWindow> calendar;
  if (slo.spec.calendar) {
    auto made = CalendarWindow::make(*slo.spec.calendar, slo.spec.timeZone);
    if (made.ok()) calendar = std::move(*made);
  }
  auto dateOf = [&](TimePoint t) {
    return calendar ? calendar->localDate(t) : formatRfc3339(t).substr(0, 10);
  };
  const std::string remaining = formatBudgetPercent(decision.budget->remaining);
  json trail = status.value("budgetTrail", json::array());
  if (observed.period) {
    const std::string first = dateOf(observed.period->start);
    while (!trail.empty() && trail.front().value("date", "") < first) trail.erase(trail.begin());
  }
  if (!trail.empty() && trail.back().value("remaining", "") == remaining) {
    if (status.value("budgetTrail", json::array()).size() != trail.size()) {
      status["budgetTrail"] = std::move(trail);
    }
    return;
  }
  const std::string today = dateOf(now);
  if (!trail.empty() && trail.back().value("date", "") == today) {
    trail.back()["remaining"] = remaining;
  } else {
    trail.push_back({{"date", today}, {"remaining", remaining}});
  }
  while (trail.size() > kMaxBudgetTrail) trail.erase(trail.begin());
  status["budgetTrail"] = std::move(trail);
}

// The ledger goes to status with the numbers, when the workload changed state, or when a
// gap of unknown minutes was added.
void decideWorkload(const ServiceLevelObjective& slo, const SloObserved& observed,
                    const json& before, SloDecision& decision, TimePoint now) {
  const WorkloadReading& reading = *observed.workload;
  const int64_t generation = observed.generation;
  json& status = decision.status;
  const auto budget = budgetFromTimeslices(reading.totals.good, reading.totals.bad,
                                           slo.spec.objective, budgetWindow(slo, observed));
  decision.budget = budget;
  bool numbersChanged = false;
  if (budget) {
    numbersChanged = writeNumbers(status, *budget, {});
    setBudgetConditions(status, *budget, budgetSummary(slo, *budget), generation, now);
  } else if (status.contains("errorBudget") || status.contains("sli")) {
    // No good or bad minute in the ledger (a recreated SLO, a window of unknown time): the
    // budget is unknown, not the one last shown. A policy reads that as no data and keeps
    // its freeze (budgetRuleHolds).
    status.erase("errorBudget");
    status.erase("sli");
    numbersChanged = true;
  }
  const json storedLedger = before.is_object() ? before.value("workload", json()) : json();
  const bool stateChanged =
      storedLedger.is_null() ||
      storedLedger.value("lastObservedState", "") != reading.ledger.lastObservedState ||
      storedLedger.value("workloadResourceVersion", "") != reading.ledger.workloadResourceVersion ||
      // A gap relops did not observe (after a restart, a long outage of relops) is shown at
      // once, though it moves no number: unknown minutes only grow by such a gap.
      storedLedger.value("unknownMinutes", int64_t{0}) < reading.ledger.unknownMinutes;
  if (numbersChanged || stateChanged || !status.contains("evaluationTime")) {
    SloStatus ledgerOnly;
    ledgerOnly.workload = reading.ledger;
    status["workload"] = sloStatusJson(ledgerOnly)["workload"];
    status["evaluationTime"] = formatRfc3339(now);
  }
  if (!reading.found) {
    common::markStalled(status, generation, kReasonWorkloadNotFound,
                        reading.reference +
                            " does not exist in this namespace: its minutes count as bad time "
                            "until it does",
                        now);
  } else if (!budget) {
    common::markReconciling(status, generation, kReasonWaitingForData,
                            "no whole minute of " + reading.reference + " observed yet", now);
  } else {
    std::string message = budgetSummary(slo, *budget) + "; " + std::to_string(reading.totals.bad) +
                          " bad of " + std::to_string(reading.totals.good + reading.totals.bad) +
                          " observed minutes of " + reading.reference;
    if (reading.ledgerProblem) message += "; " + *reading.ledgerProblem;
    common::markReady(status, generation, kReasonBudgetEvaluated, message, now);
  }
}

void decidePrometheus(const ServiceLevelObjective& slo, const SloObserved& observed,
                      const json& before, SloDecision& decision, TimePoint now) {
  json& status = decision.status;
  const int64_t generation = observed.generation;
  const PrometheusReading& reading = *observed.prometheus;
  if (reading.unavailable) {
    common::markRetrying(status, generation, kReasonPrometheusUnavailable,
                         "cannot read the SLO from Prometheus: " + *reading.unavailable, now);
    return;
  }
  const auto budget =
      reading.errorRatio ? budgetFromErrorRatio(*reading.errorRatio,
                                                reading.totalEvents.value_or(0), slo.spec.objective)
                         : std::nullopt;
  decision.budget = budget;
  if (!budget) {
    // Fresh rules have no samples until Prometheus evaluates them: wait, then stall.
    const bool stalledBefore = conditionStatus(before, common::kConditionStalled) == cs::kTrue &&
                               conditionReason(before, common::kConditionStalled) == kReasonNoData;
    const std::string what = slo.spec.calendar
                                 ? "Prometheus has no traffic for this SLO in period " +
                                       (observed.period ? observed.period->label : std::string("?"))
                                 : "Prometheus has no " + errorRatioRecordName(slo.spec.window) +
                                       " sample with traffic for this SLO";
    const auto waitingSince =
        conditionReason(before, common::kConditionReconciling) == kReasonWaitingForData
            ? conditionSince(before, common::kConditionReconciling)
            : std::nullopt;
    if (stalledBefore || (waitingSince && now - *waitingSince >= observed.noDataGrace)) {
      common::markStalled(status, generation, kReasonNoData,
                          what + ": check that Prometheus loads the rules in " +
                              observed.rulesTarget + " and scrapes the SLO's series",
                          now);
    } else {
      common::markReconciling(
          status, generation, kReasonWaitingForData,
          what + " yet; waiting for it to evaluate the rules in " + observed.rulesTarget, now);
    }
    return;
  }
  std::vector<BurnRateStatus> rates;
  for (const auto& [range, ratio] : reading.errorRatios) {
    if (const auto rate = burnRate(ratio, slo.spec.objective)) {
      rates.push_back({range.canonical(), formatBurnRate(*rate)});
      decision.burnRates.emplace_back(range.canonical(), *rate);
    }
  }
  const bool numbersChanged = writeNumbers(status, *budget, rates);
  if ((numbersChanged || !status.contains("evaluationTime")) && reading.evaluatedAt) {
    status["evaluationTime"] = formatRfc3339(*reading.evaluatedAt);
  }
  const std::string summary = budgetSummary(slo, *budget);
  setBudgetConditions(status, *budget, summary, generation, now);
  if (slo.spec.alerting.enabled) {
    const std::vector<std::string> firing = firingRows(slo.spec, reading.errorRatios);
    if (firing.empty()) {
      common::setStatusCondition(status, kConditionBurnRateHigh, cs::kFalse, "WithinThresholds",
                                 "no burn-rate row is above its threshold", generation, now);
    } else {
      common::setStatusCondition(status, kConditionBurnRateHigh, cs::kTrue, "ThresholdExceeded",
                                 "burning the error budget too fast: " + joined(firing), generation,
                                 now);
    }
  } else {
    common::removeCondition(status["conditions"], kConditionBurnRateHigh);
  }
  std::string message = summary + "; rules in " + observed.rulesTarget;
  if (!observed.ruleWarnings.empty()) message += "; " + joined(observed.ruleWarnings);
  common::markReady(status, generation, kReasonBudgetEvaluated, message, now);
}

// Rules that were applied but cannot do their job (a burn-rate row left out, or one
// that can never fire) are in the Ready message; a Warning the first time they are.
void addRuleWarningEvent(const SloObserved& observed, const json& before, SloDecision& decision) {
  if (observed.ruleWarnings.empty()) return;
  const std::string warnings = joined(observed.ruleWarnings);
  auto readyMessage = [](const json& status) -> std::string {
    if (!status.is_object() || !status.contains("conditions")) return "";
    const json* ready = common::findCondition(status["conditions"], common::kConditionReady);
    return ready == nullptr ? "" : ready->value("message", "");
  };
  if (readyMessage(decision.status).find(warnings) == std::string::npos) return;
  if (readyMessage(before).find(warnings) != std::string::npos) return;
  decision.events.push_back(
      {"Warning", std::string(kEventIneffectiveAlerts), "rules applied, but " + warnings});
}

// onCallRef names a rotation in the SLO's own namespace, never elsewhere.
void decideOnCall(const ServiceLevelObjective& slo, const SloObserved& observed, const json& before,
                  SloDecision& decision, TimePoint now) {
  json& status = decision.status;
  if (!slo.spec.onCallRef || !observed.onCallRotationFound) {
    common::removeCondition(status["conditions"], kConditionOnCallRotationResolved);
    return;
  }
  const std::string reference = slo.metadata.namespace_ + "/" + *slo.spec.onCallRef;
  if (*observed.onCallRotationFound) {
    common::setStatusCondition(
        status, kConditionOnCallRotationResolved, cs::kTrue, kReasonOnCallRotationFound,
        "alerts carry oncall_rotation=" + reference, observed.generation, now);
    return;
  }
  const std::string message = "OnCallRotation " + reference +
                              " does not exist: onCallRef resolves in the SLO's own namespace; "
                              "alerts carry no oncall_rotation label until it does";
  common::setStatusCondition(status, kConditionOnCallRotationResolved, cs::kFalse,
                             kReasonOnCallRotationNotFound, message, observed.generation, now);
  if (conditionReason(before, kConditionOnCallRotationResolved) != kReasonOnCallRotationNotFound) {
    decision.events.push_back({"Warning", std::string(kReasonOnCallRotationNotFound), message});
  }
}

}  // namespace

SloDecision decideSlo(const ServiceLevelObjective& slo, const SloObserved& observed,
                      TimePoint now) {
  SloDecision decision;
  const json& before = observed.status;
  decision.status = before.is_object() ? before : json::object();
  json& status = decision.status;
  const int64_t generation = observed.generation;
  if (!status.contains("conditions")) status["conditions"] = json::array();

  if (observed.workload) {
    decideWorkload(slo, observed, before, decision, now);
  } else if (observed.invalidQuery) {
    common::markStalled(status, generation, kReasonInvalidQuery,
                        "Prometheus rejects the SLO's query: " + *observed.invalidQuery, now);
  } else if (observed.prometheusConfigured && observed.prometheus) {
    decidePrometheus(slo, observed, before, decision, now);
  } else {
    std::string message = "rules applied to " + observed.rulesTarget +
                          "; no Prometheus URL configured, so no live error budget";
    if (!observed.ruleWarnings.empty()) message += "; " + joined(observed.ruleWarnings);
    common::markReady(status, generation, kReasonRulesApplied, message, now);
  }
  decideOnCall(slo, observed, before, decision, now);
  if (observed.maintenance) {
    status["maintenance"] = {{"active", observed.maintenance->active},
                             {"windows", observed.maintenance->windows},
                             {"silenceIDs", observed.maintenance->silenceIds}};
  } else {
    status.erase("maintenance");
  }
  recordPeriod(slo, observed, decision);
  trackEpisodes(decision, now);
  updateTrail(slo, observed, decision, now);
  finish(before, decision);
  addRuleWarningEvent(observed, before, decision);
  return decision;
}

std::optional<Period> periodToClose(const CalendarWindow& calendar, const json& status,
                                    TimePoint now) {
  if (!status.is_object() || !status.contains("period") || !status["period"].is_object()) {
    return std::nullopt;
  }
  const json& stored = status["period"];
  auto start = parseRfc3339(stored.value("start", ""), "status.period.start");
  if (!start.ok()) return std::nullopt;
  const Period period = calendar.periodAt(*start);
  if (period.label != stored.value("label", "") || period.start != *start || period.end > now) {
    return std::nullopt;
  }
  for (const json& entry : status.value("periodHistory", json::array())) {
    if (entry.is_object() && entry.value("label", "") == period.label) return std::nullopt;
  }
  return period;
}

SloDecision decideInvalidSlo(int64_t generation, const json& status, std::string_view message,
                             TimePoint now) {
  SloDecision decision;
  decision.status = status.is_object() ? status : json::object();
  common::markStalled(decision.status, generation, kReasonInvalidSpec, message, now);
  finish(status, decision);
  return decision;
}

}  // namespace relops::slo
