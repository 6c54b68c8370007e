// Value types of the SLO API that must stay exact: durations written as a number and a
// unit ("28d"), and percentages written as decimal strings ("99.9"; DESIGN.md: no
// floats in spec). Both keep the text they were parsed from, so serializing an object
// gives back exactly what the API server stored.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "operator/base/result.h"

namespace relops::common {

// A Prometheus-style duration with one unit: s, m, h, d or w ("5m", "28d").
class Duration {
 public:
  Duration() = default;

  // Parses `text`; errors are kConfig and name `field`.
  static base::Result<Duration> parse(std::string_view text, std::string_view field);
  static Duration fromSeconds(std::chrono::seconds value);

  std::chrono::seconds value() const { return value_; }
  int64_t seconds() const { return value_.count(); }
  // The text as written in the object ("24h" stays "24h").
  const std::string& text() const { return text_; }
  // Prometheus's own rendering (model.Duration): the largest exact units, "4w", "1d",
  // "1h30m". Used in rule names and range selectors, so "24h" and "1d" record one series.
  std::string canonical() const;

  friend bool operator==(const Duration& a, const Duration& b) { return a.value_ == b.value_; }
  friend auto operator<=>(const Duration& a, const Duration& b) { return a.value_ <=> b.value_; }

 private:
  std::chrono::seconds value_{0};
  std::string text_;
};

// A non-negative-or-negative decimal percentage with at most 6 decimals, held exactly as
// an integer number of millionths of a percent.
class Percent {
 public:
  Percent() = default;

  // Accepts "99.9", "-25", "0.001". Errors are kConfig and name `field`.
  static base::Result<Percent> parse(std::string_view text, std::string_view field);

  int64_t micros() const { return micros_; }
  const std::string& text() const { return text_; }
  double value() const { return static_cast<double>(micros_) / 1e6; }     // 99.9
  double fraction() const { return static_cast<double>(micros_) / 1e8; }  // 0.999

  // The error budget of an objective, 100% − objective, as an exact decimal fraction:
  // "99.9" → "0.001". Written into PromQL so thresholds carry no float noise.
  std::string complementFractionText() const;

 private:
  int64_t micros_ = 0;
  std::string text_;
};

// Formats a double deterministically: rounded to `decimals` places, trailing zeros and a
// trailing dot removed ("14.4", "0.933333", "-20.5"). Negative zero prints as "0".
std::string formatDecimal(double value, int decimals);

}  // namespace relops::common
