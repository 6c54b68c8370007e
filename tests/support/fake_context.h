// The runtime::Context test double for reconciler unit tests: the cache is the FakeClient's
// store (what a synced informer would hold, read at the moment of the call, through the
// transforms a test sets as a kind's add() sets them on the manager), the clock a
// FakeClock, Events go to a FakeEventRecorder, metrics to a registry of the context's own.
// Like the FakeClient it never stands in for the API server in a test that claims cluster
// behaviour (DESIGN.md): it tests what a reconciler decides and writes, not how the API
// server answers.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "operator/runtime/context.h"
#include "operator/runtime/event_recorder.h"
#include "operator/runtime/metrics.h"
#include "tests/support/fake_client.h"
#include "tests/support/fake_clock.h"

namespace relops::testing {

// Keeps every Event recorded, in order.
class FakeEventRecorder final : public runtime::EventRecorder {
 public:
  void record(runtime::Event event) override {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(event));
  }
  std::vector<runtime::Event> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  // The reasons recorded, in order ("Handoff", "BudgetExhausted").
  std::vector<std::string> reasons() const {
    std::vector<std::string> out;
    for (const runtime::Event& event : events()) out.push_back(event.reason);
    return out;
  }
  void clear() {
    std::lock_guard lock(mutex_);
    events_.clear();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<runtime::Event> events_;
};

class FakeContext final : public runtime::Context {
 public:
  explicit FakeContext(std::chrono::system_clock::time_point start = {})
      : fakeClock(start), fakeClient(&fakeClock) {}

  // As Manager::setTransform: what the cache keeps of each object of `resource` (a kind's
  // add() sets these on the manager; a test sets the same ones here).
  void setTransform(const kube::ResourceRef& resource,
                    std::function<void(nlohmann::json&)> transform) {
    transforms_[resource.group + "/" + resource.resource] = std::move(transform);
  }

  runtime::ObjectPtr cached(const kube::ResourceRef& resource,
                            const kube::ObjectKey& key) override {
    const std::string id = resource.group + "/" + resource.resource + "/" + key.str();
    if (holding_) {
      if (const auto held = held_.find(id); held != held_.end()) return held->second;
    }
    auto object = fakeClient.object(resource, key);
    runtime::ObjectPtr result = object ? cache(resource, std::move(*object)) : nullptr;
    if (holding_) held_[id] = result;
    return result;
  }
  // From now on cached() answers each object as it first reads it, as an informer whose
  // watch events have not arrived yet: what a reconcile sees between its write and the
  // write's event. releaseCache() ends it, as the events arriving would (and forgets the
  // memo's entries, as the Manager does on each event).
  void holdCache() { holding_ = true; }
  void releaseCache() {
    holding_ = false;
    held_.clear();
    memo.clear();
  }
  std::vector<runtime::ObjectPtr> cachedList(const kube::ResourceRef& resource,
                                             const std::string& namespace_) override {
    std::vector<runtime::ObjectPtr> out;
    for (nlohmann::json& object : fakeClient.objects(resource, namespace_)) {
      out.push_back(cache(resource, std::move(object)));
    }
    return out;
  }
  kube::Client& client() override { return fakeClient; }
  const base::Clock& clock() const override { return fakeClock; }
  runtime::EventRecorder& recorder() override { return events; }
  runtime::Registry& registry() override { return metrics; }
  runtime::WriteMemo& writeMemo() override { return memo; }

  FakeClock fakeClock;
  FakeClient fakeClient;
  FakeEventRecorder events;
  runtime::Registry metrics;
  runtime::WriteMemo memo;

 private:
  runtime::ObjectPtr cache(const kube::ResourceRef& resource, nlohmann::json object) const {
    const auto transform = transforms_.find(resource.group + "/" + resource.resource);
    if (transform != transforms_.end()) transform->second(object);
    return std::make_shared<const nlohmann::json>(std::move(object));
  }

  std::map<std::string, std::function<void(nlohmann::json&)>> transforms_;
  bool holding_ = false;
  std::map<std::string, runtime::ObjectPtr> held_;
};

}  // namespace relops::testing
