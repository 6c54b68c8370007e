// Names of API resources and objects, as the REST paths need them.
#pragma once

#include <string>

namespace relops::kube {

// A group/version/resource with what a path needs to know about it.
// Core resources have an empty group ("/api/v1/..."), the rest live under
// "/apis/<group>/<version>/...".
struct ResourceRef {
  std::string group;     // "" for core, "apps", "relops.dev", ...
  std::string version;   // "v1", "v1alpha1"
  std::string resource;  // lowercase plural: "deployments"
  std::string kind;      // "Deployment", for building and checking objects
  bool namespaced = true;

  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  bool operator==(const ResourceRef&) const = default;
};

// "namespace/name", or "name" for cluster-scoped objects: the work queue key.
struct ObjectKey {
  std::string namespace_;
  std::string name;

  std::string str() const { return namespace_.empty() ? name : namespace_ + "/" + name; }
  static ObjectKey parse(const std::string& key);
  auto operator<=>(const ObjectKey&) const = default;
};

inline ObjectKey ObjectKey::parse(const std::string& key) {
  const auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

// Well-known resources relops uses.
namespace resources {
inline const ResourceRef kNamespaces{"", "v1", "namespaces", "Namespace", false};
inline const ResourceRef kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};
inline const ResourceRef kServices{"", "v1", "services", "Service", true};
inline const ResourceRef kPods{"", "v1", "pods", "Pod", true};
inline const ResourceRef kDeployments{"apps", "v1", "deployments", "Deployment", true};
inline const ResourceRef kStatefulSets{"apps", "v1", "statefulsets", "StatefulSet", true};
inline const ResourceRef kDaemonSets{"apps", "v1", "daemonsets", "DaemonSet", true};
inline const ResourceRef kJobs{"batch", "v1", "jobs", "Job", true};
inline const ResourceRef kLeases{"coordination.k8s.io", "v1", "leases", "Lease", true};
inline const ResourceRef kEvents{"events.k8s.io", "v1", "events", "Event", true};
inline const ResourceRef kCustomResourceDefinitions{
    "apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false};
inline const ResourceRef kValidatingAdmissionPolicies{"admissionregistration.k8s.io", "v1",
                                                      "validatingadmissionpolicies",
                                                      "ValidatingAdmissionPolicy", false};
inline const ResourceRef kValidatingAdmissionPolicyBindings{
    "admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings",
    "ValidatingAdmissionPolicyBinding", false};
}  // namespace resources

}  // namespace relops::kube
