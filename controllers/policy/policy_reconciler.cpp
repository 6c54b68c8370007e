#include "controllers/policy/policy_reconciler.h"

#include <algorithm>
#include <functional>

#include "controllers/common/conditions.h"
#include "controllers/policy/admission.h"
#include "controllers/policy/freeze.h"
#include "controllers/policy/policy_decide.h"
#include "controllers/policy/policy_types.h"
#include "operator/kube/client.h"
#include "operator/runtime/event_recorder.h"
#include "operator/runtime/manager.h"

namespace relops::policy {

using nlohmann::json;
using runtime::ReconcileResult;

namespace {

std::map<std::string, std::string> labelsOf(const json& object) {
  std::map<std::string, std::string> labels;
  const json& metadata = object.at("metadata");
  if (!metadata.contains("labels")) return labels;
  for (const auto& [name, value] : metadata["labels"].items()) {
    if (value.is_string()) labels[name] = value.get<std::string>();
  }
  return labels;
}

std::optional<double> number(const std::string& text) {
  try {
    size_t used = 0;
    const double value = std::stod(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

// What a freeze of this SLO covers: its workload indicator's target, plus what the
// policy's workloadSelector selects in the namespace.
std::vector<std::string> workloadsOf(runtime::Context& context, const PolicySpec& policy,
                                     const json& sloObject, const std::string& namespace_) {
  std::set<std::string> workloads;
  static const json::json_pointer kWorkload("/spec/indicator/workload");
  if (sloObject.contains(kWorkload)) {
    const json& workload = sloObject.at(kWorkload);
    workloads.insert(workload.value("kind", "Deployment") + "/" + workload.value("name", ""));
  }
  if (policy.workloadSelector) {
    for (const kube::ResourceRef* resource :
         {&kube::resources::kDeployments, &kube::resources::kStatefulSets,
          &kube::resources::kDaemonSets}) {
      for (const runtime::ObjectPtr& object : context.cachedList(*resource, namespace_)) {
        if (policy.workloadSelector->matches(labelsOf(*object))) {
          workloads.insert(resource->kind + "/" + (*object)["metadata"].value("name", ""));
        }
      }
    }
  }
  return {workloads.begin(), workloads.end()};
}

SloBudgetInput budgetInput(runtime::Context& context, const PolicySpec& policy,
                           const json& sloObject, const std::string& namespace_) {
  SloBudgetInput input;
  input.name = sloObject["metadata"].value("name", "");
  input.labels = labelsOf(sloObject);
  const json status = sloObject.value("status", json::object());
  if (status.contains("errorBudget")) {
    input.remainingPercent = number(status["errorBudget"].value("remaining", ""));
  }
  for (const json& rate : status.value("burnRates", json::array())) {
    if (const auto value = number(rate.value("rate", ""))) {
      input.burnRates[rate.value("window", "")] = *value;
    }
  }
  input.workloads = workloadsOf(context, policy, sloObject, namespace_);
  static const json::json_pointer kWorkload("/spec/indicator/workload");
  if (sloObject.contains(kWorkload) && sloObject.at(kWorkload).is_object()) {
    const json& workload = sloObject.at(kWorkload);
    input.target = workload.value("kind", "Deployment") + "/" + workload.value("name", "");
  }
  return input;
}

}  // namespace

void PolicyReconciler::add(runtime::Manager& manager, PolicyReconciler& reconciler, int workers) {
  runtime::Controller::Options options;
  options.name = "errorbudgetpolicy";
  options.workers = workers;
  manager.setLabelSelector(kAdmissionBindings, "app.kubernetes.io/managed-by=relops");
  manager.setLabelSelector(kAdmissionPolicies, "app.kubernetes.io/managed-by=relops");
  runtime::Controller& controller =
      manager.addController(options, kErrorBudgetPolicies, reconciler);
  runtime::Manager* managerPtr = &manager;
  // An SLO's budget moved: every policy of its namespace looks again.
  auto policiesOfNamespace = [managerPtr](const json& object) {
    std::vector<kube::ObjectKey> keys;
    const std::string namespace_ = object["metadata"].value("namespace", "");
    for (const runtime::ObjectPtr& policy :
         managerPtr->cachedList(kErrorBudgetPolicies, namespace_)) {
      keys.push_back({namespace_, (*policy)["metadata"].value("name", "")});
    }
    return keys;
  };
  for (runtime::Informer* informer : manager.informers(kServiceLevelObjectives)) {
    controller.watches(*informer, policiesOfNamespace);
  }
  for (const kube::ResourceRef* resource :
       {&kube::resources::kDeployments, &kube::resources::kStatefulSets,
        &kube::resources::kDaemonSets}) {
    for (runtime::Informer* informer : manager.informers(*resource)) {
      controller.watches(*informer, policiesOfNamespace);
    }
  }
  // A binding maps back to its policy, so one whose policy is gone is deleted (also
  // after a restart) and one deleted by hand comes back. Bindings are cluster-scoped:
  // one of a namespace this process does not watch belongs to another relops (its
  // policy is not in our cache, so it would look gone and be deleted).
  for (runtime::Informer* informer : manager.informers(kAdmissionBindings)) {
    controller.watches(*informer, [managerPtr](const json& binding) {
      const json& metadata = binding["metadata"];
      const json labels = metadata.value("labels", json::object());
      const json annotations = metadata.value("annotations", json::object());
      std::vector<kube::ObjectKey> keys;
      // Bindings of earlier versions carry the (possibly cut) name as a label instead.
      const json& named = annotations.contains(kPolicyNameAnnotation) ? annotations : labels;
      if (labels.contains(kPolicyNamespaceLabel) && labels[kPolicyNamespaceLabel].is_string() &&
          named.contains(kPolicyNameAnnotation) && named[kPolicyNameAnnotation].is_string() &&
          managerPtr->watches(labels[kPolicyNamespaceLabel].get<std::string>())) {
        keys.push_back({labels[kPolicyNamespaceLabel].get<std::string>(),
                        named[kPolicyNameAnnotation].get<std::string>()});
      }
      return keys;
    });
  }
  manager.informers(kAdmissionPolicies);
}

std::string PolicyReconciler::crdOwnerUid(const runtime::Logger& log) {
  if (const runtime::ObjectPtr applied =
          context_.cached(kAdmissionPolicies, {"", kFreezeAdmissionPolicy})) {
    for (const json& owner : (*applied)["metadata"].value("ownerReferences", json::array())) {
      if (owner.value("kind", "") == "CustomResourceDefinition" &&
          owner.value("name", "") == kErrorBudgetPolicyCrd) {
        return owner.value("uid", "");
      }
    }
  }
  auto crd = context_.client().get(kCustomResourceDefinitions, {"", kErrorBudgetPolicyCrd});
  if (!crd.ok()) {
    log.info("admission policy applied without its CRD owner", {{"error", crd.error().message()}});
    return "";
  }
  return crd->value("metadata", json::object()).value("uid", "");
}

ReconcileResult PolicyReconciler::reconcile(const kube::ObjectKey& key,
                                            const runtime::Logger& log) {
  const std::string namedBinding =
      freezeBindingName(key.namespace_, key.name, FreezeBindingKind::kNamed);
  const std::string selectorBinding =
      freezeBindingName(key.namespace_, key.name, FreezeBindingKind::kBySelector);
  auto removeBinding = [&](const std::string& bindingName) -> std::optional<ReconcileResult> {
    if (!context_.cached(kAdmissionBindings, {"", bindingName})) return std::nullopt;
    auto removed = context_.client().remove(kAdmissionBindings, {"", bindingName});
    if (!removed.ok() && removed.error().kind() != base::ErrorKind::kNotFound) {
      return ReconcileResult::error(std::move(removed).error().context("delete freeze binding"));
    }
    log.info("freeze binding deleted", {{"binding", bindingName}});
    return std::nullopt;
  };
  auto removeBindings = [&]() -> std::optional<ReconcileResult> {
    if (auto result = removeBinding(namedBinding)) return result;
    return removeBinding(selectorBinding);
  };

  const runtime::ObjectPtr object = context_.cached(kErrorBudgetPolicies, key);
  if (!object || (*object)["metadata"].contains("deletionTimestamp")) {
    if (auto result = removeBindings()) return *result;
    return ReconcileResult::done();
  }
  const auto now = context_.clock().now();
  const int64_t generation = (*object)["metadata"].value("generation", int64_t{0});
  const json storedStatus = object->value("status", json());
  json status = storedStatus.is_object() ? storedStatus : json::object();
  const auto regarding = runtime::ObjectReference::fromObject(*object);

  auto writeStatus = [&]() -> std::optional<ReconcileResult> {
    if (!common::statusChanged(storedStatus, status)) return std::nullopt;
    return runtime::applyStatus(context_.client(), kErrorBudgetPolicies, key, status);
  };

  auto parsed = parsePolicy(*object);
  if (!parsed.ok()) {
    const bool wasStalled = common::isTrue(status.value("conditions", json()), "Stalled");
    common::markStalled(status, generation, "InvalidSpec", parsed.error().message(), now);
    if (auto result = writeStatus()) return *result;
    if (!wasStalled) {
      context_.recorder().warning(regarding, "InvalidSpec", "Reconcile", parsed.error().message());
    }
    if (auto result = removeBindings()) return *result;  // an unusable policy freezes nothing
    return ReconcileResult::done();
  }
  const ErrorBudgetPolicy& policy = *parsed;

  // Gather: the selected SLOs' budgets as their status shows them.
  std::vector<SloBudgetInput> inputs;
  for (const runtime::ObjectPtr& slo :
       context_.cachedList(kServiceLevelObjectives, key.namespace_)) {
    inputs.push_back(budgetInput(context_, policy.spec, *slo, key.namespace_));
  }
  // Decide: what fired and which gone SLOs are in their grace is remembered in status.
  PolicyDecision decision = decidePolicy(policy, inputs, storedStatus, key.namespace_, now);

  // Act. A freeze: the admission policy and the bindings first, so status says Frozen only
  // once the API server has what enforces it (the denial itself waits for the status: the
  // admission policy reads activeFreezes). A thaw: status first, then the bindings go.
  std::optional<base::Error> enforceError;
  // The UID of what is applied (nullopt: it could not be, enforceError says why).
  auto applyIfChanged = [&](const kube::ResourceRef& resource, const json& desired,
                            const char* what) -> std::optional<std::string> {
    const runtime::ObjectPtr cached =
        context_.cached(resource, {"", desired["metadata"].value("name", "")});
    if (appliedAsIs(cached.get(), desired)) return (*cached)["metadata"].value("uid", "");
    auto applied = kube::apply(context_.client(), resource, desired);
    if (!applied.ok()) {
      enforceError = std::move(applied).error().context(what);
      return std::nullopt;
    }
    log.info("applied", {{"object", desired["metadata"].value("name", "")}});
    return applied->value("metadata", json::object()).value("uid", "");
  };
  const bool freezing = !decision.frozenWorkloads.empty() || decision.freezeBySelector;
  if (freezing) {
    // The admission policy owns the bindings (freezeBinding): its UID goes into them.
    const std::optional<std::string> owner = applyIfChanged(
        kAdmissionPolicies, stampAppliedHash(freezeAdmissionPolicy(crdOwnerUid(log))),
        "apply admission policy");
    bool ok = owner.has_value();
    if (ok && !decision.frozenWorkloads.empty()) {
      ok = applyIfChanged(kAdmissionBindings,
                          stampAppliedHash(freezeBinding(key.namespace_, key.name,
                                                         decision.frozenWorkloads, *owner)),
                          "apply freeze binding")
               .has_value();
    }
    if (ok && decision.freezeBySelector && policy.spec.workloadSelector) {
      ok = applyIfChanged(kAdmissionBindings,
                          stampAppliedHash(freezeSelectorBinding(
                              key.namespace_, key.name, *policy.spec.workloadSelector, *owner)),
                          "apply freeze binding")
               .has_value();
    }
    if (!ok) {
      markFreezeNotEnforced(decision, storedStatus, enforceError->message(), generation, now);
    }
  }
  status = std::move(decision.status);
  if (auto result = writeStatus()) return *result;
  context_.recorder().recordAll(regarding, decision.events);
  if (enforceError) return ReconcileResult::error(std::move(*enforceError));
  // Bindings no longer needed: all of them on a thaw, the other kind on a change of mode.
  if (decision.frozenWorkloads.empty()) {
    if (auto result = removeBinding(namedBinding)) return *result;
  }
  if (!decision.freezeBySelector) {
    if (auto result = removeBinding(selectorBinding)) return *result;
  }
  // A gone SLO's freeze is held for a grace: look again when it ends.
  if (decision.recheckAfter) return ReconcileResult::requeueAfter(*decision.recheckAfter);
  return ReconcileResult::done();
}

}  // namespace relops::policy
