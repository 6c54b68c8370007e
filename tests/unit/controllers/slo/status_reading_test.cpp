#include "controllers/slo/status_reading.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "slo_builder.h"

namespace relops::slo {
namespace {

using testing::SloBuilder;

const TimePoint kEvaluated = *parseRfc3339("2026-03-01T12:00:00Z", "t");

PromSample sample(const std::string& name, double value, TimePoint at = kEvaluated,
                  const std::string& group = "") {
  PromSample result{{{"__name__", name}, {"namespace", "shop"}, {"slo", "checkout"}}, value, at};
  if (!group.empty()) result.labels["route"] = group;
  return result;
}

struct Fixture {
  ServiceLevelObjective slo = SloBuilder().window("30d").build();
  std::vector<AlertWindow> windows = resolveAlertWindows(slo.spec, nullptr);
  PrometheusReading read(std::vector<PromSample> samples) const {
    return statusReading(slo, windows, base::Result<std::vector<PromSample>>(std::move(samples)));
  }
};

TEST(StatusQueries, CombinedReadsEverySeriesInOneQuery) {
  const auto slo = SloBuilder().window("30d").build();
  EXPECT_EQ(statusQueries(slo).combined,
            "{__name__=~\"relops_slo:sli_error:ratio_rate4w2d|relops_slo:sli_total:increase4w2d"
            "|relops_slo:sli_error:ratio_rate5m|relops_slo:sli_error:ratio_rate30m"
            "|relops_slo:sli_error:ratio_rate1h|relops_slo:sli_error:ratio_rate2h"
            "|relops_slo:sli_error:ratio_rate6h|relops_slo:sli_error:ratio_rate1d"
            "|relops_slo:sli_error:ratio_rate3d\",namespace=\"shop\",slo=\"checkout\"}");
  EXPECT_EQ(statusQueries(slo, resolveAlertWindows(slo.spec, nullptr)).combined,
            statusQueries(slo).combined);
  EXPECT_TRUE(statusQueries(SloBuilder().workload("Deployment", "web").build()).combined.empty());
}

TEST(StatusReading, AFailedQueryIsUnavailable) {
  const Fixture fixture;
  const auto reading = statusReading(
      fixture.slo, fixture.windows,
      base::Result<std::vector<PromSample>>(base::Error(base::ErrorKind::kTransient, "down")));
  EXPECT_EQ(reading.unavailable, "down");
  EXPECT_FALSE(reading.errorRatio);
}

TEST(StatusReading, TakesTheSloWindowAndEachAlertWindow) {
  const Fixture fixture;
  const auto reading = fixture.read({sample("relops_slo:sli_error:ratio_rate4w2d", 0.0005),
                                     sample("relops_slo:sli_total:increase4w2d", 1000),
                                     sample("relops_slo:sli_error:ratio_rate1h", 0.01),
                                     sample("relops_slo:sli_error:ratio_rate5m", 0.02)});
  EXPECT_FALSE(reading.unavailable);
  EXPECT_EQ(reading.errorRatio, 0.0005);
  EXPECT_EQ(reading.totalEvents, 1000);
  EXPECT_EQ(reading.evaluatedAt, kEvaluated);
  ASSERT_EQ(reading.errorRatios.size(), 2u);  // ascending by window
  EXPECT_EQ(reading.errorRatios[0].first.canonical(), "5m");
  EXPECT_EQ(reading.errorRatios[0].second, 0.02);
  EXPECT_EQ(reading.errorRatios[1].first.canonical(), "1h");
}

TEST(StatusReading, GroupsShowTheWorstRatioAndAllTraffic) {
  const Fixture fixture;
  const auto reading =
      fixture.read({sample("relops_slo:sli_error:ratio_rate4w2d", 0.001, kEvaluated, "a"),
                    sample("relops_slo:sli_error:ratio_rate4w2d", 0.004, kEvaluated, "b"),
                    sample("relops_slo:sli_total:increase4w2d", 300, kEvaluated, "a"),
                    sample("relops_slo:sli_total:increase4w2d", 700, kEvaluated, "b")});
  EXPECT_EQ(reading.errorRatio, 0.004);
  EXPECT_EQ(reading.totalEvents, 1000);
}

TEST(StatusReading, LeavesOutNaNAndUnnamedSamples) {
  const Fixture fixture;
  PromSample unnamed = sample("relops_slo:sli_error:ratio_rate4w2d", 0.5);
  unnamed.labels.erase("__name__");
  const auto reading = fixture.read(
      {unnamed, sample("relops_slo:sli_error:ratio_rate4w2d", std::nan("")),
       sample("relops_slo:sli_total:increase4w2d", std::numeric_limits<double>::quiet_NaN())});
  EXPECT_FALSE(reading.errorRatio);
  EXPECT_FALSE(reading.totalEvents);
  EXPECT_FALSE(reading.evaluatedAt);
}

TEST(StatusReading, EvaluatedAtIsTheNewestRatioSampleToTheSecond) {
  const Fixture fixture;
  const auto reading = fixture.read(
      {sample("relops_slo:sli_error:ratio_rate4w2d", 0.001, kEvaluated),
       sample("relops_slo:sli_error:ratio_rate1h", 0.001, kEvaluated + std::chrono::seconds(30)),
       sample("relops_slo:sli_total:increase4w2d", 10, kEvaluated + std::chrono::minutes(5))});
  EXPECT_EQ(reading.evaluatedAt, kEvaluated + std::chrono::seconds(30));
}

}  // namespace
}  // namespace relops::slo
