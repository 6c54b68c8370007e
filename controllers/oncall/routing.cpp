#include "controllers/oncall/routing.h"

#include <algorithm>

#include "controllers/common/json_fields.h"
#include "controllers/oncall/oncall_types.h"

namespace relops::oncall {
namespace {

using common::fieldError;
using common::JsonObject;
using nlohmann::json;

constexpr size_t kMaxParticipantName = 63;
constexpr size_t kMaxDurationText = 32;
constexpr size_t kMaxLabelName = 128;

bool isReceiverKind(std::string_view key) {
  return std::find(kReceiverKinds.begin(), kReceiverKinds.end(), key) != kReceiverKinds.end();
}

std::string receiverKindList() {
  std::string list;
  for (std::string_view kind : kReceiverKinds) {
    if (!list.empty()) list += ", ";
    list += kind;
  }
  return list;
}

// What the prometheus-operator (v0.85, pkg/alertmanager/validation/v1alpha1) requires of a
// receiver beyond the CRD's schema: it skips the whole AlertmanagerConfig otherwise, with only an
// Event on it, and pages nobody. Each entry: a kind and one group of fields of which at least one
// must be set.
struct RequiredFields {
  std::string_view kind;
  std::array<std::string_view, 3> anyOf;
};
constexpr std::array<RequiredFields, 7> kRequired = {{
    {"webhookConfigs", {"url", "urlSecret", ""}},
    {"pagerdutyConfigs", {"routingKey", "serviceKey", ""}},
    {"pushoverConfigs", {"userKey", "userKeyFile", ""}},
    {"pushoverConfigs", {"token", "tokenFile", ""}},
    {"snsConfigs", {"targetARN", "topicARN", "phoneNumber"}},
    {"telegramConfigs", {"botToken", "botTokenFile", ""}},
    {"telegramConfigs", {"chatID", "", ""}},
}};

base::Result<void> checkRequired(std::string_view kind, const json& config,
                                 const std::string& path) {
  for (const RequiredFields& required : kRequired) {
    if (required.kind != kind) continue;
    std::string names;
    bool found = false;
    for (std::string_view field : required.anyOf) {
      if (field.empty()) continue;
      found = found || config.contains(std::string(field));
      names += (names.empty() ? "" : " or ") + std::string(field);
    }
    if (!found) return fieldError(path, names + " is required");
  }
  if (kind == "webhookConfigs" && config.contains("url")) {
    const json& url = config["url"];
    const std::string text = url.is_string() ? url.get<std::string>() : "";
    const size_t scheme = text.find("://");
    const bool http =
        scheme != std::string::npos &&
        (text.compare(0, scheme, "http") == 0 || text.compare(0, scheme, "https") == 0) &&
        scheme + 3 < text.size() && text[scheme + 3] != '/';
    if (!http) return fieldError(path + ".url", "must be an http:// or https:// URL with a host");
  }
  return {};
}

// The receiver lists of `object` (every key but those in `ignored`), each a list of at most
// kMaxReceiverConfigs objects; at least one entry overall.
base::Result<ReceiverConfigs> parseReceiverConfigs(const json& object, const std::string& path,
                                                   std::string_view ignored) {
  if (!object.is_object()) return fieldError(path, "must be an object");
  ReceiverConfigs configs;
  size_t entries = 0;
  for (const auto& [key, value] : object.items()) {
    if (key == ignored) continue;
    const std::string keyPath = path + "." + key;
    if (!isReceiverKind(key)) {
      return fieldError(
          keyPath, "is not a receiver kind of AlertmanagerConfig; one of " + receiverKindList());
    }
    if (!value.is_array()) return fieldError(keyPath, "must be a list");
    if (value.size() > kMaxReceiverConfigs) {
      return fieldError(keyPath,
                        "must have at most " + std::to_string(kMaxReceiverConfigs) + " items");
    }
    for (size_t i = 0; i < value.size(); ++i) {
      const std::string itemPath = keyPath + "[" + std::to_string(i) + "]";
      if (!value[i].is_object()) return fieldError(itemPath, "must be an object");
      if (auto checked = checkRequired(key, value[i], itemPath); !checked.ok()) {
        return std::move(checked).error();
      }
    }
    entries += value.size();
    configs.lists[key] = value;
  }
  if (entries == 0) {
    return fieldError(path,
                      "must configure at least one receiver (webhookConfigs, "
                      "slackConfigs, pagerdutyConfigs, ...)");
  }
  return configs;
}

base::Result<std::string> durationField(const JsonObject& object, std::string_view key) {
  auto text = object.optionalString(key, kMaxDurationText);
  if (!text) return std::move(text).error();
  if (!*text) return std::string();
  if (!isAlertmanagerDuration(**text)) {
    return fieldError(object.child(key),
                      "must be an Alertmanager duration such as 30s, 5m or "
                      "4h, got \"" +
                          **text + "\"");
  }
  return **text;
}

base::Result<Notices> parseNotices(const JsonObject& routing) {
  Notices notices;
  if (!routing.has("notices")) return notices;
  auto object = JsonObject::at(routing.get("notices"), routing.child("notices"));
  if (!object) return std::move(object).error();
  auto enabled = object->optionalBool("enabled");
  if (!enabled) return std::move(enabled).error();
  if (*enabled) notices.enabled = **enabled;
  auto lead = object->optionalString("leadTime", 8);
  if (!lead) return std::move(lead).error();
  if (*lead) {
    auto duration = parseDuration(**lead, object->child("leadTime"), "mh");
    if (!duration) return std::move(duration).error();
    if (duration->nominal() > std::chrono::hours(24)) {
      return fieldError(object->child("leadTime"), "must be at most 24h");
    }
    notices.leadTime = std::chrono::duration_cast<std::chrono::minutes>(duration->nominal());
    notices.leadTimeText = **lead;
  }
  return notices;
}

}  // namespace

bool isAlertmanagerDuration(std::string_view text) {
  // Units in the order Alertmanager's model.ParseDuration requires, each at most once.
  static constexpr std::array<std::string_view, 7> kUnits = {"y", "w", "d", "h", "m", "s", "ms"};
  if (text.empty()) return false;
  size_t pos = 0;
  size_t next = 0;  // the first unit still allowed
  while (pos < text.size()) {
    const size_t digitsStart = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == digitsStart) return false;
    // "ms" before "m": the longest unit that matches.
    size_t unit = kUnits.size();
    for (size_t u = next; u < kUnits.size(); ++u) {
      if (text.substr(pos, kUnits[u].size()) == kUnits[u] &&
          (unit == kUnits.size() || kUnits[u].size() > kUnits[unit].size())) {
        unit = u;
      }
    }
    if (unit == kUnits.size()) return false;
    pos += kUnits[unit].size();
    next = unit + 1;
  }
  return true;
}

const ParticipantReceiver* Routing::receiverOf(std::string_view participant) const {
  for (const ParticipantReceiver& receiver : receivers) {
    if (receiver.participant == participant) return &receiver;
  }
  return nullptr;
}

base::Result<Routing> parseRouting(const json& node, const std::string& path) {
  auto object = JsonObject::at(&node, path);
  if (!object) return std::move(object).error();
  Routing routing;
  const std::string receiversPath = object->child("receivers");
  const json* receivers = object->get("receivers");
  if (receivers == nullptr) return fieldError(receiversPath, "required field is missing");
  if (!receivers->is_array()) return fieldError(receiversPath, "must be a list");
  if (receivers->empty() || receivers->size() > kMaxReceivers) {
    return fieldError(receiversPath, "must have 1 to " + std::to_string(kMaxReceivers) + " items");
  }
  for (size_t i = 0; i < receivers->size(); ++i) {
    const std::string itemPath = receiversPath + "[" + std::to_string(i) + "]";
    auto item = JsonObject::at(&(*receivers)[i], itemPath);
    if (!item) return std::move(item).error();
    auto participant = item->requiredString("participant", kMaxParticipantName);
    if (!participant) return std::move(participant).error();
    if (routing.receiverOf(*participant) != nullptr) {
      return fieldError(item->child("participant"),
                        "\"" + *participant + "\" already has a receiver; one per participant");
    }
    auto configs = parseReceiverConfigs((*receivers)[i], itemPath, "participant");
    if (!configs) return std::move(configs).error();
    routing.receivers.push_back({std::move(*participant), std::move(*configs)});
  }
  const json* fallback = object->get("fallback");
  if (fallback == nullptr) {
    return fieldError(object->child("fallback"), "required field is missing");
  }
  RELOPS_ASSIGN(routing.fallback, parseReceiverConfigs(*fallback, object->child("fallback"), ""));
  RELOPS_ASSIGN(routing.groupBy, object->stringList("groupBy", kMaxGroupBy, kMaxLabelName));
  for (size_t i = 0; i < routing.groupBy.size(); ++i) {
    const std::string& label = routing.groupBy[i];
    if (std::find(routing.groupBy.begin(), routing.groupBy.begin() + static_cast<long>(i), label) !=
        routing.groupBy.begin() + static_cast<long>(i)) {
      return fieldError(object->child("groupBy"), "\"" + label + "\" is listed twice");
    }
    if (label == "..." && routing.groupBy.size() > 1) {
      return fieldError(object->child("groupBy"),
                        "\"...\" (group by every label) must be "
                        "the only entry");
    }
  }
  RELOPS_ASSIGN(routing.groupWait, durationField(*object, "groupWait"));
  RELOPS_ASSIGN(routing.groupInterval, durationField(*object, "groupInterval"));
  RELOPS_ASSIGN(routing.repeatInterval, durationField(*object, "repeatInterval"));
  RELOPS_ASSIGN(routing.notices, parseNotices(*object));
  return routing;
}

json toJson(const Routing& routing) {
  json receivers = json::array();
  for (const ParticipantReceiver& receiver : routing.receivers) {
    json item = receiver.configs.lists;
    item["participant"] = receiver.participant;
    receivers.push_back(std::move(item));
  }
  json out = {{"receivers", std::move(receivers)}, {"fallback", routing.fallback.lists}};
  if (!routing.groupBy.empty()) out["groupBy"] = routing.groupBy;
  for (const auto& [key, value] : {std::pair{"groupWait", &routing.groupWait},
                                   std::pair{"groupInterval", &routing.groupInterval},
                                   std::pair{"repeatInterval", &routing.repeatInterval}}) {
    if (!value->empty()) out[key] = *value;
  }
  out["notices"] = {{"enabled", routing.notices.enabled},
                    {"leadTime", routing.notices.leadTimeText}};
  return out;
}

}  // namespace relops::oncall
