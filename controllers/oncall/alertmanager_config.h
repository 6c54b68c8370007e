// The AlertmanagerConfig (monitoring.coreos.com/v1alpha1) relops owns for a routed
// rotation, relops-oncall-<name> in the rotation's namespace. Its route matches the
// rotation's alerts (oncall_rotation="<namespace>/<name>", the label relops's SLO rules
// carry; the prometheus-operator adds namespace="<namespace>" to it) and sends them to
// the receiver in effect: whoever is on call now, or the fallback during a coverage gap.
// One child route per receiver takes the shift notices relops posts to Alertmanager
// (labelled relops_notice_receiver="<receiver>") to the person they are for.
//
// The object changes only when the receiver in effect or the spec changes: at a
// handoff, an override's edge, a gap's edge.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "controllers/oncall/routing.h"
#include "operator/base/result.h"

namespace relops::oncall {

inline constexpr std::string_view kRotationLabel = "oncall_rotation";
inline constexpr std::string_view kNoticeReceiverLabel = "relops_notice_receiver";
inline constexpr std::string_view kFallbackReceiver = "fallback";
inline constexpr std::string_view kChildPrefix = "relops-oncall-";
inline constexpr std::string_view kAlertmanagerConfigApiVersion = "monitoring.coreos.com/v1alpha1";
inline constexpr std::string_view kAlertmanagerConfigKind = "AlertmanagerConfig";

// The receiver of `participant` in the AlertmanagerConfig; the fallback for "".
std::string receiverName(std::string_view participant);

// relops-oncall-<name>; an error past 253 characters (the CRD stops such a name first).
base::Result<std::string> alertmanagerConfigName(std::string_view rotation);

// What the child is made of besides the routing.
struct RotationRef {
  std::string namespace_;
  std::string name;
  std::string uid;  // the owner reference; none when empty (the CLI)
};

// The child object, ready for a server-side apply. `participant` is who is on call now
// ("" during a coverage gap).
base::Result<nlohmann::json> alertmanagerConfigJson(const Routing& routing,
                                                    const RotationRef& rotation,
                                                    std::string_view participant);

// Whether the stored child already says everything `desired` says: its labels, owner and
// spec, where the stored spec may hold more (the schema's defaults, such as a Secret
// reference's name: ""). An edit of what relops wrote makes it false, so the edit is undone.
bool childUpToDate(const nlohmann::json* stored, const nlohmann::json& desired);

}  // namespace relops::oncall
