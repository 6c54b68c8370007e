// The OnCallRotation API (relops.dev/v1alpha1) as C++ types. They parse from
// and serialize to exactly the shape of crds/relops.dev_oncallrotations.yaml;
// the CRD is the source of truth, and its schema defaults are applied here too
// so that a file read by `relops oncall` means what the API server would store.
//
// Parsing checks syntax (formats, bounds, references); what needs the time
// zone database (is the zone known, does a local time exist) is the engine's
// job (schedule.h), where a failure becomes Stalled rather than a parse error.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controllers/common/conditions.h"
#include "controllers/common/rfc3339.h"
#include "controllers/oncall/routing.h"
#include "operator/base/result.h"

namespace relops::oncall {

// An absolute instant, whole seconds.
using Instant = std::chrono::sys_seconds;
// A civil (wall-clock) time in the rotation's zone, not yet tied to an instant.
using LocalTime = std::chrono::local_seconds;

inline constexpr std::string_view kApiVersion = "relops.dev/v1alpha1";
inline constexpr std::string_view kKind = "OnCallRotation";

// Schema defaults (the CRD carries the same values).
inline constexpr std::string_view kDefaultHorizon = "4w";
inline constexpr std::string_view kDefaultLookBack = "4w";
inline constexpr std::string_view kDefaultAllowedImbalance = "25";

// Limits of the schema (maxItems), mirrored so the CLI rejects what the API would.
inline constexpr size_t kMaxParticipants = 50;
inline constexpr size_t kMaxLayers = 10;
inline constexpr size_t kMaxMembers = 50;
inline constexpr size_t kMaxRestrictions = 7;
inline constexpr size_t kMaxOverrides = 100;

enum class DurationUnit { kMinutes, kHours, kDays, kWeeks };

// "<N><unit>" with unit m, h, d or w. Days and weeks are civil: a turn of 1d
// ends at the same local wall-clock time the next day (23 h or 25 h across a
// DST change); minutes and hours are absolute.
struct Duration {
  int64_t count = 0;
  DurationUnit unit = DurationUnit::kHours;

  bool civil() const { return unit == DurationUnit::kDays || unit == DurationUnit::kWeeks; }
  // Exact for m/h; days counted as 24 h (the horizon and look-back use this).
  std::chrono::seconds nominal() const;
  // Whole days of a civil duration.
  int64_t days() const;
  std::string toString() const;
  bool operator==(const Duration&) const = default;
};

// Monday = 0 ... Sunday = 6 (ISO 8601 order).
inline constexpr std::string_view kWeekdayNames[7] = {"Mon", "Tue", "Wed", "Thu",
                                                      "Fri", "Sat", "Sun"};

// A time-of-day window on some days of the week (PagerDuty's restriction). A
// range whose end is not after its start is overnight: it starts on the listed
// day and ends the next day. No range means the whole of each listed day.
struct Restriction {
  std::vector<int> days;                     // weekday indices as written; empty = every day
  std::optional<std::chrono::minutes> from;  // since local midnight
  std::optional<std::chrono::minutes> to;

  bool overnight() const { return from && to && *to <= *from; }
  bool operator==(const Restriction&) const = default;
};

struct Participant {
  std::string name;
  std::string displayName;  // optional, empty when absent
  std::string email;
  std::string chat;
  std::string pager;
  bool operator==(const Participant&) const = default;
};

struct Layer {
  std::string name;
  std::vector<std::string> members;  // order of the rotation; a name may repeat
  LocalTime start{};                 // rotation anchor, local civil time
  Duration turnLength;
  std::vector<Restriction> restrictions;  // union; empty = always
  bool operator==(const Layer&) const = default;
};

// A point in time as a spec writes it: RFC 3339 with an offset (absolute), or
// a local civil time in the rotation's zone (no offset).
struct TimeRef {
  bool local = false;
  LocalTime localTime{};
  Instant instant{};
  std::string text;  // as written, serialized back unchanged
  bool operator==(const TimeRef&) const = default;
};

struct Override {
  std::string participant;
  TimeRef start;
  TimeRef end;
  std::string reason;
  bool operator==(const Override&) const = default;
};

struct Fairness {
  Duration lookBack;
  std::string allowedImbalance;             // percent string, as written
  int64_t allowedImbalanceBasisPoints = 0;  // 25 % = 2500
  bool operator==(const Fairness&) const = default;
};

// spec.calendarFeed: what the iCalendar feed shows beyond names and shifts.
struct CalendarFeedSpec {
  // Participants' email, chat and pager contacts in each event; off unless
  // the rotation opts in, since whoever holds the feed URL reads them.
  bool includeContacts = false;
  bool operator==(const CalendarFeedSpec&) const = default;
};

struct Spec {
  std::string timeZone;
  std::vector<Participant> participants;
  std::vector<Layer> layers;
  std::vector<Override> overrides;
  Duration horizon;
  Fairness fairness;
  CalendarFeedSpec calendarFeed;
  // Who gets paged (routing.h); absent: relops routes nothing.
  std::optional<Routing> routing;

  const Participant* findParticipant(std::string_view name) const;
  bool operator==(const Spec&) const = default;
};

// The work one rotation may ask of relops: every schedule (a reconcile, a calendar fetch) cuts
// each layer into its turns and the restriction windows into daily pieces over the look-back and
// the horizon. A rotation the schema accepts can ask for tens of millions (minute turns over a
// year in ten layers); past this bound it is not computed at all. The engine streams the pieces
// (schedule.h), so the bound caps the time a schedule takes rather than its memory.
// 200,000 is over three times the largest rotation of daily or longer turns the schema allows
// (10 layers, 7 restrictions each, 52 weeks each way: 58,240).
inline constexpr int64_t kMaxSchedulePieces = 200'000;

// An upper bound on the pieces (turns plus restriction windows, summed over the layers) the
// schedule of `spec` covers over its look-back and horizon, with a day of margin either side.
int64_t schedulePieces(const Spec& spec);

// Parses `.spec` of an OnCallRotation. Errors are kConfig and name the field
// path ("spec.layers[0].turnLength: ...").
base::Result<Spec> parseSpec(const nlohmann::json& spec);
nlohmann::json toJson(const Spec& spec);

// Formats and parsers shared by the types, the engine and the CLI.
// "2026-01-05T09:00:00" (no offset).
base::Result<LocalTime> parseLocalTime(std::string_view text, std::string_view path);
std::string formatLocalTime(LocalTime time);
// RFC 3339 with "Z" or "+hh:mm"/"-hh:mm"; fractional seconds are truncated.
base::Result<Instant> parseInstant(std::string_view text, std::string_view path);
// RFC 3339 in UTC, whole seconds: "2026-01-05T14:00:00Z" (metav1.Time).
base::Result<TimeRef> parseTimeRef(std::string_view text, std::string_view path);
// allowedUnits: any of "mhdw".
base::Result<Duration> parseDuration(std::string_view text, std::string_view path,
                                     std::string_view allowedUnits);

// ---------------------------------------------------------------------------
// Status, as the controller writes it to /status.

using common::Condition;

// Who is on call overall now. participant is empty during a coverage gap;
// since/until are absent when further away than the engine searches.
struct CurrentOnCall {
  std::string participant;
  std::string layer;  // the layer that put them there, or "override"
  std::optional<Instant> since;
  std::optional<Instant> until;
  bool operator==(const CurrentOnCall&) const = default;
};

// The position of a layer's rotation, carried in status so that a change of
// members keeps the current person on call (see rotation_state.h).
struct RotationPosition {
  std::vector<std::string> members;
  std::string start;       // the anchor it was computed for, as written
  std::string turnLength;  // the turn length it was computed for
  int64_t offset = 0;      // turn k belongs to members[(k + offset) mod n]
  bool operator==(const RotationPosition&) const = default;
};

struct LayerStatus {
  std::string name;
  std::string participant;       // whose turn it is (empty before the layer starts)
  bool active = false;           // false while a restriction masks the layer
  std::optional<Instant> since;  // the turn's bounds
  std::optional<Instant> until;
  RotationPosition rotation;
  bool operator==(const LayerStatus&) const = default;
};

struct HandoffStatus {
  Instant time{};
  std::string from;  // empty = nobody (coverage gap)
  std::string to;
  bool operator==(const HandoffStatus&) const = default;
};

struct ShiftStatus {
  std::string participant;
  std::string layer;
  Instant start{};
  Instant end{};
  bool operator==(const ShiftStatus&) const = default;
};

struct GapStatus {
  std::optional<Instant> start;
  std::optional<Instant> end;
  bool operator==(const GapStatus&) const = default;
};

struct ParticipantLoadStatus {
  std::string participant;
  std::string hours;  // decimal strings, one digit after the point ("168.0")
  std::string offHours;
  std::string weekendHours;
  bool operator==(const ParticipantLoadStatus&) const = default;
};

struct LoadStatus {
  Instant from{};
  Instant to{};
  std::vector<ParticipantLoadStatus> participants;
  bool operator==(const LoadStatus&) const = default;
};

struct BalanceStatus {
  std::string score;  // percent, one decimal ("87.5")
  std::vector<std::string> overloaded;
  bool operator==(const BalanceStatus&) const = default;
};

// Where the rotation's alerts go now (spec.routing): the receiver in effect in the
// AlertmanagerConfig relops owns, whose it is, and since when.
struct RoutingStatus {
  std::string receiver;     // participant-<name>, or fallback during a coverage gap
  std::string participant;  // empty during a coverage gap
  std::optional<Instant> since;
  // The child's name, in the rotation's namespace: an AlertmanagerConfig, or a ConfigMap
  // holding an Alertmanager configuration fragment where that kind is not served.
  std::string alertmanagerConfig;
  std::string configMap;
  bool operator==(const RoutingStatus&) const = default;
};

inline constexpr size_t kMaxUpcomingShifts = 10;
inline constexpr size_t kMaxGaps = 10;

struct Status {
  int64_t observedGeneration = 0;
  std::vector<Condition> conditions;
  std::optional<CurrentOnCall> onCall;
  std::vector<LayerStatus> layers;
  std::optional<HandoffStatus> nextHandoff;
  std::vector<ShiftStatus> upcomingShifts;
  std::vector<GapStatus> gaps;
  std::optional<LoadStatus> load;
  std::optional<BalanceStatus> balance;
  std::optional<RoutingStatus> routing;
  // The path of the rotation's feed on the calendar listener, with its token
  // (/calendars/<namespace>/<name>/<token>.ics); empty when feeds are off.
  std::string calendarPath{};

  const Condition* findCondition(std::string_view type) const;
  const LayerStatus* findLayer(std::string_view name) const;
  bool operator==(const Status&) const = default;
};

// A null or absent status parses as an empty Status.
base::Result<Status> parseStatus(const nlohmann::json& status);
nlohmann::json toJson(const Status& status);

}  // namespace relops::oncall
