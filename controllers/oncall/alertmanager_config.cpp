#include "controllers/oncall/alertmanager_config.h"

#include <algorithm>

namespace relops::oncall {
namespace {

using nlohmann::json;

constexpr size_t kMaxObjectName = 253;

json equalMatcher(std::string_view name, std::string_view value) {
  return {{"name", name}, {"value", value}, {"matchType", "="}};
}

json receiverJson(std::string name, const ReceiverConfigs& configs) {
  json receiver = configs.lists;
  receiver["name"] = std::move(name);
  return receiver;
}

// Whether `have` holds everything `want` does: the same scalars, objects with at least
// `want`'s keys, lists of the same length whose items each hold `want`'s.
bool contains(const json& have, const json& want) {
  if (want.is_object()) {
    if (!have.is_object()) return false;
    for (const auto& [key, value] : want.items()) {
      const auto it = have.find(key);
      if (it == have.end() || !contains(*it, value)) return false;
    }
    return true;
  }
  if (want.is_array()) {
    if (!have.is_array() || have.size() != want.size()) return false;
    for (size_t i = 0; i < want.size(); ++i) {
      if (!contains(have[i], want[i])) return false;
    }
    return true;
  }
  return have == want;
}

}  // namespace

std::string receiverName(std::string_view participant) {
  if (participant.empty()) return std::string(kFallbackReceiver);
  return "participant-" + std::string(participant);
}

base::Result<std::string> alertmanagerConfigName(std::string_view rotation) {
  std::string name = std::string(kChildPrefix) + std::string(rotation);
  if (name.size() > kMaxObjectName) {
    return base::Error(base::ErrorKind::kConfig,
                       "metadata.name: at most " +
                           std::to_string(kMaxObjectName - kChildPrefix.size()) +
                           " characters with spec.routing, so that relops-oncall-<name> is a "
                           "valid name");
  }
  return name;
}

base::Result<json> alertmanagerConfigJson(const Routing& routing, const RotationRef& rotation,
                                          std::string_view participant) {
  auto childName = alertmanagerConfigName(rotation.name);
  if (!childName) return std::move(childName).error();
  std::string name = std::move(*childName);
  const std::string rotationValue = rotation.namespace_ + "/" + rotation.name;

  json receivers = json::array();
  json noticeRoutes = json::array();
  auto add = [&](std::string receiver, const ReceiverConfigs& configs) {
    noticeRoutes.push_back(
        {{"receiver", receiver},
         {"matchers", json::array({equalMatcher(kNoticeReceiverLabel, receiver)})},
         // A notice is sent as soon as it arrives: its timing is the point.
         {"groupWait", "0s"}});
    receivers.push_back(receiverJson(std::move(receiver), configs));
  };
  for (const ParticipantReceiver& receiver : routing.receivers) {
    add(receiverName(receiver.participant), receiver.configs);
  }
  add(std::string(kFallbackReceiver), routing.fallback);

  const bool known = participant.empty() || routing.receiverOf(participant) != nullptr;
  json route = {{"receiver", known ? receiverName(participant) : std::string(kFallbackReceiver)},
                {"matchers", json::array({equalMatcher(kRotationLabel, rotationValue)})},
                {"routes", std::move(noticeRoutes)}};
  if (!routing.groupBy.empty()) route["groupBy"] = routing.groupBy;
  if (!routing.groupWait.empty()) route["groupWait"] = routing.groupWait;
  if (!routing.groupInterval.empty()) route["groupInterval"] = routing.groupInterval;
  if (!routing.repeatInterval.empty()) route["repeatInterval"] = routing.repeatInterval;
  json spec = {{"route", std::move(route)}, {"receivers", std::move(receivers)}};

  json labels = {{"app.kubernetes.io/managed-by", "relops"}};
  // A label value holds at most 63 characters; the ownerReference links longer names.
  if (rotation.name.size() <= 63) labels["relops.dev/oncallrotation"] = rotation.name;
  json metadata = {
      {"name", std::move(name)}, {"namespace", rotation.namespace_}, {"labels", std::move(labels)}};
  if (!rotation.uid.empty()) {
    metadata["ownerReferences"] = json::array({{{"apiVersion", "relops.dev/v1alpha1"},
                                                {"kind", "OnCallRotation"},
                                                {"name", rotation.name},
                                                {"uid", rotation.uid},
                                                {"controller", true},
                                                {"blockOwnerDeletion", true}}});
  }
  return json{{"apiVersion", kAlertmanagerConfigApiVersion},
              {"kind", kAlertmanagerConfigKind},
              {"metadata", std::move(metadata)},
              {"spec", std::move(spec)}};
}

bool childUpToDate(const json* stored, const json& desired) {
  if (stored == nullptr) return false;
  const json& want = desired["metadata"];
  const json have = stored->value("metadata", json::object());
  if (!contains(have.value("labels", json::object()), want["labels"])) return false;
  if (want.contains("ownerReferences")) {
    const json owners = have.value("ownerReferences", json::array());
    const std::string uid = want["ownerReferences"][0].value("uid", "");
    const bool owned = std::any_of(owners.begin(), owners.end(), [&](const json& owner) {
      return owner.is_object() && owner.value("uid", "") == uid && owner.value("controller", false);
    });
    if (!owned) return false;
  }
  return contains(stored->value("spec", json()), desired["spec"]);
}

}  // namespace relops::oncall
