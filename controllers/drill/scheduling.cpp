#include "controllers/drill/scheduling.h"

#include "operator/base/digest.h"

namespace relops::drill {

SchedulePlan planSchedule(const CronSchedule& cron, Instant anchor, Instant now,
                          std::optional<std::chrono::seconds> startingDeadline) {
  SchedulePlan plan;
  plan.next = cron.next(now);
  const std::optional<Instant> latest = cron.latest(anchor, now);
  if (!latest) return plan;
  const int64_t slots = cron.count(anchor, now, kMaxMissedRuns + 2);
  plan.missed = slots - 1;
  if (startingDeadline && now - *latest > *startingDeadline) {
    plan.tooLate = latest;
    plan.missed = std::min(slots, kMaxMissedRuns + 1);
    return plan;
  }
  plan.due = latest;
  return plan;
}

std::string scheduledRunName(std::string_view drill, Instant scheduled) {
  const auto minutes = std::chrono::floor<std::chrono::minutes>(scheduled.time_since_epoch());
  return std::string(drill) + "-" + std::to_string(minutes.count());
}

std::string runNowRunName(std::string_view drill, std::string_view token) {
  std::string key(drill);
  key += '\n';
  key += token;
  return std::string(drill.substr(0, 42)) + "-now-" + base::sha256Hex(key).substr(0, 16);
}

std::string sandboxNamespaceName(std::string_view runNamespace, std::string_view run) {
  std::string key(runNamespace);
  key += '/';
  key += run;
  return "relops-sandbox-" + base::sha256Hex(key).substr(0, 48);
}

std::string jobNameFor(std::string_view run) {
  if (run.size() <= 63) return std::string(run);
  return std::string(run.substr(0, 52)) + "-" + base::sha256Hex(run).substr(0, 10);
}

}  // namespace relops::drill
