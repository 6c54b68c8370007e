#include "controllers/common/rfc3339.h"

#include <cstdio>

namespace relops::common {

std::string formatRfc3339(TimePoint time) {
  const auto day = std::chrono::floor<std::chrono::days>(time);
  const std::chrono::year_month_day date(day);
  const std::chrono::hh_mm_ss clock(time - day);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02ld:%02ld:%02lldZ",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<long>(clock.hours().count()),
                static_cast<long>(clock.minutes().count()),
                static_cast<long long>(clock.seconds().count()));
  return buffer;
}

base::Result<TimePoint> parseRfc3339(std::string_view text, std::string_view field) {
  auto fail = [&] {
    return base::Error(base::ErrorKind::kConfig,
                       std::string(field) + ": invalid timestamp \"" + std::string(text) +
                           "\": want RFC 3339 in UTC such as 2024-03-10T09:00:00Z");
  };
  auto number = [&](size_t at, size_t width, int& out) {
    if (at + width > text.size()) return false;
    out = 0;
    for (size_t i = at; i < at + width; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (text.size() < 20 || !number(0, 4, year) || text[4] != '-' || !number(5, 2, month) ||
      text[7] != '-' || !number(8, 2, day) || (text[10] != 'T' && text[10] != 't') ||
      !number(11, 2, hour) || text[13] != ':' || !number(14, 2, minute) || text[16] != ':' ||
      !number(17, 2, second)) {
    return fail();
  }
  size_t pos = 19;
  if (text[pos] == '.') {
    ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
  }
  if (pos + 1 != text.size() || (text[pos] != 'Z' && text[pos] != 'z')) return fail();
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return fail();
  return TimePoint(std::chrono::sys_days(date)) + std::chrono::hours(hour) +
         std::chrono::minutes(minute) + std::chrono::seconds(second);
}

}  // namespace relops::common
