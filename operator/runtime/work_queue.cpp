#include "operator/runtime/work_queue.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "operator/base/clock.h"
#include "operator/runtime/metrics.h"

namespace relops::runtime {
namespace {

double seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

// --- rate limiters ---

ItemExponentialFailureRateLimiter::ItemExponentialFailureRateLimiter(std::chrono::nanoseconds base,
                                                                     std::chrono::nanoseconds max)
    : base_(base), max_(max) {}

std::chrono::nanoseconds ItemExponentialFailureRateLimiter::when(const std::string& key) {
  std::lock_guard lock(mutex_);
  const int exp = failures_[key]++;
  // Computed in floating point and capped before converting, as client-go
  // does, so a long failure streak cannot overflow the duration.
  const double backoff = static_cast<double>(base_.count()) * std::pow(2.0, exp);
  if (backoff > static_cast<double>(std::numeric_limits<int64_t>::max())) return max_;
  return std::min(std::chrono::nanoseconds(static_cast<int64_t>(backoff)), max_);
}

void ItemExponentialFailureRateLimiter::forget(const std::string& key) {
  std::lock_guard lock(mutex_);
  failures_.erase(key);
}

int ItemExponentialFailureRateLimiter::numRequeues(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

BucketRateLimiter::BucketRateLimiter(double qps, int burst, const base::Clock& clock)
    : qps_(qps), burst_(burst), clock_(clock), tokens_(burst) {}

std::chrono::nanoseconds BucketRateLimiter::when(const std::string& /*key*/) {
  std::lock_guard lock(mutex_);
  // rate.Limiter.Reserve(): refill for the time since the last reservation (at
  // most to burst), take one token, and if that leaves a debt, wait for it.
  const auto now = clock_.steadyNow();
  auto last = last_.value_or(now);
  if (now < last) last = now;
  double tokens = std::min(burst_, tokens_ + seconds(now - last) * qps_);
  tokens -= 1;
  std::chrono::nanoseconds wait{0};
  if (tokens < 0) wait = std::chrono::nanoseconds(static_cast<int64_t>(1e9 * (-tokens / qps_)));
  last_ = now;
  tokens_ = tokens;
  return wait;
}

MaxOfRateLimiter::MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters)
    : limiters_(std::move(limiters)) {}

std::chrono::nanoseconds MaxOfRateLimiter::when(const std::string& key) {
  // Every limiter is asked (each counts the failure), the longest wait wins.
  std::chrono::nanoseconds longest{0};
  for (auto& limiter : limiters_) longest = std::max(longest, limiter->when(key));
  return longest;
}

void MaxOfRateLimiter::forget(const std::string& key) {
  for (auto& limiter : limiters_) limiter->forget(key);
}

int MaxOfRateLimiter::numRequeues(const std::string& key) const {
  int most = 0;
  for (const auto& limiter : limiters_) most = std::max(most, limiter->numRequeues(key));
  return most;
}

std::unique_ptr<RateLimiter> defaultControllerRateLimiter(const base::Clock& clock) {
  std::vector<std::unique_ptr<RateLimiter>> limiters;
  limiters.push_back(std::make_unique<ItemExponentialFailureRateLimiter>(
      std::chrono::milliseconds(5), std::chrono::seconds(1000)));
  limiters.push_back(std::make_unique<BucketRateLimiter>(10.0, 100, clock));
  return std::make_unique<MaxOfRateLimiter>(std::move(limiters));
}

// --- the queue ---

WorkQueue::WorkQueue(const base::Clock& clock) : WorkQueue(clock, Options{}) {}

WorkQueue::WorkQueue(const base::Clock& clock, Options options)
    : clock_(clock),
      name_(std::move(options.name)),
      rateLimiter_(options.rateLimiter ? std::move(options.rateLimiter)
                                       : defaultControllerRateLimiter(clock)),
      maxWait_(std::max(options.maxWait, std::chrono::nanoseconds(std::chrono::milliseconds(1)))) {
  if (options.metrics != nullptr && !name_.empty()) {
    const StandardMetrics& m = *options.metrics;
    // controller-runtime sets both labels to the queue's name.
    const Labels labels = {name_, name_};
    metrics_ = QueueMetrics{
        &m.workqueueDepth.with(labels),          &m.workqueueAdds.with(labels),
        &m.workqueueQueueDuration.with(labels),  &m.workqueueWorkDuration.with(labels),
        &m.workqueueUnfinishedWork.with(labels), &m.workqueueLongestRunningProcessor.with(labels),
        &m.workqueueRetries.with(labels)};
    standardMetrics_ = options.metrics;
    collectHookId_ = m.registry.addCollectHook([this] { updateUnfinishedWorkMetrics(); });
  }
}

WorkQueue::~WorkQueue() {
  if (collectHookId_ != 0) standardMetrics_->registry.removeCollectHook(collectHookId_);
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard lock(mutex_);
  addLocked(key, clock_.steadyNow());
}

void WorkQueue::addLocked(const std::string& key, TimePoint now) {
  if (shuttingDown_) return;
  if (dirty_.count(key) != 0) return;  // already waiting: dedup
  if (metrics_) {
    metrics_->adds->inc();
    metrics_->depth->inc();
    addTimes_.try_emplace(key, now);
  }
  dirty_.insert(key);
  // Being processed: done() queues it again, so no worker gets it twice at once.
  if (processing_.count(key) != 0) return;
  queue_.push(key);
  cond_.notify_one();
}

void WorkQueue::addAfter(const std::string& key, std::chrono::nanoseconds delay) {
  std::lock_guard lock(mutex_);
  if (shuttingDown_) return;
  if (metrics_) metrics_->retries->inc();
  const TimePoint now = clock_.steadyNow();
  if (delay <= std::chrono::nanoseconds::zero()) {
    addLocked(key, now);
    return;
  }
  const auto step = std::chrono::duration_cast<TimePoint::duration>(delay);
  const TimePoint readyAt = step < TimePoint::max() - now ? now + step : TimePoint::max();
  // client-go's delaying queue keeps one entry per key, at the earliest time asked.
  if (auto it = delayedByKey_.find(key); it != delayedByKey_.end()) {
    if (!(readyAt < it->second->readyAt)) return;
    delayed_.erase(it->second);
    it->second = delayed_.insert(Delayed{readyAt, nextSequence_++, key}).first;
  } else {
    delayedByKey_.emplace(key, delayed_.insert(Delayed{readyAt, nextSequence_++, key}).first);
  }
  // Blocked getters recompute how long to wait.
  cond_.notify_all();
}

void WorkQueue::addRateLimited(const std::string& key) { addAfter(key, rateLimiter_->when(key)); }

void WorkQueue::forget(const std::string& key) { rateLimiter_->forget(key); }

int WorkQueue::numRequeues(const std::string& key) const { return rateLimiter_->numRequeues(key); }

void WorkQueue::promoteReadyLocked(TimePoint now) {
  while (!delayed_.empty() && delayed_.begin()->readyAt <= now) {
    std::string key = delayed_.begin()->key;
    delayedByKey_.erase(key);
    delayed_.erase(delayed_.begin());
    addLocked(key, now);
  }
}

std::string WorkQueue::popLocked(TimePoint now) {
  std::string key = queue_.pop();
  processing_.insert(key);
  dirty_.erase(key);
  if (metrics_) {
    metrics_->depth->dec();
    if (auto it = addTimes_.find(key); it != addTimes_.end()) {
      metrics_->queueDuration->observe(seconds(now - it->second));
      addTimes_.erase(it);
    }
    processingStarts_[key] = now;
  }
  return key;
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock lock(mutex_);
  while (true) {
    const TimePoint now = clock_.steadyNow();
    promoteReadyLocked(now);
    if (!queue_.empty()) return popLocked(now);
    if (shuttingDown_) return std::nullopt;
    if (delayed_.empty()) {
      cond_.wait(lock);
    } else {
      // Sleep until the earliest key is due by the clock, bounded so that a
      // clock which jumps (a FakeClock) is re-read at least every maxWait_.
      const auto due = delayed_.begin()->readyAt - now;
      cond_.wait_for(lock, std::min<std::chrono::nanoseconds>(due, maxWait_));
    }
  }
}

std::optional<std::string> WorkQueue::tryGet() {
  std::lock_guard lock(mutex_);
  const TimePoint now = clock_.steadyNow();
  promoteReadyLocked(now);
  if (queue_.empty()) return std::nullopt;
  return popLocked(now);
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard lock(mutex_);
  // Stricter than client-go: done() for a key that was not handed out is
  // ignored instead of queueing a duplicate of a waiting key.
  if (processing_.erase(key) == 0) return;
  if (metrics_) {
    if (auto it = processingStarts_.find(key); it != processingStarts_.end()) {
      metrics_->workDuration->observe(seconds(clock_.steadyNow() - it->second));
      processingStarts_.erase(it);
    }
  }
  if (dirty_.count(key) != 0) {
    queue_.push(key);
    cond_.notify_one();
  } else if (processing_.empty()) {
    drainCond_.notify_all();
  }
}

void WorkQueue::shutDown() {
  std::lock_guard lock(mutex_);
  shuttingDown_ = true;
  drain_ = false;  // a plain shutDown also ends a shutDownWithDrain's wait
  delayed_.clear();
  delayedByKey_.clear();
  cond_.notify_all();
  drainCond_.notify_all();
}

void WorkQueue::shutDownWithDrain() {
  std::unique_lock lock(mutex_);
  drain_ = true;
  shuttingDown_ = true;
  delayed_.clear();
  delayedByKey_.clear();
  cond_.notify_all();
  drainCond_.wait(lock, [this] { return processing_.empty() || !drain_; });
}

bool WorkQueue::shuttingDown() const {
  std::lock_guard lock(mutex_);
  return shuttingDown_;
}

size_t WorkQueue::depth() {
  std::lock_guard lock(mutex_);
  promoteReadyLocked(clock_.steadyNow());
  return queue_.size();
}

size_t WorkQueue::delayedCount() {
  std::lock_guard lock(mutex_);
  promoteReadyLocked(clock_.steadyNow());
  return delayed_.size();
}

void WorkQueue::wake() {
  std::lock_guard lock(mutex_);
  promoteReadyLocked(clock_.steadyNow());
  cond_.notify_all();
}

void WorkQueue::updateUnfinishedWorkMetrics() {
  std::lock_guard lock(mutex_);
  if (!metrics_) return;
  const TimePoint now = clock_.steadyNow();
  double total = 0;
  double oldest = 0;
  for (const auto& [key, start] : processingStarts_) {
    const double age = seconds(now - start);
    total += age;
    oldest = std::max(oldest, age);
  }
  metrics_->unfinishedWork->set(total);
  metrics_->longestRunningProcessor->set(oldest);
}

}  // namespace relops::runtime
