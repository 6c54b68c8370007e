// The OnCallRotation controller's one pure decision (DESIGN.md: gather,
// decide, act). The reconciler gathers the object's spec, metadata.generation
// and status and the current time, calls decide(), then writes the status if
// it changed, emits the events and requeues at the instant returned.
//
// Conditions (kstatus): Ready, Covered, Balanced, Routed (with spec.routing), and
// Stalled for a spec that passes the schema but cannot be scheduled (unknown time
// zone, ...) or routed (the AlertmanagerConfig is rejected).
// Events, deduplicated against the observed status so that a resync never
// repeats one: Handoff (Normal) when the person on call changes, CoverageGap
// and Unbalanced (Warning) when the first gap or the overloaded set changes.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "controllers/common/event.h"
#include "controllers/oncall/alertmanager_config.h"
#include "controllers/oncall/notices.h"
#include "controllers/oncall/oncall_types.h"

namespace relops::oncall {

// What the reconciler read from the API.
struct Observed {
  int64_t generation = 0;  // metadata.generation
  nlohmann::json status;   // .status as stored; null when never written
  // The feed path the reconciler derived for this rotation (token included),
  // copied to status.calendarPath; empty when calendar feeds are off.
  std::string calendarPath{};
  // The rotation itself: the owner of the AlertmanagerConfig that routes its alerts.
  RotationRef rotation{};
  // Why the routing child could not be written (the API server rejected it, its kind is not
  // installed): the status then says so, Stalled, rather than that the alerts are routed.
  struct RoutingProblem {
    std::string reason;
    std::string message;
  };
  std::optional<RoutingProblem> routingProblem{};
  // The routing goes into a ConfigMap (an Alertmanager configuration fragment), not an
  // AlertmanagerConfig: this cluster does not serve that kind.
  bool routingToConfigMap = false;
};

using common::Event;

struct Desired {
  Status status;
  nlohmann::json statusJson;   // toJson(status), what to write to /status
  bool statusChanged = false;  // statusJson differs from the observed status
  std::vector<Event> events;
  // Exactly the next instant at which the status can change (a handoff, a
  // restriction or override edge, the local midnight that moves the horizon);
  // absent when stalled.
  std::optional<Instant> requeueAt;
  // With spec.routing: the AlertmanagerConfig to apply (alertmanager_config.h), and the
  // shift notices due now (notices.h), posted when relops has an Alertmanager.
  std::optional<nlohmann::json> alertmanagerConfig;
  std::vector<Notice> notices;
  // The spec asks for no routing: a routing child left from before goes. A stalled rotation
  // keeps the child it had (its alerts keep going where they went), so this is false then.
  bool routingOff = false;
};

// Condition types and reasons.
using common::kConditionReady;
inline constexpr std::string_view kConditionCovered = "Covered";
inline constexpr std::string_view kConditionBalanced = "Balanced";
inline constexpr std::string_view kConditionRouted = "Routed";
using common::kConditionStalled;
inline constexpr std::string_view kReasonScheduled = "Scheduled";
inline constexpr std::string_view kReasonFullyCovered = "FullyCovered";
inline constexpr std::string_view kReasonCoverageGap = "CoverageGap";
inline constexpr std::string_view kReasonWithinAllowedImbalance = "WithinAllowedImbalance";
inline constexpr std::string_view kReasonOverloaded = "Overloaded";
inline constexpr std::string_view kReasonInvalidSpec = "InvalidSpec";
inline constexpr std::string_view kReasonUnknownTimeZone = "UnknownTimeZone";
inline constexpr std::string_view kReasonTooManyShifts = "TooManyShifts";
inline constexpr std::string_view kReasonReceiverInEffect = "ReceiverInEffect";
inline constexpr std::string_view kReasonRoutingRejected = "RoutingRejected";
inline constexpr std::string_view kReasonRoutingUnavailable = "RoutingUnavailable";
inline constexpr std::string_view kReasonReceiverNotPortable = "ReceiverNotPortable";
inline constexpr std::string_view kEventHandoff = "Handoff";
inline constexpr std::string_view kEventCoverageGap = "CoverageGap";
inline constexpr std::string_view kEventUnbalanced = "Unbalanced";

// `spec` is the object's .spec as read (parsed here, so a spec the engine
// cannot use becomes Stalled rather than an error).
Desired decide(const nlohmann::json& spec, const Observed& observed,
               std::chrono::system_clock::time_point now);

}  // namespace relops::oncall
