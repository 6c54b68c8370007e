#include "controllers/slo/ledger_history.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace relops::slo {
namespace {

using std::chrono::minutes;

const TimePoint kNow = *parseRfc3339("2026-03-01T12:00:30Z", "t");
const Duration kDay = *Duration::parse("24h", "w");

PromSample sample(const std::string& state, double value, const std::string& job = "relops") {
  return {{{"__name__", kWorkloadMinutesMetric}, {"state", state}, {"job", job}}, value, kNow};
}

TEST(LedgerHistory, QueriesEachSeriesLastValueOverTheWindow) {
  EXPECT_EQ(ledgerHistoryQuery("shop", "web-availability", kDay),
            "last_over_time(relops_slo_workload_minutes{namespace=\"shop\","
            "name=\"web-availability\",state=~\"good|bad|unknown\"}[1d])");
}

TEST(LedgerHistory, TakesTheCountsOfOneSeries) {
  const auto totals =
      ledgerHistoryTotals({sample("good", 100), sample("bad", 7), sample("unknown", 3)}, kDay);
  ASSERT_TRUE(totals);
  EXPECT_EQ(*totals, (SliceTotals{100, 7, 3}));
}

TEST(LedgerHistory, NoGoodOrBadMinuteIsNoHistory) {
  EXPECT_FALSE(ledgerHistoryTotals({}, kDay));
  EXPECT_FALSE(ledgerHistoryTotals({sample("unknown", 50)}, kDay));
  EXPECT_FALSE(ledgerHistoryTotals({sample("good", 0), sample("bad", 0)}, kDay));
  EXPECT_FALSE(ledgerHistoryTotals({sample("good", std::nan("")), sample("bad", -5)}, kDay));
}

TEST(LedgerHistory, AnotherSeriesCanOnlyMakeTheBudgetWorse) {
  // A second series under the same labels claims a perfect record: the least good and the
  // most bad minutes win.
  const auto totals = ledgerHistoryTotals(
      {sample("good", 100), sample("bad", 7), sample("good", 1400, "forged"),
       sample("bad", 0, "forged"), sample("good", 90, "other"), sample("bad", 9, "other")},
      kDay);
  ASSERT_TRUE(totals);
  EXPECT_EQ(*totals, (SliceTotals{90, 9, 0}));
}

TEST(LedgerHistory, CountsAreBoundedByTheWindowBadMinutesFirst) {
  const auto totals = ledgerHistoryTotals(
      {sample("good", 1e12), sample("bad", 1000), sample("unknown", 1000)}, kDay);
  ASSERT_TRUE(totals);
  EXPECT_EQ(*totals, (SliceTotals{440, 1000, 0}));  // a day is 1440 minutes
  const auto huge = ledgerHistoryTotals(
      {sample("bad", std::numeric_limits<double>::infinity()), sample("good", 5)}, kDay);
  ASSERT_TRUE(huge);
  EXPECT_EQ(*huge, (SliceTotals{5, 0, 0}));  // not a count: ignored
}

TEST(LedgerHistory, RebuiltLedgerPutsBadMinutesLastAndCarriesOn) {
  TimesliceLedger ledger = TimesliceLedger::fromTotals({100, 7, 3}, kNow);
  EXPECT_EQ(ledger.totals(), (SliceTotals{100, 7, 3}));
  EXPECT_EQ(ledger.encode(), "u3g100b7");
  EXPECT_EQ(ledger.end() - ledger.start(), minutes(110));
  // The reconciler observes at once, at the instant the ledger ends.
  ledger.observe(kNow, SliceState::kGood, kDay);
  ledger.observe(kNow + minutes(2), SliceState::kGood, kDay);
  EXPECT_EQ(ledger.totals(), (SliceTotals{102, 7, 3}));
  // The window slides over the oldest minutes first: unknown, then good, and bad last.
  ledger.observe(kNow + minutes(1435), SliceState::kGood, kDay, minutes(1440));  // watched
  EXPECT_EQ(ledger.totals(), (SliceTotals{1435, 5, 0}));
  // Saved and restored like any ledger.
  const auto restored = TimesliceLedger::restore(ledger.save());
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored->totals(), ledger.totals());
}

}  // namespace
}  // namespace relops::slo
