#include "controllers/slo/slo_reconciler.h"

#include <algorithm>
#include <functional>

#include "controllers/common/change_window.h"
#include "controllers/common/object_trim.h"
#include "controllers/slo/ledger_history.h"
#include "controllers/slo/maintenance.h"
#include "controllers/slo/prometheus.h"
#include "controllers/slo/rule_output.h"
#include "controllers/slo/rules.h"
#include "controllers/slo/slo_decide.h"
#include "controllers/slo/slo_types.h"
#include "controllers/slo/status_reading.h"
#include "operator/alertmanager/alertmanager_api.h"
#include "operator/kube/client.h"
#include "operator/runtime/act.h"
#include "operator/runtime/event_recorder.h"
#include "operator/runtime/manager.h"
#include "operator/runtime/metrics.h"

namespace relops::slo {

using nlohmann::json;
using runtime::ReconcileResult;

namespace {

const kube::ResourceRef& workloadResource(WorkloadKind kind) {
  switch (kind) {
    case WorkloadKind::kStatefulSet:
      return kStatefulSets;
    case WorkloadKind::kDaemonSet:
      return kDaemonSets;
    case WorkloadKind::kDeployment:
      break;
  }
  return kDeployments;
}

std::optional<SliceTotals> readLedgerHistory(PrometheusApi& prometheus, const kube::ObjectKey& key,
                                             const Duration& window, const runtime::Logger& log) {
  auto samples = prometheus.query(ledgerHistoryQuery(key.namespace_, key.name, window));
  if (!samples.ok()) {
    log.info("no ledger history: Prometheus did not answer",
             {{"error", samples.error().message()}});
    return std::nullopt;
  }
  std::optional<SliceTotals> totals = ledgerHistoryTotals(*samples, window);
  if (totals) {
    log.info("ledger rebuilt from Prometheus", {{"good", std::to_string(totals->good)},
                                                {"bad", std::to_string(totals->bad)},
                                                {"unknown", std::to_string(totals->unknown)}});
  }
  return totals;
}

// The SLO cache's indexes. A workload SLO is filed under "namespace/Kind/name" of the
// workload it measures (kind Deployment when unset, as the schema defaults it); an SLO that
// names a rotation, under "namespace/rotation". Read from the object as stored, before any
// validation: an index only narrows which SLOs a change wakes.
constexpr std::string_view kIndexWorkload = "workload";
constexpr std::string_view kIndexOnCallRef = "onCallRef";

std::vector<std::string> workloadIndex(const json& slo) {
  static const json::json_pointer kWorkload("/spec/indicator/workload");
  if (!slo.contains(kWorkload) || !slo.at(kWorkload).is_object()) return {};
  const json& reference = slo.at(kWorkload);
  const json& metadata = slo["metadata"];
  const std::string kind = reference.value("kind", "Deployment");
  return {metadata.value("namespace", "") + "/" + kind + "/" + reference.value("name", "")};
}

std::vector<std::string> onCallRefIndex(const json& slo) {
  static const json::json_pointer kOnCallRef("/spec/onCallRef/name");
  if (!slo.contains(kOnCallRef) || !slo.at(kOnCallRef).is_string()) return {};
  return {slo["metadata"].value("namespace", "") + "/" + slo.at(kOnCallRef).get<std::string>()};
}

std::vector<kube::ObjectKey> slosFiledUnder(runtime::Manager& manager, std::string_view index,
                                            const std::string& value) {
  std::vector<kube::ObjectKey> keys;
  for (const runtime::ObjectPtr& slo :
       manager.cachedByIndex(kServiceLevelObjectives, index, value)) {
    const json& metadata = slo->at("metadata");
    keys.push_back({metadata.value("namespace", ""), metadata.value("name", "")});
  }
  return keys;
}

std::string childDescription(RuleOutput output, const std::string& namespace_,
                             const std::string& name) {
  return std::string(output == RuleOutput::kPrometheusRule ? "PrometheusRule " : "ConfigMap ") +
         namespace_ + "/" + name;
}

}  // namespace

SloReconciler::SloReconciler(runtime::Context& context, SloControllerOptions options)
    : context_(context),
      options_(std::move(options)),
      budgetRemaining_(context.registry().gauge(
          "relops_slo_error_budget_remaining",
          "Fraction of the error budget left over the SLO window (1 = untouched, negative when "
          "overspent)",
          {"namespace", "name"})),
      sli_(context.registry().gauge(
          "relops_slo_sli", "The service level indicator over the SLO window, as a fraction",
          {"namespace", "name"})),
      objective_(context.registry().gauge("relops_slo_objective",
                                          "The SLO's objective, as a fraction (0.999)",
                                          {"namespace", "name"})),
      burnRate_(context.registry().gauge(
          "relops_slo_burn_rate",
          "Error ratio over an alert window divided by (1 - objective), as in status.burnRates",
          {"namespace", "name", "window"})),
      periodSli_(context.registry().gauge(
          "relops_slo_period_sli",
          "The SLI of the current calendar period so far (rolling windows: over the window), "
          "as a fraction",
          {"namespace", "name"})),
      periodBudget_(context.registry().gauge(
          "relops_slo_period_budget_remaining",
          "Fraction of the current calendar period's error budget left (rolling windows: of the "
          "window's)",
          {"namespace", "name"})),
      workloadMinutes_(context.registry().gauge(
          kWorkloadMinutesMetric,
          "Minutes of a workload SLO's window by state (good, bad, unknown), as its ledger "
          "counts them",
          {"namespace", "name", "state"})) {}

SloReconciler::~SloReconciler() = default;

void SloReconciler::add(runtime::Manager& manager, SloReconciler& reconciler, int workers) {
  runtime::Controller::Options controllerOptions;
  controllerOptions.name = "servicelevelobjective";
  controllerOptions.workers = workers;
  const kube::ResourceRef& children =
      reconciler.options_.output == RuleOutput::kPrometheusRule ? kPrometheusRules : kConfigMaps;
  manager.setLabelSelector(children, kManagedBySelector);
  manager.setTransform(children, common::keepChildEssentials);
  runtime::Controller& controller =
      manager.addController(controllerOptions, kServiceLevelObjectives, reconciler);
  for (runtime::Informer* informer : manager.informers(children)) controller.owns(*informer);
  // A workload's change reaches the SLOs that measure it; a rotation created or deleted, the
  // SLOs of its namespace that name it. Both found through indexes on the SLO cache.
  manager.setIndex(kServiceLevelObjectives, std::string(kIndexWorkload), workloadIndex);
  manager.setIndex(kServiceLevelObjectives, std::string(kIndexOnCallRef), onCallRefIndex);
  runtime::Manager* managerPtr = &manager;
  for (WorkloadKind kind :
       {WorkloadKind::kDeployment, WorkloadKind::kStatefulSet, WorkloadKind::kDaemonSet}) {
    auto map = [managerPtr, kind](const json& workload) {
      const json& metadata = workload["metadata"];
      return slosFiledUnder(*managerPtr, kIndexWorkload,
                            metadata.value("namespace", "") + "/" + std::string(toString(kind)) +
                                "/" + metadata.value("name", ""));
    };
    manager.setTransform(workloadResource(kind), common::keepWorkloadEssentials);
    for (runtime::Informer* informer : manager.informers(workloadResource(kind))) {
      controller.watches(*informer, map);
    }
  }
  auto byOnCallRef = [managerPtr](const json& rotation) {
    const json& metadata = rotation["metadata"];
    return slosFiledUnder(*managerPtr, kIndexOnCallRef,
                          metadata.value("namespace", "") + "/" + metadata.value("name", ""));
  };
  for (runtime::Informer* informer : manager.informers(kSloOnCallRotations)) {
    controller.watches(*informer, byOnCallRef);
  }
  if (!reconciler.options_.maintenanceWindows) return;
  // A ChangeWindow created, changed or deleted wakes every SLO of its namespace: those it
  // selects now and those it selected before (their silences expire early).
  auto ofNamespace = [managerPtr](const json& window) {
    std::vector<kube::ObjectKey> keys;
    const std::string namespace_ = window["metadata"].value("namespace", "");
    for (const runtime::ObjectPtr& slo :
         managerPtr->cachedList(kServiceLevelObjectives, namespace_)) {
      keys.push_back({namespace_, (*slo)["metadata"].value("name", "")});
    }
    return keys;
  };
  for (runtime::Informer* informer : manager.informers(kSloChangeWindows)) {
    controller.watches(*informer, ofNamespace);
  }
}

std::chrono::system_clock::time_point SloReconciler::nextRefresh(const kube::ObjectKey& key) const {
  // Each SLO refreshes at its own offset within the interval, so a thousand SLOs do not
  // query Prometheus in the same second.
  const auto interval =
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.refreshInterval);
  const auto wallNow = context_.clock().now();
  if (interval.count() <= 0) return wallNow + std::chrono::seconds(60);
  const auto offset = std::chrono::milliseconds(static_cast<int64_t>(
      std::hash<std::string>{}(key.str()) % static_cast<size_t>(interval.count())));
  const auto now =
      std::chrono::duration_cast<std::chrono::milliseconds>(wallNow.time_since_epoch());
  auto next = now - (now % interval) + offset;
  while (next <= now) next += interval;
  return wallNow + (next - now);
}

void SloReconciler::forget(const kube::ObjectKey& key) {
  auto ofSlo = [&](const runtime::Labels& labels) {
    return labels[0] == key.namespace_ && labels[1] == key.name;
  };
  for (auto* family : {&budgetRemaining_, &sli_, &objective_, &burnRate_, &periodSli_,
                       &periodBudget_, &workloadMinutes_}) {
    family->removeMatching(ofSlo);
  }
  std::lock_guard lock(mutex_);
  ledgers_.forget(key.str());
  queryChecks_.erase(key.str());
  silences_.erase(key.str());
}

// One reconcile's fixed inputs, handed to each step.
struct SloReconciler::Pass {
  const kube::ObjectKey& key;
  const runtime::Logger& log;
  const json& object;
  TimePoint now;
};

ReconcileResult SloReconciler::reconcile(const kube::ObjectKey& key, const runtime::Logger& log) {
  // Gather.
  const runtime::ObjectPtr object = context_.cached(kServiceLevelObjectives, key);
  if (!object) {  // deleted: children go with it (ownerReferences)
    forget(key);
    return ReconcileResult::done();
  }
  const json& metadata = object->at("metadata");
  if (metadata.contains("deletionTimestamp")) return ReconcileResult::done();
  SloObserved observed;
  observed.generation = metadata.value("generation", int64_t{0});
  observed.status = object->value("status", json());
  observed.noDataGrace = options_.noDataGrace;
  const Pass pass{key, log, *object,
                  std::chrono::floor<std::chrono::seconds>(context_.clock().now())};
  auto parsed = parseSlo(*object);
  if (!parsed.ok()) {
    // Passed the schema but relops cannot use it: Stalled until the spec changes.
    return stall(pass, observed, parsed.error().message());
  }
  // Everything below — rules, the validation query, the status query — sees only the
  // confined selectors: a tenant's PromQL never reads another namespace's series.
  const ServiceLevelObjective slo =
      options_.namespaceLabel ? confinedToNamespace(*parsed) : std::move(*parsed);
  std::optional<Period> closing;
  if (slo.spec.calendar) {
    auto calendar = CalendarWindow::make(*slo.spec.calendar, slo.spec.timeZone);
    if (!calendar.ok()) return stall(pass, observed, calendar.error().message());
    observed.period = calendar->periodAt(pass.now);
    closing = periodToClose(*calendar, observed.status, pass.now);
  }
  objective_.with({key.namespace_, key.name}).set(slo.spec.objective.fraction());
  if (slo.spec.onCallRef) {
    observed.onCallRotationFound =
        context_.cached(kSloOnCallRotations, {key.namespace_, *slo.spec.onCallRef}) != nullptr;
  }

  // Maintenance windows: silences made (or due within the lead), and the instant the plan
  // changes next (a start, an end), when this SLO is looked at again.
  const MaintenancePlan maintenance = planWindows(pass);
  std::optional<std::chrono::system_clock::time_point> wake;
  if (maintenance.nextChange) wake = std::chrono::system_clock::time_point(*maintenance.nextChange);
  if (!syncSilences(pass, maintenance)) {
    const auto retry = context_.clock().now() + std::chrono::seconds(10);
    wake = wake ? std::min(*wake, retry) : retry;
  }
  SloObserved::Maintenance shown;
  shown.active = maintenance.activeNow;
  for (const DesiredSilence& silence : maintenance.silences)
    shown.windows.push_back(silence.window);
  {
    std::lock_guard lock(mutex_);
    if (auto known = silences_.find(key.str()); known != silences_.end()) {
      shown.silenceIds = known->second;
      if (shown.silenceIds.size() > kMaxMaintenanceWindows) {
        shown.silenceIds.resize(kMaxMaintenanceWindows);
      }
    }
  }
  if (shown.active || !shown.windows.empty() || !shown.silenceIds.empty()) {
    observed.maintenance = std::move(shown);
  }
  auto earliest = [&](std::optional<std::chrono::system_clock::time_point> at) {
    if (!wake) return at;
    return at ? std::optional(std::min(*at, *wake)) : wake;
  };

  if (slo.isWorkload()) {
    observed.workload =
        readWorkload(pass, slo, metadata.value("uid", ""), closing,
                     slo.spec.excludeMaintenance && maintenance.activeNow, observed);
    // Decide, act; the ledger advances by minute.
    ReconcileResult result = act(pass, decideSlo(slo, observed, pass.now), earliest(nextMinute()));
    if (result.kind() != ReconcileResult::Kind::kError) {
      exportLedger(key, observed.workload->totals);
    }
    return result;
  }

  // Rules first, then the live numbers they record.
  std::vector<AlertWindow> alertWindows;
  if (auto stopped = applyRules(pass, slo, observed, alertWindows)) return *stopped;
  if (options_.prometheus) readPrometheus(pass, slo, alertWindows, closing, observed);
  // Decide, act; with live numbers, look again at this SLO's next refresh, or when its
  // calendar period ends if that comes first.
  std::optional<std::chrono::system_clock::time_point> refresh;
  if (options_.prometheus && !observed.invalidQuery) {
    refresh = nextRefresh(key);
    if (observed.period) {
      refresh = std::min(*refresh, std::chrono::system_clock::time_point(observed.period->end) +
                                       std::chrono::seconds(1));
    }
  }
  return act(pass, decideSlo(slo, observed, pass.now), earliest(refresh));
}

MaintenancePlan SloReconciler::planWindows(const Pass& pass) {
  if (!options_.maintenanceWindows) return {};
  std::vector<runtime::ObjectPtr> objects =
      context_.cachedList(kSloChangeWindows, pass.key.namespace_);
  auto name = [](const runtime::ObjectPtr& object) {
    return (*object)["metadata"].value("name", "");
  };
  std::sort(objects.begin(), objects.end(),
            [&](const auto& a, const auto& b) { return name(a) < name(b); });
  const std::map<std::string, std::string> labels = common::labelsOf(pass.object);
  std::vector<common::ChangeWindowView> selecting;
  for (const runtime::ObjectPtr& object : objects) {
    if (selecting.size() >= kMaxMaintenanceWindows) break;
    auto window = common::ChangeWindowView::read(*object);
    // A window relops cannot read selects nothing; its own controller reports why.
    if (window.ok() && window->selectsSlo(labels)) selecting.push_back(std::move(*window));
  }
  return planMaintenance(selecting, pass.now);
}

bool SloReconciler::syncSilences(const Pass& pass, const MaintenancePlan& plan) {
  if (!options_.alertmanager) return true;
  const std::string sloKey = pass.key.str();
  {
    std::lock_guard lock(mutex_);
    auto known = silences_.find(sloKey);
    if (plan.silences.empty() && known != silences_.end() && known->second.empty()) return true;
  }
  std::vector<alertmanager::SilenceMatcher> matchers;
  for (const SilenceMatcherSpec& spec : silenceMatchers(pass.key.namespace_, pass.key.name)) {
    matchers.push_back({spec.name, spec.value, spec.isRegex, true});
  }
  // relops's silences for this SLO, found by its matchers (Alertmanager's filter), createdBy and
  // comment: after a restart the ones made before are kept, not made twice.
  auto listed = options_.alertmanager->listSilences({matchers[0], matchers[1]}, 64);
  if (!listed.ok()) {
    pass.log.info("cannot list Alertmanager silences", {{"error", listed.error().message()}});
    return false;
  }
  std::vector<alertmanager::Silence> existing;
  for (alertmanager::Silence& silence : *listed) {
    if (silence.createdBy == kSilenceCreatedBy &&
        silence.comment.starts_with(kSilenceCommentPrefix) && silence.state != "expired" &&
        silence.matchers == matchers) {
      existing.push_back(std::move(silence));
    }
  }
  std::vector<std::string> kept;
  std::vector<bool> used(existing.size(), false);
  bool ok = true;
  for (const DesiredSilence& desired : plan.silences) {
    bool found = false;
    for (size_t i = 0; i < existing.size() && !found; ++i) {
      if (!used[i] && existing[i].comment == desired.comment &&
          existing[i].startsAt == desired.bounds.start &&
          existing[i].endsAt == desired.bounds.end) {
        used[i] = found = true;
        kept.push_back(existing[i].id);
      }
    }
    if (found) continue;
    alertmanager::Silence silence;
    silence.matchers = matchers;
    silence.startsAt = desired.bounds.start;
    silence.endsAt = desired.bounds.end;
    silence.createdBy = kSilenceCreatedBy;
    silence.comment = desired.comment;
    auto created = options_.alertmanager->createSilence(silence);
    if (!created.ok()) {
      pass.log.info("cannot create Alertmanager silence", {{"error", created.error().message()}});
      ok = false;
      continue;
    }
    pass.log.info("maintenance silence created",
                  {{"window", desired.window}, {"silence", *created}});
    kept.push_back(*created);
  }
  // A window deleted, changed or no longer selecting this SLO: its silence ends now.
  for (size_t i = 0; i < existing.size(); ++i) {
    if (used[i]) continue;
    auto expired = options_.alertmanager->expireSilence(existing[i].id);
    if (!expired.ok()) {
      pass.log.info("cannot expire Alertmanager silence", {{"error", expired.error().message()}});
      kept.push_back(existing[i].id);
      ok = false;
      continue;
    }
    pass.log.info("maintenance silence expired", {{"silence", existing[i].id}});
  }
  std::lock_guard lock(mutex_);
  silences_[sloKey] = std::move(kept);
  return ok;
}

WorkloadReading SloReconciler::readWorkload(const Pass& pass, const ServiceLevelObjective& slo,
                                            const std::string& uid,
                                            const std::optional<Period>& closing, bool excluded,
                                            SloObserved& observed) {
  const kube::ObjectKey& key = pass.key;
  const auto& workload = std::get<WorkloadIndicator>(slo.spec.indicator);
  const runtime::ObjectPtr target =
      context_.cached(workloadResource(workload.kind), {key.namespace_, workload.name});
  WorkloadReading reading;
  reading.reference = std::string(toString(workload.kind)) + "/" + workload.name;
  reading.found = target != nullptr;
  reading.state = classifyWorkload(workload, target.get());
  const std::string resourceVersion =
      target ? (*target)["metadata"].value("resourceVersion", "") : "";
  // A calendar period keeps the minutes since its start; at its end, the ledger is first
  // advanced to the end (the state last seen holds until then) and the closed period's
  // minutes counted, before the new period drops them.
  const Duration window =
      observed.period
          ? Duration::fromSeconds(std::max<std::chrono::seconds>(
                std::chrono::floor<std::chrono::minutes>(pass.now) - observed.period->start,
                std::chrono::minutes(1)))
          : slo.spec.window;
  // An SLO without a ledger of its own, first seen: what Prometheus kept of the ledger
  // under this name, if anything (ledger_history.h). Asked outside the lock.
  std::optional<SliceTotals> history;
  if (options_.prometheus && !slo.status.workload) {
    bool known = false;
    {
      std::lock_guard lock(mutex_);
      known = ledgers_.holds(uid);
    }
    if (!known) history = readLedgerHistory(*options_.prometheus, key, window, pass.log);
  }
  std::lock_guard lock(mutex_);
  // First look at this object (by UID) since relops started: carry on from its own
  // stored ledger. Minutes since its lastObservedTime count as the state then seen
  // only within the ledger's tolerance, never because the workload's resourceVersion
  // still matches: an etcd snapshot restore makes an old resourceVersion match again.
  TimesliceLedger& ledger = ledgers_.ledgerFor(key.str(), uid, [&] {
    if (history) return TimesliceLedger::fromTotals(*history, pass.now);
    auto restored = TimesliceLedger::restore(slo.status.workload);
    if (restored.ok()) return std::move(*restored);
    reading.ledgerProblem =
        "the stored ledger was unreadable and started afresh (" + restored.error().message() + ")";
    return TimesliceLedger();
  });
  if (closing) {
    ledger.observe(closing->end, ledger.lastState(), Duration::fromSeconds(closing->length()));
    const SliceTotals closed = ledger.totals();
    observed.closedPeriod =
        ClosedPeriod{*closing,
                     budgetFromTimeslices(closed.good, closed.bad, slo.spec.objective,
                                          Duration::fromSeconds(closing->length())),
                     closed.bad};
  }
  // A selecting Maintenance window's minutes count as neither good nor bad.
  ledger.observe(pass.now, excluded ? SliceState::kUnknown : reading.state, window);
  reading.totals = ledger.totals();
  reading.ledger = ledger.save();
  reading.ledger.workloadResourceVersion = resourceVersion;
  return reading;
}

std::optional<ReconcileResult> SloReconciler::applyRules(const Pass& pass,
                                                         const ServiceLevelObjective& slo,
                                                         SloObserved& observed,
                                                         std::vector<AlertWindow>& alertWindows) {
  const kube::ObjectKey& key = pass.key;
  // A rotation that does not exist in this namespace is not routed to (the condition
  // says why), rather than copied into a label some route may match elsewhere.
  ServiceLevelObjective forRules = slo;
  if (observed.onCallRotationFound == false) forRules.spec.onCallRef.reset();
  auto rules = generateRules(forRules);
  auto child = rules.ok() ? (options_.output == RuleOutput::kPrometheusRule
                                 ? prometheusRuleJson(forRules, *rules, {options_.ruleLabels})
                                 : ruleConfigMapJson(forRules, *rules, {options_.ruleLabels}))
                          : base::Result<nlohmann::ordered_json>(rules.error());
  if (!child.ok()) return stall(pass, observed, child.error().message());
  // ordered_json to json by value: keys sorted as json keeps them, no text round trip.
  const json desiredChild(*child);
  const std::string childName = desiredChild["metadata"].value("name", "");
  const kube::ResourceRef& childResource =
      options_.output == RuleOutput::kPrometheusRule ? kPrometheusRules : kConfigMaps;
  const runtime::ObjectPtr cachedChild =
      context_.cached(childResource, {key.namespace_, childName});
  const kube::ObjectKey childKey{key.namespace_, childName};
  const std::string childVersion =
      cachedChild ? (*cachedChild)["metadata"].value("resourceVersion", "") : "";
  // Serialized only for a child the cache does not show as desired.
  if (!common::childUpToDate(cachedChild.get(), desiredChild)) {
    const std::string childContent = desiredChild.dump();
    if (!context_.writeMemo().replay(childResource, childKey, "apply", childVersion,
                                     childContent)) {
      auto applied = kube::apply(context_.client(), childResource, desiredChild);
      if (!applied.ok()) {
        base::Error error = std::move(applied).error();
        if (error.disposition() == base::Disposition::kStall) {
          return stall(pass, observed,
                       "the API server rejects the generated " +
                           childDescription(options_.output, key.namespace_, childName) + ": " +
                           error.message());
        }
        return ReconcileResult::error(std::move(error.context("apply rules")));
      }
      context_.writeMemo().wrote(childResource, childKey, "apply", childVersion, childContent);
      pass.log.debug("rules applied");
    }
  }
  observed.rulesTarget = childDescription(options_.output, key.namespace_, childName);
  observed.ruleWarnings = rules->warnings;
  alertWindows = std::move(rules->alertWindows);
  return std::nullopt;
}

void SloReconciler::readPrometheus(const Pass& pass, const ServiceLevelObjective& slo,
                                   const std::vector<AlertWindow>& alertWindows,
                                   const std::optional<Period>& closing, SloObserved& observed) {
  const kube::ObjectKey& key = pass.key;
  observed.prometheusConfigured = true;
  std::optional<QueryCheck> check;
  {
    std::lock_guard lock(mutex_);
    if (auto it = queryChecks_.find(key.str());
        it != queryChecks_.end() && it->second.generation == observed.generation) {
      check = it->second;
    }
  }
  if (!check) {
    // Once per generation: does Prometheus accept the SLO's own expression? A selector
    // can pass the CRD's pattern and still be invalid PromQL (a bad regex).
    auto answer = options_.prometheus->query(
        errorRatioExpr(slo.spec, Duration::fromSeconds(std::chrono::minutes(5))));
    if (answer.ok() || answer.error().disposition() == base::Disposition::kStall) {
      check = QueryCheck{observed.generation,
                         answer.ok() ? std::nullopt : std::optional(answer.error().message())};
      std::lock_guard lock(mutex_);
      queryChecks_[key.str()] = *check;
    }
  }
  if (check && check->invalid) {
    observed.invalidQuery = check->invalid;
    return;
  }
  // The recorded series, read in one query.
  observed.prometheus = statusReading(
      slo, alertWindows, options_.prometheus->query(statusQueries(slo, alertWindows).combined));
  if (!observed.period) return;
  // A calendar period: the SLI and traffic since it began, and a closed one at its end.
  PrometheusReading& reading = *observed.prometheus;
  PrometheusApi& prometheus = *options_.prometheus;
  const PeriodQueries current = periodQueries(slo, pass.now - observed.period->start);
  const PeriodNumbers numbers =
      periodReading(prometheus.query(current.errorRatio), prometheus.query(current.totalEvents));
  if (numbers.unavailable && !reading.unavailable) reading.unavailable = numbers.unavailable;
  reading.errorRatio = numbers.errorRatio;
  reading.totalEvents = numbers.totalEvents;
  if (!reading.evaluatedAt) reading.evaluatedAt = pass.now;
  if (!closing || reading.unavailable) return;
  const PeriodQueries closed = periodQueries(slo, closing->length());
  const auto end = std::chrono::system_clock::time_point(closing->end);
  const PeriodNumbers atEnd = periodReading(prometheus.queryAt(closed.errorRatio, end),
                                            prometheus.queryAt(closed.totalEvents, end));
  if (atEnd.unavailable) return;  // closed at a later refresh
  observed.closedPeriod = ClosedPeriod{
      *closing,
      atEnd.errorRatio ? budgetFromErrorRatio(*atEnd.errorRatio, atEnd.totalEvents.value_or(0),
                                              slo.spec.objective)
                       : std::nullopt,
      std::nullopt};
}

ReconcileResult SloReconciler::act(const Pass& pass, SloDecision decision,
                                   std::optional<std::chrono::system_clock::time_point> requeueAt) {
  runtime::Outcome<std::vector<SloEvent>> outcome;
  if (decision.statusChanged) outcome.status = std::move(decision.status);
  outcome.events = std::move(decision.events);
  outcome.requeueAt = requeueAt;
  ReconcileResult result = runtime::act(context_, kServiceLevelObjectives, pass.object, outcome);
  if (result.kind() == ReconcileResult::Kind::kError) return result;
  const kube::ObjectKey& key = pass.key;
  auto ofSlo = [&](const runtime::Labels& labels) {
    return labels[0] == key.namespace_ && labels[1] == key.name;
  };
  if (decision.budget) {
    for (auto* family : {&budgetRemaining_, &periodBudget_}) {
      family->with({key.namespace_, key.name}).set(decision.budget->remaining);
    }
    for (auto* family : {&sli_, &periodSli_}) {
      family->with({key.namespace_, key.name}).set(decision.budget->sli);
    }
  } else {
    for (auto* family : {&budgetRemaining_, &sli_, &periodSli_, &periodBudget_}) {
      family->removeMatching(ofSlo);
    }
  }
  burnRate_.removeMatching(ofSlo);
  for (const auto& [window, rate] : decision.burnRates) {
    burnRate_.with({key.namespace_, key.name, window}).set(rate);
  }
  return result;
}

ReconcileResult SloReconciler::stall(const Pass& pass, const SloObserved& observed,
                                     std::string_view message) {
  return act(pass, decideInvalidSlo(observed.generation, observed.status, message, pass.now),
             std::nullopt);
}

void SloReconciler::exportLedger(const kube::ObjectKey& key, const SliceTotals& totals) {
  workloadMinutes_.with({key.namespace_, key.name, "good"}).set(static_cast<double>(totals.good));
  workloadMinutes_.with({key.namespace_, key.name, "bad"}).set(static_cast<double>(totals.bad));
  workloadMinutes_.with({key.namespace_, key.name, "unknown"})
      .set(static_cast<double>(totals.unknown));
}

std::chrono::system_clock::time_point SloReconciler::nextMinute() const {
  // A second past the minute, so the minute that just ended is complete.
  return std::chrono::ceil<std::chrono::minutes>(context_.clock().now() +
                                                 std::chrono::milliseconds(1)) +
         std::chrono::seconds(1);
}

}  // namespace relops::slo
