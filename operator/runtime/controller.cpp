#include "operator/runtime/controller.h"

#include <algorithm>
#include <cstdio>
#include <random>

#include "operator/kube/api_error.h"
#include "operator/kube/client.h"
#include "operator/runtime/act.h"
#include "operator/runtime/metrics.h"

namespace relops::runtime {

using nlohmann::json;

namespace {

std::string newReconcileId() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  const uint64_t high = engine();
  const uint64_t low = engine();
  char text[37];
  // UUID-shaped, like controller-runtime's reconcileID.
  std::snprintf(text, sizeof text, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(high >> 32),
                static_cast<unsigned>((high >> 16) & 0xffff), static_cast<unsigned>(high & 0xffff),
                static_cast<unsigned>(low >> 48),
                static_cast<unsigned long long>(low & 0xffffffffffffULL));
  return text;
}

std::string groupOf(const std::string& apiVersion) {
  const auto slash = apiVersion.find('/');
  return slash == std::string::npos ? "" : apiVersion.substr(0, slash);
}

WorkQueue::Options queueOptions(const Controller::Options& options) {
  WorkQueue::Options queue;
  queue.name = options.name;
  queue.metrics = options.metrics;
  return queue;
}

}  // namespace

ReconcileResult ReconcileResult::requeueAfter(std::chrono::nanoseconds delay) {
  ReconcileResult result(Kind::kRequeueAfter);
  result.delay_ = delay;
  return result;
}

ReconcileResult ReconcileResult::error(base::Error error) {
  ReconcileResult result(Kind::kError);
  result.error_ = std::move(error);
  return result;
}

std::vector<kube::ObjectKey> controllingOwners(const json& child, const std::string& ownerGroup,
                                               const std::string& ownerKind) {
  std::vector<kube::ObjectKey> owners;
  const json& metadata = child.contains("metadata") ? child.at("metadata") : json::object();
  const auto references = metadata.find("ownerReferences");
  if (references == metadata.end() || !references->is_array()) return owners;
  for (const json& reference : *references) {
    if (!reference.is_object() || !reference.value("controller", false)) continue;
    if (reference.value("kind", "") != ownerKind) continue;
    if (groupOf(reference.value("apiVersion", "")) != ownerGroup) continue;
    owners.push_back({metadata.value("namespace", ""), reference.value("name", "")});
  }
  return owners;
}

Controller::Controller(Options options, std::vector<Informer*> primaries, Reconciler& reconciler,
                       const base::Clock& clock, Logger log)
    : options_(std::move(options)),
      primaries_(std::move(primaries)),
      resource_(primaries_.at(0)->resource()),
      reconciler_(reconciler),
      clock_(clock),
      log_(log.named(options_.name)),
      queue_(clock, queueOptions(options_)) {}

Controller::~Controller() { stop(); }

void Controller::enqueue(const kube::ObjectKey& key) { queue_.add(key.str()); }

void Controller::enqueueOwner(const json& child) {
  for (const kube::ObjectKey& owner : controllingOwners(child, resource_.group, resource_.kind)) {
    enqueue(owner);
  }
}

bool Controller::hasSynced() const {
  for (const Informer* informer : primaries_) {
    if (!informer->hasSynced()) return false;
  }
  for (const Informer* informer : secondaries_) {
    if (!informer->hasSynced()) return false;
  }
  return true;
}

void Controller::owns(Informer& children) {
  secondaries_.push_back(&children);
  children.addHandlers({
      .onAdd = [this](const ObjectPtr& object) { enqueueOwner(*object); },
      .onUpdate =
          [this](const ObjectPtr& oldObject, const ObjectPtr& newObject) {
            // An owner reference may have moved: both owners hear of it.
            enqueueOwner(*oldObject);
            enqueueOwner(*newObject);
          },
      .onDelete = [this](const ObjectPtr& object) { enqueueOwner(*object); },
  });
}

void Controller::watches(Informer& related, MapFunction map) {
  secondaries_.push_back(&related);
  auto mapped = [this, map = std::move(map)](const ObjectPtr& object) {
    for (const kube::ObjectKey& key : map(*object)) enqueue(key);
  };
  related.addHandlers({
      .onAdd = mapped,
      .onUpdate =
          [mapped](const ObjectPtr& oldObject, const ObjectPtr& newObject) {
            mapped(oldObject);
            mapped(newObject);
          },
      .onDelete = mapped,
  });
}

size_t Controller::resync() {
  size_t queued = 0;
  for (const Informer* primary : primaries_) {
    for (const std::string& key : primary->cache().keys()) {
      queue_.add(key);
      ++queued;
    }
  }
  return queued;
}

void Controller::start() {
  if (started_) return;
  started_ = true;
  auto enqueueObject = [this](const ObjectPtr& object) { queue_.add(objectKey(*object)); };
  for (Informer* primary : primaries_) {
    primary->addHandlers({
        .onAdd = enqueueObject,
        .onUpdate = [enqueueObject](const ObjectPtr&,
                                    const ObjectPtr& newObject) { enqueueObject(newObject); },
        .onDelete = enqueueObject,
    });
  }
  if (options_.metrics != nullptr) {
    options_.metrics->maxConcurrentReconciles.with({options_.name}).set(options_.workers);
    options_.metrics->activeWorkers.with({options_.name}).set(0);
    // controller-runtime's initMetrics: the error counters exist from the start at 0, so a
    // rate() of them reads 0 (a dashboard panel), not "no data".
    options_.metrics->reconcileErrors.with({options_.name}).inc(0);
    options_.metrics->terminalReconcileErrors.with({options_.name}).inc(0);
  }
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers_.emplace_back([this] { worker(); });
  }
  log_.info("started", {{"workers", static_cast<int64_t>(options_.workers)},
                        {"resource", resource_.resource}});
}

void Controller::stop() {
  if (!started_) return;
  started_ = false;
  // Stop taking work; keys still queued are dropped (the next leader or the
  // next start lists everything again). In-flight reconciles get a bounded
  // time to finish, as controller-runtime's graceful shutdown.
  stopping_.store(true);
  queue_.shutDown();
  const auto deadline = std::chrono::steady_clock::now() + options_.drainTimeout;
  while (active_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (active_.load() > 0) {
    // The process is about to exit; a reconcile stuck past the bound is
    // abandoned rather than holding shutdown hostage.
    log_.warn("in-flight reconciles did not finish before the drain timeout",
              {{"active", static_cast<int64_t>(active_.load())}});
    for (std::thread& worker : workers_) worker.detach();
  } else {
    for (std::thread& worker : workers_) worker.join();
  }
  workers_.clear();
  log_.info("stopped");
}

void Controller::worker() {
  while (std::optional<std::string> key = queue_.get()) {
    if (!stopping_.load()) process(*key);
    queue_.done(*key);
  }
}

void Controller::process(const std::string& keyText) {
  const kube::ObjectKey key = kube::ObjectKey::parse(keyText);
  const Logger log = log_.with({{"controller", options_.name},
                                {"namespace", key.namespace_},
                                {"name", key.name},
                                {"reconcileID", newReconcileId()}});
  const StandardMetrics* metrics = options_.metrics;
  active_.fetch_add(1);
  if (metrics != nullptr) metrics->activeWorkers.with({options_.name}).add(1);
  const auto started = clock_.steadyNow();
  log.debug("reconciling");
  ReconcileResult result = reconciler_.reconcile(key, log);
  const std::chrono::duration<double> took = clock_.steadyNow() - started;
  if (metrics != nullptr) {
    metrics->activeWorkers.with({options_.name}).add(-1);
    metrics->reconcileTime.with({options_.name}).observe(took.count());
  }
  active_.fetch_sub(1);
  // Counted before reconcileCount() moves: whoever waits on the count sees the outcome too.
  const char* outcome = result.kind() == ReconcileResult::Kind::kDone           ? "success"
                        : result.kind() == ReconcileResult::Kind::kRequeueAfter ? "requeue_after"
                                                                                : "error";
  if (metrics != nullptr) metrics->reconcileTotal.with({options_.name, outcome}).inc();
  reconciles_.fetch_add(1);
  // Which object is expensive must be visible without debug logging.
  if (took >= options_.slowReconcile) {
    log.info("slow reconcile", {{"seconds", took.count()}});
  }

  switch (result.kind()) {
    case ReconcileResult::Kind::kDone:
      queue_.forget(keyText);
      return;
    case ReconcileResult::Kind::kRequeueAfter:
      log.debug("requeue after",
                {{"seconds", std::chrono::duration<double>(result.delay()).count()}});
      queue_.forget(keyText);
      queue_.addAfter(keyText, result.delay());
      return;
    case ReconcileResult::Kind::kError:
      break;
  }
  const base::Error& error = result.errorValue();
  if (kube::isNamespaceTerminating(error)) {
    // The namespace's deletion removes this object too; retrying would only
    // be refused again until it is gone.
    queue_.forget(keyText);
    log.info("namespace is being deleted; not retrying", {{"error", error.describe()}});
    return;
  }
  if (metrics != nullptr) metrics->reconcileErrors.with({options_.name}).inc();
  switch (error.disposition()) {
    case base::Disposition::kStall:
      // Terminal: retrying cannot help until the object changes.
      queue_.forget(keyText);
      if (metrics != nullptr) metrics->terminalReconcileErrors.with({options_.name}).inc();
      log.warn("reconcile stalled",
               {{"error", error.describe()}, {"errorKind", std::string(error.metricLabel())}});
      if (options_.onStalled) options_.onStalled(key, error);
      return;
    case base::Disposition::kRetryNow:
    case base::Disposition::kBackoff:
      log.info("reconcile failed; retrying",
               {{"error", error.describe()}, {"errorKind", std::string(error.metricLabel())}});
      if (error.retryAfter()) {
        queue_.addAfter(keyText, *error.retryAfter());
      } else {
        queue_.addRateLimited(keyText);
      }
      return;
  }
}

std::optional<ReconcileResult> applyStatus(kube::Client& client, const kube::ResourceRef& resource,
                                           const kube::ObjectKey& key, const nlohmann::json& status,
                                           const std::string& resourceVersion) {
  nlohmann::json patch = {{"apiVersion", resource.apiVersion()},
                          {"kind", resource.kind},
                          {"metadata", {{"name", key.name}, {"namespace", key.namespace_}}},
                          {"status", status}};
  if (!resourceVersion.empty()) patch["metadata"]["resourceVersion"] = resourceVersion;
  kube::WriteOptions options;
  options.subresource = "status";
  options.force = true;
  auto applied = kube::apply(client, resource, patch, options);
  if (applied.ok()) return std::nullopt;
  base::Error error = std::move(applied).error();
  if (error.kind() == base::ErrorKind::kNotFound) return ReconcileResult::done();
  return ReconcileResult::error(std::move(error.context("write status")));
}

ReconcileResult requeueAt(const base::Clock& clock,
                          std::optional<std::chrono::system_clock::time_point> at) {
  if (!at) return ReconcileResult::done();
  return ReconcileResult::requeueAfter(
      std::max(std::chrono::nanoseconds(0), std::chrono::nanoseconds(*at - clock.now())));
}

}  // namespace relops::runtime
