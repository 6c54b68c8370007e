// The pure decision of a ChangeWindow: from its spec, its status as stored, what it selects
// and the time, the status to write (active now, the current window, the next one), the
// Events of a start or an end, and when to look again (exactly the next start or end).
// The reconciler applies the freeze's admission binding while decide says enforce.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "controllers/changewindow/changewindow_types.h"
#include "controllers/common/cron_window.h"

namespace relops::changewindow {

using common::TimeWindow;

// How many selected names status lists (status.selected.names); the count is exact.
inline constexpr size_t kMaxListedNames = 50;
// A freeze's binding is applied this long before the window starts, so the API server has
// it when status turns active at the start instant (the admission policy reads status).
inline constexpr std::chrono::seconds kBindAhead = std::chrono::minutes(5);

struct WindowEvent {
  std::string type;    // Normal
  std::string reason;  // WindowStarted, WindowEnded
  std::string message;
  friend bool operator==(const WindowEvent&, const WindowEvent&) = default;
};

// What the window selects in its namespace: workloads (kind/name) for a Freeze, SLOs for a
// Maintenance window, sorted.
struct Selection {
  std::vector<std::string> names;
};

struct WindowDecision {
  nlohmann::json status;
  std::vector<WindowEvent> events;
  std::optional<TimePoint> requeueAt;  // the next start or end
  std::optional<TimeWindow> current;   // the window open now
  std::optional<TimeWindow> next;      // the next one to open
  // A Freeze that is active, or starts within kBindAhead: its binding must exist.
  bool bind = false;
};

// The window's occurrences: recurring through the cron engine, or the one absolute window.
struct Occurrences {
  std::optional<TimeWindow> current;
  std::optional<TimeWindow> next;
};
base::Result<Occurrences> occurrencesAt(const ChangeWindowSpec& spec, TimePoint now);

WindowDecision decideWindow(const ChangeWindow& window, const nlohmann::json& storedStatus,
                            const Selection& selection, TimePoint now);

// The denial message while the freeze is on (the admission policy builds the same from the
// window's live status).
std::string freezeMessage(const ChangeWindow& window, const TimeWindow& current);

}  // namespace relops::changewindow
