// Events: the series and rate-limit bookkeeping as pure logic, then the
// asynchronous recorder writing through the FakeClient.
#include "operator/runtime/event_recorder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "operator/runtime/metrics.h"
#include "tests/support/fake_client.h"
#include "tests/support/fake_clock.h"

namespace relops::runtime {
namespace {

using namespace std::chrono_literals;
using relops::testing::FakeClient;
using relops::testing::FakeClock;
using std::chrono::steady_clock;
using std::chrono::system_clock;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;
namespace resources = kube::resources;

// 2024-03-10T07:00:00Z
const system_clock::time_point kWall = system_clock::time_point{} + 1710054000s;
const steady_clock::time_point kT0 = steady_clock::time_point{} + 1000s;

ObjectReference rotation(std::string name = "primary") {
  return {"relops.dev/v1alpha1", "OnCallRotation", "team-a", std::move(name), "uid-7", "42"};
}

Event handoff(std::string note = "alice handed off to bob",
              ObjectReference regarding = rotation()) {
  return {std::move(regarding), EventType::kNormal, "Handoff", "Rotate", std::move(note)};
}

EventRecorderOptions options() {
  EventRecorderOptions result;
  result.reportingInstance = "relops-7d9f-abcde";
  return result;
}

TEST(MicroTime, FormatsWithSixFractionalDigitsInUtc) {
  EXPECT_EQ(formatMicroTime(kWall), "2024-03-10T07:00:00.000000Z");
  EXPECT_EQ(formatMicroTime(kWall + 1234567us), "2024-03-10T07:00:01.234567Z");
  EXPECT_EQ(formatMicroTime(kWall + 999ns), "2024-03-10T07:00:00.000000Z");
}

TEST(ObjectReference, FromObject) {
  const nlohmann::json object = {
      {"apiVersion", "relops.dev/v1alpha1"},
      {"kind", "DRDrill"},
      {"metadata",
       {{"namespace", "dr"}, {"name", "nightly"}, {"uid", "u"}, {"resourceVersion", "9"}}}};
  const ObjectReference ref = ObjectReference::fromObject(object);
  EXPECT_EQ(ref, (ObjectReference{"relops.dev/v1alpha1", "DRDrill", "dr", "nightly", "u", "9"}));
  EXPECT_EQ(ref.toJson()["kind"], "DRDrill");
  EXPECT_FALSE(ObjectReference{}.toJson().contains("namespace"));
}

TEST(EventCorrelator, FirstOccurrenceCreatesAnEvent) {
  EventCorrelator correlator(options());
  auto outcome = correlator.observe(handoff(), kT0, kWall);
  ASSERT_EQ(outcome.writes.size(), 1u);
  const EventWrite& write = outcome.writes[0];
  EXPECT_EQ(write.kind, EventWrite::Kind::kCreate);
  EXPECT_EQ(write.namespace_, "team-a");
  const nlohmann::json& event = write.event;
  EXPECT_EQ(event["apiVersion"], "events.k8s.io/v1");
  EXPECT_EQ(event["kind"], "Event");
  EXPECT_EQ(event["metadata"]["namespace"], "team-a");
  // client-go's name: "<regarding name>.<hex UnixNano>".
  EXPECT_EQ(event["metadata"]["name"], "primary.17bb550d80bc6000");
  EXPECT_EQ(write.name, event["metadata"]["name"]);
  EXPECT_EQ(event["eventTime"], "2024-03-10T07:00:00.000000Z");
  EXPECT_EQ(event["reportingController"], "relops.dev/relops");
  EXPECT_EQ(event["reportingInstance"], "relops-7d9f-abcde");
  EXPECT_EQ(event["type"], "Normal");
  EXPECT_EQ(event["reason"], "Handoff");
  EXPECT_EQ(event["action"], "Rotate");
  EXPECT_EQ(event["note"], "alice handed off to bob");
  EXPECT_EQ(event["regarding"], rotation().toJson());
  EXPECT_FALSE(event.contains("series"));
}

TEST(EventCorrelator, ClusterScopedObjectsReportIntoDefault) {
  EventCorrelator correlator(options());
  ObjectReference ns{"v1", "Namespace", "", "team-a", "uid-1", ""};
  auto outcome = correlator.observe(handoff("x", ns), kT0, kWall);
  ASSERT_EQ(outcome.writes.size(), 1u);
  EXPECT_EQ(outcome.writes[0].namespace_, "default");
  EXPECT_FALSE(outcome.writes[0].event["regarding"].contains("namespace"));
}

TEST(EventCorrelator, EventNamesStayUniqueAndValid) {
  EventCorrelator correlator(options());
  auto first = correlator.observe(handoff("one"), kT0, kWall);
  auto second = correlator.observe(handoff("two"), kT0, kWall);  // same instant
  EXPECT_NE(first.writes[0].name, second.writes[0].name);
  auto longName = correlator.observe(handoff("x", rotation(std::string(253, 'n'))), kT0, kWall);
  EXPECT_LE(longName.writes[0].name.size(), 253u);
}

TEST(EventCorrelator, RepeatWithinSixMinutesPatchesTheSeries) {
  EventCorrelator correlator(options());
  auto first = correlator.observe(handoff(), kT0, kWall);
  auto second = correlator.observe(handoff(), kT0 + 30s, kWall + 30s);
  ASSERT_EQ(second.writes.size(), 1u);
  const EventWrite& patch = second.writes[0];
  EXPECT_EQ(patch.kind, EventWrite::Kind::kPatchSeries);
  EXPECT_EQ(patch.name, first.writes[0].name);
  EXPECT_EQ(patch.patch,
            nlohmann::json::parse(
                R"({"series":{"count":2,"lastObservedTime":"2024-03-10T07:00:30.000000Z"}})"));
  EXPECT_EQ(patch.event["series"]["count"], 2);  // for re-creating a deleted Event

  auto third = correlator.observe(handoff(), kT0 + 5min, kWall + 5min);
  ASSERT_EQ(third.writes.size(), 1u);
  EXPECT_EQ(third.writes[0].patch["series"]["count"], 3);
  EXPECT_EQ(correlator.trackedSeries(), 1u);
}

TEST(EventCorrelator, DifferentNoteReasonOrTypeIsAnotherEvent) {
  EventCorrelator correlator(options());
  correlator.observe(handoff("alice handed off to bob"), kT0, kWall);
  auto otherNote = correlator.observe(handoff("bob handed off to carol"), kT0 + 1s, kWall);
  EXPECT_EQ(otherNote.writes[0].kind, EventWrite::Kind::kCreate);
  Event warning = handoff();
  warning.type = EventType::kWarning;
  EXPECT_EQ(correlator.observe(warning, kT0 + 2s, kWall).writes[0].kind, EventWrite::Kind::kCreate);
  Event otherObject = handoff("alice handed off to bob", rotation("secondary"));
  EXPECT_EQ(correlator.observe(otherObject, kT0 + 3s, kWall).writes[0].kind,
            EventWrite::Kind::kCreate);
  // The regarding object's resourceVersion changes with every status write;
  // it must not break a series.
  Event newerVersion = handoff();
  newerVersion.regarding.resourceVersion = "43";
  EXPECT_EQ(correlator.observe(newerVersion, kT0 + 4s, kWall).writes[0].kind,
            EventWrite::Kind::kPatchSeries);
}

TEST(EventCorrelator, RepeatAfterTheWindowStartsANewEvent) {
  EventCorrelator correlator(options());
  auto first = correlator.observe(handoff(), kT0, kWall);
  auto later = correlator.observe(handoff(), kT0 + 6min, kWall + 6min);
  ASSERT_EQ(later.writes.size(), 1u);
  EXPECT_EQ(later.writes[0].kind, EventWrite::Kind::kCreate);
  EXPECT_NE(later.writes[0].name, first.writes[0].name);
}

TEST(EventCorrelator, RateLimitsPerObjectWithBurst25AndOnePerFiveMinutes) {
  EventCorrelator correlator(options());
  for (int i = 0; i < 25; ++i) {
    auto outcome = correlator.observe(handoff("note " + std::to_string(i)), kT0 + i * 1s, kWall);
    ASSERT_EQ(outcome.writes.size(), 1u) << i;
    EXPECT_FALSE(outcome.dropped);
  }
  auto dropped = correlator.observe(handoff("note 25"), kT0 + 26s, kWall);
  EXPECT_TRUE(dropped.dropped);
  EXPECT_TRUE(dropped.writes.empty());

  // Other objects have their own bucket.
  auto other = correlator.observe(handoff("x", rotation("secondary")), kT0 + 26s, kWall);
  EXPECT_EQ(other.writes.size(), 1u);

  // A token comes back every 5 minutes (from the last refill).
  EXPECT_TRUE(correlator.observe(handoff("note 26"), kT0 + 4min, kWall).dropped);
  EXPECT_FALSE(correlator.observe(handoff("note 27"), kT0 + 26s + 5min, kWall).dropped);
  EXPECT_TRUE(correlator.observe(handoff("note 28"), kT0 + 26s + 5min, kWall).dropped);
}

TEST(EventCorrelator, RateLimitedRepeatsAreCountedAndWrittenWhenTheSeriesEnds) {
  EventRecorderOptions limited = options();
  limited.spamBurst = 2;
  EventCorrelator correlator(limited);
  EXPECT_EQ(correlator.observe(handoff(), kT0, kWall).writes[0].kind, EventWrite::Kind::kCreate);
  EXPECT_EQ(correlator.observe(handoff(), kT0 + 1s, kWall + 1s).writes.size(), 1u);  // count 2
  for (int i = 2; i <= 5; ++i) {
    auto outcome = correlator.observe(handoff(), kT0 + i * 1s, kWall + i * 1s);
    EXPECT_TRUE(outcome.coalesced);
    EXPECT_FALSE(outcome.dropped);
    EXPECT_TRUE(outcome.writes.empty());
  }
  EXPECT_TRUE(correlator.expire(kT0 + 5s + 5min).empty()) << "the series is still going";
  auto final = correlator.expire(kT0 + 5s + 6min);
  ASSERT_EQ(final.size(), 1u);
  EXPECT_EQ(final[0].patch["series"]["count"], 6);
  EXPECT_EQ(final[0].patch["series"]["lastObservedTime"], "2024-03-10T07:00:05.000000Z");
  EXPECT_EQ(correlator.trackedSeries(), 0u);
}

TEST(EventCorrelator, ExpireForgetsWrittenSeriesQuietly) {
  EventCorrelator correlator(options());
  correlator.observe(handoff(), kT0, kWall);
  correlator.observe(handoff(), kT0 + 1s, kWall);
  EXPECT_TRUE(correlator.expire(kT0 + 1s + 6min).empty()) << "count 2 was already written";
  EXPECT_EQ(correlator.trackedSeries(), 0u);
}

TEST(EventCorrelator, ExpireAllEndsEverySeries) {
  EventRecorderOptions limited = options();
  limited.spamBurst = 1;
  EventCorrelator correlator(limited);
  correlator.observe(handoff(), kT0, kWall);
  correlator.observe(handoff(), kT0 + 1s, kWall);  // coalesced: no token
  auto final = correlator.expire(kT0 + 2s, true);
  ASSERT_EQ(final.size(), 1u);
  EXPECT_EQ(final[0].patch["series"]["count"], 2);
}

TEST(EventCorrelator, TrackedObjectsAndSeriesAreBounded) {
  EventRecorderOptions small = options();
  small.maxTrackedObjects = 3;
  small.maxTrackedSeries = 3;
  EventCorrelator correlator(small);
  for (int i = 0; i < 10; ++i) {
    correlator.observe(handoff("x", rotation("r" + std::to_string(i))), kT0 + i * 1s, kWall);
  }
  EXPECT_LE(correlator.trackedObjects(), 3u);
  EXPECT_LE(correlator.trackedSeries(), 3u);
}

TEST(EventCorrelator, NoteIsTruncatedTo1KiBOnACharacterBoundary) {
  EventCorrelator correlator(options());
  std::string note(1020, 'a');
  note += "ééééé";  // two bytes each: byte 1024 falls inside one
  auto outcome = correlator.observe(handoff(note), kT0, kWall);
  const std::string written = outcome.writes[0].event["note"];
  EXPECT_LE(written.size(), kMaxEventNoteBytes);
  EXPECT_THAT(written, ::testing::EndsWith("..."));
  EXPECT_EQ(EventCorrelator::truncate("short", 1024), "short");
  EXPECT_EQ(EventCorrelator::truncate("abcdéfgh", 8), "abcd...");
  EXPECT_EQ(EventCorrelator::truncate(std::string(200, 'r'), 128).size(), 128u);
}

// --- the recorder ---

class KubeEventRecorderTest : public ::testing::Test {
 protected:
  std::vector<nlohmann::json> events() const { return client_.objects(resources::kEvents, ""); }
  double dropped(const std::string& reason) {
    return registry_.counter("relops_events_dropped_total", "", {"reason"}).with({reason}).value();
  }

  FakeClock clock_{kWall};
  FakeClient client_{&clock_};
  Registry registry_{Registry::ProcessMetrics::kExclude};
};

TEST_F(KubeEventRecorderTest, WritesEventsAsynchronously) {
  KubeEventRecorder recorder(client_, clock_, options(), &registry_);
  recorder.normal(rotation(), "Handoff", "Rotate", "alice handed off to bob");
  recorder.warning(rotation(), "CoverageGap", "Compute", "no one on call Saturday 02:00-06:00");
  recorder.flush();
  const auto written = events();
  ASSERT_EQ(written.size(), 2u);
  for (const auto& event : written) {
    EXPECT_EQ(event["metadata"]["namespace"], "team-a");
    EXPECT_EQ(event["reportingController"], "relops.dev/relops");
  }
  EXPECT_EQ(client_.actions("create", resources::kEvents).size(), 2u);
}

TEST_F(KubeEventRecorderTest, RepeatBumpsTheSeriesOnTheExistingEvent) {
  KubeEventRecorder recorder(client_, clock_, options(), &registry_);
  recorder.record(handoff());
  recorder.flush();
  clock_.advance(10s);
  recorder.record(handoff());
  clock_.advance(10s);
  recorder.record(handoff());
  recorder.flush();
  const auto written = events();
  ASSERT_EQ(written.size(), 1u) << "one object, not three";
  EXPECT_EQ(written[0]["series"]["count"], 3);
  EXPECT_EQ(written[0]["series"]["lastObservedTime"], "2024-03-10T07:00:20.000000Z");
  const auto patches = client_.actions("patch", resources::kEvents);
  ASSERT_EQ(patches.size(), 2u);
  EXPECT_EQ(patches[0].patchType, kube::PatchType::kMerge);
}

TEST_F(KubeEventRecorderTest, PatchOfADeletedEventCreatesItAgainWithTheSeries) {
  KubeEventRecorder recorder(client_, clock_, options(), &registry_);
  recorder.record(handoff());
  recorder.flush();
  const std::string name = events()[0]["metadata"]["name"];
  ASSERT_TRUE(client_.remove(resources::kEvents, {"team-a", name}).ok());
  recorder.record(handoff());
  recorder.flush();
  const auto written = events();
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0]["metadata"]["name"], name);
  EXPECT_EQ(written[0]["series"]["count"], 2);
}

TEST_F(KubeEventRecorderTest, FailedWriteIsCountedAndNotRetried) {
  KubeEventRecorder recorder(client_, clock_, options(), &registry_);
  client_.failNext("create", resources::kEvents,
                   base::Error(base::ErrorKind::kForbidden, "events is forbidden"), 1);
  recorder.record(handoff());
  recorder.flush();
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(client_.actions("create", resources::kEvents).size(), 1u);
  EXPECT_EQ(dropped("write_failed"), 1);
  // The failed series was forgotten: the next occurrence starts afresh.
  recorder.record(handoff());
  recorder.flush();
  ASSERT_EQ(events().size(), 1u);
  EXPECT_FALSE(events()[0].contains("series"));
}

TEST_F(KubeEventRecorderTest, RateLimitedEventsAreDroppedAndCounted) {
  KubeEventRecorder recorder(client_, clock_, options(), &registry_);
  for (int i = 0; i < 30; ++i) recorder.record(handoff("note " + std::to_string(i)));
  recorder.flush();
  EXPECT_EQ(events().size(), 25u);
  EXPECT_EQ(dropped("rate_limited"), 5);
}

TEST_F(KubeEventRecorderTest, RecordNeverBlocksAndAFullQueueDrops) {
  EventRecorderOptions small = options();
  small.queueCapacity = 2;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> entered;
  std::atomic<bool> first{true};
  client_.prependReactor(
      [&](const relops::testing::FakeAction& action) -> std::optional<base::Error> {
        if (action.verb == "create" && first.exchange(false)) {
          entered.set_value();
          released.wait();  // the API server hangs
        }
        return std::nullopt;
      });
  KubeEventRecorder recorder(client_, clock_, small, &registry_);
  recorder.record(handoff("0"));
  entered.get_future().wait();  // the sender is stuck writing "0"
  const auto start = steady_clock::now();
  for (int i = 1; i <= 5; ++i) recorder.record(handoff(std::to_string(i)));
  EXPECT_LT(steady_clock::now() - start, 100ms);
  EXPECT_EQ(dropped("queue_full"), 3);  // two fit in the queue
  release.set_value();
  recorder.flush();
  EXPECT_EQ(events().size(), 3u);
}

TEST_F(KubeEventRecorderTest, EndedSeriesGetTheirFinalCount) {
  EventRecorderOptions limited = options();
  limited.spamBurst = 1;
  KubeEventRecorder recorder(client_, clock_, limited, &registry_);
  recorder.record(handoff());
  recorder.record(handoff());  // no token: counted, not written yet
  recorder.record(handoff());
  recorder.flush();
  ASSERT_EQ(events().size(), 1u);
  EXPECT_FALSE(events()[0].contains("series"));
  clock_.advance(6min);
  recorder.flushEndedSeries();
  EXPECT_EQ(events()[0]["series"]["count"], 3);
}

TEST_F(KubeEventRecorderTest, ShutdownWritesPendingCountsAndStops) {
  EventRecorderOptions limited = options();
  limited.spamBurst = 1;
  KubeEventRecorder recorder(client_, clock_, limited, &registry_);
  recorder.record(handoff());
  recorder.record(handoff());
  recorder.shutdown();
  ASSERT_EQ(events().size(), 1u);
  EXPECT_EQ(events()[0]["series"]["count"], 2);
  recorder.record(handoff());  // after shutdown: dropped, never blocks
  recorder.flush();
  recorder.shutdown();  // idempotent
  EXPECT_EQ(dropped("queue_full"), 1);
}

}  // namespace
}  // namespace relops::runtime
