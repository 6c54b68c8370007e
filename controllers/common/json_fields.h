// Reading API objects field by field: every error is kConfig and names the JSON path
// ("spec.indicator.ratio.total: must be a string"), like the API server's field errors.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/base/result.h"

namespace relops::common {

base::Error fieldError(std::string_view path, std::string_view message);

// The string at `key` of `object`, or "" when it is absent or not a string (for apiVersion
// and kind, which are checked before anything else and never throw on a wrong type).
std::string stringOrEmpty(const nlohmann::json& object, std::string_view key);

// A view of one JSON object at `path`.
class JsonObject {
 public:
  // Fails unless `value` is an object (a missing value reads as an empty object).
  static base::Result<JsonObject> at(const nlohmann::json* value, std::string path);

  const std::string& path() const { return path_; }
  std::string child(std::string_view key) const;
  bool has(std::string_view key) const;
  const nlohmann::json* get(std::string_view key) const;

  base::Result<std::optional<std::string>> optionalString(std::string_view key,
                                                          size_t maxLength = 1024) const;
  base::Result<std::string> requiredString(std::string_view key, size_t maxLength = 1024) const;
  base::Result<std::optional<bool>> optionalBool(std::string_view key) const;
  base::Result<std::optional<int64_t>> optionalInt(std::string_view key) const;
  // Also fails outside [min, max] (the CRD's minimum and maximum).
  base::Result<std::optional<int64_t>> optionalInt(std::string_view key, int64_t min,
                                                   int64_t max) const;
  base::Result<std::vector<std::string>> stringList(std::string_view key, size_t maxItems,
                                                    size_t maxLength) const;
  base::Result<std::map<std::string, std::string>> stringMap(std::string_view key, size_t maxItems,
                                                             size_t maxLength) const;

 private:
  const nlohmann::json* value_ = nullptr;
  std::string path_;
};

// Shared metadata relops reads from its own kinds.
struct ObjectMeta {
  std::string name;
  std::string namespace_;
  std::string uid;
  int64_t generation = 0;
  std::map<std::string, std::string> labels;
};

base::Result<ObjectMeta> parseObjectMeta(const nlohmann::json& object);
// Writes only what is set (name and namespace always).
nlohmann::json objectMetaJson(const ObjectMeta& meta);

// metav1.Condition.
struct Condition {
  std::string type;
  std::string status;  // True, False, Unknown
  std::optional<int64_t> observedGeneration;
  std::string lastTransitionTime;
  std::string reason;
  std::string message;
  friend bool operator==(const Condition&, const Condition&) = default;
};

base::Result<std::vector<Condition>> parseConditions(const JsonObject& status);
nlohmann::json conditionsJson(const std::vector<Condition>& conditions);

}  // namespace relops::common
