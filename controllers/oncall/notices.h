// Shift notices: alerts relops posts to Alertmanager (API v2, with --alertmanager-url) so
// that the person coming on call is told, through the same route as their pages:
//   - OnCallShiftStarting, spec.routing.notices.leadTime before a handoff, to the incoming
//     person's receiver (OnCallCoverageGapStarting to the fallback when nobody comes);
//   - OnCallHandoff at the handoff, to the incoming person (or the fallback).
// Each notice carries relops_notice_receiver, which the AlertmanagerConfig's child routes
// match (alertmanager_config.h), and the handoff instant, so that posting the same notice
// again (a restart, a second pass) is the same alert to Alertmanager and notifies nobody
// twice. A notice whose moment passed while relops was down is not sent late: the starting
// notice is sent until the handoff, the handoff notice for kHandoffNoticeWindow after it.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "controllers/oncall/alertmanager_config.h"
#include "controllers/oncall/oncall_types.h"

namespace relops::oncall {

class Schedule;

inline constexpr std::string_view kNoticeShiftStarting = "OnCallShiftStarting";
inline constexpr std::string_view kNoticeGapStarting = "OnCallCoverageGapStarting";
inline constexpr std::string_view kNoticeHandoff = "OnCallHandoff";
inline constexpr std::chrono::minutes kHandoffNoticeWindow{5};

struct Notice {
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  Instant startsAt{};
  Instant endsAt{};
  bool operator==(const Notice&) const = default;
};

struct DueNotices {
  std::vector<Notice> notices;  // due now
  // The next instant a notice falls due (a handoff minus the lead time), for the requeue.
  std::optional<Instant> nextAt;
};

// The notices of a rotation with routing at `now`.
DueNotices dueNotices(const Spec& spec, const Schedule& schedule, const RotationRef& rotation,
                      Instant now);

// Alertmanager's POST /api/v2/alerts body.
nlohmann::json alertsJson(const std::vector<Notice>& notices);

}  // namespace relops::oncall
