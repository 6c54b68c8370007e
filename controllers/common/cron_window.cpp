#include "controllers/common/cron_window.h"

namespace relops::common {

using std::chrono::seconds;

Instant CronWindows::chainEnd(Instant start) const {
  Instant end = start + duration_;
  for (int i = 0; i < kMaxChainedWindows; ++i) {
    // The last opening in (start, end] continues the run (touching windows leave no gap).
    const std::optional<Instant> fire = schedule_.latest(start, end);
    if (!fire) break;
    start = *fire;
    end = *fire + duration_;
  }
  return end;
}

std::optional<TimeWindow> CronWindows::activeAt(Instant at) const {
  // The latest opening in (at - duration, at] is open now.
  std::optional<Instant> start = schedule_.latest(at - duration_, at);
  if (!start) return std::nullopt;
  // Walk back through the openings that overlap or touch the run.
  for (int i = 0; i < kMaxChainedWindows; ++i) {
    // The earliest opening in [start - duration, start): a whole duration back per step.
    const std::optional<Instant> earlier = schedule_.next(*start - duration_ - seconds(1));
    if (!earlier || *earlier >= *start) break;
    start = earlier;
  }
  // The run's end is followed from the latest opening, which is nearest to `at`.
  const Instant latest = *schedule_.latest(at - duration_, at);
  return TimeWindow{*start, chainEnd(latest)};
}

std::optional<TimeWindow> CronWindows::nextAfter(Instant at) const {
  Instant from = at;
  if (const std::optional<TimeWindow> open = activeAt(at)) from = open->end;
  // The end of an open run is not itself an opening (it would have continued the run).
  const std::optional<Instant> start = schedule_.next(from);
  if (!start) return std::nullopt;
  return TimeWindow{*start, chainEnd(*start)};
}

}  // namespace relops::common
