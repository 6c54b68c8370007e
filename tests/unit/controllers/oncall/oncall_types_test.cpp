// The types parse exactly the CRD's shape, apply its defaults, and name the
// field of every error.
#include "controllers/oncall/oncall_types.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "controllers/common/rfc3339.h"
#include "tests/unit/controllers/oncall/rotation_builder.h"

namespace relops::oncall {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using testing::RotationBuilder;

json fullSpec() {
  return json::parse(R"({
    "timeZone": "America/New_York",
    "participants": [
      {"name": "alice", "displayName": "Alice Example", "email": "alice@example.com",
       "chat": "@alice", "pager": "P1"},
      {"name": "bob"}
    ],
    "layers": [
      {"name": "primary", "members": ["alice", "bob"], "start": "2026-01-05T09:00:00",
       "turnLength": "1w"},
      {"name": "nights", "members": ["bob"], "start": "2026-01-05T18:00:00", "turnLength": "12h",
       "restrictions": [{"days": ["Fri", "Mon"], "from": "18:00", "to": "09:00"},
                        {"days": ["Sun"]}]}
    ],
    "overrides": [
      {"participant": "bob", "start": "2026-03-10T09:00:00", "end": "2026-03-11T09:00:00",
       "reason": "swap"},
      {"participant": "alice", "start": "2026-03-12T09:00:00-04:00",
       "end": "2026-03-12T17:00:00Z"}
    ],
    "horizon": "2w",
    "fairness": {"lookBack": "30d", "allowedImbalance": "12.5"}
  })");
}

TEST(OncallTypes, RoundTripsTheCrdShape) {
  auto spec = parseSpec(fullSpec());
  ASSERT_TRUE(spec.ok()) << spec.error().describe();
  EXPECT_EQ(toJson(*spec), fullSpec());
  EXPECT_EQ(spec->layers[1].restrictions[0].days, (std::vector<int>{4, 0}));
  EXPECT_TRUE(spec->layers[1].restrictions[0].overnight());
  EXPECT_EQ(spec->fairness.allowedImbalanceBasisPoints, 1250);
  EXPECT_TRUE(spec->overrides[0].start.local);
  EXPECT_FALSE(spec->overrides[1].start.local);
  EXPECT_EQ(common::formatRfc3339(spec->overrides[1].start.instant), "2026-03-12T13:00:00Z");
}

TEST(OncallTypes, SchemaDefaultsAreApplied) {
  const Spec spec =
      RotationBuilder("UTC").people({"a"}).layer("l", {"a"}, "2026-01-01T00:00:00", "1d").spec();
  EXPECT_EQ(spec.horizon.toString(), "4w");
  EXPECT_EQ(spec.fairness.lookBack.toString(), "4w");
  EXPECT_EQ(spec.fairness.allowedImbalance, "25");
  EXPECT_EQ(toJson(spec)["fairness"], json::parse(R"({"lookBack":"4w","allowedImbalance":"25"})"));
}

TEST(OncallTypes, ExamplesParse) {
  for (const char* name : {"payments", "follow-the-sun", "minimal"}) {
    // The examples are YAML; the CLI tests read them through yaml-cpp. Here a
    // cheap check that each names its kind.
    std::ifstream in(std::string(RELOPS_SOURCE_DIR) + "/crds/examples/oncallrotation-" + name +
                     ".yaml");
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_THAT(text.str(), HasSubstr("kind: OnCallRotation")) << name;
  }
}

struct ErrorCase {
  std::string name;
  std::string patch;  // JSON merge patch applied to fullSpec()
  std::string field;  // expected in the message
};

class SpecErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(SpecErrors, NameTheField) {
  json spec = fullSpec();
  spec.merge_patch(json::parse(GetParam().patch));
  auto parsed = parseSpec(spec);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().kind(), base::ErrorKind::kConfig);
  EXPECT_THAT(parsed.error().message(), HasSubstr(GetParam().field));
}

INSTANTIATE_TEST_SUITE_P(
    Table, SpecErrors,
    ::testing::Values(
        ErrorCase{"MissingTimeZone", R"({"timeZone": null})", "spec.timeZone: required"},
        ErrorCase{"NotIanaShaped", R"({"timeZone": "New York"})", "spec.timeZone"},
        ErrorCase{"DuplicateParticipant",
                  R"({"participants": [{"name": "alice"}, {"name": "alice"}]})",
                  "spec.participants[1].name: duplicate"},
        ErrorCase{"BadParticipantName", R"({"participants": [{"name": "Alice"}]})",
                  "spec.participants[0].name"},
        ErrorCase{"UnknownMember",
                  R"({"layers": [{"name": "l", "members": ["alice", "zed"],
                      "start": "2026-01-01T00:00:00", "turnLength": "1d"}]})",
                  "spec.layers[0].members[1]: \"zed\" is not a participant"},
        ErrorCase{"BadTurn",
                  R"({"layers": [{"name": "l", "members": ["alice"],
                      "start": "2026-01-01T00:00:00", "turnLength": "1y"}]})",
                  "spec.layers[0].turnLength"},
        ErrorCase{"StartWithOffset",
                  R"({"layers": [{"name": "l", "members": ["alice"],
                      "start": "2026-01-01T00:00:00Z", "turnLength": "1d"}]})",
                  "spec.layers[0].start"},
        ErrorCase{"StartNoSuchDay",
                  R"({"layers": [{"name": "l", "members": ["alice"],
                      "start": "2026-02-29T00:00:00", "turnLength": "1d"}]})",
                  "spec.layers[0].start"},
        ErrorCase{"EmptyRange",
                  R"({"layers": [{"name": "l", "members": ["alice"],
                      "start": "2026-01-01T00:00:00", "turnLength": "1d",
                      "restrictions": [{"from": "09:00", "to": "09:00"}]}]})",
                  "spec.layers[0].restrictions[0]: from and to must differ"},
        ErrorCase{"HalfRange",
                  R"({"layers": [{"name": "l", "members": ["alice"],
                      "start": "2026-01-01T00:00:00", "turnLength": "1d",
                      "restrictions": [{"from": "09:00"}]}]})",
                  "spec.layers[0].restrictions[0]: from and to must be set together"},
        ErrorCase{"BadDay",
                  R"({"layers": [{"name": "l", "members": ["alice"],
                      "start": "2026-01-01T00:00:00", "turnLength": "1d",
                      "restrictions": [{"days": ["Funday"]}]}]})",
                  "spec.layers[0].restrictions[0].days[0]"},
        ErrorCase{"OverrideEndsBeforeStart",
                  R"({"overrides": [{"participant": "bob", "start": "2026-03-10T09:00:00",
                      "end": "2026-03-10T08:00:00"}]})",
                  "spec.overrides[0].end: must be after start"},
        ErrorCase{"OverrideMixedForms",
                  R"({"overrides": [{"participant": "bob", "start": "2026-03-10T09:00:00",
                      "end": "2026-03-10T10:00:00Z"}]})",
                  "spec.overrides[0]: start and end must both"},
        ErrorCase{"OverrideUnknownParticipant",
                  R"({"overrides": [{"participant": "zed", "start": "2026-03-10T09:00:00",
                      "end": "2026-03-10T10:00:00"}]})",
                  "spec.overrides[0].participant"},
        ErrorCase{"HorizonOverAYear", R"({"horizon": "53w"})", "spec.horizon: must be at most"},
        ErrorCase{"HorizonInHours", R"({"horizon": "12h"})", "spec.horizon"},
        ErrorCase{"ImbalanceNotAString", R"({"fairness": {"allowedImbalance": 25}})",
                  "spec.fairness.allowedImbalance: must be a string"},
        ErrorCase{"ImbalanceNotAPercent", R"({"fairness": {"allowedImbalance": "lots"}})",
                  "spec.fairness.allowedImbalance"}),
    [](const auto& caseInfo) { return caseInfo.param.name; });

TEST(OncallTypes, StatusRoundTrips) {
  const json status = json::parse(R"({
    "observedGeneration": 3,
    "conditions": [{"type": "Ready", "status": "True", "observedGeneration": 3,
                    "lastTransitionTime": "2026-01-01T00:00:00Z", "reason": "Scheduled",
                    "message": "ok"}],
    "onCall": {"participant": "a", "layer": "primary", "since": "2026-01-01T00:00:00Z",
               "until": "2026-01-02T00:00:00Z"},
    "layers": [{"name": "primary", "participant": "a", "active": true,
                "since": "2026-01-01T00:00:00Z", "until": "2026-01-02T00:00:00Z",
                "rotation": {"members": ["a", "b"], "start": "2026-01-01T00:00:00",
                             "turnLength": "1d", "offset": 1}}],
    "nextHandoff": {"time": "2026-01-02T00:00:00Z", "from": "a", "to": "b"},
    "upcomingShifts": [{"participant": "a", "layer": "primary",
                        "start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"}],
    "gaps": [{"start": "2026-01-03T00:00:00Z"}],
    "load": {"from": "2025-12-01T00:00:00Z", "to": "2026-01-29T00:00:00Z",
             "participants": [{"participant": "a", "hours": "1.0", "offHours": "0.5",
                               "weekendHours": "0.0"}]},
    "balance": {"score": "87.5", "overloaded": ["a"]}
  })");
  auto parsed = parseStatus(status);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(toJson(*parsed), status);
  EXPECT_EQ(parsed->findLayer("primary")->rotation.offset, 1);
}

TEST(OncallTypes, NullStatusIsEmpty) {
  auto parsed = parseStatus(json());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, Status{});
}

}  // namespace
}  // namespace relops::oncall
