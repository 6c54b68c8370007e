#include "operator/runtime/backoff.h"

#include <gtest/gtest.h>

#include <vector>

namespace relops::runtime {
namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;

Backoff::JitterSource fixedJitter(double value) {
  return [value] { return value; };
}

std::vector<nanoseconds> steps(Backoff& backoff, int count) {
  std::vector<nanoseconds> out;
  for (int i = 0; i < count; ++i) out.push_back(backoff.step());
  return out;
}

TEST(Backoff, ReflectorSequenceWithoutJitterDoublesTo30s) {
  Backoff backoff(BackoffPolicy::reflector(), fixedJitter(0.0));
  EXPECT_EQ(steps(backoff, 9), (std::vector<nanoseconds>{800ms, 1600ms, 3200ms, 6400ms, 12800ms,
                                                         25600ms, 30s, 30s, 30s}));
}

TEST(Backoff, JitterLengthensEachStepIncludingTheCap) {
  // wait.Jitter(d, 1.0) with rand = 0.5: d * 1.5.
  Backoff backoff(BackoffPolicy::reflector(), fixedJitter(0.5));
  EXPECT_EQ(steps(backoff, 8),
            (std::vector<nanoseconds>{1200ms, 2400ms, 4800ms, 9600ms, 19200ms, 38400ms, 45s, 45s}));
}

TEST(Backoff, ResetsAfterAHealthySpell) {
  Backoff backoff(BackoffPolicy::reflector(), fixedJitter(0.0));
  const std::chrono::steady_clock::time_point start{};
  EXPECT_EQ(backoff.next(start), 800ms);
  EXPECT_EQ(backoff.next(start + 1s), 1600ms);
  EXPECT_EQ(backoff.next(start + 1s + 2min), 3200ms);  // exactly 2 min: no reset
  EXPECT_EQ(backoff.next(start + 1s + 4min + 1ns), 800ms);
  EXPECT_EQ(backoff.next(start + 1s + 4min + 2s), 1600ms);
}

TEST(Backoff, ExplicitResetStartsOver) {
  Backoff backoff(BackoffPolicy::reflector(), fixedJitter(0.0));
  steps(backoff, 10);
  backoff.reset();
  EXPECT_EQ(backoff.step(), 800ms);
}

TEST(Backoff, StepsLimitStopsGrowthLikeWaitBackoff) {
  BackoffPolicy policy;
  policy.initial = 1s;
  policy.factor = 2;
  policy.steps = 3;
  Backoff backoff(policy, fixedJitter(0.0));
  EXPECT_EQ(steps(backoff, 5), (std::vector<nanoseconds>{1s, 2s, 4s, 8s, 8s}));
}

TEST(Backoff, ConstantWithoutFactorAndDefaultJitterStaysInRange) {
  BackoffPolicy policy;
  policy.initial = 100ms;
  policy.factor = 0;
  policy.jitter = 1.0;
  Backoff backoff(policy);  // real randomness
  for (int i = 0; i < 100; ++i) {
    const nanoseconds delay = backoff.step();
    EXPECT_GE(delay, 100ms);
    EXPECT_LT(delay, 200ms);
  }
}

}  // namespace
}  // namespace relops::runtime
