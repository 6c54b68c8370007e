// The manager runs what one relops process runs (controller-runtime's
// Manager): shared informers, the controllers, and leader election.
//
//   - Informers are shared: one per resource and watched namespace, however
//     many controllers read it. They start at once on every replica, so a
//     standby has warm caches when it takes over.
//   - Controllers start only while this process leads (or at once without
//     leader election). Losing the lease ends the process: it cannot know
//     what another leader already did.
//   - Ready means every informer has listed once, and leader election (when
//     on) is healthy, leading or standing by.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "operator/base/clock.h"
#include "operator/base/result.h"
#include "operator/kube/client.h"
#include "operator/runtime/context.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/informer.h"
#include "operator/runtime/leader_election.h"
#include "operator/runtime/log.h"

namespace relops::runtime {

struct StandardMetrics;
class EventRecorder;

struct ManagerOptions {
  // Namespaces to watch; empty watches all (and needs cluster-wide RBAC).
  std::vector<std::string> watchNamespaces;
  std::optional<LeaderElectionConfig> leaderElection;
  // The client the Lease is renewed through; the manager's client when null. run gives it a
  // client of its own (its own rate limit, a request timeout of renewDeadline / 2), so renewals
  // never queue behind the controllers' requests (controller-runtime does the same).
  kube::Client* leaderElectionClient = nullptr;
  std::chrono::seconds cacheSyncTimeout{120};
  std::chrono::seconds gracefulShutdownTimeout{30};
  // How often every primary object is reconciled although nothing changed
  // (controller-runtime's SyncPeriod, 10 h by default); zero: never.
  std::chrono::seconds syncPeriod{10 * 3600};
};

class Manager final : public Context {
 public:
  Manager(kube::Client& client, const base::Clock& clock, const StandardMetrics& metrics,
          EventRecorder& recorder, Logger log, ManagerOptions options);
  ~Manager() override;
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // The informers of `resource` for the watched namespaces, created on first
  // use (before run()). Cluster-scoped resources get one informer.
  std::vector<Informer*> informers(const kube::ResourceRef& resource);
  // Caches only the objects of `resource` that match `labelSelector` (children
  // relops labels as its own, so it never caches every ConfigMap of the
  // cluster). Call before the first informers() of that resource.
  void setLabelSelector(const kube::ResourceRef& resource, std::string labelSelector);
  // Replaces the transform applied to each object of `resource` before it is cached
  // (default: drop managedFields), so a controller that reads a few fields of a large
  // kind does not cache the rest. Call before the first informers() of that resource.
  void setTransform(const kube::ResourceRef& resource,
                    std::function<void(nlohmann::json&)> transform);
  // Files each cached object of `resource` under the values `function` gives it, so that
  // cachedByIndex() finds objects by something other than their name (which SLOs name this
  // rotation) without decoding every object of the namespace. Before run().
  void setIndex(const kube::ResourceRef& resource, std::string name,
                ObjectCache::IndexFunction function);
  // The cached objects of `resource` that index `name` files under `value`.
  std::vector<ObjectPtr> cachedByIndex(const kube::ResourceRef& resource, std::string_view name,
                                       std::string_view value);
  // An object from the shared caches; null if absent or not watched.
  ObjectPtr cached(const kube::ResourceRef& resource, const kube::ObjectKey& key) override;
  // Objects of `resource` in `namespace_` ("" for every watched namespace).
  std::vector<ObjectPtr> cachedList(const kube::ResourceRef& resource,
                                    const std::string& namespace_) override;

  // A controller reconciling `primary` with `reconciler`, started when leading.
  Controller& addController(Controller::Options options, const kube::ResourceRef& primary,
                            Reconciler& reconciler);

  kube::Client& client() override { return client_; }
  const base::Clock& clock() const override { return clock_; }
  EventRecorder& recorder() override { return recorder_; }
  Registry& registry() override;
  WriteMemo& writeMemo() override { return writeMemo_; }
  const StandardMetrics& metrics() const { return metrics_; }
  const Logger& log() const { return log_; }
  bool watches(const std::string& namespace_) const;

  // Runs until stop() or until leadership is lost. Returns the process exit
  // code: 0 after stop(), 1 when the lease was lost or caches never synced.
  int run();
  // Ends run() from any thread (a signal handler's thread, for SIGTERM).
  void stop();

  // /readyz and /healthz checks.
  base::Result<void> readyCheck() const;
  base::Result<void> healthCheck() const;
  bool leading() const;

 private:
  std::string informerKey(const kube::ResourceRef& resource, const std::string& namespace_) const;
  std::vector<const Informer*> informersOf(const kube::ResourceRef& resource) const;
  void startControllers();
  void resync();

  kube::Client& client_;
  const base::Clock& clock_;
  const StandardMetrics& metrics_;
  EventRecorder& recorder_;
  Logger log_;
  ManagerOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, std::unique_ptr<Informer>> informers_;  // by resource + namespace
  std::map<std::string, std::string> labelSelectors_;           // by informerKey(resource, "")
  std::map<std::string, std::function<void(nlohmann::json&)>> transforms_;  // likewise
  std::map<std::string, ObjectCache::IndexFunctions> indexes_;              // likewise
  std::vector<std::unique_ptr<Controller>> controllers_;
  WriteMemo writeMemo_;  // forgets an object at each of its watch events
  std::unique_ptr<LeaderElector> elector_;
  bool stopRequested_ = false;
  bool leadershipLost_ = false;
  bool controllersStarted_ = false;
  std::atomic<bool> cachesSynced_{false};
};

}  // namespace relops::runtime
