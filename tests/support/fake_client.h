// The kube::Client test double: an in-memory API server good enough for unit
// tests of code that reads and writes objects (leader election, events,
// finalizers, informers). Like client-go's fake clientset it records every
// call as an action and lets a test inject failures through reactors; unlike
// it, it keeps the optimistic-concurrency rules that code depends on:
//   - one resourceVersion counter for all objects (as etcd's revision), bumped
//     on every write; update with a stale metadata.resourceVersion is a 409
//     Conflict, and so is a patch whose result carries a different one;
//   - create of an existing name is AlreadyExists, reads of a missing object
//     NotFound, with the API server's messages, HTTP codes and reasons;
//   - a JSON patch that does not apply (a failed `test` op) is 422 Invalid
//     with the API server's generic message and no causes;
//   - delete of an object with finalizers only sets deletionTimestamp; the
//     object goes when the last finalizer is removed;
//   - generation starts at 1 and is bumped when anything outside metadata
//     and status changes; with enableStatusSubresource() the main resource
//     ignores status and the "status" subresource changes nothing else;
//   - list with label/field selectors and limit/continue paging; watch from a
//     resourceVersion (410 Gone when it is older than the compacted history;
//     "" or "0" start with synthetic ADDED events), bookmarks on demand.
// Server-side apply is approximated by a JSON merge patch that creates a
// missing object (no field ownership). A watch filters on the new object only.
//
// Test doubles never stand in for the API server in tests that claim
// cluster behaviour (DESIGN.md); this is for unit tests.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <ctime>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "operator/base/clock.h"
#include "operator/kube/client.h"

namespace relops::testing {

// One call made on the FakeClient, as client-go's testing.Action.
struct FakeAction {
  std::string verb;  // get, list, create, update, patch, delete, watch, getRaw
  kube::ResourceRef resource;
  std::string namespace_;
  std::string name;
  std::string subresource;
  std::optional<kube::PatchType> patchType;
  std::string body;  // the object (create/update) or the patch, as sent
};

class FakeClient final : public kube::Client {
 public:
  using Json = kube::Json;
  using Reactor = std::function<std::optional<base::Error>(const FakeAction&)>;

  // Timestamps (creationTimestamp, deletionTimestamp) come from `clock` when
  // given; it must outlive the client.
  explicit FakeClient(const base::Clock* clock = nullptr)
      : state_(std::make_shared<State>()), clock_(clock) {}

  // --- seeding and inspection (no actions recorded, no reactors) ---

  // Stores an object as create would; returns it as stored.
  Json add(const kube::ResourceRef& resource, Json object) {
    std::lock_guard lock(state_->mutex);
    base::Result<Json> created = createLocked(resource, std::move(object));
    if (!created.ok()) throw std::runtime_error(created.error().message());
    return *created;
  }

  std::optional<Json> object(const kube::ResourceRef& resource, const kube::ObjectKey& key) const {
    std::lock_guard lock(state_->mutex);
    const auto* objects = bucket(resource);
    if (objects == nullptr) return std::nullopt;
    const auto it = objects->find(normalise(resource, key));
    if (it == objects->end()) return std::nullopt;
    return it->second;
  }

  std::vector<Json> objects(const kube::ResourceRef& resource, const std::string& ns = "") const {
    std::lock_guard lock(state_->mutex);
    std::vector<Json> out;
    if (const auto* objects = bucket(resource)) {
      for (const auto& [key, object] : *objects) {
        if (ns.empty() || key.namespace_ == ns) out.push_back(object);
      }
    }
    return out;
  }

  std::vector<FakeAction> actions() const {
    std::lock_guard lock(actionsMutex_);
    return actions_;
  }
  // Actions of one verb (and resource, when given).
  std::vector<FakeAction> actions(const std::string& verb,
                                  const std::optional<kube::ResourceRef>& resource = {}) const {
    std::vector<FakeAction> out;
    for (FakeAction& action : actions()) {
      if (action.verb == verb && (!resource || sameResource(action.resource, *resource))) {
        out.push_back(std::move(action));
      }
    }
    return out;
  }
  void clearActions() {
    std::lock_guard lock(actionsMutex_);
    actions_.clear();
  }

  // The current resourceVersion counter.
  int64_t resourceVersion() const {
    std::lock_guard lock(state_->mutex);
    return state_->resourceVersion;
  }

  // --- failure injection ---

  // Reactors run in order before a call touches state, without any lock held
  // (a reactor may block, or call this client); the first to return an error
  // fails the call and nothing changes.
  void prependReactor(Reactor reactor) {
    std::lock_guard lock(actionsMutex_);
    reactors_.insert(reactors_.begin(), std::move(reactor));
  }
  // Fails the next `times` calls of `verb` on `resource` with `error`.
  void failNext(std::string verb, kube::ResourceRef resource, base::Error error, int times = 1) {
    auto remaining = std::make_shared<int>(times);
    auto mutex = std::make_shared<std::mutex>();
    prependReactor([=](const FakeAction& action) -> std::optional<base::Error> {
      std::lock_guard lock(*mutex);
      if (*remaining <= 0 || action.verb != verb || !sameResource(action.resource, resource)) {
        return std::nullopt;
      }
      --*remaining;
      return error;
    });
  }

  void enableStatusSubresource(const kube::ResourceRef& resource) {
    std::lock_guard lock(state_->mutex);
    statusSubresource_.insert_or_assign(resourceKey(resource), true);
  }
  void setRaw(const std::string& path, Json value) {
    std::lock_guard lock(state_->mutex);
    raw_[path] = std::move(value);
  }

  // --- watch control ---

  // Sends a BOOKMARK at the current resourceVersion to the resource's watches.
  void sendBookmark(const kube::ResourceRef& resource) {
    std::lock_guard lock(state_->mutex);
    Json bookmark = {{"apiVersion", resource.apiVersion()},
                     {"kind", resource.kind},
                     {"metadata", {{"resourceVersion", std::to_string(state_->resourceVersion)}}}};
    appendLocked(resource, kube::WatchEventType::kBookmark, std::move(bookmark));
  }
  // Ends every open watch as the server does at timeoutSeconds.
  void closeWatches() {
    std::lock_guard lock(state_->mutex);
    ++state_->closeEpoch;
    state_->changed.notify_all();
  }
  // Forgets the event history: a watch from an older resourceVersion is 410 Gone.
  void compact() {
    std::lock_guard lock(state_->mutex);
    state_->history.clear();
    state_->compactedResourceVersion = state_->resourceVersion;
  }

  // --- kube::Client ---

  base::Result<Json> get(const kube::ResourceRef& resource, const kube::ObjectKey& key) override {
    if (auto error = react({"get", resource, key.namespace_, key.name, "", {}, ""})) return *error;
    std::lock_guard lock(state_->mutex);
    const auto* objects = bucket(resource);
    const kube::ObjectKey normal = normalise(resource, key);
    if (objects == nullptr || !objects->contains(normal)) return notFound(resource, key.name);
    return objects->at(normal);
  }

  base::Result<kube::ListPage> list(const kube::ResourceRef& resource, const std::string& ns,
                                    const kube::ListOptions& options) override {
    if (auto error = react({"list", resource, ns, "", "", {}, ""})) return *error;
    auto labels = parseLabelSelector(options.labelSelector);
    if (!labels) return badRequest("unable to parse requirement: " + options.labelSelector);
    auto fields = parseFieldSelector(options.fieldSelector);
    if (!fields) return badRequest("invalid field selector: " + options.fieldSelector);
    std::lock_guard lock(state_->mutex);
    kube::ListPage page;
    page.resourceVersion = std::to_string(state_->resourceVersion);
    const auto* objects = bucket(resource);
    if (objects == nullptr) return page;
    const kube::ObjectKey after = kube::ObjectKey::parse(options.continueToken);
    for (const auto& [key, object] : *objects) {
      if (!options.continueToken.empty() && !(after < key)) continue;
      if (!ns.empty() && key.namespace_ != ns) continue;
      if (!matches(object, *labels, *fields)) continue;
      if (options.limit > 0 && static_cast<int>(page.items.size()) == options.limit) {
        // Opaque to callers; here the key of the last item returned.
        const Json& last = page.items.back()["metadata"];
        page.continueToken =
            kube::ObjectKey{last.value("namespace", ""), last.value("name", "")}.str();
        break;
      }
      page.items.push_back(object);
    }
    return page;
  }

  base::Result<Json> create(const kube::ResourceRef& resource, const Json& object,
                            const kube::WriteOptions& options = {}) override {
    const Json& metadata = object.contains("metadata") ? object["metadata"] : Json::object();
    if (auto error = react({"create",
                            resource,
                            metadata.value("namespace", ""),
                            metadata.value("name", ""),
                            options.subresource,
                            {},
                            object.dump()})) {
      return *error;
    }
    std::lock_guard lock(state_->mutex);
    if (options.dryRun) return object;
    return createLocked(resource, object);
  }

  base::Result<Json> update(const kube::ResourceRef& resource, const Json& object,
                            const kube::WriteOptions& options = {}) override {
    const Json& metadata = object.contains("metadata") ? object["metadata"] : Json::object();
    const kube::ObjectKey key{metadata.value("namespace", ""), metadata.value("name", "")};
    if (auto error = react({"update",
                            resource,
                            key.namespace_,
                            key.name,
                            options.subresource,
                            {},
                            object.dump()})) {
      return *error;
    }
    std::lock_guard lock(state_->mutex);
    Json* current = find(resource, key);
    if (current == nullptr) return notFound(resource, key.name);
    const std::string sentVersion = metadata.value("resourceVersion", "");
    if (!sentVersion.empty() && sentVersion != versionOf(*current)) {
      return conflict(resource, key.name);
    }
    return writeLocked(resource, key, *current, object, options);
  }

  base::Result<Json> patch(const kube::ResourceRef& resource, const kube::ObjectKey& key,
                           kube::PatchType type, const std::string& body,
                           const kube::WriteOptions& options = {}) override {
    if (auto error =
            react({"patch", resource, key.namespace_, key.name, options.subresource, type, body})) {
      return *error;
    }
    Json patchDocument = Json::parse(body, nullptr, false);
    if (patchDocument.is_discarded()) return badRequest("the patch is not valid JSON");
    std::lock_guard lock(state_->mutex);
    Json* current = find(resource, key);
    if (current == nullptr) {
      if (type != kube::PatchType::kApply) return notFound(resource, key.name);
      // Server-side apply creates what is missing.
      Json& metadata = patchDocument["metadata"];
      if (!metadata.contains("name")) metadata["name"] = key.name;
      if (resource.namespaced && !metadata.contains("namespace")) {
        metadata["namespace"] = key.namespace_;
      }
      return createLocked(resource, patchDocument);
    }
    Json patched = *current;
    if (type == kube::PatchType::kJson) {
      if (!patchDocument.is_array()) return badRequest("a JSON patch must be an array");
      for (const Json& operation : patchDocument) {
        try {
          patched = patched.patch(Json::array({operation}));
        } catch (const Json::exception&) {
          // Exactly what the API server answers when a JSON patch does not
          // apply (a failed `test` included): apiserver's patch handler wraps
          // the error in NewGenericServerResponse(422), whose Status keeps
          // only this generic message and no causes.
          return base::Error(base::ErrorKind::kInvalid,
                             "the server rejected our request due to an error in our request")
              .withHttpStatus(422)
              .withReason("Invalid");
        }
      }
    } else {
      patched.merge_patch(patchDocument);
    }
    // A resourceVersion in the patched object is a precondition (kubectl
    // patch with metadata.resourceVersion; controller-runtime's optimistic lock).
    const std::string patchedVersion =
        patched.contains("metadata") ? patched["metadata"].value("resourceVersion", "") : "";
    if (!patchedVersion.empty() && patchedVersion != versionOf(*current)) {
      return conflict(resource, key.name);
    }
    return writeLocked(resource, normalise(resource, key), *current, patched, options);
  }

  base::Result<void> remove(const kube::ResourceRef& resource, const kube::ObjectKey& key,
                            const kube::DeleteOptions& options = {}) override {
    if (auto error = react({"delete", resource, key.namespace_, key.name, "", {}, ""})) {
      return *error;
    }
    std::lock_guard lock(state_->mutex);
    Json* current = find(resource, key);
    if (current == nullptr) return notFound(resource, key.name);
    const Json& metadata = (*current)["metadata"];
    if (options.preconditionUid && *options.preconditionUid != metadata.value("uid", "")) {
      return conflictMessage(
          "Precondition failed: UID in precondition: " + *options.preconditionUid +
          ", UID in object meta: " + metadata.value("uid", ""));
    }
    if (options.preconditionResourceVersion &&
        *options.preconditionResourceVersion != versionOf(*current)) {
      return conflictMessage("Precondition failed: ResourceVersion in precondition: " +
                             *options.preconditionResourceVersion +
                             ", ResourceVersion in object meta: " + versionOf(*current));
    }
    const bool hasFinalizers = metadata.contains("finalizers") && !metadata["finalizers"].empty();
    if (hasFinalizers) {
      if (!metadata.contains("deletionTimestamp")) {
        Json updated = *current;
        updated["metadata"]["deletionTimestamp"] = timestamp();
        updated["metadata"]["deletionGracePeriodSeconds"] = 0;
        storeLocked(resource, normalise(resource, key), std::move(updated), false);
      }
      return base::Ok{};
    }
    deleteLocked(resource, normalise(resource, key));
    return base::Ok{};
  }

  base::Result<std::unique_ptr<kube::WatchStream>> watch(
      const kube::ResourceRef& resource, const std::string& ns,
      const kube::WatchOptions& options) override {
    if (auto error = react({"watch", resource, ns, "", "", {}, ""})) return *error;
    auto labels = parseLabelSelector(options.labelSelector);
    if (!labels) return badRequest("unable to parse requirement: " + options.labelSelector);
    auto fields = parseFieldSelector(options.fieldSelector);
    if (!fields) return badRequest("invalid field selector: " + options.fieldSelector);
    std::lock_guard lock(state_->mutex);
    auto stream = std::make_unique<Stream>(state_);
    stream->resource = resourceKey(resource);
    stream->ns = ns;
    stream->labels = *labels;
    stream->fields = *fields;
    stream->bookmarks = options.allowWatchBookmarks;
    stream->epoch = state_->closeEpoch;
    stream->position = state_->nextSequence;
    const std::string& from = options.resourceVersion;
    if (from.empty() || from == "0") {
      // "Get state and start at most recent": synthetic ADDED for what exists.
      if (const auto* objects = bucket(resource)) {
        for (const auto& [key, object] : *objects) {
          if ((ns.empty() || key.namespace_ == ns) && matches(object, *labels, *fields)) {
            stream->initial.push_back({kube::WatchEventType::kAdded, object});
          }
        }
      }
    } else {
      const int64_t version = std::strtoll(from.c_str(), nullptr, 10);
      if (version < state_->compactedResourceVersion) {
        return base::Error(base::ErrorKind::kGone, "too old resource version: " + from + " (" +
                                                       std::to_string(state_->resourceVersion) +
                                                       ")")
            .withHttpStatus(410)
            .withReason("Expired");
      }
      // Replay what happened after `version`.
      stream->position = state_->nextSequence;
      for (const Entry& entry : state_->history) {
        if (entry.resourceVersion > version) {
          stream->position = entry.sequence;
          break;
        }
      }
    }
    return std::unique_ptr<kube::WatchStream>(std::move(stream));
  }

  base::Result<Json> getRaw(const std::string& path) override {
    if (auto error = react({"getRaw", {}, "", path, "", {}, ""})) return *error;
    std::lock_guard lock(state_->mutex);
    const auto it = raw_.find(path);
    if (it == raw_.end()) {
      return base::Error(base::ErrorKind::kNotFound,
                         "the server could not find the requested resource")
          .withHttpStatus(404)
          .withReason("NotFound");
    }
    return it->second;
  }

 private:
  // A label requirement: key op values (op: "=", "!=", "in", "notin", "exists", "!").
  struct Requirement {
    std::string key;
    std::string op;
    std::vector<std::string> values;
  };
  struct Entry {
    uint64_t sequence;
    int64_t resourceVersion;
    std::string resource;
    kube::WatchEventType type;
    Json object;
  };
  struct State {
    std::mutex mutex;
    std::condition_variable changed;
    int64_t resourceVersion = 1000;
    int64_t compactedResourceVersion = 0;
    uint64_t nextSequence = 0;
    uint64_t closeEpoch = 0;
    std::deque<Entry> history;
  };
  static constexpr size_t kMaxHistory = 100000;

  class Stream final : public kube::WatchStream {
   public:
    explicit Stream(std::shared_ptr<State> state) : state_(std::move(state)) {}

    base::Result<std::optional<kube::WatchEvent>> next() override {
      std::unique_lock lock(state_->mutex);
      while (true) {
        if (stopped_ || epoch != state_->closeEpoch) return std::optional<kube::WatchEvent>();
        if (!initial.empty()) {
          kube::WatchEvent event = std::move(initial.front());
          initial.pop_front();
          return std::optional<kube::WatchEvent>(std::move(event));
        }
        for (const Entry& entry : state_->history) {
          if (entry.sequence < position) continue;
          position = entry.sequence + 1;
          if (entry.resource != resource) continue;
          if (entry.type == kube::WatchEventType::kBookmark) {
            if (bookmarks)
              return std::optional<kube::WatchEvent>(kube::WatchEvent{entry.type, entry.object});
            continue;
          }
          const Json& metadata = entry.object["metadata"];
          if (!ns.empty() && metadata.value("namespace", "") != ns) continue;
          if (!matches(entry.object, labels, fields)) continue;
          return std::optional<kube::WatchEvent>(kube::WatchEvent{entry.type, entry.object});
        }
        state_->changed.wait(lock);
      }
    }

    void stop() override {
      std::lock_guard lock(state_->mutex);
      stopped_ = true;
      state_->changed.notify_all();
    }

    std::string resource;
    std::string ns;
    std::vector<Requirement> labels;
    std::vector<Requirement> fields;
    bool bookmarks = true;
    uint64_t epoch = 0;
    uint64_t position = 0;
    std::deque<kube::WatchEvent> initial;

   private:
    std::shared_ptr<State> state_;
    bool stopped_ = false;
  };

  static bool sameResource(const kube::ResourceRef& a, const kube::ResourceRef& b) {
    return a.group == b.group && a.resource == b.resource;
  }
  static std::string resourceKey(const kube::ResourceRef& resource) {
    return resource.group + "/" + resource.resource;
  }
  static std::string qualified(const kube::ResourceRef& resource) {
    return resource.group.empty() ? resource.resource : resource.resource + "." + resource.group;
  }
  static kube::ObjectKey normalise(const kube::ResourceRef& resource, kube::ObjectKey key) {
    if (!resource.namespaced) key.namespace_.clear();
    return key;
  }
  static std::string versionOf(const Json& object) {
    return object["metadata"].value("resourceVersion", "");
  }

  static base::Error notFound(const kube::ResourceRef& resource, const std::string& name) {
    return base::Error(base::ErrorKind::kNotFound,
                       qualified(resource) + " \"" + name + "\" not found")
        .withHttpStatus(404)
        .withReason("NotFound");
  }
  static base::Error conflict(const kube::ResourceRef& resource, const std::string& name) {
    return conflictMessage("Operation cannot be fulfilled on " + qualified(resource) + " \"" +
                           name +
                           "\": the object has been modified; please apply your changes to the "
                           "latest version and try again");
  }
  static base::Error conflictMessage(std::string message) {
    return base::Error(base::ErrorKind::kConflict, std::move(message))
        .withHttpStatus(409)
        .withReason("Conflict");
  }
  static base::Error badRequest(std::string message) {
    return base::Error(base::ErrorKind::kBadRequest, std::move(message))
        .withHttpStatus(400)
        .withReason("BadRequest");
  }

  std::optional<base::Error> react(FakeAction action) {
    std::vector<Reactor> reactors;
    {
      std::lock_guard lock(actionsMutex_);
      actions_.push_back(action);
      reactors = reactors_;
    }
    for (const Reactor& reactor : reactors) {
      if (auto error = reactor(action)) return error;
    }
    return std::nullopt;
  }

  const std::map<kube::ObjectKey, Json>* bucket(const kube::ResourceRef& resource) const {
    const auto it = store_.find(resourceKey(resource));
    return it == store_.end() ? nullptr : &it->second;
  }
  Json* find(const kube::ResourceRef& resource, const kube::ObjectKey& key) {
    const auto it = store_.find(resourceKey(resource));
    if (it == store_.end()) return nullptr;
    const auto object = it->second.find(normalise(resource, key));
    return object == it->second.end() ? nullptr : &object->second;
  }

  std::string timestamp() const {
    const auto now = clock_ != nullptr ? clock_->now() : std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
  }

  base::Result<Json> createLocked(const kube::ResourceRef& resource, Json object) {
    if (!object.is_object()) return badRequest("the object is not a JSON object");
    Json& metadata = object["metadata"];
    if (!metadata.is_object()) metadata = Json::object();
    std::string name = metadata.value("name", "");
    if (name.empty() && metadata.contains("generateName")) {
      name = metadata["generateName"].get<std::string>() + std::to_string(++generatedNames_);
      metadata["name"] = name;
    }
    if (name.empty()) return badRequest("name or generateName is required");
    if (resource.namespaced && metadata.value("namespace", "").empty()) {
      return badRequest("the namespace of the object is required for " + qualified(resource));
    }
    if (!resource.namespaced) metadata.erase("namespace");
    const kube::ObjectKey key{metadata.value("namespace", ""), name};
    if (find(resource, key) != nullptr) {
      return base::Error(base::ErrorKind::kAlreadyExists,
                         qualified(resource) + " \"" + name + "\" already exists")
          .withHttpStatus(409)
          .withReason("AlreadyExists");
    }
    if (!object.contains("apiVersion")) object["apiVersion"] = resource.apiVersion();
    if (!object.contains("kind")) object["kind"] = resource.kind;
    metadata["uid"] = "uid-" + std::to_string(++uids_);
    metadata["creationTimestamp"] = timestamp();
    metadata["generation"] = 1;
    metadata.erase("deletionTimestamp");
    if (statusSubresource_.contains(resourceKey(resource))) object.erase("status");
    return storeLocked(resource, key, std::move(object), true);
  }

  // The part of an object that bumps generation: all but metadata and status.
  static Json specOf(Json object) {
    object.erase("metadata");
    object.erase("status");
    return object;
  }

  base::Result<Json> writeLocked(const kube::ResourceRef& resource, const kube::ObjectKey& key,
                                 const Json& current, Json desired,
                                 const kube::WriteOptions& options) {
    if (!desired.is_object()) return badRequest("the object is not a JSON object");
    Json next = current;
    const bool statusSubresource = statusSubresource_.contains(resourceKey(resource));
    if (options.subresource == "status") {
      if (desired.contains("status")) {
        next["status"] = desired["status"];
      } else {
        next.erase("status");
      }
    } else {
      next = desired;
      // Fields the server owns survive whatever the client sent.
      Json& metadata = next["metadata"];
      if (!metadata.is_object()) metadata = Json::object();
      const Json& old = current["metadata"];
      for (const char* field : {"uid", "creationTimestamp", "generation", "name", "namespace",
                                "deletionTimestamp", "deletionGracePeriodSeconds"}) {
        if (old.contains(field)) {
          metadata[field] = old[field];
        } else {
          metadata.erase(field);
        }
      }
      if (statusSubresource) {
        if (current.contains("status")) {
          next["status"] = current["status"];
        } else {
          next.erase("status");
        }
      }
      if (specOf(next) != specOf(current)) {
        metadata["generation"] = old.value("generation", 1) + 1;
      }
    }
    if (options.dryRun) return next;
    const Json& metadata = next["metadata"];
    const bool finalizersLeft = metadata.contains("finalizers") && !metadata["finalizers"].empty();
    if (metadata.contains("deletionTimestamp") && !finalizersLeft) {
      // The last finalizer is gone: the deletion completes.
      next["metadata"]["resourceVersion"] = std::to_string(++state_->resourceVersion);
      Json deleted = next;
      store_[resourceKey(resource)].erase(key);
      appendLocked(resource, kube::WatchEventType::kDeleted, deleted);
      return deleted;
    }
    if (next == current) return current;  // a no-op write does not bump resourceVersion
    return storeLocked(resource, key, std::move(next), false);
  }

  Json storeLocked(const kube::ResourceRef& resource, const kube::ObjectKey& key, Json object,
                   bool created) {
    object["metadata"]["resourceVersion"] = std::to_string(++state_->resourceVersion);
    store_[resourceKey(resource)][key] = object;
    appendLocked(resource, created ? kube::WatchEventType::kAdded : kube::WatchEventType::kModified,
                 object);
    return object;
  }

  void deleteLocked(const kube::ResourceRef& resource, const kube::ObjectKey& key) {
    auto& objects = store_[resourceKey(resource)];
    Json deleted = objects.at(key);
    objects.erase(key);
    deleted["metadata"]["resourceVersion"] = std::to_string(++state_->resourceVersion);
    appendLocked(resource, kube::WatchEventType::kDeleted, std::move(deleted));
  }

  void appendLocked(const kube::ResourceRef& resource, kube::WatchEventType type, Json object) {
    state_->history.push_back({state_->nextSequence++, state_->resourceVersion,
                               resourceKey(resource), type, std::move(object)});
    while (state_->history.size() > kMaxHistory) {
      state_->compactedResourceVersion = state_->history.front().resourceVersion;
      state_->history.pop_front();
    }
    state_->changed.notify_all();
  }

  // --- selectors ---

  static std::string trim(std::string text) {
    const auto first = text.find_first_not_of(' ');
    if (first == std::string::npos) return "";
    return text.substr(first, text.find_last_not_of(' ') - first + 1);
  }

  static std::optional<std::vector<Requirement>> parseLabelSelector(const std::string& selector) {
    std::vector<Requirement> requirements;
    std::vector<std::string> parts;
    std::string current;
    int depth = 0;
    for (const char c : selector) {
      if (c == '(') ++depth;
      if (c == ')') --depth;
      if (c == ',' && depth == 0) {
        parts.push_back(current);
        current.clear();
      } else {
        current.push_back(c);
      }
    }
    if (!current.empty() || !parts.empty()) parts.push_back(current);
    for (std::string part : parts) {
      part = trim(part);
      if (part.empty()) return std::nullopt;
      Requirement requirement;
      size_t at = std::string::npos;
      if ((at = part.find(" notin ")) != std::string::npos ||
          (at = part.find(" in ")) != std::string::npos) {
        const bool notIn = part.compare(at, 7, " notin ") == 0;
        requirement.key = trim(part.substr(0, at));
        requirement.op = notIn ? "notin" : "in";
        std::string list = trim(part.substr(at + (notIn ? 7 : 4)));
        if (list.size() < 2 || list.front() != '(' || list.back() != ')') return std::nullopt;
        list = list.substr(1, list.size() - 2);
        size_t start = 0;
        while (start <= list.size()) {
          const size_t comma = list.find(',', start);
          requirement.values.push_back(trim(list.substr(start, comma - start)));
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
      } else if ((at = part.find("!=")) != std::string::npos) {
        requirement = {trim(part.substr(0, at)), "!=", {trim(part.substr(at + 2))}};
      } else if ((at = part.find("==")) != std::string::npos) {
        requirement = {trim(part.substr(0, at)), "=", {trim(part.substr(at + 2))}};
      } else if ((at = part.find('=')) != std::string::npos) {
        requirement = {trim(part.substr(0, at)), "=", {trim(part.substr(at + 1))}};
      } else if (part.front() == '!') {
        requirement = {trim(part.substr(1)), "!", {}};
      } else {
        requirement = {part, "exists", {}};
      }
      if (requirement.key.empty()) return std::nullopt;
      requirements.push_back(std::move(requirement));
    }
    return requirements;
  }

  static std::optional<std::vector<Requirement>> parseFieldSelector(const std::string& selector) {
    auto requirements = parseLabelSelector(selector);
    if (!requirements) return std::nullopt;
    for (const Requirement& requirement : *requirements) {
      if (requirement.op != "=" && requirement.op != "!=") return std::nullopt;
    }
    return requirements;
  }

  static bool satisfied(const Requirement& requirement, const std::optional<std::string>& value) {
    if (requirement.op == "exists") return value.has_value();
    if (requirement.op == "!") return !value.has_value();
    if (requirement.op == "=") return value && *value == requirement.values.front();
    if (requirement.op == "!=") return !value || *value != requirement.values.front();
    const bool in = value && std::find(requirement.values.begin(), requirement.values.end(),
                                       *value) != requirement.values.end();
    return requirement.op == "in" ? in : !in;
  }

  static bool matches(const Json& object, const std::vector<Requirement>& labels,
                      const std::vector<Requirement>& fields) {
    const Json& metadata = object["metadata"];
    for (const Requirement& requirement : labels) {
      std::optional<std::string> value;
      if (metadata.contains("labels") && metadata["labels"].contains(requirement.key)) {
        value = metadata["labels"][requirement.key].get<std::string>();
      }
      if (!satisfied(requirement, value)) return false;
    }
    for (const Requirement& requirement : fields) {
      // A dotted path into the object: metadata.name, status.phase, ...
      const Json* node = &object;
      std::string path = requirement.key;
      size_t start = 0;
      while (node != nullptr) {
        const size_t dot = path.find('.', start);
        const std::string part = path.substr(start, dot - start);
        node = node->is_object() && node->contains(part) ? &(*node)[part] : nullptr;
        if (dot == std::string::npos) break;
        start = dot + 1;
      }
      std::optional<std::string> value;
      if (node != nullptr) value = node->is_string() ? node->get<std::string>() : node->dump();
      if (!satisfied(requirement, value.value_or(""))) return false;
    }
    return true;
  }

  std::shared_ptr<State> state_;
  const base::Clock* clock_;
  std::map<std::string, std::map<kube::ObjectKey, Json>> store_;  // under state_->mutex
  std::map<std::string, bool> statusSubresource_;
  std::map<std::string, Json> raw_;
  int64_t uids_ = 0;
  int64_t generatedNames_ = 0;

  mutable std::mutex actionsMutex_;
  std::vector<FakeAction> actions_;
  std::vector<Reactor> reactors_;
};

}  // namespace relops::testing
