// Table tests of a ChangeWindow's types, decision and admission objects.
#include "controllers/changewindow/changewindow_decide.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controllers/changewindow/admission.h"

namespace relops::changewindow {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

TimePoint at(const std::string& text) { return *common::parseRfc3339(text, "t"); }

json object(json spec) {
  return {{"apiVersion", "relops.dev/v1alpha1"},
          {"kind", "ChangeWindow"},
          {"metadata", {{"name", "weekend"}, {"namespace", "shop"}, {"generation", 3}}},
          {"spec", std::move(spec)}};
}

ChangeWindow parsed(json spec) {
  auto window = parseChangeWindow(object(std::move(spec)));
  EXPECT_TRUE(window.ok()) << (window.ok() ? "" : window.error().message());
  return *window;
}

TEST(ParseChangeWindow, RejectsWhatTheSchemaCannotJudge) {
  struct Case {
    const char* name;
    json spec;
    const char* error;
  };
  const std::vector<Case> cases = {
      {"unknown zone",
       {{"type", "Freeze"},
        {"schedule", "0 18 * * FRI"},
        {"duration", "1h"},
        {"timeZone", "Mars/Olympus"}},
       "Mars/Olympus"},
      {"bad cron", {{"type", "Freeze"}, {"schedule", "0 25 * * *"}, {"duration", "1h"}}, "hour"},
      {"both kinds",
       {{"type", "Freeze"},
        {"schedule", "0 1 * * *"},
        {"duration", "1h"},
        {"start", "2026-06-01T00:00:00Z"},
        {"end", "2026-06-02T00:00:00Z"}},
       "exactly one"},
      {"duration too long",
       {{"type", "Freeze"}, {"schedule", "0 1 * * *"}, {"duration", "32d"}},
       "between 1m and 31d"},
      {"end before start",
       {{"type", "Freeze"}, {"start", "2026-06-02T00:00:00Z"}, {"end", "2026-06-01T00:00:00Z"}},
       "after start"},
      {"unknown type",
       {{"type", "Thaw"}, {"schedule", "0 1 * * *"}, {"duration", "1h"}},
       "Freeze, Maintenance"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto window = parseChangeWindow(object(c.spec));
    ASSERT_FALSE(window.ok());
    EXPECT_THAT(window.error().message(), HasSubstr(c.error));
  }
}

TEST(DecideWindow, TableOfInstants) {
  const ChangeWindow weekly = parsed({{"type", "Freeze"},
                                      {"schedule", "0 18 * * FRI"},
                                      {"duration", "62h"},
                                      {"timeZone", "Europe/Berlin"},
                                      {"reason", "no weekend releases"}});
  struct Case {
    const char* name;
    const char* now;
    json stored;
    bool active;
    std::string until;  // currentWindow.end, "" when inactive
    std::string nextStart;
    std::vector<std::string> events;
    std::string requeueAt;
    bool bind;
  };
  const json inactive = {{"active", false}};
  const json active = {{"active", true}};
  const std::vector<Case> cases = {
      {"well before: look again when the binding goes in",
       "2026-06-03T10:00:00Z",
       inactive,
       false,
       "",
       "2026-06-05T16:00:00Z",
       {},
       "2026-06-05T15:55:00Z",
       false},
      {"within five minutes of the start: bound, not active",
       "2026-06-05T15:56:00Z",
       inactive,
       false,
       "",
       "2026-06-05T16:00:00Z",
       {},
       "2026-06-05T16:00:00Z",
       true},
      {"at the start instant: active, one WindowStarted",
       "2026-06-05T16:00:00Z",
       inactive,
       true,
       "2026-06-08T06:00:00Z",
       "2026-06-12T16:00:00Z",
       {"WindowStarted"},
       "2026-06-08T06:00:00Z",
       true},
      {"during, already active: no Event",
       "2026-06-07T10:00:00Z",
       active,
       true,
       "2026-06-08T06:00:00Z",
       "2026-06-12T16:00:00Z",
       {},
       "2026-06-08T06:00:00Z",
       true},
      {"at the end instant: WindowEnded, unbound",
       "2026-06-08T06:00:00Z",
       active,
       false,
       "",
       "2026-06-12T16:00:00Z",
       {"WindowEnded"},
       "2026-06-12T15:55:00Z",
       false},
      // Berlin moves to CET on 25 October: the window still opens at 18:00 local.
      {"across the DST change",
       "2026-10-30T17:30:00Z",
       inactive,
       true,
       "2026-11-02T07:00:00Z",
       "2026-11-06T17:00:00Z",
       {"WindowStarted"},
       "2026-11-02T07:00:00Z",
       true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const WindowDecision d = decideWindow(weekly, c.stored, {{"Deployment/web"}}, at(c.now));
    EXPECT_EQ(d.status["active"], c.active);
    EXPECT_EQ(d.status.contains("currentWindow") ? d.status["currentWindow"]["end"] : json(""),
              c.until);
    EXPECT_EQ(d.status.value("nextStart", ""), c.nextStart);
    std::vector<std::string> reasons;
    for (const WindowEvent& event : d.events) reasons.push_back(event.reason);
    EXPECT_EQ(reasons, c.events);
    ASSERT_TRUE(d.requeueAt.has_value());
    EXPECT_EQ(common::formatRfc3339(*d.requeueAt), c.requeueAt);
    EXPECT_EQ(d.bind, c.bind);
    EXPECT_EQ(d.status["observedGeneration"], 3);
    EXPECT_EQ(d.status["selected"]["count"], 1);
  }
}

TEST(DecideWindow, AnAbsoluteWindowEndsForGood) {
  const ChangeWindow once = parsed(
      {{"type", "Freeze"}, {"start", "2026-06-01T10:00:00Z"}, {"end", "2026-06-01T10:30:00Z"}});
  const WindowDecision during = decideWindow(once, json(), {}, at("2026-06-01T10:10:00Z"));
  EXPECT_EQ(during.status["active"], true);
  EXPECT_FALSE(during.status.contains("nextStart"));
  const WindowDecision after = decideWindow(once, during.status, {}, at("2026-06-01T10:30:00Z"));
  EXPECT_EQ(after.status["active"], false);
  EXPECT_FALSE(after.requeueAt.has_value());
  EXPECT_FALSE(after.bind);
  ASSERT_EQ(after.events.size(), 1u);
  EXPECT_EQ(after.events[0].reason, "WindowEnded");
}

TEST(DecideWindow, MaintenanceIsNeverBound) {
  const ChangeWindow maintenance = parsed({{"type", "Maintenance"},
                                           {"start", "2026-06-01T10:00:00Z"},
                                           {"end", "2026-06-01T10:30:00Z"},
                                           {"sloSelector", {{"matchLabels", {{"tier", "1"}}}}}});
  const WindowDecision d =
      decideWindow(maintenance, json(), {{"checkout"}}, at("2026-06-01T10:10:00Z"));
  EXPECT_EQ(d.status["active"], true);
  EXPECT_FALSE(d.bind);
  EXPECT_EQ(d.status["selected"]["kind"], "slos");
}

TEST(WindowAdmission, BindingSelectsByLabelInTheWindowsNamespaceAndCoversRollouts) {
  const ChangeWindow weekly = parsed({{"type", "Freeze"},
                                      {"schedule", "0 18 * * FRI"},
                                      {"duration", "62h"},
                                      {"workloadSelector", {{"matchLabels", {{"tier", "1"}}}}}});
  const json binding = windowBinding(weekly, "uid-1");
  EXPECT_EQ(binding["metadata"]["name"], "relops.dev-changewindow.shop.weekend");
  const json& match = binding["spec"]["matchResources"];
  EXPECT_EQ(match["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"], "shop");
  EXPECT_EQ(match["objectSelector"], json::parse(R"({"matchLabels":{"tier":"1"}})"));
  EXPECT_EQ(match["resourceRules"][1]["resources"], json({"rollouts"}));
  EXPECT_EQ(binding["spec"]["paramRef"]["name"], "weekend");
  EXPECT_EQ(binding["metadata"]["ownerReferences"][0]["uid"], "uid-1");

  const json policy = windowAdmissionPolicy("crd-uid");
  EXPECT_EQ(policy["metadata"]["name"], kWindowAdmissionPolicy);
  EXPECT_EQ(policy["spec"]["paramKind"]["kind"], "ChangeWindow");
  const std::string rule = policy["spec"]["validations"][0]["expression"];
  EXPECT_THAT(rule, HasSubstr("object.spec.template == oldObject.spec.template"));
  EXPECT_THAT(policy["spec"]["variables"][1]["expression"].get<std::string>(),
              HasSubstr("resource('errorbudgetpolicies')"));
  EXPECT_THAT(policy["spec"]["validations"][0]["messageExpression"].get<std::string>(),
              HasSubstr("params.spec.reason"));
}

TEST(WindowAdmission, LongNamesAreBounded) {
  ChangeWindow window = parsed({{"type", "Freeze"}, {"schedule", "0 1 * * *"}, {"duration", "1h"}});
  window.metadata.name = std::string(253, 'a');
  const std::string name = windowBindingName("shop", window.metadata.name);
  EXPECT_LE(name.size(), 253u);
  EXPECT_NE(name, windowBindingName("shop", std::string(252, 'a')));
}

}  // namespace
}  // namespace relops::changewindow
