#include "controllers/drill/drill_reconciler.h"

#include <algorithm>
#include <optional>
#include <string>

#include "controllers/drill/decide.h"
#include "operator/kube/client.h"
#include "operator/runtime/act.h"
#include "operator/runtime/event_recorder.h"
#include "operator/runtime/metrics.h"

namespace relops::drill {

using nlohmann::json;

namespace {

struct DrillMetrics {
  runtime::Family<runtime::Counter>& runs;
  runtime::Family<runtime::Gauge>& rto;
  runtime::Family<runtime::Gauge>& rpo;
  runtime::Family<runtime::Gauge>& lastSuccess;
  runtime::Family<runtime::Gauge>& lastResult;
  runtime::Family<runtime::Gauge>& objectivesMet;
  runtime::Family<runtime::Gauge>& rtoObjective;
  runtime::Family<runtime::Gauge>& rpoObjective;
};

DrillMetrics drillMetrics(runtime::Registry& registry) {
  return {registry.counter("relops_drdrill_runs_total",
                           "Finished DRDrill runs by verdict (Pass, Fail, Error)",
                           {"namespace", "name", "result"}),
          registry.gauge("relops_drdrill_rto_seconds",
                         "Recovery time measured by the drill's last finished run",
                         {"namespace", "name"}),
          registry.gauge("relops_drdrill_rpo_seconds",
                         "Recovery point (age of the recovered data) of the drill's last run",
                         {"namespace", "name"}),
          registry.gauge("relops_drdrill_last_success_timestamp_seconds",
                         "When the drill's last passing run finished (unix seconds)",
                         {"namespace", "name"}),
          registry.gauge("relops_drdrill_last_result",
                         "1 for the verdict (Pass, Fail, Error) of the drill's last finished run",
                         {"namespace", "name", "result"}),
          registry.gauge("relops_drdrill_objectives_met",
                         "1 when the last run met the drill's RTO and RPO objectives, 0 when not",
                         {"namespace", "name"}),
          registry.gauge("relops_drdrill_rto_objective_seconds",
                         "The drill's recovery time objective (spec.objectives.rto)",
                         {"namespace", "name"}),
          registry.gauge("relops_drdrill_rpo_objective_seconds",
                         "The drill's recovery point objective (spec.objectives.rpo)",
                         {"namespace", "name"})};
}

void forgetMetrics(const DrillMetrics& metrics, const kube::ObjectKey& key) {
  auto ofDrill = [&](const runtime::Labels& labels) {
    return labels[0] == key.namespace_ && labels[1] == key.name;
  };
  metrics.runs.removeMatching(ofDrill);
  metrics.rto.removeMatching(ofDrill);
  metrics.rpo.removeMatching(ofDrill);
  metrics.lastSuccess.removeMatching(ofDrill);
  metrics.lastResult.removeMatching(ofDrill);
  metrics.objectivesMet.removeMatching(ofDrill);
  metrics.rtoObjective.removeMatching(ofDrill);
  metrics.rpoObjective.removeMatching(ofDrill);
}

// A gauge of the drill set to `value`, or removed when there is none.
void setOrRemove(runtime::Family<runtime::Gauge>& family, const kube::ObjectKey& key,
                 std::optional<double> value) {
  if (value) {
    family.with({key.namespace_, key.name}).set(*value);
    return;
  }
  family.removeMatching([&](const runtime::Labels& labels) {
    return labels[0] == key.namespace_ && labels[1] == key.name;
  });
}

std::optional<double> seconds(const std::optional<Duration>& duration) {
  if (!duration) return std::nullopt;
  return static_cast<double>(duration->value.count());
}

void exportObjectives(const DrillMetrics& metrics, const kube::ObjectKey& key, const json& spec) {
  std::optional<Objectives> objectives;
  if (auto parsed = parseDrillSpec(spec); parsed.ok()) objectives = parsed->objectives;
  setOrRemove(metrics.rtoObjective, key, objectives ? seconds(objectives->rto) : std::nullopt);
  setOrRemove(metrics.rpoObjective, key, objectives ? seconds(objectives->rpo) : std::nullopt);
}

void exportMetrics(const DrillMetrics& metrics, const kube::ObjectKey& key,
                   const DrillStatus& previous, const DrillStatus& status) {
  if (status.lastRun && (!previous.lastRun || previous.lastRun->name != status.lastRun->name)) {
    metrics.runs.with({key.namespace_, key.name, std::string(toString(status.lastRun->verdict))})
        .inc();
  }
  if (status.lastRun && status.lastRun->rtoSeconds) {
    metrics.rto.with({key.namespace_, key.name})
        .set(static_cast<double>(*status.lastRun->rtoSeconds));
  }
  if (status.lastRun && status.lastRun->rpoSeconds) {
    metrics.rpo.with({key.namespace_, key.name})
        .set(static_cast<double>(*status.lastRun->rpoSeconds));
  }
  if (status.lastSuccessfulTime) {
    metrics.lastSuccess.with({key.namespace_, key.name})
        .set(static_cast<double>(status.lastSuccessfulTime->time_since_epoch().count()));
  }
  if (status.lastRun) {
    const std::string verdict(toString(status.lastRun->verdict));
    metrics.lastResult.removeMatching([&](const runtime::Labels& labels) {
      return labels[0] == key.namespace_ && labels[1] == key.name && labels[2] != verdict;
    });
    metrics.lastResult.with({key.namespace_, key.name, verdict}).set(1);
    const std::optional<bool> met = status.lastRun->objectivesMet;
    setOrRemove(metrics.objectivesMet, key,
                met ? std::optional<double>(*met ? 1.0 : 0.0) : std::nullopt);
  }
}

std::optional<Instant> creationTime(const json& metadata) {
  return parseTime(metadata.value("creationTimestamp", ""));
}

// A failover drill may only disrupt a target that opts in; checked before a
// run starts so that the drill itself shows Stalled.
std::optional<std::string> failoverBlocked(kube::Client& client, const json& spec,
                                           const std::string& namespace_) {
  auto parsed = parseDrillSpec(spec);
  if (!parsed) return std::nullopt;
  const auto* failover = std::get_if<FailoverDrill>(&parsed->type);
  if (failover == nullptr) return std::nullopt;
  const kube::ResourceRef& resource = failover->target.kind == "StatefulSet"
                                          ? kube::resources::kStatefulSets
                                          : kube::resources::kDeployments;
  auto target = client.get(resource, {namespace_, failover->target.name});
  const std::string what = failover->target.kind + " " + failover->target.name;
  if (!target.ok()) {
    if (target.error().kind() == base::ErrorKind::kNotFound) {
      return "the failover target " + what + " does not exist in namespace " + namespace_;
    }
    return std::nullopt;  // unknown: the run checks again
  }
  const json annotations = (*target)["metadata"].value("annotations", json::object());
  if (annotations.value(std::string(kDrillAllowedAnnotation), "") != "true") {
    return "the failover target " + what + " lacks the annotation " +
           std::string(kDrillAllowedAnnotation) +
           ": \"true\"; relops disrupts only targets that "
           "opt in";
  }
  return std::nullopt;
}

// The drill and the runs it controls, as decideDrill reads them. Only runs this drill
// controls count (status, pass rate, metrics, reports): a run written by someone else, or
// naming this drill, is not its evidence.
DrillObserved observeDrill(const kube::ObjectKey& key, const json& drill,
                           const std::vector<runtime::ObjectPtr>& runs) {
  const json& metadata = drill.at("metadata");
  DrillObserved observed;
  observed.name = key.name;
  observed.namespace_ = key.namespace_;
  observed.generation = metadata.value("generation", int64_t{0});
  observed.creationTimestamp = creationTime(metadata).value_or(Instant{});
  observed.status = drill.value("status", json());
  const json annotations = metadata.value("annotations", json::object());
  observed.runNowToken = annotations.value(std::string(kRunNowAnnotation), "");
  for (const runtime::ObjectPtr& run : runs) {
    if (whyNotControlled(*run, &drill)) continue;
    ObservedRun r;
    r.name = (*run)["metadata"].value("name", "");
    r.spec = run->value("spec", json::object());
    r.status = run->value("status", json());
    r.deleting = (*run)["metadata"].contains("deletionTimestamp");
    observed.runs.push_back(std::move(r));
  }
  return observed;
}

// A new run: owned by the drill (its controller), labelled with its name.
json runObject(const kube::ObjectKey& drill, const std::string& uid, const NewRun& run) {
  json body = {{"apiVersion", kDRDrillRuns.apiVersion()},
               {"kind", kDRDrillRuns.kind},
               {"metadata",
                {{"name", run.name},
                 {"namespace", drill.namespace_},
                 {"labels", {{std::string(kDrillLabel), drill.name}}},
                 {"ownerReferences", json::array({{{"apiVersion", kDRDrills.apiVersion()},
                                                   {"kind", kDRDrills.kind},
                                                   {"name", drill.name},
                                                   {"uid", uid},
                                                   {"controller", true},
                                                   {"blockOwnerDeletion", true}}})}}},
               {"spec", toJson(run.spec)}};
  // A job drill's only child is its Job, owned by the run and garbage collected with it:
  // nothing to clean up, so no finalizer (a failover reverts, a restore has a sandbox).
  if (needsCleanupFinalizer(run.spec)) {
    body["metadata"]["finalizers"] = json::array({std::string(kCleanupFinalizer)});
  }
  return body;
}

// Creates the runs decide asked for and deletes those it let go; the first error stops.
base::Result<void> applyRuns(runtime::Context& context, const json& drill,
                             const DrillDesired& desired) {
  const json& metadata = drill.at("metadata");
  const kube::ObjectKey key{metadata.value("namespace", ""), metadata.value("name", "")};
  for (const NewRun& run : desired.create) {
    auto created =
        context.client().create(kDRDrillRuns, runObject(key, metadata.value("uid", ""), run));
    // The name is deterministic: AlreadyExists means another leader or an
    // earlier reconcile created it, or someone else did: that one is not adopted
    // (the cache did not list it as this drill's) and is said so once.
    if (!created.ok() && created.error().kind() == base::ErrorKind::kAlreadyExists) {
      auto existing = context.client().get(kDRDrillRuns, {key.namespace_, run.name});
      if (existing.ok() && whyNotControlled(*existing, &drill)) {
        context.recorder().record({runtime::ObjectReference::fromObject(drill),
                                   runtime::EventType::kWarning, "RunNameTaken", "Reconcile",
                                   "a DRDrillRun named " + run.name +
                                       " exists and is not controlled by this drill; " +
                                       "it is left alone and not counted"});
      }
      continue;
    }
    if (!created.ok()) {
      base::Error error = std::move(created).error();
      return std::move(error.context("create run " + run.name));
    }
  }
  for (const std::string& name : desired.remove) {
    auto removed = context.client().remove(kDRDrillRuns, {key.namespace_, name});
    if (!removed.ok() && removed.error().kind() != base::ErrorKind::kNotFound) {
      base::Error error = std::move(removed).error();
      return std::move(error.context("delete run " + name));
    }
  }
  return base::Ok{};
}

}  // namespace

runtime::ReconcileResult DrillReconciler::reconcile(const kube::ObjectKey& key,
                                                    const runtime::Logger& log) {
  // Gather.
  const DrillMetrics metrics = drillMetrics(context_.registry());
  const runtime::ObjectPtr object = context_.cached(kDRDrills, key);
  if (!object) {  // deleted: its runs go with it (ownerReferences), each cleaning up first
    forgetMetrics(metrics, key);
    return runtime::ReconcileResult::done();
  }
  if (object->at("metadata").contains("deletionTimestamp")) {
    return runtime::ReconcileResult::done();
  }
  DrillObserved observed =
      observeDrill(key, *object, context_.cachedList(kDRDrillRuns, key.namespace_));
  const json spec = object->value("spec", json::object());
  observed.blocked = failoverBlocked(context_.client(), spec, key.namespace_);
  const auto now = context_.clock().now();

  // Decide.
  DrillDesired desired = decideDrill(spec, observed, now);

  // Act: status first, so an Event never announces what status does not show; then the
  // runs; then the Events. runtime::act writes status before Events with nothing between,
  // and cannot say that the drill is gone, after which no run may be created for it: the
  // status goes first here (the same applyStatus), act records the Events and requeues.
  if (desired.statusChanged) {
    if (auto result = runtime::applyStatus(context_.client(), kDRDrills, key, desired.statusJson)) {
      return *result;
    }
    log.debug("status written");
  }
  if (auto applied = applyRuns(context_, *object, desired); !applied) {
    return runtime::ReconcileResult::error(std::move(applied).error());
  }
  exportMetrics(metrics, key, parseDrillStatus(observed.status), desired.status);
  exportObjectives(metrics, key, spec);
  runtime::Outcome<std::vector<Event>> outcome;
  outcome.events = std::move(desired.events);
  outcome.requeueAt = desired.requeueAt;
  return runtime::act(context_, kDRDrills, *object, outcome);
}

}  // namespace relops::drill
