// ChangeWindow (relops.dev/v1alpha1) as C++ values; crds/relops.dev_changewindows.yaml is the
// source of truth. A window is recurring (a cron schedule, a duration, an IANA zone) or
// absolute (start and end, RFC 3339), and acts only in its own namespace.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "controllers/common/json_fields.h"
#include "controllers/common/label_selector.h"
#include "controllers/common/rfc3339.h"
#include "controllers/common/units.h"
#include "operator/base/result.h"

namespace relops::changewindow {

using common::LabelSelector;
using common::ObjectMeta;
using common::TimePoint;

inline constexpr std::string_view kApiVersion = "relops.dev/v1alpha1";
inline constexpr std::string_view kKind = "ChangeWindow";
// The CRD's bounds on a duration.
inline constexpr std::chrono::seconds kMinDuration = std::chrono::minutes(1);
inline constexpr std::chrono::seconds kMaxDuration = std::chrono::days(31);
inline constexpr size_t kMaxReasonLength = 256;

// Freeze: pod-template changes of the selected workloads are denied while active.
// Maintenance: status, Events and metrics only (silences and budget exclusion act on it from
// the SLO controller).
enum class WindowType { kFreeze, kMaintenance };
std::string_view windowTypeName(WindowType type);

struct ChangeWindowSpec {
  WindowType type = WindowType::kFreeze;
  // Recurring: schedule + duration (+ timeZone). Absolute: start + end.
  std::string schedule;
  std::chrono::seconds duration{0};
  std::string timeZone = "UTC";
  std::optional<TimePoint> start;
  std::optional<TimePoint> end;
  // Freeze: which workloads of the namespace (absent: all of them).
  std::optional<LabelSelector> workloadSelector;
  // Maintenance: which SLOs of the namespace (absent: all of them).
  std::optional<LabelSelector> sloSelector;
  std::string reason;
};

struct ChangeWindow {
  ObjectMeta metadata;
  ChangeWindowSpec spec;
};

// Errors are kConfig and name the field: what the CRD's schema cannot check (a cron
// expression, a zone) and what it checks, again, for objects written before a schema change.
base::Result<ChangeWindow> parseChangeWindow(const nlohmann::json& object);

}  // namespace relops::changewindow
