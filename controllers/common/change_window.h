// What other kinds need of a ChangeWindow (relops.dev/v1alpha1): its type, when it is
// active, which SLOs it selects and why. Read from the object as stored, as slo_status.h reads
// an SLO's status for the kinds that act on it; the ChangeWindow controller owns the kind.
//
// A window is recurring (spec.schedule, a cron expression, with spec.duration in
// spec.timeZone, through cron_window.h) or absolute (spec.start and spec.end, RFC 3339).
#pragma once

#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "controllers/common/cron_window.h"
#include "controllers/common/label_selector.h"
#include "operator/base/result.h"

namespace relops::common {

enum class ChangeWindowType { kFreeze, kMaintenance };

class ChangeWindowView {
 public:
  // Fails (kConfig) on a spec relops cannot use (the schema lets through an unknown zone or
  // a bad cron expression): such a window is active never and selects nothing.
  static base::Result<ChangeWindowView> read(const nlohmann::json& object);

  const std::string& namespace_() const { return namespace__; }
  const std::string& name() const { return name_; }
  ChangeWindowType type() const { return type_; }
  const std::string& reason() const { return reason_; }
  // The occurrence with start <= at < end, if one is.
  std::optional<TimeWindow> activeAt(Instant at) const;
  // The first occurrence that starts strictly after `at`.
  std::optional<TimeWindow> nextAfter(Instant at) const;
  // The occurrence active at `at`, else the next one: what a silence is made for.
  std::optional<TimeWindow> currentOrNext(Instant at) const;
  // A Maintenance window with an sloSelector that matches these labels. A window with no
  // sloSelector selects no SLO.
  bool selectsSlo(const std::map<std::string, std::string>& labels) const;

 private:
  std::string namespace__;
  std::string name_;
  ChangeWindowType type_ = ChangeWindowType::kMaintenance;
  std::string reason_;
  std::optional<CronWindows> recurring_;
  std::optional<TimeWindow> absolute_;
  std::optional<LabelSelector> sloSelector_;
};

// An object's metadata.labels as a map (non-string values skipped).
std::map<std::string, std::string> labelsOf(const nlohmann::json& object);

}  // namespace relops::common
