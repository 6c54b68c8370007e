#include "controllers/slo/maintenance.h"

#include <algorithm>

#include "controllers/slo/rules.h"

namespace relops::slo {

MaintenancePlan planMaintenance(const std::vector<common::ChangeWindowView>& windows,
                                common::Instant now) {
  MaintenancePlan plan;
  auto later = [&](common::Instant t) {
    if (t > now && (!plan.nextChange || t < *plan.nextChange)) plan.nextChange = t;
  };
  for (const common::ChangeWindowView& window : windows) {
    if (plan.silences.size() >= kMaxMaintenanceWindows) break;
    const std::optional<common::TimeWindow> occurrence = window.currentOrNext(now);
    if (!occurrence) continue;
    const bool active = occurrence->start <= now;
    plan.activeNow = plan.activeNow || active;
    later(occurrence->start);
    later(occurrence->end);
    if (active || occurrence->start - now <= kSilenceLead) {
      plan.silences.push_back({window.name(), *occurrence, silenceComment(window)});
    } else {
      later(occurrence->start - kSilenceLead);
    }
  }
  return plan;
}

std::vector<SilenceMatcherSpec> silenceMatchers(const std::string& namespace_,
                                                const std::string& slo) {
  return {{"namespace", namespace_, false},
          {"slo", slo, false},
          {"alertname", std::string(kBurnRateAlert) + "|" + std::string(kAbsentAlert), true}};
}

std::string silenceComment(const common::ChangeWindowView& window) {
  std::string comment = kSilenceCommentPrefix + window.namespace_() + "/" + window.name();
  if (!window.reason().empty()) comment += ": " + window.reason();
  if (comment.size() > kMaxSilenceComment) comment.resize(kMaxSilenceComment);
  return comment;
}

}  // namespace relops::slo
