// Calendar windows in decideSlo: the budget of the period's own length, a closed period
// recorded once with a PeriodClosed Event, bounded histories of periods, burn episodes
// and the budget trail; and the rules and queries of a calendar SLO.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controllers/slo/rules.h"
#include "controllers/slo/slo_decide.h"
#include "controllers/slo/status_reading.h"
#include "slo_builder.h"

namespace relops::slo {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::SloBuilder;

TimePoint at(const std::string& text) { return *parseRfc3339(text, "test"); }

CalendarWindow monthIn(const std::string& zone) {
  return *CalendarWindow::make(CalendarUnit::kMonth, zone);
}

SloObserved prometheusAt(TimePoint now, double errorRatio, double total,
                         std::vector<std::pair<Duration, double>> windows = {}) {
  SloObserved observed;
  observed.generation = 1;
  observed.rulesTarget = "PrometheusRule shop/relops-slo-checkout";
  observed.prometheusConfigured = true;
  PrometheusReading reading;
  reading.errorRatio = errorRatio;
  reading.totalEvents = total;
  reading.errorRatios = std::move(windows);
  reading.evaluatedAt = now;
  observed.prometheus = reading;
  observed.period = monthIn("Europe/Berlin").periodAt(now);
  return observed;
}

const ServiceLevelObjective kMonthly =
    SloBuilder().objective("99.9").window("month").spec("timeZone", "Europe/Berlin").build();

TEST(SloPeriod, SpecReadsAndWritesTheCalendarWindow) {
  EXPECT_EQ(kMonthly.spec.calendar, CalendarUnit::kMonth);
  EXPECT_EQ(kMonthly.spec.timeZone, "Europe/Berlin");
  EXPECT_EQ(kMonthly.spec.window.seconds(), 30 * 86400);
  const json spec = sloSpecJson(kMonthly.spec);
  EXPECT_EQ(spec["window"], "month");
  EXPECT_EQ(spec["timeZone"], "Europe/Berlin");
  EXPECT_EQ(SloBuilder().window("quarter").build().spec.timeZone, "UTC");
  // A time zone with a rolling window, or one not in the tz database, is refused.
  EXPECT_FALSE(parseSlo(SloBuilder().window("28d").spec("timeZone", "UTC").json()).ok());
  auto unknown = parseSlo(SloBuilder().window("month").spec("timeZone", "Mars/Base").json());
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.error().message(), HasSubstr("unknown time zone"));
  EXPECT_FALSE(parseSlo(SloBuilder().window("year").json()).ok());
}

TEST(SloPeriod, RulesKeepBurnRateWindowsWithFactorsOfThirtyDays) {
  auto rules = generateRules(kMonthly);
  ASSERT_TRUE(rules.ok());
  std::vector<std::string> records;
  double pageFactor = 0;
  for (const Rule& rule : rules->groups.at(0).rules) {
    if (!rule.record.empty()) records.push_back(rule.record);
  }
  for (const AlertWindow& window : rules->alertWindows) {
    if (window.row.longWindow.canonical() == "1h") pageFactor = window.factor;
  }
  EXPECT_DOUBLE_EQ(pageFactor, 14.4);  // 2% of a 30-day budget in 1h
  for (const std::string& record : records) {
    EXPECT_THAT(record, ::testing::Not(HasSubstr("30d"))) << "no fixed-range SLO window record";
  }
  const StatusQueries queries = statusQueries(kMonthly);
  EXPECT_TRUE(queries.errorRatio.empty());
  EXPECT_THAT(queries.combined, ::testing::Not(HasSubstr("30d")));
  const PeriodQueries period =
      periodQueries(kMonthly, std::chrono::hours(24 * 6) + std::chrono::minutes(90));
  EXPECT_THAT(period.errorRatio, HasSubstr("[6d1h30m]"));
  EXPECT_THAT(period.totalEvents, HasSubstr("increase("));
  EXPECT_THAT(period.totalEvents, HasSubstr("[6d1h30m]"));
}

TEST(SloPeriod, PeriodReadingTakesTheWorstGroupAndAllTraffic) {
  const std::vector<PromSample> ratios = {{{{"route", "a"}}, 0.001, {}},
                                          {{{"route", "b"}}, 0.004, {}}};
  const std::vector<PromSample> totals = {{{{"route", "a"}}, 1000, {}},
                                          {{{"route", "b"}}, 500, {}}};
  const PeriodNumbers numbers = periodReading(ratios, totals);
  EXPECT_DOUBLE_EQ(*numbers.errorRatio, 0.004);
  EXPECT_DOUBLE_EQ(*numbers.totalEvents, 1500);
  const PeriodNumbers failed =
      periodReading(base::Error(base::ErrorKind::kTransient, "down"), totals);
  EXPECT_EQ(failed.unavailable, "down");
}

TEST(SloPeriod, ShowsTheCurrentPeriod) {
  const TimePoint now = at("2026-12-07T10:00:00Z");
  const SloDecision decision = decideSlo(kMonthly, prometheusAt(now, 0.0005, 1e6), now);
  EXPECT_EQ(decision.status["period"], json({{"label", "2026-12"},
                                             {"start", "2026-11-30T23:00:00Z"},
                                             {"end", "2026-12-31T23:00:00Z"}}));
  EXPECT_EQ(decision.status["errorBudget"]["remaining"], "50");
  EXPECT_FALSE(decision.status.contains("periodHistory"));
}

TEST(SloPeriod, ClosedPeriodIsRecordedOnceWithAnEvent) {
  const TimePoint november = at("2026-11-20T10:00:00Z");
  const SloDecision before = decideSlo(kMonthly, prometheusAt(november, 0.0005, 1e6), november);
  const TimePoint now = at("2026-11-30T23:00:05Z");  // five seconds into December in Berlin
  const auto closing = periodToClose(monthIn("Europe/Berlin"), before.status, now);
  ASSERT_TRUE(closing);
  EXPECT_EQ(closing->label, "2026-11");
  EXPECT_FALSE(
      periodToClose(monthIn("Europe/Berlin"), before.status, now - std::chrono::seconds(10)));
  // The spec changed to weeks: the stored month is not a week; nothing to close.
  EXPECT_FALSE(periodToClose(*CalendarWindow::make(CalendarUnit::kWeek, "Europe/Berlin"),
                             before.status, now));

  SloObserved observed = prometheusAt(now, 0.0001, 100);
  observed.status = before.status;
  observed.closedPeriod =
      ClosedPeriod{*closing, budgetFromErrorRatio(0.0012, 5e6, Percent::parse("99.9", "").value()),
                   std::nullopt};
  const SloDecision closed = decideSlo(kMonthly, observed, now);
  ASSERT_EQ(closed.status["periodHistory"].size(), 1u);
  const json& entry = closed.status["periodHistory"][0];
  EXPECT_EQ(entry["label"], "2026-11");
  EXPECT_EQ(entry["result"], "Missed");
  EXPECT_EQ(entry["sli"], "99.88");
  EXPECT_EQ(entry["budgetConsumed"], "120");
  EXPECT_EQ(entry["start"], "2026-10-31T23:00:00Z");
  EXPECT_EQ(entry["end"], "2026-11-30T23:00:00Z");
  EXPECT_EQ(closed.status["period"]["label"], "2026-12");
  ASSERT_EQ(closed.events.size(), 1u);
  EXPECT_EQ(closed.events[0].type, "Warning");
  EXPECT_EQ(closed.events[0].reason, "PeriodClosed");
  EXPECT_THAT(closed.events[0].message,
              HasSubstr("period 2026-11 closed: SLI 99.88% against an objective of 99.9%"));
  EXPECT_THAT(closed.events[0].message, HasSubstr("Missed"));

  // Asked again (a retried write): nothing more.
  SloObserved again = observed;
  again.status = closed.status;
  const SloDecision repeat = decideSlo(kMonthly, again, now + std::chrono::seconds(30));
  EXPECT_EQ(repeat.status["periodHistory"].size(), 1u);
  EXPECT_THAT(repeat.events, IsEmpty());
  EXPECT_FALSE(periodToClose(monthIn("Europe/Berlin"), closed.status, now));
}

TEST(SloPeriod, MetPeriodIsNormalAndHistoryIsBounded) {
  json status = json::object();
  json history = json::array();
  for (int i = 0; i < 12; ++i)
    history.push_back({{"label", "old-" + std::to_string(i)}, {"result", "Met"}});
  status["periodHistory"] = history;
  const TimePoint now = at("2026-12-01T00:00:00Z");
  SloObserved observed = prometheusAt(now, 0.0001, 100);
  observed.status = status;
  const Period november = monthIn("Europe/Berlin").periodAt(at("2026-11-15T00:00:00Z"));
  observed.closedPeriod =
      ClosedPeriod{november, budgetFromErrorRatio(0.0004, 1e6, Percent::parse("99.9", "").value()),
                   std::nullopt};
  const SloDecision decision = decideSlo(kMonthly, observed, now);
  ASSERT_EQ(decision.status["periodHistory"].size(), kMaxPeriodHistory);
  EXPECT_EQ(decision.status["periodHistory"][0]["label"], "old-1");
  EXPECT_EQ(decision.status["periodHistory"].back()["result"], "Met");
  EXPECT_THAT(decision.events, ElementsAre(Field(&SloEvent::type, "Normal")));
}

TEST(SloPeriod, WorkloadBudgetIsAShareOfThePeriodsOwnLength) {
  const auto slo =
      SloBuilder().objective("99.9").window("month").workload("Deployment", "web").build();
  const TimePoint now = at("2026-02-10T00:00:00Z");
  SloObserved observed;
  observed.generation = 1;
  observed.period = monthIn("UTC").periodAt(now);
  WorkloadReading reading;
  reading.reference = "Deployment/web";
  reading.state = SliceState::kGood;
  reading.totals = {9 * 1440 - 20, 20, 0};
  observed.workload = reading;
  // February 2026 has 28 days: 0.1% of 40,320 minutes is 40.32 bad minutes; 20 spent.
  const SloDecision decision = decideSlo(slo, observed, now);
  EXPECT_EQ(decision.status["errorBudget"]["consumed"], "49.6");
}

TEST(SloPeriod, BurnEpisodeOpensPeaksAndCloses) {
  const auto slo = SloBuilder().objective("99.9").window("28d").build();
  const Duration oneHour = Duration::fromSeconds(std::chrono::hours(1));
  const Duration fiveMinutes = Duration::fromSeconds(std::chrono::minutes(5));
  const TimePoint start = at("2026-12-07T10:00:00Z");
  auto observe = [&](double ratio, double remainingRatio, const json& status) {
    SloObserved observed =
        prometheusAt(start, remainingRatio, 1e6, {{fiveMinutes, ratio}, {oneHour, ratio}});
    observed.period.reset();
    observed.status = status;
    return observed;
  };
  const SloDecision calm = decideSlo(slo, observe(0.0001, 0.0002, json()), start);
  EXPECT_FALSE(calm.status.contains("burnEpisodes"));
  const SloDecision burning =
      decideSlo(slo, observe(0.02, 0.0003, calm.status), start + std::chrono::minutes(5));
  ASSERT_EQ(burning.status["burnEpisodes"].size(), 1u);
  EXPECT_EQ(burning.status["burnEpisodes"][0]["condition"], "BurnRateHigh");
  EXPECT_EQ(burning.status["burnEpisodes"][0]["start"], "2026-12-07T10:05:00Z");
  EXPECT_EQ(burning.status["burnEpisodes"][0]["peakBurnRate"], "20");
  EXPECT_EQ(burning.status["burnEpisodes"][0]["budgetRemainingAtStart"], "70");
  const SloDecision worse =
      decideSlo(slo, observe(0.03, 0.0005, burning.status), start + std::chrono::minutes(10));
  EXPECT_EQ(worse.status["burnEpisodes"][0]["peakBurnRate"], "30");
  EXPECT_EQ(worse.status["burnEpisodes"][0]["budgetSpent"], "20");
  EXPECT_FALSE(worse.status["burnEpisodes"][0].contains("end"));
  const SloDecision over =
      decideSlo(slo, observe(0.0001, 0.0005, worse.status), start + std::chrono::minutes(40));
  EXPECT_EQ(over.status["burnEpisodes"][0]["end"], "2026-12-07T10:40:00Z");
  EXPECT_EQ(over.status["burnEpisodes"][0]["peakBurnRate"], "30");
  // Closed episodes stay as they were.
  const SloDecision later =
      decideSlo(slo, observe(0.0001, 0.0004, over.status), start + std::chrono::minutes(50));
  EXPECT_EQ(later.status["burnEpisodes"], over.status["burnEpisodes"]);
}

TEST(SloPeriod, BurnEpisodesAreBoundedKeepingTheOpenOne) {
  json status = json::object();
  json episodes = json::array();
  for (int i = 0; i < 20; ++i) {
    episodes.push_back({{"condition", "BurnRateHigh"},
                        {"start", "2026-11-0" + std::to_string(i % 9 + 1) + "T00:00:00Z"},
                        {"end", "2026-11-09T00:00:00Z"}});
  }
  status["burnEpisodes"] = episodes;
  const auto slo = SloBuilder().objective("99.9").window("28d").build();
  const TimePoint now = at("2026-12-07T10:00:00Z");
  SloObserved observed = prometheusAt(now, 0.0015, 1e6);
  observed.period.reset();
  observed.status = status;
  const SloDecision decision = decideSlo(slo, observed, now);
  ASSERT_EQ(decision.status["burnEpisodes"].size(), kMaxBurnEpisodes);
  EXPECT_EQ(decision.status["burnEpisodes"].back()["condition"], "BudgetExhausted");
  EXPECT_FALSE(decision.status["burnEpisodes"].back().contains("end"));
}

TEST(SloPeriod, TrailHasAnEntryPerDateTheBudgetChangedAndStartsWithThePeriod) {
  TimePoint now = at("2026-11-30T12:00:00Z");
  SloObserved observed = prometheusAt(now, 0.0001, 1e6);
  SloDecision decision = decideSlo(kMonthly, observed, now);
  EXPECT_EQ(decision.status["budgetTrail"],
            json::parse(R"([{"date":"2026-11-30","remaining":"90"}])"));
  // The same number the next day: no entry, no write.
  now = at("2026-11-30T22:30:00Z");  // 23:30 in Berlin, still November
  observed = prometheusAt(now, 0.0001, 1e6);
  observed.status = decision.status;
  decision = decideSlo(kMonthly, observed, now);
  EXPECT_FALSE(decision.statusChanged);
  // December in Berlin: November's entries leave with November.
  now = at("2026-12-01T08:00:00Z");
  observed = prometheusAt(now, 0.0002, 1e5);
  observed.status = decision.status;
  decision = decideSlo(kMonthly, observed, now);
  EXPECT_EQ(decision.status["budgetTrail"],
            json::parse(R"([{"date":"2026-12-01","remaining":"80"}])"));
  // A change on the same date replaces that date's entry.
  observed = prometheusAt(now + std::chrono::hours(1), 0.0003, 1e5);
  observed.status = decision.status;
  decision = decideSlo(kMonthly, observed, now + std::chrono::hours(1));
  EXPECT_EQ(decision.status["budgetTrail"],
            json::parse(R"([{"date":"2026-12-01","remaining":"70"}])"));
}

}  // namespace
}  // namespace relops::slo
