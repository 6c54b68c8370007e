// What one refresh read from Prometheus: the answer to statusQueries().combined reduced to
// the numbers decideSlo() takes. Pure, so the reduction is tested without a Prometheus.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "controllers/slo/prometheus.h"
#include "controllers/slo/rules.h"
#include "controllers/slo/slo_decide.h"

namespace relops::slo {

// `answer` is what Prometheus returned for statusQueries(slo, alertWindows).combined; a
// failed query is a reading with `unavailable` set. With grouping there is one series per
// group: the SLO shows its worst group's error ratio and the total traffic of all groups.
// Samples without a name or with a NaN value are left out.
PrometheusReading statusReading(const ServiceLevelObjective& slo,
                                const std::vector<AlertWindow>& alertWindows,
                                const base::Result<std::vector<PromSample>>& answer);

// A calendar period's error ratio (worst group) and traffic (all groups) from the answers to
// periodQueries(). No traffic, or either query failing, is no data (`unavailable` says why
// a query failed).
struct PeriodNumbers {
  std::optional<std::string> unavailable;
  std::optional<double> errorRatio;
  std::optional<double> totalEvents;
};
PeriodNumbers periodReading(const base::Result<std::vector<PromSample>>& errorRatio,
                            const base::Result<std::vector<PromSample>>& totalEvents);

}  // namespace relops::slo
