#include "controllers/slo/status_reading.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

namespace relops::slo {

PrometheusReading statusReading(const ServiceLevelObjective& slo,
                                const std::vector<AlertWindow>& alertWindows,
                                const base::Result<std::vector<PromSample>>& answer) {
  PrometheusReading reading;
  if (!answer.ok()) {
    reading.unavailable = answer.error().message();
    return reading;
  }
  const std::string ratioName = errorRatioRecordName(slo.spec.window);
  const std::string totalName = totalRecordName(slo.spec.window);
  std::map<std::string, double> worst;
  for (const PromSample& sample : *answer) {
    const auto name = sample.labels.find("__name__");
    if (name == sample.labels.end() || std::isnan(sample.value)) continue;
    if (name->second == totalName) {
      reading.totalEvents = reading.totalEvents.value_or(0) + sample.value;
      continue;
    }
    auto [it, inserted] = worst.emplace(name->second, sample.value);
    if (!inserted) it->second = std::max(it->second, sample.value);
    const TimePoint at = std::chrono::floor<std::chrono::seconds>(sample.time);
    if (!reading.evaluatedAt || at > *reading.evaluatedAt) reading.evaluatedAt = at;
  }
  if (const auto it = worst.find(ratioName); it != worst.end()) reading.errorRatio = it->second;
  for (const Duration& window : recordedWindows(alertWindows)) {
    if (const auto it = worst.find(errorRatioRecordName(window)); it != worst.end()) {
      reading.errorRatios.emplace_back(window, it->second);
    }
  }
  return reading;
}

PeriodNumbers periodReading(const base::Result<std::vector<PromSample>>& errorRatio,
                            const base::Result<std::vector<PromSample>>& totalEvents) {
  PeriodNumbers numbers;
  for (const auto* answer : {&errorRatio, &totalEvents}) {
    if (!answer->ok()) {
      numbers.unavailable = answer->error().message();
      return numbers;
    }
  }
  for (const PromSample& sample : *errorRatio) {
    if (std::isnan(sample.value)) continue;
    numbers.errorRatio = std::max(numbers.errorRatio.value_or(sample.value), sample.value);
  }
  for (const PromSample& sample : *totalEvents) {
    if (std::isnan(sample.value)) continue;
    numbers.totalEvents = numbers.totalEvents.value_or(0) + sample.value;
  }
  return numbers;
}

}  // namespace relops::slo
