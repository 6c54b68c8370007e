#include "controllers/slo/timeslices.h"

#include <algorithm>
#include <vector>

namespace relops::slo {
namespace {

using std::chrono::minutes;

TimePoint floorMinute(TimePoint time) {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::floor<minutes>(time));
}

bool conditionTrue(const nlohmann::json& status, std::string_view type) {
  const auto conditions = status.find("conditions");
  if (conditions == status.end() || !conditions->is_array()) return false;
  for (const auto& condition : *conditions) {
    if (condition.is_object() && condition.value("type", "") == type) {
      return condition.value("status", "") == "True";
    }
  }
  return false;
}

int64_t intField(const nlohmann::json& object, std::string_view key, int64_t fallback) {
  const auto found = object.find(key);
  return (found != object.end() && found->is_number_integer()) ? found->get<int64_t>() : fallback;
}

}  // namespace

std::string_view toString(SliceState state) {
  switch (state) {
    case SliceState::kGood:
      return "Good";
    case SliceState::kBad:
      return "Bad";
    case SliceState::kUnknown:
      return "Unknown";
  }
  return "Unknown";
}

SliceState classifyWorkload(const WorkloadIndicator& indicator, const nlohmann::json* object) {
  if (object == nullptr || !object->is_object()) return SliceState::kBad;
  static const nlohmann::json kEmpty = nlohmann::json::object();
  const auto specIt = object->find("spec");
  const auto statusIt = object->find("status");
  const nlohmann::json& spec = specIt != object->end() && specIt->is_object() ? *specIt : kEmpty;
  const nlohmann::json& status =
      statusIt != object->end() && statusIt->is_object() ? *statusIt : kEmpty;
  int64_t ready = 0;
  int64_t desired = 0;
  switch (indicator.kind) {
    case WorkloadKind::kDeployment:
      if (!indicator.minReadyReplicas) {
        return conditionTrue(status, "Available") ? SliceState::kGood : SliceState::kBad;
      }
      ready = intField(status, "readyReplicas", 0);
      break;
    case WorkloadKind::kStatefulSet:
      ready = intField(status, "readyReplicas", 0);
      desired = intField(spec, "replicas", 1);
      break;
    case WorkloadKind::kDaemonSet:
      ready = intField(status, "numberReady", 0);
      desired = intField(status, "desiredNumberScheduled", 0);
      break;
  }
  if (indicator.minReadyReplicas) desired = *indicator.minReadyReplicas;
  return ready >= desired ? SliceState::kGood : SliceState::kBad;
}

base::Result<TimesliceLedger> TimesliceLedger::restore(
    const std::optional<WorkloadStatus>& status) {
  TimesliceLedger ledger;
  if (!status || status->lastObservedTime.empty()) return ledger;
  auto fail = [](std::string why) {
    return base::Error(base::ErrorKind::kConfig, "status.workload: " + why);
  };
  auto start = parseRfc3339(status->ledgerStart, "status.workload.ledgerStart");
  if (!start) return std::move(start).error();
  auto end = parseRfc3339(status->lastObservedTime, "status.workload.lastObservedTime");
  if (!end) return std::move(end).error();
  ledger.start_ = floorMinute(*start);
  ledger.end_ = floorMinute(*end);
  ledger.started_ = true;
  if (status->lastObservedState == "Good") {
    ledger.lastState_ = SliceState::kGood;
  } else if (status->lastObservedState == "Bad") {
    ledger.lastState_ = SliceState::kBad;
  } else {
    ledger.lastState_ = SliceState::kUnknown;
  }
  const std::string& text = status->ledger;
  size_t pos = 0;
  auto number = [&](int64_t& out) {
    const size_t begin = pos;
    out = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && pos - begin < 12) {
      out = out * 10 + (text[pos++] - '0');
    }
    return pos > begin;
  };
  while (pos < text.size()) {
    const char tag = text[pos++];
    Segment segment;
    int64_t count = 0;
    bool ok = false;
    switch (tag) {
      case 'g':
        ok = number(segment.good);
        break;
      case 'b':
        ok = number(segment.bad);
        break;
      case 'u':
        ok = number(segment.unknown);
        break;
      case 'm':
        ok = number(segment.good) && pos < text.size() && text[pos++] == '.' &&
             number(segment.bad) && pos < text.size() && text[pos++] == '.' &&
             number(segment.unknown);
        break;
      default:
        break;
    }
    count = segment.length();
    if (!ok || count <= 0) return fail("malformed ledger at offset " + std::to_string(pos));
    ledger.segments_.push_back(segment);
    if (ledger.segments_.size() > kMaxSegments) return fail("ledger longer than its bound");
  }
  const SliceTotals sum = ledger.totals();
  const int64_t span = std::chrono::duration_cast<minutes>(ledger.end_ - ledger.start_).count();
  if (sum.good + sum.bad + sum.unknown != span) {
    return fail("the ledger covers " + std::to_string(sum.good + sum.bad + sum.unknown) +
                " minutes, but ledgerStart to lastObservedTime is " + std::to_string(span));
  }
  return ledger;
}

WorkloadStatus TimesliceLedger::save() const {
  WorkloadStatus status;
  if (!started_) return status;
  const SliceTotals sum = totals();
  status.goodMinutes = sum.good;
  status.badMinutes = sum.bad;
  status.unknownMinutes = sum.unknown;
  status.ledgerStart = formatRfc3339(start_);
  status.lastObservedTime = formatRfc3339(end_);
  status.lastObservedState = std::string(toString(lastState_));
  status.ledger = encode();
  return status;
}

void TimesliceLedger::observe(TimePoint now, SliceState stateNow, const Duration& window,
                              minutes maxGap) {
  const TimePoint minute = floorMinute(now);
  if (!started_) {
    start_ = end_ = minute;
    started_ = true;
  } else if (minute > end_) {
    const int64_t gap = std::chrono::duration_cast<minutes>(minute - end_).count();
    append(gap <= maxGap.count() ? lastState_ : SliceState::kUnknown, gap);
    end_ = minute;
  }
  lastState_ = stateNow;
  expireBefore(minute - window.value());
  compact();
}

TimesliceLedger TimesliceLedger::fromTotals(const SliceTotals& totals, TimePoint end) {
  TimesliceLedger ledger;
  ledger.append(SliceState::kUnknown, totals.unknown);
  ledger.append(SliceState::kGood, totals.good);
  ledger.append(SliceState::kBad, totals.bad);
  ledger.end_ = floorMinute(end);
  ledger.start_ = ledger.end_ - minutes(totals.good + totals.bad + totals.unknown);
  ledger.started_ = true;
  return ledger;
}

SliceTotals TimesliceLedger::totals() const {
  SliceTotals sum;
  for (const Segment& segment : segments_) {
    sum.good += segment.good;
    sum.bad += segment.bad;
    sum.unknown += segment.unknown;
  }
  return sum;
}

std::string TimesliceLedger::encode() const {
  std::string text;
  for (const Segment& segment : segments_) {
    if (!segment.pure()) {
      text += "m" + std::to_string(segment.good) + "." + std::to_string(segment.bad) + "." +
              std::to_string(segment.unknown);
    } else if (segment.good > 0) {
      text += "g" + std::to_string(segment.good);
    } else if (segment.bad > 0) {
      text += "b" + std::to_string(segment.bad);
    } else {
      text += "u" + std::to_string(segment.unknown);
    }
  }
  return text;
}

void TimesliceLedger::append(SliceState state, int64_t count) {
  if (count <= 0) return;
  Segment segment;
  (state == SliceState::kGood  ? segment.good
   : state == SliceState::kBad ? segment.bad
                               : segment.unknown) = count;
  if (!segments_.empty()) {
    Segment& last = segments_.back();
    const bool same =
        last.pure() && ((segment.good > 0 && last.good > 0) || (segment.bad > 0 && last.bad > 0) ||
                        (segment.unknown > 0 && last.unknown > 0));
    if (same) {
      last.good += segment.good;
      last.bad += segment.bad;
      last.unknown += segment.unknown;
      return;
    }
  }
  segments_.push_back(segment);
}

void TimesliceLedger::expireBefore(TimePoint windowStart) {
  while (start_ < windowStart && !segments_.empty()) {
    Segment& front = segments_.front();
    const int64_t length = front.length();
    const int64_t drop =
        std::min(length, std::chrono::duration_cast<minutes>(windowStart - start_).count());
    start_ += minutes(drop);
    if (drop == length) {
      segments_.pop_front();
      continue;
    }
    // Prorate: a pure run loses exactly `drop` minutes; a mixed one keeps its proportions.
    const int64_t kept = length - drop;
    const int64_t bad = front.bad * kept / length;
    const int64_t unknown = front.unknown * kept / length;
    front.bad = bad;
    front.unknown = unknown;
    front.good = kept - bad - unknown;
  }
  if (segments_.empty() && start_ < end_) start_ = end_;
}

void TimesliceLedger::compact() {
  if (segments_.size() <= kMaxSegments) return;
  // Amortized: one pass brings the ledger down to three quarters of its bound by merging
  // the adjacent pairs with the fewest minutes (ties: the oldest first), so a flapping
  // workload costs O(1) per observation on average and short runs go first.
  const size_t target = kMaxSegments * 3 / 4;
  const size_t merges = segments_.size() - target;
  std::vector<int64_t> pairLengths;
  pairLengths.reserve(segments_.size());
  for (size_t i = 0; i + 1 < segments_.size(); ++i) {
    pairLengths.push_back(segments_[i].length() + segments_[i + 1].length());
  }
  std::vector<int64_t> sorted = pairLengths;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(merges - 1),
                   sorted.end());
  int64_t threshold = sorted[merges - 1];
  size_t merged = 0;
  // A pass may fall short (merged pairs cannot overlap); raise the threshold and repeat.
  while (segments_.size() > target) {
    std::deque<Segment> out;
    for (size_t i = 0; i < segments_.size(); ++i) {
      if (segments_.size() - merged > target && i + 1 < segments_.size() &&
          segments_[i].length() + segments_[i + 1].length() <= threshold) {
        Segment segment = segments_[i];
        segment.good += segments_[i + 1].good;
        segment.bad += segments_[i + 1].bad;
        segment.unknown += segments_[i + 1].unknown;
        out.push_back(segment);
        ++i;
        ++merged;
      } else {
        out.push_back(segments_[i]);
      }
    }
    segments_ = std::move(out);
    merged = 0;
    threshold *= 2;
  }
}

}  // namespace relops::slo
