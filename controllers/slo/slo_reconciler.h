// The ServiceLevelObjective reconciler: applies the generated rules as an owned
// PrometheusRule or ConfigMap, reads the SLO's recorded series from Prometheus (or
// advances a workload SLO's minute ledger), and writes what decideSlo() says.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controllers/common/slo_status.h"
#include "controllers/slo/ledger_store.h"
#include "operator/kube/resource.h"
#include "operator/runtime/context.h"
#include "operator/runtime/controller.h"

namespace relops::runtime {
class Manager;
template <typename T>
class Family;
class Gauge;
}  // namespace relops::runtime

namespace relops::alertmanager {
class AlertmanagerApi;
}

namespace relops::slo {

class PrometheusApi;
struct MaintenancePlan;
struct AlertWindow;
struct ServiceLevelObjective;
struct SliceTotals;
struct SloDecision;
struct SloObserved;
struct WorkloadReading;

inline const kube::ResourceRef kServiceLevelObjectives =
    common::serviceLevelObjectives<kube::ResourceRef>();
inline const kube::ResourceRef kPrometheusRules{"monitoring.coreos.com", "v1", "prometheusrules",
                                                "PrometheusRule", true};
inline const kube::ResourceRef kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};
inline const kube::ResourceRef kDeployments{"apps", "v1", "deployments", "Deployment", true};
inline const kube::ResourceRef kStatefulSets{"apps", "v1", "statefulsets", "StatefulSet", true};
// Read only: an SLO's onCallRef names one in its own namespace.
inline const kube::ResourceRef kSloOnCallRotations{"relops.dev", "v1alpha1", "oncallrotations",
                                                   "OnCallRotation", true};
inline const kube::ResourceRef kDaemonSets{"apps", "v1", "daemonsets", "DaemonSet", true};
// Read only: the Maintenance windows of an SLO's namespace that select it (maintenance.h).
inline const kube::ResourceRef kSloChangeWindows{"relops.dev", "v1alpha1", "changewindows",
                                                 "ChangeWindow", true};

// What relops labels its rule children with, and caches by.
inline constexpr char kManagedBySelector[] = "app.kubernetes.io/managed-by=relops";

enum class RuleOutput { kPrometheusRule, kConfigMap };

struct SloControllerOptions {
  std::shared_ptr<PrometheusApi> prometheus;  // null: rules only, no live budget
  std::chrono::seconds refreshInterval{60};
  RuleOutput output = RuleOutput::kConfigMap;
  std::map<std::string, std::string> ruleLabels;
  std::chrono::seconds noDataGrace{600};
  // Confine every indicator selector to the SLO's namespace (confinedToNamespace()).
  bool namespaceLabel = true;
  // Maintenance windows: read ChangeWindows (false when their CRD is not installed), and
  // silence the selected SLOs' alerts here (--alertmanager-url; null: no silences).
  bool maintenanceWindows = false;
  alertmanager::AlertmanagerApi* alertmanager = nullptr;
};

class SloReconciler final : public runtime::Reconciler {
 public:
  SloReconciler(runtime::Context& context, SloControllerOptions options);
  ~SloReconciler() override;
  runtime::ReconcileResult reconcile(const kube::ObjectKey& key,
                                     const runtime::Logger& log) override;

  // Registers the controller with its watches (children, workloads).
  static void add(runtime::Manager& manager, SloReconciler& reconciler, int workers);

 private:
  struct QueryCheck {
    int64_t generation = 0;
    std::optional<std::string> invalid;  // Prometheus's message
  };

  struct Pass;  // one reconcile's key, logger, event target and clock reading

  // Gather: the workload's state folded into its minute ledger; the rules child applied
  // (or a stall when it cannot be); Prometheus's answers for the recorded series.
  WorkloadReading readWorkload(const Pass& pass, const ServiceLevelObjective& slo,
                               const std::string& uid, const std::optional<Period>& closing,
                               bool excluded, SloObserved& observed);
  // The plan of the Maintenance windows that select this SLO, and its silences made so
  // (false when Alertmanager could not be reached: look again soon).
  MaintenancePlan planWindows(const Pass& pass);
  bool syncSilences(const Pass& pass, const MaintenancePlan& plan);
  std::optional<runtime::ReconcileResult> applyRules(const Pass& pass,
                                                     const ServiceLevelObjective& slo,
                                                     SloObserved& observed,
                                                     std::vector<AlertWindow>& alertWindows);
  void readPrometheus(const Pass& pass, const ServiceLevelObjective& slo,
                      const std::vector<AlertWindow>& alertWindows,
                      const std::optional<Period>& closing, SloObserved& observed);
  // Act (runtime::act: status if it changed, the events, the requeue), then export the
  // budget unless the status write failed.
  runtime::ReconcileResult act(const Pass& pass, SloDecision decision,
                               std::optional<std::chrono::system_clock::time_point> requeueAt);
  // A spec relops cannot use: Stalled (decideInvalidSlo), then done.
  runtime::ReconcileResult stall(const Pass& pass, const SloObserved& observed,
                                 std::string_view message);
  void exportLedger(const kube::ObjectKey& key, const SliceTotals& totals);

  std::chrono::system_clock::time_point nextRefresh(const kube::ObjectKey& key) const;
  std::chrono::system_clock::time_point nextMinute() const;
  void forget(const kube::ObjectKey& key);

  runtime::Context& context_;
  SloControllerOptions options_;
  runtime::Family<runtime::Gauge>& budgetRemaining_;
  runtime::Family<runtime::Gauge>& sli_;
  runtime::Family<runtime::Gauge>& objective_;
  runtime::Family<runtime::Gauge>& burnRate_;
  runtime::Family<runtime::Gauge>& periodSli_;
  runtime::Family<runtime::Gauge>& periodBudget_;
  // A workload SLO's ledger, minutes by state over the window: exported so Prometheus
  // keeps the history an SLO's status loses when the object is deleted.
  runtime::Family<runtime::Gauge>& workloadMinutes_;
  std::mutex mutex_;
  LedgerStore ledgers_;                            // workload SLOs, by UID
  std::map<std::string, QueryCheck> queryChecks_;  // Prometheus-backed SLOs, by key
  // SLOs (by key) whose relops silences are known: absent until first listed since start,
  // then the ids of those relops keeps, so an SLO without windows is not listed every pass.
  std::map<std::string, std::vector<std::string>> silences_;
};

}  // namespace relops::slo
