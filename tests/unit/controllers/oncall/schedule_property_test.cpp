// Property tests in the GoAlert style: walk a whole year in small steps in
// zones with unusual DST (a 30-minute change on Lord Howe, none in Kolkata)
// and check every instant against an oracle written independently of the
// engine: handoff instants come straight from date::time_zone::to_sys with
// choose::earliest (which maps a skipped time to the jump and a repeated one
// to its first occurrence), and the turn index is found by a plain sweep.
#include <date/tz.h>
#include <gtest/gtest.h>

#include <set>

#include "controllers/common/rfc3339.h"
#include "controllers/oncall/schedule.h"
#include "tests/unit/controllers/oncall/rotation_builder.h"

namespace relops::oncall {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::RotationBuilder;

const std::vector<std::string> kMembers = {"a", "b", "c"};

struct Shape {
  std::string start;  // local anchor
  std::string turn;
};

struct PropertyCase {
  std::string zone;
  Shape shape;
};

std::string caseName(const PropertyCase& c) {
  std::string name = c.zone + "_" + c.shape.start + "_" + c.shape.turn;
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

// The oracle's handoff instants: turn k starts at H(k).
class Oracle {
 public:
  Oracle(const std::string& zone, const Shape& shape) : zone_(date::locate_zone(zone)) {
    auto local = parseLocalTime(shape.start, "oracle");
    EXPECT_TRUE(local.ok());
    start_ = date::local_seconds(local->time_since_epoch());
    auto turn = parseDuration(shape.turn, "oracle", "mhdw");
    EXPECT_TRUE(turn.ok());
    turn_ = *turn;
  }

  Instant handoff(int64_t k) const {
    if (turn_.civil()) {
      const date::local_seconds local = start_ + days(k * turn_.days());
      return Instant(zone_->to_sys(local, date::choose::earliest).time_since_epoch());
    }
    const Instant first(zone_->to_sys(start_, date::choose::earliest).time_since_epoch());
    return first + k * turn_.nominal();
  }

  std::chrono::minutes localTimeOfDay(Instant t) const {
    const auto local = zone_->to_local(date::sys_seconds(t.time_since_epoch()));
    return std::chrono::floor<minutes>(local - date::floor<days>(local));
  }

 private:
  const date::time_zone* zone_;
  date::local_seconds start_;
  Duration turn_;
};

class YearOfHandoffs : public ::testing::TestWithParam<PropertyCase> {};

TEST_P(YearOfHandoffs, EveryInstantHasThePersonTheOrderSays) {
  const PropertyCase& c = GetParam();
  auto schedule = Schedule::compile(RotationBuilder(c.zone)
                                        .people({"a", "b", "c"})
                                        .layer("primary", kMembers, c.shape.start, c.shape.turn)
                                        .spec());
  ASSERT_TRUE(schedule.ok());
  const Oracle oracle(c.zone, c.shape);

  // One year from the first handoff.
  const Instant from = oracle.handoff(0);
  const Instant to = from + days(365);
  std::set<Instant> expected;
  for (int64_t k = 1; oracle.handoff(k) < to; ++k) expected.insert(oracle.handoff(k));

  const std::vector<Shift> shifts = schedule->shifts(from, to);
  ASSERT_FALSE(shifts.empty());
  EXPECT_EQ(shifts.front().start, from);
  EXPECT_EQ(shifts.back().end, to);
  std::set<Instant> handoffs;
  for (size_t i = 0; i < shifts.size(); ++i) {
    EXPECT_LT(shifts[i].start, shifts[i].end);
    if (i == 0) continue;
    // Never overlapping, never a hole: each shift starts where the last ended.
    EXPECT_EQ(shifts[i].start, shifts[i - 1].end) << caseName(c) << " shift " << i;
    EXPECT_NE(shifts[i].participant, shifts[i - 1].participant);
    handoffs.insert(shifts[i].start);
  }
  // Handoffs happen exactly at the expected instants, no more, no fewer.
  EXPECT_EQ(handoffs, expected) << caseName(c);

  // Every instant, stepping 7 min 13 s so the walk drifts across each hour.
  int64_t k = 0;
  size_t s = 0;
  int checked = 0;
  for (Instant t = from; t < to; t += minutes(7) + seconds(13), ++checked) {
    while (oracle.handoff(k + 1) <= t) ++k;
    while (s < shifts.size() && shifts[s].end <= t) ++s;
    ASSERT_LT(s, shifts.size());
    const std::string& want = kMembers[static_cast<size_t>(k % 3)];
    ASSERT_EQ(shifts[s].participant, want) << caseName(c) << " at " << common::formatRfc3339(t);
    if (checked % 997 == 0) {
      ASSERT_EQ(schedule->shiftAt(t).participant, want) << common::formatRfc3339(t);
      ASSERT_EQ(schedule->turnAt(0, t).index, k) << common::formatRfc3339(t);
    }
  }
  EXPECT_GT(checked, 70000);
}

std::vector<PropertyCase> cases() {
  const std::vector<std::string> zones = {"America/New_York", "Europe/Berlin",
                                          "Australia/Lord_Howe", "Asia/Kolkata"};
  const std::vector<Shape> shapes = {
      {"2026-01-01T09:00:00", "1d"},  // the classic daily handoff
      {"2026-01-01T02:15:00", "1d"},  // skipped on spring-forward nights (NY, Berlin, Lord Howe)
      {"2026-01-01T01:45:00", "1d"},  // repeated on fall-back nights (NY, Lord Howe)
      {"2026-01-01T02:45:00", "1d"},  // repeated in Berlin, skipped in New York
      {"2026-01-05T09:00:00", "1w"},  // weekly
      {"2026-01-01T00:00:00", "7h"},  // absolute turns that drift over the wall clock
      {"2025-12-31T23:30:00", "2d"},
  };
  std::vector<PropertyCase> out;
  for (const std::string& zone : zones) {
    for (const Shape& shape : shapes) out.push_back({zone, shape});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Zones, YearOfHandoffs, ::testing::ValuesIn(cases()),
                         [](const auto& caseInfo) { return caseName(caseInfo.param); });

class YearOfRestrictions : public ::testing::TestWithParam<std::string> {};

// An overnight restriction (22:00-06:00 every day) masks a daily rotation;
// the rotation order runs on underneath, so whoever is on call at night is
// the person whose daily turn it is.
TEST_P(YearOfRestrictions, MaskedLayerKeepsItsOrder) {
  const std::string zone = GetParam();
  const Shape shape{"2026-01-01T09:00:00", "1d"};
  auto schedule = Schedule::compile(RotationBuilder(zone)
                                        .people({"a", "b", "c"})
                                        .layer("nights", kMembers, shape.start, shape.turn)
                                        .restrict({}, "22:00", "06:00")
                                        .spec());
  ASSERT_TRUE(schedule.ok());
  const Oracle oracle(zone, shape);
  const Instant from = oracle.handoff(0);
  const Instant to = from + days(365);
  const std::vector<Shift> shifts = schedule->shifts(from, to);
  for (size_t i = 1; i < shifts.size(); ++i) ASSERT_LE(shifts[i - 1].end, shifts[i].start);

  int64_t k = 0;
  size_t s = 0;
  for (Instant t = from; t < to; t += minutes(11) + seconds(7)) {
    while (oracle.handoff(k + 1) <= t) ++k;
    while (s < shifts.size() && shifts[s].end <= t) ++s;
    const bool covered = s < shifts.size() && shifts[s].start <= t;
    const minutes local = oracle.localTimeOfDay(t);
    const bool night = local >= hours(22) || local < hours(6);
    ASSERT_EQ(covered, night) << zone << " at " << common::formatRfc3339(t);
    if (covered) {
      ASSERT_EQ(shifts[s].participant, kMembers[static_cast<size_t>(k % 3)])
          << zone << " at " << common::formatRfc3339(t);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Zones, YearOfRestrictions,
                         ::testing::Values("America/New_York", "Europe/Berlin",
                                           "Australia/Lord_Howe", "Asia/Kolkata"),
                         [](const auto& caseInfo) {
                           std::string name = caseInfo.param;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace relops::oncall
