#include "controllers/policy/admission.h"

#include <functional>
#include <map>
#include <utility>

#include "controllers/policy/bounded_names.h"
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
      "template are denied until the budget recovers; scaling is allowed. For a P0 or security "
      "fix, annotate the object with " +
      std::string(kExemptAnnotation) + ": \"<ticket or reason>\" (needs permission to " +
      std::string(kExemptVerb) + " errorbudgetpolicies.relops.dev in this namespace).'";
  // The annotation alone is something any editor can set in the very patch that changes the
  // image: the exemption also needs `exempt` on errorbudgetpolicies in the namespace, which
  // the API server's authorizer checks for the user making the request (CEL authorizer).
  const std::string exempt = "has(object.metadata.annotations) && '" +
                             std::string(kExemptAnnotation) +
                             "' in object.metadata.annotations && "
                             "authorizer.group('relops.dev').resource('errorbudgetpolicies')"
                             ".namespace(object.metadata.namespace).check('" +
                             std::string(kExemptVerb) + "').allowed()";
  json metadata = {{"name", kFreezeAdmissionPolicy},
                   {"labels", {{"app.kubernetes.io/managed-by", "relops"}}}};
  if (!crdUid.empty()) {
    // No blockOwnerDeletion: removing the CRD must never wait on the policy.
    metadata["ownerReferences"] = json::array({{{"apiVersion", "apiextensions.k8s.io/v1"},
                                                {"kind", "CustomResourceDefinition"},
                                                {"name", kErrorBudgetPolicyCrd},
                                                {"uid", crdUid},
                                                {"controller", true}}});
  }
  return {{"apiVersion", "admissionregistration.k8s.io/v1"},
          {"kind", "ValidatingAdmissionPolicy"},
          {"metadata", std::move(metadata)},
          {"spec",
           {{"failurePolicy", "Fail"},
            {"paramKind", {{"apiVersion", "relops.dev/v1alpha1"}, {"kind", "ErrorBudgetPolicy"}}},
            {"matchConstraints",
             {{"resourceRules",
               json::array({{{"apiGroups", {"apps"}},
                             {"apiVersions", {"v1"}},
                             {"resources", {"deployments", "statefulsets", "daemonsets"}},
                             {"operations", {"UPDATE"}}}})}}},
            {"variables",
             json::array(
                 {{{"name", "workload"},
                   {"expression", "request.kind.kind + '/' + object.metadata.name"}},
                  // A freeze by selector covers whatever its binding's objectSelector let
                  // through; a named one only the workloads it lists.
                  {{"name", "freezes"},
                   {"expression",
                    "has(params.status) && has(params.status.activeFreezes) ? "
                    "params.status.activeFreezes.filter(f, (has(f.workloads) && variables.workload "
                    "in f.workloads) || (has(f.bySelector) && f.bySelector)) : []"}},
                  {{"name", "freeze"},
                   {"expression", "size(variables.freezes) > 0 ? variables.freezes[0] : null"}},
                  {{"name", "exempt"}, {"expression", exempt}}})},
            {"validations", json::array({{{"expression",
                                           "size(variables.freezes) == 0 || "
                                           "object.spec.template == oldObject.spec.template || "
                                           "variables.exempt"},
                                          {"messageExpression", message},
                                          {"reason", "Forbidden"}}})}}}};
}

std::string freezeBindingName(const std::string& namespace_, const std::string& policy,
                              FreezeBindingKind kind) {
  // Readable when it fits; a policy name may be 253 characters, so a longer one is cut
  // and suffixed with the SHA-256 of namespace/policy (and kind).
  const std::string suffix = kind == FreezeBindingKind::kBySelector ? ".selector" : "";
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
    binding["metadata"]["ownerReferences"] =
        json::array({{{"apiVersion", "admissionregistration.k8s.io/v1"},
                      {"kind", "ValidatingAdmissionPolicy"},
                      {"name", kFreezeAdmissionPolicy},
                      {"uid", admissionPolicyUid},
                      {"controller", true}}});
  }
  return binding;
}

json selectorJsonOf(const LabelSelector& selector) {
  json out = json::object();
  if (!selector.matchLabels.empty()) out["matchLabels"] = selector.matchLabels;
  if (!selector.matchExpressions.empty()) {
    json expressions = json::array();
    for (const LabelSelectorRequirement& requirement : selector.matchExpressions) {
      json item = {{"key", requirement.key}, {"operator", requirement.op}};
      if (!requirement.values.empty()) item["values"] = requirement.values;
      expressions.push_back(std::move(item));
    }
    out["matchExpressions"] = std::move(expressions);
  }
  return out;
}

}  // namespace

json freezeBinding(const std::string& namespace_, const std::string& policy,
                   const std::vector<std::string>& workloads,
                   const std::string& admissionPolicyUid) {
  std::map<std::string, std::vector<std::string>> names;  // resource → names
  for (const std::string& workload : workloads) {
    const auto slash = workload.find('/');
    if (slash == std::string::npos) continue;
    const std::string kind = workload.substr(0, slash);
    const std::string resource = kind == "StatefulSet" ? "statefulsets"
                                 : kind == "DaemonSet" ? "daemonsets"
                                                       : "deployments";
    names[resource].push_back(workload.substr(slash + 1));
  }
  json rules = json::array();
  for (const auto& [resource, resourceNames] : names) {
    rules.push_back({{"apiGroups", {"apps"}},
                     {"apiVersions", {"v1"}},
                     {"resources", {resource}},
                     {"operations", {"UPDATE"}},
                     {"resourceNames", resourceNames}});
  }
  return bindingObject(namespace_, policy, FreezeBindingKind::kNamed,
                       {{"resourceRules", std::move(rules)}}, admissionPolicyUid);
}

json freezeSelectorBinding(const std::string& namespace_, const std::string& policy,
                           const LabelSelector& workloadSelector,
                           const std::string& admissionPolicyUid) {
  json rules = json::array({{{"apiGroups", {"apps"}},
                             {"apiVersions", {"v1"}},
                             {"resources", {"deployments", "statefulsets", "daemonsets"}},
                             {"operations", {"UPDATE"}}}});
  return bindingObject(
      namespace_, policy, FreezeBindingKind::kBySelector,
      {{"objectSelector", selectorJsonOf(workloadSelector)}, {"resourceRules", std::move(rules)}},
      admissionPolicyUid);
}

json stampAppliedHash(json object) {
  // The owner is part of what was applied: a binding from before it had one gets it.
  const json owners = object["metadata"].value("ownerReferences", json());
  object["metadata"]["annotations"][kAppliedHashAnnotation] =
      std::to_string(std::hash<std::string>{}(object["spec"].dump() + owners.dump()));
  return object;
}

bool appliedAsIs(const json* applied, const json& desired) {
  if (applied == nullptr) return false;
  const json annotations = applied->at("metadata").value("annotations", json::object());
  return annotations.value(kAppliedHashAnnotation, "") ==
         desired.at("metadata").at("annotations").at(kAppliedHashAnnotation);
}

}  // namespace relops::policy
