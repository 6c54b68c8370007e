// Helpers for cache transforms (ReflectorOptions::transform, Manager::setTransform): a
// controller that reads little of a large kind caches only that.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>

namespace relops::common {

// A new object of the same apiVersion and kind with only the named metadata fields,
// moved out of `object`; the caller adds what else it reads and replaces `object`.
nlohmann::json keepMetadata(nlohmann::json& object, std::initializer_list<const char*> fields);

// The transform of the shared Deployment/StatefulSet/DaemonSet caches: identity, labels (a
// policy's workloadSelector), generation, spec.replicas and status; the pod template, often
// most of the object, is not cached. One function for every controller that watches
// workloads, since the first to register sets the transform of the shared informer.
void keepWorkloadEssentials(nlohmann::json& object);

// How an informer caches a child relops writes whole (a rule file, a routing fragment):
// identity, labels, owners and a digest of the content relops writes (spec or data), not
// the content itself, most of such a child's memory. One function for every kind whose
// children share an informer (ConfigMaps carry SLO rules and on-call routing alike).
void keepChildEssentials(nlohmann::json& object);
// Whether a child cached by keepChildEssentials already is `desired`: the same content,
// and `desired`'s labels and owners present.
bool childUpToDate(const nlohmann::json* cached, const nlohmann::json& desired);

}  // namespace relops::common
