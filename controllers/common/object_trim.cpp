#include "controllers/common/object_trim.h"

namespace relops::common {

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

}  // namespace relops::common
