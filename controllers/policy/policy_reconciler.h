// The ErrorBudgetPolicy reconciler: reads the budgets of the SLOs a policy selects
// (from their status, which the SLO controller keeps), decides which SLOs are frozen
// (decideFreezes), writes the policy's status, and keeps the API server's enforcement in
// step: one ValidatingAdmissionPolicy for all freezes (parameterised by the
// ErrorBudgetPolicy itself, so its denial message reads the live status) and, per policy
// with an active freeze, a binding that names the frozen workloads.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>

#include "controllers/common/slo_status.h"
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
// The CRD that owns the admission policy: removing relops's CRDs removes every freeze.
inline constexpr char kErrorBudgetPolicyCrd[] = "errorbudgetpolicies.relops.dev";

// The one admission policy every freeze binding points at.
inline constexpr char kFreezeAdmissionPolicy[] = "relops.dev-freeze";
// Labels on a binding: which ErrorBudgetPolicy it enforces. The name may be longer than a
// label value can be, so the label is a hash and the name is an annotation.
inline constexpr char kPolicyNamespaceLabel[] = "relops.dev/policy-namespace";
inline constexpr char kPolicyHashLabel[] = "relops.dev/policy-hash";
inline constexpr char kPolicyNameAnnotation[] = "relops.dev/policy-name";

// A policy's freeze has up to two bindings: the workloads it names, and — when more are
// selected than kMaxNamedWorkloads — whatever its workloadSelector selects.
enum class FreezeBindingKind { kNamed, kBySelector };

// The ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1) relops applies.
// `crdUid`, the UID of the CRD kErrorBudgetPolicyCrd, makes that CRD its owner: without the
// CRD the policy's parameters cannot be read, so it goes (and its bindings with it) when the
// CRD goes.
nlohmann::json freezeAdmissionPolicy(const std::string& crdUid = "");
// The binding of one ErrorBudgetPolicy: its frozen workloads ("Deployment/web") in its
// namespace. Its name is derived from the policy's and is at most 253 characters.
// `admissionPolicyUid`, the UID of the ValidatingAdmissionPolicy kFreezeAdmissionPolicy,
// makes that policy the binding's owner: deleting it (by hand, or with relops gone) lets
// garbage collection remove every freeze binding, so no freeze outlives relops.
nlohmann::json freezeBinding(const std::string& namespace_, const std::string& policy,
                             const std::vector<std::string>& workloads,
                             const std::string& admissionPolicyUid = "");
// The binding that freezes by label: the policy's workloadSelector as its objectSelector.
nlohmann::json freezeSelectorBinding(const std::string& namespace_, const std::string& policy,
                                     const LabelSelector& workloadSelector,
                                     const std::string& admissionPolicyUid = "");
std::string freezeBindingName(const std::string& namespace_, const std::string& policy,
                              FreezeBindingKind kind = FreezeBindingKind::kNamed);
// The value of kPolicyHashLabel: 40 hex digits of SHA-256 of namespace/policy.
std::string policyLabelValue(const std::string& namespace_, const std::string& policy);

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
  std::mutex mutex_;
  // (slo, rule) pairs that fired at the last reconcile, so a rule's Event is sent when it
  // starts firing, not at every reconcile.
  std::map<std::string, std::set<std::pair<std::string, std::string>>> firing_;
  // Per policy: its frozen SLOs that are gone, and since when (kMissingSloGrace).
  std::map<std::string, std::map<std::string, TimePoint>> missing_;
};

}  // namespace relops::policy
