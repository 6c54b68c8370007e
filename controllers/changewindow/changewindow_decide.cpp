#include "controllers/changewindow/changewindow_decide.h"

#include "controllers/common/conditions.h"
#include "controllers/common/freeze_admission.h"

namespace relops::changewindow {

using common::formatRfc3339;
using nlohmann::json;

base::Result<Occurrences> occurrencesAt(const ChangeWindowSpec& spec, TimePoint now) {
  Occurrences out;
  if (spec.start && spec.end) {
    const TimeWindow only{*spec.start, *spec.end};
    if (only.start <= now && now < only.end) out.current = only;
    if (now < only.start) out.next = only;
    return out;
  }
  auto schedule = common::CronSchedule::compile(spec.schedule, spec.timeZone);
  if (!schedule.ok()) return std::move(schedule).error();
  const common::CronWindows windows(std::move(*schedule), spec.duration);
  out.current = windows.activeAt(now);
  out.next = windows.nextAfter(now);
  return out;
}

std::string freezeMessage(const ChangeWindow& window, const TimeWindow& current) {
  return "change freeze: ChangeWindow " + window.metadata.namespace_ + "/" + window.metadata.name +
         " is active until " + formatRfc3339(current.end) +
         (window.spec.reason.empty() ? "" : " (" + window.spec.reason + ")") +
         ". Changes to the pod template are denied until it ends; scaling is allowed. " +
         common::exemptHint();
}

namespace {

json windowJson(const TimeWindow& window) {
  return {{"start", formatRfc3339(window.start)}, {"end", formatRfc3339(window.end)}};
}

}  // namespace

WindowDecision decideWindow(const ChangeWindow& window, const json& storedStatus,
                            const Selection& selection, TimePoint now) {
  WindowDecision decision;
  const int64_t generation = window.metadata.generation;
  const auto clockNow = std::chrono::system_clock::time_point(now);
  json status = storedStatus.is_object() ? storedStatus : json::object();
  const bool wasActive = status.value("active", false);
  auto occurrences = occurrencesAt(window.spec, now);
  if (!occurrences.ok()) {
    // The schema lets through what only the engine can judge (a zone, an expression).
    status["active"] = false;
    status.erase("currentWindow");
    status.erase("nextStart");
    status.erase("nextEnd");
    common::setStatusCondition(status, "Active", "False", "InvalidSpec",
                               occurrences.error().message(), generation, clockNow);
    common::markStalled(status, generation, "InvalidSpec", occurrences.error().message(), clockNow);
    decision.status = std::move(status);
    return decision;
  }
  decision.current = occurrences->current;
  decision.next = occurrences->next;
  const std::string type(windowTypeName(window.spec.type));
  const std::string what = "ChangeWindow " + window.metadata.name + " (" + type + ")";
  status["active"] = decision.current.has_value();
  if (decision.current) {
    status["currentWindow"] = windowJson(*decision.current);
  } else {
    status.erase("currentWindow");
  }
  if (decision.next) {
    status["nextStart"] = formatRfc3339(decision.next->start);
    status["nextEnd"] = formatRfc3339(decision.next->end);
  } else {
    status.erase("nextStart");
    status.erase("nextEnd");
  }
  json selected = {{"count", selection.names.size()}};
  selected["kind"] = window.spec.type == WindowType::kFreeze ? "workloads" : "slos";
  json names = json::array();
  for (size_t i = 0; i < selection.names.size() && i < kMaxListedNames; ++i) {
    names.push_back(selection.names[i]);
  }
  selected["names"] = std::move(names);
  status["selected"] = std::move(selected);
  if (decision.current) {
    const std::string until = formatRfc3339(decision.current->end);
    common::setStatusCondition(status, "Active", "True", "WindowOpen",
                               what + " is active until " + until, generation, clockNow);
    if (!wasActive) {
      decision.events.push_back(
          {"Normal", "WindowStarted",
           what + " started; it ends at " + until +
               (window.spec.reason.empty() ? "" : ": " + window.spec.reason)});
    }
    decision.requeueAt = decision.current->end;
  } else {
    const std::string message = decision.next ? what + " is not active; it next starts at " +
                                                    formatRfc3339(decision.next->start)
                                              : what + " is not active and has no further window";
    common::setStatusCondition(status, "Active", "False",
                               decision.next ? "WindowClosed" : "NoFurtherWindow", message,
                               generation, clockNow);
    if (wasActive) {
      decision.events.push_back(
          {"Normal", "WindowEnded",
           what + " ended" +
               (decision.next ? "; it next starts at " + formatRfc3339(decision.next->start)
                              : "")});
    }
    if (decision.next) decision.requeueAt = decision.next->start;
  }
  // Look again before the next start so the freeze's binding is in place ahead of it.
  if (!decision.current && decision.next && window.spec.type == WindowType::kFreeze &&
      now < decision.next->start - kBindAhead) {
    decision.requeueAt = decision.next->start - kBindAhead;
  }
  decision.bind = window.spec.type == WindowType::kFreeze &&
                  (decision.current || (decision.next && decision.next->start - kBindAhead <= now));
  common::markReady(status, generation, decision.current ? "Active" : "Inactive",
                    decision.current ? what + " is active" : what + " is not active", clockNow);
  decision.status = std::move(status);
  return decision;
}

}  // namespace relops::changewindow
