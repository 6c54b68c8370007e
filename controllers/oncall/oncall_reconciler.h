// The OnCallRotation reconciler: gathers the rotation from the cache, calls
// the pure decide(), writes status (only when it changed), records the
// decided Events and requeues at the next handoff. With a feed key it also
// publishes the rotation's feed path (token included) in status.calendarPath.
#pragma once

#include <optional>
#include <string>

#include "controllers/oncall/calendar_feed.h"
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

inline const kube::ResourceRef kOnCallRotations{"relops.dev", "v1alpha1", "oncallrotations",
                                                "OnCallRotation", true};

class OnCallReconciler final : public runtime::Reconciler {
 public:
  explicit OnCallReconciler(runtime::Context& context,
                            std::optional<FeedKey> feedKey = std::nullopt);
  runtime::ReconcileResult reconcile(const kube::ObjectKey& key,
                                     const runtime::Logger& log) override;

 private:
  runtime::Context& context_;
  std::optional<FeedKey> feedKey_;
  runtime::Family<runtime::Gauge>& shiftInfo_;
  runtime::Family<runtime::Gauge>& coverageGap_;
};

// The rotation's iCalendar feed from the cached object: the past week and the
// look-ahead horizon. Empty when the rotation is not cached or cannot be
// scheduled.
std::optional<std::string> calendarFeed(runtime::Context& context, const kube::ObjectKey& key);

}  // namespace relops::oncall
