// `relops oncall`: the engine offline on YAML files, with clear errors that
// name the file and the field, and sysexits-style codes (64 usage, 1 failure).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "app/cli/cli.h"
#include "tests/support/temp_dir.h"

namespace relops::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

Outcome oncall(std::vector<std::string> args) {
  std::vector<std::string_view> views = {"oncall"};
  for (const std::string& arg : args) views.push_back(arg);
  std::ostringstream out;
  std::ostringstream err;
  const int code = run(views, {out, err});
  return {code, out.str(), err.str()};
}

const std::string kPayments =
    std::string(RELOPS_SOURCE_DIR) + "/crds/examples/oncallrotation-payments.yaml";

TEST(OncallCli, WhoShowsOnCallAndNextHandoff) {
  const Outcome result = oncall({"who", "-f", kPayments, "--at", "2026-03-10T12:00:00"});
  EXPECT_EQ(result.code, kExitOk) << result.err;
  EXPECT_THAT(result.out, HasSubstr("On call:   dave (override) from 2026-03-10 09:00 EDT"));
  EXPECT_THAT(result.out, HasSubstr("Next:      2026-03-11 09:00 EDT (2026-03-11T13:00:00Z) "
                                    "dave -> alice"));
  EXPECT_THAT(result.out, HasSubstr("primary         alice"));
  EXPECT_THAT(result.err, IsEmpty());
}

TEST(OncallCli, WhoShowsTheReceiverBeingPaged) {
  const std::string paged =
      std::string(RELOPS_SOURCE_DIR) + "/crds/examples/oncallrotation-paged.yaml";
  // Tuesday noon in Berlin: the tenth weekly turn, mira's.
  const Outcome day = oncall({"who", "-f", paged, "--at", "2026-03-10T12:00:00"});
  EXPECT_EQ(day.code, kExitOk) << day.err;
  EXPECT_THAT(day.out, HasSubstr("Paging:    receiver participant-mira in relops-oncall-checkout "
                                 "since 2026-03-10 08:00 CET"));
  // Saturday: nobody, the fallback.
  const Outcome weekend = oncall({"who", "-f", paged, "--at", "2026-03-14T12:00:00"});
  EXPECT_THAT(weekend.out, HasSubstr("Paging:    receiver fallback in relops-oncall-checkout"));
  // Without routing, no such line.
  EXPECT_THAT(oncall({"who", "-f", kPayments}).out, ::testing::Not(HasSubstr("Paging:")));
}

TEST(OncallCli, ScheduleAsJsonShowsThe23HourShift) {
  const Outcome result = oncall({"schedule", "-f", kPayments, "--from", "2026-03-07T00:00:00",
                                 "--to", "2026-03-09T00:00:00", "--format", "json"});
  ASSERT_EQ(result.code, kExitOk) << result.err;
  const auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["from"], "2026-03-07T05:00:00Z");
  EXPECT_EQ(json["to"], "2026-03-09T04:00:00Z");
  ASSERT_FALSE(json["shifts"].empty());
  EXPECT_EQ(json["shifts"][0]["participant"], "carol");
  EXPECT_TRUE(json["gaps"].empty());
}

TEST(OncallCli, ScheduleAsIcs) {
  const Outcome result = oncall({"schedule", "-f", kPayments, "--from", "2026-03-07T00:00:00Z",
                                 "--to=2026-03-08T00:00:00Z", "-o", "ics"});
  ASSERT_EQ(result.code, kExitOk) << result.err;
  EXPECT_THAT(result.out, StartsWith("BEGIN:VCALENDAR\r\n"));
  EXPECT_THAT(result.out, HasSubstr("X-WR-CALNAME:On call: team-payments/payments\r\n"));
}

TEST(OncallCli, TableListsGaps) {
  const std::string file =
      std::string(RELOPS_SOURCE_DIR) + "/crds/examples/oncallrotation-follow-the-sun.yaml";
  const Outcome result = oncall(
      {"schedule", "-f", file, "--from", "2026-03-06T00:00:00", "--to", "2026-03-09T00:00:00"});
  ASSERT_EQ(result.code, kExitOk) << result.err;
  EXPECT_THAT(result.out, HasSubstr("(nobody)"));
  EXPECT_THAT(result.out, HasSubstr("2026-03-06 18:00 CET"));
}

TEST(OncallCli, StatusInTheFileCarriesRotationPositions) {
  relops::testing::TempDir dir;
  // b's turn (turn 7) is kept when d joins: without the status, turn 7 of
  // [d, a, b, c] would be c.
  const std::string file = dir.write("rotation.yaml", R"(apiVersion: relops.dev/v1alpha1
kind: OnCallRotation
metadata: {name: r}
spec:
  timeZone: UTC
  participants: [{name: a}, {name: b}, {name: c}, {name: d}]
  layers:
    - {name: primary, members: [d, a, b, c], start: "2026-01-05T09:00:00", turnLength: 1w}
status:
  layers:
    - name: primary
      rotation: {members: [a, b, c], start: "2026-01-05T09:00:00", turnLength: 1w, offset: 0}
)");
  const Outcome result = oncall({"who", "-f", file, "--at", "2026-02-25T12:00:00Z"});
  ASSERT_EQ(result.code, kExitOk) << result.err;
  EXPECT_THAT(result.out, HasSubstr("On call:   b (primary)"));
}

struct BadInput {
  std::string name;
  std::string yaml;
  std::string message;
};

class OncallCliErrors : public ::testing::TestWithParam<BadInput> {};

TEST_P(OncallCliErrors, NameTheFileAndFieldAndFail) {
  relops::testing::TempDir dir;
  const std::string file = dir.write("bad.yaml", GetParam().yaml);
  const Outcome result = oncall({"who", "-f", file, "--at", "2026-01-01T00:00:00Z"});
  EXPECT_EQ(result.code, kExitFailure);
  EXPECT_THAT(result.err, HasSubstr(file + ": "));
  EXPECT_THAT(result.err, HasSubstr(GetParam().message));
  EXPECT_THAT(result.out, IsEmpty());
}

const char* kHeader =
    "apiVersion: relops.dev/v1alpha1\nkind: OnCallRotation\nmetadata: {name: x}\n";

INSTANTIATE_TEST_SUITE_P(
    Table, OncallCliErrors,
    ::testing::Values(
        BadInput{"NotYaml", "spec: [unclosed", "line "},
        BadInput{"WrongKind", "apiVersion: v1\nkind: ConfigMap\n", "no object of kind"},
        BadInput{"WrongVersion", "apiVersion: relops.dev/v2\nkind: OnCallRotation\nspec: {}\n",
                 "apiVersion"},
        BadInput{"NoSpec", std::string(kHeader), "spec: required"},
        BadInput{"UnknownZone",
                 std::string(kHeader) +
                     "spec:\n  timeZone: Mars/Olympus_Mons\n  participants: [{name: a}]\n"
                     "  layers: [{name: l, members: [a], start: \"2026-01-01T00:00:00\", "
                     "turnLength: 1d}]\n",
                 "unknown time zone \"Mars/Olympus_Mons\""},
        BadInput{"BadTurn",
                 std::string(kHeader) +
                     "spec:\n  timeZone: UTC\n  participants: [{name: a}]\n"
                     "  layers: [{name: l, members: [a], start: \"2026-01-01T00:00:00\", "
                     "turnLength: 3x}]\n",
                 "spec.layers[0].turnLength"},
        BadInput{"UnquotedPercent",
                 std::string(kHeader) +
                     "spec:\n  timeZone: UTC\n  participants: [{name: a}]\n"
                     "  layers: [{name: l, members: [a], start: \"2026-01-01T00:00:00\", "
                     "turnLength: 1d}]\n  fairness: {allowedImbalance: 25}\n",
                 "spec.fairness.allowedImbalance: must be a string"}),
    [](const auto& caseInfo) { return caseInfo.param.name; });

TEST(OncallCli, MissingFileFails) {
  const Outcome result = oncall({"who", "-f", "/nonexistent/rotation.yaml"});
  EXPECT_EQ(result.code, kExitFailure);
  EXPECT_THAT(result.err, HasSubstr("/nonexistent/rotation.yaml: cannot read the file"));
}

TEST(OncallCli, UsageErrorsExit64) {
  EXPECT_EQ(oncall({}).code, kExitUsage);
  EXPECT_EQ(oncall({"when"}).code, kExitUsage);
  EXPECT_EQ(oncall({"who"}).code, kExitUsage);
  EXPECT_EQ(oncall({"who", "-f"}).code, kExitUsage);
  EXPECT_EQ(oncall({"schedule", "-f", kPayments, "--from", "2026-01-01T00:00:00Z"}).code,
            kExitUsage);
  EXPECT_EQ(oncall({"schedule", "-f", kPayments, "--from", "2026-01-02T00:00:00Z", "--to",
                    "2026-01-01T00:00:00Z"})
                .code,
            kExitUsage);
  EXPECT_EQ(oncall({"schedule", "-f", kPayments, "--from", "2026-01-01T00:00:00Z", "--to",
                    "2026-01-02T00:00:00Z", "--format", "xml"})
                .code,
            kExitUsage);
  const Outcome badTime = oncall({"who", "-f", kPayments, "--at", "tomorrow"});
  EXPECT_EQ(badTime.code, kExitUsage);
  EXPECT_THAT(badTime.err, HasSubstr("--at"));
  EXPECT_EQ(oncall({"--help"}).code, kExitOk);
}

}  // namespace
}  // namespace relops::cli
