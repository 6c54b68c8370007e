// The schedule engine: who is on call when, computed in the rotation's time
// zone with Howard Hinnant's date/tz on the system tz database. Pure: every
// function takes the instants it works on; nothing reads a clock.
//
// Rules (documented in the README):
// - Turns of m/h advance in absolute time from the anchor. Turns of d/w hand
//   off at the anchor's local wall-clock time, so a daily 09:00 New York turn
//   lasts 23 h across the March change and 25 h across the November one.
// - A local time that does not exist (skipped by a DST jump) resolves to the
//   first valid instant after it, the instant of the jump; a local time that
//   happens twice resolves to its first occurrence.
// - PagerDuty layers: a layer is in effect from its start; later layers win
//   over earlier ones, overrides over all layers (later overrides over earlier
//   ones); restrictions mask a layer without pausing its rotation order.
//
// Each layer is a stream of turns in time order, masked by its restrictions
// as it goes; the streams are merged by precedence without first listing any
// layer whole, so the work and memory of a schedule follow the shifts that
// show, not the turns hidden under later layers or outside restrictions.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controllers/oncall/oncall_types.h"
#include "operator/base/result.h"

namespace relops::oncall {

inline constexpr std::string_view kOverrideLayer = "override";

// One piece of the final schedule.
struct Shift {
  Instant start{};
  Instant end{};
  std::string participant;
  std::string layer;  // layer name, or kOverrideLayer
  bool operator==(const Shift&) const = default;
};

struct Interval {
  Instant start{};
  Instant end{};
  bool operator==(const Interval&) const = default;
};

// A change of who is on call overall. Empty names mean nobody (a gap).
struct Handoff {
  Instant time{};
  std::string from;
  std::string to;
  bool operator==(const Handoff&) const = default;
};

// A layer's turn at some instant, before masking by restrictions.
struct LayerTurn {
  int64_t index = 0;  // turns since the anchor; negative before the layer starts
  std::string participant;
  Instant start{};
  Instant end{};
  bool active = false;  // the layer is in effect and no restriction masks it
};

// A shift's extent found by searching outward; a bound is absent when the
// shift reaches further than kSearchLimit from where the search began.
struct OpenShift {
  std::string participant;  // empty during a gap
  std::string layer;
  std::optional<Instant> start;
  std::optional<Instant> end;
};

class Schedule {
 public:
  // How far shiftAt() and nextHandoff() look (a little over two years).
  static constexpr std::chrono::hours kSearchLimit{24 * 750};

  // Resolves the spec against the tz database. Fails (kConfig) when the zone
  // is unknown. `offsets` (one per layer, default 0) shift each rotation's
  // order: turn k belongs to members[(k + offset) mod n].
  static base::Result<Schedule> compile(const Spec& spec, std::vector<int64_t> offsets = {});

  Schedule(const Schedule&) = default;
  Schedule& operator=(const Schedule&) = default;
  Schedule(Schedule&&) noexcept = default;
  Schedule& operator=(Schedule&&) noexcept = default;
  ~Schedule();

  const Spec& spec() const;
  size_t layerCount() const;

  // The final schedule clipped to [from, to): sorted, non-overlapping, and
  // adjacent pieces of the same participant from the same layer merged.
  std::vector<Shift> shifts(Instant from, Instant to) const;
  // The same shifts handed to `visit` one at a time, in order, without being
  // held; `visit` returns false to stop early.
  void forEachShift(Instant from, Instant to, const std::function<bool(const Shift&)>& visit) const;
  // One layer's effective shifts (turns masked by restrictions), clipped.
  std::vector<Shift> layerShifts(size_t layer, Instant from, Instant to) const;
  // Where nobody is on call within [from, to).
  std::vector<Interval> gaps(Instant from, Instant to) const;

  // The final shift (or gap) containing t, with its full extent.
  OpenShift shiftAt(Instant t) const;
  // A layer's turn at t; before the layer starts, index < 0 and inactive.
  LayerTurn turnAt(size_t layer, Instant t) const;
  // The first change of the overall on-call person strictly after `after`.
  std::optional<Handoff> nextHandoff(Instant after) const;
  // The first instant after `after` at which anything the status reports can
  // change: a turn boundary, a restriction edge, an override edge.
  std::optional<Instant> nextChange(Instant after) const;

  // Local calendar helpers in the rotation's zone.
  Instant startOfLocalDay(Instant t) const;
  Instant nextLocalMidnight(Instant t) const;
  // Working hours are 09:00-17:00 local, Monday to Friday (the issue's
  // definition of off-hours is everything else); the weekend is Saturday
  // 00:00 to Monday 00:00 local.
  std::vector<Interval> workingHours(Instant from, Instant to) const;
  std::vector<Interval> weekends(Instant from, Instant to) const;
  // "2026-03-08 09:00 EDT"
  std::string formatLocal(Instant t) const;
  // Resolves a local civil time by the skipped/repeated rules above.
  Instant resolve(LocalTime local) const;

 private:
  struct Impl;
  explicit Schedule(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

}  // namespace relops::oncall
