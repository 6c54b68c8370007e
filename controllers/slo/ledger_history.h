// Rebuilding a workload SLO's ledger from what Prometheus kept of it.
//
// relops exports each ledger as relops_slo_workload_minutes{namespace, name, state}: the
// good, bad and unknown minutes of the window. An SLO that starts without a ledger of its
// own (deleted and recreated, restored without status) takes those counts back when a
// Prometheus is configured, so a recreate does not reset its budget. Only counts survive,
// not when each minute was, so the rebuilt ledger is the conservative one: the bad minutes
// last, where they stay in the window longest. Where several series answer (a second
// scrape job, or a series exported by someone else under the same labels), the least good
// and the most bad and unknown minutes are taken: another series can only make the
// rebuilt budget worse, never better.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "controllers/slo/prometheus.h"
#include "controllers/slo/timeslices.h"
#include "controllers/slo/vocabulary.h"

namespace relops::slo {

inline constexpr char kWorkloadMinutesMetric[] = "relops_slo_workload_minutes";

// The instant query for the SLO `namespace_`/`name`: each series' last value within the
// window, so the counts from before a delete are found however long ago it was.
std::string ledgerHistoryQuery(const std::string& namespace_, const std::string& name,
                               const Duration& window);

// The counts in the answer, each within the window's minutes (unknown first, then good,
// trimmed to fit); nullopt when the answer holds no good or bad minute. The ledger is then
// TimesliceLedger::fromTotals(totals, now).
std::optional<SliceTotals> ledgerHistoryTotals(const std::vector<PromSample>& samples,
                                               const Duration& window);

}  // namespace relops::slo
