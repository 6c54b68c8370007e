// Good and bad minutes of a workload SLI, computed by relops from cluster state and kept
// in the SLO's status so they survive an operator restart.
//
// The ledger is a run-length encoded sequence of one-minute slices, oldest first. It is
// bounded: a 90-day window has 129600 minutes, but the ledger keeps at most
// kMaxSegments runs. Past that, the two adjacent runs with the fewest minutes are merged
// into a "mixed" run that keeps its good/bad/unknown counts, so totals stay exact and
// only where a mixed run straddles the window's start is its expiry prorated. Encoded,
// the ledger fits the status field's 32 KiB bound.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "controllers/slo/slo_types.h"
#include "controllers/slo/vocabulary.h"
#include "operator/base/result.h"

namespace relops::slo {

enum class SliceState { kGood, kBad, kUnknown };

std::string_view toString(SliceState state);

// Good while available: a Deployment's Available condition (or minReadyReplicas ready);
// a StatefulSet's or DaemonSet's ready replicas reaching the desired number (or
// minReadyReplicas). `object` is the workload as the API server returns it, nullptr when
// it does not exist — bad time (the issue: a missing workload is bad time plus a condition).
SliceState classifyWorkload(const WorkloadIndicator& indicator, const nlohmann::json* object);

struct SliceTotals {
  int64_t good = 0;
  int64_t bad = 0;
  int64_t unknown = 0;
  friend bool operator==(const SliceTotals&, const SliceTotals&) = default;
};

class TimesliceLedger {
 public:
  static constexpr size_t kMaxSegments = 2048;
  // How long relops may go without an observation and still vouch for the state it last
  // saw: a quick restart carries the state over, a long outage of relops is Unknown.
  static constexpr std::chrono::minutes kDefaultMaxGap{5};

  TimesliceLedger() = default;

  // From status; an absent workload status gives an empty ledger. kConfig when the
  // persisted ledger is malformed (the caller starts afresh and says so in a condition).
  static base::Result<TimesliceLedger> restore(const std::optional<WorkloadStatus>& status);
  WorkloadStatus save() const;
  // A ledger ending at `end` (floored to the minute) with these minutes: unknown first,
  // then good, then bad. What is known of a ledger when only its counts survived.
  static TimesliceLedger fromTotals(const SliceTotals& totals, TimePoint end);

  // Advances the ledger to `now` (floored to the minute). Minutes since the last
  // observation take the state then observed if the gap is at most `maxGap`, else
  // Unknown. `stateNow` holds from `now` on. Minutes older than `window` are dropped.
  // A clock that goes backwards changes nothing but the current state.
  void observe(TimePoint now, SliceState stateNow, const Duration& window,
               std::chrono::minutes maxGap = kDefaultMaxGap);

  SliceTotals totals() const;
  bool empty() const { return !started_; }
  TimePoint start() const { return start_; }
  TimePoint end() const { return end_; }
  SliceState lastState() const { return lastState_; }
  size_t segmentCount() const { return segments_.size(); }
  std::string encode() const;

 private:
  struct Segment {
    int64_t good = 0;
    int64_t bad = 0;
    int64_t unknown = 0;
    int64_t length() const { return good + bad + unknown; }
    bool pure() const { return (good > 0) + (bad > 0) + (unknown > 0) <= 1; }
  };

  void append(SliceState state, int64_t minutes);
  void expireBefore(TimePoint windowStart);
  void compact();

  std::deque<Segment> segments_;
  TimePoint start_{};
  TimePoint end_{};
  SliceState lastState_ = SliceState::kUnknown;
  bool started_ = false;
};

}  // namespace relops::slo
