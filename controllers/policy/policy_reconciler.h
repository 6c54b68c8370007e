// The ErrorBudgetPolicy reconciler: reads the budgets of the SLOs a policy selects
// (from their status, which the SLO controller keeps), decides which SLOs are frozen
// (decideFreezes), writes the policy's status, and keeps the API server's enforcement in
// step by applying and deleting the admission objects admission.h builds.
#pragma once

#include <string>

#include "controllers/common/slo_status.h"
#include "controllers/policy/admission.h"
#include "controllers/policy/policy_types.h"
#include "controllers/policy/vocabulary.h"
#include "operator/kube/resource.h"
#include "operator/runtime/context.h"
#include "operator/runtime/controller.h"

namespace relops::runtime {
class Manager;
}

namespace relops::policy {

inline const kube::ResourceRef kErrorBudgetPolicies{"relops.dev", "v1alpha1", "errorbudgetpolicies",
                                                    "ErrorBudgetPolicy", true};
// Read only: the SLOs a policy selects, their budgets in status.
inline const kube::ResourceRef kServiceLevelObjectives =
    common::serviceLevelObjectives<kube::ResourceRef>();
inline const kube::ResourceRef kAdmissionPolicies{"admissionregistration.k8s.io", "v1",
                                                  "validatingadmissionpolicies",
                                                  "ValidatingAdmissionPolicy", false};
inline const kube::ResourceRef kAdmissionBindings{"admissionregistration.k8s.io", "v1",
                                                  "validatingadmissionpolicybindings",
                                                  "ValidatingAdmissionPolicyBinding", false};

inline const kube::ResourceRef kCustomResourceDefinitions{
    "apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false};

class PolicyReconciler final : public runtime::Reconciler {
 public:
  explicit PolicyReconciler(runtime::Context& context) : context_(context) {}
  runtime::ReconcileResult reconcile(const kube::ObjectKey& key,
                                     const runtime::Logger& log) override;

  static void add(runtime::Manager& manager, PolicyReconciler& reconciler, int workers);

 private:
  // The UID of kErrorBudgetPolicyCrd, for the admission policy's owner: the one the applied
  // policy already names (if that CRD is gone, garbage collection removes the policy and
  // the next freeze asks again), else read from the API server; "" when it cannot be read
  // (the freeze is enforced all the same, without the owner).
  std::string crdOwnerUid(const runtime::Logger& log);

  runtime::Context& context_;
};

}  // namespace relops::policy
