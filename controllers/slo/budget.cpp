#include "controllers/slo/budget.h"

#include <algorithm>
#include <cmath>

namespace relops::slo {

std::optional<Budget> budgetFromErrorRatio(double errorRatio, double totalEvents,
                                           const Percent& objective) {
  if (!(totalEvents > 0) || std::isnan(errorRatio) || std::isinf(errorRatio)) return std::nullopt;
  const double allowed = 1.0 - objective.fraction();
  Budget budget;
  budget.errorRatio = std::clamp(errorRatio, 0.0, 1.0);
  budget.sli = 1.0 - budget.errorRatio;
  budget.consumed = budget.errorRatio / allowed;
  budget.remaining = 1.0 - budget.consumed;
  return budget;
}

std::optional<Budget> budgetFromCounts(double goodEvents, double totalEvents,
                                       const Percent& objective) {
  if (!(totalEvents > 0)) return std::nullopt;
  return budgetFromErrorRatio((totalEvents - goodEvents) / totalEvents, totalEvents, objective);
}

std::optional<Budget> budgetFromTimeslices(int64_t goodMinutes, int64_t badMinutes,
                                           const Percent& objective, const Duration& window) {
  const int64_t observed = goodMinutes + badMinutes;
  if (observed <= 0) return std::nullopt;
  const double allowedBadMinutes =
      (1.0 - objective.fraction()) * static_cast<double>(window.seconds()) / 60.0;
  Budget budget;
  budget.errorRatio = static_cast<double>(badMinutes) / static_cast<double>(observed);
  budget.sli = 1.0 - budget.errorRatio;
  budget.consumed = static_cast<double>(badMinutes) / allowedBadMinutes;
  budget.remaining = 1.0 - budget.consumed;
  return budget;
}

std::optional<double> burnRate(double errorRatio, const Percent& objective) {
  if (std::isnan(errorRatio) || std::isinf(errorRatio)) return std::nullopt;
  return errorRatio / (1.0 - objective.fraction());
}

std::string formatSli(double sli) { return formatDecimal(sli * 100.0, 3); }
std::string formatBudgetPercent(double fraction) { return formatDecimal(fraction * 100.0, 1); }
std::string formatBurnRate(double rate) { return formatDecimal(rate, 2); }

ErrorBudgetStatus budgetStatus(const Budget& budget) {
  return ErrorBudgetStatus{formatBudgetPercent(budget.remaining),
                           formatBudgetPercent(budget.consumed)};
}

}  // namespace relops::slo
