// A Prometheus metrics registry and its text exposition format (version
// 0.0.4). Names follow controller-runtime and client-go so existing dashboards
// work: controller_runtime_reconcile_total, workqueue_depth,
// rest_client_requests_total, leader_election_master_status, process_*.
//
// Metric families are registered once (at startup) and looked up by pointer;
// updating a labelled child is lock-light and safe from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace relops::runtime {

using Labels = std::vector<std::string>;  // label values, in the family's label-name order

class Counter {
 public:
  void inc(double by = 1.0);
  double value() const;

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double value);
  void add(double by);
  double value() const;

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upperBounds);
  void observe(double value);
  // Cumulative counts per upper bound (the last is +Inf), sum and count.
  struct Snapshot {
    std::vector<double> upperBounds;
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
  // The child for these label values, created on first use.
  Metric& with(const Labels& values);
  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& labelNames() const { return labelNames_; }
  // A consistent copy of the children, for exposition.
  std::vector<std::pair<Labels, const Metric*>> children() const;

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
  Family<Counter>& counter(const std::string& name, const std::string& help,
                           std::vector<std::string> labelNames = {});
  Family<Gauge>& gauge(const std::string& name, const std::string& help,
                       std::vector<std::string> labelNames = {});
  Family<Histogram>& histogram(const std::string& name, const std::string& help,
                               std::vector<std::string> labelNames, std::vector<double> buckets);

  // Every family in the Prometheus text format, sorted by name, process_*
  // metrics of this process included.
  std::string exposition() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Family<Counter>>> counters_;
  std::map<std::string, std::unique_ptr<Family<Gauge>>> gauges_;
  std::map<std::string, std::unique_ptr<Family<Histogram>>> histograms_;
};

// Exponential bucket bounds, as prometheus.ExponentialBuckets(start, factor, count).
std::vector<double> exponentialBuckets(double start, double factor, int count);

}  // namespace relops::runtime
