// When a DRDrill runs: which schedule slot is due, which were missed, and the
// deterministic names of runs. Kubernetes CronJob's rules (getMostRecentScheduleTime)
// with two fixes for its known pitfalls: the slots are found by stepping
// through the expression (never by assuming a constant interval), and a
// change of schedule or zone re-anchors at the time of the change instead of
// firing a surprise run for a slot of the new schedule that lies in the past.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "controllers/drill/cron.h"

namespace relops::drill {

// More missed slots than this give one Warning (CronJob's limit).
inline constexpr int64_t kMaxMissedRuns = 100;

struct SchedulePlan {
  // The slot to start a run for now: the latest slot in (anchor, now], when it
  // is within startingDeadlineSeconds.
  std::optional<Instant> due;
  // The latest slot, when it is too late to start (past the deadline).
  std::optional<Instant> tooLate;
  // Slots in (anchor, now] that will not run (all but the latest, plus the
  // latest when it is too late); counted up to kMaxMissedRuns + 1.
  int64_t missed = 0;
  bool tooManyMissed() const { return missed > kMaxMissedRuns; }
  // The first slot after now; absent when the schedule never fires again.
  std::optional<Instant> next;
};

SchedulePlan planSchedule(const CronSchedule& cron, Instant anchor, Instant now,
                          std::optional<std::chrono::seconds> startingDeadline);

// "<drill>-<scheduled unix minutes>", as CronJob names its Jobs: the same slot
// always gets the same name, so a run is never created twice (an operator
// restart or a new leader finds it exists).
std::string scheduledRunName(std::string_view drill, Instant scheduled);
// "<drill>-now-<6 hex digits of the token>": one run per run-now token.
std::string runNowRunName(std::string_view drill, std::string_view token);
// The sandbox namespace of a veleroRestore run: unique per namespace and run,
// at most 63 characters.
std::string sandboxNamespaceName(std::string_view runNamespace, std::string_view run);
// A DNS label (Job names become pod labels): the run's name when it fits in
// 63 characters, else a prefix and a hash.
std::string jobNameFor(std::string_view run);

// 64-bit FNV-1a, for names that must be stable across processes and versions.
uint64_t stableHash(std::string_view text);

}  // namespace relops::drill
