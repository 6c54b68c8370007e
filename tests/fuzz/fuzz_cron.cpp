// DRDrill and ChangeWindow schedules (controllers/common/cron.h): a 5-field expression and an IANA
// zone, written as "<expression>\n<zone>". An accepted schedule is evaluated around a DST change:
// next, latest and count, which must agree with each other.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "controllers/common/cron.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace relops::common;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const size_t newline = text.find('\n');
  const std::string_view expression = text.substr(0, newline);
  const std::string_view zone =
      newline == std::string_view::npos ? std::string_view("UTC") : text.substr(newline + 1);

  (void)CronExpression::parse(expression);
  const auto schedule = CronSchedule::compile(expression, zone);
  if (!schedule.ok()) return 0;

  const Instant from{std::chrono::seconds(1772928000)};  // 2026-03-08T00:00:00Z
  const Instant to = from + std::chrono::hours(24 * 40);
  const auto next = schedule->next(from);
  const auto latest = schedule->latest(from, to);
  const int64_t count = schedule->count(from, to, 100000);
  // A fire within (from, to] exists exactly when next() lands there.
  const bool nextInRange = next && *next <= to;
  if (nextInRange != (count > 0) || latest.has_value() != (count > 0)) std::abort();
  if (next && *next <= from) std::abort();
  if (latest && (*latest <= from || *latest > to || *next > *latest)) std::abort();
  if (next) (void)schedule->formatLocal(*next);
  return 0;
}
