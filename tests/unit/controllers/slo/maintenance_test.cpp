#include "controllers/slo/maintenance.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "controllers/common/rfc3339.h"

namespace relops::slo {
namespace {

using nlohmann::json;

common::Instant at(const char* text) { return *common::parseRfc3339(text, "test"); }

common::ChangeWindowView window(const char* name, const char* start, const char* end,
                                const char* reason = "") {
  auto view = common::ChangeWindowView::read({{"metadata", {{"namespace", "shop"}, {"name", name}}},
                                              {"spec",
                                               {{"type", "Maintenance"},
                                                {"start", start},
                                                {"end", end},
                                                {"reason", reason},
                                                {"sloSelector", json::object()}}}});
  EXPECT_TRUE(view.ok()) << view.error().message();
  return *view;
}

TEST(PlanMaintenance, NoWindowsNoSilencesNoWake) {
  const MaintenancePlan plan = planMaintenance({}, at("2026-12-07T04:00:00Z"));
  EXPECT_TRUE(plan.silences.empty());
  EXPECT_FALSE(plan.activeNow);
  EXPECT_FALSE(plan.nextChange);
}

TEST(PlanMaintenance, AnUpcomingOccurrenceWithinTheLeadIsSilencedAheadWithItsExactBounds) {
  const auto w = window("db", "2026-12-07T04:30:00Z", "2026-12-07T04:45:00Z", "upgrade");
  const MaintenancePlan plan = planMaintenance({w}, at("2026-12-07T04:00:00Z"));
  ASSERT_EQ(plan.silences.size(), 1u);
  EXPECT_EQ(plan.silences[0].window, "db");
  EXPECT_EQ(plan.silences[0].bounds.start, at("2026-12-07T04:30:00Z"));
  EXPECT_EQ(plan.silences[0].bounds.end, at("2026-12-07T04:45:00Z"));
  EXPECT_EQ(plan.silences[0].comment, "relops maintenance window ChangeWindow shop/db: upgrade");
  EXPECT_FALSE(plan.activeNow);
  EXPECT_EQ(plan.nextChange, at("2026-12-07T04:30:00Z"));  // the start: exclusion begins
}

TEST(PlanMaintenance, AFarOccurrenceWakesAtItsLead) {
  const auto w = window("db", "2026-12-07T08:00:00Z", "2026-12-07T09:00:00Z");
  const MaintenancePlan plan = planMaintenance({w}, at("2026-12-07T04:00:00Z"));
  EXPECT_TRUE(plan.silences.empty());
  EXPECT_EQ(plan.nextChange, at("2026-12-07T07:00:00Z"));
}

TEST(PlanMaintenance, AnActiveOccurrenceIsExcludedAndWakesAtItsEnd) {
  const auto w = window("db", "2026-12-07T04:00:00Z", "2026-12-07T04:20:00Z");
  MaintenancePlan plan = planMaintenance({w}, at("2026-12-07T04:00:00Z"));
  EXPECT_TRUE(plan.activeNow);
  ASSERT_EQ(plan.silences.size(), 1u);
  EXPECT_EQ(plan.nextChange, at("2026-12-07T04:20:00Z"));
  plan = planMaintenance({w}, at("2026-12-07T04:20:00Z"));  // end is exclusive
  EXPECT_FALSE(plan.activeNow);
  EXPECT_TRUE(plan.silences.empty());
  EXPECT_FALSE(plan.nextChange);
}

TEST(PlanMaintenance, SilencesAreBounded) {
  std::vector<common::ChangeWindowView> windows;
  for (size_t i = 0; i < kMaxMaintenanceWindows + 5; ++i) {
    windows.push_back(window("w", "2026-12-07T04:00:00Z", "2026-12-07T05:00:00Z"));
  }
  EXPECT_EQ(planMaintenance(windows, at("2026-12-07T04:10:00Z")).silences.size(),
            kMaxMaintenanceWindows);
}

TEST(SilenceMatchers, ConfineToTheSlosNamespaceNameAndAlerts) {
  EXPECT_EQ(
      silenceMatchers("shop", "checkout"),
      (std::vector<SilenceMatcherSpec>{{"namespace", "shop", false},
                                       {"slo", "checkout", false},
                                       {"alertname", "SLOBurnRateHigh|SLOMetricAbsent", true}}));
}

TEST(SilenceComment, IsCutToItsBound) {
  const std::string reason(2000, 'x');
  const auto w = window("db", "2026-12-07T04:00:00Z", "2026-12-07T05:00:00Z", reason.c_str());
  EXPECT_EQ(silenceComment(w).size(), kMaxSilenceComment);
}

}  // namespace
}  // namespace relops::slo
