#include "controllers/oncall/oncall_reconciler.h"

#include <algorithm>
#include <array>
#include <exception>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "controllers/common/object_trim.h"
#include "controllers/oncall/alertmanager_fragment.h"
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
  runtime::Family<runtime::Gauge>& loadHours;
  runtime::Family<runtime::Gauge>& balanceScore;
};

// Status keeps load as decimal strings with one digit ("168.0") and the balance as a percent
// ("87.5"), both written by relops itself; an unparsable one (none so far) is left out.
std::optional<double> decimal(const std::string& text) {
  try {
    size_t used = 0;
    const double value = std::stod(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

// Hours per participant within the horizon in three categories that add up to the total:
// business hours (09:00-17:00 local, Monday to Friday), off-hours on weekdays, weekends.
void exportLoad(const OnCallMetrics& metrics, const kube::ObjectKey& key, const Status& status) {
  std::set<runtime::Labels> current;
  if (status.load) {
    for (const ParticipantLoadStatus& load : status.load->participants) {
      const auto hours = decimal(load.hours);
      const auto offHours = decimal(load.offHours);  // includes the weekend
      const auto weekend = decimal(load.weekendHours);
      if (!hours || !offHours || !weekend) continue;
      const std::array<std::pair<const char*, double>, 3> categories = {
          std::pair{"business", *hours - *offHours}, std::pair{"off_hours", *offHours - *weekend},
          std::pair{"weekend", *weekend}};
      for (const auto& [category, value] : categories) {
        runtime::Labels labels = {key.namespace_, key.name, load.participant, category};
        metrics.loadHours.with(labels).set(std::max(0.0, value));
        current.insert(std::move(labels));
      }
    }
  }
  metrics.loadHours.removeMatching([&](const runtime::Labels& labels) {
    return labels[0] == key.namespace_ && labels[1] == key.name && !current.contains(labels);
  });
  const std::optional<double> score =
      status.balance ? decimal(status.balance->score) : std::nullopt;
  if (score) {
    metrics.balanceScore.with({key.namespace_, key.name}).set(*score / 100.0);
  } else {
    metrics.balanceScore.removeMatching([&](const runtime::Labels& labels) {
      return labels[0] == key.namespace_ && labels[1] == key.name;
    });
  }
}

void forgetMetrics(const OnCallMetrics& metrics, const kube::ObjectKey& key) {
  auto ofRotation = [&](const runtime::Labels& labels) {
    return labels[0] == key.namespace_ && labels[1] == key.name;
  };
  metrics.shiftInfo.removeMatching(ofRotation);
  metrics.coverageGap.removeMatching(ofRotation);
  metrics.loadHours.removeMatching(ofRotation);
  metrics.balanceScore.removeMatching(ofRotation);
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
  exportLoad(metrics, key, status);
}

}  // namespace

base::Result<RoutingOutput> routingOutput(kube::Client& client, const std::string& flag) {
  if (flag == "alertmanagerconfig") return RoutingOutput::kAlertmanagerConfig;
  if (flag == "configmap") return RoutingOutput::kConfigMap;
  if (flag != "auto") {
    return base::Error(
        base::ErrorKind::kConfig,
        "--routing-output must be auto, alertmanagerconfig or configmap, not " + flag);
  }
  auto resources = client.getRaw("/apis/monitoring.coreos.com/v1alpha1");
  if (!resources.ok()) {
    if (resources.error().kind() == base::ErrorKind::kNotFound) return RoutingOutput::kConfigMap;
    return std::move(resources).error().context("discover monitoring.coreos.com/v1alpha1");
  }
  for (const auto& resource : resources->value("resources", json::array())) {
    if (resource.value("name", "") == kAlertmanagerConfigs.resource) {
      return RoutingOutput::kAlertmanagerConfig;
    }
  }
  return RoutingOutput::kConfigMap;
}

const kube::ResourceRef& OnCallReconciler::routingResource() const {
  return routing_ == RoutingOutput::kConfigMap ? kube::resources::kConfigMaps
                                               : kAlertmanagerConfigs;
}

OnCallReconciler::OnCallReconciler(runtime::Context& context, Options options)
    : context_(context),
      feedKey_(std::move(options.feedKey)),
      routing_(options.routing),
      alertmanager_(options.alertmanager),
      shiftInfo_(context.registry().gauge(
          "relops_oncall_shift_info",
          "1 for the person on call now, per layer; layer \"\" is the final schedule (layers and "
          "overrides resolved)",
          {"namespace", "name", "layer", "participant"})),
      coverageGap_(context.registry().gauge(
          "relops_oncall_coverage_gap_seconds",
          "Seconds with nobody on call within the rotation's horizon", {"namespace", "name"})),
      loadHours_(context.registry().gauge(
          "relops_oncall_load_hours",
          "Hours a participant is on call within the rotation's horizon by category: business "
          "(09:00-17:00 local, Monday to Friday), off_hours (other weekday hours), weekend",
          {"namespace", "name", "participant", "category"})),
      balanceScore_(context.registry().gauge(
          "relops_oncall_balance_score",
          "How evenly the rotation's load is spread: the mean over pairs of participants of "
          "min(hours)/max(hours), 1 when even (Grafana OnCall's balance)",
          {"namespace", "name"})) {}

runtime::ReconcileResult OnCallReconciler::reconcile(const kube::ObjectKey& key,
                                                     const runtime::Logger& log) {
  // Gather.
  const OnCallMetrics metrics{shiftInfo_, coverageGap_, loadHours_, balanceScore_};
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
  observed.rotation = RotationRef{key.namespace_, key.name, metadata.value("uid", "")};
  observed.routingToConfigMap = routing_ == RoutingOutput::kConfigMap;
  const auto now = context_.clock().now();

  // Decide.
  const json spec = object->value("spec", json::object());
  Desired desired = decide(spec, observed, now);

  // The routing child first: the status says where alerts go only once they do.
  if (desired.alertmanagerConfig) {
    if (routing_ == RoutingOutput::kNone) {
      observed.routingProblem = Observed::RoutingProblem{
          std::string(kReasonRoutingUnavailable),
          "this relops routes no rotation: it runs without an output for AlertmanagerConfig "
          "or an Alertmanager configuration fragment"};
    } else {
      auto problem = applyRouting(key, *desired.alertmanagerConfig);
      if (!problem.ok()) return runtime::ReconcileResult::error(std::move(problem).error());
      observed.routingProblem = std::move(*problem);
    }
    if (observed.routingProblem) desired = decide(spec, observed, now);
  } else if (routing_ != RoutingOutput::kNone && desired.routingOff) {
    if (auto removed = removeRouting(key, observed.rotation.uid, log); !removed.ok()) {
      return runtime::ReconcileResult::error(std::move(removed).error());
    }
  }

  // Act; the series follow the status that was written.
  runtime::Outcome<std::vector<Event>> outcome;
  if (desired.statusChanged) outcome.status = std::move(desired.statusJson);
  outcome.events = std::move(desired.events);
  outcome.requeueAt = desired.requeueAt;
  runtime::ReconcileResult result = runtime::act(context_, kOnCallRotations, *object, outcome);
  if (result.kind() == runtime::ReconcileResult::Kind::kError) return result;
  exportMetrics(metrics, key, desired.status);
  // Shift notices: the same alert each pass until it is over, so a retry notifies no one twice.
  if (alertmanager_ != nullptr && !desired.notices.empty()) {
    if (auto posted = alertmanager_->postAlerts(alertsJson(desired.notices)); !posted.ok()) {
      return runtime::ReconcileResult::error(std::move(posted).error());
    }
  }
  return result;
}

base::Result<std::optional<Observed::RoutingProblem>> OnCallReconciler::applyRouting(
    const kube::ObjectKey& key, const json& alertmanagerConfig) {
  using Problem = std::optional<Observed::RoutingProblem>;
  const kube::ResourceRef& resource = routingResource();
  json child = alertmanagerConfig;
  if (routing_ == RoutingOutput::kConfigMap) {
    auto configMap = routingConfigMapJson(alertmanagerConfig);
    if (!configMap.ok()) {
      return Problem(Observed::RoutingProblem{std::string(kReasonReceiverNotPortable),
                                              configMap.error().message()});
    }
    child = std::move(*configMap);
  }
  const kube::ObjectKey childKey{key.namespace_, child["metadata"].value("name", "")};
  const runtime::ObjectPtr cached = context_.cached(resource, childKey);
  const bool upToDate = routing_ == RoutingOutput::kConfigMap
                            ? common::childUpToDate(cached.get(), child)
                            : childUpToDate(cached.get(), child);
  if (upToDate) return Problem();
  const std::string version = cached ? (*cached)["metadata"].value("resourceVersion", "") : "";
  const std::string content = child.dump();
  if (context_.writeMemo().replay(resource, childKey, "apply", version, content)) return Problem();
  auto applied = kube::apply(context_.client(), resource, child);
  if (!applied.ok()) {
    base::Error error = std::move(applied).error();
    if (error.disposition() == base::Disposition::kStall) {
      return Problem(Observed::RoutingProblem{std::string(kReasonRoutingRejected),
                                              "the API server rejects " + resource.kind + " " +
                                                  childKey.name +
                                                  " built from spec.routing: " + error.message()});
    }
    return std::move(error).context("apply " + resource.kind + " " + childKey.name);
  }
  context_.writeMemo().wrote(resource, childKey, "apply", version, content);
  return Problem();
}

base::Result<void> OnCallReconciler::removeRouting(const kube::ObjectKey& key,
                                                   const std::string& uid,
                                                   const runtime::Logger& log) {
  auto name = alertmanagerConfigName(key.name);
  if (!name.ok()) return {};
  const kube::ObjectKey childKey{key.namespace_, *name};
  const kube::ResourceRef& resource = routingResource();
  const runtime::ObjectPtr cached = context_.cached(resource, childKey);
  if (!cached) return {};
  // Only relops's own child: a same-named object someone else made stays.
  const json owners = (*cached)["metadata"].value("ownerReferences", json::array());
  const bool ours = std::any_of(owners.begin(), owners.end(), [&](const json& owner) {
    return owner.is_object() && owner.value("controller", false) && owner.value("uid", "") == uid;
  });
  if (!ours) return {};
  auto removed = context_.client().remove(resource, childKey);
  if (!removed.ok() && removed.error().kind() != base::ErrorKind::kNotFound) {
    return std::move(removed).error().context("delete " + resource.kind + " " + childKey.name);
  }
  log.info("deleted " + resource.kind + " " + childKey.name + ": spec.routing is gone");
  return {};
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
