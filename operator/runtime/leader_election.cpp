#include "operator/runtime/leader_election.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <random>

#include "operator/runtime/event_recorder.h"
#include "operator/runtime/metrics.h"

namespace relops::runtime {

namespace {

using std::chrono::steady_clock;

// client-go's wait.JitterUntil factor while acquiring: standbys spread their
// attempts over [retryPeriod, 2.2 × retryPeriod).
constexpr double kJitterFactor = 1.2;

int leaseSeconds(std::chrono::milliseconds duration) {
  // Lease stores whole seconds; round up so a sub-second test config never
  // writes 0 (which every reader would treat as already expired).
  const auto seconds = (duration.count() + 999) / 1000;
  return static_cast<int>(std::max<int64_t>(1, seconds));
}

base::Error invalid(std::string message) {
  return base::Error(base::ErrorKind::kConfig, "leader election: " + std::move(message));
}

}  // namespace

base::Result<void> validateLeaderElectionConfig(const LeaderElectionConfig& config) {
  using std::chrono::milliseconds;
  if (config.leaseName.empty()) return invalid("lease name is empty");
  if (config.leaseNamespace.empty()) return invalid("lease namespace is empty");
  if (config.identity.empty()) return invalid("identity is empty");
  if (config.leaseDuration <= milliseconds::zero() ||
      config.renewDeadline <= milliseconds::zero() || config.retryPeriod <= milliseconds::zero()) {
    return invalid("durations must be positive");
  }
  if (config.leaseDuration <= config.renewDeadline) {
    return invalid("leaseDuration must be greater than renewDeadline");
  }
  if (static_cast<double>(config.renewDeadline.count()) <=
      kJitterFactor * static_cast<double>(config.retryPeriod.count())) {
    return invalid("renewDeadline must be greater than 1.2 × retryPeriod");
  }
  return base::Ok{};
}

std::string makeLeaderIdentity() {
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  std::string hostname = host.data();
  if (hostname.empty()) hostname = "relops";
  std::random_device random;
  std::array<uint32_t, 4> words{random(), random(), random(), random()};
  // A version-4 UUID.
  words[1] = (words[1] & 0xffff0fffu) | 0x00004000u;
  words[2] = (words[2] & 0x3fffffffu) | 0x80000000u;
  char uuid[40];
  std::snprintf(uuid, sizeof uuid, "%08x-%04x-%04x-%04x-%04x%08x", words[0], words[1] >> 16,
                words[1] & 0xffffu, words[2] >> 16, words[2] & 0xffffu, words[3]);
  return hostname + "_" + uuid;
}

LeaseRecord leaseRecordFromLease(const nlohmann::json& lease) {
  LeaseRecord record;
  const auto spec = lease.find("spec");
  if (spec == lease.end() || !spec->is_object()) return record;
  const auto text = [&](const char* field) {
    const auto it = spec->find(field);
    return it != spec->end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const auto number = [&](const char* field) {
    const auto it = spec->find(field);
    return it != spec->end() && it->is_number_integer() ? it->get<int>() : 0;
  };
  record.holderIdentity = text("holderIdentity");
  record.leaseDurationSeconds = number("leaseDurationSeconds");
  record.acquireTime = text("acquireTime");
  record.renewTime = text("renewTime");
  record.leaseTransitions = number("leaseTransitions");
  return record;
}

void setLeaseRecord(nlohmann::json& lease, const LeaseRecord& record) {
  nlohmann::json& spec = lease["spec"];
  if (!spec.is_object()) spec = nlohmann::json::object();
  spec["holderIdentity"] = record.holderIdentity;
  spec["leaseDurationSeconds"] = record.leaseDurationSeconds;
  spec["acquireTime"] = record.acquireTime;
  spec["renewTime"] = record.renewTime;
  spec["leaseTransitions"] = record.leaseTransitions;
}

std::string_view toString(LeaderAction action) {
  switch (action) {
    case LeaderAction::kCreate:
      return "create";
    case LeaderAction::kTakeOver:
      return "take_over";
    case LeaderAction::kRenew:
      return "renew";
    case LeaderAction::kWait:
      return "wait";
    case LeaderAction::kStopLeading:
      return "stop_leading";
  }
  return "unknown";
}

LeaderDecision decideLeadership(const LeaderElectionConfig& config, const LeaderState& state,
                                LeaseRead read, const std::optional<LeaseRecord>& current,
                                steady_clock::time_point now, const std::string& nowMicroTime) {
  LeaderDecision decision;
  decision.observed = state.observed;
  decision.observedAt = state.observedAt;
  // client-go restarts its expiry clock only when the record it reads differs
  // from the one it saw before (observedRawRecord / observedTime).
  if (read == LeaseRead::kFound && current && (!state.observed || *state.observed != *current)) {
    decision.observed = current;
    decision.observedAt = now;
  } else if (read == LeaseRead::kNotFound) {
    decision.observed.reset();
    decision.observedAt = now;
  }

  LeaseRecord mine;
  mine.holderIdentity = config.identity;
  mine.leaseDurationSeconds = leaseSeconds(config.leaseDuration);
  mine.acquireTime = nowMicroTime;
  mine.renewTime = nowMicroTime;

  // Checked first: past the deadline a renewal could land after a standby
  // has already (correctly) judged the lease expired.
  if (state.leading && now - state.lastRenew >= config.renewDeadline) {
    decision.action = LeaderAction::kStopLeading;
    decision.reason = "no successful renewal within renewDeadline";
    return decision;
  }
  if (read == LeaseRead::kFailed) {
    decision.action = LeaderAction::kWait;
    decision.reason = "lease could not be read";
    return decision;
  }
  if (read == LeaseRead::kNotFound || !current) {
    decision.action = LeaderAction::kCreate;
    decision.desired = mine;
    decision.reason = "lease does not exist";
    return decision;
  }
  if (current->holderIdentity == config.identity) {
    decision.action = LeaderAction::kRenew;
    decision.desired = mine;
    decision.desired.acquireTime = current->acquireTime;
    decision.desired.leaseTransitions = current->leaseTransitions;
    decision.reason = "lease is held by us";
    return decision;
  }
  const bool valid =
      decision.observedAt + std::chrono::seconds(current->leaseDurationSeconds) > now;
  if (!current->holderIdentity.empty() && valid) {
    if (state.leading) {
      // client-go keeps retrying until renewDeadline here; a lease held by
      // someone else can only mean we lost it, so stepping down at once is
      // the safer reading.
      decision.action = LeaderAction::kStopLeading;
      decision.reason = "lease is held by " + current->holderIdentity;
      return decision;
    }
    decision.action = LeaderAction::kWait;
    decision.reason = "lease is held by " + current->holderIdentity + " and has not expired";
    return decision;
  }
  decision.action = LeaderAction::kTakeOver;
  decision.desired = mine;
  decision.desired.leaseTransitions = current->leaseTransitions + 1;
  decision.reason = current->holderIdentity.empty()
                        ? "lease was released"
                        : "lease held by " + current->holderIdentity + " expired";
  return decision;
}

std::chrono::milliseconds nextAttemptDelay(const LeaderElectionConfig& config,
                                           const LeaderState& state, steady_clock::time_point now,
                                           double jitter) {
  using std::chrono::milliseconds;
  if (state.leading) return config.retryPeriod;
  // client-go's wait.JitterUntil while acquiring: standbys spread their
  // attempts so they do not hit the API server in lockstep.
  const auto period = static_cast<double>(config.retryPeriod.count());
  milliseconds delay(static_cast<int64_t>(period * (1.0 + kJitterFactor * jitter)));
  if (state.observed && !state.observed->holderIdentity.empty() &&
      state.observed->holderIdentity != config.identity) {
    const auto expiry =
        state.observedAt + std::chrono::seconds(state.observed->leaseDurationSeconds);
    // Just after expiry, still spread a little (a tenth of the period) so the
    // standbys do not all race for the same resourceVersion at once.
    const auto untilExpiry =
        std::chrono::ceil<milliseconds>(std::max(expiry - now, steady_clock::duration::zero())) +
        milliseconds(static_cast<int64_t>(period * 0.1 * jitter));
    delay = std::min(delay, untilExpiry);
  }
  return delay;
}

LeaderElector::LeaderElector(kube::Client& client, const base::Clock& clock,
                             LeaderElectionConfig config, LeaderCallbacks callbacks,
                             Registry* metrics, Logger log)
    : client_(client),
      clock_(clock),
      config_(std::move(config)),
      callbacks_(std::move(callbacks)),
      log_(log.named("leader-election")
               .with({{"lease", config_.leaseNamespace + "/" + config_.leaseName},
                      {"identity", config_.identity}})) {
  if (metrics != nullptr) {
    // controller-runtime's pkg/metrics/leaderelection.go, same name, help and label.
    masterStatus_ = &metrics
                         ->gauge("leader_election_master_status",
                                 "Gauge of if the reporting system is master of the relevant "
                                 "lease, 0 indicates backup, 1 indicates master. 'name' is the "
                                 "string used to identify the lease. Please make sure to group "
                                 "by name.",
                                 {"name"})
                         .with({config_.leaseName});
    masterStatus_->set(0);
  }
}

LeaderElector::~LeaderElector() { stop(); }

void LeaderElector::start() {
  {
    std::lock_guard lock(wakeMutex_);
    if (loopThread_.joinable() || stopping_) return;
  }
  log_.info("attempting to acquire leader lease");
  loopThread_ = std::thread([this] { loop(); });
  watchdogThread_ = std::thread([this] { watchdog(); });
}

void LeaderElector::stop() {
  {
    std::lock_guard lock(wakeMutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (loopThread_.joinable() && loopThread_.get_id() != std::this_thread::get_id()) {
    loopThread_.join();
  }
  if (watchdogThread_.joinable() && watchdogThread_.get_id() != std::this_thread::get_id()) {
    watchdogThread_.join();
  }
}

void LeaderElector::loop() {
  while (true) {
    tryAcquireOrRenew();
    if (lost()) return;  // like client-go's Run: an elector leads at most once
    static thread_local std::mt19937 random{std::random_device{}()};
    LeaderState state;
    {
      std::lock_guard lock(mutex_);
      state = state_;
    }
    const std::chrono::milliseconds delay =
        nextAttemptDelay(config_, state, clock_.steadyNow(),
                         std::uniform_real_distribution<double>(0.0, 1.0)(random));
    std::unique_lock lock(wakeMutex_);
    if (wake_.wait_for(lock, delay, [this] { return stopping_; })) return;
  }
}

void LeaderElector::watchdog() {
  const auto interval = std::clamp(config_.retryPeriod / 10, std::chrono::milliseconds(10),
                                   std::chrono::milliseconds(250));
  while (true) {
    {
      std::unique_lock lock(wakeMutex_);
      if (wake_.wait_for(lock, interval, [this] { return stopping_; })) return;
    }
    checkRenewDeadline();
    if (lost()) return;
  }
}

void LeaderElector::checkRenewDeadline() {
  bool expired = false;
  {
    std::lock_guard lock(mutex_);
    expired = state_.leading && clock_.steadyNow() - state_.lastRenew >= config_.renewDeadline;
  }
  if (expired) stopLeading("no successful renewal within renewDeadline");
}

LeaderAction LeaderElector::tryAcquireOrRenew() {
  const steady_clock::time_point now = clock_.steadyNow();
  const std::string nowMicroTime = formatMicroTime(clock_.now());
  const kube::ObjectKey key{config_.leaseNamespace, config_.leaseName};

  LeaderState state;
  std::optional<nlohmann::json> cached;
  {
    std::lock_guard lock(mutex_);
    if (lost_) return LeaderAction::kStopLeading;
    state = state_;
    cached = lease_;
  }

  // Fast path (client-go): the leader renews from its cached Lease without a
  // GET; if that fails it falls back to reading the Lease.
  if (state.leading && cached && state.observed) {
    const LeaderDecision decision =
        decideLeadership(config_, state, LeaseRead::kFound, state.observed, now, nowMicroTime);
    if (decision.action == LeaderAction::kStopLeading) {
      stopLeading(decision.reason);
      return decision.action;
    }
    if (decision.action == LeaderAction::kRenew && write(decision, now)) return decision.action;
  }

  base::Result<nlohmann::json> read = client_.get(kube::resources::kLeases, key);
  LeaseRead outcome = LeaseRead::kFound;
  std::optional<LeaseRecord> current;
  if (read.ok()) {
    current = leaseRecordFromLease(*read);
    std::lock_guard lock(mutex_);
    lease_ = *read;
  } else if (read.error().kind() == base::ErrorKind::kNotFound) {
    outcome = LeaseRead::kNotFound;
  } else {
    outcome = LeaseRead::kFailed;
    log_.warn("error retrieving lease", {{"error", read.error().describe()}});
  }

  {
    std::lock_guard lock(mutex_);
    if (lost_) return LeaderAction::kStopLeading;
    state = state_;
  }
  const LeaderDecision decision =
      decideLeadership(config_, state, outcome, current, now, nowMicroTime);
  observe(decision);
  switch (decision.action) {
    case LeaderAction::kCreate:
    case LeaderAction::kTakeOver:
    case LeaderAction::kRenew:
      if (!write(decision, now)) return LeaderAction::kWait;
      break;
    case LeaderAction::kStopLeading:
      stopLeading(decision.reason);
      break;
    case LeaderAction::kWait:
      log_.debug("lease not acquired", {{"reason", decision.reason}});
      break;
  }
  return decision.action;
}

bool LeaderElector::write(const LeaderDecision& decision, steady_clock::time_point now) {
  base::Result<nlohmann::json> written = base::Error(base::ErrorKind::kInternal, "not written");
  if (decision.action == LeaderAction::kCreate) {
    nlohmann::json lease = {
        {"apiVersion", kube::resources::kLeases.apiVersion()},
        {"kind", kube::resources::kLeases.kind},
        {"metadata", {{"namespace", config_.leaseNamespace}, {"name", config_.leaseName}}}};
    setLeaseRecord(lease, decision.desired);
    written = client_.create(kube::resources::kLeases, lease);
  } else {
    nlohmann::json lease;
    {
      std::lock_guard lock(mutex_);
      if (!lease_) return false;
      lease = *lease_;
    }
    // The update carries the resourceVersion we read: if anyone wrote in
    // between, the API server answers Conflict and we did not win.
    setLeaseRecord(lease, decision.desired);
    written = client_.update(kube::resources::kLeases, lease);
  }
  if (!written.ok()) {
    const base::Error& error = written.error();
    if (error.kind() == base::ErrorKind::kConflict ||
        error.kind() == base::ErrorKind::kAlreadyExists) {
      log_.debug("lost the race for the lease",
                 {{"action", std::string(toString(decision.action))}});
    } else {
      log_.warn("failed to write lease",
                {{"action", std::string(toString(decision.action))}, {"error", error.describe()}});
    }
    if (decision.action != LeaderAction::kCreate) {
      // Re-read next time rather than retry with a version we know is stale.
      std::lock_guard lock(mutex_);
      if (error.kind() == base::ErrorKind::kConflict) lease_.reset();
    }
    return false;
  }
  succeeded(decision, std::move(written).value(), now);
  return true;
}

void LeaderElector::observe(const LeaderDecision& decision) {
  std::string newLeader;
  {
    std::lock_guard lock(mutex_);
    state_.observed = decision.observed;
    state_.observedAt = decision.observedAt;
    const std::string holder = decision.observed ? decision.observed->holderIdentity : "";
    if (holder != reportedLeader_) {
      reportedLeader_ = holder;
      newLeader = holder;
    }
  }
  if (!newLeader.empty()) {
    log_.info("new leader observed", {{"leader", newLeader}});
    if (callbacks_.onNewLeader) callbacks_.onNewLeader(newLeader);
  }
}

void LeaderElector::succeeded(const LeaderDecision& decision, nlohmann::json lease,
                              steady_clock::time_point now) {
  bool started = false;
  bool newLeader = false;
  {
    std::lock_guard lock(mutex_);
    if (lost_) return;  // the watchdog already gave up; never lead again
    started = !state_.leading;
    state_.leading = true;
    state_.observed = decision.desired;
    state_.observedAt = now;
    state_.lastRenew = now;
    lease_ = std::move(lease);
    newLeader = reportedLeader_ != config_.identity;
    reportedLeader_ = config_.identity;
  }
  if (newLeader && callbacks_.onNewLeader) callbacks_.onNewLeader(config_.identity);
  if (started) {
    if (masterStatus_ != nullptr) masterStatus_->set(1);
    log_.info("successfully acquired lease", {{"action", std::string(toString(decision.action))}});
    if (callbacks_.onStartedLeading) callbacks_.onStartedLeading();
  }
}

void LeaderElector::stopLeading(const std::string& reason) {
  {
    std::lock_guard lock(mutex_);
    if (lost_ || !state_.leading) return;
    lost_ = true;
    state_.leading = false;
  }
  if (masterStatus_ != nullptr) masterStatus_->set(0);
  log_.error("leader election lost", {{"reason", reason}});
  wake_.notify_all();
  if (callbacks_.onStoppedLeading) callbacks_.onStoppedLeading();
}

base::Result<void> LeaderElector::release() {
  stop();
  nlohmann::json lease;
  LeaseRecord record;
  {
    std::lock_guard lock(mutex_);
    if (!state_.leading || !lease_) return base::Ok{};
    lease = *lease_;
    record.leaseTransitions = state_.observed ? state_.observed->leaseTransitions : 0;
  }
  // client-go's release(): no holder, leaseDurationSeconds 1, times now.
  record.leaseDurationSeconds = 1;
  record.acquireTime = record.renewTime = formatMicroTime(clock_.now());
  setLeaseRecord(lease, record);
  base::Result<nlohmann::json> written = client_.update(kube::resources::kLeases, lease);
  if (!written.ok()) {
    log_.error("failed to release lease", {{"error", written.error().describe()}});
    return std::move(written).error().context("release lease " + config_.leaseNamespace + "/" +
                                              config_.leaseName);
  }
  {
    std::lock_guard lock(mutex_);
    state_.leading = false;
    state_.observed = record;
    state_.observedAt = clock_.steadyNow();
    lease_ = std::move(written).value();
  }
  if (masterStatus_ != nullptr) masterStatus_->set(0);
  log_.info("released leader lease");
  return base::Ok{};
}

bool LeaderElector::isLeader() const {
  std::lock_guard lock(mutex_);
  return state_.leading;
}

bool LeaderElector::lost() const {
  std::lock_guard lock(mutex_);
  return lost_;
}

std::string LeaderElector::leader() const {
  std::lock_guard lock(mutex_);
  return state_.observed ? state_.observed->holderIdentity : "";
}

base::Result<void> LeaderElector::healthCheck(std::chrono::milliseconds tolerance) const {
  std::lock_guard lock(mutex_);
  if (!state_.leading) return base::Ok{};  // a standby is healthy
  if (clock_.steadyNow() - state_.lastRenew > config_.leaseDuration + tolerance) {
    return base::Error(base::ErrorKind::kInternal,
                       "failed election to renew leadership on lease " + config_.leaseName);
  }
  return base::Ok{};
}

}  // namespace relops::runtime
