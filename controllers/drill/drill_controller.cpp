#include "controllers/drill/drill_controller.h"

#include <string>
#include <vector>

#include "controllers/common/object_trim.h"
#include "controllers/drill/drill_reconciler.h"
#include "operator/cli/flags.h"
#include "operator/runtime/manager.h"

namespace relops::drill {
namespace {

using nlohmann::json;

// The drill controller: drills, and the runs they own (only runs carrying the drill label
// are cached).
void watchDrills(runtime::Manager& manager, DrillReconciler& reconciler, int workers) {
  runtime::Controller::Options options;
  options.name = "drdrill";
  options.workers = workers;
  manager.setLabelSelector(kDRDrillRuns, std::string(kDrillLabel));
  runtime::Controller& controller = manager.addController(options, kDRDrills, reconciler);
  for (runtime::Informer* informer : manager.informers(kDRDrillRuns)) controller.owns(*informer);
}

// The keys of the failover runs in `namespace_` still working (or cleaning up) that name
// `workload` (a `kind`) as their target or standby.
std::vector<kube::ObjectKey> runsWaitingOn(runtime::Manager& manager, std::string_view kind,
                                           const json& workload) {
  std::vector<kube::ObjectKey> keys;
  const json& metadata = workload["metadata"];
  const std::string namespace_ = metadata.value("namespace", "");
  const std::string name = metadata.value("name", "");
  static const json::json_pointer kFailover("/spec/failover");
  for (const runtime::ObjectPtr& run : manager.cachedList(kDRDrillRuns, namespace_)) {
    if (!run->contains(kFailover) || !run->at(kFailover).is_object()) continue;
    const std::string phase = run->value("status", json::object()).value("phase", "");
    if (phase == "Succeeded" || phase == "Failed" || phase == "Error") {
      const std::string cleanup =
          run->value("status", json::object()).value("cleanup", json::object()).value("result", "");
      if (cleanup != "Pending" && cleanup != "Failed") continue;
    }
    const json& failover = run->at(kFailover);
    for (const char* role : {"target", "standby"}) {
      const json ref = failover.value(role, json::object());
      if (ref.is_object() && ref.value("kind", "") == kind && ref.value("name", "") == name) {
        keys.push_back({namespace_, (*run)["metadata"].value("name", "")});
        break;
      }
    }
  }
  return keys;
}

// The run controller: runs, the Jobs they own (only Jobs carrying the run label are
// cached), and the Deployments and StatefulSets failover runs wait on (mapped to those runs).
void watchRuns(runtime::Manager& manager, RunReconciler& reconciler, int workers) {
  runtime::Controller::Options options;
  options.name = "drdrillrun";
  options.workers = workers;
  manager.setLabelSelector(kube::resources::kJobs, std::string(kRunLabel));
  runtime::Controller& controller = manager.addController(options, kDRDrillRuns, reconciler);
  for (runtime::Informer* informer : manager.informers(kube::resources::kJobs)) {
    controller.owns(*informer);
  }
  // A failover run waits on its target and standby: their watch events wake it (the
  // measured RTO's resolution), so its poll can back off. controller-runtime's Watches
  // with an enqueue mapper; the caches are the ones the SLO controller shares.
  for (const auto& [resource, kind] :
       {std::pair{kube::resources::kDeployments, std::string_view("Deployment")},
        std::pair{kube::resources::kStatefulSets, std::string_view("StatefulSet")}}) {
    manager.setTransform(resource, common::keepWorkloadEssentials);
    for (runtime::Informer* informer : manager.informers(resource)) {
      controller.watches(*informer, [&manager, kind](const json& workload) {
        return runsWaitingOn(manager, kind, workload);
      });
    }
  }
}

class DrillKind final : public server::Kind {
 public:
  std::vector<kube::ResourceRef> primaries() const override { return {kDRDrills, kDRDrillRuns}; }

  void addFlags(cli::FlagSet& flags) override {
    flags.addString("velero-namespace", &veleroNamespace_,
                    "Where Velero runs: DRDrill veleroRestore runs read its Backups and create "
                    "their Restores and resource-modifier ConfigMaps there");
    flags.addStrings("drill-sandbox-quota", &sandboxQuota_,
                     "resource=quantity entries of the ResourceQuota a DRDrill restore sandbox "
                     "gets when its source namespace has none, e.g. pods=20,requests.cpu=4 "
                     "(repeatable, comma-separated; default: relops's built-in quota)");
  }

  base::Result<void> setup(runtime::Manager& manager, int workers) override {
    RunOptions runOptions;
    runOptions.veleroNamespace = veleroNamespace_;
    for (const std::string& entry : sandboxQuota_) {
      const auto equals = entry.find('=');
      if (equals == std::string::npos || equals == 0 || equals + 1 == entry.size()) {
        return base::Error(base::ErrorKind::kConfig,
                           "--drill-sandbox-quota wants resource=quantity, not " + entry);
      }
      runOptions.sandboxQuotaHard[entry.substr(0, equals)] = entry.substr(equals + 1);
    }
    drills_ = std::make_unique<DrillReconciler>(manager);
    watchDrills(manager, *drills_, workers);
    runs_ = std::make_unique<RunReconciler>(manager, std::move(runOptions));
    watchRuns(manager, *runs_, workers);
    return {};
  }

 private:
  std::string veleroNamespace_ = "velero";
  std::vector<std::string> sandboxQuota_;  // resource=quantity, the sandbox's default quota
  std::unique_ptr<DrillReconciler> drills_;
  std::unique_ptr<RunReconciler> runs_;
};

}  // namespace

std::unique_ptr<server::Kind> makeKind() { return std::make_unique<DrillKind>(); }

}  // namespace relops::drill
