// The objects that make the API server enforce a freeze, as pure functions of the policy
// and the decision: one ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1) for all
// freezes, parameterised by the ErrorBudgetPolicy itself so its denial message reads the live
// status, and per policy with an active freeze up to two bindings that name what is frozen.
// The reconciler applies what these return; the table tests check them field by field.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "controllers/policy/policy_types.h"

namespace relops::policy {

// The CRD that owns the admission policy: removing relops's CRDs removes every freeze.
inline constexpr char kErrorBudgetPolicyCrd[] = "errorbudgetpolicies.relops.dev";

// The one admission policy every freeze binding points at.
inline constexpr char kFreezeAdmissionPolicy[] = "relops.dev-freeze";
// Labels on a binding: which ErrorBudgetPolicy it enforces. The name may be longer than a
// label value can be, so the label is a hash and the name is an annotation.
inline constexpr char kPolicyNamespaceLabel[] = "relops.dev/policy-namespace";
inline constexpr char kPolicyHashLabel[] = "relops.dev/policy-hash";
inline constexpr char kPolicyNameAnnotation[] = "relops.dev/policy-name";

// A policy's freeze has up to three bindings: the workloads it names; when more are selected
// than kMaxNamedWorkloads, whatever its workloadSelector selects; and the Argo Rollouts its
// workloadSelector selects (relops lists Deployments, StatefulSets and DaemonSets, not
// Rollouts, so a Rollout is frozen by label: every freeze of the policy covers it, as it
// covers every workload its workloadSelector selects).
enum class FreezeBindingKind { kNamed, kBySelector, kRollouts };

// The ValidatingAdmissionPolicy relops applies. `crdUid`, the UID of the CRD
// kErrorBudgetPolicyCrd, makes that CRD its owner: without the CRD the policy's parameters
// cannot be read, so it goes (and its bindings with it) when the CRD goes.
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
// The binding that freezes the Argo Rollouts the policy's workloadSelector selects.
nlohmann::json freezeRolloutBinding(const std::string& namespace_, const std::string& policy,
                                    const LabelSelector& workloadSelector,
                                    const std::string& admissionPolicyUid = "");
std::string freezeBindingName(const std::string& namespace_, const std::string& policy,
                              FreezeBindingKind kind = FreezeBindingKind::kNamed);
// The value of kPolicyHashLabel: 40 hex digits of SHA-256 of namespace/policy.
std::string policyLabelValue(const std::string& namespace_, const std::string& policy);

}  // namespace relops::policy
