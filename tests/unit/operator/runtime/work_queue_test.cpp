#include "operator/runtime/work_queue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "operator/base/clock.h"
#include "operator/runtime/metrics.h"
#include "tests/support/fake_clock.h"

namespace relops::runtime {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using std::chrono::nanoseconds;

// Long enough that a passing test never waits for it, short enough that a
// broken wake-up fails instead of hanging.
constexpr auto kPatience = 5s;

class WorkQueueTest : public ::testing::Test {
 protected:
  testing::FakeClock clock_;
};

TEST_F(WorkQueueTest, DeduplicatesWaitingKeysInFifoOrder) {
  WorkQueue queue(clock_);
  queue.add("ns/a");
  queue.add("ns/b");
  queue.add("ns/a");
  EXPECT_EQ(queue.depth(), 2u);
  EXPECT_EQ(queue.get(), "ns/a");
  EXPECT_EQ(queue.get(), "ns/b");
  EXPECT_EQ(queue.tryGet(), std::nullopt);
}

TEST_F(WorkQueueTest, KeyAddedWhileProcessingIsRequeuedOnDone) {
  WorkQueue queue(clock_);
  queue.add("a");
  ASSERT_EQ(queue.get(), "a");
  queue.add("a");  // changed while a worker holds it: marked dirty, not handed out
  queue.add("a");
  EXPECT_EQ(queue.depth(), 0u);
  EXPECT_EQ(queue.tryGet(), std::nullopt);
  queue.done("a");
  EXPECT_EQ(queue.depth(), 1u);
  EXPECT_EQ(queue.get(), "a");
  queue.done("a");
  EXPECT_EQ(queue.depth(), 0u);
}

TEST_F(WorkQueueTest, DoneWithoutChangesDoesNotRequeue) {
  WorkQueue queue(clock_);
  queue.add("a");
  ASSERT_EQ(queue.get(), "a");
  queue.done("a");
  EXPECT_EQ(queue.depth(), 0u);
  queue.done("a");  // not handed out: ignored
  queue.done("never-added");
  EXPECT_EQ(queue.depth(), 0u);
}

TEST(WorkQueueThreads, AKeyIsNeverProcessedByTwoWorkersAtOnce) {
  base::SystemClock clock;
  WorkQueue queue(clock);
  constexpr int kKeys = 5;
  constexpr int kWorkers = 8;
  constexpr int kAddsPerKey = 400;
  std::array<std::atomic<int>, kKeys> inFlight{};
  std::atomic<int> overlaps{0};
  std::atomic<int> processed{0};
  std::mutex seenMutex;
  std::map<std::string, int> lastSeenGeneration;
  std::array<std::atomic<int>, kKeys> generation{};

  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&] {
      while (auto key = queue.get()) {
        const int index = std::stoi(*key);
        if (inFlight[static_cast<size_t>(index)].fetch_add(1) != 0) ++overlaps;
        const int seen = generation[static_cast<size_t>(index)].load();
        std::this_thread::sleep_for(std::chrono::microseconds(20));  // widen the window
        inFlight[static_cast<size_t>(index)].fetch_sub(1);
        {
          std::lock_guard lock(seenMutex);
          lastSeenGeneration[*key] = std::max(lastSeenGeneration[*key], seen);
        }
        ++processed;
        queue.done(*key);
      }
    });
  }
  for (int i = 0; i < kAddsPerKey; ++i) {
    for (int k = 0; k < kKeys; ++k) {
      generation[static_cast<size_t>(k)].store(i);
      queue.add(std::to_string(k));
    }
    // Let workers catch up now and then, so keys are often re-added mid-processing.
    if (i % 4 == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  queue.shutDownWithDrain();
  for (auto& worker : workers) worker.join();

  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_GE(processed.load(), kKeys);
  // Every key was processed after its last add (no change was lost).
  for (int k = 0; k < kKeys; ++k) EXPECT_EQ(lastSeenGeneration[std::to_string(k)], kAddsPerKey - 1);
}

TEST(RateLimiter, ItemExponentialFailureDoublesFrom5msTo1000s) {
  ItemExponentialFailureRateLimiter limiter(5ms, 1000s);
  const std::vector<nanoseconds> expected = {
      5ms,    10ms,    20ms,    40ms,    80ms,    160ms,    320ms,    640ms,    1280ms, 2560ms,
      5120ms, 10240ms, 20480ms, 40960ms, 81920ms, 163840ms, 327680ms, 655360ms, 1000s,  1000s};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(limiter.when("a"), expected[i]) << "failure " << i;
  }
  EXPECT_EQ(limiter.numRequeues("a"), 20);
  EXPECT_EQ(limiter.when("b"), 5ms);  // per key
  limiter.forget("a");
  EXPECT_EQ(limiter.numRequeues("a"), 0);
  EXPECT_EQ(limiter.when("a"), 5ms);
}

TEST(RateLimiter, ItemExponentialFailureNeverOverflows) {
  ItemExponentialFailureRateLimiter limiter(5ms, 1000s);
  for (int i = 0; i < 2000; ++i) limiter.when("a");
  EXPECT_EQ(limiter.when("a"), 1000s);
}

TEST(RateLimiter, BucketAllowsBurstThenTenPerSecond) {
  testing::FakeClock clock;
  BucketRateLimiter bucket(10, 100, clock);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(bucket.when("k" + std::to_string(i)), 0ns) << i;
  EXPECT_EQ(bucket.when("x"), 100ms);
  EXPECT_EQ(bucket.when("y"), 200ms);
  EXPECT_EQ(bucket.when("z"), 300ms);
  clock.advance(1s);  // 10 tokens back, 3 owed
  for (int i = 0; i < 7; ++i) ASSERT_EQ(bucket.when("k"), 0ns) << i;
  EXPECT_EQ(bucket.when("k"), 100ms);
  EXPECT_EQ(bucket.numRequeues("k"), 0);
}

TEST(RateLimiter, DefaultControllerRateLimiterTakesTheLongerOfBoth) {
  testing::FakeClock clock;
  auto limiter = defaultControllerRateLimiter(clock);
  EXPECT_EQ(limiter->when("a"), 5ms);
  EXPECT_EQ(limiter->when("a"), 10ms);
  for (int i = 0; i < 98; ++i) limiter->when("k" + std::to_string(i));  // bucket now empty
  EXPECT_EQ(limiter->when("fresh"), 100ms);  // bucket (100 ms) beats 5 ms
  EXPECT_EQ(limiter->numRequeues("a"), 2);
  limiter->forget("a");
  EXPECT_EQ(limiter->numRequeues("a"), 0);
}

TEST_F(WorkQueueTest, AddRateLimitedDelaysByTheLimiterAndForgetResets) {
  WorkQueue queue(clock_);
  queue.addRateLimited("a");
  EXPECT_EQ(queue.numRequeues("a"), 1);
  EXPECT_EQ(queue.depth(), 0u);
  clock_.advance(4ms);
  EXPECT_EQ(queue.depth(), 0u);
  clock_.advance(1ms);
  EXPECT_EQ(queue.depth(), 1u);
  ASSERT_EQ(queue.get(), "a");
  queue.addRateLimited("a");  // second failure: 10 ms
  queue.done("a");
  clock_.advance(9ms);
  EXPECT_EQ(queue.tryGet(), std::nullopt);
  clock_.advance(1ms);
  EXPECT_EQ(queue.tryGet(), "a");
  queue.forget("a");
  EXPECT_EQ(queue.numRequeues("a"), 0);
}

TEST_F(WorkQueueTest, AddAfterReleasesKeysInReadyTimeOrder) {
  WorkQueue queue(clock_);
  queue.addAfter("c", 3s);
  queue.addAfter("a", 1s);
  queue.addAfter("b", 2s);
  queue.addAfter("d", 2s);  // same time as b: after b
  EXPECT_EQ(queue.depth(), 0u);
  EXPECT_EQ(queue.delayedCount(), 4u);
  clock_.advance(999ms);
  EXPECT_EQ(queue.tryGet(), std::nullopt);
  clock_.advance(1ms);
  EXPECT_EQ(queue.tryGet(), "a");
  clock_.advance(5s);
  EXPECT_EQ(queue.depth(), 3u);
  EXPECT_EQ(queue.tryGet(), "b");
  EXPECT_EQ(queue.tryGet(), "d");
  EXPECT_EQ(queue.tryGet(), "c");
}

TEST_F(WorkQueueTest, AddAfterCollapsesRepeatsToTheEarliestTime) {
  WorkQueue queue(clock_);
  queue.addAfter("a", 10s);
  queue.addAfter("a", 2s);  // earlier: moves the entry
  queue.addAfter("a", 5s);  // later: ignored
  EXPECT_EQ(queue.delayedCount(), 1u);
  clock_.advance(2s);
  EXPECT_EQ(queue.depth(), 1u);
  EXPECT_EQ(queue.get(), "a");
  queue.done("a");
  clock_.advance(10s);
  EXPECT_EQ(queue.depth(), 0u);  // no leftover entry at 5 s or 10 s
  EXPECT_EQ(queue.delayedCount(), 0u);
}

TEST_F(WorkQueueTest, AddAfterOfAWaitingKeyIsDeduplicated) {
  WorkQueue queue(clock_);
  queue.add("a");
  queue.addAfter("a", 1s);
  queue.addAfter("b", 0s);  // no delay: added at once
  EXPECT_EQ(queue.depth(), 2u);
  clock_.advance(1s);
  EXPECT_EQ(queue.depth(), 2u);  // "a" was still waiting
}

TEST_F(WorkQueueTest, BlockedGetWakesWhenTheFakeClockAdvancesAndWakeIsCalled) {
  WorkQueue queue(clock_);  // default maxWait of 10 s: only wake() can make this fast
  auto getter = std::async(std::launch::async, [&] { return queue.get(); });
  queue.addAfter("later", 30s);
  EXPECT_EQ(getter.wait_for(50ms), std::future_status::timeout);
  clock_.advance(30s);
  queue.wake();
  ASSERT_EQ(getter.wait_for(kPatience), std::future_status::ready);
  EXPECT_EQ(getter.get(), "later");
}

TEST_F(WorkQueueTest, BlockedGetPollsTheClockAtMostEveryMaxWait) {
  WorkQueue::Options options;
  options.maxWait = 2ms;
  WorkQueue queue(clock_, std::move(options));
  queue.addAfter("later", 1h);
  auto getter = std::async(std::launch::async, [&] { return queue.get(); });
  EXPECT_EQ(getter.wait_for(20ms), std::future_status::timeout);
  clock_.advance(1h);  // no wake(): the bounded wait notices by itself
  ASSERT_EQ(getter.wait_for(kPatience), std::future_status::ready);
  EXPECT_EQ(getter.get(), "later");
}

TEST_F(WorkQueueTest, BlockedGetWakesOnAdd) {
  WorkQueue queue(clock_);
  auto getter = std::async(std::launch::async, [&] { return queue.get(); });
  EXPECT_EQ(getter.wait_for(20ms), std::future_status::timeout);
  queue.add("now");
  ASSERT_EQ(getter.wait_for(kPatience), std::future_status::ready);
  EXPECT_EQ(getter.get(), "now");
}

TEST_F(WorkQueueTest, ShutDownWakesEveryGetter) {
  WorkQueue queue(clock_);
  std::vector<std::future<std::optional<std::string>>> getters;
  for (int i = 0; i < 3; ++i) {
    getters.push_back(std::async(std::launch::async, [&] { return queue.get(); }));
  }
  queue.addAfter("dropped", 1s);
  queue.shutDown();
  for (auto& getter : getters) {
    ASSERT_EQ(getter.wait_for(kPatience), std::future_status::ready);
    EXPECT_EQ(getter.get(), std::nullopt);
  }
  EXPECT_TRUE(queue.shuttingDown());
  clock_.advance(1s);
  EXPECT_EQ(queue.depth(), 0u);  // delayed keys are dropped
}

TEST_F(WorkQueueTest, AfterShutDownQueuedKeysAreStillHandedOutButNewOnesIgnored) {
  WorkQueue queue(clock_);
  queue.add("a");
  queue.shutDown();
  queue.add("b");
  queue.addAfter("c", 0s);
  queue.addRateLimited("d");
  EXPECT_EQ(queue.get(), "a");
  EXPECT_EQ(queue.get(), std::nullopt);
}

TEST_F(WorkQueueTest, ShutDownWithDrainWaitsForKeysInProcessing) {
  WorkQueue queue(clock_);
  queue.add("a");
  queue.add("b");
  ASSERT_EQ(queue.get(), "a");
  ASSERT_EQ(queue.get(), "b");
  auto drain = std::async(std::launch::async, [&] { queue.shutDownWithDrain(); });
  EXPECT_EQ(drain.wait_for(50ms), std::future_status::timeout);
  queue.done("a");
  EXPECT_EQ(drain.wait_for(20ms), std::future_status::timeout);
  queue.done("b");
  EXPECT_EQ(drain.wait_for(kPatience), std::future_status::ready);
  EXPECT_EQ(queue.get(), std::nullopt);
}

TEST_F(WorkQueueTest, ShutDownEndsADrainEarly) {
  WorkQueue queue(clock_);
  queue.add("stuck");
  ASSERT_EQ(queue.get(), "stuck");
  auto drain = std::async(std::launch::async, [&] { queue.shutDownWithDrain(); });
  EXPECT_EQ(drain.wait_for(20ms), std::future_status::timeout);
  queue.shutDown();
  EXPECT_EQ(drain.wait_for(kPatience), std::future_status::ready);
}

TEST_F(WorkQueueTest, ShutDownWithDrainReturnsAtOnceWhenIdle) {
  WorkQueue queue(clock_);
  queue.shutDownWithDrain();
  EXPECT_TRUE(queue.shuttingDown());
}

TEST_F(WorkQueueTest, UpdatesWorkqueueMetrics) {
  Registry registry(Registry::ProcessMetrics::kExclude);
  const StandardMetrics metrics = registerStandardMetrics(registry);
  WorkQueue::Options options;
  options.name = "slo";
  options.metrics = &metrics;
  auto queue = std::make_unique<WorkQueue>(clock_, std::move(options));
  const Labels labels = {"slo", "slo"};

  EXPECT_THAT(registry.exposition(),
              HasSubstr("workqueue_depth{controller=\"slo\",name=\"slo\"} 0\n"));
  queue->add("a");
  queue->add("a");
  queue->add("b");
  EXPECT_EQ(metrics.workqueueAdds.with(labels).value(), 2);
  EXPECT_EQ(metrics.workqueueDepth.with(labels).value(), 2);

  clock_.advance(2s);
  ASSERT_EQ(queue->get(), "a");
  EXPECT_EQ(metrics.workqueueDepth.with(labels).value(), 1);
  auto latency = metrics.workqueueQueueDuration.with(labels).snapshot();
  EXPECT_EQ(latency.count, 1u);
  EXPECT_EQ(latency.sum, 2.0);

  clock_.advance(3s);
  const std::string text = registry.exposition();  // the scrape refreshes the gauges
  EXPECT_THAT(text,
              HasSubstr("workqueue_unfinished_work_seconds{controller=\"slo\",name=\"slo\"} 3\n"));
  EXPECT_THAT(
      text,
      HasSubstr(
          "workqueue_longest_running_processor_seconds{controller=\"slo\",name=\"slo\"} 3\n"));
  queue->done("a");
  auto work = metrics.workqueueWorkDuration.with(labels).snapshot();
  EXPECT_EQ(work.count, 1u);
  EXPECT_EQ(work.sum, 3.0);

  queue->addAfter("c", 1s);
  queue->addRateLimited("d");
  EXPECT_EQ(metrics.workqueueRetries.with(labels).value(), 2);

  queue.reset();  // unregisters its scrape hook
  EXPECT_THAT(registry.exposition(), HasSubstr("workqueue_depth"));
}

}  // namespace
}  // namespace relops::runtime
