// Adding and removing a finalizer without clobbering anyone else's: a JSON
// patch (RFC 6902) whose first operation tests what the list was built from,
// so a change made in between fails the patch instead of being overwritten.
// A failed test comes back from the API server as a 422 without causes;
// these helpers report it as a Conflict, which the controller loop answers by
// re-reading the object and reconciling again at once.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "operator/base/result.h"
#include "operator/kube/client.h"

namespace relops::runtime {

enum class FinalizerGuard {
  // Test metadata.resourceVersion: any change to the object in between
  // conflicts. The strictest guard, and the default.
  kResourceVersion,
  // Test metadata.finalizers itself: only a change to the list conflicts, so
  // a busy status writer does not keep a finalizer from being added. When
  // the object has no finalizers yet (nothing to test) it falls back to the
  // resourceVersion.
  kFinalizerList,
};

bool hasFinalizer(const nlohmann::json& object, std::string_view finalizer);

// The JSON patch bodies, for tests and for callers that patch themselves.
// Empty when there is nothing to do (already present / already absent).
base::Result<std::string> addFinalizerPatch(
    const nlohmann::json& object, std::string_view finalizer,
    FinalizerGuard guard = FinalizerGuard::kResourceVersion);
base::Result<std::string> removeFinalizerPatch(
    const nlohmann::json& object, std::string_view finalizer,
    FinalizerGuard guard = FinalizerGuard::kResourceVersion);

// Adds `finalizer` to `object` (as last read) and returns the object as the
// server now has it; returns `object` unchanged when the finalizer is already
// there. Conflict when the object changed since it was read.
base::Result<nlohmann::json> addFinalizer(kube::Client& client, const kube::ResourceRef& resource,
                                          const nlohmann::json& object, std::string_view finalizer,
                                          FinalizerGuard guard = FinalizerGuard::kResourceVersion);
// Removes every occurrence of `finalizer`. If it was the last finalizer of an
// object being deleted, the object is gone afterwards (the returned JSON is
// its final state). Conflict when the object changed since it was read.
base::Result<nlohmann::json> removeFinalizer(
    kube::Client& client, const kube::ResourceRef& resource, const nlohmann::json& object,
    std::string_view finalizer, FinalizerGuard guard = FinalizerGuard::kResourceVersion);

}  // namespace relops::runtime
