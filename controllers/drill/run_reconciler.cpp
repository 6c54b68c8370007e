#include <algorithm>

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
// Cluster-scoped kinds a Velero restore may create; what carries the
// restore's label is deleted with the sandbox.
const std::vector<kube::ResourceRef> kRestoreLeftoverKinds = {
    {"", "v1", "persistentvolumes", "PersistentVolume", false},
    {"rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false},
    {"rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false},
};

// The resource of an object relops writes for a run.
std::optional<kube::ResourceRef> resourceOf(std::string_view kind) {
  if (kind == "Job") return kube::resources::kJobs;
  if (kind == "Namespace") return kube::resources::kNamespaces;
  if (kind == "NetworkPolicy") return kNetworkPolicies;
  if (kind == "Restore") return kRestores;
  if (kind == "Deployment") return kube::resources::kDeployments;
  if (kind == "StatefulSet") return kube::resources::kStatefulSets;
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
}

runtime::ReconcileResult RunReconciler::reconcile(const kube::ObjectKey& key,
                                                  const runtime::Logger& log) {
  kube::Client& client = manager_.client();
  const runtime::ObjectPtr object = manager_.cached(kDRDrillRuns, key);
  if (!object) return runtime::ReconcileResult::done();
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
      if (!current.phase || *current.phase == Phase::kPending) {
        auto backups = listItems(client, kBackups, velero.veleroNamespace, "");
        if (backups.ok()) {
          observed.backups = std::move(*backups);
        } else if (backups.error().kind() == base::ErrorKind::kNotFound) {
          observed.veleroInstalled = false;
        } else {
          base::Error error = std::move(backups).error();
          return runtime::ReconcileResult::error(std::move(error.context("list Velero Backups")));
        }
      }
      if (current.velero && !current.velero->sandboxNamespace.empty()) {
        const std::string& sandbox = current.velero->sandboxNamespace;
        GATHER(observed.restore,
               getOptional(client, kRestores, {velero.veleroNamespace, current.velero->restore}));
        std::optional<json> ns;
        GATHER(ns, getOptional(client, kube::resources::kNamespaces, {"", sandbox}));
        observed.sandboxExists = ns.has_value();
        if (ns) {
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
        for (const kube::ResourceRef& kind : kRestoreLeftoverKinds) {
          std::vector<json> items;
          GATHER(items,
                 listItems(client, kind, "", "velero.io/restore-name=" + current.velero->restore));
          observed.leftovers += static_cast<int64_t>(items.size());
        }
      }
    }
  }
  const auto now = manager_.clock().now();

  // Decide.
  RunDesired desired = decideRun(spec, observed, now);

  // Act: status, then the cluster changes.
  auto writeStatus = [&](const RunDesired& d) -> std::optional<runtime::ReconcileResult> {
    if (!d.statusChanged || observed.deleting) return std::nullopt;
    return runtime::applyStatus(client, kDRDrillRuns, key, d.statusJson);
  };
  if (auto result = writeStatus(desired)) return *result;
  for (const Action& action : desired.actions) {
    base::Result<void> result;
    switch (action.kind) {
      case Action::Kind::kApply: {
        auto resource = resourceOf(action.object.value("kind", ""));
        if (resource->resource == "namespaces") {
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
        for (const kube::ResourceRef& kind : kRestoreLeftoverKinds) {
          auto items = listItems(client, kind, "", "velero.io/restore-name=" + action.restoreName);
          if (!items.ok()) {
            result = std::move(items).error();
            break;
          }
          for (const json& item : *items) {
            auto removed = client.remove(kind, {"", item["metadata"].value("name", "")});
            if (!removed.ok() && removed.error().kind() != base::ErrorKind::kNotFound) {
              result = std::move(removed).error();
            }
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
    return runtime::ReconcileResult::error(std::move(error.context(action.purpose)));
  }
  const auto regarding = runtime::ObjectReference::fromObject(*object);
  for (const Event& event : desired.events) {
    manager_.recorder().record(
        {regarding,
         event.type == "Warning" ? runtime::EventType::kWarning : runtime::EventType::kNormal,
         event.reason, "Reconcile", event.message});
  }
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
                 std::chrono::nanoseconds(*desired.requeueAt - manager_.clock().now()));
    return runtime::ReconcileResult::requeueAfter(delay);
  }
  return runtime::ReconcileResult::done();
}

}  // namespace relops::drill
