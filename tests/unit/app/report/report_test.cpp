// The report of a recorded cluster state (testdata/cluster.json: a calendar SLO with history
// and episodes, a rolling SLO, a workload SLO, an SLO without status, rotations with load and
// gaps, drill runs passed, failed and in error, freezes) against golden Markdown, JSON and HTML
// (RELOPS_UPDATE_GOLDEN=1 rewrites them; review the diff), plus the numbers checked by hand.
#include "app/report/report.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace relops::report {
namespace {

using nlohmann::json;

TimePoint at(const char* text) { return common::parseRfc3339(text, "t").value(); }

std::string testdata(const std::string& name) {
  return std::string(RELOPS_REPORT_TESTDATA) + "/" + name;
}

ReportInput recordedInput() {
  std::ifstream in(testdata("cluster.json"));
  const json list = json::parse(in);
  ReportInput input;
  input.scope = "all namespaces";
  input.period = parsePeriod("2026-Q4").value();
  input.now = at("2026-12-07T12:00:00Z");
  for (const json& item : list.at("items")) {
    const std::string kind = item.at("kind");
    if (kind == "ServiceLevelObjective") input.slos.push_back(item);
    if (kind == "ErrorBudgetPolicy") input.policies.push_back(item);
    if (kind == "OnCallRotation") input.rotations.push_back(item);
    if (kind == "DRDrill") input.drills.push_back(item);
    if (kind == "DRDrillRun") input.runs.push_back(item);
    if (kind == "ChangeWindow") input.windows.push_back(item);
  }
  return input;
}

void expectGolden(const std::string& name, const std::string& actual) {
  const std::string path = testdata(name);
  if (const char* update = std::getenv("RELOPS_UPDATE_GOLDEN"); update && *update == '1') {
    std::ofstream(path, std::ios::binary) << actual;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path << " is missing; run with RELOPS_UPDATE_GOLDEN=1";
  std::stringstream golden;
  golden << in.rdbuf();
  EXPECT_EQ(actual, golden.str()) << name << ": rerun with RELOPS_UPDATE_GOLDEN=1 and review";
}

const SloReport& slo(const Report& report, const std::string& name) {
  for (const SloReport& s : report.slos) {
    if (s.name == name) return s;
  }
  throw std::runtime_error("no SLO " + name);
}

TEST(Report, GoldenMarkdown) {
  expectGolden("report.md", renderMarkdown(buildReport(recordedInput())));
}

TEST(Report, GoldenJson) {
  expectGolden("report.json", renderJson(buildReport(recordedInput())).dump(2) + "\n");
}

TEST(Report, GoldenHtml) { expectGolden("report.html", renderHtml(buildReport(recordedInput()))); }

TEST(Report, CalendarSloAttainmentAndEpisodes) {
  const Report report = buildReport(recordedInput());
  const SloReport& checkout = slo(report, "checkout-availability");
  EXPECT_EQ(checkout.team, "commerce");  // the relops.dev/team label wins over the namespace
  EXPECT_TRUE(checkout.calendar);
  EXPECT_EQ(checkout.verdict, "Missed");  // October missed, inside Q4
  EXPECT_EQ(checkout.basis, "closedPeriods");
  EXPECT_DOUBLE_EQ(checkout.attainment.value(), 99.85);  // the worst closed period of Q4
  // The September episode is outside Q4; the October one ends in November; one is ongoing.
  ASSERT_EQ(checkout.episodes.size(), 3u);
  EXPECT_FALSE(checkout.episodes[2].end.has_value());
  EXPECT_EQ(checkout.episodes[2].duration, std::chrono::minutes(2 * 60 + 45));  // to `now`
  // MTTR: the two ended episodes, 11d 18h and 1h 26m.
  const auto ended = std::chrono::hours(11 * 24 + 18) + std::chrono::minutes(86);
  EXPECT_EQ(checkout.mttr.value(), ended / 2);
  EXPECT_EQ(checkout.trail.size(), 67u);  // October 1st to December 6th
}

TEST(Report, RollingWorkloadAndBareSlos) {
  const Report report = buildReport(recordedInput());
  const SloReport& search = slo(report, "search-latency");
  EXPECT_EQ(search.team, "search");  // no label: the namespace
  EXPECT_EQ(search.basis, "rollingWindow");
  EXPECT_EQ(search.verdict, "Missed");
  const SloReport& ledger = slo(report, "ledger-available");
  EXPECT_EQ(ledger.verdict, "Met");
  EXPECT_EQ(ledger.history[0].badMinutes, 10);
  EXPECT_EQ(ledger.history[1].result, "NoData");
  const SloReport& bare = slo(report, "indexer-freshness");
  EXPECT_EQ(bare.verdict, "NoData");
  EXPECT_EQ(bare.basis, "none");
  EXPECT_TRUE(bare.trail.empty());
}

TEST(Report, OncallDrillsAndFreezes) {
  const Report report = buildReport(recordedInput());
  ASSERT_EQ(report.rotations.size(), 2u);
  const RotationReport& payments = report.rotations[0];
  EXPECT_EQ(payments.name, "payments-primary");
  ASSERT_EQ(payments.load.size(), 3u);
  // alice: 312 h, 232 off-hours of which 96 at the weekend.
  EXPECT_DOUBLE_EQ(payments.load[0].business, 80);
  EXPECT_DOUBLE_EQ(payments.load[0].offHours, 136);
  EXPECT_DOUBLE_EQ(payments.load[0].weekend, 96);
  ASSERT_EQ(payments.gaps.size(), 1u);  // the January gap is outside Q4
  EXPECT_EQ(payments.gapTime, std::chrono::hours(12));

  ASSERT_EQ(report.drills.size(), 2u);
  const DrillReport& restore = report.drills[0];
  EXPECT_EQ(restore.name, "db-restore");
  EXPECT_EQ(restore.runs.size(), 3u);  // September's run is outside Q4
  EXPECT_EQ(restore.passed, 2);
  EXPECT_EQ(restore.failed, 1);
  EXPECT_EQ(restore.objectivesMissed, 1);
  EXPECT_EQ(restore.rtoObjective, 1800);
  const DrillReport& failover = report.drills[1];
  EXPECT_EQ(failover.errored, 1);
  EXPECT_FALSE(failover.rpoObjective.has_value());

  ASSERT_EQ(report.freezes.size(), 2u);
  EXPECT_DOUBLE_EQ(report.freezes[0].days, 2.2);   // since 12-05 08:00 until now 12-07 12:00
  EXPECT_DOUBLE_EQ(report.freezes[1].days, 17.0);  // since 11-20 12:00

  ASSERT_EQ(report.teams.size(), 2u);
  EXPECT_EQ(report.teams[0].team, "commerce");
  EXPECT_EQ(report.teams[0].slos, 2);
  EXPECT_EQ(report.teams[0].drillRuns, 3);
}

TEST(Report, MonthPeriodFiltersHistory) {
  ReportInput input = recordedInput();
  input.period = parsePeriod("2026-11").value();
  const Report report = buildReport(input);
  const SloReport& checkout = slo(report, "checkout-availability");
  EXPECT_EQ(checkout.verdict, "Met");
  EXPECT_DOUBLE_EQ(checkout.attainment.value(), 99.953);
  EXPECT_EQ(checkout.trail.size(), 30u);
  EXPECT_EQ(checkout.episodes.size(), 2u);
}

// A period under way is judged by its budget: one bad minute on the 1st is an SLI of 0% of
// the minutes seen, and 2% of the month's budget.
TEST(Report, PeriodUnderWayIsJudgedByItsBudget) {
  ReportInput input;
  input.scope = "namespace demo";
  input.period = parsePeriod("2026-12").value();
  input.now = at("2026-12-01T00:02:00Z");
  input.slos.push_back(json::parse(R"({
    "apiVersion": "relops.dev/v1alpha1", "kind": "ServiceLevelObjective",
    "metadata": {"name": "web-monthly", "namespace": "demo"},
    "spec": {"service": "web", "objective": "99.9", "window": "month",
             "indicator": {"workload": {"kind": "Deployment", "name": "web"}}},
    "status": {"sli": "0", "errorBudget": {"remaining": "97.8", "consumed": "2.2"},
               "period": {"label": "2026-12", "start": "2026-12-01T00:00:00Z",
                          "end": "2027-01-01T00:00:00Z"}}})"));
  EXPECT_EQ(slo(buildReport(input), "web-monthly").basis, "currentPeriod");
  EXPECT_EQ(slo(buildReport(input), "web-monthly").verdict, "Met");
  input.slos[0]["status"]["errorBudget"] = {{"remaining", "-3"}, {"consumed", "103"}};
  EXPECT_EQ(slo(buildReport(input), "web-monthly").verdict, "Missed");
}

// A rolling window's SLI is the window ending now: it says nothing of a month long past.
TEST(Report, RollingSliOnlyForPeriodsItsWindowReaches) {
  ReportInput input = recordedInput();
  input.period = parsePeriod("2026-10").value();  // ended 37 days before now; the window is 28d
  EXPECT_EQ(slo(buildReport(input), "search-latency").basis, "none");
  EXPECT_EQ(slo(buildReport(input), "search-latency").verdict, "NoData");
  input.period = parsePeriod("2026-11").value();  // the window reaches back to November 9th
  EXPECT_EQ(slo(buildReport(input), "search-latency").basis, "rollingWindow");
}

// Change windows: every occurrence that overlaps the period, ended, under way or scheduled
// (a weekly freeze across the October DST change), and a freeze's time so far as freeze days.
TEST(Report, ChangeWindowsAndTheirOccurrences) {
  const Report report = buildReport(recordedInput());
  ASSERT_EQ(report.windows.size(), 2u);
  const WindowReport& freeze = report.windows[0];
  EXPECT_EQ(freeze.name, "weekend-freeze");
  EXPECT_EQ(freeze.when, "0 18 * * FRI for 62h (Europe/Berlin)");
  ASSERT_EQ(freeze.occurrences.size(), 13u);
  EXPECT_EQ(freeze.occurrences[3].start, "2026-10-23T16:00:00Z");  // CEST
  EXPECT_EQ(freeze.occurrences[4].start, "2026-10-30T17:00:00Z");  // CET
  EXPECT_EQ(freeze.occurrences[9].state, "ended");
  EXPECT_EQ(freeze.occurrences[10].state, "scheduled");
  EXPECT_DOUBLE_EQ(freeze.days, 25.8);  // ten ended weekends of 62 hours
  const WindowReport& maintenance = report.windows[1];
  EXPECT_EQ(maintenance.type, "Maintenance");
  ASSERT_EQ(maintenance.occurrences.size(), 1u);
  EXPECT_EQ(maintenance.occurrences[0].state, "scheduled");
  EXPECT_DOUBLE_EQ(maintenance.days, 0);
  for (const TeamSummary& team : report.teams) {
    if (team.team == "commerce") {
      EXPECT_DOUBLE_EQ(team.freezeDays, 2.2 + 25.8);
    }
  }
}

TEST(Report, JsonNamesItsKindAndVersion) {
  const json out = renderJson(buildReport(recordedInput()));
  EXPECT_EQ(out["kind"], "ReliabilityReport");
  EXPECT_EQ(out["apiVersion"], "relops.dev/v1alpha1");
  EXPECT_EQ(out["period"]["from"], "2026-10-01T00:00:00Z");
}

TEST(Report, HtmlIsSelfContainedWithEveryChart) {
  const std::string html = renderHtml(buildReport(recordedInput()));
  for (const char* forbidden : {"<script", "<link", "src=", "@import", "@font-face", "href="}) {
    EXPECT_EQ(html.find(forbidden), std::string::npos) << forbidden;
  }
  // url() only ever names a pattern of the page itself.
  for (size_t pos = 0; (pos = html.find("url(", pos)) != std::string::npos; pos += 4) {
    EXPECT_EQ(html.substr(pos, 5), "url(#") << html.substr(pos, 40);
  }
  for (const char* id : {"id=\"attainment\"", "id=\"burndown-0\"", "id=\"oncall-load\"",
                         "id=\"drills\"", "id=\"freezes\""}) {
    EXPECT_NE(html.find(id), std::string::npos) << id;
  }
  EXPECT_NE(html.find("@page { size: A4"), std::string::npos);
}

// Strings of the objects are text in every rendering, never markup or table structure.
TEST(Report, ObjectStringsAreEscaped) {
  ReportInput input;
  input.scope = "namespace a";
  input.period = parsePeriod("2026-11").value();
  input.now = at("2026-12-07T12:00:00Z");
  input.slos.push_back(json::parse(R"({"metadata": {"namespace": "a", "name": "s"},
      "spec": {"service": "<script>x</script>|y\nz", "objective": "99"}})"));
  const Report report = buildReport(input);
  const std::string markdown = renderMarkdown(report);
  EXPECT_EQ(markdown.find("<script>"), std::string::npos);
  EXPECT_NE(markdown.find("&lt;script&gt;x&lt;/script&gt;\\|y z"), std::string::npos);
  const std::string html = renderHtml(report);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
  EXPECT_EQ(renderJson(report)["slos"][0]["service"], "<script>x</script>|y\nz");
}

TEST(Report, EmptySelectionRenders) {
  ReportInput input;
  input.scope = "namespace empty";
  input.period = parsePeriod("2026-11").value();
  input.now = at("2026-12-07T12:00:00Z");
  const Report report = buildReport(input);
  EXPECT_NE(renderMarkdown(report).find("# Reliability report 2026-11"), std::string::npos);
  const std::string html = renderHtml(report);
  EXPECT_NE(html.find("id=\"freezes\""), std::string::npos);
  EXPECT_NE(html.find("No drill ran in the period."), std::string::npos);
}

// The page stays bounded however many objects are selected: charts are cut, and say so.
TEST(Report, HtmlSizeIsBounded) {
  const ReportInput recorded = recordedInput();
  ReportInput input = recorded;
  input.slos.clear();
  input.rotations.clear();
  for (size_t i = 0; i < kMaxObjectsPerKind + 10; ++i) {
    json copy = recorded.slos[0];
    copy["metadata"]["name"] = "slo-" + std::to_string(i);
    input.slos.push_back(copy);
    json rotation = recorded.rotations[0];
    rotation["metadata"]["name"] = "rotation-" + std::to_string(i);
    input.rotations.push_back(rotation);
  }
  const Report report = buildReport(input);
  EXPECT_EQ(report.slos.size(), kMaxObjectsPerKind);
  const std::string html = renderHtml(report);
  EXPECT_NE(html.find("burn-down charts are drawn for the first"), std::string::npos);
  EXPECT_NE(html.find("only the first 1000 ServiceLevelObjectives"), std::string::npos);
  EXPECT_EQ(html.find("id=\"burndown-24\""), std::string::npos);
  EXPECT_LT(html.size(), 4u << 20);
}

}  // namespace
}  // namespace relops::report
