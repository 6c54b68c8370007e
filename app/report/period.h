// The period a reliability report covers: [from, to) in UTC, named as a manager names it
// ("2026-11", "2026-Q4", "2026-W48"). Calendar arithmetic with std::chrono only.
#pragma once

#include <string>
#include <string_view>

#include "controllers/common/rfc3339.h"
#include "operator/base/result.h"

namespace relops::report {

using common::TimePoint;

struct Period {
  TimePoint from{};
  TimePoint to{};     // exclusive
  std::string label;  // "2026-11", "2026-Q4", "2026-W48", or "2026-11-03..2026-11-17"
  friend bool operator==(const Period&, const Period&) = default;
};

// "2026-11" (a month), "2026-Q4" (a quarter), "2026-W48" (an ISO 8601 week, Monday to
// Monday), all in UTC. kConfig on anything else, naming what was expected.
base::Result<Period> parsePeriod(std::string_view text);

// A --from/--to bound: a date ("2026-11-03", midnight UTC) or RFC 3339 ("...T10:00:00Z").
base::Result<TimePoint> parseBound(std::string_view text, std::string_view flag);

// [from, to) with a label built from the bounds; kConfig unless from < to and the span is
// at most kMaxPeriodDays.
base::Result<Period> periodBetween(TimePoint from, TimePoint to);

// The calendar month (UTC) that contains `now`: the default period, reported "so far".
Period monthContaining(TimePoint now);

// A report spans at most about a year (a budget trail keeps 92 days, history 12 periods).
inline constexpr int kMaxPeriodDays = 400;

}  // namespace relops::report
