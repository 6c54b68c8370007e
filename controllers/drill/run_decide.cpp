// decideRun(): the DRDrillRun state machine for the three drill types.
#include <algorithm>

#include "controllers/common/conditions.h"
#include "controllers/drill/decide.h"
#include "controllers/drill/scheduling.h"

namespace relops::drill {
namespace {

using nlohmann::json;
using std::chrono::seconds;

// The status.conditions of a Job or a workload, as common::findCondition reads them.
const json& statusConditions(const json& object) {
  static const json kNone = json::array();
  if (!object.contains("status") || !object["status"].is_object() ||
      !object["status"].contains("conditions")) {
    return kNone;
  }
  return object["status"]["conditions"];
}

bool conditionTrue(const json& object, std::string_view type) {
  return common::isTrue(statusConditions(object), type);
}

const json* findCondition(const json& object, std::string_view type) {
  return common::findCondition(statusConditions(object), type);
}

int64_t statusInt(const json& object, std::string_view key) {
  if (!object.contains("status") || !object["status"].is_object()) return 0;
  const json& status = object["status"];
  return status.contains(key) && status[key].is_number_integer() ? status[key].get<int64_t>() : 0;
}

int64_t specReplicas(const json& object) {
  if (!object.contains("spec") || !object["spec"].is_object()) return 1;
  const json& spec = object["spec"];
  return spec.contains("replicas") && spec["replicas"].is_number_integer()
             ? spec["replicas"].get<int64_t>()
             : 1;  // the API's default
}

std::string annotation(const json& object, std::string_view key) {
  if (!object.contains("metadata")) return "";
  const json& annotations = object["metadata"].value("annotations", json::object());
  return annotations.is_object() && annotations.contains(key) && annotations[key].is_string()
             ? annotations[key].get<std::string>()
             : "";
}

std::string objectName(const json& object) {
  return object.contains("metadata") ? object["metadata"].value("name", "") : "";
}

// A workload is ready: a Deployment Available with a ready replica (a
// Deployment of zero replicas is Available yet serves nothing), a StatefulSet
// with all its replicas ready.
bool workloadReady(const json& object) {
  const std::string kind = object.value("kind", "");
  const int64_t ready = statusInt(object, "readyReplicas");
  if (kind == "StatefulSet") return ready >= std::max<int64_t>(1, specReplicas(object));
  return conditionTrue(object, "Available") && ready >= 1;
}

// When a ready workload became ready, from its status: a Deployment's Available condition's
// lastTransitionTime; nullopt when the status does not say (a StatefulSet has no such
// condition).
std::optional<Instant> readySince(const json& object) {
  if (object.value("kind", "") == "StatefulSet") return std::nullopt;
  const json* available = findCondition(object, "Available");
  if (available == nullptr || !available->contains("lastTransitionTime") ||
      !(*available)["lastTransitionTime"].is_string()) {
    return std::nullopt;
  }
  return parseTime((*available)["lastTransitionTime"].get<std::string>());
}

// A Service has a ready endpoint (EndpointSlice conditions.ready; absent means ready).
bool serviceReady(const std::vector<json>& slices) {
  for (const json& slice : slices) {
    for (const json& endpoint : slice.value("endpoints", json::array())) {
      const json conditions = endpoint.value("conditions", json::object());
      if (!conditions.contains("ready") || conditions["ready"] == true) return true;
    }
  }
  return false;
}

std::optional<Instant> metaTime(const json& object, std::string_view key) {
  if (!object.contains("status") || !object["status"].is_object()) return std::nullopt;
  const json& status = object["status"];
  if (!status.contains(key) || !status[key].is_string()) return std::nullopt;
  return parseTime(status[key].get<std::string>());
}

ObjectRef refOf(const WorkloadRef& ref, const std::string& namespace_) {
  return ObjectRef{ref.kind == "Service" ? "v1" : "apps/v1", ref.kind, namespace_, ref.name};
}

// The CronJob controller's IsControlledBy: a controller ownerReference with `uid`.
bool controlledBy(const json& object, const std::string& uid) {
  if (!object.contains("metadata") || !object["metadata"].is_object()) return false;
  const json owners = object["metadata"].value("ownerReferences", json::array());
  if (!owners.is_array()) return false;
  return std::any_of(owners.begin(), owners.end(), [&](const json& owner) {
    return owner.is_object() && owner.value("controller", false) && owner.value("uid", "") == uid;
  });
}

std::string describe(const WorkloadRef& ref) { return ref.kind + " " + ref.name; }

json ownerReference(const RunObserved& run) {
  return json::array({{{"apiVersion", std::string(kApiVersion)},
                       {"kind", std::string(kRunKind)},
                       {"name", run.name},
                       {"uid", run.uid},
                       {"controller", true},
                       {"blockOwnerDeletion", true}}});
}

json runLabels(const RunSpec& spec, const RunObserved& run) {
  return {{std::string(kDrillLabel), spec.drillName}, {std::string(kRunLabel), run.name}};
}

// The newest Backup in phase Completed that the drill names.
const json* pickBackup(const VeleroRestoreDrill& drill, const std::vector<json>& backups) {
  const json* best = nullptr;
  std::optional<Instant> bestStart;
  for (const json& backup : backups) {
    if (backup.value("status", json::object()).value("phase", "") != "Completed") continue;
    if (!drill.backupName.empty()) {
      if (objectName(backup) != drill.backupName) continue;
    } else {
      const json labels = backup.contains("metadata")
                              ? backup["metadata"].value("labels", json::object())
                              : json::object();
      if (!labels.is_object() ||
          labels.value("velero.io/schedule-name", "") != drill.scheduleName) {
        continue;
      }
    }
    const std::optional<Instant> start = metaTime(backup, "startTimestamp");
    if (best == nullptr || (start && (!bestStart || *start > *bestStart)) ||
        (start == bestStart && objectName(backup) > objectName(*best))) {
      best = &backup;
      bestStart = start;
    }
  }
  return best;
}

bool restoreTerminal(std::string_view phase) {
  // Velero's terminal phases; anything else (New, InProgress, WaitingForPluginOperations,
  // Finalizing, phases a later Velero adds) means still running.
  return phase == "Completed" || phase == "PartiallyFailed" || phase == "Failed" ||
         phase == "FailedValidation";
}

// The data time a Job reported in a container's termination message:
// {"dataTimestamp": "<RFC 3339>"}.
std::optional<Instant> reportedDataTime(const std::vector<json>& pods) {
  for (const json& pod : pods) {
    const json statuses =
        pod.value("status", json::object()).value("containerStatuses", json::array());
    for (const json& container : statuses) {
      const json terminated =
          container.value("state", json::object()).value("terminated", json::object());
      const std::string message = terminated.value("message", "");
      if (message.empty()) continue;
      const json parsed = json::parse(message, nullptr, false);
      if (parsed.is_object() && parsed.contains("dataTimestamp") &&
          parsed["dataTimestamp"].is_string()) {
        if (auto t = parseTime(parsed["dataTimestamp"].get<std::string>())) return t;
      }
    }
  }
  return std::nullopt;
}

const json* labelsOf(const json& object) {
  if (!object.contains("metadata") || !object["metadata"].is_object()) return nullptr;
  const json& metadata = object["metadata"];
  if (!metadata.contains("labels") || !metadata["labels"].is_object()) return nullptr;
  return &metadata["labels"];
}

std::string label(const json& object, std::string_view key) {
  const json* labels = labelsOf(object);
  return labels && labels->contains(key) && (*labels)[std::string(key)].is_string()
             ? (*labels)[std::string(key)].get<std::string>()
             : "";
}

// Velero's includedNamespaces: empty, "*" or a glob means every namespace (or
// ones nobody listed); anything not in `allowed` is beyond the drill's reach.
std::optional<std::string> backupBeyond(const json& backup,
                                        const std::vector<std::string>& allowed) {
  const json spec = backup.value("spec", json::object());
  const json included =
      spec.is_object() ? spec.value("includedNamespaces", json::array()) : json::array();
  if (!included.is_array() || included.empty()) return std::string("every namespace");
  for (const json& entry : included) {
    const std::string ns = entry.is_string() ? entry.get<std::string>() : "";
    if (ns.find_first_of("*?[") != std::string::npos) return "\"" + ns + "\"";
    if (std::find(allowed.begin(), allowed.end(), ns) == allowed.end()) return ns;
  }
  return std::nullopt;
}

// The ConfigMap of Velero resource modifiers (Velero's restore-resource-modifiers:
// one data key, version v1) that keeps a restore inside its sandbox: Services
// that would take a load balancer or node ports become ClusterIP, CronJobs are
// suspended. Merge patches, so that a field already absent is no error. JSON is
// YAML, which Velero parses.
json modifierRules(const std::string& source) {
  json rules = json::array();
  const json toClusterIp = {{"spec",
                             {{"type", "ClusterIP"},
                              {"externalTrafficPolicy", nullptr},
                              {"healthCheckNodePort", nullptr},
                              {"loadBalancerIP", nullptr},
                              {"loadBalancerSourceRanges", nullptr},
                              {"loadBalancerClass", nullptr},
                              {"allocateLoadBalancerNodePorts", nullptr},
                              {"externalIPs", nullptr}}}};
  for (const char* type : {"LoadBalancer", "NodePort"}) {
    rules.push_back({{"conditions",
                      {{"groupResource", "services"},
                       {"namespaces", json::array({source})},
                       {"matches", json::array({{{"path", "/spec/type"}, {"value", type}}})}}},
                     {"mergePatches", json::array({{{"patchData", toClusterIp.dump()}}})}});
  }
  rules.push_back(
      {{"conditions", {{"groupResource", "cronjobs.batch"}, {"namespaces", json::array({source})}}},
       {"mergePatches",
        json::array({{{"patchData", json{{"spec", {{"suspend", true}}}}.dump()}}})}});
  return {{"version", "v1"}, {"resourceModifierRules", rules}};
}

class RunMachine {
 public:
  RunMachine(const RunSpec& spec, const RunObserved& observed, Instant now,
             std::chrono::system_clock::time_point wallNow)
      : spec_(spec), observed_(observed), now_(now), wallNow_(wallNow) {
    desired_.status = parseRunStatus(observed.status);
  }

  RunDesired finish() {
    RunStatus& s = desired_.status;
    s.observedGeneration = observed_.generation;
    const bool done = s.phase && terminal(*s.phase);
    setCondition(
        "Ready", done ? "True" : "False", done ? "Finished" : "InProgress",
        done ? "the run finished: " + std::string(toString(s.verdict.value_or(Verdict::kError)))
             : "the run is " + std::string(toString(s.phase.value_or(Phase::kPending))));
    // A finished run with nothing left to clean up holds no finalizer, so pruning it or
    // deleting its namespace never waits for relops.
    if (done && desired_.actions.empty() && s.cleanup &&
        (*s.cleanup == CleanupResult::kSucceeded || *s.cleanup == CleanupResult::kNotNeeded)) {
      desired_.removeFinalizer = true;
    }
    // Nor does a finished run whose remaining cleanup the API server refuses: the finalizer
    // would block the namespace's deletion forever (what is left is in cleanup.message).
    if (done && onlyForbiddenLeft_ && s.cleanup == CleanupResult::kFailed) {
      desired_.removeFinalizer = true;
    }
    desired_.statusJson = toJson(s);
    desired_.statusChanged = desired_.statusJson != observed_.status;
    return std::move(desired_);
  }

  void step() {
    RunStatus& s = desired_.status;
    if (observed_.deleting) return finalize();
    if (!s.phase) {
      // A run without status that should have started long ago (a namespace
      // restored by Velero, which strips status, brings its old runs back):
      // it ends without acting, so a restore never re-runs old drills.
      const seconds staleAfter = observed_.startingDeadline.value_or(spec_.runTimeout.value);
      if (now_ - spec_.scheduledTime > staleAfter) {
        return error("StaleRun", "the run was scheduled for " +
                                     common::formatRfc3339(spec_.scheduledTime) + ", more than " +
                                     formatDuration(staleAfter) +
                                     " ago, and never started; it does not run now");
      }
      s.phase = Phase::kPending;
    }
    if (terminal(*s.phase)) return continueCleanup();
    // Past Pending, a run carries what start() recorded; a stored status without it (edited
    // by hand, or written by another version) cannot be continued safely.
    if (*s.phase != Phase::kPending &&
        (!s.startTime || !s.deadline ||
         (std::holds_alternative<VeleroRestoreDrill>(spec_.type) && !s.velero))) {
      return error("InvalidStatus", "status.phase is " + std::string(toString(*s.phase)) +
                                        " but its startTime, deadline or Velero progress is "
                                        "missing; the run cannot continue");
    }
    if (s.deadline && now_ >= *s.deadline) return timeOut();
    if (const auto* job = std::get_if<JobDrill>(&spec_.type)) return stepJob(*job);
    if (const auto* failover = std::get_if<FailoverDrill>(&spec_.type)) {
      return stepFailover(*failover);
    }
    return stepVelero(std::get<VeleroRestoreDrill>(spec_.type));
  }

 private:
  void setCondition(std::string_view type, std::string_view status, std::string_view reason,
                    const std::string& message) {
    common::setCondition(desired_.status.conditions,
                         common::makeCondition(type, status, reason, message, observed_.generation),
                         wallNow_);
  }

  void start() {
    RunStatus& s = desired_.status;
    s.startTime = now_;
    s.deadline = now_ + spec_.runTimeout.value;
    s.phase = Phase::kRunning;
    s.message = "";
  }

  // Ends the run (before any cleanup): verdict Error, the machinery failed.
  void error(std::string reason, std::string message) {
    RunStatus& s = desired_.status;
    s.verdict = Verdict::kError;
    s.reason = std::move(reason);
    s.message = std::move(message);
    if (!s.startTime) s.startTime = now_;
    // Nothing was disrupted or created yet: nothing to clean.
    if (!s.failover && !s.velero) s.cleanup = CleanupResult::kNotNeeded;
    desired_.events.push_back({"Warning", s.reason, s.message});
    enterCleanup();
  }

  // Recovery observed at `at`: measure and judge.
  void recovered(Instant at) {
    RunStatus& s = desired_.status;
    s.recoveryTime = at;
    s.rtoSeconds = std::max<int64_t>(0, (at - *s.startTime).count());
    std::string why;
    const bool met = objectivesMet(spec_.objectives, s.rtoSeconds, s.rpoSeconds, why);
    if (spec_.objectives) s.objectivesMet = met;
    s.verdict = met ? Verdict::kPass : Verdict::kFail;
    s.reason = met ? "Recovered" : "ObjectiveMissed";
    s.message = met ? "recovered in " + formatDuration(seconds(*s.rtoSeconds)) : why;
  }

  void failRecovery(std::string reason, std::string message) {
    RunStatus& s = desired_.status;
    s.verdict = Verdict::kFail;
    s.reason = std::move(reason);
    s.message = std::move(message);
    if (spec_.objectives) s.objectivesMet = false;
  }

  void enterCleanup() {
    RunStatus& s = desired_.status;
    s.phase = Phase::kCleaningUp;
    if (!s.cleanup) s.cleanup = CleanupResult::kPending;
    cleanup();
  }

  void complete() {
    RunStatus& s = desired_.status;
    s.completionTime = now_;
    s.phase = s.verdict == Verdict::kPass    ? Phase::kSucceeded
              : s.verdict == Verdict::kError ? Phase::kError
                                             : Phase::kFailed;
    desired_.requeueAt.reset();
  }

  // Works toward a clean cluster; completes the run (or, once terminal, marks
  // the cleanup done) when nothing is left.
  void cleanup() {
    RunStatus& s = desired_.status;
    const bool clean = cleanupActions();
    if (clean) {
      if (s.cleanup != CleanupResult::kNotNeeded) s.cleanup = CleanupResult::kSucceeded;
      s.cleanupMessage = "";
      if (!terminal(*s.phase)) complete();
      return;
    }
    if (onlyForbiddenLeft_) {
      // Retrying cannot help until someone grants the RBAC: the run ends now, reported.
      if (!terminal(*s.phase)) complete();
      cleanupFailed("cleanup refused by the API server: " + s.cleanupMessage);
      desired_.requeueAt = now_ + cleanupRetryDelay();
      return;
    }
    if (terminal(*s.phase)) {
      desired_.requeueAt = now_ + cleanupRetryDelay();
    } else {
      // Never past the deadline: that reconcile ends the run whatever is left to clean.
      desired_.requeueAt = now_ + pollDelay();
      if (s.deadline) desired_.requeueAt = std::min(*desired_.requeueAt, *s.deadline);
    }
  }

  // cleanup.result Failed and one CleanupFailed Warning (not repeated while it stays Failed).
  void cleanupFailed(const std::string& message) {
    RunStatus& s = desired_.status;
    const bool already = s.cleanup == CleanupResult::kFailed;
    s.cleanup = CleanupResult::kFailed;
    if (!already) {
      desired_.events.push_back({"Warning", std::string(kEventCleanupFailed), message});
    }
  }

  // As long as the run has waited without progress, within [kPollInterval, kPollMax]:
  // roughly doubling, and back to kPollInterval when its status changes.
  seconds pollDelay() const {
    const Instant since = observed_.lastProgress.value_or(now_);
    return std::clamp(std::chrono::duration_cast<seconds>(now_ - since), seconds(kPollInterval),
                      seconds(kPollMax));
  }

  // As long as the run has been finished, within [kCleanupRetryInterval, kCleanupRetryMax].
  seconds cleanupRetryDelay() const {
    const RunStatus& s = desired_.status;
    const seconds finished = s.completionTime
                                 ? std::chrono::duration_cast<seconds>(now_ - *s.completionTime)
                                 : seconds(0);
    return std::clamp(finished, seconds(kCleanupRetryInterval), seconds(kCleanupRetryMax));
  }

  // Emits the actions that are still needed; true when nothing is left to clean.
  bool cleanupActions() {
    RunStatus& s = desired_.status;
    onlyForbiddenLeft_ = false;
    if (std::holds_alternative<JobDrill>(spec_.type)) {
      // The Job is owned by the run and kept as evidence until the run goes.
      if (!s.cleanup || s.cleanup == CleanupResult::kPending) s.cleanup = CleanupResult::kNotNeeded;
      return true;
    }
    if (const auto* failover = std::get_if<FailoverDrill>(&spec_.type)) {
      if (!s.failover || !s.failover->disrupted || !s.failover->previousReplicas) return true;
      const int32_t previous = *s.failover->previousReplicas;
      if (!observed_.target) {
        s.cleanupMessage = describe(failover->target) + " no longer exists";
        return true;
      }
      if (specReplicas(*observed_.target) != previous) {
        Action scale;
        scale.kind = Action::Kind::kScale;
        scale.target = refOf(failover->target, observed_.namespace_);
        scale.replicas = previous;
        scale.purpose = "restore the replicas of " + describe(failover->target);
        desired_.actions.push_back(scale);
        s.cleanupMessage = "restoring " + describe(failover->target) + " to " +
                           std::to_string(previous) + " replicas";
        return false;
      }
      if (statusInt(*observed_.target, "readyReplicas") < previous) {
        s.cleanupMessage = "waiting for " + describe(failover->target) + " to have " +
                           std::to_string(previous) + " ready replicas";
        return false;
      }
      s.failover->reverted = true;
      return true;
    }
    // veleroRestore: the sandbox namespace and cluster-scoped leftovers go.
    if (!s.velero || s.velero->sandboxNamespace.empty()) return true;
    bool clean = true;
    s.cleanupMessage.clear();  // said again below for each step still open
    if (observed_.sandboxExists) {
      Action remove;
      remove.kind = Action::Kind::kDelete;
      remove.target = ObjectRef{"v1", "Namespace", "", s.velero->sandboxNamespace};
      remove.purpose = "delete the sandbox namespace " + s.velero->sandboxNamespace;
      desired_.actions.push_back(remove);
      s.cleanupMessage = "deleting the sandbox namespace " + s.velero->sandboxNamespace;
      clean = false;
    }
    if (observed_.modifiersExist && !s.velero->restore.empty()) {
      Action remove;
      remove.kind = Action::Kind::kDelete;
      remove.target = ObjectRef{"v1", "ConfigMap", observed_.veleroNamespace, s.velero->restore};
      remove.purpose = "delete the resource modifiers " + s.velero->restore;
      desired_.actions.push_back(remove);
      if (s.cleanupMessage.empty()) s.cleanupMessage = remove.purpose;
      clean = false;
    }
    if (observed_.leftovers > 0 && !s.velero->restore.empty()) {
      Action remove;
      remove.kind = Action::Kind::kDeleteRestoreLeftovers;
      remove.restoreName = s.velero->restore;
      remove.purpose = "delete the PersistentVolumes of the restore " + s.velero->restore;
      desired_.actions.push_back(remove);
      s.cleanupMessage = std::to_string(observed_.leftovers) +
                         " PersistentVolumes labelled velero.io/restore-name=" + s.velero->restore +
                         " remain";
      clean = false;
    }
    if (!observed_.cleanupUnreadable.empty() && !s.velero->restore.empty()) {
      s.cleanupMessage =
          (s.cleanupMessage.empty() ? "" : s.cleanupMessage + "; ") + observed_.cleanupUnreadable;
      if (clean && observed_.cleanupForbidden) onlyForbiddenLeft_ = true;
      clean = false;
    }
    return clean;
  }

  void continueCleanup() {
    RunStatus& s = desired_.status;
    if (!s.cleanup || s.cleanup == CleanupResult::kSucceeded ||
        s.cleanup == CleanupResult::kNotNeeded) {
      return;
    }
    cleanup();
  }

  void timeOut() {
    RunStatus& s = desired_.status;
    if (!s.verdict) {
      failRecovery("RunTimeout", "not recovered within runTimeout (" + spec_.runTimeout.text +
                                     "): " + (s.message.empty() ? "no progress" : s.message));
    }
    if (s.phase != Phase::kCleaningUp) enterCleanup();
    if (terminal(*s.phase)) return;
    // Terminal now, whatever is left to clean; the rest is retried.
    complete();
    cleanupFailed("cleanup not finished by the deadline: " + s.cleanupMessage);
    desired_.requeueAt = now_ + kCleanupRetryInterval;
  }

  void finalize() {
    RunStatus& s = desired_.status;
    if (std::holds_alternative<FailoverDrill>(spec_.type) && s.failover && s.failover->disrupted) {
      // On deletion the primary's replicas are restored; readiness is not awaited.
      cleanupActions();
      desired_.removeFinalizer = desired_.actions.empty();
      if (!desired_.removeFinalizer) desired_.requeueAt = now_ + pollDelay();
      return;
    }
    // What the API server refuses is given up: the object goes, its leftovers are reported.
    desired_.removeFinalizer = cleanupActions() || onlyForbiddenLeft_;
    if (onlyForbiddenLeft_) {
      desired_.events.push_back(
          {"Warning", std::string(kEventCleanupFailed),
           "deleted with cleanup refused by the API server: " + s.cleanupMessage});
    }
    if (!desired_.removeFinalizer) desired_.requeueAt = now_ + pollDelay();
  }

  // ---- job ----
  void stepJob(const JobDrill& job) {
    RunStatus& s = desired_.status;
    const std::string jobName = jobNameFor(observed_.name);
    if (*s.phase == Phase::kPending) {
      start();
      s.jobName = jobName;
    }
    if (*s.phase == Phase::kCleaningUp) return cleanup();
    if (!observed_.job) {
      // Not created yet, or lost before the status said so (a restart between
      // the status write and the create): apply it; the name makes it one Job.
      desired_.actions.push_back(createJob(job, jobName));
      s.message = "starting the Job " + jobName;
      desired_.requeueAt = *s.deadline;
      return;
    }
    const json& observedJob = *observed_.job;
    if (!controlledBy(observedJob, observed_.uid)) {
      // Someone else's Job under the run's name (names are predictable): never
      // adopted, so its result is never this run's evidence.
      return error("JobConflict", "a Job named " + jobName +
                                      " exists that this run does not control; relops does "
                                      "not adopt it");
    }
    if (const json* failed = findCondition(observedJob, "Failed");
        failed && failed->value("status", "") == "True") {
      failRecovery("JobFailed", "the Job failed: " + failed->value("reason", "Failed") + ": " +
                                    failed->value("message", ""));
      return enterCleanup();
    }
    if (conditionTrue(observedJob, "Complete")) {
      s.dataTimestamp = reportedDataTime(observed_.jobPods);
      if (s.dataTimestamp) {
        s.rpoSeconds = std::max<int64_t>(0, (*s.startTime - *s.dataTimestamp).count());
      }
      recovered(metaTime(observedJob, "completionTime").value_or(now_));
      return enterCleanup();
    }
    s.message = "waiting for the Job " + jobName + " to finish";
    desired_.requeueAt = *s.deadline;
  }

  Action createJob(const JobDrill& job, const std::string& jobName) const {
    json metadata = job.template_.value("metadata", json::object());
    json labels = metadata.value("labels", json::object());
    labels.update(runLabels(spec_, observed_));
    Action create;
    create.kind = Action::Kind::kApply;
    create.object = {{"apiVersion", "batch/v1"},
                     {"kind", "Job"},
                     {"metadata",
                      {{"name", jobName},
                       {"namespace", observed_.namespace_},
                       {"labels", labels},
                       {"ownerReferences", ownerReference(observed_)}}},
                     {"spec", job.template_["spec"]}};
    if (metadata.contains("annotations")) {
      create.object["metadata"]["annotations"] = metadata["annotations"];
    }
    // The Job may not outlive the run's deadline (a shorter one of its own stays).
    const json& own = create.object["spec"].value("activeDeadlineSeconds", json());
    const int64_t limit = spec_.runTimeout.value.count();
    create.object["spec"]["activeDeadlineSeconds"] =
        own.is_number_integer() ? std::min(own.get<int64_t>(), limit) : limit;
    create.purpose = "create the Job " + jobName;
    return create;
  }

  // ---- failover ----
  void stepFailover(const FailoverDrill& failover) {
    RunStatus& s = desired_.status;
    if (*s.phase == Phase::kPending) {
      if (!observed_.target) {
        return error("TargetNotFound",
                     describe(failover.target) + " not found in namespace " + observed_.namespace_);
      }
      if (annotation(*observed_.target, kDrillAllowedAnnotation) != "true") {
        return error("DrillNotAllowed", describe(failover.target) + " lacks the annotation " +
                                            std::string(kDrillAllowedAnnotation) +
                                            ": \"true\"; relops disrupts only targets that opt in");
      }
      if (!observed_.standby) {
        return error("StandbyNotFound", describe(failover.standby) + " not found in namespace " +
                                            observed_.namespace_);
      }
      const int64_t replicas = specReplicas(*observed_.target);
      if (replicas == 0) {
        return error("TargetNotRunning",
                     describe(failover.target) + " has 0 replicas: nothing to fail over from");
      }
      start();
      s.failover = FailoverProgress{static_cast<int32_t>(replicas), true, false};
    }
    if (*s.phase == Phase::kCleaningUp) return cleanup();
    // Running: the primary is held at zero until the standby serves.
    if (!observed_.target) {
      return error("TargetNotFound", describe(failover.target) + " disappeared during the drill");
    }
    if (specReplicas(*observed_.target) != 0) {
      Action scale;
      scale.kind = Action::Kind::kScale;
      scale.target = refOf(failover.target, observed_.namespace_);
      scale.replicas = 0;
      scale.purpose = "scale " + describe(failover.target) + " to zero";
      desired_.actions.push_back(scale);
    }
    const bool primaryDown =
        specReplicas(*observed_.target) == 0 && statusInt(*observed_.target, "readyReplicas") == 0;
    const bool standbyUp = observed_.standby && (failover.standby.kind == "Service"
                                                     ? serviceReady(observed_.standbyEndpointSlices)
                                                     : workloadReady(*observed_.standby));
    if (primaryDown && standbyUp) {
      recovered(now_);
      return enterCleanup();
    }
    s.message = primaryDown ? "waiting for " + describe(failover.standby) + " to be ready"
                            : "waiting for " + describe(failover.target) + " to stop";
    desired_.requeueAt = std::min(*s.deadline, now_ + pollDelay());
  }

  // ---- veleroRestore ----
  void stepVelero(const VeleroRestoreDrill& velero) {
    RunStatus& s = desired_.status;
    const std::string source =
        velero.sourceNamespace.empty() ? observed_.namespace_ : velero.sourceNamespace;
    if (*s.phase == Phase::kPending) {
      // The source: the drill's own namespace, or one whose admins opted in
      // (DESIGN.md Tenancy: reaching another namespace needs its authorization).
      if (source != observed_.namespace_ &&
          (!observed_.sourceNamespace ||
           !sourceAllows(*observed_.sourceNamespace, observed_.namespace_))) {
        return error("SourceNotAllowed",
                     "sourceNamespace " + source + " is not this drill's namespace and the " +
                         "Namespace " + source + " does not list " + observed_.namespace_ +
                         " in its " + std::string(kDrillSourcesAnnotation) + " annotation");
      }
      if (!observed_.veleroInstalled) {
        return error("VeleroNotInstalled",
                     "the velero.io/v1 Backup and Restore kinds are not installed");
      }
      const json* backup = pickBackup(velero, observed_.backups);
      if (backup == nullptr) {
        return error("BackupNotFound",
                     "no Backup in phase Completed " +
                         (velero.backupName.empty()
                              ? "labelled velero.io/schedule-name=" + velero.scheduleName
                              : "named " + velero.backupName) +
                         " in namespace " + observed_.veleroNamespace);
      }
      std::vector<std::string> allowed = {source};
      if (observed_.namespace_ != source) allowed.push_back(observed_.namespace_);
      if (auto beyond = backupBeyond(*backup, allowed)) {
        return error("BackupScopeNotAllowed",
                     "the Backup " + objectName(*backup) + " includes " + *beyond +
                         "; a drill of namespace " + observed_.namespace_ +
                         " may restore only Backups of " + source +
                         (allowed.size() > 1 ? " and " + observed_.namespace_ : ""));
      }
      if (observed_.sandboxForeign) {
        return error("SandboxConflict",
                     "the namespace " + sandboxNamespaceName(observed_.namespace_, observed_.name) +
                         " exists without this run's " + std::string(kRunUidLabel) +
                         " label; relops restores only into a sandbox it created");
      }
      start();
      const std::string sandbox = sandboxNamespaceName(observed_.namespace_, observed_.name);
      VeleroProgress progress;
      progress.backup = objectName(*backup);
      progress.backupStartTimestamp = metaTime(*backup, "startTimestamp");
      progress.restore = sandbox;
      progress.sandboxNamespace = sandbox;
      s.velero = progress;
      if (progress.backupStartTimestamp) {
        s.dataTimestamp = progress.backupStartTimestamp;
        s.rpoSeconds =
            std::max<int64_t>(0, (*s.startTime - *progress.backupStartTimestamp).count());
      }
    }
    VeleroProgress& progress = *s.velero;
    if (*s.phase == Phase::kCleaningUp) return cleanup();
    if (*s.phase == Phase::kRunning) {
      if (!observed_.restore) {
        if (observed_.sandboxForeign) {
          return error("SandboxConflict", "the namespace " + progress.sandboxNamespace +
                                              " exists without this run's " +
                                              std::string(kRunUidLabel) + " label");
        }
        // Everything that confines the sandbox exists before the Restore does
        // (applied again until the Restore exists: each is idempotent).
        applySandbox(progress.sandboxNamespace);
        applyModifiers(source, progress);
        applyRestore(velero, source, progress);
        s.message = "waiting for Velero to restore " + progress.backup;
        desired_.requeueAt = std::min(*s.deadline, now_ + pollDelay());
        return;
      }
      const std::string phase =
          observed_.restore->value("status", json::object()).value("phase", "");
      progress.restorePhase = phase;
      if (!restoreTerminal(phase)) {
        s.message = "the Restore " + progress.restore + " is " + (phase.empty() ? "New" : phase);
        desired_.requeueAt = std::min(*s.deadline, now_ + pollDelay());
        return;
      }
      if (phase != "Completed") {
        const json status = observed_.restore->value("status", json::object());
        std::string detail = status.value("failureReason", "");
        for (const json& e : status.value("validationErrors", json::array())) {
          if (e.is_string()) detail += (detail.empty() ? "" : "; ") + e.get<std::string>();
        }
        failRecovery("Restore" + phase, "the Restore " + progress.restore + " ended " + phase +
                                            (detail.empty() ? "" : ": " + detail));
        return enterCleanup();
      }
      s.phase = Phase::kVerifying;
    }
    // Verifying: every restored workload must become Available.
    if (observed_.sandboxWorkloads.empty()) {
      failRecovery("NothingRestored",
                   "the Restore completed but no Deployment or StatefulSet "
                   "appeared in the sandbox " +
                       progress.sandboxNamespace);
      return enterCleanup();
    }
    std::vector<std::string> waiting;
    for (const json& workload : observed_.sandboxWorkloads) {
      if (!workloadReady(workload)) {
        waiting.push_back(workload.value("kind", "") + " " + objectName(workload));
      }
    }
    if (waiting.empty()) {
      // The RTO comes from the status timestamps (the Restore's completion, each workload's
      // Available transition), not from when the backing-off poll looked; when one is
      // missing, from now.
      std::optional<Instant> at =
          observed_.restore ? metaTime(*observed_.restore, "completionTimestamp") : std::nullopt;
      for (const json& workload : observed_.sandboxWorkloads) {
        const std::optional<Instant> since = readySince(workload);
        if (!since || !at) {
          at.reset();
          break;
        }
        at = std::max(*at, *since);
      }
      recovered(at ? std::clamp(*at, *s.startTime, now_) : now_);
      return enterCleanup();
    }
    std::string list;
    for (const std::string& w : waiting) list += (list.empty() ? "" : ", ") + w;
    s.message = "waiting for restored workloads to be Available: " + list;
    desired_.requeueAt = std::min(*s.deadline, now_ + pollDelay());
  }

  void applySandbox(const std::string& sandbox) {
    json labels = runLabels(spec_, observed_);
    labels["relops.dev/drill-namespace"] = observed_.namespace_;
    json nsLabels = labels;
    nsLabels[std::string(kRunUidLabel)] = observed_.uid;
    // Pod Security admission applies to the sandbox as to any namespace: at
    // least the source's level, never below baseline.
    nsLabels["pod-security.kubernetes.io/enforce"] =
        sandboxPodSecurityLevel(observed_.sourceNamespace);
    Action ns;
    ns.kind = Action::Kind::kApply;
    ns.object = {{"apiVersion", "v1"},
                 {"kind", "Namespace"},
                 {"metadata", {{"name", sandbox}, {"labels", nsLabels}}}};
    ns.purpose = "create the sandbox namespace " + sandbox;
    desired_.actions.push_back(ns);
    // Restored workloads must not talk to production: deny all traffic.
    Action policy;
    policy.kind = Action::Kind::kApply;
    policy.object = {
        {"apiVersion", "networking.k8s.io/v1"},
        {"kind", "NetworkPolicy"},
        {"metadata", {{"name", "relops-deny-all"}, {"namespace", sandbox}, {"labels", labels}}},
        {"spec",
         {{"podSelector", json::object()}, {"policyTypes", json::array({"Ingress", "Egress"})}}}};
    policy.purpose = "deny all traffic in the sandbox " + sandbox;
    desired_.actions.push_back(policy);
    // The source's quotas and limit ranges, or relops's defaults when it has none.
    const json quota = observed_.sandboxQuotaHard.is_object() && !observed_.sandboxQuotaHard.empty()
                           ? json{{"hard", observed_.sandboxQuotaHard}}
                           : defaultQuota();
    copyLimits(sandbox, labels, "ResourceQuota", observed_.sourceQuotas, quota);
    copyLimits(sandbox, labels, "LimitRange", observed_.sourceLimitRanges, defaultLimitRange());
  }

  static json defaultQuota() {
    return {{"hard",
             {{"pods", "20"},
              {"requests.cpu", "4"},
              {"requests.memory", "8Gi"},
              {"limits.cpu", "8"},
              {"limits.memory", "16Gi"},
              {"persistentvolumeclaims", "10"},
              {"requests.storage", "100Gi"},
              {"services.loadbalancers", "0"},
              {"services.nodeports", "0"}}}};
  }

  static json defaultLimitRange() {
    return {
        {"limits", json::array({{{"type", "Container"},
                                 {"default", {{"cpu", "500m"}, {"memory", "512Mi"}}},
                                 {"defaultRequest", {{"cpu", "100m"}, {"memory", "128Mi"}}}}})}};
  }

  void copyLimits(const std::string& sandbox, const json& labels, const std::string& kind,
                  const std::vector<json>& source, const json& fallback) {
    std::vector<std::pair<std::string, json>> specs;
    for (const json& item : source) {
      if (item.contains("spec") && item["spec"].is_object()) {
        specs.emplace_back(objectName(item), item["spec"]);
      }
    }
    if (specs.empty()) specs.emplace_back("relops-sandbox-default", fallback);
    for (const auto& [name, spec] : specs) {
      Action create;
      create.kind = Action::Kind::kApply;
      create.object = {{"apiVersion", "v1"},
                       {"kind", kind},
                       {"metadata", {{"name", name}, {"namespace", sandbox}, {"labels", labels}}},
                       {"spec", spec}};
      create.purpose = "create the " + kind + " " + name + " in the sandbox " + sandbox;
      desired_.actions.push_back(create);
    }
  }

  void applyModifiers(const std::string& source, const VeleroProgress& progress) {
    // Deleted at cleanup only when it carries this run's UID.
    json labels = runLabels(spec_, observed_);
    labels[std::string(kRunUidLabel)] = observed_.uid;
    Action create;
    create.kind = Action::Kind::kApply;
    create.object = {{"apiVersion", "v1"},
                     {"kind", "ConfigMap"},
                     {"metadata",
                      {{"name", progress.restore},
                       {"namespace", observed_.veleroNamespace},
                       {"labels", labels}}},
                     {"data", {{"resource-modifiers.yaml", modifierRules(source).dump(2)}}}};
    create.purpose = "create the Velero resource modifiers " + progress.restore;
    desired_.actions.push_back(create);
  }

  void applyRestore(const VeleroRestoreDrill& velero, const std::string& source,
                    const VeleroProgress& progress) {
    Action restore;
    restore.kind = Action::Kind::kApply;
    restore.object = {{"apiVersion", "velero.io/v1"},
                      {"kind", "Restore"},
                      {"metadata",
                       {{"name", progress.restore},
                        {"namespace", observed_.veleroNamespace},
                        {"labels", runLabels(spec_, observed_)}}},
                      {"spec",
                       {{"backupName", progress.backup},
                        {"includedNamespaces", json::array({source})},
                        {"namespaceMapping", {{source, progress.sandboxNamespace}}},
                        // No cluster-scoped objects but the volumes of restored claims.
                        {"includeClusterResources", false},
                        {"excludedResources", restoreExclusions(velero)},
                        {"resourceModifier", {{"kind", "ConfigMap"}, {"name", progress.restore}}},
                        {"restorePVs", true}}}};
    restore.purpose = "create the Velero Restore " + progress.restore;
    desired_.actions.push_back(restore);
  }

  const RunSpec& spec_;
  const RunObserved& observed_;
  Instant now_;
  std::chrono::system_clock::time_point wallNow_;
  // Set by cleanupActions(): nothing is left to clean but what the API server refuses.
  bool onlyForbiddenLeft_ = false;
  RunDesired desired_;
};

}  // namespace

std::string controllerName(const json& run) {
  if (!run.contains("metadata")) return "";
  const json owners = run["metadata"].value("ownerReferences", json::array());
  for (const json& owner : owners) {
    if (owner.value("controller", false)) {
      return owner.value("kind", "") == kDrillKind ? owner.value("name", "") : "";
    }
  }
  return "";
}

std::optional<std::string> whyNotControlled(const json& run, const json* drill) {
  const json metadata = run.value("metadata", json::object());
  const json owners = metadata.value("ownerReferences", json::array());
  const json* controller = nullptr;
  for (const json& owner : owners) {
    if (owner.value("controller", false)) controller = &owner;
  }
  if (controller == nullptr || controller->value("kind", "") != kDrillKind ||
      !controller->value("apiVersion", "").starts_with("relops.dev/")) {
    return std::string("it has no DRDrill as its controller");
  }
  const std::string name = controller->value("name", "");
  if (drill == nullptr) return "its controller DRDrill " + name + " does not exist";
  const json drillMetadata = drill->value("metadata", json::object());
  if (drillMetadata.value("name", "") != name ||
      drillMetadata.value("uid", "") != controller->value("uid", "")) {
    return "its controller reference does not carry the UID of the DRDrill " + name;
  }
  const json spec = run.value("spec", json::object());
  if (!spec.is_object() || spec.value("drillName", "") != name) {
    return "its spec.drillName is not its controller " + name;
  }
  if (label(run, kDrillLabel) != name) {
    return "its " + std::string(kDrillLabel) + " label is not its controller " + name;
  }
  return std::nullopt;
}

bool sourceAllows(const json& sourceNamespace, std::string_view drillNamespace) {
  const std::string list = annotation(sourceNamespace, kDrillSourcesAnnotation);
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    std::string_view entry(list.data() + start, end - start);
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
    if (!entry.empty() && entry == drillNamespace) return true;
    start = end + 1;
  }
  return false;
}

std::string sandboxPodSecurityLevel(const std::optional<json>& sourceNamespace) {
  if (sourceNamespace &&
      label(*sourceNamespace, "pod-security.kubernetes.io/enforce") == "restricted") {
    return "restricted";
  }
  return "baseline";
}

bool objectivesMet(const std::optional<Objectives>& objectives, std::optional<int64_t> rtoSeconds,
                   std::optional<int64_t> rpoSeconds, std::string& why) {
  if (!objectives) return true;
  std::vector<std::string> missed;
  if (objectives->rto) {
    if (!rtoSeconds) {
      missed.push_back("no RTO was measured");
    } else if (seconds(*rtoSeconds) > objectives->rto->value) {
      missed.push_back("RTO " + formatDuration(seconds(*rtoSeconds)) + " exceeded the objective " +
                       objectives->rto->text);
    }
  }
  if (objectives->rpo) {
    if (!rpoSeconds) {
      missed.push_back("no RPO was measured (no data time was reported)");
    } else if (seconds(*rpoSeconds) > objectives->rpo->value) {
      missed.push_back("RPO " + formatDuration(seconds(*rpoSeconds)) + " exceeded the objective " +
                       objectives->rpo->text);
    }
  }
  why.clear();
  for (const std::string& m : missed) why += (why.empty() ? "" : "; ") + m;
  return missed.empty();
}

RunDesired decideRun(const json& spec, const RunObserved& observed,
                     std::chrono::system_clock::time_point now) {
  const Instant nowSeconds = std::chrono::floor<seconds>(now);
  auto parsed = parseRunSpec(spec);
  if (!parsed) {
    // Runs are written by relops; a spec it cannot read ends the run.
    RunDesired desired;
    desired.status = parseRunStatus(observed.status);
    if (!desired.status.phase || !terminal(*desired.status.phase)) {
      desired.status.phase = Phase::kError;
      desired.status.verdict = Verdict::kError;
      desired.status.reason = "InvalidSpec";
      desired.status.message = parsed.error().message();
      desired.status.completionTime = nowSeconds;
    }
    desired.removeFinalizer = observed.deleting;
    desired.status.observedGeneration = observed.generation;
    desired.statusJson = toJson(desired.status);
    desired.statusChanged = desired.statusJson != observed.status;
    return desired;
  }
  RunMachine machine(*parsed, observed, nowSeconds, now);
  machine.step();
  return machine.finish();
}

bool needsCleanupFinalizer(const RunSpec& spec) {
  return !std::holds_alternative<JobDrill>(spec.type);
}

RunDesired failOnAction(const RunDesired& desired, const Action& action, const base::Error& error,
                        std::chrono::system_clock::time_point now) {
  RunDesired failed = desired;
  RunStatus& s = failed.status;
  const Instant nowSeconds = std::chrono::floor<seconds>(now);
  failed.actions.clear();
  s.verdict = Verdict::kError;
  s.reason = "ActionRejected";
  s.message = "could not " + action.purpose + ": " + error.describe();
  if (!s.startTime) s.startTime = nowSeconds;
  if (!s.phase || !terminal(*s.phase)) {
    s.phase = Phase::kError;
    s.completionTime = nowSeconds;
  }
  // Whatever was disrupted or created is cleaned up by the next reconcile.
  const bool disrupted =
      (s.failover && s.failover->disrupted) || (s.velero && !s.velero->sandboxNamespace.empty());
  s.cleanup = disrupted ? CleanupResult::kPending : CleanupResult::kNotNeeded;
  common::setCondition(s.conditions,
                       common::makeCondition("Ready", "True", "Finished", "the run finished: Error",
                                             s.observedGeneration),
                       now);
  failed.statusJson = toJson(s);
  failed.statusChanged = true;
  failed.requeueAt = disrupted ? std::optional<Instant>(nowSeconds + kPollInterval) : std::nullopt;
  return failed;
}

}  // namespace relops::drill
