// The Clock test double: time stands still until a test advances it.
// Thread-safe, so a test can advance time while workers read it.
#pragma once

#include <chrono>
#include <mutex>

#include "operator/base/clock.h"

namespace relops::testing {

class FakeClock final : public base::Clock {
 public:
  explicit FakeClock(std::chrono::system_clock::time_point start = {}) : wall_(start) {}

  std::chrono::system_clock::time_point now() const override {
    std::lock_guard lock(mutex_);
    return wall_;
  }
  std::chrono::steady_clock::time_point steadyNow() const override {
    std::lock_guard lock(mutex_);
    return steady_;
  }
  void advance(std::chrono::nanoseconds by) {
    std::lock_guard lock(mutex_);
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(by);
    steady_ += by;
  }

 private:
  mutable std::mutex mutex_;
  std::chrono::system_clock::time_point wall_;
  std::chrono::steady_clock::time_point steady_;
};

}  // namespace relops::testing
