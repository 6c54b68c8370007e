// A Prometheus metrics registry and its text exposition format (version
// 0.0.4). Names follow controller-runtime and client-go so existing dashboards
// work: controller_runtime_reconcile_total, workqueue_depth,
// rest_client_requests_total, leader_election_master_status, process_*.
//
// Metric families are registered once (at startup) and looked up by pointer;
// updating a labelled child is lock-light and safe from any thread.
//
// Registration mistakes (a bad metric or label name, the same name registered
// with another type or other labels, the wrong number of label values) are
// programming errors found at startup: they throw std::invalid_argument, as
// client_golang's MustRegister and WithLabelValues panic.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace relops::runtime {

using Labels = std::vector<std::string>;  // label values, in the family's label-name order

class Counter {
 public:
  // A counter only goes up: a negative increment is ignored (client_golang panics).
  void inc(double by = 1.0);
  double value() const;

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double value);
  void add(double by);
  void inc() { add(1.0); }
  void dec() { add(-1.0); }
  double value() const;

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // Upper bounds must be strictly increasing; a trailing +Inf is implied (and
  // dropped if given), as in client_golang.
  explicit Histogram(std::vector<double> upperBounds);
  // A value falls in the first bucket whose upper bound is >= it (`le`).
  void observe(double value);
  // Cumulative counts per upper bound (the last is +Inf), sum and count.
  struct Snapshot {
    std::vector<double> upperBounds;  // includes the final +Inf
    std::vector<uint64_t> cumulativeCounts;
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  std::vector<double> upperBounds_;
  mutable std::mutex mutex_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; last is +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

// A family: one name, one help text, fixed label names, children per label values.
template <typename Metric>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> labelNames,
         std::vector<double> buckets = {});
  // The child for these label values, created on first use. A family without
  // labels has its one child from the start, so it is exposed as 0 before use.
  Metric& with(const Labels& values);
  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& labelNames() const { return labelNames_; }
  const std::vector<double>& buckets() const { return buckets_; }
  // A consistent copy of the children, for exposition. Children are never
  // removed, so the pointers stay valid as long as the family.
  std::vector<std::pair<Labels, const Metric*>> children() const;
  // Drops the children whose labels match, so a series for an object or a
  // person that is gone disappears (client_golang's DeletePartialMatch). Only
  // for families whose children nobody holds a reference to.
  void removeMatching(const std::function<bool(const Labels&)>& matches);

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> labelNames_;
  std::vector<double> buckets_;
  mutable std::mutex mutex_;
  std::map<Labels, std::unique_ptr<Metric>> children_;
};

class Registry {
 public:
  enum class ProcessMetrics { kInclude, kExclude };
  Registry() = default;
  // kExclude leaves out process_* (golden tests of the format need stable output).
  explicit Registry(ProcessMetrics process) : processMetrics_(process) {}

  // Registering a name again with the same type, labels (and buckets) returns
  // the family already registered, so independent components can share one.
  Family<Counter>& counter(const std::string& name, const std::string& help,
                           std::vector<std::string> labelNames = {});
  Family<Gauge>& gauge(const std::string& name, const std::string& help,
                       std::vector<std::string> labelNames = {});
  Family<Histogram>& histogram(const std::string& name, const std::string& help,
                               std::vector<std::string> labelNames, std::vector<double> buckets);

  // Every family in the Prometheus text format, sorted by name, process_*
  // metrics of this process included.
  std::string exposition() const;

  // Callbacks run at the start of every exposition, to refresh gauges that are
  // computed rather than counted (client-go's unfinished-work gauges). Remove a
  // callback before what it captures dies; removal waits for a running scrape.
  using CollectHook = std::function<void()>;
  uint64_t addCollectHook(CollectHook hook);
  void removeCollectHook(uint64_t id);

 private:
  ProcessMetrics processMetrics_ = ProcessMetrics::kInclude;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Family<Counter>>> counters_;
  std::map<std::string, std::unique_ptr<Family<Gauge>>> gauges_;
  std::map<std::string, std::unique_ptr<Family<Histogram>>> histograms_;
  mutable std::mutex hooksMutex_;  // held while hooks run; never under mutex_
  uint64_t nextHookId_ = 1;
  std::map<uint64_t, CollectHook> hooks_;
};

// Exponential bucket bounds, as prometheus.ExponentialBuckets(start, factor, count).
std::vector<double> exponentialBuckets(double start, double factor, int count);

// A sample value as Go's expfmt writes it: strconv.FormatFloat(v, 'g', -1, 64)
// with `+Inf`, `-Inf` and `NaN` spelled out. Small integers have no exponent
// ("42"), but like Go, a value of 1e6 or more is "1e+06", "1.234567e+06".
std::string formatPrometheusFloat(double value);

// A label value escaped for the text format: backslash, double quote, newline.
std::string escapeLabelValue(std::string_view value);

// The reconcile results controller-runtime uses as the `result` label.
namespace reconcile_result {
inline constexpr std::string_view kSuccess = "success";
inline constexpr std::string_view kError = "error";
inline constexpr std::string_view kRequeue = "requeue";
inline constexpr std::string_view kRequeueAfter = "requeue_after";
}  // namespace reconcile_result

// The families controller-runtime (v0.19) and client-go export, with their
// exact names, label names and buckets, so dashboards built for Go operators
// work unchanged. Registered once with registerStandardMetrics(); code updates
// them through these references and never repeats a name string.
struct StandardMetrics {
  // sigs.k8s.io/controller-runtime/pkg/internal/controller/metrics
  Family<Counter>& reconcileTotal;   // controller_runtime_reconcile_total{controller,result}
  Family<Counter>& reconcileErrors;  // controller_runtime_reconcile_errors_total{controller}
  Family<Counter>& terminalReconcileErrors;  // ..._terminal_reconcile_errors_total{controller}
  Family<Counter>& reconcilePanics;        // controller_runtime_reconcile_panics_total{controller}
  Family<Histogram>& reconcileTime;        // controller_runtime_reconcile_time_seconds{controller}
  Family<Gauge>& maxConcurrentReconciles;  // ..._max_concurrent_reconciles{controller}
  Family<Gauge>& activeWorkers;            // controller_runtime_active_workers{controller}

  // sigs.k8s.io/controller-runtime/pkg/metrics/workqueue.go; every family has
  // labels {name, controller}, both set to the queue's name.
  Family<Gauge>& workqueueDepth;
  Family<Counter>& workqueueAdds;
  Family<Histogram>& workqueueQueueDuration;
  Family<Histogram>& workqueueWorkDuration;
  Family<Gauge>& workqueueUnfinishedWork;
  Family<Gauge>& workqueueLongestRunningProcessor;
  Family<Counter>& workqueueRetries;

  // client-go REST client (controller-runtime's client_go_adapter.go for the
  // counter; the latency histogram as k8s.io/component-base defines it).
  Family<Counter>& restClientRequests;           // rest_client_requests_total{code,method,host}
  Family<Histogram>& restClientRequestDuration;  // rest_client_request_duration_seconds{verb,host}

  // controller-runtime's pkg/metrics/leaderelection.go
  Family<Gauge>& leaderElectionMasterStatus;  // leader_election_master_status{name}

  // The registry they live in, for collect hooks (computed gauges).
  Registry& registry;
};

// Registers the standard families (idempotent: a second call returns the same
// families).
StandardMetrics registerStandardMetrics(Registry& registry);

}  // namespace relops::runtime
