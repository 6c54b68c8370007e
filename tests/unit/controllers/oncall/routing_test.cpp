// spec.routing (routing.h) and the AlertmanagerConfig relops builds from it
// (alertmanager_config.h): what is accepted, what each error names, and the child's shape.
#include "controllers/oncall/routing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controllers/oncall/alertmanager_config.h"
#include "controllers/oncall/notices.h"
#include "controllers/oncall/oncall_types.h"
#include "controllers/oncall/schedule.h"
#include "tests/unit/controllers/oncall/rotation_builder.h"

namespace relops::oncall {
namespace {

using nlohmann::json;
using testing::at;
using ::testing::HasSubstr;
using testing::RotationBuilder;

json webhook(const std::string& url) { return {{"webhookConfigs", {{{"url", url}}}}}; }

json receiver(const std::string& participant, const std::string& url) {
  json item = webhook(url);
  item["participant"] = participant;
  return item;
}

json routedSpec() {
  json spec = RotationBuilder("UTC")
                  .people({"alice", "bob"})
                  .layer("primary", {"alice", "bob"}, "2026-03-02T09:00:00", "1d")
                  .json();
  spec["routing"] = {
      {"receivers",
       {receiver("alice", "http://127.0.0.1:9001/alice"),
        {{"participant", "bob"},
         {"pagerdutyConfigs", {{{"routingKey", {{"name", "pd"}, {"key", "bob"}}}}}}}}},
      {"fallback", webhook("http://127.0.0.1:9001/team")},
      {"groupBy", {"alertname", "slo"}},
      {"groupWait", "10s"},
      {"repeatInterval", "4h"}};
  return spec;
}

TEST(Routing, ParsesAndRoundTrips) {
  auto spec = parseSpec(routedSpec());
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  ASSERT_TRUE(spec->routing);
  const Routing& routing = *spec->routing;
  ASSERT_EQ(routing.receivers.size(), 2U);
  EXPECT_EQ(routing.receivers[1].participant, "bob");
  EXPECT_TRUE(routing.receivers[1].configs.lists.contains("pagerdutyConfigs"));
  EXPECT_EQ(routing.groupWait, "10s");
  EXPECT_TRUE(routing.groupInterval.empty());
  EXPECT_TRUE(routing.notices.enabled);
  EXPECT_EQ(routing.notices.leadTime, std::chrono::minutes(15));  // the schema's default

  auto again = parseSpec(toJson(*spec));
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(*again, *spec);
}

struct RoutingError {
  std::string name;
  std::function<void(json&)> edit;
  std::string path;     // the field the error names
  std::string message;  // part of what it says
};

class RoutingErrors : public ::testing::TestWithParam<RoutingError> {};

TEST_P(RoutingErrors, NameTheField) {
  json spec = routedSpec();
  GetParam().edit(spec);
  auto parsed = parseSpec(spec);
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.error().message(), HasSubstr(GetParam().path));
  EXPECT_THAT(parsed.error().message(), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Table, RoutingErrors,
    ::testing::Values(
        RoutingError{"UnknownReceiverKind",
                     [](json& s) { s["routing"]["receivers"][0]["smsConfigs"] = json::array(); },
                     "spec.routing.receivers[0].smsConfigs", "webhookConfigs"},
        RoutingError{"ReceiverWithoutConfigs",
                     [](json& s) {
                       s["routing"]["receivers"][0] = {{"participant", "alice"}};
                     },
                     "spec.routing.receivers[0]", "at least one receiver"},
        RoutingError{"TooManyConfigsOfOneKind",
                     [](json& s) {
                       json& list = s["routing"]["receivers"][0]["webhookConfigs"];
                       for (int i = 0; i < 10; ++i) list.push_back({{"url", "http://x/"}});
                     },
                     "spec.routing.receivers[0].webhookConfigs", "at most 10"},
        RoutingError{"ConfigNotAnObject",
                     [](json& s) { s["routing"]["receivers"][0]["webhookConfigs"][0] = "x"; },
                     "webhookConfigs[0]", "must be an object"},
        RoutingError{"TwoReceiversForOneParticipant",
                     [](json& s) { s["routing"]["receivers"][1]["participant"] = "alice"; },
                     "spec.routing.receivers[1].participant", "already has a receiver"},
        RoutingError{
            "ReceiverOfNoParticipant",
            [](json& s) { s["routing"]["receivers"].push_back(receiver("carol", "http://x/")); },
            "spec.routing.receivers[2].participant", "\"carol\" is not a participant"},
        RoutingError{"ParticipantWithoutReceiver",
                     [](json& s) { s["routing"]["receivers"].erase(1); }, "spec.routing.receivers",
                     "\"bob\" has no receiver"},
        RoutingError{"WebhookWithoutUrl",
                     [](json& s) {
                       s["routing"]["receivers"][0]["webhookConfigs"][0] = {{"maxAlerts", 5}};
                     },
                     "spec.routing.receivers[0].webhookConfigs[0]", "url or urlSecret is required"},
        RoutingError{
            "WebhookUrlWithoutHost",
            [](json& s) { s["routing"]["receivers"][0]["webhookConfigs"][0]["url"] = "http:///x"; },
            "webhookConfigs[0].url", "http:// or https:// URL with a host"},
        RoutingError{
            "WebhookUrlNotHttp",
            [](json& s) { s["routing"]["fallback"]["webhookConfigs"][0]["url"] = "ftp://host/"; },
            "spec.routing.fallback.webhookConfigs[0].url", "http://"},
        RoutingError{
            "PagerdutyWithoutKey",
            [](json& s) { s["routing"]["receivers"][1]["pagerdutyConfigs"][0] = json::object(); },
            "pagerdutyConfigs[0]", "routingKey or serviceKey is required"},
        RoutingError{"TelegramWithoutChat",
                     [](json& s) {
                       s["routing"]["fallback"]["telegramConfigs"] = {
                           {{"botToken", {{"name", "t"}, {"key", "k"}}}}};
                     },
                     "telegramConfigs[0]", "chatID is required"},
        RoutingError{"GroupByTwice",
                     [](json& s) {
                       s["routing"]["groupBy"] = {"slo", "alertname", "slo"};
                     },
                     "spec.routing.groupBy", "\"slo\" is listed twice"},
        RoutingError{"GroupByEverythingAndMore",
                     [](json& s) {
                       s["routing"]["groupBy"] = {"...", "slo"};
                     },
                     "spec.routing.groupBy", "must be the only entry"},
        RoutingError{"NoFallback", [](json& s) { s["routing"].erase("fallback"); },
                     "spec.routing.fallback", "required"},
        RoutingError{"EmptyFallback", [](json& s) { s["routing"]["fallback"] = json::object(); },
                     "spec.routing.fallback", "at least one receiver"},
        RoutingError{"BadGroupWait", [](json& s) { s["routing"]["groupWait"] = "10 s"; },
                     "spec.routing.groupWait", "Alertmanager duration"},
        RoutingError{"LeadTimeInDays",
                     [](json& s) {
                       s["routing"]["notices"] = {{"leadTime", "1d"}};
                     },
                     "spec.routing.notices.leadTime", ""},
        RoutingError{"LeadTimeOverADay",
                     [](json& s) {
                       s["routing"]["notices"] = {{"leadTime", "25h"}};
                     },
                     "spec.routing.notices.leadTime", "at most 24h"}),
    [](const auto& param) { return param.param.name; });

TEST(Routing, AlertmanagerDurations) {
  for (const char* good :
       {"0s", "30s", "5m", "4h", "1h30m", "1d", "2w", "1y", "500ms", "1m5s", "1s500ms"}) {
    EXPECT_TRUE(isAlertmanagerDuration(good)) << good;
  }
  for (const char* bad : {"", "s", "10", "1.5h", "30m1h", "1h1h", "10 s", "-1m", "1ms5s", "1x"}) {
    EXPECT_FALSE(isAlertmanagerDuration(bad)) << bad;
  }
}

Routing parsedRouting() {
  auto spec = parseSpec(routedSpec());
  EXPECT_TRUE(spec.ok());
  return *spec->routing;
}

const RotationRef kRotation{"team-a", "payments", "uid-1"};

TEST(AlertmanagerConfig, RoutesTheRotationsAlertsToWhoeverIsOnCall) {
  auto child = alertmanagerConfigJson(parsedRouting(), kRotation, "bob");
  ASSERT_TRUE(child.ok()) << child.error().message();
  EXPECT_EQ((*child)["apiVersion"], "monitoring.coreos.com/v1alpha1");
  EXPECT_EQ((*child)["kind"], "AlertmanagerConfig");
  EXPECT_EQ((*child)["metadata"]["name"], "relops-oncall-payments");
  EXPECT_EQ((*child)["metadata"]["namespace"], "team-a");
  EXPECT_EQ((*child)["metadata"]["labels"]["app.kubernetes.io/managed-by"], "relops");
  EXPECT_EQ((*child)["metadata"]["ownerReferences"][0]["uid"], "uid-1");
  EXPECT_EQ((*child)["metadata"]["ownerReferences"][0]["controller"], true);

  const json& route = (*child)["spec"]["route"];
  EXPECT_EQ(route["receiver"], "participant-bob");
  EXPECT_EQ(route["matchers"], json::parse(R"([{"name": "oncall_rotation",
      "value": "team-a/payments", "matchType": "="}])"));
  EXPECT_EQ(route["groupBy"], json::parse(R"(["alertname", "slo"])"));
  EXPECT_EQ(route["groupWait"], "10s");
  EXPECT_EQ(route["repeatInterval"], "4h");
  EXPECT_FALSE(route.contains("groupInterval"));
  // One notice route per receiver, the fallback last.
  ASSERT_EQ(route["routes"].size(), 3U);
  EXPECT_EQ(route["routes"][0]["receiver"], "participant-alice");
  EXPECT_EQ(route["routes"][0]["matchers"][0]["name"], "relops_notice_receiver");
  EXPECT_EQ(route["routes"][0]["matchers"][0]["value"], "participant-alice");
  EXPECT_EQ(route["routes"][2]["receiver"], "fallback");

  const json& receivers = (*child)["spec"]["receivers"];
  ASSERT_EQ(receivers.size(), 3U);
  EXPECT_EQ(receivers[0]["name"], "participant-alice");
  EXPECT_EQ(receivers[0]["webhookConfigs"][0]["url"], "http://127.0.0.1:9001/alice");
  EXPECT_FALSE(receivers[0].contains("participant"));
  EXPECT_EQ(receivers[1]["pagerdutyConfigs"][0]["routingKey"]["name"], "pd");
  EXPECT_EQ(receivers[2]["name"], "fallback");
}

TEST(AlertmanagerConfig, ACoverageGapGoesToTheFallback) {
  auto child = alertmanagerConfigJson(parsedRouting(), kRotation, "");
  ASSERT_TRUE(child.ok());
  EXPECT_EQ((*child)["spec"]["route"]["receiver"], "fallback");
}

TEST(AlertmanagerConfig, ANameTooLongForTheChildIsAnError) {
  const RotationRef longName{"team-a", std::string(240, 'a'), "uid"};
  auto child = alertmanagerConfigJson(parsedRouting(), longName, "alice");
  ASSERT_FALSE(child.ok());
  EXPECT_THAT(child.error().message(), HasSubstr("at most 239 characters"));
  EXPECT_TRUE(
      alertmanagerConfigJson(parsedRouting(), {"team-a", std::string(239, 'a'), "u"}, "").ok());
}

TEST(AlertmanagerConfig, UpToDateAllowsTheSchemasDefaultsButNotAnEdit) {
  const json desired = *alertmanagerConfigJson(parsedRouting(), kRotation, "alice");
  EXPECT_FALSE(childUpToDate(nullptr, desired));

  json stored = desired;
  stored["metadata"]["resourceVersion"] = "7";
  stored["metadata"]["labels"]["extra"] = "kept";
  // The API server's defaults: a Secret reference's name: "", sendResolved.
  stored["spec"]["receivers"][0]["webhookConfigs"][0]["sendResolved"] = true;
  EXPECT_TRUE(childUpToDate(&stored, desired));

  json edited = stored;
  edited["spec"]["route"]["receiver"] = "participant-bob";
  EXPECT_FALSE(childUpToDate(&edited, desired));
  json extraRoute = stored;
  extraRoute["spec"]["route"]["routes"].push_back({{"receiver", "fallback"}});
  EXPECT_FALSE(childUpToDate(&extraRoute, desired));
  json foreign = stored;
  foreign["metadata"]["ownerReferences"][0]["uid"] = "someone-else";
  EXPECT_FALSE(childUpToDate(&foreign, desired));
  json unlabelled = stored;
  unlabelled["metadata"].erase("labels");
  EXPECT_FALSE(childUpToDate(&unlabelled, desired));
}

// Daily 09:00 UTC handoffs alice -> bob; the notices' lead time is the default 15 minutes.
DueNotices noticesAt(const json& specJson, const std::string& now) {
  auto spec = parseSpec(specJson);
  EXPECT_TRUE(spec.ok()) << spec.error().message();
  auto schedule = Schedule::compile(*spec);
  EXPECT_TRUE(schedule.ok());
  return dueNotices(*spec, *schedule, kRotation, at(now));
}

TEST(Notices, NoneBetweenHandoffsButTheNextOneIsKnown) {
  const DueNotices due = noticesAt(routedSpec(), "2026-03-02T12:00:00Z");
  EXPECT_TRUE(due.notices.empty());
  EXPECT_EQ(due.nextAt, at("2026-03-03T08:45:00Z"));
}

TEST(Notices, TheShiftStartingNoticeGoesToTheIncomingPersonFromTheLeadTimeOn) {
  for (const char* now : {"2026-03-03T08:45:00Z", "2026-03-03T08:59:59Z"}) {
    const DueNotices due = noticesAt(routedSpec(), now);
    ASSERT_EQ(due.notices.size(), 1U) << now;
    const Notice& notice = due.notices[0];
    EXPECT_EQ(notice.labels.at("alertname"), "OnCallShiftStarting");
    EXPECT_EQ(notice.labels.at("relops_notice_receiver"), "participant-bob");
    EXPECT_EQ(notice.labels.at("oncall_participant"), "bob");
    EXPECT_EQ(notice.labels.at("oncall_rotation"), "team-a/payments");
    EXPECT_EQ(notice.labels.at("namespace"), "team-a");
    EXPECT_EQ(notice.labels.at("oncall_handoff"), "2026-03-03T09:00:00Z");
    // The same alert on every pass: fixed start and end.
    EXPECT_EQ(notice.startsAt, at("2026-03-03T08:45:00Z"));
    EXPECT_EQ(notice.endsAt, at("2026-03-03T09:00:00Z"));
    EXPECT_THAT(notice.annotations.at("summary"), HasSubstr("bob's on-call shift"));
  }
}

TEST(Notices, TheHandoffNoticeIsDueForFiveMinutesAfterIt) {
  const DueNotices due = noticesAt(routedSpec(), "2026-03-03T09:02:00Z");
  ASSERT_EQ(due.notices.size(), 1U);
  EXPECT_EQ(due.notices[0].labels.at("alertname"), "OnCallHandoff");
  EXPECT_EQ(due.notices[0].labels.at("oncall_from"), "alice");
  EXPECT_EQ(due.notices[0].labels.at("relops_notice_receiver"), "participant-bob");
  EXPECT_EQ(due.notices[0].startsAt, at("2026-03-03T09:00:00Z"));
  EXPECT_TRUE(noticesAt(routedSpec(), "2026-03-03T09:05:00Z").notices.empty());
}

TEST(Notices, AGapStartingGoesToTheFallback) {
  json spec = routedSpec();
  spec["layers"][0]["restrictions"] = {{{"from", "08:00"}, {"to", "20:00"}}};
  const DueNotices due = noticesAt(spec, "2026-03-02T19:50:00Z");
  ASSERT_EQ(due.notices.size(), 1U);
  EXPECT_EQ(due.notices[0].labels.at("alertname"), "OnCallCoverageGapStarting");
  EXPECT_EQ(due.notices[0].labels.at("relops_notice_receiver"), "fallback");
  EXPECT_EQ(due.notices[0].labels.count("oncall_participant"), 0U);
}

TEST(Notices, DisabledOrWithoutRoutingNoneAreDue) {
  json spec = routedSpec();
  spec["routing"]["notices"] = {{"enabled", false}};
  EXPECT_TRUE(noticesAt(spec, "2026-03-03T08:50:00Z").notices.empty());
  EXPECT_FALSE(noticesAt(spec, "2026-03-03T08:50:00Z").nextAt);
  spec.erase("routing");
  EXPECT_TRUE(noticesAt(spec, "2026-03-03T08:50:00Z").notices.empty());
}

TEST(Notices, AlertsJsonIsAlertmanagersPostBody) {
  const DueNotices due = noticesAt(routedSpec(), "2026-03-03T08:50:00Z");
  const json body = alertsJson(due.notices);
  ASSERT_EQ(body.size(), 1U);
  EXPECT_EQ(body[0]["labels"]["alertname"], "OnCallShiftStarting");
  EXPECT_EQ(body[0]["startsAt"], "2026-03-03T08:45:00Z");
  EXPECT_EQ(body[0]["endsAt"], "2026-03-03T09:00:00Z");
}

}  // namespace
}  // namespace relops::oncall
