#include "controllers/slo/ledger_history.h"

#include <algorithm>
#include <cmath>

namespace relops::slo {

std::string ledgerHistoryQuery(const std::string& namespace_, const std::string& name,
                               const Duration& window) {
  // Kubernetes names hold no quote or backslash: nothing to escape.
  return std::string("last_over_time(") + kWorkloadMinutesMetric + "{namespace=\"" + namespace_ +
         "\",name=\"" + name + "\",state=~\"good|bad|unknown\"}[" + window.canonical() + "])";
}

std::optional<SliceTotals> ledgerHistoryTotals(const std::vector<PromSample>& samples,
                                               const Duration& window) {
  const int64_t windowMinutes = window.seconds() / 60;
  constexpr int64_t kUnset = -1;
  int64_t good = kUnset;
  int64_t bad = kUnset;
  int64_t unknown = kUnset;
  for (const PromSample& sample : samples) {
    const auto state = sample.labels.find("state");
    if (state == sample.labels.end() || !std::isfinite(sample.value)) continue;
    const int64_t minutes =
        std::clamp(static_cast<int64_t>(sample.value), int64_t{0}, windowMinutes);
    if (state->second == "good") {
      good = good == kUnset ? minutes : std::min(good, minutes);
    } else if (state->second == "bad") {
      bad = std::max(bad, minutes);
    } else if (state->second == "unknown") {
      unknown = std::max(unknown, minutes);
    }
  }
  if (good <= 0 && bad <= 0) return std::nullopt;
  SliceTotals totals{std::max(good, int64_t{0}), std::max(bad, int64_t{0}),
                     std::max(unknown, int64_t{0})};
  // Series from different scrapes need not add up to one window: bad minutes are kept
  // whole, then good, then unknown.
  totals.good = std::min(totals.good, windowMinutes - totals.bad);
  totals.unknown = std::min(totals.unknown, windowMinutes - totals.bad - totals.good);
  return totals;
}

}  // namespace relops::slo
