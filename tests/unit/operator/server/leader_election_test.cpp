// Leader election: the decision as a table, then the elector around it
// against the FakeClient, stepped by hand with a FakeClock, and once with
// real threads.
#include "operator/runtime/leader_election.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "operator/runtime/metrics.h"
#include "tests/support/fake_client.h"
#include "tests/support/fake_clock.h"

namespace relops::runtime {
namespace {

using namespace std::chrono_literals;
using relops::testing::FakeClient;
using relops::testing::FakeClock;
using std::chrono::steady_clock;
using ::testing::HasSubstr;
using ::testing::StartsWith;
namespace resources = kube::resources;

constexpr char kMe[] = "me";
constexpr char kOther[] = "other";
constexpr char kNow[] = "2024-05-01T12:00:00.000000Z";

LeaderElectionConfig config(std::string identity = kMe) {
  LeaderElectionConfig result;
  result.leaseNamespace = "relops-system";
  result.leaseName = "relops-leader";
  result.identity = std::move(identity);
  return result;
}

LeaseRecord held(std::string holder, std::string renewTime = "2024-05-01T11:59:58.000000Z",
                 int transitions = 3, int durationSeconds = 15) {
  return {std::move(holder), durationSeconds, "2024-05-01T10:00:00.000000Z", std::move(renewTime),
          transitions};
}

const steady_clock::time_point kT0 = steady_clock::time_point{} + 1000s;

// --- the decision table ---

struct DecisionCase {
  std::string name;
  LeaderState state;
  LeaseRead read;
  std::optional<LeaseRecord> current;
  std::chrono::seconds now;  // since kT0
  LeaderAction want;
  std::optional<LeaseRecord> wantDesired = std::nullopt;
  bool wantObservationRestarted = false;
};

// gtest prints a parameter when it lists tests; the case name is what helps.
void PrintTo(const DecisionCase& c, std::ostream* os) { *os << c.name; }

LeaderState standby(std::optional<LeaseRecord> observed = std::nullopt) {
  LeaderState state;
  state.observed = std::move(observed);
  state.observedAt = kT0;
  return state;
}

LeaderState leading(LeaseRecord observed, std::chrono::seconds lastRenew = 0s) {
  LeaderState state;
  state.leading = true;
  state.observed = std::move(observed);
  state.observedAt = kT0 + lastRenew;
  state.lastRenew = kT0 + lastRenew;
  return state;
}

std::vector<DecisionCase> decisionCases() {
  const LeaseRecord mine = held(kMe);
  const LeaseRecord others = held(kOther);
  return {
      {"AbsentLeaseIsCreated", standby(), LeaseRead::kNotFound, std::nullopt, 0s,
       LeaderAction::kCreate, LeaseRecord{kMe, 15, kNow, kNow, 0}, true},
      {"FirstSightOfAnotherHolderWaitsEvenIfItsRenewTimeIsAncient", standby(), LeaseRead::kFound,
       held(kOther, "2001-01-01T00:00:00.000000Z"), 0s, LeaderAction::kWait, std::nullopt, true},
      {"UnchangedForLessThanLeaseDurationWaits", standby(others), LeaseRead::kFound, others, 14s,
       LeaderAction::kWait},
      {"UnchangedForLeaseDurationIsTakenOver", standby(others), LeaseRead::kFound, others, 15s,
       LeaderAction::kTakeOver, LeaseRecord{kMe, 15, kNow, kNow, 4}},
      {"RenewedByHolderRestartsLocalObservation", standby(others), LeaseRead::kFound,
       held(kOther, "2024-05-01T12:00:10.000000Z"), 20s, LeaderAction::kWait, std::nullopt, true},
      {"RenewTimeInTheFutureFromASkewedClockStillExpiresLocally",
       standby(held(kOther, "2999-01-01T00:00:00.000000Z")), LeaseRead::kFound,
       held(kOther, "2999-01-01T00:00:00.000000Z"), 15s, LeaderAction::kTakeOver,
       LeaseRecord{kMe, 15, kNow, kNow, 4}},
      {"LeaseDurationComesFromTheRecordNotOurConfig", standby(held(kOther, "x", 3, 60)),
       LeaseRead::kFound, held(kOther, "x", 3, 60), 20s, LeaderAction::kWait},
      {"ReleasedLeaseIsTakenOverAtOnce", standby(held("", kNow, 3, 1)), LeaseRead::kFound,
       held("", kNow, 3, 1), 0s, LeaderAction::kTakeOver, LeaseRecord{kMe, 15, kNow, kNow, 4}},
      {"ReleasedLeaseSeenForTheFirstTimeIsTakenOverAtOnce", standby(), LeaseRead::kFound,
       held("", kNow, 7, 1), 0s, LeaderAction::kTakeOver, LeaseRecord{kMe, 15, kNow, kNow, 8},
       true},
      {"OurLeaseIsRenewedKeepingAcquireTimeAndTransitions", leading(mine), LeaseRead::kFound, mine,
       2s, LeaderAction::kRenew, LeaseRecord{kMe, 15, "2024-05-01T10:00:00.000000Z", kNow, 3}},
      {"OurLeaseFoundAfterARestartOfTheLoopIsRenewed", standby(), LeaseRead::kFound, mine, 0s,
       LeaderAction::kRenew, LeaseRecord{kMe, 15, "2024-05-01T10:00:00.000000Z", kNow, 3}, true},
      {"LeaderPastRenewDeadlineStopsLeadingEvenIfTheLeaseSaysOurs", leading(mine),
       LeaseRead::kFound, mine, 10s, LeaderAction::kStopLeading},
      {"LeaderJustBeforeRenewDeadlineStillRenews", leading(mine), LeaseRead::kFound, mine, 9s,
       LeaderAction::kRenew, LeaseRecord{kMe, 15, "2024-05-01T10:00:00.000000Z", kNow, 3}},
      {"LeaderThatCannotReadWaitsWithinTheDeadline", leading(mine), LeaseRead::kFailed,
       std::nullopt, 5s, LeaderAction::kWait},
      {"LeaderThatCannotReadStopsAtTheDeadline", leading(mine), LeaseRead::kFailed, std::nullopt,
       10s, LeaderAction::kStopLeading},
      {"LeaderThatSeesAnotherHolderStopsAtOnce", leading(mine), LeaseRead::kFound, others, 2s,
       LeaderAction::kStopLeading, std::nullopt, true},
      {"LeaderWhoseLeaseWasDeletedRecreatesIt", leading(mine), LeaseRead::kNotFound, std::nullopt,
       2s, LeaderAction::kCreate, LeaseRecord{kMe, 15, kNow, kNow, 0}, true},
      {"StandbyThatCannotReadWaits", standby(others), LeaseRead::kFailed, std::nullopt, 30s,
       LeaderAction::kWait},
  };
}

class DecideLeadership : public ::testing::TestWithParam<DecisionCase> {};

TEST_P(DecideLeadership, Decides) {
  const DecisionCase& c = GetParam();
  const auto now = kT0 + c.now;
  const LeaderDecision decision = decideLeadership(config(), c.state, c.read, c.current, now, kNow);
  EXPECT_EQ(decision.action, c.want) << toString(decision.action) << ": " << decision.reason;
  if (c.wantDesired) {
    EXPECT_EQ(decision.desired, *c.wantDesired);
  }
  if (c.wantObservationRestarted) {
    EXPECT_EQ(decision.observedAt, now);
  } else if (c.read != LeaseRead::kNotFound) {
    EXPECT_EQ(decision.observedAt, c.state.observedAt);
  }
  if (c.read == LeaseRead::kFound) {
    EXPECT_EQ(decision.observed, c.current);
  }
  EXPECT_FALSE(decision.reason.empty());
}

std::string caseName(const ::testing::TestParamInfo<DecisionCase>& test) { return test.param.name; }

INSTANTIATE_TEST_SUITE_P(Table, DecideLeadership, ::testing::ValuesIn(decisionCases()), caseName);

TEST(NextAttemptDelay, LeaderRenewsEveryRetryPeriod) {
  EXPECT_EQ(nextAttemptDelay(config(), leading(held(kMe)), kT0, 0.9), 2s);
}

TEST(NextAttemptDelay, StandbyJittersLikeClientGo) {
  EXPECT_EQ(nextAttemptDelay(config(), standby(), kT0, 0.0), 2000ms);
  EXPECT_EQ(nextAttemptDelay(config(), standby(), kT0, 0.5), 3200ms);
  EXPECT_EQ(nextAttemptDelay(config(), standby(held(kOther)), kT0, 0.999), 4397ms);
}

TEST(NextAttemptDelay, StandbyTriesAsSoonAsTheObservedLeaseExpires) {
  // Observed at kT0 with 15 s: expires at kT0 + 15 s.
  EXPECT_EQ(nextAttemptDelay(config(), standby(held(kOther)), kT0 + 14s, 0.0), 1000ms);
  EXPECT_EQ(nextAttemptDelay(config(), standby(held(kOther)), kT0 + 14s, 0.5), 1100ms);
  EXPECT_EQ(nextAttemptDelay(config(), standby(held(kOther)), kT0 + 20s, 0.0), 0ms);
  // A released lease needs no waiting for expiry either way.
  EXPECT_EQ(nextAttemptDelay(config(), standby(held("", kNow, 1, 1)), kT0, 0.0), 2000ms);
}

TEST(LeaderElectionConfig, ValidatesLikeClientGo) {
  EXPECT_TRUE(validateLeaderElectionConfig(config()).ok());
  LeaderElectionConfig bad = config();
  bad.renewDeadline = 15s;
  EXPECT_FALSE(validateLeaderElectionConfig(bad).ok());
  bad = config();
  bad.retryPeriod = 9s;  // 1.2 × 9 s > 10 s
  EXPECT_FALSE(validateLeaderElectionConfig(bad).ok());
  bad = config("");
  EXPECT_FALSE(validateLeaderElectionConfig(bad).ok());
  bad = config();
  bad.leaseNamespace.clear();
  auto invalid = validateLeaderElectionConfig(bad);
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().kind(), base::ErrorKind::kConfig);
}

TEST(LeaderIdentity, IsHostnamePlusUniqueSuffix) {
  const std::string a = makeLeaderIdentity();
  const std::string b = makeLeaderIdentity();
  EXPECT_NE(a, b);
  const auto underscore = a.rfind('_');
  ASSERT_NE(underscore, std::string::npos);
  EXPECT_EQ(a.substr(0, underscore), b.substr(0, b.rfind('_')));
  EXPECT_EQ(a.size() - underscore - 1, 36u);  // a UUID
}

TEST(LeaseRecord, RoundTripsThroughTheLeaseObject) {
  nlohmann::json lease = {{"metadata", {{"name", "x"}}}};
  const LeaseRecord record = held(kMe);
  setLeaseRecord(lease, record);
  EXPECT_EQ(lease["spec"]["holderIdentity"], kMe);
  EXPECT_EQ(lease["spec"]["leaseDurationSeconds"], 15);
  EXPECT_EQ(leaseRecordFromLease(lease), record);
  EXPECT_EQ(leaseRecordFromLease(nlohmann::json::object()), LeaseRecord{});
}

// --- the elector, stepped by hand ---

struct Replica {
  Replica(FakeClient& client, FakeClock& clock, std::string identity, Registry* metrics = nullptr)
      : elector(client, clock, config(std::move(identity)),
                LeaderCallbacks{[this] { ++started; }, [this] { ++stopped; },
                                [this](const std::string& leader) { leaders.push_back(leader); }},
                metrics) {}
  std::atomic<int> started{0};
  std::atomic<int> stopped{0};
  std::vector<std::string> leaders;
  LeaderElector elector;
};

class LeaderElectorTest : public ::testing::Test {
 protected:
  nlohmann::json lease() const {
    auto object = client_.object(resources::kLeases, {"relops-system", "relops-leader"});
    return object.value_or(nlohmann::json());
  }
  FakeClock clock_{std::chrono::system_clock::time_point{} + std::chrono::hours(24 * 365 * 54)};
  FakeClient client_{&clock_};
  Registry registry_{Registry::ProcessMetrics::kExclude};
};

TEST_F(LeaderElectorTest, CreatesTheLeaseAndRenewsFromCache) {
  Replica a(client_, clock_, "a", &registry_);
  EXPECT_EQ(a.elector.tryAcquireOrRenew(), LeaderAction::kCreate);
  EXPECT_TRUE(a.elector.isLeader());
  EXPECT_EQ(a.started, 1);
  EXPECT_EQ(a.elector.leader(), "a");
  EXPECT_EQ(a.leaders, std::vector<std::string>{"a"});
  const nlohmann::json created = lease();
  EXPECT_EQ(created["spec"]["holderIdentity"], "a");
  EXPECT_EQ(created["spec"]["leaseDurationSeconds"], 15);
  EXPECT_EQ(created["spec"]["leaseTransitions"], 0);
  EXPECT_THAT(created["spec"]["renewTime"].get<std::string>(), StartsWith("2023-12-"));
  EXPECT_THAT(registry_.exposition(),
              HasSubstr("leader_election_master_status{name=\"relops-leader\"} 1"));

  client_.clearActions();
  clock_.advance(2s);
  EXPECT_EQ(a.elector.tryAcquireOrRenew(), LeaderAction::kRenew);
  // client-go's fast path: the leader updates from its cached Lease, no GET.
  EXPECT_TRUE(client_.actions("get").empty());
  EXPECT_EQ(client_.actions("update").size(), 1u);
  const nlohmann::json renewed = lease();
  EXPECT_NE(renewed["spec"]["renewTime"], created["spec"]["renewTime"]);
  EXPECT_EQ(renewed["spec"]["acquireTime"], created["spec"]["acquireTime"]);
  EXPECT_EQ(a.started, 1) << "started once";
}

TEST_F(LeaderElectorTest, OnlyOneOfTwoReplicasLeads) {
  Replica a(client_, clock_, "a");
  Replica b(client_, clock_, "b");
  EXPECT_EQ(a.elector.tryAcquireOrRenew(), LeaderAction::kCreate);
  EXPECT_EQ(b.elector.tryAcquireOrRenew(), LeaderAction::kWait);
  EXPECT_EQ(b.elector.leader(), "a");
  for (int i = 0; i < 20; ++i) {
    clock_.advance(2s);
    EXPECT_EQ(a.elector.tryAcquireOrRenew(), LeaderAction::kRenew);
    EXPECT_EQ(b.elector.tryAcquireOrRenew(), LeaderAction::kWait);
  }
  EXPECT_TRUE(a.elector.isLeader());
  EXPECT_FALSE(b.elector.isLeader());
  EXPECT_EQ(b.started, 0);
}

TEST_F(LeaderElectorTest, StandbyTakesOverLeaseDurationAfterLastSeenRenewal) {
  Replica a(client_, clock_, "a");
  Replica b(client_, clock_, "b");
  ASSERT_EQ(a.elector.tryAcquireOrRenew(), LeaderAction::kCreate);
  ASSERT_EQ(b.elector.tryAcquireOrRenew(), LeaderAction::kWait);
  // a dies (kill -9): it renews no more. b keeps looking every 2 s.
  for (int waited = 2; waited < 15; waited += 2) {
    clock_.advance(2s);
    EXPECT_EQ(b.elector.tryAcquireOrRenew(), LeaderAction::kWait) << waited;
  }
  clock_.advance(2s);  // 16 s since b first saw the record
  EXPECT_EQ(b.elector.tryAcquireOrRenew(), LeaderAction::kTakeOver);
  EXPECT_TRUE(b.elector.isLeader());
  EXPECT_EQ(b.started, 1);
  EXPECT_EQ(lease()["spec"]["holderIdentity"], "b");
  EXPECT_EQ(lease()["spec"]["leaseTransitions"], 1);
  EXPECT_EQ(b.leaders, (std::vector<std::string>{"a", "b"}));
}

TEST_F(LeaderElectorTest, ConflictMeansAnotherReplicaWon) {
  // An expired lease both standbys have watched for its full duration.
  nlohmann::json old = {{"metadata", {{"namespace", "relops-system"}, {"name", "relops-leader"}}}};
  setLeaseRecord(old, held("gone", "2024-01-01T00:00:00.000000Z", 5));
  client_.add(resources::kLeases, old);
  Replica a(client_, clock_, "a");
  Replica b(client_, clock_, "b");
  ASSERT_EQ(a.elector.tryAcquireOrRenew(), LeaderAction::kWait);
  ASSERT_EQ(b.elector.tryAcquireOrRenew(), LeaderAction::kWait);
  clock_.advance(15s);

  // b writes between a's read and a's update.
  std::atomic<bool> raced{false};
  client_.prependReactor(
      [&](const relops::testing::FakeAction& action) -> std::optional<base::Error> {
        if (action.verb == "update" && action.body.find("\"a\"") != std::string::npos &&
            !raced.exchange(true)) {
          EXPECT_EQ(b.elector.tryAcquireOrRenew(), LeaderAction::kTakeOver);
        }
        return std::nullopt;
      });
  EXPECT_EQ(a.elector.tryAcquireOrRenew(), LeaderAction::kWait);
  EXPECT_TRUE(raced);
  EXPECT_FALSE(a.elector.isLeader());
  EXPECT_TRUE(b.elector.isLeader());
  EXPECT_EQ(lease()["spec"]["holderIdentity"], "b");
  EXPECT_EQ(lease()["spec"]["leaseTransitions"], 6) << "one takeover, counted once";

  // a re-reads next time and sees b holding a fresh lease.
  clock_.advance(2s);
  EXPECT_EQ(a.elector.tryAcquireOrRenew(), LeaderAction::kWait);
  EXPECT_EQ(a.elector.leader(), "b");
}

TEST_F(LeaderElectorTest, RenewDeadlineWithoutSuccessStopsLeadingOnce) {
  Replica a(client_, clock_, "a", &registry_);
  ASSERT_EQ(a.elector.tryAcquireOrRenew(), LeaderAction::kCreate);
  const base::Error outage(base::ErrorKind::kTransient, "connection refused");
  client_.failNext("update", resources::kLeases, outage, 1000);
  client_.failNext("get", resources::kLeases, outage, 1000);
  for (int i = 0; i < 4; ++i) {
    clock_.advance(2s);
    EXPECT_EQ(a.elector.tryAcquireOrRenew(), LeaderAction::kWait);
    EXPECT_TRUE(a.elector.isLeader()) << "still within renewDeadline";
  }
  clock_.advance(2s);  // 10 s since the last successful renewal
  EXPECT_EQ(a.elector.tryAcquireOrRenew(), LeaderAction::kStopLeading);
  EXPECT_FALSE(a.elector.isLeader());
  EXPECT_TRUE(a.elector.lost());
  EXPECT_EQ(a.stopped, 1);
  EXPECT_THAT(registry_.exposition(),
              HasSubstr("leader_election_master_status{name=\"relops-leader\"} 0"));

  // Like client-go's Run, an elector leads at most once: no more API calls.
  client_.clearActions();
  EXPECT_EQ(a.elector.tryAcquireOrRenew(), LeaderAction::kStopLeading);
  EXPECT_TRUE(client_.actions().empty());
  EXPECT_EQ(a.stopped, 1);
}

TEST_F(LeaderElectorTest, LeaderSeeingAnotherHolderStepsDown) {
  Replica a(client_, clock_, "a");
  ASSERT_EQ(a.elector.tryAcquireOrRenew(), LeaderAction::kCreate);
  // Someone (an admin, a partitioned peer) wrote another holder.
  nlohmann::json stolen = lease();
  setLeaseRecord(stolen, held("intruder", "2024-01-01T00:00:00.000000Z", 1));
  ASSERT_TRUE(client_.update(resources::kLeases, stolen).ok());
  clock_.advance(2s);
  EXPECT_EQ(a.elector.tryAcquireOrRenew(), LeaderAction::kStopLeading);
  EXPECT_EQ(a.stopped, 1);
  EXPECT_EQ(lease()["spec"]["holderIdentity"], "intruder");
}

TEST_F(LeaderElectorTest, WatchdogStopsLeadingPastTheDeadline) {
  Replica a(client_, clock_, "a");
  ASSERT_EQ(a.elector.tryAcquireOrRenew(), LeaderAction::kCreate);
  clock_.advance(9s);
  a.elector.checkRenewDeadline();
  EXPECT_TRUE(a.elector.isLeader());
  clock_.advance(1s);
  a.elector.checkRenewDeadline();
  EXPECT_FALSE(a.elector.isLeader());
  EXPECT_EQ(a.stopped, 1);
}

TEST_F(LeaderElectorTest, ReleaseHandsOverImmediately) {
  Replica a(client_, clock_, "a", &registry_);
  Replica b(client_, clock_, "b");
  ASSERT_EQ(a.elector.tryAcquireOrRenew(), LeaderAction::kCreate);
  ASSERT_EQ(b.elector.tryAcquireOrRenew(), LeaderAction::kWait);
  clock_.advance(2s);
  ASSERT_EQ(a.elector.tryAcquireOrRenew(), LeaderAction::kRenew);

  ASSERT_TRUE(a.elector.release().ok());
  EXPECT_FALSE(a.elector.isLeader());
  EXPECT_EQ(a.stopped, 0) << "release is not a loss";
  const nlohmann::json released = lease();
  EXPECT_EQ(released["spec"]["holderIdentity"], "");
  EXPECT_EQ(released["spec"]["leaseDurationSeconds"], 1);
  EXPECT_EQ(released["spec"]["leaseTransitions"], 0);
  EXPECT_THAT(registry_.exposition(),
              HasSubstr("leader_election_master_status{name=\"relops-leader\"} 0"));

  // No waiting out the 15 s: the very next attempt takes it.
  EXPECT_EQ(b.elector.tryAcquireOrRenew(), LeaderAction::kTakeOver);
  EXPECT_EQ(lease()["spec"]["holderIdentity"], "b");
  EXPECT_EQ(lease()["spec"]["leaseTransitions"], 1);
}

TEST_F(LeaderElectorTest, ReleaseWithoutLeadingWritesNothing) {
  Replica a(client_, clock_, "a");
  Replica b(client_, clock_, "b");
  ASSERT_EQ(a.elector.tryAcquireOrRenew(), LeaderAction::kCreate);
  ASSERT_EQ(b.elector.tryAcquireOrRenew(), LeaderAction::kWait);
  client_.clearActions();
  EXPECT_TRUE(b.elector.release().ok());
  EXPECT_TRUE(client_.actions().empty());
  EXPECT_EQ(lease()["spec"]["holderIdentity"], "a");
}

TEST_F(LeaderElectorTest, HealthCheckFailsWhenTheLeaderIsWedged) {
  Replica a(client_, clock_, "a");
  EXPECT_TRUE(a.elector.healthCheck(20s).ok()) << "a standby is healthy";
  ASSERT_EQ(a.elector.tryAcquireOrRenew(), LeaderAction::kCreate);
  clock_.advance(30s);
  EXPECT_TRUE(a.elector.healthCheck(20s).ok());
  clock_.advance(6s);  // 36 s > 15 s + 20 s without a renewal
  auto unhealthy = a.elector.healthCheck(20s);
  ASSERT_FALSE(unhealthy.ok());
  EXPECT_THAT(unhealthy.error().message(), HasSubstr("relops-leader"));
}

// --- with the elector's own threads ---

TEST_F(LeaderElectorTest, WatchdogFiresWhileARenewalHangs) {
  Replica a(client_, clock_, "a");
  std::promise<void> unblock;
  std::shared_future<void> unblocked = unblock.get_future().share();
  std::atomic<bool> hang{false};
  client_.prependReactor(
      [&](const relops::testing::FakeAction& action) -> std::optional<base::Error> {
        if (hang && action.resource == resources::kLeases) unblocked.wait();
        return std::nullopt;
      });
  a.elector.start();
  for (int i = 0; i < 200 && !a.elector.isLeader(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(a.elector.isLeader());

  hang = true;  // the next renewal blocks inside the client
  clock_.advance(10s);
  for (int i = 0; i < 300 && a.stopped == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(a.stopped, 1);
  EXPECT_FALSE(a.elector.isLeader());
  unblock.set_value();
  a.elector.stop();
}

TEST(LeaderElectorThreads, HandOverOnReleaseAndOnDeath) {
  // Real time, short periods: lease 2 s, renew deadline 1 s, retry 100 ms.
  base::SystemClock clock;
  FakeClient client;
  auto make = [&](const std::string& identity, std::atomic<int>& started,
                  std::atomic<int>& stopped) {
    LeaderElectionConfig c = config(identity);
    c.leaseDuration = 2s;
    c.renewDeadline = 1s;
    c.retryPeriod = 100ms;
    return std::make_unique<LeaderElector>(
        client, clock, c, LeaderCallbacks{[&] { ++started; }, [&] { ++stopped; }, nullptr});
  };
  auto waitFor = [](const std::function<bool()>& condition, std::chrono::milliseconds limit) {
    const auto deadline = steady_clock::now() + limit;
    while (!condition() && steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
    return condition();
  };
  std::atomic<int> aStarted{0}, aStopped{0}, bStarted{0}, bStopped{0}, cStarted{0}, cStopped{0};
  auto a = make("a", aStarted, aStopped);
  auto b = make("b", bStarted, bStopped);
  a->start();
  ASSERT_TRUE(waitFor([&] { return a->isLeader(); }, 2s));
  b->start();
  ASSERT_TRUE(waitFor([&] { return b->leader() == "a"; }, 2s));
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(b->isLeader());

  // Graceful: a releases, b takes over well before a lease duration.
  const auto released = steady_clock::now();
  ASSERT_TRUE(a->release().ok());
  ASSERT_TRUE(waitFor([&] { return b->isLeader(); }, 2s));
  EXPECT_LT(steady_clock::now() - released, 1500ms);
  EXPECT_EQ(aStopped, 0);

  // Death: b stops renewing without release; c takes over after ~2 s.
  auto c = make("c", cStarted, cStopped);
  c->start();
  ASSERT_TRUE(waitFor([&] { return c->leader() == "b"; }, 2s));
  b->stop();
  const auto died = steady_clock::now();
  ASSERT_TRUE(waitFor([&] { return c->isLeader(); }, 5s));
  EXPECT_GE(steady_clock::now() - died, 1500ms);
  EXPECT_EQ(bStopped, 0);
  c->stop();
  EXPECT_EQ(aStarted + bStarted + cStarted, 3);
}

}  // namespace
}  // namespace relops::runtime
