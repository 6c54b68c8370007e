// Table tests of decideDrill() and decideRun(): scheduling, concurrency,
// missed runs, re-anchoring, run-now, history limits, status and Events; the
// run state machine of each drill type, deadlines, cleanup and finalizers.
#include "controllers/drill/decide.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "controllers/drill/scheduling.h"

namespace relops::drill {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using ::testing::HasSubstr;

std::chrono::system_clock::time_point wall(const char* text) { return *parseTime(text); }

const json* condition(const json& status, std::string_view type) {
  if (!status.contains("conditions")) return nullptr;
  for (const json& c : status.at("conditions")) {
    if (c["type"] == type) return &c;
  }
  return nullptr;
}

std::string conditionStatus(const json& status, std::string_view type) {
  const json* c = condition(status, type);
  return c ? c->at("status").get<std::string>() + "/" + c->at("reason").get<std::string>() : "";
}

std::vector<std::string> reasons(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const Event& e : events) out.push_back(e.type + ":" + e.reason);
  return out;
}

json jobSpec(json extra = json::object()) {
  json spec = {
      {"schedule", "*/5 * * * *"},
      {"objectives", {{"rto", "5m"}}},
      {"job",
       {{"template",
         {{"spec",
           {{"template",
             {{"spec",
               {{"restartPolicy", "Never"},
                {"containers", json::array({{{"name", "c"}, {"image", "busybox"}}})}}}}}}}}}}}};
  spec.merge_patch(extra);
  return spec;
}

DrillObserved drill(const char* created = "2026-03-10T13:58:00Z") {
  DrillObserved observed;
  observed.name = "nightly";
  observed.namespace_ = "shop";
  observed.generation = 1;
  observed.creationTimestamp = *parseTime(created);
  return observed;
}

// A run of the drill in a given phase and verdict.
ObservedRun run(const std::string& name, const char* scheduled, std::optional<Phase> phase,
                std::optional<Verdict> verdict = std::nullopt, const char* completed = nullptr) {
  auto spec = parseDrillSpec(jobSpec());
  ObservedRun out;
  out.name = name;
  out.spec = toJson(runSpecFor("nightly", *spec, *parseTime(scheduled), Trigger::kSchedule, ""));
  RunStatus status;
  status.phase = phase;
  status.verdict = verdict;
  if (completed) status.completionTime = parseTime(completed);
  if (verdict == Verdict::kPass) status.rtoSeconds = 42;
  if (verdict == Verdict::kFail) status.message = "the Job failed: BackoffLimitExceeded";
  if (verdict == Verdict::kPass) status.objectivesMet = true;
  out.status = toJson(status);
  return out;
}

// ---------------------------------------------------------------------------
// DRDrill

TEST(DecideDrill, FirstReconcileSchedulesWithoutARun) {
  const DrillDesired d = decideDrill(jobSpec(), drill(), wall("2026-03-10T13:58:30Z"));
  EXPECT_TRUE(d.create.empty());
  EXPECT_TRUE(d.events.empty());
  EXPECT_EQ(d.statusJson["nextScheduleTime"], "2026-03-10T14:00:00Z");
  EXPECT_EQ(d.statusJson["schedule"]["anchor"], "2026-03-10T13:58:00Z");
  EXPECT_EQ(d.requeueAt, parseTime("2026-03-10T14:00:00Z"));
  EXPECT_EQ(conditionStatus(d.statusJson, "Ready"), "True/Scheduled");
  EXPECT_EQ(conditionStatus(d.statusJson, "Running"), "False/Idle");
  EXPECT_EQ(conditionStatus(d.statusJson, "LastRunSucceeded"), "Unknown/NoRunYet");
  EXPECT_EQ(conditionStatus(d.statusJson, "ObjectivesMet"), "Unknown/NoRunYet");
  EXPECT_EQ(condition(d.statusJson, "Stalled"), nullptr);
  EXPECT_TRUE(d.statusChanged);
}

TEST(DecideDrill, AnIdleDrillWritesNothingTwice) {
  DrillObserved observed = drill();
  DrillDesired first = decideDrill(jobSpec(), observed, wall("2026-03-10T13:58:30Z"));
  observed.status = first.statusJson;
  const DrillDesired second = decideDrill(jobSpec(), observed, wall("2026-03-10T13:59:30Z"));
  EXPECT_FALSE(second.statusChanged);
  EXPECT_TRUE(second.events.empty());
  EXPECT_TRUE(second.create.empty());
}

TEST(DecideDrill, ADueSlotCreatesTheRunWithItsDeterministicName) {
  DrillObserved observed = drill();
  observed.status = decideDrill(jobSpec(), observed, wall("2026-03-10T13:58:30Z")).statusJson;
  const DrillDesired d = decideDrill(jobSpec(), observed, wall("2026-03-10T14:00:00.2Z"));
  ASSERT_EQ(d.create.size(), 1u);
  EXPECT_EQ(d.create[0].name, "nightly-29552520");
  EXPECT_EQ(d.create[0].spec.scheduledTime, *parseTime("2026-03-10T14:00:00Z"));
  EXPECT_EQ(d.create[0].spec.trigger, Trigger::kSchedule);
  EXPECT_EQ(reasons(d.events), std::vector<std::string>{"Normal:Started"});
  EXPECT_EQ(d.statusJson["lastScheduleTime"], "2026-03-10T14:00:00Z");
  EXPECT_EQ(d.statusJson["activeRun"], "nightly-29552520");
  EXPECT_EQ(conditionStatus(d.statusJson, "Running"), "True/RunActive");
}

TEST(DecideDrill, ARunThatAlreadyExistsIsNotCreatedAgain) {
  // An operator restart after the create but before the status write.
  DrillObserved observed = drill();
  observed.runs.push_back(run("nightly-29552520", "2026-03-10T14:00:00Z", Phase::kRunning));
  const DrillDesired d = decideDrill(jobSpec(), observed, wall("2026-03-10T14:00:05Z"));
  EXPECT_TRUE(d.create.empty());
  EXPECT_EQ(d.statusJson["lastScheduleTime"], "2026-03-10T14:00:00Z");
  EXPECT_EQ(d.statusJson["activeRun"], "nightly-29552520");
}

TEST(DecideDrill, ForbidWaitsForTheActiveRun) {
  DrillObserved observed = drill();
  observed.runs.push_back(run("nightly-29552520", "2026-03-10T14:00:00Z", Phase::kRunning));
  const DrillDesired d = decideDrill(jobSpec(), observed, wall("2026-03-10T14:05:01Z"));
  EXPECT_TRUE(d.create.empty());
  EXPECT_TRUE(d.remove.empty());
  // The slot is not handled yet: it starts when the active run ends.
  EXPECT_FALSE(d.statusJson.contains("lastScheduleTime"));
}

TEST(DecideDrill, ReplaceStopsTheActiveRun) {
  DrillObserved observed = drill();
  observed.runs.push_back(run("nightly-29552520", "2026-03-10T14:00:00Z", Phase::kRunning));
  const DrillDesired d = decideDrill(jobSpec({{"concurrencyPolicy", "Replace"}}), observed,
                                     wall("2026-03-10T14:05:01Z"));
  EXPECT_EQ(d.remove, std::vector<std::string>{"nightly-29552520"});
  ASSERT_EQ(d.create.size(), 1u);
  EXPECT_EQ(d.create[0].name, "nightly-29552525");
  EXPECT_EQ(reasons(d.events), (std::vector<std::string>{"Normal:Replaced", "Normal:Started"}));
}

TEST(DecideDrill, ASlotPastTheStartingDeadlineIsMissedWithAWarning) {
  const DrillDesired d = decideDrill(jobSpec({{"startingDeadlineSeconds", 60}}), drill(),
                                     wall("2026-03-10T14:01:01Z"));
  EXPECT_TRUE(d.create.empty());
  EXPECT_EQ(reasons(d.events), std::vector<std::string>{"Warning:MissedSchedule"});
  EXPECT_THAT(d.events[0].message, HasSubstr("2026-03-10T14:00:00Z"));
  EXPECT_THAT(d.events[0].message, HasSubstr("startingDeadlineSeconds (60s)"));
  EXPECT_EQ(d.statusJson["lastScheduleTime"], "2026-03-10T14:00:00Z");
}

TEST(DecideDrill, MoreThanAHundredMissedGiveOneWarningAndRunOnlyTheLatest) {
  // Created a day ago, never reconciled since: 288 five-minute slots.
  const DrillDesired d = decideDrill(jobSpec({{"startingDeadlineSeconds", 120}}),
                                     drill("2026-03-09T14:00:00Z"), wall("2026-03-10T14:01:00Z"));
  ASSERT_EQ(d.create.size(), 1u);
  EXPECT_EQ(d.create[0].name, "nightly-29552520");
  EXPECT_EQ(reasons(d.events),
            (std::vector<std::string>{"Normal:Started", "Warning:MissedSchedule"}));
  EXPECT_THAT(d.events[1].message, HasSubstr("more than 100 scheduled runs were missed"));
  EXPECT_THAT(d.events[1].message, HasSubstr("only the latest (2026-03-10T14:00:00Z) runs"));
}

TEST(DecideDrill, AFewMissedSlotsRunTheLatestSilently) {
  const DrillDesired d =
      decideDrill(jobSpec(), drill("2026-03-10T13:40:00Z"), wall("2026-03-10T14:01:00Z"));
  ASSERT_EQ(d.create.size(), 1u);
  EXPECT_EQ(d.create[0].name, "nightly-29552520");
  EXPECT_EQ(reasons(d.events), std::vector<std::string>{"Normal:Started"});
}

TEST(DecideDrill, AScheduleChangeReanchorsWithoutASurpriseRun) {
  DrillObserved observed = drill("2026-03-01T00:00:00Z");
  json spec = jobSpec({{"schedule", "0 3 * * *"}});
  observed.status = decideDrill(spec, observed, wall("2026-03-10T12:00:00Z")).statusJson;
  // At 14:01 the schedule becomes hourly at :00; 14:00 is a slot of the new
  // schedule after the last one handled, yet it must not run.
  spec["schedule"] = "0 * * * *";
  const DrillDesired d = decideDrill(spec, observed, wall("2026-03-10T14:01:00Z"));
  EXPECT_TRUE(d.create.empty());
  EXPECT_EQ(d.statusJson["schedule"]["anchor"], "2026-03-10T14:01:00Z");
  EXPECT_EQ(d.statusJson["nextScheduleTime"], "2026-03-10T15:00:00Z");
  // And the next slot does run.
  observed.status = d.statusJson;
  const DrillDesired later = decideDrill(spec, observed, wall("2026-03-10T15:00:01Z"));
  ASSERT_EQ(later.create.size(), 1u);
  EXPECT_EQ(later.create[0].spec.scheduledTime, *parseTime("2026-03-10T15:00:00Z"));
}

TEST(DecideDrill, RunNowStartsOneRunPerNewToken) {
  DrillObserved observed = drill();
  observed.runNowToken = "incident-review-7";
  const DrillDesired d = decideDrill(jobSpec(), observed, wall("2026-03-10T13:59:10Z"));
  ASSERT_EQ(d.create.size(), 1u);
  EXPECT_EQ(d.create[0].name, runNowRunName("nightly", "incident-review-7"));
  EXPECT_EQ(d.create[0].spec.trigger, Trigger::kRunNow);
  EXPECT_EQ(d.create[0].spec.runNowToken, "incident-review-7");
  EXPECT_EQ(d.statusJson["lastRunNowToken"], "incident-review-7");
  observed.status = d.statusJson;
  observed.runs.push_back(run(d.create[0].name, "2026-03-10T13:59:10Z", Phase::kSucceeded,
                              Verdict::kPass, "2026-03-10T13:59:40Z"));
  const DrillDesired again = decideDrill(jobSpec(), observed, wall("2026-03-10T13:59:50Z"));
  EXPECT_TRUE(again.create.empty());
}

TEST(DecideDrill, AFinishedRunIsAnnouncedOnceAndSetsTheConditions) {
  DrillObserved observed = drill();
  observed.runs.push_back(run("nightly-29552520", "2026-03-10T14:00:00Z", Phase::kSucceeded,
                              Verdict::kPass, "2026-03-10T14:00:42Z"));
  const DrillDesired d = decideDrill(jobSpec(), observed, wall("2026-03-10T14:00:43Z"));
  EXPECT_EQ(reasons(d.events), std::vector<std::string>{"Normal:Succeeded"});
  EXPECT_THAT(d.events[0].message, HasSubstr("RTO 42s (objective 5m)"));
  EXPECT_EQ(d.statusJson["lastRun"]["verdict"], "Pass");
  EXPECT_EQ(d.statusJson["lastRun"]["rto"], "42s");
  EXPECT_EQ(d.statusJson["lastSuccessfulTime"], "2026-03-10T14:00:42Z");
  EXPECT_EQ(d.statusJson["passRate"], "100");
  EXPECT_EQ(conditionStatus(d.statusJson, "LastRunSucceeded"), "True/Pass");
  EXPECT_EQ(conditionStatus(d.statusJson, "ObjectivesMet"), "True/Met");
  observed.status = d.statusJson;
  const DrillDesired again = decideDrill(jobSpec(), observed, wall("2026-03-10T14:01:00Z"));
  EXPECT_TRUE(again.events.empty());
  EXPECT_FALSE(again.statusChanged);
}

TEST(DecideDrill, FailuresCountAndMissedObjectivesWarn) {
  DrillObserved observed = drill();
  observed.runs.push_back(run("nightly-1", "2026-03-10T13:00:00Z", Phase::kSucceeded,
                              Verdict::kPass, "2026-03-10T13:01:00Z"));
  observed.runs.push_back(run("nightly-2", "2026-03-10T13:10:00Z", Phase::kFailed, Verdict::kFail,
                              "2026-03-10T13:11:00Z"));
  ObservedRun missed = run("nightly-3", "2026-03-10T13:20:00Z", Phase::kFailed, Verdict::kFail,
                           "2026-03-10T13:26:00Z");
  missed.status["reason"] = "ObjectiveMissed";
  missed.status["message"] = "RTO 6m exceeded the objective 5m";
  missed.status["rtoSeconds"] = 360;
  missed.status["objectivesMet"] = false;
  observed.runs.push_back(missed);
  const DrillDesired d = decideDrill(jobSpec(), observed, wall("2026-03-10T13:27:00Z"));
  EXPECT_EQ(reasons(d.events), std::vector<std::string>{"Warning:ObjectiveMissed"});
  EXPECT_EQ(d.statusJson["consecutiveFailures"], 2);
  EXPECT_EQ(d.statusJson["passRate"], "33.3");
  EXPECT_EQ(conditionStatus(d.statusJson, "LastRunSucceeded"), "False/Fail");
  EXPECT_EQ(conditionStatus(d.statusJson, "ObjectivesMet"), "False/Missed");
}

TEST(DecideDrill, HistoryIsPrunedToTheLimitsOldestFirst) {
  DrillObserved observed = drill("2026-03-10T00:00:00Z");
  for (int i = 0; i < 5; ++i) {
    const std::string t = "2026-03-10T0" + std::to_string(i) + ":00:00Z";
    const std::string done = "2026-03-10T0" + std::to_string(i) + ":01:00Z";
    observed.runs.push_back(run("pass-" + std::to_string(i), t.c_str(), Phase::kSucceeded,
                                Verdict::kPass, done.c_str()));
  }
  for (int i = 5; i < 8; ++i) {
    const std::string t = "2026-03-10T0" + std::to_string(i) + ":00:00Z";
    const std::string done = "2026-03-10T0" + std::to_string(i) + ":01:00Z";
    observed.runs.push_back(
        run("fail-" + std::to_string(i), t.c_str(), Phase::kFailed, Verdict::kFail, done.c_str()));
  }
  const DrillDesired d =
      decideDrill(jobSpec({{"successfulRunsHistoryLimit", 3}, {"failedRunsHistoryLimit", 1}}),
                  observed, wall("2026-03-10T08:02:00Z"));
  std::vector<std::string> removed = d.remove;
  std::sort(removed.begin(), removed.end());
  EXPECT_EQ(removed, (std::vector<std::string>{"fail-5", "fail-6", "pass-0", "pass-1"}));
  EXPECT_EQ(d.statusJson["retainedRuns"], 4);
  EXPECT_EQ(d.statusJson["passRate"], "75");
}

TEST(DecideDrill, ABadScheduleStallsWithOneWarning) {
  DrillObserved observed = drill();
  const json spec = jobSpec({{"schedule", "0 0 * * MON,FUNDAY"}});
  const DrillDesired d = decideDrill(spec, observed, wall("2026-03-10T14:00:00Z"));
  EXPECT_EQ(conditionStatus(d.statusJson, "Stalled"), "True/InvalidSchedule");
  EXPECT_EQ(conditionStatus(d.statusJson, "Ready"), "False/InvalidSchedule");
  EXPECT_THAT(condition(d.statusJson, "Stalled")->at("message").get<std::string>(),
              HasSubstr("spec.schedule: day-of-week field (5th) at position 13"));
  EXPECT_EQ(reasons(d.events), std::vector<std::string>{"Warning:InvalidSchedule"});
  EXPECT_FALSE(d.requeueAt);
  observed.status = d.statusJson;
  const DrillDesired again = decideDrill(spec, observed, wall("2026-03-10T14:05:00Z"));
  EXPECT_TRUE(again.events.empty());
  EXPECT_FALSE(again.statusChanged);
}

TEST(DecideDrill, AnUnknownZoneStalls) {
  const DrillDesired d = decideDrill(jobSpec({{"timeZone", "Mars/Olympus_Mons"}}), drill(),
                                     wall("2026-03-10T14:00:00Z"));
  EXPECT_EQ(conditionStatus(d.statusJson, "Stalled"), "True/UnknownTimeZone");
}

TEST(DecideDrill, ABlockedDrillStallsAndStartsNothing) {
  DrillObserved observed = drill();
  observed.blocked = "Deployment api lacks the annotation relops.dev/drill-allowed: \"true\"";
  const DrillDesired d = decideDrill(jobSpec(), observed, wall("2026-03-10T14:00:01Z"));
  EXPECT_TRUE(d.create.empty());
  EXPECT_EQ(conditionStatus(d.statusJson, "Stalled"), "True/DrillNotAllowed");
  EXPECT_EQ(reasons(d.events),
            (std::vector<std::string>{"Warning:DrillNotAllowed", "Warning:MissedSchedule"}));
  EXPECT_EQ(d.requeueAt, parseTime("2026-03-10T14:05:00Z"));
}

TEST(DecideDrill, SuspendStartsNothing) {
  const DrillDesired d =
      decideDrill(jobSpec({{"suspend", true}}), drill(), wall("2026-03-10T14:00:01Z"));
  EXPECT_TRUE(d.create.empty());
  EXPECT_FALSE(d.statusJson.contains("nextScheduleTime"));
  EXPECT_EQ(conditionStatus(d.statusJson, "Ready"), "True/Suspended");
}

// ---------------------------------------------------------------------------
// DRDrillRun

json runSpecJson(const json& drillSpec, const char* scheduled = "2026-03-10T14:00:00Z") {
  auto spec = parseDrillSpec(drillSpec);
  EXPECT_TRUE(spec.ok()) << (spec.ok() ? "" : spec.error().message());
  return toJson(runSpecFor("nightly", *spec, *parseTime(scheduled), Trigger::kSchedule, ""));
}

RunObserved runObserved(json status = json()) {
  RunObserved observed;
  observed.name = "nightly-29552520";
  observed.namespace_ = "shop";
  observed.uid = "uid-1";
  observed.generation = 1;
  observed.status = std::move(status);
  return observed;
}

json jobObject(const char* condition, const char* reason = "", const char* message = "") {
  json job = {{"kind", "Job"},
              {"metadata",
               {{"ownerReferences",
                 json::array({{{"kind", "DRDrillRun"}, {"uid", "uid-1"}, {"controller", true}}})}}},
              {"status", {{"conditions", json::array()}}}};
  if (condition != nullptr) {
    job["status"]["conditions"].push_back(
        {{"type", condition}, {"status", "True"}, {"reason", reason}, {"message", message}});
  }
  return job;
}

TEST(DecideRun, JobStartsWithAnOwnedJob) {
  const RunDesired d =
      decideRun(runSpecJson(jobSpec()), runObserved(), wall("2026-03-10T14:00:01Z"));
  EXPECT_EQ(d.statusJson["phase"], "Running");
  EXPECT_EQ(d.statusJson["startTime"], "2026-03-10T14:00:01Z");
  EXPECT_EQ(d.statusJson["deadline"], "2026-03-10T15:00:01Z");
  EXPECT_EQ(d.statusJson["job"]["name"], "nightly-29552520");
  ASSERT_EQ(d.actions.size(), 1u);
  const json& job = d.actions[0].object;
  EXPECT_EQ(job["kind"], "Job");
  EXPECT_EQ(job["metadata"]["ownerReferences"][0]["uid"], "uid-1");
  EXPECT_EQ(job["metadata"]["labels"]["relops.dev/drill-run"], "nightly-29552520");
  EXPECT_EQ(job["spec"]["activeDeadlineSeconds"], 3600);
  EXPECT_EQ(conditionStatus(d.statusJson, "Ready"), "False/InProgress");
}

TEST(DecideRun, JobSuccessMeasuresRtoAndReportedRpo) {
  RunObserved observed =
      runObserved(decideRun(runSpecJson(jobSpec({{"objectives", {{"rto", "5m"}, {"rpo", "2h"}}}})),
                            runObserved(), wall("2026-03-10T14:00:01Z"))
                      .statusJson);
  observed.job = jobObject("Complete");
  observed.job->at("status")["completionTime"] = "2026-03-10T14:00:43Z";
  observed.jobPods = {
      {{"status",
        {{"containerStatuses",
          json::array({{{"state",
                         {{"terminated",
                           {{"message", R"({"dataTimestamp":"2026-03-10T13:00:01Z"})"}}}}}}})}}}}};
  const RunDesired d =
      decideRun(runSpecJson(jobSpec({{"objectives", {{"rto", "5m"}, {"rpo", "2h"}}}})), observed,
                wall("2026-03-10T14:00:44Z"));
  EXPECT_EQ(d.statusJson["phase"], "Succeeded");
  EXPECT_EQ(d.statusJson["verdict"], "Pass");
  EXPECT_EQ(d.statusJson["rtoSeconds"], 42);
  EXPECT_EQ(d.statusJson["rpoSeconds"], 3600);
  EXPECT_EQ(d.statusJson["rpo"], "1h");
  EXPECT_EQ(d.statusJson["objectivesMet"], true);
  EXPECT_EQ(d.statusJson["cleanup"]["result"], "NotNeeded");
  EXPECT_EQ(d.statusJson["completionTime"], "2026-03-10T14:00:44Z");
  EXPECT_EQ(conditionStatus(d.statusJson, "Ready"), "True/Finished");
  EXPECT_FALSE(d.requeueAt);
  // Nothing left to clean up: the run lets go of its finalizer, so pruning it or deleting
  // its namespace never waits for relops.
  EXPECT_TRUE(d.removeFinalizer);
}

TEST(DecideRun, JobFailureGivesFailWithTheJobsReason) {
  RunObserved observed = runObserved(
      decideRun(runSpecJson(jobSpec()), runObserved(), wall("2026-03-10T14:00:01Z")).statusJson);
  observed.job =
      jobObject("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit");
  const RunDesired d = decideRun(runSpecJson(jobSpec()), observed, wall("2026-03-10T14:00:30Z"));
  EXPECT_EQ(d.statusJson["phase"], "Failed");
  EXPECT_EQ(d.statusJson["verdict"], "Fail");
  EXPECT_EQ(d.statusJson["reason"], "JobFailed");
  EXPECT_THAT(d.statusJson["message"].get<std::string>(),
              HasSubstr("BackoffLimitExceeded: Job has reached the specified backoff limit"));
  EXPECT_EQ(d.statusJson["objectivesMet"], false);
}

TEST(DecideRun, SlowRecoveryMissesTheObjective) {
  RunObserved observed = runObserved(
      decideRun(runSpecJson(jobSpec()), runObserved(), wall("2026-03-10T14:00:00Z")).statusJson);
  observed.job = jobObject("Complete");
  const RunDesired d = decideRun(runSpecJson(jobSpec()), observed, wall("2026-03-10T14:06:00Z"));
  EXPECT_EQ(d.statusJson["verdict"], "Fail");
  EXPECT_EQ(d.statusJson["reason"], "ObjectiveMissed");
  EXPECT_EQ(d.statusJson["message"], "RTO 6m exceeded the objective 5m");
}

TEST(DecideRun, AJobWithoutConditionsYetIsWaitedFor) {
  RunObserved observed = runObserved(
      decideRun(runSpecJson(jobSpec()), runObserved(), wall("2026-03-10T14:00:01Z")).statusJson);
  observed.job = jobObject(nullptr);
  observed.job->at("status") = {{"active", 1}};
  const RunDesired d = decideRun(runSpecJson(jobSpec()), observed, wall("2026-03-10T14:00:05Z"));
  EXPECT_EQ(d.statusJson["phase"], "Running");
  EXPECT_THAT(d.statusJson["message"].get<std::string>(), HasSubstr("waiting for the Job"));
  observed.job->erase("status");
  EXPECT_EQ(
      decideRun(runSpecJson(jobSpec()), observed, wall("2026-03-10T14:00:05Z")).statusJson["phase"],
      "Running");
}

TEST(DecideRun, ALostJobIsAppliedAgainNotFailed) {
  RunObserved observed = runObserved(
      decideRun(runSpecJson(jobSpec()), runObserved(), wall("2026-03-10T14:00:01Z")).statusJson);
  const RunDesired d = decideRun(runSpecJson(jobSpec()), observed, wall("2026-03-10T14:00:02Z"));
  EXPECT_EQ(d.statusJson["phase"], "Running");
  ASSERT_EQ(d.actions.size(), 1u);
  EXPECT_EQ(d.actions[0].object["kind"], "Job");
}

TEST(DecideRun, TheDeadlineEndsTheRun) {
  RunObserved observed = runObserved(
      decideRun(runSpecJson(jobSpec()), runObserved(), wall("2026-03-10T14:00:00Z")).statusJson);
  observed.job = jobObject(nullptr);
  const RunDesired d = decideRun(runSpecJson(jobSpec()), observed, wall("2026-03-10T15:00:00Z"));
  EXPECT_EQ(d.statusJson["phase"], "Failed");
  EXPECT_EQ(d.statusJson["reason"], "RunTimeout");
  EXPECT_THAT(d.statusJson["message"].get<std::string>(), HasSubstr("runTimeout (1h)"));
}

TEST(DecideRun, ARejectedActionEndsTheRunWithTheServersMessage) {
  const RunDesired d =
      decideRun(runSpecJson(jobSpec()), runObserved(), wall("2026-03-10T14:00:01Z"));
  const base::Error error =
      base::Error(base::ErrorKind::kInvalid,
                  "Job.batch \"nightly-29552520\" is invalid: spec.template.spec.containers: "
                  "Required value");
  const RunDesired failed = failOnAction(d, d.actions[0], error, wall("2026-03-10T14:00:01Z"));
  EXPECT_EQ(failed.statusJson["phase"], "Error");
  EXPECT_EQ(failed.statusJson["verdict"], "Error");
  EXPECT_EQ(failed.statusJson["reason"], "ActionRejected");
  EXPECT_THAT(failed.statusJson["message"].get<std::string>(),
              HasSubstr("could not create the Job nightly-29552520: Job.batch"));
  EXPECT_TRUE(failed.actions.empty());
  EXPECT_FALSE(failed.requeueAt);
}

json failoverSpec() {
  return {{"schedule", "0 10 * * TUE"},
          {"runTimeout", "10m"},
          {"objectives", {{"rto", "1m"}}},
          {"failover",
           {{"target", {{"kind", "Deployment"}, {"name", "primary"}}},
            {"standby", {{"kind", "Deployment"}, {"name", "standby"}}}}}};
}

json deployment(const char* name, int replicas, int ready, bool available, bool optIn = false) {
  json d = {{"kind", "Deployment"},
            {"metadata", {{"name", name}}},
            {"spec", {{"replicas", replicas}}},
            {"status",
             {{"readyReplicas", ready},
              {"conditions",
               json::array({{{"type", "Available"}, {"status", available ? "True" : "False"}}})}}}};
  if (optIn) d["metadata"]["annotations"] = {{"relops.dev/drill-allowed", "true"}};
  return d;
}

TEST(DecideRun, FailoverNeedsTheOptInAnnotation) {
  RunObserved observed = runObserved();
  observed.target = deployment("primary", 2, 2, true, /*optIn=*/false);
  observed.standby = deployment("standby", 1, 1, true);
  const RunDesired d =
      decideRun(runSpecJson(failoverSpec()), observed, wall("2026-03-10T14:00:00Z"));
  EXPECT_EQ(d.statusJson["phase"], "Error");
  EXPECT_EQ(d.statusJson["reason"], "DrillNotAllowed");
  EXPECT_THAT(d.statusJson["message"].get<std::string>(),
              HasSubstr("lacks the annotation relops.dev/drill-allowed: \"true\""));
  EXPECT_TRUE(d.actions.empty());
  EXPECT_EQ(d.statusJson["cleanup"]["result"], "NotNeeded");
}

TEST(DecideRun, FailoverMeasuresRtoAndRevertsThePrimary) {
  const json spec = runSpecJson(failoverSpec());
  RunObserved observed = runObserved();
  observed.target = deployment("primary", 3, 3, true, true);
  observed.standby = deployment("standby", 1, 0, false);
  RunDesired d = decideRun(spec, observed, wall("2026-03-10T14:00:00Z"));
  EXPECT_EQ(d.statusJson["phase"], "Running");
  EXPECT_EQ(d.statusJson["failover"]["previousReplicas"], 3);
  ASSERT_EQ(d.actions.size(), 1u);
  EXPECT_EQ(d.actions[0].kind, Action::Kind::kScale);
  EXPECT_EQ(d.actions[0].replicas, 0);
  EXPECT_EQ(d.requeueAt, parseTime("2026-03-10T14:00:01Z"));

  // The primary stopped, the standby is not yet ready.
  observed.status = d.statusJson;
  observed.target = deployment("primary", 0, 0, true, true);
  d = decideRun(spec, observed, wall("2026-03-10T14:00:10Z"));
  EXPECT_EQ(d.statusJson["phase"], "Running");
  EXPECT_TRUE(d.actions.empty());
  EXPECT_THAT(d.statusJson["message"].get<std::string>(), HasSubstr("Deployment standby"));

  // The standby serves: RTO measured, the primary goes back to 3.
  observed.status = d.statusJson;
  observed.standby = deployment("standby", 1, 1, true);
  d = decideRun(spec, observed, wall("2026-03-10T14:00:25Z"));
  EXPECT_EQ(d.statusJson["phase"], "CleaningUp");
  EXPECT_EQ(d.statusJson["rtoSeconds"], 25);
  EXPECT_EQ(d.statusJson["verdict"], "Pass");
  ASSERT_EQ(d.actions.size(), 1u);
  EXPECT_EQ(d.actions[0].kind, Action::Kind::kScale);
  EXPECT_EQ(d.actions[0].replicas, 3);

  // The primary is back with 3 ready replicas.
  observed.status = d.statusJson;
  observed.target = deployment("primary", 3, 3, true, true);
  d = decideRun(spec, observed, wall("2026-03-10T14:00:40Z"));
  EXPECT_EQ(d.statusJson["phase"], "Succeeded");
  EXPECT_EQ(d.statusJson["failover"]["reverted"], true);
  EXPECT_EQ(d.statusJson["cleanup"]["result"], "Succeeded");
  EXPECT_TRUE(d.actions.empty());
}

TEST(DecideRun, AServiceStandbyIsReadyWithAReadyEndpoint) {
  json spec = failoverSpec();
  spec["failover"]["standby"] = {{"kind", "Service"}, {"name", "api"}};
  const json run = runSpecJson(spec);
  RunObserved observed = runObserved();
  observed.target = deployment("primary", 1, 1, true, true);
  observed.standby = json{{"kind", "Service"}, {"metadata", {{"name", "api"}}}};
  observed.status = decideRun(run, observed, wall("2026-03-10T14:00:00Z")).statusJson;
  observed.target = deployment("primary", 0, 0, true, true);
  // An endpoint that is not ready does not count; one without conditions does (API default).
  observed.standbyEndpointSlices = {
      {{"endpoints", json::array({{{"conditions", {{"ready", false}}}}})}}};
  EXPECT_EQ(decideRun(run, observed, wall("2026-03-10T14:00:03Z")).statusJson["phase"], "Running");
  observed.standbyEndpointSlices.push_back({{"endpoints", json::array({json::object()})}});
  const RunDesired d = decideRun(run, observed, wall("2026-03-10T14:00:04Z"));
  EXPECT_EQ(d.statusJson["phase"], "CleaningUp");
  EXPECT_EQ(d.statusJson["rtoSeconds"], 4);
}

TEST(DecideRun, AFailoverPastItsDeadlineRevertsAndReportsUnfinishedCleanup) {
  const json spec = runSpecJson(failoverSpec());
  RunObserved observed = runObserved();
  observed.target = deployment("primary", 2, 2, true, true);
  observed.standby = deployment("standby", 1, 0, false);
  observed.status = decideRun(spec, observed, wall("2026-03-10T14:00:00Z")).statusJson;
  observed.target = deployment("primary", 0, 0, true, true);
  const RunDesired d = decideRun(spec, observed, wall("2026-03-10T14:10:00Z"));
  EXPECT_EQ(d.statusJson["phase"], "Failed");
  EXPECT_EQ(d.statusJson["reason"], "RunTimeout");
  EXPECT_EQ(d.statusJson["cleanup"]["result"], "Failed");
  ASSERT_EQ(d.actions.size(), 1u);
  EXPECT_EQ(d.actions[0].replicas, 2);
  EXPECT_EQ(reasons(d.events), std::vector<std::string>{"Warning:CleanupFailed"});
  // Cleanup keeps going after the run ended, and is recorded when done.
  RunObserved after = observed;
  after.status = d.statusJson;
  after.target = deployment("primary", 2, 2, true, true);
  const RunDesired done = decideRun(spec, after, wall("2026-03-10T14:10:30Z"));
  EXPECT_EQ(done.statusJson["phase"], "Failed");
  EXPECT_EQ(done.statusJson["cleanup"]["result"], "Succeeded");
}

TEST(DecideRun, DeletingAFailoverRunRestoresThePrimaryBeforeTheFinalizerGoes) {
  const json spec = runSpecJson(failoverSpec());
  RunObserved observed = runObserved();
  observed.target = deployment("primary", 2, 2, true, true);
  observed.standby = deployment("standby", 1, 0, false);
  observed.status = decideRun(spec, observed, wall("2026-03-10T14:00:00Z")).statusJson;
  observed.deleting = true;
  observed.target = deployment("primary", 0, 0, true, true);
  RunDesired d = decideRun(spec, observed, wall("2026-03-10T14:00:05Z"));
  ASSERT_EQ(d.actions.size(), 1u);
  EXPECT_EQ(d.actions[0].replicas, 2);
  EXPECT_FALSE(d.removeFinalizer);
  observed.target = deployment("primary", 2, 0, false, true);
  d = decideRun(spec, observed, wall("2026-03-10T14:00:06Z"));
  EXPECT_TRUE(d.removeFinalizer);
}

json veleroSpec() {
  return {{"schedule", "@daily"},
          {"objectives", {{"rto", "30m"}, {"rpo", "26h"}}},
          {"veleroRestore", {{"scheduleName", "nightly"}}}};
}

json backup(const char* name, const char* phase, const char* start,
            const char* schedule = "nightly", json included = json::array({"shop"})) {
  return {{"metadata", {{"name", name}, {"labels", {{"velero.io/schedule-name", schedule}}}}},
          {"spec", {{"includedNamespaces", included}}},
          {"status", {{"phase", phase}, {"startTimestamp", start}}}};
}

json namespaceObject(const char* name, json labels = json::object(),
                     json annotations = json::object()) {
  return {{"metadata", {{"name", name}, {"labels", labels}, {"annotations", annotations}}}};
}

std::vector<std::string> kinds(const RunDesired& d) {
  std::vector<std::string> out;
  for (const Action& a : d.actions) {
    out.push_back(a.kind == Action::Kind::kApply ? a.object.value("kind", "")
                                                 : "delete " + a.target.kind);
  }
  return out;
}

const json* actionOf(const RunDesired& d, std::string_view kind) {
  for (const Action& a : d.actions) {
    if (a.kind == Action::Kind::kApply && a.object.value("kind", "") == kind) return &a.object;
  }
  return nullptr;
}

TEST(DecideRun, VeleroWithoutACompletedBackupIsAnError) {
  RunObserved observed = runObserved();
  observed.backups = {backup("nightly-1", "Failed", "2026-03-10T02:00:00Z"),
                      backup("other-1", "Completed", "2026-03-10T02:00:00Z", "other")};
  const RunDesired d = decideRun(runSpecJson(veleroSpec()), observed, wall("2026-03-10T14:00:00Z"));
  EXPECT_EQ(d.statusJson["phase"], "Error");
  EXPECT_EQ(d.statusJson["reason"], "BackupNotFound");
  EXPECT_THAT(d.statusJson["message"].get<std::string>(),
              HasSubstr("no Backup in phase Completed labelled velero.io/schedule-name=nightly "
                        "in namespace velero"));
  EXPECT_TRUE(d.actions.empty());
}

TEST(DecideRun, VeleroRestoresTheNewestBackupIntoAClosedSandboxAndCleansUp) {
  const json spec = runSpecJson(veleroSpec());
  RunObserved observed = runObserved();
  observed.backups = {backup("nightly-1", "Completed", "2026-03-09T02:00:00Z"),
                      backup("nightly-2", "Completed", "2026-03-10T02:00:00Z"),
                      backup("nightly-3", "InProgress", "2026-03-10T13:00:00Z")};
  RunDesired d = decideRun(spec, observed, wall("2026-03-10T14:00:00Z"));
  const std::string sandbox = sandboxNamespaceName("shop", "nightly-29552520");
  EXPECT_EQ(d.statusJson["phase"], "Running");
  EXPECT_EQ(d.statusJson["velero"]["backup"], "nightly-2");
  EXPECT_EQ(d.statusJson["velero"]["sandboxNamespace"], sandbox);
  EXPECT_EQ(d.statusJson["rpoSeconds"], 12 * 3600);
  // The sandbox is closed before the Restore exists: the order of the actions is the
  // order they are made in, and a failure stops the rest.
  EXPECT_EQ(kinds(d), (std::vector<std::string>{"Namespace", "NetworkPolicy", "ResourceQuota",
                                                "LimitRange", "ConfigMap", "Restore"}));
  EXPECT_EQ(d.actions[1].object["spec"]["policyTypes"], json::array({"Ingress", "Egress"}));
  const json& restore = d.actions[5].object;
  EXPECT_EQ(restore["metadata"]["namespace"], "velero");
  EXPECT_EQ(restore["spec"]["backupName"], "nightly-2");
  EXPECT_EQ(restore["spec"]["namespaceMapping"], json({{"shop", sandbox}}));
  EXPECT_EQ(restore["spec"]["includeClusterResources"], false);
  EXPECT_EQ(restore["spec"]["resourceModifier"], json({{"kind", "ConfigMap"}, {"name", sandbox}}));

  // Unknown phases mean still running.
  observed.status = d.statusJson;
  observed.sandboxExists = true;
  observed.modifiersExist = true;
  observed.restore = json{{"status", {{"phase", "WaitingForPluginOperations"}}}};
  d = decideRun(spec, observed, wall("2026-03-10T14:00:05Z"));
  EXPECT_EQ(d.statusJson["phase"], "Running");
  EXPECT_TRUE(d.actions.empty());

  // Completed: the restored workloads must become Available.
  observed.status = d.statusJson;
  observed.restore = json{{"status", {{"phase", "Completed"}}}};
  observed.sandboxWorkloads = {deployment("orders", 1, 0, false)};
  d = decideRun(spec, observed, wall("2026-03-10T14:00:10Z"));
  EXPECT_EQ(d.statusJson["phase"], "Verifying");
  EXPECT_THAT(d.statusJson["message"].get<std::string>(), HasSubstr("Deployment orders"));

  observed.status = d.statusJson;
  observed.sandboxWorkloads = {deployment("orders", 1, 1, true)};
  d = decideRun(spec, observed, wall("2026-03-10T14:00:20Z"));
  EXPECT_EQ(d.statusJson["phase"], "CleaningUp");
  EXPECT_EQ(d.statusJson["rtoSeconds"], 20);
  EXPECT_EQ(d.statusJson["verdict"], "Pass");
  EXPECT_EQ(kinds(d), (std::vector<std::string>{"delete Namespace", "delete ConfigMap"}));
  EXPECT_EQ(d.actions[0].target.name, sandbox);
  EXPECT_EQ(d.actions[1].target.namespace_, "velero");

  observed.status = d.statusJson;
  observed.sandboxExists = false;
  observed.modifiersExist = false;
  observed.leftovers = 2;
  d = decideRun(spec, observed, wall("2026-03-10T14:00:21Z"));
  ASSERT_EQ(d.actions.size(), 1u);
  EXPECT_EQ(d.actions[0].kind, Action::Kind::kDeleteRestoreLeftovers);
  EXPECT_EQ(d.actions[0].restoreName, sandbox);

  observed.status = d.statusJson;
  observed.leftovers = 0;
  d = decideRun(spec, observed, wall("2026-03-10T14:00:22Z"));
  EXPECT_EQ(d.statusJson["phase"], "Succeeded");
  EXPECT_EQ(d.statusJson["cleanup"]["result"], "Succeeded");
  EXPECT_EQ(d.statusJson["objectivesMet"], true);
}

TEST(DecideRun, AFailedRestoreFailsTheRunWithVelerosReason) {
  const json spec = runSpecJson(veleroSpec());
  RunObserved observed = runObserved();
  observed.backups = {backup("nightly-2", "Completed", "2026-03-10T02:00:00Z")};
  observed.status = decideRun(spec, observed, wall("2026-03-10T14:00:00Z")).statusJson;
  observed.sandboxExists = true;
  observed.restore = json{
      {"status",
       {{"phase", "FailedValidation"}, {"validationErrors", json::array({"backup not found"})}}}};
  const RunDesired d = decideRun(spec, observed, wall("2026-03-10T14:00:05Z"));
  EXPECT_EQ(d.statusJson["verdict"], "Fail");
  EXPECT_EQ(d.statusJson["reason"], "RestoreFailedValidation");
  EXPECT_THAT(d.statusJson["message"].get<std::string>(), HasSubstr("backup not found"));
  EXPECT_EQ(d.statusJson["phase"], "CleaningUp");
  ASSERT_EQ(d.actions.size(), 1u);
  EXPECT_EQ(d.actions[0].target.kind, "Namespace");
}

TEST(DecideRun, DeletingAVeleroRunRemovesTheSandboxBeforeTheFinalizerGoes) {
  const json spec = runSpecJson(veleroSpec());
  RunObserved observed = runObserved();
  observed.backups = {backup("nightly-2", "Completed", "2026-03-10T02:00:00Z")};
  observed.status = decideRun(spec, observed, wall("2026-03-10T14:00:00Z")).statusJson;
  observed.deleting = true;
  observed.sandboxExists = true;
  RunDesired d = decideRun(spec, observed, wall("2026-03-10T14:00:05Z"));
  EXPECT_FALSE(d.removeFinalizer);
  ASSERT_EQ(d.actions.size(), 1u);
  EXPECT_EQ(d.actions[0].target.kind, "Namespace");
  observed.sandboxExists = false;
  d = decideRun(spec, observed, wall("2026-03-10T14:00:07Z"));
  EXPECT_TRUE(d.removeFinalizer);
}

TEST(DecideRun, ATerminalRunIsLeftAlone) {
  const json spec = runSpecJson(jobSpec());
  RunObserved observed =
      runObserved(decideRun(spec, runObserved(), wall("2026-03-10T14:00:00Z")).statusJson);
  observed.job = jobObject("Complete");
  observed.status = decideRun(spec, observed, wall("2026-03-10T14:00:30Z")).statusJson;
  const RunDesired d = decideRun(spec, observed, wall("2026-03-10T16:00:00Z"));
  EXPECT_FALSE(d.statusChanged);
  EXPECT_TRUE(d.actions.empty());
  EXPECT_FALSE(d.requeueAt);
}

// ---------------------------------------------------------------------------
// Tenancy: trust, fresh runs, sources, backup scope, the sandbox's confinement

json drillObject(const char* name = "nightly", const char* uid = "drill-uid") {
  return {{"metadata", {{"name", name}, {"namespace", "shop"}, {"uid", uid}}}};
}

json runObject(json owner, const char* drillName = "nightly", const char* label = "nightly") {
  json run = {{"metadata", {{"name", "nightly-1"}, {"labels", {{"relops.dev/drill", label}}}}},
              {"spec", {{"drillName", drillName}}}};
  if (!owner.is_null()) run["metadata"]["ownerReferences"] = json::array({owner});
  return run;
}

json controllerRef(const char* uid = "drill-uid", const char* name = "nightly",
                   bool controller = true) {
  return {{"apiVersion", "relops.dev/v1alpha1"},
          {"kind", "DRDrill"},
          {"name", name},
          {"uid", uid},
          {"controller", controller}};
}

struct TrustCase {
  const char* name;
  json run;
  bool drillExists;
  const char* why;  // empty: controlled
};

class RunTrust : public ::testing::TestWithParam<TrustCase> {};

TEST_P(RunTrust, OnlyARunItsDrillControlsIsActedOn) {
  const json drillJson = drillObject();
  const auto why = whyNotControlled(GetParam().run, GetParam().drillExists ? &drillJson : nullptr);
  if (std::string(GetParam().why).empty()) {
    EXPECT_FALSE(why) << *why;
  } else {
    ASSERT_TRUE(why);
    EXPECT_THAT(*why, HasSubstr(GetParam().why));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Tenancy, RunTrust,
    ::testing::Values(
        TrustCase{"controlled", runObject(controllerRef()), true, ""},
        TrustCase{"no_owner", runObject(nullptr), true, "no DRDrill as its controller"},
        TrustCase{"owner_not_controller", runObject(controllerRef("drill-uid", "nightly", false)),
                  true, "no DRDrill as its controller"},
        TrustCase{"forged_uid", runObject(controllerRef("guessed")), true,
                  "does not carry the UID"},
        TrustCase{"drill_gone", runObject(controllerRef()), false, "does not exist"},
        TrustCase{"other_drill", runObject(controllerRef("drill-uid", "weekly")), true,
                  "does not carry the UID"},
        TrustCase{"forged_drill_name", runObject(controllerRef(), "weekly"), true,
                  "spec.drillName"},
        TrustCase{"forged_label", runObject(controllerRef(), "nightly", "weekly"), true,
                  "relops.dev/drill label"}),
    [](const auto& param) { return std::string(param.param.name); });

TEST(DecideRun, AJobUnderTheRunsNameThatItDoesNotControlIsNotItsEvidence) {
  const json spec = runSpecJson(jobSpec());
  RunObserved observed =
      runObserved(decideRun(spec, runObserved(), wall("2026-03-10T14:00:00Z")).statusJson);
  observed.job = jobObject("Complete");
  observed.job->at("metadata")["ownerReferences"][0]["uid"] = "someone-else";
  const RunDesired d = decideRun(spec, observed, wall("2026-03-10T14:00:30Z"));
  EXPECT_EQ(d.statusJson["verdict"], "Error");
  EXPECT_EQ(d.statusJson["reason"], "JobConflict");
  EXPECT_FALSE(d.statusJson.contains("rtoSeconds"));
  EXPECT_TRUE(d.actions.empty());
}

TEST(DecideRun, AStatusLessRunPastTheStartingDeadlineIsStaleAndDoesNothing) {
  RunObserved observed = runObserved();
  observed.startingDeadline = seconds(300);
  // Scheduled 14:00; seen without status at 14:10 (a namespace restored by Velero).
  const RunDesired d = decideRun(runSpecJson(jobSpec()), observed, wall("2026-03-10T14:10:00Z"));
  EXPECT_EQ(d.statusJson["phase"], "Error");
  EXPECT_EQ(d.statusJson["reason"], "StaleRun");
  EXPECT_TRUE(d.actions.empty());
  EXPECT_FALSE(d.statusJson.contains("job"));
  EXPECT_EQ(reasons(d.events), std::vector<std::string>{"Warning:StaleRun"});
  // Within the deadline it starts.
  const RunDesired fresh =
      decideRun(runSpecJson(jobSpec()), observed, wall("2026-03-10T14:04:00Z"));
  EXPECT_EQ(fresh.statusJson["phase"], "Running");
}

TEST(DecideRun, WithoutAStartingDeadlineTheRunTimeoutBoundsFreshness) {
  const RunDesired d =
      decideRun(runSpecJson(jobSpec()), runObserved(), wall("2026-03-10T15:00:01Z"));
  EXPECT_EQ(d.statusJson["reason"], "StaleRun");
  EXPECT_TRUE(d.actions.empty());
}

TEST(DecideRun, ARunWithStatusIsNotStale) {
  const json spec = runSpecJson(jobSpec());
  RunObserved observed =
      runObserved(decideRun(spec, runObserved(), wall("2026-03-10T14:00:01Z")).statusJson);
  observed.startingDeadline = seconds(60);
  const RunDesired d = decideRun(spec, observed, wall("2026-03-10T14:30:00Z"));
  EXPECT_NE(d.statusJson.value("reason", ""), "StaleRun");
}

json veleroSpecFrom(const char* source) {
  json spec = veleroSpec();
  spec["veleroRestore"]["sourceNamespace"] = source;
  return spec;
}

TEST(DecideRun, AnotherNamespacesBackupIsRefusedWithoutItsOptIn) {
  RunObserved observed = runObserved();
  observed.backups = {backup("nightly-2", "Completed", "2026-03-10T02:00:00Z", "nightly",
                             json::array({"payments"}))};
  observed.sourceNamespace = namespaceObject("payments");
  const json spec = runSpecJson(veleroSpecFrom("payments"));
  RunDesired d = decideRun(spec, observed, wall("2026-03-10T14:00:00Z"));
  EXPECT_EQ(d.statusJson["phase"], "Error");
  EXPECT_EQ(d.statusJson["reason"], "SourceNotAllowed");
  EXPECT_THAT(d.statusJson["message"].get<std::string>(), HasSubstr("relops.dev/drill-sources"));
  EXPECT_TRUE(d.actions.empty());
  EXPECT_FALSE(d.statusJson.contains("velero"));
  EXPECT_EQ(reasons(d.events), std::vector<std::string>{"Warning:SourceNotAllowed"});

  // A missing source namespace is no opt-in either.
  observed.sourceNamespace.reset();
  d = decideRun(spec, observed, wall("2026-03-10T14:00:00Z"));
  EXPECT_EQ(d.statusJson["reason"], "SourceNotAllowed");

  // Its admins list this namespace: the restore goes ahead.
  observed.sourceNamespace =
      namespaceObject("payments", json::object(), {{"relops.dev/drill-sources", "billing, shop"}});
  d = decideRun(spec, observed, wall("2026-03-10T14:00:00Z"));
  EXPECT_EQ(d.statusJson["phase"], "Running");
  const json* restore = actionOf(d, "Restore");
  ASSERT_NE(restore, nullptr);
  EXPECT_EQ((*restore)["spec"]["includedNamespaces"], json::array({"payments"}));
}

TEST(DecideRun, SourceOptInsAreExactNames) {
  const json ns = namespaceObject("p", json::object(), {{"relops.dev/drill-sources", "shop-2,*"}});
  EXPECT_FALSE(sourceAllows(ns, "shop"));
  EXPECT_FALSE(sourceAllows(ns, "shop-"));
  EXPECT_TRUE(sourceAllows(ns, "shop-2"));
  EXPECT_FALSE(sourceAllows(namespaceObject("p"), "shop"));
}

struct ScopeCase {
  const char* name;
  json included;
  bool allowed;
};

class BackupScope : public ::testing::TestWithParam<ScopeCase> {};

TEST_P(BackupScope, ABackupBeyondTheSourceIsRefused) {
  RunObserved observed = runObserved();
  observed.sourceNamespace = namespaceObject("shop");
  observed.backups = {
      backup("nightly-2", "Completed", "2026-03-10T02:00:00Z", "nightly", GetParam().included)};
  if (GetParam().included.is_null()) observed.backups[0]["spec"].erase("includedNamespaces");
  const RunDesired d = decideRun(runSpecJson(veleroSpec()), observed, wall("2026-03-10T14:00:00Z"));
  if (GetParam().allowed) {
    EXPECT_EQ(d.statusJson["phase"], "Running");
  } else {
    EXPECT_EQ(d.statusJson["phase"], "Error");
    EXPECT_EQ(d.statusJson["reason"], "BackupScopeNotAllowed");
    EXPECT_TRUE(d.actions.empty());
    EXPECT_FALSE(d.statusJson.contains("velero"));
  }
}

INSTANTIATE_TEST_SUITE_P(Tenancy, BackupScope,
                         ::testing::Values(ScopeCase{"own_namespace", json::array({"shop"}), true},
                                           ScopeCase{"absent_means_all", nullptr, false},
                                           ScopeCase{"empty_means_all", json::array(), false},
                                           ScopeCase{"star", json::array({"*"}), false},
                                           ScopeCase{"glob", json::array({"sho*"}), false},
                                           ScopeCase{"another_team",
                                                     json::array({"shop", "payments"}), false}),
                         [](const auto& param) { return std::string(param.param.name); });

TEST(DecideRun, AForeignNamespaceUnderTheSandboxNameIsNeverAdopted) {
  RunObserved observed = runObserved();
  observed.sourceNamespace = namespaceObject("shop");
  observed.backups = {backup("nightly-2", "Completed", "2026-03-10T02:00:00Z")};
  observed.sandboxForeign = true;
  const RunDesired d = decideRun(runSpecJson(veleroSpec()), observed, wall("2026-03-10T14:00:00Z"));
  EXPECT_EQ(d.statusJson["reason"], "SandboxConflict");
  EXPECT_TRUE(d.actions.empty());  // neither restored into nor deleted
}

TEST(DecideRun, TheSandboxIsConfinedBeforeAnythingIsRestored) {
  RunObserved observed = runObserved();
  observed.uid = "run-uid";
  observed.veleroNamespace = "backup-system";
  observed.sourceNamespace =
      namespaceObject("shop", {{"pod-security.kubernetes.io/enforce", "restricted"}});
  observed.sourceQuotas = {
      {{"metadata", {{"name", "compute"}}}, {"spec", {{"hard", {{"pods", "5"}}}}}}};
  observed.backups = {backup("nightly-2", "Completed", "2026-03-10T02:00:00Z")};
  json spec = veleroSpec();
  spec["veleroRestore"]["excludedResources"] = json::array({"secrets"});
  const RunDesired d = decideRun(runSpecJson(spec), observed, wall("2026-03-10T14:00:00Z"));
  const std::string sandbox = sandboxNamespaceName("shop", "nightly-29552520");

  const json* ns = actionOf(d, "Namespace");
  ASSERT_NE(ns, nullptr);
  EXPECT_EQ((*ns)["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], "restricted");
  EXPECT_EQ((*ns)["metadata"]["labels"]["relops.dev/drill-run-uid"], "run-uid");
  const json* quota = actionOf(d, "ResourceQuota");
  ASSERT_NE(quota, nullptr);
  EXPECT_EQ((*quota)["metadata"]["name"], "compute");
  EXPECT_EQ((*quota)["metadata"]["namespace"], sandbox);
  EXPECT_EQ((*quota)["spec"], json({{"hard", {{"pods", "5"}}}}));
  // No LimitRange in the source: relops's default.
  const json* limits = actionOf(d, "LimitRange");
  ASSERT_NE(limits, nullptr);
  EXPECT_EQ((*limits)["metadata"]["name"], "relops-sandbox-default");

  const json* modifiers = actionOf(d, "ConfigMap");
  ASSERT_NE(modifiers, nullptr);
  EXPECT_EQ((*modifiers)["metadata"]["namespace"], "backup-system");
  EXPECT_EQ((*modifiers)["metadata"]["labels"]["relops.dev/drill-run-uid"], "run-uid");
  ASSERT_EQ((*modifiers)["data"].size(), 1u);  // Velero reads exactly one key
  const json rules =
      json::parse((*modifiers)["data"]["resource-modifiers.yaml"].get<std::string>());
  EXPECT_EQ(rules["version"], "v1");
  ASSERT_EQ(rules["resourceModifierRules"].size(), 3u);
  const json& loadBalancer = rules["resourceModifierRules"][0];
  EXPECT_EQ(loadBalancer["conditions"]["groupResource"], "services");
  EXPECT_EQ(loadBalancer["conditions"]["namespaces"], json::array({"shop"}));
  EXPECT_EQ(loadBalancer["conditions"]["matches"][0],
            json({{"path", "/spec/type"}, {"value", "LoadBalancer"}}));
  EXPECT_EQ(
      json::parse(loadBalancer["mergePatches"][0]["patchData"].get<std::string>())["spec"]["type"],
      "ClusterIP");
  EXPECT_EQ(rules["resourceModifierRules"][1]["conditions"]["matches"][0]["value"], "NodePort");
  EXPECT_EQ(rules["resourceModifierRules"][2]["conditions"]["groupResource"], "cronjobs.batch");
  EXPECT_EQ(
      json::parse(
          rules["resourceModifierRules"][2]["mergePatches"][0]["patchData"].get<std::string>()),
      json({{"spec", {{"suspend", true}}}}));

  const json* restore = actionOf(d, "Restore");
  ASSERT_NE(restore, nullptr);
  EXPECT_EQ((*restore)["metadata"]["namespace"], "backup-system");
  const auto excluded = (*restore)["spec"]["excludedResources"].get<std::vector<std::string>>();
  // The drill's list replaces the defaults; relops's kinds and cluster RBAC stay excluded.
  EXPECT_THAT(excluded, ::testing::Contains("secrets"));
  EXPECT_THAT(excluded, ::testing::Not(::testing::Contains("ingresses.networking.k8s.io")));
  for (const std::string& fixed : fixedRestoreExclusions()) {
    EXPECT_THAT(excluded, ::testing::Contains(fixed));
  }
}

TEST(DecideRun, TheOperatorsQuotaReplacesTheBuiltInOneWhenTheSourceHasNone) {
  RunObserved observed = runObserved();
  observed.backups = {backup("nightly-2", "Completed", "2026-03-10T02:00:00Z")};
  RunDesired d = decideRun(runSpecJson(veleroSpec()), observed, wall("2026-03-10T14:00:00Z"));
  const json* quota = actionOf(d, "ResourceQuota");
  ASSERT_NE(quota, nullptr);
  EXPECT_EQ((*quota)["spec"]["hard"]["services.loadbalancers"], "0");  // built in
  observed.sandboxQuotaHard = {{"pods", "3"}};
  d = decideRun(runSpecJson(veleroSpec()), observed, wall("2026-03-10T14:00:00Z"));
  quota = actionOf(d, "ResourceQuota");
  ASSERT_NE(quota, nullptr);
  EXPECT_EQ((*quota)["spec"], json({{"hard", {{"pods", "3"}}}}));
}

TEST(DecideRun, DefaultExclusionsCoverWhatActsOutsideTheSandbox) {
  const auto excluded = restoreExclusions(VeleroRestoreDrill{});
  for (const char* kind :
       {"ingresses.networking.k8s.io", "gateways.gateway.networking.k8s.io",
        "httproutes.gateway.networking.k8s.io", "servicemonitors.monitoring.coreos.com",
        "podmonitors.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com",
        "certificates.cert-manager.io", "externalsecrets.external-secrets.io",
        "servicelevelobjectives.relops.dev", "errorbudgetpolicies.relops.dev",
        "oncallrotations.relops.dev", "drdrills.relops.dev", "drdrillruns.relops.dev"}) {
    EXPECT_THAT(excluded, ::testing::Contains(kind));
  }
}

TEST(DecideRun, TheSandboxEnforcesAtLeastBaseline) {
  EXPECT_EQ(sandboxPodSecurityLevel(std::nullopt), "baseline");
  EXPECT_EQ(sandboxPodSecurityLevel(namespaceObject("s")), "baseline");
  EXPECT_EQ(sandboxPodSecurityLevel(
                namespaceObject("s", {{"pod-security.kubernetes.io/enforce", "privileged"}})),
            "baseline");
  EXPECT_EQ(sandboxPodSecurityLevel(
                namespaceObject("s", {{"pod-security.kubernetes.io/enforce", "restricted"}})),
            "restricted");
}

// ---------------------------------------------------------------------------
// No wedges (issue 14): failing cleanup never keeps a run from ending or its finalizer
// from going.

// A velero run whose restore completed and verified, about to clean up.
RunObserved verifiedVeleroRun(const json& spec) {
  RunObserved observed = runObserved();
  observed.backups = {backup("nightly-2", "Completed", "2026-03-10T02:00:00Z")};
  observed.status = decideRun(spec, observed, wall("2026-03-10T14:00:00Z")).statusJson;
  observed.sandboxExists = true;
  observed.restore = json{{"status", {{"phase", "Completed"}}}};
  observed.sandboxWorkloads = {deployment("orders", 1, 1, true)};
  return observed;
}

constexpr const char* kForbiddenListing =
    "cannot list the PersistentVolumes labelled velero.io/restore-name=x: Forbidden";

TEST(DecideRun, AForbiddenVolumeListingEndsTheRunWithCleanupFailedOnceTheRestIsClean) {
  const json spec = runSpecJson(veleroSpec());
  RunObserved observed = verifiedVeleroRun(spec);
  observed.cleanupUnreadable = kForbiddenListing;
  observed.cleanupForbidden = true;
  // The sandbox still goes first: the run waits for it.
  RunDesired d = decideRun(spec, observed, wall("2026-03-10T14:00:20Z"));
  EXPECT_EQ(d.statusJson["phase"], "CleaningUp");
  EXPECT_EQ(kinds(d), std::vector<std::string>{"delete Namespace"});
  EXPECT_FALSE(d.removeFinalizer);
  // Then only the refused listing is left: the run ends now, not at its deadline.
  observed.status = d.statusJson;
  observed.sandboxExists = false;
  d = decideRun(spec, observed, wall("2026-03-10T14:00:25Z"));
  EXPECT_EQ(d.statusJson["phase"], "Succeeded");
  EXPECT_EQ(d.statusJson["verdict"], "Pass");
  EXPECT_EQ(d.statusJson["cleanup"]["result"], "Failed");
  EXPECT_THAT(d.statusJson["cleanup"]["message"].get<std::string>(),
              HasSubstr("PersistentVolumes labelled velero.io/restore-name"));
  EXPECT_EQ(reasons(d.events), std::vector<std::string>{"Warning:CleanupFailed"});
  EXPECT_TRUE(d.actions.empty());
  // The finalizer goes, after the status write (so on the next reconcile), with no new Warning.
  observed.status = d.statusJson;
  d = decideRun(spec, observed, wall("2026-03-10T14:00:26Z"));
  EXPECT_TRUE(d.removeFinalizer);
  EXPECT_TRUE(d.events.empty());
  EXPECT_FALSE(d.statusChanged);
}

TEST(DecideRun, AFailingCleanupReadNeverStopsTheDeadline) {
  const json spec = runSpecJson(veleroSpec());
  RunObserved observed = verifiedVeleroRun(spec);
  observed.sandboxWorkloads = {deployment("orders", 1, 0, false)};
  observed.cleanupUnreadable = "cannot list ...: 503 Service Unavailable";
  observed.cleanupForbidden = false;
  RunDesired d = decideRun(spec, observed, wall("2026-03-10T14:00:10Z"));
  EXPECT_EQ(d.statusJson["phase"], "Verifying");
  observed.status = d.statusJson;
  // runTimeout defaults to 1h.
  d = decideRun(spec, observed, wall("2026-03-10T15:00:00Z"));
  EXPECT_EQ(d.statusJson["phase"], "Failed");
  EXPECT_EQ(d.statusJson["reason"], "RunTimeout");
  EXPECT_EQ(d.statusJson["cleanup"]["result"], "Failed");
  EXPECT_EQ(reasons(d.events), std::vector<std::string>{"Warning:CleanupFailed"});
  EXPECT_FALSE(d.removeFinalizer);  // the sandbox is still there: retried
}

TEST(DecideRun, CleanupRetriesOfAFinishedRunBackOff) {
  const json spec = runSpecJson(veleroSpec());
  RunObserved observed = verifiedVeleroRun(spec);
  observed.sandboxWorkloads = {deployment("orders", 1, 0, false)};
  observed.status = decideRun(spec, observed, wall("2026-03-10T15:00:00Z")).statusJson;
  ASSERT_EQ(observed.status["phase"], "Failed");
  struct Case {
    const char* name;
    const char* now;
    int64_t delaySeconds;
  };
  for (const Case& c : {Case{"just finished", "2026-03-10T15:00:01Z", 10},
                        Case{"a minute later", "2026-03-10T15:01:00Z", 60},
                        Case{"ten minutes later", "2026-03-10T15:10:00Z", 600},
                        Case{"a day later", "2026-03-11T15:00:00Z", 900}}) {
    const RunDesired d = decideRun(spec, observed, wall(c.now));
    ASSERT_TRUE(d.requeueAt) << c.name;
    EXPECT_EQ((*d.requeueAt - *parseTime(c.now)).count(), c.delaySeconds) << c.name;
    EXPECT_TRUE(d.events.empty()) << c.name;  // the Warning was said once, at the deadline
  }
}

TEST(DecideRun, DeletingARunWhoseCleanupIsRefusedReleasesTheFinalizer) {
  const json spec = runSpecJson(veleroSpec());
  RunObserved observed = verifiedVeleroRun(spec);
  observed.deleting = true;
  observed.cleanupUnreadable = kForbiddenListing;
  observed.cleanupForbidden = true;
  RunDesired d = decideRun(spec, observed, wall("2026-03-10T14:00:20Z"));
  EXPECT_FALSE(d.removeFinalizer);  // the sandbox is relops's to delete, and it can
  observed.sandboxExists = false;
  d = decideRun(spec, observed, wall("2026-03-10T14:00:22Z"));
  EXPECT_TRUE(d.removeFinalizer);
  EXPECT_EQ(reasons(d.events), std::vector<std::string>{"Warning:CleanupFailed"});
  // A read that may succeed later keeps it.
  observed.cleanupForbidden = false;
  d = decideRun(spec, observed, wall("2026-03-10T14:00:23Z"));
  EXPECT_FALSE(d.removeFinalizer);
}

TEST(DecideRun, OnlyRunsThatCanLeaveSomethingBehindGetTheFinalizer) {
  struct Case {
    const char* name;
    json drill;
    bool finalizer;
  };
  for (const Case& c : {Case{"job", jobSpec(), false}, Case{"failover", failoverSpec(), true},
                        Case{"veleroRestore", veleroSpec(), true}}) {
    auto spec = parseRunSpec(runSpecJson(c.drill));
    ASSERT_TRUE(spec.ok()) << c.name;
    EXPECT_EQ(needsCleanupFinalizer(*spec), c.finalizer) << c.name;
  }
}

TEST(DecideRun, ARunThatEndsBeforeCreatingAnythingReleasesTheFinalizer) {
  const json spec = runSpecJson(failoverSpec());
  RunObserved observed = runObserved();  // no target
  RunDesired d = decideRun(spec, observed, wall("2026-03-10T14:00:00Z"));
  EXPECT_EQ(d.statusJson["phase"], "Error");
  EXPECT_EQ(d.statusJson["cleanup"]["result"], "NotNeeded");
  EXPECT_TRUE(d.removeFinalizer);  // taken off once the status write's event comes back
  EXPECT_TRUE(d.actions.empty());
}

// ---------------------------------------------------------------------------
// Waiting runs back off (issue 14): woken by watch events, polled 1 s doubling to 30 s.

TEST(DecideRun, AWaitingRunPollsAfterAsLongAsItHasWaitedUpToThirtySeconds) {
  const json spec = runSpecJson(failoverSpec());
  RunObserved observed = runObserved();
  observed.target = deployment("primary", 2, 2, true, true);
  observed.standby = deployment("standby", 1, 0, false);
  observed.status = decideRun(spec, observed, wall("2026-03-10T14:00:00Z")).statusJson;
  observed.target = deployment("primary", 0, 0, true, true);
  struct Case {
    const char* name;
    const char* lastProgress;  // nullptr: unknown (a restart)
    const char* now;
    int64_t delaySeconds;
  };
  for (const Case& c :
       {Case{"unknown", nullptr, "2026-03-10T14:00:05Z", 1},
        Case{"just progressed", "2026-03-10T14:00:05Z", "2026-03-10T14:00:05Z", 1},
        Case{"waited 2 s", "2026-03-10T14:00:03Z", "2026-03-10T14:00:05Z", 2},
        Case{"waited 8 s", "2026-03-10T14:00:02Z", "2026-03-10T14:00:10Z", 8},
        Case{"waited 5 min", "2026-03-10T14:00:00Z", "2026-03-10T14:05:00Z", 30},
        Case{"near the deadline", "2026-03-10T14:00:00Z", "2026-03-10T14:09:50Z", 10}}) {
    RunObserved at = observed;
    if (c.lastProgress != nullptr) at.lastProgress = *parseTime(c.lastProgress);
    const RunDesired d = decideRun(spec, at, wall(c.now));
    ASSERT_TRUE(d.requeueAt) << c.name;
    EXPECT_EQ((*d.requeueAt - *parseTime(c.now)).count(), c.delaySeconds) << c.name;
  }
}

TEST(DecideRun, ARestoresRtoComesFromStatusTimestampsNotFromThePoll) {
  const json spec = runSpecJson(veleroSpec());
  RunObserved observed = verifiedVeleroRun(spec);  // started 14:00:00
  auto availableAt = [](const char* name, const char* at) {
    json d = deployment(name, 1, 1, true);
    d["status"]["conditions"][0]["lastTransitionTime"] = at;
    return d;
  };
  struct Case {
    const char* name;
    json restoreCompleted;  // status.completionTimestamp, or null
    std::vector<json> workloads;
    int64_t rtoSeconds;
  };
  const json statefulSet = {{"kind", "StatefulSet"},
                            {"metadata", {{"name", "db"}}},
                            {"spec", {{"replicas", 1}}},
                            {"status", {{"readyReplicas", 1}}}};
  for (const Case& c :
       {Case{"the last workload ready",
             "2026-03-10T14:00:04Z",
             {availableAt("a", "2026-03-10T14:00:06Z"), availableAt("b", "2026-03-10T14:00:09Z")},
             9},
        Case{"ready before the restore completed",
             "2026-03-10T14:00:07Z",
             {availableAt("a", "2026-03-10T14:00:05Z")},
             7},
        Case{"never before the start",
             "2026-03-10T13:59:00Z",
             {availableAt("a", "2026-03-10T13:00:00Z")},
             0},
        Case{"no timestamp on a StatefulSet: now",
             "2026-03-10T14:00:04Z",
             {availableAt("a", "2026-03-10T14:00:06Z"), statefulSet},
             30},
        Case{"no completion on the Restore: now",
             nullptr,
             {availableAt("a", "2026-03-10T14:00:06Z")},
             30}}) {
    RunObserved at = observed;
    at.restore = json{{"status", {{"phase", "Completed"}}}};
    if (!c.restoreCompleted.is_null()) {
      (*at.restore)["status"]["completionTimestamp"] = c.restoreCompleted;
    }
    at.sandboxWorkloads = c.workloads;
    const RunDesired d = decideRun(spec, at, wall("2026-03-10T14:00:30Z"));
    EXPECT_EQ(d.statusJson["rtoSeconds"], c.rtoSeconds) << c.name;
  }
}

TEST(DecideRun, CleanupBeforeTheDeadlineNeverWaitsPastIt) {
  const json spec = runSpecJson(veleroSpec());  // runTimeout 1h: deadline 15:00:00
  RunObserved observed = verifiedVeleroRun(spec);
  observed.status = decideRun(spec, observed, wall("2026-03-10T14:00:20Z")).statusJson;
  ASSERT_EQ(observed.status["phase"], "CleaningUp");
  observed.lastProgress = *parseTime("2026-03-10T14:00:20Z");
  const RunDesired d = decideRun(spec, observed, wall("2026-03-10T14:59:50Z"));
  EXPECT_EQ(d.statusJson["phase"], "CleaningUp");
  EXPECT_EQ(d.requeueAt, parseTime("2026-03-10T15:00:00Z"));
}

}  // namespace
}  // namespace relops::drill
