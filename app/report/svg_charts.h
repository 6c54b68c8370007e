// The report's charts as inline SVG: no script, no external reference, each readable without
// colour (fills are patterns as well as hues, every bar and cell carries its value as text).
// Every chart is bounded: at most the limits below are drawn, and the page says what was cut.
#pragma once

#include <string>

#include "app/report/report.h"

namespace relops::report {

inline constexpr size_t kMaxBurndownCharts = 24;
inline constexpr size_t kMaxAttainmentRows = 40;
inline constexpr size_t kMaxLoadRows = 60;
inline constexpr size_t kMaxDrillRows = 60;
inline constexpr size_t kMaxFreezeRows = 40;

// Budget left at the end of each day over the period (0 % is where the budget is spent).
std::string burndownChart(const SloReport& slo, const Period& period, size_t index);
// One row per SLO with calendar history, one cell per closed period: SLI and Met/Missed.
std::string attainmentChart(const Report& report);
// Hours per person, stacked business / off-hours / weekend.
std::string oncallLoadChart(const Report& report);
// Each drill run's measured RTO and RPO against its objectives.
std::string drillChart(const Report& report);
// Each active freeze as a bar over the period, with its days.
std::string freezeChart(const Report& report);

}  // namespace relops::report
