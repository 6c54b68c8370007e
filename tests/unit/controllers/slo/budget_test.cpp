#include "controllers/slo/budget.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace relops::slo {
namespace {

Percent percent(const char* text) { return *Percent::parse(text, "f"); }

TEST(Budget, FromErrorRatio) {
  struct Case {
    const char* name;
    double errorRatio;
    double total;
    const char* objective;
    const char* sli;
    const char* remaining;
    const char* consumed;
  };
  const Case cases[] = {
      {"no errors", 0.0, 1000, "99.9", "100", "100", "0"},
      {"half the budget", 0.0005, 1e6, "99.9", "99.95", "50", "50"},
      {"exactly spent", 0.001, 1e6, "99.9", "99.9", "0", "100"},
      {"overspent: negative budget", 0.0012, 1e6, "99.9", "99.88", "-20", "120"},
      {"everything fails", 1.0, 10, "99", "0", "-9900", "10000"},
      {"99.99%", 0.00001, 1e7, "99.99", "99.999", "90", "10"},
  };
  for (const Case& c : cases) {
    const auto budget = budgetFromErrorRatio(c.errorRatio, c.total, percent(c.objective));
    ASSERT_TRUE(budget) << c.name;
    EXPECT_EQ(formatSli(budget->sli), c.sli) << c.name;
    EXPECT_EQ(budgetStatus(*budget).remaining, c.remaining) << c.name;
    EXPECT_EQ(budgetStatus(*budget).consumed, c.consumed) << c.name;
  }
}

// Zero traffic is no data, not a perfect 100%: the reconciler reports it as such.
TEST(Budget, ZeroTrafficIsNoData) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(budgetFromErrorRatio(nan, 0, percent("99.9")));
  EXPECT_FALSE(budgetFromErrorRatio(0, 0, percent("99.9")));
  EXPECT_FALSE(budgetFromErrorRatio(nan, 100, percent("99.9")));
  EXPECT_FALSE(budgetFromCounts(0, 0, percent("99.9")));
  EXPECT_FALSE(budgetFromTimeslices(0, 0, percent("99.9"), *Duration::parse("28d", "f")));
}

TEST(Budget, FromCounts) {
  const auto budget = budgetFromCounts(9990, 10000, percent("99.9"));
  ASSERT_TRUE(budget);
  EXPECT_DOUBLE_EQ(budget->errorRatio, 0.001);
  EXPECT_NEAR(budget->remaining, 0.0, 1e-9);
}

// 99.9% over 30 days allows 43.2 bad minutes, observed or not (SRE Workbook).
TEST(Budget, FromTimeslices) {
  const Duration month = *Duration::parse("30d", "f");
  const auto budget = budgetFromTimeslices(1000, 0, percent("99.9"), month);
  ASSERT_TRUE(budget);
  EXPECT_EQ(budgetStatus(*budget).remaining, "100");
  const auto spentHalf = budgetFromTimeslices(1000, 22, percent("99.9"), month);
  EXPECT_EQ(formatBudgetPercent(spentHalf->remaining), "49.1");  // 22 of 43.2 minutes
  const auto overspent = budgetFromTimeslices(43200 - 60, 60, percent("99.9"), month);
  EXPECT_EQ(budgetStatus(*overspent).remaining, "-38.9");
  EXPECT_EQ(formatSli(overspent->sli), "99.861");
}

TEST(BurnRate, IsErrorRatioOverBudget) {
  EXPECT_EQ(formatBurnRate(*burnRate(0.0144, percent("99.9"))), "14.4");
  EXPECT_EQ(formatBurnRate(*burnRate(0.001, percent("99.9"))), "1");
  EXPECT_EQ(formatBurnRate(*burnRate(0.0, percent("99"))), "0");
  EXPECT_FALSE(burnRate(std::numeric_limits<double>::quiet_NaN(), percent("99")));
}

}  // namespace
}  // namespace relops::slo
