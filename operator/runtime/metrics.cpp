#include "operator/runtime/metrics.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <type_traits>

#include "operator/runtime/process_metrics.h"

namespace relops::runtime {
namespace {

// Prometheus data model: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names
// [a-zA-Z_][a-zA-Z0-9_]*, and names starting with "__" are reserved.
bool isValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

bool isValidLabelName(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

// client_golang's DefBuckets, used when a histogram is registered without any.
const std::vector<double>& defaultBuckets() {
  static const std::vector<double> kBuckets = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
  return kBuckets;
}

std::vector<double> checkedBuckets(const std::string& name, std::vector<double> buckets) {
  if (buckets.empty()) buckets = defaultBuckets();
  // client_golang drops an explicit trailing +Inf: it is always implied.
  if (std::isinf(buckets.back()) && buckets.back() > 0) buckets.pop_back();
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (std::isnan(buckets[i]) || (i > 0 && !(buckets[i - 1] < buckets[i]))) {
      throw std::invalid_argument("histogram " + name + ": buckets must be strictly increasing");
    }
  }
  return buckets;
}

template <typename Metric>
void checkCompatible(const Family<Metric>& existing, const std::vector<std::string>& labelNames,
                     const std::vector<double>& buckets) {
  if (existing.labelNames() != labelNames ||
      (std::is_same_v<Metric, Histogram> && existing.buckets() != buckets)) {
    throw std::invalid_argument("metric " + existing.name() +
                                " is already registered with other labels or buckets");
  }
}

}  // namespace

// --- values ---

void Counter::inc(double by) {
  if (!(by >= 0)) return;
  value_.fetch_add(by, std::memory_order_relaxed);
}
double Counter::value() const { return value_.load(std::memory_order_relaxed); }

void Gauge::set(double value) { value_.store(value, std::memory_order_relaxed); }
void Gauge::add(double by) { value_.fetch_add(by, std::memory_order_relaxed); }
double Gauge::value() const { return value_.load(std::memory_order_relaxed); }

Histogram::Histogram(std::vector<double> upperBounds)
    : upperBounds_(checkedBuckets("", std::move(upperBounds))),
      counts_(upperBounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  // Like sort.SearchFloat64s: the first bound >= value; NaN lands in +Inf.
  size_t bucket = upperBounds_.size();
  if (!std::isnan(value)) {
    bucket = static_cast<size_t>(std::lower_bound(upperBounds_.begin(), upperBounds_.end(), value) -
                                 upperBounds_.begin());
  }
  std::lock_guard lock(mutex_);
  ++counts_[bucket];
  sum_ += value;
  ++count_;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snap;
  snap.upperBounds = upperBounds_;
  snap.upperBounds.push_back(std::numeric_limits<double>::infinity());
  std::lock_guard lock(mutex_);
  snap.cumulativeCounts.reserve(counts_.size());
  uint64_t running = 0;
  for (uint64_t c : counts_) {
    running += c;
    snap.cumulativeCounts.push_back(running);
  }
  snap.sum = sum_;
  snap.count = count_;
  return snap;
}

// --- families ---

template <typename Metric>
Family<Metric>::Family(std::string name, std::string help, std::vector<std::string> labelNames,
                       std::vector<double> buckets)
    : name_(std::move(name)), help_(std::move(help)), labelNames_(std::move(labelNames)) {
  if (!isValidMetricName(name_)) throw std::invalid_argument("invalid metric name: " + name_);
  for (size_t i = 0; i < labelNames_.size(); ++i) {
    const std::string& label = labelNames_[i];
    if (!isValidLabelName(label)) {
      throw std::invalid_argument("metric " + name_ + ": invalid label name: " + label);
    }
    if (std::is_same_v<Metric, Histogram> && label == "le") {
      throw std::invalid_argument("histogram " + name_ + ": label name \"le\" is reserved");
    }
    if (std::find(labelNames_.begin(), labelNames_.begin() + static_cast<std::ptrdiff_t>(i),
                  label) != labelNames_.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw std::invalid_argument("metric " + name_ + ": duplicate label name: " + label);
    }
  }
  if constexpr (std::is_same_v<Metric, Histogram>) {
    buckets_ = checkedBuckets(name_, std::move(buckets));
  } else if (!buckets.empty()) {
    throw std::invalid_argument("metric " + name_ + ": only histograms have buckets");
  }
  if (labelNames_.empty()) with({});
}

template <typename Metric>
Metric& Family<Metric>::with(const Labels& values) {
  if (values.size() != labelNames_.size()) {
    throw std::invalid_argument("metric " + name_ + ": expected " +
                                std::to_string(labelNames_.size()) + " label values, got " +
                                std::to_string(values.size()));
  }
  std::lock_guard lock(mutex_);
  auto it = children_.find(values);
  if (it != children_.end()) return *it->second;
  std::unique_ptr<Metric> child;
  if constexpr (std::is_same_v<Metric, Histogram>) {
    child = std::make_unique<Histogram>(buckets_);
  } else {
    child = std::make_unique<Metric>();
  }
  return *children_.emplace(values, std::move(child)).first->second;
}

template <typename Metric>
std::vector<std::pair<Labels, const Metric*>> Family<Metric>::children() const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<Labels, const Metric*>> out;
  out.reserve(children_.size());
  for (const auto& [labels, child] : children_) out.emplace_back(labels, child.get());
  return out;
}

template <typename Metric>
void Family<Metric>::removeMatching(const std::function<bool(const Labels&)>& matches) {
  std::lock_guard lock(mutex_);
  std::erase_if(children_, [&](const auto& child) { return matches(child.first); });
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// --- registry ---

Family<Counter>& Registry::counter(const std::string& name, const std::string& help,
                                   std::vector<std::string> labelNames) {
  std::lock_guard lock(mutex_);
  if (auto it = counters_.find(name); it != counters_.end()) {
    checkCompatible(*it->second, labelNames, {});
    return *it->second;
  }
  if (gauges_.count(name) || histograms_.count(name) ||
      (processMetrics_ == ProcessMetrics::kInclude && isProcessMetricName(name))) {
    throw std::invalid_argument("metric " + name + " is already registered with another type");
  }
  auto family = std::make_unique<Family<Counter>>(name, help, std::move(labelNames));
  return *counters_.emplace(name, std::move(family)).first->second;
}

Family<Gauge>& Registry::gauge(const std::string& name, const std::string& help,
                               std::vector<std::string> labelNames) {
  std::lock_guard lock(mutex_);
  if (auto it = gauges_.find(name); it != gauges_.end()) {
    checkCompatible(*it->second, labelNames, {});
    return *it->second;
  }
  if (counters_.count(name) || histograms_.count(name) ||
      (processMetrics_ == ProcessMetrics::kInclude && isProcessMetricName(name))) {
    throw std::invalid_argument("metric " + name + " is already registered with another type");
  }
  auto family = std::make_unique<Family<Gauge>>(name, help, std::move(labelNames));
  return *gauges_.emplace(name, std::move(family)).first->second;
}

Family<Histogram>& Registry::histogram(const std::string& name, const std::string& help,
                                       std::vector<std::string> labelNames,
                                       std::vector<double> buckets) {
  std::lock_guard lock(mutex_);
  if (auto it = histograms_.find(name); it != histograms_.end()) {
    checkCompatible(*it->second, labelNames, checkedBuckets(name, std::move(buckets)));
    return *it->second;
  }
  if (counters_.count(name) || gauges_.count(name) ||
      (processMetrics_ == ProcessMetrics::kInclude && isProcessMetricName(name))) {
    throw std::invalid_argument("metric " + name + " is already registered with another type");
  }
  auto family =
      std::make_unique<Family<Histogram>>(name, help, std::move(labelNames), std::move(buckets));
  return *histograms_.emplace(name, std::move(family)).first->second;
}

uint64_t Registry::addCollectHook(CollectHook hook) {
  std::lock_guard lock(hooksMutex_);
  const uint64_t id = nextHookId_++;
  hooks_.emplace(id, std::move(hook));
  return id;
}

void Registry::removeCollectHook(uint64_t id) {
  std::lock_guard lock(hooksMutex_);
  hooks_.erase(id);
}

std::vector<double> exponentialBuckets(double start, double factor, int count) {
  if (count < 1 || !(start > 0) || !(factor > 1)) {
    throw std::invalid_argument("exponentialBuckets needs count >= 1, start > 0, factor > 1");
  }
  // Repeated multiplication, not pow(): the bounds must be bit-identical to
  // Go's, which is why workqueue buckets read le="9.999999999999999e-06".
  std::vector<double> buckets;
  buckets.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    buckets.push_back(start);
    start *= factor;
  }
  return buckets;
}

StandardMetrics registerStandardMetrics(Registry& registry) {
  // controller-runtime's reconcile-time (and client-go's old latency) buckets.
  const std::vector<double> reconcileBuckets = {
      0.005, 0.01, 0.025, 0.05, 0.1,  0.15, 0.2,  0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6,
      0.7,   0.8,  0.9,   1.0,  1.25, 1.5,  1.75, 2.0,  2.5, 3.0,  3.5, 4.0,  4.5, 5,
      6,     7,    8,     9,    10,   15,   20,   25,   30,  40,   50,  60};
  // workqueue histograms: prometheus.ExponentialBuckets(10e-9, 10, 12), 10 ns to 1000 s.
  const std::vector<double> workqueueBuckets = exponentialBuckets(10e-9, 10, 12);
  // k8s.io/component-base/metrics/prometheus/restclient: requestLatency.
  const std::vector<double> restBuckets = {0.005, 0.025, 0.1, 0.25, 0.5,  1.0,
                                           2.0,   4.0,   8.0, 15.0, 30.0, 60.0};
  const std::vector<std::string> controller = {"controller"};
  const std::vector<std::string> queue = {"name", "controller"};

  return StandardMetrics{
      registry.counter("controller_runtime_reconcile_total",
                       "Total number of reconciliations per controller", {"controller", "result"}),
      registry.counter("controller_runtime_reconcile_errors_total",
                       "Total number of reconciliation errors per controller", controller),
      registry.counter("controller_runtime_terminal_reconcile_errors_total",
                       "Total number of terminal reconciliation errors per controller", controller),
      registry.counter("controller_runtime_reconcile_panics_total",
                       "Total number of reconciliation panics per controller", controller),
      registry.histogram("controller_runtime_reconcile_time_seconds",
                         "Length of time per reconciliation per controller", controller,
                         reconcileBuckets),
      registry.gauge("controller_runtime_max_concurrent_reconciles",
                     "Maximum number of concurrent reconciles per controller", controller),
      registry.gauge("controller_runtime_active_workers",
                     "Number of currently used workers per controller", controller),
      registry.gauge("workqueue_depth", "Current depth of workqueue", queue),
      registry.counter("workqueue_adds_total", "Total number of adds handled by workqueue", queue),
      registry.histogram("workqueue_queue_duration_seconds",
                         "How long in seconds an item stays in workqueue before being requested",
                         queue, workqueueBuckets),
      registry.histogram("workqueue_work_duration_seconds",
                         "How long in seconds processing an item from workqueue takes.", queue,
                         workqueueBuckets),
      registry.gauge("workqueue_unfinished_work_seconds",
                     "How many seconds of work has been done that is in progress and hasn't "
                     "been observed by work_duration. Large values indicate stuck threads. One "
                     "can deduce the number of stuck threads by observing the rate at which this "
                     "increases.",
                     queue),
      registry.gauge("workqueue_longest_running_processor_seconds",
                     "How many seconds has the longest running processor for workqueue been "
                     "running.",
                     queue),
      registry.counter("workqueue_retries_total", "Total number of retries handled by workqueue",
                       queue),
      registry.counter("rest_client_requests_total",
                       "Number of HTTP requests, partitioned by status code, method, and host.",
                       {"code", "method", "host"}),
      registry.histogram("rest_client_request_duration_seconds",
                         "Request latency in seconds. Broken down by verb, and host.",
                         {"verb", "host"}, restBuckets),
      registry.gauge("leader_election_master_status",
                     "Gauge of if the reporting system is master of the relevant lease, 0 "
                     "indicates backup, 1 indicates master. 'name' is the string used to "
                     "identify the lease. Please make sure to group by name.",
                     {"name"}),
      registry,
  };
}

}  // namespace relops::runtime
