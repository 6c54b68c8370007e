// The OnCallRotation reconciler: gathers the rotation from the cache, calls
// the pure decide(), writes status (only when it changed), records the
// decided Events and requeues at the next handoff. With a feed key it also
// publishes the rotation's feed path (token included) in status.calendarPath.
#pragma once

#include <optional>
#include <string>

#include "controllers/oncall/calendar_feed.h"
#include "controllers/oncall/decide.h"
#include "operator/alertmanager/alertmanager_api.h"
#include "operator/kube/client.h"
#include "operator/kube/resource.h"
#include "operator/runtime/context.h"
#include "operator/runtime/controller.h"

namespace relops::runtime {
class Manager;
template <typename T>
class Family;
class Gauge;
}  // namespace relops::runtime

namespace relops::oncall {

using alertmanager::AlertmanagerApi;

inline const kube::ResourceRef kOnCallRotations{"relops.dev", "v1alpha1", "oncallrotations",
                                                "OnCallRotation", true};
inline const kube::ResourceRef kAlertmanagerConfigs{
    "monitoring.coreos.com", "v1alpha1", "alertmanagerconfigs", "AlertmanagerConfig", true};

// Where the routing of rotations with spec.routing goes: an AlertmanagerConfig for the
// prometheus-operator, or a ConfigMap with an Alertmanager configuration fragment
// (alertmanager_fragment.h). kNone: nowhere (rotations that ask are Stalled).
enum class RoutingOutput { kNone, kAlertmanagerConfig, kConfigMap };

// --routing-output: alertmanagerconfig, configmap, or auto — AlertmanagerConfig when this
// cluster serves it (asked once at startup, like the SLO rules' output), else configmap.
base::Result<RoutingOutput> routingOutput(kube::Client& client, const std::string& flag);

class OnCallReconciler final : public runtime::Reconciler {
 public:
  struct Options {
    std::optional<FeedKey> feedKey;  // calendar feeds on
    RoutingOutput routing = RoutingOutput::kNone;
    AlertmanagerApi* alertmanager = nullptr;  // post shift notices (--alertmanager-url)
  };
  OnCallReconciler(runtime::Context& context, Options options);
  explicit OnCallReconciler(runtime::Context& context) : OnCallReconciler(context, Options{}) {}
  runtime::ReconcileResult reconcile(const kube::ObjectKey& key,
                                     const runtime::Logger& log) override;

 private:
  // Applies the routing child unless the cache shows it as desired; the problem that stops
  // it when the API server rejects it, an error to retry otherwise.
  base::Result<std::optional<Observed::RoutingProblem>> applyRouting(const kube::ObjectKey& key,
                                                                     const nlohmann::json& child);
  // Deletes relops's routing child of a rotation that no longer routes, if there is one.
  base::Result<void> removeRouting(const kube::ObjectKey& key, const std::string& uid,
                                   const runtime::Logger& log);

  runtime::Context& context_;
  std::optional<FeedKey> feedKey_;
  // The routing child's kind.
  const kube::ResourceRef& routingResource() const;

  RoutingOutput routing_ = RoutingOutput::kNone;
  AlertmanagerApi* alertmanager_ = nullptr;
  runtime::Family<runtime::Gauge>& shiftInfo_;
  runtime::Family<runtime::Gauge>& coverageGap_;
  runtime::Family<runtime::Gauge>& loadHours_;
  runtime::Family<runtime::Gauge>& balanceScore_;
};

// The rotation's iCalendar feed from the cached object: the past week and the
// look-ahead horizon. Empty when the rotation is not cached or cannot be
// scheduled.
std::optional<std::string> calendarFeed(runtime::Context& context, const kube::ObjectKey& key);

}  // namespace relops::oncall
