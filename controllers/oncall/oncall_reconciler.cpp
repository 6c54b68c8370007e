#include "controllers/oncall/oncall_reconciler.h"

#include <algorithm>
#include <set>

#include "controllers/oncall/decide.h"
#include "controllers/oncall/ical.h"
#include "controllers/oncall/rotation_state.h"
#include "controllers/oncall/schedule.h"
#include "operator/kube/client.h"
#include "operator/runtime/act.h"
#include "operator/runtime/manager.h"
#include "operator/runtime/metrics.h"

namespace relops::oncall {

using nlohmann::json;

namespace {

struct OnCallMetrics {
  runtime::Family<runtime::Gauge>& shiftInfo;
  runtime::Family<runtime::Gauge>& coverageGap;
};

void forgetMetrics(const OnCallMetrics& metrics, const kube::ObjectKey& key) {
  auto ofRotation = [&](const runtime::Labels& labels) {
    return labels[0] == key.namespace_ && labels[1] == key.name;
  };
  metrics.shiftInfo.removeMatching(ofRotation);
  metrics.coverageGap.removeMatching(ofRotation);
}

// Updates the rotation's series in place: a scrape never finds them missing, and only
// the shifts that ended are dropped.
void exportMetrics(const OnCallMetrics& metrics, const kube::ObjectKey& key, const Status& status) {
  std::set<runtime::Labels> current;
  for (const LayerStatus& layer : status.layers) {
    if (layer.active && !layer.participant.empty()) {
      current.insert({key.namespace_, key.name, layer.name, layer.participant});
    }
  }
  if (status.onCall && !status.onCall->participant.empty()) {
    current.insert({key.namespace_, key.name, "", status.onCall->participant});
  }
  metrics.shiftInfo.removeMatching([&](const runtime::Labels& labels) {
    return labels[0] == key.namespace_ && labels[1] == key.name && !current.contains(labels);
  });
  for (const runtime::Labels& labels : current) metrics.shiftInfo.with(labels).set(1);
  std::chrono::seconds gap{0};
  for (const GapStatus& g : status.gaps) {
    if (g.start && g.end) gap += *g.end - *g.start;
  }
  metrics.coverageGap.with({key.namespace_, key.name}).set(static_cast<double>(gap.count()));
}

}  // namespace

OnCallReconciler::OnCallReconciler(runtime::Context& context, std::optional<FeedKey> feedKey)
    : context_(context),
      feedKey_(std::move(feedKey)),
      shiftInfo_(context.registry().gauge(
          "relops_oncall_shift_info",
          "1 for the person on call now, per layer; layer \"\" is the final schedule (layers and "
          "overrides resolved)",
          {"namespace", "name", "layer", "participant"})),
      coverageGap_(context.registry().gauge(
          "relops_oncall_coverage_gap_seconds",
          "Seconds with nobody on call within the rotation's horizon", {"namespace", "name"})) {}

runtime::ReconcileResult OnCallReconciler::reconcile(const kube::ObjectKey& key,
                                                     const runtime::Logger& /*log*/) {
  // Gather.
  const OnCallMetrics metrics{shiftInfo_, coverageGap_};
  const runtime::ObjectPtr object = context_.cached(kOnCallRotations, key);
  if (!object) {  // deleted; nothing is owned, only its series go
    forgetMetrics(metrics, key);
    return runtime::ReconcileResult::done();
  }
  const json& metadata = object->at("metadata");
  if (metadata.contains("deletionTimestamp")) return runtime::ReconcileResult::done();
  Observed observed;
  observed.generation = metadata.value("generation", int64_t{0});
  observed.status = object->value("status", json());
  if (feedKey_) {
    observed.calendarPath = feedPath(key, feedKey_->token(key, metadata.value("uid", "")));
  }
  const auto now = context_.clock().now();

  // Decide.
  Desired desired = decide(object->value("spec", json::object()), observed, now);

  // Act; the series follow the status that was written.
  runtime::Outcome<std::vector<Event>> outcome;
  if (desired.statusChanged) outcome.status = std::move(desired.statusJson);
  outcome.events = std::move(desired.events);
  outcome.requeueAt = desired.requeueAt;
  runtime::ReconcileResult result = runtime::act(context_, kOnCallRotations, *object, outcome);
  if (result.kind() != runtime::ReconcileResult::Kind::kError) {
    exportMetrics(metrics, key, desired.status);
  }
  return result;
}

std::optional<std::string> calendarFeed(runtime::Context& context, const kube::ObjectKey& key) {
  const runtime::ObjectPtr object = context.cached(kOnCallRotations, key);
  if (!object) return std::nullopt;
  auto spec = parseSpec(object->value("spec", json::object()));
  if (!spec.ok()) return std::nullopt;
  // The same bound as the controller's: a rotation too large to schedule has no feed.
  if (schedulePieces(*spec) > kMaxSchedulePieces) return std::nullopt;
  auto base = Schedule::compile(*spec);
  if (!base.ok()) return std::nullopt;
  auto status = parseStatus(object->value("status", json()));
  const Instant now = std::chrono::floor<std::chrono::seconds>(context.clock().now());
  // The same rotation positions the controller keeps (a member change does
  // not move who is on call), so the feed agrees with status.
  std::vector<int64_t> offsets;
  if (status.ok()) offsets = carryRotation(*spec, *base, *status, now);
  auto schedule = Schedule::compile(*spec, offsets);
  if (!schedule.ok()) return std::nullopt;
  // Start at the beginning of the shift under way a week ago, so no event is
  // cut short by the window and every UID stays the same between fetches.
  Instant from = now - std::chrono::days(7);
  if (const OpenShift open = schedule->shiftAt(from); open.start) from = *open.start;
  const Instant to = now + spec->horizon.nominal();
  CalendarOptions options;
  options.name = key.name;
  options.namespace_ = key.namespace_;
  options.stamp = now;
  options.includeContacts = spec->calendarFeed.includeContacts;
  return renderCalendar(*spec, schedule->shifts(from, to), options);
}

}  // namespace relops::oncall
