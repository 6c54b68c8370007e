#include "operator/runtime/reflector.h"

#include <random>

namespace relops::runtime {

using base::Error;
using base::ErrorKind;
using nlohmann::json;

namespace {

std::function<double()> defaultRandom() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

std::string resourceVersionOf(const json& object) {
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return "";
  const auto version = metadata->find("resourceVersion");
  return version != metadata->end() && version->is_string() ? version->get<std::string>() : "";
}

// A watch ERROR event carries a metav1.Status; 410 means our version is gone.
Error watchErrorToError(const json& status) {
  const int code = status.value("code", 0);
  const std::string message = status.value("message", std::string("watch error"));
  const std::string reason = status.value("reason", std::string());
  if (code == 410 || reason == "Expired" || reason == "Gone") {
    return Error(ErrorKind::kGone, message).withHttpStatus(410).withReason(reason);
  }
  Error error(code >= 500 || code == 0 ? ErrorKind::kTransient : ErrorKind::kInternal, message);
  if (code != 0) error.withHttpStatus(code);
  return error.withReason(reason);
}

}  // namespace

void stripManagedFields(json& object) {
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return;
  metadata->erase("managedFields");
  // kubectl's client-side apply (and tools built on it) keeps a whole copy of the object
  // in this annotation; relops never reads it, and it would double each cached object.
  const auto annotations = metadata->find("annotations");
  if (annotations != metadata->end() && annotations->is_object()) {
    annotations->erase("kubectl.kubernetes.io/last-applied-configuration");
    if (annotations->empty()) metadata->erase(annotations);
  }
}

Reflector::Reflector(kube::Client& client, kube::ResourceRef resource, ObjectCache& cache,
                     ReflectorHandler& handler, const base::Clock& clock, Logger log,
                     ReflectorOptions options)
    : client_(client),
      resource_(std::move(resource)),
      cache_(cache),
      handler_(handler),
      clock_(clock),
      log_(std::move(log)),
      options_(std::move(options)),
      backoff_(options_.backoff, options_.random ? options_.random : defaultRandom()) {
  if (!options_.random) options_.random = defaultRandom();
}

std::string Reflector::lastSyncResourceVersion() const {
  std::lock_guard lock(mutex_);
  return lastResourceVersion_;
}

void Reflector::setLastResourceVersion(std::string version) {
  if (version.empty()) return;
  std::lock_guard lock(mutex_);
  lastResourceVersion_ = std::move(version);
}

std::string Reflector::relistResourceVersion() const {
  std::lock_guard lock(mutex_);
  // client-go's relistResourceVersion: a fresh consistent read when the last
  // version is unavailable or there is none yet; otherwise "not older than"
  // the last version we saw, which the API server's watch cache serves.
  if (lastVersionUnavailable_) return "";
  return lastResourceVersion_;
}

void Reflector::run() {
  while (!stopped_.load()) {
    base::Result<void> result = listAndWatch();
    if (stopped_.load()) break;
    const auto delay = backoff_.next(clock_.steadyNow());
    if (!result.ok()) {
      log_.warn("list and watch failed; retrying",
                {{"resource", resource_.resource},
                 {"error", result.error().describe()},
                 {"retryInMs",
                  static_cast<int64_t>(
                      std::chrono::duration_cast<std::chrono::milliseconds>(delay).count())}});
    }
    sleepUnlessStopped(delay);
  }
}

void Reflector::stop() {
  stopped_.store(true);
  std::lock_guard lock(mutex_);
  if (currentWatch_ != nullptr) currentWatch_->stop();
  wake_.notify_all();
}

bool Reflector::sleepUnlessStopped(std::chrono::nanoseconds delay) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, delay, [this] { return stopped_.load(); });
}

base::Result<void> Reflector::listAndWatch() {
  if (base::Result<void> listed = list(); !listed.ok()) return listed;
  while (!stopped_.load()) {
    base::Result<void> watched = watchOnce();
    if (watched.ok()) continue;  // the server ended the watch: resume from the last version
    // client-go retries the watch itself, from the last version, when the
    // server refused the connection or asked to slow down: the cache is still
    // good. Anything else returns to relist.
    const Error& error = watched.error();
    const bool retryWatch =
        error.kind() == ErrorKind::kTooManyRequests ||
        (error.kind() == ErrorKind::kTransient && error.reason() == base::kReasonConnectionRefused);
    if (!retryWatch) return watched;
    const auto delay = error.retryAfter() ? std::chrono::nanoseconds(*error.retryAfter())
                                          : backoff_.next(clock_.steadyNow());
    log_.info("watch refused; retrying it from the last resourceVersion",
              {{"resource", resource_.resource}, {"error", error.describe()}});
    sleepUnlessStopped(delay);
  }
  return base::Ok{};
}

base::Result<void> Reflector::list() {
  kube::ListOptions options;
  options.labelSelector = options_.labelSelector;
  options.fieldSelector = options_.fieldSelector;
  options.limit = options_.pageSize;
  options.resourceVersion = relistResourceVersion();
  if (!options.resourceVersion.empty()) options.resourceVersionMatch = "NotOlderThan";

  // Each page is transformed and compacted as it arrives: a list of N objects is never
  // held whole, parsed.
  ObjectCache::Replacement fresh = cache_.replacement();
  base::Result<std::string> listed = kube::listPages(
      client_, resource_, options_.namespace_, options,
      [&](std::vector<json>& items) {
        for (json& item : items) {
          if (options_.transform) options_.transform(item);
          fresh.add(item);
          item = json();
        }
      },
      [&] { fresh = cache_.replacement(); });
  if (!listed.ok()) {
    if (listed.error().kind() == ErrorKind::kGone) {
      std::lock_guard lock(mutex_);
      lastVersionUnavailable_ = true;
    }
    Error error = std::move(listed).error();
    return std::move(error.context("list " + resource_.resource));
  }
  cache_.replace(std::move(fresh), [this](const ObjectCache::Delta& delta) {
    if (!delta.oldObject) {
      handler_.onAdd(delta.newObject);
    } else if (!delta.newObject) {
      handler_.onDelete(delta.oldObject);
    } else {
      handler_.onUpdate(delta.oldObject, delta.newObject);
    }
  });
  {
    std::lock_guard lock(mutex_);
    lastResourceVersion_ = std::move(*listed);
    lastVersionUnavailable_ = false;
  }
  synced_.store(true);
  listCount_.fetch_add(1);
  return base::Ok{};
}

base::Result<void> Reflector::watchOnce() {
  kube::WatchOptions options;
  options.resourceVersion = lastSyncResourceVersion();
  options.labelSelector = options_.labelSelector;
  options.fieldSelector = options_.fieldSelector;
  options.allowWatchBookmarks = true;
  // A random length spreads reconnects of many watchers over time.
  const auto minSeconds = options_.minWatchTimeout.count();
  options.timeoutSeconds =
      static_cast<int>(minSeconds + static_cast<int64_t>(options_.random() * minSeconds));

  auto opened = client_.watch(resource_, options_.namespace_, options);
  if (!opened.ok()) {
    Error error = std::move(opened).error();
    return std::move(error.context("watch " + resource_.resource));
  }
  std::unique_ptr<kube::WatchStream> stream = std::move(opened).value();
  {
    std::lock_guard lock(mutex_);
    if (stopped_.load()) return base::Ok{};
    currentWatch_ = stream.get();
  }
  base::Result<void> result = base::Ok{};
  while (true) {
    auto next = stream->next();
    if (!next.ok()) {
      Error error = std::move(next).error();
      result = std::move(error.context("watch " + resource_.resource));
      break;
    }
    if (!next->has_value()) break;  // the server ended the watch, or stop()
    kube::WatchEvent& event = **next;
    if (event.type == kube::WatchEventType::kError) {
      result = watchErrorToError(event.object);
      break;
    }
    std::string version = resourceVersionOf(event.object);
    if (options_.transform && event.type != kube::WatchEventType::kBookmark) {
      options_.transform(event.object);
    }
    switch (event.type) {
      case kube::WatchEventType::kAdded:
      case kube::WatchEventType::kModified: {
        const ObjectCache::Delta stored = cache_.upsert(std::move(event.object));
        if (stored.oldObject) {
          handler_.onUpdate(stored.oldObject, stored.newObject);
        } else {
          handler_.onAdd(stored.newObject);
        }
        break;
      }
      case kube::WatchEventType::kDeleted: {
        cache_.erase(objectKey(event.object));
        // The final state the server sent, as client-go delivers it.
        handler_.onDelete(std::make_shared<const json>(std::move(event.object)));
        break;
      }
      case kube::WatchEventType::kBookmark:
      case kube::WatchEventType::kError:
        break;
    }
    setLastResourceVersion(std::move(version));
  }
  {
    std::lock_guard lock(mutex_);
    currentWatch_ = nullptr;
  }
  return result;
}

}  // namespace relops::runtime
