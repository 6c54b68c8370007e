#include "operator/runtime/reflector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "operator/runtime/informer.h"
#include "tests/support/fake_clock.h"
#include "tests/unit/operator/runtime/scripted_client.h"

namespace relops::runtime {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using testing::ScriptedClient;
using ::testing::UnorderedElementsAre;

const kube::ResourceRef kWidgets{"example.dev", "v1", "widgets", "Widget", true};

json widget(const std::string& name, const std::string& version) {
  return {{"apiVersion", "example.dev/v1"},
          {"kind", "Widget"},
          {"metadata", {{"namespace", "ns"}, {"name", name}, {"resourceVersion", version}}}};
}

kube::ListPage page(std::vector<json> items, std::string version, std::string next = "") {
  return {std::move(items), std::move(version), std::move(next)};
}

testing::WatchStep event(kube::WatchEventType type, json object) {
  return std::optional<kube::WatchEvent>(kube::WatchEvent{type, std::move(object)});
}

json bookmark(const std::string& version) {
  return {{"kind", "Widget"}, {"metadata", {{"resourceVersion", version}}}};
}

// Records handler calls as "add ns/a@1", "update ns/a@1->2", "delete ns/a".
class RecordingHandler final : public ReflectorHandler {
 public:
  void onAdd(const ObjectPtr& object) override { record("add " + describe(*object)); }
  void onUpdate(const ObjectPtr& oldObject, const ObjectPtr& newObject) override {
    record("update " + describe(*oldObject) + "->" +
           newObject->at("metadata").at("resourceVersion").get<std::string>());
  }
  void onDelete(const ObjectPtr& object) override { record("delete " + objectKey(*object)); }
  std::vector<std::string> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  static std::string describe(const json& object) {
    return objectKey(object) + "@" + object.at("metadata").at("resourceVersion").get<std::string>();
  }
  void record(std::string call) {
    std::lock_guard lock(mutex_);
    calls_.push_back(std::move(call));
  }
  mutable std::mutex mutex_;
  std::vector<std::string> calls_;
};

struct ReflectorFixture : ::testing::Test {
  ScriptedClient client;
  ObjectCache cache;
  RecordingHandler handler;
  testing::FakeClock clock;
  ReflectorOptions options = [] {
    ReflectorOptions o;
    o.random = [] { return 0.5; };
    return o;
  }();
  Reflector reflector{client, kWidgets, cache, handler, clock, discardLogger(), options};
};

TEST(DefaultTransform, DropsWhatRelopsNeverReads) {
  json object = {{"metadata",
                  {{"name", "a"},
                   {"managedFields", json::array({{{"manager", "kubectl"}}})},
                   {"annotations",
                    {{"kubectl.kubernetes.io/last-applied-configuration", "{\"whole\":1}"},
                     {"relops.dev/run-now", "t1"}}}}},
                 {"spec", {{"x", 1}}}};
  stripManagedFields(object);
  EXPECT_EQ(object, json::parse(R"({"metadata":{"name":"a","annotations":
      {"relops.dev/run-now":"t1"}},"spec":{"x":1}})"));
  json onlyLastApplied = {
      {"metadata", {{"annotations", {{"kubectl.kubernetes.io/last-applied-configuration", ""}}}}}};
  stripManagedFields(onlyLastApplied);
  EXPECT_EQ(onlyLastApplied, json::parse(R"({"metadata":{}})"));
}

TEST_F(ReflectorFixture, ListsThenWatchesFromTheListVersion) {
  client.scriptList(page({widget("a", "1"), widget("b", "2")}, "10"));
  client.scriptWatch({.steps = {event(kube::WatchEventType::kModified, widget("a", "11")),
                                event(kube::WatchEventType::kAdded, widget("c", "12")),
                                event(kube::WatchEventType::kDeleted, widget("b", "13"))}});
  client.scriptWatch({.steps = {}, .endWhenDone = false});  // then idle

  std::thread runner([&] { (void)reflector.listAndWatch(); });
  while (client.watchCalls().size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  reflector.stop();
  runner.join();

  EXPECT_THAT(handler.calls(), ElementsAre("add ns/a@1", "add ns/b@2", "update ns/a@1->11",
                                           "add ns/c@12", "delete ns/b"));
  EXPECT_THAT(cache.keys(), ElementsAre("ns/a", "ns/c"));
  const auto watches = client.watchCalls();
  EXPECT_EQ(watches[0].resourceVersion, "10");
  EXPECT_TRUE(watches[0].allowWatchBookmarks);
  // The second watch resumes from the last event's version.
  EXPECT_EQ(watches[1].resourceVersion, "13");
  EXPECT_TRUE(reflector.hasSynced());
  // The first list is a consistent read, paged by 500.
  EXPECT_EQ(client.listCalls()[0].resourceVersion, "");
  EXPECT_EQ(client.listCalls()[0].limit, 500);
}

TEST_F(ReflectorFixture, WatchTimeoutIsRandomBetweenFiveAndTenMinutes) {
  client.scriptList(page({}, "1"));
  std::thread runner([&] { (void)reflector.listAndWatch(); });
  while (client.watchCalls().empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  reflector.stop();
  runner.join();
  // random() = 0.5 -> 300 + 150.
  EXPECT_EQ(client.watchCalls()[0].timeoutSeconds, 450);
}

TEST_F(ReflectorFixture, BookmarksAdvanceTheResourceVersionWithoutTouchingTheCache) {
  client.scriptList(page({widget("a", "1")}, "5"));
  client.scriptWatch({.steps = {event(kube::WatchEventType::kBookmark, bookmark("99"))}});
  std::thread runner([&] { (void)reflector.listAndWatch(); });
  while (client.watchCalls().size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  reflector.stop();
  runner.join();
  EXPECT_EQ(client.watchCalls()[1].resourceVersion, "99");
  EXPECT_THAT(handler.calls(), ElementsAre("add ns/a@1"));
}

TEST_F(ReflectorFixture, GoneWatchRelistsFromLastVersionThenFreshAndEmitsDeletes) {
  client.scriptList(page({widget("a", "1"), widget("b", "2")}, "10"));
  json gone = {{"kind", "Status"},
               {"code", 410},
               {"reason", "Expired"},
               {"message", "too old resource version: 10 (20)"}};
  client.scriptWatch({.steps = {event(kube::WatchEventType::kError, gone)}});
  // The relist "not older than 10" is itself too old: the next is a fresh list.
  client.scriptList(base::Error(base::ErrorKind::kGone, "too old").withHttpStatus(410));
  client.scriptList(page({widget("a", "21"), widget("c", "22")}, "30"));

  base::Result<void> first = reflector.listAndWatch();
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().kind(), base::ErrorKind::kGone);
  base::Result<void> second = reflector.listAndWatch();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().kind(), base::ErrorKind::kGone);

  std::thread runner([&] { (void)reflector.listAndWatch(); });
  while (client.watchCalls().size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  reflector.stop();
  runner.join();

  const auto lists = client.listCalls();
  ASSERT_EQ(lists.size(), 3u);
  EXPECT_EQ(lists[1].resourceVersion, "10");
  EXPECT_EQ(lists[1].resourceVersionMatch, "NotOlderThan");
  EXPECT_EQ(lists[2].resourceVersion, "");
  EXPECT_EQ(lists[2].resourceVersionMatch, "");
  EXPECT_THAT(handler.calls(), ElementsAre("add ns/a@1", "add ns/b@2", "delete ns/b",
                                           "update ns/a@1->21", "add ns/c@22"));
  EXPECT_EQ(client.watchCalls()[1].resourceVersion, "30");
  EXPECT_EQ(reflector.listCount(), 2);
}

TEST_F(ReflectorFixture, RefusedWatchIsRetriedFromTheLastVersionWithoutRelisting) {
  client.scriptList(page({widget("a", "1")}, "5"));
  client.scriptWatch({.steps = {event(kube::WatchEventType::kModified, widget("a", "6"))}});
  // The server goes away: the next watch's connection is refused, then it is back.
  client.scriptWatchError(base::Error(base::ErrorKind::kTransient, "cannot connect")
                              .withReason(base::kReasonConnectionRefused));
  client.scriptWatch({.steps = {}, .endWhenDone = false});
  options.backoff.initial = std::chrono::milliseconds(1);
  Reflector fast{client, kWidgets, cache, handler, clock, discardLogger(), options};
  std::thread runner([&] { (void)fast.listAndWatch(); });
  while (client.watchCalls().size() < 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  fast.stop();
  runner.join();
  EXPECT_EQ(client.listCalls().size(), 1u);
  const auto watches = client.watchCalls();
  EXPECT_EQ(watches[1].resourceVersion, "6");
  EXPECT_EQ(watches[2].resourceVersion, "6");
}

TEST_F(ReflectorFixture, LostWatchRelistsFromTheLastVersion) {
  client.scriptList(page({widget("a", "1")}, "5"));
  client.scriptWatch({.steps = {base::Error(base::ErrorKind::kTransient, "connection reset")}});
  base::Result<void> result = reflector.listAndWatch();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message(), "watch widgets: connection reset");
  client.scriptList(page({widget("a", "1")}, "7"));
  std::thread runner([&] { (void)reflector.listAndWatch(); });
  while (client.watchCalls().size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  reflector.stop();
  runner.join();
  EXPECT_EQ(client.listCalls()[1].resourceVersion, "5");
  EXPECT_EQ(client.listCalls()[1].resourceVersionMatch, "NotOlderThan");
  EXPECT_THAT(handler.calls(), ElementsAre("add ns/a@1"));
}

TEST_F(ReflectorFixture, ListFailureIsReturnedWithContext) {
  client.scriptList(base::Error(base::ErrorKind::kForbidden, "widgets is forbidden"));
  base::Result<void> result = reflector.listAndWatch();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind(), base::ErrorKind::kForbidden);
  EXPECT_EQ(result.error().message(), "list widgets: widgets is forbidden");
  EXPECT_FALSE(reflector.hasSynced());
}

TEST_F(ReflectorFixture, StopEndsRunDuringBackoff) {
  // Nothing scripted: every list fails and run() backs off (800 ms+).
  std::thread runner([&] { reflector.run(); });
  while (client.listCalls().empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const auto before = std::chrono::steady_clock::now();
  reflector.stop();
  runner.join();
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::milliseconds(500));
}

TEST(Informer, HandlersAddedLateSeeExistingObjects) {
  ScriptedClient client;
  testing::FakeClock clock;
  client.scriptList(page({widget("a", "1"), widget("b", "2")}, "3"));
  Informer informer(client, kWidgets, clock, discardLogger());
  informer.start();
  ASSERT_TRUE(informer.waitForSync(std::chrono::seconds(5)));
  std::vector<std::string> seen;
  std::mutex mutex;
  EventHandlers handlers;
  handlers.onAdd = [&](const ObjectPtr& object) {
    std::lock_guard lock(mutex);
    seen.push_back(objectKey(*object));
  };
  informer.addHandlers(std::move(handlers));
  informer.stop();
  EXPECT_THAT(seen, UnorderedElementsAre("ns/a", "ns/b"));
  EXPECT_EQ(informer.cache().size(), 2u);
}

}  // namespace
}  // namespace relops::runtime
