#include <algorithm>

#include "controllers/drill/decide.h"
#include "controllers/drill/drill_reconciler.h"
#include "controllers/drill/scheduling.h"
#include "operator/kube/client.h"
#include "operator/runtime/act.h"
#include "operator/runtime/event_recorder.h"
#include "operator/runtime/finalizers.h"

namespace relops::drill {

using nlohmann::json;

namespace {

const kube::ResourceRef kBackups{"velero.io", "v1", "backups", "Backup", true};
const kube::ResourceRef kRestores{"velero.io", "v1", "restores", "Restore", true};
const kube::ResourceRef kNetworkPolicies{"networking.k8s.io", "v1", "networkpolicies",
                                         "NetworkPolicy", true};
const kube::ResourceRef kEndpointSlices{"discovery.k8s.io", "v1", "endpointslices", "EndpointSlice",
                                        true};
const kube::ResourceRef kResourceQuotas{"", "v1", "resourcequotas", "ResourceQuota", true};
const kube::ResourceRef kLimitRanges{"", "v1", "limitranges", "LimitRange", true};
// The one cluster-scoped kind a sandbox restore creates (Restores exclude cluster
// resources but the volumes of restored claims): what carries the label of the
// run's own Restore is deleted with the sandbox.
const kube::ResourceRef kPersistentVolumes{"", "v1", "persistentvolumes", "PersistentVolume",
                                           false};
constexpr std::string_view kRestoreNameLabel = "velero.io/restore-name";

// Kinds relops creates and never patches: a patch could relabel or rewrite any
// namespace's object of that kind (Pod Security labels, quotas), a create only
// adds a new one.
bool createOnly(std::string_view kind) {
  return kind == "Namespace" || kind == "ResourceQuota" || kind == "LimitRange" ||
         kind == "ConfigMap";
}

// The resource of an object relops writes for a run.
std::optional<kube::ResourceRef> resourceOf(std::string_view kind) {
  if (kind == "Job") return kube::resources::kJobs;
  if (kind == "Namespace") return kube::resources::kNamespaces;
  if (kind == "NetworkPolicy") return kNetworkPolicies;
  if (kind == "Restore") return kRestores;
  if (kind == "Deployment") return kube::resources::kDeployments;
  if (kind == "StatefulSet") return kube::resources::kStatefulSets;
  if (kind == "ConfigMap") return kube::resources::kConfigMaps;
  if (kind == "ResourceQuota") return kResourceQuotas;
  if (kind == "LimitRange") return kLimitRanges;
  return std::nullopt;
}

// A read whose NotFound means "absent"; other errors are returned.
base::Result<std::optional<json>> getOptional(kube::Client& client,
                                              const kube::ResourceRef& resource,
                                              const kube::ObjectKey& key) {
  auto object = client.get(resource, key);
  if (object.ok()) return std::optional<json>(std::move(*object));
  if (object.error().kind() == base::ErrorKind::kNotFound) return std::optional<json>();
  return std::move(object).error();
}

base::Result<std::vector<json>> listItems(kube::Client& client, const kube::ResourceRef& resource,
                                          const std::string& namespace_,
                                          const std::string& labelSelector) {
  kube::ListOptions options;
  options.labelSelector = labelSelector;
  auto page = kube::listAll(client, resource, namespace_, options);
  if (!page.ok()) return std::move(page).error();
  return std::move(page->items);
}

// A read while gathering: its error says it was one ("read: ..."), NotFound is "absent".
base::Result<std::optional<json>> read(kube::Client& client, const kube::ResourceRef& resource,
                                       const kube::ObjectKey& key) {
  auto object = getOptional(client, resource, key);
  if (object.ok()) return object;
  base::Error error = std::move(object).error();
  return std::move(error.context("read"));
}

base::Result<std::vector<json>> readList(kube::Client& client, const kube::ResourceRef& resource,
                                         const std::string& namespace_,
                                         const std::string& labelSelector) {
  auto items = listItems(client, resource, namespace_, labelSelector);
  if (items.ok()) return items;
  base::Error error = std::move(items).error();
  return std::move(error.context("read"));
}

// The run's own fields, as decideRun reads them.
RunObserved observeRun(const kube::ObjectKey& key, const json& run, const RunOptions& options) {
  const json& metadata = run.at("metadata");
  RunObserved observed;
  observed.name = key.name;
  observed.namespace_ = key.namespace_;
  observed.uid = metadata.value("uid", "");
  observed.generation = metadata.value("generation", int64_t{0});
  observed.status = run.value("status", json());
  observed.deleting = metadata.contains("deletionTimestamp");
  observed.veleroNamespace = options.veleroNamespace;
  observed.sandboxQuotaHard = options.sandboxQuotaHard;
  return observed;
}

// The controlling drill's spec.startingDeadlineSeconds.
std::optional<std::chrono::seconds> startingDeadline(const json* drill) {
  if (drill == nullptr) return std::nullopt;
  const json spec = drill->value("spec", json::object());
  if (!spec.is_object() || !spec.contains("startingDeadlineSeconds") ||
      !spec["startingDeadlineSeconds"].is_number_integer()) {
    return std::nullopt;
  }
  return std::chrono::seconds(spec["startingDeadlineSeconds"].get<int64_t>());
}

// A job run: its Job, and the Job's Pods once it exists.
base::Result<void> gatherJob(kube::Client& client, const kube::ObjectKey& key,
                             RunObserved& observed) {
  const std::string jobName = jobNameFor(key.name);
  RELOPS_ASSIGN(observed.job, read(client, kube::resources::kJobs, {key.namespace_, jobName}));
  if (observed.job) {
    RELOPS_ASSIGN(observed.jobPods, readList(client, kube::resources::kPods, key.namespace_,
                                             "batch.kubernetes.io/job-name=" + jobName));
  }
  return base::Ok{};
}

// A failover run: the target it disrupts and the standby it waits for (a Service's
// readiness is its EndpointSlices').
base::Result<void> gatherFailover(kube::Client& client, const std::string& namespace_,
                                  const FailoverDrill& failover, RunObserved& observed) {
  RELOPS_ASSIGN(observed.target, read(client, *resourceOf(failover.target.kind),
                                      {namespace_, failover.target.name}));
  if (failover.standby.kind != "Service") {
    RELOPS_ASSIGN(observed.standby, read(client, *resourceOf(failover.standby.kind),
                                         {namespace_, failover.standby.name}));
    return base::Ok{};
  }
  RELOPS_ASSIGN(observed.standby,
                read(client, kube::resources::kServices, {namespace_, failover.standby.name}));
  RELOPS_ASSIGN(observed.standbyEndpointSlices,
                readList(client, kEndpointSlices, namespace_,
                         "kubernetes.io/service-name=" + failover.standby.name));
  return base::Ok{};
}

// While a restore run sets its sandbox up: the source namespace (opt-in, Pod Security) and
// the quotas and limits the sandbox copies.
base::Result<void> gatherSource(kube::Client& client, const std::string& source,
                                RunObserved& observed) {
  RELOPS_ASSIGN(observed.sourceNamespace, read(client, kube::resources::kNamespaces, {"", source}));
  RELOPS_ASSIGN(observed.sourceQuotas, readList(client, kResourceQuotas, source, ""));
  RELOPS_ASSIGN(observed.sourceLimitRanges, readList(client, kLimitRanges, source, ""));
  return base::Ok{};
}

// Before a restore run picks its Backup: the Backups (none readable: Velero not installed).
base::Result<void> gatherBackups(kube::Client& client, const std::string& veleroNamespace,
                                 RunObserved& observed) {
  auto backups = listItems(client, kBackups, veleroNamespace, "");
  if (backups.ok()) {
    observed.backups = std::move(*backups);
  } else if (backups.error().kind() == base::ErrorKind::kNotFound) {
    observed.veleroInstalled = false;
  } else {
    base::Error error = std::move(backups).error();
    return std::move(error.context("list Velero Backups"));
  }
  return base::Ok{};
}

// The sandbox namespace: adopted only when it carries the run's UID.
base::Result<void> gatherSandbox(kube::Client& client, const std::string& sandbox,
                                 RunObserved& observed) {
  std::optional<json> ns;
  RELOPS_ASSIGN(ns, read(client, kube::resources::kNamespaces, {"", sandbox}));
  if (ns) {
    const json labels = (*ns)["metadata"].value("labels", json::object());
    const bool ours =
        labels.is_object() && labels.value(std::string(kRunUidLabel), "") == observed.uid;
    observed.sandboxExists = ours;
    observed.sandboxForeign = !ours;
  }
  return base::Ok{};
}

// Once the run has a Restore: the Restore, the sandbox's workloads, and what cleanup deletes
// (the resource modifiers ConfigMap, the restored volumes). A failed read that only cleanup
// needs is observed, never a reason to skip the run's deadline check (with
// rbac.drillRestoreCleanup=false the volume listing is Forbidden for good).
base::Result<void> gatherRestore(kube::Client& client, const std::string& veleroNamespace,
                                 const std::string& restore, const std::string& sandbox,
                                 RunObserved& observed) {
  RELOPS_ASSIGN(observed.restore, read(client, kRestores, {veleroNamespace, restore}));
  auto unreadable = [&](const std::string& what, base::Error error) {
    observed.cleanupForbidden = (observed.cleanupUnreadable.empty() || observed.cleanupForbidden) &&
                                error.kind() == base::ErrorKind::kForbidden;
    observed.cleanupUnreadable += (observed.cleanupUnreadable.empty() ? "" : "; ") +
                                  std::string("cannot ") + what + ": " + error.describe();
  };
  auto modifiers = getOptional(client, kube::resources::kConfigMaps, {veleroNamespace, restore});
  if (!modifiers.ok()) {
    unreadable("read the resource modifiers ConfigMap " + restore, std::move(modifiers).error());
  } else {
    // Deleted at cleanup only when it is this run's (its UID label).
    observed.modifiersExist =
        *modifiers && (**modifiers)["metadata"]
                              .value("labels", json::object())
                              .value(std::string(kRunUidLabel), "") == observed.uid;
  }
  if (observed.sandboxExists) {
    for (const auto& [resource, kind] :
         {std::pair{kube::resources::kDeployments, "Deployment"},
          std::pair{kube::resources::kStatefulSets, "StatefulSet"}}) {
      std::vector<json> items;
      RELOPS_ASSIGN(items, readList(client, resource, sandbox, ""));
      for (json& item : items) {
        item["kind"] = kind;
        observed.sandboxWorkloads.push_back(std::move(item));
      }
    }
  }
  const std::string selector = std::string(kRestoreNameLabel) + "=" + restore;
  auto volumes = listItems(client, kPersistentVolumes, "", selector);
  if (volumes.ok()) {
    observed.leftovers = static_cast<int64_t>(volumes->size());
  } else {
    unreadable("list the PersistentVolumes labelled " + selector, std::move(volumes).error());
  }
  return base::Ok{};
}

// A veleroRestore run: each read only in the phases that need it.
base::Result<void> gatherVelero(kube::Client& client, const kube::ObjectKey& key,
                                const VeleroRestoreDrill& velero, RunObserved& observed) {
  const RunStatus current = parseRunStatus(observed.status);
  const bool pending = !current.phase || *current.phase == Phase::kPending;
  const bool settingUp = pending || (*current.phase == Phase::kRunning && current.velero &&
                                     current.velero->restorePhase.empty());
  if (settingUp && !observed.deleting) {
    const std::string source =
        velero.sourceNamespace.empty() ? key.namespace_ : velero.sourceNamespace;
    if (auto read = gatherSource(client, source, observed); !read) return read;
  }
  if (pending) {
    if (auto read = gatherBackups(client, observed.veleroNamespace, observed); !read) return read;
  }
  const bool started = current.velero && !current.velero->sandboxNamespace.empty();
  const std::string sandbox =
      started ? current.velero->sandboxNamespace : sandboxNamespaceName(key.namespace_, key.name);
  if (auto read = gatherSandbox(client, sandbox, observed); !read) return read;
  if (!started) return base::Ok{};
  return gatherRestore(client, observed.veleroNamespace, current.velero->restore, sandbox,
                       observed);
}

// Fresh reads of what the run works on, by its drill type (a spec that does not parse reads
// nothing: decideRun says why).
base::Result<void> gatherWork(kube::Client& client, const kube::ObjectKey& key, const json& spec,
                              RunObserved& observed) {
  auto parsed = parseRunSpec(spec);
  if (!parsed.ok()) return base::Ok{};
  if (std::holds_alternative<JobDrill>(parsed->type)) return gatherJob(client, key, observed);
  if (const auto* failover = std::get_if<FailoverDrill>(&parsed->type)) {
    return gatherFailover(client, key.namespace_, *failover, observed);
  }
  return gatherVelero(client, key, std::get<VeleroRestoreDrill>(parsed->type), observed);
}

// An error the API server will repeat whatever relops retries: the run ends.
bool permanent(const base::Error& error) {
  return error.kind() == base::ErrorKind::kInvalid ||
         error.kind() == base::ErrorKind::kBadRequest ||
         error.kind() == base::ErrorKind::kForbidden || error.kind() == base::ErrorKind::kConfig ||
         (error.kind() == base::ErrorKind::kNotFound);
}

// One cluster change decide asked for. Kinds relops only creates (createOnly) are created,
// never applied: a patch on namespaces would let relops relabel any namespace of the cluster
// (Pod Security labels included). A delete of what is gone is done.
base::Result<void> applyAction(kube::Client& client, const Action& action) {
  switch (action.kind) {
    case Action::Kind::kApply: {
      auto resource = resourceOf(action.object.value("kind", ""));
      if (createOnly(action.object.value("kind", ""))) {
        auto created = client.create(*resource, action.object);
        if (!created.ok() && created.error().kind() != base::ErrorKind::kAlreadyExists) {
          return std::move(created).error();
        }
        return base::Ok{};
      }
      auto applied = kube::apply(client, *resource, action.object);
      if (!applied.ok()) return std::move(applied).error();
      return base::Ok{};
    }
    case Action::Kind::kDelete: {
      auto resource = resourceOf(action.target.kind);
      auto removed = client.remove(*resource, {action.target.namespace_, action.target.name});
      if (!removed.ok() && removed.error().kind() != base::ErrorKind::kNotFound) {
        return std::move(removed).error();
      }
      return base::Ok{};
    }
    case Action::Kind::kScale: {
      auto resource = resourceOf(action.target.kind);
      kube::WriteOptions options;
      options.subresource = "scale";
      const json body = {{"spec", {{"replicas", action.replicas}}}};
      auto scaled = client.patch(*resource, {action.target.namespace_, action.target.name},
                                 kube::PatchType::kMerge, body.dump(), options);
      if (!scaled.ok()) return std::move(scaled).error();
      return base::Ok{};
    }
    case Action::Kind::kDeleteRestoreLeftovers: {
      const std::string selector = std::string(kRestoreNameLabel) + "=" + action.restoreName;
      auto items = listItems(client, kPersistentVolumes, "", selector);
      if (!items.ok()) return std::move(items).error();
      base::Result<void> result;
      for (const json& item : *items) {
        // Checked here too, not only by the selector: relops deletes a volume only
        // when it carries the name of the run's own Restore.
        const json labels = item["metadata"].value("labels", json::object());
        if (!labels.is_object() ||
            labels.value(std::string(kRestoreNameLabel), "") != action.restoreName) {
          continue;
        }
        auto removed = client.remove(kPersistentVolumes, {"", item["metadata"].value("name", "")});
        if (!removed.ok() && removed.error().kind() != base::ErrorKind::kNotFound) {
          result = std::move(removed).error();
        }
      }
      return result;
    }
  }
  return base::Ok{};
}

// The run's status writes. The first is conditional on the version decided from
// (Outcome::decidedFrom): a cache that has not yet seen relops's own last write (the primary
// already at zero, the run still Pending) must not decide the run again. A second write in
// the same reconcile (a refused action ends the run) builds on the first: no precondition.
// A run being deleted gets no status, only its cleanup.
class StatusWriter {
 public:
  StatusWriter(kube::Client& client, const json& run, bool deleting)
      : client_(client),
        key_{run["metadata"].value("namespace", ""), run["metadata"].value("name", "")},
        decidedFrom_(run["metadata"].value("resourceVersion", "")),
        deleting_(deleting) {}

  // nullopt when written (or nothing to write); else what reconcile() returns.
  std::optional<runtime::ReconcileResult> write(const RunDesired& desired) {
    if (!desired.statusChanged || deleting_) return std::nullopt;
    auto failed =
        runtime::applyStatus(client_, kDRDrillRuns, key_, desired.statusJson, decidedFrom_);
    if (!failed) decidedFrom_.clear();
    return failed;
  }

 private:
  kube::Client& client_;
  kube::ObjectKey key_;
  std::string decidedFrom_;
  bool deleting_;
};

// The cluster changes, in order. A change the API server refuses for good ends the run with
// its message (a second status write); a refused cleanup of a run being deleted releases its
// finalizer; a failed cleanup step is retried at the run's pace; anything else is the
// reconcile's error. `desired` is updated to what was written and is still to do.
std::optional<runtime::ReconcileResult> applyActions(runtime::Context& context, const json& run,
                                                     const RunObserved& observed,
                                                     RunDesired& desired, StatusWriter& status,
                                                     std::chrono::system_clock::time_point now,
                                                     const runtime::Logger& log) {
  for (const Action& action : desired.actions) {
    base::Result<void> result = applyAction(context.client(), action);
    if (result.ok()) continue;
    base::Error error = std::move(result).error();
    const bool cleanup = action.kind == Action::Kind::kDelete ||
                         action.kind == Action::Kind::kDeleteRestoreLeftovers;
    if (permanent(error) && !observed.deleting && !cleanup) {
      // The server refuses it for good (an invalid Job template, no RBAC):
      // the run ends with the server's message instead of retrying forever.
      log.info("action refused: " + error.describe());
      desired = failOnAction(desired, action, error, now);
      return status.write(desired);
    }
    if (permanent(error) && observed.deleting) {
      // A run being deleted whose cleanup the API server refuses for good: the finalizer
      // goes anyway (README "Drills"), said once in a Warning naming what is left.
      context.recorder().record(
          {runtime::ObjectReference::fromObject(run), runtime::EventType::kWarning,
           std::string(kEventCleanupFailed), "Reconcile",
           "deleted with cleanup refused: could not " + action.purpose + ": " + error.describe()});
      desired.actions.clear();
      desired.removeFinalizer = true;
      return std::nullopt;
    }
    if (!observed.deleting && cleanup) {
      // A cleanup step that fails is retried at the run's own pace (the poll, backing off;
      // the deadline; then the growing cleanup retry), never by failing the reconcile: an
      // error's backoff could skip the deadline check, a Stall would never come back to it.
      // status.cleanup.message says what is still to clean.
      log.info("cleanup step failed; retried: " + error.describe(), {{"purpose", action.purpose}});
      continue;
    }
    return runtime::ReconcileResult::error(std::move(error.context(action.purpose)));
  }
  return std::nullopt;
}

// Once cleanup is done (or refused for good while the run is deleted): the finalizer goes.
runtime::ReconcileResult releaseFinalizer(kube::Client& client, const json& run,
                                          bool statusJustWritten) {
  if (statusJustWritten) {
    // The object just changed under us (the status write): the finalizer goes on the next
    // reconcile, which that write's watch event brings, instead of a patch bound to fail
    // its resourceVersion guard.
    return runtime::ReconcileResult::done();
  }
  auto removed = runtime::removeFinalizer(client, kDRDrillRuns, run, kCleanupFinalizer);
  if (!removed.ok() && removed.error().kind() != base::ErrorKind::kNotFound) {
    return runtime::ReconcileResult::error(std::move(removed).error());
  }
  return runtime::ReconcileResult::done();
}

}  // namespace

std::optional<Instant> RunReconciler::lastProgress(const std::string& key) {
  std::lock_guard lock(progressMutex_);
  const auto it = lastProgress_.find(key);
  if (it == lastProgress_.end()) return std::nullopt;
  return it->second;
}

void RunReconciler::noteProgress(const std::string& key, const RunDesired& desired, Instant now) {
  // Progress (a status change) restarts the poll's backoff; a run with nothing to wait for
  // is forgotten.
  if (!desired.requeueAt) {
    progressed(key, std::nullopt);
  } else if (desired.statusChanged || !lastProgress(key)) {
    progressed(key, now);
  }
}

void RunReconciler::progressed(const std::string& key, std::optional<Instant> at) {
  std::lock_guard lock(progressMutex_);
  if (at) {
    lastProgress_[key] = *at;
  } else {
    lastProgress_.erase(key);
  }
}

runtime::ReconcileResult RunReconciler::reconcile(const kube::ObjectKey& key,
                                                  const runtime::Logger& log) {
  const runtime::ObjectPtr object = context_.cached(kDRDrillRuns, key);
  if (!object) {
    progressed(key.str(), std::nullopt);
    return runtime::ReconcileResult::done();
  }
  // Gather: the run, and fresh reads of what it works on.
  RunObserved observed = observeRun(key, *object, options_);
  if (observed.deleting && !runtime::hasFinalizer(*object, kCleanupFinalizer)) {
    return runtime::ReconcileResult::done();
  }
  // Trust: only a run its existing DRDrill controls (same UID) is acted on; any
  // other is left alone (no status, no Job, no Restore). A deleting run still gets
  // its cleanup: what it may touch is checked by label (gatherSandbox, gatherRestore, applyAction).
  const std::string drillName = controllerName(*object);
  const runtime::ObjectPtr drill =
      drillName.empty() ? nullptr : context_.cached(kDRDrills, {key.namespace_, drillName});
  if (auto why = whyNotControlled(*object, drill.get()); why && !observed.deleting) {
    log.info("left alone: " + *why);
    return runtime::ReconcileResult::done();
  }
  observed.startingDeadline = startingDeadline(drill.get());
  const json spec = object->value("spec", json::object());
  if (auto read = gatherWork(context_.client(), key, spec, observed); !read) {
    return runtime::ReconcileResult::error(std::move(read).error());
  }
  const auto now = context_.clock().now();
  const Instant nowSeconds = std::chrono::floor<std::chrono::seconds>(now);
  observed.lastProgress = lastProgress(key.str()).value_or(nowSeconds);

  // Decide.
  RunDesired desired = decideRun(spec, observed, now);
  noteProgress(key.str(), desired, nowSeconds);

  // Act: status, then the cluster changes, then the Events (header). runtime::act writes
  // status before Events with nothing between, and cannot say that the run is gone, after
  // which nothing may be changed for it: the status goes first here (StatusWriter, the same
  // conditional applyStatus), and act records the Events and computes the requeue.
  StatusWriter status(context_.client(), *object, observed.deleting);
  if (auto failed = status.write(desired)) return *failed;
  if (auto failed = applyActions(context_, *object, observed, desired, status, now, log)) {
    return *failed;
  }
  runtime::Outcome<std::vector<Event>> outcome;
  outcome.events = std::move(desired.events);
  outcome.requeueAt = desired.requeueAt;
  runtime::ReconcileResult result = runtime::act(context_, kDRDrillRuns, *object, outcome);
  if (!desired.removeFinalizer) return result;
  return releaseFinalizer(context_.client(), *object, desired.statusChanged && !observed.deleting);
}

}  // namespace relops::drill
