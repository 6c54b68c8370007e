#include "controllers/oncall/decide.h"

#include <algorithm>

#include "controllers/oncall/load.h"
#include "controllers/oncall/rotation_state.h"
#include "controllers/oncall/schedule.h"

namespace relops::oncall {
namespace {

using common::removeCondition;
using common::setCondition;
using common::condition_status::kFalse;
using common::condition_status::kTrue;
using common::condition_status::kUnknown;

bool conditionIs(const Status& status, std::string_view type, std::string_view value) {
  const Condition* condition = status.findCondition(type);
  return condition != nullptr && condition->status == value;
}

std::string nameOrNobody(const std::string& name) { return name.empty() ? "nobody" : name; }

// The conditions of the observed status, kept so that their transition times
// survive; only relops's own types are carried.
std::vector<Condition> carriedConditions(const Status& observed) {
  std::vector<Condition> carried;
  for (const Condition& condition : observed.conditions) {
    for (std::string_view type : {kConditionReady, kConditionCovered, kConditionBalanced,
                                  kConditionRouted, kConditionStalled}) {
      if (condition.type == type) carried.push_back(condition);
    }
  }
  return carried;
}

Desired finish(Status status, const Observed& observed, std::vector<Event> events,
               std::optional<Instant> requeueAt) {
  status.calendarPath = observed.calendarPath;
  Desired desired;
  desired.statusJson = toJson(status);
  desired.statusChanged = desired.statusJson != observed.status;
  desired.status = std::move(status);
  desired.events = std::move(events);
  desired.requeueAt = requeueAt;
  return desired;
}

// kstatus: Stalled=True and Ready=False with the same reason; the schedule
// fields are dropped, since they would describe a spec that no longer is.
Desired stalled(const Status& observed, const Observed& input, std::string_view reason,
                const std::string& message, Instant now) {
  Status status;
  status.observedGeneration = input.generation;
  status.conditions = carriedConditions(observed);
  const int64_t generation = input.generation;
  setCondition(status.conditions, kConditionReady, kFalse, reason, message, generation, now);
  setCondition(status.conditions, kConditionCovered, kUnknown, reason,
               "the rotation cannot be scheduled", generation, now);
  setCondition(status.conditions, kConditionBalanced, kUnknown, reason,
               "the rotation cannot be scheduled", generation, now);
  if (status.findCondition(kConditionRouted) != nullptr) {
    setCondition(status.conditions, kConditionRouted, kUnknown, reason,
                 "the rotation cannot be scheduled: its AlertmanagerConfig stays as last "
                 "written, so its alerts go where they went",
                 generation, now);
  }
  setCondition(status.conditions, kConditionStalled, kTrue, reason, message, generation, now);
  std::vector<Event> events;
  const Condition* before = observed.findCondition(kConditionStalled);
  if (before == nullptr || before->status != kTrue || before->message != message) {
    events.push_back({"Warning", std::string(reason), message});
  }
  return finish(std::move(status), input, std::move(events), std::nullopt);
}

std::string tooManyShiftsMessage(int64_t pieces) {
  return "the schedule would have " + std::to_string(pieces) +
         " turns and restriction windows over the look-back and horizon, more than the " +
         std::to_string(kMaxSchedulePieces) +
         " relops computes for one rotation: use longer turns, fewer layers, or a shorter "
         "horizon or fairness.lookBack";
}

std::string describeSpan(const Schedule& schedule, const std::optional<Instant>& start,
                         const std::optional<Instant>& end) {
  const std::string from = start ? schedule.formatLocal(*start) : "before the rotation starts";
  const std::string to = end ? schedule.formatLocal(*end) : "further than relops looks ahead";
  return "from " + from + " to " + to;
}

}  // namespace

Desired decide(const nlohmann::json& specJson, const Observed& observed,
               std::chrono::system_clock::time_point nowPoint) {
  const Instant now = std::chrono::floor<std::chrono::seconds>(nowPoint);
  auto parsedStatus = parseStatus(observed.status);
  const Status previous = parsedStatus ? std::move(parsedStatus).value() : Status{};

  auto spec = parseSpec(specJson);
  if (!spec) return stalled(previous, observed, kReasonInvalidSpec, spec.error().describe(), now);
  if (const int64_t pieces = schedulePieces(*spec); pieces > kMaxSchedulePieces) {
    return stalled(previous, observed, kReasonTooManyShifts, tooManyShiftsMessage(pieces), now);
  }
  auto anchored = Schedule::compile(*spec);
  if (!anchored) {
    return stalled(previous, observed, kReasonUnknownTimeZone, anchored.error().describe(), now);
  }
  const std::vector<int64_t> offsets = carryRotation(*spec, *anchored, previous, now);
  auto compiled = Schedule::compile(*spec, offsets);
  if (!compiled) {
    return stalled(previous, observed, kReasonUnknownTimeZone, compiled.error().describe(), now);
  }
  const Schedule& schedule = *compiled;
  const int64_t generation = observed.generation;

  Status status;
  status.observedGeneration = generation;
  status.conditions = carriedConditions(previous);
  removeCondition(status.conditions, kConditionStalled);

  // The horizon and the load window are anchored at the start of the local
  // day, not at `now`: the status then changes only at schedule edges and at
  // local midnight, and an idle rotation causes no writes in between.
  const Instant dayStart = schedule.startOfLocalDay(now);
  const Instant horizonEnd = dayStart + spec->horizon.nominal();
  const Instant loadStart = dayStart - spec->fairness.lookBack.nominal();

  const OpenShift current = schedule.shiftAt(now);
  status.onCall = CurrentOnCall{current.participant, current.layer, current.start, current.end};

  for (size_t i = 0; i < spec->layers.size(); ++i) {
    const LayerTurn turn = schedule.turnAt(i, now);
    LayerStatus layer;
    layer.name = spec->layers[i].name;
    layer.rotation = rotationPosition(spec->layers[i], offsets[i]);
    if (turn.index >= 0) {
      layer.participant = turn.participant;
      layer.active = turn.active;
      layer.since = turn.start;
      layer.until = turn.end;
    } else {
      // Before its start a layer covers nobody; `until` says when it begins.
      layer.until = schedule.resolve(spec->layers[i].start);
    }
    status.layers.push_back(std::move(layer));
  }

  const std::optional<Handoff> handoff = schedule.nextHandoff(now);
  if (handoff) status.nextHandoff = HandoffStatus{handoff->time, handoff->from, handoff->to};

  for (const Shift& shift : schedule.shifts(now, horizonEnd)) {
    if (status.upcomingShifts.size() == kMaxUpcomingShifts) break;
    ShiftStatus entry{shift.participant, shift.layer, shift.start, shift.end};
    // The piece clipped at `now` is the current shift: report where it began.
    if (shift.start == now && current.start && !current.participant.empty()) {
      entry.start = *current.start;
    }
    status.upcomingShifts.push_back(std::move(entry));
  }

  const std::vector<Interval> gaps = schedule.gaps(now, horizonEnd);
  for (const Interval& gap : gaps) {
    if (status.gaps.size() == kMaxGaps) break;
    GapStatus entry{gap.start, gap.end};
    if (gap.start == now && current.participant.empty()) entry.start = current.start;
    // A gap cut by the horizon is reported with its true end.
    if (gap.end == horizonEnd)
      entry.end = schedule.shiftAt(horizonEnd - std::chrono::seconds(1)).end;
    status.gaps.push_back(std::move(entry));
  }

  const std::vector<ParticipantLoad> load = computeLoad(schedule, loadStart, horizonEnd);
  const Balance balance = computeBalance(*spec, load);
  LoadStatus loadStatus{loadStart, horizonEnd, {}};
  for (const ParticipantLoad& entry : load) {
    loadStatus.participants.push_back({entry.participant, formatHours(entry.onCall),
                                       formatHours(entry.offHours), formatHours(entry.weekend)});
  }
  status.load = std::move(loadStatus);
  status.balance = BalanceStatus{formatPercent(balance.score), balance.overloaded};

  // Ready: the schedule was computed. Coverage and fairness are reported by
  // their own conditions, as a Deployment is Available apart from Progressing.
  const std::string readyMessage =
      current.participant.empty()
          ? "nobody is on call now"
          : current.participant + " is on call (" + current.layer + ")" +
                (current.end ? " until " + schedule.formatLocal(*current.end) : "");
  setCondition(status.conditions, kConditionReady, kTrue, kReasonScheduled, readyMessage,
               generation, now);

  std::string coveredMessage;
  if (gaps.empty()) {
    coveredMessage = "someone is on call at every moment until " +
                     schedule.formatLocal(horizonEnd) + " (horizon " + spec->horizon.toString() +
                     ")";
    setCondition(status.conditions, kConditionCovered, kTrue, kReasonFullyCovered, coveredMessage,
                 generation, now);
  } else {
    const GapStatus& first = status.gaps.front();
    coveredMessage = "nobody is on call " + describeSpan(schedule, first.start, first.end) + "; " +
                     std::to_string(gaps.size()) + " gap(s) within the horizon (" +
                     spec->horizon.toString() + ")";
    setCondition(status.conditions, kConditionCovered, kFalse, kReasonCoverageGap, coveredMessage,
                 generation, now);
  }

  std::string balancedMessage;
  const std::string score = formatPercent(balance.score) + "%";
  const std::string window =
      "from " + schedule.formatLocal(loadStart) + " to " + schedule.formatLocal(horizonEnd);
  if (balance.overloaded.empty()) {
    balancedMessage = "balance score " + score + " " + window + "; nobody carries more than " +
                      spec->fairness.allowedImbalance + "% above the mean";
    setCondition(status.conditions, kConditionBalanced, kTrue, kReasonWithinAllowedImbalance,
                 balancedMessage, generation, now);
  } else {
    std::string who;
    for (const std::string& name : balance.overloaded) {
      const auto entry = std::find_if(load.begin(), load.end(), [&](const ParticipantLoad& l) {
        return l.participant == name;
      });
      if (!who.empty()) who += ", ";
      who += name + " (" + formatHours(entry->onCall) + " h)";
    }
    balancedMessage =
        who + " carry more than " + spec->fairness.allowedImbalance + "% above the mean of " +
        formatHours(std::chrono::seconds(static_cast<int64_t>(balance.meanHours * 3600.0 + 0.5))) +
        " h; balance score " + score + " " + window;
    setCondition(status.conditions, kConditionBalanced, kFalse, kReasonOverloaded, balancedMessage,
                 generation, now);
  }

  // Routing: the receiver of whoever is on call now, in the AlertmanagerConfig relops owns.
  std::optional<nlohmann::json> child;
  DueNotices notices;
  const bool routingOff = !spec->routing;
  if (routingOff) {
    removeCondition(status.conditions, kConditionRouted);
  } else {
    auto built = alertmanagerConfigJson(*spec->routing, observed.rotation, current.participant);
    if (!built) {
      return stalled(previous, observed, kReasonInvalidSpec, built.error().message(), now);
    }
    const std::string childName = (*built)["metadata"].value("name", "");
    const std::string receiver = receiverName(current.participant);
    if (observed.routingProblem) {
      const auto& problem = *observed.routingProblem;
      setCondition(status.conditions, kConditionRouted, kFalse, problem.reason, problem.message,
                   generation, now);
      setCondition(status.conditions, kConditionReady, kFalse, problem.reason, problem.message,
                   generation, now);
      setCondition(status.conditions, kConditionStalled, kTrue, problem.reason, problem.message,
                   generation, now);
    } else {
      status.routing = RoutingStatus{receiver, current.participant, current.start, {}, {}};
      std::string through;
      if (observed.routingToConfigMap) {
        status.routing->configMap = childName;
        through = "the Alertmanager configuration fragment in ConfigMap " + childName;
      } else {
        status.routing->alertmanagerConfig = childName;
        through = "AlertmanagerConfig " + childName;
      }
      const std::string whose = current.participant.empty()
                                    ? "the fallback receiver (nobody is on call)"
                                    : current.participant + "'s receiver (" + receiver + ")";
      setCondition(status.conditions, kConditionRouted, kTrue, kReasonReceiverInEffect,
                   "alerts labelled " + std::string(kRotationLabel) + "=\"" +
                       observed.rotation.namespace_ + "/" + observed.rotation.name + "\" go to " +
                       whose + " through " + through,
                   generation, now);
      child = std::move(built).value();
      notices = dueNotices(*spec, schedule, observed.rotation, now);
    }
  }

  // Events, each compared with what the observed status already says.
  std::vector<Event> events;
  if (observed.routingProblem) {
    const Condition* before = previous.findCondition(kConditionStalled);
    if (before == nullptr || before->status != kTrue ||
        before->message != observed.routingProblem->message) {
      events.push_back(
          {"Warning", observed.routingProblem->reason, observed.routingProblem->message});
    }
  }
  if (previous.onCall && previous.onCall->participant != current.participant) {
    std::string message = "Handoff from " + nameOrNobody(previous.onCall->participant) + " to " +
                          nameOrNobody(current.participant);
    if (!current.participant.empty()) message += " (" + current.layer + ")";
    events.push_back({"Normal", std::string(kEventHandoff), std::move(message)});
  }
  if (!gaps.empty()) {
    const bool sameGap = conditionIs(previous, kConditionCovered, kFalse) &&
                         !previous.gaps.empty() && previous.gaps.front() == status.gaps.front();
    if (!sameGap) events.push_back({"Warning", std::string(kEventCoverageGap), coveredMessage});
  }
  if (!balance.overloaded.empty()) {
    const bool sameSet = conditionIs(previous, kConditionBalanced, kFalse) && previous.balance &&
                         previous.balance->overloaded == balance.overloaded;
    if (!sameSet) events.push_back({"Warning", std::string(kEventUnbalanced), balancedMessage});
  }

  std::optional<Instant> requeueAt = schedule.nextLocalMidnight(now);
  if (const std::optional<Instant> change = schedule.nextChange(now)) {
    requeueAt = std::min(*requeueAt, *change);
  }
  if (notices.nextAt) requeueAt = std::min(*requeueAt, *notices.nextAt);
  Desired desired = finish(std::move(status), observed, std::move(events), requeueAt);
  desired.alertmanagerConfig = std::move(child);
  desired.notices = std::move(notices.notices);
  desired.routingOff = routingOff;
  return desired;
}

}  // namespace relops::oncall
