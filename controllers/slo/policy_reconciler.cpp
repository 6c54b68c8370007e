#include "controllers/slo/policy_reconciler.h"

#include <algorithm>
#include <functional>

#include "controllers/slo/freeze.h"
#include "controllers/slo/policy_decide.h"
#include "controllers/slo/policy_types.h"
#include "controllers/slo/slo_reconciler.h"
#include "controllers/slo/slo_types.h"
#include "operator/kube/client.h"
#include "operator/runtime/conditions.h"
#include "operator/runtime/event_recorder.h"
#include "operator/runtime/manager.h"

namespace relops::slo {

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
std::vector<std::string> workloadsOf(runtime::Manager& manager, const PolicySpec& policy,
                                     const json& sloObject, const std::string& namespace_) {
  std::set<std::string> workloads;
  static const json::json_pointer kWorkload("/spec/indicator/workload");
  if (sloObject.contains(kWorkload)) {
    const json& workload = sloObject.at(kWorkload);
    workloads.insert(workload.value("kind", "Deployment") + "/" + workload.value("name", ""));
  }
  if (policy.workloadSelector) {
    for (const kube::ResourceRef* resource : {&kDeployments, &kStatefulSets, &kDaemonSets}) {
      for (const runtime::ObjectPtr& object : manager.cachedList(*resource, namespace_)) {
        if (policy.workloadSelector->matches(labelsOf(*object))) {
          workloads.insert(resource->kind + "/" + (*object)["metadata"].value("name", ""));
        }
      }
    }
  }
  return {workloads.begin(), workloads.end()};
}

SloBudgetInput budgetInput(runtime::Manager& manager, const PolicySpec& policy,
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
  input.workloads = workloadsOf(manager, policy, sloObject, namespace_);
  return input;
}

// The API server fills defaults into admission objects, so "unchanged" is judged by a
// hash of what relops applied, kept in an annotation of the object relops owns.
constexpr char kAppliedHashAnnotation[] = "relops.dev/applied-hash";

json stamped(json object) {
  object["metadata"]["annotations"][kAppliedHashAnnotation] =
      std::to_string(std::hash<std::string>{}(object["spec"].dump()));
  return object;
}

bool appliedAsIs(const json* cached, const json& desired) {
  if (cached == nullptr) return false;
  const json annotations = (*cached)["metadata"].value("annotations", json::object());
  return annotations.value(kAppliedHashAnnotation, "") ==
         desired["metadata"]["annotations"][kAppliedHashAnnotation];
}

}  // namespace

json freezeAdmissionPolicy() {
  // The denial message is built from the ErrorBudgetPolicy's live status, so it shows the
  // budget as it is now; it reads like freezeMessage().
  const std::string message =
      "'change freeze: the error budget of ServiceLevelObjective ' + params.metadata.namespace + "
      "'/' + variables.freeze.slo + ' is spent (' + (has(variables.freeze.budgetRemaining) ? "
      "variables.freeze.budgetRemaining + '% left' : 'no data') + ', ErrorBudgetPolicy ' + "
      "params.metadata.name + ', rule ' + variables.freeze.rule + '). Changes to the pod "
      "template are denied until the budget recovers; scaling is allowed. For a P0 or security "
      "fix, annotate the object with ' + variables.exemptAnnotation + ': \"<ticket or "
      "reason>\".'";
  return {
      {"apiVersion", "admissionregistration.k8s.io/v1"},
      {"kind", "ValidatingAdmissionPolicy"},
      {"metadata",
       {{"name", kFreezeAdmissionPolicy},
        {"labels", {{"app.kubernetes.io/managed-by", "relops"}}}}},
      {"spec",
       {{"failurePolicy", "Fail"},
        {"paramKind", {{"apiVersion", "relops.dev/v1alpha1"}, {"kind", "ErrorBudgetPolicy"}}},
        {"matchConstraints",
         {{"resourceRules",
           json::array({{{"apiGroups", {"apps"}},
                         {"apiVersions", {"v1"}},
                         {"resources", {"deployments", "statefulsets", "daemonsets"}},
                         {"operations", {"UPDATE"}}}})}}},
        {"variables",
         json::array(
             {{{"name", "workload"},
               {"expression", "request.kind.kind + '/' + object.metadata.name"}},
              {{"name", "freezes"},
               {"expression",
                "has(params.status) && has(params.status.activeFreezes) ? "
                "params.status.activeFreezes.filter(f, has(f.workloads) && variables.workload in "
                "f.workloads) : []"}},
              {{"name", "freeze"},
               {"expression", "size(variables.freezes) > 0 ? variables.freezes[0] : null"}},
              {{"name", "exemptAnnotation"},
               {"expression",
                "has(params.spec.exemptAnnotation) ? params.spec.exemptAnnotation : "
                "'relops.dev/freeze-exempt'"}},
              {{"name", "exempt"},
               {"expression",
                "has(object.metadata.annotations) && variables.exemptAnnotation in "
                "object.metadata.annotations"}}})},
        {"validations", json::array({{{"expression",
                                       "size(variables.freezes) == 0 || variables.exempt || "
                                       "object.spec.template == oldObject.spec.template"},
                                      {"messageExpression", message},
                                      {"reason", "Forbidden"}}})}}}};
}

std::string freezeBindingName(const std::string& namespace_, const std::string& policy) {
  std::string name = "relops.dev-freeze." + namespace_ + "." + policy;
  if (name.size() <= 253) return name;
  const std::string hash = std::to_string(std::hash<std::string>{}(namespace_ + "/" + policy));
  return name.substr(0, 253 - hash.size() - 1) + "." + hash;
}

json freezeBinding(const std::string& namespace_, const std::string& policy,
                   const std::vector<std::string>& workloads) {
  std::map<std::string, std::vector<std::string>> names;  // resource → names
  for (const std::string& workload : workloads) {
    const auto slash = workload.find('/');
    if (slash == std::string::npos) continue;
    const std::string kind = workload.substr(0, slash);
    const std::string resource = kind == "StatefulSet" ? "statefulsets"
                                 : kind == "DaemonSet" ? "daemonsets"
                                                       : "deployments";
    names[resource].push_back(workload.substr(slash + 1));
  }
  json rules = json::array();
  for (const auto& [resource, resourceNames] : names) {
    rules.push_back({{"apiGroups", {"apps"}},
                     {"apiVersions", {"v1"}},
                     {"resources", {resource}},
                     {"operations", {"UPDATE"}},
                     {"resourceNames", resourceNames}});
  }
  return {
      {"apiVersion", "admissionregistration.k8s.io/v1"},
      {"kind", "ValidatingAdmissionPolicyBinding"},
      {"metadata",
       {{"name", freezeBindingName(namespace_, policy)},
        {"labels",
         {{"app.kubernetes.io/managed-by", "relops"},
          {kPolicyNamespaceLabel, namespace_},
          {kPolicyNameLabel, policy.size() <= 63 ? policy : policy.substr(0, 63)}}}}},
      {"spec",
       {{"policyName", kFreezeAdmissionPolicy},
        {"validationActions", {"Deny"}},
        {"paramRef",
         {{"name", policy}, {"namespace", namespace_}, {"parameterNotFoundAction", "Allow"}}},
        {"matchResources",
         {{"namespaceSelector", {{"matchLabels", {{"kubernetes.io/metadata.name", namespace_}}}}},
          {"resourceRules", rules}}}}}};
}

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
  for (const kube::ResourceRef* resource : {&kDeployments, &kStatefulSets, &kDaemonSets}) {
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
      const json labels = binding["metadata"].value("labels", json::object());
      std::vector<kube::ObjectKey> keys;
      if (labels.contains(kPolicyNamespaceLabel) && labels.contains(kPolicyNameLabel) &&
          managerPtr->watches(labels[kPolicyNamespaceLabel].get<std::string>())) {
        keys.push_back({labels[kPolicyNamespaceLabel].get<std::string>(),
                        labels[kPolicyNameLabel].get<std::string>()});
      }
      return keys;
    });
  }
  manager.informers(kAdmissionPolicies);
}

ReconcileResult PolicyReconciler::reconcile(const kube::ObjectKey& key,
                                            const runtime::Logger& log) {
  const std::string bindingName = freezeBindingName(key.namespace_, key.name);
  auto removeBinding = [&]() -> std::optional<ReconcileResult> {
    if (!manager_.cached(kAdmissionBindings, {"", bindingName})) return std::nullopt;
    auto removed = manager_.client().remove(kAdmissionBindings, {"", bindingName});
    if (!removed.ok() && removed.error().kind() != base::ErrorKind::kNotFound) {
      return ReconcileResult::error(std::move(removed).error().context("delete freeze binding"));
    }
    log.info("freeze binding deleted", {{"binding", bindingName}});
    return std::nullopt;
  };

  const runtime::ObjectPtr object = manager_.cached(kErrorBudgetPolicies, key);
  if (!object || (*object)["metadata"].contains("deletionTimestamp")) {
    {
      std::lock_guard lock(mutex_);
      firing_.erase(key.str());
    }
    if (auto result = removeBinding()) return *result;
    return ReconcileResult::done();
  }
  const auto now = manager_.clock().now();
  const int64_t generation = (*object)["metadata"].value("generation", int64_t{0});
  const json storedStatus = object->value("status", json());
  json status = storedStatus.is_object() ? storedStatus : json::object();
  const auto regarding = runtime::ObjectReference::fromObject(*object);

  auto writeStatus = [&]() -> std::optional<ReconcileResult> {
    if (!runtime::statusChanged(storedStatus, status)) return std::nullopt;
    return runtime::applyStatus(manager_.client(), kErrorBudgetPolicies, key, status);
  };

  auto parsed = parsePolicy(*object);
  if (!parsed.ok()) {
    const bool wasStalled = runtime::isTrue(status.value("conditions", json()), "Stalled");
    runtime::markStalled(status, generation, "InvalidSpec", parsed.error().message(), now);
    if (auto result = writeStatus()) return *result;
    if (!wasStalled) {
      manager_.recorder().warning(regarding, "InvalidSpec", "Reconcile", parsed.error().message());
    }
    if (auto result = removeBinding()) return *result;  // an unusable policy freezes nothing
    return ReconcileResult::done();
  }
  const ErrorBudgetPolicy& policy = *parsed;

  // Gather: the selected SLOs' budgets as their status shows them.
  std::vector<SloBudgetInput> inputs;
  for (const runtime::ObjectPtr& slo :
       manager_.cachedList(kServiceLevelObjectives, key.namespace_)) {
    inputs.push_back(budgetInput(manager_, policy.spec, *slo, key.namespace_));
  }
  // Decide.
  FiringSet firingBefore;
  {
    std::lock_guard lock(mutex_);
    firingBefore = firing_[key.str()];
  }
  PolicyDecision decision =
      decidePolicy(policy, inputs, storedStatus, firingBefore, key.namespace_, now);
  status = std::move(decision.status);

  // Act: status first (the admission policy reads it for its message), then the binding.
  if (auto result = writeStatus()) return *result;
  if (decision.frozenWorkloads.empty()) {
    if (auto result = removeBinding()) return *result;
  } else {
    const json admission = stamped(freezeAdmissionPolicy());
    const runtime::ObjectPtr cachedPolicy =
        manager_.cached(kAdmissionPolicies, {"", kFreezeAdmissionPolicy});
    if (!appliedAsIs(cachedPolicy.get(), admission)) {
      auto applied = kube::apply(manager_.client(), kAdmissionPolicies, admission);
      if (!applied.ok()) {
        return ReconcileResult::error(std::move(applied).error().context("apply admission policy"));
      }
    }
    const json binding = stamped(freezeBinding(key.namespace_, key.name, decision.frozenWorkloads));
    const runtime::ObjectPtr cachedBinding = manager_.cached(kAdmissionBindings, {"", bindingName});
    if (!appliedAsIs(cachedBinding.get(), binding)) {
      auto applied = kube::apply(manager_.client(), kAdmissionBindings, binding);
      if (!applied.ok()) {
        return ReconcileResult::error(std::move(applied).error().context("apply freeze binding"));
      }
      log.info("freeze binding applied", {{"binding", bindingName}});
    }
  }
  for (const PolicyEvent& event : decision.events) {
    manager_.recorder().record(
        {regarding,
         event.type == "Warning" ? runtime::EventType::kWarning : runtime::EventType::kNormal,
         event.reason, "Reconcile", event.message});
  }
  {
    std::lock_guard lock(mutex_);
    firing_[key.str()] = std::move(decision.firing);
  }
  return ReconcileResult::done();
}

}  // namespace relops::slo
