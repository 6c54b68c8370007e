// Leader election on a coordination.k8s.io/v1 Lease, with client-go's
// semantics (k8s.io/client-go/tools/leaderelection) so relops replicas behave
// like every other controller a platform team runs:
//   - defaults leaseDuration 15 s, renewDeadline 10 s, retryPeriod 2 s;
//   - a lease is free when absent, held by us, released (empty holder), or
//     expired by LOCAL observation: leaseDurationSeconds after this process
//     last saw the record change. The renewTime written by another machine's
//     clock is never compared with ours, so clock skew between nodes cannot
//     hand the lease to two replicas;
//   - every write is an update guarded by metadata.resourceVersion: a
//     Conflict means another replica won the race;
//   - leaseTransitions is incremented on a takeover, kept on a renewal;
//   - the leader renews every retryPeriod; if no renewal succeeds for
//     renewDeadline it stops leading (onStoppedLeading; main exits);
//   - release() on graceful shutdown writes an empty holder with
//     leaseDurationSeconds 1, as client-go's ReleaseOnCancel, so a standby
//     takes over at once instead of after leaseDuration.
// The decision is the pure function decideLeadership(); LeaderElector is the
// thin loop around it that reads and writes the Lease.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "operator/base/clock.h"
#include "operator/base/result.h"
#include "operator/kube/client.h"
#include "operator/runtime/log.h"

namespace relops::runtime {

class Registry;
class Gauge;

struct LeaderElectionConfig {
  std::string leaseNamespace;
  std::string leaseName;
  std::string identity;  // unique per process: makeLeaderIdentity()
  std::chrono::milliseconds leaseDuration{15'000};
  std::chrono::milliseconds renewDeadline{10'000};
  std::chrono::milliseconds retryPeriod{2'000};
};

// client-go's NewLeaderElector checks: leaseDuration > renewDeadline >
// 1.2 × retryPeriod (the acquire jitter factor), names and identity set.
base::Result<void> validateLeaderElectionConfig(const LeaderElectionConfig& config);

// hostname + "_" + a random UUID, as controller-runtime builds its identity:
// two replicas on one node (or a restarted pod) never share it.
std::string makeLeaderIdentity();

// The Lease spec fields leader election uses (client-go's LeaderElectionRecord).
struct LeaseRecord {
  std::string holderIdentity;
  int leaseDurationSeconds = 0;
  std::string acquireTime;  // MicroTime as written; only ever compared for change
  std::string renewTime;
  int leaseTransitions = 0;

  bool operator==(const LeaseRecord&) const = default;
};

LeaseRecord leaseRecordFromLease(const nlohmann::json& lease);
// Writes `record` into the lease object's spec.
void setLeaseRecord(nlohmann::json& lease, const LeaseRecord& record);

enum class LeaderAction {
  kCreate,       // no Lease yet: create it holding it
  kTakeOver,     // free or expired: update it to us, leaseTransitions + 1
  kRenew,        // ours: update renewTime
  kWait,         // held by someone else and still valid, or unreadable
  kStopLeading,  // we were leading and can no longer claim to be
};
std::string_view toString(LeaderAction action);

// What the elector remembers between attempts.
struct LeaderState {
  bool leading = false;
  std::optional<LeaseRecord> observed;               // the record last seen
  std::chrono::steady_clock::time_point observedAt;  // local time `observed` last changed
  std::chrono::steady_clock::time_point lastRenew;   // start of the last successful write
};

// The outcome of reading the Lease this attempt.
enum class LeaseRead { kFound, kNotFound, kFailed };

struct LeaderDecision {
  LeaderAction action = LeaderAction::kWait;
  LeaseRecord desired;  // the record to write for kCreate, kTakeOver, kRenew
  // The observation after this read, to store back into LeaderState.
  std::optional<LeaseRecord> observed;
  std::chrono::steady_clock::time_point observedAt;
  std::string reason;  // for logs
};

// The pure decision: the state so far, what was read now (`current` is set
// when read is kFound), the local monotonic time and the wall time to write
// as MicroTime.
LeaderDecision decideLeadership(const LeaderElectionConfig& config, const LeaderState& state,
                                LeaseRead read, const std::optional<LeaseRecord>& current,
                                std::chrono::steady_clock::time_point now,
                                const std::string& nowMicroTime);

// How long the loop waits before its next attempt. While leading: the
// retryPeriod (client-go's renew loop). While standing by: client-go's
// jittered retryPeriod × [1, 2.2), except that the attempt is never put off
// past the moment the observed lease expires by local observation; a dead
// leader is then replaced as soon as the rules allow, not up to 4.4 s later.
// `jitter` is a draw from [0, 1).
std::chrono::milliseconds nextAttemptDelay(const LeaderElectionConfig& config,
                                           const LeaderState& state,
                                           std::chrono::steady_clock::time_point now,
                                           double jitter);

// Callbacks run on the elector's threads: keep them short, and signal the
// main thread rather than calling stop() or release() from inside them.
struct LeaderCallbacks {
  // Called once, when this process becomes leader. Start the controllers
  // from here (hand them to another thread; do not block).
  std::function<void()> onStartedLeading;
  // Called once when leadership is LOST (renew deadline passed, or another
  // holder seen); possibly from the watchdog while a renewal still hangs.
  // Not called by release(). The process should exit: its controllers may no
  // longer act.
  std::function<void()> onStoppedLeading;
  // Called when the observed holder changes (including the first one seen).
  std::function<void(const std::string& identity)> onNewLeader;
};

class LeaderElector {
 public:
  // `client`, `clock` and `metrics` (optional) must outlive the elector.
  LeaderElector(kube::Client& client, const base::Clock& clock, LeaderElectionConfig config,
                LeaderCallbacks callbacks, Registry* metrics = nullptr,
                Logger log = discardLogger());
  ~LeaderElector();  // stop(), without release
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Runs the acquire/renew loop and the renew-deadline watchdog on their own
  // threads until stop() or until leadership is lost.
  void start();
  // Stops the loop (no more renewals). Idempotent.
  void stop();
  // Graceful shutdown, after the work guarded by the lease has stopped: stops
  // the loop and, if leading, writes an empty holder with leaseDurationSeconds
  // 1 so a standby takes over immediately (client-go ReleaseOnCancel).
  base::Result<void> release();

  bool isLeader() const;
  bool lost() const;
  std::string leader() const;  // the last observed holder, "" if none
  const std::string& identity() const { return config_.identity; }

  // For /healthz (client-go's HealthzAdaptor): fails when this process thinks
  // it leads but has not renewed for leaseDuration + tolerance, i.e. it is
  // wedged and should be restarted.
  base::Result<void> healthCheck(
      std::chrono::milliseconds tolerance = std::chrono::seconds(20)) const;

  // One attempt, as the loop makes every retryPeriod. Public for tests.
  LeaderAction tryAcquireOrRenew();
  // The watchdog's check: stops leading once renewDeadline has passed since
  // the last successful renewal, even while a request hangs. Public for tests.
  void checkRenewDeadline();

 private:
  void loop();
  void watchdog();
  bool write(const LeaderDecision& decision, std::chrono::steady_clock::time_point now);
  void observe(const LeaderDecision& decision);
  void succeeded(const LeaderDecision& decision, nlohmann::json lease,
                 std::chrono::steady_clock::time_point now);
  void stopLeading(const std::string& reason);

  kube::Client& client_;
  const base::Clock& clock_;
  const LeaderElectionConfig config_;
  const LeaderCallbacks callbacks_;
  Gauge* masterStatus_ = nullptr;
  Logger log_;

  mutable std::mutex mutex_;
  LeaderState state_;
  std::optional<nlohmann::json> lease_;  // the Lease as last read or written (resourceVersion)
  std::string reportedLeader_;
  bool lost_ = false;

  std::mutex wakeMutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread loopThread_;
  std::thread watchdogThread_;
};

}  // namespace relops::runtime
