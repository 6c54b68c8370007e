// Client-side rate limiting: a token bucket (client-go's flowcontrol
// tokenBucketRateLimiter over golang.org/x/time/rate). `burst` requests go at
// once, then `qps` per second; a caller over the limit waits its turn.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>

#include "operator/base/clock.h"

namespace relops::kube {

class TokenBucket {
 public:
  using Sleep = std::function<void(std::chrono::nanoseconds)>;

  // qps <= 0 disables limiting (client-go's QPS < 0). Burst below 1 is 1.
  // `sleep` defaults to std::this_thread::sleep_for; tests pass one that
  // advances their fake clock.
  TokenBucket(double qps, int burst, std::shared_ptr<const base::Clock> clock, Sleep sleep = {});

  // Takes a token now, going into debt if none is left, and returns how long
  // the caller must wait before using it (zero when a token was free).
  // Reservations are served in call order.
  std::chrono::nanoseconds reserve();

  // reserve(), then sleep for the wait.
  void acquire();

  double qps() const { return qps_; }
  int burst() const { return burst_; }

 private:
  const double qps_;
  const int burst_;
  const std::shared_ptr<const base::Clock> clock_;
  const Sleep sleep_;
  std::mutex mutex_;
  double tokens_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace relops::kube
