// An informer: a Reflector on its own thread filling an ObjectCache, and the
// event handlers controllers register on it (client-go's SharedIndexInformer,
// one per resource and namespace scope, shared by every controller that
// watches that resource).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "operator/runtime/object_cache.h"
#include "operator/runtime/reflector.h"

namespace relops::runtime {

struct EventHandlers {
  std::function<void(const ObjectPtr&)> onAdd;
  std::function<void(const ObjectPtr& oldObject, const ObjectPtr& newObject)> onUpdate;
  std::function<void(const ObjectPtr&)> onDelete;
};

class Informer final : private ReflectorHandler {
 public:
  Informer(kube::Client& client, kube::ResourceRef resource, const base::Clock& clock, Logger log,
           ReflectorOptions options = {});
  ~Informer() override;
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Handlers added after start() get an add for every object already cached.
  void addHandlers(EventHandlers handlers);
  void start();
  void stop();
  bool hasSynced() const { return reflector_.hasSynced(); }
  // Waits until the first list has filled the cache; false on timeout.
  bool waitForSync(std::chrono::milliseconds timeout) const;

  const ObjectCache& cache() const { return cache_; }
  // An index on the cache (ObjectCache::addIndex); before start().
  void addIndex(std::string name, ObjectCache::IndexFunction function) {
    cache_.addIndex(std::move(name), std::move(function));
  }
  const kube::ResourceRef& resource() const { return resource_; }
  const Reflector& reflector() const { return reflector_; }

 private:
  void onAdd(const ObjectPtr& object) override;
  void onUpdate(const ObjectPtr& oldObject, const ObjectPtr& newObject) override;
  void onDelete(const ObjectPtr& oldObject) override;
  std::vector<EventHandlers> handlersSnapshot() const;

  kube::ResourceRef resource_;
  ObjectCache cache_;
  Reflector reflector_;
  mutable std::mutex mutex_;
  std::vector<EventHandlers> handlers_;
  std::thread thread_;
};

}  // namespace relops::runtime
