#include "controllers/drill/drill_controller.h"

#include <string>
#include <vector>

#include "controllers/drill/drill_reconciler.h"
#include "operator/cli/flags.h"
#include "operator/runtime/manager.h"

namespace relops::drill {
namespace {

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
    DrillReconciler::add(manager, *drills_, workers);
    runs_ = std::make_unique<RunReconciler>(manager, std::move(runOptions));
    RunReconciler::add(manager, *runs_, workers);
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
