#include "controllers/slo/calendar_period.h"

#include <chrono>
#include <cstdio>

namespace relops::slo {

namespace chr = std::chrono;

std::string_view toString(CalendarUnit unit) {
  switch (unit) {
    case CalendarUnit::kWeek:
      return "week";
    case CalendarUnit::kMonth:
      return "month";
    case CalendarUnit::kQuarter:
      return "quarter";
  }
  return "month";
}

std::optional<CalendarUnit> parseCalendarUnit(std::string_view text) {
  if (text == "week") return CalendarUnit::kWeek;
  if (text == "month") return CalendarUnit::kMonth;
  if (text == "quarter") return CalendarUnit::kQuarter;
  return std::nullopt;
}

Duration nominalLength(CalendarUnit unit) {
  switch (unit) {
    case CalendarUnit::kWeek:
      return Duration::fromSeconds(chr::days(7));
    case CalendarUnit::kMonth:
      return Duration::fromSeconds(chr::days(30));
    case CalendarUnit::kQuarter:
      return Duration::fromSeconds(chr::days(90));
  }
  return Duration::fromSeconds(chr::days(30));
}

base::Result<CalendarWindow> CalendarWindow::make(CalendarUnit unit, std::string_view timeZone) {
  auto zone = common::TimeZone::locate(timeZone);
  if (!zone.ok()) return std::move(zone).error();
  return CalendarWindow(unit, std::move(*zone));
}

namespace {

std::string twoDigits(unsigned value) {
  char text[8];
  std::snprintf(text, sizeof text, "%02u", value % 100);
  return text;
}

}  // namespace

Period CalendarWindow::periodAt(TimePoint t) const {
  const chr::local_days day = chr::floor<chr::days>(zone_.toLocal(t));
  const chr::year_month_day date{day};
  chr::local_days first;
  chr::local_days after;
  std::string label;
  switch (unit_) {
    case CalendarUnit::kWeek: {
      // ISO 8601: weeks start on Monday; the week belongs to the year of its Thursday.
      const chr::weekday weekday{day};
      first = day - (weekday - chr::Monday);
      after = first + chr::days(7);
      const chr::year_month_day thursday{first + chr::days(3)};
      const chr::local_days yearStart{thursday.year() / chr::January / 1};
      const auto week = (first + chr::days(3) - yearStart).count() / 7 + 1;
      label = std::to_string(static_cast<int>(thursday.year())) + "-W" +
              twoDigits(static_cast<unsigned>(week));
      break;
    }
    case CalendarUnit::kMonth: {
      first = chr::local_days{date.year() / date.month() / 1};
      after = chr::local_days{(date.year() / date.month() / 1) + chr::months(1)};
      label = std::to_string(static_cast<int>(date.year())) + "-" +
              twoDigits(static_cast<unsigned>(date.month()));
      break;
    }
    case CalendarUnit::kQuarter: {
      const unsigned quarter = (static_cast<unsigned>(date.month()) - 1) / 3;
      const chr::year_month_day start = date.year() / chr::month(quarter * 3 + 1) / 1;
      first = chr::local_days{start};
      after = chr::local_days{start.year() / start.month() / 1 + chr::months(3)};
      label = std::to_string(static_cast<int>(date.year())) + "-Q" + std::to_string(quarter + 1);
      break;
    }
  }
  Period period{zone_.resolve(chr::local_seconds(first)), zone_.resolve(chr::local_seconds(after)),
                std::move(label)};
  // A midnight skipped by a jump forward resolves after the instant itself: t still lies in
  // the period before.
  if (t < period.start) return periodAt(period.start - chr::seconds(1));
  return period;
}

std::string CalendarWindow::localDate(TimePoint t) const {
  const chr::year_month_day date{chr::floor<chr::days>(zone_.toLocal(t))};
  return std::to_string(static_cast<int>(date.year())) + "-" +
         twoDigits(static_cast<unsigned>(date.month())) + "-" +
         twoDigits(static_cast<unsigned>(date.day()));
}

}  // namespace relops::slo
