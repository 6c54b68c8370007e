// Error-budget arithmetic for status (SRE Workbook, "Implementing SLOs": the budget is
// 1 − objective; burn rate = error ratio / (1 − objective), so a burn rate of 1 spends
// exactly the budget over the window).
#pragma once

#include <cstdint>
#include <optional>

#include "controllers/slo/slo_types.h"
#include "controllers/slo/vocabulary.h"

namespace relops::slo {

// All fractions: sli 0.9995, errorRatio 0.0005, consumed 0.5, remaining 0.5.
struct Budget {
  double sli = 0;
  double errorRatio = 0;
  double consumed = 0;   // may exceed 1
  double remaining = 0;  // 1 − consumed: negative when the budget is overspent
  friend bool operator==(const Budget&, const Budget&) = default;
};

// Occurrences from an error ratio over the window and the number of events behind it.
// No events (zero traffic) or a NaN ratio is *no data* — std::nullopt — not a perfect
// 100%: a service nobody called has not shown that it meets its objective.
std::optional<Budget> budgetFromErrorRatio(double errorRatio, double totalEvents,
                                           const Percent& objective);
std::optional<Budget> budgetFromCounts(double goodEvents, double totalEvents,
                                       const Percent& objective);

// Timeslices (workload SLIs): the budget is a number of bad minutes, (1 − objective) ×
// the window ("99.9% over 30 days allows 43.2 minutes"), whether or not the whole window
// has been observed yet; unknown minutes (relops was not watching) count neither way.
// The SLI is good / (good + bad) minutes; no observed minute is no data.
std::optional<Budget> budgetFromTimeslices(int64_t goodMinutes, int64_t badMinutes,
                                           const Percent& objective, const Duration& window);

// error ratio / (1 − objective); std::nullopt for NaN (no traffic in that window).
std::optional<double> burnRate(double errorRatio, const Percent& objective);

// Status text, rounded so that a steady SLO does not produce a write every interval:
// SLI in percent with 3 decimals ("99.953"), budget in percent of the budget with
// 1 decimal ("53.1", "-20.5"), burn rates with 2 decimals ("0.52").
std::string formatSli(double sli);
std::string formatBudgetPercent(double fraction);
std::string formatBurnRate(double rate);
ErrorBudgetStatus budgetStatus(const Budget& budget);

}  // namespace relops::slo
