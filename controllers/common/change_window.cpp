#include "controllers/common/change_window.h"

#include <nlohmann/json.hpp>

#include "controllers/common/rfc3339.h"
#include "controllers/common/units.h"

namespace relops::common {

using nlohmann::json;

namespace {

base::Error invalid(const std::string& message) {
  return base::Error(base::ErrorKind::kConfig, message);
}

std::string text(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

std::map<std::string, std::string> labelsOf(const json& object) {
  std::map<std::string, std::string> labels;
  if (!object.is_object() || !object.contains("metadata")) return labels;
  const json& metadata = object["metadata"];
  if (!metadata.is_object() || !metadata.contains("labels")) return labels;
  const json& values = metadata["labels"];
  if (!values.is_object()) return labels;
  for (const auto& [key, value] : values.items()) {
    if (value.is_string()) labels[key] = value.get<std::string>();
  }
  return labels;
}

base::Result<ChangeWindowView> ChangeWindowView::read(const json& object) {
  ChangeWindowView view;
  const json metadata = object.is_object() ? object.value("metadata", json::object()) : json();
  view.namespace__ = text(metadata, "namespace");
  view.name_ = text(metadata, "name");
  const json spec = object.is_object() ? object.value("spec", json::object()) : json();
  const std::string type = text(spec, "type");
  if (type == "Freeze") {
    view.type_ = ChangeWindowType::kFreeze;
  } else if (type == "Maintenance") {
    view.type_ = ChangeWindowType::kMaintenance;
  } else {
    return invalid("spec.type must be Freeze or Maintenance, not \"" + type + "\"");
  }
  view.reason_ = text(spec, "reason");
  const std::string schedule = text(spec, "schedule");
  const std::string start = text(spec, "start");
  const std::string end = text(spec, "end");
  if (!schedule.empty()) {
    auto duration = Duration::parse(text(spec, "duration"), "spec.duration");
    if (!duration.ok()) return std::move(duration).error();
    if (duration->value() <= std::chrono::seconds(0)) {
      return invalid("spec.duration must be positive");
    }
    const std::string zone = text(spec, "timeZone");
    auto compiled = CronSchedule::compile(schedule, zone.empty() ? "UTC" : zone);
    if (!compiled.ok()) return std::move(compiled).error();
    view.recurring_.emplace(std::move(*compiled), duration->value());
  } else if (!start.empty() && !end.empty()) {
    auto from = parseRfc3339(start, "spec.start");
    if (!from.ok()) return std::move(from).error();
    auto to = parseRfc3339(end, "spec.end");
    if (!to.ok()) return std::move(to).error();
    if (*to <= *from) return invalid("spec.end must be after spec.start");
    view.absolute_ = TimeWindow{*from, *to};
  } else {
    return invalid(
        "a ChangeWindow needs spec.schedule and spec.duration, or spec.start and "
        "spec.end");
  }
  if (spec.contains("sloSelector") && !spec["sloSelector"].is_null()) {
    auto selectorObject = JsonObject::at(&spec["sloSelector"], "spec.sloSelector");
    if (!selectorObject.ok()) return std::move(selectorObject).error();
    auto selector = parseLabelSelector(*selectorObject);
    if (!selector.ok()) return std::move(selector).error();
    view.sloSelector_ = std::move(*selector);
  }
  return view;
}

std::optional<TimeWindow> ChangeWindowView::activeAt(Instant at) const {
  if (recurring_) return recurring_->activeAt(at);
  if (absolute_ && absolute_->start <= at && at < absolute_->end) return absolute_;
  return std::nullopt;
}

std::optional<TimeWindow> ChangeWindowView::nextAfter(Instant at) const {
  if (recurring_) return recurring_->nextAfter(at);
  if (absolute_ && absolute_->start > at) return absolute_;
  return std::nullopt;
}

std::optional<TimeWindow> ChangeWindowView::currentOrNext(Instant at) const {
  if (auto active = activeAt(at)) return active;
  return nextAfter(at);
}

bool ChangeWindowView::selectsSlo(const std::map<std::string, std::string>& labels) const {
  return type_ == ChangeWindowType::kMaintenance && sloSelector_ && sloSelector_->matches(labels);
}

}  // namespace relops::common
