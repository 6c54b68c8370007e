#include "controllers/policy/admission.h"

#include <functional>
#include <map>
#include <utility>

#include "controllers/common/bounded_names.h"
#include "operator/base/digest.h"

namespace relops::policy {

using nlohmann::json;

json freezeAdmissionPolicy(const std::string& crdUid) {
  // The denial message is built from the ErrorBudgetPolicy's live status, so it shows the
  // budget as it is now; it reads like freezeMessage().
  const std::string message =
      "'change freeze: the error budget of ServiceLevelObjective ' + params.metadata.namespace + "
      "'/' + variables.freeze.slo + ' is spent (' + (has(variables.freeze.budgetRemaining) ? "
      "variables.freeze.budgetRemaining + '% left' : 'no data') + ', ErrorBudgetPolicy ' + "
      "params.metadata.name + ', rule ' + variables.freeze.rule + '). Changes to the pod "
      "template are denied until the budget recovers; scaling is allowed. " +
      common::exemptHint() + "'";
  json metadata = {{"name", kFreezeAdmissionPolicy},
                   {"labels", {{"app.kubernetes.io/managed-by", "relops"}}}};
  if (!crdUid.empty()) {
    // No blockOwnerDeletion: removing the CRD must never wait on the policy.
    metadata["ownerReferences"] = common::clusterOwnerReference(
        "apiextensions.k8s.io/v1", "CustomResourceDefinition", kErrorBudgetPolicyCrd, crdUid);
  }
  return {{"apiVersion", "admissionregistration.k8s.io/v1"},
          {"kind", "ValidatingAdmissionPolicy"},
          {"metadata", std::move(metadata)},
          {"spec",
           {{"failurePolicy", "Fail"},
            {"paramKind", {{"apiVersion", "relops.dev/v1alpha1"}, {"kind", "ErrorBudgetPolicy"}}},
            {"matchConstraints", {{"resourceRules", common::frozenResourceRules()}}},
            {"variables",
             json::array(
                 {{{"name", "workload"},
                   {"expression", "request.kind.kind + '/' + object.metadata.name"}},
                  // A freeze by selector covers whatever its binding's objectSelector let
                  // through, a Rollout (only the rollouts binding lets one through) too;
                  // through; a named one only the workloads it lists.
                  {{"name", "freezes"},
                   {"expression",
                    "has(params.status) && has(params.status.activeFreezes) ? "
                    "params.status.activeFreezes.filter(f, (has(f.workloads) && variables.workload "
                    "in f.workloads) || (has(f.bySelector) && f.bySelector) || "
                    "request.kind.group == 'argoproj.io') : []"}},
                  {{"name", "freeze"},
                   {"expression", "size(variables.freezes) > 0 ? variables.freezes[0] : null"}},
                  {{"name", "exempt"}, {"expression", common::exemptExpression()}}})},
            {"validations",
             json::array({{{"expression",
                            "size(variables.freezes) == 0 || "
                            "(" +
                                common::templateUnchangedExpression() + ") || variables.exempt"},
                           {"messageExpression", message},
                           {"reason", "Forbidden"}}})}}}};
}

std::string freezeBindingName(const std::string& namespace_, const std::string& policy,
                              FreezeBindingKind kind) {
  // Readable when it fits; a policy name may be 253 characters, so a longer one is cut
  // and suffixed with the SHA-256 of namespace/policy (and kind).
  const std::string suffix = kind == FreezeBindingKind::kBySelector ? ".selector"
                             : kind == FreezeBindingKind::kRollouts ? ".rollouts"
                                                                    : "";
  return boundedName("relops.dev-freeze." + namespace_ + "." + policy + suffix,
                     namespace_ + "/" + policy + suffix, 253);
}

std::string policyLabelValue(const std::string& namespace_, const std::string& policy) {
  // A label value is at most 63 characters: a hash of the policy's key, always valid.
  return base::sha256Hex(namespace_ + "/" + policy).substr(0, 40);
}

namespace {

json bindingObject(const std::string& namespace_, const std::string& policy, FreezeBindingKind kind,
                   json matchResources, const std::string& admissionPolicyUid) {
  matchResources["namespaceSelector"] = {
      {"matchLabels", {{"kubernetes.io/metadata.name", namespace_}}}};
  json binding = {
      {"apiVersion", "admissionregistration.k8s.io/v1"},
      {"kind", "ValidatingAdmissionPolicyBinding"},
      {"metadata",
       {{"name", freezeBindingName(namespace_, policy, kind)},
        {"labels",
         {{"app.kubernetes.io/managed-by", "relops"},
          {kPolicyNamespaceLabel, namespace_},
          {kPolicyHashLabel, policyLabelValue(namespace_, policy)}}},
        // Which policy it enforces, in full: labels cannot hold a 253-character name.
        {"annotations", {{kPolicyNameAnnotation, policy}}}}},
      {"spec",
       {{"policyName", kFreezeAdmissionPolicy},
        {"validationActions", {"Deny"}},
        {"paramRef",
         {{"name", policy}, {"namespace", namespace_}, {"parameterNotFoundAction", "Allow"}}},
        {"matchResources", std::move(matchResources)}}}};
  if (!admissionPolicyUid.empty()) {
    // Cluster-scoped owner of a cluster-scoped object, as garbage collection requires. No
    // blockOwnerDeletion: deleting the admission policy must never wait on its bindings.
    binding["metadata"]["ownerReferences"] = common::clusterOwnerReference(
        "admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", kFreezeAdmissionPolicy,
        admissionPolicyUid);
  }
  return binding;
}

}  // namespace

json freezeBinding(const std::string& namespace_, const std::string& policy,
                   const std::vector<std::string>& workloads,
                   const std::string& admissionPolicyUid) {
  std::map<const common::FrozenResource*, std::vector<std::string>> names;  // → names
  for (const std::string& workload : workloads) {
    const auto slash = workload.find('/');
    if (slash == std::string::npos) continue;
    const std::string kind = workload.substr(0, slash);
    const common::FrozenResource* resource = &common::kFrozenResources[0];  // Deployment
    for (const common::FrozenResource& frozen : common::kFrozenResources) {
      if (frozen.kind == kind) resource = &frozen;
    }
    names[resource].push_back(workload.substr(slash + 1));
  }
  json rules = json::array();
  for (const common::FrozenResource& frozen : common::kFrozenResources) {
    const auto found = names.find(&frozen);
    if (found == names.end()) continue;
    rules.push_back({{"apiGroups", {frozen.group}},
                     {"apiVersions", {frozen.version}},
                     {"resources", {frozen.resource}},
                     {"operations", {"UPDATE"}},
                     {"resourceNames", found->second}});
  }
  return bindingObject(namespace_, policy, FreezeBindingKind::kNamed,
                       {{"resourceRules", std::move(rules)}}, admissionPolicyUid);
}

json freezeSelectorBinding(const std::string& namespace_, const std::string& policy,
                           const LabelSelector& workloadSelector,
                           const std::string& admissionPolicyUid) {
  return bindingObject(namespace_, policy, FreezeBindingKind::kBySelector,
                       {{"objectSelector", labelSelectorJson(workloadSelector)},
                        {"resourceRules", common::frozenResourceRules()}},
                       admissionPolicyUid);
}

json freezeRolloutBinding(const std::string& namespace_, const std::string& policy,
                          const LabelSelector& workloadSelector,
                          const std::string& admissionPolicyUid) {
  json rules = json::array();
  for (const common::FrozenResource& frozen : common::kFrozenResources) {
    if (frozen.group == "apps") continue;
    rules.push_back({{"apiGroups", {frozen.group}},
                     {"apiVersions", {frozen.version}},
                     {"resources", {frozen.resource}},
                     {"operations", {"UPDATE"}}});
  }
  return bindingObject(namespace_, policy, FreezeBindingKind::kRollouts,
                       {{"objectSelector", labelSelectorJson(workloadSelector)},
                        {"resourceRules", std::move(rules)}},
                       admissionPolicyUid);
}

}  // namespace relops::policy
