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

// A policy's freeze has up to two bindings: the workloads it names, and — when more are
// selected than kMaxNamedWorkloads — whatever its workloadSelector selects.
enum class FreezeBindingKind { kNamed, kBySelector };

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
std::string freezeBindingName(const std::string& namespace_, const std::string& policy,
                              FreezeBindingKind kind = FreezeBindingKind::kNamed);
// The value of kPolicyHashLabel: 40 hex digits of SHA-256 of namespace/policy.
std::string policyLabelValue(const std::string& namespace_, const std::string& policy);

// The API server fills defaults into admission objects, so "unchanged" is judged by a hash
// of what relops applied (spec and owners), kept in an annotation of the object relops owns.
inline constexpr char kAppliedHashAnnotation[] = "relops.dev/applied-hash";
// `object` with kAppliedHashAnnotation set to the hash of its spec and ownerReferences.
nlohmann::json stampAppliedHash(nlohmann::json object);
// True when `applied` (the object as cached, null when there is none) carries the applied
// hash of `desired` (a stampAppliedHash result): applying it again would change nothing.
bool appliedAsIs(const nlohmann::json* applied, const nlohmann::json& desired);

}  // namespace relops::policy
