#include "controllers/policy/policy_reconciler.h"

#include <map>
#include <set>
#include <utility>

#include "controllers/common/change_window.h"
#include "controllers/common/conditions.h"
#include "controllers/policy/admission.h"
#include "operator/kube/client.h"
#include "operator/runtime/act.h"
#include "operator/runtime/event_recorder.h"
#include "operator/runtime/manager.h"
#include "operator/runtime/metrics.h"

namespace relops::policy {

using nlohmann::json;
using runtime::ReconcileResult;

namespace {

// A Deployment, StatefulSet or DaemonSet of the namespace, as a workloadSelector sees it.
struct LabelledWorkload {
  std::string workload;  // kind/name
  std::map<std::string, std::string> labels;
};

// The SLO's status through the shared reader; an SLO without one (or with one that does not
// read) has no data yet.
common::SloStatus sloStatusOf(const json& sloObject) {
  const auto status = sloObject.find("status");
  if (status == sloObject.end() || status->is_null()) return {};
  auto parsed = common::parseSloStatus(*status);
  return parsed.ok() ? std::move(*parsed) : common::SloStatus{};
}

// What the policy reads of an SLO: its labels, its budget and burn rates (the shared
// status reader), and what a freeze of it covers — its workload indicator's target plus the
// `workloads` the policy's workloadSelector selects.
SloBudgetInput budgetInput(const PolicySpec& policy, const json& sloObject,
                           const std::vector<LabelledWorkload>& workloads) {
  SloBudgetInput input;
  input.name = sloObject["metadata"].value("name", "");
  input.labels = common::labelsOf(sloObject);
  const common::SloStatus status = sloStatusOf(sloObject);
  input.remainingPercent = status.budgetRemainingPercent();
  input.burnRates = status.burnRatesByWindow();
  // What a freeze of this SLO covers: its workload indicator's target, plus what the
  // policy's workloadSelector selects in the namespace.
  std::set<std::string> covered;
  static const json::json_pointer kWorkload("/spec/indicator/workload");
  if (sloObject.contains(kWorkload)) {
    const json& workload = sloObject.at(kWorkload);
    covered.insert(workload.value("kind", "Deployment") + "/" + workload.value("name", ""));
    if (workload.is_object()) {
      input.target = workload.value("kind", "Deployment") + "/" + workload.value("name", "");
    }
  }
  if (policy.workloadSelector) {
    for (const LabelledWorkload& workload : workloads) {
      if (policy.workloadSelector->matches(workload.labels)) covered.insert(workload.workload);
    }
  }
  input.workloads = {covered.begin(), covered.end()};
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
  for (const kube::ResourceRef* resource : kWorkloadResources) {
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
  auto crd = context_.client().get(kube::resources::kCustomResourceDefinitions,
                                   {"", kErrorBudgetPolicyCrd});
  if (!crd.ok()) {
    log.info("admission policy applied without its CRD owner", {{"error", crd.error().message()}});
    return "";
  }
  return crd->value("metadata", json::object()).value("uid", "");
}

PolicyReconciler::Input PolicyReconciler::gather(const json& object, ErrorBudgetPolicy policy) {
  Input input;
  const std::string& namespace_ = policy.metadata.namespace_;
  std::vector<LabelledWorkload> workloads;
  if (policy.spec.workloadSelector) {
    for (const kube::ResourceRef* resource : kWorkloadResources) {
      for (const runtime::ObjectPtr& workload : context_.cachedList(*resource, namespace_)) {
        workloads.push_back({resource->kind + "/" + (*workload)["metadata"].value("name", ""),
                             common::labelsOf(*workload)});
      }
    }
  }
  for (const runtime::ObjectPtr& slo : context_.cachedList(kServiceLevelObjectives, namespace_)) {
    input.slos.push_back(budgetInput(policy.spec, *slo, workloads));
  }
  input.storedStatus = object.value("status", json());
  input.policy = std::move(policy);
  return input;
}

ReconcileResult PolicyReconciler::stall(const kube::ObjectKey& key, const json& object,
                                        const std::string& message, const runtime::Logger& log) {
  const json stored = object.value("status", json());
  json status = stored.is_object() ? stored : json::object();
  const bool wasStalled = common::isTrue(status.value("conditions", json()), "Stalled");
  common::markStalled(status, object["metadata"].value("generation", int64_t{0}), "InvalidSpec",
                      message, context_.clock().now());
  runtime::Outcome<std::vector<PolicyEvent>> outcome;
  if (common::statusChanged(stored, status)) outcome.status = std::move(status);
  if (!wasStalled) outcome.events.push_back({"Warning", "InvalidSpec", "", message});
  const ReconcileResult acted = runtime::act(context_, kErrorBudgetPolicies, object, outcome);
  if (acted.kind() == ReconcileResult::Kind::kError) return acted;
  // An unusable policy freezes nothing.
  exportFreezes(key, json::array());
  return removeBindings(key, {}, log).value_or(acted);
}

void PolicyReconciler::exportFreezes(const kube::ObjectKey& key, const json& activeFreezes) {
  // One series per frozen SLO and rule, as many as status.activeFreezes lists; a thaw removes
  // it.
  std::set<runtime::Labels> current;
  for (const json& freeze : activeFreezes) {
    if (!freeze.is_object()) continue;
    current.insert({key.namespace_, key.name, freeze.value("slo", ""), freeze.value("rule", "")});
  }
  freezeActive_.removeMatching([&](const runtime::Labels& labels) {
    return labels[0] == key.namespace_ && labels[1] == key.name && !current.contains(labels);
  });
  for (const runtime::Labels& labels : current) freezeActive_.with(labels).set(1);
}

base::Result<std::string> PolicyReconciler::applyIfChanged(const kube::ResourceRef& resource,
                                                           const json& desired, const char* what,
                                                           const runtime::Logger& log) {
  const std::string name = desired["metadata"].value("name", "");
  const runtime::ObjectPtr cached = context_.cached(resource, {"", name});
  if (appliedAsIs(cached.get(), desired)) return (*cached)["metadata"].value("uid", "");
  auto applied = kube::apply(context_.client(), resource, desired);
  if (!applied.ok()) return std::move(applied).error().context(what);
  log.info("applied", {{"object", name}});
  return applied->value("metadata", json::object()).value("uid", "");
}

std::optional<base::Error> PolicyReconciler::enforce(const kube::ObjectKey& key,
                                                     const ErrorBudgetPolicy& policy,
                                                     const PolicyDecision& decision,
                                                     const runtime::Logger& log) {
  if (decision.frozenWorkloads.empty() && !decision.freezeBySelector) return std::nullopt;
  // The admission policy owns the bindings (freezeBinding): its UID goes into them.
  auto owner =
      applyIfChanged(kAdmissionPolicies, stampAppliedHash(freezeAdmissionPolicy(crdOwnerUid(log))),
                     "apply admission policy", log);
  if (!owner.ok()) return std::move(owner).error();
  std::vector<json> bindings;
  if (!decision.frozenWorkloads.empty()) {
    bindings.push_back(freezeBinding(key.namespace_, key.name, decision.frozenWorkloads, *owner));
  }
  if (decision.freezeBySelector && policy.spec.workloadSelector) {
    bindings.push_back(
        freezeSelectorBinding(key.namespace_, key.name, *policy.spec.workloadSelector, *owner));
  }
  if (policy.spec.workloadSelector) {
    bindings.push_back(
        freezeRolloutBinding(key.namespace_, key.name, *policy.spec.workloadSelector, *owner));
  }
  for (json& binding : bindings) {
    auto applied = applyIfChanged(kAdmissionBindings, stampAppliedHash(std::move(binding)),
                                  "apply freeze binding", log);
    if (!applied.ok()) return std::move(applied).error();
  }
  return std::nullopt;
}

std::optional<ReconcileResult> PolicyReconciler::removeBindings(const kube::ObjectKey& key,
                                                                Unneeded unneeded,
                                                                const runtime::Logger& log) {
  for (const auto& [kind, remove] : {std::pair{FreezeBindingKind::kNamed, unneeded.named},
                                     std::pair{FreezeBindingKind::kBySelector, unneeded.bySelector},
                                     std::pair{FreezeBindingKind::kRollouts, unneeded.rollouts}}) {
    const std::string name = freezeBindingName(key.namespace_, key.name, kind);
    if (!remove || !context_.cached(kAdmissionBindings, {"", name})) continue;
    auto removed = context_.client().remove(kAdmissionBindings, {"", name});
    if (!removed.ok() && removed.error().kind() != base::ErrorKind::kNotFound) {
      return ReconcileResult::error(std::move(removed).error().context("delete freeze binding"));
    }
    log.info("freeze binding deleted", {{"binding", name}});
  }
  return std::nullopt;
}

PolicyReconciler::PolicyReconciler(runtime::Context& context)
    : context_(context),
      freezeActive_(context.registry().gauge(
          "relops_freeze_active",
          "1 while the ErrorBudgetPolicy `name` freezes the workloads of an SLO of its "
          "namespace (status.activeFreezes), by the rule that froze them",
          {"namespace", "name", "slo", "rule"})) {}

ReconcileResult PolicyReconciler::reconcile(const kube::ObjectKey& key,
                                            const runtime::Logger& log) {
  const runtime::ObjectPtr object = context_.cached(kErrorBudgetPolicies, key);
  if (!object || (*object)["metadata"].contains("deletionTimestamp")) {
    exportFreezes(key, json::array());
    return removeBindings(key, {}, log).value_or(ReconcileResult::done());
  }
  auto parsed = parsePolicy(*object);
  if (!parsed.ok()) return stall(key, *object, parsed.error().message(), log);
  // Gather, decide.
  const Input input = gather(*object, std::move(*parsed));
  const auto now = context_.clock().now();
  PolicyDecision decision =
      decidePolicy(input.policy, input.slos, input.storedStatus, key.namespace_, now);

  // Act. A freeze: the admission objects first, so status says Frozen only once the API
  // server has what enforces it (the denial itself waits for the status: the admission
  // policy reads activeFreezes). A thaw: status first, then the bindings go.
  std::optional<base::Error> notEnforced = enforce(key, input.policy, decision, log);
  if (notEnforced) {
    markFreezeNotEnforced(decision, input.storedStatus, notEnforced->message(),
                          input.policy.metadata.generation, now);
  }
  runtime::Outcome<std::vector<PolicyEvent>> outcome;
  const json activeFreezes = decision.status.value("activeFreezes", json::array());
  if (common::statusChanged(input.storedStatus, decision.status)) {
    outcome.status = std::move(decision.status);
  }
  outcome.events = std::move(decision.events);
  // A gone SLO's freeze is held for a grace: look again when it ends.
  if (decision.recheckAfter) outcome.requeueAt = now + *decision.recheckAfter;
  const ReconcileResult acted = runtime::act(context_, kErrorBudgetPolicies, *object, outcome);
  if (acted.kind() == ReconcileResult::Kind::kError) return acted;
  exportFreezes(key, activeFreezes);  // what the written status lists
  if (notEnforced) return ReconcileResult::error(std::move(*notEnforced));
  // Bindings no longer needed: all of them on a thaw, the other kind on a change of mode.
  const bool frozen = !decision.frozenWorkloads.empty() || decision.freezeBySelector;
  const Unneeded unneeded{decision.frozenWorkloads.empty(), !decision.freezeBySelector,
                          !frozen || !input.policy.spec.workloadSelector};
  return removeBindings(key, unneeded, log).value_or(acted);
}

}  // namespace relops::policy
