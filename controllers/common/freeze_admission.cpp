#include "controllers/common/freeze_admission.h"

#include <functional>
#include <map>
#include <vector>

namespace relops::common {

using nlohmann::json;

json frozenResourceRules() {
  // One rule per API group: a rule's groups, versions and resources combine as a product.
  std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>> byGroup;
  for (const FrozenResource& frozen : kFrozenResources) {
    auto& [versions, resources] = byGroup[std::string(frozen.group)];
    if (versions.empty()) versions.emplace_back(frozen.version);
    resources.emplace_back(frozen.resource);
  }
  json rules = json::array();
  for (const auto& [group, versionsAndResources] : byGroup) {
    rules.push_back({{"apiGroups", {group}},
                     {"apiVersions", versionsAndResources.first},
                     {"resources", versionsAndResources.second},
                     {"operations", {"UPDATE"}}});
  }
  return rules;
}

std::string templateUnchangedExpression() {
  // A Rollout may take its template from a Deployment (spec.workloadRef) and have none.
  return "has(object.spec.template) == has(oldObject.spec.template) && "
         "(!has(object.spec.template) || object.spec.template == oldObject.spec.template)";
}

std::string exemptExpression() {
  // The annotation alone is something any editor can set in the very patch that changes the
  // image: the exemption also needs `exempt` on errorbudgetpolicies in the namespace, which
  // the API server's authorizer checks for the user making the request (CEL authorizer).
  return "has(object.metadata.annotations) && '" + std::string(kExemptAnnotation) +
         "' in object.metadata.annotations && "
         "authorizer.group('relops.dev').resource('errorbudgetpolicies')"
         ".namespace(object.metadata.namespace).check('" +
         std::string(kExemptVerb) + "').allowed()";
}

std::string exemptHint() {
  return "For a P0 or security fix, annotate the object with " + std::string(kExemptAnnotation) +
         ": \"<ticket or reason>\" (needs permission to " + std::string(kExemptVerb) +
         " errorbudgetpolicies.relops.dev in this namespace).";
}

json clusterOwnerReference(std::string_view apiVersion, std::string_view kind,
                           std::string_view name, std::string_view uid) {
  return json::array({{{"apiVersion", apiVersion},
                       {"kind", kind},
                       {"name", name},
                       {"uid", uid},
                       {"controller", true}}});
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

}  // namespace relops::common
