// Windows of a duration that open at each fire of a cron schedule (ChangeWindow). Pure, as
// the engine it builds on (cron.h): every function takes the instant it looks at.
//
// A window opens at a fire (the DST rules of cron.h: a skipped local time opens at the
// jump, a repeated one at its first occurrence) and lasts `duration` of elapsed time, not of
// wall-clock time: a 2h window opened at 01:00 on a spring-forward night closes at 04:00
// local. Windows that overlap or touch (the next opens at or before the previous closes)
// are one window, from the first opening to the last closing, so "active until" is the end of
// the whole run. A run is followed for at most kMaxChainedWindows steps either way (each step
// goes up to one duration); a longer one (`* * * * *` with a 1h duration) reports the end
// known so far, and the caller looks again then.
#pragma once

#include <chrono>
#include <optional>

#include "controllers/common/cron.h"

namespace relops::common {

struct TimeWindow {
  Instant start;
  Instant end;  // exclusive
  friend bool operator==(const TimeWindow&, const TimeWindow&) = default;
};

class CronWindows {
 public:
  static constexpr int kMaxChainedWindows = 1000;

  CronWindows(CronSchedule schedule, std::chrono::seconds duration)
      : schedule_(std::move(schedule)), duration_(duration) {}

  const CronSchedule& schedule() const { return schedule_; }
  std::chrono::seconds duration() const { return duration_; }

  // The (merged) window with start <= at < end, if one is open at `at`.
  std::optional<TimeWindow> activeAt(Instant at) const;
  // The first (merged) window that opens strictly after `at`: after the end of the one open
  // at `at`, if any. Absent when the schedule fires no more within its search horizon.
  std::optional<TimeWindow> nextAfter(Instant at) const;

 private:
  // The end of the run of windows that contains the one opening at `start`.
  Instant chainEnd(Instant start) const;

  CronSchedule schedule_;
  std::chrono::seconds duration_;
};

}  // namespace relops::common
