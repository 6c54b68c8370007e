// Missed-run handling and run naming: planSchedule() over irregular schedules,
// starting deadlines, more than 100 missed slots, and the deterministic names.
#include "controllers/drill/scheduling.h"

#include <date/date.h>
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "controllers/drill/drill_types.h"
#include "operator/base/digest.h"

namespace relops::drill {
namespace {

using std::chrono::seconds;

Instant at(const char* text) { return *parseTime(text); }

CronSchedule cron(const char* expression, const char* zone = "UTC") {
  auto compiled = CronSchedule::compile(expression, zone);
  EXPECT_TRUE(compiled.ok());
  return *compiled;
}

struct PlanCase {
  const char* name;
  const char* expression;
  const char* anchor;
  const char* now;
  std::optional<int64_t> deadline;
  const char* due;      // "" for none
  const char* tooLate;  // "" for none
  int64_t missed;
  const char* next;
};

class Plans : public ::testing::TestWithParam<PlanCase> {};

TEST_P(Plans, DueMissedAndNext) {
  const PlanCase& c = GetParam();
  const SchedulePlan plan =
      planSchedule(cron(c.expression), at(c.anchor), at(c.now),
                   c.deadline ? std::optional<seconds>(seconds(*c.deadline)) : std::nullopt);
  EXPECT_EQ(plan.due ? common::formatRfc3339(*plan.due) : "", c.due);
  EXPECT_EQ(plan.tooLate ? common::formatRfc3339(*plan.tooLate) : "", c.tooLate);
  EXPECT_EQ(plan.missed, c.missed);
  EXPECT_EQ(plan.next ? common::formatRfc3339(*plan.next) : "", c.next);
}

INSTANTIATE_TEST_SUITE_P(
    Schedule, Plans,
    ::testing::Values(
        PlanCase{"nothing_due_yet", "*/5 * * * *", "2026-01-01T00:00:00Z", "2026-01-01T00:04:59Z",
                 std::nullopt, "", "", 0, "2026-01-01T00:05:00Z"},
        PlanCase{"one_due_on_time", "*/5 * * * *", "2026-01-01T00:00:00Z", "2026-01-01T00:05:01Z",
                 std::nullopt, "2026-01-01T00:05:00Z", "", 0, "2026-01-01T00:10:00Z"},
        // The anchor itself (the last handled slot) is not due again.
        PlanCase{"anchor_exclusive", "*/5 * * * *", "2026-01-01T00:05:00Z", "2026-01-01T00:05:30Z",
                 std::nullopt, "", "", 0, "2026-01-01T00:10:00Z"},
        // Three slots passed while relops was down: only the latest runs.
        PlanCase{"latest_of_several", "*/5 * * * *", "2026-01-01T00:00:00Z", "2026-01-01T00:16:00Z",
                 std::nullopt, "2026-01-01T00:15:00Z", "", 2, "2026-01-01T00:20:00Z"},
        PlanCase{"within_deadline", "*/5 * * * *", "2026-01-01T00:00:00Z", "2026-01-01T00:15:59Z",
                 60, "2026-01-01T00:15:00Z", "", 2, "2026-01-01T00:20:00Z"},
        PlanCase{"past_deadline", "*/5 * * * *", "2026-01-01T00:00:00Z", "2026-01-01T00:16:01Z", 60,
                 "", "2026-01-01T00:15:00Z", 3, "2026-01-01T00:20:00Z"},
        // Irregular intervals (31st of the month): stepping, not a constant interval.
        PlanCase{"month_ends", "0 0 31 * *", "2026-01-01T00:00:00Z", "2026-06-15T00:00:00Z",
                 std::nullopt, "2026-05-31T00:00:00Z", "", 2, "2026-07-31T00:00:00Z"},
        // More than 100 missed: counted up to 101, and the latest still runs.
        PlanCase{"many_missed", "* * * * *", "2026-01-01T00:00:00Z", "2026-01-02T00:00:30Z",
                 std::nullopt, "2026-01-02T00:00:00Z", "", 101, "2026-01-02T00:01:00Z"},
        PlanCase{"many_missed_too_late", "* * * * *", "2026-01-01T00:00:00Z",
                 "2026-01-02T00:00:30Z", 10, "", "2026-01-02T00:00:00Z", 101,
                 "2026-01-02T00:01:00Z"}),
    [](const auto& param) { return std::string(param.param.name); });

TEST(RunNames, ScheduledNameIsDrillAndUnixMinutes) {
  EXPECT_EQ(scheduledRunName("nightly", at("2026-03-10T14:00:00Z")), "nightly-29552520");
  // Any second within the minute gives the same name.
  EXPECT_EQ(scheduledRunName("nightly", at("2026-03-10T14:00:59Z")), "nightly-29552520");
  EXPECT_EQ(scheduledRunName("nightly", at("2026-03-10T14:01:00Z")), "nightly-29552521");
}

TEST(RunNames, FitDnsLabelsForTheLongestDrillName) {
  const std::string drill(kMaxDrillNameLength, 'd');
  EXPECT_LE(scheduledRunName(drill, at("2099-12-31T23:59:00Z")).size(), 63u);
  EXPECT_LE(runNowRunName(drill, "some token").size(), 63u);
  EXPECT_LE(sandboxNamespaceName(std::string(63, 'n'), drill + "-12345678").size(), 63u);
  EXPECT_EQ(jobNameFor("short"), "short");
  const std::string longRun(100, 'r');
  EXPECT_EQ(jobNameFor(longRun).size(), 63u);
  EXPECT_EQ(jobNameFor(longRun), jobNameFor(longRun));
}

TEST(RunNames, RunNowNamesAreStablePerToken) {
  EXPECT_EQ(runNowRunName("d", "ticket-42"), runNowRunName("d", "ticket-42"));
  EXPECT_NE(runNowRunName("d", "ticket-42"), runNowRunName("d", "ticket-43"));
  EXPECT_EQ(runNowRunName("d", "ticket-42").rfind("d-now-", 0), 0u);
  // SHA-256 (FIPS 180-4 test vectors), pinned: a name must not change between versions.
  EXPECT_EQ(base::sha256Hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(base::sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // 16 hex digits of the hash, not a 24-bit one: colliding with a chosen run name means a
  // 2^64 search.
  const std::string name = runNowRunName("d", "ticket-42");
  EXPECT_EQ(name.size(), std::string("d-now-").size() + 16);
  EXPECT_EQ(name.substr(6), base::sha256Hex("d\nticket-42").substr(0, 16));
  // Two drills cut to the same prefix still get different run-now names.
  const std::string a(52, 'a');
  EXPECT_NE(runNowRunName(a + "", "t"), runNowRunName(a.substr(0, 51) + "b", "t"));
}

TEST(RunNames, SandboxDiffersPerNamespaceAndRun) {
  std::set<std::string> names = {sandboxNamespaceName("a", "x-1"), sandboxNamespaceName("b", "x-1"),
                                 sandboxNamespaceName("a", "x-2")};
  EXPECT_EQ(names.size(), 3u);
  EXPECT_EQ(sandboxNamespaceName("a", "x-1").rfind("relops-sandbox-", 0), 0u);
  EXPECT_EQ(sandboxNamespaceName("a", "x-1"),
            "relops-sandbox-" + base::sha256Hex("a/x-1").substr(0, 48));
  EXPECT_EQ(sandboxNamespaceName("a", "x-1").size(), 63u);
}

}  // namespace
}  // namespace relops::drill
