// The DRDrill and DRDrillRun APIs (relops.dev/v1alpha1) as C++ types. They
// parse from and serialize to exactly the shape of crds/relops.dev_drdrills.yaml
// and crds/relops.dev_drdrillruns.yaml; the CRDs are the source of truth, and
// their schema defaults are applied here too, so a file read by `relops drill`
// means what the API server would store.
//
// Parsing checks syntax and bounds; what needs the tz database or a full cron
// parse is the engine's job (cron.h), where a failure becomes Stalled.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "controllers/common/cron.h"
#include "controllers/common/rfc3339.h"
#include "operator/base/result.h"

namespace relops::drill {

// The cron engine is shared with ChangeWindow (controllers/common/cron.h).
using common::CronSchedule;
using common::Instant;

inline constexpr std::string_view kApiVersion = "relops.dev/v1alpha1";
inline constexpr std::string_view kDrillKind = "DRDrill";
inline constexpr std::string_view kRunKind = "DRDrillRun";

// Schema defaults (the CRD carries the same values).
inline constexpr std::string_view kDefaultTimeZone = "UTC";
inline constexpr std::string_view kDefaultRunTimeout = "1h";
// Where Velero's Backups and Restores live: the operator's --velero-namespace,
// never the tenant's spec (a drill may not point relops at another Velero).
inline constexpr std::string_view kDefaultVeleroNamespace = "velero";
inline constexpr size_t kMaxExcludedResources = 32;
inline constexpr int32_t kDefaultSuccessfulRunsHistoryLimit = 3;
inline constexpr int32_t kDefaultFailedRunsHistoryLimit = 5;
inline constexpr size_t kMaxDrillNameLength = 52;

// The annotations relops reads: a run starts for each new run-now value; a
// failover target must opt in.
inline constexpr std::string_view kRunNowAnnotation = "relops.dev/run-now";
inline constexpr std::string_view kDrillAllowedAnnotation = "relops.dev/drill-allowed";
// On a Namespace (set by its admins; `edit` cannot annotate Namespaces): the
// namespaces whose drills may restore this namespace's backups, comma-separated.
inline constexpr std::string_view kDrillSourcesAnnotation = "relops.dev/drill-sources";
// Labels relops puts on what it creates.
inline constexpr std::string_view kDrillLabel = "relops.dev/drill";
inline constexpr std::string_view kRunLabel = "relops.dev/drill-run";
// The UID of the run that created a sandbox namespace: relops adopts (restores
// into, deletes) only a sandbox carrying its run's UID.
inline constexpr std::string_view kRunUidLabel = "relops.dev/drill-run-uid";

enum class ConcurrencyPolicy { kForbid, kReplace };

// A Go-style duration as the CRD takes it ("90s", "15m", "1h30m"), kept as
// written for serialization.
struct Duration {
  std::string text;
  std::chrono::seconds value{0};
  bool operator==(const Duration&) const = default;
};

base::Result<Duration> parseDuration(std::string_view text, std::string_view path);
// The shortest Go-like form: "42s", "5m", "1h30m", "26h0m5s" -> "26h5s".
std::string formatDuration(std::chrono::seconds value);

struct Objectives {
  std::optional<Duration> rto;
  std::optional<Duration> rpo;
  bool operator==(const Objectives&) const = default;
};

struct JobDrill {
  nlohmann::json template_;  // {metadata?, spec}, as written
  bool operator==(const JobDrill&) const = default;
};

struct WorkloadRef {
  std::string kind;  // Deployment, StatefulSet (and Service for a standby)
  std::string name;
  bool operator==(const WorkloadRef&) const = default;
};

struct FailoverDrill {
  WorkloadRef target;
  WorkloadRef standby;
  bool operator==(const FailoverDrill&) const = default;
};

struct VeleroRestoreDrill {
  std::string backupName;       // exactly one of backupName
  std::string scheduleName;     // and scheduleName
  std::string sourceNamespace;  // empty: the drill's namespace
  // Velero's resource.group names kept out of the restore; absent: the
  // defaults (restoreExclusions()). relops's own kinds are always excluded.
  std::optional<std::vector<std::string>> excludedResources;
  bool operator==(const VeleroRestoreDrill&) const = default;
};

// The default exclusions of a veleroRestore: kinds that act outside the
// sandbox (routes, hostnames, certificates, monitoring, synced secrets).
const std::vector<std::string>& defaultRestoreExclusions();
// Always excluded, whatever the drill says: relops's own kinds (a restored
// drill or freeze would act on its own) and cluster-wide RBAC.
const std::vector<std::string>& fixedRestoreExclusions();
// What a Restore of this drill excludes, in Velero's resource.group format.
std::vector<std::string> restoreExclusions(const VeleroRestoreDrill& drill);

using DrillType = std::variant<JobDrill, FailoverDrill, VeleroRestoreDrill>;
std::string_view typeName(const DrillType& type);  // "job", "failover", "veleroRestore"

struct DrillSpec {
  std::string schedule;
  std::string timeZone;
  bool suspend = false;
  ConcurrencyPolicy concurrencyPolicy = ConcurrencyPolicy::kForbid;
  std::optional<int64_t> startingDeadlineSeconds;
  Duration runTimeout;
  std::optional<Objectives> objectives;
  int32_t successfulRunsHistoryLimit = kDefaultSuccessfulRunsHistoryLimit;
  int32_t failedRunsHistoryLimit = kDefaultFailedRunsHistoryLimit;
  DrillType type;
  bool operator==(const DrillSpec&) const = default;
};

// Errors are kConfig and name the field path ("spec.runTimeout: ...").
base::Result<DrillSpec> parseDrillSpec(const nlohmann::json& spec);
nlohmann::json toJson(const DrillSpec& spec);

// ---------------------------------------------------------------------------
// DRDrillRun

enum class Trigger { kSchedule, kRunNow };

struct RunSpec {
  std::string drillName;
  Instant scheduledTime{};
  Trigger trigger = Trigger::kSchedule;
  std::string runNowToken;
  Duration runTimeout;
  std::optional<Objectives> objectives;
  DrillType type;
  bool operator==(const RunSpec&) const = default;
};

base::Result<RunSpec> parseRunSpec(const nlohmann::json& spec);
nlohmann::json toJson(const RunSpec& spec);

// The run's spec as the drill's spec dictates it: a copy of its type,
// objectives and timeout at the time the run is created.
RunSpec runSpecFor(const std::string& drillName, const DrillSpec& drill, Instant scheduledTime,
                   Trigger trigger, const std::string& runNowToken);

enum class Phase { kPending, kRunning, kVerifying, kCleaningUp, kSucceeded, kFailed, kError };
enum class Verdict { kPass, kFail, kError };

std::string_view toString(Phase phase);
std::string_view toString(Verdict verdict);
std::optional<Phase> parsePhase(std::string_view text);
std::optional<Verdict> parseVerdict(std::string_view text);
inline bool terminal(Phase phase) {
  return phase == Phase::kSucceeded || phase == Phase::kFailed || phase == Phase::kError;
}

enum class CleanupResult { kPending, kSucceeded, kFailed, kNotNeeded };
std::string_view toString(CleanupResult result);

struct FailoverProgress {
  std::optional<int32_t> previousReplicas;
  bool disrupted = false;
  bool reverted = false;
  bool operator==(const FailoverProgress&) const = default;
};

struct VeleroProgress {
  std::string backup;
  std::optional<Instant> backupStartTimestamp;
  std::string restore;
  std::string restorePhase;
  std::string sandboxNamespace;
  bool operator==(const VeleroProgress&) const = default;
};

struct RunStatus {
  int64_t observedGeneration = 0;
  nlohmann::json conditions = nlohmann::json::array();
  std::optional<Phase> phase;
  std::optional<Verdict> verdict;
  std::string reason;
  std::string message;
  std::optional<Instant> startTime;
  std::optional<Instant> deadline;
  std::optional<Instant> recoveryTime;
  std::optional<Instant> completionTime;
  std::optional<int64_t> rtoSeconds;
  std::optional<int64_t> rpoSeconds;
  std::optional<bool> objectivesMet;
  std::optional<Instant> dataTimestamp;
  std::string jobName;
  std::optional<FailoverProgress> failover;
  std::optional<VeleroProgress> velero;
  std::optional<CleanupResult> cleanup;
  std::string cleanupMessage;
  bool operator==(const RunStatus&) const = default;
};

// A null or absent status parses as an empty RunStatus; unknown enum values
// are dropped (the schema keeps them out).
RunStatus parseRunStatus(const nlohmann::json& status);
nlohmann::json toJson(const RunStatus& status);

// ---------------------------------------------------------------------------
// DRDrill status

struct LastRun {
  std::string name;
  Verdict verdict = Verdict::kPass;
  std::optional<Instant> completionTime;
  std::optional<int64_t> rtoSeconds;
  std::optional<int64_t> rpoSeconds;
  std::optional<bool> objectivesMet;
  std::string message;
  bool operator==(const LastRun&) const = default;
};

// The schedule the times in status were computed for (a change re-anchors).
struct ScheduleAnchor {
  std::string expression;
  std::string timeZone;
  Instant anchor{};
  bool operator==(const ScheduleAnchor&) const = default;
};

struct DrillStatus {
  int64_t observedGeneration = 0;
  nlohmann::json conditions = nlohmann::json::array();
  std::optional<ScheduleAnchor> schedule;
  std::optional<Instant> lastScheduleTime;
  std::optional<Instant> nextScheduleTime;
  std::string lastRunNowToken;
  std::string activeRun;
  std::optional<LastRun> lastRun;
  std::optional<Instant> lastSuccessfulTime;
  int32_t consecutiveFailures = 0;
  std::string passRate;
  int32_t retainedRuns = 0;
  bool operator==(const DrillStatus&) const = default;
};

DrillStatus parseDrillStatus(const nlohmann::json& status);
nlohmann::json toJson(const DrillStatus& status);

// metav1.Time as relops reads it from its own objects and from Velero's and the Job
// controller's: RFC 3339 with "Z" or a numeric offset (common::parseRfc3339 takes UTC only),
// fractions dropped. Written back with common::formatRfc3339.
std::optional<Instant> parseTime(std::string_view text);

}  // namespace relops::drill
