#include "controllers/changewindow/changewindow_reconciler.h"

#include <algorithm>
#include <array>
#include <map>
#include <utility>

#include "controllers/changewindow/admission.h"
#include "controllers/common/change_window.h"
#include "controllers/common/conditions.h"
#include "controllers/common/freeze_admission.h"
#include "operator/kube/client.h"
#include "operator/runtime/act.h"
#include "operator/runtime/manager.h"

namespace relops::changewindow {

using nlohmann::json;
using runtime::ReconcileResult;

namespace {

// What a Freeze selects and relops lists: Rollouts are frozen by the binding's objectSelector
// all the same, but relops does not watch them, so status does not count them.
const std::array<const kube::ResourceRef*, 3> kWorkloadResources = {
    &kube::resources::kDeployments, &kube::resources::kStatefulSets, &kube::resources::kDaemonSets};

}  // namespace

void ChangeWindowReconciler::add(runtime::Manager& manager, ChangeWindowReconciler& reconciler,
                                 int workers) {
  runtime::Controller::Options options;
  options.name = "changewindow";
  options.workers = workers;
  manager.setLabelSelector(kAdmissionBindings, "app.kubernetes.io/managed-by=relops");
  manager.setLabelSelector(kAdmissionPolicies, "app.kubernetes.io/managed-by=relops");
  runtime::Controller& controller = manager.addController(options, kChangeWindows, reconciler);
  runtime::Manager* managerPtr = &manager;
  // A workload or an SLO came or went: the windows of its namespace count again.
  auto windowsOfNamespace = [managerPtr](const json& object) {
    std::vector<kube::ObjectKey> keys;
    const std::string namespace_ = object["metadata"].value("namespace", "");
    for (const runtime::ObjectPtr& window : managerPtr->cachedList(kChangeWindows, namespace_)) {
      keys.push_back({namespace_, (*window)["metadata"].value("name", "")});
    }
    return keys;
  };
  for (const kube::ResourceRef* resource : kWorkloadResources) {
    for (runtime::Informer* informer : manager.informers(*resource)) {
      controller.watches(*informer, windowsOfNamespace);
    }
  }
  for (runtime::Informer* informer : manager.informers(kServiceLevelObjectives)) {
    controller.watches(*informer, windowsOfNamespace);
  }
  // A binding maps back to its window: one deleted by hand comes back, one whose window is
  // gone goes. One of a namespace this process does not watch belongs to another relops.
  for (runtime::Informer* informer : manager.informers(kAdmissionBindings)) {
    controller.watches(*informer, [managerPtr](const json& binding) {
      const json& metadata = binding["metadata"];
      const json labels = metadata.value("labels", json::object());
      const json annotations = metadata.value("annotations", json::object());
      std::vector<kube::ObjectKey> keys;
      if (labels.contains(kWindowNamespaceLabel) && labels[kWindowNamespaceLabel].is_string() &&
          annotations.contains(kWindowNameAnnotation) &&
          annotations[kWindowNameAnnotation].is_string() &&
          managerPtr->watches(labels[kWindowNamespaceLabel].get<std::string>())) {
        keys.push_back({labels[kWindowNamespaceLabel].get<std::string>(),
                        annotations[kWindowNameAnnotation].get<std::string>()});
      }
      return keys;
    });
  }
  manager.informers(kAdmissionPolicies);
}

ChangeWindowReconciler::ChangeWindowReconciler(runtime::Context& context)
    : context_(context),
      active_(context.registry().gauge(
          "relops_changewindow_active",
          "1 while the ChangeWindow `name` is active (status.active), else 0",
          {"namespace", "name", "type"})),
      nextStart_(context.registry().gauge(
          "relops_changewindow_next_start_timestamp_seconds",
          "When the ChangeWindow `name` next starts (status.nextStart), in Unix seconds",
          {"namespace", "name", "type"})) {}

Selection ChangeWindowReconciler::select(const ChangeWindow& window) {
  Selection selection;
  const std::string& namespace_ = window.metadata.namespace_;
  if (window.spec.type == WindowType::kFreeze) {
    for (const kube::ResourceRef* resource : kWorkloadResources) {
      for (const runtime::ObjectPtr& workload : context_.cachedList(*resource, namespace_)) {
        if (window.spec.workloadSelector &&
            !window.spec.workloadSelector->matches(common::labelsOf(*workload))) {
          continue;
        }
        selection.names.push_back(resource->kind + "/" + (*workload)["metadata"].value("name", ""));
      }
    }
  } else {
    for (const runtime::ObjectPtr& slo : context_.cachedList(kServiceLevelObjectives, namespace_)) {
      if (window.spec.sloSelector && !window.spec.sloSelector->matches(common::labelsOf(*slo))) {
        continue;
      }
      selection.names.push_back((*slo)["metadata"].value("name", ""));
    }
  }
  std::sort(selection.names.begin(), selection.names.end());
  return selection;
}

std::string ChangeWindowReconciler::crdOwnerUid(const runtime::Logger& log) {
  if (const runtime::ObjectPtr applied =
          context_.cached(kAdmissionPolicies, {"", kWindowAdmissionPolicy})) {
    for (const json& owner : (*applied)["metadata"].value("ownerReferences", json::array())) {
      if (owner.value("kind", "") == "CustomResourceDefinition" &&
          owner.value("name", "") == kChangeWindowCrd) {
        return owner.value("uid", "");
      }
    }
  }
  auto crd =
      context_.client().get(kube::resources::kCustomResourceDefinitions, {"", kChangeWindowCrd});
  if (!crd.ok()) {
    log.info("admission policy applied without its CRD owner", {{"error", crd.error().message()}});
    return "";
  }
  return crd->value("metadata", json::object()).value("uid", "");
}

base::Result<std::string> ChangeWindowReconciler::applyIfChanged(const kube::ResourceRef& resource,
                                                                 const json& desired,
                                                                 const runtime::Logger& log) {
  const std::string name = desired["metadata"].value("name", "");
  const runtime::ObjectPtr cached = context_.cached(resource, {"", name});
  if (common::appliedAsIs(cached.get(), desired)) return (*cached)["metadata"].value("uid", "");
  auto applied = kube::apply(context_.client(), resource, desired);
  if (!applied.ok()) return std::move(applied).error().context("apply " + name);
  log.info("applied", {{"object", name}});
  return applied->value("metadata", json::object()).value("uid", "");
}

std::optional<base::Error> ChangeWindowReconciler::bind(const ChangeWindow& window,
                                                        const runtime::Logger& log) {
  auto owner = applyIfChanged(
      kAdmissionPolicies, common::stampAppliedHash(windowAdmissionPolicy(crdOwnerUid(log))), log);
  if (!owner.ok()) return std::move(owner).error();
  auto applied = applyIfChanged(kAdmissionBindings,
                                common::stampAppliedHash(windowBinding(window, *owner)), log);
  if (!applied.ok()) return std::move(applied).error();
  return std::nullopt;
}

std::optional<base::Error> ChangeWindowReconciler::unbind(const kube::ObjectKey& key,
                                                          const runtime::Logger& log) {
  const std::string name = windowBindingName(key.namespace_, key.name);
  if (!context_.cached(kAdmissionBindings, {"", name})) return std::nullopt;
  auto removed = context_.client().remove(kAdmissionBindings, {"", name});
  if (!removed.ok() && removed.error().kind() != base::ErrorKind::kNotFound) {
    return std::move(removed).error().context("delete freeze binding");
  }
  log.info("freeze binding deleted", {{"binding", name}});
  return std::nullopt;
}

void ChangeWindowReconciler::exportMetrics(const kube::ObjectKey& key, const std::string& type,
                                           bool active, std::optional<TimePoint> nextStart) {
  auto ofWindow = [&](const runtime::Labels& labels) {
    return labels[0] == key.namespace_ && labels[1] == key.name && labels[2] != type;
  };
  active_.removeMatching(ofWindow);
  nextStart_.removeMatching([&](const runtime::Labels& labels) {
    return labels[0] == key.namespace_ && labels[1] == key.name;
  });
  if (type.empty()) {
    active_.removeMatching([&](const runtime::Labels& labels) {
      return labels[0] == key.namespace_ && labels[1] == key.name;
    });
    return;
  }
  active_.with({key.namespace_, key.name, type}).set(active ? 1 : 0);
  if (nextStart) {
    nextStart_.with({key.namespace_, key.name, type})
        .set(static_cast<double>(nextStart->time_since_epoch().count()));
  }
}

ReconcileResult ChangeWindowReconciler::reconcile(const kube::ObjectKey& key,
                                                  const runtime::Logger& log) {
  const runtime::ObjectPtr object = context_.cached(kChangeWindows, key);
  if (!object || (*object)["metadata"].contains("deletionTimestamp")) {
    exportMetrics(key, "", false, std::nullopt);
    if (auto failed = unbind(key, log)) return ReconcileResult::error(std::move(*failed));
    return ReconcileResult::done();
  }
  const json stored = (*object).value("status", json());
  const auto now = context_.clock().now();
  const TimePoint at = std::chrono::floor<std::chrono::seconds>(now);
  auto parsed = parseChangeWindow(*object);
  if (!parsed.ok()) {
    // Unusable: Stalled, and no freeze.
    json status = stored.is_object() ? stored : json::object();
    status["active"] = false;
    status.erase("currentWindow");
    common::markStalled(status, (*object)["metadata"].value("generation", int64_t{0}),
                        "InvalidSpec", parsed.error().message(), now);
    runtime::Outcome<std::vector<WindowEvent>> outcome;
    if (common::statusChanged(stored, status)) outcome.status = std::move(status);
    const ReconcileResult acted = runtime::act(context_, kChangeWindows, *object, outcome);
    exportMetrics(key, "", false, std::nullopt);
    if (auto failed = unbind(key, log)) return ReconcileResult::error(std::move(*failed));
    return acted;
  }
  // Gather, decide.
  const ChangeWindow& window = *parsed;
  WindowDecision decision = decideWindow(window, stored, select(window), at);
  // Act. A freeze: its binding before status turns active (the admission policy reads it).
  if (decision.bind) {
    if (auto failed = bind(window, log)) {
      common::markRetrying(decision.status, window.metadata.generation, "FreezeNotEnforced",
                           failed->message(), now);
      runtime::Outcome<std::vector<WindowEvent>> outcome;
      if (common::statusChanged(stored, decision.status)) outcome.status = decision.status;
      runtime::act(context_, kChangeWindows, *object, outcome);
      return ReconcileResult::error(std::move(*failed));
    }
  }
  runtime::Outcome<std::vector<WindowEvent>> outcome;
  const bool active = decision.current.has_value();
  if (common::statusChanged(stored, decision.status)) outcome.status = std::move(decision.status);
  outcome.events = std::move(decision.events);
  if (decision.requeueAt) {
    outcome.requeueAt = std::chrono::system_clock::time_point(*decision.requeueAt);
  }
  const ReconcileResult acted = runtime::act(context_, kChangeWindows, *object, outcome);
  if (acted.kind() == ReconcileResult::Kind::kError) return acted;
  exportMetrics(key, std::string(windowTypeName(window.spec.type)), active,
                decision.next ? std::optional<TimePoint>(decision.next->start) : std::nullopt);
  // The end: status says inactive first, then the binding goes.
  if (!decision.bind) {
    if (auto failed = unbind(key, log)) return ReconcileResult::error(std::move(*failed));
  }
  return acted;
}

}  // namespace relops::changewindow
