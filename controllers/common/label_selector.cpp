#include "controllers/common/label_selector.h"

#include <algorithm>

namespace relops::common {

using nlohmann::json;

base::Result<LabelSelector> parseLabelSelector(const JsonObject& object) {
  LabelSelector selector;
  RELOPS_ASSIGN(selector.matchLabels, object.stringMap("matchLabels", 32, 63));
  const json* expressions = object.get("matchExpressions");
  if (expressions == nullptr) return selector;
  const std::string path = object.child("matchExpressions");
  if (!expressions->is_array()) return fieldError(path, "must be a list");
  if (expressions->size() > 16) return fieldError(path, "must have at most 16 items");
  for (size_t i = 0; i < expressions->size(); ++i) {
    JsonObject item;
    RELOPS_ASSIGN(item, JsonObject::at(&(*expressions)[i], path + "[" + std::to_string(i) + "]"));
    LabelSelectorRequirement requirement;
    RELOPS_ASSIGN(requirement.key, item.requiredString("key", 317));
    RELOPS_ASSIGN(requirement.op, item.requiredString("operator", 16));
    RELOPS_ASSIGN(requirement.values, item.stringList("values", 32, 63));
    const bool wantsValues = requirement.op == "In" || requirement.op == "NotIn";
    if (!wantsValues && requirement.op != "Exists" && requirement.op != "DoesNotExist") {
      return fieldError(item.child("operator"),
                        "Unsupported value \"" + requirement.op +
                            "\": supported values: In, NotIn, Exists, DoesNotExist");
    }
    if (wantsValues == requirement.values.empty()) {
      return fieldError(item.path(),
                        "operators In and NotIn need a non-empty values list; "
                        "Exists and DoesNotExist take no values");
    }
    selector.matchExpressions.push_back(std::move(requirement));
  }
  return selector;
}

json labelSelectorJson(const LabelSelector& selector) {
  json out = json::object();
  if (!selector.matchLabels.empty()) out["matchLabels"] = selector.matchLabels;
  if (!selector.matchExpressions.empty()) {
    json list = json::array();
    for (const auto& requirement : selector.matchExpressions) {
      json item = {{"key", requirement.key}, {"operator", requirement.op}};
      if (!requirement.values.empty()) item["values"] = requirement.values;
      list.push_back(std::move(item));
    }
    out["matchExpressions"] = std::move(list);
  }
  return out;
}

bool LabelSelector::matches(const std::map<std::string, std::string>& labels) const {
  for (const auto& [key, value] : matchLabels) {
    const auto found = labels.find(key);
    if (found == labels.end() || found->second != value) return false;
  }
  for (const auto& requirement : matchExpressions) {
    const auto found = labels.find(requirement.key);
    const bool has = found != labels.end();
    const bool inValues = has && std::find(requirement.values.begin(), requirement.values.end(),
                                           found->second) != requirement.values.end();
    if (requirement.op == "In" && !inValues) return false;
    if (requirement.op == "NotIn" && inValues) return false;
    if (requirement.op == "Exists" && !has) return false;
    if (requirement.op == "DoesNotExist" && has) return false;
  }
  return true;
}

}  // namespace relops::common
