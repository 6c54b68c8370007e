#include "controllers/policy/policy_controller.h"

#include "controllers/policy/policy_reconciler.h"
#include "operator/runtime/manager.h"

namespace relops::policy {
namespace {

class PolicyKind final : public server::Kind {
 public:
  std::vector<kube::ResourceRef> primaries() const override { return {kErrorBudgetPolicies}; }

  void addFlags(cli::FlagSet&) override {}

  base::Result<void> setup(runtime::Manager& manager, int workers) override {
    reconciler_ = std::make_unique<PolicyReconciler>(manager);
    PolicyReconciler::add(manager, *reconciler_, workers);
    return {};
  }

 private:
  std::unique_ptr<PolicyReconciler> reconciler_;
};

}  // namespace

std::unique_ptr<server::Kind> makeKind() { return std::make_unique<PolicyKind>(); }

}  // namespace relops::policy
