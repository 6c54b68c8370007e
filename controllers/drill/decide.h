// The DRDrill and DRDrillRun controllers' pure decisions (DESIGN.md: gather,
// decide, act). The reconcilers gather the object, its runs or the objects a
// run works on, and the current time; decide*() returns the status to write,
// the cluster changes to make, the Events and when to look again. No I/O, and
// the clock is a parameter.
//
// DRDrill conditions: Ready (False and Stalled=True for a spec that passes the
// schema but cannot work: a bad cron expression, an unknown zone, a failover
// target without the opt-in annotation), Running, LastRunSucceeded,
// ObjectivesMet. Events: Started, Succeeded, Failed, ObjectiveMissed,
// MissedSchedule, CleanupFailed; each once, deduplicated against the observed
// status so that a resync never repeats one.
//
// DRDrillRun phases: Pending -> Running -> Verifying -> CleaningUp ->
// Succeeded | Failed | Error. Every run is terminal by startTime + runTimeout;
// cleanup that is not done by then is reported (cleanup.result Failed, a
// CleanupFailed Event) and retried, backing off, until it is. A cleanup step the
// API server refuses (Forbidden: relops lacks the RBAC, e.g. the chart's
// rbac.drillRestoreCleanup=false) cannot succeed by retrying: once it is all
// that is left the run ends at once with cleanup Failed, and the finalizer is
// released (README "Drills": what is then left behind).
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controllers/common/conditions.h"
#include "controllers/common/event.h"
#include "controllers/drill/drill_types.h"
#include "operator/base/error.h"

namespace relops::drill {

using common::Event;

using common::kConditionReady;
using common::kConditionStalled;
inline constexpr std::string_view kConditionRunning = "Running";
inline constexpr std::string_view kConditionLastRunSucceeded = "LastRunSucceeded";
inline constexpr std::string_view kConditionObjectivesMet = "ObjectivesMet";

inline constexpr std::string_view kEventStarted = "Started";
inline constexpr std::string_view kEventSucceeded = "Succeeded";
inline constexpr std::string_view kEventFailed = "Failed";
inline constexpr std::string_view kEventObjectiveMissed = "ObjectiveMissed";
inline constexpr std::string_view kEventMissedSchedule = "MissedSchedule";
inline constexpr std::string_view kEventCleanupFailed = "CleanupFailed";

// The finalizer a run carries until its cleanup is done: only runs that can leave
// something behind (failover, veleroRestore) get it; see needsCleanupFinalizer.
inline constexpr std::string_view kCleanupFinalizer = "relops.dev/drill-cleanup";

// ---------------------------------------------------------------------------
// DRDrill

struct ObservedRun {
  std::string name;
  nlohmann::json spec;
  nlohmann::json status;
  bool deleting = false;
};

struct DrillObserved {
  std::string name;
  std::string namespace_;
  int64_t generation = 0;
  Instant creationTimestamp{};
  nlohmann::json status;          // .status as stored; null when never written
  std::string runNowToken;        // the relops.dev/run-now annotation, empty if absent
  std::vector<ObservedRun> runs;  // the runs this drill owns
  // A precondition the reconciler checked and found unmet, as a message
  // (a failover target without relops.dev/drill-allowed: "true").
  std::optional<std::string> blocked;
};

struct NewRun {
  std::string name;
  RunSpec spec;
  bool operator==(const NewRun&) const = default;
};

struct DrillDesired {
  DrillStatus status;
  nlohmann::json statusJson;
  bool statusChanged = false;
  std::vector<NewRun> create;
  std::vector<std::string> remove;  // runs to delete (history limits, Replace)
  std::vector<Event> events;
  std::optional<Instant> requeueAt;
};

DrillDesired decideDrill(const nlohmann::json& spec, const DrillObserved& observed,
                         std::chrono::system_clock::time_point now);

// ---------------------------------------------------------------------------
// DRDrillRun

struct ObjectRef {
  std::string apiVersion;
  std::string kind;
  std::string namespace_;  // empty for cluster-scoped kinds
  std::string name;
  bool operator==(const ObjectRef&) const = default;
};

// A change a run makes in the cluster; the reconciler carries it out.
struct Action {
  enum class Kind {
    kApply,                   // server-side apply `object`
    kDelete,                  // delete `target`
    kScale,                   // set `target`'s scale subresource to `replicas`
    kDeleteRestoreLeftovers,  // delete cluster-scoped objects labelled velero.io/restore-name
  };
  Kind kind = Kind::kApply;
  nlohmann::json object;
  ObjectRef target;
  int32_t replicas = 0;
  std::string restoreName;
  std::string purpose;  // what it is for, for messages: "create the Job"
  bool operator==(const Action&) const = default;
};

struct RunObserved {
  std::string name;
  std::string namespace_;
  std::string uid;
  int64_t generation = 0;
  nlohmann::json status;
  bool deleting = false;
  // The controlling drill's startingDeadlineSeconds: a run without status
  // scheduled longer ago than this (or than its runTimeout, when the drill sets
  // none) is stale and never starts.
  std::optional<std::chrono::seconds> startingDeadline;
  // job
  std::optional<nlohmann::json> job;
  std::vector<nlohmann::json> jobPods;
  // failover
  std::optional<nlohmann::json> target;
  std::optional<nlohmann::json> standby;
  std::vector<nlohmann::json> standbyEndpointSlices;
  // veleroRestore
  std::string veleroNamespace = std::string(kDefaultVeleroNamespace);  // --velero-namespace
  bool veleroInstalled = true;
  std::vector<nlohmann::json> backups;  // Backups in the Velero namespace
  // The source Namespace object (its opt-in annotation, its Pod Security level);
  // absent when it does not exist. Its ResourceQuotas and LimitRanges.
  std::optional<nlohmann::json> sourceNamespace;
  std::vector<nlohmann::json> sourceQuotas;
  std::vector<nlohmann::json> sourceLimitRanges;
  // spec.hard of the sandbox's quota when the source has none (the operator's
  // --drill-sandbox-quota); empty: relops's built-in default.
  nlohmann::json sandboxQuotaHard = nlohmann::json::object();
  std::optional<nlohmann::json> restore;
  bool sandboxExists = false;   // exists and carries this run's UID label
  bool sandboxForeign = false;  // exists without this run's UID label: never adopted
  bool modifiersExist = false;  // the resource-modifier ConfigMap of the Restore
  std::vector<nlohmann::json> sandboxWorkloads;  // Deployments and StatefulSets
  int64_t leftovers = 0;  // cluster-scoped objects labelled with the restore's name
  // Reads that only cleanup needs (the restore's PersistentVolumes, the modifiers
  // ConfigMap) and that failed: what failed, and whether every failure was a
  // Forbidden (it will not succeed by retrying). They never stop the run's
  // deadline check; what they would have found counts as not yet clean.
  std::string cleanupUnreadable;
  bool cleanupForbidden = false;
  // When the run last made progress (its status last changed), as the reconciler saw it;
  // unset: now. A waiting run polls after as long as it has waited (see kPollMax).
  std::optional<Instant> lastProgress;
};

struct RunDesired {
  RunStatus status;
  nlohmann::json statusJson;
  bool statusChanged = false;
  std::vector<Action> actions;
  std::vector<Event> events;
  std::optional<Instant> requeueAt;
  bool removeFinalizer = false;
};

// How often a run in progress looks at what it waits for, and how often unfinished
// cleanup is retried. A waiting run is woken by watch events of the Job, target and
// standby it waits on (the RTO's resolution); the poll is the fallback for what relops
// does not watch (Restores, EndpointSlices, sandbox workloads): kPollInterval after
// progress, then after as long as the run has waited (1, 1, 2, 4, ... s), at most kPollMax.
inline constexpr std::chrono::seconds kPollInterval{1};
inline constexpr std::chrono::seconds kPollMax{30};
inline constexpr std::chrono::seconds kCleanupRetryInterval{10};
// Cleanup of a finished run is retried after as long as the run has been finished,
// between kCleanupRetryInterval and this: roughly doubling, never a hot loop.
inline constexpr std::chrono::seconds kCleanupRetryMax{std::chrono::minutes(15)};

RunDesired decideRun(const nlohmann::json& spec, const RunObserved& observed,
                     std::chrono::system_clock::time_point now);

// Whether a new run is created with kCleanupFinalizer: false for a job drill, whose Job
// is owned by the run and goes with it.
bool needsCleanupFinalizer(const RunSpec& spec);

// Why relops must leave `run` alone (DESIGN.md Tenancy: relops acts only on
// children it controls), or nullopt when `drill` (the DRDrill named by the
// run's controller reference, null when it does not exist) controls it: the
// controller reference is a relops.dev DRDrill with the drill's UID, and the
// run's spec.drillName and relops.dev/drill label name that drill. This is the
// CronJob controller's IsControlledBy, plus the names that status and reports
// trust.
std::optional<std::string> whyNotControlled(const nlohmann::json& run, const nlohmann::json* drill);
// The name of the DRDrill a run's controller reference points to ("" if none).
std::string controllerName(const nlohmann::json& run);

// Whether a Namespace lets drills of `drillNamespace` restore its backups: its
// relops.dev/drill-sources annotation lists that namespace (comma-separated).
bool sourceAllows(const nlohmann::json& sourceNamespace, std::string_view drillNamespace);
// The Pod Security level a sandbox enforces: the source's enforce level, never
// weaker than baseline (privileged, or no label, becomes baseline).
std::string sandboxPodSecurityLevel(const std::optional<nlohmann::json>& sourceNamespace);

// An action the API server refused for good (invalid, forbidden): the run ends
// with verdict Error and the server's message, and its cleanup is left to the
// next reconcile. Returns the desired state to write instead.
RunDesired failOnAction(const RunDesired& desired, const Action& action, const base::Error& error,
                        std::chrono::system_clock::time_point now);

// Whether a run's objectives were met by its measurements; `why` says what
// was missed ("RTO 6m exceeded the objective 5m").
bool objectivesMet(const std::optional<Objectives>& objectives, std::optional<int64_t> rtoSeconds,
                   std::optional<int64_t> rpoSeconds, std::string& why);

}  // namespace relops::drill
