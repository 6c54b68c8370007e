// The reflector keeps an ObjectCache equal to the API server's view of one
// resource: LIST (paged), then WATCH from the list's resourceVersion, with
// client-go's Reflector behaviour:
//   - watches ask for bookmarks and end server-side after a random 300-600 s,
//     then resume from the last resourceVersion seen (bookmarks included);
//   - 410 Gone / Expired relists from the last resourceVersion, and if that
//     version is itself too old, with a fresh consistent list;
//   - a relist emits deletes for objects that vanished in between;
//   - failures back off 800 ms x2 up to 30 s with jitter, reset after 2 min.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "operator/base/clock.h"
#include "operator/base/result.h"
#include "operator/kube/client.h"
#include "operator/runtime/backoff.h"
#include "operator/runtime/log.h"
#include "operator/runtime/object_cache.h"

namespace relops::runtime {

// The default transform before caching: drops metadata.managedFields and kubectl's
// last-applied-configuration annotation, which relops never reads.
void stripManagedFields(nlohmann::json& object);

// What the reflector tells its informer; called on the reflector's thread
// after the cache has been updated.
class ReflectorHandler {
 public:
  virtual ~ReflectorHandler() = default;
  virtual void onAdd(const ObjectPtr& object) = 0;
  virtual void onUpdate(const ObjectPtr& oldObject, const ObjectPtr& newObject) = 0;
  virtual void onDelete(const ObjectPtr& oldObject) = 0;
};

struct ReflectorOptions {
  std::string namespace_;  // "" watches all namespaces
  std::string labelSelector;
  std::string fieldSelector;
  int pageSize = 500;
  std::chrono::seconds minWatchTimeout{300};  // each watch lasts [min, 2 min) seconds
  BackoffPolicy backoff = BackoffPolicy::reflector();
  // Applied to every object before it is cached. The default drops
  // metadata.managedFields, which controllers never read and which is often
  // the larger part of an object (controller-runtime's default transform).
  std::function<void(nlohmann::json&)> transform = stripManagedFields;
  // A number in [0, 1) for watch timeouts and backoff jitter; random if empty.
  std::function<double()> random;
};

class Reflector {
 public:
  Reflector(kube::Client& client, kube::ResourceRef resource, ObjectCache& cache,
            ReflectorHandler& handler, const base::Clock& clock, Logger log,
            ReflectorOptions options = {});

  // Lists and watches until stop(), backing off between failed attempts.
  void run();
  // Ends run() promptly from any thread, closing the open watch.
  void stop();

  // One list followed by watches until one fails or stop() is called: the
  // error that ended it, or Ok after stop(). run() loops over this.
  base::Result<void> listAndWatch();

  bool hasSynced() const { return synced_.load(); }
  std::string lastSyncResourceVersion() const;
  // How many times the cache was (re)filled by a list, for tests and metrics.
  int listCount() const { return listCount_.load(); }

 private:
  base::Result<void> list();
  base::Result<void> watchOnce();
  std::string relistResourceVersion() const;
  void setLastResourceVersion(std::string version);
  bool sleepUnlessStopped(std::chrono::nanoseconds delay);

  kube::Client& client_;
  kube::ResourceRef resource_;
  ObjectCache& cache_;
  ReflectorHandler& handler_;
  const base::Clock& clock_;
  Logger log_;
  ReflectorOptions options_;
  Backoff backoff_;

  std::atomic<bool> stopped_{false};
  std::atomic<bool> synced_{false};
  std::atomic<int> listCount_{0};
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::string lastResourceVersion_;
  // client-go's isLastSyncResourceVersionUnavailable: the next list is a
  // fresh consistent read because the last version is gone from the server.
  bool lastVersionUnavailable_ = false;
  kube::WatchStream* currentWatch_ = nullptr;
};

}  // namespace relops::runtime
