// The PrometheusApi test double: answers each instant query with what the test set for the
// first matching metric name in the expression (or an empty vector), and keeps every
// expression it was asked. It never evaluates PromQL: tests of what Prometheus computes
// run against a real one (tests/e2e/test_slo_prometheus.py).
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "controllers/slo/prometheus.h"

namespace relops::slo::testing {

class FakePrometheus final : public PrometheusApi {
 public:
  using Answer = std::function<base::Result<std::vector<PromSample>>(const std::string& expr)>;

  base::Result<std::vector<PromSample>> query(const std::string& expr) override {
    Answer answer;
    {
      std::lock_guard lock(mutex_);
      queries_.push_back(expr);
      answer = answer_;
    }
    if (!answer) return std::vector<PromSample>{};
    return answer(expr);
  }
  // Answered like query(); kept as "<expr> @<unix seconds>".
  base::Result<std::vector<PromSample>> queryAt(const std::string& expr,
                                                std::chrono::system_clock::time_point at) override {
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
    Answer answer;
    {
      std::lock_guard lock(mutex_);
      queries_.push_back(expr + " @" + std::to_string(seconds));
      answer = answer_;
    }
    if (!answer) return std::vector<PromSample>{};
    return answer(expr);
  }
  void answer(Answer answer) {
    std::lock_guard lock(mutex_);
    answer_ = std::move(answer);
  }
  std::vector<std::string> queries() const {
    std::lock_guard lock(mutex_);
    return queries_;
  }

 private:
  mutable std::mutex mutex_;
  Answer answer_;
  std::vector<std::string> queries_;
};

}  // namespace relops::slo::testing
