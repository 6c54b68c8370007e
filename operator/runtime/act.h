// The act step every reconciler ends with, in one place: the status decide() returned is
// written first (server-side apply, only when it changed), so an Event never announces what
// status does not show; then the Events, about the object decided on; then the requeue,
// measured from now rather than from when decide() started, so a timed change (a handoff, a
// drill's next run) is due at its instant however long the reconcile took.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "operator/base/clock.h"
#include "operator/kube/resource.h"
#include "operator/runtime/context.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/event_recorder.h"

namespace relops::runtime {

// What a kind's decide asked for. `Events` is any range of {type, reason, message}.
template <typename Events>
struct Outcome {
  std::optional<nlohmann::json> status;  // written when set: it differs from what was observed
  // The resourceVersion the decision was made from: when set, the status write is
  // conditional on it (applyStatus), for steps that must never be decided twice.
  std::string decidedFrom;
  Events events;
  std::optional<std::chrono::system_clock::time_point> requeueAt;  // none: done
  std::string_view action = "Reconcile";                           // the Events' action
};

// done() when `at` is unset, else requeueAfter(at - now), never negative.
ReconcileResult requeueAt(const base::Clock& clock,
                          std::optional<std::chrono::system_clock::time_point> at);

// Status, then Events, then the requeue. A failed status write is the result, and neither
// Events nor a requeue follow (the retry decides again).
template <typename Events>
ReconcileResult act(Context& context, const kube::ResourceRef& resource,
                    const nlohmann::json& object, const Outcome<Events>& outcome) {
  if (outcome.status) {
    const nlohmann::json& metadata = object.at("metadata");
    const kube::ObjectKey key{metadata.value("namespace", ""), metadata.value("name", "")};
    const std::string version = metadata.value("resourceVersion", "");
    const std::string content = outcome.status->dump();
    if (context.writeMemo().replay(resource, key, "status", version, content)) {
      // Decided again from the version this status was written from, before the cache
      // showed the write: written, and its Events recorded, by that first pass.
      return requeueAt(context.clock(), outcome.requeueAt);
    }
    if (auto failed =
            applyStatus(context.client(), resource, key, *outcome.status, outcome.decidedFrom)) {
      return *failed;
    }
    context.writeMemo().wrote(resource, key, "status", version, content);
  }
  context.recorder().recordAll(ObjectReference::fromObject(object), outcome.events, outcome.action);
  return requeueAt(context.clock(), outcome.requeueAt);
}

}  // namespace relops::runtime
