// The DRDrill and DRDrillRun reconcilers: they gather what decideDrill() and
// decideRun() need (from the shared caches, and fresh reads of what a run
// measures), call them, and act: status first (server-side apply, field
// manager relops, only when it changed), then the cluster changes, then the
// Events. A change the API server refuses for good ends the run with its
// message (verdict Error); anything else backs off and retries. Their watches are
// registered by the kind (drill_controller.h).
#pragma once

#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>

#include "controllers/drill/drill_types.h"
#include "operator/kube/resource.h"
#include "operator/runtime/context.h"
#include "operator/runtime/controller.h"

namespace relops::drill {

struct RunDesired;

inline const kube::ResourceRef kDRDrills{"relops.dev", "v1alpha1", "drdrills", "DRDrill", true};
inline const kube::ResourceRef kDRDrillRuns{"relops.dev", "v1alpha1", "drdrillruns", "DRDrillRun",
                                            true};

class DrillReconciler final : public runtime::Reconciler {
 public:
  explicit DrillReconciler(runtime::Context& context) : context_(context) {}
  runtime::ReconcileResult reconcile(const kube::ObjectKey& key,
                                     const runtime::Logger& log) override;

 private:
  runtime::Context& context_;
};

struct RunOptions {
  // Where Backups, Restores and their resource modifiers live (--velero-namespace).
  std::string veleroNamespace = "velero";
  // The sandbox ResourceQuota's spec.hard when the source has no quota
  // (--drill-sandbox-quota); empty: the built-in default.
  nlohmann::json sandboxQuotaHard = nlohmann::json::object();
};

class RunReconciler final : public runtime::Reconciler {
 public:
  RunReconciler(runtime::Context& context, RunOptions options)
      : context_(context), options_(std::move(options)) {}
  runtime::ReconcileResult reconcile(const kube::ObjectKey& key,
                                     const runtime::Logger& log) override;

 private:
  // When each waiting run last changed its status (RunObserved::lastProgress), by key;
  // in memory: after a restart a run polls from kPollInterval again.
  std::optional<Instant> lastProgress(const std::string& key);
  void progressed(const std::string& key, std::optional<Instant> at);
  // Records the progress a decision made (or forgets a run with nothing to wait for).
  void noteProgress(const std::string& key, const RunDesired& desired, Instant now);

  runtime::Context& context_;
  RunOptions options_;
  std::mutex progressMutex_;
  std::unordered_map<std::string, Instant> lastProgress_;
};

}  // namespace relops::drill
