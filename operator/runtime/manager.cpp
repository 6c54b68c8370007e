#include "operator/runtime/manager.h"

#include <algorithm>
#include <thread>

#include "operator/runtime/event_recorder.h"
#include "operator/runtime/heap.h"
#include "operator/runtime/metrics.h"

namespace relops::runtime {
namespace {

// Free heap is handed back every half minute when the memory resident beyond what malloc
// hands out grew by 4 MiB since the last time: a burst of reconciles does that, an idle
// process never does.
constexpr std::chrono::seconds kHeapReleasePeriod{30};
constexpr size_t kHeapGrowthToRelease = size_t{4} << 20;

}  // namespace

Manager::Manager(kube::Client& client, const base::Clock& clock, const StandardMetrics& metrics,
                 EventRecorder& recorder, Logger log, ManagerOptions options)
    : client_(client),
      clock_(clock),
      metrics_(metrics),
      recorder_(recorder),
      log_(std::move(log)),
      options_(std::move(options)) {}

Registry& Manager::registry() { return metrics_.registry; }

Manager::~Manager() {
  for (auto& controller : controllers_) controller->stop();
  if (elector_) elector_->stop();
  for (auto& [key, informer] : informers_) informer->stop();
}

std::string Manager::informerKey(const kube::ResourceRef& resource,
                                 const std::string& namespace_) const {
  return resource.group + "/" + resource.resource + "/" + namespace_;
}

bool Manager::watches(const std::string& namespace_) const {
  return options_.watchNamespaces.empty() ||
         std::find(options_.watchNamespaces.begin(), options_.watchNamespaces.end(), namespace_) !=
             options_.watchNamespaces.end();
}

void Manager::setLabelSelector(const kube::ResourceRef& resource, std::string labelSelector) {
  std::lock_guard lock(mutex_);
  labelSelectors_[informerKey(resource, "")] = std::move(labelSelector);
}

void Manager::setTransform(const kube::ResourceRef& resource,
                           std::function<void(nlohmann::json&)> transform) {
  std::lock_guard lock(mutex_);
  transforms_[informerKey(resource, "")] = std::move(transform);
}

void Manager::setIndex(const kube::ResourceRef& resource, std::string name,
                       ObjectCache::IndexFunction function) {
  std::lock_guard lock(mutex_);
  // Informers another kind already asked for get it too: they start, empty, with run().
  const std::string prefix = informerKey(resource, "");
  for (const auto& [key, informer] : informers_) {
    if (key.compare(0, prefix.size(), prefix) == 0) informer->addIndex(name, function);
  }
  indexes_[prefix][std::move(name)] = std::move(function);
}

std::vector<const Informer*> Manager::informersOf(const kube::ResourceRef& resource) const {
  // Informers are made before run() and live as long as the manager: the pointers stay good
  // after the lock, and reads decode outside it, side by side.
  std::vector<const Informer*> result;
  const std::string prefix = informerKey(resource, "");
  std::lock_guard lock(mutex_);
  for (const auto& [key, informer] : informers_) {
    if (key.compare(0, prefix.size(), prefix) == 0) result.push_back(informer.get());
  }
  return result;
}

std::vector<ObjectPtr> Manager::cachedByIndex(const kube::ResourceRef& resource,
                                              std::string_view name, std::string_view value) {
  std::vector<ObjectPtr> result;
  for (const Informer* informer : informersOf(resource)) {
    for (ObjectPtr& object : informer->cache().byIndex(name, value)) {
      result.push_back(std::move(object));
    }
  }
  return result;
}

std::vector<Informer*> Manager::informers(const kube::ResourceRef& resource) {
  std::vector<std::string> scopes = options_.watchNamespaces;
  if (scopes.empty() || !resource.namespaced) scopes = {""};
  std::vector<Informer*> result;
  std::lock_guard lock(mutex_);
  for (const std::string& scope : scopes) {
    std::unique_ptr<Informer>& informer = informers_[informerKey(resource, scope)];
    if (!informer) {
      ReflectorOptions options;
      options.namespace_ = scope;
      if (const auto selector = labelSelectors_.find(informerKey(resource, ""));
          selector != labelSelectors_.end()) {
        options.labelSelector = selector->second;
      }
      if (const auto transform = transforms_.find(informerKey(resource, ""));
          transform != transforms_.end()) {
        options.transform = transform->second;
      }
      informer = std::make_unique<Informer>(
          client_, resource, clock_,
          log_.named("informer").with({{"resource", resource.resource}, {"namespace", scope}}),
          options);
      if (const auto indexes = indexes_.find(informerKey(resource, ""));
          indexes != indexes_.end()) {
        for (const auto& [name, function] : indexes->second) informer->addIndex(name, function);
      }
      // Any event for an object means the cache shows relops's writes to it, or that it
      // changed: either way no write to it is a replay any more.
      const auto forget = [this, resource](const ObjectPtr& object) {
        const nlohmann::json& metadata = object->at("metadata");
        writeMemo_.forget(resource, {metadata.value("namespace", ""), metadata.value("name", "")});
      };
      informer->addHandlers(
          {.onAdd = forget,
           .onUpdate = [forget](const ObjectPtr&,
                                const ObjectPtr& newObject) { forget(newObject); },
           .onDelete = forget});
    }
    result.push_back(informer.get());
  }
  return result;
}

ObjectPtr Manager::cached(const kube::ResourceRef& resource, const kube::ObjectKey& key) {
  const Informer* found = nullptr;
  {
    std::lock_guard lock(mutex_);
    for (const std::string& scope : {key.namespace_, std::string()}) {
      const auto it = informers_.find(informerKey(resource, scope));
      if (it != informers_.end()) {
        found = it->second.get();
        break;
      }
    }
  }
  return found != nullptr ? found->cache().get(key.str()) : nullptr;
}

std::vector<ObjectPtr> Manager::cachedList(const kube::ResourceRef& resource,
                                           const std::string& namespace_) {
  std::vector<ObjectPtr> result;
  for (const Informer* informer : informersOf(resource)) {
    for (ObjectPtr& object : informer->cache().listNamespace(namespace_)) {
      result.push_back(std::move(object));
    }
  }
  return result;
}

Controller& Manager::addController(Controller::Options options, const kube::ResourceRef& primary,
                                   Reconciler& reconciler) {
  if (options.metrics == nullptr) options.metrics = &metrics_;
  auto controller = std::make_unique<Controller>(std::move(options), informers(primary), reconciler,
                                                 clock_, log_);
  std::lock_guard lock(mutex_);
  controllers_.push_back(std::move(controller));
  return *controllers_.back();
}

bool Manager::leading() const {
  std::lock_guard lock(mutex_);
  return controllersStarted_;
}

void Manager::startControllers() {
  std::lock_guard lock(mutex_);
  if (controllersStarted_ || stopRequested_) return;
  controllersStarted_ = true;
  for (auto& controller : controllers_) controller->start();
}

void Manager::resync() {
  std::lock_guard lock(mutex_);
  if (!controllersStarted_) return;  // a replica that does not lead reconciles nothing
  for (auto& controller : controllers_) {
    const size_t queued = controller->resync();
    log_.info("resync",
              {{"controller", controller->name()}, {"objects", static_cast<int64_t>(queued)}});
  }
}

int Manager::run() {
  {
    std::lock_guard lock(mutex_);
    for (auto& [key, informer] : informers_) informer->start();
  }
  // Controllers wait for their caches (controller-runtime's WaitForCacheSync).
  const auto syncDeadline = std::chrono::steady_clock::now() + options_.cacheSyncTimeout;
  while (true) {
    bool synced = true;
    {
      std::lock_guard lock(mutex_);
      if (stopRequested_) return 0;
      for (auto& [key, informer] : informers_) synced = synced && informer->hasSynced();
    }
    if (synced) break;
    if (std::chrono::steady_clock::now() > syncDeadline) {
      log_.error("caches did not sync in time; exiting",
                 {{"timeoutSeconds", static_cast<int64_t>(options_.cacheSyncTimeout.count())}});
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  cachesSynced_.store(true);
  log_.info("caches synced", {{"informers", static_cast<int64_t>(informers_.size())}});

  if (options_.leaderElection) {
    LeaderCallbacks callbacks;
    callbacks.onStartedLeading = [this] {
      log_.info("started leading; starting controllers");
      startControllers();
    };
    callbacks.onStoppedLeading = [this] {
      std::lock_guard lock(mutex_);
      if (!stopRequested_) leadershipLost_ = true;
      wake_.notify_all();
    };
    callbacks.onNewLeader = [this](const std::string& identity) {
      log_.info("leader observed", {{"leader", identity}});
    };
    kube::Client& electionClient =
        options_.leaderElectionClient != nullptr ? *options_.leaderElectionClient : client_;
    elector_ =
        std::make_unique<LeaderElector>(electionClient, clock_, *options_.leaderElection, callbacks,
                                        &metrics_.registry, log_.named("leader-election"));
    elector_->start();
  } else {
    startControllers();
  }

  // The initial lists are parsed and cached: what they needed beside the cache goes back.
  HeapReleaser heap(kHeapGrowthToRelease);
  heap.releaseIfGrown();
  std::unique_lock lock(mutex_);
  const auto woken = [this] { return stopRequested_ || leadershipLost_; };
  using SteadyClock = std::chrono::steady_clock;
  auto nextSync = options_.syncPeriod.count() > 0 ? SteadyClock::now() + options_.syncPeriod
                                                  : SteadyClock::time_point::max();
  while (true) {
    const auto nextRelease = SteadyClock::now() + kHeapReleasePeriod;
    if (wake_.wait_until(lock, std::min(nextSync, nextRelease), woken)) break;
    lock.unlock();
    if (SteadyClock::now() >= nextSync) {
      resync();
      nextSync += options_.syncPeriod;
    }
    heap.releaseIfGrown();
    lock.lock();
  }
  const bool lost = leadershipLost_;
  lock.unlock();

  // Graceful shutdown: stop taking work and drain (bounded), then release the
  // lease so another replica takes over at once.
  for (auto& controller : controllers_) controller->stop();
  if (elector_) {
    elector_->stop();
    if (!lost) {
      if (base::Result<void> released = elector_->release(); !released.ok()) {
        log_.warn("could not release the leader lease", {{"error", released.error().describe()}});
      }
    }
  }
  for (auto& [key, informer] : informers_) informer->stop();
  if (lost) {
    log_.error("leader election lost; exiting");
    return 1;
  }
  log_.info("stopped");
  return 0;
}

void Manager::stop() {
  std::lock_guard lock(mutex_);
  stopRequested_ = true;
  wake_.notify_all();
}

base::Result<void> Manager::readyCheck() const {
  if (!cachesSynced_.load()) {
    return base::Error(base::ErrorKind::kTransient, "informer caches have not synced yet");
  }
  if (elector_) return elector_->healthCheck();
  return base::Ok{};
}

base::Result<void> Manager::healthCheck() const {
  if (elector_) return elector_->healthCheck();
  return base::Ok{};
}

}  // namespace relops::runtime
