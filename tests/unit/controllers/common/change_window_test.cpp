#include "controllers/common/change_window.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "controllers/common/rfc3339.h"

namespace relops::common {
namespace {

using nlohmann::json;

Instant at(const char* text) { return *parseRfc3339(text, "test"); }

json window(json spec) {
  return {{"apiVersion", "relops.dev/v1alpha1"},
          {"kind", "ChangeWindow"},
          {"metadata", {{"namespace", "shop"}, {"name", "db-upgrade"}}},
          {"spec", std::move(spec)}};
}

TEST(ChangeWindowView, AbsoluteWindowIsActiveFromStartToEndExclusive) {
  auto view =
      ChangeWindowView::read(window({{"type", "Maintenance"},
                                     {"start", "2026-12-07T04:00:00Z"},
                                     {"end", "2026-12-07T04:30:00Z"},
                                     {"reason", "database upgrade"},
                                     {"sloSelector", {{"matchLabels", {{"tier", "db"}}}}}}));
  ASSERT_TRUE(view.ok()) << view.error().message();
  EXPECT_EQ(view->type(), ChangeWindowType::kMaintenance);
  EXPECT_EQ(view->name(), "db-upgrade");
  EXPECT_EQ(view->namespace_(), "shop");
  EXPECT_EQ(view->reason(), "database upgrade");
  EXPECT_FALSE(view->activeAt(at("2026-12-07T03:59:59Z")));
  const TimeWindow bounds{at("2026-12-07T04:00:00Z"), at("2026-12-07T04:30:00Z")};
  EXPECT_EQ(view->activeAt(at("2026-12-07T04:00:00Z")), bounds);
  EXPECT_EQ(view->activeAt(at("2026-12-07T04:29:59Z")), bounds);
  EXPECT_FALSE(view->activeAt(at("2026-12-07T04:30:00Z")));
  EXPECT_EQ(view->nextAfter(at("2026-12-07T03:00:00Z")), bounds);
  EXPECT_FALSE(view->nextAfter(at("2026-12-07T04:00:00Z")));
  EXPECT_EQ(view->currentOrNext(at("2026-12-07T03:00:00Z")), bounds);
  EXPECT_EQ(view->currentOrNext(at("2026-12-07T04:10:00Z")), bounds);
  EXPECT_FALSE(view->currentOrNext(at("2026-12-07T04:30:00Z")));
}

TEST(ChangeWindowView, RecurringWindowFollowsTheScheduleInItsZone) {
  // Saturdays 02:00 in Berlin for 2h: 01:00-03:00 UTC in winter.
  auto view = ChangeWindowView::read(window({{"type", "Maintenance"},
                                             {"schedule", "0 2 * * 6"},
                                             {"duration", "2h"},
                                             {"timeZone", "Europe/Berlin"},
                                             {"sloSelector", json::object()}}));
  ASSERT_TRUE(view.ok()) << view.error().message();
  const TimeWindow saturday{at("2026-12-12T01:00:00Z"), at("2026-12-12T03:00:00Z")};
  EXPECT_FALSE(view->activeAt(at("2026-12-07T04:00:00Z")));
  EXPECT_EQ(view->nextAfter(at("2026-12-07T04:00:00Z")), saturday);
  EXPECT_EQ(view->activeAt(at("2026-12-12T02:59:59Z")), saturday);
  EXPECT_EQ(view->currentOrNext(at("2026-12-12T01:30:00Z")), saturday);
}

TEST(ChangeWindowView, SelectsSlosOnlyAsAMaintenanceWindowWithASelector) {
  const json labels = {{"tier", "db"}};
  auto maintenance = ChangeWindowView::read(window(
      {{"type", "Maintenance"},
       {"start", "2026-12-07T04:00:00Z"},
       {"end", "2026-12-07T05:00:00Z"},
       {"sloSelector",
        {{"matchExpressions", {{{"key", "tier"}, {"operator", "In"}, {"values", {"db"}}}}}}}}));
  ASSERT_TRUE(maintenance.ok()) << maintenance.error().message();
  EXPECT_TRUE(maintenance->selectsSlo({{"tier", "db"}}));
  EXPECT_FALSE(maintenance->selectsSlo({{"tier", "web"}}));
  EXPECT_FALSE(maintenance->selectsSlo({}));

  auto noSelector = ChangeWindowView::read(window({{"type", "Maintenance"},
                                                   {"start", "2026-12-07T04:00:00Z"},
                                                   {"end", "2026-12-07T05:00:00Z"}}));
  ASSERT_TRUE(noSelector.ok());
  EXPECT_FALSE(noSelector->selectsSlo({{"tier", "db"}}));

  auto freeze = ChangeWindowView::read(window({{"type", "Freeze"},
                                               {"start", "2026-12-07T04:00:00Z"},
                                               {"end", "2026-12-07T05:00:00Z"},
                                               {"sloSelector", json::object()}}));
  ASSERT_TRUE(freeze.ok());
  EXPECT_EQ(freeze->type(), ChangeWindowType::kFreeze);
  EXPECT_FALSE(freeze->selectsSlo({{"tier", "db"}}));
}

TEST(ChangeWindowView, RejectsWhatItCannotUse) {
  struct Case {
    const char* name;
    json spec;
  };
  const std::vector<Case> cases = {
      {"unknown type",
       {{"type", "Outage"}, {"start", "2026-12-07T04:00:00Z"}, {"end", "2026-12-07T05:00:00Z"}}},
      {"no times", {{"type", "Maintenance"}}},
      {"end before start",
       {{"type", "Maintenance"},
        {"start", "2026-12-07T05:00:00Z"},
        {"end", "2026-12-07T04:00:00Z"}}},
      {"bad cron", {{"type", "Maintenance"}, {"schedule", "61 * * * *"}, {"duration", "1h"}}},
      {"unknown zone",
       {{"type", "Maintenance"},
        {"schedule", "0 2 * * *"},
        {"duration", "1h"},
        {"timeZone", "Mars/Base"}}},
      {"no duration", {{"type", "Maintenance"}, {"schedule", "0 2 * * *"}}},
      {"bad selector operator",
       {{"type", "Maintenance"},
        {"start", "2026-12-07T04:00:00Z"},
        {"end", "2026-12-07T05:00:00Z"},
        {"sloSelector", {{"matchExpressions", {{{"key", "a"}, {"operator", "Near"}}}}}}}},
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(ChangeWindowView::read(window(c.spec)).ok()) << c.name;
  }
}

TEST(ChangeWindowView, LabelsOfReadsStringLabels) {
  const json object = {{"metadata", {{"labels", {{"a", "1"}, {"b", 2}}}}}};
  EXPECT_EQ(labelsOf(object), (std::map<std::string, std::string>{{"a", "1"}}));
  EXPECT_TRUE(labelsOf(json::object()).empty());
}

}  // namespace
}  // namespace relops::common
