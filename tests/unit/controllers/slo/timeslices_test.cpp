#include "controllers/slo/timeslices.h"

#include <gtest/gtest.h>

namespace relops::slo {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kT0 = *parseRfc3339("2026-03-01T00:00:00Z", "t");
const Duration kWeek = *Duration::parse("7d", "w");
// Gaps between observations up to this long are vouched for (relops was watching).
constexpr minutes kWatching{1000};

TEST(Rfc3339, RoundTrips) {
  EXPECT_EQ(formatRfc3339(kT0 + hours(25) + seconds(7)), "2026-03-02T01:00:07Z");
  EXPECT_EQ(*parseRfc3339("2026-03-02T01:00:07.123456Z", "t"), kT0 + hours(25) + seconds(7));
  EXPECT_FALSE(parseRfc3339("2026-03-02 01:00:07", "t"));
  EXPECT_FALSE(parseRfc3339("2026-02-30T00:00:00Z", "t"));
}

TEST(Timeslices, CountsMinutesInTheStateLastObserved) {
  TimesliceLedger ledger;
  ledger.observe(kT0, SliceState::kGood, kWeek);
  ledger.observe(kT0 + minutes(1), SliceState::kGood, kWeek);
  ledger.observe(kT0 + minutes(2), SliceState::kBad, kWeek);   // minute 1 was good
  ledger.observe(kT0 + minutes(4), SliceState::kGood, kWeek);  // minutes 2, 3 were bad
  ledger.observe(kT0 + minutes(5) + seconds(59), SliceState::kGood, kWeek);
  EXPECT_EQ(ledger.totals(), (SliceTotals{3, 2, 0}));
  EXPECT_EQ(ledger.encode(), "g2b2g1");
}

TEST(Timeslices, StateChangesWithinAMinuteTakeTheLastObserved) {
  TimesliceLedger ledger;
  ledger.observe(kT0, SliceState::kGood, kWeek);
  ledger.observe(kT0 + seconds(20), SliceState::kBad, kWeek);
  ledger.observe(kT0 + seconds(40), SliceState::kGood, kWeek);
  ledger.observe(kT0 + minutes(1), SliceState::kGood, kWeek);
  EXPECT_EQ(ledger.totals(), (SliceTotals{1, 0, 0}));
}

TEST(Timeslices, SurviveARestartThroughStatus) {
  TimesliceLedger before;
  before.observe(kT0, SliceState::kGood, kWeek);
  before.observe(kT0 + minutes(10), SliceState::kBad, kWeek, kWatching);
  before.observe(kT0 + minutes(13), SliceState::kGood, kWeek);
  const WorkloadStatus saved = before.save();
  EXPECT_EQ(saved.goodMinutes, 10);
  EXPECT_EQ(saved.badMinutes, 3);
  EXPECT_EQ(saved.ledgerStart, "2026-03-01T00:00:00Z");
  EXPECT_EQ(saved.lastObservedTime, "2026-03-01T00:13:00Z");
  EXPECT_EQ(saved.lastObservedState, "Good");

  // A quick restart (within the gap relops vouches for) carries the state over...
  auto quick = TimesliceLedger::restore(saved);
  ASSERT_TRUE(quick) << quick.error().message();
  quick->observe(kT0 + minutes(16), SliceState::kGood, kWeek);
  EXPECT_EQ(quick->totals(), (SliceTotals{13, 3, 0}));

  // ...a long outage of relops is unknown time, neither good nor bad.
  auto slow = TimesliceLedger::restore(saved);
  slow->observe(kT0 + minutes(73), SliceState::kBad, kWeek);
  EXPECT_EQ(slow->totals(), (SliceTotals{10, 3, 60}));
  EXPECT_EQ(slow->encode(), "g10b3u60");
  slow->observe(kT0 + minutes(75), SliceState::kGood, kWeek);
  EXPECT_EQ(slow->totals(), (SliceTotals{10, 5, 60}));
}

// After a restart, the minutes since the stored lastObservedTime are vouched for only
// within the tolerance, whatever else matches (an etcd snapshot restore makes the
// workload's old resourceVersion match again): observation time decides, nothing else.
TEST(Timeslices, RestoredLedgerCountsALongUnobservedGapAsUnknown) {
  TimesliceLedger before;
  before.observe(kT0, SliceState::kGood, kWeek);
  before.observe(kT0 + minutes(10), SliceState::kGood, kWeek, kWatching);
  const WorkloadStatus saved = before.save();  // g10, last seen Good at 00:10
  struct Case {
    const char* name;
    minutes restartedAfter;
    SliceTotals totals;
  };
  const std::vector<Case> cases = {
      {"quick restart", minutes(3), {13, 0, 0}},
      {"at the tolerance", minutes(5), {15, 0, 0}},
      {"just past it", minutes(6), {10, 0, 6}},
      {"rewound half an hour", minutes(30), {10, 0, 30}},
      {"rewound a day", hours(24), {10, 0, 1440}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto restored = TimesliceLedger::restore(saved);
    ASSERT_TRUE(restored) << restored.error().message();
    restored->observe(kT0 + minutes(10) + c.restartedAfter, SliceState::kGood, kWeek);
    EXPECT_EQ(restored->totals(), c.totals);
  }
}

TEST(Timeslices, RejectsACorruptLedger) {
  WorkloadStatus status;
  status.ledgerStart = "2026-03-01T00:00:00Z";
  status.lastObservedTime = "2026-03-01T00:10:00Z";
  status.lastObservedState = "Good";
  for (const char* ledger : {"g9", "x10", "g", "m1.2", "g5b5junk"}) {
    status.ledger = ledger;
    auto restored = TimesliceLedger::restore(status);
    EXPECT_FALSE(restored) << ledger;
    if (!restored) {
      EXPECT_EQ(restored.error().kind(), base::ErrorKind::kConfig);
    }
  }
  status.ledger = "g5b5";
  EXPECT_TRUE(TimesliceLedger::restore(status));
  EXPECT_TRUE(TimesliceLedger::restore(std::nullopt));
}

TEST(Timeslices, WindowRollOverDropsTheOldestMinutes) {
  const Duration hour = *Duration::parse("1h", "w");
  TimesliceLedger ledger;
  ledger.observe(kT0, SliceState::kBad, hour);
  ledger.observe(kT0 + minutes(10), SliceState::kGood, hour, kWatching);  // 10 bad minutes
  ledger.observe(kT0 + minutes(60), SliceState::kGood, hour, kWatching);  // 50 good
  EXPECT_EQ(ledger.totals(), (SliceTotals{50, 10, 0}));
  ledger.observe(kT0 + minutes(64), SliceState::kGood, hour);  // 4 bad minutes roll out
  EXPECT_EQ(ledger.totals(), (SliceTotals{54, 6, 0}));
  EXPECT_EQ(ledger.start(), kT0 + minutes(4));
  ledger.observe(kT0 + minutes(200), SliceState::kGood, hour, kWatching);
  EXPECT_EQ(ledger.totals(), (SliceTotals{60, 0, 0}));
  EXPECT_EQ(ledger.encode(), "g60");
}

TEST(Timeslices, ClockGoingBackwardsChangesNothing) {
  TimesliceLedger ledger;
  ledger.observe(kT0 + minutes(10), SliceState::kGood, kWeek);
  ledger.observe(kT0 + minutes(20), SliceState::kGood, kWeek, kWatching);
  ledger.observe(kT0 + minutes(5), SliceState::kBad, kWeek);
  EXPECT_EQ(ledger.totals(), (SliceTotals{10, 0, 0}));
  EXPECT_EQ(ledger.lastState(), SliceState::kBad);
}

// A workload that flaps every minute for 90 days stays within the ledger's bound, keeps
// exact totals, and its encoding fits the status field.
TEST(Timeslices, StaysBoundedOverNinetyDaysOfFlapping) {
  const Duration window = *Duration::parse("90d", "w");
  TimesliceLedger ledger;
  const int64_t total = 90 * 1440 + 600;
  for (int64_t m = 0; m <= total; ++m) {
    ledger.observe(kT0 + minutes(m), m % 2 == 0 ? SliceState::kGood : SliceState::kBad, window);
  }
  EXPECT_LE(ledger.segmentCount(), TimesliceLedger::kMaxSegments);
  const SliceTotals totals = ledger.totals();
  EXPECT_EQ(totals.good + totals.bad + totals.unknown, 90 * 1440);
  // Exact but for the one mixed run that straddles the window's start, whose expiry is
  // prorated: at most the length of a mixed run, about two windows' worth of runs.
  EXPECT_NEAR(static_cast<double>(totals.bad), 90 * 720,
              2.0 * 90 * 1440 / TimesliceLedger::kMaxSegments);
  EXPECT_LE(ledger.encode().size(), 32768u);
  auto restored = TimesliceLedger::restore(ledger.save());
  ASSERT_TRUE(restored) << restored.error().message();
  EXPECT_EQ(restored->totals(), totals);
}

TEST(ClassifyWorkload, FollowsAvailability) {
  const WorkloadIndicator deployment{WorkloadKind::kDeployment, "web", std::nullopt};
  const nlohmann::json available = nlohmann::json::parse(
      R"({"status": {"conditions": [{"type": "Available", "status": "True"}], "readyReplicas": 1}})");
  const nlohmann::json unavailable = nlohmann::json::parse(
      R"({"status": {"conditions": [{"type": "Available", "status": "False"}]}})");
  EXPECT_EQ(classifyWorkload(deployment, &available), SliceState::kGood);
  EXPECT_EQ(classifyWorkload(deployment, &unavailable), SliceState::kBad);
  EXPECT_EQ(classifyWorkload(deployment, nullptr), SliceState::kBad);
  const WorkloadIndicator atLeastTwo{WorkloadKind::kDeployment, "web", 2};
  EXPECT_EQ(classifyWorkload(atLeastTwo, &available), SliceState::kBad);

  const WorkloadIndicator statefulSet{WorkloadKind::kStatefulSet, "db", std::nullopt};
  const nlohmann::json db =
      nlohmann::json::parse(R"({"spec": {"replicas": 3}, "status": {"readyReplicas": 2}})");
  EXPECT_EQ(classifyWorkload(statefulSet, &db), SliceState::kBad);
  const WorkloadIndicator daemonSet{WorkloadKind::kDaemonSet, "agent", std::nullopt};
  const nlohmann::json agent =
      nlohmann::json::parse(R"({"status": {"desiredNumberScheduled": 3, "numberReady": 3}})");
  EXPECT_EQ(classifyWorkload(daemonSet, &agent), SliceState::kGood);
}

}  // namespace
}  // namespace relops::slo
