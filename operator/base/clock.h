// Time comes only through a Clock, so logic and tests never read the wall
// clock themselves (Envoy's TimeSource).
#pragma once

#include <chrono>

namespace relops::base {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall time, for timestamps written to the API (lastTransitionTime, Events).
  virtual std::chrono::system_clock::time_point now() const = 0;
  // Monotonic time, for durations, deadlines and rate limits.
  virtual std::chrono::steady_clock::time_point steadyNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::now();
  }
  std::chrono::steady_clock::time_point steadyNow() const override {
    return std::chrono::steady_clock::now();
  }
};

}  // namespace relops::base
