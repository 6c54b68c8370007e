#include "operator/runtime/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <regex>
#include <stdexcept>
#include <thread>

namespace relops::runtime {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Registry registryWithoutProcess() { return Registry(Registry::ProcessMetrics::kExclude); }

struct FloatCase {
  const char* name;
  double value;
  const char* text;
};

// Expected strings are what Go's strconv.FormatFloat(v, 'g', -1, 64) prints.
TEST(FormatPrometheusFloat, MatchesGo) {
  const double inf = std::numeric_limits<double>::infinity();
  const FloatCase cases[] = {
      {"zero", 0.0, "0"},
      {"negative zero", -0.0, "0"},
      {"one", 1.0, "1"},
      {"minus one", -1.0, "-1"},
      {"small integer", 42.0, "42"},
      {"largest without exponent", 999999.0, "999999"},
      {"million", 1e6, "1e+06"},
      {"big integer", 1234567.0, "1.234567e+06"},
      {"start time", 1767323045.5, "1.7673230455e+09"},
      {"two to the 53", 9007199254740992.0, "9.007199254740992e+15"},
      {"half", 0.5, "0.5"},
      {"tenth", 0.1, "0.1"},
      {"third", 1.0 / 3.0, "0.3333333333333333"},
      {"fraction with integer part", 100000.5, "100000.5"},
      {"1e-4 stays fixed", 0.0001, "0.0001"},
      {"1e-5 is exponent", 0.00001, "1e-05"},
      {"small", 1.5e-5, "1.5e-05"},
      {"tiny", 1e-8, "1e-08"},
      {"negative fraction", -2.25, "-2.25"},
      {"huge", 1e21, "1e+21"},
      {"nan", std::nan(""), "NaN"},
      {"plus infinity", inf, "+Inf"},
      {"minus infinity", -inf, "-Inf"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(formatPrometheusFloat(c.value), c.text) << c.name;
  }
}

TEST(EscapeLabelValue, EscapesBackslashQuoteAndNewline) {
  EXPECT_EQ(escapeLabelValue("plain"), "plain");
  EXPECT_EQ(escapeLabelValue("a\\b\"c\nd\te"), "a\\\\b\\\"c\\nd\te");
}

TEST(ExponentialBuckets, MatchGoBitForBit) {
  std::vector<std::string> text;
  for (double bound : exponentialBuckets(10e-9, 10, 12))
    text.push_back(formatPrometheusFloat(bound));
  EXPECT_EQ(text, (std::vector<std::string>{"1e-08", "1e-07", "1e-06", "9.999999999999999e-06",
                                            "9.999999999999999e-05", "0.001", "0.01", "0.1", "1",
                                            "10", "100", "1000"}));
  EXPECT_THROW(exponentialBuckets(0, 2, 3), std::invalid_argument);
  EXPECT_THROW(exponentialBuckets(1, 1, 3), std::invalid_argument);
  EXPECT_THROW(exponentialBuckets(1, 2, 0), std::invalid_argument);
}

TEST(Exposition, CounterWithEscapedLabelsSortedByLabelName) {
  Registry registry = registryWithoutProcess();
  auto& family =
      registry.counter("relops_test_total", "Help with \\ and\nnewline", {"path", "code"});
  family.with({"a\"b\\c\nd", "200"}).inc(3);
  family.with({"/x", "404"}).inc();
  family.with({"/a", "404"}).inc(0.5);

  // Label pairs sorted by name (code before path), children by those values.
  EXPECT_EQ(registry.exposition(),
            "# HELP relops_test_total Help with \\\\ and\\nnewline\n"
            "# TYPE relops_test_total counter\n"
            "relops_test_total{code=\"200\",path=\"a\\\"b\\\\c\\nd\"} 3\n"
            "relops_test_total{code=\"404\",path=\"/a\"} 0.5\n"
            "relops_test_total{code=\"404\",path=\"/x\"} 1\n");
}

TEST(Exposition, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry registry = registryWithoutProcess();
  auto& family = registry.histogram("req_seconds", "Latency.", {"verb"}, {0.1, 0.5, 1});
  auto& get = family.with({"GET"});
  get.observe(0.25);
  get.observe(0.5);  // le is inclusive
  get.observe(3);
  auto& plain = registry.histogram("plain_seconds", "", {}, {1});
  plain.with({}).observe(std::numeric_limits<double>::quiet_NaN());

  EXPECT_EQ(registry.exposition(),
            "# HELP plain_seconds \n"
            "# TYPE plain_seconds histogram\n"
            "plain_seconds_bucket{le=\"1\"} 0\n"
            "plain_seconds_bucket{le=\"+Inf\"} 1\n"
            "plain_seconds_sum NaN\n"
            "plain_seconds_count 1\n"
            "# HELP req_seconds Latency.\n"
            "# TYPE req_seconds histogram\n"
            "req_seconds_bucket{verb=\"GET\",le=\"0.1\"} 0\n"
            "req_seconds_bucket{verb=\"GET\",le=\"0.5\"} 2\n"
            "req_seconds_bucket{verb=\"GET\",le=\"1\"} 2\n"
            "req_seconds_bucket{verb=\"GET\",le=\"+Inf\"} 3\n"
            "req_seconds_sum{verb=\"GET\"} 3.75\n"
            "req_seconds_count{verb=\"GET\"} 3\n");
}

TEST(Exposition, FamiliesSortedAcrossTypesAndUnusedVecsOmitted) {
  Registry registry = registryWithoutProcess();
  registry.gauge("b_gauge", "B.").with({}).set(-2.5);
  registry.counter("c_total", "C.");         // no labels: exposed as 0 from the start
  registry.counter("a_total", "A.", {"x"});  // labelled, never used: omitted
  registry.gauge("d_gauge", "D.", {"x"}).with({"1"}).set(std::numeric_limits<double>::infinity());

  EXPECT_EQ(registry.exposition(),
            "# HELP b_gauge B.\n"
            "# TYPE b_gauge gauge\n"
            "b_gauge -2.5\n"
            "# HELP c_total C.\n"
            "# TYPE c_total counter\n"
            "c_total 0\n"
            "# HELP d_gauge D.\n"
            "# TYPE d_gauge gauge\n"
            "d_gauge{x=\"1\"} +Inf\n");
}

TEST(Exposition, ProcessMetricsOfThisProcess) {
  Registry registry;
  const std::string text = registry.exposition();
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                           "process_virtual_memory_bytes", "process_open_fds", "process_max_fds",
                           "process_start_time_seconds"}) {
    const std::regex sample(std::string("(^|\n)") + name + " [0-9.e+]+\n");
    EXPECT_TRUE(std::regex_search(text, sample)) << name << " missing in:\n" << text;
  }
  EXPECT_THAT(text, HasSubstr("# TYPE process_cpu_seconds_total counter\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE process_open_fds gauge\n"));
  // A process started after 2020 and before the heat death of the universe.
  std::smatch match;
  ASSERT_TRUE(
      std::regex_search(text, match, std::regex("\nprocess_start_time_seconds ([^\n]+)\n")));
  const double start = std::stod(match[1]);
  EXPECT_GT(start, 1.5e9);
  EXPECT_LT(start, 1e10);
  EXPECT_THAT(Registry(Registry::ProcessMetrics::kExclude).exposition(),
              Not(HasSubstr("process_")));
}

TEST(Registry, ReRegisteringReturnsTheSameFamilyAndRejectsConflicts) {
  Registry registry = registryWithoutProcess();
  auto& first = registry.counter("x_total", "X.", {"a"});
  EXPECT_EQ(&registry.counter("x_total", "X.", {"a"}), &first);
  EXPECT_THROW(registry.counter("x_total", "X.", {"b"}), std::invalid_argument);
  EXPECT_THROW(registry.gauge("x_total", "X.", {"a"}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("x_total", "X.", {"a"}, {1}), std::invalid_argument);
  auto& histogram = registry.histogram("h", "H.", {}, {1, 2});
  EXPECT_EQ(&registry.histogram("h", "H.", {}, {1, 2}), &histogram);
  EXPECT_THROW(registry.histogram("h", "H.", {}, {1, 3}), std::invalid_argument);
  EXPECT_THROW(Registry().gauge("process_open_fds", "clash"), std::invalid_argument);
}

TEST(Registry, RejectsInvalidNamesAndLabelValueCounts) {
  Registry registry = registryWithoutProcess();
  EXPECT_THROW(registry.counter("1abc", "bad"), std::invalid_argument);
  EXPECT_THROW(registry.counter("a-b", "bad"), std::invalid_argument);
  EXPECT_THROW(registry.counter("ok_total", "bad", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(registry.counter("ok2_total", "bad", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h_seconds", "bad", {"le"}, {1}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h2_seconds", "bad", {}, {2, 1}), std::invalid_argument);
  auto& family = registry.counter("good_total", "ok", {"a", "b"});
  EXPECT_THROW(family.with({"only-one"}), std::invalid_argument);
}

TEST(Counter, IgnoresNegativeIncrements) {
  Counter counter;
  counter.inc(2);
  counter.inc(-1);
  EXPECT_EQ(counter.value(), 2);
}

TEST(Histogram, DropsExplicitInfAndDefaultsBuckets) {
  Histogram explicitInf({1, std::numeric_limits<double>::infinity()});
  EXPECT_EQ(explicitInf.snapshot().upperBounds.size(), 2u);
  Histogram defaults({});
  EXPECT_EQ(defaults.snapshot().upperBounds.size(), 12u);  // DefBuckets + +Inf
}

TEST(Counter, ConcurrentIncrementsAreAllCounted) {
  Registry registry = registryWithoutProcess();
  auto& family = registry.counter("hits_total", "Hits.", {"worker"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&family] {
      for (int i = 0; i < 10000; ++i) family.with({"shared"}).inc();
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(family.with({"shared"}).value(), 40000);
}

TEST(Registry, CollectHooksRunBeforeEachExpositionUntilRemoved) {
  Registry registry = registryWithoutProcess();
  auto& gauge = registry.gauge("computed", "Computed at scrape.").with({});
  int calls = 0;
  const uint64_t id = registry.addCollectHook([&] { gauge.set(++calls); });
  EXPECT_THAT(registry.exposition(), HasSubstr("computed 1\n"));
  EXPECT_THAT(registry.exposition(), HasSubstr("computed 2\n"));
  registry.removeCollectHook(id);
  EXPECT_THAT(registry.exposition(), HasSubstr("computed 2\n"));
}

TEST(StandardMetrics, ControllerRuntimeNamesLabelsAndBuckets) {
  Registry registry = registryWithoutProcess();
  StandardMetrics metrics = registerStandardMetrics(registry);
  StandardMetrics again = registerStandardMetrics(registry);
  EXPECT_EQ(&metrics.reconcileTotal, &again.reconcileTotal);

  EXPECT_EQ(metrics.reconcileTotal.name(), "controller_runtime_reconcile_total");
  EXPECT_EQ(metrics.reconcileTotal.labelNames(),
            (std::vector<std::string>{"controller", "result"}));
  EXPECT_EQ(metrics.reconcileTime.buckets().size(), 40u);
  EXPECT_EQ(metrics.reconcileTime.buckets().front(), 0.005);
  EXPECT_EQ(metrics.reconcileTime.buckets().back(), 60);
  EXPECT_EQ(metrics.workqueueDepth.labelNames(), (std::vector<std::string>{"name", "controller"}));
  EXPECT_EQ(metrics.workqueueQueueDuration.buckets(), exponentialBuckets(10e-9, 10, 12));
  EXPECT_EQ(metrics.restClientRequests.labelNames(),
            (std::vector<std::string>{"code", "method", "host"}));
  EXPECT_EQ(metrics.restClientRequestDuration.labelNames(),
            (std::vector<std::string>{"verb", "host"}));
  EXPECT_EQ(metrics.restClientRequestDuration.buckets(),
            (std::vector<double>{0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60}));
  EXPECT_EQ(metrics.leaderElectionMasterStatus.name(), "leader_election_master_status");

  metrics.reconcileTotal.with({"slo", std::string(reconcile_result::kSuccess)}).inc();
  metrics.workqueueDepth.with({"slo", "slo"}).set(3);
  metrics.reconcileTime.with({"slo"}).observe(0.2);
  const std::string text = registry.exposition();
  EXPECT_THAT(text, HasSubstr("# TYPE controller_runtime_reconcile_total counter\n"
                              "controller_runtime_reconcile_total{controller=\"slo\","
                              "result=\"success\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("workqueue_depth{controller=\"slo\",name=\"slo\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("controller_runtime_reconcile_time_seconds_bucket{controller="
                              "\"slo\",le=\"0.2\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("controller_runtime_reconcile_time_seconds_bucket{controller="
                              "\"slo\",le=\"0.15\"} 0\n"));
}

}  // namespace
}  // namespace relops::runtime
