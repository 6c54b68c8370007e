#include "controllers/common/object_trim.h"

#include <algorithm>
#include <functional>
#include <string>

namespace relops::common {
namespace {

constexpr char kContentDigest[] = "contentDigest";

std::string contentDigest(const nlohmann::json& object) {
  std::string text;
  for (const char* field : {"spec", "data"}) {
    if (object.contains(field)) text += std::string(field) + "=" + object[field].dump() + "\n";
  }
  return std::to_string(std::hash<std::string>{}(text));
}

}  // namespace

nlohmann::json keepMetadata(nlohmann::json& object, std::initializer_list<const char*> fields) {
  nlohmann::json kept = {{"apiVersion", object.value("apiVersion", "")},
                         {"kind", object.value("kind", "")}};
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return kept;
  nlohmann::json keptMetadata = nlohmann::json::object();
  for (const char* field : fields) {
    if (const auto it = metadata->find(field); it != metadata->end()) {
      keptMetadata[field] = std::move(*it);
    }
  }
  kept["metadata"] = std::move(keptMetadata);
  return kept;
}

void keepWorkloadEssentials(nlohmann::json& object) {
  nlohmann::json kept =
      keepMetadata(object, {"name", "namespace", "uid", "resourceVersion", "generation", "labels"});
  if (object.contains("spec") && object["spec"].contains("replicas")) {
    kept["spec"] = {{"replicas", object["spec"]["replicas"]}};
  }
  if (object.contains("status")) kept["status"] = std::move(object["status"]);
  object = std::move(kept);
}

void keepChildEssentials(nlohmann::json& object) {
  std::string digest = contentDigest(object);
  nlohmann::json kept = keepMetadata(object, {"name", "namespace", "uid", "resourceVersion",
                                              "labels", "ownerReferences", "deletionTimestamp"});
  kept[kContentDigest] = std::move(digest);
  object = std::move(kept);
}

bool childUpToDate(const nlohmann::json* cached, const nlohmann::json& desired) {
  if (cached == nullptr) return false;
  if (cached->value(kContentDigest, "") != contentDigest(desired)) return false;
  const nlohmann::json& want = desired["metadata"];
  const nlohmann::json& have = (*cached)["metadata"];
  if (want.contains("labels")) {
    const nlohmann::json haveLabels = have.value("labels", nlohmann::json::object());
    for (const auto& [name, value] : want["labels"].items()) {
      if (haveLabels.value(name, nlohmann::json()) != value) return false;
    }
  }
  if (want.contains("ownerReferences")) {
    const nlohmann::json haveOwners = have.value("ownerReferences", nlohmann::json::array());
    for (const nlohmann::json& owner : want["ownerReferences"]) {
      const bool found =
          std::any_of(haveOwners.begin(), haveOwners.end(), [&](const nlohmann::json& o) {
            return o.value("uid", "") == owner.value("uid", "") &&
                   o.value("controller", false) == owner.value("controller", false);
          });
      if (!found) return false;
    }
  }
  return true;
}

}  // namespace relops::common
