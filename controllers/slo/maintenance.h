// What the Maintenance ChangeWindows that select an SLO mean for it (issue 19): the
// Alertmanager silences its alerts should have, whether its minutes are excluded from the
// budget now, and when to look again. Pure: the windows are read (change_window.h) and the
// clock read by the caller.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "controllers/common/change_window.h"

namespace relops::slo {

// Windows of one namespace considered per SLO (the first by name); silences relops keeps
// per SLO: one per selecting window's current or next occurrence.
inline constexpr size_t kMaxMaintenanceWindows = 16;
// A silence is created this long before its occurrence starts, so Alertmanager itself
// enforces the start to the second.
inline constexpr std::chrono::hours kSilenceLead{1};
// What relops writes as a silence's createdBy, and how its comments begin.
inline constexpr char kSilenceCreatedBy[] = "relops";
inline constexpr char kSilenceCommentPrefix[] = "relops maintenance window ChangeWindow ";
inline constexpr size_t kMaxSilenceComment = 512;

struct SilenceMatcherSpec {
  std::string name;
  std::string value;
  bool isRegex = false;
  friend bool operator==(const SilenceMatcherSpec&, const SilenceMatcherSpec&) = default;
};

struct DesiredSilence {
  std::string window;  // the ChangeWindow's name
  common::TimeWindow bounds;
  std::string comment;
  friend bool operator==(const DesiredSilence&, const DesiredSilence&) = default;
};

struct MaintenancePlan {
  std::vector<DesiredSilence> silences;       // at most kMaxMaintenanceWindows
  bool activeNow = false;                     // a selecting window is active at `now`
  std::optional<common::Instant> nextChange;  // the next start, end or silence lead after now
};

// `windows`: the namespace's ChangeWindows that select the SLO, in name order.
MaintenancePlan planMaintenance(const std::vector<common::ChangeWindowView>& windows,
                                common::Instant now);

// The matchers of every silence relops makes for the SLO: its namespace, its name and its two
// alerts, so a window never silences another namespace's alerts or another source's.
std::vector<SilenceMatcherSpec> silenceMatchers(const std::string& namespace_,
                                                const std::string& slo);
// "relops maintenance window ChangeWindow <ns>/<name>: <reason>", cut to kMaxSilenceComment.
std::string silenceComment(const common::ChangeWindowView& window);

}  // namespace relops::slo
