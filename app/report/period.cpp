#include "app/report/period.h"

#include <charconv>
#include <chrono>

namespace relops::report {
namespace {

using namespace std::chrono;

base::Error periodError(std::string_view text) {
  return base::Error(base::ErrorKind::kConfig,
                     "period: want a month (2026-11), a quarter (2026-Q4) or an ISO week "
                     "(2026-W48), got \"" +
                         std::string(text) + "\"");
}

// The digits of text[pos, pos + count) as a number; nullopt unless all are digits.
std::optional<int> digits(std::string_view text, size_t pos, size_t count) {
  if (pos + count > text.size()) return std::nullopt;
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

TimePoint at(year_month_day day) { return TimePoint(sys_days(day).time_since_epoch()); }

// The Monday of ISO week 1: the week that holds January 4th.
sys_days isoWeekOne(year y) {
  const sys_days january4 = sys_days(y / January / 4);
  return january4 - (weekday(january4) - Monday);
}

std::string two(unsigned value) {
  return std::string(1, static_cast<char>('0' + value / 10)) + static_cast<char>('0' + value % 10);
}

std::string dateText(TimePoint time) {
  const year_month_day day(floor<days>(time));
  return std::to_string(static_cast<int>(day.year())) + "-" +
         two(static_cast<unsigned>(day.month())) + "-" + two(static_cast<unsigned>(day.day()));
}

}  // namespace

base::Result<Period> parsePeriod(std::string_view text) {
  const auto yearValue = digits(text, 0, 4);
  if (!yearValue || text.size() < 7 || text[4] != '-' || *yearValue < 1970) {
    return periodError(text);
  }
  const year y{*yearValue};
  if (text.size() == 7 && text[5] >= '0' && text[5] <= '9') {  // 2026-11
    const auto monthValue = digits(text, 5, 2);
    if (!monthValue || *monthValue < 1 || *monthValue > 12) return periodError(text);
    const year_month first = y / month(static_cast<unsigned>(*monthValue));
    const year_month next = first + months(1);
    return Period{at(first / 1), at(next / 1), std::string(text)};
  }
  if (text[5] == 'Q' || text[5] == 'q') {  // 2026-Q4
    const auto quarter = digits(text, 6, 1);
    if (text.size() != 7 || !quarter || *quarter < 1 || *quarter > 4) return periodError(text);
    const year_month first = y / month(static_cast<unsigned>(3 * (*quarter - 1) + 1));
    return Period{at(first / 1), at((first + months(3)) / 1),
                  std::to_string(*yearValue) + "-Q" + std::to_string(*quarter)};
  }
  if (text[5] == 'W' || text[5] == 'w') {  // 2026-W48: ISO 8601, week 1 holds January 4th
    const auto week = digits(text, 6, 2);
    if (text.size() != 8 || !week || *week < 1) return periodError(text);
    const sys_days week1 = isoWeekOne(y);
    const sys_days nextWeek1 = isoWeekOne(y + years(1));
    const sys_days start = week1 + weeks(*week - 1);
    if (start >= nextWeek1) return periodError(text);  // W53 exists only in long years
    return Period{TimePoint(start.time_since_epoch()),
                  TimePoint((start + weeks(1)).time_since_epoch()), std::string(text)};
  }
  return periodError(text);
}

base::Result<TimePoint> parseBound(std::string_view text, std::string_view flag) {
  if (text.size() == 10) {
    const auto y = digits(text, 0, 4);
    const auto m = digits(text, 5, 2);
    const auto d = digits(text, 8, 2);
    if (y && m && d && text[4] == '-' && text[7] == '-') {
      const year_month_day day{year{*y}, month(static_cast<unsigned>(*m)),
                               std::chrono::day(static_cast<unsigned>(*d))};
      if (day.ok()) return at(day);
    }
  } else if (auto time = common::parseRfc3339(text, flag)) {
    return *time;
  }
  return base::Error(base::ErrorKind::kConfig, std::string(flag) +
                                                   ": want a date (2026-11-03) or RFC 3339 "
                                                   "(2026-11-03T10:00:00Z), got \"" +
                                                   std::string(text) + "\"");
}

base::Result<Period> periodBetween(TimePoint from, TimePoint to) {
  if (!(from < to)) {
    return base::Error(base::ErrorKind::kConfig, "--from must be before --to");
  }
  if (to - from > days(kMaxPeriodDays)) {
    return base::Error(base::ErrorKind::kConfig,
                       "a report covers at most " + std::to_string(kMaxPeriodDays) + " days");
  }
  const bool midnight = from == floor<days>(from) && to == floor<days>(to);
  const std::string label = midnight
                                ? dateText(from) + ".." + dateText(to)
                                : common::formatRfc3339(from) + ".." + common::formatRfc3339(to);
  return Period{from, to, label};
}

Period monthContaining(TimePoint now) {
  const year_month_day day(floor<days>(now));
  const year_month first = day.year() / day.month();
  return Period{
      at(first / 1), at((first + months(1)) / 1),
      std::to_string(static_cast<int>(day.year())) + "-" + two(static_cast<unsigned>(day.month()))};
}

}  // namespace relops::report
