// The streamed engine against the materialized one it replaced
// (schedule_oracle.h): the same shifts, layer shifts, gaps, open shifts,
// handoffs, active flags and load, on every rotation the other oncall tests
// use and on a few hundred random ones across DST changes.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <random>
#include <sstream>

#include "controllers/common/rfc3339.h"
#include "controllers/common/yaml_json.h"
#include "controllers/oncall/load.h"
#include "controllers/oncall/schedule.h"
#include "tests/unit/controllers/oncall/rotation_builder.h"
#include "tests/unit/controllers/oncall/schedule_oracle.h"

namespace relops::oncall {

// gtest prints these in failure messages.
void PrintTo(const Shift& shift, std::ostream* out) {
  *out << "{" << common::formatRfc3339(shift.start) << " " << common::formatRfc3339(shift.end)
       << " " << shift.participant << " " << shift.layer << "}";
}
void PrintTo(const Interval& interval, std::ostream* out) {
  *out << "{" << common::formatRfc3339(interval.start) << " " << common::formatRfc3339(interval.end)
       << "}";
}
void PrintTo(const Handoff& handoff, std::ostream* out) {
  *out << "{" << common::formatRfc3339(handoff.time) << " " << handoff.from << " -> " << handoff.to
       << "}";
}

namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::at;
using testing::ScheduleOracle;

std::string show(const std::optional<Instant>& t) { return t ? common::formatRfc3339(*t) : "-"; }

// Everything the engine answers, streamed and by the oracle, over [from, to)
// and at each probe.
void expectSameAsOracle(const Schedule& schedule, const ScheduleOracle& oracle, Instant from,
                        Instant to, const std::vector<Instant>& probes) {
  SCOPED_TRACE("window " + common::formatRfc3339(from) + " .. " + common::formatRfc3339(to));
  EXPECT_EQ(schedule.shifts(from, to), oracle.shifts(from, to));
  EXPECT_EQ(schedule.gaps(from, to), oracle.gaps(from, to));
  for (size_t layer = 0; layer < schedule.layerCount(); ++layer) {
    EXPECT_EQ(schedule.layerShifts(layer, from, to), oracle.layerShifts(layer, from, to))
        << "layer " << layer;
  }
  const std::vector<ParticipantLoad> streamed = computeLoad(schedule, from, to);
  const std::vector<ParticipantLoad> expected = oracle.computeLoad(from, to);
  ASSERT_EQ(streamed.size(), expected.size());
  for (size_t i = 0; i < streamed.size(); ++i) {
    EXPECT_EQ(streamed[i].participant, expected[i].participant);
    EXPECT_EQ(streamed[i].onCall, expected[i].onCall) << expected[i].participant;
    EXPECT_EQ(streamed[i].offHours, expected[i].offHours) << expected[i].participant;
    EXPECT_EQ(streamed[i].weekend, expected[i].weekend) << expected[i].participant;
  }
  for (const Instant t : probes) {
    SCOPED_TRACE("at " + common::formatRfc3339(t));
    const OpenShift got = schedule.shiftAt(t);
    const OpenShift want = oracle.shiftAt(t);
    EXPECT_EQ(got.participant, want.participant);
    EXPECT_EQ(got.layer, want.layer);
    EXPECT_EQ(show(got.start), show(want.start));
    EXPECT_EQ(show(got.end), show(want.end));
    EXPECT_EQ(schedule.nextHandoff(t), oracle.nextHandoff(t));
    for (size_t layer = 0; layer < schedule.layerCount(); ++layer) {
      EXPECT_EQ(schedule.turnAt(layer, t).active, oracle.layerActiveAt(layer, t))
          << "layer " << layer;
    }
  }
}

// ---------------------------------------------------------------------------
// (a) The rotations of the other oncall tests and the examples under crds/.

struct Fixture {
  std::string name;
  std::string spec;    // YAML (flow style) of .spec, or "@<example name>"
  int spanDays = 400;  // the window compared
  // Its start. The oracle lists every turn of every layer over the window of
  // each question, and shiftAt() searches two years around a gap before a
  // layer starts: minute turns are compared where they run.
  std::string from = "2025-12-01T00:00:00Z";
};

// ctest lists the case by its name rather than its bytes.
void PrintTo(const Fixture& fixture, std::ostream* out) { *out << fixture.name; }

Spec fixtureSpec(const Fixture& fixture) {
  std::string text = fixture.spec;
  if (text.front() == '@') {
    std::ifstream in(std::string(RELOPS_SOURCE_DIR) + "/crds/examples/oncallrotation-" +
                     text.substr(1) + ".yaml");
    std::stringstream content;
    content << in.rdbuf();
    text = content.str();
  }
  auto documents = common::parseYamlDocuments(text);
  EXPECT_TRUE(documents.ok() && !documents->empty()) << fixture.name;
  if (!documents.ok() || documents->empty()) return {};
  const nlohmann::json& document = documents->front();
  auto spec = parseSpec(document.contains("spec") ? document["spec"] : document);
  EXPECT_TRUE(spec.ok()) << fixture.name << ": " << (spec.ok() ? "" : spec.error().describe());
  return spec.ok() ? *spec : Spec{};
}

// One layer's YAML: {name, members, start, turnLength} and optional extra keys.
std::string layer(const std::string& name, const std::string& members, const std::string& start,
                  const std::string& turn, const std::string& extra = "") {
  return "{name: " + name + ", members: [" + members + "], start: \"" + start +
         "\", turnLength: " + turn + (extra.empty() ? "" : ", " + extra) + "}";
}

std::string rotation(const std::string& zone, const std::string& people,
                     const std::vector<std::string>& layers, const std::string& extra = "") {
  std::string out = "{timeZone: " + zone + ", participants: [";
  std::stringstream names(people);
  std::string name;
  for (bool first = true; std::getline(names, name, ','); first = false) {
    out += (first ? "{name: " : ", {name: ") + name + "}";
  }
  out += "], layers: [";
  for (size_t i = 0; i < layers.size(); ++i) out += (i ? ", " : "") + layers[i];
  return out + "]" + (extra.empty() ? "" : ", " + extra) + "}";
}

std::vector<Fixture> fixtures() {
  std::vector<Fixture> out = {
      {"ExamplePayments", "@payments"},
      {"ExampleFollowTheSun", "@follow-the-sun"},
      {"ExampleMinimal", "@minimal"},
      {"RotationOrder",
       rotation("UTC", "a,b,c", {layer("p", "a,b,c", "2026-01-05T09:00:00", "1w")})},
      {"AnchorInThePast",
       rotation("UTC", "a,b,c", {layer("p", "a,b,c", "2020-01-01T00:00:00", "1d")})},
      {"AnchorInTheFuture",
       rotation("Europe/Berlin", "a,b", {layer("p", "a,b", "2026-06-01T09:00:00", "1d")})},
      {"LaterLayerWins", rotation("UTC", "a,b,w",
                                  {layer("primary", "a,b", "2026-01-05T09:00:00", "1w"),
                                   layer("weekend", "w", "2026-01-03T00:00:00", "1d",
                                         "restrictions: [{days: [Sat, Sun]}]")})},
      {"OvernightRestriction",
       rotation("America/New_York", "a,b",
                {layer("nights", "a,b", "2026-01-05T18:00:00", "1w",
                       "restrictions: [{days: [Fri], from: \"18:00\", to: \"09:00\"}]")})},
      {"RestrictionsMaskWithoutPausing",
       rotation("UTC", "a,b,c",
                {layer("day", "a,b,c", "2026-01-05T00:00:00", "1d",
                       "restrictions: [{days: [Mon, Tue, Wed, Thu, Fri]}]")})},
      {"OverrideAcrossAHandoff",
       rotation("America/New_York", "a,b,x", {layer("primary", "a,b", "2026-01-05T09:00:00", "1d")},
                "overrides: [{participant: x, start: \"2026-01-06T06:00:00\", "
                "end: \"2026-01-06T12:00:00\"}]")},
      {"LaterOverrideWins",
       rotation("UTC", "a,x,y", {layer("primary", "a", "2026-01-01T00:00:00", "1w")},
                "overrides: [{participant: x, start: \"2026-01-06T10:00:00+01:00\", "
                "end: \"2026-01-06T14:00:00+01:00\"}, {participant: y, "
                "start: \"2026-01-06T10:00:00Z\", end: \"2026-01-06T11:00:00Z\"}]")},
      {"SameMemberTurnsMerge",
       rotation("UTC", "solo", {layer("only", "solo", "2026-01-01T00:00:00", "1h")})},
      {"DayRestriction", rotation("UTC", "a",
                                  {layer("day", "a", "2026-01-01T00:00:00", "1d",
                                         "restrictions: [{from: \"08:00\", to: \"20:00\"}]")})},
      {"RestrictionAndOverrideEdges",
       rotation("UTC", "a,b",
                {layer("day", "a,b", "2026-01-01T00:00:00", "1w",
                       "restrictions: [{from: \"08:00\", to: \"20:00\"}]")},
                "overrides: [{participant: b, start: \"2026-01-05T09:00:00Z\", "
                "end: \"2026-01-05T10:00:00Z\"}]")},
      {"LocalMidnight",
       rotation("America/New_York", "a", {layer("l", "a", "2026-01-01T00:00:00", "1d")})},
      {"DecideDaily", rotation("America/New_York", "a,b,c",
                               {layer("primary", "a,b,c", "2026-01-05T09:00:00", "1d")},
                               "horizon: 1w, fairness: {lookBack: 1w, allowedImbalance: \"50\"}")},
      {"DecideDailyCovered",
       rotation("America/New_York", "a,b,c",
                {layer("primary", "a,b,c", "2026-01-05T09:00:00", "1d")},
                "overrides: [{participant: c, start: \"2026-01-06T12:00:00\", "
                "end: \"2026-01-06T13:00:00\"}]")},
      {"DecideBusinessHours",
       rotation("Europe/Berlin", "a,b",
                {layer("day", "a,b", "2026-01-05T08:00:00", "1d",
                       "restrictions: [{days: [Mon, Tue, Wed, Thu, Fri], from: \"08:00\", "
                       "to: \"18:00\"}]")})},
      {"DecideLopsided", rotation("UTC", "a,b",
                                  {layer("week", "a", "2026-01-05T00:00:00", "1w"),
                                   layer("weekend", "b", "2026-01-03T00:00:00", "1w",
                                         "restrictions: [{days: [Sat, Sun]}]")})},
      {"DecideGrown", rotation("America/New_York", "a,b,c,d",
                               {layer("primary", "d,a,b,c", "2026-01-05T09:00:00", "1d")})},
      {"DecideTwoMinuteTurns",
       rotation("UTC", "a,b", {layer("l", "a,b", "2026-01-05T09:00:00", "2m")}), 10,
       "2026-01-05T09:00:00Z"},
      {"IcalGolden", rotation("America/New_York", "alice,bob,dave",
                              {layer("primary", "alice,bob", "2026-03-02T09:00:00", "1d")},
                              "overrides: [{participant: dave, start: \"2026-03-09T12:00:00\", "
                              "end: \"2026-03-09T15:00:00\"}]")},
      {"RotationStateWeekly",
       rotation("UTC", "a,b,c,d", {layer("primary", "a,b,c", "2026-01-05T09:00:00", "1w")})},
      {"RotationStateReanchored",
       rotation("UTC", "a,b,c,d", {layer("primary", "a,b,c", "2026-02-23T09:00:00", "1w")})},
      {"LoadBerlinWeekly",
       rotation("Europe/Berlin", "a", {layer("l", "a", "2026-01-01T00:00:00", "1w")})},
  };
  // The turn shapes of the DST table and the year-long property tests.
  const std::vector<std::pair<std::string, std::string>> shapes = {
      {"2026-01-01T09:00:00", "1d"},  {"2026-01-01T02:15:00", "1d"}, {"2026-01-01T01:45:00", "1d"},
      {"2026-01-01T02:45:00", "1d"},  {"2026-01-05T09:00:00", "1w"}, {"2026-01-01T00:00:00", "7h"},
      {"2025-12-31T23:30:00", "2d"},  {"2026-01-01T02:30:00", "1d"}, {"2026-01-01T01:30:00", "1d"},
      {"2026-03-07T20:00:00", "12h"}, {"2026-01-01T10:00:00", "1d"}};
  int n = 0;
  for (const std::string zone :
       {"America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata"}) {
    for (const auto& [start, turn] : shapes) {
      out.push_back({"Shape" + std::to_string(n++),
                     rotation(zone, "a,b,c", {layer("primary", "a,b,c", start, turn)})});
    }
    out.push_back({"Nights" + std::to_string(n++),
                   rotation(zone, "a,b,c",
                            {layer("nights", "a,b,c", "2026-01-01T09:00:00", "1d",
                                   "restrictions: [{from: \"22:00\", to: \"06:00\"}]")})});
  }
  // decide_test's largest rotations: ten layers of two members.
  for (const auto& [turn, span] : {std::pair{"1m", 2}, std::pair{"1d", 400}}) {
    std::vector<std::string> layers;
    for (int i = 0; i < 10; ++i) {
      layers.push_back(layer("l" + std::to_string(i), "a,b", "2026-01-01T00:00:00", turn));
    }
    out.push_back({std::string("TenLayers") + turn, rotation("UTC", "a,b", layers), span,
                   "2026-01-01T00:00:00Z"});
  }
  return out;
}

class FixtureMatchesOracle : public ::testing::TestWithParam<Fixture> {};

TEST_P(FixtureMatchesOracle, SameScheduleLoadAndAnswers) {
  const Fixture& fixture = GetParam();
  const Spec spec = fixtureSpec(fixture);
  auto schedule = Schedule::compile(spec);
  ASSERT_TRUE(schedule.ok()) << schedule.error().describe();
  const ScheduleOracle oracle(*schedule);
  const Instant from = at(fixture.from);
  const seconds span = days(fixture.spanDays);
  const Instant to = from + span;
  std::vector<Instant> probes;
  // A step that drifts across the hours of the day and the days of the week.
  const int count = std::min(40, 4 * fixture.spanDays);
  for (Instant t = from; t < to; t += span / count + seconds(37)) probes.push_back(t);
  expectSameAsOracle(*schedule, oracle, from, to, probes);
  // Windows that start and end mid-turn.
  for (Instant start = from + hours(13) + minutes(7); start < to; start += span / 5) {
    expectSameAsOracle(*schedule, oracle, start,
                       start + std::min(span, seconds(days(9))) + hours(5), {});
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FixtureMatchesOracle, ::testing::ValuesIn(fixtures()),
                         [](const auto& caseInfo) { return caseInfo.param.name; });

// ---------------------------------------------------------------------------
// (b) Random rotations.

// Zones with a DST change of an hour (both hemispheres, a negative one in
// Dublin), of 30 minutes (Lord Howe), at 00:00 (Santiago, Havana), and none.
const std::vector<std::string> kZones = {
    "America/New_York", "Europe/Berlin",    "Australia/Lord_Howe",
    "Europe/Dublin",    "America/Santiago", "America/Havana",
    "Pacific/Chatham",  "Asia/Kolkata",     "UTC",
    "Australia/Sydney"};

class RandomRotation {
 public:
  explicit RandomRotation(uint32_t seed) : random_(seed) {}

  int uniform(int low, int high) { return std::uniform_int_distribution<int>(low, high)(random_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(random_); }

  // A local or absolute instant between 2025-06 and 2027-06; local times
  // favour the small hours, where DST changes happen.
  Instant instant() { return at("2025-06-01T00:00:00Z") + minutes(uniform(0, 2 * 365 * 24 * 60)); }
  std::string localText(Instant t) {
    std::string text = common::formatRfc3339(t);
    text.pop_back();  // no "Z": a civil time
    if (chance(0.5)) text.replace(11, 2, "0" + std::to_string(uniform(0, 3)));
    return text;
  }
  std::string timeOfDay() {
    const int hour = chance(0.4) ? uniform(0, 3) : uniform(0, 23);
    char text[6];
    std::snprintf(text, sizeof text, "%02d:%02d", hour, 15 * uniform(0, 3));
    return text;
  }

  nlohmann::json spec() {
    nlohmann::json spec = {{"timeZone", kZones[uniform(0, kZones.size() - 1)]}};
    const int people = uniform(1, 5);
    for (int i = 0; i < people; ++i) spec["participants"].push_back({{"name", name(i)}});
    const int layers = uniform(1, 4);
    for (int l = 0; l < layers; ++l) {
      nlohmann::json layer = {{"name", "l" + std::to_string(l)}, {"start", localText(instant())}};
      const int members = uniform(1, 4);
      for (int m = 0; m < members; ++m) layer["members"].push_back(name(uniform(0, people - 1)));
      layer["turnLength"] = turnLength();
      if (chance(0.4)) {
        for (int r = uniform(1, 3); r > 0; --r) layer["restrictions"].push_back(restriction());
      }
      spec["layers"].push_back(std::move(layer));
    }
    for (int o = uniform(0, 3); o > 0; --o) {
      const Instant start = instant();
      const Instant end = start + minutes(uniform(30, 3 * 24 * 60));
      const bool local = chance(0.5);
      spec["overrides"].push_back(
          {{"participant", name(uniform(0, people - 1))},
           {"start", local ? localText(start) : common::formatRfc3339(start)},
           {"end", local ? localText(end) : common::formatRfc3339(end)}});
      // Two local times may come out in the wrong order; keep them apart.
      if (local && spec["overrides"].back()["end"] <= spec["overrides"].back()["start"]) {
        spec["overrides"].erase(spec["overrides"].size() - 1);
      }
    }
    return spec;
  }

 private:
  static std::string name(int i) { return std::string(1, static_cast<char>('a' + i)); }

  std::string turnLength() {
    switch (uniform(0, 9)) {
      case 0:
        return std::to_string(uniform(30, 720)) + "m";
      case 1:
      case 2:
      case 3:
        return std::to_string(uniform(1, 48)) + "h";
      case 4:
      case 5:
      case 6:
        return std::to_string(uniform(1, 4)) + "d";
      default:
        return std::to_string(uniform(1, 2)) + "w";
    }
  }

  nlohmann::json restriction() {
    nlohmann::json out = nlohmann::json::object();
    static constexpr const char* kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    for (const char* day : kDays) {
      if (chance(0.4)) out["days"].push_back(day);
    }
    if (!out.contains("days") || chance(0.6)) {
      out["from"] = timeOfDay();
      do {
        out["to"] = timeOfDay();
      } while (out["to"] == out["from"]);
    }
    return out;
  }

  std::mt19937 random_;
};

TEST(StreamMatchesOracle, RandomRotationsAcrossDstChanges) {
  // RELOPS_ORACLE_SEED replays a run; each rotation's own seed is printed
  // with any failure.
  const char* fromEnv = std::getenv("RELOPS_ORACLE_SEED");
  const uint32_t base =
      fromEnv ? static_cast<uint32_t>(std::strtoul(fromEnv, nullptr, 10)) : 20261206;
  constexpr int kRotations = 300;
  int compared = 0;
  for (int i = 0; i < kRotations; ++i) {
    const uint32_t seed = base + static_cast<uint32_t>(i);
    RandomRotation random(seed);
    const nlohmann::json json = random.spec();
    SCOPED_TRACE("seed " + std::to_string(seed) + " (RELOPS_ORACLE_SEED=" + std::to_string(base) +
                 ", rotation " + std::to_string(i) + "): " + json.dump());
    auto spec = parseSpec(json);
    ASSERT_TRUE(spec.ok()) << spec.error().describe();
    std::vector<int64_t> offsets;
    for (size_t l = 0; l < spec->layers.size(); ++l) offsets.push_back(random.uniform(-5, 5));
    auto schedule = Schedule::compile(*spec, offsets);
    ASSERT_TRUE(schedule.ok()) << schedule.error().describe();
    const ScheduleOracle oracle(*schedule, offsets);
    for (int w = 0; w < 2; ++w) {
      const Instant from = random.instant() + seconds(random.uniform(0, 59));
      const Instant to = from + minutes(random.uniform(1, 60 * 24 * 100));
      std::vector<Instant> probes;
      for (int p = 0; p < 3; ++p) probes.push_back(from + (to - from) * p / 3);
      expectSameAsOracle(*schedule, oracle, from, to, probes);
    }
    if (::testing::Test::HasFailure()) return;  // the first failing rotation is enough
    ++compared;
  }
  EXPECT_EQ(compared, kRotations);
}

}  // namespace
}  // namespace relops::oncall
