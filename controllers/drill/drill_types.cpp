#include "controllers/drill/drill_types.h"

#include <date/date.h>

#include <regex>
#include <sstream>

#include "controllers/common/json_fields.h"

namespace relops::drill {
namespace {

// The decisions read a condition's fields with value(..., ""), which throws when a field
// is there with another type; the schema keeps such entries out, this keeps them out of
// files and hand-edited statuses too.
bool wellFormedCondition(const nlohmann::json& c) {
  if (!c.is_object()) return false;
  for (const char* key : {"type", "status", "reason", "message", "lastTransitionTime"}) {
    if (c.contains(key) && !c[key].is_string()) return false;
  }
  return true;
}

// The status's well-formed conditions, in order.
nlohmann::json wellFormedConditions(const nlohmann::json& status) {
  nlohmann::json kept = nlohmann::json::array();
  if (!status.contains("conditions") || !status["conditions"].is_array()) return kept;
  for (const nlohmann::json& c : status["conditions"]) {
    if (wellFormedCondition(c)) kept.push_back(c);
  }
  return kept;
}

using common::fieldError;
using common::JsonObject;
using nlohmann::json;

base::Result<Objectives> parseObjectives(const json& value, const std::string& path) {
  if (!value.is_object()) return fieldError(path, "must be an object");
  JsonObject fields;
  RELOPS_ASSIGN(fields, JsonObject::at(&value, path));
  Objectives objectives;
  std::optional<std::string> rto, rpo;
  RELOPS_ASSIGN(rto, fields.optionalString("rto", 24));
  RELOPS_ASSIGN(rpo, fields.optionalString("rpo", 24));
  if (rto) {
    auto d = parseDuration(*rto, fields.child("rto"));
    if (!d) return std::move(d).error();
    objectives.rto = *d;
  }
  if (rpo) {
    auto d = parseDuration(*rpo, fields.child("rpo"));
    if (!d) return std::move(d).error();
    objectives.rpo = *d;
  }
  if (!objectives.rto && !objectives.rpo)
    return fieldError(path, "objectives needs rto, rpo or both");
  return objectives;
}

json objectivesJson(const Objectives& objectives) {
  json out = json::object();
  if (objectives.rto) out["rto"] = objectives.rto->text;
  if (objectives.rpo) out["rpo"] = objectives.rpo->text;
  return out;
}

base::Result<WorkloadRef> parseRef(const json& value, const std::string& path,
                                   std::initializer_list<std::string_view> kinds) {
  if (!value.is_object()) return fieldError(path, "must be an object");
  JsonObject fields;
  RELOPS_ASSIGN(fields, JsonObject::at(&value, path));
  WorkloadRef ref;
  RELOPS_ASSIGN(ref.kind, fields.requiredString("kind", 32));
  RELOPS_ASSIGN(ref.name, fields.requiredString("name", 253));
  if (std::find(kinds.begin(), kinds.end(), ref.kind) == kinds.end()) {
    std::string allowed;
    for (std::string_view k : kinds) allowed += (allowed.empty() ? "" : ", ") + std::string(k);
    return fieldError(fields.child("kind"), "must be one of " + allowed);
  }
  return ref;
}

// Exactly one of job, failover, veleroRestore.
base::Result<DrillType> parseType(const JsonObject& fields, const std::string& path) {
  const int count = (fields.has("job") ? 1 : 0) + (fields.has("failover") ? 1 : 0) +
                    (fields.has("veleroRestore") ? 1 : 0);
  if (count != 1)
    return fieldError(path, "exactly one of job, failover or veleroRestore must be set");
  if (fields.has("job")) {
    const json& job = *fields.get("job");
    if (!job.is_object() || !job.contains("template") || !job["template"].is_object() ||
        !job["template"].contains("spec") || !job["template"]["spec"].is_object()) {
      return fieldError(fields.child("job") + ".template.spec", "required field is missing");
    }
    return DrillType(JobDrill{job["template"]});
  }
  if (fields.has("failover")) {
    const json& failover = *fields.get("failover");
    if (!failover.is_object()) return fieldError(fields.child("failover"), "must be an object");
    FailoverDrill drill;
    const std::string p = fields.child("failover");
    RELOPS_ASSIGN(drill.target, parseRef(failover.value("target", json()), p + ".target",
                                         {"Deployment", "StatefulSet"}));
    RELOPS_ASSIGN(drill.standby, parseRef(failover.value("standby", json()), p + ".standby",
                                          {"Deployment", "StatefulSet", "Service"}));
    if (drill.target == drill.standby) {
      return fieldError(p, "failover standby must differ from the target");
    }
    return DrillType(drill);
  }
  const json& velero = *fields.get("veleroRestore");
  const std::string p = fields.child("veleroRestore");
  if (!velero.is_object()) return fieldError(p, "must be an object");
  JsonObject v;
  RELOPS_ASSIGN(v, JsonObject::at(&velero, p));
  VeleroRestoreDrill drill;
  std::optional<std::string> text;
  RELOPS_ASSIGN(text, v.optionalString("backupName", 253));
  drill.backupName = text.value_or("");
  RELOPS_ASSIGN(text, v.optionalString("scheduleName", 63));
  drill.scheduleName = text.value_or("");
  if (v.has("veleroNamespace")) {
    return fieldError(v.child("veleroNamespace"),
                      "removed: relops reads Backups from its --velero-namespace");
  }
  RELOPS_ASSIGN(text, v.optionalString("sourceNamespace", 63));
  drill.sourceNamespace = text.value_or("");
  if (v.has("excludedResources")) {
    const json& list = *v.get("excludedResources");
    const std::string lp = v.child("excludedResources");
    if (!list.is_array()) return fieldError(lp, "must be a list");
    if (list.size() > kMaxExcludedResources) {
      return fieldError(lp,
                        "must have at most " + std::to_string(kMaxExcludedResources) + " items");
    }
    std::vector<std::string> names;
    for (const json& item : list) {
      if (!item.is_string() || item.get<std::string>().empty() ||
          item.get<std::string>().size() > 253) {
        return fieldError(lp, "items must be resource.group names of at most 253 characters");
      }
      names.push_back(item.get<std::string>());
    }
    drill.excludedResources = std::move(names);
  }
  if (drill.backupName.empty() == drill.scheduleName.empty()) {
    return fieldError(p, "veleroRestore needs exactly one of backupName or scheduleName");
  }
  return DrillType(drill);
}

void typeJson(json& out, const DrillType& type) {
  if (const auto* job = std::get_if<JobDrill>(&type)) {
    out["job"] = {{"template", job->template_}};
  } else if (const auto* failover = std::get_if<FailoverDrill>(&type)) {
    out["failover"] = {
        {"target", {{"kind", failover->target.kind}, {"name", failover->target.name}}},
        {"standby", {{"kind", failover->standby.kind}, {"name", failover->standby.name}}}};
  } else {
    const auto& velero = std::get<VeleroRestoreDrill>(type);
    json v = json::object();
    if (velero.excludedResources) v["excludedResources"] = *velero.excludedResources;
    if (!velero.backupName.empty()) v["backupName"] = velero.backupName;
    if (!velero.scheduleName.empty()) v["scheduleName"] = velero.scheduleName;
    if (!velero.sourceNamespace.empty()) v["sourceNamespace"] = velero.sourceNamespace;
    out["veleroRestore"] = v;
  }
}

base::Result<Duration> parseRunTimeout(const JsonObject& fields, bool required) {
  std::optional<std::string> text;
  RELOPS_ASSIGN(text, fields.optionalString("runTimeout", 24));
  if (!text && required) return fieldError(fields.child("runTimeout"), "required field is missing");
  auto timeout =
      parseDuration(text.value_or(std::string(kDefaultRunTimeout)), fields.child("runTimeout"));
  if (!timeout) return std::move(timeout).error();
  if (timeout->value < std::chrono::minutes(1) || timeout->value > std::chrono::hours(168)) {
    return fieldError(fields.child("runTimeout"),
                      "runTimeout must be a duration such as 30m or 1h30m, from 1m to 168h");
  }
  return timeout;
}

std::optional<Instant> timeField(const json& object, std::string_view key) {
  if (!object.is_object() || !object.contains(key) || !object.at(key).is_string()) {
    return std::nullopt;
  }
  return parseTime(object.at(key).get<std::string>());
}

std::optional<int64_t> intField(const json& object, std::string_view key) {
  if (!object.is_object() || !object.contains(key) || !object.at(key).is_number_integer()) {
    return std::nullopt;
  }
  return object.at(key).get<int64_t>();
}

void putTime(json& out, std::string_view key, const std::optional<Instant>& t) {
  if (t) out[std::string(key)] = common::formatRfc3339(*t);
}

}  // namespace

base::Result<Duration> parseDuration(std::string_view text, std::string_view path) {
  static const std::regex kShape("^(?:([0-9]{1,4})h)?(?:([0-9]{1,6})m)?(?:([0-9]{1,7})s)?$");
  std::cmatch match;
  if (text.empty() || !std::regex_match(text.begin(), text.end(), match, kShape)) {
    return fieldError(
        path, "must be a duration such as 90s, 15m or 1h30m, got \"" + std::string(text) + "\"");
  }
  std::chrono::seconds value{0};
  if (match[1].matched) value += std::chrono::hours(std::stoll(match[1].str()));
  if (match[2].matched) value += std::chrono::minutes(std::stoll(match[2].str()));
  if (match[3].matched) value += std::chrono::seconds(std::stoll(match[3].str()));
  return Duration{std::string(text), value};
}

std::string formatDuration(std::chrono::seconds value) {
  if (value.count() <= 0) return "0s";
  const int64_t total = value.count();
  const int64_t h = total / 3600;
  const int64_t m = total % 3600 / 60;
  const int64_t s = total % 60;
  std::string out;
  if (h > 0) out += std::to_string(h) + "h";
  if (m > 0) out += std::to_string(m) + "m";
  if (s > 0) out += std::to_string(s) + "s";
  return out;
}

const std::vector<std::string>& defaultRestoreExclusions() {
  // Velero's --exclude-resources format: resource.group, one entry per kind.
  static const std::vector<std::string> kDefault = {
      "ingresses.networking.k8s.io",          "gateways.gateway.networking.k8s.io",
      "httproutes.gateway.networking.k8s.io", "grpcroutes.gateway.networking.k8s.io",
      "tlsroutes.gateway.networking.k8s.io",  "tcproutes.gateway.networking.k8s.io",
      "udproutes.gateway.networking.k8s.io",  "servicemonitors.monitoring.coreos.com",
      "podmonitors.monitoring.coreos.com",    "prometheusrules.monitoring.coreos.com",
      "certificates.cert-manager.io",         "certificaterequests.cert-manager.io",
      "externalsecrets.external-secrets.io",
  };
  return kDefault;
}

const std::vector<std::string>& fixedRestoreExclusions() {
  // Velero has no wildcard for a group's kinds: every relops.dev kind is named.
  static const std::vector<std::string> kFixed = {
      "servicelevelobjectives.relops.dev",
      "errorbudgetpolicies.relops.dev",
      "oncallrotations.relops.dev",
      "drdrills.relops.dev",
      "drdrillruns.relops.dev",
      "clusterroles.rbac.authorization.k8s.io",
      "clusterrolebindings.rbac.authorization.k8s.io",
  };
  return kFixed;
}

std::vector<std::string> restoreExclusions(const VeleroRestoreDrill& drill) {
  std::vector<std::string> out = drill.excludedResources.value_or(defaultRestoreExclusions());
  for (const std::string& fixed : fixedRestoreExclusions()) {
    if (std::find(out.begin(), out.end(), fixed) == out.end()) out.push_back(fixed);
  }
  return out;
}

std::string_view typeName(const DrillType& type) {
  if (std::holds_alternative<JobDrill>(type)) return "job";
  if (std::holds_alternative<FailoverDrill>(type)) return "failover";
  return "veleroRestore";
}

base::Result<DrillSpec> parseDrillSpec(const json& spec) {
  if (!spec.is_object()) return fieldError("spec", "must be an object");
  JsonObject fields;
  RELOPS_ASSIGN(fields, JsonObject::at(&spec, "spec"));
  DrillSpec out;
  RELOPS_ASSIGN(out.schedule, fields.requiredString("schedule", 128));
  std::optional<std::string> text;
  RELOPS_ASSIGN(text, fields.optionalString("timeZone", 64));
  out.timeZone = text.value_or(std::string(kDefaultTimeZone));
  std::optional<bool> suspend;
  RELOPS_ASSIGN(suspend, fields.optionalBool("suspend"));
  out.suspend = suspend.value_or(false);
  RELOPS_ASSIGN(text, fields.optionalString("concurrencyPolicy", 16));
  if (text && *text != "Forbid" && *text != "Replace") {
    return fieldError(fields.child("concurrencyPolicy"), "must be Forbid or Replace");
  }
  out.concurrencyPolicy =
      text && *text == "Replace" ? ConcurrencyPolicy::kReplace : ConcurrencyPolicy::kForbid;
  RELOPS_ASSIGN(out.startingDeadlineSeconds,
                fields.optionalInt("startingDeadlineSeconds", 10, 31622400));
  RELOPS_ASSIGN(out.runTimeout, parseRunTimeout(fields, false));
  if (fields.has("objectives")) {
    RELOPS_ASSIGN(out.objectives,
                  parseObjectives(*fields.get("objectives"), fields.child("objectives")));
    if (out.objectives->rto && out.objectives->rto->value > out.runTimeout.value) {
      return fieldError(fields.child("objectives") + ".rto",
                        "objectives.rto must not exceed runTimeout");
    }
  }
  std::optional<int64_t> limit;
  RELOPS_ASSIGN(limit, fields.optionalInt("successfulRunsHistoryLimit", 0, 100));
  out.successfulRunsHistoryLimit =
      static_cast<int32_t>(limit.value_or(kDefaultSuccessfulRunsHistoryLimit));
  RELOPS_ASSIGN(limit, fields.optionalInt("failedRunsHistoryLimit", 0, 100));
  out.failedRunsHistoryLimit = static_cast<int32_t>(limit.value_or(kDefaultFailedRunsHistoryLimit));
  RELOPS_ASSIGN(out.type, parseType(fields, "spec"));
  return out;
}

json toJson(const DrillSpec& spec) {
  json out = {{"schedule", spec.schedule},
              {"timeZone", spec.timeZone},
              {"suspend", spec.suspend},
              {"concurrencyPolicy",
               spec.concurrencyPolicy == ConcurrencyPolicy::kReplace ? "Replace" : "Forbid"},
              {"runTimeout", spec.runTimeout.text},
              {"successfulRunsHistoryLimit", spec.successfulRunsHistoryLimit},
              {"failedRunsHistoryLimit", spec.failedRunsHistoryLimit}};
  if (spec.startingDeadlineSeconds) out["startingDeadlineSeconds"] = *spec.startingDeadlineSeconds;
  if (spec.objectives) out["objectives"] = objectivesJson(*spec.objectives);
  typeJson(out, spec.type);
  return out;
}

base::Result<RunSpec> parseRunSpec(const json& spec) {
  if (!spec.is_object()) return fieldError("spec", "must be an object");
  JsonObject fields;
  RELOPS_ASSIGN(fields, JsonObject::at(&spec, "spec"));
  RunSpec out;
  RELOPS_ASSIGN(out.drillName, fields.requiredString("drillName", kMaxDrillNameLength));
  std::string text;
  RELOPS_ASSIGN(text, fields.requiredString("scheduledTime", 64));
  const auto scheduled = parseTime(text);
  if (!scheduled) return fieldError(fields.child("scheduledTime"), "must be an RFC 3339 time");
  out.scheduledTime = *scheduled;
  RELOPS_ASSIGN(text, fields.requiredString("trigger", 16));
  if (text != "Schedule" && text != "RunNow") {
    return fieldError(fields.child("trigger"), "must be Schedule or RunNow");
  }
  out.trigger = text == "RunNow" ? Trigger::kRunNow : Trigger::kSchedule;
  std::optional<std::string> token;
  RELOPS_ASSIGN(token, fields.optionalString("runNowToken", 253));
  out.runNowToken = token.value_or("");
  RELOPS_ASSIGN(out.runTimeout, parseRunTimeout(fields, true));
  if (fields.has("objectives")) {
    RELOPS_ASSIGN(out.objectives,
                  parseObjectives(*fields.get("objectives"), fields.child("objectives")));
  }
  RELOPS_ASSIGN(out.type, parseType(fields, "spec"));
  return out;
}

json toJson(const RunSpec& spec) {
  json out = {{"drillName", spec.drillName},
              {"scheduledTime", common::formatRfc3339(spec.scheduledTime)},
              {"trigger", spec.trigger == Trigger::kRunNow ? "RunNow" : "Schedule"},
              {"runTimeout", spec.runTimeout.text}};
  if (!spec.runNowToken.empty()) out["runNowToken"] = spec.runNowToken;
  if (spec.objectives) out["objectives"] = objectivesJson(*spec.objectives);
  typeJson(out, spec.type);
  return out;
}

RunSpec runSpecFor(const std::string& drillName, const DrillSpec& drill, Instant scheduledTime,
                   Trigger trigger, const std::string& runNowToken) {
  RunSpec run;
  run.drillName = drillName;
  run.scheduledTime = scheduledTime;
  run.trigger = trigger;
  run.runNowToken = trigger == Trigger::kRunNow ? runNowToken : "";
  run.runTimeout = drill.runTimeout;
  run.objectives = drill.objectives;
  run.type = drill.type;
  return run;
}

namespace {
constexpr std::array<std::string_view, 7> kPhaseNames = {
    "Pending", "Running", "Verifying", "CleaningUp", "Succeeded", "Failed", "Error"};
constexpr std::array<std::string_view, 3> kVerdictNames = {"Pass", "Fail", "Error"};
constexpr std::array<std::string_view, 4> kCleanupNames = {"Pending", "Succeeded", "Failed",
                                                           "NotNeeded"};
}  // namespace

std::string_view toString(Phase phase) { return kPhaseNames[static_cast<size_t>(phase)]; }
std::string_view toString(Verdict verdict) { return kVerdictNames[static_cast<size_t>(verdict)]; }
std::string_view toString(CleanupResult result) {
  return kCleanupNames[static_cast<size_t>(result)];
}

std::optional<Phase> parsePhase(std::string_view text) {
  for (size_t i = 0; i < kPhaseNames.size(); ++i) {
    if (kPhaseNames[i] == text) return static_cast<Phase>(i);
  }
  return std::nullopt;
}

std::optional<Verdict> parseVerdict(std::string_view text) {
  for (size_t i = 0; i < kVerdictNames.size(); ++i) {
    if (kVerdictNames[i] == text) return static_cast<Verdict>(i);
  }
  return std::nullopt;
}

RunStatus parseRunStatus(const json& status) {
  RunStatus out;
  if (!status.is_object()) return out;
  out.observedGeneration = intField(status, "observedGeneration").value_or(0);
  out.conditions = wellFormedConditions(status);
  out.phase = parsePhase(common::stringOrEmpty(status, "phase"));
  out.verdict = parseVerdict(common::stringOrEmpty(status, "verdict"));
  out.reason = common::stringOrEmpty(status, "reason");
  out.message = common::stringOrEmpty(status, "message");
  out.startTime = timeField(status, "startTime");
  out.deadline = timeField(status, "deadline");
  out.recoveryTime = timeField(status, "recoveryTime");
  out.completionTime = timeField(status, "completionTime");
  out.rtoSeconds = intField(status, "rtoSeconds");
  out.rpoSeconds = intField(status, "rpoSeconds");
  if (status.contains("objectivesMet") && status["objectivesMet"].is_boolean()) {
    out.objectivesMet = status["objectivesMet"].get<bool>();
  }
  out.dataTimestamp = timeField(status, "dataTimestamp");
  if (status.contains("job")) out.jobName = common::stringOrEmpty(status["job"], "name");
  if (status.contains("failover") && status["failover"].is_object()) {
    const json& f = status["failover"];
    FailoverProgress progress;
    if (auto n = intField(f, "previousReplicas"))
      progress.previousReplicas = static_cast<int32_t>(*n);
    progress.disrupted = f.value("disrupted", false);
    progress.reverted = f.value("reverted", false);
    out.failover = progress;
  }
  if (status.contains("velero") && status["velero"].is_object()) {
    const json& v = status["velero"];
    VeleroProgress progress;
    progress.backup = common::stringOrEmpty(v, "backup");
    progress.backupStartTimestamp = timeField(v, "backupStartTimestamp");
    progress.restore = common::stringOrEmpty(v, "restore");
    progress.restorePhase = common::stringOrEmpty(v, "restorePhase");
    progress.sandboxNamespace = common::stringOrEmpty(v, "sandboxNamespace");
    out.velero = progress;
  }
  if (status.contains("cleanup") && status["cleanup"].is_object()) {
    const std::string result = common::stringOrEmpty(status["cleanup"], "result");
    for (size_t i = 0; i < kCleanupNames.size(); ++i) {
      if (kCleanupNames[i] == result) out.cleanup = static_cast<CleanupResult>(i);
    }
    out.cleanupMessage = common::stringOrEmpty(status["cleanup"], "message");
  }
  return out;
}

json toJson(const RunStatus& status) {
  json out = json::object();
  out["observedGeneration"] = status.observedGeneration;
  if (!status.conditions.empty()) out["conditions"] = status.conditions;
  if (status.phase) out["phase"] = toString(*status.phase);
  if (status.verdict) out["verdict"] = toString(*status.verdict);
  if (!status.reason.empty()) out["reason"] = status.reason;
  if (!status.message.empty()) out["message"] = status.message;
  putTime(out, "startTime", status.startTime);
  putTime(out, "deadline", status.deadline);
  putTime(out, "recoveryTime", status.recoveryTime);
  putTime(out, "completionTime", status.completionTime);
  if (status.rtoSeconds) {
    out["rtoSeconds"] = *status.rtoSeconds;
    out["rto"] = formatDuration(std::chrono::seconds(*status.rtoSeconds));
  }
  if (status.rpoSeconds) {
    out["rpoSeconds"] = *status.rpoSeconds;
    out["rpo"] = formatDuration(std::chrono::seconds(*status.rpoSeconds));
  }
  if (status.objectivesMet) out["objectivesMet"] = *status.objectivesMet;
  putTime(out, "dataTimestamp", status.dataTimestamp);
  if (!status.jobName.empty()) out["job"] = {{"name", status.jobName}};
  if (status.failover) {
    json f = {{"disrupted", status.failover->disrupted}, {"reverted", status.failover->reverted}};
    if (status.failover->previousReplicas)
      f["previousReplicas"] = *status.failover->previousReplicas;
    out["failover"] = f;
  }
  if (status.velero) {
    json v = json::object();
    if (!status.velero->backup.empty()) v["backup"] = status.velero->backup;
    putTime(v, "backupStartTimestamp", status.velero->backupStartTimestamp);
    if (!status.velero->restore.empty()) v["restore"] = status.velero->restore;
    if (!status.velero->restorePhase.empty()) v["restorePhase"] = status.velero->restorePhase;
    if (!status.velero->sandboxNamespace.empty()) {
      v["sandboxNamespace"] = status.velero->sandboxNamespace;
    }
    out["velero"] = v;
  }
  if (status.cleanup) {
    json c = {{"result", toString(*status.cleanup)}};
    if (!status.cleanupMessage.empty()) c["message"] = status.cleanupMessage;
    out["cleanup"] = c;
  }
  return out;
}

DrillStatus parseDrillStatus(const json& status) {
  DrillStatus out;
  if (!status.is_object()) return out;
  out.observedGeneration = intField(status, "observedGeneration").value_or(0);
  out.conditions = wellFormedConditions(status);
  if (status.contains("schedule") && status["schedule"].is_object()) {
    const json& s = status["schedule"];
    if (auto anchor = timeField(s, "anchor")) {
      out.schedule = ScheduleAnchor{common::stringOrEmpty(s, "expression"),
                                    common::stringOrEmpty(s, "timeZone"), *anchor};
    }
  }
  out.lastScheduleTime = timeField(status, "lastScheduleTime");
  out.nextScheduleTime = timeField(status, "nextScheduleTime");
  out.lastRunNowToken = common::stringOrEmpty(status, "lastRunNowToken");
  out.activeRun = common::stringOrEmpty(status, "activeRun");
  if (status.contains("lastRun") && status["lastRun"].is_object()) {
    const json& l = status["lastRun"];
    if (auto verdict = parseVerdict(common::stringOrEmpty(l, "verdict"))) {
      LastRun last;
      last.name = common::stringOrEmpty(l, "name");
      last.verdict = *verdict;
      last.completionTime = timeField(l, "completionTime");
      last.rtoSeconds = intField(l, "rtoSeconds");
      last.rpoSeconds = intField(l, "rpoSeconds");
      if (l.contains("objectivesMet") && l["objectivesMet"].is_boolean()) {
        last.objectivesMet = l["objectivesMet"].get<bool>();
      }
      last.message = common::stringOrEmpty(l, "message");
      out.lastRun = last;
    }
  }
  out.lastSuccessfulTime = timeField(status, "lastSuccessfulTime");
  out.consecutiveFailures =
      static_cast<int32_t>(intField(status, "consecutiveFailures").value_or(0));
  out.passRate = common::stringOrEmpty(status, "passRate");
  out.retainedRuns = static_cast<int32_t>(intField(status, "retainedRuns").value_or(0));
  return out;
}

json toJson(const DrillStatus& status) {
  json out = json::object();
  out["observedGeneration"] = status.observedGeneration;
  if (!status.conditions.empty()) out["conditions"] = status.conditions;
  if (status.schedule) {
    out["schedule"] = {{"expression", status.schedule->expression},
                       {"timeZone", status.schedule->timeZone},
                       {"anchor", common::formatRfc3339(status.schedule->anchor)}};
  }
  putTime(out, "lastScheduleTime", status.lastScheduleTime);
  putTime(out, "nextScheduleTime", status.nextScheduleTime);
  if (!status.lastRunNowToken.empty()) out["lastRunNowToken"] = status.lastRunNowToken;
  if (!status.activeRun.empty()) out["activeRun"] = status.activeRun;
  if (status.lastRun) {
    const LastRun& last = *status.lastRun;
    json l = {{"name", last.name}, {"verdict", toString(last.verdict)}};
    putTime(l, "completionTime", last.completionTime);
    if (last.rtoSeconds) {
      l["rtoSeconds"] = *last.rtoSeconds;
      l["rto"] = formatDuration(std::chrono::seconds(*last.rtoSeconds));
    }
    if (last.rpoSeconds) {
      l["rpoSeconds"] = *last.rpoSeconds;
      l["rpo"] = formatDuration(std::chrono::seconds(*last.rpoSeconds));
    }
    if (last.objectivesMet) l["objectivesMet"] = *last.objectivesMet;
    if (!last.message.empty()) l["message"] = last.message;
    out["lastRun"] = l;
  }
  putTime(out, "lastSuccessfulTime", status.lastSuccessfulTime);
  out["consecutiveFailures"] = status.consecutiveFailures;
  if (!status.passRate.empty()) out["passRate"] = status.passRate;
  out["retainedRuns"] = status.retainedRuns;
  return out;
}

std::optional<Instant> parseTime(std::string_view text) {
  // The shape is checked first: date::parse turns a missing field ("8:0:") into NaN
  // and casts it to an integer, which is undefined behaviour.
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  if (text.size() < kShape.size()) return std::nullopt;
  for (size_t i = 0; i < kShape.size(); ++i) {
    const bool ok = kShape[i] == 'd' ? text[i] >= '0' && text[i] <= '9' : text[i] == kShape[i];
    if (!ok) return std::nullopt;
  }
  std::istringstream in{std::string(text)};
  date::sys_seconds t;
  // Fractions (metav1.MicroTime) are dropped.
  in >> date::parse("%Y-%m-%dT%H:%M:%S", t);
  if (in.fail()) return std::nullopt;
  std::string rest;
  std::getline(in, rest);
  if (!rest.empty() && rest[0] == '.') {
    const size_t end = rest.find_first_not_of("0123456789", 1);
    rest = end == std::string::npos ? std::string() : rest.substr(end);
  }
  if (rest == "Z") return Instant(t.time_since_epoch());
  const auto digits = [&](size_t from) {
    return rest[from] >= '0' && rest[from] <= '9' && rest[from + 1] >= '0' && rest[from + 1] <= '9';
  };
  if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' && digits(1) &&
      digits(4)) {
    const int sign = rest[0] == '-' ? -1 : 1;
    const auto offset = std::chrono::hours(std::stoi(rest.substr(1, 2))) +
                        std::chrono::minutes(std::stoi(rest.substr(4, 2)));
    return Instant(t.time_since_epoch() - sign * offset);
  }
  return std::nullopt;
}

}  // namespace relops::drill
