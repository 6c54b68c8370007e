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

#include "controllers/common/cron.h"

namespace relops::drill {

// The cron engine is shared with ChangeWindow (controllers/common/cron.h).
using common::CronSchedule;
using common::Instant;

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
// "<drill, cut to 42>-now-<16 hex of SHA-256(drill, token)>": one run per
// run-now token. The token is user input: 64 bits of SHA-256 make a name that
// collides with another drill's run impractical to find (STYLE.md 16).
std::string runNowRunName(std::string_view drill, std::string_view token);
// The sandbox namespace of a veleroRestore run: "relops-sandbox-" and 48 hex of
// SHA-256(namespace/run), 63 characters, unique per namespace and run.
std::string sandboxNamespaceName(std::string_view runNamespace, std::string_view run);
// A DNS label (Job names become pod labels): the run's name when it fits in
// 63 characters, else a prefix and 10 hex of its SHA-256.
std::string jobNameFor(std::string_view run);

}  // namespace relops::drill
