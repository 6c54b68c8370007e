#include "controllers/drill/scheduling.h"

#include <cstdio>

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

uint64_t stableHash(std::string_view text) {
  uint64_t hash = 14695981039346656037ull;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

namespace {
std::string hex(uint64_t value, int digits) {
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(value));
  return std::string(buffer + 16 - digits);
}
}  // namespace

std::string runNowRunName(std::string_view drill, std::string_view token) {
  return std::string(drill) + "-now-" + hex(stableHash(token), 6);
}

std::string sandboxNamespaceName(std::string_view runNamespace, std::string_view run) {
  std::string key(runNamespace);
  key += '/';
  key += run;
  return "relops-sandbox-" + hex(stableHash(key), 12);
}

std::string jobNameFor(std::string_view run) {
  if (run.size() <= 63) return std::string(run);
  return std::string(run.substr(0, 54)) + "-" + hex(stableHash(run), 8);
}

}  // namespace relops::drill
