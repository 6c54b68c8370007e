// The audit record of `relops drill report`: runs newest first with what they
// recovered from, measured against the objectives.
#include "controllers/drill/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controllers/drill/drill_types.h"

namespace relops::drill {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

ReportInput input() {
  ReportInput in;
  in.namespace_ = "shop";
  in.generatedAt = *parseTime("2026-04-01T08:00:00Z");
  in.drills.push_back({{"metadata", {{"name", "shop-restore"}}},
                       {"spec",
                        {{"schedule", "@monthly"},
                         {"timeZone", "UTC"},
                         {"objectives", {{"rto", "45m"}, {"rpo", "26h"}}},
                         {"veleroRestore", {{"scheduleName", "nightly"}}}}},
                       {"status",
                        {{"passRate", "50"},
                         {"consecutiveFailures", 1},
                         {"lastSuccessfulTime", "2026-03-01T00:21:00Z"}}}});
  auto run = [](const char* name, const char* scheduled, const char* verdict, int rto,
                const char* message) {
    return json{
        {"metadata", {{"name", name}}},
        {"spec",
         {{"drillName", "shop-restore"},
          {"scheduledTime", scheduled},
          {"trigger", "Schedule"},
          {"objectives", {{"rto", "45m"}, {"rpo", "26h"}}}}},
        {"status",
         {{"phase", std::string(verdict) == "Pass" ? "Succeeded" : "Failed"},
          {"verdict", verdict},
          {"message", message},
          {"startTime", scheduled},
          {"rtoSeconds", rto},
          {"rpoSeconds", 79200},
          {"velero",
           {{"backup", "nightly-20260228"}, {"backupStartTimestamp", "2026-02-28T02:00:00Z"}}},
          {"cleanup", {{"result", "Succeeded"}}}}}};
  };
  in.runs.push_back(
      run("shop-restore-29540160", "2026-03-01T00:00:00Z", "Pass", 1260, "recovered in 21m"));
  in.runs.push_back(run("shop-restore-29584800", "2026-04-01T00:00:00Z", "Fail", 3000,
                        "RTO 50m exceeded the objective 45m"));
  in.runs.push_back(json{{"metadata", {{"name", "other-1"}}}, {"spec", {{"drillName", "other"}}}});
  return in;
}

TEST(DrillReport, JsonListsRunsNewestFirstWithTheirEvidence) {
  const json report = reportJson(input());
  EXPECT_EQ(report["generatedAt"], "2026-04-01T08:00:00Z");
  ASSERT_EQ(report["drills"].size(), 1u);
  const json& drill = report["drills"][0];
  EXPECT_EQ(drill["exercises"], "veleroRestore of schedule nightly");
  EXPECT_EQ(drill["passRate"], "50");
  ASSERT_EQ(drill["runs"].size(), 2u);  // the other drill's run is not listed
  EXPECT_EQ(drill["runs"][0]["name"], "shop-restore-29584800");
  EXPECT_EQ(drill["runs"][0]["backup"]["name"], "nightly-20260228");
  EXPECT_EQ(drill["runs"][0]["rtoSeconds"], 3000);
  EXPECT_EQ(drill["runs"][1]["verdict"], "Pass");
}

TEST(DrillReport, MarkdownIsATablePerDrill) {
  const std::string md = reportMarkdown(input());
  EXPECT_THAT(md, HasSubstr("# Disaster-recovery drills in namespace shop"));
  EXPECT_THAT(md, HasSubstr("- Objectives: RTO 45m, RPO 26h"));
  EXPECT_THAT(md, HasSubstr("- Pass rate over retained runs: 50%; consecutive failures: 1"));
  EXPECT_THAT(md, HasSubstr("| shop-restore-29584800 | Schedule | 2026-04-01T00:00:00Z | "
                            "2026-04-01T00:00:00Z | - | backup nightly-20260228 "
                            "(2026-02-28T02:00:00Z) | 50m / 45m | 22h / 26h | Fail | Succeeded | "
                            "RTO 50m exceeded the objective 45m |"));
  EXPECT_THAT(md, HasSubstr("| 21m / 45m | 22h / 26h | Pass |"));
}

TEST(DrillReport, NoDrills) {
  ReportInput empty;
  empty.namespace_ = "none";
  EXPECT_THAT(reportMarkdown(empty), HasSubstr("No DRDrill found."));
}

}  // namespace
}  // namespace relops::drill
