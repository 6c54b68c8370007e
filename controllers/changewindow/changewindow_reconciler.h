// The ChangeWindow reconciler: gathers what a window selects in its namespace (workloads for a
// Freeze, SLOs for Maintenance), decides (decideWindow), and acts: a Freeze's admission
// binding before its start, the status (active turns true at the start instant: the admission
// policy reads it), the Events, the metrics, the binding's removal after the end, and a
// requeue at exactly the next start or end.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "controllers/changewindow/changewindow_decide.h"
#include "controllers/common/slo_status.h"
#include "operator/base/error.h"
#include "operator/kube/resource.h"
#include "operator/runtime/context.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/metrics.h"

namespace relops::runtime {
class Manager;
}

namespace relops::changewindow {

inline const kube::ResourceRef kChangeWindows{"relops.dev", "v1alpha1", "changewindows",
                                              "ChangeWindow", true};
inline const kube::ResourceRef kServiceLevelObjectives =
    common::serviceLevelObjectives<kube::ResourceRef>();
inline const kube::ResourceRef& kAdmissionPolicies = kube::resources::kValidatingAdmissionPolicies;
inline const kube::ResourceRef& kAdmissionBindings =
    kube::resources::kValidatingAdmissionPolicyBindings;

class ChangeWindowReconciler final : public runtime::Reconciler {
 public:
  explicit ChangeWindowReconciler(runtime::Context& context);
  runtime::ReconcileResult reconcile(const kube::ObjectKey& key,
                                     const runtime::Logger& log) override;

  static void add(runtime::Manager& manager, ChangeWindowReconciler& reconciler, int workers);

 private:
  Selection select(const ChangeWindow& window);
  // The admission policy, then the window's binding, each applied only when changed.
  std::optional<base::Error> bind(const ChangeWindow& window, const runtime::Logger& log);
  std::optional<base::Error> unbind(const kube::ObjectKey& key, const runtime::Logger& log);
  base::Result<std::string> applyIfChanged(const kube::ResourceRef& resource,
                                           const nlohmann::json& desired,
                                           const runtime::Logger& log);
  std::string crdOwnerUid(const runtime::Logger& log);
  void exportMetrics(const kube::ObjectKey& key, const std::string& type, bool active,
                     std::optional<TimePoint> nextStart);

  runtime::Context& context_;
  runtime::Family<runtime::Gauge>& active_;
  runtime::Family<runtime::Gauge>& nextStart_;
};

}  // namespace relops::changewindow
