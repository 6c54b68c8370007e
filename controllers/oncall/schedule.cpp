#include "controllers/oncall/schedule.h"

#include <algorithm>
#include <deque>
#include <exception>

#include "controllers/common/civil_time.h"

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

struct CompiledLayer {
  size_t index = 0;  // into spec.layers
  int64_t offset = 0;
  Instant startInstant{};
};

// The rotation resolved against its zone: the civil-time rules and the turn
// arithmetic every stream below builds on.
struct Engine {
  Spec spec;
  std::optional<common::TimeZone> zone;
  std::vector<CompiledLayer> layers;
  std::vector<Interval> overrides;  // resolved, parallel to spec.overrides
  const std::string overrideLayer{kOverrideLayer};

  // The civil-time rules every kind shares (controllers/common/civil_time.h).
  Instant resolve(LocalTime local) const { return zone->resolve(local); }
  LocalTime toLocal(Instant t) const { return zone->toLocal(t); }

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

  // The raw intervals of a layer's restrictions that begin on one local day,
  // unclipped, in the order of the restrictions.
  void appendDayWindows(const CompiledLayer& layer, std::chrono::local_days day,
                        std::vector<Interval>& out) const {
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

  // The raw intervals of a layer's restrictions over the local days touching
  // [from, to), unclipped. A range ends at most a day after the day it begins
  // on, so the day before `from` is the earliest that reaches it.
  std::vector<Interval> restrictionIntervals(const CompiledLayer& layer, Instant from,
                                             Instant to) const {
    std::vector<Interval> out;
    const std::chrono::local_days last = localDay(to);
    for (std::chrono::local_days day = localDay(from) - days(1); day <= last; day += days(1)) {
      appendDayWindows(layer, day, out);
    }
    return out;
  }
};

// One piece of a stream: an interval and who covers it. The names point into
// the Engine, which outlives every stream built on it.
struct Piece {
  Instant start{};
  Instant end{};
  const std::string* participant = nullptr;
  const std::string* layer = nullptr;
};

// A source of pieces in time order, never overlapping, computed on demand so
// that a schedule over a long window is never held whole (a year of one-minute
// turns in ten layers is millions of pieces). Callers seek forward only.
class PieceStream {
 public:
  PieceStream() = default;
  PieceStream(const PieceStream&) = delete;
  PieceStream& operator=(const PieceStream&) = delete;
  virtual ~PieceStream() = default;
  // The first piece that ends after t, or nullptr when none is left. The
  // pointer is valid until the next call; t never decreases between calls.
  virtual const Piece* seek(Instant t) = 0;
};

// Keeps `current` while it reaches past t; otherwise `advance(t)` replaces it
// with the next item, until one does or none is left.
template <typename Item, typename Advance>
const Item* seekWith(std::optional<Item>& current, Instant t, Advance advance) {
  while (!current || current->end <= t) {
    if (!advance(t)) return nullptr;
  }
  return &*current;
}

// A layer's turns over [from, to), runs of turns of one member joined. A seek
// past the next turn jumps straight to the turn containing it, so turns hidden
// under a later layer or a restriction are never walked one by one.
class TurnStream final : public PieceStream {
 public:
  TurnStream(const Engine& engine, const CompiledLayer& layer, Instant from, Instant to)
      : engine_(engine), layer_(layer), from_(from), to_(to) {
    const std::vector<std::string>& members = engine.layerSpec(layer).members;
    onePerson_ = std::all_of(members.begin(), members.end(),
                             [&](const std::string& m) { return m == members.front(); });
    next_ = std::max<int64_t>(0, engine.turnIndex(layer, from));
    nextStart_ = engine.boundary(layer, next_);
  }

  const Piece* seek(Instant t) override {
    return seekWith(current_, t, [this](Instant at) { return advance(at); });
  }

 private:
  bool advance(Instant t) {
    current_.reset();
    if (nextStart_ >= to_) return false;
    const std::string& name = engine_.layerSpec(layer_).name;
    if (onePerson_) {
      // Every turn joins into one: skip walking them (a 1m rotation would
      // otherwise step half a million turns per year of window).
      current_ = Piece{std::max(nextStart_, from_), to_, &engine_.memberOf(layer_, 0), &name};
      nextStart_ = to_;
      return true;
    }
    if (t > nextStart_) {
      next_ = engine_.turnIndex(layer_, t);
      nextStart_ = engine_.boundary(layer_, next_);
    }
    const std::string& who = engine_.memberOf(layer_, next_);
    const Instant start = nextStart_;
    Instant end = engine_.boundary(layer_, ++next_);
    while (end < to_ && engine_.memberOf(layer_, next_) == who) {
      end = engine_.boundary(layer_, ++next_);
    }
    nextStart_ = end;
    current_ = Piece{std::max(start, from_), std::min(end, to_), &who, &name};
    return true;
  }

  const Engine& engine_;
  const CompiledLayer& layer_;
  Instant from_;
  Instant to_;
  bool onePerson_ = false;
  int64_t next_ = 0;     // the turn after the current run
  Instant nextStart_{};  // where it begins
  std::optional<Piece> current_;
};

// The windows in which a layer's restrictions let it act over [from, to):
// the union of the ranges, touching ones joined, generated a local day at a
// time.
class WindowStream {
 public:
  WindowStream(const Engine& engine, const CompiledLayer& layer, Instant from, Instant to)
      : engine_(engine),
        layer_(layer),
        from_(from),
        to_(to),
        day_(engine.localDay(from) - days(1)),
        lastDay_(engine.localDay(to)) {}

  const Interval* seek(Instant t) {
    return seekWith(current_, t, [this](Instant at) { return advance(at); });
  }

 private:
  bool advance(Instant t) {
    current_.reset();
    if (queue_.empty() && (!open_ || open_->end <= t)) {
      // Nothing begun so far reaches t: start at the day before t's, the
      // earliest whose ranges can.
      open_.reset();
      day_ = std::max(day_, engine_.localDay(t) - days(1));
    }
    while (true) {
      if (queue_.empty() && day_ <= lastDay_) {
        std::vector<Interval> day;
        engine_.appendDayWindows(layer_, day_, day);
        day_ += days(1);
        // Ranges of one day begin before any of the next day's.
        std::sort(day.begin(), day.end(),
                  [](const Interval& a, const Interval& b) { return a.start < b.start; });
        queue_.insert(queue_.end(), day.begin(), day.end());
        continue;
      }
      if (queue_.empty()) {
        std::swap(current_, open_);
        return current_.has_value();
      }
      const Interval next{std::max(queue_.front().start, from_), std::min(queue_.front().end, to_)};
      queue_.pop_front();
      if (next.start >= next.end) continue;
      if (open_ && next.start <= open_->end) {
        open_->end = std::max(open_->end, next.end);
        continue;
      }
      current_ = open_;
      open_ = next;
      if (current_) return true;
    }
  }

  const Engine& engine_;
  const CompiledLayer& layer_;
  Instant from_;
  Instant to_;
  std::chrono::local_days day_;      // the next day to generate
  std::chrono::local_days lastDay_;  // the last day that can reach `to`
  std::deque<Interval> queue_;       // generated, not yet joined
  std::optional<Interval> open_;     // the window being joined
  std::optional<Interval> current_;
};

// A layer's effective shifts: its turns masked by its restrictions; the order
// runs on underneath (PagerDuty).
class LayerStream final : public PieceStream {
 public:
  LayerStream(const Engine& engine, const CompiledLayer& layer, Instant from, Instant to)
      : turns_(engine, layer, from, to) {
    if (!engine.layerSpec(layer).restrictions.empty()) windows_.emplace(engine, layer, from, to);
  }

  const Piece* seek(Instant t) override {
    if (!windows_) return turns_.seek(t);
    if (current_ && current_->end > t) return &*current_;
    current_.reset();
    for (Instant cursor = t;;) {
      const Piece* turn = turns_.seek(cursor);
      const Interval* window = windows_->seek(cursor);
      if (turn == nullptr || window == nullptr) return nullptr;
      if (window->start >= turn->end) {
        cursor = window->start;
      } else if (turn->start >= window->end) {
        cursor = turn->start;
      } else {
        current_ = Piece{std::max(turn->start, window->start), std::min(turn->end, window->end),
                         turn->participant, turn->layer};
        return &*current_;
      }
    }
  }

 private:
  TurnStream turns_;
  std::optional<WindowStream> windows_;
  std::optional<Piece> current_;
};

// Pieces held in a vector (an override: one piece).
class FixedStream final : public PieceStream {
 public:
  explicit FixedStream(std::vector<Piece> pieces) : pieces_(std::move(pieces)) {}

  const Piece* seek(Instant t) override {
    while (next_ < pieces_.size() && pieces_[next_].end <= t) ++next_;
    return next_ < pieces_.size() ? &pieces_[next_] : nullptr;
  }

 private:
  std::vector<Piece> pieces_;
  size_t next_ = 0;
};

// Sources in rising precedence, merged: at each instant the highest source
// with a piece there covers it. A source below the one in charge is not asked
// until that one's piece ends, and then seeks past what it hid in one step.
class PrecedenceStream final : public PieceStream {
 public:
  explicit PrecedenceStream(std::vector<PieceStream*> sources) : sources_(std::move(sources)) {}

  const Piece* seek(Instant t) override {
    if (current_ && current_->end > t) return &*current_;
    current_.reset();
    for (Instant at = t;;) {
      std::optional<Instant> nextStart;  // the earliest later start above the owner
      const Piece* owner = nullptr;
      for (size_t s = sources_.size(); s-- > 0;) {
        const Piece* piece = sources_[s]->seek(at);
        if (piece == nullptr) continue;
        if (piece->start <= at) {
          owner = piece;
          break;
        }
        if (!nextStart || piece->start < *nextStart) nextStart = piece->start;
      }
      if (owner != nullptr) {
        const Instant end = nextStart ? std::min(owner->end, *nextStart) : owner->end;
        current_ = Piece{at, end, owner->participant, owner->layer};
        return &*current_;
      }
      if (!nextStart) return nullptr;
      at = *nextStart;
    }
  }

 private:
  std::vector<PieceStream*> sources_;
  std::optional<Piece> current_;
};

// Walks a stream over [from, to), joining touching pieces of the same
// participant and layer, and hands each finished shift to `visit` (false
// stops the walk).
template <typename Visit>
void forEachJoined(PieceStream& stream, Instant from, Instant to, Visit&& visit) {
  std::optional<Shift> open;
  for (const Piece* piece = stream.seek(from); piece != nullptr && piece->start < to;
       piece = stream.seek(piece->end)) {
    const Instant start = std::max(piece->start, from);
    const Instant end = std::min(piece->end, to);
    if (start >= end) continue;
    if (open && open->end == start && open->participant == *piece->participant &&
        open->layer == *piece->layer) {
      open->end = end;
      continue;
    }
    if (open && !visit(*open)) return;
    open = Shift{start, end, *piece->participant, *piece->layer};
  }
  if (open) visit(*open);
}

}  // namespace

struct Schedule::Impl : Engine {};

Schedule::Schedule(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Schedule::~Schedule() = default;

base::Result<Schedule> Schedule::compile(const Spec& spec, std::vector<int64_t> offsets) {
  auto impl = std::make_shared<Impl>();
  impl->spec = spec;
  auto zone = common::TimeZone::locate(spec.timeZone);
  if (!zone.ok()) {
    return base::Error(base::ErrorKind::kConfig, "spec.timeZone: " + zone.error().message());
  }
  impl->zone = std::move(*zone);
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

void Schedule::forEachShift(Instant from, Instant to,
                            const std::function<bool(const Shift&)>& visit) const {
  if (from >= to) return;
  const Engine& engine = *impl_;
  // Sources in rising precedence: layers in order, then the overrides, merged
  // among themselves the same way (later overrides over earlier ones).
  std::vector<std::unique_ptr<PieceStream>> owned;
  std::vector<PieceStream*> overrides;
  for (size_t i = 0; i < engine.overrides.size(); ++i) {
    const Instant start = std::max(engine.overrides[i].start, from);
    const Instant end = std::min(engine.overrides[i].end, to);
    if (start >= end) continue;
    owned.push_back(std::make_unique<FixedStream>(std::vector<Piece>{
        {start, end, &engine.spec.overrides[i].participant, &engine.overrideLayer}}));
    overrides.push_back(owned.back().get());
  }
  std::vector<PieceStream*> sources;
  for (const CompiledLayer& layer : engine.layers) {
    owned.push_back(std::make_unique<LayerStream>(engine, layer, from, to));
    sources.push_back(owned.back().get());
  }
  if (!overrides.empty()) {
    owned.push_back(std::make_unique<PrecedenceStream>(std::move(overrides)));
    sources.push_back(owned.back().get());
  }
  PrecedenceStream merged(std::move(sources));
  forEachJoined(merged, from, to, visit);
}

std::vector<Shift> Schedule::shifts(Instant from, Instant to) const {
  std::vector<Shift> out;
  forEachShift(from, to, [&](const Shift& shift) {
    out.push_back(shift);
    return true;
  });
  return out;
}

std::vector<Shift> Schedule::layerShifts(size_t layer, Instant from, Instant to) const {
  std::vector<Shift> out;
  if (from >= to) return out;
  LayerStream stream(*impl_, impl_->layers.at(layer), from, to);
  forEachJoined(stream, from, to, [&](const Shift& shift) {
    out.push_back(shift);
    return true;
  });
  return out;
}

std::vector<Interval> Schedule::gaps(Instant from, Instant to) const {
  std::vector<Interval> out;
  Instant cursor = from;
  forEachShift(from, to, [&](const Shift& shift) {
    if (shift.start > cursor) out.push_back({cursor, shift.start});
    cursor = shift.end;
    return true;
  });
  if (cursor < to) out.push_back({cursor, to});
  return out;
}

OpenShift Schedule::shiftAt(Instant t) const {
  for (std::chrono::hours window(24);; window *= 4) {
    const bool last = window >= kSearchLimit;
    if (last) window = kSearchLimit;
    const Instant from = t - window;
    const Instant to = t + window;
    OpenShift found;
    Instant gapStart = from;
    Instant gapEnd = to;
    bool inShift = false;
    forEachShift(from, to, [&](const Shift& piece) {
      if (piece.start <= t && t < piece.end) {
        found.participant = piece.participant;
        found.layer = piece.layer;
        if (piece.start > from) found.start = piece.start;
        if (piece.end < to) found.end = piece.end;
        inShift = true;
        return false;
      }
      if (piece.end <= t) gapStart = piece.end;
      if (piece.start > t) {
        gapEnd = piece.start;
        return false;
      }
      return true;
    });
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
  if (impl_->layerSpec(layer).restrictions.empty()) {
    turn.active = true;
  } else {
    const std::vector<Interval> ranges = impl_->restrictionIntervals(layer, t, t + seconds(1));
    turn.active = std::any_of(ranges.begin(), ranges.end(), [&](const Interval& range) {
      return range.start <= t && t < range.end;
    });
  }
  return turn;
}

std::optional<Handoff> Schedule::nextHandoff(Instant after) const {
  for (std::chrono::hours window(24);; window *= 4) {
    const bool last = window >= kSearchLimit;
    if (last) window = kSearchLimit;
    // Who is on call at each point, gaps included: `current` from `cursor` on.
    std::string current;
    Instant cursor = after;
    bool first = true;
    std::optional<Handoff> found;
    forEachShift(after, after + window, [&](const Shift& piece) {
      if (first && piece.start == after) current = piece.participant;
      first = false;
      if (piece.start > cursor && !current.empty()) {
        found = Handoff{cursor, current, ""};
      } else if (piece.participant != current) {
        found = Handoff{piece.start, current, piece.participant};
      }
      cursor = piece.end;
      return !found;
    });
    if (found) return found;
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

std::string Schedule::formatLocal(Instant t) const { return impl_->zone->formatLocal(t); }

Instant Schedule::resolve(LocalTime local) const { return impl_->resolve(local); }

}  // namespace relops::oncall
