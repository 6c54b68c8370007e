#include "tests/unit/controllers/oncall/schedule_oracle.h"

#include <date/tz.h>

#include <algorithm>

namespace relops::oncall::testing {
namespace {

using std::chrono::days;

int64_t floorMod(int64_t a, int64_t b) { return ((a % b) + b) % b; }

// Sorts and merges touching or overlapping intervals.
std::vector<Interval> mergeIntervals(std::vector<Interval> intervals) {
  std::sort(intervals.begin(), intervals.end(),
            [](const Interval& a, const Interval& b) { return a.start < b.start; });
  std::vector<Interval> merged;
  for (const Interval& interval : intervals) {
    if (interval.start >= interval.end) continue;
    if (!merged.empty() && interval.start <= merged.back().end) {
      merged.back().end = std::max(merged.back().end, interval.end);
    } else {
      merged.push_back(interval);
    }
  }
  return merged;
}

// Appends a piece, merging it into the previous one when they touch and have
// the same participant and layer.
void appendPiece(std::vector<Shift>& out, Instant start, Instant end, const std::string& who,
                 const std::string& layer) {
  if (start >= end) return;
  if (!out.empty() && out.back().end == start && out.back().participant == who &&
      out.back().layer == layer) {
    out.back().end = end;
    return;
  }
  out.push_back({start, end, who, layer});
}

std::chrono::seconds overlap(const Shift& shift, const std::vector<Interval>& intervals) {
  std::chrono::seconds total{0};
  for (const Interval& interval : intervals) {
    if (interval.start >= shift.end) break;
    const Instant start = std::max(shift.start, interval.start);
    const Instant end = std::min(shift.end, interval.end);
    if (start < end) total += end - start;
  }
  return total;
}

}  // namespace

ScheduleOracle::ScheduleOracle(const Schedule& schedule, std::vector<int64_t> offsets)
    : schedule_(schedule), offsets_(std::move(offsets)) {
  offsets_.resize(schedule.layerCount(), 0);
}

Instant ScheduleOracle::boundary(size_t layer, int64_t k) const {
  const Layer& source = schedule_.spec().layers[layer];
  if (source.turnLength.civil())
    return schedule_.resolve(source.start + days(k * source.turnLength.days()));
  return schedule_.resolve(source.start) + k * source.turnLength.nominal();
}

const std::string& ScheduleOracle::memberOf(size_t layer, int64_t k) const {
  const std::vector<std::string>& members = schedule_.spec().layers[layer].members;
  return members[floorMod(k + offsets_[layer], static_cast<int64_t>(members.size()))];
}

std::vector<Interval> ScheduleOracle::activeIntervals(size_t layer, Instant from,
                                                      Instant to) const {
  const Layer& source = schedule_.spec().layers[layer];
  if (source.restrictions.empty()) return {{from, to}};
  const date::time_zone* zone = date::locate_zone(schedule_.spec().timeZone);
  const auto localDay = [&](Instant t) {
    return std::chrono::local_days(
        date::floor<days>(zone->to_local(date::sys_seconds(t.time_since_epoch())))
            .time_since_epoch());
  };
  // Every range of every local day touching [from, to), clipped, then merged.
  std::vector<Interval> raw;
  for (auto day = localDay(from) - days(1); day <= localDay(to); day += days(1)) {
    const int weekday = static_cast<int>(std::chrono::weekday(day).iso_encoding()) - 1;
    const LocalTime midnight(day.time_since_epoch());
    for (const Restriction& r : source.restrictions) {
      if (!r.days.empty() && std::count(r.days.begin(), r.days.end(), weekday) == 0) continue;
      const LocalTime start = r.from ? midnight + *r.from : midnight;
      const LocalTime end = !r.from         ? midnight + days(1)
                            : r.overnight() ? midnight + days(1) + *r.to
                                            : midnight + *r.to;
      raw.push_back(
          {std::max(schedule_.resolve(start), from), std::min(schedule_.resolve(end), to)});
    }
  }
  return mergeIntervals(std::move(raw));
}

std::vector<Shift> ScheduleOracle::layerShifts(size_t layer, Instant from, Instant to) const {
  std::vector<Shift> turns;
  if (from >= to) return turns;
  const std::string& name = schedule_.spec().layers[layer].name;
  const std::vector<std::string>& members = schedule_.spec().layers[layer].members;
  const bool onePerson = std::all_of(members.begin(), members.end(),
                                     [&](const std::string& m) { return m == members.front(); });
  if (onePerson) {
    appendPiece(turns, std::max(boundary(layer, 0), from), to, members.front(), name);
  } else {
    int64_t k = std::max<int64_t>(0, schedule_.turnAt(layer, from).index);
    for (Instant start = boundary(layer, k); start < to; ++k) {
      const Instant end = boundary(layer, k + 1);
      appendPiece(turns, std::max(start, from), std::min(end, to), memberOf(layer, k), name);
      start = end;
    }
  }
  if (schedule_.spec().layers[layer].restrictions.empty()) return turns;
  const std::vector<Interval> active = activeIntervals(layer, from, to);
  std::vector<Shift> masked;
  size_t a = 0;
  for (const Shift& turn : turns) {
    while (a < active.size() && active[a].end <= turn.start) ++a;
    for (size_t i = a; i < active.size() && active[i].start < turn.end; ++i) {
      appendPiece(masked, std::max(turn.start, active[i].start), std::min(turn.end, active[i].end),
                  turn.participant, turn.layer);
    }
  }
  return masked;
}

std::vector<Shift> ScheduleOracle::shifts(Instant from, Instant to) const {
  std::vector<Shift> out;
  if (from >= to) return out;
  // Sources in rising precedence: layers in order, then overrides in order.
  const Spec& spec = schedule_.spec();
  std::vector<std::vector<Shift>> sources;
  for (size_t layer = 0; layer < spec.layers.size(); ++layer) {
    sources.push_back(layerShifts(layer, from, to));
  }
  for (const Override& entry : spec.overrides) {
    const auto at = [&](const TimeRef& ref) {
      return ref.local ? schedule_.resolve(ref.localTime) : ref.instant;
    };
    const Instant start = std::max(at(entry.start), from);
    const Instant end = std::min(at(entry.end), to);
    if (start < end)
      sources.push_back({{start, end, entry.participant, std::string(kOverrideLayer)}});
  }
  std::vector<Instant> edges = {from, to};
  for (const auto& source : sources) {
    for (const Shift& piece : source) {
      edges.push_back(piece.start);
      edges.push_back(piece.end);
    }
  }
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  std::vector<size_t> cursor(sources.size(), 0);
  for (size_t e = 0; e + 1 < edges.size(); ++e) {
    const Instant at = edges[e];
    for (size_t s = sources.size(); s-- > 0;) {
      const std::vector<Shift>& source = sources[s];
      while (cursor[s] < source.size() && source[cursor[s]].end <= at) ++cursor[s];
      if (cursor[s] < source.size() && source[cursor[s]].start <= at) {
        const Shift& owner = source[cursor[s]];
        appendPiece(out, at, edges[e + 1], owner.participant, owner.layer);
        break;
      }
    }
  }
  return out;
}

std::vector<Interval> ScheduleOracle::gaps(Instant from, Instant to) const {
  std::vector<Interval> out;
  Instant cursor = from;
  for (const Shift& shift : shifts(from, to)) {
    if (shift.start > cursor) out.push_back({cursor, shift.start});
    cursor = shift.end;
  }
  if (cursor < to) out.push_back({cursor, to});
  return out;
}

OpenShift ScheduleOracle::shiftAt(Instant t) const {
  for (std::chrono::hours window(24);; window *= 4) {
    const bool last = window >= Schedule::kSearchLimit;
    if (last) window = Schedule::kSearchLimit;
    const Instant from = t - window;
    const Instant to = t + window;
    const std::vector<Shift> pieces = shifts(from, to);
    OpenShift found;
    Instant gapStart = from;
    Instant gapEnd = to;
    bool inShift = false;
    for (const Shift& piece : pieces) {
      if (piece.start <= t && t < piece.end) {
        found.participant = piece.participant;
        found.layer = piece.layer;
        if (piece.start > from) found.start = piece.start;
        if (piece.end < to) found.end = piece.end;
        inShift = true;
        break;
      }
      if (piece.end <= t) gapStart = piece.end;
      if (piece.start > t) {
        gapEnd = piece.start;
        break;
      }
    }
    if (!inShift) {
      if (gapStart > from) found.start = gapStart;
      if (gapEnd < to) found.end = gapEnd;
    }
    if ((found.start && found.end) || last) return found;
  }
}

std::optional<Handoff> ScheduleOracle::nextHandoff(Instant after) const {
  for (std::chrono::hours window(24);; window *= 4) {
    const bool last = window >= Schedule::kSearchLimit;
    if (last) window = Schedule::kSearchLimit;
    const std::vector<Shift> pieces = shifts(after, after + window);
    std::string current =
        !pieces.empty() && pieces.front().start == after ? pieces.front().participant : "";
    Instant cursor = after;
    for (const Shift& piece : pieces) {
      if (piece.start > cursor && !current.empty()) return Handoff{cursor, current, ""};
      if (piece.participant != current) {
        return Handoff{piece.start, current, piece.participant};
      }
      cursor = piece.end;
    }
    if (cursor < after + window && !current.empty()) return Handoff{cursor, current, ""};
    if (last) return std::nullopt;
  }
}

bool ScheduleOracle::layerActiveAt(size_t layer, Instant t) const {
  // Before the layer starts there is no turn to be active.
  return schedule_.turnAt(layer, t).index >= 0 &&
         !activeIntervals(layer, t, t + std::chrono::seconds(1)).empty();
}

std::vector<ParticipantLoad> ScheduleOracle::computeLoad(Instant from, Instant to) const {
  std::vector<ParticipantLoad> load;
  for (const Participant& participant : schedule_.spec().participants) {
    load.push_back({participant.name});
  }
  const std::vector<Interval> working = schedule_.workingHours(from, to);
  const std::vector<Interval> weekends = schedule_.weekends(from, to);
  for (const Shift& shift : shifts(from, to)) {
    auto entry = std::find_if(load.begin(), load.end(), [&](const ParticipantLoad& l) {
      return l.participant == shift.participant;
    });
    if (entry == load.end()) continue;
    const std::chrono::seconds length = shift.end - shift.start;
    entry->onCall += length;
    entry->offHours += length - overlap(shift, working);
    entry->weekend += overlap(shift, weekends);
  }
  return load;
}

}  // namespace relops::oncall::testing
