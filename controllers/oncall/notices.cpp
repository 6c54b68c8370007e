#include "controllers/oncall/notices.h"

#include "controllers/common/rfc3339.h"
#include "controllers/oncall/schedule.h"

namespace relops::oncall {
namespace {

Notice notice(std::string_view alertname, const RotationRef& rotation, const std::string& who,
              Instant handoff, Instant startsAt, Instant endsAt) {
  Notice out;
  out.labels = {{"alertname", std::string(alertname)},
                {"namespace", rotation.namespace_},
                {std::string(kRotationLabel), rotation.namespace_ + "/" + rotation.name},
                {std::string(kNoticeReceiverLabel), receiverName(who)},
                {"oncall_handoff", common::formatRfc3339(handoff)},
                {"severity", "info"}};
  if (!who.empty()) out.labels["oncall_participant"] = who;
  out.startsAt = startsAt;
  out.endsAt = endsAt;
  return out;
}

std::string rotationName(const RotationRef& rotation) {
  return rotation.namespace_ + "/" + rotation.name;
}

}  // namespace

DueNotices dueNotices(const Spec& spec, const Schedule& schedule, const RotationRef& rotation,
                      Instant now) {
  DueNotices due;
  if (!spec.routing || !spec.routing->notices.enabled) return due;
  const std::chrono::seconds lead = spec.routing->notices.leadTime;

  // The handoff that just happened: the current shift (or gap) began within the window.
  const OpenShift current = schedule.shiftAt(now);
  if (current.start && *current.start <= now && now < *current.start + kHandoffNoticeWindow) {
    const Instant at = *current.start;
    const std::string from = schedule.shiftAt(at - std::chrono::seconds(1)).participant;
    if (from != current.participant) {
      Notice handoff =
          notice(kNoticeHandoff, rotation, current.participant, at, at, at + kHandoffNoticeWindow);
      handoff.labels["oncall_from"] = from.empty() ? "nobody" : from;
      handoff.annotations["summary"] =
          (current.participant.empty() ? "Nobody" : current.participant) + " is on call for " +
          rotationName(rotation) + " from " + schedule.formatLocal(at) + ", after " +
          (from.empty() ? "nobody" : from);
      due.notices.push_back(std::move(handoff));
    }
  }

  // The next handoff: its starting notice from `lead` before it until it happens.
  if (const std::optional<Handoff> next = schedule.nextHandoff(now)) {
    const Instant from = next->time - lead;
    if (from <= now) {
      const bool gap = next->to.empty();
      Notice starting = notice(gap ? kNoticeGapStarting : kNoticeShiftStarting, rotation, next->to,
                               next->time, from, next->time);
      starting.annotations["summary"] =
          gap ? "Nobody is on call for " + rotationName(rotation) + " from " +
                    schedule.formatLocal(next->time) + ": alerts go to the fallback receiver"
              : next->to + "'s on-call shift for " + rotationName(rotation) + " starts at " +
                    schedule.formatLocal(next->time);
      due.notices.push_back(std::move(starting));
    } else {
      due.nextAt = from;
    }
  }
  return due;
}

nlohmann::json alertsJson(const std::vector<Notice>& notices) {
  nlohmann::json alerts = nlohmann::json::array();
  for (const Notice& notice : notices) {
    alerts.push_back({{"labels", notice.labels},
                      {"annotations", notice.annotations},
                      {"startsAt", common::formatRfc3339(notice.startsAt)},
                      {"endsAt", common::formatRfc3339(notice.endsAt)}});
  }
  return alerts;
}

}  // namespace relops::oncall
