// The ErrorBudgetPolicy reconciler: gathers the budgets of the SLOs a policy selects (from
// their status, which the SLO controller keeps), decides which SLOs are frozen
// (decidePolicy), and acts: the admission objects that enforce a freeze (admission.h), the
// policy's status, its Events, and the removal of the bindings a thaw leaves unneeded.
// Everything it remembers between reconciles is in the policy's status.
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "controllers/common/slo_status.h"
#include "controllers/policy/freeze.h"
#include "controllers/policy/policy_decide.h"
#include "controllers/policy/policy_types.h"
#include "operator/base/error.h"
#include "operator/kube/resource.h"
#include "operator/runtime/context.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/metrics.h"

namespace relops::runtime {
class Manager;
}

namespace relops::policy {

inline const kube::ResourceRef kErrorBudgetPolicies{"relops.dev", "v1alpha1", "errorbudgetpolicies",
                                                    "ErrorBudgetPolicy", true};
// Read only: the SLOs a policy selects, their budgets in status.
inline const kube::ResourceRef kServiceLevelObjectives =
    common::serviceLevelObjectives<kube::ResourceRef>();
inline const kube::ResourceRef& kAdmissionPolicies = kube::resources::kValidatingAdmissionPolicies;
inline const kube::ResourceRef& kAdmissionBindings =
    kube::resources::kValidatingAdmissionPolicyBindings;
// What a freeze covers, found by the policy's workloadSelector.
inline const std::array<const kube::ResourceRef*, 3> kWorkloadResources = {
    &kube::resources::kDeployments, &kube::resources::kStatefulSets, &kube::resources::kDaemonSets};

class PolicyReconciler final : public runtime::Reconciler {
 public:
  explicit PolicyReconciler(runtime::Context& context);
  runtime::ReconcileResult reconcile(const kube::ObjectKey& key,
                                     const runtime::Logger& log) override;

  static void add(runtime::Manager& manager, PolicyReconciler& reconciler, int workers);

 private:
  // What decidePolicy() takes, read from the cache.
  struct Input {
    ErrorBudgetPolicy policy;
    std::vector<SloBudgetInput> slos;  // every SLO of the namespace
    nlohmann::json storedStatus;       // the policy's status as stored (null or an object)
  };
  // Which of the policy's bindings to delete.
  struct Unneeded {
    bool named = true;
    bool bySelector = true;
    bool rollouts = true;
  };

  Input gather(const nlohmann::json& object, ErrorBudgetPolicy policy);
  // The policy cannot be parsed: Stalled (one Warning when it starts), and no freeze.
  runtime::ReconcileResult stall(const kube::ObjectKey& key, const nlohmann::json& object,
                                 const std::string& message, const runtime::Logger& log);
  // Applies what enforces a decided freeze (the admission policy, then the bindings), only
  // what changed; the error when something could not be applied. Nothing for a thaw.
  std::optional<base::Error> enforce(const kube::ObjectKey& key, const ErrorBudgetPolicy& policy,
                                     const PolicyDecision& decision, const runtime::Logger& log);
  // Server-side apply of an admission object unless the cached one was applied as is; the
  // UID of what is applied.
  base::Result<std::string> applyIfChanged(const kube::ResourceRef& resource,
                                           const nlohmann::json& desired, const char* what,
                                           const runtime::Logger& log);
  // Deletes the policy's bindings that are cached; the result when a delete failed.
  std::optional<runtime::ReconcileResult> removeBindings(const kube::ObjectKey& key,
                                                         Unneeded unneeded,
                                                         const runtime::Logger& log);
  // The UID of kErrorBudgetPolicyCrd, for the admission policy's owner: the one the applied
  // policy already names (if that CRD is gone, garbage collection removes the policy and
  // the next freeze asks again), else read from the API server; "" when it cannot be read
  // (the freeze is enforced all the same, without the owner).
  std::string crdOwnerUid(const runtime::Logger& log);
  // relops_freeze_active follows the freezes the policy's status lists (its activeFreezes).
  void exportFreezes(const kube::ObjectKey& key, const nlohmann::json& activeFreezes);

  runtime::Context& context_;
  runtime::Family<runtime::Gauge>& freezeActive_;
};

}  // namespace relops::policy
