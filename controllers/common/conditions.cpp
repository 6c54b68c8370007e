#include "controllers/common/conditions.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <regex>

#include "controllers/common/rfc3339.h"

namespace relops::common {
namespace {

using nlohmann::json;

bool isStringField(const json& condition, const char* key) {
  auto it = condition.find(key);
  return it != condition.end() && it->is_string();
}

std::string stringField(const json& condition, const char* key) {
  auto it = condition.find(key);
  return it != condition.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t generationField(const json& condition) {
  auto it = condition.find("observedGeneration");
  return it != condition.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

// Cuts s to at most max bytes without splitting a UTF-8 sequence.
std::string truncateUtf8(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  s.resize(end);
  return s;
}

// Drops null, [] and {} members of objects, recursively: what Go's omitempty
// would not have sent.
json normalized(const json& value) {
  if (value.is_object()) {
    json out = json::object();
    for (auto it = value.begin(); it != value.end(); ++it) {
      json member = normalized(it.value());
      if (member.is_null() || (member.is_array() && member.empty()) ||
          (member.is_object() && member.empty())) {
        continue;
      }
      out[it.key()] = std::move(member);
    }
    return out;
  }
  if (value.is_array()) {
    json out = json::array();
    for (const json& element : value) out.push_back(normalized(element));
    return out;
  }
  return value;
}

json& conditionsOf(json& status) {
  if (!status.is_object()) status = json::object();
  json& conditions = status["conditions"];
  if (!conditions.is_array()) conditions = json::array();
  return conditions;
}

void setStatusCondition(json& status, int64_t generation, std::string_view type,
                        std::string_view conditionStatus, std::string_view reason,
                        std::string_view message, std::chrono::system_clock::time_point now) {
  setCondition(conditionsOf(status),
               makeCondition(type, conditionStatus, reason, message, generation), now);
}

void setObservedGeneration(json& status, int64_t generation) {
  if (!status.is_object()) status = json::object();
  status["observedGeneration"] = generation;
}

}  // namespace

std::string formatConditionTime(std::chrono::system_clock::time_point time) {
  namespace chrono = std::chrono;
  const auto secs = chrono::floor<chrono::seconds>(time);
  const auto day = chrono::floor<chrono::days>(secs);
  const chrono::year_month_day ymd{day};
  const chrono::hh_mm_ss hms{secs - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

json makeCondition(std::string_view type, std::string_view status, std::string_view reason,
                   std::string_view message, int64_t observedGeneration) {
  json condition = json::object();
  condition["type"] = std::string(type);
  condition["status"] = std::string(status);
  condition["observedGeneration"] = observedGeneration;
  condition["reason"] = std::string(reason);
  condition["message"] = std::string(message);
  return condition;
}

bool setCondition(json& conditions, json newCondition, std::chrono::system_clock::time_point now) {
  if (!conditions.is_array()) conditions = json::array();
  const std::string type = stringField(newCondition, "type");
  const std::string status = stringField(newCondition, "status");
  const std::string reason = stringField(newCondition, "reason");
  const std::string message =
      truncateUtf8(stringField(newCondition, "message"), kMaxConditionMessageBytes);
  const int64_t generation = generationField(newCondition);
  std::string transition = stringField(newCondition, "lastTransitionTime");
  if (transition.empty()) transition = formatConditionTime(now);

  for (json& existing : conditions) {
    if (stringField(existing, "type") != type) continue;
    bool changed = false;
    if (stringField(existing, "status") != status) {
      existing["status"] = status;
      existing["lastTransitionTime"] = transition;
      changed = true;
    }
    if (stringField(existing, "reason") != reason) {
      existing["reason"] = reason;
      changed = true;
    }
    if (stringField(existing, "message") != message) {
      existing["message"] = message;
      changed = true;
    }
    if (generationField(existing) != generation) {
      existing["observedGeneration"] = generation;
      changed = true;
    }
    return changed;
  }

  json added = json::object();
  added["type"] = type;
  added["status"] = status;
  added["observedGeneration"] = generation;
  added["lastTransitionTime"] = transition;
  added["reason"] = reason;
  added["message"] = message;
  conditions.push_back(std::move(added));
  return true;
}

bool setStatusCondition(json& status, std::string_view type, std::string_view value,
                        std::string_view reason, std::string_view message,
                        int64_t observedGeneration, std::chrono::system_clock::time_point now) {
  return setCondition(status["conditions"],
                      makeCondition(type, value, reason, message, observedGeneration), now);
}

const json* findCondition(const json& conditions, std::string_view type) {
  if (!conditions.is_array()) return nullptr;
  for (const json& condition : conditions) {
    auto it = condition.find("type");
    if (it != condition.end() && it->is_string() && it->get_ref<const std::string&>() == type) {
      return &condition;
    }
  }
  return nullptr;
}

bool isTrue(const json& conditions, std::string_view type) {
  const json* condition = findCondition(conditions, type);
  return condition != nullptr && stringField(*condition, "status") == condition_status::kTrue;
}

bool isFalse(const json& conditions, std::string_view type) {
  const json* condition = findCondition(conditions, type);
  return condition != nullptr && stringField(*condition, "status") == condition_status::kFalse;
}

bool removeCondition(json& conditions, std::string_view type) {
  if (!conditions.is_array()) return false;
  for (auto it = conditions.begin(); it != conditions.end(); ++it) {
    if (stringField(*it, "type") == type) {
      conditions.erase(it);
      return true;
    }
  }
  return false;
}

bool isValidConditionReason(std::string_view reason) {
  static const std::regex kReason("^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$");
  return !reason.empty() && reason.size() <= kMaxConditionReasonBytes &&
         std::regex_match(reason.begin(), reason.end(), kReason);
}

bool isValidConditionType(std::string_view type) {
  // The pattern controller-gen puts in every CRD for metav1.Condition.type.
  static const std::regex kType(
      "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
      "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$");
  return !type.empty() && type.size() <= 316 && std::regex_match(type.begin(), type.end(), kType);
}

base::Result<void> validateCondition(const json& condition) {
  auto invalid = [](std::string what) {
    return base::Error(base::ErrorKind::kInternal, "invalid condition: " + std::move(what));
  };
  if (!condition.is_object()) return invalid("not an object");
  const std::string type = stringField(condition, "type");
  if (!isValidConditionType(type)) return invalid("type \"" + type + "\" is not a qualified name");
  const std::string status = stringField(condition, "status");
  if (status != condition_status::kTrue && status != condition_status::kFalse &&
      status != condition_status::kUnknown) {
    return invalid(type + ": status \"" + status + "\" is not True, False or Unknown");
  }
  const std::string reason = stringField(condition, "reason");
  if (!isValidConditionReason(reason)) {
    return invalid(type + ": reason \"" + reason + "\" is not CamelCase");
  }
  if (!isStringField(condition, "message") && condition.contains("message")) {
    return invalid(type + ": message is not a string");
  }
  if (stringField(condition, "message").size() > kMaxConditionMessageBytes) {
    return invalid(type + ": message is longer than 32768 bytes");
  }
  if (auto it = condition.find("observedGeneration");
      it != condition.end() && (!it->is_number_integer() || it->get<int64_t>() < 0)) {
    return invalid(type + ": observedGeneration must be a non-negative integer");
  }
  static const std::regex kTime(
      "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$");
  const std::string time = stringField(condition, "lastTransitionTime");
  if (!std::regex_match(time, kTime)) {
    return invalid(type + ": lastTransitionTime \"" + time + "\" is not an RFC 3339 time");
  }
  return base::Ok{};
}

bool statusChanged(const json& oldStatus, const json& newStatus) {
  // A missing status (null) and an empty one are the same thing, too.
  auto canonical = [](const json& status) {
    json out = normalized(status);
    return out.is_null() || (out.is_structured() && out.empty()) ? json::object() : out;
  };
  return canonical(oldStatus) != canonical(newStatus);
}

void markReady(json& status, int64_t generation, std::string_view reason, std::string_view message,
               std::chrono::system_clock::time_point now) {
  setObservedGeneration(status, generation);
  setStatusCondition(status, generation, kConditionReady, condition_status::kTrue, reason, message,
                     now);
  // kstatus: Current means no abnormal-true condition is left.
  removeCondition(conditionsOf(status), kConditionReconciling);
  removeCondition(conditionsOf(status), kConditionStalled);
}

void markReconciling(json& status, int64_t generation, std::string_view reason,
                     std::string_view message, std::chrono::system_clock::time_point now) {
  setObservedGeneration(status, generation);
  setStatusCondition(status, generation, kConditionReady, condition_status::kUnknown, reason,
                     message, now);
  setStatusCondition(status, generation, kConditionReconciling, condition_status::kTrue, reason,
                     message, now);
  removeCondition(conditionsOf(status), kConditionStalled);
}

void markRetrying(json& status, int64_t generation, std::string_view reason,
                  std::string_view message, std::chrono::system_clock::time_point now) {
  setObservedGeneration(status, generation);
  setStatusCondition(status, generation, kConditionReady, condition_status::kFalse, reason, message,
                     now);
  setStatusCondition(status, generation, kConditionReconciling, condition_status::kTrue, reason,
                     message, now);
  removeCondition(conditionsOf(status), kConditionStalled);
}

void markStalled(json& status, int64_t generation, std::string_view reason,
                 std::string_view message, std::chrono::system_clock::time_point now) {
  setObservedGeneration(status, generation);
  // kstatus: Ready stays False while Stalled, with the same explanation.
  setStatusCondition(status, generation, kConditionReady, condition_status::kFalse, reason, message,
                     now);
  setStatusCondition(status, generation, kConditionStalled, condition_status::kTrue, reason,
                     message, now);
  removeCondition(conditionsOf(status), kConditionReconciling);
}

void setCondition(std::vector<Condition>& conditions, std::string_view type,
                  std::string_view status, std::string_view reason, std::string message,
                  int64_t observedGeneration, std::chrono::sys_seconds now) {
  for (Condition& condition : conditions) {
    if (condition.type != type) continue;
    if (condition.status != status || condition.lastTransitionTime.empty()) {
      condition.lastTransitionTime = formatRfc3339(now);
    }
    condition.status = std::string(status);
    condition.reason = std::string(reason);
    condition.message = std::move(message);
    condition.observedGeneration = observedGeneration;
    return;
  }
  Condition condition;
  condition.type = std::string(type);
  condition.status = std::string(status);
  condition.reason = std::string(reason);
  condition.message = std::move(message);
  condition.observedGeneration = observedGeneration;
  condition.lastTransitionTime = formatRfc3339(now);
  conditions.push_back(std::move(condition));
}

void removeCondition(std::vector<Condition>& conditions, std::string_view type) {
  std::erase_if(conditions, [&](const Condition& c) { return c.type == type; });
}

}  // namespace relops::common
