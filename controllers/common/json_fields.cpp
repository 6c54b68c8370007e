#include "controllers/common/json_fields.h"

namespace relops::common {

std::string stringOrEmpty(const nlohmann::json& object, std::string_view key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

base::Error fieldError(std::string_view path, std::string_view message) {
  return base::Error(base::ErrorKind::kConfig, std::string(path) + ": " + std::string(message));
}

base::Result<JsonObject> JsonObject::at(const nlohmann::json* value, std::string path) {
  if (value != nullptr && !value->is_null() && !value->is_object()) {
    return fieldError(path, "must be an object");
  }
  JsonObject object;
  object.value_ = (value != nullptr && value->is_object()) ? value : nullptr;
  object.path_ = std::move(path);
  return object;
}

std::string JsonObject::child(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

const nlohmann::json* JsonObject::get(std::string_view key) const {
  if (value_ == nullptr) return nullptr;
  const auto found = value_->find(key);
  if (found == value_->end() || found->is_null()) return nullptr;
  return &*found;
}

bool JsonObject::has(std::string_view key) const { return get(key) != nullptr; }

base::Result<std::optional<std::string>> JsonObject::optionalString(std::string_view key,
                                                                    size_t maxLength) const {
  const nlohmann::json* value = get(key);
  if (value == nullptr) return std::optional<std::string>();
  if (!value->is_string()) return fieldError(child(key), "must be a string, got " + value->dump());
  std::string text = value->get<std::string>();
  if (text.size() > maxLength) {
    return fieldError(child(key), "must be at most " + std::to_string(maxLength) + " characters");
  }
  return std::optional<std::string>(std::move(text));
}

base::Result<std::string> JsonObject::requiredString(std::string_view key, size_t maxLength) const {
  auto value = optionalString(key, maxLength);
  if (!value) return std::move(value).error();
  if (!value->has_value() || (*value)->empty())
    return fieldError(child(key), "required field is missing");
  return std::move(**value);
}

base::Result<std::optional<bool>> JsonObject::optionalBool(std::string_view key) const {
  const nlohmann::json* value = get(key);
  if (value == nullptr) return std::optional<bool>();
  if (!value->is_boolean())
    return fieldError(child(key), "must be true or false, got " + value->dump());
  return std::optional<bool>(value->get<bool>());
}

base::Result<std::optional<int64_t>> JsonObject::optionalInt(std::string_view key) const {
  const nlohmann::json* value = get(key);
  if (value == nullptr) return std::optional<int64_t>();
  if (!value->is_number_integer()) {
    return fieldError(child(key), "must be an integer, got " + value->dump());
  }
  return std::optional<int64_t>(value->get<int64_t>());
}

base::Result<std::optional<int64_t>> JsonObject::optionalInt(std::string_view key, int64_t min,
                                                             int64_t max) const {
  auto value = optionalInt(key);
  if (!value || !value->has_value()) return value;
  if (**value < min || **value > max) {
    return fieldError(child(key),
                      "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return value;
}

base::Result<std::vector<std::string>> JsonObject::stringList(std::string_view key, size_t maxItems,
                                                              size_t maxLength) const {
  std::vector<std::string> items;
  const nlohmann::json* value = get(key);
  if (value == nullptr) return items;
  if (!value->is_array()) return fieldError(child(key), "must be a list");
  if (value->size() > maxItems) {
    return fieldError(child(key), "must have at most " + std::to_string(maxItems) + " items");
  }
  for (size_t i = 0; i < value->size(); ++i) {
    const std::string path = child(key) + "[" + std::to_string(i) + "]";
    if (!(*value)[i].is_string()) return fieldError(path, "must be a string");
    items.push_back((*value)[i].get<std::string>());
    if (items.back().size() > maxLength) {
      return fieldError(path, "must be at most " + std::to_string(maxLength) + " characters");
    }
  }
  return items;
}

base::Result<std::map<std::string, std::string>> JsonObject::stringMap(std::string_view key,
                                                                       size_t maxItems,
                                                                       size_t maxLength) const {
  std::map<std::string, std::string> entries;
  const nlohmann::json* value = get(key);
  if (value == nullptr) return entries;
  if (!value->is_object()) return fieldError(child(key), "must be a map of strings");
  if (value->size() > maxItems) {
    return fieldError(child(key), "must have at most " + std::to_string(maxItems) + " entries");
  }
  for (const auto& [name, item] : value->items()) {
    if (!item.is_string()) return fieldError(child(key) + "." + name, "must be a string");
    if (item.get_ref<const std::string&>().size() > maxLength) {
      return fieldError(child(key) + "." + name,
                        "must be at most " + std::to_string(maxLength) + " characters");
    }
    entries[name] = item.get<std::string>();
  }
  return entries;
}

base::Result<ObjectMeta> parseObjectMeta(const nlohmann::json& object) {
  auto root = JsonObject::at(&object, "");
  if (!root) return std::move(root).error();
  auto metadata = JsonObject::at(root->get("metadata"), "metadata");
  if (!metadata) return std::move(metadata).error();
  ObjectMeta meta;
  auto name = metadata->requiredString("name", 253);
  if (!name) return std::move(name).error();
  meta.name = std::move(*name);
  auto ns = metadata->optionalString("namespace", 63);
  if (!ns) return std::move(ns).error();
  meta.namespace_ = ns->value_or("default");
  auto uid = metadata->optionalString("uid", 128);
  if (!uid) return std::move(uid).error();
  meta.uid = uid->value_or("");
  auto generation = metadata->optionalInt("generation");
  if (!generation) return std::move(generation).error();
  meta.generation = generation->value_or(0);
  auto labels = metadata->stringMap("labels", 256, 63);
  if (!labels) return std::move(labels).error();
  meta.labels = std::move(*labels);
  return meta;
}

nlohmann::json objectMetaJson(const ObjectMeta& meta) {
  nlohmann::json json = {{"name", meta.name}, {"namespace", meta.namespace_}};
  if (!meta.uid.empty()) json["uid"] = meta.uid;
  if (meta.generation != 0) json["generation"] = meta.generation;
  if (!meta.labels.empty()) json["labels"] = meta.labels;
  return json;
}

base::Result<std::vector<Condition>> parseConditions(const JsonObject& status) {
  std::vector<Condition> conditions;
  const nlohmann::json* list = status.get("conditions");
  if (list == nullptr) return conditions;
  if (!list->is_array()) return fieldError(status.child("conditions"), "must be a list");
  for (size_t i = 0; i < list->size(); ++i) {
    auto item =
        JsonObject::at(&(*list)[i], status.child("conditions") + "[" + std::to_string(i) + "]");
    if (!item) return std::move(item).error();
    Condition condition;
    for (auto [key, target] : {std::pair{"type", &condition.type},
                               {"status", &condition.status},
                               {"lastTransitionTime", &condition.lastTransitionTime},
                               {"reason", &condition.reason},
                               {"message", &condition.message}}) {
      auto text = item->optionalString(key, 32768);
      if (!text) return std::move(text).error();
      *target = text->value_or("");
    }
    auto generation = item->optionalInt("observedGeneration");
    if (!generation) return std::move(generation).error();
    condition.observedGeneration = *generation;
    conditions.push_back(std::move(condition));
  }
  return conditions;
}

nlohmann::json conditionsJson(const std::vector<Condition>& conditions) {
  nlohmann::json list = nlohmann::json::array();
  for (const Condition& condition : conditions) {
    nlohmann::json item = {{"type", condition.type},
                           {"status", condition.status},
                           {"lastTransitionTime", condition.lastTransitionTime},
                           {"reason", condition.reason},
                           {"message", condition.message}};
    if (condition.observedGeneration) item["observedGeneration"] = *condition.observedGeneration;
    list.push_back(std::move(item));
  }
  return list;
}

}  // namespace relops::common
