// The OnCallRotation controller's one pure decision (DESIGN.md: gather,
// decide, act). The reconciler gathers the object's spec, metadata.generation
// and status and the current time, calls decide(), then writes the status if
// it changed, emits the events and requeues at the instant returned.
//
// Conditions (kstatus): Ready, Covered, Balanced, and Stalled for a spec that
// passes the schema but cannot be scheduled (unknown time zone, ...).
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
#include "controllers/oncall/oncall_types.h"

namespace relops::oncall {

// What the reconciler read from the API.
struct Observed {
  int64_t generation = 0;  // metadata.generation
  nlohmann::json status;   // .status as stored; null when never written
  // The feed path the reconciler derived for this rotation (token included),
  // copied to status.calendarPath; empty when calendar feeds are off.
  std::string calendarPath{};
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
};

// Condition types and reasons.
using common::kConditionReady;
inline constexpr std::string_view kConditionCovered = "Covered";
inline constexpr std::string_view kConditionBalanced = "Balanced";
using common::kConditionStalled;
inline constexpr std::string_view kReasonScheduled = "Scheduled";
inline constexpr std::string_view kReasonFullyCovered = "FullyCovered";
inline constexpr std::string_view kReasonCoverageGap = "CoverageGap";
inline constexpr std::string_view kReasonWithinAllowedImbalance = "WithinAllowedImbalance";
inline constexpr std::string_view kReasonOverloaded = "Overloaded";
inline constexpr std::string_view kReasonInvalidSpec = "InvalidSpec";
inline constexpr std::string_view kReasonUnknownTimeZone = "UnknownTimeZone";
inline constexpr std::string_view kReasonTooManyShifts = "TooManyShifts";
inline constexpr std::string_view kEventHandoff = "Handoff";
inline constexpr std::string_view kEventCoverageGap = "CoverageGap";
inline constexpr std::string_view kEventUnbalanced = "Unbalanced";

// `spec` is the object's .spec as read (parsed here, so a spec the engine
// cannot use becomes Stalled rather than an error).
Desired decide(const nlohmann::json& spec, const Observed& observed,
               std::chrono::system_clock::time_point now);

}  // namespace relops::oncall
