// DRDrill and DRDrillRun types: the examples parse with the CRD's defaults,
// serialization round-trips, and bad fields are named.
#include "controllers/drill/drill_types.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "controllers/common/yaml_json.h"

namespace relops::drill {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

json example(const std::string& file) {
  std::ifstream in(std::string(RELOPS_SOURCE_DIR) + "/crds/examples/" + file);
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto documents = common::parseYamlDocuments(buffer.str());
  EXPECT_TRUE(documents.ok());
  return documents->at(0);
}

TEST(DrillTypes, JobExampleGetsTheSchemaDefaults) {
  auto spec = parseDrillSpec(example("drdrill-job.yaml")["spec"]);
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  EXPECT_EQ(spec->schedule, "30 2 * * *");
  EXPECT_EQ(spec->timeZone, "Europe/Berlin");
  EXPECT_FALSE(spec->suspend);
  EXPECT_EQ(spec->concurrencyPolicy, ConcurrencyPolicy::kForbid);
  EXPECT_EQ(spec->startingDeadlineSeconds, 600);
  EXPECT_EQ(spec->runTimeout.value, std::chrono::hours(1));
  EXPECT_EQ(spec->objectives->rto->value, std::chrono::minutes(20));
  EXPECT_EQ(spec->objectives->rpo->value, std::chrono::hours(24));
  EXPECT_EQ(spec->successfulRunsHistoryLimit, 3);
  EXPECT_EQ(spec->failedRunsHistoryLimit, 5);
  ASSERT_TRUE(std::holds_alternative<JobDrill>(spec->type));
  EXPECT_EQ(std::get<JobDrill>(spec->type).template_["spec"]["backoffLimit"], 0);
}

TEST(DrillTypes, EveryExampleRoundTrips) {
  for (const char* file : {"drdrill-job.yaml", "drdrill-failover.yaml", "drdrill-velero.yaml"}) {
    auto spec = parseDrillSpec(example(file)["spec"]);
    ASSERT_TRUE(spec.ok()) << file << ": " << spec.error().message();
    auto again = parseDrillSpec(toJson(*spec));
    ASSERT_TRUE(again.ok()) << file;
    EXPECT_EQ(*again, *spec) << file;
  }
  auto velero = parseDrillSpec(example("drdrill-velero.yaml")["spec"]);
  const auto& restore = std::get<VeleroRestoreDrill>(velero->type);
  EXPECT_EQ(restore.scheduleName, "nightly");
  EXPECT_FALSE(restore.excludedResources);
  EXPECT_THAT(restoreExclusions(restore), ::testing::Contains("ingresses.networking.k8s.io"));
  EXPECT_THAT(restoreExclusions(restore), ::testing::Contains("drdrills.relops.dev"));
  EXPECT_EQ(velero->concurrencyPolicy, ConcurrencyPolicy::kReplace);
}

TEST(DrillTypes, RunSpecIsACopyOfTheDrillAndRoundTrips) {
  auto drill = parseDrillSpec(example("drdrill-failover.yaml")["spec"]);
  ASSERT_TRUE(drill.ok());
  const RunSpec run = runSpecFor("api-failover", *drill, *parseTime("2026-03-10T14:00:00Z"),
                                 Trigger::kSchedule, "ignored");
  EXPECT_EQ(run.runNowToken, "");
  const json written = toJson(run);
  EXPECT_EQ(written["scheduledTime"], "2026-03-10T14:00:00Z");
  EXPECT_EQ(written["trigger"], "Schedule");
  EXPECT_EQ(written["runTimeout"], "30m");
  EXPECT_EQ(written["failover"]["target"]["name"], "api-primary");
  auto parsed = parseRunSpec(written);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(*parsed, run);
}

struct BadSpec {
  const char* name;
  json patch;
  const char* message;
};

class DrillSpecErrors : public ::testing::TestWithParam<BadSpec> {};

TEST_P(DrillSpecErrors, NameTheField) {
  json spec = {{"schedule", "0 * * * *"},
               {"job", {{"template", {{"spec", {{"template", json::object()}}}}}}}};
  spec.merge_patch(GetParam().patch);
  auto parsed = parseDrillSpec(spec);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().kind(), base::ErrorKind::kConfig);
  EXPECT_THAT(parsed.error().message(), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Parse, DrillSpecErrors,
    ::testing::Values(
        BadSpec{"no_schedule", {{"schedule", nullptr}}, "spec.schedule: required field"},
        BadSpec{"two_types",
                {{"failover",
                  {{"target", {{"kind", "Deployment"}, {"name", "a"}}},
                   {"standby", {{"kind", "Service"}, {"name", "b"}}}}}},
                "spec: exactly one of job, failover or veleroRestore"},
        BadSpec{"no_type", {{"job", nullptr}}, "exactly one of job, failover or veleroRestore"},
        BadSpec{"bad_timeout",
                {{"runTimeout", "1 hour"}},
                "spec.runTimeout: must be a duration such as 90s"},
        BadSpec{"short_timeout", {{"runTimeout", "30s"}}, "from 1m to 168h"},
        BadSpec{"bad_rto", {{"objectives", {{"rto", "1d"}}}}, "spec.objectives.rto: must be"},
        BadSpec{"rto_over_timeout",
                {{"runTimeout", "10m"}, {"objectives", {{"rto", "11m"}}}},
                "objectives.rto must not exceed runTimeout"},
        BadSpec{"policy",
                {{"concurrencyPolicy", "Allow"}},
                "spec.concurrencyPolicy: must be Forbid or Replace"},
        BadSpec{"deadline",
                {{"startingDeadlineSeconds", 5}},
                "spec.startingDeadlineSeconds: must be between 10"},
        BadSpec{"velero_namespace_from_the_tenant",
                {{"job", nullptr},
                 {"veleroRestore", {{"scheduleName", "n"}, {"veleroNamespace", "other"}}}},
                "spec.veleroRestore.veleroNamespace: removed"},
        BadSpec{"too_many_exclusions",
                {{"job", nullptr},
                 {"veleroRestore",
                  {{"scheduleName", "n"},
                   {"excludedResources", std::vector<std::string>(33, "pods")}}}},
                "excludedResources: must have at most 32 items"},
        BadSpec{"limit_type",
                {{"failedRunsHistoryLimit", "5"}},
                "spec.failedRunsHistoryLimit: must be an integer"}),
    [](const auto& param) { return std::string(param.param.name); });

TEST(DrillTypes, DurationsFormatLikeGo) {
  EXPECT_EQ(formatDuration(std::chrono::seconds(42)), "42s");
  EXPECT_EQ(formatDuration(std::chrono::seconds(300)), "5m");
  EXPECT_EQ(formatDuration(std::chrono::seconds(5400)), "1h30m");
  EXPECT_EQ(formatDuration(std::chrono::seconds(93605)), "26h5s");
  EXPECT_EQ(formatDuration(std::chrono::seconds(0)), "0s");
  EXPECT_EQ(parseDuration("1h30m", "x")->value, std::chrono::seconds(5400));
  EXPECT_EQ(parseDuration("90s", "x")->value, std::chrono::seconds(90));
  EXPECT_FALSE(parseDuration("", "x").ok());
  EXPECT_FALSE(parseDuration("1.5h", "x").ok());
}

TEST(DrillTypes, TimesAcceptOffsetsAndFractions) {
  EXPECT_EQ(common::formatRfc3339(*parseTime("2026-03-10T09:00:00-05:00")), "2026-03-10T14:00:00Z");
  EXPECT_EQ(common::formatRfc3339(*parseTime("2026-03-10T14:00:00.123456Z")),
            "2026-03-10T14:00:00Z");
  EXPECT_FALSE(parseTime("2026-03-10 14:00"));
  EXPECT_FALSE(parseTime("2026-03-10T14:00:00"));
}

TEST(DrillTypes, StatusesRoundTrip) {
  RunStatus run;
  run.observedGeneration = 1;
  run.phase = Phase::kCleaningUp;
  run.verdict = Verdict::kFail;
  run.reason = "RTOMissed";
  run.startTime = parseTime("2026-03-10T14:00:00Z");
  run.rtoSeconds = 95;
  run.rpoSeconds = 3600;
  run.objectivesMet = false;
  run.failover = FailoverProgress{3, true, false};
  run.velero = VeleroProgress{"b1", parseTime("2026-03-10T13:00:00Z"), "r1", "Completed", "sb"};
  run.cleanup = CleanupResult::kPending;
  const json written = toJson(run);
  EXPECT_EQ(written["rto"], "1m35s");
  EXPECT_EQ(written["rpo"], "1h");
  EXPECT_EQ(parseRunStatus(written), run);

  DrillStatus drill;
  drill.schedule = ScheduleAnchor{"*/5 * * * *", "UTC", *parseTime("2026-03-10T14:00:00Z")};
  drill.nextScheduleTime = parseTime("2026-03-10T14:05:00Z");
  drill.lastRun =
      LastRun{"d-1", Verdict::kPass, parseTime("2026-03-10T14:01:00Z"), 42, {}, true, "ok"};
  drill.consecutiveFailures = 0;
  drill.passRate = "100";
  drill.retainedRuns = 1;
  EXPECT_EQ(parseDrillStatus(toJson(drill)), drill);
  EXPECT_EQ(parseDrillStatus(json()), DrillStatus());
}

}  // namespace
}  // namespace relops::drill
