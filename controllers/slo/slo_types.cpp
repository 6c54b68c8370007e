#include "controllers/slo/slo_types.h"

#include <algorithm>
#include <regex>
#include <set>

namespace relops::slo {
namespace {

using nlohmann::json;

constexpr int64_t kMinute = 60;

bool matches(const std::string& text, const char* pattern) {
  return std::regex_match(text, std::regex(pattern));
}

bool isReserved(std::string_view label) {
  return std::find(std::begin(kReservedLabels), std::end(kReservedLabels), label) !=
         std::end(kReservedLabels);
}

// Durations in spec use m, h, d, w (CEL checks them as minutes); `for` also allows s.
base::Result<Duration> parseWindow(std::string_view text, std::string_view path, int64_t minSeconds,
                                   int64_t maxSeconds, std::string_view units) {
  auto duration = Duration::parse(text, path);
  if (!duration) return duration;
  if (units.find(text.back()) == std::string_view::npos) {
    return fieldError(path, "invalid duration \"" + std::string(text) +
                                "\": the unit must be one of " + std::string(units));
  }
  if (duration->seconds() < minSeconds || duration->seconds() > maxSeconds) {
    return fieldError(
        path, "duration \"" + std::string(text) + "\" must be between " +
                  Duration::fromSeconds(std::chrono::seconds(minSeconds)).canonical() + " and " +
                  Duration::fromSeconds(std::chrono::seconds(maxSeconds)).canonical());
  }
  return duration;
}

base::Result<std::vector<std::string>> parseGrouping(const JsonObject& indicator) {
  auto grouping = indicator.stringList("grouping", 10, 63);
  if (!grouping) return grouping;
  std::set<std::string> seen;
  for (size_t i = 0; i < grouping->size(); ++i) {
    const std::string& label = (*grouping)[i];
    const std::string path = indicator.child("grouping") + "[" + std::to_string(i) + "]";
    if (!isLabelName(label))
      return fieldError(path, "\"" + label + "\" is not a Prometheus label name");
    if (isReserved(label)) {
      return fieldError(path, "\"" + label +
                                  "\" is set by relops (slo, namespace, severity, "
                                  "service, le, oncall_rotation) and cannot be grouped by");
    }
    if (!seen.insert(label).second) return fieldError(path, "duplicate label \"" + label + "\"");
  }
  return grouping;
}

base::Result<Selector> parseSelectorField(const JsonObject& object, std::string_view key) {
  auto text = object.requiredString(key, 1024);
  if (!text) return std::move(text).error();
  return Selector::parse(*text, object.child(key));
}

base::Result<RatioIndicator> parseRatio(const JsonObject& ratio) {
  RatioIndicator indicator;
  if (ratio.has("errors") == ratio.has("good")) {
    return fieldError(ratio.path(), "ratio needs exactly one of errors or good next to total");
  }
  if (ratio.has("errors")) {
    RELOPS_ASSIGN(indicator.errors, parseSelectorField(ratio, "errors"));
  } else {
    RELOPS_ASSIGN(indicator.good, parseSelectorField(ratio, "good"));
  }
  RELOPS_ASSIGN(indicator.total, parseSelectorField(ratio, "total"));
  RELOPS_ASSIGN(indicator.grouping, parseGrouping(ratio));
  return indicator;
}

base::Result<LatencyIndicator> parseLatency(const JsonObject& latency) {
  LatencyIndicator indicator;
  RELOPS_ASSIGN(indicator.bucket, parseSelectorField(latency, "bucket"));
  const std::string& metric = indicator.bucket.metric();
  if (metric.size() <= 7 || metric.substr(metric.size() - 7) != "_bucket" ||
      indicator.bucket.hasMatcher("le")) {
    return fieldError(latency.child("bucket"),
                      "must select a histogram's _bucket series without an le matcher (relops adds "
                      "le), such as http_request_duration_seconds_bucket{job=\"api\"}");
  }
  RELOPS_ASSIGN(indicator.le, latency.requiredString("le", 20));
  if (!matches(indicator.le, "^[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$")) {
    return fieldError(latency.child("le"),
                      "le must be a non-negative number such as \"0.5\", as in the le label");
  }
  RELOPS_ASSIGN(indicator.total, parseSelectorField(latency, "total"));
  RELOPS_ASSIGN(indicator.grouping, parseGrouping(latency));
  return indicator;
}

base::Result<WorkloadIndicator> parseWorkload(const JsonObject& workload) {
  WorkloadIndicator indicator;
  std::string kind;
  RELOPS_ASSIGN(kind, workload.requiredString("kind", 32));
  if (kind == "Deployment") {
    indicator.kind = WorkloadKind::kDeployment;
  } else if (kind == "StatefulSet") {
    indicator.kind = WorkloadKind::kStatefulSet;
  } else if (kind == "DaemonSet") {
    indicator.kind = WorkloadKind::kDaemonSet;
  } else {
    return fieldError(
        workload.child("kind"),
        "Unsupported value \"" + kind + "\": supported values: Deployment, StatefulSet, DaemonSet");
  }
  RELOPS_ASSIGN(indicator.name, workload.requiredString("name", 253));
  if (!matches(indicator.name, "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")) {
    return fieldError(workload.child("name"), "must be a DNS subdomain name such as \"web\"");
  }
  std::optional<int64_t> minReady;
  RELOPS_ASSIGN(minReady, workload.optionalInt("minReadyReplicas"));
  if (minReady) {
    if (*minReady < 1 || *minReady > 100000) {
      return fieldError(workload.child("minReadyReplicas"), "must be between 1 and 100000");
    }
    indicator.minReadyReplicas = static_cast<int32_t>(*minReady);
  }
  return indicator;
}

base::Result<Indicator> parseIndicator(const JsonObject& spec) {
  JsonObject indicator;
  RELOPS_ASSIGN(indicator, JsonObject::at(spec.get("indicator"), spec.child("indicator")));
  const int count = (indicator.has("ratio") ? 1 : 0) + (indicator.has("latency") ? 1 : 0) +
                    (indicator.has("workload") ? 1 : 0);
  if (count != 1) {
    return fieldError(indicator.path(),
                      "exactly one indicator of ratio, latency or workload must be set");
  }
  for (std::string_view key : {"ratio", "latency", "workload"}) {
    if (!indicator.has(key)) continue;
    JsonObject object;
    RELOPS_ASSIGN(object, JsonObject::at(indicator.get(key), indicator.child(key)));
    if (key == "ratio") {
      auto ratio = parseRatio(object);
      if (!ratio) return std::move(ratio).error();
      return Indicator(std::move(*ratio));
    }
    if (key == "latency") {
      auto latency = parseLatency(object);
      if (!latency) return std::move(latency).error();
      return Indicator(std::move(*latency));
    }
    auto workload = parseWorkload(object);
    if (!workload) return std::move(workload).error();
    return Indicator(std::move(*workload));
  }
  return fieldError(indicator.path(), "unreachable");
}

base::Result<BurnRateWindow> parseBurnRateWindow(const JsonObject& item) {
  BurnRateWindow window;
  RELOPS_ASSIGN(window.name, item.requiredString("name", 32));
  if (!matches(window.name, "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")) {
    return fieldError(item.child("name"),
                      "must be lower-case alphanumerics and -, such as page-fast");
  }
  RELOPS_ASSIGN(window.severity, item.requiredString("severity", 32));
  if (!matches(window.severity, "^[a-zA-Z0-9_-]+$")) {
    return fieldError(item.child("severity"), "must be a label value such as critical or warning");
  }
  std::string budget;
  RELOPS_ASSIGN(budget, item.requiredString("budgetPercent", 10));
  RELOPS_ASSIGN(window.budgetPercent, Percent::parse(budget, item.child("budgetPercent")));
  if (window.budgetPercent.micros() <= 0 || window.budgetPercent.micros() > 100000000) {
    return fieldError(
        item.child("budgetPercent"),
        "budgetPercent must be a percentage in (0, 100] written as a string such as \"2\"");
  }
  std::string text;
  RELOPS_ASSIGN(text, item.requiredString("longWindow", 5));
  RELOPS_ASSIGN(window.longWindow,
                parseWindow(text, item.child("longWindow"), kMinute, 90 * 1440 * kMinute, "mhdw"));
  RELOPS_ASSIGN(text, item.requiredString("shortWindow", 5));
  RELOPS_ASSIGN(window.shortWindow,
                parseWindow(text, item.child("shortWindow"), kMinute, 90 * 1440 * kMinute, "mhdw"));
  if (!(window.shortWindow < window.longWindow)) {
    return fieldError(item.path(), "shortWindow must be shorter than longWindow");
  }
  std::optional<std::string> forText;
  RELOPS_ASSIGN(forText, item.optionalString("for", 5));
  if (forText) {
    RELOPS_ASSIGN(window.forDuration,
                  parseWindow(*forText, item.child("for"), 1, 9999 * 3600, "smh"));
  }
  return window;
}

base::Result<Alerting> parseAlerting(const JsonObject& spec) {
  JsonObject object;
  RELOPS_ASSIGN(object, JsonObject::at(spec.get("alerting"), spec.child("alerting")));
  Alerting alerting;
  std::optional<bool> enabled;
  RELOPS_ASSIGN(enabled, object.optionalBool("enabled"));
  alerting.enabled = enabled.value_or(true);
  std::optional<std::string> absentFor;
  RELOPS_ASSIGN(absentFor, object.optionalString("absentFor", 5));
  const std::string absentText = absentFor.value_or("10m");
  if (!absentText.empty()) {
    RELOPS_ASSIGN(alerting.absentFor,
                  parseWindow(absentText, object.child("absentFor"), kMinute, 9999 * 3600, "mh"));
  }
  std::optional<std::string> runbook;
  RELOPS_ASSIGN(runbook, object.optionalString("runbookURL", 2048));
  alerting.runbookURL = runbook.value_or("");
  if (!alerting.runbookURL.empty() && !matches(alerting.runbookURL, "^https?://[^\\s]+$")) {
    return fieldError(object.child("runbookURL"), "runbookURL must be an http or https URL");
  }
  RELOPS_ASSIGN(alerting.labels, object.stringMap("labels", 16, 256));
  for (const auto& [name, value] : alerting.labels) {
    static constexpr std::string_view kAlertReserved[] = {"long", "short", "alertname"};
    const bool reserved =
        isReserved(name) || std::find(std::begin(kAlertReserved), std::end(kAlertReserved), name) !=
                                std::end(kAlertReserved);
    if (!isLabelName(name) || name.size() > 63 || reserved) {
      return fieldError(object.child("labels") + "." + name,
                        "alert label names must be Prometheus label names (at most 63 characters) "
                        "other than the ones relops sets: slo, namespace, severity, service, "
                        "oncall_rotation, long, short, le, alertname");
    }
  }
  const nlohmann::json* windows = object.get("burnRateWindows");
  if (windows == nullptr) {
    alerting.burnRateWindows = defaultBurnRateWindows();
    return alerting;
  }
  const std::string path = object.child("burnRateWindows");
  if (!windows->is_array()) return fieldError(path, "must be a list");
  if (windows->size() > 6) return fieldError(path, "must have at most 6 items");
  std::set<std::string> names;
  for (size_t i = 0; i < windows->size(); ++i) {
    JsonObject item;
    RELOPS_ASSIGN(item, JsonObject::at(&(*windows)[i], path + "[" + std::to_string(i) + "]"));
    BurnRateWindow window;
    RELOPS_ASSIGN(window, parseBurnRateWindow(item));
    if (!names.insert(window.name).second) {
      return fieldError(item.child("name"), "duplicate burn-rate window \"" + window.name + "\"");
    }
    alerting.burnRateWindows.push_back(std::move(window));
  }
  return alerting;
}

json selectorOrNull(const std::optional<Selector>& selector) {
  return selector ? json(selector->text()) : json();
}

}  // namespace

std::string_view toString(BudgetingMethod method) {
  return method == BudgetingMethod::kTimeslices ? "Timeslices" : "Occurrences";
}

std::string_view toString(WorkloadKind kind) {
  switch (kind) {
    case WorkloadKind::kDeployment:
      return "Deployment";
    case WorkloadKind::kStatefulSet:
      return "StatefulSet";
    case WorkloadKind::kDaemonSet:
      return "DaemonSet";
  }
  return "Deployment";
}

std::vector<BurnRateWindow> defaultBurnRateWindows() {
  auto row = [](std::string name, std::string severity, std::string_view budget,
                std::string_view longWindow, std::string_view shortWindow) {
    return BurnRateWindow{std::move(name),
                          std::move(severity),
                          *Percent::parse(budget, "default"),
                          *Duration::parse(longWindow, "default"),
                          *Duration::parse(shortWindow, "default"),
                          std::nullopt};
  };
  return {row("page-fast", "critical", "2", "1h", "5m"),
          row("page-slow", "critical", "5", "6h", "30m"),
          row("ticket-fast", "warning", "10", "1d", "2h"),
          row("ticket-slow", "warning", "10", "3d", "6h")};
}

base::Result<SloSpec> parseSloSpec(const nlohmann::json& specJson) {
  if (!specJson.is_object()) return fieldError("spec", "required: an object");
  JsonObject spec;
  RELOPS_ASSIGN(spec, JsonObject::at(&specJson, "spec"));
  SloSpec result;
  RELOPS_ASSIGN(result.service, spec.requiredString("service", 63));
  if (!matches(result.service, "^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$")) {
    return fieldError(spec.child("service"),
                      "must be lower-case alphanumerics, -, _ and ., such as \"checkout\"");
  }
  std::optional<std::string> description;
  RELOPS_ASSIGN(description, spec.optionalString("description", 1024));
  result.description = description.value_or("");

  std::string objective;
  RELOPS_ASSIGN(objective, spec.requiredString("objective", 10));
  auto percent = Percent::parse(objective, spec.child("objective"));
  if (!percent || objective.front() == '-' || percent->micros() <= 0 ||
      percent->micros() >= 100000000) {
    return fieldError(spec.child("objective"),
                      "objective must be a percentage strictly between 0 and 100 with at most 6 "
                      "decimals, written as a string such as \"99.9\"");
  }
  result.objective = *percent;

  std::optional<std::string> window;
  RELOPS_ASSIGN(window, spec.optionalString("window", 7));
  std::optional<std::string> timeZone;
  RELOPS_ASSIGN(timeZone, spec.optionalString("timeZone", 64));
  if (const auto unit = parseCalendarUnit(window.value_or(""))) {
    result.calendar = *unit;
    result.timeZone = timeZone.value_or("UTC");
    if (!CalendarWindow::make(*unit, result.timeZone).ok()) {
      return fieldError(spec.child("timeZone"), "unknown time zone \"" + result.timeZone +
                                                    "\": an IANA name such as Europe/Berlin");
    }
    result.window = nominalLength(*unit);
  } else {
    if (timeZone) {
      return fieldError(spec.child("timeZone"),
                        "timeZone applies only to calendar windows (week, month, quarter)");
    }
    auto parsedWindow = parseWindow(window.value_or("28d"), spec.child("window"), 60 * kMinute,
                                    90 * 1440 * kMinute, "mhdw");
    if (!parsedWindow) {
      return fieldError(spec.child("window"),
                        "window must be a duration such as 28d, 4w or 12h (a number and one unit "
                        "of m, h, d, w) between 1h and 90d, or a calendar period: week, month or "
                        "quarter; got \"" +
                            window.value_or("28d") + "\"");
    }
    result.window = *parsedWindow;
  }

  std::optional<std::string> method;
  RELOPS_ASSIGN(method, spec.optionalString("budgetingMethod", 16));
  const std::string methodText = method.value_or("Occurrences");
  if (methodText == "Occurrences") {
    result.budgetingMethod = BudgetingMethod::kOccurrences;
  } else if (methodText == "Timeslices") {
    result.budgetingMethod = BudgetingMethod::kTimeslices;
  } else {
    return fieldError(
        spec.child("budgetingMethod"),
        "Unsupported value \"" + methodText + "\": supported values: Occurrences, Timeslices");
  }

  RELOPS_ASSIGN(result.indicator, parseIndicator(spec));
  if (result.budgetingMethod == BudgetingMethod::kTimeslices &&
      !std::holds_alternative<WorkloadIndicator>(result.indicator)) {
    return fieldError(spec.child("budgetingMethod"),
                      "budgetingMethod Timeslices is supported only with the workload indicator; "
                      "ratio and latency indicators count events (Occurrences)");
  }
  RELOPS_ASSIGN(result.alerting, parseAlerting(spec));

  JsonObject onCall;
  RELOPS_ASSIGN(onCall, JsonObject::at(spec.get("onCallRef"), spec.child("onCallRef")));
  if (spec.has("onCallRef")) {
    std::string name;
    RELOPS_ASSIGN(name, onCall.requiredString("name", 253));
    if (!matches(name, "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")) {
      return fieldError(onCall.child("name"), "must be the name of an OnCallRotation");
    }
    result.onCallRef = std::move(name);
  }
  if (spec.has("maintenance")) {
    const nlohmann::json* maintenance = spec.get("maintenance");
    if (maintenance->is_object() && maintenance->contains("excludeFromBudget")) {
      const nlohmann::json& exclude = (*maintenance)["excludeFromBudget"];
      if (!exclude.is_boolean()) {
        return fieldError(spec.child("maintenance") + ".excludeFromBudget", "must be a boolean");
      }
      result.excludeMaintenance = exclude.get<bool>();
    }
  }
  return result;
}

base::Result<ServiceLevelObjective> parseSlo(const nlohmann::json& object) {
  if (!object.is_object()) return fieldError("", "not an object");
  const std::string apiVersion = stringOrEmpty(object, "apiVersion");
  const std::string kind = stringOrEmpty(object, "kind");
  if (apiVersion != kApiVersion || kind != kSloKind) {
    return fieldError("kind", "want " + std::string(kApiVersion) + " " + std::string(kSloKind) +
                                  ", got " + (apiVersion.empty() ? "no apiVersion" : apiVersion) +
                                  " " + (kind.empty() ? "no kind" : kind));
  }
  ServiceLevelObjective slo;
  RELOPS_ASSIGN(slo.metadata, parseObjectMeta(object));
  const auto spec = object.find("spec");
  if (spec == object.end()) return fieldError("spec", "required");
  RELOPS_ASSIGN(slo.spec, parseSloSpec(*spec));
  const auto status = object.find("status");
  if (status != object.end() && !status->is_null()) {
    RELOPS_ASSIGN(slo.status, parseSloStatus(*status));
  }
  return slo;
}

nlohmann::json sloSpecJson(const SloSpec& spec) {
  json out = {{"service", spec.service},
              {"objective", spec.objective.text()},
              {"window", spec.windowText()},
              {"budgetingMethod", std::string(toString(spec.budgetingMethod))}};
  if (!spec.description.empty()) out["description"] = spec.description;
  if (spec.calendar) out["timeZone"] = spec.timeZone;
  json indicator = json::object();
  if (const auto* ratio = std::get_if<RatioIndicator>(&spec.indicator)) {
    json value = {{"total", ratio->total.text()}};
    if (ratio->errors) value["errors"] = selectorOrNull(ratio->errors);
    if (ratio->good) value["good"] = selectorOrNull(ratio->good);
    if (!ratio->grouping.empty()) value["grouping"] = ratio->grouping;
    indicator["ratio"] = std::move(value);
  } else if (const auto* latency = std::get_if<LatencyIndicator>(&spec.indicator)) {
    json value = {
        {"bucket", latency->bucket.text()}, {"le", latency->le}, {"total", latency->total.text()}};
    if (!latency->grouping.empty()) value["grouping"] = latency->grouping;
    indicator["latency"] = std::move(value);
  } else {
    const auto& workload = std::get<WorkloadIndicator>(spec.indicator);
    json value = {{"kind", std::string(toString(workload.kind))}, {"name", workload.name}};
    if (workload.minReadyReplicas) value["minReadyReplicas"] = *workload.minReadyReplicas;
    indicator["workload"] = std::move(value);
  }
  out["indicator"] = std::move(indicator);
  json alerting = {{"enabled", spec.alerting.enabled},
                   {"absentFor", spec.alerting.absentFor ? spec.alerting.absentFor->text() : ""}};
  if (!spec.alerting.runbookURL.empty()) alerting["runbookURL"] = spec.alerting.runbookURL;
  if (!spec.alerting.labels.empty()) alerting["labels"] = spec.alerting.labels;
  json windows = json::array();
  for (const BurnRateWindow& window : spec.alerting.burnRateWindows) {
    json row = {{"name", window.name},
                {"severity", window.severity},
                {"budgetPercent", window.budgetPercent.text()},
                {"longWindow", window.longWindow.text()},
                {"shortWindow", window.shortWindow.text()}};
    if (window.forDuration) row["for"] = window.forDuration->text();
    windows.push_back(std::move(row));
  }
  alerting["burnRateWindows"] = std::move(windows);
  out["alerting"] = std::move(alerting);
  if (spec.onCallRef) out["onCallRef"] = {{"name", *spec.onCallRef}};
  if (spec.excludeMaintenance) out["maintenance"] = {{"excludeFromBudget", true}};
  return out;
}

nlohmann::json sloJson(const ServiceLevelObjective& slo) {
  json out = {{"apiVersion", kApiVersion},
              {"kind", kSloKind},
              {"metadata", objectMetaJson(slo.metadata)},
              {"spec", sloSpecJson(slo.spec)}};
  json status = sloStatusJson(slo.status);
  if (!status.empty()) out["status"] = std::move(status);
  return out;
}

}  // namespace relops::slo
