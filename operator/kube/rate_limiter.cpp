#include "operator/kube/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <thread>

namespace relops::kube {

TokenBucket::TokenBucket(double qps, int burst, std::shared_ptr<const base::Clock> clock,
                         Sleep sleep)
    : qps_(qps),
      burst_(std::max(burst, 1)),
      clock_(clock ? std::move(clock) : std::make_shared<base::SystemClock>()),
      sleep_(sleep ? std::move(sleep)
                   : Sleep([](std::chrono::nanoseconds d) { std::this_thread::sleep_for(d); })),
      tokens_(burst_),  // a new client may send a full burst at once
      last_(clock_->steadyNow()) {}

std::chrono::nanoseconds TokenBucket::reserve() {
  if (qps_ <= 0) return std::chrono::nanoseconds::zero();
  std::lock_guard lock(mutex_);
  const auto now = clock_->steadyNow();
  if (now > last_) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min<double>(burst_, tokens_ + elapsed * qps_);
    last_ = now;
  }
  tokens_ -= 1;
  if (tokens_ >= 0) return std::chrono::nanoseconds::zero();
  // In debt: the caller waits until refilling pays it back.
  return std::chrono::nanoseconds(static_cast<int64_t>(std::ceil(-tokens_ / qps_ * 1e9)));
}

void TokenBucket::acquire() {
  const std::chrono::nanoseconds wait = reserve();
  if (wait > std::chrono::nanoseconds::zero()) sleep_(wait);
}

}  // namespace relops::kube
