#include <algorithm>

#include "controllers/common/object_trim.h"
#include "controllers/drill/decide.h"
#include "controllers/drill/drill_reconciler.h"
#include "controllers/drill/scheduling.h"
#include "operator/kube/client.h"
#include "operator/runtime/event_recorder.h"
#include "operator/runtime/finalizers.h"
#include "operator/runtime/manager.h"

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

#define GATHER(target, expression)                                               \
  do {                                                                           \
    auto gathered_ = (expression);                                               \
    if (!gathered_.ok()) {                                                       \
      base::Error error_ = std::move(gathered_).error();                         \
      return runtime::ReconcileResult::error(std::move(error_.context("read"))); \
    }                                                                            \
    target = std::move(*gathered_);                                              \
  } while (false)

// An error the API server will repeat whatever relops retries: the run ends.
bool permanent(const base::Error& error) {
  return error.kind() == base::ErrorKind::kInvalid ||
         error.kind() == base::ErrorKind::kBadRequest ||
         error.kind() == base::ErrorKind::kForbidden || error.kind() == base::ErrorKind::kConfig ||
         (error.kind() == base::ErrorKind::kNotFound);
}

}  // namespace

void RunReconciler::add(runtime::Manager& manager, RunReconciler& reconciler, int workers) {
  runtime::Controller::Options options;
  options.name = "drdrillrun";
  options.workers = workers;
  manager.setLabelSelector(kube::resources::kJobs, std::string(kRunLabel));
  runtime::Controller& controller = manager.addController(options, kDRDrillRuns, reconciler);
  for (runtime::Informer* informer : manager.informers(kube::resources::kJobs)) {
    controller.owns(*informer);
  }
  // A failover run waits on its target and standby: their watch events wake it (the
  // measured RTO's resolution), so its poll can back off. controller-runtime's Watches
  // with an enqueue mapper; the caches are the ones the SLO controller shares.
  runtime::Manager* managerPtr = &manager;
  auto waitingOn = [managerPtr](std::string_view kind) {
    return [managerPtr, kind](const json& workload) {
      std::vector<kube::ObjectKey> keys;
      const json& metadata = workload["metadata"];
      const std::string namespace_ = metadata.value("namespace", "");
      const std::string name = metadata.value("name", "");
      static const json::json_pointer kFailover("/spec/failover");
      for (const runtime::ObjectPtr& run : managerPtr->cachedList(kDRDrillRuns, namespace_)) {
        if (!run->contains(kFailover) || !run->at(kFailover).is_object()) continue;
        const std::string phase = run->value("status", json::object()).value("phase", "");
        if (phase == "Succeeded" || phase == "Failed" || phase == "Error") {
          const std::string cleanup = run->value("status", json::object())
                                          .value("cleanup", json::object())
                                          .value("result", "");
          if (cleanup != "Pending" && cleanup != "Failed") continue;
        }
        const json& failover = run->at(kFailover);
        for (const char* role : {"target", "standby"}) {
          const json ref = failover.value(role, json::object());
          if (ref.is_object() && ref.value("kind", "") == kind && ref.value("name", "") == name) {
            keys.push_back({namespace_, (*run)["metadata"].value("name", "")});
            break;
          }
        }
      }
      return keys;
    };
  };
  for (const auto& [resource, kind] :
       {std::pair{kube::resources::kDeployments, std::string_view("Deployment")},
        std::pair{kube::resources::kStatefulSets, std::string_view("StatefulSet")}}) {
    manager.setTransform(resource, common::keepWorkloadEssentials);
    for (runtime::Informer* informer : manager.informers(resource)) {
      controller.watches(*informer, waitingOn(kind));
    }
  }
}

std::optional<Instant> RunReconciler::lastProgress(const std::string& key) {
  std::lock_guard lock(progressMutex_);
  const auto it = lastProgress_.find(key);
  if (it == lastProgress_.end()) return std::nullopt;
  return it->second;
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
  kube::Client& client = context_.client();
  const runtime::ObjectPtr object = context_.cached(kDRDrillRuns, key);
  if (!object) {
    progressed(key.str(), std::nullopt);
    return runtime::ReconcileResult::done();
  }
  const json& metadata = object->at("metadata");
  const json spec = object->value("spec", json::object());

  // Gather: the run, and fresh reads of what it works on.
  RunObserved observed;
  observed.name = key.name;
  observed.namespace_ = key.namespace_;
  observed.uid = metadata.value("uid", "");
  observed.generation = metadata.value("generation", int64_t{0});
  observed.status = object->value("status", json());
  observed.deleting = metadata.contains("deletionTimestamp");
  if (observed.deleting && !runtime::hasFinalizer(*object, kCleanupFinalizer)) {
    return runtime::ReconcileResult::done();
  }
  // Trust: only a run its existing DRDrill controls (same UID) is acted on; any
  // other is left alone (no status, no Job, no Restore). A deleting run still gets
  // its cleanup: what it may touch is checked by label below.
  const std::string drillName = controllerName(*object);
  const runtime::ObjectPtr drill =
      drillName.empty() ? nullptr : context_.cached(kDRDrills, {key.namespace_, drillName});
  if (auto why = whyNotControlled(*object, drill.get()); why && !observed.deleting) {
    log.info("left alone: " + *why);
    return runtime::ReconcileResult::done();
  }
  if (drill) {
    const json drillSpec = drill->value("spec", json::object());
    if (drillSpec.is_object() && drillSpec.contains("startingDeadlineSeconds") &&
        drillSpec["startingDeadlineSeconds"].is_number_integer()) {
      observed.startingDeadline =
          std::chrono::seconds(drillSpec["startingDeadlineSeconds"].get<int64_t>());
    }
  }
  observed.veleroNamespace = options_.veleroNamespace;
  observed.sandboxQuotaHard = options_.sandboxQuotaHard;
  const RunStatus current = parseRunStatus(observed.status);
  auto parsed = parseRunSpec(spec);
  if (parsed.ok()) {
    if (std::holds_alternative<JobDrill>(parsed->type)) {
      const std::string jobName = jobNameFor(key.name);
      GATHER(observed.job, getOptional(client, kube::resources::kJobs, {key.namespace_, jobName}));
      if (observed.job) {
        GATHER(observed.jobPods, listItems(client, kube::resources::kPods, key.namespace_,
                                           "batch.kubernetes.io/job-name=" + jobName));
      }
    } else if (const auto* failover = std::get_if<FailoverDrill>(&parsed->type)) {
      auto target = resourceOf(failover->target.kind);
      GATHER(observed.target,
             getOptional(client, *target, {key.namespace_, failover->target.name}));
      if (failover->standby.kind == "Service") {
        GATHER(observed.standby, getOptional(client, kube::resources::kServices,
                                             {key.namespace_, failover->standby.name}));
        GATHER(observed.standbyEndpointSlices,
               listItems(client, kEndpointSlices, key.namespace_,
                         "kubernetes.io/service-name=" + failover->standby.name));
      } else {
        GATHER(observed.standby, getOptional(client, *resourceOf(failover->standby.kind),
                                             {key.namespace_, failover->standby.name}));
      }
    } else {
      const auto& velero = std::get<VeleroRestoreDrill>(parsed->type);
      const std::string source =
          velero.sourceNamespace.empty() ? key.namespace_ : velero.sourceNamespace;
      const bool settingUp = !current.phase || *current.phase == Phase::kPending ||
                             (*current.phase == Phase::kRunning && current.velero &&
                              current.velero->restorePhase.empty());
      if (settingUp && !observed.deleting) {
        GATHER(observed.sourceNamespace,
               getOptional(client, kube::resources::kNamespaces, {"", source}));
        GATHER(observed.sourceQuotas, listItems(client, kResourceQuotas, source, ""));
        GATHER(observed.sourceLimitRanges, listItems(client, kLimitRanges, source, ""));
      }
      if (!current.phase || *current.phase == Phase::kPending) {
        auto backups = listItems(client, kBackups, options_.veleroNamespace, "");
        if (backups.ok()) {
          observed.backups = std::move(*backups);
        } else if (backups.error().kind() == base::ErrorKind::kNotFound) {
          observed.veleroInstalled = false;
        } else {
          base::Error error = std::move(backups).error();
          return runtime::ReconcileResult::error(std::move(error.context("list Velero Backups")));
        }
      }
      // The sandbox this run would create: adopted only when it carries the run's UID.
      const std::string sandbox = current.velero && !current.velero->sandboxNamespace.empty()
                                      ? current.velero->sandboxNamespace
                                      : sandboxNamespaceName(key.namespace_, key.name);
      std::optional<json> ns;
      GATHER(ns, getOptional(client, kube::resources::kNamespaces, {"", sandbox}));
      if (ns) {
        const json labels = (*ns)["metadata"].value("labels", json::object());
        const bool ours =
            labels.is_object() && labels.value(std::string(kRunUidLabel), "") == observed.uid;
        observed.sandboxExists = ours;
        observed.sandboxForeign = !ours;
      }
      if (current.velero && !current.velero->sandboxNamespace.empty()) {
        GATHER(observed.restore,
               getOptional(client, kRestores, {options_.veleroNamespace, current.velero->restore}));
        // Reads only cleanup needs: a failure is observed, never a reason to skip the
        // run's deadline check (with rbac.drillRestoreCleanup=false the volume listing is
        // Forbidden for good).
        auto unreadable = [&](const std::string& what, base::Error error) {
          observed.cleanupForbidden =
              (observed.cleanupUnreadable.empty() || observed.cleanupForbidden) &&
              error.kind() == base::ErrorKind::kForbidden;
          observed.cleanupUnreadable += (observed.cleanupUnreadable.empty() ? "" : "; ") +
                                        std::string("cannot ") + what + ": " + error.describe();
        };
        auto modifiers = getOptional(client, kube::resources::kConfigMaps,
                                     {options_.veleroNamespace, current.velero->restore});
        if (!modifiers.ok()) {
          unreadable("read the resource modifiers ConfigMap " + current.velero->restore,
                     std::move(modifiers).error());
        } else {
          // Deleted at cleanup only when it is this run's (its UID label).
          observed.modifiersExist =
              *modifiers && (**modifiers)["metadata"]
                                    .value("labels", json::object())
                                    .value(std::string(kRunUidLabel), "") == observed.uid;
        }
        if (observed.sandboxExists) {
          std::vector<json> items;
          GATHER(items, listItems(client, kube::resources::kDeployments, sandbox, ""));
          for (json& item : items) {
            item["kind"] = "Deployment";
            observed.sandboxWorkloads.push_back(std::move(item));
          }
          GATHER(items, listItems(client, kube::resources::kStatefulSets, sandbox, ""));
          for (json& item : items) {
            item["kind"] = "StatefulSet";
            observed.sandboxWorkloads.push_back(std::move(item));
          }
        }
        const std::string selector = std::string(kRestoreNameLabel) + "=" + current.velero->restore;
        auto volumes = listItems(client, kPersistentVolumes, "", selector);
        if (volumes.ok()) {
          observed.leftovers = static_cast<int64_t>(volumes->size());
        } else {
          unreadable("list the PersistentVolumes labelled " + selector, std::move(volumes).error());
        }
      }
    }
  }
  const auto now = context_.clock().now();
  const Instant nowSeconds = std::chrono::floor<std::chrono::seconds>(now);
  observed.lastProgress = lastProgress(key.str()).value_or(nowSeconds);

  // Decide.
  RunDesired desired = decideRun(spec, observed, now);
  // Progress (a status change) restarts the poll's backoff; a run with nothing to wait for
  // is forgotten.
  if (!desired.requeueAt) {
    progressed(key.str(), std::nullopt);
  } else if (desired.statusChanged || !lastProgress(key.str())) {
    progressed(key.str(), nowSeconds);
  }

  // Act: status, then the cluster changes. The status is written only over the version it
  // was decided from: a cache that has not yet seen relops's own last write (the primary
  // already at zero, the run still Pending) must not decide the run again.
  // A second write in the same reconcile builds on the first: it has no precondition.
  std::string decidedFrom = (*object)["metadata"].value("resourceVersion", "");
  auto writeStatus = [&](const RunDesired& d) -> std::optional<runtime::ReconcileResult> {
    if (!d.statusChanged || observed.deleting) return std::nullopt;
    auto result = runtime::applyStatus(client, kDRDrillRuns, key, d.statusJson, decidedFrom);
    if (!result) decidedFrom.clear();
    return result;
  };
  if (auto result = writeStatus(desired)) return *result;
  for (const Action& action : desired.actions) {
    base::Result<void> result;
    switch (action.kind) {
      case Action::Kind::kApply: {
        auto resource = resourceOf(action.object.value("kind", ""));
        if (createOnly(action.object.value("kind", ""))) {
          // Created, never applied: patch on namespaces would let relops relabel any
          // namespace of the cluster (Pod Security labels included).
          auto created = client.create(*resource, action.object);
          if (!created.ok() && created.error().kind() != base::ErrorKind::kAlreadyExists) {
            result = std::move(created).error();
          }
          break;
        }
        auto applied = kube::apply(client, *resource, action.object);
        if (!applied.ok()) result = std::move(applied).error();
        break;
      }
      case Action::Kind::kDelete: {
        auto resource = resourceOf(action.target.kind);
        auto removed = client.remove(*resource, {action.target.namespace_, action.target.name});
        if (!removed.ok() && removed.error().kind() != base::ErrorKind::kNotFound) {
          result = std::move(removed).error();
        }
        break;
      }
      case Action::Kind::kScale: {
        auto resource = resourceOf(action.target.kind);
        kube::WriteOptions options;
        options.subresource = "scale";
        const json body = {{"spec", {{"replicas", action.replicas}}}};
        auto scaled = client.patch(*resource, {action.target.namespace_, action.target.name},
                                   kube::PatchType::kMerge, body.dump(), options);
        if (!scaled.ok()) result = std::move(scaled).error();
        break;
      }
      case Action::Kind::kDeleteRestoreLeftovers: {
        const std::string selector = std::string(kRestoreNameLabel) + "=" + action.restoreName;
        auto items = listItems(client, kPersistentVolumes, "", selector);
        if (!items.ok()) {
          result = std::move(items).error();
          break;
        }
        for (const json& item : *items) {
          // Checked here too, not only by the selector: relops deletes a volume only
          // when it carries the name of the run's own Restore.
          const json labels = item["metadata"].value("labels", json::object());
          if (!labels.is_object() ||
              labels.value(std::string(kRestoreNameLabel), "") != action.restoreName) {
            continue;
          }
          auto removed =
              client.remove(kPersistentVolumes, {"", item["metadata"].value("name", "")});
          if (!removed.ok() && removed.error().kind() != base::ErrorKind::kNotFound) {
            result = std::move(removed).error();
          }
        }
        break;
      }
    }
    if (result.ok()) continue;
    base::Error error = std::move(result).error();
    if (permanent(error) && !observed.deleting && action.kind != Action::Kind::kDelete &&
        action.kind != Action::Kind::kDeleteRestoreLeftovers) {
      // The server refuses it for good (an invalid Job template, no RBAC):
      // the run ends with the server's message instead of retrying forever.
      log.info("action refused: " + error.describe());
      desired = failOnAction(desired, action, error, now);
      if (auto written = writeStatus(desired)) return *written;
      break;
    }
    if (permanent(error) && observed.deleting) {
      // A run being deleted whose cleanup the API server refuses for good: the finalizer
      // goes anyway (README "Drills"), said once in a Warning naming what is left.
      context_.recorder().record(
          {runtime::ObjectReference::fromObject(*object), runtime::EventType::kWarning,
           std::string(kEventCleanupFailed), "Reconcile",
           "deleted with cleanup refused: could not " + action.purpose + ": " + error.describe()});
      desired.actions.clear();
      desired.removeFinalizer = true;
      break;
    }
    if (!observed.deleting && (action.kind == Action::Kind::kDelete ||
                               action.kind == Action::Kind::kDeleteRestoreLeftovers)) {
      // A cleanup step that fails is retried at the run's own pace (the poll, backing off;
      // the deadline; then the growing cleanup retry), never by failing the reconcile: an
      // error's backoff could skip the deadline check, a Stall would never come back to it.
      // status.cleanup.message says what is still to clean.
      log.info("cleanup step failed; retried: " + error.describe(), {{"purpose", action.purpose}});
      continue;
    }
    return runtime::ReconcileResult::error(std::move(error.context(action.purpose)));
  }
  const auto regarding = runtime::ObjectReference::fromObject(*object);
  context_.recorder().recordAll(regarding, desired.events);
  if (desired.removeFinalizer && desired.statusChanged && !observed.deleting) {
    // The object just changed under us (the status write): the finalizer goes on the next
    // reconcile, which that write's watch event brings, instead of a patch bound to fail
    // its resourceVersion guard.
    return runtime::ReconcileResult::done();
  }
  if (desired.removeFinalizer) {
    auto removed = runtime::removeFinalizer(client, kDRDrillRuns, *object, kCleanupFinalizer);
    if (!removed.ok() && removed.error().kind() != base::ErrorKind::kNotFound) {
      return runtime::ReconcileResult::error(std::move(removed).error());
    }
    return runtime::ReconcileResult::done();
  }
  if (desired.requeueAt) {
    const auto delay =
        std::max(std::chrono::nanoseconds(0),
                 std::chrono::nanoseconds(*desired.requeueAt - context_.clock().now()));
    return runtime::ReconcileResult::requeueAfter(delay);
  }
  return runtime::ReconcileResult::done();
}

}  // namespace relops::drill
