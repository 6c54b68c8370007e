#include "controllers/policy/policy_reconciler.h"

#include <algorithm>
#include <functional>

#include "controllers/common/conditions.h"
#include "controllers/policy/bounded_names.h"
#include "controllers/policy/freeze.h"
#include "controllers/policy/policy_decide.h"
#include "controllers/policy/policy_types.h"
#include "operator/base/digest.h"
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

// The API server fills defaults into admission objects, so "unchanged" is judged by a
// hash of what relops applied, kept in an annotation of the object relops owns.
constexpr char kAppliedHashAnnotation[] = "relops.dev/applied-hash";

json stamped(json object) {
  // The owner is part of what was applied: a binding from before it had one gets it.
  const json owners = object["metadata"].value("ownerReferences", json());
  object["metadata"]["annotations"][kAppliedHashAnnotation] =
      std::to_string(std::hash<std::string>{}(object["spec"].dump() + owners.dump()));
  return object;
}

bool appliedAsIs(const json* cached, const json& desired) {
  if (cached == nullptr) return false;
  const json annotations = (*cached)["metadata"].value("annotations", json::object());
  return annotations.value(kAppliedHashAnnotation, "") ==
         desired["metadata"]["annotations"][kAppliedHashAnnotation];
}

}  // namespace

json freezeAdmissionPolicy(const std::string& crdUid) {
  // The denial message is built from the ErrorBudgetPolicy's live status, so it shows the
  // budget as it is now; it reads like freezeMessage().
  const std::string message =
      "'change freeze: the error budget of ServiceLevelObjective ' + params.metadata.namespace + "
      "'/' + variables.freeze.slo + ' is spent (' + (has(variables.freeze.budgetRemaining) ? "
      "variables.freeze.budgetRemaining + '% left' : 'no data') + ', ErrorBudgetPolicy ' + "
      "params.metadata.name + ', rule ' + variables.freeze.rule + '). Changes to the pod "
      "template are denied until the budget recovers; scaling is allowed. For a P0 or security "
      "fix, annotate the object with " +
      std::string(kExemptAnnotation) + ": \"<ticket or reason>\" (needs permission to " +
      std::string(kExemptVerb) + " errorbudgetpolicies.relops.dev in this namespace).'";
  // The annotation alone is something any editor can set in the very patch that changes the
  // image: the exemption also needs `exempt` on errorbudgetpolicies in the namespace, which
  // the API server's authorizer checks for the user making the request (CEL authorizer).
  const std::string exempt = "has(object.metadata.annotations) && '" +
                             std::string(kExemptAnnotation) +
                             "' in object.metadata.annotations && "
                             "authorizer.group('relops.dev').resource('errorbudgetpolicies')"
                             ".namespace(object.metadata.namespace).check('" +
                             std::string(kExemptVerb) + "').allowed()";
  json metadata = {{"name", kFreezeAdmissionPolicy},
                   {"labels", {{"app.kubernetes.io/managed-by", "relops"}}}};
  if (!crdUid.empty()) {
    // No blockOwnerDeletion: removing the CRD must never wait on the policy.
    metadata["ownerReferences"] = json::array({{{"apiVersion", "apiextensions.k8s.io/v1"},
                                                {"kind", "CustomResourceDefinition"},
                                                {"name", kErrorBudgetPolicyCrd},
                                                {"uid", crdUid},
                                                {"controller", true}}});
  }
  return {{"apiVersion", "admissionregistration.k8s.io/v1"},
          {"kind", "ValidatingAdmissionPolicy"},
          {"metadata", std::move(metadata)},
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
                  // A freeze by selector covers whatever its binding's objectSelector let
                  // through; a named one only the workloads it lists.
                  {{"name", "freezes"},
                   {"expression",
                    "has(params.status) && has(params.status.activeFreezes) ? "
                    "params.status.activeFreezes.filter(f, (has(f.workloads) && variables.workload "
                    "in f.workloads) || (has(f.bySelector) && f.bySelector)) : []"}},
                  {{"name", "freeze"},
                   {"expression", "size(variables.freezes) > 0 ? variables.freezes[0] : null"}},
                  {{"name", "exempt"}, {"expression", exempt}}})},
            {"validations", json::array({{{"expression",
                                           "size(variables.freezes) == 0 || "
                                           "object.spec.template == oldObject.spec.template || "
                                           "variables.exempt"},
                                          {"messageExpression", message},
                                          {"reason", "Forbidden"}}})}}}};
}

std::string freezeBindingName(const std::string& namespace_, const std::string& policy,
                              FreezeBindingKind kind) {
  // Readable when it fits; a policy name may be 253 characters, so a longer one is cut
  // and suffixed with the SHA-256 of namespace/policy (and kind).
  const std::string suffix = kind == FreezeBindingKind::kBySelector ? ".selector" : "";
  return boundedName("relops.dev-freeze." + namespace_ + "." + policy + suffix,
                     namespace_ + "/" + policy + suffix, 253);
}

std::string policyLabelValue(const std::string& namespace_, const std::string& policy) {
  // A label value is at most 63 characters: a hash of the policy's key, always valid.
  return base::sha256Hex(namespace_ + "/" + policy).substr(0, 40);
}

namespace {

json bindingObject(const std::string& namespace_, const std::string& policy, FreezeBindingKind kind,
                   json matchResources, const std::string& admissionPolicyUid) {
  matchResources["namespaceSelector"] = {
      {"matchLabels", {{"kubernetes.io/metadata.name", namespace_}}}};
  json binding = {
      {"apiVersion", "admissionregistration.k8s.io/v1"},
      {"kind", "ValidatingAdmissionPolicyBinding"},
      {"metadata",
       {{"name", freezeBindingName(namespace_, policy, kind)},
        {"labels",
         {{"app.kubernetes.io/managed-by", "relops"},
          {kPolicyNamespaceLabel, namespace_},
          {kPolicyHashLabel, policyLabelValue(namespace_, policy)}}},
        // Which policy it enforces, in full: labels cannot hold a 253-character name.
        {"annotations", {{kPolicyNameAnnotation, policy}}}}},
      {"spec",
       {{"policyName", kFreezeAdmissionPolicy},
        {"validationActions", {"Deny"}},
        {"paramRef",
         {{"name", policy}, {"namespace", namespace_}, {"parameterNotFoundAction", "Allow"}}},
        {"matchResources", std::move(matchResources)}}}};
  if (!admissionPolicyUid.empty()) {
    // Cluster-scoped owner of a cluster-scoped object, as garbage collection requires. No
    // blockOwnerDeletion: deleting the admission policy must never wait on its bindings.
    binding["metadata"]["ownerReferences"] =
        json::array({{{"apiVersion", "admissionregistration.k8s.io/v1"},
                      {"kind", "ValidatingAdmissionPolicy"},
                      {"name", kFreezeAdmissionPolicy},
                      {"uid", admissionPolicyUid},
                      {"controller", true}}});
  }
  return binding;
}

json selectorJsonOf(const LabelSelector& selector) {
  json out = json::object();
  if (!selector.matchLabels.empty()) out["matchLabels"] = selector.matchLabels;
  if (!selector.matchExpressions.empty()) {
    json expressions = json::array();
    for (const LabelSelectorRequirement& requirement : selector.matchExpressions) {
      json item = {{"key", requirement.key}, {"operator", requirement.op}};
      if (!requirement.values.empty()) item["values"] = requirement.values;
      expressions.push_back(std::move(item));
    }
    out["matchExpressions"] = std::move(expressions);
  }
  return out;
}

}  // namespace

json freezeBinding(const std::string& namespace_, const std::string& policy,
                   const std::vector<std::string>& workloads,
                   const std::string& admissionPolicyUid) {
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
  return bindingObject(namespace_, policy, FreezeBindingKind::kNamed,
                       {{"resourceRules", std::move(rules)}}, admissionPolicyUid);
}

json freezeSelectorBinding(const std::string& namespace_, const std::string& policy,
                           const LabelSelector& workloadSelector,
                           const std::string& admissionPolicyUid) {
  json rules = json::array({{{"apiGroups", {"apps"}},
                             {"apiVersions", {"v1"}},
                             {"resources", {"deployments", "statefulsets", "daemonsets"}},
                             {"operations", {"UPDATE"}}}});
  return bindingObject(
      namespace_, policy, FreezeBindingKind::kBySelector,
      {{"objectSelector", selectorJsonOf(workloadSelector)}, {"resourceRules", std::move(rules)}},
      admissionPolicyUid);
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
    {
      std::lock_guard lock(mutex_);
      firing_.erase(key.str());
      missing_.erase(key.str());
    }
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
  // Decide.
  FiringSet firingBefore;
  std::map<std::string, TimePoint> missingBefore;
  {
    std::lock_guard lock(mutex_);
    firingBefore = firing_[key.str()];
    missingBefore = missing_[key.str()];
  }
  PolicyDecision decision =
      decidePolicy(policy, inputs, storedStatus, firingBefore, key.namespace_, now, missingBefore);

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
    const std::optional<std::string> owner =
        applyIfChanged(kAdmissionPolicies, stamped(freezeAdmissionPolicy(crdOwnerUid(log))),
                       "apply admission policy");
    bool ok = owner.has_value();
    if (ok && !decision.frozenWorkloads.empty()) {
      ok = applyIfChanged(
               kAdmissionBindings,
               stamped(freezeBinding(key.namespace_, key.name, decision.frozenWorkloads, *owner)),
               "apply freeze binding")
               .has_value();
    }
    if (ok && decision.freezeBySelector && policy.spec.workloadSelector) {
      ok = applyIfChanged(kAdmissionBindings,
                          stamped(freezeSelectorBinding(key.namespace_, key.name,
                                                        *policy.spec.workloadSelector, *owner)),
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
  {
    std::lock_guard lock(mutex_);
    firing_[key.str()] = std::move(decision.firing);
    missing_[key.str()] = std::move(decision.missing);
  }
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
