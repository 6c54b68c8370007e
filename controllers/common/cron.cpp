#include "controllers/common/cron.h"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <exception>
#include <vector>

namespace relops::common {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;

struct FieldSpec {
  const char* name;
  const char* ordinal;
  int min;
  int max;
  // Names for values min..; empty when the field takes numbers only.
  std::vector<std::string_view> names;
  const char* namesHint;
};

const std::array<FieldSpec, 5>& fieldSpecs() {
  static const std::array<FieldSpec, 5> kSpecs = {{
      {"minute", "1st", 0, 59, {}, ""},
      {"hour", "2nd", 0, 23, {}, ""},
      {"day-of-month", "3rd", 1, 31, {}, ""},
      {"month",
       "4th",
       1,
       12,
       {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"},
       "a month name (JAN-DEC)"},
      // 7 is Sunday as well as 0 (Vixie cron).
      {"day-of-week",
       "5th",
       0,
       7,
       {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"},
       "a day name (SUN-SAT)"},
  }};
  return kSpecs;
}

struct Macro {
  std::string_view name;
  std::string_view expansion;
};

constexpr std::array<Macro, 7> kMacros = {{
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
}};

base::Error fieldError(const FieldSpec& field, size_t position, const std::string& what) {
  return base::Error(base::ErrorKind::kConfig, std::string(field.name) + " field (" +
                                                   field.ordinal + ") at position " +
                                                   std::to_string(position + 1) + ": " + what);
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// One value of a field: a number or a name. `offset` is the value's position
// in the whole expression, for the message.
base::Result<int> parseValue(const FieldSpec& field, std::string_view text, size_t offset) {
  if (text.empty()) return fieldError(field, offset, "a value is missing");
  if (std::isdigit(static_cast<unsigned char>(text[0]))) {
    if (text.size() > 4 || !std::all_of(text.begin(), text.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c)) != 0;
        })) {
      return fieldError(field, offset, "\"" + std::string(text) + "\" is not a number");
    }
    const int value = std::stoi(std::string(text));
    if (value < field.min || value > field.max) {
      return fieldError(field, offset,
                        std::to_string(value) + " is out of range " + std::to_string(field.min) +
                            "-" + std::to_string(field.max));
    }
    return value;
  }
  if (field.names.empty()) {
    return fieldError(field, offset,
                      "\"" + std::string(text) + "\" is not a number (" +
                          std::to_string(field.min) + "-" + std::to_string(field.max) + ")");
  }
  const std::string name = upper(text);
  for (size_t i = 0; i < field.names.size(); ++i) {
    if (field.names[i] == name) return field.min + static_cast<int>(i);
  }
  return fieldError(field, offset, "\"" + std::string(text) + "\" is not " + field.namesHint);
}

// A comma list of `*`, `N`, `N-M`, each with an optional `/step`.
template <size_t N>
base::Result<base::Ok> parseField(const FieldSpec& field, std::string_view text, size_t offset,
                                  std::bitset<N>& bits) {
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string_view item = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    const size_t itemOffset = offset + start;
    if (item.empty()) return fieldError(field, itemOffset, "an empty item in the list");
    const size_t slash = item.find('/');
    const std::string_view range = item.substr(0, slash);
    int low = field.min;
    int high = field.max;
    if (range == "*") {
      if (field.max == 7) high = 6;  // day-of-week: 7 repeats Sunday
    } else {
      const size_t dash = range.find('-');
      auto first = parseValue(field, range.substr(0, dash), itemOffset);
      if (!first) return std::move(first).error();
      low = *first;
      high = *first;
      if (dash != std::string_view::npos) {
        auto last = parseValue(field, range.substr(dash + 1), itemOffset + dash + 1);
        if (!last) return std::move(last).error();
        high = *last;
        if (high < low) {
          return fieldError(field, itemOffset,
                            "range " + std::string(range) + " ends before it starts");
        }
      } else if (slash != std::string_view::npos) {
        high = field.max;  // N/step means N-max/step
        if (field.max == 7) high = 6;
      }
    }
    int step = 1;
    if (slash != std::string_view::npos) {
      const std::string_view stepText = item.substr(slash + 1);
      const size_t stepOffset = itemOffset + slash + 1;
      if (stepText.empty() || stepText.size() > 3 ||
          !std::all_of(stepText.begin(), stepText.end(),
                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
        return fieldError(field, stepOffset,
                          "step \"" + std::string(stepText) + "\" is not a positive number");
      }
      step = std::stoi(std::string(stepText));
      if (step == 0) return fieldError(field, stepOffset, "step must be at least 1");
    }
    for (int value = low; value <= high; value += step) {
      bits.set(static_cast<size_t>(field.max == 7 && value == 7 ? 0 : value));
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return base::Ok{};
}

int daysInMonth(int month) {
  static constexpr std::array<int, 13> kDays = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return kDays[static_cast<size_t>(month)];
}

}  // namespace

base::Result<CronExpression> CronExpression::parse(std::string_view text) {
  CronExpression expression;
  expression.text_ = std::string(text);
  std::string_view body = text;
  while (!body.empty() && std::isspace(static_cast<unsigned char>(body.front()))) {
    body.remove_prefix(1);
  }
  const size_t leading = text.size() - body.size();
  while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back()))) {
    body.remove_suffix(1);
  }
  if (body.empty()) return base::Error(base::ErrorKind::kConfig, "the schedule is empty");
  if (body.starts_with("TZ=") || body.starts_with("CRON_TZ=")) {
    return base::Error(base::ErrorKind::kConfig,
                       "position " + std::to_string(leading + 1) +
                           ": TZ= and CRON_TZ= prefixes are not supported (as in a Kubernetes "
                           "CronJob); set the time zone field instead");
  }
  std::string expanded;
  if (body.front() == '@') {
    const auto macro = std::find_if(kMacros.begin(), kMacros.end(),
                                    [&](const Macro& m) { return m.name == body; });
    if (macro == kMacros.end()) {
      return base::Error(base::ErrorKind::kConfig,
                         "position " + std::to_string(leading + 1) + ": \"" + std::string(body) +
                             "\" is not a supported macro (@yearly, @annually, @monthly, "
                             "@weekly, @daily, @midnight, @hourly)");
    }
    expanded = std::string(macro->expansion);
    body = expanded;
  }
  // Split into fields, remembering where each starts in the original text.
  std::vector<std::pair<std::string_view, size_t>> fields;
  for (size_t i = 0; i < body.size();) {
    if (std::isspace(static_cast<unsigned char>(body[i]))) {
      ++i;
      continue;
    }
    const size_t begin = i;
    while (i < body.size() && !std::isspace(static_cast<unsigned char>(body[i]))) ++i;
    fields.emplace_back(body.substr(begin, i - begin), expanded.empty() ? leading + begin : 0);
  }
  if (fields.size() != 5) {
    return base::Error(base::ErrorKind::kConfig,
                       "want 5 fields (minute hour day-of-month month day-of-week), got " +
                           std::to_string(fields.size()));
  }
  const auto& specs = fieldSpecs();
  for (size_t f = 0; f < 5; ++f) {
    const auto& [field, offset] = fields[f];
    for (size_t i = 0; i < field.size(); ++i) {
      const char c = field[i];
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '*' && c != ',' && c != '-' &&
          c != '/') {
        return fieldError(specs[f], offset + i,
                          std::string("unexpected character '") + c +
                              "' (use numbers, names, *, ranges a-b, lists a,b and steps /n)");
      }
    }
  }
  auto check = [](base::Result<base::Ok> result) -> std::optional<base::Error> {
    if (result.ok()) return std::nullopt;
    return std::move(result).error();
  };
  if (auto error =
          check(parseField(specs[0], fields[0].first, fields[0].second, expression.minutes_))) {
    return std::move(*error);
  }
  if (auto error =
          check(parseField(specs[1], fields[1].first, fields[1].second, expression.hours_))) {
    return std::move(*error);
  }
  if (auto error =
          check(parseField(specs[2], fields[2].first, fields[2].second, expression.daysOfMonth_))) {
    return std::move(*error);
  }
  if (auto error =
          check(parseField(specs[3], fields[3].first, fields[3].second, expression.months_))) {
    return std::move(*error);
  }
  std::bitset<8> daysOfWeek;
  if (auto error = check(parseField(specs[4], fields[4].first, fields[4].second, daysOfWeek))) {
    return std::move(*error);
  }
  for (size_t d = 0; d < 7; ++d) expression.daysOfWeek_[d] = daysOfWeek[d];
  expression.dayOfMonthRestricted_ = fields[2].first != "*";
  expression.dayOfWeekRestricted_ = fields[4].first != "*";

  // A day-of-month that no chosen month has (30 February) never fires unless
  // day-of-week opens other days.
  if (!expression.dayOfWeekRestricted_) {
    bool possible = false;
    for (int month = 1; month <= 12 && !possible; ++month) {
      if (!expression.months_[static_cast<size_t>(month)]) continue;
      for (int day = 1; day <= daysInMonth(month) && !possible; ++day) {
        possible = expression.daysOfMonth_[static_cast<size_t>(day)];
      }
    }
    if (!possible) {
      return fieldError(specs[2], fields[2].second,
                        "day-of-month " + std::string(fields[2].first) +
                            " never occurs in the chosen months, so the schedule never fires");
    }
  }
  return expression;
}

bool CronExpression::dayMatches(int dayOfMonth, int dayOfWeek) const {
  const bool dom = daysOfMonth_[static_cast<size_t>(dayOfMonth)];
  const bool dow = daysOfWeek_[static_cast<size_t>(dayOfWeek)];
  // Vixie cron: both restricted means either; otherwise the restricted one
  // (an unrestricted field has every bit set).
  if (dayOfMonthRestricted_ && dayOfWeekRestricted_) return dom || dow;
  return dom && dow;
}

bool CronExpression::matches(LocalTime local) const {
  const auto day = std::chrono::floor<days>(local);
  const std::chrono::year_month_day ymd(day);
  const std::chrono::hh_mm_ss<std::chrono::seconds> time(local - day);
  const int dow = static_cast<int>(std::chrono::weekday(day).c_encoding());
  return months_[static_cast<unsigned>(ymd.month())] &&
         dayMatches(static_cast<int>(static_cast<unsigned>(ymd.day())), dow) &&
         hours_[static_cast<size_t>(time.hours().count())] &&
         minutes_[static_cast<size_t>(time.minutes().count())];
}

std::optional<LocalTime> CronExpression::nextLocal(LocalTime from, LocalTime limit) const {
  // Round up to a whole minute.
  auto t = std::chrono::ceil<minutes>(from);
  while (t <= limit) {
    const auto day = std::chrono::floor<days>(t);
    const std::chrono::year_month_day ymd(day);
    if (!months_[static_cast<unsigned>(ymd.month())]) {
      // First day of the next month.
      const auto next = ymd.year() / ymd.month() / std::chrono::day(1) + std::chrono::months(1);
      t = std::chrono::local_days(next);
      continue;
    }
    const int dow = static_cast<int>(std::chrono::weekday(day).c_encoding());
    if (!dayMatches(static_cast<int>(static_cast<unsigned>(ymd.day())), dow)) {
      t = day + days(1);
      continue;
    }
    const std::chrono::hh_mm_ss<minutes> time(t - day);
    const auto hour = static_cast<size_t>(time.hours().count());
    if (!hours_[hour]) {
      t = day + hours(hour + 1);
      continue;
    }
    size_t minute = static_cast<size_t>(time.minutes().count());
    while (minute < 60 && !minutes_[minute]) ++minute;
    if (minute == 60) {
      t = day + hours(hour + 1);
      continue;
    }
    return LocalTime(day + hours(hour) + minutes(minute));
  }
  return std::nullopt;
}

base::Result<CronSchedule> CronSchedule::compile(std::string_view expression,
                                                 std::string_view timeZone) {
  auto parsed = CronExpression::parse(expression);
  if (!parsed) return std::move(parsed).error();
  auto zone = common::TimeZone::locate(timeZone);
  if (!zone.ok()) return std::move(zone).error();
  return CronSchedule(std::move(parsed).value(), std::move(*zone));
}

Instant CronSchedule::resolve(LocalTime local) const { return zone_.resolve(local); }

LocalTime CronSchedule::toLocal(Instant t) const { return zone_.toLocal(t); }

std::optional<Instant> CronSchedule::next(Instant after) const {
  LocalTime local = std::chrono::floor<minutes>(toLocal(after)) + minutes(1);
  const LocalTime limit = local + days(366 * kSearchYears);
  while (true) {
    const std::optional<LocalTime> candidate = expression_.nextLocal(local, limit);
    if (!candidate) return std::nullopt;
    // Within a repeated hour the first occurrences lie before `after`; skip them.
    const Instant fire = resolve(*candidate);
    if (fire > after) return fire;
    local = *candidate + minutes(1);
  }
}

std::optional<Instant> CronSchedule::latest(Instant notBefore, Instant at) const {
  if (at <= notBefore) return std::nullopt;
  // Widen a window back from `at` until it holds a fire, then walk forward:
  // never assumes the interval between fires is constant.
  std::chrono::seconds window = hours(1);
  while (true) {
    const Instant from = std::max(notBefore, at - window);
    std::optional<Instant> fire = next(from);
    if (fire && *fire <= at) {
      while (true) {
        const std::optional<Instant> following = next(*fire);
        if (!following || *following > at) return fire;
        fire = following;
      }
    }
    if (from == notBefore) return std::nullopt;
    window *= 2;
  }
}

int64_t CronSchedule::count(Instant after, Instant at, int64_t cap) const {
  int64_t n = 0;
  for (std::optional<Instant> fire = next(after); fire && *fire <= at && n < cap;
       fire = next(*fire)) {
    ++n;
  }
  return n;
}

std::string CronSchedule::formatLocal(Instant t) const { return zone_.formatLocal(t); }

}  // namespace relops::common
