#include "operator/runtime/event_recorder.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdio>
#include <ctime>

#include "operator/kube/api_error.h"
#include "operator/runtime/metrics.h"

namespace relops::runtime {

namespace {

using std::chrono::steady_clock;
using std::chrono::system_clock;

// Object names are DNS subdomains (253 characters).
constexpr size_t kMaxNameLength = 253;

std::string hostName() {
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0) return "relops";
  return host[0] == '\0' ? "relops" : std::string(host.data());
}

std::string objectKeyOf(const ObjectReference& ref) {
  // The spam filter's key: one bucket per involved object.
  return ref.apiVersion + "|" + ref.kind + "|" + ref.namespace_ + "|" + ref.name + "|" + ref.uid;
}

std::string seriesKeyOf(const Event& event) {
  return objectKeyOf(event.regarding) + "|" + std::string(toString(event.type)) + "|" +
         event.reason + "|" + event.action + "|" + event.note;
}

}  // namespace

std::string formatMicroTime(system_clock::time_point time) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
  int64_t seconds = micros / 1'000'000;
  int64_t fraction = micros % 1'000'000;
  if (fraction < 0) {
    fraction += 1'000'000;
    --seconds;
  }
  const std::time_t whole = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&whole, &utc);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &utc);
  char text[48];
  std::snprintf(text, sizeof text, "%s.%06" PRId64 "Z", date, fraction);
  return text;
}

std::string_view toString(EventType type) {
  return type == EventType::kWarning ? "Warning" : "Normal";
}

ObjectReference ObjectReference::fromObject(const nlohmann::json& object) {
  ObjectReference ref;
  const auto text = [](const nlohmann::json& node, const char* field) {
    const auto it = node.find(field);
    return it != node.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  ref.apiVersion = text(object, "apiVersion");
  ref.kind = text(object, "kind");
  const auto metadata = object.find("metadata");
  if (metadata != object.end() && metadata->is_object()) {
    ref.namespace_ = text(*metadata, "namespace");
    ref.name = text(*metadata, "name");
    ref.uid = text(*metadata, "uid");
    ref.resourceVersion = text(*metadata, "resourceVersion");
  }
  return ref;
}

nlohmann::json ObjectReference::toJson() const {
  nlohmann::json json = nlohmann::json::object();
  if (!apiVersion.empty()) json["apiVersion"] = apiVersion;
  if (!kind.empty()) json["kind"] = kind;
  if (!namespace_.empty()) json["namespace"] = namespace_;
  if (!name.empty()) json["name"] = name;
  if (!uid.empty()) json["uid"] = uid;
  if (!resourceVersion.empty()) json["resourceVersion"] = resourceVersion;
  return json;
}

EventCorrelator::EventCorrelator(EventRecorderOptions options) : options_(std::move(options)) {
  if (options_.reportingInstance.empty()) options_.reportingInstance = hostName();
  options_.reportingInstance = truncate(options_.reportingInstance, kMaxEventFieldLength);
}

std::string EventCorrelator::truncate(std::string text, size_t maxBytes) {
  if (text.size() <= maxBytes) return text;
  constexpr std::string_view kEllipsis = "...";
  size_t cut = maxBytes > kEllipsis.size() ? maxBytes - kEllipsis.size() : maxBytes;
  // Back up over UTF-8 continuation bytes (10xxxxxx) so no character is split.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  if (maxBytes > kEllipsis.size()) text += kEllipsis;
  return text;
}

bool EventCorrelator::takeToken(const std::string& objectKey, steady_clock::time_point now) {
  auto it = buckets_.find(objectKey);
  if (it == buckets_.end()) {
    if (buckets_.size() >= options_.maxTrackedObjects) {
      // Like client-go's LRU of spam records: the least recently used object
      // is forgotten (and would start again with a full bucket).
      auto oldest = std::min_element(
          buckets_.begin(), buckets_.end(),
          [](const auto& a, const auto& b) { return a.second.updated < b.second.updated; });
      buckets_.erase(oldest);
    }
    it = buckets_.emplace(objectKey, Bucket{static_cast<double>(options_.spamBurst), now}).first;
  }
  Bucket& bucket = it->second;
  const double refill = std::chrono::duration<double>(now - bucket.updated).count() /
                        std::chrono::duration<double>(options_.spamRefill).count();
  bucket.tokens =
      std::min(static_cast<double>(options_.spamBurst), bucket.tokens + std::max(0.0, refill));
  bucket.updated = now;
  if (bucket.tokens < 1.0) return false;
  bucket.tokens -= 1.0;
  return true;
}

nlohmann::json EventCorrelator::makeEvent(const Event& event, system_clock::time_point wallNow) {
  // client-go names an Event "<regarding name>.<hex UnixNano>"; nanoseconds
  // are kept strictly increasing so two Events of one instant differ.
  int64_t nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(wallNow.time_since_epoch()).count();
  nanos = std::max(nanos, lastNameNanos_ + 1);
  lastNameNanos_ = nanos;
  char suffix[24];
  std::snprintf(suffix, sizeof suffix, ".%" PRIx64, static_cast<uint64_t>(nanos));
  std::string base = event.regarding.name.empty() ? "relops" : event.regarding.name;
  const size_t room = kMaxNameLength - std::char_traits<char>::length(suffix);
  if (base.size() > room) base.resize(room);

  nlohmann::json json = {
      {"apiVersion", kube::resources::kEvents.apiVersion()},
      {"kind", kube::resources::kEvents.kind},
      {"metadata",
       {{"name", base + suffix},
        {"namespace",
         event.regarding.namespace_.empty() ? "default" : event.regarding.namespace_}}},
      {"eventTime", formatMicroTime(wallNow)},
      {"reportingController", options_.reportingController},
      {"reportingInstance", options_.reportingInstance},
      {"action", event.action},
      {"reason", event.reason},
      {"regarding", event.regarding.toJson()},
      {"note", event.note},
      {"type", std::string(toString(event.type))},
  };
  return json;
}

EventWrite EventCorrelator::seriesWrite(const std::string& key, Series& series) {
  EventWrite write;
  write.kind = EventWrite::Kind::kPatchSeries;
  write.namespace_ = series.event["metadata"]["namespace"].get<std::string>();
  write.name = series.event["metadata"]["name"].get<std::string>();
  const nlohmann::json seriesJson = {{"count", series.count},
                                     {"lastObservedTime", series.lastObservedTime}};
  write.patch = {{"series", seriesJson}};
  write.event = series.event;
  write.event["series"] = seriesJson;
  write.seriesKey = key;
  series.writtenCount = series.count;
  return write;
}

EventCorrelator::Outcome EventCorrelator::observe(const Event& raw, steady_clock::time_point now,
                                                  system_clock::time_point wallNow) {
  Event event = raw;
  event.note = truncate(std::move(event.note), kMaxEventNoteBytes);
  event.reason = truncate(std::move(event.reason), kMaxEventFieldLength);
  event.action = truncate(std::move(event.action), kMaxEventFieldLength);
  const std::string key = seriesKeyOf(event);
  const std::string objectKey = objectKeyOf(event.regarding);

  Outcome outcome;
  auto it = series_.find(key);
  if (it != series_.end() && now - it->second.lastObserved >= options_.seriesWindow) {
    // The old series ended; write its final count before starting anew.
    if (it->second.writtenCount < it->second.count) {
      outcome.writes.push_back(seriesWrite(key, it->second));
    }
    series_.erase(it);
    it = series_.end();
  }

  if (it != series_.end()) {
    Series& series = it->second;
    ++series.count;
    series.lastObserved = now;
    series.lastObservedTime = formatMicroTime(wallNow);
    if (takeToken(objectKey, now)) {
      outcome.writes.push_back(seriesWrite(key, series));
    } else {
      outcome.coalesced = true;
    }
    return outcome;
  }

  if (!takeToken(objectKey, now)) {
    outcome.dropped = true;
    return outcome;
  }
  if (series_.size() >= options_.maxTrackedSeries) {
    auto oldest = std::min_element(
        series_.begin(), series_.end(),
        [](const auto& a, const auto& b) { return a.second.lastObserved < b.second.lastObserved; });
    if (oldest->second.writtenCount < oldest->second.count) {
      outcome.writes.push_back(seriesWrite(oldest->first, oldest->second));
    }
    series_.erase(oldest);
  }
  Series series;
  series.objectKey = objectKey;
  series.event = makeEvent(event, wallNow);
  series.lastObserved = now;
  series.lastObservedTime = series.event["eventTime"].get<std::string>();
  EventWrite write;
  write.kind = EventWrite::Kind::kCreate;
  write.namespace_ = series.event["metadata"]["namespace"].get<std::string>();
  write.name = series.event["metadata"]["name"].get<std::string>();
  write.event = series.event;
  write.seriesKey = key;
  outcome.writes.push_back(std::move(write));
  series_.emplace(key, std::move(series));
  return outcome;
}

std::vector<EventWrite> EventCorrelator::expire(steady_clock::time_point now, bool all) {
  std::vector<EventWrite> writes;
  for (auto it = series_.begin(); it != series_.end();) {
    if (all || now - it->second.lastObserved >= options_.seriesWindow) {
      if (it->second.writtenCount < it->second.count)
        writes.push_back(seriesWrite(it->first, it->second));
      it = series_.erase(it);
    } else {
      ++it;
    }
  }
  return writes;
}

void EventCorrelator::forget(const std::string& seriesKey) { series_.erase(seriesKey); }

KubeEventRecorder::KubeEventRecorder(kube::Client& client, const base::Clock& clock,
                                     EventRecorderOptions options, Registry* metrics, Logger log)
    : client_(client),
      clock_(clock),
      options_(options),
      log_(log.named("events")),
      correlator_(std::move(options)) {
  if (metrics != nullptr) {
    dropped_ = &metrics->counter("relops_events_dropped_total",
                                 "Events relops did not write, by reason: queue_full, "
                                 "rate_limited (per-object spam filter), write_failed.",
                                 {"reason"});
    // Every reason from the start at 0, so increase() sees the first drop and a dashboard
    // reads 0, not "no data" (controller-runtime's initMetrics does the same for its errors).
    for (const char* reason : {"queue_full", "rate_limited", "write_failed"}) {
      dropped_->with({reason}).inc(0);
    }
  }
  sender_ = std::thread([this] { run(); });
}

KubeEventRecorder::~KubeEventRecorder() { shutdown(); }

void KubeEventRecorder::drop(std::string_view reason) {
  if (dropped_ != nullptr) dropped_->with({std::string(reason)}).inc();
}

void KubeEventRecorder::record(Event event) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && queue_.size() < options_.queueCapacity) {
      queue_.emplace_back(std::move(event));
      ++enqueued_;
      wake_.notify_one();
      return;
    }
  }
  // Full (client-go's broadcaster drops too): an Event must never make a
  // reconcile wait.
  drop("queue_full");
  log_.debug("event dropped: queue full", {{"reason", event.reason}});
}

void KubeEventRecorder::flush() {
  std::unique_lock lock(mutex_);
  const uint64_t target = enqueued_;
  done_.wait(lock, [&] { return processed_ >= target; });
}

void KubeEventRecorder::flushEndedSeries() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    queue_.emplace_back(ExpireMarker{false});
    ++enqueued_;
    wake_.notify_one();
  }
  flush();
}

void KubeEventRecorder::shutdown(std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      stopping_ = true;
      // A real-time bound on the drain, whatever the injected clock says.
      deadline_ = std::chrono::steady_clock::now() + timeout;
      queue_.emplace_back(ExpireMarker{true});
      ++enqueued_;
    }
    wake_.notify_all();
  }
  std::lock_guard lock(joinMutex_);
  if (sender_.joinable()) sender_.join();
}

void KubeEventRecorder::run() {
  auto nextExpiry = std::chrono::steady_clock::now() + options_.expiryCheckInterval;
  while (true) {
    std::optional<Item> item;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_until(lock, nextExpiry, [&] { return !queue_.empty() || stopping_; });
      if (!queue_.empty()) {
        item = std::move(queue_.front());
        queue_.pop_front();
        if (stopping_ && std::chrono::steady_clock::now() > deadline_ &&
            std::holds_alternative<Event>(*item)) {
          // Out of time on shutdown: what is left is dropped, not written.
          ++processed_;
          done_.notify_all();
          lock.unlock();
          drop("queue_full");
          continue;
        }
      } else if (stopping_) {
        return;
      }
    }
    if (item) {
      if (const Event* event = std::get_if<Event>(&*item)) {
        process(*event);
      } else {
        expire(std::get<ExpireMarker>(*item).all);
      }
      std::lock_guard lock(mutex_);
      ++processed_;
      done_.notify_all();
    }
    // The periodic look for ended series, also while the queue is busy.
    if (std::chrono::steady_clock::now() >= nextExpiry) {
      expire(false);
      nextExpiry = std::chrono::steady_clock::now() + options_.expiryCheckInterval;
    }
  }
}

void KubeEventRecorder::process(const Event& event) {
  log_.debug("event", {{"kind", event.regarding.kind},
                       {"namespace", event.regarding.namespace_},
                       {"name", event.regarding.name},
                       {"type", std::string(toString(event.type))},
                       {"reason", event.reason},
                       {"action", event.action},
                       {"note", event.note}});
  EventCorrelator::Outcome outcome = correlator_.observe(event, clock_.steadyNow(), clock_.now());
  if (outcome.dropped) {
    drop("rate_limited");
    log_.debug("event dropped: rate limited",
               {{"name", event.regarding.name}, {"reason", event.reason}});
  }
  for (const EventWrite& write : outcome.writes) send(write);
}

void KubeEventRecorder::expire(bool all) {
  for (const EventWrite& write : correlator_.expire(clock_.steadyNow(), all)) send(write);
}

void KubeEventRecorder::send(const EventWrite& write) {
  base::Result<nlohmann::json> result = base::Error(base::ErrorKind::kInternal, "not sent");
  if (write.kind == EventWrite::Kind::kPatchSeries) {
    result = client_.patch(kube::resources::kEvents, {write.namespace_, write.name},
                           kube::PatchType::kMerge, write.patch.dump());
    // The Event may have been deleted (TTL, kubectl delete): client-go then
    // creates it anew, carrying the series.
    if (!result.ok() && result.error().kind() == base::ErrorKind::kNotFound) {
      result = client_.create(kube::resources::kEvents, write.event);
    }
  } else {
    result = client_.create(kube::resources::kEvents, write.event);
  }
  if (result.ok()) return;
  const base::Error& error = result.error();
  if (error.kind() == base::ErrorKind::kAlreadyExists) {
    log_.debug("event already exists", {{"name", write.name}});
    return;
  }
  // Logged and counted, never retried: an Event is not worth a hot loop.
  drop("write_failed");
  if (kube::isNamespaceTerminating(error)) {
    log_.debug("namespace is being deleted; event dropped",
               {{"namespace", write.namespace_}, {"name", write.name}});
    correlator_.forget(write.seriesKey);
    return;
  }
  log_.warn("failed to write event",
            {{"namespace", write.namespace_}, {"name", write.name}, {"error", error.describe()}});
  correlator_.forget(write.seriesKey);
}

}  // namespace relops::runtime
