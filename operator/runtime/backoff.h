// Exponential backoff with jitter, a cap, and a reset after a healthy spell:
// client-go's wait.Backoff stepped by the exponential backoff manager that the
// reflector uses between failed list/watch attempts (800 ms doubling to 30 s,
// jitter 1.0, reset after 2 minutes without a failure).
//
// Pure: time is passed in by the caller and randomness comes from an
// injectable jitter source, so a test can pin every number.
#pragma once

#include <chrono>
#include <functional>
#include <limits>

namespace relops::runtime {

struct BackoffPolicy {
  std::chrono::nanoseconds initial{0};
  double factor = 1.0;  // each step multiplies the delay by this (0 or 1: constant)
  // A step's delay is d + r * jitter * d for r from the jitter source in [0, 1):
  // wait.Jitter, which only ever lengthens the delay.
  double jitter = 0.0;
  // Steps left before the delay stops growing (wait.Backoff.Steps).
  int steps = std::numeric_limits<int>::max();
  // The delay never grows beyond this (0: no cap). Jitter still applies on top.
  std::chrono::nanoseconds cap{0};
  // A failure this long after the previous one starts over at `initial`
  // (0: never reset).
  std::chrono::nanoseconds resetAfter{0};

  // The reflector's list/watch backoff: 800 ms x2 up to 30 s, jitter 1.0, reset after 2 min.
  static BackoffPolicy reflector();
};

class Backoff {
 public:
  // Returns a number in [0, 1).
  using JitterSource = std::function<double()>;

  // Without a jitter source, a pseudo-random one seeded per Backoff is used.
  explicit Backoff(BackoffPolicy policy, JitterSource jitter = {});

  // The delay before the next attempt after a failure at `now`: resets first
  // when the previous failure was longer ago than resetAfter (client-go's
  // exponentialBackoffManager.getNextBackoff), then steps.
  std::chrono::nanoseconds next(std::chrono::steady_clock::time_point now);

  // One step of wait.Backoff.Step(): the current delay (jittered), then the
  // delay grows by factor, up to cap (after which steps run out).
  std::chrono::nanoseconds step();

  // Start over at the initial delay (after a success).
  void reset();

 private:
  BackoffPolicy policy_;
  JitterSource jitter_;
  std::chrono::nanoseconds duration_;
  int steps_;
  bool hasLastFailure_ = false;
  std::chrono::steady_clock::time_point lastFailure_;
};

}  // namespace relops::runtime
