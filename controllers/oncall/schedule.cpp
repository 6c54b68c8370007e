#include "controllers/oncall/schedule.h"

#include <date/tz.h>

#include <algorithm>
#include <exception>

namespace relops::oncall {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr minutes kWorkdayStart = hours(9);
constexpr minutes kWorkdayEnd = hours(17);
constexpr int kSaturday = 5;  // index in kWeekdayNames

int64_t floorDiv(int64_t a, int64_t b) {
  int64_t quotient = a / b;
  if (a % b != 0 && ((a < 0) != (b < 0))) --quotient;
  return quotient;
}

int64_t floorMod(int64_t a, int64_t b) { return a - floorDiv(a, b) * b; }

int weekdayIndex(std::chrono::local_days day) {
  return static_cast<int>(std::chrono::weekday(day).iso_encoding()) - 1;
}

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

struct CompiledLayer {
  size_t index = 0;  // into spec.layers
  int64_t offset = 0;
  Instant startInstant{};
};

}  // namespace

struct Schedule::Impl {
  Spec spec;
  const date::time_zone* zone = nullptr;
  std::vector<CompiledLayer> layers;
  std::vector<Interval> overrides;  // resolved, parallel to spec.overrides

  Instant resolve(LocalTime local) const {
    const date::local_seconds time{local.time_since_epoch()};
    const date::local_info info = zone->get_info(time);
    switch (info.result) {
      case date::local_info::unique:
        return Instant(time.time_since_epoch() - info.first.offset);
      case date::local_info::nonexistent:
        // Skipped by a jump forward: the first valid instant after it is the
        // jump itself (02:30 on a spring-forward night becomes 03:00).
        return Instant(info.second.begin.time_since_epoch());
      case date::local_info::ambiguous:
        // Repeated by a jump back: the first occurrence, under the offset in
        // force before the jump.
        return Instant(time.time_since_epoch() - info.first.offset);
    }
    return Instant(time.time_since_epoch() - info.first.offset);
  }

  LocalTime toLocal(Instant t) const {
    const date::sys_info info = zone->get_info(date::sys_seconds(t.time_since_epoch()));
    return LocalTime(t.time_since_epoch() + info.offset);
  }

  std::chrono::local_days localDay(Instant t) const { return std::chrono::floor<days>(toLocal(t)); }

  const Layer& layerSpec(const CompiledLayer& layer) const { return spec.layers[layer.index]; }

  Instant boundary(const CompiledLayer& layer, int64_t k) const {
    const Layer& source = layerSpec(layer);
    if (source.turnLength.civil()) {
      // Day and week turns hand off at the same local wall-clock time.
      return resolve(source.start + days(k * source.turnLength.days()));
    }
    return layer.startInstant + k * source.turnLength.nominal();
  }

  int64_t turnIndex(const CompiledLayer& layer, Instant t) const {
    const Layer& source = layerSpec(layer);
    if (!source.turnLength.civil()) {
      return floorDiv((t - layer.startInstant).count(), source.turnLength.nominal().count());
    }
    // Estimate on the wall clock, then settle against the resolved boundaries
    // (they differ from the estimate by at most the zone's offset change).
    const int64_t turnSeconds =
        std::chrono::duration_cast<std::chrono::seconds>(days(source.turnLength.days())).count();
    int64_t k = floorDiv((toLocal(t) - source.start).count(), turnSeconds);
    while (boundary(layer, k + 1) <= t) ++k;
    while (boundary(layer, k) > t) --k;
    return k;
  }

  const std::string& memberOf(const CompiledLayer& layer, int64_t k) const {
    const std::vector<std::string>& members = layerSpec(layer).members;
    return members[floorMod(k + layer.offset, static_cast<int64_t>(members.size()))];
  }

  // The raw intervals of a layer's restrictions over the local days touching
  // [from, to), unclipped.
  std::vector<Interval> restrictionIntervals(const CompiledLayer& layer, Instant from,
                                             Instant to) const {
    std::vector<Interval> out;
    const std::chrono::local_days first = localDay(from) - days(1);
    const std::chrono::local_days last = localDay(to);
    for (std::chrono::local_days day = first; day <= last; day += days(1)) {
      const int weekday = weekdayIndex(day);
      for (const Restriction& restriction : layerSpec(layer).restrictions) {
        if (!restriction.days.empty() && std::find(restriction.days.begin(), restriction.days.end(),
                                                   weekday) == restriction.days.end()) {
          continue;
        }
        const LocalTime dayStart(day.time_since_epoch());
        if (!restriction.from) {
          out.push_back({resolve(dayStart), resolve(dayStart + days(1))});
          continue;
        }
        // Overnight ranges start on the listed day and end on the next.
        const LocalTime start = dayStart + *restriction.from;
        const LocalTime end =
            dayStart + (restriction.overnight() ? days(1) : days(0)) + *restriction.to;
        out.push_back({resolve(start), resolve(end)});
      }
    }
    return out;
  }

  std::vector<Interval> activeIntervals(const CompiledLayer& layer, Instant from,
                                        Instant to) const {
    if (layerSpec(layer).restrictions.empty()) return {{from, to}};
    std::vector<Interval> raw = restrictionIntervals(layer, from, to);
    for (Interval& interval : raw) {
      interval.start = std::max(interval.start, from);
      interval.end = std::min(interval.end, to);
    }
    return mergeIntervals(std::move(raw));
  }

  std::vector<Shift> layerShifts(const CompiledLayer& layer, Instant from, Instant to) const {
    std::vector<Shift> turns;
    if (from >= to) return turns;
    const std::string& name = layerSpec(layer).name;
    const std::vector<std::string>& members = layerSpec(layer).members;
    const bool onePerson = std::all_of(members.begin(), members.end(),
                                       [&](const std::string& m) { return m == members.front(); });
    if (onePerson) {
      // Every turn merges into one: skip walking them (a 1m rotation would
      // otherwise step half a million turns per year of window).
      appendPiece(turns, std::max(boundary(layer, 0), from), to, members.front(), name);
    } else {
      int64_t k = std::max<int64_t>(0, turnIndex(layer, from));
      for (Instant start = boundary(layer, k); start < to; ++k) {
        const Instant end = boundary(layer, k + 1);
        appendPiece(turns, std::max(start, from), std::min(end, to), memberOf(layer, k), name);
        start = end;
      }
    }
    if (layerSpec(layer).restrictions.empty()) return turns;
    // Restrictions mask the turns; the order runs on underneath (PagerDuty).
    const std::vector<Interval> active = activeIntervals(layer, from, to);
    std::vector<Shift> masked;
    size_t a = 0;
    for (const Shift& turn : turns) {
      while (a < active.size() && active[a].end <= turn.start) ++a;
      for (size_t i = a; i < active.size() && active[i].start < turn.end; ++i) {
        appendPiece(masked, std::max(turn.start, active[i].start),
                    std::min(turn.end, active[i].end), turn.participant, turn.layer);
      }
    }
    return masked;
  }

  std::vector<Shift> shifts(Instant from, Instant to) const {
    std::vector<Shift> out;
    if (from >= to) return out;
    // Sources in rising precedence: layers in order, then overrides in order.
    std::vector<std::vector<Shift>> sources;
    for (const CompiledLayer& layer : layers) sources.push_back(layerShifts(layer, from, to));
    for (size_t i = 0; i < overrides.size(); ++i) {
      const Instant start = std::max(overrides[i].start, from);
      const Instant end = std::min(overrides[i].end, to);
      if (start < end) {
        sources.push_back(
            {{start, end, spec.overrides[i].participant, std::string(kOverrideLayer)}});
      }
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
};

Schedule::Schedule(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Schedule::~Schedule() = default;

base::Result<Schedule> Schedule::compile(const Spec& spec, std::vector<int64_t> offsets) {
  auto impl = std::make_shared<Impl>();
  impl->spec = spec;
  try {
    impl->zone = date::locate_zone(spec.timeZone);
  } catch (const std::exception&) {
    return base::Error(base::ErrorKind::kConfig, "spec.timeZone: unknown time zone \"" +
                                                     spec.timeZone + "\" (not in the tz database)");
  }
  try {
    for (size_t i = 0; i < spec.layers.size(); ++i) {
      CompiledLayer layer;
      layer.index = i;
      layer.offset = i < offsets.size() ? offsets[i] : 0;
      layer.startInstant = impl->resolve(spec.layers[i].start);
      impl->layers.push_back(layer);
    }
    for (const Override& entry : spec.overrides) {
      const auto at = [&](const TimeRef& ref) {
        return ref.local ? impl->resolve(ref.localTime) : ref.instant;
      };
      // Both ends inside one skipped hour resolve to the same instant: an
      // override of no length, which then covers nothing.
      impl->overrides.push_back({at(entry.start), at(entry.end)});
    }
  } catch (const std::exception& error) {
    return base::Error(base::ErrorKind::kConfig,
                       std::string("spec: cannot be resolved in the time zone: ") + error.what());
  }
  return Schedule(std::move(impl));
}

const Spec& Schedule::spec() const { return impl_->spec; }
size_t Schedule::layerCount() const { return impl_->layers.size(); }

std::vector<Shift> Schedule::shifts(Instant from, Instant to) const {
  return impl_->shifts(from, to);
}

std::vector<Shift> Schedule::layerShifts(size_t layer, Instant from, Instant to) const {
  return impl_->layerShifts(impl_->layers.at(layer), from, to);
}

std::vector<Interval> Schedule::gaps(Instant from, Instant to) const {
  std::vector<Interval> out;
  Instant cursor = from;
  for (const Shift& shift : shifts(from, to)) {
    if (shift.start > cursor) out.push_back({cursor, shift.start});
    cursor = shift.end;
  }
  if (cursor < to) out.push_back({cursor, to});
  return out;
}

OpenShift Schedule::shiftAt(Instant t) const {
  for (std::chrono::hours window(24);; window *= 4) {
    const bool last = window >= kSearchLimit;
    if (last) window = kSearchLimit;
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

LayerTurn Schedule::turnAt(size_t index, Instant t) const {
  const CompiledLayer& layer = impl_->layers.at(index);
  LayerTurn turn;
  turn.index = impl_->turnIndex(layer, t);
  turn.start = impl_->boundary(layer, turn.index);
  turn.end = impl_->boundary(layer, turn.index + 1);
  if (turn.index < 0) return turn;
  turn.participant = impl_->memberOf(layer, turn.index);
  const std::vector<Interval> active = impl_->activeIntervals(layer, t, t + seconds(1));
  turn.active = !active.empty();
  return turn;
}

std::optional<Handoff> Schedule::nextHandoff(Instant after) const {
  for (std::chrono::hours window(24);; window *= 4) {
    const bool last = window >= kSearchLimit;
    if (last) window = kSearchLimit;
    const std::vector<Shift> pieces = shifts(after, after + window);
    // Who is on call at each point, gaps included, as (from, person).
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

std::optional<Instant> Schedule::nextChange(Instant after) const {
  std::optional<Instant> next;
  const auto consider = [&](Instant t) {
    if (t > after && (!next || t < *next)) next = t;
  };
  for (const CompiledLayer& layer : impl_->layers) {
    const int64_t k = impl_->turnIndex(layer, after);
    consider(impl_->boundary(layer, std::max<int64_t>(k + 1, 0)));
    if (!impl_->layerSpec(layer).restrictions.empty()) {
      // Restrictions repeat weekly; eight days ahead always holds an edge.
      for (const Interval& interval : impl_->restrictionIntervals(layer, after, after + days(8))) {
        consider(interval.start);
        consider(interval.end);
      }
    }
  }
  for (const Interval& entry : impl_->overrides) {
    consider(entry.start);
    consider(entry.end);
  }
  return next;
}

Instant Schedule::startOfLocalDay(Instant t) const {
  return impl_->resolve(LocalTime(impl_->localDay(t).time_since_epoch()));
}

Instant Schedule::nextLocalMidnight(Instant t) const {
  return impl_->resolve(LocalTime((impl_->localDay(t) + days(1)).time_since_epoch()));
}

std::vector<Interval> Schedule::workingHours(Instant from, Instant to) const {
  std::vector<Interval> out;
  for (std::chrono::local_days day = impl_->localDay(from) - days(1); day <= impl_->localDay(to);
       day += days(1)) {
    if (weekdayIndex(day) >= kSaturday) continue;
    const LocalTime dayStart(day.time_since_epoch());
    const Instant start = std::max(from, impl_->resolve(dayStart + kWorkdayStart));
    const Instant end = std::min(to, impl_->resolve(dayStart + kWorkdayEnd));
    if (start < end) out.push_back({start, end});
  }
  return out;
}

std::vector<Interval> Schedule::weekends(Instant from, Instant to) const {
  std::vector<Interval> out;
  for (std::chrono::local_days day = impl_->localDay(from) - days(1); day <= impl_->localDay(to);
       day += days(1)) {
    if (weekdayIndex(day) != kSaturday) continue;
    const LocalTime dayStart(day.time_since_epoch());
    const Instant start = std::max(from, impl_->resolve(dayStart));
    const Instant end = std::min(to, impl_->resolve(dayStart + days(2)));
    if (start < end) out.push_back({start, end});
  }
  return out;
}

std::string Schedule::formatLocal(Instant t) const {
  const date::zoned_seconds zoned(impl_->zone, date::sys_seconds(t.time_since_epoch()));
  return date::format("%Y-%m-%d %H:%M %Z", zoned);
}

Instant Schedule::resolve(LocalTime local) const { return impl_->resolve(local); }

}  // namespace relops::oncall
