#include "operator/runtime/controller.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <sstream>
#include <thread>

#include "operator/runtime/metrics.h"
#include "tests/support/fake_clock.h"
#include "tests/unit/operator/runtime/scripted_client.h"

namespace relops::runtime {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::ScriptedClient;

const kube::ResourceRef kWidgets{"example.dev", "v1", "widgets", "Widget", true};
const kube::ResourceRef kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};

json widget(const std::string& name) {
  return {{"metadata", {{"namespace", "ns"}, {"name", name}, {"resourceVersion", "1"}}}};
}

json ownedConfigMap(const std::string& name, const std::string& owner, bool controller) {
  return {{"metadata",
           {{"namespace", "ns"},
            {"name", name},
            {"resourceVersion", "1"},
            {"ownerReferences", json::array({{{"apiVersion", "example.dev/v1"},
                                              {"kind", "Widget"},
                                              {"name", owner},
                                              {"uid", "u"},
                                              {"controller", controller}}})}}}};
}

template <typename Predicate>
void waitFor(Predicate done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "timed out";
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

// Answers each key with the next scripted result (default: done).
class ScriptedReconciler final : public Reconciler {
 public:
  ReconcileResult reconcile(const kube::ObjectKey& key, const Logger&) override {
    if (during_) during_(key.str());
    std::lock_guard lock(mutex_);
    calls_.push_back(key.str());
    auto& script = scripts_[key.str()];
    if (script.empty()) return ReconcileResult::done();
    ReconcileResult result = script.front();
    script.erase(script.begin());
    return result;
  }
  void script(const std::string& key, std::vector<ReconcileResult> results) {
    std::lock_guard lock(mutex_);
    scripts_[key] = std::move(results);
  }
  // Runs inside every reconcile, before it answers (a slow reconcile advances the clock).
  void during(std::function<void(const std::string&)> hook) { during_ = std::move(hook); }
  std::vector<std::string> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> calls_;
  std::map<std::string, std::vector<ReconcileResult>> scripts_;
  std::function<void(const std::string&)> during_;
};

TEST(ControllingOwners, OnlyControllerReferencesOfTheKind) {
  EXPECT_THAT(controllingOwners(ownedConfigMap("c", "w", true), "example.dev", "Widget"),
              ElementsAre(kube::ObjectKey{"ns", "w"}));
  EXPECT_THAT(controllingOwners(ownedConfigMap("c", "w", false), "example.dev", "Widget"),
              IsEmpty());
  EXPECT_THAT(controllingOwners(ownedConfigMap("c", "w", true), "other.dev", "Widget"), IsEmpty());
  EXPECT_THAT(controllingOwners(widget("plain"), "example.dev", "Widget"), IsEmpty());
}

struct ControllerFixture : ::testing::Test {
  ScriptedClient widgets;
  ScriptedClient configMaps;
  testing::FakeClock clock;
  Registry registry;
  StandardMetrics metrics = registerStandardMetrics(registry);
  ScriptedReconciler reconciler;
  std::vector<std::string> stalled;
  std::mutex stalledMutex;
  std::unique_ptr<Informer> primary;
  std::unique_ptr<Informer> children;
  std::unique_ptr<Controller> controller;
  Logger log = discardLogger();

  void start() {
    primary = std::make_unique<Informer>(widgets, kWidgets, clock, discardLogger());
    children = std::make_unique<Informer>(configMaps, kConfigMaps, clock, discardLogger());
    Controller::Options options;
    options.name = "widget";
    options.workers = 2;
    options.metrics = &metrics;
    options.onStalled = [this](const kube::ObjectKey& key, const base::Error& error) {
      std::lock_guard lock(stalledMutex);
      stalled.push_back(key.str() + ": " + error.message());
    };
    controller = std::make_unique<Controller>(options, *primary, reconciler, clock, log);
    controller->owns(*children);
    controller->start();
    primary->start();
    children->start();
  }
  void TearDown() override {
    if (controller) controller->stop();
    if (primary) primary->stop();
    if (children) children->stop();
  }
  double reconcileTotal(const std::string& result) {
    return metrics.reconcileTotal.with({"widget", result}).value();
  }
};

TEST_F(ControllerFixture, ReconcilesEachObjectAndOwnersOfChildren) {
  widgets.scriptList(kube::ListPage{{widget("a"), widget("b")}, "5", ""});
  configMaps.scriptList(kube::ListPage{{ownedConfigMap("cm", "c", true)}, "7", ""});
  start();
  waitFor([&] { return controller->reconcileCount() >= 3; });
  std::vector<std::string> calls = reconciler.calls();
  std::sort(calls.begin(), calls.end());
  EXPECT_THAT(calls, ElementsAre("ns/a", "ns/b", "ns/c"));
  EXPECT_EQ(reconcileTotal("success"), 3);
}

TEST_F(ControllerFixture, RequeueAfterWaitsForTheClock) {
  widgets.scriptList(kube::ListPage{{widget("a")}, "5", ""});
  configMaps.scriptList(kube::ListPage{{}, "1", ""});
  reconciler.script("ns/a", {ReconcileResult::requeueAfter(std::chrono::minutes(5))});
  start();
  waitFor([&] { return controller->reconcileCount() >= 1; });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(reconciler.calls().size(), 1u);
  clock.advance(std::chrono::minutes(5));
  controller->queue().wake();
  waitFor([&] { return controller->reconcileCount() >= 2; });
  EXPECT_EQ(reconcileTotal("requeue_after"), 1);
  EXPECT_EQ(reconcileTotal("success"), 1);
}

TEST_F(ControllerFixture, TransientErrorsBackOffAndStallsAreNotRetried) {
  widgets.scriptList(kube::ListPage{{widget("flaky"), widget("broken")}, "5", ""});
  configMaps.scriptList(kube::ListPage{{}, "1", ""});
  reconciler.script("ns/flaky",
                    {ReconcileResult::error(base::Error(base::ErrorKind::kTransient, "timeout"))});
  reconciler.script(
      "ns/broken",
      {ReconcileResult::error(base::Error(base::ErrorKind::kConfig, "bad reference"))});
  start();
  waitFor([&] { return controller->reconcileCount() >= 2; });
  // The transient failure waits for its 5 ms backoff on the (fake) clock.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(controller->reconcileCount(), 2u);
  clock.advance(std::chrono::milliseconds(5));
  controller->queue().wake();
  waitFor([&] { return controller->reconcileCount() >= 3; });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(controller->reconcileCount(), 3u);

  std::lock_guard lock(stalledMutex);
  EXPECT_THAT(stalled, ElementsAre("ns/broken: bad reference"));
  EXPECT_EQ(reconcileTotal("error"), 2);
  EXPECT_EQ(metrics.terminalReconcileErrors.with({"widget"}).value(), 1);
}

}  // namespace
}  // namespace relops::runtime

namespace relops::runtime {
namespace {

TEST_F(ControllerFixture, ASlowReconcileIsLoggedAtInfoWithItsKey) {
  std::ostringstream out;
  log = Logger(std::make_shared<LogSink>(out, LogFormat::kJson, LogLevel::kInfo));
  widgets.scriptList(kube::ListPage{{widget("slow")}, "5", ""});
  configMaps.scriptList(kube::ListPage{{}, "1", ""});
  reconciler.during([this](const std::string& key) {
    if (key == "ns/slow") clock.advance(std::chrono::milliseconds(1500));
  });
  start();
  waitFor([&] { return controller->reconcileCount() >= 1; });
  controller->stop();
  const std::string written = out.str();
  EXPECT_NE(written.find(R"("msg":"slow reconcile")"), std::string::npos) << written;
  EXPECT_NE(written.find(R"("name":"slow")"), std::string::npos) << written;
  EXPECT_NE(written.find(R"("seconds":1.5)"), std::string::npos) << written;
}

}  // namespace
}  // namespace relops::runtime
