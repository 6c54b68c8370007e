#include "operator/runtime/finalizers.h"

#include <algorithm>
#include <cctype>

namespace relops::runtime {

namespace {

using Json = nlohmann::json;

const Json* finalizersOf(const Json& object) {
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return nullptr;
  const auto finalizers = metadata->find("finalizers");
  if (finalizers == metadata->end() || !finalizers->is_array()) return nullptr;
  return &*finalizers;
}

std::string metadataText(const Json& object, const char* field) {
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return "";
  const auto value = metadata->find(field);
  return value != metadata->end() && value->is_string() ? value->get<std::string>() : "";
}

base::Result<Json> guardOperation(const Json& object, FinalizerGuard guard) {
  if (const Json* finalizers = finalizersOf(object);
      guard == FinalizerGuard::kFinalizerList && finalizers != nullptr) {
    return Json{{"op", "test"}, {"path", "/metadata/finalizers"}, {"value", *finalizers}};
  }
  const std::string resourceVersion = metadataText(object, "resourceVersion");
  if (resourceVersion.empty()) {
    // Without a version there is nothing to guard with: a blind patch could
    // drop someone's finalizer, so refuse (a relops bug, not a user error).
    return base::Error(base::ErrorKind::kInternal,
                       "finalizer patch needs the object's metadata.resourceVersion");
  }
  return Json{{"op", "test"}, {"path", "/metadata/resourceVersion"}, {"value", resourceVersion}};
}

// A failed `test` op comes back as 422 Invalid. The API server wraps the
// JSON-patch error in NewGenericServerResponse, so the Status says only "the
// server rejected our request due to an error in our request" and carries no
// causes, whereas a validation failure of the patched object (an invalid
// finalizer name) always lists its field causes. Other servers keep
// evanphx/json-patch's "testing value <path> failed".
bool isFailedTest(const base::Error& error) {
  if (error.kind() != base::ErrorKind::kInvalid && error.httpStatus() != 422) return false;
  std::string message = error.message();
  std::transform(message.begin(), message.end(), message.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (message.find("testing value") != std::string::npos) return true;
  return error.causes().empty() &&
         message.find("rejected our request due to an error in our request") != std::string::npos;
}

std::string describe(const kube::ResourceRef& resource, const Json& object) {
  const std::string ns = metadataText(object, "namespace");
  const std::string name = metadataText(object, "name");
  return resource.resource + " " + (ns.empty() ? name : ns + "/" + name);
}

base::Result<Json> patchFinalizers(kube::Client& client, const kube::ResourceRef& resource,
                                   const Json& object, const std::string& body,
                                   const std::string& what) {
  const kube::ObjectKey key{metadataText(object, "namespace"), metadataText(object, "name")};
  base::Result<Json> patched = client.patch(resource, key, kube::PatchType::kJson, body);
  if (patched.ok()) return patched;
  if (isFailedTest(patched.error())) {
    return base::Error(
               base::ErrorKind::kConflict,
               describe(resource, object) + " changed since it was read; " + what + " not applied")
        .withHttpStatus(409)
        .withReason("Conflict");
  }
  return std::move(patched).error().context(what + " on " + describe(resource, object));
}

}  // namespace

bool hasFinalizer(const Json& object, std::string_view finalizer) {
  const Json* finalizers = finalizersOf(object);
  if (finalizers == nullptr) return false;
  return std::any_of(finalizers->begin(), finalizers->end(), [&](const Json& entry) {
    return entry.is_string() && entry.get<std::string>() == finalizer;
  });
}

base::Result<std::string> addFinalizerPatch(const Json& object, std::string_view finalizer,
                                            FinalizerGuard guard) {
  if (hasFinalizer(object, finalizer)) return std::string();
  base::Result<Json> test = guardOperation(object, guard);
  if (!test.ok()) return std::move(test).error();
  Json patch = Json::array({*test});
  if (finalizersOf(object) != nullptr) {
    patch.push_back({{"op", "add"}, {"path", "/metadata/finalizers/-"}, {"value", finalizer}});
  } else {
    patch.push_back(
        {{"op", "add"}, {"path", "/metadata/finalizers"}, {"value", Json::array({finalizer})}});
  }
  return patch.dump();
}

base::Result<std::string> removeFinalizerPatch(const Json& object, std::string_view finalizer,
                                               FinalizerGuard guard) {
  if (!hasFinalizer(object, finalizer)) return std::string();
  base::Result<Json> test = guardOperation(object, guard);
  if (!test.ok()) return std::move(test).error();
  Json patch = Json::array({*test});
  const Json& finalizers = *finalizersOf(object);
  // From the back, so earlier indices stay valid as entries go.
  for (size_t i = finalizers.size(); i-- > 0;) {
    if (finalizers[i].is_string() && finalizers[i].get<std::string>() == finalizer) {
      patch.push_back({{"op", "remove"}, {"path", "/metadata/finalizers/" + std::to_string(i)}});
    }
  }
  return patch.dump();
}

base::Result<Json> addFinalizer(kube::Client& client, const kube::ResourceRef& resource,
                                const Json& object, std::string_view finalizer,
                                FinalizerGuard guard) {
  base::Result<std::string> body = addFinalizerPatch(object, finalizer, guard);
  if (!body.ok()) return std::move(body).error();
  if (body->empty()) return object;
  return patchFinalizers(client, resource, object, *body,
                         "add finalizer " + std::string(finalizer));
}

base::Result<Json> removeFinalizer(kube::Client& client, const kube::ResourceRef& resource,
                                   const Json& object, std::string_view finalizer,
                                   FinalizerGuard guard) {
  base::Result<std::string> body = removeFinalizerPatch(object, finalizer, guard);
  if (!body.ok()) return std::move(body).error();
  if (body->empty()) return object;
  return patchFinalizers(client, resource, object, *body,
                         "remove finalizer " + std::string(finalizer));
}

}  // namespace relops::runtime
