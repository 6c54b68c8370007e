// The ConfigMap form of a rotation's routing: what the prometheus-operator would render from
// the AlertmanagerConfig, with Secret references as the files Alertmanager reads.
#include "controllers/oncall/alertmanager_fragment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controllers/common/yaml_json.h"
#include "controllers/oncall/alertmanager_config.h"

namespace relops::oncall {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

json routingWith(const json& fallback) {
  json spec = {
      {"receivers",
       {{{"participant", "alice"}, {"webhookConfigs", {{{"url", "http://127.0.0.1:9/alice"}}}}}}},
      {"fallback", fallback},
      {"groupBy", {"alertname"}},
      {"repeatInterval", "4h"}};
  return spec;
}

json childOf(const json& routingSpec, const std::string& participant = "alice") {
  auto routing = parseRouting(routingSpec, "spec.routing");
  EXPECT_TRUE(routing.ok()) << routing.error().message();
  auto child = alertmanagerConfigJson(*routing, {"team-a", "payments", "uid-1"}, participant);
  EXPECT_TRUE(child.ok());
  return *child;
}

json fragmentOf(const json& fallback) {
  auto fragment = alertmanagerFragment(childOf(routingWith(fallback)));
  EXPECT_TRUE(fragment.ok()) << fragment.error().message();
  return json::parse(fragment->dump());
}

json fallbackConfig(const json& fragment) {
  for (const json& receiver : fragment["receivers"]) {
    if (receiver["name"] == "team-a/relops-oncall-payments/fallback") return receiver;
  }
  return json();
}

TEST(AlertmanagerFragment, TheRouteIsScopedToTheNamespaceAndNamedAsTheOperatorWould) {
  const json fragment = fragmentOf({{"webhookConfigs", {{{"url", "http://127.0.0.1:9/team"}}}}});

  const json& route = fragment["route"];
  EXPECT_EQ(route["receiver"], "team-a/relops-oncall-payments/participant-alice");
  EXPECT_EQ(route["matchers"],
            json({"oncall_rotation=\"team-a/payments\"", "namespace=\"team-a\""}));
  EXPECT_EQ(route["continue"], true);
  EXPECT_EQ(route["group_by"], json({"alertname"}));
  EXPECT_EQ(route["repeat_interval"], "4h");
  // Notice routes: one per receiver, matched on the notice label, sent at once.
  ASSERT_EQ(route["routes"].size(), 2U);
  EXPECT_EQ(route["routes"][0]["receiver"], "team-a/relops-oncall-payments/participant-alice");
  EXPECT_EQ(route["routes"][0]["matchers"], json({"relops_notice_receiver=\"participant-alice\""}));
  EXPECT_EQ(route["routes"][0]["group_wait"], "0s");
  EXPECT_FALSE(route["routes"][0].contains("continue"));
  EXPECT_EQ(fragment["receivers"][0]["webhook_configs"][0]["url"], "http://127.0.0.1:9/alice");
}

TEST(AlertmanagerFragment, SecretReferencesBecomeTheFilesAlertmanagerReads) {
  const json fragment = fragmentOf(
      {{"pagerdutyConfigs",
        {{{"routingKey", {{"name", "pagerduty"}, {"key", "routing-key"}}},
          {"severity", "critical"},
          {"details", {{{"key", "team"}, {"value", "payments"}}}},
          {"pagerDutyLinkConfigs", {{{"href", "https://runbooks/payments"}, {"alt", "Runbook"}}}},
          {"httpConfig",
           {{"authorization", {{"credentials", {{"name", "proxy"}, {"key", "token"}}}}},
            {"tlsConfig",
             {{"ca", {{"configMap", {{"name", "ca"}, {"key", "ca.crt"}}}}},
              {"insecureSkipVerify", false}}},
            {"proxyURL", "http://proxy:3128"}}}}}},
       {"slackConfigs",
        {{{"apiURL", {{"name", "slack"}, {"key", "url"}}},
          {"channel", "#payments"},
          {"sendResolved", true},
          {"actions",
           {{{"type", "button"},
             {"text", "Ack"},
             {"confirm", {{"text", "Sure?"}, {"okText", "Yes"}}}}}}}}},
       {"emailConfigs",
        {{{"to", "payments@example.com"},
          {"authPassword", {{"name", "smtp"}, {"key", "password"}}},
          {"headers", {{{"key", "X-Team"}, {"value", "payments"}}}},
          {"requireTLS", true}}}}});

  const json fallback = fallbackConfig(fragment);
  const json& pagerduty = fallback["pagerduty_configs"][0];
  EXPECT_EQ(pagerduty["routing_key_file"], "/etc/alertmanager/secrets/pagerduty/routing-key");
  EXPECT_EQ(pagerduty["severity"], "critical");
  EXPECT_EQ(pagerduty["details"], json({{"team", "payments"}}));
  EXPECT_EQ(pagerduty["links"],
            json({{{"href", "https://runbooks/payments"}, {"text", "Runbook"}}}));
  const json& http = pagerduty["http_config"];
  EXPECT_EQ(
      http["authorization"],
      json({{"type", "Bearer"}, {"credentials_file", "/etc/alertmanager/secrets/proxy/token"}}));
  EXPECT_EQ(http["tls_config"]["ca_file"], "/etc/alertmanager/configmaps/ca/ca.crt");
  EXPECT_EQ(http["tls_config"]["insecure_skip_verify"], false);
  EXPECT_EQ(http["proxy_url"], "http://proxy:3128");
  const json& slack = fallback["slack_configs"][0];
  EXPECT_EQ(slack["api_url_file"], "/etc/alertmanager/secrets/slack/url");
  EXPECT_EQ(slack["send_resolved"], true);
  EXPECT_EQ(slack["actions"][0]["confirm"]["ok_text"], "Yes");
  const json& email = fallback["email_configs"][0];
  EXPECT_EQ(email["auth_password_file"], "/etc/alertmanager/secrets/smtp/password");
  EXPECT_EQ(email["headers"], json({{"X-Team", "payments"}}));
  EXPECT_EQ(email["require_tls"], true);
}

TEST(AlertmanagerFragment, FieldNamesFollowAlertmanagersSpelling) {
  const json fragment = fragmentOf(
      {{"telegramConfigs",
        {{{"botToken", {{"name", "telegram"}, {"key", "token"}}},
          {"chatID", -100},
          {"messageThreadID", 7},
          {"parseMode", "HTML"}}}},
       {"msteamsv2Configs", {{{"webhookURL", {{"name", "teams"}, {"key", "url"}}}}}},
       {"discordConfigs", {{{"apiURL", {{"name", "discord"}, {"key", "url"}}}}}},
       {"opsgenieConfigs",
        {{{"apiKey", {{"name", "opsgenie"}, {"key", "key"}}},
          {"responders", {{{"name", "payments"}, {"type", "team"}}}},
          {"updateAlerts", true}}}},
       {"victoropsConfigs",
        {{{"apiKey", {{"name", "victorops"}, {"key", "key"}}},
          {"routingKey", "payments"},
          {"customFields", {{{"key", "team"}, {"value", "payments"}}}}}}},
       {"pushoverConfigs",
        {{{"userKey", {{"name", "pushover"}, {"key", "user"}}},
          {"token", {{"name", "pushover"}, {"key", "token"}}},
          {"urlTitle", "Runbook"}}}},
       {"webexConfigs",
        {{{"roomID", "room"},
          {"httpConfig",
           {{"authorization",
             {{"type", "Bearer"}, {"credentials", {{"name", "webex"}, {"key", "t"}}}}}}}}}}});

  const json fallback = fallbackConfig(fragment);
  EXPECT_EQ(fallback["telegram_configs"][0],
            json({{"bot_token_file", "/etc/alertmanager/secrets/telegram/token"},
                  {"chat_id", -100},
                  {"message_thread_id", 7},
                  {"parse_mode", "HTML"}}));
  EXPECT_EQ(fallback["msteamsv2_configs"][0]["webhook_url_file"],
            "/etc/alertmanager/secrets/teams/url");
  EXPECT_EQ(fallback["discord_configs"][0]["webhook_url_file"],
            "/etc/alertmanager/secrets/discord/url");
  EXPECT_EQ(fallback["opsgenie_configs"][0]["api_key_file"],
            "/etc/alertmanager/secrets/opsgenie/key");
  EXPECT_EQ(fallback["opsgenie_configs"][0]["update_alerts"], true);
  EXPECT_EQ(fallback["victorops_configs"][0]["custom_fields"], json({{"team", "payments"}}));
  EXPECT_EQ(fallback["pushover_configs"][0]["user_key_file"],
            "/etc/alertmanager/secrets/pushover/user");
  EXPECT_EQ(fallback["pushover_configs"][0]["token_file"],
            "/etc/alertmanager/secrets/pushover/token");
  EXPECT_EQ(fallback["pushover_configs"][0]["url_title"], "Runbook");
  EXPECT_EQ(fallback["webex_configs"][0]["room_id"], "room");
}

TEST(AlertmanagerFragment, WhatHasNoFileFormIsAnErrorNamingTheField) {
  struct Case {
    json fallback;
    std::string field;
  };
  const std::vector<Case> cases = {
      {{{"snsConfigs", {{{"topicARN", "arn:aws:sns:eu-west-1:1:pages"}}}}}, "snsConfigs"},
      {{{"wechatConfigs", {{{"corpID", "c"}}}}}, "wechatConfigs"},
      {{{"webhookConfigs",
         {{{"url", "http://127.0.0.1:9/x"},
           {"httpConfig", {{"oauth2", {{"tokenUrl", "https://idp/token"}}}}}}}}},
       "webhookConfigs[0].httpConfig.oauth2"},
      {{{"emailConfigs",
         {{{"to", "a@example.com"}, {"authSecret", {{"name", "smtp"}, {"key", "s"}}}}}}},
       "emailConfigs[0].authSecret"},
      // A key that would leave the secrets directory.
      {{{"webhookConfigs", {{{"urlSecret", {{"name", "hooks"}, {"key", ".."}}}}}}},
       "webhookConfigs[0].urlSecret"},
  };
  for (const Case& c : cases) {
    auto fragment = alertmanagerFragment(childOf(routingWith(c.fallback)));
    ASSERT_FALSE(fragment.ok()) << c.field;
    EXPECT_THAT(fragment.error().message(), HasSubstr(c.field));
    EXPECT_THAT(fragment.error().message(), HasSubstr("receiver fallback"));
  }
}

TEST(AlertmanagerFragment, TheConfigMapCarriesTheFragmentAsYamlUnderTheRotationsKey) {
  const json child =
      childOf(routingWith({{"webhookConfigs", {{{"url", "http://127.0.0.1:9/team"}}}}}), "");

  auto configMap = routingConfigMapJson(child);

  ASSERT_TRUE(configMap.ok()) << configMap.error().message();
  EXPECT_EQ((*configMap)["kind"], "ConfigMap");
  EXPECT_EQ((*configMap)["metadata"]["name"], "relops-oncall-payments");
  EXPECT_EQ((*configMap)["metadata"]["namespace"], "team-a");
  EXPECT_EQ((*configMap)["metadata"]["labels"]["app.kubernetes.io/managed-by"], "relops");
  EXPECT_EQ((*configMap)["metadata"]["ownerReferences"][0]["uid"], "uid-1");
  const std::string text = (*configMap)["data"]["payments.alertmanager.yaml"];
  auto documents = common::parseYamlDocuments(text);
  ASSERT_TRUE(documents.ok()) << documents.error().message();
  ASSERT_EQ(documents->size(), 1U);
  // During a coverage gap the route goes to the fallback.
  EXPECT_EQ((*documents)[0]["route"]["receiver"], "team-a/relops-oncall-payments/fallback");
  EXPECT_EQ((*documents)[0], json::parse(alertmanagerFragment(child)->dump()));
}

}  // namespace
}  // namespace relops::oncall
