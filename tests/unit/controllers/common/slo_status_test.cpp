// The reader of a ServiceLevelObjective's status (controllers/common/slo_status.h), as the
// kinds that act on an SLO's budget use it: the numbers the SLO controller writes as strings.
#include "controllers/common/slo_status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace relops::common {
namespace {

using nlohmann::json;

TEST(SloStatus, TheBudgetAndBurnRatesAsNumbers) {
  struct Case {
    const char* name;
    json status;
    std::optional<double> remaining;
    std::map<std::string, double> rates;
  };
  const Case cases[] = {
      {"no status yet", json::object(), std::nullopt, {}},
      {"overspent", {{"errorBudget", {{"remaining", "-12.5"}, {"consumed", "112.5"}}}}, -12.5, {}},
      {"no data", {{"errorBudget", {{"remaining", ""}, {"consumed", ""}}}}, std::nullopt, {}},
      {"not a decimal", {{"errorBudget", {{"remaining", "12.5%"}}}}, std::nullopt, {}},
      {"burn rates by window, an empty one left out",
       {{"burnRates", json::array({{{"window", "1h"}, {"rate", "14.4"}},
                                   {{"window", "6h"}, {"rate", ""}},
                                   {{"window", "3d"}, {"rate", "0.5"}}})}},
       std::nullopt,
       {{"1h", 14.4}, {"3d", 0.5}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto status = parseSloStatus(c.status);
    ASSERT_TRUE(status.ok()) << status.error().message();
    EXPECT_EQ(status->budgetRemainingPercent(), c.remaining);
    EXPECT_EQ(status->burnRatesByWindow(), c.rates);
  }
}

TEST(SloStatus, ErrorsNameTheField) {
  auto status = parseSloStatus({{"burnRates", json::array({{{"rate", "1"}}})}});
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error().message(), ::testing::HasSubstr("status.burnRates[0].window"));
}

TEST(SloStatus, RoundTrips) {
  const json written = {{"observedGeneration", 3},
                        {"sli", "99.95"},
                        {"errorBudget", {{"remaining", "50"}, {"consumed", "50"}}},
                        {"burnRates", json::array({{{"window", "1h"}, {"rate", "0.5"}}})},
                        {"evaluationTime", "2026-03-01T12:00:00Z"}};
  auto status = parseSloStatus(written);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(sloStatusJson(*status), written);
}

}  // namespace
}  // namespace relops::common
