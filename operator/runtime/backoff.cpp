#include "operator/runtime/backoff.h"

#include <memory>
#include <random>

namespace relops::runtime {
namespace {

Backoff::JitterSource defaultJitterSource() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

}  // namespace

BackoffPolicy BackoffPolicy::reflector() {
  BackoffPolicy policy;
  policy.initial = std::chrono::milliseconds(800);
  policy.factor = 2.0;
  policy.jitter = 1.0;
  policy.cap = std::chrono::seconds(30);
  policy.resetAfter = std::chrono::minutes(2);
  return policy;
}

Backoff::Backoff(BackoffPolicy policy, JitterSource jitter)
    : policy_(policy),
      jitter_(jitter ? std::move(jitter) : defaultJitterSource()),
      duration_(policy.initial),
      steps_(policy.steps) {}

std::chrono::nanoseconds Backoff::next(std::chrono::steady_clock::time_point now) {
  if (hasLastFailure_ && policy_.resetAfter > std::chrono::nanoseconds::zero() &&
      now - lastFailure_ > policy_.resetAfter) {
    reset();
  }
  hasLastFailure_ = true;
  lastFailure_ = now;
  return step();
}

std::chrono::nanoseconds Backoff::step() {
  // wait.Jitter: d + rand * jitter * d, truncated to whole nanoseconds.
  auto jittered = [this](std::chrono::nanoseconds d) {
    if (policy_.jitter <= 0) return d;
    const double extra = jitter_() * policy_.jitter * static_cast<double>(d.count());
    return d + std::chrono::nanoseconds(static_cast<int64_t>(extra));
  };
  if (steps_ < 1) return jittered(duration_);
  --steps_;
  const std::chrono::nanoseconds current = duration_;
  if (policy_.factor != 0) {
    duration_ = std::chrono::nanoseconds(
        static_cast<int64_t>(static_cast<double>(duration_.count()) * policy_.factor));
    if (policy_.cap > std::chrono::nanoseconds::zero() && duration_ > policy_.cap) {
      duration_ = policy_.cap;
      steps_ = 0;
    }
  }
  return jittered(current);
}

void Backoff::reset() {
  duration_ = policy_.initial;
  steps_ = policy_.steps;
}

}  // namespace relops::runtime
