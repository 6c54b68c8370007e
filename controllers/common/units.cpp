#include "controllers/common/units.h"

#include <cmath>
#include <cstdio>
#include <limits>

namespace relops::common {
namespace {

base::Error configError(std::string_view field, std::string message) {
  return base::Error(base::ErrorKind::kConfig, std::string(field) + ": " + message);
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

base::Result<Duration> Duration::parse(std::string_view text, std::string_view field) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  if (text.size() < 2 || text.size() > 12) {
    return configError(
        field, "invalid duration " + quoted + ": want a number and a unit such as 5m or 28d");
  }
  int64_t number = 0;
  size_t i = 0;
  for (; i < text.size() && isDigit(text[i]); ++i) {
    number = number * 10 + (text[i] - '0');
  }
  if (i == 0 || i != text.size() - 1 || number <= 0) {
    return configError(field, "invalid duration " + quoted +
                                  ": want a positive number and one unit of s, m, h, d, w");
  }
  int64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    case 'w':
      unit = 7 * 86400;
      break;
    default:
      return configError(field,
                         "invalid duration " + quoted + ": the unit must be one of s, m, h, d, w");
  }
  Duration duration;
  duration.value_ = std::chrono::seconds(number * unit);
  duration.text_ = std::string(text);
  return duration;
}

Duration Duration::fromSeconds(std::chrono::seconds value) {
  Duration duration;
  duration.value_ = value;
  duration.text_ = duration.canonical();
  return duration;
}

std::string Duration::canonical() const {
  // Prometheus model.Duration.String(): each unit from the largest, skipping zeros.
  static constexpr std::pair<int64_t, char> kUnits[] = {
      {7 * 86400, 'w'}, {86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  int64_t rest = value_.count();
  if (rest <= 0) return "0s";
  std::string text;
  for (const auto& [size, unit] : kUnits) {
    if (rest >= size) {
      text += std::to_string(rest / size) + unit;
      rest %= size;
    }
  }
  return text;
}

base::Result<Percent> Percent::parse(std::string_view text, std::string_view field) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && text[i] == '-') {
    negative = true;
    ++i;
  }
  int64_t whole = 0;
  size_t wholeDigits = 0;
  // Digits past the limits are counted, not accumulated, so a long string is rejected
  // below instead of overflowing here.
  for (; i < text.size() && isDigit(text[i]); ++i, ++wholeDigits) {
    if (wholeDigits < 5) whole = whole * 10 + (text[i] - '0');
  }
  int64_t fraction = 0;
  size_t fractionDigits = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    for (; i < text.size() && isDigit(text[i]); ++i, ++fractionDigits) {
      if (fractionDigits < 7) fraction = fraction * 10 + (text[i] - '0');
    }
    if (fractionDigits == 0) wholeDigits = 0;  // "99." is not a number
  }
  if (wholeDigits == 0 || wholeDigits > 4 || fractionDigits > 6 || i != text.size()) {
    return configError(field,
                       "invalid percentage " + quoted +
                           ": want a decimal string with at most 6 decimals such as \"99.9\"");
  }
  for (size_t d = fractionDigits; d < 6; ++d) fraction *= 10;
  Percent percent;
  percent.micros_ = (whole * 1000000 + fraction) * (negative ? -1 : 1);
  percent.text_ = std::string(text);
  return percent;
}

std::string Percent::complementFractionText() const {
  // (100% − p) as a fraction = (1e8 − micros) / 1e8, printed exactly.
  int64_t rest = 100000000 - micros_;
  const bool negative = rest < 0;
  if (negative) rest = -rest;
  std::string digits = std::to_string(rest);
  if (digits.size() <= 8) digits.insert(0, 8 - digits.size() + 1, '0');
  std::string text = digits.substr(0, digits.size() - 8) + "." + digits.substr(digits.size() - 8);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return negative ? "-" + text : text;
}

std::string formatDecimal(double value, int decimals) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  std::string text = buffer;
  if (text.find('.') != std::string::npos) {
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
  }
  if (text == "-0") text = "0";
  return text;
}

}  // namespace relops::common
