#include "operator/alertmanager/alertmanager_api.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "operator/alertmanager/alertmanager_flags.h"
#include "operator/cli/flags.h"

namespace relops::alertmanager {
namespace {

using nlohmann::json;
using std::chrono::sys_days;

const auto kStart =
    std::chrono::sys_seconds(sys_days(std::chrono::December / 7 / 2026)) + std::chrono::hours(4);

TEST(SilenceJson, IsThePostableSilenceOfApiV2) {
  Silence silence;
  silence.matchers = {{"namespace", "shop", false, true},
                      {"alertname", "SLOBurnRateHigh|SLOMetricAbsent", true, true}};
  silence.startsAt = kStart;
  silence.endsAt = kStart + std::chrono::minutes(30);
  silence.createdBy = "relops";
  silence.comment = "relops maintenance window ChangeWindow shop/db";
  EXPECT_EQ(silenceJson(silence), json::parse(R"({"matchers":[
                {"name":"namespace","value":"shop","isRegex":false,"isEqual":true},
                {"name":"alertname","value":"SLOBurnRateHigh|SLOMetricAbsent","isRegex":true,
                 "isEqual":true}],
              "startsAt":"2026-12-07T04:00:00Z","endsAt":"2026-12-07T04:30:00Z",
              "createdBy":"relops","comment":"relops maintenance window ChangeWindow shop/db"})"));
  silence.id = "abc";
  EXPECT_EQ(silenceJson(silence)["id"], "abc");  // an id updates that silence
}

TEST(ParseSilence, ReadsTheGettableSilenceAlertmanagerAnswers) {
  // As Alertmanager 0.25 answers GET /api/v2/silences (milliseconds, UTC).
  auto silence = parseSilence(json::parse(R"({
      "id":"1f1c","status":{"state":"pending"},"updatedAt":"2026-12-07T03:59:00.123Z",
      "comment":"c","createdBy":"relops",
      "startsAt":"2026-12-07T04:00:00.000Z","endsAt":"2026-12-07T04:30:00.000Z",
      "matchers":[{"name":"slo","value":"checkout","isRegex":false,"isEqual":true}]})"));
  ASSERT_TRUE(silence.ok()) << silence.error().message();
  EXPECT_EQ(silence->id, "1f1c");
  EXPECT_EQ(silence->state, "pending");
  EXPECT_EQ(silence->startsAt, kStart);
  EXPECT_EQ(silence->endsAt, kStart + std::chrono::minutes(30));
  EXPECT_EQ(silence->matchers, (std::vector<SilenceMatcher>{{"slo", "checkout", false, true}}));

  auto offset = parseSilence(
      json::parse(R"({"startsAt":"2026-12-07T05:00:00+01:00","endsAt":"2026-12-07T04:30:00Z"})"));
  ASSERT_TRUE(offset.ok()) << offset.error().message();
  EXPECT_EQ(offset->startsAt, kStart);

  EXPECT_FALSE(parseSilence(json::parse(R"({"startsAt":"soon","endsAt":"later"})")).ok());
  EXPECT_FALSE(parseSilence(json::array()).ok());
}

TEST(Endpoint, RegistersItsFlagsOnceAndHasNoClientWithoutAUrl) {
  Endpoint endpoint;
  cli::FlagSet flags("run");
  endpoint.addFlags(flags);
  endpoint.addFlags(flags);  // a second kind asking: no second registration
  const std::vector<std::string_view> args = {"--alertmanager-ca-file", "/nonexistent/ca.pem"};
  ASSERT_TRUE(flags.parse(args).ok());
  auto client = endpoint.client();
  ASSERT_TRUE(client.ok()) << client.error().message();
  EXPECT_EQ(*client, nullptr);
}

TEST(Endpoint, AnUnreadableCaFileIsAConfigError) {
  Endpoint endpoint;
  cli::FlagSet flags("run");
  endpoint.addFlags(flags);
  const std::vector<std::string_view> args = {"--alertmanager-url", "https://alertmanager:9093",
                                              "--alertmanager-ca-file", "/nonexistent/ca.pem"};
  ASSERT_TRUE(flags.parse(args).ok());
  auto client = endpoint.client();
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().kind(), base::ErrorKind::kConfig);
}

}  // namespace
}  // namespace relops::alertmanager
