// The controller loop (controller-runtime's Controller): informers feed keys
// of the primary kind into a rate-limited work queue; workers take keys and
// call the Reconciler; its result decides what happens to the key.
//
//   primary objects       -> their own key
//   owned children        -> the key of the controlling ownerReference, when
//                            it points at the primary kind
//   related objects       -> whatever keys a mapping function returns
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "operator/base/clock.h"
#include "operator/base/error.h"
#include "operator/kube/resource.h"
#include "operator/runtime/informer.h"
#include "operator/runtime/log.h"
#include "operator/runtime/work_queue.h"

namespace relops::kube {
class Client;
}

namespace relops::runtime {

struct StandardMetrics;

class ReconcileResult {
 public:
  enum class Kind { kDone, kRequeueAfter, kError };

  // Reached the desired state; nothing to do until something changes.
  static ReconcileResult done() { return ReconcileResult(Kind::kDone); }
  // Look again after `delay` (a timed event: a handoff, a schedule, a refresh).
  static ReconcileResult requeueAfter(std::chrono::nanoseconds delay);
  // Failed: the error's disposition decides retry now, back off, or stall.
  static ReconcileResult error(base::Error error);

  Kind kind() const { return kind_; }
  std::chrono::nanoseconds delay() const { return delay_; }
  const base::Error& errorValue() const { return *error_; }

 private:
  explicit ReconcileResult(Kind kind) : kind_(kind) {}
  Kind kind_;
  std::chrono::nanoseconds delay_{0};
  std::optional<base::Error> error_;
};

class Reconciler {
 public:
  virtual ~Reconciler() = default;
  // Gather, decide, act for one object. `log` carries controller, namespace,
  // name and reconcileID. Must not throw.
  virtual ReconcileResult reconcile(const kube::ObjectKey& key, const Logger& log) = 0;
};

using MapFunction = std::function<std::vector<kube::ObjectKey>(const nlohmann::json& object)>;

class Controller {
 public:
  struct Options {
    std::string name;  // the `controller` label and logger name
    int workers = 1;
    const StandardMetrics* metrics = nullptr;
    // Called when a reconcile ends in an error whose disposition is kStall;
    // it sets the object's Stalled condition and records an Event. The key is
    // not retried: a change to the object queues it again.
    std::function<void(const kube::ObjectKey&, const base::Error&)> onStalled;
    // Upper bound on draining in-flight reconciles at stop().
    std::chrono::seconds drainTimeout{30};
    // A reconcile that takes this long is logged at info with its key and duration.
    std::chrono::milliseconds slowReconcile{1000};
  };

  // One primary informer per watched namespace (or one for all namespaces).
  Controller(Options options, std::vector<Informer*> primaries, Reconciler& reconciler,
             const base::Clock& clock, Logger log);
  Controller(Options options, Informer& primary, Reconciler& reconciler, const base::Clock& clock,
             Logger log)
      : Controller(std::move(options), std::vector<Informer*>{&primary}, reconciler, clock,
                   std::move(log)) {}
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Children whose controlling ownerReference is an object of the primary kind.
  void owns(Informer& children);
  // Related objects, mapped to primary keys.
  void watches(Informer& related, MapFunction map);
  // Whether every informer this controller reads has listed once.
  bool hasSynced() const;

  // Registers handlers and starts the workers (informers are started by
  // their owner). Call once.
  void start();
  // Stops taking keys, waits (bounded) for in-flight reconciles, joins workers.
  void stop();

  // Queues every primary object the caches hold: the periodic resync (the Manager's
  // syncPeriod), which reconciles what no event announced, such as a child deleted while
  // relops was not watching it. A reconcile with nothing to change writes nothing.
  size_t resync();

  WorkQueue& queue() { return queue_; }
  const std::string& name() const { return options_.name; }
  // Reconciles completed so far, for tests and the readiness of the process.
  uint64_t reconcileCount() const { return reconciles_.load(); }

 private:
  void enqueue(const kube::ObjectKey& key);
  void enqueueOwner(const nlohmann::json& child);
  void worker();
  void process(const std::string& key);

  Options options_;
  std::vector<Informer*> primaries_;
  std::vector<Informer*> secondaries_;
  kube::ResourceRef resource_;
  Reconciler& reconciler_;
  const base::Clock& clock_;
  Logger log_;
  WorkQueue queue_;
  std::vector<std::thread> workers_;
  std::atomic<uint64_t> reconciles_{0};
  std::atomic<int> active_{0};
  std::atomic<bool> stopping_{false};
  bool started_ = false;
};

// Writes `status` to the object's /status with server-side apply (field manager
// relops, forced), as every reconciler does after decide(). std::nullopt when written;
// done() when the object is gone; otherwise the error to return from reconcile().
// `resourceVersion`, the version the decision was made from, makes the write conditional:
// if the object changed since (or the cache was behind), the API server refuses it with
// 409 and the key is retried, so a step that is not idempotent is never decided twice.
std::optional<ReconcileResult> applyStatus(kube::Client& client, const kube::ResourceRef& resource,
                                           const kube::ObjectKey& key, const nlohmann::json& status,
                                           const std::string& resourceVersion = "");

// The keys of the controlling owners of `child` that are of `ownerKind` in
// group `ownerGroup` (ownerReferences with controller=true; same namespace).
std::vector<kube::ObjectKey> controllingOwners(const nlohmann::json& child,
                                               const std::string& ownerGroup,
                                               const std::string& ownerKind);

}  // namespace relops::runtime
