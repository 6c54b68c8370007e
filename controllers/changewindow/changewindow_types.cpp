#include "controllers/changewindow/changewindow_types.h"

#include "controllers/common/cron.h"

namespace relops::changewindow {

using common::fieldError;
using common::JsonObject;
using nlohmann::json;

std::string_view windowTypeName(WindowType type) {
  return type == WindowType::kFreeze ? "Freeze" : "Maintenance";
}

base::Result<ChangeWindow> parseChangeWindow(const json& object) {
  ChangeWindow window;
  RELOPS_ASSIGN(window.metadata, common::parseObjectMeta(object));
  const json* specJson = object.contains("spec") ? &object["spec"] : nullptr;
  JsonObject spec;
  RELOPS_ASSIGN(spec, JsonObject::at(specJson, "spec"));
  ChangeWindowSpec& out = window.spec;
  std::string type;
  RELOPS_ASSIGN(type, spec.requiredString("type", 16));
  if (type == "Freeze") {
    out.type = WindowType::kFreeze;
  } else if (type == "Maintenance") {
    out.type = WindowType::kMaintenance;
  } else {
    return fieldError(spec.child("type"),
                      "Unsupported value \"" + type + "\": supported values: Freeze, Maintenance");
  }
  std::optional<std::string> schedule;
  std::optional<std::string> duration;
  std::optional<std::string> zone;
  std::optional<std::string> start;
  std::optional<std::string> end;
  RELOPS_ASSIGN(schedule, spec.optionalString("schedule", 128));
  RELOPS_ASSIGN(duration, spec.optionalString("duration", 16));
  RELOPS_ASSIGN(zone, spec.optionalString("timeZone", 64));
  RELOPS_ASSIGN(start, spec.optionalString("start", 64));
  RELOPS_ASSIGN(end, spec.optionalString("end", 64));
  const bool recurring = schedule.has_value();
  if (recurring == (start.has_value() || end.has_value())) {
    return fieldError(spec.path(),
                      "exactly one of schedule (with duration) or start and end is required");
  }
  if (recurring) {
    if (!duration) return fieldError(spec.child("duration"), "required with schedule");
    common::Duration parsed;
    RELOPS_ASSIGN(parsed, common::Duration::parse(*duration, spec.child("duration")));
    if (parsed.value() < kMinDuration || parsed.value() > kMaxDuration) {
      return fieldError(spec.child("duration"), "must be between 1m and 31d");
    }
    out.schedule = *schedule;
    out.duration = parsed.value();
    if (zone) out.timeZone = *zone;
    auto compiled = common::CronSchedule::compile(out.schedule, out.timeZone);
    if (!compiled.ok()) return std::move(compiled).error().context(spec.child("schedule"));
  } else {
    if (!start || !end) return fieldError(spec.path(), "start and end go together");
    if (duration || zone) {
      return fieldError(spec.path(), "duration and timeZone go with schedule, not start/end");
    }
    RELOPS_ASSIGN(out.start, common::parseRfc3339(*start, spec.child("start")));
    RELOPS_ASSIGN(out.end, common::parseRfc3339(*end, spec.child("end")));
    if (*out.end <= *out.start) return fieldError(spec.child("end"), "must be after start");
  }
  for (const auto& [key, target] : {std::pair{"workloadSelector", &out.workloadSelector},
                                    std::pair{"sloSelector", &out.sloSelector}}) {
    if (!spec.has(key)) continue;
    JsonObject selector;
    RELOPS_ASSIGN(selector, JsonObject::at(spec.get(key), spec.child(key)));
    LabelSelector parsed;
    RELOPS_ASSIGN(parsed, common::parseLabelSelector(selector));
    *target = std::move(parsed);
  }
  std::optional<std::string> reason;
  RELOPS_ASSIGN(reason, spec.optionalString("reason", kMaxReasonLength));
  out.reason = reason.value_or("");
  return window;
}

}  // namespace relops::changewindow
