// Calendar SLO windows: a week (ISO, Monday to Monday), a month or a quarter in an IANA
// time zone. The error budget resets at the local start of each period (midnight, or the
// first instant after it where a DST jump skips midnight), so a period can be 23 or 25
// hours longer or shorter than its days suggest.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "controllers/common/civil_time.h"
#include "controllers/slo/vocabulary.h"
#include "operator/base/result.h"

namespace relops::slo {

enum class CalendarUnit { kWeek, kMonth, kQuarter };

std::string_view toString(CalendarUnit unit);  // "week", "month", "quarter"
std::optional<CalendarUnit> parseCalendarUnit(std::string_view text);

// The length the burn-rate factors are derived from (the SRE Workbook's 30-day month):
// 7d, 30d, 90d. The budget itself uses the actual period's length.
Duration nominalLength(CalendarUnit unit);

struct Period {
  TimePoint start;
  TimePoint end;      // exclusive: the next period's start
  std::string label;  // "2026-W49", "2026-12", "2026-Q4"
  std::chrono::seconds length() const { return end - start; }
  friend bool operator==(const Period&, const Period&) = default;
};

class CalendarWindow {
 public:
  static base::Result<CalendarWindow> make(CalendarUnit unit, std::string_view timeZone);

  CalendarUnit unit() const { return unit_; }
  const std::string& timeZone() const { return zone_.name(); }
  // The period that holds `t`.
  Period periodAt(TimePoint t) const;
  Period next(const Period& period) const { return periodAt(period.end); }
  Period previous(const Period& period) const {
    return periodAt(period.start - std::chrono::seconds(1));
  }
  // The local calendar date of `t`, "2026-12-07".
  std::string localDate(TimePoint t) const;

 private:
  CalendarWindow(CalendarUnit unit, common::TimeZone zone) : unit_(unit), zone_(std::move(zone)) {}
  CalendarUnit unit_;
  common::TimeZone zone_;
};

}  // namespace relops::slo
