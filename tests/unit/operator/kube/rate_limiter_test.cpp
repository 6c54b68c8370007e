#include "operator/kube/rate_limiter.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "tests/support/fake_clock.h"

namespace relops::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using testing::FakeClock;

// Within a microsecond: the bucket keeps fractional tokens in a double.
void expectNear(nanoseconds actual, nanoseconds expected) {
  EXPECT_LE(std::abs((actual - expected).count()), 1000)
      << actual.count() << " ns, want " << expected.count() << " ns";
}

TEST(TokenBucketTest, ClientGoDefaultsBurstThenQps) {
  auto clock = std::make_shared<FakeClock>();
  TokenBucket bucket(5, 10, clock);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(bucket.reserve(), nanoseconds::zero()) << i;
  // The 11th waits one token's time (1/5 s), the 12th two, reservations queue up.
  expectNear(bucket.reserve(), milliseconds(200));
  expectNear(bucket.reserve(), milliseconds(400));
  expectNear(bucket.reserve(), milliseconds(600));
}

TEST(TokenBucketTest, RefillsWithTimeUpToBurst) {
  auto clock = std::make_shared<FakeClock>();
  TokenBucket bucket(10, 3, clock);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bucket.reserve(), nanoseconds::zero());
  clock->advance(milliseconds(100));  // one token back
  EXPECT_EQ(bucket.reserve(), nanoseconds::zero());
  expectNear(bucket.reserve(), milliseconds(100));
  clock->advance(std::chrono::hours(1));  // refills to burst, not beyond
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bucket.reserve(), nanoseconds::zero());
  expectNear(bucket.reserve(), milliseconds(100));
}

TEST(TokenBucketTest, DebtIsPaidBackBeforeNewTokens) {
  auto clock = std::make_shared<FakeClock>();
  TokenBucket bucket(2, 1, clock);
  EXPECT_EQ(bucket.reserve(), nanoseconds::zero());
  expectNear(bucket.reserve(), milliseconds(500));
  expectNear(bucket.reserve(), milliseconds(1000));
  clock->advance(milliseconds(1000));  // both reservations have now been served
  expectNear(bucket.reserve(), milliseconds(500));
}

TEST(TokenBucketTest, AcquireSleepsForTheWait) {
  auto clock = std::make_shared<FakeClock>();
  std::vector<nanoseconds> sleeps;
  TokenBucket bucket(4, 2, clock, [&](nanoseconds d) {
    sleeps.push_back(d);
    clock->advance(d);
  });
  for (int i = 0; i < 6; ++i) bucket.acquire();
  // 2 free, then one every 250 ms; each caller sleeps only its own share.
  ASSERT_EQ(sleeps.size(), 4u);
  for (const nanoseconds sleep : sleeps) expectNear(sleep, milliseconds(250));
  EXPECT_EQ(clock->steadyNow().time_since_epoch(), milliseconds(1000));
}

TEST(TokenBucketTest, NonPositiveQpsDisablesLimiting) {
  auto clock = std::make_shared<FakeClock>();
  TokenBucket bucket(-1, 1, clock);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(bucket.reserve(), nanoseconds::zero());
}

TEST(TokenBucketTest, ThreadSafeUnderContention) {
  auto clock = std::make_shared<FakeClock>();
  TokenBucket bucket(100, 50, clock);
  std::vector<std::thread> threads;
  std::atomic<int64_t> totalWait{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) totalWait += bucket.reserve().count();
    });
  }
  for (std::thread& thread : threads) thread.join();
  // 200 reservations, 50 free, 150 queued at 10 ms: waits 10, 20, ..., 1500 ms.
  const int64_t expected = 10'000'000LL * 150 * 151 / 2;
  EXPECT_NEAR(static_cast<double>(totalWait.load()), static_cast<double>(expected), 1e6);
}

}  // namespace
}  // namespace relops::kube
