#include "controllers/oncall/load.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>
#include <unordered_map>

namespace relops::oncall {
namespace {

// How much of the shift falls in the sorted, disjoint intervals. `first`
// moves past those that end before the shift, so a walk over shifts in time
// order visits each interval a bounded number of times.
std::chrono::seconds overlap(const Shift& shift, const std::vector<Interval>& intervals,
                             size_t& first) {
  while (first < intervals.size() && intervals[first].end <= shift.start) ++first;
  std::chrono::seconds total{0};
  for (size_t i = first; i < intervals.size() && intervals[i].start < shift.end; ++i) {
    const Instant start = std::max(shift.start, intervals[i].start);
    const Instant end = std::min(shift.end, intervals[i].end);
    if (start < end) total += end - start;
  }
  return total;
}

double hoursOf(std::chrono::seconds duration) {
  return static_cast<double>(duration.count()) / 3600.0;
}

}  // namespace

std::vector<ParticipantLoad> computeLoad(const Schedule& schedule, Instant from, Instant to) {
  std::vector<ParticipantLoad> load;
  std::unordered_map<std::string_view, size_t> index;
  for (const Participant& participant : schedule.spec().participants) {
    index.emplace(participant.name, load.size());
    load.push_back({participant.name});
  }
  const std::vector<Interval> working = schedule.workingHours(from, to);
  const std::vector<Interval> weekends = schedule.weekends(from, to);
  size_t firstWorking = 0;
  size_t firstWeekend = 0;
  schedule.forEachShift(from, to, [&](const Shift& shift) {
    const auto found = index.find(shift.participant);
    if (found == index.end()) return true;
    ParticipantLoad& entry = load[found->second];
    const std::chrono::seconds length = shift.end - shift.start;
    entry.onCall += length;
    entry.offHours += length - overlap(shift, working, firstWorking);
    entry.weekend += overlap(shift, weekends, firstWeekend);
    return true;
  });
  return load;
}

Balance computeBalance(const Spec& spec, const std::vector<ParticipantLoad>& load) {
  std::vector<const ParticipantLoad*> pool;
  for (const ParticipantLoad& entry : load) {
    const bool member = std::any_of(spec.layers.begin(), spec.layers.end(), [&](const Layer& l) {
      return std::find(l.members.begin(), l.members.end(), entry.participant) != l.members.end();
    });
    if (member) pool.push_back(&entry);
  }
  Balance balance;
  if (pool.empty()) return balance;
  double sum = 0;
  for (const ParticipantLoad* entry : pool) sum += hoursOf(entry->onCall);
  balance.meanHours = sum / static_cast<double>(pool.size());
  if (pool.size() >= 2) {
    double pairs = 0;
    double ratios = 0;
    for (size_t i = 0; i < pool.size(); ++i) {
      for (size_t j = i + 1; j < pool.size(); ++j) {
        const double a = hoursOf(pool[i]->onCall);
        const double b = hoursOf(pool[j]->onCall);
        // Two people with no hours at all carry equal loads.
        ratios += std::max(a, b) == 0 ? 1.0 : std::min(a, b) / std::max(a, b);
        pairs += 1;
      }
    }
    balance.score = ratios / pairs;
  }
  const double limit =
      balance.meanHours *
      (1.0 + static_cast<double>(spec.fairness.allowedImbalanceBasisPoints) / 10000.0);
  for (const ParticipantLoad* entry : pool) {
    // A hair of tolerance so that rounding never flags an exactly fair share.
    if (hoursOf(entry->onCall) > limit + 1e-9) balance.overloaded.push_back(entry->participant);
  }
  return balance;
}

std::string formatHours(std::chrono::seconds duration) {
  // Tenths of an hour, rounded half up, computed on integers so the text is
  // identical on every machine.
  const int64_t tenths = (duration.count() * 10 + 1800) / 3600;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10);
}

std::string formatPercent(double fraction) {
  const int64_t tenths = std::llround(fraction * 1000.0);
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10);
}

}  // namespace relops::oncall
