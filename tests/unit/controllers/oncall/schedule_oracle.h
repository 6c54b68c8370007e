// The schedule engine as it was before it streamed, kept as a test oracle:
// every layer's turns are listed over the whole window, masked by the listed
// restriction ranges, and merged on the sorted set of all their edges; load
// scans every working-hour interval for every shift. Slow and memory-hungry
// on purpose: it is simple enough to trust, and the streamed engine
// (controllers/oncall/schedule.h) must give exactly what it gives.
//
// It takes from the engine only what the streaming did not touch: resolving
// local times, turn indices, the working-hour and weekend intervals.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "controllers/oncall/load.h"
#include "controllers/oncall/schedule.h"

namespace relops::oncall::testing {

class ScheduleOracle {
 public:
  // `schedule` must be compiled with the same offsets; it outlives the oracle.
  ScheduleOracle(const Schedule& schedule, std::vector<int64_t> offsets = {});

  std::vector<Shift> shifts(Instant from, Instant to) const;
  std::vector<Shift> layerShifts(size_t layer, Instant from, Instant to) const;
  std::vector<Interval> gaps(Instant from, Instant to) const;
  OpenShift shiftAt(Instant t) const;
  std::optional<Handoff> nextHandoff(Instant after) const;
  // LayerTurn::active of Schedule::turnAt.
  bool layerActiveAt(size_t layer, Instant t) const;
  std::vector<ParticipantLoad> computeLoad(Instant from, Instant to) const;

 private:
  Instant boundary(size_t layer, int64_t k) const;
  const std::string& memberOf(size_t layer, int64_t k) const;
  std::vector<Interval> activeIntervals(size_t layer, Instant from, Instant to) const;

  const Schedule& schedule_;
  std::vector<int64_t> offsets_;
};

}  // namespace relops::oncall::testing
