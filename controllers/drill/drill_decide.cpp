// decideDrill(): when runs start, history limits, and the DRDrill's status.
#include <algorithm>
#include <cstdio>

#include "controllers/common/conditions.h"
#include "controllers/drill/decide.h"
#include "controllers/drill/scheduling.h"

namespace relops::drill {
namespace {

using nlohmann::json;
using std::chrono::seconds;

struct Run {
  std::string name;
  RunSpec spec;
  RunStatus status;
  bool deleting = false;
  bool finished() const { return status.phase && terminal(*status.phase); }
};

// Newest first: by completion (finished runs), then scheduled time, then name.
bool newerFinished(const Run& a, const Run& b) {
  const Instant ca = a.status.completionTime.value_or(a.spec.scheduledTime);
  const Instant cb = b.status.completionTime.value_or(b.spec.scheduledTime);
  if (ca != cb) return ca > cb;
  return a.name > b.name;
}

std::string percent(int64_t part, int64_t whole) {
  if (whole == 0) return "";
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "%.1f",
                100.0 * static_cast<double>(part) / static_cast<double>(whole));
  std::string text(buffer);
  if (text.ends_with(".0")) text.resize(text.size() - 2);
  return text;
}

class DrillMachine {
 public:
  DrillMachine(const DrillObserved& observed, std::chrono::system_clock::time_point now)
      : observed_(observed), wallNow_(now), now_(std::chrono::floor<seconds>(now)) {
    previous_ = parseDrillStatus(observed.status);
    desired_.status = previous_;
    desired_.status.observedGeneration = observed.generation;
  }

  void decide(const json& specJson) {
    auto spec = parseDrillSpec(specJson);
    if (!spec) return stall("InvalidSpec", spec.error().message());
    auto cron = CronSchedule::compile(spec->schedule, spec->timeZone);
    if (!cron) {
      const bool zone = cron.error().message().starts_with("unknown time zone");
      return stall(
          zone ? "UnknownTimeZone" : "InvalidSchedule",
          std::string(zone ? "spec.timeZone: " : "spec.schedule: ") + cron.error().message());
    }
    removeCondition(kConditionStalled);
    gatherRuns();
    summarizeHistory(*spec);
    pruneHistory(*spec);
    if (observed_.blocked) {
      // A failover target without the opt-in: no run starts, the schedule is
      // kept (a slot is handled and missed), and a Warning says why, once.
      stall("DrillNotAllowed", *observed_.blocked);
      schedule(*spec, *cron, /*mayStart=*/false);
      return;
    }
    schedule(*spec, *cron, /*mayStart=*/true);
    runNow(*spec);
    setReady(*spec);
  }

  DrillDesired finish() {
    DrillStatus& s = desired_.status;
    const Run* active = activeRun();
    s.activeRun = active ? active->name : "";
    if (!s.activeRun.empty() || !desired_.create.empty()) {
      const std::string name = !desired_.create.empty() ? desired_.create.back().name : s.activeRun;
      const std::string phase = active && desired_.create.empty() && active->status.phase
                                    ? std::string(toString(*active->status.phase))
                                    : std::string("Pending");
      if (!desired_.create.empty()) s.activeRun = name;
      setCondition(kConditionRunning, "True", "RunActive", "run " + name + " is " + phase);
    } else {
      setCondition(kConditionRunning, "False", "Idle", "no run in progress");
    }
    desired_.statusJson = toJson(s);
    desired_.statusChanged = desired_.statusJson != observed_.status;
    return std::move(desired_);
  }

 private:
  void setCondition(std::string_view type, std::string_view status, std::string_view reason,
                    const std::string& message) {
    common::setCondition(desired_.status.conditions,
                         common::makeCondition(type, status, reason, message, observed_.generation),
                         wallNow_);
  }

  void removeCondition(std::string_view type) {
    json& conditions = desired_.status.conditions;
    for (auto it = conditions.begin(); it != conditions.end(); ++it) {
      if (it->value("type", "") == type) {
        conditions.erase(it);
        return;
      }
    }
  }

  bool conditionIs(const DrillStatus& status, std::string_view type, std::string_view value,
                   std::string_view message = {}) const {
    for (const json& c : status.conditions) {
      if (c.value("type", "") == type) {
        return c.value("status", "") == value &&
               (message.empty() || c.value("message", "") == message);
      }
    }
    return false;
  }

  void stall(std::string_view reason, const std::string& message) {
    if (!conditionIs(previous_, kConditionStalled, "True", message)) {
      desired_.events.push_back({"Warning", std::string(reason), message});
    }
    setCondition(kConditionStalled, "True", reason, message);
    setCondition(kConditionReady, "False", reason, message);
    if (!conditionIs(desired_.status, kConditionLastRunSucceeded, "True") &&
        !conditionIs(desired_.status, kConditionLastRunSucceeded, "False")) {
      setCondition(kConditionLastRunSucceeded, "Unknown", "NoRunYet", "no run has finished");
    }
  }

  void gatherRuns() {
    for (const ObservedRun& observed : observed_.runs) {
      auto spec = parseRunSpec(observed.spec);
      if (!spec) continue;  // not relops's writing; the run controller reports it
      Run run;
      run.name = observed.name;
      run.spec = std::move(spec).value();
      run.status = parseRunStatus(observed.status);
      run.deleting = observed.deleting;
      runs_.push_back(std::move(run));
    }
  }

  const Run* activeRun() const {
    const Run* newest = nullptr;
    for (const Run& run : runs_) {
      if (run.finished() || run.deleting) continue;
      if (std::find(desired_.remove.begin(), desired_.remove.end(), run.name) !=
          desired_.remove.end()) {
        continue;
      }
      if (newest == nullptr || run.spec.scheduledTime > newest->spec.scheduledTime) newest = &run;
    }
    return newest;
  }

  bool runExists(const std::string& name) const {
    return std::any_of(runs_.begin(), runs_.end(), [&](const Run& r) { return r.name == name; });
  }

  // Last result, consecutive failures and pass rate over the retained runs;
  // Events for a run that finished since the last status.
  void summarizeHistory(const DrillSpec& spec) {
    std::vector<const Run*> finished;
    for (const Run& run : runs_) {
      if (run.finished() && !run.deleting) finished.push_back(&run);
    }
    std::sort(finished.begin(), finished.end(),
              [](const Run* a, const Run* b) { return newerFinished(*a, *b); });
    // Retained after the history limits (pruneHistory deletes the rest).
    int32_t passes = 0, failures = 0, kept = 0, keptPasses = 0;
    for (const Run* run : finished) {
      const bool pass = run->status.verdict == Verdict::kPass;
      if (pass ? passes++ < spec.successfulRunsHistoryLimit
               : failures++ < spec.failedRunsHistoryLimit) {
        ++kept;
        if (pass) ++keptPasses;
      }
    }
    DrillStatus& s = desired_.status;
    s.retainedRuns = kept;
    s.passRate = percent(keptPasses, kept);
    if (finished.empty()) {
      if (!s.lastRun) {
        setCondition(kConditionLastRunSucceeded, "Unknown", "NoRunYet", "no run has finished");
        setCondition(kConditionObjectivesMet, "Unknown", "NoRunYet", "no run has finished");
      }
      return;
    }
    int32_t consecutive = 0;
    for (const Run* run : finished) {
      if (run->status.verdict == Verdict::kPass) break;
      ++consecutive;
    }
    // History pruned below a failure streak keeps counting from the status.
    if (consecutive == static_cast<int32_t>(finished.size()) && previous_.lastRun &&
        finished.front()->name != previous_.lastRun->name) {
      consecutive = std::max(consecutive, previous_.consecutiveFailures + 1);
    }
    s.consecutiveFailures = consecutive;
    for (const Run* run : finished) {
      if (run->status.verdict == Verdict::kPass && run->status.completionTime &&
          (!s.lastSuccessfulTime || *run->status.completionTime > *s.lastSuccessfulTime)) {
        s.lastSuccessfulTime = run->status.completionTime;
      }
    }
    const Run& last = *finished.front();
    LastRun result;
    result.name = last.name;
    result.verdict = last.status.verdict.value_or(Verdict::kError);
    result.completionTime = last.status.completionTime;
    result.rtoSeconds = last.status.rtoSeconds;
    result.rpoSeconds = last.status.rpoSeconds;
    result.objectivesMet = last.status.objectivesMet;
    result.message = last.status.message.substr(0, 1024);
    const bool isNew = !previous_.lastRun || previous_.lastRun->name != last.name;
    s.lastRun = result;
    if (isNew) announce(last, spec);

    const bool pass = result.verdict == Verdict::kPass;
    setCondition(kConditionLastRunSucceeded, pass ? "True" : "False",
                 std::string(toString(result.verdict)),
                 "run " + last.name + ": " +
                     (last.status.message.empty() ? std::string(toString(result.verdict))
                                                  : last.status.message));
    if (!spec.objectives) {
      setCondition(kConditionObjectivesMet, "Unknown", "NoObjectives",
                   "the drill sets no RTO or RPO objective");
    } else if (!result.objectivesMet) {
      setCondition(kConditionObjectivesMet, "Unknown", "NotMeasured",
                   "run " + last.name + " ended before recovery was measured");
    } else {
      setCondition(kConditionObjectivesMet, *result.objectivesMet ? "True" : "False",
                   *result.objectivesMet ? "Met" : "Missed",
                   "run " + last.name + ": " + measured(last, spec));
    }
  }

  std::string measured(const Run& run, const DrillSpec& spec) const {
    std::string out;
    if (run.status.rtoSeconds) {
      out += "RTO " + formatDuration(seconds(*run.status.rtoSeconds));
      if (spec.objectives && spec.objectives->rto)
        out += " (objective " + spec.objectives->rto->text + ")";
    }
    if (run.status.rpoSeconds) {
      out += (out.empty() ? "" : ", ") + std::string("RPO ") +
             formatDuration(seconds(*run.status.rpoSeconds));
      if (spec.objectives && spec.objectives->rpo)
        out += " (objective " + spec.objectives->rpo->text + ")";
    }
    return out.empty() ? "nothing measured" : out;
  }

  void announce(const Run& run, const DrillSpec& spec) {
    const Verdict verdict = run.status.verdict.value_or(Verdict::kError);
    if (verdict == Verdict::kPass) {
      desired_.events.push_back({"Normal", std::string(kEventSucceeded),
                                 "run " + run.name + " passed: " + measured(run, spec)});
    } else if (run.status.reason == "ObjectiveMissed") {
      desired_.events.push_back({"Warning", std::string(kEventObjectiveMissed),
                                 "run " + run.name + ": " + run.status.message});
    } else {
      desired_.events.push_back({"Warning", std::string(kEventFailed),
                                 "run " + run.name + " " +
                                     (verdict == Verdict::kError ? "errored" : "failed") + ": " +
                                     run.status.message});
    }
    if (run.status.cleanup == CleanupResult::kFailed) {
      desired_.events.push_back({"Warning", std::string(kEventCleanupFailed),
                                 "run " + run.name + ": " + run.status.cleanupMessage});
    }
  }

  // Deletes finished runs beyond the history limits, oldest first.
  void pruneHistory(const DrillSpec& spec) {
    std::vector<const Run*> passed, failed;
    for (const Run& run : runs_) {
      if (!run.finished() || run.deleting) continue;
      (run.status.verdict == Verdict::kPass ? passed : failed).push_back(&run);
    }
    auto prune = [&](std::vector<const Run*>& list, int32_t limit) {
      std::sort(list.begin(), list.end(),
                [](const Run* a, const Run* b) { return newerFinished(*a, *b); });
      for (size_t i = static_cast<size_t>(limit); i < list.size(); ++i) {
        desired_.remove.push_back(list[i]->name);
      }
    };
    prune(passed, spec.successfulRunsHistoryLimit);
    prune(failed, spec.failedRunsHistoryLimit);
  }

  void schedule(const DrillSpec& spec, const CronSchedule& cron, bool mayStart) {
    DrillStatus& s = desired_.status;
    // A new schedule or zone re-anchors at the change: no catch-up run for a
    // slot of the new schedule that lies in the past.
    Instant anchor = observed_.creationTimestamp;
    if (s.schedule && s.schedule->expression == spec.schedule &&
        s.schedule->timeZone == spec.timeZone) {
      anchor = s.schedule->anchor;
    } else if (s.schedule) {
      anchor = now_;
    }
    s.schedule = ScheduleAnchor{spec.schedule, spec.timeZone, anchor};
    if (s.lastScheduleTime && *s.lastScheduleTime > anchor) anchor = *s.lastScheduleTime;

    if (spec.suspend) {
      s.nextScheduleTime.reset();
      return;
    }
    const std::optional<seconds> deadline =
        spec.startingDeadlineSeconds
            ? std::optional<seconds>(seconds(*spec.startingDeadlineSeconds))
            : std::nullopt;
    const SchedulePlan plan = planSchedule(cron, anchor, now_, deadline);
    s.nextScheduleTime = plan.next;
    desired_.requeueAt = plan.next;
    const std::optional<Instant> slot = plan.due ? plan.due : plan.tooLate;
    if (!slot) return;
    if (plan.due && mayStart) {
      const std::string name = scheduledRunName(observed_.name, *plan.due);
      const Run* active = activeRun();
      if (active != nullptr && active->name != name) {
        if (spec.concurrencyPolicy == ConcurrencyPolicy::kForbid) {
          // CronJob's Forbid: the slot waits (and is missed past the deadline).
          if (deadline) desired_.requeueAt = std::min(*plan.next, *plan.due + *deadline);
          return;
        }
        desired_.remove.push_back(active->name);
        desired_.events.push_back({"Normal", "Replaced",
                                   "run " + active->name + " stopped for the run scheduled at " +
                                       common::formatRfc3339(*plan.due) +
                                       " (concurrencyPolicy Replace)"});
      }
      if (!runExists(name)) {
        desired_.create.push_back(
            {name, runSpecFor(observed_.name, spec, *plan.due, Trigger::kSchedule, "")});
        desired_.events.push_back({"Normal", std::string(kEventStarted),
                                   "run " + name + " started for " +
                                       common::formatRfc3339(*plan.due) + " (" +
                                       cron.formatLocal(*plan.due) + ")"});
      }
    } else {
      const std::string why =
          plan.tooLate ? "more than startingDeadlineSeconds (" +
                             std::to_string(*spec.startingDeadlineSeconds) + "s) late"
                       : std::string("the drill cannot run: ") + observed_.blocked.value_or("");
      desired_.events.push_back(
          {"Warning", std::string(kEventMissedSchedule),
           "missed the run scheduled for " + common::formatRfc3339(*slot) + ": " + why});
    }
    if (plan.tooManyMissed()) {
      desired_.events.push_back(
          {"Warning", std::string(kEventMissedSchedule),
           "more than " + std::to_string(kMaxMissedRuns) + " scheduled runs were missed since " +
               common::formatRfc3339(anchor) + "; " +
               (plan.due && mayStart
                    ? "only the latest (" + common::formatRfc3339(*plan.due) + ") runs"
                    : std::string("none of them runs"))});
    }
    s.lastScheduleTime = slot;
  }

  void runNow(const DrillSpec& spec) {
    DrillStatus& s = desired_.status;
    const std::string& token = observed_.runNowToken;
    if (token.empty() || token == s.lastRunNowToken) return;
    const std::string name = runNowRunName(observed_.name, token);
    const Run* active = activeRun();
    if (!desired_.create.empty() || (active != nullptr && active->name != name &&
                                     spec.concurrencyPolicy == ConcurrencyPolicy::kForbid)) {
      return;  // after the run under way (its end reconciles the drill again)
    }
    if (active != nullptr && active->name != name) desired_.remove.push_back(active->name);
    if (!runExists(name)) {
      desired_.create.push_back(
          {name, runSpecFor(observed_.name, spec, now_, Trigger::kRunNow, token)});
      desired_.events.push_back(
          {"Normal", std::string(kEventStarted),
           "run " + name + " started now (" + std::string(kRunNowAnnotation) + ": " + token + ")"});
    }
    s.lastRunNowToken = token;
  }

  void setReady(const DrillSpec& spec) {
    const DrillStatus& s = desired_.status;
    if (spec.suspend) {
      setCondition(kConditionReady, "True", "Suspended", "suspended: no scheduled runs start");
    } else if (s.nextScheduleTime) {
      setCondition(kConditionReady, "True", "Scheduled",
                   "the schedule is valid; runs start as it fires");
    } else {
      setCondition(kConditionReady, "True", "NoFutureRun",
                   "the schedule does not fire again within " +
                       std::to_string(CronSchedule::kSearchYears) + " years");
    }
  }

  const DrillObserved& observed_;
  std::chrono::system_clock::time_point wallNow_;
  Instant now_;
  DrillStatus previous_;
  DrillDesired desired_;
  std::vector<Run> runs_;
};

}  // namespace

DrillDesired decideDrill(const json& spec, const DrillObserved& observed,
                         std::chrono::system_clock::time_point now) {
  DrillMachine machine(observed, now);
  machine.decide(spec);
  return machine.finish();
}

}  // namespace relops::drill
