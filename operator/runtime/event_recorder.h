// Kubernetes Events (events.k8s.io/v1) about relops objects, as client-go's
// events package (k8s.io/client-go/tools/events) writes them:
//   - regarding, reason, note (max 1 KiB), type Normal|Warning, action,
//     reportingController "relops.dev/relops", reportingInstance, eventTime
//     as MicroTime; created in the regarding object's namespace ("default"
//     for cluster-scoped objects), named "<object name>.<hex nanoseconds>";
//   - series: a repeat of the same (regarding, type, reason, action, note)
//     within 6 minutes of the last one bumps series.count and
//     series.lastObservedTime on the existing Event with a patch instead of
//     creating another object; a series ends 6 minutes after its last
//     occurrence (client-go's finishTime), its final count written then;
//   - per-object rate limiting: a token bucket per regarding object, burst 25
//     and one token per 5 minutes, as client-go's EventSourceObjectSpamFilter.
//     A new Event without a token is dropped (counted in
//     relops_events_dropped_total{reason="rate_limited"}); a repeat without a
//     token still counts in its series and is written when the series ends;
//   - asynchronous: record() only queues (bounded, 1000 like client-go's
//     broadcaster, dropping when full) and one sender thread writes, so a
//     reconcile never waits on an Event. A failed write is logged and counted,
//     never retried in a loop.
// Unlike client-go the series key includes the note (relops notes carry the
// facts, e.g. who handed off to whom) and leaves out the regarding object's
// resourceVersion (which changes with every status write).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <variant>
#include <vector>

#include "operator/base/clock.h"
#include "operator/kube/client.h"
#include "operator/runtime/log.h"

namespace relops::runtime {

class Registry;
template <typename Metric>
class Family;
class Counter;

// metav1.MicroTime: RFC 3339 in UTC with exactly six fractional digits,
// "2024-03-10T07:00:00.000000Z".
std::string formatMicroTime(std::chrono::system_clock::time_point time);

enum class EventType { kNormal, kWarning };
std::string_view toString(EventType type);

// The object an Event is about (the core/v1 ObjectReference fields Events use).
struct ObjectReference {
  std::string apiVersion;
  std::string kind;
  std::string namespace_;
  std::string name;
  std::string uid;
  std::string resourceVersion;

  // From an object as the API server returns it.
  static ObjectReference fromObject(const nlohmann::json& object);
  nlohmann::json toJson() const;
  bool operator==(const ObjectReference&) const = default;
};

struct Event {
  ObjectReference regarding;
  EventType type = EventType::kNormal;
  std::string reason;  // UpperCamelCase, machine-readable: "Handoff", "BudgetExhausted"
  std::string action;  // what was done or failed: "Reconcile", "CreateRestore"
  std::string note;    // for people; truncated to 1 KiB
};

// What controllers hold: one real implementation (KubeEventRecorder) and
// doubles in tests.
class EventRecorder {
 public:
  virtual ~EventRecorder() = default;
  // Never blocks and never fails; delivery is best effort.
  virtual void record(Event event) = 0;

  void normal(const ObjectReference& regarding, std::string reason, std::string action,
              std::string note) {
    record({regarding, EventType::kNormal, std::move(reason), std::move(action), std::move(note)});
  }
  void warning(const ObjectReference& regarding, std::string reason, std::string action,
               std::string note) {
    record({regarding, EventType::kWarning, std::move(reason), std::move(action), std::move(note)});
  }
  // What a kind's decide returned: each with a `type` ("Warning", else Normal), a `reason`
  // and a `message`, recorded in order about `regarding`.
  template <typename Events>
  void recordAll(const ObjectReference& regarding, const Events& events,
                 std::string_view action = "Reconcile") {
    for (const auto& event : events) {
      record({regarding, event.type == "Warning" ? EventType::kWarning : EventType::kNormal,
              event.reason, std::string(action), event.message});
    }
  }
};

struct EventRecorderOptions {
  std::string reportingController = "relops.dev/relops";
  std::string reportingInstance;              // the pod name; "" = this host's name
  size_t queueCapacity = 1000;                // client-go's maxQueuedEvents
  std::chrono::seconds seriesWindow{6 * 60};  // client-go's finishTime
  int spamBurst = 25;                         // client-go's defaultSpamBurst
  std::chrono::seconds spamRefill{5 * 60};    // one token per 5 min (defaultSpamQPS 1/300)
  size_t maxTrackedObjects = 4096;            // client-go's maxLruCacheEntries
  size_t maxTrackedSeries = 4096;
  // How often the sender looks for ended series.
  std::chrono::milliseconds expiryCheckInterval{30'000};
};

// Limits of the events.k8s.io/v1 validation.
inline constexpr size_t kMaxEventNoteBytes = 1024;
inline constexpr size_t kMaxEventFieldLength = 128;  // reason, action, reportingInstance

// A write the recorder makes: a new Event, or a series update of one.
struct EventWrite {
  enum class Kind { kCreate, kPatchSeries };
  Kind kind = Kind::kCreate;
  std::string namespace_;
  std::string name;
  nlohmann::json event;  // the whole Event, with series when there is one
  nlohmann::json patch;  // kPatchSeries: the merge patch {"series": {...}}
  std::string seriesKey;
};

// The pure part: series bookkeeping and rate limiting, no I/O, time passed in.
class EventCorrelator {
 public:
  explicit EventCorrelator(EventRecorderOptions options);

  struct Outcome {
    std::vector<EventWrite> writes;  // what to write now, in order
    bool dropped = false;            // rate limited: nothing recorded
    bool coalesced = false;          // counted in a series, written later
  };
  Outcome observe(const Event& event, std::chrono::steady_clock::time_point now,
                  std::chrono::system_clock::time_point wallNow);
  // Forgets series that ended (no repeat within the window) and returns the
  // final counts not yet written. `all` ends every series (shutdown).
  std::vector<EventWrite> expire(std::chrono::steady_clock::time_point now, bool all = false);
  // A write failed: forget its series so the next occurrence starts a new Event.
  void forget(const std::string& seriesKey);

  size_t trackedSeries() const { return series_.size(); }
  size_t trackedObjects() const { return buckets_.size(); }

  // Truncates to `maxBytes` on a UTF-8 boundary, ending in "..." when cut.
  static std::string truncate(std::string text, size_t maxBytes);

 private:
  struct Series {
    std::string objectKey;
    nlohmann::json event;  // as created (name, namespace, fields)
    int count = 1;
    int writtenCount = 1;
    std::chrono::steady_clock::time_point lastObserved;
    std::string lastObservedTime;  // MicroTime
  };
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point updated;
  };

  bool takeToken(const std::string& objectKey, std::chrono::steady_clock::time_point now);
  EventWrite seriesWrite(const std::string& key, Series& series);
  nlohmann::json makeEvent(const Event& event, std::chrono::system_clock::time_point wallNow);

  EventRecorderOptions options_;
  std::map<std::string, Series> series_;
  std::map<std::string, Bucket> buckets_;
  int64_t lastNameNanos_ = 0;
};

// The real recorder: a bounded queue and one sender thread writing through
// the kube client. Construct once per process and share.
class KubeEventRecorder final : public EventRecorder {
 public:
  // `client`, `clock` and `metrics` (optional) must outlive the recorder.
  KubeEventRecorder(kube::Client& client, const base::Clock& clock,
                    EventRecorderOptions options = {}, Registry* metrics = nullptr,
                    Logger log = discardLogger());
  ~KubeEventRecorder() override;  // shutdown()

  void record(Event event) override;

  // Blocks until everything queued before the call has been written (or
  // dropped). For tests and for an orderly exit.
  void flush();
  // Writes the final counts of series that ended by the clock's now, then
  // flushes. The sender does this by itself every expiryCheckInterval.
  void flushEndedSeries();
  // Drains the queue (bounded by `timeout`), writes pending series counts and
  // stops the sender. Idempotent; record() afterwards drops.
  void shutdown(std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  struct ExpireMarker {
    bool all = false;
  };
  using Item = std::variant<Event, ExpireMarker>;

  void run();
  void process(const Event& event);
  void expire(bool all);
  void send(const EventWrite& write);
  void drop(std::string_view reason);

  kube::Client& client_;
  const base::Clock& clock_;
  const EventRecorderOptions options_;
  Family<Counter>* dropped_ = nullptr;
  Logger log_;
  EventCorrelator correlator_;  // sender thread only

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::deque<Item> queue_;
  uint64_t enqueued_ = 0;
  uint64_t processed_ = 0;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point deadline_;  // shutdown drain deadline
  std::mutex joinMutex_;
  std::thread sender_;
};

}  // namespace relops::runtime
