#include "controllers/changewindow/admission.h"

#include "controllers/common/bounded_names.h"
#include "controllers/common/freeze_admission.h"
#include "operator/base/digest.h"

namespace relops::changewindow {

using nlohmann::json;

json windowAdmissionPolicy(const std::string& crdUid) {
  // Built from the ChangeWindow's live status and reason; reads like freezeMessage().
  const std::string message =
      "'change freeze: ChangeWindow ' + params.metadata.namespace + '/' + params.metadata.name + "
      "' is active until ' + (has(params.status.currentWindow) ? "
      "params.status.currentWindow.end : 'further notice') + (has(params.spec.reason) && "
      "params.spec.reason != '' ? ' (' + params.spec.reason + ')' : '') + '. Changes to the pod "
      "template are denied until it ends; scaling is allowed. " +
      common::exemptHint() + "'";
  json metadata = {{"name", kWindowAdmissionPolicy},
                   {"labels", {{"app.kubernetes.io/managed-by", "relops"}}}};
  if (!crdUid.empty()) {
    metadata["ownerReferences"] = common::clusterOwnerReference(
        "apiextensions.k8s.io/v1", "CustomResourceDefinition", kChangeWindowCrd, crdUid);
  }
  return {
      {"apiVersion", "admissionregistration.k8s.io/v1"},
      {"kind", "ValidatingAdmissionPolicy"},
      {"metadata", std::move(metadata)},
      {"spec",
       {{"failurePolicy", "Fail"},
        {"paramKind", {{"apiVersion", kApiVersion}, {"kind", kKind}}},
        {"matchConstraints", {{"resourceRules", common::frozenResourceRules()}}},
        {"variables",
         json::array({{{"name", "active"},
                       {"expression",
                        "has(params.status) && has(params.status.active) && params.status.active "
                        "&& params.spec.type == 'Freeze'"}},
                      {{"name", "exempt"}, {"expression", common::exemptExpression()}}})},
        {"validations", json::array({{{"expression", "!variables.active || (" +
                                                         common::templateUnchangedExpression() +
                                                         ") || variables.exempt"},
                                      {"messageExpression", message},
                                      {"reason", "Forbidden"}}})}}}};
}

std::string windowBindingName(const std::string& namespace_, const std::string& name) {
  return common::boundedName("relops.dev-changewindow." + namespace_ + "." + name,
                             namespace_ + "/" + name, 253);
}

json windowBinding(const ChangeWindow& window, const std::string& admissionPolicyUid) {
  const std::string& namespace_ = window.metadata.namespace_;
  const std::string& name = window.metadata.name;
  json matchResources = {
      {"namespaceSelector", {{"matchLabels", {{"kubernetes.io/metadata.name", namespace_}}}}},
      {"resourceRules", common::frozenResourceRules()}};
  if (window.spec.workloadSelector) {
    matchResources["objectSelector"] = common::labelSelectorJson(*window.spec.workloadSelector);
  }
  json binding = {
      {"apiVersion", "admissionregistration.k8s.io/v1"},
      {"kind", "ValidatingAdmissionPolicyBinding"},
      {"metadata",
       {{"name", windowBindingName(namespace_, name)},
        {"labels",
         {{"app.kubernetes.io/managed-by", "relops"},
          {kWindowNamespaceLabel, namespace_},
          {kWindowHashLabel, base::sha256Hex(namespace_ + "/" + name).substr(0, 40)}}},
        {"annotations", {{kWindowNameAnnotation, name}}}}},
      {"spec",
       {{"policyName", kWindowAdmissionPolicy},
        {"validationActions", {"Deny"}},
        {"paramRef",
         {{"name", name}, {"namespace", namespace_}, {"parameterNotFoundAction", "Allow"}}},
        {"matchResources", std::move(matchResources)}}}};
  if (!admissionPolicyUid.empty()) {
    binding["metadata"]["ownerReferences"] = common::clusterOwnerReference(
        "admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", kWindowAdmissionPolicy,
        admissionPolicyUid);
  }
  return binding;
}

}  // namespace relops::changewindow
