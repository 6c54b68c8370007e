// What the two kinds of freeze (ErrorBudgetPolicy's, ChangeWindow's) share in the admission
// objects that make the API server enforce them: the workloads a freeze covers, the rule that
// a pod-template change is denied and scaling is not, the one exemption for both (an
// annotation AND the `exempt` permission on errorbudgetpolicies.relops.dev, checked by the
// API server's CEL authorizer for the user making the request, so one RoleBinding exempts
// from both), and the applied-hash that tells whether an admission object needs applying.
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace relops::common {

// The one annotation that exempts an object from a freeze. It is fixed, and it only counts
// when whoever makes the change may `exempt` errorbudgetpolicies.relops.dev in that
// namespace (checked by the API server in admission).
inline constexpr std::string_view kExemptAnnotation = "relops.dev/freeze-exempt";
inline constexpr std::string_view kExemptVerb = "exempt";

// The workloads whose pod template (spec.template) a freeze covers.
struct FrozenResource {
  std::string_view kind;
  std::string_view group;
  std::string_view version;
  std::string_view resource;
};
inline constexpr std::array<FrozenResource, 4> kFrozenResources = {{
    {"Deployment", "apps", "v1", "deployments"},
    {"StatefulSet", "apps", "v1", "statefulsets"},
    {"DaemonSet", "apps", "v1", "daemonsets"},
    // Argo Rollouts: its pod template is spec.template too.
    {"Rollout", "argoproj.io", "v1alpha1", "rollouts"},
}};

// resourceRules matching UPDATEs of every kFrozenResources resource.
nlohmann::json frozenResourceRules();
// CEL: true when the request leaves the pod template as it was (scaling, labels, ...).
std::string templateUnchangedExpression();
// CEL: true when the object carries kExemptAnnotation and the requesting user may
// kExemptVerb errorbudgetpolicies.relops.dev in the object's namespace.
std::string exemptExpression();
// The end of every denial message: how to be exempt.
std::string exemptHint();

// The ownerReference of a cluster-scoped object: `controller`, no blockOwnerDeletion (deleting
// the owner must never wait on it).
nlohmann::json clusterOwnerReference(std::string_view apiVersion, std::string_view kind,
                                     std::string_view name, std::string_view uid);

// The API server fills defaults into admission objects, so "unchanged" is judged by a hash
// of what relops applied (spec and owners), kept in an annotation of the object relops owns.
inline constexpr char kAppliedHashAnnotation[] = "relops.dev/applied-hash";
// `object` with kAppliedHashAnnotation set to the hash of its spec and ownerReferences.
nlohmann::json stampAppliedHash(nlohmann::json object);
// True when `applied` (the object as cached, null when there is none) carries the applied
// hash of `desired` (a stampAppliedHash result): applying it again would change nothing.
bool appliedAsIs(const nlohmann::json* applied, const nlohmann::json& desired);

}  // namespace relops::common
