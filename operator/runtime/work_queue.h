// A rate-limiting, delaying work queue of string keys ("namespace/name") with
// client-go's semantics (k8s.io/client-go/util/workqueue), which controllers
// rely on for correctness:
//   - a key waiting in the queue is held once, however often it is added;
//   - ready keys are served round-robin across namespaces (FairQueue), FIFO
//     within one, so one namespace's backlog cannot hold up another's;
//   - a key is never handed to two workers at once: one added while being
//     processed is marked dirty and queued again when done() is called;
//   - addAfter() holds keys until their time, collapsing repeats of a key to
//     the earliest time; addRateLimited() delays by the rate limiter (per-key
//     exponential backoff combined with an overall token bucket), forget()
//     resets a key's backoff after a successful reconcile.
//
// Time comes only from the injected Clock. Delayed keys become ready as soon
// as any call sees the clock past their time, so with a FakeClock a test can
// advance time and then call depth()/tryGet()/get() deterministically. A get()
// already blocked on another thread re-reads the clock when its wait ends (at
// the earliest ready time in clock terms, at most Options::maxWait) or when
// wake() is called: tests call wake() after advancing a FakeClock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "operator/runtime/fair_queue.h"

namespace relops::base {
class Clock;
}

namespace relops::runtime {

class Counter;
class Gauge;
class Histogram;
struct StandardMetrics;

// How long to wait before handing a key out again (client-go RateLimiter).
// Implementations are thread-safe.
class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // The delay for the next retry of key; counts a failure where that applies.
  virtual std::chrono::nanoseconds when(const std::string& key) = 0;
  // Stop tracking key (it succeeded): its backoff starts over.
  virtual void forget(const std::string& key) = 0;
  // Failures counted for key since it was last forgotten.
  virtual int numRequeues(const std::string& key) const = 0;
};

// Per-key exponential backoff: base * 2^failures, capped at max
// (ItemExponentialFailureRateLimiter).
class ItemExponentialFailureRateLimiter final : public RateLimiter {
 public:
  ItemExponentialFailureRateLimiter(std::chrono::nanoseconds base, std::chrono::nanoseconds max);
  std::chrono::nanoseconds when(const std::string& key) override;
  void forget(const std::string& key) override;
  int numRequeues(const std::string& key) const override;

 private:
  std::chrono::nanoseconds base_;
  std::chrono::nanoseconds max_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, int> failures_;
};

// An overall token bucket (BucketRateLimiter over golang.org/x/time/rate):
// starts full with `burst` tokens, refills at `qps`; each when() reserves a
// token and returns how long until it is available. Keys are not tracked.
class BucketRateLimiter final : public RateLimiter {
 public:
  BucketRateLimiter(double qps, int burst, const base::Clock& clock);
  std::chrono::nanoseconds when(const std::string& key) override;
  void forget(const std::string& /*key*/) override {}
  int numRequeues(const std::string& /*key*/) const override { return 0; }

 private:
  double qps_;
  double burst_;
  const base::Clock& clock_;
  std::mutex mutex_;
  double tokens_;
  std::optional<std::chrono::steady_clock::time_point> last_;
};

// The longest delay of several limiters (MaxOfRateLimiter).
class MaxOfRateLimiter final : public RateLimiter {
 public:
  explicit MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters);
  std::chrono::nanoseconds when(const std::string& key) override;
  void forget(const std::string& key) override;
  int numRequeues(const std::string& key) const override;

 private:
  std::vector<std::unique_ptr<RateLimiter>> limiters_;
};

// client-go's DefaultControllerRateLimiter: max of per-key 5 ms doubling to
// 1000 s, and an overall bucket of 10 qps with a burst of 100.
std::unique_ptr<RateLimiter> defaultControllerRateLimiter(const base::Clock& clock);

class WorkQueue {
 public:
  struct Options {
    // Queue name, the `name` and `controller` label of the workqueue_* metrics.
    std::string name;
    // When set (with a name), the queue updates the workqueue_* families and
    // refreshes the unfinished-work gauges at each scrape. Must outlive the queue.
    const StandardMetrics* metrics = nullptr;
    // Defaults to defaultControllerRateLimiter(clock).
    std::unique_ptr<RateLimiter> rateLimiter;
    // The longest a blocked get() waits before re-reading the clock
    // (client-go's 10 s heartbeat of the delaying queue).
    std::chrono::nanoseconds maxWait = std::chrono::seconds(10);
  };

  explicit WorkQueue(const base::Clock& clock);
  WorkQueue(const base::Clock& clock, Options options);
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queue key unless it is already waiting; ignored after shutdown.
  void add(const std::string& key);
  // Queue key once delay has passed on the clock (delay <= 0 adds now).
  void addAfter(const std::string& key, std::chrono::nanoseconds delay);
  // Queue key after the rate limiter's delay for it.
  void addRateLimited(const std::string& key);
  // The key succeeded: reset its backoff. It does not remove a queued key.
  void forget(const std::string& key);
  int numRequeues(const std::string& key) const;

  // The next key, blocking until there is one. After shutdown, keys still
  // queued are handed out; then nullopt means "stop working".
  std::optional<std::string> get();
  // The next key if one is ready now, else nullopt (never blocks).
  std::optional<std::string> tryGet();
  // Processing of key (from get) finished; re-queues it if it was added meanwhile.
  void done(const std::string& key);

  // Stop accepting keys and wake every get(); delayed keys are dropped.
  void shutDown();
  // As shutDown(), then wait until every key handed out has been done().
  void shutDownWithDrain();
  bool shuttingDown() const;

  // Keys ready and waiting for a worker (client-go's Len). Not const: like
  // every call, it first moves delayed keys whose time has come.
  size_t depth();
  // Keys waiting for their addAfter time.
  size_t delayedCount();
  // Re-read the clock now: blocked get() calls see keys whose time has come.
  void wake();

  // Refresh workqueue_unfinished_work_seconds and
  // workqueue_longest_running_processor_seconds (done at each scrape).
  void updateUnfinishedWorkMetrics();

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Delayed {
    TimePoint readyAt;
    uint64_t sequence;  // equal times come out in the order they were added
    std::string key;
    bool operator<(const Delayed& other) const {
      return readyAt != other.readyAt ? readyAt < other.readyAt : sequence < other.sequence;
    }
  };
  struct QueueMetrics {
    Gauge* depth;
    Counter* adds;
    Histogram* queueDuration;
    Histogram* workDuration;
    Gauge* unfinishedWork;
    Gauge* longestRunningProcessor;
    Counter* retries;
  };

  void addLocked(const std::string& key, TimePoint now);
  void promoteReadyLocked(TimePoint now);
  std::string popLocked(TimePoint now);

  const base::Clock& clock_;
  std::string name_;
  std::unique_ptr<RateLimiter> rateLimiter_;
  std::chrono::nanoseconds maxWait_;
  std::optional<QueueMetrics> metrics_;
  const StandardMetrics* standardMetrics_ = nullptr;
  uint64_t collectHookId_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable cond_;                // getters wait for keys
  std::condition_variable drainCond_;           // shutDownWithDrain waits for processing_ to empty
  FairQueue queue_;                             // ready keys, round-robin across namespaces
  std::unordered_set<std::string> dirty_;       // waiting to be processed
  std::unordered_set<std::string> processing_;  // handed to a worker
  std::set<Delayed> delayed_;
  std::unordered_map<std::string, std::set<Delayed>::iterator> delayedByKey_;
  uint64_t nextSequence_ = 0;
  bool shuttingDown_ = false;
  bool drain_ = false;
  // For the metrics: when a key was first added, when its processing started.
  std::unordered_map<std::string, TimePoint> addTimes_;
  std::unordered_map<std::string, TimePoint> processingStarts_;
};

}  // namespace relops::runtime
